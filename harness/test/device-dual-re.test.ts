import { generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { checkBackupIdentity, configHash } from '../src/device/re-link.ts';
import { x509 } from '../src/pki/certs.ts';
import { issueIdevid } from '../src/pki/idevid.ts';
import { initPki, type PkiManifest, readIssuer } from '../src/pki/lab-pki.ts';

let dir: string;
let manufacturer: PkiManifest;
let rogue: PkiManifest;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sztp-dual-'));
  const options = { key: 'ecdsa-p256', pinnedDomain: 'root', domain: 'sztp-lab.test' } as const;
  manufacturer = await initPki(join(dir, 'manufacturer'), options);
  rogue = await initPki(join(dir, 'rogue'), options);
});

test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** A backup engine's DevID: a software key here (the device signs inside its TPM). */
async function backup(pki: PkiManifest, serial: string) {
  const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=re1',
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  const issuer = await readIssuer({ cert: pki.idevidCa, key: pki.idevidCaKey });
  const cert = await issueIdevid(issuer, { csr: csr.toString('pem'), serial });
  const chain = `${cert.toString('pem')}\n${readFileSync(pki.idevidCa, 'utf8')}`;
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const { createPrivateKey } = await import('node:crypto');
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  return { chain, sign: (nonce: Buffer) => sign('sha256', nonce, key) };
}

const roots = () => [new X509Certificate(readFileSync(manufacturer.idevidRoot))];

test('a backup whose DevID chains to the manufacturer and signs our nonce is accepted', async (t) => {
  const re1 = await backup(manufacturer, 'SN-0100');
  const nonce = randomBytes(32);
  t.deepEqual(checkBackupIdentity(nonce, re1.sign(nonce), re1.chain, roots()), {
    serial: 'SN-0100',
  });
});

test('a DevID from another CA is refused, and the reason says so', async (t) => {
  const re1 = await backup(rogue, 'SN-0100');
  const nonce = randomBytes(32);
  const verdict = checkBackupIdentity(nonce, re1.sign(nonce), re1.chain, roots());
  t.regex(verdict.reason ?? '', /does not chain to the manufacturer's IDevID root/);
});

test('a signature over another nonce (a replay) is refused', async (t) => {
  const re1 = await backup(manufacturer, 'SN-0100');
  const old = randomBytes(32);
  const verdict = checkBackupIdentity(randomBytes(32), re1.sign(old), re1.chain, roots());
  t.regex(verdict.reason ?? '', /signature does not verify/);
});

test('a chain signed by a key that is not the certificate key is refused', async (t) => {
  const re1 = await backup(manufacturer, 'SN-0100');
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const nonce = randomBytes(32);
  const verdict = checkBackupIdentity(
    nonce,
    sign('sha256', nonce, other.privateKey),
    re1.chain,
    roots(),
  );
  t.regex(verdict.reason ?? '', /signature does not verify/);
  t.deepEqual(checkBackupIdentity(nonce, Buffer.alloc(8), '', roots()), {
    reason: 'no certificate was sent',
  });
});

test('configuration hashes tell configurations apart', (t) => {
  t.is(configHash('<configuration/>'), configHash('<configuration/>'));
  t.not(configHash('<configuration/>'), configHash('<configuration><a/></configuration>'));
});
