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
  DHCP_OPTION_INVALID: 'a DHCP SZTP redirect option could not be decoded or encoded',
  SETUP_FAILED: 'the host could not be prepared for the lab',
  CAPTURE_INVALID: 'a packet capture could not be read',
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
