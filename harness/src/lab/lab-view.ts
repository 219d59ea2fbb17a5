import type { LabView, LabViewNode } from '../report/model.ts';
import type { LabNetwork } from '../runtime/networks.ts';
import type { DeviceNode, NodeSpec, Topology } from '../topology/types.ts';
import { chassisAddress } from './engine-config.ts';
import type { Placement } from './prepare.ts';
import type { NodeEvent } from './timeline.ts';

/** Kinds in the order a reader follows the onboarding: DHCP, DNS, redirect, bootstrap, images. */
const KIND_ORDER = ['dhcp', 'dns', 'redirect-server', 'bootstrap-server', 'image-server', 'device'];

/**
 * What the report draws of a lab: its networks with their subnets, and every node with the
 * network it joins, its static addresses (service nodes) or the addresses its routing engines
 * leased during the attempt (devices, from their dhcp-lease events; the last lease counts),
 * and for a dual-RE chassis each engine's address on its chassis-internal link.
 */
export function labView(
  name: string,
  topology: Topology,
  networks: ReadonlyMap<string, LabNetwork>,
  placements: ReadonlyMap<string, Placement>,
  events: readonly NodeEvent[],
): LabView {
  const leased = new Map<string, { ipv4?: string; ipv6?: string }>();
  for (const event of events) {
    if (event.kind !== 'dhcp-lease' || typeof event.address !== 'string') continue;
    const held = leased.get(event.node) ?? {};
    if (event.family === 6) held.ipv6 = event.address;
    else held.ipv4 = event.address;
    leased.set(event.node, held);
  }
  const nodes = Object.entries(topology.nodes)
    .map(([nodeName, spec]) =>
      viewNode(nodeName, spec, placements.get(nodeName), leased, networks.get(`ri-${nodeName}`)),
    )
    .sort(
      (a, b) =>
        KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.name.localeCompare(b.name),
    );
  return {
    name,
    networks: [...networks].map(([netName, network]) => ({
      name: netName,
      ipv4: network.ipv4.subnet,
      ...(network.ipv6 ? { ipv6: network.ipv6.subnet } : {}),
    })),
    nodes,
  };
}

function viewNode(
  name: string,
  spec: NodeSpec,
  place: Placement | undefined,
  leased: ReadonlyMap<string, { ipv4?: string; ipv6?: string }>,
  link: LabNetwork | undefined,
): LabViewNode {
  const node: LabViewNode = {
    name,
    kind: spec.kind,
    network: spec.network,
    ...(place?.ipv4 ? { ipv4: place.ipv4 } : {}),
    ...(place?.ipv6 ? { ipv6: place.ipv6 } : {}),
    ...(spec.image ? { image: spec.image } : {}),
  };
  switch (spec.kind) {
    case 'dhcp':
      node.detail = `${spec.server}, DHCPv${spec.families.join('+v')}`;
      break;
    case 'dns':
      node.detail = spec.domain;
      break;
    case 'bootstrap-server':
    case 'redirect-server':
    case 'image-server':
      node.detail = `port ${spec.port}`;
      break;
    case 'device': {
      const device = spec as DeviceNode;
      node.detail = `${device.serial}, ${device.model}`;
      const chassis = device.routingEngines.includes('re1') ? link : undefined;
      node.engines = device.routingEngines.map((re) => ({
        name: re,
        ...(leased.get(`${name}/${re}`) ?? {}),
        ...(chassis ? { chassisIpv4: chassisAddress(chassis, re) } : {}),
      }));
      if (chassis) node.chassisLink = `ri-${name}`;
      break;
    }
  }
  return node;
}
