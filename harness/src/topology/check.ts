import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { errorMessage } from '../common/errors.ts';
import { certificatesFromPem } from '../pki/pem.ts';
import { readCapturedOutput } from '../sztp/bootstrap-output.ts';
import {
  closest,
  displayName,
  dottedPath as dottedPathOf,
  type PathSegment,
  type Problem,
  withArticle,
} from './problems.ts';
import type { Locate } from './schema.ts';
import type { DeviceNode, NodeSpec, Topology } from './types.ts';

/**
 * What a schema cannot say: that names point at nodes of the right kind, that serials belong
 * to devices, that boot images are files an image server has. Runs on the topology with its
 * defaults; paths use the YAML's kebab-case names.
 */

const SERVER_KINDS = ['bootstrap-server', 'redirect-server'] as const;
const TLS_ORDER = ['TLSv1.2', 'TLSv1.3'];

export function topologyProblems(topology: Topology, file: string, locate?: Locate): Problem[] {
  const problems: Problem[] = [];
  const report = (segments: PathSegment[], message: string) => {
    problems.push({
      file,
      path: dottedPathOf(segments),
      message,
      ...(locate?.(segments) ?? {}),
    });
  };
  const nodes = Object.entries(topology.nodes);
  const ofKind = (...kinds: NodeSpec['kind'][]) =>
    nodes.filter(([, node]) => kinds.includes(node.kind)).map(([name]) => name);

  /** Reports `name` unless it is a node of one of `kinds`. */
  const expectNode = (
    segments: PathSegment[],
    name: string,
    kinds: readonly NodeSpec['kind'][],
  ) => {
    const node = topology.nodes[name];
    if (node && kinds.includes(node.kind)) return true;
    const wanted = `a node of kind ${kinds.join(' or ')}`;
    const actual = node ? ` (it is ${withArticle(node.kind)} node)` : '';
    const guess = node ? undefined : closest(name, ofKind(...kinds));
    const hint = guess ? ` (did you mean "${guess}"?)` : '';
    report(segments, `"${name}" is not ${wanted}${actual}${hint}`);
    return false;
  };

  const devices = nodes.filter(
    (entry): entry is [string, DeviceNode] => entry[1].kind === 'device',
  );
  const serials = new Map<string, string>();
  for (const [name, device] of devices) {
    const first = serials.get(device.serial);
    if (first !== undefined) {
      report(['nodes', name, 'serial'], `"${device.serial}" is also the serial of node ${first}`);
    } else {
      serials.set(device.serial, name);
    }
  }
  const unknownSerials = new Set(topology.unknownSerials ?? []);
  for (const [index, serial] of (topology.unknownSerials ?? []).entries()) {
    const owner = serials.get(serial);
    if (owner) report(['unknown-serials', index], `"${serial}" is the serial of device ${owner}`);
  }
  const expectSerial = (segments: PathSegment[], serial: string) => {
    if (serials.has(serial) || unknownSerials.has(serial)) return;
    const guess = closest(serial, [...serials.keys()]);
    const hint = guess ? ` (did you mean "${guess}"?)` : '';
    report(
      segments,
      `"${serial}" is not the serial of a device node${hint}; list it in unknown-serials if that is meant`,
    );
  };

  const networkNames = Object.keys(topology.networks);
  for (const [name, node] of nodes) {
    const path = ['nodes', name];
    if (node.kind === 'device') {
      for (const [index, anchor] of node.voucherTrustAnchors.entries()) {
        const problem = anchorProblem(anchor);
        if (problem) report([...path, 'voucher-trust-anchors', index], problem);
      }
    }
    if (node.network === undefined) {
      report(
        [...path, 'network'],
        `is required when the lab has several networks (${networkNames.join(', ')})`,
      );
      continue;
    }
    const network = topology.networks[node.network];
    if (!network) {
      const guess = closest(node.network, networkNames);
      const hint = guess ? ` (did you mean "${guess}"?)` : '';
      report([...path, 'network'], `"${node.network}" is not a network of the lab${hint}`);
    }
    switch (node.kind) {
      case 'dhcp':
        if (node.families.includes(6) && network && !network.ipv6) {
          report([...path, 'families'], `includes 6 but network ${node.network} has no IPv6`);
        }
        for (const [index, entry] of node.bootstrapServers.entries()) {
          const at = [...path, 'bootstrap-servers', index];
          if (/^[a-z][a-z0-9+.-]*:/i.test(entry)) {
            if (!entry.startsWith('https://')) report(at, `"${entry}" must be an https:// URI`);
          } else {
            expectNode(at, entry, SERVER_KINDS);
          }
        }
        break;
      case 'dns':
        for (const [index, target] of node.srv.entries()) {
          expectNode([...path, 'srv', index], target, SERVER_KINDS);
        }
        for (const [serial, server] of Object.entries(node.txt)) {
          const at = [...path, 'txt', serial];
          expectSerial(at, serial);
          if (expectNode(at, server, SERVER_KINDS) && !topology.records[server]?.[serial]) {
            report(at, `server ${server} has no record for ${serial} to publish`);
          }
        }
        break;
      case 'bootstrap-server':
      case 'redirect-server':
        if (TLS_ORDER.indexOf(node.tls.minVersion) > TLS_ORDER.indexOf(node.tls.maxVersion)) {
          report(
            [...path, 'tls'],
            `min-version ${node.tls.minVersion} is above max-version ${node.tls.maxVersion}`,
          );
        }
        break;
      case 'image-server':
        break;
      case 'device':
        if (node.sources.includes('dhcp6') && network && !network.ipv6) {
          report([...path, 'sources'], `includes dhcp6 but network ${node.network} has no IPv6`);
        }
        for (const [index, server] of node.wellKnownServers.entries()) {
          expectNode([...path, 'well-known-servers', index], server, SERVER_KINDS);
        }
        if (node.clock.mode === 'none' && node.clock.skewSeconds !== 0) {
          report([...path, 'clock', 'skew-seconds'], 'has no meaning with mode none');
        }
        break;
    }
  }

  for (const [server, bySerial] of Object.entries(topology.records)) {
    if (!expectNode(['records', server], server, SERVER_KINDS)) continue;
    for (const [serial, record] of Object.entries(bySerial)) {
      recordProblems(topology, ['records', server, serial], record, report, expectNode);
      expectSerial(['records', server, serial], serial);
    }
  }
  return problems;
}

type Report = (segments: PathSegment[], message: string) => void;
type ExpectNode = (
  segments: PathSegment[],
  name: string,
  kinds: readonly NodeSpec['kind'][],
) => boolean;

/** The references inside one record: its boot image and its redirect servers. */
function recordProblems(
  topology: Topology,
  path: PathSegment[],
  record: Topology['records'][string][string],
  report: Report,
  expectNode: ExpectNode,
): void {
  const image = record.onboarding?.bootImage;
  if (image && 'server' in image) {
    const at = [...path, 'onboarding', 'boot-image'];
    if (expectNode([...at, 'server'], image.server, ['image-server'])) {
      const node = topology.nodes[image.server];
      const files = node?.kind === 'image-server' ? Object.keys(node.images) : [];
      if (!files.includes(image.file)) {
        const guess = closest(image.file, files);
        const hint = guess ? ` (did you mean "${guess}"?)` : '';
        report([...at, 'file'], `"${image.file}" is not an image of ${image.server}${hint}`);
      }
    }
  }
  for (const [index, entry] of (record.redirect ?? []).entries()) {
    expectNode([...path, 'redirect', index, 'server'], entry.server, SERVER_KINDS);
  }
  if (record.replay !== undefined) {
    try {
      readCapturedOutput(resolve(record.replay), displayName(record.replay));
    } catch (error) {
      report([...path, 'replay'], errorMessage(error));
    }
  }
}

/** A voucher trust anchor file must hold at least one PEM certificate that parses. */
function anchorProblem(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(resolve(path), 'latin1');
  } catch (error) {
    return `${displayName(path)}: cannot read it (${(error as NodeJS.ErrnoException).code ?? error})`;
  }
  const ders = certificatesFromPem(text);
  if (ders.length === 0) return `${displayName(path)}: holds no PEM certificate`;
  for (const der of ders) {
    try {
      new X509Certificate(der);
    } catch (error) {
      return `${displayName(path)}: a certificate does not parse (${errorMessage(error)})`;
    }
  }
  return undefined;
}

/** Checks one record on its own (a scenario's records step); the serial is checked by the caller. */
export function recordReferenceProblems(
  topology: Topology,
  record: Topology['records'][string][string],
  file: string,
  path: PathSegment[],
): Problem[] {
  const problems: Problem[] = [];
  const report: Report = (segments, message) =>
    problems.push({ file, path: dottedPathOf(segments), message });
  const expectNode: ExpectNode = (segments, name, kinds) => {
    const node = topology.nodes[name];
    if (node && kinds.includes(node.kind)) return true;
    report(segments, `"${name}" is not a node of kind ${kinds.join(' or ')}`);
    return false;
  };
  recordProblems(topology, path, record, report, expectNode);
  return problems;
}
