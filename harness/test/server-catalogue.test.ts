import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import test from 'ava';
import { DeviceClient, restconfError } from './fixtures/server/client.ts';
import { OP, type ServerLab, startServerLab } from './fixtures/server/lab.ts';

/**
 * Malformed and hostile requests, each with the status and error-tag this server documents
 * (README, "Bootstrap server": status codes). Every answer carries an ietf-restconf:errors body.
 */

const JSON_TYPE = 'application/yang-data+json';
const XML_TYPE = 'application/yang-data+xml';
const GBD = `${OP}:get-bootstrapping-data`;
const PROGRESS = `${OP}:report-progress`;
const NS = 'urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server';

interface Case {
  name: string;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Which credentials: the known device (default), none, or one with no record. */
  as?: 'device' | 'anonymous' | 'stranger';
  status: number;
  tag: string;
}

const json = (input: unknown) => JSON.stringify({ 'ietf-sztp-bootstrap-server:input': input });
const xml = (inner: string) => `<input xmlns="${NS}">${inner}</input>`;
const b64 = (n: number) => Buffer.alloc(n, 1).toString('base64');
const J = { 'Content-Type': JSON_TYPE };
const X = { 'Content-Type': XML_TYPE };

const gbd = (
  name: string,
  body: string | Buffer,
  status: number,
  tag: string,
  headers = J,
): Case => ({
  name: `get-bootstrapping-data: ${name}`,
  body,
  headers,
  status,
  tag,
});
const progress = (name: string, body: string, status: number, tag: string, headers = J): Case => ({
  name: `report-progress: ${name}`,
  path: PROGRESS,
  body,
  headers,
  status,
  tag,
});

const CASES: Case[] = [
  gbd('body is not JSON', '{"ietf-sztp-bootstrap-server:input":', 400, 'malformed-message'),
  gbd('body is a JSON array', '[]', 400, 'malformed-message'),
  gbd('body is a JSON string', '"input"', 400, 'malformed-message'),
  gbd('body is JSON null', 'null', 400, 'malformed-message'),
  gbd('object without the input wrapper', '{}', 400, 'malformed-message'),
  gbd('unqualified wrapper', '{"input":{}}', 400, 'malformed-message'),
  gbd(
    'a second top-level member',
    '{"ietf-sztp-bootstrap-server:input":{},"x":1}',
    400,
    'malformed-message',
  ),
  gbd(
    'the wrapper holds an array',
    '{"ietf-sztp-bootstrap-server:input":[]}',
    400,
    'malformed-message',
  ),
  gbd(
    'the wrapper holds null',
    '{"ietf-sztp-bootstrap-server:input":null}',
    400,
    'malformed-message',
  ),
  gbd('an unknown leaf', json({ color: 'red' }), 400, 'unknown-element'),
  gbd(
    'an RFC 9646 node this server does not support',
    json({ 'ietf-sztp-csr:csr-support': {} }),
    400,
    'unknown-namespace',
  ),
  gbd('a nonce of 15 octets', json({ nonce: b64(15) }), 400, 'invalid-value'),
  gbd('a nonce of 33 octets', json({ nonce: b64(33) }), 400, 'invalid-value'),
  gbd('a nonce that is not base64', json({ nonce: 'not*base64*at*all*!!' }), 400, 'invalid-value'),
  gbd('a nonce that is a number', json({ nonce: 1234 }), 400, 'invalid-value'),
  gbd(
    'signed-data-preferred as true',
    json({ 'signed-data-preferred': true }),
    400,
    'invalid-value',
  ),
  gbd('signed-data-preferred as []', json({ 'signed-data-preferred': [] }), 400, 'invalid-value'),
  gbd('hw-model as a number', json({ 'hw-model': 42 }), 400, 'invalid-value'),
  gbd('hw-model with a NUL character', json({ 'hw-model': 'mx\u0000204' }), 400, 'invalid-value'),
  gbd('os-name as an object', json({ 'os-name': { a: 1 } }), 400, 'invalid-value'),
  gbd(
    'the same leaf qualified and unqualified',
    '{"ietf-sztp-bootstrap-server:input":{"hw-model":"a","ietf-sztp-bootstrap-server:hw-model":"b"}}',
    400,
    'bad-element',
  ),
  gbd(
    'a __proto__ member',
    '{"ietf-sztp-bootstrap-server:input":{"__proto__":{"x":1}}}',
    400,
    'unknown-element',
  ),
  gbd('a constructor member', json({ constructor: 'x' }), 400, 'unknown-element'),
  gbd(
    'JSON arrays nested 30000 deep',
    '['.repeat(30_000) + ']'.repeat(30_000),
    400,
    'malformed-message',
  ),
  gbd('bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 400, 'malformed-message'),
  gbd('trailing bytes after the JSON', `${json({})} x`, 400, 'malformed-message'),
  gbd(
    'XML that is not well-formed',
    `<input xmlns="${NS}"><os-name>x</input>`,
    400,
    'malformed-message',
    X,
  ),
  gbd(
    'XML with the RPC name as root',
    `<get-bootstrapping-data xmlns="${NS}"/>`,
    400,
    'malformed-message',
    X,
  ),
  gbd('XML root in another namespace', '<input xmlns="urn:example"/>', 400, 'malformed-message', X),
  gbd(
    'XML with a DTD (entity expansion)',
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><input/>',
    400,
    'malformed-message',
    X,
  ),
  gbd('XML with an unknown element', xml('<color>red</color>'), 400, 'unknown-element', X),
  gbd(
    'XML element in another namespace',
    xml('<os-name xmlns="urn:example">x</os-name>'),
    400,
    'unknown-namespace',
    X,
  ),
  gbd(
    'XML with a leaf twice',
    xml('<os-name>a</os-name><os-name>b</os-name>'),
    400,
    'bad-element',
    X,
  ),
  gbd(
    'XML empty leaf with text',
    xml('<signed-data-preferred>yes</signed-data-preferred>'),
    400,
    'invalid-value',
    X,
  ),
  gbd('XML attribute on a leaf', xml('<os-name kind="x">a</os-name>'), 400, 'unknown-element', X),
  gbd('XML nonce of 15 octets', xml(`<nonce>${b64(15)}</nonce>`), 400, 'invalid-value', X),
  gbd('XML leaf with a child element', xml('<os-name><a/></os-name>'), 400, 'invalid-value', X),
  gbd('XML text beside the leaves', xml('stray<os-name>a</os-name>'), 400, 'invalid-value', X),
  progress('no body', '', 400, 'missing-element'),
  progress('no progress-type', json({ message: 'hi' }), 400, 'missing-element'),
  progress(
    'an unknown progress-type',
    json({ 'progress-type': 'bootstrap-done' }),
    400,
    'invalid-value',
  ),
  progress(
    'ssh-host-keys with config-error',
    json({ 'progress-type': 'config-error', 'ssh-host-keys': { 'ssh-host-key': [] } }),
    400,
    'unknown-element',
  ),
  progress(
    'trust-anchor-certs with bootstrap-initiated',
    json({
      'progress-type': 'bootstrap-initiated',
      'trust-anchor-certs': { 'trust-anchor-cert': [b64(8)] },
    }),
    400,
    'unknown-element',
  ),
  progress(
    'an ssh-host-key without key-data',
    json({
      'progress-type': 'bootstrap-complete',
      'ssh-host-keys': { 'ssh-host-key': [{ algorithm: 'ssh-ed25519' }] },
    }),
    400,
    'missing-element',
  ),
  progress(
    'ssh-host-key as an object, not a list',
    json({
      'progress-type': 'bootstrap-complete',
      'ssh-host-keys': { 'ssh-host-key': { algorithm: 'a', 'key-data': 'AA==' } },
    }),
    400,
    'invalid-value',
  ),
  progress(
    'key-data that is not base64',
    json({
      'progress-type': 'bootstrap-complete',
      'ssh-host-keys': { 'ssh-host-key': [{ algorithm: 'a', 'key-data': '%%' }] },
    }),
    400,
    'invalid-value',
  ),
  progress(
    'message as a number',
    json({ 'progress-type': 'informational', message: 7 }),
    400,
    'invalid-value',
  ),
  progress('XML progress-type missing', xml('<message>x</message>'), 400, 'missing-element', X),
  {
    name: 'Content-Type text/plain',
    body: json({}),
    headers: { 'Content-Type': 'text/plain' },
    status: 415,
    tag: 'invalid-value',
  },
  {
    name: 'Content-Type application/json',
    body: json({}),
    headers: { 'Content-Type': 'application/json' },
    status: 415,
    tag: 'invalid-value',
  },
  {
    name: 'a body without Content-Type',
    body: json({}),
    headers: {},
    status: 415,
    tag: 'invalid-value',
  },
  {
    name: 'Accept text/html',
    body: json({}),
    headers: { ...J, Accept: 'text/html' },
    status: 406,
    tag: 'invalid-value',
  },
  {
    name: 'Accept with both YANG types at q=0',
    body: json({}),
    headers: { ...J, Accept: `${JSON_TYPE};q=0, ${XML_TYPE};q=0` },
    status: 406,
    tag: 'invalid-value',
  },
  { name: 'GET on an operation', method: 'GET', status: 405, tag: 'operation-not-supported' },
  {
    name: 'PUT on an operation',
    method: 'PUT',
    body: json({}),
    headers: J,
    status: 405,
    tag: 'operation-not-supported',
  },
  { name: 'DELETE on an operation', method: 'DELETE', status: 405, tag: 'operation-not-supported' },
  {
    name: 'an unknown operation',
    path: `${OP}:get-everything`,
    body: json({}),
    headers: J,
    status: 404,
    tag: 'invalid-value',
  },
  {
    name: 'an operation of another module',
    path: '/restconf/operations/ietf-netconf:get',
    status: 404,
    tag: 'invalid-value',
  },
  {
    name: 'the datastore resource',
    path: '/restconf/data',
    method: 'GET',
    status: 404,
    tag: 'invalid-value',
  },
  {
    name: 'a dot-dot path',
    path: '/restconf/operations/../../etc/passwd',
    method: 'GET',
    status: 404,
    tag: 'invalid-value',
  },
  {
    name: 'POST on host-meta',
    path: '/.well-known/host-meta',
    body: 'x',
    headers: J,
    status: 405,
    tag: 'operation-not-supported',
  },
  {
    name: 'a body over the size limit',
    body: json({ 'hw-model': 'x'.repeat(70_000) }),
    headers: J,
    status: 413,
    tag: 'too-big',
  },
  {
    name: 'no client certificate',
    as: 'anonymous',
    body: json({}),
    headers: J,
    status: 401,
    tag: 'access-denied',
  },
  {
    name: 'a device with no record',
    as: 'stranger',
    body: json({}),
    headers: J,
    status: 401,
    tag: 'access-denied',
  },
  {
    name: 'an Authorization header that is not Basic',
    body: json({}),
    headers: { ...J, Authorization: 'Bearer abc' },
    status: 401,
    tag: 'access-denied',
  },
  {
    name: 'Basic credentials without a colon',
    body: json({}),
    headers: { ...J, Authorization: `Basic ${Buffer.from('SN-0001').toString('base64')}` },
    status: 401,
    tag: 'access-denied',
  },
];

let lab: ServerLab;
let clients: Record<NonNullable<Case['as']>, DeviceClient>;

test.before(async () => {
  lab = await startServerLab();
  const ta = lab.pki.tlsTrustAnchor;
  clients = {
    device: new DeviceClient(lab.url, ta, lab.devices['SN-0001']),
    anonymous: new DeviceClient(lab.url, ta),
    stranger: new DeviceClient(lab.url, ta, lab.stranger),
  };
});

test.after.always(async () => {
  for (const client of Object.values(clients ?? {})) client.close();
  await lab?.close();
});

test('the catalogue has at least 40 cases with distinct names', (t) => {
  t.true(CASES.length >= 40, `${CASES.length} cases`);
  t.is(new Set(CASES.map((c) => c.name)).size, CASES.length);
});

for (const c of CASES) {
  test.serial(`hostile: ${c.name} -> ${c.status} ${c.tag}`, async (t) => {
    const reply = await clients[c.as ?? 'device'].send({
      method: c.method ?? 'POST',
      path: c.path ?? GBD,
      ...(c.headers ? { headers: c.headers } : {}),
      ...(c.body !== undefined ? { body: c.body } : {}),
    });
    t.is(reply.status, c.status, reply.body.slice(0, 300));
    const error = restconfError(reply.body);
    t.truthy(error, `an ietf-restconf:errors body: ${reply.body.slice(0, 200)}`);
    t.is(error?.tag, c.tag);
    t.true(['transport', 'rpc', 'protocol', 'application'].includes(error?.type ?? ''));
    const expectXml = c.headers?.['Content-Type'] === XML_TYPE && c.status !== 406;
    t.is(reply.headers['content-type'], expectXml ? XML_TYPE : JSON_TYPE);
  });
}

test.serial(
  'malformed HTTP on the TLS connection gets a 4xx, and the server keeps serving',
  async (t) => {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1',
        port: lab.server.port,
        ca: readFileSync(lab.pki.tlsTrustAnchor),
        cert: readFileSync(lab.devices['SN-0001']?.cert ?? ''),
        key: readFileSync(lab.devices['SN-0001']?.key ?? ''),
        servername: 'localhost',
      });
      let text = '';
      socket.on('secureConnect', () =>
        socket.write('POST /restconf HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n'),
      );
      socket.on('data', (d) => {
        text += d.toString();
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    t.regex(raw, /^HTTP\/1\.1 4\d\d /);
    const ok = await clients.device.send({ path: GBD, headers: J, body: json({}) });
    t.is(ok.status, 200);
  },
);

test.serial('after the whole catalogue the audit log has no 5xx', async (t) => {
  const res = await fetch(`${lab.admin}/audit?limit=100000`);
  const { entries } = (await res.json()) as { entries: { status: number }[] };
  t.true(entries.length > 0);
  t.deepEqual(
    entries.filter((e) => e.status >= 500),
    [],
  );
});
