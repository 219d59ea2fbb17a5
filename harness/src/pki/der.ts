/**
 * A small DER reader and writer. The verifier walks CMS and certificates with it instead of a
 * schema-driven parser: it is fast, allocation-light and reports where a structure broke.
 */

/** One decoded TLV: its tag byte, where it starts, where its value starts and ends. */
export interface Tlv {
  tag: number;
  start: number;
  valueStart: number;
  /** End of the value; before `end` only for BER indefinite lengths (the 00 00 marker). */
  valueEnd: number;
  end: number;
  /** The whole buffer the offsets refer to. */
  buf: Uint8Array;
}

/** Thrown for any structure that is not well-formed DER; `where` names what was being read. */
export class DerError extends Error {
  constructor(where: string, why: string) {
    super(`${where}: ${why}`);
    this.name = 'DerError';
  }
}

export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag number n, constructed or primitive. */
export function ctx(n: number, constructed = true): number {
  return (constructed ? 0xa0 : 0x80) | n;
}

/** Reads the TLV at `offset`, which must end within `limit`. */
export function readTlv(buf: Uint8Array, offset: number, limit: number, where: string): Tlv {
  if (offset + 2 > limit) throw new DerError(where, 'truncated header');
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError(where, 'multi-byte tags are not supported');
  let pos = offset + 1;
  const first = buf[pos++] as number;
  let length = first;
  if (first === 0x80) {
    // BER indefinite length (PKI.js and `openssl cms -stream` write it): children up to 00 00.
    if ((tag & 0x20) === 0) throw new DerError(where, 'indefinite length on a primitive value');
    let cursor = pos;
    for (;;) {
      if (cursor + 2 > limit) throw new DerError(where, 'indefinite length without end marker');
      if (buf[cursor] === 0 && buf[cursor + 1] === 0) break;
      cursor = readTlv(buf, cursor, limit, where).end;
    }
    return { tag, start: offset, valueStart: pos, valueEnd: cursor, end: cursor + 2, buf };
  }
  if (first > 0x80) {
    const count = first & 0x7f;
    if (count > 4 || pos + count > limit) throw new DerError(where, 'bad length field');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[pos++] as number);
  }
  const end = pos + length;
  if (end > limit) throw new DerError(where, `value runs ${end - limit} bytes past its container`);
  return { tag, start: offset, valueStart: pos, valueEnd: end, end, buf };
}

/** Parses a whole buffer as exactly one TLV. */
export function parseDer(buf: Uint8Array, where: string): Tlv {
  const tlv = readTlv(buf, 0, buf.length, where);
  if (tlv.end !== buf.length) throw new DerError(where, `${buf.length - tlv.end} trailing bytes`);
  return tlv;
}

/** The children of a constructed TLV. */
export function children(parent: Tlv, where: string): Tlv[] {
  const out: Tlv[] = [];
  let pos = parent.valueStart;
  while (pos < parent.valueEnd) {
    const child = readTlv(parent.buf, pos, parent.valueEnd, where);
    out.push(child);
    pos = child.end;
  }
  return out;
}

/** Checks the tag of a TLV, naming the field when it differs. */
export function expectTag(tlv: Tlv | undefined, tag: number, where: string): Tlv {
  if (tlv === undefined) throw new DerError(where, 'missing');
  if (tlv.tag !== tag) {
    throw new DerError(
      where,
      `expected tag 0x${tag.toString(16)}, found 0x${tlv.tag.toString(16)}`,
    );
  }
  return tlv;
}

/** The value bytes of a TLV (a view, not a copy). */
export function contentOf(tlv: Tlv): Uint8Array {
  return tlv.buf.subarray(tlv.valueStart, tlv.valueEnd);
}

/** The whole encoding of a TLV (a view, not a copy). */
export function bytesOf(tlv: Tlv): Uint8Array {
  return tlv.buf.subarray(tlv.start, tlv.end);
}

/**
 * Dotted forms of OIDs already decoded, by their value bytes. A device meets the same few dozen
 * OIDs in every artifact; the map is bounded so hostile input cannot grow it without limit.
 */
const oidNames = new Map<string, string>();
const OID_NAMES_LIMIT = 512;

/** Decodes an OBJECT IDENTIFIER value to dotted form. */
export function decodeOid(tlv: Tlv, where: string): string {
  expectTag(tlv, Tag.OID, where);
  const bytes = contentOf(tlv);
  if (bytes.length === 0) throw new DerError(where, 'empty object identifier');
  const key = String.fromCharCode.apply(null, bytes as unknown as number[]);
  const known = oidNames.get(key);
  if (known) return known;
  const arcs: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  if ((bytes[bytes.length - 1] as number) & 0x80) {
    throw new DerError(where, 'object identifier ends inside a sub-identifier');
  }
  const first = arcs.shift() as number;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  const dotted = [...head, ...arcs].join('.');
  if (oidNames.size < OID_NAMES_LIMIT) oidNames.set(key, dotted);
  return dotted;
}

/** Reads `count` ASCII digits at `pos` as a number, or NaN when one is not a digit. */
function digits(bytes: Uint8Array, pos: number, count: number): number {
  let n = 0;
  for (let i = pos; i < pos + count; i++) {
    const d = (bytes[i] as number) - 0x30;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return n;
}

/** Decodes a UTCTime or GeneralizedTime (whole seconds, Z form as DER requires). */
export function decodeTime(tlv: Tlv, where: string): Date {
  const bytes = contentOf(tlv);
  const utc = tlv.tag === Tag.UTC_TIME;
  const yearDigits = utc ? 2 : 4;
  const fields = [digits(bytes, 0, yearDigits)];
  for (let pos = yearDigits; pos < yearDigits + 10; pos += 2) fields.push(digits(bytes, pos, 2));
  const wellFormed =
    (utc || tlv.tag === Tag.GENERALIZED_TIME) &&
    bytes.length === yearDigits + 11 &&
    bytes[yearDigits + 10] === 0x5a &&
    !fields.some(Number.isNaN);
  if (!wellFormed) {
    throw new DerError(where, `bad time value "${Buffer.from(bytes).toString('latin1')}"`);
  }
  const [y, mo, d, h, mi, s] = fields as [number, number, number, number, number, number];
  const year = utc ? (y < 50 ? 2000 : 1900) + y : y;
  return new Date(Date.UTC(year, mo - 1, d, h, mi, s));
}

/**
 * Encodes a time as RFC 5280 wants it in certificates and CRLs: UTCTime through 2049,
 * GeneralizedTime from 2050, whole seconds, Z.
 */
export function encodeTime(date: Date): Uint8Array {
  const digits = date.toISOString().slice(0, 19).replace(/[-T:]/g, '');
  const year = date.getUTCFullYear();
  const utc = year >= 1950 && year < 2050;
  const text = `${utc ? digits.slice(2) : digits}Z`;
  return tlv(utc ? Tag.UTC_TIME : Tag.GENERALIZED_TIME, new TextEncoder().encode(text));
}

function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** Encodes one TLV from a tag and value parts. */
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const length = encodeLength(total);
  const out = new Uint8Array(1 + length.length + total);
  out[0] = tag;
  out.set(length, 1);
  let pos = 1 + length.length;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

/** Encodes a dotted OID. */
export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const body: number[] = [];
  const values = [(arcs[0] as number) * 40 + (arcs[1] as number), ...arcs.slice(2)];
  for (const value of values) {
    const chunk: number[] = [value & 0x7f];
    for (let n = Math.floor(value / 128); n > 0; n = Math.floor(n / 128)) {
      chunk.unshift(0x80 | (n & 0x7f));
    }
    body.push(...chunk);
  }
  return tlv(Tag.OID, Uint8Array.from(body));
}

/** Encodes a SET OF in DER order (elements sorted by their encodings). */
export function derSet(elements: Uint8Array[]): Uint8Array {
  return tlv(Tag.SET, ...sortDer(elements));
}

/** Elements of a SET OF in DER order. */
export function sortDer(elements: Uint8Array[]): Uint8Array[] {
  return [...elements].sort(compareBytes);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  }
  return a.length - b.length;
}

/** Encodes a small non-negative INTEGER. */
export function integer(value: number): Uint8Array {
  const bytes: number[] = [];
  for (let n = value; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  if (bytes.length === 0 || (bytes[0] as number) & 0x80) bytes.unshift(0);
  return tlv(Tag.INTEGER, Uint8Array.from(bytes));
}

/** Lower-case hex of some bytes, for messages. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Byte equality. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

/** Re-encodes BER indefinite lengths as definite ones, recursively; other bytes are kept. */
export function definite(node: Tlv): Uint8Array {
  if ((node.tag & 0x20) === 0) return bytesOf(node);
  if (node.valueEnd === node.end) {
    // Definite already, but a child may still be indefinite.
    const kids = children(node, 'definite');
    if (!kids.some((kid) => kid.valueEnd !== kid.end || (kid.tag & 0x20) !== 0))
      return bytesOf(node);
  }
  return tlv(node.tag, ...children(node, 'definite').map(definite));
}
