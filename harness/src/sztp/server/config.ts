import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LabError } from '../../common/errors.ts';
import { loadManifest, type PkiManifest } from '../../pki/manifest.ts';
import { CONFIG_INVALID, Shape } from './shape.ts';

/** The two roles of RFC 8572 §7, named after the module's features. */
export const SERVER_ROLES = ['redirect-server', 'onboarding-server'] as const;
export type ServerRole = (typeof SERVER_ROLES)[number];

export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

export interface Endpoint {
  host: string;
  port: number;
}

/** A loaded server configuration: validated, paths absolute, frozen. */
export interface ServerConfig {
  file: string;
  roles: readonly ServerRole[];
  listen: Endpoint;
  /** The admin API (plain HTTP, JSON); absent: none. Bind it where devices cannot reach. */
  admin: Endpoint | undefined;
  tls: {
    cert: string;
    key: string;
    /** The root this server's certificate chains to; sent in Appendix B redirects. */
    trustAnchor: string | undefined;
    minVersion: TlsVersion;
    maxVersion: TlsVersion;
    /** Manufacturer roots that device (IDevID) certificates must chain to. */
    clientTrustAnchors: string[];
  };
  /** A device without a client certificate may use HTTP Basic with its record's password. */
  clientCert: 'required' | 'optional';
  /** The lab PKI that signs conveyed information (owner) and vouchers (MASA). */
  pki: PkiManifest | undefined;
  records: string;
  dataDir: string;
  maxBodyBytes: number;
  /** Where Appendix B redirects point; default: the request's Host header, else the local address. */
  advertise: { address?: string; port?: number };
  /** One log line per request on stderr. */
  logRequests: boolean;
}

const TOP = [
  'roles',
  'listen',
  'admin',
  'tls',
  'clientCert',
  'pki',
  'records',
  'dataDir',
  'maxBodyBytes',
  'advertise',
  'logRequests',
] as const;

function endpoint(shape: Shape, host: string, port: number): Endpoint {
  shape.object(['host', 'port']);
  return { host: shape.at('host').string(host), port: shape.at('port').integer(0, 65535, port) };
}

/** Validates a parsed configuration document; `file` locates relative paths and error messages. */
export async function parseServerConfig(doc: unknown, file: string): Promise<ServerConfig> {
  const root = new Shape(file, '', doc);
  root.object(TOP);
  const base = dirname(resolve(file));
  const path = (s: Shape) => {
    const p = s.string();
    return isAbsolute(p) ? p : resolve(base, p);
  };

  const roleShapes = root.at('roles').present ? root.at('roles').array() : [];
  const roles = roleShapes.length
    ? roleShapes.map((s) => s.oneOf(SERVER_ROLES))
    : [...SERVER_ROLES];

  let pki: PkiManifest | undefined;
  if (root.at('pki').present) {
    const dir = path(root.at('pki'));
    try {
      pki = await loadManifest(dir);
    } catch (error) {
      root.at('pki').fail(`: ${(error as Error).message}`);
    }
  }

  const tlsShape = root.at('tls');
  if (tlsShape.present) {
    tlsShape.object([
      'cert',
      'key',
      'trustAnchor',
      'minVersion',
      'maxVersion',
      'clientTrustAnchors',
    ]);
  }
  const manifest = pki;
  const fromPki = <T>(what: string, pick: (m: PkiManifest) => T): T => {
    if (!manifest)
      return tlsShape.at(what).fail('must be given when no "pki" directory is configured');
    return pick(manifest);
  };
  const cert = tlsShape.at('cert').present
    ? path(tlsShape.at('cert'))
    : fromPki('cert', (m) => m.servers.bootstrap.cert);
  const key = tlsShape.at('key').present
    ? path(tlsShape.at('key'))
    : fromPki('key', (m) => m.servers.bootstrap.key);
  const trustAnchor = tlsShape.at('trustAnchor').present
    ? path(tlsShape.at('trustAnchor'))
    : pki?.tlsTrustAnchor;
  const clientTrustAnchors = tlsShape.at('clientTrustAnchors').present
    ? tlsShape.at('clientTrustAnchors').array().map(path)
    : fromPki('clientTrustAnchors', (m) => [m.idevidRoot]);
  const minVersion = tlsShape.at('minVersion').oneOf(TLS_VERSIONS, 'TLSv1.2');
  const maxVersion = tlsShape.at('maxVersion').oneOf(TLS_VERSIONS, 'TLSv1.3');
  if (minVersion === 'TLSv1.3' && maxVersion === 'TLSv1.2') {
    tlsShape.fail('minVersion is above maxVersion');
  }

  const advertise: ServerConfig['advertise'] = {};
  if (root.at('advertise').present) {
    const a = root.at('advertise');
    a.object(['address', 'port']);
    const address = a.at('address').optionalString();
    if (address !== undefined) advertise.address = address;
    if (a.at('port').present) advertise.port = a.at('port').integer(1, 65535);
  }

  const config: ServerConfig = {
    file,
    roles,
    listen: endpoint(
      root.at('listen').present ? root.at('listen') : new Shape(file, 'listen', {}),
      '127.0.0.1',
      8443,
    ),
    admin: root.at('admin').present ? endpoint(root.at('admin'), '127.0.0.1', 0) : undefined,
    tls: { cert, key, trustAnchor, minVersion, maxVersion, clientTrustAnchors },
    clientCert: root.at('clientCert').oneOf(['required', 'optional'] as const, 'required'),
    pki,
    records: path(root.at('records')),
    dataDir: path(root.at('dataDir')),
    maxBodyBytes: root.at('maxBodyBytes').integer(256, 16 * 1024 * 1024, 64 * 1024),
    advertise,
    logRequests: root.at('logRequests').boolean(true),
  };
  return Object.freeze(config);
}

/** Reads and validates a configuration file (JSON). */
export async function loadServerConfig(file: string): Promise<ServerConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new LabError(CONFIG_INVALID, `${file}: cannot read the server configuration`, {
      cause: error,
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new LabError(CONFIG_INVALID, `${file}: not JSON: ${(error as Error).message}`);
  }
  return parseServerConfig(doc, file);
}
