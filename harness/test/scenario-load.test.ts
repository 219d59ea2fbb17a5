import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { stringify } from 'yaml';
import type { LabError } from '../src/common/errors.ts';
import {
  findScenarioFiles,
  loadScenario,
  matchPattern,
  mergePatch,
  parseDuration,
} from '../src/scenario/load.ts';
import type { DeviceNode, DhcpNode } from '../src/topology/types.ts';

const FIXTURES = new URL('./fixtures/topology/', import.meta.url).pathname;
const LAB = readFileSync(join(FIXTURES, 'lab.yaml'), 'utf8');

/** A folder holding the fixture lab and one scenario written from `doc`. */
function scenarioFile(doc: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sztp-scenario-'));
  writeFileSync(join(dir, 'lab.yaml'), LAB);
  const path = join(dir, 'case.yaml');
  writeFileSync(path, stringify({ title: 'case', topology: 'lab.yaml', ...doc }));
  return path;
}

test('the fixture scenario loads: steps, faults and expectations in their typed form', async (t) => {
  const scenario = await loadScenario(join(FIXTURES, 'scenario.yaml'));
  t.is(scenario.timeoutMs, 120_000);
  t.deepEqual(scenario.tags, ['fixture']);
  t.deepEqual(scenario.steps[0], { kind: 'power-on', node: 'router1' });
  t.deepEqual(scenario.steps[1], {
    kind: 'wait',
    match: { node: 'router1', kind: '/^dhcp-/', family: 4 },
    timeoutMs: 120_000,
    count: 2,
  });
  t.like(scenario.steps[2], { kind: 'wait', timeoutMs: 30_000 });
  t.deepEqual(scenario.steps[3], { kind: 'sleep', ms: 500 });
  t.deepEqual(scenario.steps[4], {
    kind: 'exec',
    node: 'router1',
    cmd: ['cli', 'show', 'version'],
    expectExit: 0,
  });
  t.like(scenario.steps[5], {
    kind: 'records',
    record: { onboarding: { configurationHandling: 'replace' }, signed: false, encoding: 'json' },
  });
  const faults = scenario.steps.flatMap((step) => (step.kind === 'fault' ? [step.fault] : []));
  t.deepEqual(faults, [
    { kind: 'container', node: 'bootstrap', action: 'pause' },
    { kind: 'disconnect', node: 'bootstrap', network: 'lan' },
    { kind: 'netem', node: 'bootstrap', lossPercent: 10, delayMs: 200, direction: 'both' },
    { kind: 'netem', node: 'bootstrap' },
    {
      kind: 'server',
      node: 'bootstrap',
      serial: 'SN-0001',
      count: 1,
      fault: { kind: 'status', status: 503, errorTag: 'operation-failed' },
    },
    { kind: 'clock', node: 'router1', skewSeconds: -86400 },
  ]);
  t.deepEqual(scenario.expect.timeline[1], { kind: 'count', match: { kind: 'reboot' }, equals: 1 });
  t.deepEqual(scenario.expect.devices['router2/re1'], { provisioned: true, re: 're1' });
  t.like(scenario.expect.devices.router1, {
    sztpEnabled: false,
    config: { 'system/host-name': 'r1' },
  });
  t.true(Object.isFrozen(scenario.steps[1]));
  t.true(Object.isFrozen(scenario.topology.nodes));
});

test('the patch is merged into the topology before validation', async (t) => {
  const scenario = await loadScenario(join(FIXTURES, 'scenario.yaml'));
  t.is(scenario.topology.records.bootstrap?.['SN-0001']?.reportingLevel, 'verbose');
  t.deepEqual((scenario.topology.nodes.dhcp as DhcpNode).families, [4, 6]);
  t.deepEqual((scenario.topology.nodes.dhcp as DhcpNode).bootstrapServers, ['redirect']);
});

test('a patch can remove keys with null and add nodes', async (t) => {
  const path = scenarioFile({
    patch: {
      records: { redirect: null },
      nodes: { router3: { kind: 'device', serial: 'SN-0003', profile: 'rfc8572' } },
    },
  });
  const scenario = await loadScenario(path);
  t.is(scenario.topology.records.redirect, undefined);
  t.is((scenario.topology.nodes.router3 as DeviceNode).profile, 'rfc8572');
});

test('a patch that breaks the topology names the topology file and the scenario', async (t) => {
  const path = scenarioFile({ patch: { nodes: { router1: { serial: 'SN-0002' } } } });
  const error = await t.throwsAsync<LabError>(loadScenario(path));
  t.is(error?.code, 'TOPOLOGY_INVALID');
  t.regex(
    error?.message ?? '',
    /lab\.yaml \(patched by .*case\.yaml\): nodes\.router2\.serial: "SN-0002" is also/,
  );
});

test('mergePatch follows RFC 7386 and leaves its inputs alone', (t) => {
  const target = { a: { b: 1, c: [1, 2] }, d: 1 };
  const result = mergePatch(target, { a: { b: null, c: [3] }, e: { f: 1 } });
  t.deepEqual(result, { a: { c: [3] }, d: 1, e: { f: 1 } });
  t.deepEqual(target, { a: { b: 1, c: [1, 2] }, d: 1 });
});

test('durations', (t) => {
  t.is(parseDuration('500ms'), 500);
  t.is(parseDuration('30s'), 30_000);
  t.is(parseDuration('2m'), 120_000);
  t.is(parseDuration('1.5h'), 5_400_000);
  t.throws(() => parseDuration('2 minutes'), { instanceOf: TypeError });
});

test('event match values written /.../ are regular expressions', (t) => {
  t.true(matchPattern('/^dhcp-/')?.test('dhcp-lease'));
  t.false(matchPattern('/^dhcp-/')?.test('bootstrap-complete'));
  t.true(matchPattern('/LEASE/i')?.test('dhcp-lease'));
  t.true(matchPattern('/router\\d/')?.test('router2'));
  t.is(matchPattern('dhcp-lease'), undefined);
  t.is(matchPattern(4), undefined);
  t.throws(() => matchPattern('/(/'));
});

test('timeline expectations may name server nodes and their records', async (t) => {
  const scenario = await loadScenario(
    scenarioFile({
      expect: {
        timeline: [
          {
            order: [
              { node: 'bootstrap', kind: 'request', outcome: 'onboarding', serial: 'SN-0001' },
              { node: 'images', kind: 'download', status: 200 },
            ],
          },
          { count: { match: { node: 'dhcp', kind: 'lease', family: 4 }, min: 1 } },
          { absent: { node: 'redirect', kind: 'request', status: '/^[45]/' } },
        ],
      },
    }),
  );
  t.deepEqual(scenario.expect.timeline[1], {
    kind: 'count',
    match: { node: 'dhcp', kind: 'lease', family: 4 },
    min: 1,
  });
});

test('a wait may name a server node and its records', async (t) => {
  const scenario = await loadScenario(
    scenarioFile({
      steps: [
        { wait: { node: 'images', kind: 'download', status: 200, timeout: '20s' } },
        { wait: { kind: 'lease', family: 6, count: 2 } },
      ],
    }),
  );
  t.deepEqual(scenario.steps[0], {
    kind: 'wait',
    match: { node: 'images', kind: 'download', status: 200 },
    timeoutMs: 20_000,
  });
  t.like(scenario.steps[1], { kind: 'wait', match: { kind: 'lease', family: 6 }, count: 2 });
});

const invalid: [string, Record<string, unknown>, RegExp][] = [
  [
    'unknown step, with a suggestion',
    { steps: [{ 'pwer-on': 'router1' }] },
    /steps\[0\]: unknown key "pwer-on" \(did you mean "power-on"\?\)/,
  ],
  [
    'a step with two keys',
    { steps: [{ 'power-on': 'router1', reboot: 'router1' }] },
    /steps\[0\] a step is an object with exactly one key|steps\[0\]: a step is an object/,
  ],
  [
    'bad duration',
    { timeout: '2 minutes' },
    /timeout must be a duration such as 500ms, 30s or 2m \(got "2 minutes"\)/,
  ],
  [
    'bad wait timeout',
    { steps: [{ wait: { kind: 'x', timeout: 5 } }] },
    /steps\[0\]\.wait\.timeout must be a string/,
  ],
  [
    'power-on of a node that is no device',
    { steps: [{ 'power-on': 'bootstrap' }] },
    /steps\[0\]\.power-on: "bootstrap" is not a device \(it is a bootstrap-server node\)/,
  ],
  [
    'a routing engine the device lacks',
    { steps: [{ reboot: 'router1/re1' }] },
    /steps\[0\]\.reboot: "router1\/re1": router1 has routing engines re0 only/,
  ],
  [
    'a node the topology lacks',
    { steps: [{ exec: { node: 'routr1', cmd: ['true'] } }] },
    /steps\[0\]\.exec\.node: "routr1" is not a node of the topology \(did you mean "router1"\?\)/,
  ],
  [
    'server fault on a device',
    { steps: [{ fault: { server: { node: 'router1', fault: { kind: 'drop' } } } }] },
    /steps\[0\]\.fault\.server\.node: "router1" is not a bootstrap-server or redirect-server/,
  ],
  [
    'server fault of an unknown kind',
    { steps: [{ fault: { server: { node: 'bootstrap', fault: { kind: 'timeout' } } } }] },
    /steps\[0\]\.fault\.server\.fault\.kind must be one of/,
  ],
  [
    'netem fault with an unknown direction',
    { steps: [{ fault: { netem: { node: 'bootstrap', delay: '1s', direction: 'up' } } }] },
    /steps\[0\]\.fault\.netem\.direction must be one of/,
  ],
  [
    'container fault with a bad action',
    { steps: [{ fault: { container: { node: 'bootstrap', action: 'restrat' } } }] },
    /steps\[0\]\.fault\.container\.action must be one of .*did you mean "restart"/,
  ],
  [
    'records step for an unknown serial',
    {
      steps: [
        {
          records: {
            server: 'bootstrap',
            serial: 'SN-0404',
            record: { redirect: [{ server: 'bootstrap' }] },
          },
        },
      ],
    },
    /steps\[0\]\.records\.serial: "SN-0404" is not the serial of a device node/,
  ],
  [
    'records step with a dangling boot image',
    {
      steps: [
        {
          records: {
            server: 'bootstrap',
            serial: 'SN-0001',
            record: { onboarding: { 'boot-image': { server: 'images', file: 'x.tgz' } } },
          },
        },
      ],
    },
    /steps\[0\]\.records\.record\.onboarding\.boot-image\.file: "x\.tgz" is not an image of images/,
  ],
  [
    'a regular expression that does not compile',
    { steps: [{ wait: { kind: '/(/' } }] },
    /steps\[0\]\.wait\.kind is not a valid regular expression/,
  ],
  [
    'a timeline match on a node the topology lacks',
    { expect: { timeline: [{ absent: { node: 'bootstrp', kind: 'request' } }] } },
    /expect\.timeline\[0\]\.absent\.node: "bootstrp" is not a node of the topology \(did you mean "bootstrap"\?\)/,
  ],
  [
    'a wait for a fault',
    { steps: [{ wait: { node: 'images', kind: 'fault' } }] },
    /steps\[0\]\.wait\.kind: a fault joins the timeline when its own step runs/,
  ],
  [
    'a wait on a node the topology lacks',
    { steps: [{ wait: { node: 'imags', kind: 'download' } }] },
    /steps\[0\]\.wait\.node: "imags" is not a node of the topology \(did you mean "images"\?\)/,
  ],
  [
    'count with equals and min',
    { expect: { timeline: [{ count: { match: { kind: 'x' }, equals: 1, min: 1 } }] } },
    /expect\.timeline\[0\]\.count: gives equals together with min or max/,
  ],
  [
    'device expectation for an unknown node',
    { expect: { devices: { router9: { provisioned: true } } } },
    /expect\.devices\.router9: "router9" is not a node of the topology/,
  ],
  [
    'progress of a node that is no server',
    { expect: { progress: [{ server: 'images', serial: 'SN-0001' }] } },
    /expect\.progress\[0\]\.server: "images" is not a bootstrap-server or redirect-server/,
  ],
  [
    'progress type that does not exist',
    {
      expect: {
        progress: [{ server: 'bootstrap', serial: 'SN-0001', includes: ['bootstrap-completed'] }],
      },
    },
    /expect\.progress\[0\]\.includes\[0\] must be one of .*did you mean "bootstrap-complete"/,
  ],
  [
    'disconnect from a network the lab lacks',
    { steps: [{ fault: { disconnect: { node: 'router1', network: 'wan' } } }] },
    /steps\[0\]\.fault\.disconnect\.network: "wan" is not a network of the lab/,
  ],
];

for (const [name, doc, expected] of invalid) {
  test(`refused: ${name}`, async (t) => {
    const error = await t.throwsAsync<LabError>(loadScenario(scenarioFile(doc)));
    t.is(error?.code, 'SCENARIO_INVALID');
    t.regex(error?.message ?? '', expected);
    for (const line of (error?.message ?? '').split('\n')) t.regex(line, /case\.yaml: /);
  });
}

test('a scenario whose topology file is missing names that file', async (t) => {
  const path = scenarioFile({ topology: 'nowhere.yaml' });
  const error = await t.throwsAsync<LabError>(loadScenario(path));
  t.regex(error?.message ?? '', /nowhere\.yaml: cannot read: no such file/);
});

test('findScenarioFiles takes files and folders and sorts the result', async (t) => {
  const files = await findScenarioFiles([join(FIXTURES, 'scenario.yaml'), FIXTURES]);
  t.deepEqual(files, [...files].sort());
  t.true(files.includes(join(FIXTURES, 'scenario.yaml')));
  t.true(files.includes(join(FIXTURES, 'lab.yaml')));
  t.is(new Set(files).size, files.length);
  await t.throwsAsync(findScenarioFiles(['no/such/folder']), { message: /no such file or folder/ });
});
