import { LabError } from '../common/errors.ts';
import { checkBootstrapUri } from './bootstrap-uri.ts';
import { type DecodeOptions, type DecodeResult, decodeBootstrapServerList } from './dhcp-decode.ts';

/**
 * The SZTP redirect options of RFC 8572 §8: OPTION_V4_SZTP_REDIRECT (143) and
 * OPTION_V6_SZTP_REDIRECT (136). Both carry the same payload, a bootstrap-server-list of
 * (uint16 uri-length, URI) entries (§8.3). A DHCPv4 option holds at most 255 octets, so a longer
 * list goes out as several consecutive 143 instances that the receiver joins (RFC 3396).
 */

export { checkBootstrapUri } from './bootstrap-uri.ts';
export * from './dhcp-decode.ts';

/** DHCPv4 option code of OPTION_V4_SZTP_REDIRECT. */
export const OPTION_V4_SZTP_REDIRECT = 143;
/** DHCPv6 option code of OPTION_V6_SZTP_REDIRECT. */
export const OPTION_V6_SZTP_REDIRECT = 136;
/** The most payload octets one DHCPv4 option instance can hold. */
export const V4_INSTANCE_MAX = 255;

/** An encoded option: its code, the bootstrap-server-list, and the bytes as they go on the wire. */
export interface EncodedOption {
  code: number;
  /** The bootstrap-server-list alone, without any option header. */
  payload: Buffer;
  /** Each on-wire instance, header included: several for a long DHCPv4 list, else one. */
  instances: Buffer[];
  /** All instances back to back. */
  wire: Buffer;
}

/**
 * Builds the bootstrap-server-list for the given URIs, in order. Refuses, naming the URI and the
 * reason, anything a conforming receiver would skip, so that nothing encoded here gets dropped.
 */
export function encodeBootstrapServerList(uris: readonly string[]): Buffer {
  if (uris.length === 0) {
    throw new LabError('DHCP_OPTION_INVALID', 'Cannot encode an empty bootstrap-server-list');
  }
  const parts: Buffer[] = [];
  for (const uri of uris) {
    const check = checkBootstrapUri(uri);
    if (!check.ok) {
      throw new LabError('DHCP_OPTION_INVALID', `Cannot encode "${uri}": ${check.reason}`, {
        details: { uri, reason: check.reason },
      });
    }
    const bytes = Buffer.from(uri, 'ascii');
    if (bytes.length > 0xffff) {
      throw new LabError('DHCP_OPTION_INVALID', `Cannot encode a URI of ${bytes.length} octets`);
    }
    const length = Buffer.alloc(2);
    length.writeUInt16BE(bytes.length);
    parts.push(length, bytes);
  }
  return Buffer.concat(parts);
}

/** Encodes option 143, split into instances of at most 255 payload octets (RFC 3396). */
export function encodeV4Options(uris: readonly string[]): EncodedOption {
  const payload = encodeBootstrapServerList(uris);
  const instances = splitV4Option(OPTION_V4_SZTP_REDIRECT, payload);
  return { code: OPTION_V4_SZTP_REDIRECT, payload, instances, wire: Buffer.concat(instances) };
}

/** Encodes option 136 with its 2-octet code and 2-octet length (RFC 8415 §21.1). */
export function encodeV6Option(uris: readonly string[]): EncodedOption {
  const payload = encodeBootstrapServerList(uris);
  if (payload.length > 0xffff) {
    throw new LabError(
      'DHCP_OPTION_INVALID',
      `Cannot encode a DHCPv6 option of ${payload.length} octets; the limit is 65535`,
    );
  }
  const header = Buffer.alloc(4);
  header.writeUInt16BE(OPTION_V6_SZTP_REDIRECT, 0);
  header.writeUInt16BE(payload.length, 2);
  const wire = Buffer.concat([header, payload]);
  return { code: OPTION_V6_SZTP_REDIRECT, payload, instances: [wire], wire };
}

/**
 * Cuts a DHCPv4 option value into consecutive instances of the same code, each with at most 255
 * octets, the way RFC 3396 §5 asks; a value that fits goes out as exactly one instance.
 */
export function splitV4Option(code: number, value: Uint8Array): Buffer[] {
  const instances: Buffer[] = [];
  let offset = 0;
  do {
    const chunk = value.subarray(offset, offset + V4_INSTANCE_MAX);
    instances.push(Buffer.concat([Buffer.from([code, chunk.length]), chunk]));
    offset += V4_INSTANCE_MAX;
  } while (offset < value.length);
  return instances;
}

/**
 * Walks a sequence of DHCPv4 options (code, length, value; Pad and End allowed) and joins the
 * values of every instance of `code`, in order, as RFC 3396 asks. Other options are left aside.
 */
export function joinV4Instances(bytes: Uint8Array, code = OPTION_V4_SZTP_REDIRECT): Buffer {
  const values: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const at = bytes[offset] ?? 0;
    if (at === 0) {
      offset += 1;
      continue;
    }
    if (at === 255) break;
    const length = bytes[offset + 1];
    if (length === undefined || offset + 2 + length > bytes.length) {
      throw new LabError(
        'DHCP_OPTION_INVALID',
        `Cannot read the DHCPv4 option at offset ${offset}: option ${at} runs past the end`,
      );
    }
    if (at === code) values.push(bytes.subarray(offset + 2, offset + 2 + length));
    offset += 2 + length;
  }
  if (values.length === 0) {
    throw new LabError('DHCP_OPTION_INVALID', `No option ${code} was found in the DHCPv4 options`);
  }
  return Buffer.concat(values);
}

/** Where an option's bytes come from: the bare payload, or the option with its header(s). */
export interface OptionDecodeOptions extends DecodeOptions {
  /** The input is a sequence of option TLVs (code and length first) rather than a payload. */
  withHeader?: boolean;
}

/** Decodes option 143 from a bare payload or, with `withHeader`, from its on-wire instances. */
export function decodeV4Option(bytes: Uint8Array, options: OptionDecodeOptions = {}): DecodeResult {
  if (options.withHeader) return decodeBootstrapServerList(joinV4Instances(bytes), options);
  return withHeaderHint(bytes, [OPTION_V4_SZTP_REDIRECT], options);
}

/** Decodes option 136 from a bare payload or, with `withHeader`, from the on-wire option. */
export function decodeV6Option(bytes: Uint8Array, options: OptionDecodeOptions = {}): DecodeResult {
  if (!options.withHeader) return withHeaderHint(bytes, [0, OPTION_V6_SZTP_REDIRECT], options);
  const buffer = Buffer.from(bytes);
  if (buffer.length < 4) {
    throw new LabError('DHCP_OPTION_INVALID', 'A DHCPv6 option header needs 4 octets');
  }
  const code = buffer.readUInt16BE(0);
  const length = buffer.readUInt16BE(2);
  if (code !== OPTION_V6_SZTP_REDIRECT) {
    throw new LabError(
      'DHCP_OPTION_INVALID',
      `The DHCPv6 option code is ${code}, not ${OPTION_V6_SZTP_REDIRECT} (OPTION_V6_SZTP_REDIRECT)`,
    );
  }
  if (length !== buffer.length - 4) {
    throw new LabError(
      'DHCP_OPTION_INVALID',
      `The DHCPv6 option length says ${length} octets but ${buffer.length - 4} follow the header`,
    );
  }
  return decodeBootstrapServerList(buffer.subarray(4), options);
}

/** Decodes a bare payload; if that fails and it starts like an option header, says so. */
function withHeaderHint(bytes: Uint8Array, header: number[], options: DecodeOptions): DecodeResult {
  try {
    return decodeBootstrapServerList(bytes, options);
  } catch (error) {
    const looksLikeHeader = header.every((octet, index) => bytes[index] === octet);
    if (!(error instanceof LabError) || !looksLikeHeader) throw error;
    throw new LabError(
      error.code,
      `${error.message} (the input starts like an option header: decode it with --with-header)`,
      { cause: error, ...(error.details ? { details: error.details } : {}) },
    );
  }
}
