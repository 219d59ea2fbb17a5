import { type Extension, readExtensions } from './cert-info.ts';
import {
  bytesOf,
  children,
  contentOf,
  ctx,
  DerError,
  decodeOid,
  decodeTime,
  equalBytes,
  expectTag,
  parseDer,
  Tag,
  type Tlv,
} from './der.ts';
import { Oid } from './oids.ts';

/** One revoked certificate: its serial (the INTEGER contents), when, and why if the CRL says. */
export interface RevokedEntry {
  serial: Uint8Array;
  revokedAt: Date;
  /** The CRLReason value (RFC 5280 §5.3.1), when the entry carries one. */
  reason?: number;
}

/** The parts of an X.509 CRL (RFC 5280 §5.1) the revocation check needs. */
export interface CrlInfo {
  der: Uint8Array;
  /** The signed part, its signature algorithm and the signature value. */
  tbs: Uint8Array;
  signatureOid: string;
  signature: Uint8Array;
  issuer: Tlv;
  thisUpdate: Date;
  nextUpdate?: Date;
  revoked: RevokedEntry[];
  extensions: Map<string, Extension>;
  /**
   * Critical CRL or entry extensions this reader does not process, by name. RFC 5280 §5.2 and
   * §5.3: a CRL with one of these must not be used to decide any certificate's status.
   */
  unsupportedCritical: string[];
}

/** Extensions whose meaning this reader applies or may safely ignore. */
const UNDERSTOOD_CRL_EXTENSIONS = new Set<string>([Oid.authorityKeyId, Oid.crlNumber]);
const UNDERSTOOD_ENTRY_EXTENSIONS = new Set<string>([Oid.crlReason, Oid.invalidityDate]);

/** Names of the critical extensions CRLs carry in practice, for messages. */
const EXTENSION_NAMES: Record<string, string> = {
  [Oid.deltaCrlIndicator]: 'deltaCRLIndicator (a delta CRL)',
  [Oid.issuingDistributionPoint]: 'issuingDistributionPoint (a partitioned or indirect CRL)',
  [Oid.certificateIssuer]: 'certificateIssuer (an indirect CRL entry)',
};

/** The CRLReason names of RFC 5280 §5.3.1, by value (7 is unused). */
export const CrlReasons = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  undefined,
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
] as const;

function isTime(tlv: Tlv | undefined): tlv is Tlv {
  return tlv?.tag === Tag.UTC_TIME || tlv?.tag === Tag.GENERALIZED_TIME;
}

function unsupported(extensions: Map<string, Extension>, understood: Set<string>): string[] {
  const out: string[] = [];
  for (const [id, ext] of extensions) {
    if (ext.critical && !understood.has(id)) {
      out.push(EXTENSION_NAMES[id] ? `${EXTENSION_NAMES[id]}, ${id}` : id);
    }
  }
  return out;
}

function readEntry(entry: Tlv, where: string, unknown: string[]): RevokedEntry {
  const [serial, date, exts] = children(expectTag(entry, Tag.SEQUENCE, where), where);
  if (!isTime(date)) throw new DerError(`${where} revocationDate`, 'missing or not a time');
  const out: RevokedEntry = {
    serial: contentOf(expectTag(serial, Tag.INTEGER, `${where} userCertificate`)),
    revokedAt: decodeTime(date, `${where} revocationDate`),
  };
  if (!exts) return out;
  const extensions = readExtensions(exts, `${where} crlEntryExtensions`);
  const reason = extensions.get(Oid.crlReason);
  if (reason) {
    const at = `${where} reasonCode`;
    const value = contentOf(expectTag(parseDer(reason.value, at), Tag.ENUMERATED, at));
    if (value.length !== 1) throw new DerError(at, 'not a one-octet ENUMERATED');
    out.reason = value[0] as number;
  }
  for (const id of unsupported(extensions, UNDERSTOOD_ENTRY_EXTENSIONS)) {
    if (!unknown.includes(id)) unknown.push(id);
  }
  return out;
}

/**
 * Parses a DER CertificateList: TBSCertList (optional version, signature algorithm, issuer,
 * thisUpdate, optional nextUpdate, optional revokedCertificates, optional [0] extensions), then
 * the signature algorithm and value. A DerError names the field that broke.
 */
export function parseCrl(der: Uint8Array, where = 'CRL'): CrlInfo {
  const list = expectTag(parseDer(der, where), Tag.SEQUENCE, where);
  const [tbs, sigAlg, sigValue, extra] = children(list, where);
  if (extra) throw new DerError(where, 'more than three fields in CertificateList');
  const fields = children(expectTag(tbs, Tag.SEQUENCE, `${where} tbsCertList`), where);
  let i = 0;
  if (fields[0]?.tag === Tag.INTEGER) {
    const version = contentOf(fields[0]);
    if (version.length !== 1 || version[0] !== 1) {
      throw new DerError(`${where} version`, 'only v2 (1) may be written; v1 omits the field');
    }
    i++;
  }
  const innerAlg = expectTag(fields[i++], Tag.SEQUENCE, `${where} signature`);
  const outerAlg = expectTag(sigAlg, Tag.SEQUENCE, `${where} signatureAlgorithm`);
  if (!equalBytes(bytesOf(innerAlg), bytesOf(outerAlg))) {
    throw new DerError(where, 'the signature algorithm inside tbsCertList differs from outside');
  }
  const issuer = expectTag(fields[i++], Tag.SEQUENCE, `${where} issuer`);
  const thisUpdateTlv = fields[i++];
  if (!isTime(thisUpdateTlv)) throw new DerError(`${where} thisUpdate`, 'missing or not a time');
  const thisUpdate = decodeTime(thisUpdateTlv, `${where} thisUpdate`);
  const next = fields[i];
  const nextUpdate = isTime(next) ? decodeTime(next, `${where} nextUpdate`) : undefined;
  if (nextUpdate) i++;
  const unsupportedCritical: string[] = [];
  const revoked: RevokedEntry[] = [];
  if (fields[i]?.tag === Tag.SEQUENCE) {
    const entries = children(fields[i++] as Tlv, `${where} revokedCertificates`);
    for (const [n, entry] of entries.entries()) {
      revoked.push(readEntry(entry, `${where} revoked entry ${n}`, unsupportedCritical));
    }
  }
  let extensions = new Map<string, Extension>();
  if (fields[i]?.tag === ctx(0)) {
    const [inner] = children(fields[i++] as Tlv, `${where} crlExtensions`);
    extensions = readExtensions(inner, `${where} crlExtensions`);
    unsupportedCritical.unshift(...unsupported(extensions, UNDERSTOOD_CRL_EXTENSIONS));
  }
  if (fields[i]) {
    throw new DerError(
      `${where} tbsCertList`,
      `unexpected field with tag 0x${fields[i]?.tag.toString(16)}`,
    );
  }
  const signatureOid = decodeOid(
    children(outerAlg, where)[0] as Tlv,
    `${where} signatureAlgorithm`,
  );
  const signature = contentOf(expectTag(sigValue, Tag.BIT_STRING, `${where} signature`));
  return {
    der,
    tbs: bytesOf(tbs as Tlv),
    signatureOid,
    signature: signature.subarray(1),
    issuer,
    thisUpdate,
    ...(nextUpdate ? { nextUpdate } : {}),
    revoked,
    extensions,
    unsupportedCritical,
  };
}
