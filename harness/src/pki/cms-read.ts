import { createHash } from 'node:crypto';
import type { CertInfo } from './cert-info.ts';
import {
  bytesOf,
  children,
  contentOf,
  ctx,
  DerError,
  decodeOid,
  equalBytes,
  expectTag,
  parseDer,
  Tag,
  type Tlv,
} from './der.ts';
import { DigestByOid, DigestBySignatureOid, Oid } from './oids.ts';
import { verifyWith } from './public-keys.ts';

/** A parsed ContentInfo: its type and the TLV inside the [0] wrapper. */
export interface ContentInfo {
  contentType: string;
  content: Tlv;
}

/** Parses the outer ContentInfo of a CMS object. */
export function readContentInfo(der: Uint8Array, where: string): ContentInfo {
  const seq = expectTag(parseDer(der, where), Tag.SEQUENCE, where);
  const [type, wrapped] = children(seq, where);
  const contentType = decodeOid(type as Tlv, `${where} contentType`);
  const [content] = children(expectTag(wrapped, ctx(0), `${where} content`), where);
  if (!content) throw new DerError(where, 'empty content');
  return { contentType, content };
}

/** The bytes of an OCTET STRING, joining the segments of a constructed (BER) one. */
export function octets(tlv: Tlv, where: string): Uint8Array {
  if (tlv.tag === Tag.OCTET_STRING) return contentOf(tlv);
  if (tlv.tag === (Tag.OCTET_STRING | 0x20)) {
    return Buffer.concat(children(tlv, where).map((part) => octets(part, where)));
  }
  return contentOf(expectTag(tlv, Tag.OCTET_STRING, where));
}

/** How a SignerInfo names its certificate. */
export type SignerId = { issuer: Uint8Array; serial: Uint8Array } | { keyId: Uint8Array };

/** The fields of a SignerInfo the verifier uses. */
export interface SignerInfo {
  sid: SignerId;
  digestOid: string;
  /** The signed attributes re-tagged as SET OF, which is what was signed. */
  signedAttrs?: Uint8Array;
  attrContentType?: string;
  attrMessageDigest?: Uint8Array;
  signatureOid: string;
  signature: Uint8Array;
}

/** The fields of a SignedData the verifier uses. */
export interface SignedData {
  eContentType: string;
  eContent?: Uint8Array;
  certificates: Uint8Array[];
  crls: Uint8Array[];
  signerInfos: SignerInfo[];
}

/** Parses the SignedData inside a ContentInfo. */
export function readSignedData(content: Tlv, where: string): SignedData {
  const parts = children(expectTag(content, Tag.SEQUENCE, `${where} SignedData`), where);
  const encap = children(expectTag(parts[2], Tag.SEQUENCE, `${where} encapContentInfo`), where);
  const eContentType = decodeOid(encap[0] as Tlv, `${where} eContentType`);
  let eContent: Uint8Array | undefined;
  if (encap[1]) {
    const [inner] = children(expectTag(encap[1], ctx(0), `${where} eContent`), where);
    if (!inner) throw new DerError(`${where} eContent`, 'empty');
    eContent = octets(inner, `${where} eContent`);
  }
  const certificates: Uint8Array[] = [];
  const crls: Uint8Array[] = [];
  let signerSet: Tlv | undefined;
  for (const part of parts.slice(3)) {
    if (part.tag === ctx(0)) {
      for (const cert of children(part, `${where} certificates`)) {
        if (cert.tag === Tag.SEQUENCE) certificates.push(bytesOf(cert));
      }
    } else if (part.tag === ctx(1)) {
      for (const crl of children(part, `${where} crls`)) crls.push(bytesOf(crl));
    } else {
      signerSet = part;
    }
  }
  const signers = children(expectTag(signerSet, Tag.SET, `${where} signerInfos`), where);
  const signerInfos = signers.map((s, i) => readSignerInfo(s, `${where} signerInfo ${i}`));
  return {
    eContentType,
    ...(eContent ? { eContent } : {}),
    certificates,
    crls,
    signerInfos,
  };
}

function readSignerInfo(tlv: Tlv, where: string): SignerInfo {
  const parts = children(expectTag(tlv, Tag.SEQUENCE, where), where);
  const sidTlv = parts[1] as Tlv;
  let sid: SignerId;
  if (sidTlv?.tag === Tag.SEQUENCE) {
    const [issuer, serial] = children(sidTlv, `${where} sid`);
    sid = {
      issuer: bytesOf(expectTag(issuer, Tag.SEQUENCE, `${where} sid issuer`)),
      serial: bytesOf(expectTag(serial, Tag.INTEGER, `${where} sid serial`)),
    };
  } else {
    sid = { keyId: contentOf(expectTag(sidTlv, 0x80, `${where} sid`)) };
  }
  const digestOid = decodeOid(children(parts[2] as Tlv, where)[0] as Tlv, `${where} digest`);
  let i = 3;
  const info: SignerInfo = { sid, digestOid, signatureOid: '', signature: new Uint8Array() };
  if (parts[i]?.tag === ctx(0)) {
    const attrs = parts[i++] as Tlv;
    const raw = new Uint8Array(bytesOf(attrs));
    raw[0] = Tag.SET;
    info.signedAttrs = raw;
    for (const attr of children(attrs, `${where} signedAttrs`)) {
      const [type, values] = children(attr, `${where} attribute`);
      const first = children(expectTag(values, Tag.SET, `${where} attribute values`), where)[0];
      const id = decodeOid(type as Tlv, `${where} attribute type`);
      if (id === Oid.contentTypeAttr && first) info.attrContentType = decodeOid(first, where);
      if (id === Oid.messageDigestAttr && first) info.attrMessageDigest = contentOf(first);
    }
  }
  info.signatureOid = decodeOid(children(parts[i++] as Tlv, where)[0] as Tlv, `${where} sigalg`);
  info.signature = contentOf(expectTag(parts[i], Tag.OCTET_STRING, `${where} signature`));
  return info;
}

/** Whether a certificate is the one a SignerInfo names. */
export function matchesSigner(cert: CertInfo, sid: SignerId, ski?: Uint8Array): boolean {
  if ('keyId' in sid) return ski !== undefined && equalBytes(ski, sid.keyId);
  return (
    equalBytes(bytesOf(cert.serial), sid.serial) && equalBytes(bytesOf(cert.issuer), sid.issuer)
  );
}

/**
 * Checks one SignerInfo over `content` with the signer's certificate. Returns undefined when it
 * verifies, else a sentence saying what did not match.
 */
export function checkSignerInfo(
  si: SignerInfo,
  eContentType: string,
  content: Uint8Array,
  signer: CertInfo,
): string | undefined {
  const digest = DigestByOid[si.digestOid];
  if (!digest) return `digest algorithm ${si.digestOid} is not supported`;
  const sigDigest = DigestBySignatureOid[si.signatureOid];
  const generic = si.signatureOid === Oid.rsaEncryption || si.signatureOid === Oid.ecPublicKey;
  if (!sigDigest && !generic) return `signature algorithm ${si.signatureOid} is not supported`;
  let signed = content;
  if (si.signedAttrs) {
    if (si.attrContentType !== eContentType) {
      return `signed contentType attribute ${si.attrContentType ?? '(absent)'} is not the eContentType ${eContentType}`;
    }
    const actual = createHash(digest).update(content).digest();
    if (!si.attrMessageDigest || !equalBytes(actual, si.attrMessageDigest)) {
      return 'the messageDigest attribute does not match the content (content changed after signing)';
    }
    signed = si.signedAttrs;
  }
  const ok = verifyWith(signer.spki, si.signatureOid, signed, si.signature, sigDigest ?? digest);
  return ok ? undefined : 'the signature value does not verify with the signer certificate key';
}
