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
  /**
   * Extra IP addresses per server role, on top of 127.0.0.1 and ::1. A promise lets the CAs be
   * made while the addresses are still being chosen; only the server certificates wait for it.
   */
  serverIps?: ServerIps | Promise<ServerIps>;
}

export type ServerIps = Partial<Record<ServerRole, string[]>>;

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
  // The four hierarchies are independent, so they are made side by side (key generation and
  // signing run on libuv's threads); within one, each certificate waits for its issuer.
  const chain = async (names: [string, string][], leaf?: [string, string]) => {
    const made: [string, Made][] = [];
    for (const [entity, subject] of names) {
      made.push([entity, await makeCa(subject, made.at(-1)?.[1], p)]);
    }
    const issuer = made.at(-1)?.[1] as Made;
    if (leaf) made.push([leaf[0], await makeLeaf(leaf[1], issuer, p)]);
    return made;
  };
  const servers = {} as PkiManifest['servers'];
  const serverCerts = async () => {
    const tlsCa = await makeCa('TLS CA', undefined, p);
    const ips = await options.serverIps;
    const leaves = await Promise.all(
      ServerRoles.map(async (role): Promise<[string, Made]> => {
        const dnsNames = [`${role}.${options.domain}`, 'localhost'];
        const ipAddresses = ['127.0.0.1', '::1', ...(ips?.[role] ?? [])];
        servers[role] = {
          cert: `${role}-server.pem`,
          key: `${role}-server.key`,
          dnsNames,
          ipAddresses,
        };
        const made = await makeLeaf(`${role}.${options.domain}`, tlsCa, p, {
          dnsNames,
          ipAddresses,
          serverAuth: true,
        });
        return [`${role}-server`, made];
      }),
    );
    return [['tls-ca', tlsCa] as [string, Made], ...leaves];
  };
  const made: Record<string, Made> = Object.fromEntries(
    (
      await Promise.all([
        chain([
          ['idevid-root', 'IDevID Root CA'],
          ['idevid-ca', 'IDevID Issuing CA'],
        ]),
        chain([['masa-ca', 'MASA CA']], ['masa-signer', 'MASA Voucher Signer']),
        chain(
          [
            ['owner-root', 'Owner Root CA'],
            ['owner-ca', 'Owner Issuing CA'],
          ],
          ['owner', 'Owner Signing Certificate'],
        ),
        serverCerts(),
      ])
    ).flat(),
  );
  const entities: Record<string, CertKeyFiles> = {};
  await Promise.all(
    Object.entries(made).map(async ([name, { cert, key }]) => {
      entities[name] = { cert: `${name}.pem`, key: `${name}.key` };
      await writeFile(join(dir, `${name}.pem`), `${cert.toString('pem')}\n`);
      await writePrivateKey(join(dir, `${name}.key`), key.privatePem);
    }),
  );
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
