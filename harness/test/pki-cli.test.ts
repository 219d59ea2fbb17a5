import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { run } from '../src/common/exec.ts';

const BIN = new URL('../bin/sztp-lab.js', import.meta.url).pathname;
let dir: string;

const cli = (...args: string[]) => run('node', [BIN, ...args], { allowFailure: true });
const ossl = (...args: string[]) => run('openssl', args);
const at = (name: string) => join(dir, name);

interface Manifest {
  voucherTrustAnchor: string;
  pinnedDomainCert: string;
  ownerCertificate: string;
  ownerKey: string;
  ownerChain: string[];
  idevidCa: string;
  tlsTrustAnchor: string;
  masaSigner: { cert: string; key: string };
  entities: Record<string, { cert: string; key: string }>;
  servers: Record<string, { cert: string }>;
}
let manifest: Manifest;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sztp-pki-cli-'));
  const init = await cli(
    'pki',
    'init',
    at('lab'),
    '--key',
    'ecdsa-p384',
    '--pinned',
    'root',
    '--server-ip',
    'bootstrap=192.0.2.10',
    '--json',
  );
  if (init.exitCode !== 0) throw new Error(init.stderr);
  manifest = JSON.parse(init.stdout) as Manifest;
  await ossl(
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    at('dev.key'),
    '-out',
    at('dev.csr'),
    '-subj',
    '/CN=whatever',
  );
  const issued = await cli(
    'pki',
    'issue-idevid',
    '--pki',
    at('lab'),
    '--csr',
    at('dev.csr'),
    '--serial',
    'SN-77',
    '--hw-model',
    'MX204',
    '--out',
    at('dev.pem'),
    '--json',
  );
  if (issued.exitCode !== 0) throw new Error(issued.stderr);
});

test.after.always(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('pki init --json names every trust role, and keeps private keys out of stdout and at 0600', async (t) => {
  for (const path of [
    manifest.voucherTrustAnchor,
    manifest.pinnedDomainCert,
    manifest.ownerCertificate,
    manifest.idevidCa,
    manifest.tlsTrustAnchor,
  ]) {
    t.true((await stat(path)).isFile(), path);
  }
  t.is(
    manifest.ownerChain.length,
    1,
    'pinned at the owner root: the issuing CA is an intermediate',
  );
  for (const { key } of Object.values(manifest.entities))
    t.is((await stat(key)).mode & 0o777, 0o600, key);
  const again = await cli('pki', 'init', at('lab'), '--json');
  t.is(again.exitCode, 2, 'an existing PKI is not overwritten without --force');
  t.false(JSON.stringify(manifest).includes('PRIVATE KEY'));
  const text = (await ossl('x509', '-in', manifest.ownerCertificate, '-noout', '-text')).stdout;
  t.regex(text, /NIST CURVE: P-384|secp384r1/);
  const chain = await ossl(
    'verify',
    '-CAfile',
    manifest.pinnedDomainCert,
    '-untrusted',
    manifest.ownerChain[0] as string,
    manifest.ownerCertificate,
  );
  t.regex(chain.stdout, /OK/);
  const san = (
    await ossl(
      'x509',
      '-in',
      manifest.servers.bootstrap?.cert as string,
      '-noout',
      '-ext',
      'subjectAltName',
    )
  ).stdout;
  t.regex(san, /DNS:bootstrap\.sztp-lab\.test/);
  t.regex(san, /IP Address:192\.0\.2\.10/);
  const tls = await ossl(
    'verify',
    '-CAfile',
    manifest.tlsTrustAnchor,
    '-purpose',
    'sslserver',
    manifest.servers.bootstrap?.cert as string,
  );
  t.regex(tls.stdout, /OK/);
});

test('pki issue-idevid makes an 802.1AR IDevID from the CSR alone', async (t) => {
  const text = (await ossl('x509', '-in', at('dev.pem'), '-noout', '-text')).stdout;
  t.regex(text, /Subject: .*serialNumber = SN-77/);
  t.regex(text, /CN = MX204/);
  t.regex(text, /Not After : Dec 31 23:59:59 9999 GMT/);
  t.regex(text, /Digital Signature, Key Agreement/);
  const csrKey = (await ossl('req', '-in', at('dev.csr'), '-noout', '-pubkey')).stdout;
  const certKey = (await ossl('x509', '-in', at('dev.pem'), '-noout', '-pubkey')).stdout;
  t.is(certKey, csrKey, 'the certificate carries the key from the CSR');
  const chain = await ossl(
    'verify',
    '-CAfile',
    join(dir, 'lab', 'idevid-root.pem'),
    '-untrusted',
    manifest.idevidCa,
    at('dev.pem'),
  );
  t.regex(chain.stdout, /OK/);
});

test('pki issue-idevid gives RSA keys keyEncipherment and refuses a CSR with a broken signature', async (t) => {
  await ossl(
    'req',
    '-new',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('rsa.key'),
    '-out',
    at('rsa.csr'),
    '-outform',
    'DER',
    '-subj',
    '/CN=r',
  );
  const ok = await cli(
    'pki',
    'issue-idevid',
    '--pki',
    at('lab'),
    '--csr',
    at('rsa.csr'),
    '--serial',
    'SN-78',
    '--out',
    at('rsa.pem'),
  );
  t.is(ok.exitCode, 0, ok.stderr);
  t.regex(
    (await ossl('x509', '-in', at('rsa.pem'), '-noout', '-ext', 'keyUsage')).stdout,
    /Digital Signature, Key Encipherment/,
  );
  const der = await readFile(at('rsa.csr'));
  der[der.length - 5] = (der[der.length - 5] as number) ^ 0xff;
  await writeFile(at('broken.csr'), der);
  const bad = await cli(
    'pki',
    'issue-idevid',
    '--pki',
    at('lab'),
    '--csr',
    at('broken.csr'),
    '--serial',
    'SN-79',
    '--json',
  );
  t.is(bad.exitCode, 1);
  t.is(JSON.parse(bad.stdout).error.code, 'CSR_INVALID');
});

test('artifacts create then verify: signed, encrypted XML onboarding information', async (t) => {
  const xml = `<?xml version="1.0"?>
<onboarding-information xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-conveyed-info">
  <boot-image><os-name>Junos</os-name><download-uri>https://image.sztp-lab.test/j.tgz</download-uri>
    <image-verification><hash-algorithm>sha-256</hash-algorithm><hash-value>aa:bb</hash-value></image-verification>
  </boot-image>
  <configuration-handling>replace</configuration-handling><configuration>PGNvbmZpZ3VyYXRpb24vPg==</configuration>
</onboarding-information>`;
  await writeFile(at('onboarding.xml'), xml);
  const made = await cli(
    'artifacts',
    'create',
    '--pki',
    at('lab'),
    '--serial',
    'SN-77',
    '--in',
    at('onboarding.xml'),
    '--sign',
    '--encrypt-to',
    at('dev.pem'),
    '--nonce',
    '00112233445566778899aabbccddeeff',
    '--out',
    at('set'),
    '--json',
  );
  t.is(made.exitCode, 0, made.stderr);
  t.is(JSON.parse(made.stdout).files.length, 3);
  const verify = (...extra: string[]) =>
    cli(
      'artifacts',
      'verify',
      '--dir',
      at('set'),
      '--voucher-trust-anchor',
      manifest.voucherTrustAnchor,
      '--serial',
      'SN-77',
      '--idevid-key',
      at('dev.key'),
      '--idevid-cert',
      at('dev.pem'),
      '--json',
      ...extra,
    );
  const good = await verify('--nonce', '00112233445566778899aabbccddeeff');
  t.is(good.exitCode, 0, good.stdout);
  const result = JSON.parse(good.stdout);
  t.like(result, { ok: true, type: 'onboarding-information', encoding: 'xml', signed: true });
  t.is(
    result.content['ietf-sztp-conveyed-info:onboarding-information']['configuration-handling'],
    'replace',
  );
  const wrongNonce = await verify('--nonce', 'ffeeddccbbaa99887766554433221100');
  t.is(wrongNonce.exitCode, 1);
  t.like(JSON.parse(wrongNonce.stdout), { ok: false, code: 'VOUCHER_NONCE_MISMATCH' });
});

test('artifacts create names the input file when it is not conveyed information', async (t) => {
  await writeFile(
    at('bad.json'),
    '{"ietf-sztp-conveyed-info:redirect-information":{"bootstrap-server":[]}}',
  );
  const bad = await cli(
    'artifacts',
    'create',
    '--pki',
    at('lab'),
    '--serial',
    'SN-77',
    '--in',
    at('bad.json'),
    '--out',
    at('nope'),
    '--json',
  );
  t.is(bad.exitCode, 1);
  const error = JSON.parse(bad.stdout).error;
  t.is(error.code, 'CONVEYED_INFO_INVALID');
  t.true(error.message.includes('bad.json'));
});

test('artifacts create --revocation-checks staples CRLs, --revoke-owner gets the set refused', async (t) => {
  await writeFile(
    at('crl-redirect.json'),
    '{"ietf-sztp-conveyed-info:redirect-information":{"bootstrap-server":[{"address":"192.0.2.10"}]}}',
  );
  const create = (out: string, ...extra: string[]) =>
    cli(
      'artifacts',
      'create',
      '--pki',
      at('lab'),
      '--serial',
      'SN-77',
      '--in',
      at('crl-redirect.json'),
      '--out',
      at(out),
      '--json',
      ...extra,
    );
  const verify = (dir: string) =>
    cli(
      'artifacts',
      'verify',
      '--dir',
      at(dir),
      '--voucher-trust-anchor',
      manifest.voucherTrustAnchor,
      '--serial',
      'SN-77',
      '--json',
    );
  const checked = await create('crl-good', '--sign', '--revocation-checks');
  t.is(checked.exitCode, 0, checked.stdout + checked.stderr);
  t.like(JSON.parse(checked.stdout), { revocationChecks: true, crls: 2 });
  const good = await verify('crl-good');
  t.is(good.exitCode, 0, good.stdout);
  t.like(JSON.parse(good.stdout), { ok: true, type: 'redirect-information' });

  const revoked = await create('crl-revoked', '--sign', '--revocation-checks', '--revoke-owner');
  t.is(revoked.exitCode, 0, revoked.stdout + revoked.stderr);
  const refused = await verify('crl-revoked');
  t.is(refused.exitCode, 1);
  t.like(JSON.parse(refused.stdout), { ok: false, code: 'OWNER_CERT_REVOKED' });

  // openssl reads the stapled CRLs back out; --crl staples them again, as they are.
  const printed = await ossl(
    'pkcs7',
    '-inform',
    'DER',
    '-in',
    at('crl-revoked/owner-certificate.cms'),
    '-print_certs',
  );
  t.is(printed.stdout.match(/-----BEGIN X509 CRL-----/g)?.length, 2);
  await writeFile(at('stapled.pem'), printed.stdout);
  const restapled = await create(
    'crl-restapled',
    '--sign',
    '--revocation-checks',
    '--crl',
    at('stapled.pem'),
  );
  t.like(JSON.parse(restapled.stdout), { revocationChecks: true, crls: 2 });
  const again = await verify('crl-restapled');
  t.like(JSON.parse(again.stdout), { ok: false, code: 'OWNER_CERT_REVOKED' });

  const unsigned = await create('crl-unsigned', '--revocation-checks');
  t.is(unsigned.exitCode, 2);
  t.is(JSON.parse(unsigned.stdout).error.code, 'INVALID_ARGUMENT');
  const notCrl = await create('crl-bad', '--sign', '--crl', manifest.pinnedDomainCert);
  t.is(notCrl.exitCode, 2);
  t.regex(JSON.parse(notCrl.stdout).error.message, /no "X509 CRL" PEM block/);
});

test('artifacts verify accepts a set made entirely with the openssl CLI, and refuses its forgery', async (t) => {
  const set = at('openssl-set');
  await run('mkdir', ['-p', set]);
  await writeFile(
    at('redirect.json'),
    '{"ietf-sztp-conveyed-info:redirect-information":{"bootstrap-server":[{"address":"192.0.2.10","port":443}]}}',
  );
  // A voucher JSON with an offset timestamp and a string boolean, as RFC 8366's own example has it.
  const der = at('pinned.der');
  await ossl('x509', '-in', manifest.pinnedDomainCert, '-outform', 'DER', '-out', der);
  const b64 = (await ossl('base64', '-A', '-in', der)).stdout.trim();
  await writeFile(
    at('voucher.json'),
    `{"ietf-voucher:voucher":{"created-on":"2024-07-10T17:08:18.720-04:00","assertion":"logged","serial-number":"SN-77","pinned-domain-cert":"${b64}","domain-cert-revocation-checks":"false"}}`,
  );
  await ossl(
    'cms',
    '-sign',
    '-nodetach',
    '-binary',
    '-in',
    at('voucher.json'),
    '-signer',
    manifest.masaSigner.cert,
    '-inkey',
    manifest.masaSigner.key,
    '-certfile',
    manifest.voucherTrustAnchor,
    '-outform',
    'DER',
    '-out',
    join(set, 'ownership-voucher.cms'),
  );
  await ossl(
    'cms',
    '-sign',
    '-nodetach',
    '-binary',
    '-md',
    'sha384',
    '-in',
    at('redirect.json'),
    '-signer',
    manifest.ownerCertificate,
    '-inkey',
    manifest.ownerKey,
    '-outform',
    'DER',
    '-out',
    at('signed.cms'),
  );
  await ossl(
    'cms',
    '-encrypt',
    '-binary',
    '-aes128',
    '-in',
    at('signed.cms'),
    '-outform',
    'DER',
    '-out',
    join(set, 'conveyed-information.cms'),
    at('dev.pem'),
  );
  await writeFile(
    at('chain.pem'),
    (await readFile(manifest.ownerCertificate, 'utf8')) +
      (await readFile(manifest.ownerChain[0] as string, 'utf8')),
  );
  await ossl(
    'crl2pkcs7',
    '-nocrl',
    '-certfile',
    at('chain.pem'),
    '-outform',
    'DER',
    '-out',
    join(set, 'owner-certificate.cms'),
  );
  const verify = () =>
    cli(
      'artifacts',
      'verify',
      '--dir',
      set,
      '--voucher-trust-anchor',
      manifest.voucherTrustAnchor,
      '--serial',
      'SN-77',
      '--idevid-key',
      at('dev.key'),
      '--idevid-cert',
      at('dev.pem'),
      '--json',
    );
  const good = await verify();
  t.is(good.exitCode, 0, good.stdout);
  t.like(JSON.parse(good.stdout), {
    ok: true,
    type: 'redirect-information',
    encoding: 'json',
    signed: true,
  });
  // The forgery: the same voucher, re-signed by a self-made "MASA" key the device does not trust.
  await ossl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    at('fake.key'),
    '-out',
    at('fake.pem'),
    '-subj',
    '/CN=MASA Voucher Signer',
    '-days',
    '2',
  );
  await ossl(
    'cms',
    '-sign',
    '-nodetach',
    '-binary',
    '-in',
    at('voucher.json'),
    '-signer',
    at('fake.pem'),
    '-inkey',
    at('fake.key'),
    '-outform',
    'DER',
    '-out',
    join(set, 'ownership-voucher.cms'),
  );
  const forged = await verify();
  t.is(forged.exitCode, 1);
  t.like(JSON.parse(forged.stdout), { ok: false, code: 'VOUCHER_SIGNATURE_INVALID' });
});

test('voucher create and inspect', async (t) => {
  const made = await cli(
    'voucher',
    'create',
    '--pki',
    at('lab'),
    '--serial',
    'SN-77',
    '--idevid-cert',
    at('dev.pem'),
    '--expires',
    '2099-01-01T00:00:00Z',
    '--out',
    at('v.cms'),
  );
  t.is(made.exitCode, 0, made.stderr);
  const shown = await cli('voucher', 'inspect', at('v.cms'), '--json');
  const value = JSON.parse(shown.stdout);
  t.is(value.eContentType, '1.2.840.113549.1.9.16.1.40');
  t.regex(value.signer, /MASA Voucher Signer/);
  t.is(value.voucher['ietf-voucher:voucher']['expires-on'], '2099-01-01T00:00:00Z');
  const aki = (await ossl('x509', '-in', at('dev.pem'), '-noout', '-ext', 'authorityKeyIdentifier'))
    .stdout;
  const hex = Buffer.from(
    value.voucher['ietf-voucher:voucher']['idevid-issuer'],
    'base64',
  ).toString('hex');
  t.true(aki.replaceAll(':', '').toLowerCase().includes(hex), 'idevid-issuer is the IDevID AKI');
  await writeFile(at('junk.cms'), 'not der');
  const junk = await cli('voucher', 'inspect', at('junk.cms'), '--json');
  t.is(JSON.parse(junk.stdout).error.code, 'CMS_MALFORMED');
});
