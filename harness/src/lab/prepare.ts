import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LabError } from '../common/errors.ts';
import { createArtifacts } from '../pki/artifacts.ts';
import { initPki, type PkiManifest } from '../pki/lab-pki.ts';
import {
  iscDhcpd4Config,
  iscDhcpd6Config,
  keaDhcp4Config,
  keaDhcp6Config,
} from '../runtime/dhcp-config.ts';
import type { LabNetwork } from '../runtime/networks.ts';
import { nginxConfig } from '../runtime/web-config.ts';
import { capturedToWire, readCapturedOutput } from '../sztp/bootstrap-output.ts';
import { encodeBootstrapServerList } from '../sztp/dhcp-option.ts';
import { namedConf, zoneFile } from '../sztp/dns-zone.ts';
import { buildFirmware } from '../sztp/firmware.ts';
import { displayName } from '../topology/problems.ts';
import type {
  DhcpNode,
  DnsNode,
  ImageServerNode,
  RecordSpec,
  ServerNode,
  Topology,
} from '../topology/types.ts';

/** Where each node of a lab lives: its network and static addresses (devices get theirs later). */
export interface Placement {
  node: string;
  network: string;
  ipv4?: string;
  ipv6?: string;
}

/** A firmware file on an image server: where to get it and what it is. */
export interface LabImage {
  uri: string;
  hash: string;
  osName: string;
  osVersion: string;
}

export interface PreparedLab {
  runDir: string;
  pkiDir: string;
  pki: PkiManifest;
  placements: Map<string, Placement>;
  /** Image server file -> URI and colon-hex SHA-256. */
  images: Map<string, LabImage>;
  /** Per node: the folder mounted at /etc/sztp-lab (servers, DHCP, DNS, web). */
  configDirs: Map<string, string>;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

function hostOf(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** Static addresses: every non-device node in name order, from .10 (::a) of its network. */
export function placeNodes(
  topology: Topology,
  networks: Map<string, LabNetwork>,
): Map<string, Placement> {
  const placements = new Map<string, Placement>();
  const next = new Map<string, number>();
  for (const [name, node] of Object.entries(topology.nodes).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    const network = networks.get(node.network);
    if (!network)
      throw new LabError('TOPOLOGY_INVALID', `node "${name}": no network "${node.network}"`);
    if (node.kind === 'device') {
      placements.set(name, { node: name, network: node.network });
      continue;
    }
    const index = next.get(node.network) ?? 10;
    next.set(node.network, index + 1);
    if (index > 60)
      throw new LabError(
        'TOPOLOGY_INVALID',
        `network "${node.network}" has more than 50 server nodes`,
      );
    const p4 = network.ipv4.subnet.replace(/\.0\/24$/, '');
    const p6 = network.ipv6?.subnet.replace(/::\/64$/, '');
    placements.set(name, {
      node: name,
      network: node.network,
      ipv4: `${p4}.${index}`,
      ...(p6 ? { ipv6: `${p6}::${index.toString(16)}` } : {}),
    });
  }
  return placements;
}

function serverUri(
  topology: Topology,
  placements: Map<string, Placement>,
  ref: string,
  family: 4 | 6,
): string {
  if (ref.startsWith('https://')) return ref;
  const node = topology.nodes[ref] as ServerNode | undefined;
  const place = placements.get(ref);
  const address = family === 6 ? place?.ipv6 : place?.ipv4;
  if (!node || !address)
    throw new LabError('TOPOLOGY_INVALID', `"${ref}" has no IPv${family} address`);
  return `https://${hostOf(address)}:${node.port}`;
}

/** Where a bootstrap or redirect server container finds the lab's PKI folder. */
const SERVER_PKI = '/etc/sztp-lab/pki';

/** What a server record needs of the lab besides the topology. */
export interface RecordContext {
  placements: Map<string, Placement>;
  images: Map<string, LabImage>;
  pkiDir: string;
  pki: PkiManifest;
}

/** A topology record as the bootstrap server's records file wants it. */
export function serverRecord(
  topology: Topology,
  { placements, images, pkiDir, pki }: RecordContext,
  record: RecordSpec,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    signed: record.signed,
    encoding: record.encoding,
    reportingLevel: record.reportingLevel,
    untrusted: record.untrusted,
    ...(record.voucher ? { voucher: record.voucher } : {}),
    ...(record.crls ? { crls: record.crls } : {}),
  };
  if (record.replay) {
    // Read now, not when the topology loaded: a records step may name a file written since.
    out.replay = capturedToWire(readCapturedOutput(record.replay, displayName(record.replay)));
    return out;
  }
  if (record.redirect) {
    out.redirect = record.redirect.map((entry) => {
      const node = topology.nodes[entry.server] as ServerNode;
      return {
        address: placements.get(entry.server)?.ipv4,
        port: node.port,
        ...(entry.trustAnchor === 'wrong-ca'
          ? // The IDevID root: a real CA, but not the one that issued any server certificate.
            { trustAnchor: `${SERVER_PKI}/${relative(pkiDir, pki.idevidRoot)}` }
          : entry.trustAnchor
            ? { trustAnchor: 'server' }
            : {}),
      };
    });
    return out;
  }
  out.onboarding = onboardingInfo(record.onboarding ?? {}, images);
  return out;
}

function onboardingInfo(
  spec: NonNullable<RecordSpec['onboarding']>,
  images: Map<string, LabImage>,
): Record<string, unknown> {
  const info: Record<string, unknown> = {};
  if (spec.bootImage) {
    if ('file' in spec.bootImage) {
      const image = images.get(`${spec.bootImage.server}/${spec.bootImage.file}`);
      if (!image)
        throw new LabError(
          'TOPOLOGY_INVALID',
          `no image ${spec.bootImage.file} on ${spec.bootImage.server}`,
        );
      info['boot-image'] = {
        'os-name': image.osName,
        'os-version': image.osVersion,
        'download-uri': [image.uri],
        'image-verification': [
          {
            'hash-algorithm': 'ietf-sztp-conveyed-info:sha-256',
            'hash-value': spec.bootImage.sha256 ?? image.hash,
          },
        ],
      };
    } else {
      info['boot-image'] = {
        'os-name': spec.bootImage.osName,
        'os-version': spec.bootImage.osVersion,
        'download-uri': spec.bootImage.uris,
        'image-verification': [
          {
            'hash-algorithm': 'ietf-sztp-conveyed-info:sha-256',
            'hash-value': spec.bootImage.sha256,
          },
        ],
      };
    }
  }
  if (spec.preConfigurationScript)
    info['pre-configuration-script'] = b64(spec.preConfigurationScript);
  if (spec.configuration) {
    info['configuration-handling'] = spec.configurationHandling ?? 'merge';
    info.configuration = b64(spec.configuration);
  }
  if (spec.postConfigurationScript)
    info['post-configuration-script'] = b64(spec.postConfigurationScript);
  return info;
}

/**
 * Everything a lab needs on disk before a container starts: the PKI (server certificates
 * carry the nodes' addresses), firmware files, and each node's configuration folder.
 */
export async function prepareLab(
  topology: Topology,
  runDir: string,
  networks: Promise<Map<string, LabNetwork>>,
): Promise<PreparedLab> {
  mkdirSync(runDir, { recursive: true });
  chmodSync(runDir, 0o755);
  // The CAs are made while the networks are still being created; only the server
  // certificates, which carry the nodes' addresses, wait for the placements.
  const placed = networks.then((made) => placeNodes(topology, made));
  const ipsOf = (placements: Map<string, Placement>, kind: string) =>
    Object.entries(topology.nodes)
      .filter(([, node]) => node.kind === kind)
      .flatMap(([name]) => [placements.get(name)?.ipv4, placements.get(name)?.ipv6])
      .filter((ip): ip is string => Boolean(ip));
  const pkiDir = join(runDir, 'pki');
  const [placements, pki] = await Promise.all([
    placed,
    initPki(pkiDir, {
      key: topology.pki.key,
      pinnedDomain: topology.pki.pinnedDomain,
      domain: topology.pki.domain,
      serverIps: placed.then((placements) => ({
        bootstrap: ipsOf(placements, 'bootstrap-server'),
        redirect: ipsOf(placements, 'redirect-server'),
        image: ipsOf(placements, 'image-server'),
      })),
    }),
  ]);
  chmodSync(pkiDir, 0o755);

  const configDirs = new Map<string, string>();
  const dirFor = (name: string) => {
    const dir = join(runDir, 'nodes', name);
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
    configDirs.set(name, dir);
    return dir;
  };

  // Image servers first: records refer to their files' URIs and hashes.
  const images = new Map<string, LabImage>();
  for (const [name, node] of Object.entries(topology.nodes)) {
    if (node.kind !== 'image-server') continue;
    const spec = node as ImageServerNode;
    const dir = dirFor(name);
    const files = join(dir, 'images');
    mkdirSync(files, { recursive: true });
    for (const [file, manifest] of Object.entries(spec.images)) {
      const bytes = buildFirmware({
        osName: manifest.osName,
        osVersion: manifest.osVersion,
        ...(manifest.size ? { size: manifest.size } : {}),
      });
      writeFileSync(join(files, file), bytes);
      const hash = createHash('sha256').update(bytes).digest('hex').match(/../g)?.join(':') ?? '';
      const address = placements.get(name)?.ipv4 ?? '';
      images.set(`${name}/${file}`, {
        uri: `https://${address}:${spec.port}/${file}`,
        hash,
        osName: manifest.osName,
        osVersion: manifest.osVersion,
      });
    }
    writeFileSync(
      join(dir, 'nginx.conf'),
      nginxConfig({
        port: spec.port,
        root: '/etc/sztp-lab/images',
        cert: `/etc/sztp-lab-pki/${relative(pkiDir, pki.servers.image.cert)}`,
        key: `/etc/sztp-lab-pki/${relative(pkiDir, pki.servers.image.key)}`,
        verifyClient: spec.clientCertificates,
        ...(spec.clientCertificates !== 'off'
          ? { clientCa: `/etc/sztp-lab-pki/${relative(pkiDir, pki.idevidRoot)}` }
          : {}),
        accessLogs: ['/dev/stdout'],
      }),
    );
  }

  for (const [name, node] of Object.entries(topology.nodes)) {
    if (node.kind === 'bootstrap-server' || node.kind === 'redirect-server') {
      const spec = node as ServerNode;
      const dir = dirFor(name);
      mkdirSync(join(dir, 'data'), { recursive: true });
      const records: Record<string, unknown> = {};
      for (const [serial, record] of Object.entries(topology.records[name] ?? {})) {
        records[serial] = serverRecord(topology, { placements, images, pkiDir, pki }, record);
      }
      writeFileSync(
        join(dir, 'records.json'),
        `${JSON.stringify({ devices: records }, null, 2)}\n`,
      );
      const place = placements.get(name);
      const serverCert =
        node.kind === 'redirect-server' ? pki.servers.redirect : pki.servers.bootstrap;
      writeFileSync(
        join(dir, 'server.json'),
        `${JSON.stringify(
          {
            roles:
              node.kind === 'redirect-server'
                ? ['redirect-server']
                : ['redirect-server', 'onboarding-server'],
            listen: { host: '::', port: spec.port },
            admin: { host: '127.0.0.1', port: 9000 },
            pki: SERVER_PKI,
            tls: {
              cert: `${SERVER_PKI}/${relative(pkiDir, serverCert.cert)}`,
              key: `${SERVER_PKI}/${relative(pkiDir, serverCert.key)}`,
              minVersion: spec.tls.minVersion,
              maxVersion: spec.tls.maxVersion,
            },
            records: '/etc/sztp-lab/node/records.json',
            dataDir: '/var/lib/sztp-lab/server',
            advertise: { address: place?.ipv4, port: spec.port },
          },
          null,
          2,
        )}\n`,
      );
    } else if (node.kind === 'dhcp') {
      const spec = node as DhcpNode;
      const dir = dirFor(name);
      const network = (await networks).get(spec.network) as LabNetwork;
      for (const family of spec.families) {
        const uris = spec.bootstrapServers.map((ref) =>
          serverUri(topology, placements, ref, family),
        );
        const payload = spec.plainText
          ? Buffer.from(uris.join(' '))
          : encodeBootstrapServerList(uris);
        const plan = family === 4 ? network.ipv4 : network.ipv6;
        if (!plan)
          throw new LabError(
            'TOPOLOGY_INVALID',
            `dhcp "${name}": network "${spec.network}" has no IPv6`,
          );
        const serve = { iface: 'eth0', plan, sztpPayload: payload };
        if (spec.server === 'kea') {
          writeFileSync(
            join(dir, `kea-dhcp${family}.conf`),
            family === 4 ? keaDhcp4Config(serve) : keaDhcp6Config(serve),
          );
        } else {
          writeFileSync(
            join(dir, family === 4 ? 'dhcpd.conf' : 'dhcpd6.conf'),
            family === 4 ? iscDhcpd4Config(serve) : iscDhcpd6Config(serve),
          );
        }
      }
    } else if (node.kind === 'dns') {
      const spec = node as DnsNode;
      const dir = dirFor(name);
      const servers = Object.entries(topology.nodes)
        .filter(
          ([, n]) =>
            n.kind === 'bootstrap-server' ||
            n.kind === 'redirect-server' ||
            n.kind === 'image-server',
        )
        .map(([server]) => ({
          name: server,
          addresses: [placements.get(server)?.ipv4, placements.get(server)?.ipv6].filter(
            (a): a is string => Boolean(a),
          ),
        }));
      const own = placements.get(name);
      servers.push({ name: 'ns', addresses: [own?.ipv4 ?? ''] });
      const devices = [];
      const context = { placements, images, pkiDir, pki };
      // The artifacts a server record makes, signed as the record says.
      const txtArtifacts = (serial: string, wire: Record<string, unknown>, sign: boolean) => {
        const doc = wire.redirect
          ? {
              'ietf-sztp-conveyed-info:redirect-information': {
                'bootstrap-server': (wire.redirect as { address: string; port: number }[]).map(
                  (e) => ({ address: e.address, port: e.port }),
                ),
              },
            }
          : { 'ietf-sztp-conveyed-info:onboarding-information': wire.onboarding };
        return createArtifacts(pki, { serial, input: Buffer.from(JSON.stringify(doc)), sign });
      };
      for (const [serial, server] of Object.entries(spec.txt)) {
        const record = topology.records[server]?.[serial];
        if (!record)
          throw new LabError(
            'TOPOLOGY_INVALID',
            `dns "${name}": no record for ${serial} on ${server}`,
          );
        // Captured bootstrapping data goes into TXT as it is, like the server answers it.
        const set = record.replay
          ? readCapturedOutput(record.replay, displayName(record.replay))
          : await txtArtifacts(serial, serverRecord(topology, context, record), record.signed);
        devices.push({
          serial,
          artifacts: {
            ci: Buffer.from(set.conveyedInformation),
            ...(set.ownerCertificate ? { oc: Buffer.from(set.ownerCertificate) } : {}),
            ...(set.ownershipVoucher ? { ov: Buffer.from(set.ownershipVoucher) } : {}),
          },
        });
      }
      writeFileSync(
        join(dir, 'zone.db'),
        zoneFile({
          domain: spec.domain,
          servers,
          srv: spec.srv.map((target) => ({
            target,
            port: (topology.nodes[target] as ServerNode).port,
          })),
          devices,
        }),
      );
      writeFileSync(
        join(dir, 'named.conf'),
        namedConf({ domain: spec.domain, zoneFile: '/etc/sztp-lab/zone.db' }),
      );
    }
  }
  return { runDir, pkiDir, pki, placements, images, configDirs };
}
