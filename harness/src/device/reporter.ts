import type { EventLog } from './events.ts';
import type { Endpoint, HttpResult, RequestOptions } from './transport.ts';

/** Progress types a device must try to send at any reporting level (RFC 8572 §5.6, §7.3). */
const ALWAYS = new Set([
  'bootstrap-initiated',
  'parsing-error',
  'boot-image-error',
  'boot-image-mismatch',
  'boot-image-installed-rebooting',
  'pre-script-error',
  'config-error',
  'post-script-error',
  'bootstrap-warning',
  'bootstrap-error',
  'bootstrap-complete',
]);

export type ReportingLevel = 'minimal' | 'verbose';

export const OPERATIONS = '/restconf/operations/ietf-sztp-bootstrap-server';

export interface SshHostKey {
  algorithm: string;
  keyData: string;
}

/**
 * Sends report-progress to the server that gave the onboarding information, and only when
 * that server was authenticated at the TLS level; verbose-only types are skipped at the
 * minimal level. Every attempt is an event, so scenarios can assert on what was (not) sent.
 */
export class ProgressReporter {
  readonly #endpoint: Endpoint;
  readonly #options: RequestOptions;
  readonly #level: ReportingLevel;
  readonly #events: EventLog;
  readonly #send: (
    endpoint: Endpoint,
    path: string,
    options: RequestOptions,
  ) => Promise<HttpResult>;

  constructor(
    endpoint: Endpoint,
    options: RequestOptions,
    level: ReportingLevel,
    events: EventLog,
    send: (endpoint: Endpoint, path: string, options: RequestOptions) => Promise<HttpResult>,
  ) {
    this.#endpoint = endpoint;
    this.#options = options;
    this.#level = level;
    this.#events = events;
    this.#send = send;
  }

  wants(type: string): boolean {
    return this.#level === 'verbose' || ALWAYS.has(type);
  }

  /**
   * Reports one progress type. Returns true when the server answered 204; false otherwise
   * (including when the level does not call for this type, which is not an error).
   */
  async report(
    type: string,
    message?: string,
    extra: { sshHostKeys?: SshHostKey[] } = {},
  ): Promise<boolean> {
    if (!this.wants(type)) return false;
    const input: Record<string, unknown> = { 'progress-type': type };
    if (message) input.message = message.slice(0, 2000);
    if (extra.sshHostKeys?.length) {
      input['ssh-host-keys'] = {
        'ssh-host-key': extra.sshHostKeys.map((key) => ({
          algorithm: key.algorithm,
          'key-data': key.keyData,
        })),
      };
    }
    const body = JSON.stringify({ 'ietf-sztp-bootstrap-server:input': input });
    const result = await this.#send(this.#endpoint, `${OPERATIONS}:report-progress`, {
      ...this.#options,
      body,
      headers: {
        'Content-Type': 'application/yang-data+json',
        Accept: 'application/yang-data+json',
      },
    });
    this.#events.emit('progress-report', {
      type,
      status: result.status,
      ...(result.error ? { error: result.error } : {}),
      ...(message ? { message: message.slice(0, 200) } : {}),
    });
    return result.status === 204;
  }
}
