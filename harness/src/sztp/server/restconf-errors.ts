import { escapeXml } from '../../pki/xml.ts';
import { BOOTSTRAP_MODULE, BOOTSTRAP_NAMESPACE, type Encoding } from './media.ts';

/** RFC 8040 §7.1 error-type values. */
export type ErrorType = 'transport' | 'rpc' | 'protocol' | 'application';

/** The error-tags this server sends (RFC 8040 §7, RFC 6241 Appendix A). */
export type ErrorTag =
  | 'access-denied'
  | 'bad-element'
  | 'data-missing'
  | 'invalid-value'
  | 'malformed-message'
  | 'missing-element'
  | 'operation-failed'
  | 'operation-not-supported'
  | 'too-big'
  | 'unknown-element'
  | 'unknown-namespace';

/** One `ietf-restconf:errors` entry with the HTTP status it travels with. */
export class RestconfError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly tag: ErrorTag;
  /** A schema node path, written with module names (JSON style); rendered per encoding. */
  readonly path: string | undefined;
  readonly appTag: string | undefined;

  constructor(
    status: number,
    type: ErrorType,
    tag: ErrorTag,
    message: string,
    extra: { path?: string; appTag?: string } = {},
  ) {
    super(message);
    this.name = 'RestconfError';
    this.status = status;
    this.type = type;
    this.tag = tag;
    this.path = extra.path;
    this.appTag = extra.appTag;
  }
}

/** A 400 for input that does not fit the YANG module, naming the node. */
export function schemaError(tag: ErrorTag, path: string, message: string): RestconfError {
  return new RestconfError(400, 'protocol', tag, message, { path });
}

/** The JSON form of an instance path, e.g. /ietf-sztp-bootstrap-server:report-progress/message. */
export function rpcPath(rpc: string, ...nodes: string[]): string {
  return `/${BOOTSTRAP_MODULE}:${[rpc, ...nodes].join('/')}`;
}

function xmlPath(path: string): string {
  // Every node of these paths is in the bootstrap-server module: prefix each step.
  return path
    .replace(`${BOOTSTRAP_MODULE}:`, '')
    .split('/')
    .map((step) => (step ? `sztp-svr:${step.replace(/\[.*$/, '')}` : step))
    .join('/');
}

/** Renders the error body in the given encoding (RFC 8040 §7.1). */
export function renderError(error: RestconfError, encoding: Encoding): string {
  if (encoding === 'json') {
    const entry: Record<string, string> = { 'error-type': error.type, 'error-tag': error.tag };
    if (error.appTag) entry['error-app-tag'] = error.appTag;
    if (error.path) entry['error-path'] = error.path;
    entry['error-message'] = error.message;
    return JSON.stringify({ 'ietf-restconf:errors': { error: [entry] } });
  }
  const lines = [
    `<errors xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf">`,
    '  <error>',
    `    <error-type>${error.type}</error-type>`,
    `    <error-tag>${error.tag}</error-tag>`,
  ];
  if (error.appTag) lines.push(`    <error-app-tag>${escapeXml(error.appTag)}</error-app-tag>`);
  if (error.path) {
    lines.push(
      `    <error-path xmlns:sztp-svr="${BOOTSTRAP_NAMESPACE}">${escapeXml(xmlPath(error.path))}</error-path>`,
    );
  }
  lines.push(`    <error-message>${escapeXml(error.message)}</error-message>`, '  </error>');
  lines.push('</errors>');
  return `${lines.join('\n')}\n`;
}
