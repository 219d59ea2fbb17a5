import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { run } from '../src/common/exec.ts';
import { readCertDer } from '../src/pki/lab-signers.ts';
import { verifyArtifacts } from '../src/pki/verifier.ts';
import {
  asReplyDocument,
  curl,
  OP,
  type ServerLab,
  startServerLab,
  yanglint,
} from './fixtures/server/lab.ts';

const JSON_TYPE = 'application/yang-data+json';
const XML_TYPE = 'application/yang-data+xml';
const GBD = `${OP}:get-bootstrapping-data`;
const PROGRESS = `${OP}:report-progress`;
const NONCE = Buffer.alloc(16, 7).toString('base64');

let lab: ServerLab;
let scratch: string;

test.before(async () => {
  lab = await startServerLab();
  scratch = await mkdtemp(join(tmpdir(), 'sztp-server-openssl-'));
});

test.after.always(async () => {
  await lab?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const input = (members: Record<string, unknown> = {}) =>
  JSON.stringify({ 'ietf-sztp-bootstrap-server:input': members });

function jsonOutput(body: string): Record<string, string> {
  return JSON.parse(body)['ietf-sztp-bootstrap-server:output'];
}

function xmlLeaf(body: string, leaf: string): string | undefined {
  return new RegExp(`<${leaf}>([^<]*)</${leaf}>`).exec(body)?.[1];
}

/**
 * The content of a signed CMS artifact, by openssl. With `ca` (and the signer's chain in
 * `certs`, a degenerate SignedData in base64) the signature and chain are verified too.
 */
async function opensslContent(
  b64: string,
  name: string,
  verify?: { ca: string; certs?: string },
): Promise<string> {
  const file = join(scratch, `${name}.der`);
  await writeFile(file, Buffer.from(b64, 'base64'));
  const out = join(scratch, `${name}.out`);
  const args = ['cms', '-verify', '-inform', 'DER', '-in', file, '-out', out];
  if (!verify) args.push('-noverify', '-nosigs');
  else {
    args.push('-CAfile', verify.ca, '-purpose', 'any');
    if (verify.certs) {
      const der = join(scratch, `${name}-certs.der`);
      const pem = join(scratch, `${name}-certs.pem`);
      await writeFile(der, Buffer.from(verify.certs, 'base64'));
      await run('openssl', ['pkcs7', '-inform', 'DER', '-in', der, '-print_certs', '-out', pem]);
      // openssl 3.0 cms has no -untrusted: the owner chain joins the root in the CA bundle,
      // after openssl verify has checked that it chains to the root.
      await run('openssl', ['verify', '-CAfile', verify.ca, '-untrusted', pem, pem]);
      const bundle = join(scratch, `${name}-bundle.pem`);
      await writeFile(
        bundle,
        `${await readFile(verify.ca, 'utf8')}\n${await readFile(pem, 'utf8')}`,
      );
      args[args.indexOf(verify.ca)] = bundle;
      args.push('-certfile', pem);
    }
  }
  await run('openssl', args);
  return readFile(out, 'utf8');
}

/** The eContentType of a SignedData, as openssl asn1parse shows it (the third OBJECT). */
async function opensslContentType(b64: string, name: string): Promise<string> {
  const file = join(scratch, `${name}.der`);
  await writeFile(file, Buffer.from(b64, 'base64'));
  const printed = await run('openssl', ['asn1parse', '-inform', 'DER', '-in', file]);
  const objects = [...printed.stdout.matchAll(/OBJECT\s+:(\S+)/g)].map((m) => m[1]);
  return objects[2] ?? '';
}

/** openssl verification of signed conveyed information: the OC chain to the pinned cert. */
const owner = (out: Record<string, string>) => ({
  ca: lab.pki.pinnedDomainCert,
  certs: out['owner-certificate'] as string,
});
/** openssl verification of a voucher: the MASA chain it carries, to the voucher trust anchor. */
const masa = () => ({ ca: lab.pki.voucherTrustAnchor });

async function deviceTrust(serial: string, extra: Record<string, unknown> = {}) {
  return {
    voucherTrustAnchors: [await readCertDer(lab.pki.voucherTrustAnchor)],
    serialNumber: serial,
    now: new Date(),
    ...extra,
  };
}

async function admin(path: string, init: RequestInit = {}) {
  const res = await fetch(`${lab.admin}${path}`, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test.serial(
  'curl: signed onboarding information in JSON, valid for yanglint, openssl and the device verifier',
  async (t) => {
    const device = lab.devices['SN-0001'];
    const reply = await curl(lab.url + GBD, {
      device,
      trust: lab.pki.tlsTrustAnchor,
      body: input({ 'hw-model': 'mx204', 'os-name': 'Junos', 'os-version': '22.4R1' }),
      contentType: JSON_TYPE,
      accept: JSON_TYPE,
    });
    t.is(reply.status, 200, reply.body);
    t.is(reply.headers['content-type'], JSON_TYPE);
    t.is(await yanglint('reply', asReplyDocument(reply.body, 'json'), 'json'), undefined);
    const out = jsonOutput(reply.body);
    t.is(out['reporting-level'], 'verbose');
    t.truthy(out['owner-certificate']);
    t.truthy(out['ownership-voucher']);
    const ci = JSON.parse(
      await opensslContent(out['conveyed-information'] as string, 'ci', {
        ca: lab.pki.pinnedDomainCert,
        certs: out['owner-certificate'] as string,
      }),
    );
    t.truthy(ci['ietf-sztp-conveyed-info:onboarding-information']);
    t.is(
      await opensslContentType(out['conveyed-information'] as string, 'ci'),
      '1.2.840.113549.1.9.16.1.43',
    );
    const voucher = JSON.parse(
      await opensslContent(out['ownership-voucher'] as string, 'ov', {
        ca: lab.pki.voucherTrustAnchor,
      }),
    );
    t.is(voucher['ietf-voucher:voucher']['serial-number'], 'SN-0001');
    t.truthy(voucher['ietf-voucher:voucher']['expires-on']);
    const verified = await verifyArtifacts(
      {
        conveyedInformation: Buffer.from(out['conveyed-information'] as string, 'base64'),
        ownerCertificate: Buffer.from(out['owner-certificate'] as string, 'base64'),
        ownershipVoucher: Buffer.from(out['ownership-voucher'] as string, 'base64'),
      },
      await deviceTrust('SN-0001'),
    );
    t.is(verified.type, 'onboarding-information');
    t.true(verified.signed);
  },
);

test.serial('curl: XML in and out; the reply validates with yanglint', async (t) => {
  const reply = await curl(lab.url + GBD, {
    device: lab.devices['SN-0001'],
    trust: lab.pki.tlsTrustAnchor,
    body: `<input xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server"><os-name>Junos</os-name></input>`,
    contentType: XML_TYPE,
    accept: XML_TYPE,
  });
  t.is(reply.status, 200, reply.body);
  t.is(reply.headers['content-type'], XML_TYPE);
  t.is(await yanglint('reply', asReplyDocument(reply.body, 'xml'), 'xml'), undefined);
  t.truthy(xmlLeaf(reply.body, 'ownership-voucher'));
});

test.serial(
  'curl: no Accept answers in the request encoding; */* and a bodyless request get JSON',
  async (t) => {
    const device = lab.devices['SN-0002'];
    const trust = lab.pki.tlsTrustAnchor;
    const xml = await curl(lab.url + GBD, {
      device,
      trust,
      body: `<input xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server"/>`,
      contentType: 'application/yang.data+xml',
      args: ['-H', 'Accept:'],
    });
    t.is(xml.status, 200, xml.body);
    t.is(xml.headers['content-type'], XML_TYPE);
    const bare = await curl(lab.url + GBD, { device, trust, args: ['-X', 'POST'] });
    t.is(bare.status, 200, bare.body);
    t.is(bare.headers['content-type'], JSON_TYPE);
    t.is(jsonOutput(bare.body)['owner-certificate'], undefined, 'unsigned on a trusted connection');
    t.is(await yanglint('reply', asReplyDocument(bare.body, 'json'), 'json'), undefined);
  },
);

test.serial(
  'Appendix B: the untrusted call gets signed redirect back here with the trust anchor; the trusted one gets onboarding',
  async (t) => {
    const device = lab.devices['SN-0002'];
    const nonce = NONCE;
    const first = await curl(lab.url + GBD, {
      device,
      trust: 'blind',
      body: input({ 'signed-data-preferred': [null], nonce }),
      contentType: JSON_TYPE,
    });
    t.is(first.status, 200, first.body);
    t.is(await yanglint('reply', asReplyDocument(first.body, 'json'), 'json'), undefined);
    const out = jsonOutput(first.body);
    t.falsy(out['reporting-level']);
    const verified = await verifyArtifacts(
      {
        conveyedInformation: Buffer.from(out['conveyed-information'] as string, 'base64'),
        ownerCertificate: Buffer.from(out['owner-certificate'] as string, 'base64'),
        ownershipVoucher: Buffer.from(out['ownership-voucher'] as string, 'base64'),
      },
      await deviceTrust('SN-0002', { nonce: Buffer.from(nonce, 'base64'), requireSigned: true }),
    );
    t.is(verified.type, 'redirect-information');
    t.is(verified.voucher?.expiresOn, undefined, 'a nonce-bound voucher has no expiry');
    const servers = (
      verified.content['ietf-sztp-conveyed-info:redirect-information'] as Record<
        string,
        Record<string, unknown>[]
      >
    )['bootstrap-server'];
    const entry = servers?.[0] ?? {};
    t.is(entry.address, '127.0.0.1');
    t.is(entry.port, lab.server.port);
    // The trust anchor, extracted with openssl, is what the device now trusts the server by.
    const taFile = join(scratch, 'ta.der');
    await writeFile(taFile, Buffer.from(entry['trust-anchor'] as string, 'base64'));
    const pem = join(scratch, 'ta.pem');
    await run('openssl', ['pkcs7', '-inform', 'DER', '-in', taFile, '-print_certs', '-out', pem]);
    const second = await curl(lab.url + GBD, {
      device,
      trust: pem,
      body: input({ 'os-name': 'Junos' }),
      contentType: JSON_TYPE,
    });
    t.is(second.status, 200, second.body);
    const onboarding = jsonOutput(second.body);
    t.is(
      onboarding['ownership-voucher'],
      undefined,
      'unsigned onboarding on the trusted connection',
    );
    const ci = await opensslContent(onboarding['conveyed-information'] as string, 'ci2').catch(
      () => '',
    );
    t.is(ci, '', 'unsigned conveyed information is not SignedData');
    t.is(onboarding['reporting-level'], 'minimal');
  },
);

test.serial(
  'signed-data-preferred never gets unsigned onboarding information; XML conveyed info is labelled .42',
  async (t) => {
    const reply = await curl(lab.url + GBD, {
      device: lab.devices['SN-0003'],
      trust: 'blind',
      body: input({ 'signed-data-preferred': [null] }),
      contentType: JSON_TYPE,
    });
    t.is(reply.status, 200, reply.body);
    const out = jsonOutput(reply.body);
    t.truthy(out['ownership-voucher']);
    t.is(
      await opensslContentType(out['conveyed-information'] as string, 'ci3'),
      '1.2.840.113549.1.9.16.1.42',
    );
    const content = await opensslContent(out['conveyed-information'] as string, 'ci3', owner(out));
    t.regex(
      content,
      /<onboarding-information xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-conveyed-info">/,
    );
  },
);

test.serial(
  'redirect records: unsigned redirect information, with this server as a trust anchor entry',
  async (t) => {
    const reply = await curl(lab.url + GBD, {
      device: lab.devices['SN-0004'],
      trust: lab.pki.tlsTrustAnchor,
      body: input({ 'signed-data-preferred': [null] }),
      contentType: JSON_TYPE,
    });
    t.is(reply.status, 200, reply.body);
    const out = jsonOutput(reply.body);
    t.is(out['owner-certificate'], undefined);
    const verified = await verifyArtifacts(
      { conveyedInformation: Buffer.from(out['conveyed-information'] as string, 'base64') },
      await deviceTrust('SN-0004'),
    );
    t.is(verified.type, 'redirect-information');
    const servers =
      (
        verified.content['ietf-sztp-conveyed-info:redirect-information'] as Record<
          string,
          Record<string, unknown>[]
        >
      )['bootstrap-server'] ?? [];
    t.deepEqual(
      servers.map((s) => [s.address, s.port, typeof s['trust-anchor']]),
      [
        ['bootstrap.sztp-lab.test', 8443, 'string'],
        ['198.18.0.9', undefined, 'undefined'],
      ],
    );
  },
);

test.serial(
  'a voucher bound to a nonce needs one; with it the voucher carries the nonce',
  async (t) => {
    const device = lab.devices['SN-0005'];
    const trust = lab.pki.tlsTrustAnchor;
    const without = await curl(lab.url + GBD, {
      device,
      trust,
      body: input(),
      contentType: JSON_TYPE,
    });
    t.is(without.status, 400);
    t.is(JSON.parse(without.body)['ietf-restconf:errors'].error[0]['error-tag'], 'missing-element');
    const withNonce = await curl(lab.url + GBD, {
      device,
      trust,
      body: input({ nonce: NONCE }),
      contentType: JSON_TYPE,
    });
    t.is(withNonce.status, 200, withNonce.body);
    const voucher = JSON.parse(
      await opensslContent(
        jsonOutput(withNonce.body)['ownership-voucher'] as string,
        'ov5',
        masa(),
      ),
    );
    t.is(voucher['ietf-voucher:voucher'].nonce, NONCE);
  },
);

test.serial(
  'report-progress: 204, kept per device, host keys only with bootstrap-complete',
  async (t) => {
    const device = lab.devices['SN-0001'];
    const trust = lab.pki.tlsTrustAnchor;
    const initiated = await curl(lab.url + PROGRESS, {
      device,
      trust,
      body: input({ 'progress-type': 'bootstrap-initiated' }),
      contentType: JSON_TYPE,
    });
    t.is(initiated.status, 204);
    t.is(initiated.body, '');
    const keys = {
      'ssh-host-key': [{ algorithm: 'ssh-ed25519', 'key-data': 'AAAAC3NzaC1lZDI1NTE5AAAAIA==' }],
    };
    const wrong = await curl(lab.url + PROGRESS, {
      device,
      trust,
      body: input({ 'progress-type': 'config-error', 'ssh-host-keys': keys }),
      contentType: JSON_TYPE,
    });
    t.is(wrong.status, 400);
    t.is(JSON.parse(wrong.body)['ietf-restconf:errors'].error[0]['error-tag'], 'unknown-element');
    const complete = await curl(lab.url + PROGRESS, {
      device,
      trust,
      body: `<input xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server"><progress-type>bootstrap-complete</progress-type><message>done</message><ssh-host-keys><ssh-host-key><algorithm>ssh-ed25519</algorithm><key-data>AAAAC3NzaC1lZDI1NTE5AAAAIA==</key-data></ssh-host-key></ssh-host-keys></input>`,
      contentType: XML_TYPE,
    });
    t.is(complete.status, 204, complete.body);
    const progress = await admin('/devices/SN-0001/progress');
    const types = (progress.body.progress as { progressType: string }[]).map((p) => p.progressType);
    t.deepEqual(types.slice(-2), ['bootstrap-initiated', 'bootstrap-complete']);
    const last = (progress.body.progress as Record<string, unknown>[]).at(-1);
    t.deepEqual(last?.sshHostKeys, [
      { algorithm: 'ssh-ed25519', keyData: 'AAAAC3NzaC1lZDI1NTE5AAAAIA==' },
    ]);
  },
);

test.serial(
  'device authentication: unknown, foreign, mismatched Basic and missing password get 401',
  async (t) => {
    const trust = lab.pki.tlsTrustAnchor;
    const body = input();
    const cases: [string, Parameters<typeof curl>[1]][] = [
      ['no certificate', { trust, body, contentType: JSON_TYPE }],
      ['no record', { device: lab.stranger, trust, body, contentType: JSON_TYPE }],
      ['foreign manufacturer', { device: lab.foreign, trust, body, contentType: JSON_TYPE }],
      [
        'Basic names another serial',
        {
          device: lab.devices['SN-0001'],
          trust,
          body,
          contentType: JSON_TYPE,
          args: ['-u', 'SN-0002:x'],
        },
      ],
      [
        'password record without Basic',
        { device: lab.devices['SN-0006'], trust, body, contentType: JSON_TYPE },
      ],
      [
        'wrong password',
        {
          device: lab.devices['SN-0006'],
          trust,
          body,
          contentType: JSON_TYPE,
          args: ['-u', 'SN-0006:nope'],
        },
      ],
    ];
    for (const [name, options] of cases) {
      const reply = await curl(lab.url + GBD, options);
      t.is(reply.status, 401, name);
      const error = JSON.parse(reply.body)['ietf-restconf:errors'].error[0];
      t.is(error['error-tag'], 'access-denied', name);
      t.is(error['error-type'], 'protocol', name);
    }
    const same = await curl(lab.url + GBD, {
      device: lab.devices['SN-0001'],
      trust,
      body,
      contentType: JSON_TYPE,
      args: ['-u', 'SN-0001:anything'],
    });
    t.is(same.status, 200);
    const activation = await curl(lab.url + GBD, {
      device: lab.devices['SN-0006'],
      trust,
      body,
      contentType: JSON_TYPE,
      args: ['-u', 'SN-0006:act-123'],
    });
    t.is(activation.status, 200);
    const audit = await admin('/audit?serial=SN-0006&limit=3');
    t.deepEqual(
      (audit.body.entries as { status: number }[]).map((e) => e.status),
      [401, 401, 200],
    );
  },
);

test.serial('TLS 1.2 and TLS 1.3 both work', async (t) => {
  for (const version of [['--tlsv1.2', '--tls-max', '1.2'], ['--tlsv1.3']]) {
    const reply = await curl(lab.url + GBD, {
      device: lab.devices['SN-0002'],
      trust: lab.pki.tlsTrustAnchor,
      body: input(),
      contentType: JSON_TYPE,
      args: version,
    });
    t.is(reply.status, 200, version.join(' '));
  }
  const audit = await admin('/audit?serial=SN-0002&limit=2');
  t.deepEqual(
    (audit.body.entries as { tls: string }[]).map((e) => e.tls),
    ['TLSv1.2', 'TLSv1.3'],
  );
});

test.serial(
  '406 and 415 with ietf-restconf:errors bodies; 405 for GET; host-meta names /restconf',
  async (t) => {
    const device = lab.devices['SN-0001'];
    const trust = lab.pki.tlsTrustAnchor;
    const r406 = await curl(lab.url + GBD, {
      device,
      trust,
      body: input(),
      contentType: JSON_TYPE,
      accept: 'text/html',
    });
    t.is(r406.status, 406);
    t.is(JSON.parse(r406.body)['ietf-restconf:errors'].error[0]['error-tag'], 'invalid-value');
    const r415 = await curl(lab.url + GBD, {
      device,
      trust,
      body: input(),
      contentType: 'application/json',
      accept: XML_TYPE,
    });
    t.is(r415.status, 415);
    t.regex(r415.body, /<errors xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf">/);
    t.regex(r415.body, /<error-tag>invalid-value<\/error-tag>/);
    const r405 = await curl(lab.url + GBD, { device, trust });
    t.is(r405.status, 405);
    t.is(r405.headers.allow, 'POST');
    const meta = await curl(`${lab.url}/.well-known/host-meta`, { trust });
    t.is(meta.status, 200);
    t.regex(meta.body, /<Link rel='restconf' href='\/restconf'\/>/);
  },
);

test.serial('admin API: change a record at run time, then remove it', async (t) => {
  const trust = lab.pki.tlsTrustAnchor;
  const device = lab.devices['SN-0002'];
  const put = await admin('/devices/SN-0002', {
    method: 'PUT',
    body: JSON.stringify({
      redirect: [{ address: 'elsewhere.sztp-lab.test', port: 9443 }],
      signed: true,
    }),
  });
  t.is(put.status, 200, JSON.stringify(put.body));
  t.is(put.body.kind, 'redirect');
  const reply = await curl(lab.url + GBD, { device, trust, body: input(), contentType: JSON_TYPE });
  const out = jsonOutput(reply.body);
  t.truthy(out['ownership-voucher']);
  t.regex(
    await opensslContent(out['conveyed-information'] as string, 'ci-admin', owner(out)),
    /elsewhere\.sztp-lab\.test/,
  );
  const bad = await admin('/devices/SN-0002', {
    method: 'PUT',
    body: JSON.stringify({ onboarding: {}, redirect: [] }),
  });
  t.is(bad.status, 400);
  t.regex(String((bad.body.error as { message: string }).message), /exactly one of/);
  t.is((await admin('/devices/SN-0002', { method: 'DELETE' })).status, 200);
  const gone = await curl(lab.url + GBD, { device, trust, body: input(), contentType: JSON_TYPE });
  t.is(gone.status, 401);
  const restored = await admin('/devices/SN-0002', {
    method: 'PUT',
    body: JSON.stringify({
      onboarding: { configuration: 'AA==', 'configuration-handling': 'replace' },
    }),
  });
  t.is(restored.status, 200);
});

test.serial('a replay record is answered byte for byte and audited as replay', async (t) => {
  const captured = JSON.parse(
    await readFile(
      new URL('../../scenarios/field/jn-field-0042/reply.json', import.meta.url),
      'utf8',
    ),
  )['ietf-sztp-bootstrap-server:output'] as Record<string, string>;
  const device = lab.devices['SN-0002'];
  const replay = {
    conveyedInformation: captured['conveyed-information'],
    ownerCertificate: captured['owner-certificate'],
    ownershipVoucher: captured['ownership-voucher'],
  };
  const half = await admin('/devices/SN-0002', {
    method: 'PUT',
    body: JSON.stringify({ replay: { ...replay, ownershipVoucher: undefined } }),
  });
  t.is(half.status, 400, 'an owner certificate without a voucher is refused');
  t.regex(String((half.body.error as { message: string }).message), /both/);
  const put = await admin('/devices/SN-0002', {
    method: 'PUT',
    body: JSON.stringify({ replay, reportingLevel: 'verbose' }),
  });
  t.is(put.status, 200, JSON.stringify(put.body));
  t.is(put.body.kind, 'replay');
  const reply = await curl(lab.url + GBD, {
    device,
    trust: lab.pki.tlsTrustAnchor,
    body: input({ nonce: NONCE }),
    contentType: JSON_TYPE,
  });
  t.is(reply.status, 200);
  const out = jsonOutput(reply.body);
  for (const leaf of ['conveyed-information', 'owner-certificate', 'ownership-voucher'])
    t.is(
      out[leaf],
      captured[leaf],
      `${leaf} goes out as captured (no nonce binding, no re-signing)`,
    );
  t.is(out['reporting-level'], 'verbose');
  const audit = await admin('/audit?serial=SN-0002&limit=1');
  t.like((audit.body.entries as Record<string, unknown>[])[0], {
    rpc: 'get-bootstrapping-data',
    status: 200,
    outcome: 'replay',
    signed: true,
  });
  const restored = await admin('/devices/SN-0002', {
    method: 'PUT',
    body: JSON.stringify({
      onboarding: { configuration: 'AA==', 'configuration-handling': 'replace' },
    }),
  });
  t.is(restored.status, 200);
});

test.serial(
  "faults: status, delay, drop, corrupted signature, another device's voucher, wrong content type",
  async (t) => {
    const trust = lab.pki.tlsTrustAnchor;
    const device = lab.devices['SN-0001'];
    const ask = () => curl(lab.url + GBD, { device, trust, body: input(), contentType: JSON_TYPE });
    const arm = async (fault: Record<string, unknown>) => {
      const res = await admin('/faults', {
        method: 'POST',
        body: JSON.stringify({ serial: 'SN-0001', count: 1, ...fault }),
      });
      t.is(res.status, 201, JSON.stringify(res.body));
      return res.body.id as string;
    };

    await arm({ kind: 'status', status: 503 });
    const unavailable = await ask();
    t.is(unavailable.status, 503);
    t.is(
      JSON.parse(unavailable.body)['ietf-restconf:errors'].error[0]['error-tag'],
      'operation-failed',
    );

    await arm({ kind: 'delay', ms: 400 });
    const started = performance.now();
    t.is((await ask()).status, 200);
    t.true(performance.now() - started >= 380);

    await arm({ kind: 'drop' });
    await t.throwsAsync(ask(), { message: /Empty reply|reset|closed|SSL/i });

    await arm({ kind: 'corrupt-signature' });
    const corrupted = jsonOutput((await ask()).body);
    const error = await t.throwsAsync(
      verifyArtifacts(
        {
          conveyedInformation: Buffer.from(corrupted['conveyed-information'] as string, 'base64'),
          ownerCertificate: Buffer.from(corrupted['owner-certificate'] as string, 'base64'),
          ownershipVoucher: Buffer.from(corrupted['ownership-voucher'] as string, 'base64'),
        },
        await deviceTrust('SN-0001'),
      ),
    );
    t.is((error as { code?: string }).code, 'CONVEYED_INFO_SIGNATURE_INVALID');

    await arm({ kind: 'other-voucher', value: 'SN-0002' });
    const other = jsonOutput((await ask()).body);
    const voucher = JSON.parse(
      await opensslContent(other['ownership-voucher'] as string, 'ov-other', masa()),
    );
    t.is(voucher['ietf-voucher:voucher']['serial-number'], 'SN-0002');

    await arm({ kind: 'content-type', value: 'text/plain' });
    t.is((await ask()).headers['content-type'], 'text/plain');

    t.is((await ask()).status, 200, 'every fault was armed for one request');
    const faults = await admin('/faults');
    t.deepEqual(faults.body.faults, []);
    const audit = await admin('/audit?serial=SN-0001&limit=7');
    const entries = audit.body.entries as { status: number; outcome: string; faults?: string[] }[];
    t.deepEqual(
      entries.map((e) => e.outcome),
      ['error', 'onboarding', 'dropped', 'onboarding', 'onboarding', 'onboarding', 'onboarding'],
    );
    t.true(entries.slice(0, 6).every((e) => e.faults?.length === 1));
  },
);

test.serial('413 for a body over the limit, and the server keeps serving', async (t) => {
  const big = input({ message: 'x'.repeat(70_000) });
  const reply = await curl(lab.url + PROGRESS, {
    device: lab.devices['SN-0001'],
    trust: lab.pki.tlsTrustAnchor,
    body: big,
    contentType: JSON_TYPE,
  });
  t.is(reply.status, 413);
  t.is(JSON.parse(reply.body)['ietf-restconf:errors'].error[0]['error-tag'], 'too-big');
  const after = await curl(lab.url + GBD, {
    device: lab.devices['SN-0001'],
    trust: lab.pki.tlsTrustAnchor,
    body: input(),
    contentType: JSON_TYPE,
  });
  t.is(after.status, 200);
});

test.serial('progress reports, the audit log and run-time records survive a restart', async (t) => {
  const device = lab.devices['SN-0001'];
  const trust = lab.pki.tlsTrustAnchor;
  const sent = await curl(lab.url + PROGRESS, {
    device,
    trust,
    body: input({ 'progress-type': 'informational', message: 'before restart' }),
    contentType: JSON_TYPE,
  });
  t.is(sent.status, 204);
  await admin('/devices/SN-0004', {
    method: 'PUT',
    body: JSON.stringify({ redirect: [{ address: 'after.restart' }] }),
  });
  const before = await admin('/devices/SN-0001/progress');
  const auditBefore = (await admin('/audit?limit=100000')).body.entries as unknown[];
  await lab.restart();
  const after = await admin('/devices/SN-0001/progress');
  t.deepEqual(after.body.progress, before.body.progress);
  t.is(((await admin('/audit?limit=100000')).body.entries as unknown[]).length, auditBefore.length);
  const record = await admin('/devices/SN-0004');
  t.deepEqual(record.body.record, { redirect: [{ address: 'after.restart' }] });
  const reply = await curl(lab.url + GBD, { device, trust, body: input(), contentType: JSON_TYPE });
  t.is(reply.status, 200);
});

test.serial('a handshake the client refuses is kept in the audit log as tls-failed', async (t) => {
  // curl trusts only the voucher CA, which did not issue the server's certificate: it refuses
  // the certificate and sends an alert, and no request is made.
  const refused = await run(
    'curl',
    ['-sS', '--max-time', '10', '--cacert', lab.pki.voucherTrustAnchor, lab.url + GBD],
    { allowFailure: true },
  );
  t.is(refused.exitCode, 60, 'curl: peer certificate cannot be authenticated');
  const audit = await admin('/audit?limit=1');
  const [entry] = audit.body.entries as Record<string, unknown>[];
  t.like(entry, { outcome: 'tls-failed', status: 0, peer: '127.0.0.1' });
  t.is(entry?.errorMessage, 'tlsv1 alert unknown ca');
  t.is(entry?.rpc, undefined);
});
