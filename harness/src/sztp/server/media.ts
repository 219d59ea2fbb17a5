/** The RESTCONF encodings of RFC 8040 §11.3. */
export type Encoding = 'json' | 'xml';

export const BOOTSTRAP_MODULE = 'ietf-sztp-bootstrap-server';
export const BOOTSTRAP_NAMESPACE = 'urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server';

export const MEDIA_TYPE: Record<Encoding, string> = {
  json: 'application/yang-data+json',
  xml: 'application/yang-data+xml',
};

/**
 * Media types accepted on input. The pre-RFC 8040 spelling with a dot appears in the working
 * group's example files and in tools copied from them; it is accepted, never sent.
 */
const INPUT_TYPES: Record<string, Encoding> = {
  'application/yang-data+json': 'json',
  'application/yang-data+xml': 'xml',
  'application/yang.data+json': 'json',
  'application/yang.data+xml': 'xml',
};

function bareType(value: string): string {
  return (value.split(';')[0] ?? '').trim().toLowerCase();
}

/** The encoding of a Content-Type header, or undefined when it names none this server reads. */
export function requestEncoding(contentType: string | undefined): Encoding | undefined {
  if (contentType === undefined) return undefined;
  return INPUT_TYPES[bareType(contentType)];
}

interface Range {
  type: string;
  q: number;
}

function parseAccept(header: string): Range[] {
  const ranges: Range[] = [];
  for (const part of header.split(',')) {
    const [type, ...params] = part.split(';');
    const name = (type ?? '').trim().toLowerCase();
    if (!name) continue;
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split('=').map((s) => s.trim());
      if (key?.toLowerCase() === 'q') {
        const n = Number(value);
        q = Number.isFinite(n) && n >= 0 && n <= 1 ? n : 0;
      }
    }
    ranges.push({ type: name, q });
  }
  return ranges;
}

function quality(ranges: Range[], encoding: Encoding): number {
  let best = -1;
  let specificity = -1;
  for (const range of ranges) {
    const exact = INPUT_TYPES[range.type] === encoding;
    const level = exact ? 2 : range.type === 'application/*' ? 1 : range.type === '*/*' ? 0 : -1;
    if (level > specificity) {
      specificity = level;
      best = range.q;
    }
  }
  return specificity < 0 ? 0 : best;
}

/**
 * Picks the reply encoding from an Accept header (RFC 8040 §5.2): without one, the request's
 * encoding or JSON; with one, the acceptable encoding of highest quality, ties going to the
 * request's encoding. Undefined when the client accepts neither (406).
 */
export function negotiate(accept: string | undefined, preferred: Encoding = 'json') {
  if (accept === undefined || accept.trim() === '') return preferred;
  const ranges = parseAccept(accept);
  const other: Encoding = preferred === 'json' ? 'xml' : 'json';
  const qPreferred = quality(ranges, preferred);
  const qOther = quality(ranges, other);
  if (qPreferred <= 0 && qOther <= 0) return undefined;
  return qOther > qPreferred ? other : preferred;
}
