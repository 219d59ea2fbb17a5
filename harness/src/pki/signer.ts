import {
  constants,
  createPublicKey,
  diffieHellman,
  type KeyObject,
  privateDecrypt,
  sign,
  X509Certificate,
} from 'node:crypto';
import { Oid } from './oids.ts';

/** How a signature is labelled in a CMS SignerInfo. */
export interface SignatureAlgorithm {
  /** node:crypto digest name: sha256 or sha384. */
  digest: 'sha256' | 'sha384';
  digestOid: string;
  signatureOid: string;
  /** RSA algorithm identifiers carry NULL parameters; ECDSA ones carry none. */
  nullParams: boolean;
}

/**
 * Something that signs with a private key it may not reveal: a software key for the lab CAs
 * and the owner, later a TPM reached through a child process.
 */
export interface Signer {
  /** The DER certificate of the signing key. */
  readonly certificate: Uint8Array;
  readonly algorithm: SignatureAlgorithm;
  /** Hashes `data` with the algorithm's digest and signs it; ECDSA signatures are DER. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** RSA key-transport padding of an encrypted content-encryption key. */
export type RsaPadding = { scheme: 'pkcs1' } | { scheme: 'oaep'; hash: string };

/**
 * What the device needs from its identity key to open EnvelopedData: one RSA decryption or one
 * ECDH derivation. The rest (KDF, key unwrap, content decryption) happens in software.
 */
export interface Decrypter {
  /** The DER identity (IDevID) certificate whose key this is. */
  readonly certificate: Uint8Array;
  /** RSA: decrypts an encrypted content-encryption key. */
  decryptKey(encryptedKey: Uint8Array, padding: RsaPadding): Promise<Uint8Array>;
  /** ECDH: the shared secret Z with the originator's public key (DER SubjectPublicKeyInfo). */
  deriveSecret(originatorSpki: Uint8Array): Promise<Uint8Array>;
}

/** The CMS signature algorithm a key's type implies. */
export function algorithmFor(key: KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === 'ec') {
    const p384 = key.asymmetricKeyDetails?.namedCurve === 'secp384r1';
    return p384
      ? {
          digest: 'sha384',
          digestOid: Oid.sha384,
          signatureOid: Oid.ecdsaSha384,
          nullParams: false,
        }
      : {
          digest: 'sha256',
          digestOid: Oid.sha256,
          signatureOid: Oid.ecdsaSha256,
          nullParams: false,
        };
  }
  if (key.asymmetricKeyType === 'rsa') {
    return {
      digest: 'sha256',
      digestOid: Oid.sha256,
      signatureOid: Oid.rsaSha256,
      nullParams: true,
    };
  }
  throw new TypeError(`cannot sign CMS with a ${key.asymmetricKeyType ?? 'unknown'} key`);
}

/** A signer over a private key held in this process. */
export class SoftwareSigner implements Signer {
  readonly certificate: Uint8Array;
  readonly algorithm: SignatureAlgorithm;
  readonly #key: KeyObject;

  constructor(certificate: Uint8Array, privateKey: KeyObject) {
    this.certificate = certificate;
    this.#key = privateKey;
    this.algorithm = algorithmFor(privateKey);
    const certKey = new X509Certificate(certificate).publicKey.export({
      format: 'der',
      type: 'spki',
    });
    const ownKey = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
    if (!certKey.equals(ownKey))
      throw new TypeError('the private key does not match the certificate');
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    return sign(this.algorithm.digest, data, this.#key);
  }
}

/**
 * A decrypter over a private key held in this process. RSA PKCS#1 v1.5 key transport (openssl's
 * default) is refused by Node 20 for private decryption (Marvin attack hardening), so that case is
 * delegated to `fallback`, normally an {@link OpenSslDecrypter} on the same key.
 */
export class SoftwareDecrypter implements Decrypter {
  readonly certificate: Uint8Array;
  readonly #key: KeyObject;
  readonly #fallback: Decrypter | undefined;

  constructor(certificate: Uint8Array, privateKey: KeyObject, fallback?: Decrypter) {
    this.certificate = certificate;
    this.#key = privateKey;
    this.#fallback = fallback;
  }

  async decryptKey(encryptedKey: Uint8Array, padding: RsaPadding): Promise<Uint8Array> {
    if (padding.scheme === 'pkcs1') {
      if (this.#fallback) return this.#fallback.decryptKey(encryptedKey, padding);
      throw new Error('RSA PKCS#1 v1.5 key transport needs the openssl decrypter');
    }
    return privateDecrypt(
      { key: this.#key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: padding.hash },
      encryptedKey,
    );
  }

  async deriveSecret(originatorSpki: Uint8Array): Promise<Uint8Array> {
    const publicKey = createPublicKey({
      key: Buffer.from(originatorSpki),
      format: 'der',
      type: 'spki',
    });
    return diffieHellman({ privateKey: this.#key, publicKey });
  }
}
