import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { run } from '../src/common/exec.ts';
import { createArtifacts } from '../src/pki/artifacts.ts';
import { contentInfo } from '../src/pki/cms-build.ts';
import { readContentInfo } from '../src/pki/cms-read.ts';
import { type PkiCode, PkiError } from '../src/pki/codes.ts';
import { bytesOf } from '../src/pki/der.ts';
import { ownerChainCrls } from '../src/pki/lab-crls.ts';
import { initPki } from '../src/pki/lab-pki.ts';
import { readCertDer } from '../src/pki/lab-signers.ts';
import { Oid } from '../src/pki/oids.ts';
import { crlsToPem } from '../src/pki/pem.ts';
import { type ArtifactSet, verifyArtifacts } from '../src/pki/verifier.ts';
import { encodeVoucher } from '../src/pki/voucher.ts';
import { makeDevice, makeLab, type TestDevice, type TestLab } from './fixtures/pki/lab.ts';

let lab: TestLab;
let rsaDevice: TestDevice;
let n = 0;

const ossl = (...args: string[]) => run('openssl', args);
const file = (name: string) => join(lab.dir, `${n++}-${name}`);

async function save(name: string, bytes: Uint8Array | string): Promise<string> {
  const path = file(name);
  await writeFile(path, bytes);
  return path;
}

async function cat(name: string, paths: string[]): Promise<string> {
  return save(name, (await Promise.all(paths.map((p) => readFile(p, 'utf8')))).join(''));
}

test.before(async () => {
  lab = await makeLab('ecdsa-p256', 'root');
  rsaDevice = await makeDevice(lab.pki, lab.dir, 'SN-RSA', 'rsa-2048');
});

test.after.always(async () => {
  await lab?.cleanup();
});

// ---- ours, checked by openssl -------------------------------------------------------------

test('our voucher verifies with openssl cms -verify to the MASA trust anchor', async (t) => {
  const set = await createArtifacts(lab.pki, {
    input: lab.ctx.input,
    serial: 'SN-0001',
    sign: true,
  });
  const ov = await save('ov.cms', set.ownershipVoucher as Uint8Array);
  const out = file('voucher.json');
  await ossl(
    'cms',
    '-verify',
    '-inform',
    'DER',
    '-in',
    ov,
    '-CAfile',
    lab.pki.voucherTrustAnchor,
    '-purpose',
    'any',
    '-out',
    out,
  );
  const voucher = JSON.parse(await readFile(out, 'utf8'))['ietf-voucher:voucher'];
  t.is(voucher['serial-number'], 'SN-0001');
  const pinned = await readCertDer(lab.pki.pinnedDomainCert);
  t.is(voucher['pinned-domain-cert'], Buffer.from(pinned).toString('base64'));
  const printed = await ossl('cms', '-cmsout', '-print', '-inform', 'DER', '-in', ov);
  t.regex(printed.stdout, /eContentType: .*\(?1\.2\.840\.113549\.1\.9\.16\.1\.40\)?/);
});

test('our owner certificate prints with openssl pkcs7 and path-validates with openssl verify', async (t) => {
  const set = await createArtifacts(lab.pki, {
    input: lab.ctx.input,
    serial: 'SN-0001',
    sign: true,
  });
  const oc = await save('oc.cms', set.ownerCertificate as Uint8Array);
  const printed = await ossl('pkcs7', '-inform', 'DER', '-in', oc, '-print_certs');
  t.regex(printed.stdout, /subject=.*Owner Signing Certificate/);
  t.regex(printed.stdout, /subject=.*Owner Issuing CA/);
  const certs =
    printed.stdout.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  t.is(certs.length, 2);
  const leaf = await save('leaf.pem', `${certs[0]}\n`);
  const rest = await save('rest.pem', `${certs.slice(1).join('\n')}\n`);
  const ok = await ossl(
    'verify',
    '-partial_chain',
    '-CAfile',
    lab.pki.pinnedDomainCert,
    '-untrusted',
    rest,
    leaf,
  );
  t.regex(ok.stdout, /OK/);
  const evilPinned = lab.evil.pinnedDomainCert;
  const bad = await run(
    'openssl',
    ['verify', '-partial_chain', '-CAfile', evilPinned, '-untrusted', rest, leaf],
    { allowFailure: true },
  );
  t.not(bad.exitCode, 0, 'openssl agrees that another owner cannot be the anchor');
});

for (const encoding of ['json', 'xml'] as const) {
  test(`our signed ${encoding} conveyed information verifies with openssl cms -verify`, async (t) => {
    const set = await createArtifacts(lab.pki, {
      input: lab.ctx.input,
      serial: 'SN-0001',
      sign: true,
      encoding,
    });
    const ci = await save('ci.cms', set.conveyedInformation);
    const anchors = await cat('anchors.pem', [lab.pki.pinnedDomainCert, ...lab.pki.ownerChain]);
    const out = file('ci.out');
    await ossl(
      'cms',
      '-verify',
      '-inform',
      'DER',
      '-in',
      ci,
      '-certfile',
      lab.pki.ownerCertificate,
      '-CAfile',
      anchors,
      '-purpose',
      'any',
      '-out',
      out,
    );
    const text = await readFile(out, 'utf8');
    t.true(encoding === 'json' ? text.startsWith('{') : text.startsWith('<?xml'));
    t.true(text.includes('onboarding-information'));
  });
}

for (const who of ['ecdh', 'rsa'] as const) {
  test(`our ${who} encrypted conveyed information decrypts with openssl cms -decrypt, plain and signed`, async (t) => {
    const dev = who === 'rsa' ? rsaDevice : lab.device;
    const plain = await createArtifacts(lab.pki, {
      input: lab.ctx.input,
      serial: dev.serial,
      sign: false,
      encryptTo: dev.idevid,
    });
    const out = file('plain.out');
    await ossl(
      'cms',
      '-decrypt',
      '-inform',
      'DER',
      '-in',
      await save('enc.cms', plain.conveyedInformation),
      '-recip',
      dev.certPath,
      '-inkey',
      dev.keyPath,
      '-out',
      out,
    );
    t.deepEqual(
      JSON.parse(await readFile(out, 'utf8')),
      JSON.parse(Buffer.from(lab.ctx.input).toString()),
    );

    const signed = await createArtifacts(lab.pki, {
      input: lab.ctx.input,
      serial: dev.serial,
      sign: true,
      encryptTo: dev.idevid,
    });
    const inner = file('inner.der');
    await ossl(
      'cms',
      '-decrypt',
      '-inform',
      'DER',
      '-in',
      await save('senc.cms', signed.conveyedInformation),
      '-recip',
      dev.certPath,
      '-inkey',
      dev.keyPath,
      '-out',
      inner,
    );
    // RFC 5652 nests the bare SignedData; openssl's -verify wants it inside a ContentInfo.
    const wrapped = await save('wrapped.cms', contentInfo(Oid.signedData, await readFile(inner)));
    const anchors = await cat('anchors.pem', [lab.pki.pinnedDomainCert, ...lab.pki.ownerChain]);
    const ok = await ossl(
      'cms',
      '-verify',
      '-inform',
      'DER',
      '-in',
      wrapped,
      '-certfile',
      lab.pki.ownerCertificate,
      '-CAfile',
      anchors,
      '-purpose',
      'any',
      '-out',
      file('x'),
    );
    t.regex(ok.stderr, /Verification successful/);
  });
}

async function opensslCrlVerify(crl: string, issuer: string) {
  return run('openssl', ['crl', '-in', crl, '-CAfile', issuer, '-noout'], { allowFailure: true });
}

async function opensslVerifyCrls(crls: string, leaf = lab.pki.ownerCertificate) {
  const untrusted = await cat('untrusted.pem', lab.pki.ownerChain);
  return run(
    'openssl',
    [
      'verify',
      '-crl_check_all',
      '-CRLfile',
      crls,
      '-CAfile',
      lab.pki.pinnedDomainCert,
      '-untrusted',
      untrusted,
      leaf,
    ],
    { allowFailure: true },
  );
}

test('our CRLs verify with openssl crl -CAfile, and openssl verify -crl_check_all agrees with us', async (t) => {
  const owner = await readCertDer(lab.pki.ownerCertificate);
  const times = { thisUpdate: new Date(lab.ctx.now.getTime() - 3_600_000) };
  const good = await ownerChainCrls(lab.pki, times);
  const revoked = await ownerChainCrls(lab.pki, { ...times, revoke: [owner] });
  const issuers = [...lab.pki.ownerChain, lab.pki.pinnedDomainCert];
  for (const [i, crl] of [...good, ...revoked].entries()) {
    const checked = await opensslCrlVerify(
      await save('crl.pem', crlsToPem([crl])),
      issuers[i % 2] as string,
    );
    t.is(checked.exitCode, 0, checked.stderr);
    t.regex(checked.stderr, /verify OK/);
  }
  const wrongIssuer = await opensslCrlVerify(
    await save('crl.pem', crlsToPem(good.slice(0, 1))),
    lab.evil.pinnedDomainCert,
  );
  t.notRegex(wrongIssuer.stderr, /verify OK/, 'openssl finds no issuer for it in another domain');

  const accepted = await opensslVerifyCrls(await save('good.pem', crlsToPem(good)));
  t.is(accepted.exitCode, 0, accepted.stderr);
  t.regex(accepted.stdout, /: OK/);
  const refused = await opensslVerifyCrls(await save('revoked.pem', crlsToPem(revoked)));
  t.not(refused.exitCode, 0);
  t.regex(refused.stdout + refused.stderr, /certificate revoked/);

  const set = (crls: Uint8Array[]) =>
    createArtifacts(lab.pki, {
      input: lab.ctx.input,
      serial: lab.device.serial,
      sign: true,
      createdOn: new Date(lab.ctx.now.getTime() - 60_000),
      revocationChecks: true,
      crls,
    });
  t.true((await verifyArtifacts(await set(good), lab.trust())).signed);
  const error = await t.throwsAsync(verifyArtifacts(await set(revoked), lab.trust()), {
    instanceOf: PkiError,
  });
  t.is(error?.code, 'OWNER_CERT_REVOKED', error?.message);
});

for (const profile of ['ecdsa-p384', 'rsa-2048'] as const) {
  test(`our ${profile} CRLs verify with openssl crl and serve our verifier`, async (t) => {
    const pki = await initPki(join(lab.dir, `crl-${profile}`), {
      key: profile,
      pinnedDomain: 'root',
      domain: 'sztp-lab.test',
    });
    const crls = await ownerChainCrls(pki);
    const issuers = [...pki.ownerChain, pki.pinnedDomainCert];
    for (const [i, crl] of crls.entries()) {
      const checked = await opensslCrlVerify(
        await save('crl.pem', crlsToPem([crl])),
        issuers[i] as string,
      );
      t.regex(checked.stderr, /verify OK/);
    }
    const set = await createArtifacts(pki, {
      input: lab.ctx.input,
      serial: lab.device.serial,
      sign: true,
      revocationChecks: true,
      chainCrls: {},
    });
    const anchor = await readCertDer(pki.voucherTrustAnchor);
    const result = await verifyArtifacts(
      set,
      lab.trust({ voucherTrustAnchors: [anchor], now: new Date() }),
    );
    t.true(result.signed);
  });
}

// ---- made by openssl, checked by ours -----------------------------------------------------

async function ciFile(encoding: 'json' | 'xml'): Promise<string> {
  const { encodeConveyedInfo, decodeConveyedInfo } = await import('../src/pki/conveyed-info.ts');
  return save(
    `ci.${encoding}`,
    encodeConveyedInfo(decodeConveyedInfo(lab.ctx.input).content, encoding),
  );
}

async function opensslVoucher(
  options: {
    label?: string;
    signer?: 'good' | 'evil';
    serial?: string;
    /** The certificate file to pin; default: the PKI's pinned-domain-cert. */
    pinned?: string;
    revocationChecks?: boolean;
  } = {},
) {
  const pki = options.signer === 'evil' ? lab.evil : lab.pki;
  const json = encodeVoucher({
    createdOn: '2020-01-01T00:00:00.000+02:00',
    expiresOn: '2099-01-01T00:00:00Z',
    assertion: 'verified',
    serialNumber: options.serial ?? lab.device.serial,
    pinnedDomainCert: await readCertDer(options.pinned ?? lab.pki.pinnedDomainCert),
    ...(options.revocationChecks ? { domainCertRevocationChecks: true } : {}),
  });
  const out = file('ov.cms');
  const label = options.label ? ['-econtent_type', options.label] : [];
  await ossl(
    'cms',
    '-sign',
    '-nodetach',
    '-binary',
    '-in',
    await save('v.json', json),
    '-signer',
    pki.masaSigner.cert,
    '-inkey',
    pki.masaSigner.key,
    '-certfile',
    pki.voucherTrustAnchor,
    ...label,
    '-outform',
    'DER',
    '-out',
    out,
  );
  return new Uint8Array(await readFile(out));
}

async function opensslOwnerCert(): Promise<Uint8Array> {
  const out = file('oc.cms');
  await ossl(
    'crl2pkcs7',
    '-nocrl',
    '-certfile',
    await cat('chain.pem', [lab.pki.ownerCertificate, ...lab.pki.ownerChain]),
    '-outform',
    'DER',
    '-out',
    out,
  );
  return new Uint8Array(await readFile(out));
}

async function opensslSigned(
  input: string,
  extra: string[] = [],
  owner = lab.pki,
): Promise<Uint8Array> {
  const out = file('sci.cms');
  await ossl(
    'cms',
    '-sign',
    '-nodetach',
    '-binary',
    '-in',
    input,
    '-signer',
    owner.ownerCertificate,
    '-inkey',
    owner.ownerKey,
    ...extra,
    '-outform',
    'DER',
    '-out',
    out,
  );
  return new Uint8Array(await readFile(out));
}

async function verifyOk(
  t: { is: (a: unknown, b: unknown) => void; true: (v: boolean) => void },
  set: ArtifactSet,
  signed: boolean,
  encoding = 'json',
  dev = lab.device,
) {
  const result = await verifyArtifacts(
    set,
    lab.trust({ serialNumber: dev.serial, decrypter: dev.decrypter }),
  );
  t.is(result.signed, signed);
  t.is(result.encoding, encoding);
  t.is(result.type, 'onboarding-information');
}

for (const encoding of ['json', 'xml'] as const) {
  test(`openssl cms -data_create (id-data) ${encoding} conveyed information is accepted unsigned`, async (t) => {
    const out = file('u.cms');
    await ossl(
      'cms',
      '-data_create',
      '-binary',
      '-in',
      await ciFile(encoding),
      '-outform',
      'DER',
      '-out',
      out,
    );
    await verifyOk(
      t,
      { conveyedInformation: new Uint8Array(await readFile(out)) },
      false,
      encoding,
    );
  });
}

const signingVariants: Array<[string, string[]]> = [
  ['id-data label, signer certificate embedded', []],
  ['id-ct-sztpConveyedInfoJSON label', ['-econtent_type', Oid.conveyedInfoJson]],
  ['no signed attributes', ['-noattr']],
  ['SHA-384 digest', ['-md', 'sha384']],
  ['streamed BER with indefinite lengths', ['-stream']],
];
for (const [name, extra] of signingVariants) {
  test(`openssl-signed conveyed information (${name}) with openssl voucher and owner certificate is accepted`, async (t) => {
    const set: ArtifactSet = {
      conveyedInformation: await opensslSigned(await ciFile('json'), extra),
      ownerCertificate: await opensslOwnerCert(),
      ownershipVoucher: await opensslVoucher({ label: Oid.voucherJson }),
    };
    await verifyOk(t, set, true);
  });
}

test('an openssl voucher labelled id-data, with XML conveyed information labelled .42, is accepted', async (t) => {
  const set: ArtifactSet = {
    conveyedInformation: await opensslSigned(await ciFile('xml'), [
      '-econtent_type',
      Oid.conveyedInfoXml,
    ]),
    ownerCertificate: await opensslOwnerCert(),
    ownershipVoucher: await opensslVoucher(),
  };
  await verifyOk(t, set, true, 'xml');
});

for (const [name, dev, keyopt] of [
  ['ECDH', () => lab.device, []],
  ['RSA PKCS#1 v1.5', () => rsaDevice, []],
  [
    'RSA-OAEP',
    () => rsaDevice,
    ['-keyopt', 'rsa_padding_mode:oaep', '-keyopt', 'rsa_oaep_md:sha256'],
  ],
] as const) {
  test(`openssl cms -encrypt (${name}) of unsigned and of signed conveyed information is accepted`, async (t) => {
    const device = dev();
    const encrypt = async (input: string) => {
      const out = file('e.cms');
      await ossl(
        'cms',
        '-encrypt',
        '-binary',
        '-aes256',
        '-in',
        input,
        '-recip',
        device.certPath,
        ...keyopt,
        '-outform',
        'DER',
        '-out',
        out,
      );
      return new Uint8Array(await readFile(out));
    };
    await verifyOk(
      t,
      { conveyedInformation: await encrypt(await ciFile('json')) },
      false,
      'json',
      device,
    );
    const signed = await save('signed.cms', await opensslSigned(await ciFile('json')));
    const set: ArtifactSet = {
      // openssl labels the encrypted SignedData id-data; the device looks inside.
      conveyedInformation: await encrypt(signed),
      ownerCertificate: await opensslOwnerCert(),
      ownershipVoucher: await opensslVoucher({ serial: device.serial }),
    };
    await verifyOk(t, set, true, 'json', device);
  });
}

const forged: Array<[string, PkiCode, () => Promise<ArtifactSet>]> = [
  [
    'voucher signed by an untrusted MASA key',
    'VOUCHER_SIGNATURE_INVALID',
    async () => ({
      conveyedInformation: await opensslSigned(await ciFile('json')),
      ownerCertificate: await opensslOwnerCert(),
      ownershipVoucher: await opensslVoucher({ signer: 'evil' }),
    }),
  ],
  [
    'conveyed information signed by another owner key',
    'CONVEYED_INFO_SIGNATURE_INVALID',
    async () => ({
      conveyedInformation: await opensslSigned(await ciFile('json'), [], lab.evil),
      ownerCertificate: await opensslOwnerCert(),
      ownershipVoucher: await opensslVoucher(),
    }),
  ],
  [
    'voucher for another serial',
    'VOUCHER_SERIAL_MISMATCH',
    async () => ({
      conveyedInformation: await opensslSigned(await ciFile('json')),
      ownerCertificate: await opensslOwnerCert(),
      ownershipVoucher: await opensslVoucher({ serial: 'SN-9999' }),
    }),
  ],
  [
    'conveyed information labelled as a voucher',
    'CONTENT_TYPE_UNEXPECTED',
    async () => ({
      conveyedInformation: await opensslSigned(await ciFile('json'), [
        '-econtent_type',
        Oid.voucherJson,
      ]),
      ownerCertificate: await opensslOwnerCert(),
      ownershipVoucher: await opensslVoucher(),
    }),
  ],
  [
    'truncated openssl output',
    'CMS_MALFORMED',
    async () => {
      const ci = await opensslSigned(await ciFile('json'));
      return { conveyedInformation: ci.subarray(0, ci.length - 1) };
    },
  ],
];
for (const [name, code, build] of forged) {
  test(`openssl-made forgery is refused: ${name} -> ${code}`, async (t) => {
    const error = await t.throwsAsync(verifyArtifacts(await build(), lab.trust()), {
      instanceOf: PkiError,
    });
    t.is(error?.code, code, error?.message);
  });
}

/** A minimal `openssl ca` set-up over a lab CA: its own index.txt and crlnumber in a temp dir. */
async function opensslCa(ca: { cert: string; key: string }) {
  const dir = file('ca');
  await run('mkdir', ['-p', dir]);
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'crlnumber'), '01\n');
  const config = await save(
    'ca.cnf',
    [
      '[ ca ]',
      'default_ca = lab',
      '[ lab ]',
      `database = ${join(dir, 'index.txt')}`,
      `crlnumber = ${join(dir, 'crlnumber')}`,
      `certificate = ${ca.cert}`,
      `private_key = ${ca.key}`,
      'default_md = sha256',
      '',
    ].join('\n'),
  );
  const stamp = (date: Date) => `${date.toISOString().slice(0, 19).replace(/[-T:]/g, '')}Z`;
  return {
    revoke: (cert: string) =>
      ossl('ca', '-config', config, '-revoke', cert, '-crl_reason', 'keyCompromise'),
    async crl(lastUpdate: Date, nextUpdate: Date): Promise<string> {
      const out = file('crl.pem');
      await ossl(
        'ca',
        '-config',
        config,
        '-gencrl',
        '-crl_lastupdate',
        stamp(lastUpdate),
        '-crl_nextupdate',
        stamp(nextUpdate),
        '-out',
        out,
      );
      return out;
    },
  };
}

/** An all-openssl set pinning the owner issuing CA, with `crl` stapled by crl2pkcs7. */
async function opensslRevocationSet(crl: string | undefined): Promise<ArtifactSet> {
  const out = file('oc.cms');
  const source = crl ? ['-in', crl] : ['-nocrl'];
  await ossl(
    'crl2pkcs7',
    ...source,
    '-certfile',
    lab.pki.ownerCertificate,
    '-outform',
    'DER',
    '-out',
    out,
  );
  return {
    conveyedInformation: await opensslSigned(await ciFile('json')),
    ownerCertificate: new Uint8Array(await readFile(out)),
    ownershipVoucher: await opensslVoucher({
      pinned: (lab.pki.entities['owner-ca'] as { cert: string }).cert,
      revocationChecks: true,
    }),
  };
}

test('openssl ca -gencrl CRLs stapled by openssl crl2pkcs7 are honoured by our verifier', async (t) => {
  const now = lab.ctx.now.getTime();
  const [hourAgo, inAWeek, yesterday] = [now - 3_600_000, now + 7 * 86_400_000, now - 86_400_000];
  const ca = await opensslCa(lab.pki.entities['owner-ca'] as { cert: string; key: string });
  const code = async (set: ArtifactSet) => {
    try {
      await verifyArtifacts(set, lab.trust());
      return 'accepted';
    } catch (error) {
      if (!(error instanceof PkiError)) throw error;
      return `${error.code}: ${error.message}`;
    }
  };
  const clean = await ca.crl(new Date(hourAgo), new Date(inAWeek));
  t.is(await code(await opensslRevocationSet(clean)), 'accepted');
  t.regex(await code(await opensslRevocationSet(undefined)), /^REVOCATION_UNAVAILABLE: .*no CRLs/);
  const stale = await ca.crl(new Date(now - 10 * 86_400_000), new Date(yesterday));
  t.regex(await code(await opensslRevocationSet(stale)), /^REVOCATION_UNAVAILABLE: .*is stale/);
  // The attacker's owner CA has the same name as ours, but not our key.
  const evil = await opensslCa(lab.evil.entities['owner-ca'] as { cert: string; key: string });
  const forged = await evil.crl(new Date(hourAgo), new Date(inAWeek));
  t.regex(
    await code(await opensslRevocationSet(forged)),
    /^REVOCATION_UNAVAILABLE: .*does not verify/,
  );

  await ca.revoke(lab.pki.ownerCertificate);
  const revoked = await ca.crl(new Date(hourAgo), new Date(inAWeek));
  const printed = await ossl('crl', '-in', revoked, '-noout', '-text');
  t.regex(printed.stdout, /Key Compromise/);
  t.regex(
    await code(await opensslRevocationSet(revoked)),
    /^OWNER_CERT_REVOKED: owner certificate .* was revoked on .*\(keyCompromise\)/,
  );
});

test('the signed content our verifier reads is the content openssl verifies', async (t) => {
  const ci = await opensslSigned(await ciFile('json'));
  const sd = readContentInfo(ci, 'ci');
  t.is(sd.contentType, Oid.signedData);
  t.true(bytesOf(sd.content).length < ci.length);
});
