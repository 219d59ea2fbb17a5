import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { DigestBySignatureOid } from './oids.ts';

/**
 * Imported public keys by SubjectPublicKeyInfo. Importing a key costs node:crypto (OpenSSL 3.0
 * decoders) more than an ECDSA verification, and a device sees the same MASA signer, pinned CA
 * and owner keys on every bootstrap attempt, so imports are kept (bounded, oldest dropped).
 */
const cache = new Map<string, KeyObject>();
const LIMIT = 64;

/** The KeyObject for a DER SubjectPublicKeyInfo, imported once. */
export function publicKeyFor(spki: Uint8Array): KeyObject {
  const id = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString('base64');
  let key = cache.get(id);
  if (!key) {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    if (cache.size >= LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(id, key);
  }
  return key;
}

/** Forgets every imported key (for benchmarks that measure cold verification). */
export function clearPublicKeys(): void {
  cache.clear();
}

/** Verifies a signature by the key in `spki`; `signatureOid` picks the digest. */
export function verifyWith(
  spki: Uint8Array,
  signatureOid: string,
  data: Uint8Array,
  signature: Uint8Array,
  digestOverride?: string,
): boolean {
  const digest = digestOverride ?? DigestBySignatureOid[signatureOid];
  if (!digest) return false;
  try {
    return verify(digest, data, publicKeyFor(spki), signature);
  } catch {
    return false;
  }
}
