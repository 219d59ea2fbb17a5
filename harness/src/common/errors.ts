/**
 * One registry of stable error codes. A CLI exit status, a JSON error object and a scenario
 * report classify failures by these codes; the message says what did not match.
 */
export const ErrorCodes = {
  INVALID_ARGUMENT: 'an argument or option has a value the command cannot use',
  COMMAND_FAILED: 'an external command exited with a non-zero status',
  DOCKER_UNAVAILABLE: 'the Docker engine does not answer',
  IMAGE_BUILD_FAILED: 'a lab image could not be built',
  NETWORK_ALLOCATION_FAILED: 'no free lab subnet could be found',
  WAIT_TIMEOUT: 'something awaited did not happen in time',
  INTERRUPTED: 'the run was interrupted (Ctrl-C or SIGTERM) while a step ran',
  DHCP_OPTION_INVALID: 'a DHCP SZTP redirect option could not be decoded or encoded',
  SETUP_FAILED: 'the host could not be prepared for the lab',
  CAPTURE_INVALID: 'a packet capture could not be read',
  TOPOLOGY_INVALID: 'a topology file (or one built in code) breaks its schema or references',
  SCENARIO_INVALID: 'a scenario file breaks its schema or names what its topology lacks',
  LAB_START_FAILED: 'a lab could not be brought up',
  REPORT_INVALID: 'a report.json could not be read back',
  FIRMWARE_INVALID: 'a file is not a lab firmware image, or its manifest does not match',
  DNS_RECORD_INVALID: 'a DNS zone or SZTP TXT record could not be built or read',
  CONFIG_INVALID: 'a device configuration (Junos XML) could not be parsed or merged',
  DEVICE_CONFIG_INVALID: 'a device settings file (device.json) is invalid',
  DEVICE_STATE_INVALID: "a routing engine's state file is unreadable",
  DEVICE_IDENTITY: 'a routing engine did not receive its IDevID from the factory',
  TPM_KEY_INVALID: 'a key file is not a TPM-wrapped (TSS2) key',
  SERVER_CONFIG_INVALID: 'a bootstrap server configuration or records file is invalid',
  SERVER_START_FAILED: 'the bootstrap server could not listen',
  /** The verifier's codes (VOUCHER_*, OWNER_CERT_*, CMS_*, ...) are listed in pki/codes.ts. */
  UNSIGNED_ONBOARDING_FROM_UNTRUSTED:
    'unsigned onboarding information came from an untrusted source',
} as const;

export type ErrorCode = keyof typeof ErrorCodes | (string & {});

export class LabError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LabError';
    this.code = code;
    this.details = options?.details;
  }

  toJSON(): { code: string; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** Adds context as an error travels up, keeping the original as `cause`. */
export function withContext(context: string, error: unknown): LabError {
  if (error instanceof LabError) {
    return new LabError(error.code, `${context}: ${error.message}`, {
      cause: error,
      ...(error.details ? { details: error.details } : {}),
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new LabError('COMMAND_FAILED', `${context}: ${message}`, { cause: error });
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
