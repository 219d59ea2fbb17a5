import { createPrivateKey, createPublicKey, type KeyObject, webcrypto } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';

/** WebCrypto types (the project compiles without the DOM library). */
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** The key algorithms a lab trust domain can use. */
export const KeyProfiles = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048'] as const;
export type KeyProfile = (typeof KeyProfiles)[number];

/** A generated key pair in both WebCrypto form (for @peculiar/x509) and node:crypto form. */
export interface LabKey {
  profile: KeyProfile;
  pair: CryptoKeyPair;
  privateKey: KeyObject;
  /** PKCS#8 PEM; written to files with mode 0600, never printed. */
  privatePem: string;
}

/** The WebCrypto signing algorithm for a key profile, as @peculiar/x509 wants it. */
export function signingAlgorithm(
  profile: KeyProfile,
): webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams {
  switch (profile) {
    case 'ecdsa-p256':
      return { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as webcrypto.EcKeyGenParams;
    case 'ecdsa-p384':
      return { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' } as webcrypto.EcKeyGenParams;
    case 'rsa-2048':
      return {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: Uint8Array.of(1, 0, 1),
        hash: 'SHA-256',
      };
  }
}

/** Checks a --key value, naming the accepted ones. */
export function parseKeyProfile(value: string): KeyProfile {
  if ((KeyProfiles as readonly string[]).includes(value)) return value as KeyProfile;
  throw new TypeError(`key algorithm "${value}" is not one of ${KeyProfiles.join(', ')}`);
}

/** Makes a new extractable key pair of the given profile. */
export async function generateKey(profile: KeyProfile): Promise<LabKey> {
  const pair = (await webcrypto.subtle.generateKey(signingAlgorithm(profile), true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const pkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', pair.privateKey));
  const privateKey = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return { profile, pair, privateKey, privatePem };
}

/** Loads a PEM private key (PKCS#8, SEC1 or PKCS#1) as a WebCrypto key pair for signing. */
export async function importSigningKey(pem: string): Promise<LabKey> {
  const privateKey = createPrivateKey(pem);
  const profile = profileOf(privateKey);
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const algorithm = signingAlgorithm(profile);
  const priv = await webcrypto.subtle.importKey('pkcs8', pkcs8, algorithm, true, ['sign']);
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const pub = await webcrypto.subtle.importKey('spki', spki, algorithm, true, ['verify']);
  const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return { profile, pair: { privateKey: priv, publicKey: pub }, privateKey, privatePem };
}

/** The key profile of a private or public key object. */
export function profileOf(key: KeyObject): KeyProfile {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') {
    if (details?.namedCurve === 'prime256v1') return 'ecdsa-p256';
    if (details?.namedCurve === 'secp384r1') return 'ecdsa-p384';
  }
  if (key.asymmetricKeyType === 'rsa') return 'rsa-2048';
  throw new TypeError(
    `key type ${key.asymmetricKeyType ?? 'unknown'} ${details?.namedCurve ?? ''} is not supported`,
  );
}

/** Writes a private key PEM readable by its owner only (mode 0600). */
export async function writePrivateKey(path: string, pem: string): Promise<void> {
  await writeFile(path, pem, { mode: 0o600 });
  await chmod(path, 0o600);
}
