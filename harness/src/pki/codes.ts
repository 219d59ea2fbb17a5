import { LabError } from '../common/errors.ts';

/**
 * Stable codes for everything the PKI and the device-side verifier can refuse. The emulated
 * device reports these codes, tests assert them, and `artifacts verify --json` prints them.
 */
export const PkiCodes = {
  CMS_MALFORMED: 'an artifact is not well-formed DER CMS of the expected shape',
  CONTENT_TYPE_UNEXPECTED: 'a CMS content type is not one the artifact may have',
  DECRYPTION_FAILED: 'an EnvelopedData artifact could not be decrypted with the identity key',
  VOUCHER_MISSING: 'signed conveyed information came without an ownership voucher',
  OWNER_CERT_MISSING: 'signed conveyed information came without an owner certificate',
  CONVEYED_INFO_UNSIGNED: 'conveyed information is unsigned where signed data is required',
  VOUCHER_SIGNATURE_INVALID: 'the voucher signature does not verify to the voucher trust anchor',
  VOUCHER_MALFORMED: 'the voucher content is not a valid ietf-voucher instance',
  VOUCHER_EXPIRED: 'the voucher expires-on is in the past',
  VOUCHER_NOT_YET_VALID: 'the voucher created-on is in the future',
  VOUCHER_ASSERTION_REJECTED: 'the voucher assertion is not accepted by local policy',
  VOUCHER_SERIAL_MISMATCH: 'the voucher serial-number is not the device serial number',
  VOUCHER_ISSUER_MISMATCH: 'the voucher idevid-issuer is not the IDevID authority key identifier',
  VOUCHER_NONCE_MISMATCH: 'the voucher nonce is absent, or not the nonce the device sent',
  REVOCATION_UNAVAILABLE:
    'revocation checks are required but no usable stapled CRL gives the status of an owner-chain certificate',
  OWNER_CERT_REVOKED:
    'a stapled CRL lists the owner certificate, or an intermediate CA below the pinned-domain-cert, as revoked',
  OWNER_CERT_UNTRUSTED: 'the owner certificate does not chain to the pinned-domain-cert',
  OWNER_CERT_INVALID: 'the owner certificate may not sign (key usage) or is outside its validity',
  CONVEYED_INFO_SIGNATURE_INVALID: 'the conveyed information signature is not by the owner key',
  CONVEYED_INFO_INVALID: 'the conveyed information is not valid redirect or onboarding information',
  PKI_INVALID: 'a lab PKI directory or one of its files cannot be used',
  CSR_INVALID: 'a certificate signing request cannot be used',
} as const;

/** One of the stable PKI codes. */
export type PkiCode = keyof typeof PkiCodes;

/** A refusal by the PKI or the verifier; `code` is one of {@link PkiCodes}. */
export class PkiError extends LabError {
  declare readonly code: PkiCode;

  constructor(code: PkiCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'PkiError';
  }
}

/** Throws a PkiError; a shorthand for the many checks in the verifier. */
export function fail(code: PkiCode, message: string, cause?: unknown): never {
  throw new PkiError(code, message, cause === undefined ? undefined : { cause });
}
