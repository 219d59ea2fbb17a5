import test from 'ava';
import type { DeviceEvent } from '../src/device/events.ts';
import type { Placement } from '../src/lab/prepare.ts';
import { buildMessages, serverNode } from '../src/lab/timeline.ts';
import type { Topology } from '../src/topology/types.ts';

const topology = {
  name: 't',
  nodes: {
    dhcp: { kind: 'dhcp', families: [4] },
    bootstrap: { kind: 'bootstrap-server' },
    images: { kind: 'image-server' },
  },
} as unknown as Topology;
const placements = new Map<string, Placement>([
  ['bootstrap', { node: 'bootstrap', network: 'lan', ipv4: '198.18.0.10', ipv6: 'fd00::a' }],
  ['images', { node: 'images', network: 'lan', ipv4: '198.18.0.11' }],
]);
const at = (kind: string, fields: Record<string, unknown>): DeviceEvent => ({
  time: '2026-01-01T00:00:00.000Z',
  node: 'r1/re0',
  kind,
  ...fields,
});

test('server names are found from addresses, IPv6 literals and DNS names', (t) => {
  const book = new Map([
    ['198.18.0.10', 'bootstrap'],
    ['fd00::a', 'bootstrap'],
    ['bootstrap', 'bootstrap'],
  ]);
  t.is(serverNode('198.18.0.10:8443', book), 'bootstrap');
  t.is(serverNode('fd00::a:8443', book), 'bootstrap');
  t.is(serverNode('bootstrap.sztp-lab.test:8443 (198.18.0.10)', book), 'bootstrap');
  t.is(serverNode('203.0.113.9:443', book), '203.0.113.9');
});

test('device events become arrows between the right lifelines, with tones', (t) => {
  const messages = buildMessages(
    [
      at('dhcp-lease', { family: 4, address: '198.18.0.100', option: 'present', servers: ['x'] }),
      at('bootstrap-request', { server: '198.18.0.10:8443', tls: 'authenticated', status: 200 }),
      at('progress-report', { type: 'bootstrap-initiated', status: 204 }),
      at('image-download', { uri: 'https://198.18.0.11:8444/a.tgz', status: 0, error: 'refused' }),
      at('verification-failed', { code: 'VOUCHER_EXPIRED' }),
      at('backup-authenticated', { backup: 'r1/re1' }),
      at('source-start', { source: 'dhcp4' }),
      at('clock-set', { mode: 'system', skewSeconds: -86400 }),
    ],
    topology,
    placements,
  );
  t.deepEqual(
    messages.map((m) => [m.from, m.to, m.tone]),
    [
      ['r1/re0', 'dhcp', 'neutral'],
      ['dhcp', 'r1/re0', 'ok'],
      ['r1/re0', 'bootstrap', 'neutral'],
      ['bootstrap', 'r1/re0', 'ok'],
      ['r1/re0', 'bootstrap', 'ok'],
      ['r1/re0', 'images', 'neutral'],
      ['images', 'r1/re0', 'error'],
      ['r1/re0', 'r1/re0', 'error'],
      ['r1/re0', 'r1/re1', 'neutral'],
      ['r1/re1', 'r1/re0', 'ok'],
      ['r1/re0', 'r1/re0', 'neutral'],
    ],
  );
  t.is(messages[10]?.label, 'clock skew -86400 s');
  t.is(messages[6]?.label, 'no answer: refused');
  t.is(messages[7]?.label, 'refused: VOUCHER_EXPIRED');
});
