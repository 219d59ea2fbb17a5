import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../common/exec.ts';

/**
 * HTTPS for the routing engine, through curl: curl loads OpenSSL's tpm2 provider (from the
 * OpenSSL configuration named in its environment alone), so the TLS client key is used inside
 * the TPM while this process stays free of the provider.
 */
export interface TlsIdentity {
  /** PEM: the IDevID certificate (and its chain). */
  certPath: string;
  /** The TPM-wrapped key blob. */
  keyPath: string;
  /** OpenSSL configuration that loads the tpm2 provider (for curl's process only). */
  opensslConf: string;
}

export interface Endpoint {
  /** Host name or IP literal, as the server list gave it. */
  host: string;
  port: number;
  /** The address to connect to (one of the host's); the host name is still used for TLS. */
  address?: string;
}

export interface HttpResult {
  status: number;
  contentType: string;
  body: Buffer;
  /** The server's certificate was verified against the given trust anchors. */
  trusted: boolean;
  /** curl's timings in ms: connect, TLS handshake done, total. */
  timing: { connectMs: number; tlsMs: number; totalMs: number };
  /** curl's exit status when the transfer failed below HTTP (0 otherwise). */
  curlExit: number;
  error?: string;
}

/** curl exit statuses that mean "the server's certificate could not be authenticated". */
const CERT_FAILURES = new Set([35, 51, 58, 60, 77, 83, 90, 91]);

function urlFor(endpoint: Endpoint, path: string): string {
  const host =
    endpoint.host.includes(':') && !endpoint.host.startsWith('[')
      ? `[${endpoint.host}]`
      : endpoint.host;
  return `https://${host}:${endpoint.port}${path}`;
}

export interface RequestOptions {
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  identity?: TlsIdentity;
  /** PEM file of trust anchors; absent means a provisional (blind) connection. */
  trustAnchors?: string;
  basicUser?: string;
  timeoutMs?: number;
  /** Write the body to this file instead of returning it (downloads). */
  outFile?: string;
  /**
   * The engine's clock is this many seconds off: curl's certificate checks run at that time
   * (libfaketime), as a router's TLS stack goes by the router's own clock.
   */
  clockSkewSeconds?: number;
}

/** Where Debian's libfaketime lives (the device image installs it). */
const FAKETIME_LIBS = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
];
let faketimeLib: string | null | undefined;

function faketimeLibrary(): string | undefined {
  faketimeLib ??= FAKETIME_LIBS.find((path) => existsSync(path)) ?? null;
  return faketimeLib ?? undefined;
}

/**
 * The environment that shifts a process's idea of the time by `skewSeconds` (the monotonic
 * clock, which curl's timeouts use, is left alone), or nothing without libfaketime: then curl
 * checks certificates at the real time.
 */
export function clockSkewEnv(
  skewSeconds: number,
  lib: string | undefined = faketimeLibrary(),
): Record<string, string> {
  const offset = Math.round(skewSeconds);
  if (offset === 0 || !lib) return {};
  return {
    LD_PRELOAD: lib,
    FAKETIME: `${offset > 0 ? '+' : '-'}${Math.abs(offset)}`,
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
}

export async function httpsRequest(
  endpoint: Endpoint,
  path: string,
  options: RequestOptions,
): Promise<HttpResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sztp-curl-'));
  const bodyFile = options.outFile ?? join(dir, 'body');
  try {
    const args = ['-sS', '--http1.1', '-o', bodyFile, '-w', '%{json}'];
    args.push('--max-time', String(Math.ceil((options.timeoutMs ?? 15_000) / 1000)));
    args.push('--connect-timeout', '5');
    if (options.method === 'POST' || options.body !== undefined) args.push('-X', 'POST');
    for (const [name, value] of Object.entries(options.headers ?? {}))
      args.push('-H', `${name}: ${value}`);
    if (options.body !== undefined) {
      writeFileSync(join(dir, 'request'), options.body);
      args.push('--data-binary', `@${join(dir, 'request')}`);
    }
    if (options.identity)
      args.push('--cert', options.identity.certPath, '--key', options.identity.keyPath);
    if (options.trustAnchors) args.push('--cacert', options.trustAnchors);
    else args.push('-k');
    if (options.basicUser !== undefined) args.push('-u', `${options.basicUser}:`);
    // A name is pinned to the address being tried; an IP literal needs no resolving.
    if (endpoint.address && endpoint.address !== endpoint.host && isIP(endpoint.host) === 0) {
      const address = endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address;
      args.push('--resolve', `${endpoint.host}:${endpoint.port}:${address}`);
    }
    args.push(urlFor(endpoint, path));
    const env = { ...process.env, ...clockSkewEnv(options.clockSkewSeconds ?? 0) };
    if (options.identity) env.OPENSSL_CONF = options.identity.opensslConf;
    const result = await run('curl', args, { env, allowFailure: true });
    let info: Record<string, unknown> = {};
    try {
      info = JSON.parse(result.stdout) as Record<string, unknown>;
    } catch {
      // curl prints no write-out when it fails before the transfer; the exit status says why.
    }
    const seconds = (name: string) => Math.round(Number(info[name] ?? 0) * 1000);
    let body = Buffer.alloc(0);
    if (!options.outFile) {
      try {
        body = readFileSync(bodyFile);
      } catch {
        // No body was written.
      }
    }
    return {
      status: Number(info.http_code ?? info.response_code ?? 0),
      contentType: String(info.content_type ?? ''),
      body,
      trusted: Boolean(options.trustAnchors) && result.exitCode === 0,
      timing: {
        connectMs: seconds('time_connect'),
        tlsMs: seconds('time_appconnect'),
        totalMs: seconds('time_total'),
      },
      curlExit: result.exitCode,
      ...(result.exitCode !== 0 ? { error: curlError(result.stderr, result.exitCode) } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Why curl failed, in one line: its own `curl: (60) SSL certificate problem: ...` line, not the
 * advice it prints after it; else the last line it printed; else the exit status.
 */
export function curlError(stderr: string, exitCode: number): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return (
    lines.find((line) => /^curl: \(\d+\)/.test(line)) ?? lines.at(-1) ?? `curl exit ${exitCode}`
  );
}

export function isCertificateFailure(result: HttpResult): boolean {
  return CERT_FAILURES.has(result.curlExit);
}
