import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { DigestBySignatureOid } from './oids.ts';

/**
 * Imported public keys by SubjectPublicKeyInfo. Importing a key costs node:crypto (OpenSSL 3.0
 * decoders) more than an ECDSA verification, and a device sees the same MASA signer, pinned CA
 * and owner keys on every bootstrap attempt, so imports are kept (bounded, oldest dropped).
 */
const cache = new Map<string, KeyObject>();
const LIMIT = 64;

/** The DER prefix of an uncompressed P-256 or P-384 SubjectPublicKeyInfo, by curve name. */
const EC_SPKI_PREFIX: Record<string, Buffer> = {
  'P-256': Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'),
  'P-384': Buffer.from('3076301006072a8648ce3d020106052b81040022036200', 'hex'),
};

/**
 * Imports an SPKI. A plain EC point goes in as a JWK, which node:crypto imports in about half
 * the time of its DER decoder (the point is still checked to lie on the curve); any other key
 * goes through the DER decoder.
 */
function importSpki(spki: Buffer): KeyObject {
  for (const [crv, prefix] of Object.entries(EC_SPKI_PREFIX)) {
    // The prefix fixes the length of the point: 04, then x and y of equal size.
    if (!spki.subarray(0, prefix.length).equals(prefix) || spki[prefix.length] !== 0x04) continue;
    const point = spki.subarray(prefix.length + 1);
    const half = point.length / 2;
    const x = point.subarray(0, half).toString('base64url');
    const y = point.subarray(half).toString('base64url');
    return createPublicKey({ format: 'jwk', key: { kty: 'EC', crv, x, y } });
  }
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}

/** The KeyObject for a DER SubjectPublicKeyInfo, imported once. */
export function publicKeyFor(spki: Uint8Array): KeyObject {
  const id = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString('base64');
  let key = cache.get(id);
  if (!key) {
    key = importSpki(Buffer.from(spki));
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
