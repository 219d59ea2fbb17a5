import { fail } from './codes.ts';

/** RFC 8366 voucher assertions. */
export const Assertions = ['verified', 'logged', 'proximity'] as const;
export type Assertion = (typeof Assertions)[number];

/** An ietf-voucher instance in memory; binary leaves as bytes, dates as RFC 3339 strings. */
export interface Voucher {
  createdOn: string;
  expiresOn?: string;
  assertion: Assertion;
  serialNumber: string;
  idevidIssuer?: Uint8Array;
  pinnedDomainCert: Uint8Array;
  domainCertRevocationChecks?: boolean;
  nonce?: Uint8Array;
  lastRenewalDate?: string;
}

const DATE_AND_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MEMBER = 'ietf-voucher:voucher';

/** Parses a yang:date-and-time (any offset, optional fractions); throws naming the field. */
export function parseDateAndTime(value: unknown, field: string): Date {
  if (typeof value !== 'string' || !DATE_AND_TIME.test(value)) {
    fail('VOUCHER_MALFORMED', `voucher ${field} "${String(value)}" is not a yang:date-and-time`);
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    fail('VOUCHER_MALFORMED', `voucher ${field} "${value}" is not a date`);
  return date;
}

function base64(value: unknown, field: string): Uint8Array {
  if (typeof value !== 'string' || !BASE64.test(value)) {
    fail('VOUCHER_MALFORMED', `voucher ${field} is not base64`);
  }
  return new Uint8Array(Buffer.from(value, 'base64'));
}

/** Encodes a voucher as RFC 7951 JSON text: {"ietf-voucher:voucher": {...}}. */
export function encodeVoucher(v: Voucher): string {
  const body: Record<string, unknown> = { 'created-on': v.createdOn };
  if (v.expiresOn !== undefined) body['expires-on'] = v.expiresOn;
  body.assertion = v.assertion;
  body['serial-number'] = v.serialNumber;
  if (v.idevidIssuer) body['idevid-issuer'] = Buffer.from(v.idevidIssuer).toString('base64');
  body['pinned-domain-cert'] = Buffer.from(v.pinnedDomainCert).toString('base64');
  if (v.domainCertRevocationChecks !== undefined) {
    body['domain-cert-revocation-checks'] = v.domainCertRevocationChecks;
  }
  if (v.nonce) body.nonce = Buffer.from(v.nonce).toString('base64');
  if (v.lastRenewalDate !== undefined) body['last-renewal-date'] = v.lastRenewalDate;
  return JSON.stringify({ [MEMBER]: body });
}

const KNOWN = new Set([
  'created-on',
  'expires-on',
  'assertion',
  'serial-number',
  'idevid-issuer',
  'pinned-domain-cert',
  'domain-cert-revocation-checks',
  'nonce',
  'last-renewal-date',
]);

/**
 * Decodes and validates voucher JSON against ietf-voucher's rules (mandatory leaves, types,
 * nonce/expires-on exclusivity, nonce length 8..32). Unknown members are refused, as a YANG
 * validator would. Throws VOUCHER_MALFORMED naming the leaf.
 */
export function decodeVoucher(bytes: Uint8Array): Voucher {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    fail('VOUCHER_MALFORMED', `voucher content is not UTF-8 JSON: ${(error as Error).message}`);
  }
  const body = (doc as Record<string, unknown> | null)?.[MEMBER];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    fail('VOUCHER_MALFORMED', `voucher JSON has no "${MEMBER}" object`);
  }
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!KNOWN.has(key)) fail('VOUCHER_MALFORMED', `voucher has unknown member "${key}"`);
  }
  for (const key of ['created-on', 'assertion', 'serial-number', 'pinned-domain-cert']) {
    if (b[key] === undefined) fail('VOUCHER_MALFORMED', `voucher lacks mandatory ${key}`);
  }
  parseDateAndTime(b['created-on'], 'created-on');
  if (!(Assertions as readonly unknown[]).includes(b.assertion)) {
    fail(
      'VOUCHER_MALFORMED',
      `voucher assertion "${String(b.assertion)}" is not one of ${Assertions.join(', ')}`,
    );
  }
  if (typeof b['serial-number'] !== 'string')
    fail('VOUCHER_MALFORMED', 'voucher serial-number is not a string');
  const v: Voucher = {
    createdOn: b['created-on'] as string,
    assertion: b.assertion as Assertion,
    serialNumber: b['serial-number'],
    pinnedDomainCert: base64(b['pinned-domain-cert'], 'pinned-domain-cert'),
  };
  if (b['expires-on'] !== undefined) {
    parseDateAndTime(b['expires-on'], 'expires-on');
    v.expiresOn = b['expires-on'] as string;
  }
  if (b['idevid-issuer'] !== undefined)
    v.idevidIssuer = base64(b['idevid-issuer'], 'idevid-issuer');
  const checks = b['domain-cert-revocation-checks'];
  if (checks !== undefined) {
    // RFC 8366's own example writes the boolean as a string; accept that spelling too.
    if (checks === true || checks === 'true') v.domainCertRevocationChecks = true;
    else if (checks === false || checks === 'false') v.domainCertRevocationChecks = false;
    else fail('VOUCHER_MALFORMED', 'voucher domain-cert-revocation-checks is not a boolean');
  }
  if (b.nonce !== undefined) {
    v.nonce = base64(b.nonce, 'nonce');
    if (v.nonce.length < 8 || v.nonce.length > 32) {
      fail('VOUCHER_MALFORMED', `voucher nonce has ${v.nonce.length} octets, expected 8..32`);
    }
    if (v.expiresOn !== undefined)
      fail('VOUCHER_MALFORMED', 'voucher has both nonce and expires-on');
  }
  if (b['last-renewal-date'] !== undefined) {
    parseDateAndTime(b['last-renewal-date'], 'last-renewal-date');
    if (v.expiresOn === undefined)
      fail('VOUCHER_MALFORMED', 'voucher last-renewal-date needs expires-on');
    v.lastRenewalDate = b['last-renewal-date'] as string;
  }
  return v;
}

/** The voucher as plain JSON-friendly data (binary as base64), for `voucher inspect`. */
export function voucherToJson(v: Voucher): Record<string, unknown> {
  return JSON.parse(encodeVoucher(v)) as Record<string, unknown>;
}
