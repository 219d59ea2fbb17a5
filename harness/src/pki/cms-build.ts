import { createHash } from 'node:crypto';
import { parseCertificate } from './cert-info.ts';
import { bytesOf, ctx, encodeTime, integer, oid, sortDer, Tag, tlv } from './der.ts';
import { Oid } from './oids.ts';
import type { SignatureAlgorithm, Signer } from './signer.ts';

const NULL = Uint8Array.of(Tag.NULL, 0);

/** ContentInfo ::= SEQUENCE { contentType, [0] EXPLICIT content }. */
export function contentInfo(contentType: string, content: Uint8Array): Uint8Array {
  return tlv(Tag.SEQUENCE, oid(contentType), tlv(ctx(0), content));
}

/** Unsigned conveyed information: a ContentInfo whose content is the document as OCTET STRING. */
export function unsignedContent(contentType: string, data: Uint8Array): Uint8Array {
  return contentInfo(contentType, tlv(Tag.OCTET_STRING, data));
}

/** An AlgorithmIdentifier; `nullParams` adds the NULL parameters RSA identifiers carry. */
export function algorithmId(dotted: string, nullParams: boolean): Uint8Array {
  return nullParams ? tlv(Tag.SEQUENCE, oid(dotted), NULL) : tlv(Tag.SEQUENCE, oid(dotted));
}

function attribute(type: string, value: Uint8Array): Uint8Array {
  return tlv(Tag.SEQUENCE, oid(type), tlv(Tag.SET, value));
}

/** What a signed artifact carries besides the content. */
export interface SignOptions {
  signer: Signer;
  /** eContentType: a specific OID or id-data. */
  contentType: string;
  content: Uint8Array;
  /** DER certificates for the `certificates` field (the signer's chain); none by default. */
  certificates?: Uint8Array[];
  signingTime?: Date;
}

/**
 * Builds an attached CMS SignedData (RFC 5652) with signed attributes contentType, signingTime
 * and messageDigest. The signature comes from the {@link Signer}, which may be a TPM.
 */
export async function signContent(options: SignOptions): Promise<Uint8Array> {
  const { signer } = options;
  const alg: SignatureAlgorithm = signer.algorithm;
  const digest = createHash(alg.digest).update(options.content).digest();
  const attrs = [
    attribute(Oid.contentTypeAttr, oid(options.contentType)),
    attribute(Oid.signingTimeAttr, encodeTime(options.signingTime ?? new Date())),
    attribute(Oid.messageDigestAttr, tlv(Tag.OCTET_STRING, digest)),
  ];
  // The signature covers the DER SET OF; the SignerInfo carries the same bytes as [0] IMPLICIT.
  const sorted = sortDer(attrs);
  const signature = await signer.sign(tlv(Tag.SET, ...sorted));
  const cert = parseCertificate(signer.certificate, 'signer certificate');
  const signerInfo = tlv(
    Tag.SEQUENCE,
    integer(1),
    tlv(Tag.SEQUENCE, bytesOf(cert.issuer), bytesOf(cert.serial)),
    algorithmId(alg.digestOid, false),
    tlv(ctx(0), ...sorted),
    algorithmId(alg.signatureOid, alg.nullParams),
    tlv(Tag.OCTET_STRING, signature),
  );
  const certs = options.certificates ?? [];
  const signedData = tlv(
    Tag.SEQUENCE,
    integer(options.contentType === Oid.data ? 1 : 3),
    tlv(Tag.SET, algorithmId(alg.digestOid, false)),
    tlv(
      Tag.SEQUENCE,
      oid(options.contentType),
      tlv(ctx(0), tlv(Tag.OCTET_STRING, options.content)),
    ),
    ...(certs.length > 0 ? [tlv(ctx(0), ...certs)] : []),
    tlv(Tag.SET, signerInfo),
  );
  return contentInfo(Oid.signedData, signedData);
}

/**
 * A degenerate SignedData: no signers, no content, only certificates (and CRLs). This is the
 * owner-certificate artifact and the form of trust anchors in redirect information.
 */
export function certificatesOnly(certificates: Uint8Array[], crls: Uint8Array[] = []): Uint8Array {
  const signedData = tlv(
    Tag.SEQUENCE,
    integer(1),
    tlv(Tag.SET),
    tlv(Tag.SEQUENCE, oid(Oid.data)),
    tlv(ctx(0), ...certificates),
    ...(crls.length > 0 ? [tlv(ctx(1), ...crls)] : []),
    tlv(Tag.SET),
  );
  return contentInfo(Oid.signedData, signedData);
}
