import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificatesFromPem, certificatesToPem } from '../pki/pem.ts';
import type { LabNetwork } from '../runtime/networks.ts';
import type { DeviceNode, DnsNode, ServerNode, Topology } from '../topology/types.ts';
import type { Placement, PreparedLab } from './prepare.ts';

/** Where a routing engine's configuration is read inside its container. */
const IN_CONTAINER = '/etc/sztp-lab';

/** The device configuration (device.json) of one routing engine. */
export function deviceSettings(
  topology: Topology,
  placements: Map<string, Placement>,
  name: string,
  re: string,
): Record<string, unknown> {
  const node = topology.nodes[name] as DeviceNode;
  const dns = Object.entries(topology.nodes).find(([, n]) => n.kind === 'dns') as
    | [string, DnsNode]
    | undefined;
  return {
    node: `${name}/${re}`,
    serial: node.serial,
    hwModel: node.model,
    profile: node.profile,
    keyAlgorithm: node.keyAlgorithm,
    factoryImage:
      re === 're1' && node.backupStartingImage ? node.backupStartingImage : node.startingImage,
    sources: node.sources,
    wellKnownServers: node.wellKnownServers.map((server) => ({
      address: placements.get(server)?.ipv4,
      port: (topology.nodes[server] as ServerNode).port,
    })),
    clock: node.clock,
    retry: { initialMs: 500, maxMs: 4000 },
    ...(dns && node.sources.includes('dns')
      ? { dns: { domain: dns[1].domain, resolver: placements.get(dns[0])?.ipv4 } }
      : {}),
  };
}

/** A routing engine's address on its chassis's private link: re0 .10, re1 .11. */
export function chassisAddress(link: LabNetwork, re: string): string {
  return `${link.ipv4.subnet.replace(/\.0\/24$/, '')}.${re === 're0' ? 10 : 11}`;
}

/**
 * Writes what one routing engine reads at power-on into `configDir`: device.json (the settings
 * above, trust anchor paths, and for a dual-RE chassis its link addresses) and the anchor PEMs.
 */
export function writeEngineConfig(
  topology: Topology,
  prepared: PreparedLab,
  engine: { device: string; re: string; configDir: string },
  link: LabNetwork | undefined,
): void {
  const node = topology.nodes[engine.device] as DeviceNode;
  const { pki } = prepared;
  const config: Record<string, unknown> = deviceSettings(
    topology,
    prepared.placements,
    engine.device,
    engine.re,
  );
  if (link) {
    writeFileSync(join(engine.configDir, 'idevid-root.pem'), readFileSync(pki.idevidRoot));
    config.dualRe = {
      flavour: node.flavour ?? 'junos',
      self: chassisAddress(link, engine.re),
      peer: chassisAddress(link, engine.re === 're0' ? 're1' : 're0'),
      idevidTrustAnchors: [`${IN_CONTAINER}/idevid-root.pem`],
    };
  }
  const pem = (path: string) => readFileSync(path, 'utf8');
  // An anchor file of the topology may hold several CA certificates; the engine reads the first
  // of each file it is given, so each certificate gets a file of its own.
  const certificates = (path: string) =>
    certificatesFromPem(pem(path)).map((der) => certificatesToPem([der]));
  const anchors: Record<string, string[]> = {
    bootstrapTrustAnchors: node.trustsServers ? [pem(pki.tlsTrustAnchor)] : [],
    // The lab's MASA, then any the topology adds (a manufacturer's CA for captured vouchers).
    voucherTrustAnchors: [
      pem(pki.voucherTrustAnchor),
      ...node.voucherTrustAnchors.flatMap(certificates),
    ],
    imageTrustAnchors: [pem(pki.tlsTrustAnchor)],
  };
  for (const [key, texts] of Object.entries(anchors)) {
    config[key] = texts.map((text, i) => {
      const file = `${key}-${i}.pem`;
      writeFileSync(join(engine.configDir, file), text.endsWith('\n') ? text : `${text}\n`);
      return `${IN_CONTAINER}/${file}`;
    });
  }
  // device.json goes last and whole (renamed into place): an engine started before the lab was
  // prepared waits at boot until it appears, and must then find the anchors beside it.
  const file = join(engine.configDir, 'device.json');
  writeFileSync(`${file}.tmp`, `${JSON.stringify(config, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}
