import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TLSSocket } from 'node:tls';
import { LabError } from '../../common/errors.ts';
import { type AdminServer, startAdmin } from './admin.ts';
import { AccessDenied, type Authenticated, authenticate } from './auth.ts';
import type { ServerConfig } from './config.ts';
import { corrupt, type Fault, FaultTable } from './faults.ts';
import type { AuditEntry } from './journal.ts';
import {
  BOOTSTRAP_MODULE,
  type Encoding,
  MEDIA_TYPE,
  negotiate,
  requestEncoding,
} from './media.ts';
import {
  type Output,
  ResponseBuilder,
  readCertificates,
  renderedBody,
  type Variant,
} from './responses.ts';
import { RestconfError, renderError, rpcPath } from './restconf-errors.ts';
import {
  parseBootstrapRequest,
  parseProgressReport,
  RPC_NAMES,
  type RpcName,
} from './rpc-input.ts';
import { ServerState } from './state.ts';

export const SERVER_START_FAILED = 'SERVER_START_FAILED';

const OPERATIONS = '/restconf/operations/';
const HOST_META = '/.well-known/host-meta';

export interface RunningServer {
  url: string;
  port: number;
  admin: AdminServer | undefined;
  state: ServerState;
  faults: FaultTable;
  config: ServerConfig;
  close(): Promise<void>;
}

/** Where log lines go; the CLI sends them to stderr, tests may collect them. */
export type LogSink = (line: string) => void;

/** Per-request bookkeeping that ends up as one audit entry. */
interface Exchange {
  started: number;
  draft: Omit<AuditEntry, 'kind' | 'seq' | 'ts' | 'durationMs' | 'status' | 'outcome'>;
  encoding: Encoding;
}

class BodyTooLarge extends RestconfError {
  constructor(limit: number) {
    super(413, 'protocol', 'too-big', `the request body is larger than ${limit} octets`);
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(new BodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function hostMeta(req: IncomingMessage): { type: string; body: string } {
  const wantsJson = /application\/json/i.test(req.headers.accept ?? '');
  if (wantsJson) {
    return {
      type: 'application/json',
      body: JSON.stringify({ links: [{ rel: 'restconf', href: '/restconf' }] }),
    };
  }
  return {
    type: 'application/xrd+xml',
    body:
      "<?xml version='1.0' encoding='UTF-8'?>\n" +
      "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n" +
      "  <Link rel='restconf' href='/restconf'/>\n" +
      '</XRD>\n',
  };
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * The name and port the device used to reach us, from the Host header, when it is a plain host
 * name or IP literal: the Appendix B redirect points there, a name the server certificate is
 * expected to carry. Anything else gives undefined.
 */
function hostHeader(value: string | undefined): { address: string; port?: number } | undefined {
  if (!value) return undefined;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(value.trim());
  if (!match) return undefined;
  const address = match[1] ?? match[2] ?? '';
  if (!match[1] && !HOSTNAME.test(address)) return undefined;
  const port = match[3] === undefined ? undefined : Number(match[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return port === undefined ? { address } : { address, port };
}

function plainAddress(address: string | undefined): string {
  if (!address) return '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * Starts the RFC 8572 bootstrap server (redirect and/or onboarding role, per the configuration)
 * and, when configured, its admin API. Resolves once both listen.
 */
export async function startServer(
  config: ServerConfig,
  log: LogSink = () => {},
): Promise<RunningServer> {
  const state = await ServerState.open(config.records, config.dataDir);
  if (state.skippedLines > 0)
    log(`journal ${state.journalPath}: skipped ${state.skippedLines} unreadable lines`);
  state.onJournalError = (error) =>
    log(`journal ${state.journalPath}: ${(error as Error).message}`);
  const faults = new FaultTable();
  const builder = new ResponseBuilder(
    config.pki,
    config.tls.trustAnchor
      ? { certFile: config.tls.cert, trustAnchor: config.tls.trustAnchor }
      : undefined,
  );
  const onboarding = config.roles.includes('onboarding-server');
  const redirect = config.roles.includes('redirect-server');

  let tls: { key: Buffer; cert: Buffer; ca: Buffer[] };
  try {
    tls = {
      key: readFileSync(config.tls.key),
      cert: readFileSync(config.tls.cert),
      ca: config.tls.clientTrustAnchors.map((f) => readFileSync(f)),
    };
    for (const f of config.tls.clientTrustAnchors) await readCertificates(f);
  } catch (error) {
    await state.close();
    throw new LabError(
      SERVER_START_FAILED,
      `${config.file}: cannot read TLS files: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }

  const finish = (
    x: Exchange,
    status: number,
    outcome: string,
    extra: Partial<AuditEntry> = {},
  ) => {
    const entry = state.recordAudit({
      kind: 'audit',
      ...x.draft,
      status,
      outcome,
      ...extra,
      durationMs: Math.round((performance.now() - x.started) * 100) / 100,
    });
    if (config.logRequests) log(JSON.stringify(entry));
    return entry;
  };

  const sendError = async (
    x: Exchange,
    res: ServerResponse,
    error: RestconfError,
    extra: Partial<AuditEntry> = {},
  ) => {
    const body = renderError(error, x.encoding);
    finish(x, error.status, 'error', {
      errorTag: error.tag,
      errorMessage: error.message,
      ...extra,
    });
    res.statusCode = error.status;
    res.setHeader('Content-Type', MEDIA_TYPE[x.encoding]);
    res.setHeader('Cache-Control', 'no-store');
    if (error.status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="sztp"');
    if (error.status === 405) res.setHeader('Allow', 'POST');
    if (error instanceof BodyTooLarge) res.setHeader('Connection', 'close');
    res.end(body);
  };

  const bootstrap = async (
    x: Exchange,
    res: ServerResponse,
    who: Authenticated,
    body: string,
    reqEnc: Encoding | undefined,
    hits: Fault[],
  ) => {
    const input = parseBootstrapRequest(body, reqEnc);
    const record = who.record;
    const socket = res.req.socket as TLSSocket;
    let variant: Variant | undefined;
    let signed: boolean;
    let replayed: Output | undefined;
    if (record.response.kind === 'replay') {
      // Captured bootstrapping data goes out as it came, whichever role this server plays:
      // the device, not this server, decides whether it is good.
      replayed = { ...record.response.output };
      if (onboarding) replayed.reportingLevel = record.reportingLevel;
      signed = replayed.ownerCertificate !== undefined;
    } else if (record.response.kind === 'redirect') {
      if (!redirect)
        throw new RestconfError(
          404,
          'application',
          'data-missing',
          'this server does not play the redirect-server role',
        );
      variant = { kind: 'redirect', signed: record.signed };
      signed = record.signed;
    } else {
      if (!onboarding)
        throw new RestconfError(
          404,
          'application',
          'data-missing',
          'this server does not play the onboarding-server role',
        );
      if (input.signedDataPreferred && record.untrusted === 'promote') {
        const host = hostHeader(res.req.headers.host);
        variant = {
          kind: 'promote',
          address: config.advertise.address ?? host?.address ?? plainAddress(socket.localAddress),
          port: config.advertise.port ?? host?.port ?? socket.localPort ?? config.listen.port,
        };
        signed = true;
      } else {
        // signed-data-preferred: never unsigned onboarding information (RFC 8572 §7.1).
        signed = record.signed || input.signedDataPreferred;
        variant = { kind: 'onboarding', signed };
      }
    }
    if (!replayed && signed && record.voucher.binding === 'nonce' && !input.nonce) {
      throw new RestconfError(
        400,
        'application',
        'missing-element',
        "this device's voucher is bound to a nonce: send one",
        {
          path: rpcPath('get-bootstrapping-data', 'nonce'),
        },
      );
    }
    const nonce = record.voucher.binding === 'expiry' ? undefined : input.nonce;
    const base =
      replayed ??
      (await builder.output(record, variant as Variant, {
        signed,
        onboardingServer: onboarding,
        ...(nonce ? { nonce } : {}),
        ...(who.certificate ? { idevid: who.certificate } : {}),
      }));
    let contentType = MEDIA_TYPE[x.encoding];
    const out = hits.length > 0 ? { ...base } : base;
    for (const f of hits) {
      const a = f.action;
      if (a.kind === 'corrupt-signature') {
        if (a.artifact === 'conveyed-information')
          out.conveyedInformation = corrupt(out.conveyedInformation);
        if (a.artifact === 'owner-certificate' && out.ownerCertificate)
          out.ownerCertificate = corrupt(out.ownerCertificate);
        if (a.artifact === 'ownership-voucher' && out.ownershipVoucher)
          out.ownershipVoucher = corrupt(out.ownershipVoucher);
      } else if (a.kind === 'other-voucher' && builder.canSign && variant) {
        out.ownershipVoucher = await builder.voucher(record, a.serial, nonce, who.certificate);
        out.ownerCertificate ??= (
          await builder.output(record, variant, { signed: true, onboardingServer: onboarding })
        ).ownerCertificate;
      } else if (a.kind === 'content-type') {
        contentType = a.value;
      }
    }
    const reply = renderedBody(out, x.encoding);
    const outcome = variant?.kind ?? 'replay';
    finish(x, 200, outcome, {
      signed,
      nonce: nonce !== undefined,
      encoding: x.encoding,
    });
    res.statusCode = 200;
    res.setHeader('Content-Type', contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.end(reply);
  };

  const progress = async (
    x: Exchange,
    res: ServerResponse,
    who: Authenticated,
    body: string,
    reqEnc: Encoding | undefined,
  ) => {
    if (body.trim() === '') {
      throw new RestconfError(
        400,
        'protocol',
        'missing-element',
        'report-progress needs an input with progress-type',
        {
          path: rpcPath('report-progress', 'progress-type'),
        },
      );
    }
    const report = parseProgressReport(body, reqEnc);
    await state.recordProgress({ kind: 'progress', serial: who.serial, ...report });
    finish(x, 204, 'progress', { progressType: report.progressType });
    res.statusCode = 204;
    res.end();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as TLSSocket;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const x: Exchange = {
      started: performance.now(),
      draft: {
        peer: plainAddress(socket.remoteAddress),
        method: req.method ?? '',
        path: path.slice(0, 256),
        tls: socket.getProtocol?.() ?? undefined,
      } as Exchange['draft'],
      encoding: 'json',
    };
    // Until the reply encoding is known, errors go out in the request's encoding, else JSON.
    const reqEnc = requestEncoding(req.headers['content-type']);
    x.encoding = negotiate(req.headers.accept, reqEnc ?? 'json') ?? reqEnc ?? 'json';
    try {
      const raw = await readBody(req, config.maxBodyBytes);
      if (path === HOST_META) {
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          throw new RestconfError(
            405,
            'protocol',
            'operation-not-supported',
            `${req.method} is not allowed on ${HOST_META}`,
          );
        }
        const meta = hostMeta(req);
        finish(x, 200, 'host-meta');
        res.setHeader('Content-Type', meta.type);
        res.end(req.method === 'HEAD' ? undefined : meta.body);
        return;
      }
      const name = path.startsWith(OPERATIONS) ? path.slice(OPERATIONS.length) : '';
      const rpc = name.startsWith(`${BOOTSTRAP_MODULE}:`)
        ? name.slice(BOOTSTRAP_MODULE.length + 1)
        : '';
      const known =
        (RPC_NAMES as readonly string[]).includes(rpc) && (rpc !== 'report-progress' || onboarding);
      if (!known)
        throw new RestconfError(
          404,
          'protocol',
          'invalid-value',
          `no resource or operation at ${x.draft.path}`,
        );
      x.draft.rpc = rpc;
      if (req.method !== 'POST') {
        throw new RestconfError(
          405,
          'protocol',
          'operation-not-supported',
          `operations are invoked with POST, not ${req.method}`,
        );
      }
      const who = authenticate(req, (serial) => state.records.get(serial), config.clientCert);
      x.draft.serial = who.serial;
      x.draft.auth = who.via;
      const replyEnc = negotiate(req.headers.accept, reqEnc ?? 'json');
      if (replyEnc === undefined) {
        throw new RestconfError(
          406,
          'application',
          'invalid-value',
          'the Accept header names neither application/yang-data+json nor +xml',
        );
      }
      x.encoding = replyEnc;
      if (raw.length > 0 && reqEnc === undefined) {
        throw new RestconfError(
          415,
          'application',
          'invalid-value',
          `the Content-Type must be application/yang-data+json or +xml, not "${(req.headers['content-type'] ?? '(none)').slice(0, 80)}"`,
        );
      }
      let body: string;
      try {
        body = utf8.decode(raw);
      } catch {
        throw new RestconfError(400, 'protocol', 'malformed-message', 'the body is not UTF-8');
      }
      const hits = faults.take(who.serial, rpc);
      if (hits.length > 0) x.draft.faults = hits.map((f) => f.id);
      for (const f of hits) if (f.action.kind === 'delay') await sleep(f.action.ms);
      if (hits.some((f) => f.action.kind === 'drop')) {
        finish(x, 0, 'dropped');
        socket.destroy();
        return;
      }
      const status = hits.find((f) => f.action.kind === 'status')?.action;
      if (status?.kind === 'status') {
        throw new RestconfError(status.status, 'application', status.errorTag, status.message);
      }
      if ((rpc as RpcName) === 'get-bootstrapping-data')
        await bootstrap(x, res, who, body, reqEnc, hits);
      else await progress(x, res, who, body, reqEnc);
    } catch (error) {
      if (res.headersSent || socket.destroyed) return;
      if (error instanceof AccessDenied && error.claimed) x.draft.serial = error.claimed;
      if (error instanceof RestconfError) {
        await sendError(x, res, error).catch((e) => log(`cannot answer: ${(e as Error).message}`));
        return;
      }
      log(
        `internal error on ${req.method} ${x.draft.path}: ${(error as Error).stack ?? String(error)}`,
      );
      const internal = new RestconfError(
        500,
        'application',
        'operation-failed',
        'internal server error',
      );
      await sendError(x, res, internal).catch(() => res.destroy());
    }
  };

  const server: Server = createServer(
    {
      ...tls,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: config.tls.minVersion,
      maxVersion: config.tls.maxVersion,
    },
    (req, res) => {
      void handle(req, res);
    },
  );
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  // A handshake that fails (the device refused our certificate, or spoke no TLS) never becomes
  // a request; the audit log keeps it anyway, so the server's side of a refusal is on record.
  // By the time a handshake has failed its sockets have let go of their handles, and with them
  // the peer's address: it is noted when the TCP connection comes, and found again through the
  // TLS socket's `_parent` (Node's field for the TCP socket under it; not a documented one).
  const peers = new WeakMap<object, string>();
  server.on('connection', (raw: { remoteAddress?: string }) => {
    if (raw.remoteAddress) peers.set(raw, raw.remoteAddress);
  });
  server.on('tlsClientError', (error, socket) => {
    const under = (socket as { _parent?: object })._parent;
    const address = socket.remoteAddress ?? (under ? peers.get(under) : undefined);
    const entry = state.recordAudit({
      kind: 'audit',
      peer: address ? plainAddress(address) : 'unknown',
      method: '',
      path: '',
      status: 0,
      outcome: 'tls-failed',
      // OpenSSL's reason ("tlsv1 alert unknown ca") rather than its whole error-queue line.
      errorMessage: (error as { reason?: string }).reason ?? error.message,
      durationMs: 0,
    });
    if (config.logRequests) log(JSON.stringify(entry));
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.listen.port, config.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await state.close();
    throw new LabError(
      SERVER_START_FAILED,
      `cannot listen on ${config.listen.host}:${config.listen.port}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const port = (server.address() as AddressInfo).port;
  const host = config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host;
  let admin: AdminServer | undefined;
  if (config.admin) {
    try {
      admin = await startAdmin(config.admin, { state, faults, config, port });
    } catch (error) {
      server.close();
      await state.close();
      throw error;
    }
  }
  return {
    url: `https://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    admin,
    state,
    faults,
    config,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await admin?.close();
      await state.close();
    },
  };
}
