import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { serverRecord } from '../src/lab/prepare.ts';
import type { PkiManifest } from '../src/pki/lab-pki.ts';
import { loadScenario } from '../src/scenario/load.ts';
import { readCapturedOutput } from '../src/sztp/bootstrap-output.ts';
import { renderOutput } from '../src/sztp/server/responses.ts';
import { loadTopology } from '../src/topology/load.ts';
import type { DeviceNode } from '../src/topology/types.ts';

const FIELD = new URL('../../scenarios/field/jn-field-0042/', import.meta.url).pathname;
const OUTPUT = 'ietf-sztp-bootstrap-server:output';

function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sztp-lab-field-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const reply = () => JSON.parse(readFileSync(join(FIELD, 'reply.json'), 'utf8'));

test('captured data reads from a JSON reply, wrapped or not, and from a folder of .cms files', (t) => {
  const wrapped = readCapturedOutput(join(FIELD, 'reply.json'));
  const leaves = reply()[OUTPUT];
  t.deepEqual(wrapped.conveyedInformation, Buffer.from(leaves['conveyed-information'], 'base64'));
  t.deepEqual(wrapped.ownershipVoucher, Buffer.from(leaves['ownership-voucher'], 'base64'));

  const dir = scratch(t);
  writeFileSync(join(dir, 'bare.json'), JSON.stringify(leaves));
  t.deepEqual(readCapturedOutput(join(dir, 'bare.json')), wrapped, 'the output object alone');

  const folder = readCapturedOutput(join(FIELD, 'expired-voucher'));
  t.deepEqual(
    folder.conveyedInformation,
    readFileSync(join(FIELD, 'expired-voucher', 'conveyed-information.cms')),
  );
  t.truthy(folder.ownerCertificate);
  t.truthy(folder.ownershipVoucher);

  writeFileSync(
    join(dir, 'unsigned.json'),
    JSON.stringify({ [OUTPUT]: { 'conveyed-information': leaves['conveyed-information'] } }),
  );
  t.is(readCapturedOutput(join(dir, 'unsigned.json')).ownerCertificate, undefined);
});

test('an XML reply, as the lab server renders one, reads the same as the JSON one', (t) => {
  const dir = scratch(t);
  const captured = readCapturedOutput(join(FIELD, 'reply.json'));
  const xml = renderOutput({ ...captured, reportingLevel: 'verbose' }, 'xml');
  writeFileSync(join(dir, 'reply.xml'), `<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
  t.deepEqual(readCapturedOutput(join(dir, 'reply.xml')), captured);

  writeFileSync(join(dir, 'other.xml'), xml.replace('ietf-sztp-bootstrap-server"', 'other"'));
  t.throws(() => readCapturedOutput(join(dir, 'other.xml')), {
    message: /must have <output xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server">/,
  });
  writeFileSync(join(dir, 'broken.xml'), '<output xmlns="x">');
  t.throws(() => readCapturedOutput(join(dir, 'broken.xml')), {
    message: /broken\.xml: is not an XML get-bootstrapping-data reply/,
  });
});

test('bad captured data is refused with the file and what is wrong', (t) => {
  const dir = scratch(t);
  const leaves = reply()[OUTPUT];
  const write = (name: string, body: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
    return path;
  };
  const refused = (path: string, pattern: RegExp) => {
    const error = t.throws(() => readCapturedOutput(path));
    t.regex(error?.message ?? '', pattern);
    t.true(error?.message.includes(path), `${path} is named`);
  };
  refused(join(dir, 'missing.json'), /cannot read it \(ENOENT\)/);
  refused(write('broken.json', '{"'), /is not a JSON get-bootstrapping-data reply/);
  refused(write('list.json', [1]), /must hold an object/);
  refused(write('empty.json', { [OUTPUT]: {} }), /has no conveyed-information/);
  refused(
    write('half.json', {
      [OUTPUT]: {
        'conveyed-information': leaves['conveyed-information'],
        'ownership-voucher': leaves['ownership-voucher'],
      },
    }),
    /without the other/,
  );
  refused(
    write('text.json', { [OUTPUT]: { 'conveyed-information': 'not base64!' } }),
    /conveyed-information must be base64 text/,
  );
  refused(
    write('ascii.json', {
      [OUTPUT]: { 'conveyed-information': Buffer.from('hi').toString('base64') },
    }),
    /conveyed-information is not DER/,
  );
  const folder = join(dir, 'folder');
  mkdirSync(folder);
  refused(folder, /is a folder without conveyed-information\.cms/);
});

test('paths in a topology are relative to it; the records become the server wire form', async (t) => {
  const dir = scratch(t);
  cpSync(FIELD, join(dir, 'field'), { recursive: true });
  const topologyFile = join(dir, 'lab.yaml');
  writeFileSync(
    topologyFile,
    `name: field
nodes:
  dhcp: { kind: dhcp, bootstrap-servers: [bootstrap] }
  bootstrap: { kind: bootstrap-server }
  r1: { kind: device, serial: JN-FIELD-0042, voucher-trust-anchors: [field/masa-ca.pem] }
records:
  bootstrap:
    JN-FIELD-0042: { replay: field/reply.json }
`,
  );
  const topology = await loadTopology(topologyFile);
  t.deepEqual((topology.nodes.r1 as DeviceNode).voucherTrustAnchors, [
    join(dir, 'field/masa-ca.pem'),
  ]);
  const record = topology.records.bootstrap?.['JN-FIELD-0042'];
  t.is(record?.replay, join(dir, 'field/reply.json'));
  const wire = serverRecord(
    topology,
    { placements: new Map(), images: new Map(), pkiDir: dir, pki: {} as PkiManifest },
    record as NonNullable<typeof record>,
  );
  t.deepEqual(wire.replay, {
    conveyedInformation: reply()[OUTPUT]['conveyed-information'],
    ownerCertificate: reply()[OUTPUT]['owner-certificate'],
    ownershipVoucher: reply()[OUTPUT]['ownership-voucher'],
  });
  t.is(wire.onboarding, undefined, 'a replay carries no onboarding information of its own');

  // A missing file and an anchor that is no certificate are topology problems, named by path.
  writeFileSync(join(dir, 'not-a-cert.pem'), 'hello\n');
  writeFileSync(
    topologyFile,
    readFileSync(topologyFile, 'utf8')
      .replace('field/masa-ca.pem', 'not-a-cert.pem')
      .replace('field/reply.json', 'field/nope.json'),
  );
  const error = await t.throwsAsync(loadTopology(topologyFile));
  t.regex(
    error?.message ?? '',
    /nodes\.r1\.voucher-trust-anchors\[0\]: .*holds no PEM certificate/,
  );
  t.regex(
    error?.message ?? '',
    /records\.bootstrap\.JN-FIELD-0042\.replay: .*nope\.json: cannot read/,
  );
});

test('a scenario patch names files relative to the scenario, its topology relative to itself', async (t) => {
  const dir = scratch(t);
  mkdirSync(join(dir, 'topologies'));
  mkdirSync(join(dir, 'scenarios'));
  cpSync(FIELD, join(dir, 'scenarios', 'captured'), { recursive: true });
  writeFileSync(
    join(dir, 'topologies', 'lab.yaml'),
    `name: field
nodes:
  dhcp: { kind: dhcp, bootstrap-servers: [bootstrap] }
  bootstrap: { kind: bootstrap-server }
  r1: { kind: device, serial: SN-1 }
records:
  bootstrap:
    SN-1: { onboarding: { configuration: x } }
`,
  );
  writeFileSync(
    join(dir, 'scenarios', 'replay.yaml'),
    `title: replay
topology: ../topologies/lab.yaml
patch:
  nodes:
    r1: { serial: JN-FIELD-0042, voucher-trust-anchors: [captured/masa-ca.pem] }
  records:
    bootstrap:
      SN-1: null
      JN-FIELD-0042: { replay: captured/expired-voucher }
steps:
  - records: { server: bootstrap, serial: JN-FIELD-0042, record: { replay: captured/reply.json } }
`,
  );
  const scenario = await loadScenario(join(dir, 'scenarios', 'replay.yaml'));
  t.is(
    scenario.topology.records.bootstrap?.['JN-FIELD-0042']?.replay,
    join(dir, 'scenarios', 'captured', 'expired-voucher'),
  );
  t.deepEqual((scenario.topology.nodes.r1 as DeviceNode).voucherTrustAnchors, [
    join(dir, 'scenarios', 'captured', 'masa-ca.pem'),
  ]);
  const step = scenario.steps[0];
  t.is(
    step?.kind === 'records' ? step.record.replay : undefined,
    join(dir, 'scenarios', 'captured', 'reply.json'),
  );
});
