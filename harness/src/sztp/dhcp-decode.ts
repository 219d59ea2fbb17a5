import { LabError } from '../common/errors.ts';
import { checkBootstrapUri } from './bootstrap-uri.ts';

/**
 * Reads a bootstrap-server-list (RFC 8572 §8.3). Strict mode is what a conforming device does:
 * framing errors are fatal, invalid URIs are skipped, and an option left with no valid URI is
 * discarded. Lenient mode also reads what some peers send instead: the URI as plain text, with
 * a RESTCONF path, or as bare `host:port`. Problems are returned, never printed.
 */

/** How forgiving the decoder is. */
export type DecodeMode = 'strict' | 'lenient';

/** Settings for decoding. */
export interface DecodeOptions {
  /** `strict` (the default) follows RFC 8572; `lenient` also reads known non-conformant forms. */
  mode?: DecodeMode;
}

/** An entry a receiver ignores, with where it was and why. */
export interface SkippedEntry {
  uri: string;
  /** Offset of the entry's length field in the payload; absent for plain-text tokens. */
  offset?: number;
  reason: string;
}

/** What a receiver keeps from the option. */
export interface DecodeResult {
  /** The usable URIs, in the order they came. */
  uris: string[];
  skipped: SkippedEntry[];
  /** Conformance remarks: repairs made in lenient mode, and the option being dropped. */
  warnings: string[];
  /** True when no valid URI remains, so a receiver discards the whole option. */
  dropped: boolean;
}

type Framing =
  | { ok: true; entries: { offset: number; bytes: Buffer }[] }
  | { ok: false; offset: number; reason: string };

/** Decodes a bootstrap-server-list payload (no option header). */
export function decodeBootstrapServerList(
  payload: Uint8Array,
  options: DecodeOptions = {},
): DecodeResult {
  const mode = options.mode ?? 'strict';
  const bytes = Buffer.from(payload);
  const framing = frameEntries(bytes);
  if (!framing.ok) {
    if (mode === 'lenient') return decodeAsText(bytes, framing);
    if (looksLikeText(bytes)) throw plainTextError(bytes, framing);
    throw new LabError(
      'DHCP_OPTION_INVALID',
      `Malformed bootstrap-server-list at offset ${framing.offset}: ${framing.reason}`,
      { details: { offset: framing.offset, reason: framing.reason } },
    );
  }
  const result: DecodeResult = { uris: [], skipped: [], warnings: [], dropped: false };
  for (const entry of framing.entries) {
    take(result, entry.bytes.toString('latin1'), mode, entry.offset);
  }
  return finish(result);
}

/** Splits the payload into (uint16 length, URI) entries, or says where and why it cannot. */
function frameEntries(bytes: Buffer): Framing {
  if (bytes.length === 0) return { ok: false, offset: 0, reason: 'the list is empty' };
  const entries: { offset: number; bytes: Buffer }[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const left = bytes.length - offset;
    if (left < 2) {
      return { ok: false, offset, reason: `${left} trailing octet after the last entry` };
    }
    const length = bytes.readUInt16BE(offset);
    if (length === 0) return { ok: false, offset, reason: 'an entry has uri-length 0' };
    if (length > left - 2) {
      const reason = `uri-length ${length} runs past the end (${left - 2} octets remain)`;
      return { ok: false, offset, reason };
    }
    entries.push({ offset, bytes: bytes.subarray(offset + 2, offset + 2 + length) });
    offset += 2 + length;
  }
  return { ok: true, entries };
}

/** Keeps one URI, repairing it first in lenient mode, or records why it is skipped. */
function take(result: DecodeResult, text: string, mode: DecodeMode, offset?: number): void {
  let uri = text;
  const notes: string[] = [];
  if (mode === 'lenient' && !checkBootstrapUri(text).ok) {
    const repaired = repair(text);
    if (checkBootstrapUri(repaired.uri).ok) {
      uri = repaired.uri;
      notes.push(...repaired.notes);
    }
  }
  const check = checkBootstrapUri(uri);
  if (!check.ok) {
    const { reason } = check;
    result.skipped.push(offset === undefined ? { uri, reason } : { uri, offset, reason });
    return;
  }
  result.uris.push(uri);
  result.warnings.push(...notes);
}

/** Lenient repairs: assume https for a bare `host[:port]`, and cut a path, query or fragment. */
function repair(text: string): { uri: string; notes: string[] } {
  const notes: string[] = [];
  let uri = text;
  if (!uri.includes('://') && /^[^/?#@]+$/.test(uri)) {
    uri = `https://${uri}`;
    notes.push(`"${text}" has no scheme; assumed https`);
  }
  const match = /^(https:\/\/[^/?#]*)([/?#].*)$/i.exec(uri);
  if (match?.[1] && match[2]) {
    uri = match[1];
    notes.push(`dropped "${match[2]}" from "${text}": the URI must not have a path or query`);
  }
  return { uri, notes };
}

/** Lenient fallback: the payload read as text holding URIs separated by whitespace or commas. */
function decodeAsText(bytes: Buffer, framing: Framing & { ok: false }): DecodeResult {
  const text = bytes.toString('latin1').replace(/\0+$/, '');
  if (!looksLikeText(Buffer.from(text, 'latin1')) && text.length > 0) {
    throw new LabError(
      'DHCP_OPTION_INVALID',
      `The payload is neither a bootstrap-server-list (offset ${framing.offset}: ` +
        `${framing.reason}) nor plain text`,
    );
  }
  const result: DecodeResult = { uris: [], skipped: [], warnings: [], dropped: false };
  result.warnings.push(
    `not a list of (uint16 length, URI) entries as RFC 8572 §8.3 requires ` +
      `(offset ${framing.offset}: ${framing.reason}); read the payload as plain text`,
  );
  for (const token of text.split(/[\s,]+/).filter((part) => part.length > 0)) {
    take(result, token, 'lenient');
  }
  return finish(result);
}

function finish(result: DecodeResult): DecodeResult {
  if (result.uris.length === 0) {
    result.dropped = true;
    result.warnings.push(
      'no valid URI remains, so a receiver discards the whole option (RFC 8572 §8)',
    );
  }
  return result;
}

/** Printable ASCII (and tabs or line breaks) throughout, maybe ending in NUL padding. */
function looksLikeText(bytes: Buffer): boolean {
  const text = bytes.toString('latin1').replace(/\0+$/, '');
  return text.length > 0 && /^[\t\n\r\x20-\x7e]+$/.test(text);
}

function plainTextError(bytes: Buffer, framing: Framing & { ok: false }): LabError {
  const text = bytes.toString('latin1').replace(/\0+$/, '');
  const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return new LabError(
    'DHCP_OPTION_INVALID',
    `The payload looks like plain text ("${shown}"), not a bootstrap-server-list: ` +
      'RFC 8572 §8.3 requires each URI as a (uint16 length, URI) entry ' +
      `(read that way, offset ${framing.offset}: ${framing.reason}). ` +
      'Some peers send the URI as text; decode in lenient mode (--lenient) to accept it.',
    { details: { text, offset: framing.offset, reason: framing.reason } },
  );
}
