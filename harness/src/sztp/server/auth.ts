import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { DeviceRecord } from './records.ts';
import { RestconfError } from './restconf-errors.ts';

/** What the TLS layer says about the device's certificate; computed once per connection. */
export interface PeerIdentity {
  present: boolean;
  /** The chain verified to one of the manufacturer trust anchors. */
  authorized: boolean;
  reason?: string;
  /** X.520 serialNumber (2.5.4.5) of the subject, when there is exactly one. */
  serial?: string;
  /** DER of the device certificate. */
  der?: Buffer;
}

export interface Authenticated {
  serial: string;
  record: DeviceRecord;
  via: 'certificate' | 'basic' | 'certificate+basic';
  certificate?: Buffer;
}

const identities = new WeakMap<TLSSocket, PeerIdentity>();

export function peerIdentity(socket: TLSSocket): PeerIdentity {
  const cached = identities.get(socket);
  if (cached) return cached;
  const cert = socket.getPeerCertificate();
  let identity: PeerIdentity;
  if (!cert || Object.keys(cert).length === 0) {
    identity = { present: false, authorized: false };
  } else {
    const value = (cert.subject as unknown as Record<string, unknown> | undefined)?.serialNumber;
    identity = {
      present: true,
      authorized: socket.authorized,
      der: cert.raw,
      ...(typeof value === 'string' ? { serial: value } : {}),
      ...(socket.authorizationError ? { reason: String(socket.authorizationError) } : {}),
    };
  }
  identities.set(socket, identity);
  return identity;
}

/** A 401; `claimed` is the serial the device claimed, for the audit log. */
export class AccessDenied extends RestconfError {
  readonly claimed: string | undefined;

  constructor(message: string, claimed?: string) {
    super(401, 'protocol', 'access-denied', message);
    this.claimed = claimed;
  }
}

function denied(message: string, claimed?: string): AccessDenied {
  return new AccessDenied(message, claimed);
}

/** Reads `Authorization: Basic ...`; undefined when absent, an error when not well-formed. */
function basicCredentials(header: string | undefined) {
  if (header === undefined) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) throw denied('the Authorization header is not HTTP Basic');
  const text = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) throw denied('the Basic credentials have no ":"');
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

function samePassword(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Authenticates a device (RFC 8572 §5.3, §9.2): a client certificate chaining to a manufacturer
 * trust anchor names the serial; HTTP Basic, when sent as well, must name the same serial; a
 * record's password, when set, must come in the Basic credentials. Unknown devices get 401.
 */
export function authenticate(
  req: IncomingMessage,
  lookup: (serial: string) => DeviceRecord | undefined,
  clientCert: 'required' | 'optional',
): Authenticated {
  const peer = peerIdentity(req.socket as TLSSocket);
  const basic = basicCredentials(req.headers.authorization);
  let serial: string;
  if (peer.present) {
    if (!peer.authorized) {
      throw denied(
        `the client certificate does not chain to a manufacturer trust anchor (${peer.reason ?? 'unverified'})`,
      );
    }
    if (peer.serial === undefined)
      throw denied('the client certificate subject has no single serialNumber');
    if (basic && basic.user !== peer.serial) {
      throw denied(
        'the HTTP Basic user name is not the serial number in the client certificate',
        peer.serial,
      );
    }
    serial = peer.serial;
  } else {
    if (clientCert === 'required') throw denied('a client certificate (IDevID) is required');
    if (!basic) throw denied('a client certificate or HTTP Basic credentials are required');
    serial = basic.user;
  }
  const record = lookup(serial);
  if (!record) throw denied('unknown device', serial);
  if (!peer.present && record.password === undefined) {
    throw denied('this device has no password; it must authenticate with its certificate', serial);
  }
  if (record.password !== undefined) {
    if (!basic || !samePassword(basic.password, record.password)) {
      throw denied('the HTTP Basic password is missing or wrong', serial);
    }
  }
  const via = peer.present ? (basic ? 'certificate+basic' : 'certificate') : 'basic';
  return { serial, record, via, ...(peer.der ? { certificate: peer.der } : {}) };
}
