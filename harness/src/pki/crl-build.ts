import { parseCertificate, subjectKeyId } from './cert-info.ts';
import { algorithmId } from './cms-build.ts';
import { CrlReasons } from './crl-read.ts';
import { bytesOf, contentOf, ctx, encodeTime, integer, oid, Tag, tlv } from './der.ts';
import { Oid } from './oids.ts';
import type { Signer } from './signer.ts';

/** A CRLReason name of RFC 5280 §5.3.1. */
export type CrlReason = Exclude<(typeof CrlReasons)[number], undefined>;

/** One certificate to list as revoked. */
export interface Revocation {
  /** The revoked certificate (DER), or its serial number as hex. */
  certificate?: Uint8Array;
  serial?: string;
  /** Default: the CRL's thisUpdate. */
  revokedAt?: Date;
  reason?: CrlReason;
  /** More entry extensions, after the reason code. */
  extraExtensions?: RawExtension[];
}

/** An extension to add as is; for CRLs that test how a verifier treats unknown extensions. */
export interface RawExtension {
  oid: string;
  critical: boolean;
  /** The DER value that goes inside the extension's OCTET STRING. */
  value: Uint8Array;
}

/** What a CRL says; the issuer is the CA behind `signer`. */
export interface CrlOptions {
  /** The CA's signer: its certificate gives the issuer name and key identifier. */
  signer: Signer;
  revoked?: Revocation[];
  /** Default: a minute ago, like the notBefore of lab certificates (device clocks lag). */
  thisUpdate?: Date;
  /** Default: 7 days after thisUpdate; null leaves the field out (RFC 5280 requires it). */
  nextUpdate?: Date | null;
  /** The cRLNumber extension; default 1. */
  number?: number;
  /** More CRL extensions, after authorityKeyIdentifier and cRLNumber. */
  extraExtensions?: RawExtension[];
}

const WEEK = 7 * 86_400_000;

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  const flag = critical ? [tlv(Tag.BOOLEAN, Uint8Array.of(0xff))] : [];
  return tlv(Tag.SEQUENCE, oid(id), ...flag, tlv(Tag.OCTET_STRING, value));
}

/** The contents of a positive INTEGER from hex, with the sign octet DER needs. */
function serialFromHex(hex: string): Uint8Array {
  const clean = hex.replaceAll(':', '').replace(/^0+(?=.)/, '');
  if (!/^[0-9a-fA-F]+$/.test(clean)) throw new TypeError(`serial "${hex}" is not hex`);
  const bytes = Buffer.from(clean.length % 2 ? `0${clean}` : clean, 'hex');
  return (bytes[0] as number) & 0x80 ? Uint8Array.of(0, ...bytes) : new Uint8Array(bytes);
}

function revokedEntry(r: Revocation, thisUpdate: Date): Uint8Array {
  let serial: Uint8Array;
  if (r.certificate) {
    serial = contentOf(parseCertificate(r.certificate, 'revoked certificate').serial);
  } else if (r.serial) {
    serial = serialFromHex(r.serial);
  } else {
    throw new TypeError('a revocation needs a certificate or a serial');
  }
  const reason = r.reason ? Uint8Array.of(CrlReasons.indexOf(r.reason)) : undefined;
  const extensions = [
    ...(reason ? [extension(Oid.crlReason, false, tlv(Tag.ENUMERATED, reason))] : []),
    ...(r.extraExtensions ?? []).map((e) => extension(e.oid, e.critical, e.value)),
  ];
  return tlv(
    Tag.SEQUENCE,
    tlv(Tag.INTEGER, serial),
    encodeTime(r.revokedAt ?? thisUpdate),
    ...(extensions.length > 0 ? [tlv(Tag.SEQUENCE, ...extensions)] : []),
  );
}

/**
 * Issues a v2 X.509 CRL (RFC 5280 §5) signed by a CA, with the authorityKeyIdentifier and
 * cRLNumber extensions RFC 5280 asks of every CRL. The signature comes from the {@link Signer},
 * so a CA key in a TPM works as well as one in a file.
 */
export async function issueCrl(options: CrlOptions): Promise<Uint8Array> {
  const { signer } = options;
  const ca = parseCertificate(signer.certificate, 'CRL issuer certificate');
  const thisUpdate = options.thisUpdate ?? new Date(Date.now() - 60_000);
  const nextUpdate =
    options.nextUpdate === null
      ? undefined
      : (options.nextUpdate ?? new Date(thisUpdate.getTime() + WEEK));
  const ski = subjectKeyId(ca);
  const extensions = [
    ...(ski ? [extension(Oid.authorityKeyId, false, tlv(Tag.SEQUENCE, tlv(0x80, ski)))] : []),
    extension(Oid.crlNumber, false, integer(options.number ?? 1)),
    ...(options.extraExtensions ?? []).map((e) => extension(e.oid, e.critical, e.value)),
  ];
  const revoked = (options.revoked ?? []).map((r) => revokedEntry(r, thisUpdate));
  const alg = algorithmId(signer.algorithm.signatureOid, signer.algorithm.nullParams);
  const tbs = tlv(
    Tag.SEQUENCE,
    integer(1),
    alg,
    bytesOf(ca.subject),
    encodeTime(thisUpdate),
    ...(nextUpdate ? [encodeTime(nextUpdate)] : []),
    ...(revoked.length > 0 ? [tlv(Tag.SEQUENCE, ...revoked)] : []),
    tlv(ctx(0), tlv(Tag.SEQUENCE, ...extensions)),
  );
  const signature = await signer.sign(tbs);
  return tlv(Tag.SEQUENCE, tbs, alg, tlv(Tag.BIT_STRING, Uint8Array.of(0), signature));
}
