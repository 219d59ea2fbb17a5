import type { NodeSpec, RecordSpec, Topology } from './types.ts';

/**
 * Every default of the topology format, and the one function that applies them: a node's own
 * settings win, then its kind's defaults, then the lab-wide ones (its network, the DNS domain).
 * Input is the camelCased, schema-valid document; output has every required field set, except
 * a node's network when the lab has several and the node names none (the checks report that).
 */

type Raw = Record<string, unknown>;

export const LAB_DEFAULTS = {
  pki: { key: 'ecdsa-p256', pinnedDomain: 'root', domain: 'sztp-lab.test' },
  networks: { lan: {} },
} as const satisfies { pki: Topology['pki']; networks: Record<string, Raw> };

const SERVER_DEFAULTS = { port: 8443, tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' } };

export const KIND_DEFAULTS: Record<NodeSpec['kind'], Raw> = {
  dhcp: { server: 'kea', families: [4], bootstrapServers: [] },
  dns: { srv: [], txt: {} },
  'bootstrap-server': SERVER_DEFAULTS,
  'redirect-server': SERVER_DEFAULTS,
  'image-server': { port: 8444, images: {}, clientCertificates: 'off' },
  device: {
    model: 'MX204',
    profile: 'junos',
    startingImage: { osName: 'Junos', osVersion: '23.4R1' },
    routingEngines: ['re0'],
    keyAlgorithm: 'ecc-p256',
    sources: ['dhcp4'],
    wellKnownServers: [],
    trustsServers: true,
    voucherTrustAnchors: [],
    clock: { mode: 'system', skewSeconds: 0 },
    powerOn: true,
  },
};

export const RECORD_DEFAULTS = {
  signed: false,
  encoding: 'json',
  reportingLevel: 'minimal',
  untrusted: 'promote',
} as const satisfies Partial<RecordSpec>;

const REDIRECT_ENTRY_DEFAULTS = { trustAnchor: true };

function isPlainObject(value: unknown): value is Raw {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Fills what `value` leaves out from each layer in turn (first layer wins); nested mappings
 * merge key by key, lists and scalars are taken whole. Layers are copied, never shared.
 */
export function withDefaults(value: Raw, ...layers: Raw[]): Raw {
  const out: Raw = structuredClone(value);
  for (const layer of layers) {
    for (const [key, fallback] of Object.entries(layer)) {
      const own = out[key];
      if (own === undefined) out[key] = structuredClone(fallback);
      else if (isPlainObject(own) && isPlainObject(fallback))
        out[key] = withDefaults(own, fallback);
    }
  }
  return out;
}

/** A record with its defaults (also used for records a scenario sets while the lab runs). */
export function resolveRecord(raw: Raw): RecordSpec {
  const record = withDefaults(raw, RECORD_DEFAULTS);
  if (Array.isArray(record.redirect)) {
    record.redirect = record.redirect.map((entry: Raw) =>
      withDefaults(entry, REDIRECT_ENTRY_DEFAULTS),
    );
  }
  return record as unknown as RecordSpec;
}

/** Whether a resolved node needs IPv6 on its network. */
function speaksIpv6(node: Raw): boolean {
  if (node.kind === 'dhcp') return (node.families as number[]).includes(6);
  if (node.kind === 'device') return (node.sources as string[]).includes('dhcp6');
  return false;
}

/** The whole topology with defaults applied: node, then kind, then lab-wide. */
export function resolveTopology(raw: Raw): Topology {
  const pki = withDefaults((raw.pki as Raw | undefined) ?? {}, LAB_DEFAULTS.pki);
  const rawNetworks = (raw.networks as Record<string, Raw> | undefined) ?? LAB_DEFAULTS.networks;
  const networks: Record<string, Raw> = {};
  for (const [name, network] of Object.entries(rawNetworks)) {
    networks[name] = structuredClone(network);
  }
  const names = Object.keys(networks);
  const lab: Raw = names.length === 1 ? { network: names[0] } : {};

  const nodes: Record<string, Raw> = {};
  for (const [name, node] of Object.entries(raw.nodes as Record<string, Raw>)) {
    const kind = node.kind as NodeSpec['kind'];
    const labForKind = kind === 'dns' ? { ...lab, domain: pki.domain } : lab;
    nodes[name] = withDefaults(node, KIND_DEFAULTS[kind], labForKind);
  }

  // A network says whether it has IPv6; unsaid, it has IPv6 when a node on it speaks IPv6
  // (DHCPv6 served or asked for). Docker attaches containers to a dual-stack network more
  // slowly, so an IPv4-only lab does not pay for subnets nobody uses.
  for (const [name, network] of Object.entries(networks)) {
    network.ipv6 ??= Object.values(nodes).some((node) => node.network === name && speaksIpv6(node));
  }

  const records: Record<string, Record<string, RecordSpec>> = {};
  for (const [server, bySerial] of Object.entries((raw.records as Record<string, Raw>) ?? {})) {
    records[server] = {};
    for (const [serial, record] of Object.entries(bySerial as Record<string, Raw>)) {
      records[server][serial] = resolveRecord(record);
    }
  }

  const topology: Raw = { name: raw.name, pki, networks, nodes, records };
  if (Array.isArray(raw.unknownSerials)) topology.unknownSerials = raw.unknownSerials;
  return topology as unknown as Topology;
}
