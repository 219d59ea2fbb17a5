import { createDecipheriv, createHash, webcrypto } from 'node:crypto';
import { parseCertificate, subjectKeyId, subjectText } from './cert-info.ts';
import { contentInfo } from './cms-build.ts';
import { octets } from './cms-read.ts';
import { fail } from './codes.ts';
import {
  bytesOf,
  children,
  contentOf,
  ctx,
  decodeOid,
  definite,
  equalBytes,
  expectTag,
  parseDer,
  Tag,
  type Tlv,
  tlv,
} from './der.ts';
import { Oid } from './oids.ts';
import type { Decrypter, RsaPadding } from './signer.ts';

/**
 * pkijs, loaded on the first encryption: only the servers encrypt, and a device (which only
 * decrypts, with the code below) then never spends its start-up evaluating it.
 */
let pkijsLoaded: Promise<typeof import('pkijs')> | undefined;
function loadPkijs(): Promise<typeof import('pkijs')> {
  pkijsLoaded ??= import('pkijs').then((pkijs) => {
    pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as never }));
    return pkijs;
  });
  return pkijsLoaded;
}

/**
 * Encrypts `content` to one recipient certificate as CMS EnvelopedData with AES-256-CBC: RSA
 * certificates get RSA-OAEP (SHA-256) key transport, EC certificates ECDH key agreement
 * (dhSinglePass-stdDH-sha256kdf, AES-256 key wrap). `innerType` labels the encrypted content.
 */
export async function encryptTo(
  recipient: Uint8Array,
  innerType: string,
  content: Uint8Array,
): Promise<Uint8Array> {
  const pkijs = await loadPkijs();
  const cert = pkijs.Certificate.fromBER(recipient);
  const enveloped = new pkijs.EnvelopedData();
  enveloped.addRecipientByCertificate(cert, {
    oaepHashAlgorithm: 'SHA-256',
    kdfAlgorithm: 'SHA-256',
    kekEncryptionLength: 256,
  });
  const plain = content.buffer.slice(content.byteOffset, content.byteOffset + content.byteLength);
  await enveloped.encrypt({ name: 'AES-CBC', length: 256 } as never, plain as ArrayBuffer);
  enveloped.encryptedContentInfo.contentType = innerType;
  const ber = new Uint8Array(enveloped.toSchema().toBER());
  return contentInfo(Oid.envelopedData, definite(parseDer(ber, 'EnvelopedData')));
}

/** What decryption yields: the inner label and the plaintext. */
export interface Decrypted {
  innerType: string;
  plaintext: Uint8Array;
}

const WRAP_BITS: Record<string, number> = {
  [Oid.aes128Wrap]: 128,
  [Oid.aes192Wrap]: 192,
  [Oid.aes256Wrap]: 256,
};
const KDF_HASH: Record<string, string> = {
  [Oid.ecdhSha256Kdf]: 'sha256',
  [Oid.ecdhSha384Kdf]: 'sha384',
  [Oid.ecdhSha512Kdf]: 'sha512',
  [Oid.ecdhSha1Kdf]: 'sha1',
};
const CBC: Record<string, string> = {
  [Oid.aes128Cbc]: 'aes-128-cbc',
  [Oid.aes192Cbc]: 'aes-192-cbc',
  [Oid.aes256Cbc]: 'aes-256-cbc',
};
const HASH_NAMES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  [Oid.sha256]: 'sha256',
  [Oid.sha384]: 'sha384',
  [Oid.sha512]: 'sha512',
};

/** Whether a RecipientIdentifier (IssuerAndSerialNumber or [0] key id) names our certificate. */
function ridMatches(rid: Tlv, cert: ReturnType<typeof parseCertificate>): boolean {
  if (rid.tag === Tag.SEQUENCE) {
    const [issuer, serial] = children(rid, 'rid');
    return (
      equalBytes(bytesOf(issuer as Tlv), bytesOf(cert.issuer)) &&
      equalBytes(bytesOf(serial as Tlv), bytesOf(cert.serial))
    );
  }
  const ski = subjectKeyId(cert);
  if (!ski) return false;
  // ktri: [0] IMPLICIT SubjectKeyIdentifier; kari: [0] IMPLICIT RecipientKeyIdentifier.
  const id = rid.tag === 0x80 ? contentOf(rid) : contentOf(children(rid, 'rid')[0] as Tlv);
  return equalBytes(id, ski);
}

/** X9.63 KDF as RFC 5753 uses it: Hash(Z || counter || ECC-CMS-SharedInfo) until long enough. */
function x963Kdf(hash: string, z: Uint8Array, sharedInfo: Uint8Array, bytes: number): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 1; blocks.length * createHash(hash).digest().length < bytes; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    blocks.push(createHash(hash).update(z).update(c).update(sharedInfo).digest());
  }
  return Buffer.concat(blocks).subarray(0, bytes);
}

function unwrap(wrapOid: string, kek: Buffer, wrapped: Uint8Array): Buffer {
  const bits = WRAP_BITS[wrapOid] as number;
  const decipher = createDecipheriv(
    `id-aes${bits}-wrap`,
    kek,
    Buffer.from('a6a6a6a6a6a6a6a6', 'hex'),
  );
  return Buffer.concat([decipher.update(wrapped), decipher.final()]);
}

async function keyFromKtri(
  ktri: Tlv,
  decrypter: Decrypter,
  cert: ReturnType<typeof parseCertificate>,
) {
  const [, rid, alg, encryptedKey] = children(ktri, 'KeyTransRecipientInfo');
  if (!ridMatches(rid as Tlv, cert)) return undefined;
  const algParts = children(alg as Tlv, 'keyEncryptionAlgorithm');
  const algOid = decodeOid(algParts[0] as Tlv, 'keyEncryptionAlgorithm');
  let padding: RsaPadding;
  if (algOid === Oid.rsaEncryption) padding = { scheme: 'pkcs1' };
  else if (algOid === Oid.rsaOaep) {
    let hash = 'sha1';
    const params = algParts[1];
    if (params?.tag === Tag.SEQUENCE) {
      const hashField = children(params, 'RSAES-OAEP-params').find((p) => p.tag === ctx(0));
      if (hashField) {
        const hashAlg = children(hashField, 'oaep hash')[0] as Tlv;
        const hashOid = decodeOid(children(hashAlg, 'oaep hash')[0] as Tlv, 'oaep hash');
        hash =
          HASH_NAMES[hashOid] ?? fail('DECRYPTION_FAILED', `OAEP hash ${hashOid} is not supported`);
      }
    }
    padding = { scheme: 'oaep', hash };
  } else return fail('DECRYPTION_FAILED', `key transport algorithm ${algOid} is not supported`);
  return decrypter.decryptKey(
    contentOf(expectTag(encryptedKey, Tag.OCTET_STRING, 'encryptedKey')),
    padding,
  );
}

async function keyFromKari(
  kari: Tlv,
  decrypter: Decrypter,
  cert: ReturnType<typeof parseCertificate>,
) {
  const parts = children(kari, 'KeyAgreeRecipientInfo');
  const originator = children(expectTag(parts[1], ctx(0), 'originator'), 'originator')[0] as Tlv;
  if (originator?.tag !== ctx(1)) {
    return fail('DECRYPTION_FAILED', 'key agreement originator is not an ephemeral public key');
  }
  let i = 2;
  const ukm = parts[i]?.tag === ctx(1) ? contentOf(parts[i++] as Tlv) : undefined;
  const kekAlg = children(parts[i++] as Tlv, 'keyEncryptionAlgorithm');
  const kdfOid = decodeOid(kekAlg[0] as Tlv, 'keyEncryptionAlgorithm');
  const hash =
    KDF_HASH[kdfOid] ?? fail('DECRYPTION_FAILED', `key agreement ${kdfOid} is not supported`);
  const wrapAlg = kekAlg[1] as Tlv;
  const wrapOid = decodeOid(children(wrapAlg, 'key wrap')[0] as Tlv, 'key wrap');
  const bits =
    WRAP_BITS[wrapOid] ?? fail('DECRYPTION_FAILED', `key wrap ${wrapOid} is not supported`);
  const recipient = children(parts[i] as Tlv, 'recipientEncryptedKeys').find((rek) =>
    ridMatches(children(rek, 'rid')[0] as Tlv, cert),
  );
  if (!recipient) return undefined;
  // The originator key may omit the curve; the recipient certificate's algorithm supplies it.
  const [, originatorBits] = children(originator, 'originatorKey');
  const ownAlg = children(parseDer(cert.spki, 'spki'), 'spki')[0] as Tlv;
  const spki = tlv(Tag.SEQUENCE, bytesOf(ownAlg), bytesOf(originatorBits as Tlv));
  const z = await decrypter.deriveSecret(spki);
  const sharedInfo = tlv(
    Tag.SEQUENCE,
    bytesOf(wrapAlg),
    ...(ukm ? [tlv(ctx(0), ukm)] : []),
    tlv(ctx(2), tlv(Tag.OCTET_STRING, Uint8Array.of(0, 0, (bits >> 8) & 0xff, bits & 0xff))),
  );
  const kek = x963Kdf(hash, z, sharedInfo, bits / 8);
  const encryptedKey = children(recipient, 'RecipientEncryptedKey')[1] as Tlv;
  return unwrap(wrapOid, kek, contentOf(expectTag(encryptedKey, Tag.OCTET_STRING, 'encryptedKey')));
}

/**
 * Opens EnvelopedData with the identity key behind `decrypter`. Fails DECRYPTION_FAILED when no
 * recipient names the identity certificate, when the key cannot be recovered, or the padding
 * is wrong; CMS_MALFORMED (via DerError) when the structure is broken.
 */
export async function decryptEnveloped(content: Tlv, decrypter: Decrypter): Promise<Decrypted> {
  const cert = parseCertificate(decrypter.certificate, 'identity certificate');
  const parts = children(expectTag(content, Tag.SEQUENCE, 'EnvelopedData'), 'EnvelopedData');
  let i = 1;
  if (parts[i]?.tag === ctx(0)) i++;
  const recipients = children(expectTag(parts[i++], Tag.SET, 'recipientInfos'), 'recipientInfos');
  const eci = children(expectTag(parts[i], Tag.SEQUENCE, 'encryptedContentInfo'), 'eci');
  const innerType = decodeOid(eci[0] as Tlv, 'encryptedContentInfo contentType');
  const cipherAlg = children(eci[1] as Tlv, 'contentEncryptionAlgorithm');
  const cipherOid = decodeOid(cipherAlg[0] as Tlv, 'contentEncryptionAlgorithm');
  const cipher =
    CBC[cipherOid] ?? fail('DECRYPTION_FAILED', `content cipher ${cipherOid} is not supported`);
  const iv = contentOf(expectTag(cipherAlg[1], Tag.OCTET_STRING, 'content cipher IV'));
  const encrypted = eci[2];
  if (!encrypted) fail('DECRYPTION_FAILED', 'EnvelopedData has no encrypted content');
  const ciphertext =
    encrypted.tag === 0x80
      ? contentOf(encrypted)
      : octets({ ...encrypted, tag: Tag.OCTET_STRING | 0x20 }, 'eci');
  let cek: Uint8Array | undefined;
  try {
    for (const ri of recipients) {
      if (ri.tag === Tag.SEQUENCE) cek = await keyFromKtri(ri, decrypter, cert);
      else if (ri.tag === ctx(1)) cek = await keyFromKari(ri, decrypter, cert);
      if (cek) break;
    }
  } catch (error) {
    if (error instanceof Error && error.name === 'PkiError') throw error;
    fail(
      'DECRYPTION_FAILED',
      `the content-encryption key cannot be recovered: ${(error as Error).message}`,
      error,
    );
  }
  if (!cek) {
    fail(
      'DECRYPTION_FAILED',
      `no recipient of the EnvelopedData is the identity certificate "${subjectText(cert)}"`,
    );
  }
  try {
    const decipher = createDecipheriv(cipher, cek, iv);
    const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    return { innerType, plaintext: new Uint8Array(plaintext) };
  } catch (error) {
    return fail(
      'DECRYPTION_FAILED',
      `content decryption failed: ${(error as Error).message}`,
      error,
    );
  }
}
