import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Issuer, issueCertificate, KeyUsage, x509 } from './certs.ts';
import { fail } from './codes.ts';
import {
  generateKey,
  importSigningKey,
  type KeyProfile,
  type LabKey,
  writePrivateKey,
} from './keys.ts';
import {
  type CertKeyFiles,
  type PkiManifest,
  resolveManifest,
  type ServerRole,
  ServerRoles,
} from './manifest.ts';

// The manifest's reader and types live in manifest.ts, which a server can load without the
// certificate library this module issues with.
export {
  type CertKeyFiles,
  loadManifest,
  type PkiManifest,
  type ServerRole,
  ServerRoles,
} from './manifest.ts';

/** Options of `pki init`. */
export interface InitOptions {
  key: KeyProfile;
  pinnedDomain: 'root' | 'intermediate';
  /** DNS suffix of the server names: redirect.<domain>, bootstrap.<domain>, image.<domain>. */
  domain: string;
  /** Extra IP addresses per server role, on top of 127.0.0.1 and ::1. */
  serverIps?: Partial<Record<ServerRole, string[]>>;
}

interface Made {
  cert: x509.X509Certificate;
  key: LabKey;
}

const LONG = 20 * 365 * 86_400_000;

async function makeCa(name: string, parent: Made | undefined, profile: KeyProfile): Promise<Made> {
  const key = await generateKey(profile);
  const cert = await issueCertificate({
    subject: [{ O: ['sztp-lab'] }, { CN: [name] }],
    publicKey: key.pair.publicKey,
    ...(parent ? { issuer: issuerOf(parent) } : { selfKey: { key: key.pair.privateKey, profile } }),
    ca: {},
    keyUsage: KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature,
    notAfter: new Date(Date.now() + LONG),
  });
  return { cert, key };
}

async function makeLeaf(
  name: string,
  parent: Made,
  profile: KeyProfile,
  extra: { dnsNames?: string[]; ipAddresses?: string[]; serverAuth?: boolean } = {},
): Promise<Made> {
  const key = await generateKey(profile);
  const cert = await issueCertificate({
    subject: [{ O: ['sztp-lab'] }, { CN: [name] }],
    publicKey: key.pair.publicKey,
    issuer: issuerOf(parent),
    keyUsage:
      KeyUsage.digitalSignature |
      (extra.serverAuth && profile === 'rsa-2048' ? KeyUsage.keyEncipherment : 0),
    ...(extra.serverAuth ? { extendedKeyUsage: ['1.3.6.1.5.5.7.3.1'] } : {}),
    ...(extra.dnsNames ? { dnsNames: extra.dnsNames } : {}),
    ...(extra.ipAddresses ? { ipAddresses: extra.ipAddresses } : {}),
  });
  return { cert, key };
}

/** The issuer view of a made CA. */
export function issuerOf(made: Made): Issuer {
  return { cert: made.cert, key: made.key.pair.privateKey, profile: made.key.profile };
}

/** Creates a complete lab trust domain in `dir` and returns its manifest (paths resolved). */
export async function initPki(dir: string, options: InitOptions): Promise<PkiManifest> {
  await mkdir(dir, { recursive: true });
  const p = options.key;
  const made: Record<string, Made> = {};
  made['idevid-root'] = await makeCa('IDevID Root CA', undefined, p);
  made['idevid-ca'] = await makeCa('IDevID Issuing CA', made['idevid-root'], p);
  made['masa-ca'] = await makeCa('MASA CA', undefined, p);
  made['masa-signer'] = await makeLeaf('MASA Voucher Signer', made['masa-ca'], p);
  made['owner-root'] = await makeCa('Owner Root CA', undefined, p);
  made['owner-ca'] = await makeCa('Owner Issuing CA', made['owner-root'], p);
  made.owner = await makeLeaf('Owner Signing Certificate', made['owner-ca'], p);
  made['tls-ca'] = await makeCa('TLS CA', undefined, p);
  const servers = {} as PkiManifest['servers'];
  for (const role of ServerRoles) {
    const dnsNames = [`${role}.${options.domain}`, 'localhost'];
    const ipAddresses = ['127.0.0.1', '::1', ...(options.serverIps?.[role] ?? [])];
    made[`${role}-server`] = await makeLeaf(`${role}.${options.domain}`, made['tls-ca'], p, {
      dnsNames,
      ipAddresses,
      serverAuth: true,
    });
    servers[role] = {
      cert: `${role}-server.pem`,
      key: `${role}-server.key`,
      dnsNames,
      ipAddresses,
    };
  }
  const entities: Record<string, CertKeyFiles> = {};
  for (const [name, { cert, key }] of Object.entries(made)) {
    await writeFile(join(dir, `${name}.pem`), `${cert.toString('pem')}\n`);
    await writePrivateKey(join(dir, `${name}.key`), key.privatePem);
    entities[name] = { cert: `${name}.pem`, key: `${name}.key` };
  }
  const pinnedRoot = options.pinnedDomain === 'root';
  const manifest: PkiManifest = {
    format: 'sztp-lab-pki/1',
    keyAlgorithm: p,
    createdAt: new Date().toISOString(),
    pinnedDomain: options.pinnedDomain,
    voucherTrustAnchor: 'masa-ca.pem',
    pinnedDomainCert: pinnedRoot ? 'owner-root.pem' : 'owner-ca.pem',
    ownerCertificate: 'owner.pem',
    ownerKey: 'owner.key',
    ownerChain: pinnedRoot ? ['owner-ca.pem'] : [],
    masaSigner: { cert: 'masa-signer.pem', key: 'masa-signer.key' },
    masaChain: [],
    idevidCa: 'idevid-ca.pem',
    idevidCaKey: 'idevid-ca.key',
    idevidRoot: 'idevid-root.pem',
    tlsTrustAnchor: 'tls-ca.pem',
    servers,
    entities,
  };
  await writeFile(join(dir, 'pki.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return resolveManifest(dir, manifest);
}

/** Reads one PEM or DER certificate file. */
export async function readCertificate(path: string): Promise<x509.X509Certificate> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    fail('PKI_INVALID', `${path}: cannot read certificate`, error);
  }
  try {
    const text = data.toString('latin1');
    return new x509.X509Certificate(text.includes('-----BEGIN') ? text : new Uint8Array(data));
  } catch (error) {
    fail('PKI_INVALID', `${path}: not an X.509 certificate`, error);
  }
}

/** Reads a certificate and its key file as an issuer. */
export async function readIssuer(files: CertKeyFiles): Promise<Issuer> {
  const cert = await readCertificate(files.cert);
  const key = await importSigningKey(await readFile(files.key, 'utf8'));
  return { cert, key: key.pair.privateKey, profile: key.profile };
}
