import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { CLOCK_FILE, clockSource } from '../src/device/clock.ts';
import { candidate, leaf, parseConfiguration } from '../src/device/config-store.ts';
import { checkDeviceConfig } from '../src/device/device-config.ts';
import { EventLog } from '../src/device/events.ts';
import { OPERATIONS, ProgressReporter, type ReportingLevel } from '../src/device/reporter.ts';
import { interpreterOf, runScript } from '../src/device/scripts.ts';
import {
  EMPTY_CONFIG,
  factoryState,
  type PersistentState,
  StateStore,
} from '../src/device/state.ts';
import { wrappedKeyInfo } from '../src/device/tpm.ts';
import {
  clockSkewEnv,
  curlError,
  type Endpoint,
  type HttpResult,
  type RequestOptions,
} from '../src/device/transport.ts';
import { ctx, integer, oid, Tag, tlv } from '../src/pki/der.ts';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sztp-device-units-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const RUNNING = `<configuration>
  <system>
    <host-name>r1</host-name>
    <login><user><name>alice</name><class>super-user</class></user></login>
  </system>
</configuration>`;

// ---- config-store ----------------------------------------------------------------------------

test('config merge: containers recurse, leaves are replaced, new elements are appended', (t) => {
  const incoming = `<configuration>
    <system>
      <host-name>r2</host-name>
      <time-zone>UTC</time-zone>
    </system>
    <interfaces><interface><name>ge-0/0/0</name></interface></interfaces>
  </configuration>`;
  const merged = candidate(RUNNING, incoming, 'merge');
  t.is(leaf(merged, 'system/host-name'), 'r2');
  t.is(leaf(merged, 'system/time-zone'), 'UTC');
  t.is(leaf(merged, 'system/login/user/class'), 'super-user');
  t.is(leaf(merged, 'interfaces/interface/name'), 'ge-0/0/0');
  // Appended after what was there: system stays first, the new branch comes last.
  const root = parseConfiguration(merged, 'merged');
  t.deepEqual(
    root.children.map((c) => c.name),
    ['system', 'interfaces'],
  );
  const system = root.children[0];
  t.deepEqual(
    system?.children.map((c) => c.name),
    ['host-name', 'login', 'time-zone'],
  );
});

test('config merge: list entries are matched by <name>', (t) => {
  const incoming = `<configuration><system><login>
    <user><name>alice</name><class>read-only</class></user>
    <user><name>bob</name><class>operator</class></user>
  </login></system></configuration>`;
  const root = parseConfiguration(candidate(RUNNING, incoming, 'merge'), 'merged');
  const users = root.children[0]?.children
    .find((c) => c.name === 'login')
    ?.children.map((u) => ({
      name: u.children.find((c) => c.name === 'name')?.text,
      class: u.children.find((c) => c.name === 'class')?.text,
    }));
  t.deepEqual(users, [
    { name: 'alice', class: 'read-only' },
    { name: 'bob', class: 'operator' },
  ]);
});

test('config replace takes the incoming tree whole', (t) => {
  const next = candidate(
    RUNNING,
    '<configuration><system><time-zone>UTC</time-zone></system></configuration>',
    'replace',
  );
  t.is(leaf(next, 'system/time-zone'), 'UTC');
  t.is(leaf(next, 'system/host-name'), undefined);
});

test('config: invalid XML and a foreign root are CONFIG_INVALID naming the place', (t) => {
  t.throws(() => candidate(RUNNING, '<configuration><system></configuration>', 'merge'), {
    code: 'CONFIG_INVALID',
    message: /^onboarding configuration: XML line 1/,
  });
  t.throws(() => candidate(RUNNING, '<config><system/></config>', 'replace'), {
    code: 'CONFIG_INVALID',
    message: /^onboarding configuration: the root element is <config>/,
  });
  // A broken running configuration is named as such, and the incoming one is checked first.
  t.throws(() => candidate('<oops', '<configuration/>', 'merge'), {
    code: 'CONFIG_INVALID',
    message: /^running configuration:/,
  });
});

test('config leaf() reads by slash path and gives undefined for what is absent', (t) => {
  t.is(leaf(RUNNING, 'system/host-name'), 'r1');
  t.is(leaf(RUNNING, 'system/login/user/name'), 'alice');
  t.is(leaf(RUNNING, 'system/domain-name'), undefined);
  t.is(leaf(RUNNING, 'snmp/community/name'), undefined);
  t.is(leaf(EMPTY_CONFIG, 'system'), undefined);
  t.throws(() => leaf('<system/>', 'host-name'), { code: 'CONFIG_INVALID' });
});

// config-store.ts mergeInto(): an incoming element without children counts as a leaf, so an
// empty container in the onboarding configuration (`<system/>`) wipes the running container's
// children. A merge should only ever add or overwrite; an empty container adds nothing.
test('config merge: an empty incoming container keeps the running children', (t) => {
  const merged = candidate(RUNNING, '<configuration><system/></configuration>', 'merge');
  t.is(leaf(merged, 'system/host-name'), 'r1');
});

// config-store.ts mergeInto(): keyOf() is undefined for elements without <name>, so repeated
// siblings of the same name (a Junos leaf-list such as authentication-order) all match the
// first one: each incoming value overwrites the previous, and only the last survives.
test('config merge: repeated un-keyed siblings (a leaf-list) are all kept', (t) => {
  const running = '<configuration><system><host-name>r1</host-name></system></configuration>';
  const incoming = `<configuration><system>
    <authentication-order>radius</authentication-order>
    <authentication-order>password</authentication-order>
  </system></configuration>`;
  const system = parseConfiguration(candidate(running, incoming, 'merge'), 'merged').children[0];
  t.deepEqual(
    system?.children.filter((c) => c.name === 'authentication-order').map((c) => c.text),
    ['radius', 'password'],
  );
});

// ---- scripts ---------------------------------------------------------------------------------

test('interpreterOf reads the shebang, including /usr/bin/env', (t) => {
  t.is(interpreterOf('#!/bin/sh\necho hi\n'), '/bin/sh');
  t.is(interpreterOf('#!/usr/bin/python\nprint(1)\n'), '/usr/bin/python3');
  t.is(interpreterOf('#!/usr/bin/env python3\nprint(1)\n'), '/usr/bin/python3');
  t.is(interpreterOf('#! /bin/bash -e\n'), '/bin/bash');
  t.is(interpreterOf('echo no shebang\n'), '/bin/sh');
  t.is(interpreterOf(''), '/bin/sh');
});

const SH_FAIL = '#!/bin/sh\necho shell says no\nexit 3\n';
const PY_FAIL = '#!/usr/bin/env python3\nimport sys\nprint("python says no")\nsys.exit(4)\n';

test('runScript: a failing shell script is an error under both profiles', async (t) => {
  for (const profile of ['junos', 'rfc8572'] as const) {
    const result = await runScript(SH_FAIL, profile);
    t.is(result.verdict, 'error', profile);
    t.is(result.exitCode, 3);
    t.is(result.interpreter, '/bin/sh');
    t.regex(result.output, /shell says no/);
    t.is(result.note, undefined);
  }
});

test('runScript: a failing Python script is ok with a note under junos, an error under rfc8572', async (t) => {
  const junos = await runScript(PY_FAIL, 'junos');
  t.is(junos.verdict, 'ok');
  t.is(junos.exitCode, 4);
  t.regex(junos.note ?? '', /exit status 4 .*not checked under the junos profile/);
  t.regex(junos.output, /python says no/);
  const rfc = await runScript(PY_FAIL, 'rfc8572');
  t.is(rfc.verdict, 'error');
  t.is(rfc.exitCode, 4);
  t.is(rfc.note, undefined);
});

test('runScript: exit 0 is ok; stdout and stderr are captured', async (t) => {
  const result = await runScript('#!/bin/sh\necho out\necho err >&2\n', 'rfc8572');
  t.is(result.verdict, 'ok');
  t.is(result.exitCode, 0);
  t.regex(result.output, /out/);
  t.regex(result.output, /err/);
  const py = await runScript('#!/usr/bin/python\nprint("from python")\n', 'junos');
  t.is(py.verdict, 'ok');
  t.is(py.output.trim(), 'from python');
});

// ---- state -----------------------------------------------------------------------------------

const IMAGE = { osName: 'Junos', osVersion: '23.4R1' };

test('state: factory state on first use, written to state.json', (t) => {
  const dir = tempDir(t);
  const store = new StateStore(dir, () => factoryState(IMAGE));
  t.true(store.state.sztpEnabled);
  t.is(store.state.active, 'a');
  t.deepEqual(store.running(), IMAGE);
  t.is(store.state.slots.b, null);
  t.deepEqual(store.state.config, { running: EMPTY_CONFIG, history: [] });
  t.is(store.path, join(dir, 'state.json'));
  t.deepEqual(JSON.parse(readFileSync(store.path, 'utf8')), store.state);
});

test('state: boot() counts and switches to the pending slot once', (t) => {
  const dir = tempDir(t);
  const store = new StateStore(dir, () => factoryState(IMAGE));
  store.boot();
  t.is(store.state.boots, 1);
  t.is(store.state.active, 'a');
  store.update((s) => {
    s.slots.b = { osName: 'Junos', osVersion: '24.2R1' };
    s.pendingSlot = 'b';
  });
  store.boot();
  t.is(store.state.boots, 2);
  t.is(store.state.active, 'b');
  t.is(store.state.pendingSlot, undefined);
  t.is(store.running().osVersion, '24.2R1');
  // A pending slot that holds nothing is not booted.
  store.update((s) => {
    s.pendingSlot = 'a';
    s.slots.a = null;
  });
  store.boot();
  t.is(store.state.active, 'b');
});

test('state: commit keeps the history newest first, at most ten', (t) => {
  const dir = tempDir(t);
  const store = new StateStore(dir, () => factoryState(IMAGE));
  const configs = Array.from(
    { length: 12 },
    (_, i) => `<configuration><n>${i}</n></configuration>`,
  );
  for (const config of configs) store.commit(config);
  t.is(store.state.config.running, configs.at(-1) as string);
  t.is(store.state.config.history.length, 10);
  t.is(store.state.config.history[0], configs[10]);
  t.is(store.state.config.history[9], configs[1]);
  t.false(store.state.config.history.includes(EMPTY_CONFIG));
});

test('state: every change rewrites the file and a new store reads it back', (t) => {
  const dir = tempDir(t);
  const store = new StateStore(dir, () => factoryState(IMAGE));
  store.commit('<configuration><a/></configuration>');
  const onDisk = JSON.parse(readFileSync(store.path, 'utf8')) as PersistentState;
  t.is(onDisk.config.running, '<configuration><a/></configuration>');
  let calledFactory = false;
  const again = new StateStore(dir, () => {
    calledFactory = true;
    return factoryState(IMAGE);
  });
  t.false(calledFactory);
  t.deepEqual(again.state, store.state);
});

test('state: zeroize resets configuration and flag, keeps the image slots', (t) => {
  const dir = tempDir(t);
  const store = new StateStore(dir, () => factoryState(IMAGE));
  store.update((s) => {
    s.sztpEnabled = false;
    s.slots.b = { osName: 'Junos', osVersion: '24.2R1' };
    s.active = 'b';
    s.imageReboots = 2;
    s.boots = 5;
  });
  store.commit('<configuration><a/></configuration>');
  store.zeroize();
  t.true(store.state.sztpEnabled);
  t.deepEqual(store.state.config, { running: EMPTY_CONFIG, history: [] });
  t.is(store.state.imageReboots, 0);
  t.is(store.state.active, 'b');
  t.deepEqual(store.state.slots.b, { osName: 'Junos', osVersion: '24.2R1' });
  t.is(store.state.boots, 5);
  t.true((JSON.parse(readFileSync(store.path, 'utf8')) as PersistentState).sztpEnabled);
});

test('state: a corrupt state.json is DEVICE_STATE_INVALID naming the path', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'state.json'), '{"sztpEnabled": tru');
  const error = t.throws(() => new StateStore(dir, () => factoryState(IMAGE)), {
    code: 'DEVICE_STATE_INVALID',
  });
  t.true(error?.message.startsWith(join(dir, 'state.json')));
});

test('state: an empty active slot is DEVICE_STATE_INVALID', (t) => {
  const dir = tempDir(t);
  const store = new StateStore(dir, () => ({ ...factoryState(IMAGE), active: 'b' }));
  t.throws(() => store.running(), {
    code: 'DEVICE_STATE_INVALID',
    message: /active slot is empty/,
  });
});

// ---- events ----------------------------------------------------------------------------------

test('events: JSON lines out, events.jsonl appended, status.json replaced', (t) => {
  const dir = tempDir(t);
  const lines: string[] = [];
  const now = () => new Date('2030-01-02T03:04:05.000Z');
  const log = new EventLog({ node: 're0', dir, write: (line) => lines.push(line), now });
  log.setBoot(3);
  const first = log.emit('source-start', { source: 'dhcp4', round: 1 });
  log.emit('source-failed', { source: 'dhcp4' });
  t.deepEqual(first, {
    time: '2030-01-02T03:04:05.000Z',
    node: 're0',
    kind: 'source-start',
    source: 'dhcp4',
    round: 1,
  });
  t.is(lines.length, 2);
  t.true(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n')));
  t.deepEqual(JSON.parse(lines[0] as string), first);
  t.is(readFileSync(join(dir, 'events.jsonl'), 'utf8'), lines.join(''));
  t.deepEqual(
    log.events.map((e) => e.kind),
    ['source-start', 'source-failed'],
  );

  log.status('discovering', { round: 1 });
  log.status('provisioned');
  const status = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8'));
  t.deepEqual(status, {
    node: 're0',
    phase: 'provisioned',
    updated: '2030-01-02T03:04:05.000Z',
    boot: 3,
  });
  // status() is not an event.
  t.is(log.events.length, 2);
});

test('events: without a folder nothing is written to disk', (t) => {
  const lines: string[] = [];
  const log = new EventLog({ node: 're1', write: (line) => lines.push(line) });
  log.emit('hello');
  log.status('discovering');
  t.is(lines.length, 1);
  t.is(log.events[0]?.node, 're1');
});

// ---- device-config ---------------------------------------------------------------------------

test('device config: defaults fill what is not given', (t) => {
  const config = checkDeviceConfig({ serial: 'SN-0001', sources: ['dhcp4'] }, 'device.json');
  t.is(config.serial, 'SN-0001');
  t.is(config.node, 're0');
  t.is(config.profile, 'junos');
  t.is(config.maxRedirects, 10);
  t.deepEqual(config.sources, ['dhcp4']);
  t.deepEqual(config.clock, { mode: 'system', skewSeconds: 0 });
  t.deepEqual(config.factoryImage, { osName: 'Junos', osVersion: '23.4R1' });
  t.true(config.nonce);
  t.false(config.basicAuth);
  t.deepEqual(config.bootstrapTrustAnchors, []);
  const dns = checkDeviceConfig(
    { serial: 'x1', dns: { domain: 'lab.test', resolver: '192.0.2.53' } },
    'device.json',
  );
  t.deepEqual(dns.sources, ['usb', 'dns', 'dhcp4', 'dhcp6', 'well-known']);
});

test('device config: each bad field is refused with the file and field named', (t) => {
  const base = { serial: 'SN-0001', sources: ['dhcp4'] };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...base, colour: 'red' }, /^dev\.json: colour is not a known setting/],
    [{ ...base, serial: 'has space' }, /^dev\.json: serial must be/],
    [{ ...base, serial: '-leading' }, /^dev\.json: serial must be/],
    [{ ...base, serial: 'x'.repeat(64) }, /^dev\.json: serial must be/],
    [{ sources: ['dhcp4'] }, /^dev\.json: serial must be/],
    [{ ...base, profile: 'ios-xe' }, /^dev\.json: profile must be "junos" or "rfc8572"/],
    [{ ...base, keyAlgorithm: 'ed25519' }, /^dev\.json: keyAlgorithm must be/],
    [{ ...base, sources: ['dhcp4', 'floppy'] }, /^dev\.json: sources has "floppy"/],
    [{ ...base, maxRedirects: 11 }, /^dev\.json: maxRedirects must be a whole number from 0 to 10/],
    [{ ...base, maxRedirects: 2.5 }, /^dev\.json: maxRedirects/],
    [{ ...base, maxRedirects: -1 }, /^dev\.json: maxRedirects/],
    [{ ...base, sources: ['dns', 'dhcp4'] }, /^dev\.json: dns is needed when "dns" is a source/],
  ];
  for (const [raw, message] of cases) {
    t.throws(() => checkDeviceConfig(raw, 'dev.json'), { code: 'DEVICE_CONFIG_INVALID', message });
  }
  t.is(checkDeviceConfig({ ...base, serial: 'x'.repeat(63) }, 'dev.json').serial.length, 63);
});

// device-config.ts: the defaults list "dns" among the sources but carry no `dns` settings, so a
// device.json holding only the serial is refused ("dns is needed when dns is a source"). The
// defaults should pass their own check (leave "dns" out of the default sources, or skip it
// when no dns settings are given).
test('device config: a file with only the serial is accepted', (t) => {
  t.notThrows(() => checkDeviceConfig({ serial: 'SN-0001' }, 'device.json'));
});

// device-config.ts line 95: `{ ...DEFAULTS, ...raw }` is shallow, so a partial nested object
// drops the defaults beside it. `clock: { mode: 'system' }` leaves skewSeconds undefined; the
// Bootstrapper then computes `now + undefined * 1000` = Invalid Date, and every validity check
// (voucher created-on/expires-on, certificate periods) silently passes. Likewise a partial
// `retry` leaves maxMs undefined and the backoff becomes NaN. Nested settings should be merged
// with their defaults (or a missing member refused with its field named).
test('device config: a partial clock or retry keeps the other defaults', (t) => {
  const config = checkDeviceConfig(
    { serial: 'SN-0001', sources: ['dhcp4'], clock: { mode: 'system' }, retry: { initialMs: 5 } },
    'device.json',
  );
  t.is(config.clock.skewSeconds, 0);
  t.is(config.retry.maxMs, 8000);
});

// ---- reporter --------------------------------------------------------------------------------

const MUST = [
  'bootstrap-initiated',
  'parsing-error',
  'boot-image-error',
  'boot-image-installed-rebooting',
  'pre-script-error',
  'config-error',
  'post-script-error',
  'bootstrap-error',
  'bootstrap-complete',
];
// RFC 8572 allows these two at any level (MAY / SHOULD); the reporter sends them at minimal too.
const ANY_LEVEL = ['boot-image-mismatch', 'bootstrap-warning'];
const VERBOSE_ONLY = [
  'parsing-initiated',
  'parsing-warning',
  'parsing-complete',
  'boot-image-initiated',
  'boot-image-warning',
  'boot-image-complete',
  'pre-script-initiated',
  'pre-script-warning',
  'pre-script-complete',
  'config-initiated',
  'config-warning',
  'config-complete',
  'post-script-initiated',
  'post-script-warning',
  'post-script-complete',
  'informational',
];

interface SentReport {
  endpoint: Endpoint;
  path: string;
  options: RequestOptions;
  input: Record<string, unknown>;
}

function fakeServer(status = 204) {
  const sent: SentReport[] = [];
  const send = async (endpoint: Endpoint, path: string, options: RequestOptions) => {
    const parsed = JSON.parse(options.body ?? '{}') as Record<string, Record<string, unknown>>;
    sent.push({ endpoint, path, options, input: parsed['ietf-sztp-bootstrap-server:input'] ?? {} });
    const result: HttpResult = {
      status,
      contentType: '',
      body: Buffer.alloc(0),
      trusted: Boolean(options.trustAnchors),
      timing: { connectMs: 0, tlsMs: 0, totalMs: 0 },
      curlExit: 0,
    };
    return result;
  };
  return { sent, send };
}

const ENDPOINT: Endpoint = { host: 'bootstrap.sztp-lab.test', port: 8443, address: '192.0.2.10' };

function reporterFor(level: ReportingLevel, status = 204) {
  const server = fakeServer(status);
  const events = new EventLog({ node: 're0', write: () => {} });
  const reporter = new ProgressReporter(
    ENDPOINT,
    { trustAnchors: '/anchors.pem', basicUser: 'SN-0001' },
    level,
    events,
    server.send,
  );
  return { reporter, events, ...server };
}

test('reporter: minimal sends only the types required at every level', async (t) => {
  const { reporter, sent, events } = reporterFor('minimal');
  for (const type of [...VERBOSE_ONLY, ...MUST, ...ANY_LEVEL]) await reporter.report(type);
  t.deepEqual(
    sent.map((s) => s.input['progress-type']),
    [...MUST, ...ANY_LEVEL],
  );
  for (const type of VERBOSE_ONLY) t.false(reporter.wants(type), type);
  t.is(events.events.filter((e) => e.kind === 'progress-report').length, sent.length);
});

test('reporter: verbose sends every type, to the endpoint with its options', async (t) => {
  const { reporter, sent } = reporterFor('verbose');
  const all = [...MUST, ...ANY_LEVEL, ...VERBOSE_ONLY];
  for (const type of all) await reporter.report(type);
  t.deepEqual(
    sent.map((s) => s.input['progress-type']),
    all,
  );
  const first = sent[0] as SentReport;
  t.deepEqual(first.endpoint, ENDPOINT);
  t.is(first.path, `${OPERATIONS}:report-progress`);
  t.is(first.path, '/restconf/operations/ietf-sztp-bootstrap-server:report-progress');
  t.is(first.options.trustAnchors, '/anchors.pem');
  t.is(first.options.basicUser, 'SN-0001');
  t.is(first.options.headers?.['Content-Type'], 'application/yang-data+json');
  t.deepEqual(Object.keys(first.input), ['progress-type']);
});

test('reporter: the message is cut at 2000 characters (200 in the event)', async (t) => {
  const { reporter, sent, events } = reporterFor('minimal');
  await reporter.report('config-error', 'x'.repeat(5000));
  t.is(String(sent[0]?.input.message).length, 2000);
  t.is(String(events.events[0]?.message).length, 200);
  await reporter.report('bootstrap-error', '');
  t.false('message' in (sent[1]?.input ?? {}));
});

test('reporter: ssh-host-keys go in as the YANG list', async (t) => {
  const { reporter, sent } = reporterFor('minimal');
  await reporter.report('bootstrap-complete', 'done', {
    sshHostKeys: [
      { algorithm: 'ssh-ed25519', keyData: 'AAAAC3NzaC1lZDI1NTE5AAAAIA==' },
      { algorithm: 'ecdsa-sha2-nistp256', keyData: 'AAAAE2VjZHNh' },
    ],
  });
  t.deepEqual(sent[0]?.input, {
    'progress-type': 'bootstrap-complete',
    message: 'done',
    'ssh-host-keys': {
      'ssh-host-key': [
        { algorithm: 'ssh-ed25519', 'key-data': 'AAAAC3NzaC1lZDI1NTE5AAAAIA==' },
        { algorithm: 'ecdsa-sha2-nistp256', 'key-data': 'AAAAE2VjZHNh' },
      ],
    },
  });
  await reporter.report('bootstrap-complete', undefined, { sshHostKeys: [] });
  t.false('ssh-host-keys' in (sent[1]?.input ?? {}));
});

test('reporter: true only when the server answers 204', async (t) => {
  for (const [status, expected] of [
    [204, true],
    [200, false],
    [400, false],
    [500, false],
    [0, false],
  ] as const) {
    const { reporter } = reporterFor('minimal', status);
    t.is(await reporter.report('bootstrap-initiated'), expected, `status ${status}`);
  }
  // Not wanted at this level: false, and nothing is sent.
  const { reporter, sent } = reporterFor('minimal');
  t.false(await reporter.report('config-complete'));
  t.is(sent.length, 0);
});

// ---- tpm -------------------------------------------------------------------------------------

function tss2Pem(attributes: number, parent = 0x81000000): string {
  const pub = Buffer.alloc(14);
  pub.writeUInt16BE(12, 0); // TPM2B size
  pub.writeUInt16BE(0x0023, 2); // TPM_ALG_ECC
  pub.writeUInt16BE(0x000b, 4); // nameAlg sha256
  pub.writeUInt32BE(attributes, 6);
  const priv = Buffer.from('00045a5a5a5a', 'hex');
  const der = tlv(
    Tag.SEQUENCE,
    oid('2.23.133.10.1.3'),
    tlv(ctx(0), tlv(Tag.BOOLEAN, Uint8Array.of(0xff))),
    integer(parent),
    tlv(Tag.OCTET_STRING, pub),
    tlv(Tag.OCTET_STRING, priv),
  );
  const body = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN TSS2 PRIVATE KEY-----\n${body.trim()}\n-----END TSS2 PRIVATE KEY-----\n`;
}

test('wrappedKeyInfo reads parent, attributes and blobs of a TSS2 key', (t) => {
  const attributes = 0x2 | 0x10 | 0x20 | 0x40 | 0x40000; // fixedTPM|fixedParent|sdo|uwa|sign
  const info = wrappedKeyInfo(tss2Pem(attributes));
  t.is(info.parent, '0x81000000');
  t.is(info.attributes, attributes);
  t.is(info.publicArea.length, 14);
  t.is(info.publicArea.readUInt16BE(2), 0x0023);
  t.is(info.privateBlob.toString('hex'), '00045a5a5a5a');
  t.is(wrappedKeyInfo(tss2Pem(0, 0x40000001)).parent, '0x40000001');
});

test('wrappedKeyInfo refuses a PEM that is not a TSS2 key', (t) => {
  const other = tss2Pem(0).replaceAll('TSS2 PRIVATE KEY', 'PRIVATE KEY');
  t.throws(() => wrappedKeyInfo(other), {
    code: 'TPM_KEY_INVALID',
    message: /not a TSS2 PRIVATE KEY/,
  });
  const lacking = `-----BEGIN TSS2 PRIVATE KEY-----\n${Buffer.from(
    tlv(Tag.SEQUENCE, oid('2.23.133.10.1.3'), integer(1)),
  ).toString('base64')}\n-----END TSS2 PRIVATE KEY-----\n`;
  t.throws(() => wrappedKeyInfo(lacking), {
    code: 'TPM_KEY_INVALID',
    message: /missing parent, public or private part/,
  });
});

test('the clock source follows clock.json in the state folder, with one clock-set event per change', (t) => {
  const dir = tempDir(t);
  const config = checkDeviceConfig({ serial: 'SN-1', clock: { skewSeconds: 60 } }, 'test');
  const events = new EventLog({ node: 're0', write: () => {} });
  const clock = clockSource(config, dir, events);
  t.deepEqual(clock(), { mode: 'system', skewSeconds: 60 });
  t.deepEqual(events.events, []);
  writeFileSync(join(dir, CLOCK_FILE), JSON.stringify({ skewSeconds: -86_400 }));
  t.deepEqual(clock(), { mode: 'system', skewSeconds: -86_400 });
  t.deepEqual(clock(), { mode: 'system', skewSeconds: -86_400 });
  writeFileSync(join(dir, CLOCK_FILE), JSON.stringify({ mode: 'none' }));
  t.deepEqual(clock(), { mode: 'none', skewSeconds: 0 });
  const sets = events.events.filter((e) => e.kind === 'clock-set');
  t.deepEqual(
    sets.map((e) => [e.mode, e.skewSeconds]),
    [
      ['system', -86_400],
      ['none', 0],
    ],
  );
});

test('a bad clock.json is refused with its path and the field at fault', (t) => {
  const dir = tempDir(t);
  const config = checkDeviceConfig({ serial: 'SN-1' }, 'test');
  const clock = clockSource(config, dir, new EventLog({ node: 're0', write: () => {} }));
  const path = join(dir, CLOCK_FILE);
  writeFileSync(path, '{"skewSeconds": "soon"}');
  t.throws(clock, { message: `${path}: skewSeconds must be a number` });
  writeFileSync(path, '{"mode": "atomic"}');
  t.throws(clock, { message: `${path}: mode must be "system" or "none"` });
  writeFileSync(path, '{');
  t.throws(clock, { message: new RegExp(`^${path}: not JSON`) });
});

test('curlError keeps curl’s own reason, not the advice printed after it', (t) => {
  const stderr = [
    'curl: (60) SSL certificate problem: unable to get local issuer certificate',
    'More details here: https://curl.se/docs/sslcerts.html',
    '',
    'curl failed to verify the legitimacy of the server and therefore could not',
    'establish a secure connection to it. To learn more about this situation and',
    'how to fix it, please visit the web page mentioned above.',
    '',
  ].join('\n');
  t.is(
    curlError(stderr, 60),
    'curl: (60) SSL certificate problem: unable to get local issuer certificate',
  );
  t.is(curlError('some tool said this\nand then this\n', 7), 'and then this');
  t.is(curlError('', 28), 'curl exit 28');
});

test('clockSkewEnv shifts time for curl by libfaketime, and is empty with no skew or no library', (t) => {
  const lib = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
  t.deepEqual(clockSkewEnv(-31_536_000, lib), {
    LD_PRELOAD: lib,
    FAKETIME: '-31536000',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  });
  t.is(clockSkewEnv(172_800.4, lib).FAKETIME, '+172800');
  t.deepEqual(clockSkewEnv(0, lib), {});
  t.deepEqual(clockSkewEnv(3600, undefined), {});
});
