import test from 'ava';
import type { DeviceEvent } from '../src/device/events.ts';
import type { Placement } from '../src/lab/prepare.ts';
import { buildMessages, mergeEvents, type NodeEvent, serverNode } from '../src/lab/timeline.ts';
import type { Topology } from '../src/topology/types.ts';

const topology = {
  name: 't',
  nodes: {
    dhcp: { kind: 'dhcp', families: [4] },
    bootstrap: { kind: 'bootstrap-server' },
    images: { kind: 'image-server' },
    dns: { kind: 'dns' },
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

test('merge: device events and server records in time order, devices first at equal times', (t) => {
  const event = (time: string, node: string, kind: string) => ({ time, node, kind });
  const device = [
    event('2026-01-01T00:00:01.000Z', 'r1/re0', 'dhcp-lease'),
    event('2026-01-01T00:00:02.000Z', 'r1/re0', 'bootstrap-request'),
    event('2026-01-01T00:00:03.000Z', 'r1/re0', 'bootstrap-complete'),
  ];
  const server = [
    event('2026-01-01T00:00:00.990Z', 'dhcp', 'lease'),
    event('2026-01-01T00:00:02.000Z', 'bootstrap', 'request'),
    event('2026-01-01T00:00:02.000Z', 'bootstrap', 'request-2'),
    event('2026-01-01T00:00:02.500Z', 'images', 'download'),
  ];
  t.deepEqual(
    mergeEvents(device, server).map((e) => `${e.node} ${e.kind}`),
    [
      'dhcp lease',
      'r1/re0 dhcp-lease',
      'r1/re0 bootstrap-request',
      'bootstrap request',
      'bootstrap request-2',
      'images download',
      'r1/re0 bootstrap-complete',
    ],
  );
  t.is(device.length, 3, 'the inputs are left alone');
});

test('server records are notes on the server’s own lifeline; device arrows stay as they were', (t) => {
  const server = (node: string, kind: string, fields: Record<string, unknown>): NodeEvent => ({
    time: '2026-01-01T00:00:00.000Z',
    node,
    kind,
    ...fields,
  });
  const deviceEvents = [
    at('bootstrap-request', { server: '198.18.0.10:8443', tls: 'authenticated', status: 200 }),
  ];
  const serverEvents = [
    server('dhcp', 'lease', { family: 4, address: '198.18.0.100', client: '02:42:c6:12:00:02' }),
    server('bootstrap', 'request', {
      rpc: 'get-bootstrapping-data',
      serial: 'SN-0001',
      status: 200,
      outcome: 'onboarding',
      signed: true,
    }),
    server('bootstrap', 'request', {
      rpc: 'report-progress',
      serial: 'SN-0001',
      status: 204,
      outcome: 'progress',
      progressType: 'bootstrap-initiated',
    }),
    server('bootstrap', 'request', {
      status: 401,
      outcome: 'error',
      errorTag: 'access-denied',
      errorMessage: 'a client certificate (IDevID) is required',
    }),
    server('bootstrap', 'request', {
      serial: 'SN-0002',
      status: 503,
      outcome: 'error',
      errorTag: 'operation-failed',
      errorMessage: 'injected fault',
      faults: ['51d3d9b7'],
      durationMs: 2004.2,
    }),
    server('bootstrap', 'request', {
      serial: 'SN-0002',
      status: 0,
      outcome: 'dropped',
      faults: ['a'],
    }),
    server('images', 'download', {
      method: 'GET',
      uri: '/junos-24.2R1.tgz',
      status: 200,
      bytes: 1_258_291,
      clientVerify: 'SUCCESS',
    }),
    server('images', 'download', { method: 'GET', uri: '/x.tgz', status: 404, bytes: 153 }),
    server('dns', 'query', { name: '_sztp._tcp.lab.test', type: 'SRV', transport: 'tcp' }),
    server('images', 'unknown-kind', {}),
  ];
  const alone = buildMessages(deviceEvents, topology, placements);
  const both = buildMessages(mergeEvents(deviceEvents, serverEvents), topology, placements);
  t.deepEqual(
    both.filter((m) => m.from !== m.to),
    alone,
    'the arrows are the device’s, unchanged',
  );
  const notes = both.filter((m) => m.from === m.to);
  t.deepEqual(
    notes.map((m) => [m.from, m.label, m.tone]),
    [
      ['dhcp', 'lease 198.18.0.100 to 02:42:c6:12:00:02', 'ok'],
      ['bootstrap', '200 onboarding, signed (SN-0001)', 'ok'],
      ['bootstrap', '204 bootstrap-initiated (SN-0001)', 'ok'],
      ['bootstrap', '401 access-denied: a client certificate (IDevID) is required', 'error'],
      ['bootstrap', '503 operation-failed: injected fault (SN-0002), under fault (2.0 s)', 'error'],
      ['bootstrap', 'connection dropped (SN-0002), under fault', 'error'],
      ['images', 'GET /junos-24.2R1.tgz 200, 1.2 MiB, client certificate SUCCESS', 'ok'],
      ['images', 'GET /x.tgz 404, 153 B', 'error'],
      ['dns', 'query SRV _sztp._tcp.lab.test (tcp)', 'neutral'],
    ],
    'one note per record; a kind without a note draws nothing',
  );
});

test('an injected fault is a note on the lifeline it hit, a device’s on its first engine', (t) => {
  const withDevice = {
    ...topology,
    nodes: { ...topology.nodes, r1: { kind: 'device' } },
  } as unknown as Topology;
  const fault = (node: string, title: string): NodeEvent => ({
    time: '2026-01-01T00:00:01.000Z',
    node,
    kind: 'fault',
    fault: 'container',
    title,
  });
  const messages = buildMessages(
    [
      fault('images', 'kill images'),
      fault('r1', 'clock of r1 skewed -60 s'),
      fault('r1/re1', 'stop r1/re1'),
    ],
    withDevice,
    placements,
  );
  t.deepEqual(
    messages.map((m) => [m.from, m.to, m.label, m.tone]),
    [
      ['images', 'images', 'fault: kill images', 'error'],
      ['r1/re0', 'r1/re0', 'fault: clock of r1 skewed -60 s', 'error'],
      ['r1/re1', 'r1/re1', 'fault: stop r1/re1', 'error'],
    ],
  );
});

test('a refused handshake in a server’s audit is an error note with OpenSSL’s reason', (t) => {
  const [note] = buildMessages(
    [
      {
        time: '2026-01-01T00:00:02.000Z',
        node: 'bootstrap',
        kind: 'request',
        status: 0,
        outcome: 'tls-failed',
        errorMessage: 'tlsv1 alert unknown ca',
      },
    ],
    topology,
    placements,
  );
  t.like(note, {
    from: 'bootstrap',
    to: 'bootstrap',
    label: 'TLS handshake failed: tlsv1 alert unknown ca',
    tone: 'error',
  });
});
