import { LabError } from '../common/errors.ts';

/**
 * SZTP artifacts in DNS TXT records (RFC 8572 §4.2), and how a value longer than one
 * character-string is carried.
 *
 * RFC 8572 puts the artifacts in the TXT record at `<serial>._sztp.<domain>` as RFC 6763-style
 * `key=value` pairs with raw binary values: `ci=` conveyed information, `oc=` owner certificate,
 * `ov=` ownership voucher. A TXT <character-string> holds at most 255 octets, and these values
 * are kilobytes; the RFC does not say how one value spans several strings. The lab's rule:
 *
 * - one TXT RR per key, all in the RRset of `<serial>._sztp.<domain>`;
 * - that RR's RDATA is the octets `key=` followed by the raw value, cut into consecutive
 *   character-strings of 255 octets (the last one shorter);
 * - the reader concatenates the strings of each RR in order and splits at the first `=`.
 *
 * The order of strings inside one RR survives every resolver; the order of RRs inside an RRset
 * does not, which is why a value never spans RRs. A reader that follows RFC 6763 literally (one
 * pair per string) sees `ci=` plus the first 252 octets and then strings it cannot use. This is
 * a lab convention, not an interoperable standard. Values must fit one RR: RDLENGTH ≤ 65535.
 */
export const SztpTxtKeys = ['ci', 'oc', 'ov'] as const;
export type SztpTxtKey = (typeof SztpTxtKeys)[number];
export type SztpTxtValues = Partial<Record<SztpTxtKey, Buffer>>;

export const MAX_CHARACTER_STRING = 255;
export const MAX_RDATA = 65_535;

function dnsError(message: string): LabError {
  return new LabError('DNS_RECORD_INVALID', message);
}

/** Splits `key=value` into the character-strings of one TXT RR. */
export function txtStrings(key: string, value: Uint8Array): Buffer[] {
  const data = Buffer.concat([Buffer.from(`${key}=`, 'ascii'), value]);
  const strings: Buffer[] = [];
  for (let at = 0; at < data.length; at += MAX_CHARACTER_STRING) {
    strings.push(data.subarray(at, at + MAX_CHARACTER_STRING));
  }
  const rdlength = data.length + strings.length;
  if (rdlength > MAX_RDATA) {
    throw dnsError(
      `the ${key} value (${value.length} octets) needs ${rdlength} octets of TXT RDATA; ` +
        `one RR holds at most ${MAX_RDATA}`,
    );
  }
  return strings;
}

/**
 * One character-string in zone-file syntax: quoted, printable ASCII as is, `"` and `\` escaped
 * with a backslash, every other octet as `\DDD` (three decimal digits, RFC 1035 §5.1).
 */
export function quoteCharacterString(bytes: Uint8Array): string {
  let text = '"';
  for (const byte of bytes) {
    if (byte === 0x22 || byte === 0x5c) text += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) text += String.fromCharCode(byte);
    else text += `\\${byte.toString().padStart(3, '0')}`;
  }
  return `${text}"`;
}

/**
 * Reads TXT RDATA in presentation form, as a zone file or `dig +short` writes it: quoted or
 * bare character-strings separated by blanks, with `\DDD` and `\X` escapes.
 */
export function parseTxtPresentation(text: string): Buffer[] {
  const strings: Buffer[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i += 1;
      continue;
    }
    const quoted = c === '"';
    if (quoted) i += 1;
    const bytes: number[] = [];
    for (;;) {
      if (i >= n) {
        if (quoted) throw dnsError(`unterminated quoted string in TXT data: ${text.slice(0, 60)}`);
        break;
      }
      const ch = text[i] ?? '';
      if (quoted && ch === '"') {
        i += 1;
        break;
      }
      if (!quoted && /\s/.test(ch)) break;
      if (ch === '\\') {
        const digits = text.slice(i + 1, i + 4);
        if (/^\d{3}$/.test(digits)) {
          const value = Number(digits);
          if (value > 255) throw dnsError(`escape \\${digits} is not an octet`);
          bytes.push(value);
          i += 4;
        } else if (i + 1 < n) {
          bytes.push(...Buffer.from(text[i + 1] ?? '', 'utf8'));
          i += 2;
        } else {
          throw dnsError('TXT data ends in a lone backslash');
        }
        continue;
      }
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += 1;
    }
    if (bytes.length > MAX_CHARACTER_STRING) {
      throw dnsError(`a TXT character-string of ${bytes.length} octets exceeds 255`);
    }
    strings.push(Buffer.from(bytes));
  }
  return strings;
}

/**
 * The reader's side of the lab rule: each element of `records` is the character-strings of one
 * TXT RR, in order. Keys other than ci, oc and ov are ignored (RFC 8572 §4.2 says they MUST be),
 * as are RRs without `=`; a key given twice is an error.
 */
export function parseSztpTxt(records: readonly (readonly Uint8Array[])[]): SztpTxtValues {
  const values: SztpTxtValues = {};
  for (const strings of records) {
    const data = Buffer.concat(strings);
    const eq = data.indexOf(0x3d);
    if (eq <= 0) continue;
    const key = data.subarray(0, eq).toString('latin1').toLowerCase();
    if (!(SztpTxtKeys as readonly string[]).includes(key)) continue;
    const k = key as SztpTxtKey;
    if (values[k]) throw dnsError(`the TXT RRset carries the ${k} key twice`);
    values[k] = Buffer.from(data.subarray(eq + 1));
  }
  return values;
}

/** Parses `dig +short TXT` output (one RR per line) and reads the SZTP keys from it. */
export function parseDigTxt(output: string): SztpTxtValues {
  const records = output
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith(';'))
    .map(parseTxtPresentation);
  return parseSztpTxt(records);
}
