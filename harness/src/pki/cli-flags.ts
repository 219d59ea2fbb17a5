import { LabError } from '../common/errors.ts';

/** Parses a hex nonce flag (8..32 octets, the voucher's range); the error names the flag. */
export function parseNonce(value: string, flag: string): Uint8Array {
  const clean = value.replaceAll(':', '');
  if (!/^([0-9a-fA-F]{2})+$/.test(clean)) {
    throw new LabError('INVALID_ARGUMENT', `${flag} "${value}" is not hex`);
  }
  const bytes = new Uint8Array(Buffer.from(clean, 'hex'));
  if (bytes.length < 8 || bytes.length > 32) {
    throw new LabError('INVALID_ARGUMENT', `${flag} has ${bytes.length} octets, expected 8..32`);
  }
  return bytes;
}

/** Parses an ISO-8601 date flag; the error names the flag. */
export function parseDateFlag(value: string, flag: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new LabError('INVALID_ARGUMENT', `${flag} "${value}" is not an ISO-8601 date and time`);
  }
  return date;
}
