import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { x509 } from '../../pki/certs.ts';
import { issueIdevid } from '../../pki/idevid.ts';
import { generateKey, signingAlgorithm, writePrivateKey } from '../../pki/keys.ts';
import { initPki, loadManifest, type PkiManifest, readIssuer } from '../../pki/lab-pki.ts';

export interface DemoOptions {
  dir: string;
  port: number;
  serial: string;
}

export interface DemoFiles {
  configFile: string;
  pki: PkiManifest;
  trustAnchor: string;
  device: { serial: string; cert: string; key: string };
}

/** Onboarding information a Junos device would accept: image, XML configuration, merge. */
export function demoOnboarding(): Record<string, unknown> {
  const image = Buffer.from('sztp-lab demo image\n');
  const hash = createHash('sha256').update(image).digest('hex').match(/../g)?.join(':') ?? '';
  const config =
    '<configuration><system><host-name>sztp-demo</host-name>' +
    '<services><netconf><ssh/></netconf></services></system></configuration>\n';
  return {
    'boot-image': {
      'os-name': 'Junos',
      'os-version': '23.4R1',
      'download-uri': ['https://image.sztp-lab.test/junos-23.4R1.tgz'],
      'image-verification': [
        { 'hash-algorithm': 'ietf-sztp-conveyed-info:sha-256', 'hash-value': hash },
      ],
    },
    'configuration-handling': 'merge',
    configuration: Buffer.from(config).toString('base64'),
  };
}

/**
 * A demo IDevID: a software P-256 key and a certificate from the lab's IDevID CA with the serial
 * in subject serialNumber. The certificate file also holds the issuing CA, so that curl sends the
 * chain a device must send. (Real devices keep the key in their TPM.)
 */
export async function demoDevice(pki: PkiManifest, dir: string, serial: string) {
  const safe = serial.replace(/[^A-Za-z0-9._-]/g, '_');
  const cert = join(dir, `${safe}.pem`);
  const key = join(dir, `${safe}.key`);
  if (existsSync(cert) && existsSync(key)) return { serial, cert, key };
  await mkdir(dir, { recursive: true });
  const made = await generateKey('ecdsa-p256');
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [`sztp-lab demo device ${serial}`] }],
    keys: made.pair,
    signingAlgorithm: signingAlgorithm('ecdsa-p256'),
  });
  const issuer = await readIssuer({ cert: pki.idevidCa, key: pki.idevidCaKey });
  const idevid = await issueIdevid(issuer, { csr: csr.toString('pem'), serial });
  const chain = await readFile(pki.idevidCa, 'utf8');
  await writePrivateKey(key, made.privatePem);
  await writeFile(cert, `${idevid.toString('pem')}\n${chain.trim()}\n`);
  return { serial, cert, key };
}

/**
 * Prepares DIR for `server demo`: a lab PKI (made once), a demo device, one record with signed
 * onboarding information for it, and a configuration serving both roles on 127.0.0.1.
 */
export async function prepareDemo(options: DemoOptions): Promise<DemoFiles> {
  const dir = resolve(options.dir);
  const pkiDir = join(dir, 'pki');
  const pki = existsSync(join(pkiDir, 'pki.json'))
    ? await loadManifest(pkiDir)
    : await initPki(pkiDir, { key: 'ecdsa-p256', pinnedDomain: 'root', domain: 'sztp-lab.test' });
  const device = await demoDevice(pki, join(dir, 'devices'), options.serial);
  const records = {
    devices: {
      [options.serial]: { onboarding: demoOnboarding(), signed: true, reportingLevel: 'verbose' },
    },
  };
  await writeFile(join(dir, 'records.json'), `${JSON.stringify(records, null, 2)}\n`);
  const config = {
    roles: ['redirect-server', 'onboarding-server'],
    listen: { host: '127.0.0.1', port: options.port },
    admin: { host: '127.0.0.1', port: 0 },
    pki: 'pki',
    records: 'records.json',
    dataDir: 'data',
  };
  const configFile = join(dir, 'server.json');
  await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);
  return { configFile, pki, trustAnchor: pki.tlsTrustAnchor, device };
}
