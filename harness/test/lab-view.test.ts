import test from 'ava';
import { labView } from '../src/lab/lab-view.ts';
import { placeNodes } from '../src/lab/prepare.ts';
import type { NodeEvent } from '../src/lab/timeline.ts';
import type { LabView } from '../src/report/model.ts';
import { renderTopology } from '../src/report/topology.ts';
import type { LabNetwork } from '../src/runtime/networks.ts';
import { loadTopology } from '../src/topology/load.ts';

const TOPOLOGIES = new URL('../../topologies/', import.meta.url).pathname;
const KIND_ORDER = ['dhcp', 'dns', 'redirect-server', 'bootstrap-server', 'image-server', 'device'];

function network(name: string, slot: number, ipv6: boolean): LabNetwork {
  const plan = (subnet: string, gateway: string) => ({ subnet, gateway }) as LabNetwork['ipv4'];
  return {
    id: `id-${name}`,
    name: `sztp-lab-x-${name}`,
    lab: 'x',
    bridge: `br-${slot}`,
    slot,
    ipv4: plan(`198.18.${slot}.0/24`, `198.18.${slot}.1`),
    ipv6: ipv6 ? plan(`fd00:0:0:${slot}::/64`, `fd00:0:0:${slot}::1`) : undefined,
  };
}

const lease = (node: string, family: 4 | 6, address: string, second = 0): NodeEvent => ({
  time: `2026-01-01T00:00:0${second}.000Z`,
  node,
  kind: 'dhcp-lease',
  family,
  address,
  option: 'present',
});

test('the lab view lists networks and nodes in onboarding order, with leased engine addresses', async (t) => {
  const topology = await loadTopology(`${TOPOLOGIES}dual-re.yaml`);
  const networks = new Map([
    ['lan', network('lan', 7, true)],
    ['ri-router1', network('ri-router1', 8, false)],
  ]);
  const placements = placeNodes(topology, networks);
  const device = Object.entries(topology.nodes).find(([, node]) => node.kind === 'device');
  t.truthy(device, 'the dual-RE topology has a device');
  const [deviceName] = device ?? [''];
  const view = labView('dual-re-abc', topology, networks, placements, [
    lease(`${deviceName}/re0`, 4, '198.18.7.100', 1),
    lease(`${deviceName}/re0`, 4, '198.18.7.150', 3),
    lease(`${deviceName}/re1`, 6, 'fd00:0:0:7::1:5', 2),
    { time: '2026-01-01T00:00:04.000Z', node: 'dhcp', kind: 'lease', address: '198.18.7.99' },
  ]);

  t.is(view.name, 'dual-re-abc');
  t.deepEqual(view.networks, [
    { name: 'lan', ipv4: '198.18.7.0/24', ipv6: 'fd00:0:0:7::/64' },
    { name: 'ri-router1', ipv4: '198.18.8.0/24' },
  ]);
  const kinds = view.nodes.map((node) => node.kind);
  t.is(kinds[0], 'dhcp', 'DHCP first');
  t.is(kinds.at(-1), 'device', 'devices last');
  const rank = (kind: string) => KIND_ORDER.indexOf(kind);
  t.deepEqual(
    kinds,
    [...kinds].sort((a, b) => rank(a) - rank(b)),
    'kinds in onboarding order',
  );
  for (const node of view.nodes.filter((n) => n.kind !== 'device')) {
    t.is(node.ipv4, placements.get(node.name)?.ipv4, `${node.name} keeps its static address`);
    t.truthy(node.detail, `${node.name} has a detail line`);
  }
  const dhcp = view.nodes.find((node) => node.kind === 'dhcp');
  t.regex(dhcp?.detail ?? '', /^(kea|isc), DHCPv4/);
  const router = view.nodes.find((node) => node.kind === 'device');
  t.is(router?.chassisLink, `ri-${deviceName}`);
  t.deepEqual(router?.engines, [
    { name: 're0', ipv4: '198.18.7.150', chassisIpv4: '198.18.8.10' },
    { name: 're1', ipv6: 'fd00:0:0:7::1:5', chassisIpv4: '198.18.8.11' },
  ]);
  t.is(router?.ipv4, undefined, 'a device has no static address');
});

test('a single-RE device has one engine, no chassis link, and no address before a lease', async (t) => {
  const topology = await loadTopology(`${TOPOLOGIES}standard.yaml`);
  const networks = new Map([['lan', network('lan', 3, false)]]);
  const view = labView('std', topology, networks, placeNodes(topology, networks), []);
  const router = view.nodes.find((node) => node.kind === 'device');
  t.deepEqual(router?.engines, [{ name: 're0' }]);
  t.is(router?.chassisLink, undefined);
  t.is(view.networks[0]?.ipv6, undefined);
});

const VIEW: LabView = {
  name: 'lab-1',
  networks: [
    { name: 'lan', ipv4: '198.18.4.0/24', ipv6: 'fd00::/64' },
    { name: 'oob', ipv4: '198.18.6.0/24' },
    { name: 'ri-r1', ipv4: '198.18.5.0/24' },
  ],
  nodes: [
    { name: 'dhcp', kind: 'dhcp', network: 'lan', ipv4: '198.18.4.10', detail: 'kea, DHCPv4' },
    {
      name: '<b>boot</b>',
      kind: 'bootstrap-server',
      network: 'oob',
      ipv4: '198.18.6.10',
      image: 'acme/server:1',
    },
    { name: 'lost', kind: 'dns', network: 'nowhere' },
    {
      name: 'r1',
      kind: 'device',
      network: 'lan',
      detail: 'SN-1, MX204',
      engines: [{ name: 're0', ipv4: '198.18.4.100' }, { name: 're1' }],
      chassisLink: 'ri-r1',
    },
  ],
};

test('the topology picture: a box per node, a bus per network, the chassis link under the REs', (t) => {
  const svg = renderTopology(VIEW).toString();
  t.is(svg.match(/<g class="box /g)?.length, 4, 'one box per node');
  t.is(svg.match(/<g class="engine"/g)?.length, 2, 'one box per routing engine');
  t.is(svg.match(/<g class="net">/g)?.length, 2, 'buses for lan and oob; the chassis link is none');
  t.true(svg.includes('lan · 198.18.4.0/24 · fd00::/64'), 'the bus label has both subnets');
  t.true(svg.includes('ri-r1 · 198.18.5.0/24'), 'the chassis link is labelled with its subnet');
  t.true(svg.includes('198.18.4.100'), 'a leased RE shows its address');
  t.true(svg.includes('no lease on lan'), 'an RE without a lease says so');
  // Taps: dhcp and boot one each, the two REs one each; the node on an unknown network none.
  t.is(svg.match(/<circle class="tap"/g)?.length, 4);
  t.false(svg.includes('<b>boot</b>'), 'names are escaped');
  t.true(svg.includes('&lt;b&gt;boot&lt;/b&gt;'));
  t.true(svg.includes('image acme/server:1'), 'a user image is in the tooltip');
  t.regex(svg, /aria-label="topology of lab lab-1: 4 nodes on 2 networks"/);
});

test("the chassis link names both engines' addresses on it when they are known", (t) => {
  const [dhcp, boot, lost, r1] = VIEW.nodes;
  const withEnds = {
    ...VIEW,
    nodes: [
      dhcp,
      boot,
      lost,
      {
        ...r1,
        engines: [
          { name: 're0', ipv4: '198.18.4.100', chassisIpv4: '198.18.5.10' },
          { name: 're1', ipv6: 'fd00::1:7', chassisIpv4: '198.18.5.11' },
        ],
      },
    ],
  } as LabView;
  const svg = renderTopology(withEnds).toString();
  t.true(svg.includes('ri-r1 · 198.18.5.10 ↔ 198.18.5.11'));
  t.true(svg.includes('fd00::1:7'), 'an IPv6 lease is shown too');
  t.true(svg.includes('chassis link 198.18.5.11'), 'the engine tooltip has its chassis address');
});

test('the picture grows with the lab and keeps every bus label clear of the boxes', (t) => {
  const many: LabView = {
    name: 'big',
    networks: [{ name: 'lan', ipv4: '198.18.9.0/24' }],
    nodes: Array.from({ length: 9 }, (_, i) => ({
      name: `s${i}`,
      kind: 'bootstrap-server',
      network: 'lan',
      ipv4: `198.18.9.${10 + i}`,
    })),
  };
  const width = (view: LabView) =>
    Number(/<svg[^>]* width="([\d.]+)"/.exec(renderTopology(view).toString())?.[1]);
  t.true(width(many) > width({ ...many, nodes: many.nodes.slice(0, 2) }));
  const svg = renderTopology(many).toString();
  const lastTap = Math.max(
    ...[...svg.matchAll(/class="tap" cx="([\d.]+)"/g)].map((m) => Number(m[1])),
  );
  const labelEnd = Number(/<g class="net">.*?<text x="([\d.]+)"/.exec(svg)?.[1]);
  const label = 'lan · 198.18.9.0/24';
  t.true(labelEnd - label.length * 6.2 > lastTap, 'the label starts right of the last tap');
});
