import {
  bytesOf,
  children,
  contentOf,
  ctx,
  decodeOid,
  decodeTime,
  expectTag,
  parseDer,
  Tag,
  type Tlv,
  toHex,
} from './der.ts';
import { Oid } from './oids.ts';
import { verifyWith } from './public-keys.ts';

/** The parts of an X.509 certificate the CMS code and the path validator need. */
export interface CertInfo {
  der: Uint8Array;
  /** The signed part, its signature algorithm and the signature value. */
  tbs: Uint8Array;
  signatureOid: string;
  signature: Uint8Array;
  serial: Tlv;
  issuer: Tlv;
  subject: Tlv;
  notBefore: Date;
  notAfter: Date;
  spki: Uint8Array;
  /** Extension values (the OCTET STRING contents) by OID. */
  extensions: Map<string, Extension>;
}

/** One X.509 extension: whether it is critical, and the contents of its OCTET STRING. */
export interface Extension {
  critical: boolean;
  value: Uint8Array;
}

/** Reads an Extensions SEQUENCE (of a certificate, a CRL or a CRL entry) into a map by OID. */
export function readExtensions(list: Tlv | undefined, where: string): Map<string, Extension> {
  const extensions = new Map<string, Extension>();
  for (const ext of children(expectTag(list, Tag.SEQUENCE, where), where)) {
    const parts = children(ext, `${where} extension`);
    const id = decodeOid(parts[0] as Tlv, `${where} extension id`);
    const critical =
      parts.length === 3 && parts[1]?.tag === Tag.BOOLEAN && contentOf(parts[1])[0] !== 0;
    const value = expectTag(parts[parts.length - 1], Tag.OCTET_STRING, `${where} ${id}`);
    extensions.set(id, { critical, value: contentOf(value) });
  }
  return extensions;
}

/** Short names of the attribute types lab and field certificates use in their names. */
const ATTRIBUTE_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
};

/** One AttributeTypeAndValue as `CN=value`; values of other string types are shown as hex. */
function attributeText(atv: Tlv): string {
  const [type, value] = children(atv, 'name attribute');
  const id = decodeOid(type as Tlv, 'name attribute type');
  const bytes = contentOf(value as Tlv);
  const readable =
    value?.tag === Tag.UTF8_STRING ||
    value?.tag === Tag.PRINTABLE_STRING ||
    value?.tag === Tag.IA5_STRING;
  const text = readable ? Buffer.from(bytes).toString('utf8') : `#${toHex(bytes)}`;
  return `${ATTRIBUTE_NAMES[id] ?? id}=${text}`;
}

/**
 * An X.501 Name as text for messages, in encoding order as node:crypto prints it
 * ("O=sztp-lab, CN=Owner Root CA"). It never throws: a name that does not parse (from a forged
 * CRL, say) is shown as the hex of its encoding.
 */
export function nameText(name: Tlv): string {
  try {
    const rdns = children(name, 'name').map((rdn) =>
      children(rdn, 'name').map(attributeText).join('+'),
    );
    return rdns.join(', ');
  } catch {
    return `#${toHex(bytesOf(name))}`;
  }
}

/** A certificate's subject as text for messages ("O=sztp-lab, CN=Owner Root CA"). */
export function subjectText(cert: CertInfo): string {
  return nameText(cert.subject);
}

/** Parses a DER certificate; a DerError names the field that broke. */
export function parseCertificate(der: Uint8Array, where = 'certificate'): CertInfo {
  const cert = expectTag(parseDer(der, where), Tag.SEQUENCE, where);
  const [tbs, sigAlg, sigValue] = children(cert, where);
  const fields = children(expectTag(tbs, Tag.SEQUENCE, `${where} tbsCertificate`), where);
  let i = fields[0]?.tag === ctx(0) ? 1 : 0;
  const serial = expectTag(fields[i++], Tag.INTEGER, `${where} serialNumber`);
  i++; // signature algorithm, repeated outside the TBS and checked by node:crypto
  const issuer = expectTag(fields[i++], Tag.SEQUENCE, `${where} issuer`);
  const validity = children(expectTag(fields[i++], Tag.SEQUENCE, `${where} validity`), where);
  const subject = expectTag(fields[i++], Tag.SEQUENCE, `${where} subject`);
  const spki = expectTag(fields[i++], Tag.SEQUENCE, `${where} subjectPublicKeyInfo`);
  const wrapped = fields.slice(i).find((field) => field.tag === ctx(3));
  const extensions = wrapped
    ? readExtensions(children(wrapped, `${where} extensions`)[0], `${where} extensions`)
    : new Map<string, Extension>();
  const signatureOid = decodeOid(
    children(expectTag(sigAlg, Tag.SEQUENCE, `${where} signatureAlgorithm`), where)[0] as Tlv,
    `${where} signatureAlgorithm`,
  );
  const signature = contentOf(expectTag(sigValue, Tag.BIT_STRING, `${where} signature`)).subarray(
    1,
  );
  return {
    der,
    tbs: bytesOf(tbs as Tlv),
    signatureOid,
    signature,
    serial,
    issuer,
    subject,
    notBefore: decodeTime(validity[0] as Tlv, `${where} notBefore`),
    notAfter: decodeTime(validity[1] as Tlv, `${where} notAfter`),
    spki: bytesOf(spki),
    extensions,
  };
}

/**
 * Certificates already parsed, by their DER bytes. A device sees the same MASA signer, owner and
 * pinned-domain certificates on every attempt; parsing is a pure function of the bytes, so the
 * result is kept (own copy of the bytes, bounded, oldest dropped). Signatures are not cached:
 * every verification checks every signature again.
 */
const parsed = new Map<string, CertInfo>();
const PARSED_LIMIT = 64;

/** {@link parseCertificate} through a small cache keyed by the certificate's bytes. */
export function certificateOf(der: Uint8Array, where = 'certificate'): CertInfo {
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
  let info = parsed.get(key);
  if (!info) {
    info = parseCertificate(Uint8Array.from(der), where);
    if (parsed.size >= PARSED_LIMIT) parsed.delete(parsed.keys().next().value as string);
    parsed.set(key, info);
  }
  return info;
}

/** Forgets every parsed certificate (for benchmarks that measure cold verification). */
export function clearParsedCertificates(): void {
  parsed.clear();
}

/** Basic constraints: whether the certificate is a CA, and its path length limit. */
export function basicConstraints(info: CertInfo): { ca: boolean; pathLength?: number } {
  const ext = info.extensions.get(Oid.basicConstraints);
  if (!ext) return { ca: false };
  const seq = parseDer(ext.value, 'basicConstraints');
  const parts = children(seq, 'basicConstraints');
  const ca = parts[0]?.tag === Tag.BOOLEAN && contentOf(parts[0])[0] !== 0;
  const lenTlv = parts.find((part) => part.tag === Tag.INTEGER);
  return lenTlv ? { ca, pathLength: contentOf(lenTlv).reduce((n, b) => n * 256 + b, 0) } : { ca };
}

/** Key usage bits (bit 0 = digitalSignature ... bit 8 = decipherOnly), or undefined when absent. */
export function keyUsageBits(info: CertInfo): Set<number> | undefined {
  const ext = info.extensions.get(Oid.keyUsage);
  if (!ext) return undefined;
  const bits = contentOf(expectTag(parseDer(ext.value, 'keyUsage'), Tag.BIT_STRING, 'keyUsage'));
  const set = new Set<number>();
  for (let byte = 1; byte < bits.length; byte++) {
    for (let bit = 0; bit < 8; bit++) {
      if (((bits[byte] as number) >> (7 - bit)) & 1) set.add((byte - 1) * 8 + bit);
    }
  }
  return set;
}

export const KeyUsageBit = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

/** The keyIdentifier of the authority key identifier extension, if any. */
export function authorityKeyId(info: CertInfo): Uint8Array | undefined {
  const ext = info.extensions.get(Oid.authorityKeyId);
  if (!ext) return undefined;
  const seq = parseDer(ext.value, 'authorityKeyIdentifier');
  const keyId = children(seq, 'authorityKeyIdentifier').find((part) => part.tag === 0x80);
  return keyId ? contentOf(keyId) : undefined;
}

/** The subject key identifier extension value, if any. */
export function subjectKeyId(info: CertInfo): Uint8Array | undefined {
  const ext = info.extensions.get(Oid.subjectKeyId);
  return ext
    ? contentOf(expectTag(parseDer(ext.value, 'subjectKeyIdentifier'), Tag.OCTET_STRING, 'SKI'))
    : undefined;
}

/** Whether `parent`'s key made the signature of `child` (a certificate or a CRL). */
export function signedBy(
  child: Pick<CertInfo, 'tbs' | 'signatureOid' | 'signature'>,
  parent: CertInfo,
): boolean {
  return verifyWith(parent.spki, child.signatureOid, child.tbs, child.signature);
}
