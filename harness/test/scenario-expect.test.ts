import test from 'ava';
import type { DeviceEvent } from '../src/device/events.ts';
import type { PersistentState } from '../src/device/state.ts';
import type { NodeEvent } from '../src/lab/timeline.ts';
import { evaluate, matches } from '../src/scenario/expect.ts';
import { parseShard, shardFiles } from '../src/scenario/runner.ts';

const ev = (
  node: string,
  kind: string,
  fields: Record<string, unknown> = {},
  s = 0,
): DeviceEvent => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString(),
  node,
  kind,
  ...fields,
});

const events: DeviceEvent[] = [
  ev('r1/re0', 'boot', { slot: 'a' }, 1),
  ev('r1/re0', 'dhcp-lease', { family: 4 }, 2),
  ev('r1/re0', 'bootstrap-request', { status: 200, tlsMs: 31 }, 3),
  ev('r1/re1', 'boot', { slot: 'a' }, 4),
  ev('r1/re0', 'bootstrap-complete', {}, 5),
];

test('event matching: node prefixes, exact values, regular expressions, objects', (t) => {
  t.true(matches(events[1] as DeviceEvent, { node: 'r1', kind: 'dhcp-lease', family: 4 }));
  t.true(matches(events[3] as DeviceEvent, { node: 'r1/re1' }));
  t.false(matches(events[3] as DeviceEvent, { node: 'r1/re0' }));
  t.false(matches(events[1] as DeviceEvent, { family: '4' }), 'types are not coerced');
  t.true(matches(events[2] as DeviceEvent, { tlsMs: '/^3\\d$/' }));
  t.false(matches(events[2] as DeviceEvent, { tlsMs: '/^4\\d$/' }));
  t.false(matches(events[0] as DeviceEvent, { node: 'r' }), 'a prefix must end at a slash');
});

const state = (config: string, sztpEnabled: boolean): PersistentState => ({
  sztpEnabled,
  slots: { a: { osName: 'Junos', osVersion: '23.4R1' }, b: null },
  active: 'a',
  config: { running: config, history: [] },
  boots: 1,
  imageReboots: 0,
});

test('expectations: each result says what was expected and what was found', (t) => {
  const results = evaluate(
    {
      timeline: [
        { kind: 'order', events: [{ kind: 'dhcp-lease' }, { kind: 'bootstrap-complete' }] },
        { kind: 'order', events: [{ kind: 'bootstrap-complete' }, { kind: 'dhcp-lease' }] },
        { kind: 'count', match: { kind: 'boot' }, equals: 2 },
        { kind: 'count', match: { kind: 'boot' }, max: 1 },
        { kind: 'absent', match: { kind: 'reboot' } },
        { kind: 'absent', match: { kind: 'boot', node: 'r1/re1' } },
      ],
      devices: {
        r1: {
          image: 'Junos 23.4R1',
          sztpEnabled: false,
          provisioned: true,
          config: { 'system/host-name': 'x', 'system/location': null },
        },
      },
      progress: [
        { server: 'bs', serial: 'SN-1', exactly: ['bootstrap-initiated', 'bootstrap-complete'] },
        {
          server: 'bs',
          serial: 'SN-1',
          includes: ['config-error'],
          excludes: ['bootstrap-complete'],
        },
      ],
    },
    {
      events,
      state: (device, re) =>
        device === 'r1' && re === 're0'
          ? state('<configuration><system><host-name>y</host-name></system></configuration>', true)
          : undefined,
      progress: new Map([['bs', { 'SN-1': ['bootstrap-initiated', 'bootstrap-complete'] }]]),
    },
  );
  const verdicts = Object.fromEntries(results.map((r) => [r.title, r]));
  const failed = results.filter((r) => !r.passed).map((r) => `${r.title} | ${r.detail}`);
  t.is(results.length, 14);
  t.deepEqual(failed, [
    'in order: kind=bootstrap-complete → kind=dhcp-lease | no "kind=dhcp-lease" after the events before it (5 events in all)',
    'count of kind=boot <= 1 | found 2',
    'never: kind=boot node=r1/re1 | found 1, first at 2026-01-01T00:00:04.000Z: {"time":"2026-01-01T00:00:04.000Z","node":"r1/re1","kind":"boot","slot":"a"}',
    'r1/re0 SZTP flag cleared | the flag is set',
    'r1/re0 configuration system/host-name = x | found "y"',
    'bs logged config-error for SN-1 | missing config-error; it logged: bootstrap-initiated, bootstrap-complete',
    'bs logged none of bootstrap-complete for SN-1 | it logged bootstrap-complete',
  ]);
  t.true(verdicts['r1/re0 runs Junos 23.4R1']?.passed);
  t.true(verdicts['r1/re0 configuration system/location absent']?.passed);
});

// The servers' records as they stand in the merged timeline (see server-events.test.ts).
const merged: NodeEvent[] = [
  ev('dhcp', 'lease', { family: 4, address: '198.18.0.100', client: '02:42:c6:12:00:02' }, 1),
  ev('r1/re0', 'dhcp-lease', { family: 4, address: '198.18.0.100' }, 2),
  ev(
    'bootstrap',
    'request',
    {
      rpc: 'get-bootstrapping-data',
      serial: 'SN-0001',
      status: 200,
      outcome: 'onboarding',
      signed: true,
    },
    3,
  ),
  ev('r1/re0', 'bootstrap-request', { status: 200 }, 3),
  ev('images', 'download', { uri: '/junos-24.2R1.tgz', status: 200, serial: 'SN-0001' }, 4),
  ev('r1/re0', 'image-download', { status: 200 }, 4),
  ev('r1/re0', 'bootstrap-complete', {}, 5),
];

test('server records match like device events: node, kind, values and /regex/', (t) => {
  const [lease, request, download] = [0, 2, 4].map((i) => merged[i] as NodeEvent) as [
    NodeEvent,
    NodeEvent,
    NodeEvent,
  ];
  t.true(
    matches(request, { node: 'bootstrap', kind: 'request', outcome: 'onboarding', signed: true }),
  );
  t.false(matches(request, { node: 'bootstrap', signed: false }));
  t.true(matches(download, { kind: 'download', uri: '/junos-/', status: 200 }));
  t.true(matches(lease, { node: '/^dh/', address: '/^198\\.18\\./' }), 'node as a /regex/');
  t.false(matches(lease, { node: '/^boot/' }));
  t.false(matches(lease, { node: 'dhcp-a' }));
});

test('expectations see the servers’ records; a device kind never matches one', (t) => {
  const results = evaluate(
    {
      timeline: [
        {
          kind: 'order',
          events: [
            { node: 'bootstrap', kind: 'request', outcome: 'onboarding', serial: 'SN-0001' },
            { node: 'images', kind: 'download', status: 200 },
            { node: 'r1', kind: 'bootstrap-complete' },
          ],
        },
        { kind: 'count', match: { kind: 'bootstrap-request' }, equals: 1 },
        { kind: 'count', match: { kind: '/download/' }, equals: 2 },
        { kind: 'count', match: { status: 200 }, equals: 4 },
        { kind: 'absent', match: { kind: 'request', status: '/^[45]/' } },
        { kind: 'order', events: [{ kind: 'download' }, { kind: 'request' }] },
      ],
      devices: {},
      progress: [],
    },
    { events: merged, state: () => undefined, progress: new Map() },
  );
  t.deepEqual(
    results.map((r) => (r.passed ? 'passed' : `${r.title} | ${r.detail}`)),
    [
      'passed',
      'passed',
      'passed',
      'passed',
      'passed',
      'in order: kind=download → kind=request | no "kind=request" after the events before it (7 events in all)',
    ],
  );
});

test('a device that never booted fails its expectations with a reason', (t) => {
  const [result] = evaluate(
    { timeline: [], devices: { r2: { provisioned: true } }, progress: [] },
    { events: [], state: () => undefined, progress: new Map() },
  );
  t.like(result, { passed: false, detail: 'the routing engine never booted' });
});

test('shards deal the sorted files round-robin and cover each file once', (t) => {
  const files = ['a', 'b', 'c', 'd', 'e'];
  const shards = [1, 2, 3].map((current) => shardFiles(files, { current, total: 3 }));
  t.deepEqual(shards, [['a', 'd'], ['b', 'e'], ['c']]);
  t.deepEqual(shards.flat().sort(), files);
  t.deepEqual(parseShard('2/4'), { current: 2, total: 4 });
  for (const bad of ['0/2', '3/2', '1', 'a/b']) {
    t.throws(() => parseShard(bad), { message: /--shard/ });
  }
});
