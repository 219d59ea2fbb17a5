import { LabError } from '../common/errors.ts';

/**
 * Reads octets written as hex the ways people and tools print them: plain (`001a68`), with an
 * optional `0x`, colon-separated with or without zero padding (dhclient prints `0:1a:68`),
 * space-separated, or in dotted groups as Cisco IOS writes them (`0015.6874`).
 */
export function parseHexText(text: string): Buffer {
  let body = text.trim();
  if (/^0x/i.test(body)) body = body.slice(2);
  if (body.length === 0) throw invalid('no hex digits were given');

  const tokens = body.split(/[\s:]+/).filter((token) => token.length > 0);
  const separated = /[\s:]/.test(body);
  if (separated && tokens.every((token) => token.length <= 2)) {
    return Buffer.from(tokens.map((token, index) => tokenByte(token, index)));
  }
  if (body.includes(':')) {
    const long = tokens.find((token) => token.length > 2) ?? '';
    throw invalid(`colon-separated hex must have one or two digits per octet, not "${long}"`);
  }
  const digits = body.replace(/[\s.]+/g, '');
  const bad = /[^0-9A-Fa-f]/.exec(digits);
  if (bad) throw invalid(`"${bad[0]}" is not a hex digit`);
  if (digits.length % 2 !== 0) {
    throw invalid(`${digits.length} hex digits is an odd number; octets need two digits each`);
  }
  return Buffer.from(digits, 'hex');
}

function tokenByte(token: string, index: number): number {
  if (!/^[0-9A-Fa-f]{1,2}$/.test(token)) {
    throw invalid(`octet ${index} ("${token}") is not one or two hex digits`);
  }
  return Number.parseInt(token, 16);
}

function invalid(message: string): LabError {
  return new LabError('INVALID_ARGUMENT', `Cannot read the hex input: ${message}`);
}

/** Lowercase hex octets joined by colons, two digits each: `00:1a:68`. */
export function colonHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(':');
}
