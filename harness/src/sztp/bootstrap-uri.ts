import { isIPv4, isIPv6 } from 'node:net';

/**
 * Checks the URIs an SZTP DHCP redirect option may carry (RFC 8572 §8.3): `https` only, the
 * authority being a hostname, an IPv4 address or a bracketed IPv6 address with an optional port,
 * and nothing after it — no path (not even "/"), query, fragment or userinfo.
 */

/** The outcome of checking one URI: its host and port, or why a receiver would skip it. */
export type UriCheck =
  | { ok: true; host: string; port: number | undefined }
  | { ok: false; reason: string };

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const HOST_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Checks one bootstrap-server URI; a refusal carries a reason that names the offending part. */
export function checkBootstrapUri(uri: string): UriCheck {
  if (uri.length === 0) return refuse('the URI is empty');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we seek
  const bad = /[\u0000-\u0020\u007f-\uffff]/.exec(uri);
  if (bad) return refuse(`it contains ${describeChar(bad[0])} at position ${bad.index}`);

  const scheme = SCHEME.exec(uri);
  const name = scheme?.[1] ?? '';
  if (!scheme || (name.toLowerCase() !== 'https' && !uri.includes('://'))) {
    return refuse('it has no "https://" prefix; only https://host[:port] is allowed');
  }
  if (name.toLowerCase() !== 'https') {
    return refuse(`the scheme is "${name}", but RFC 8572 §8.3 allows only https`);
  }
  const rest = uri.slice(scheme[0].length);
  if (!rest.startsWith('//')) return refuse('it has no authority; expected https://host[:port]');

  const afterSlashes = rest.slice(2);
  const end = afterSlashes.search(/[/?#]/);
  const authority = end === -1 ? afterSlashes : afterSlashes.slice(0, end);
  const tail = end === -1 ? '' : afterSlashes.slice(end);
  if (tail.startsWith('/')) return refuse(`it has a path ("${cut(tail)}"); none is allowed`);
  if (tail.startsWith('?')) return refuse(`it has a query ("${cut(tail)}"); none is allowed`);
  if (tail.startsWith('#')) return refuse(`it has a fragment ("${cut(tail)}"); none is allowed`);
  if (authority.includes('@')) return refuse('it has userinfo (user@); none is allowed');
  return checkAuthority(authority);
}

function checkAuthority(authority: string): UriCheck {
  if (authority.length === 0) return refuse('the host is empty');
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close === -1) return refuse('the IPv6 literal has no closing "]"');
    host = authority.slice(0, close + 1);
    const after = authority.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) {
      return refuse(`unexpected "${after}" after the IPv6 literal`);
    }
    portText = after === '' ? undefined : after.slice(1);
    const literal = host.slice(1, -1);
    if (literal.includes('%')) return refuse('IPv6 zone identifiers are not allowed');
    if (!isIPv6(literal)) return refuse(`"${host}" is not a valid IPv6 address`);
  } else {
    const colon = authority.lastIndexOf(':');
    host = colon === -1 ? authority : authority.slice(0, colon);
    portText = colon === -1 ? undefined : authority.slice(colon + 1);
    const hostProblem = checkHostName(host);
    if (hostProblem) return refuse(hostProblem);
  }
  if (portText === undefined) return { ok: true, host, port: undefined };
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) {
    return refuse(`the port "${portText}" is not a number from 1 to 65535`);
  }
  return { ok: true, host, port };
}

/** Gives why a host that is not an IPv6 literal is unusable, or undefined if it is fine. */
function checkHostName(host: string): string | undefined {
  if (host.length === 0) return 'the host is empty';
  if (/^[0-9.]+$/.test(host)) {
    return isIPv4(host) ? undefined : `"${host}" is not a valid IPv4 address`;
  }
  if (host.length > 253) return 'the hostname is longer than 253 characters';
  for (const label of host.split('.')) {
    if (!HOST_LABEL.test(label)) {
      return `"${host}" is not a valid hostname (label "${label}")`;
    }
  }
  return undefined;
}

function refuse(reason: string): UriCheck {
  return { ok: false, reason };
}

function describeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  if (code === 0) return 'a NUL octet';
  if (code === 0x20) return 'a space';
  if (code < 0x20 || code === 0x7f) return `a control character (0x${hex2(code)})`;
  return `a non-ASCII character (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
}

function hex2(code: number): string {
  return code.toString(16).padStart(2, '0');
}

function cut(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
