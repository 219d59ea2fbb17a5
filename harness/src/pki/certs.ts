import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { type CryptoKey, type KeyProfile, signingAlgorithm } from './keys.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** 802.1AR: an IDevID that never expires carries this notAfter (GeneralizedTime 99991231235959Z). */
export const NEVER_EXPIRES = new Date(Date.UTC(9999, 11, 31, 23, 59, 59));

/** The issuing side of a certificate: the CA certificate and its signing key. */
export interface Issuer {
  cert: x509.X509Certificate;
  key: CryptoKey;
  profile: KeyProfile;
}

/** What a new certificate says about its subject. */
export interface CertificateSpec {
  subject: x509.JsonName;
  publicKey: CryptoKey | x509.PublicKey;
  /** Absent: self-signed with `selfKey`. */
  issuer?: Issuer;
  /** For self-signed certificates: the subject's own private key and profile. */
  selfKey?: { key: CryptoKey; profile: KeyProfile };
  /** Makes a CA certificate; pathLength limits the intermediates below it. */
  ca?: { pathLength?: number };
  keyUsage: x509.KeyUsageFlags;
  extendedKeyUsage?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

/** A random positive 16-byte serial number in hex. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

/** Issues (or self-signs) one certificate with SKI/AKI, basic constraints and key usage. */
export async function issueCertificate(spec: CertificateSpec): Promise<x509.X509Certificate> {
  const signer = spec.issuer ?? spec.selfKey;
  if (!signer) throw new TypeError('a certificate needs an issuer or its own key');
  const profile = spec.issuer
    ? spec.issuer.profile
    : (spec.selfKey as { profile: KeyProfile }).profile;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(spec.ca !== undefined, spec.ca?.pathLength, true),
    new x509.KeyUsagesExtension(spec.keyUsage, true),
    await x509.SubjectKeyIdentifierExtension.create(spec.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(
      spec.issuer ? spec.issuer.cert.publicKey : spec.publicKey,
    ),
  ];
  if (spec.extendedKeyUsage)
    extensions.push(new x509.ExtendedKeyUsageExtension(spec.extendedKeyUsage));
  const names = [
    ...(spec.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(spec.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const notBefore = spec.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = spec.notAfter ?? new Date(notBefore.getTime() + 10 * 365 * 86_400_000);
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: spec.subject,
    issuer: spec.issuer ? spec.issuer.cert.subjectName : spec.subject,
    notBefore,
    notAfter,
    publicKey: spec.publicKey,
    signingKey: signer.key,
    signingAlgorithm: signingAlgorithm(profile),
    extensions,
  });
}

export const KeyUsage = x509.KeyUsageFlags;
export { x509 };
