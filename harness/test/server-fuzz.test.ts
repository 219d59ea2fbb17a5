import test from 'ava';
import fc from 'fast-check';
import { PROGRESS_TYPES } from '../src/sztp/server/rpc-input.ts';
import { DeviceClient, type Reply, restconfError } from './fixtures/server/client.ts';
import { OP, type ServerLab, startServerLab, yanglint } from './fixtures/server/lab.ts';

/**
 * Property-based fuzzing of the RPC input handling: thousands of generated bodies against an
 * in-process server. No answer may be a 5xx, every error carries an ietf-restconf:errors body,
 * and for a sample of JSON inputs the server's verdict must equal yanglint's.
 */

const JSON_TYPE = 'application/yang-data+json';
const XML_TYPE = 'application/yang-data+xml';
const NS = 'urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server';
const RPC = { gbd: 'get-bootstrapping-data', progress: 'report-progress' } as const;
const SEED = Number(process.env.SZTP_FUZZ_SEED ?? 8572);

let lab: ServerLab;
let client: DeviceClient;
let sent = 0;

test.before(async () => {
  lab = await startServerLab();
  client = new DeviceClient(lab.url, lab.pki.tlsTrustAnchor, lab.devices['SN-0002']);
});

test.after.always(async () => {
  client?.close();
  await lab?.close();
});

async function post(rpc: string, body: string | Uint8Array, contentType: string): Promise<Reply> {
  sent++;
  return client.send({
    path: `${OP}:${rpc}`,
    headers: { 'Content-Type': contentType },
    body: typeof body === 'string' ? body : Buffer.from(body),
  });
}

/** The invariant for every answer: no 5xx; success is 200/204; errors are RESTCONF errors. */
function wellBehaved(reply: Reply): boolean {
  if (reply.status >= 500 || reply.status === 0) return false;
  if (reply.status === 200 || reply.status === 204) return true;
  return restconfError(reply.body) !== undefined;
}

const base64Of = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b).toString('base64'));

/** Values that may or may not fit a leaf: right types, wrong types, edge lengths. */
const leafValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant([null]),
  fc.constant([]),
  base64Of(0, 40),
  fc.constantFrom('AAAA', '====', 'A===', 'not base64'),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
);

const gbdKey = fc.constantFrom(
  'signed-data-preferred',
  'hw-model',
  'os-name',
  'os-version',
  'nonce',
  'nonce',
  'color',
  'ietf-sztp-bootstrap-server:os-name',
  'ietf-sztp-csr:csr-support',
  '__proto__',
);

/** Inputs to cross-check with yanglint: printable strings and known-ish names only. */
const gbdCheckable = fc.dictionary(
  fc.constantFrom('signed-data-preferred', 'hw-model', 'os-name', 'os-version', 'nonce', 'color'),
  fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.integer({ min: -5, max: 5 }),
    fc.boolean(),
    fc.constant([null]),
    fc.constant([]),
    base64Of(0, 40),
    fc.constant('!!notbase64'),
  ),
  { maxKeys: 4 },
);

const sshKey = fc.record(
  {
    algorithm: fc.oneof(fc.constant('ssh-ed25519'), leafValue),
    'key-data': fc.oneof(base64Of(1, 40), leafValue),
  },
  { requiredKeys: [] },
);

const progressInput = fc.record(
  {
    'progress-type': fc.oneof(
      fc.constantFrom(...PROGRESS_TYPES),
      fc.constant('bootstrap-complete'),
      leafValue,
    ),
    message: fc.oneof(fc.string({ maxLength: 40 }), leafValue),
    'ssh-host-keys': fc.oneof(
      fc.record({ 'ssh-host-key': fc.array(sshKey, { maxLength: 3 }) }),
      leafValue,
    ),
    'trust-anchor-certs': fc.oneof(
      fc.record({
        'trust-anchor-cert': fc.array(fc.oneof(base64Of(1, 30), leafValue), { maxLength: 3 }),
      }),
      leafValue,
    ),
    extra: leafValue,
  },
  { requiredKeys: [] },
);

const progressCheckable = fc.record(
  {
    'progress-type': fc.constantFrom(
      'bootstrap-complete',
      'config-error',
      'informational',
      'no-such-type',
    ),
    message: fc.oneof(fc.string({ maxLength: 10 }), fc.integer()),
    'ssh-host-keys': fc.record({
      'ssh-host-key': fc.array(
        fc.record(
          {
            algorithm: fc.constantFrom('ssh-ed25519', 'ssh-rsa'),
            'key-data': fc.oneof(base64Of(1, 20), fc.constant('%%')),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 2 },
      ),
    }),
    'trust-anchor-certs': fc.record({
      'trust-anchor-cert': fc.array(base64Of(1, 20), { maxLength: 2 }),
    }),
  },
  { requiredKeys: [] },
);

const wrap = (input: unknown) => JSON.stringify({ 'ietf-sztp-bootstrap-server:input': input });

/** Renders a JSON-shaped value as XML children, lists as repeated elements. */
function toXml(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value ?? '');
  if (Array.isArray(value)) return value.map(toXml).join('');
  return Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => {
      const name = /^[A-Za-z_][\w.-]*$/.test(k) ? k : 'x';
      const items = Array.isArray(v) && v.length > 0 && v[0] !== null ? v : [v];
      return items.map((item) => `<${name}>${toXml(item)}</${name}>`).join('');
    })
    .join('');
}

const runs = (n: number) => ({ numRuns: n, seed: SEED, endOnFailure: true });

test.serial('fuzz: structured get-bootstrapping-data inputs, JSON', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.dictionary(gbdKey, leafValue, { maxKeys: 5 }), async (input) =>
      wellBehaved(await post(RPC.gbd, wrap(input), JSON_TYPE)),
    ),
    runs(1200),
  );
  t.pass();
});

test.serial('fuzz: structured report-progress inputs, JSON and XML', async (t) => {
  await fc.assert(
    fc.asyncProperty(progressInput, fc.boolean(), async (input, asXml) => {
      const body = asXml ? `<input xmlns="${NS}">${toXml(input)}</input>` : wrap(input);
      const reply = await post(RPC.progress, body, asXml ? XML_TYPE : JSON_TYPE);
      return wellBehaved(reply) && reply.status !== 200;
    }),
    runs(1200),
  );
  t.pass();
});

test.serial(
  'fuzz: arbitrary JSON values, strings and bytes under every content type',
  async (t) => {
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc.jsonValue({ maxDepth: 4 }).map(wrap),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.uint8Array({ maxLength: 200 }),
      fc.string({ maxLength: 100 }).map((s) => `<input xmlns="${NS}">${s}</input>`),
    );
    const type = fc.constantFrom(
      JSON_TYPE,
      XML_TYPE,
      'application/yang.data+xml',
      'text/plain',
      'application/yang-data+json; charset=utf-8',
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(RPC.gbd, RPC.progress), body, type, async (rpc, b, ct) =>
        wellBehaved(await post(rpc, b, ct)),
      ),
      runs(1200),
    );
    t.pass();
  },
);

test.serial('cross-check: the server and yanglint agree on JSON inputs of both RPCs', async (t) => {
  const disagreements: string[] = [];
  const seen = { valid: 0, invalid: 0 };
  const check = async (rpc: string, input: unknown) => {
    const reply = await post(rpc, wrap(input), JSON_TYPE);
    const serverSaysValid = reply.status === 200 || reply.status === 204;
    seen[serverSaysValid ? 'valid' : 'invalid']++;
    const verdict = await yanglint(
      'rpc',
      JSON.stringify({ [`ietf-sztp-bootstrap-server:${rpc}`]: input }),
      'json',
    );
    if (serverSaysValid !== (verdict === undefined)) {
      disagreements.push(
        `${rpc} ${JSON.stringify(input)}: server ${reply.status}, yanglint ${verdict ?? 'valid'}`,
      );
    }
  };
  await fc.assert(
    fc.asyncProperty(gbdCheckable, (input) => check(RPC.gbd, input)),
    runs(120),
  );
  await fc.assert(
    fc.asyncProperty(progressCheckable, (input) => check(RPC.progress, input)),
    runs(120),
  );
  t.deepEqual(disagreements, []);
  t.true(seen.valid > 20 && seen.invalid > 20, JSON.stringify(seen));
});

test.serial(
  'after fuzzing: thousands sent, no 5xx in the audit log, the server still serves',
  async (t) => {
    t.true(sent >= 3000, `${sent} requests`);
    const res = await fetch(`${lab.admin}/audit?limit=1000000`);
    const { entries } = (await res.json()) as { entries: { status: number }[] };
    t.true(entries.length >= 3000);
    t.deepEqual(
      entries.filter((e) => e.status >= 500 || e.status === 0),
      [],
    );
    const ok = await post(RPC.gbd, wrap({}), JSON_TYPE);
    t.is(ok.status, 200);
  },
);
