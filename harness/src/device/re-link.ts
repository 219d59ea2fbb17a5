import { createHash, randomBytes, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../common/exec.ts';
import { certificatesFromPem } from '../pki/pem.ts';
import { parseFirmware } from '../sztp/firmware.ts';
import type { EventLog } from './events.ts';
import { CERT_FILE, KEY_FILE, TPM_PROVIDER_ARGS } from './tpm.ts';

/**
 * The private link between the two routing engines of one chassis: heartbeats and mastership,
 * the primary's challenge to the backup's DevID, and the image and configuration the primary
 * pushes to the backup. Plain HTTP on a per-device internal network that nothing else joins,
 * as the chassis' internal Ethernet is; what needs trust (the backup's identity) is proven by
 * a signature made inside the backup's TPM, not by the transport.
 */
export const LINK_PORT = 7000;

export type Role = 'starting' | 'master' | 'backup';

export interface LinkStatus {
  re: string;
  bootId: string;
  role: Role;
  image: string;
  sztpEnabled: boolean;
  configHash: string;
}

export function configHash(xml: string): string {
  return createHash('sha256').update(xml).digest('hex').slice(0, 16);
}

function tpmEnv(): NodeJS.ProcessEnv {
  const tcti = process.env.TPM2OPENSSL_TCTI ?? 'tabrmd:bus_type=session';
  return { ...process.env, TPM2OPENSSL_TCTI: tcti };
}

/** Signs a challenge with the identity key inside the TPM (openssl in a child process). */
export async function signChallenge(stateDir: string, nonce: Buffer): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'sztp-challenge-'));
  try {
    writeFileSync(join(dir, 'nonce'), nonce);
    await run(
      'openssl',
      [
        'dgst',
        '-sha256',
        ...TPM_PROVIDER_ARGS,
        '-sign',
        join(stateDir, KEY_FILE),
        '-out',
        join(dir, 'sig'),
        join(dir, 'nonce'),
      ],
      { env: tpmEnv() },
    );
    return readFileSync(join(dir, 'sig'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function certificatesOf(pem: string): X509Certificate[] {
  return certificatesFromPem(pem).map((der) => new X509Certificate(der));
}

/**
 * The primary's check of a backup: the signature over our nonce verifies with the leaf
 * certificate's key, and the leaf chains (through the certificates sent) to one of the
 * manufacturer's IDevID roots. Authorization (whose backup it is) is not checked, as the
 * vendor document says. Returns the reason for a refusal, or undefined.
 */
export function checkBackupIdentity(
  nonce: Buffer,
  signature: Buffer,
  chainPem: string,
  roots: X509Certificate[],
  now = new Date(),
): { serial?: string; reason?: string } {
  const chain = certificatesOf(chainPem);
  const leaf = chain[0];
  if (!leaf) return { reason: 'no certificate was sent' };
  const serial = /serialNumber=([^\n,]+)/.exec(leaf.subject)?.[1];
  if (!verify('sha256', nonce, leaf.publicKey, signature)) {
    return {
      ...(serial ? { serial } : {}),
      reason: 'the challenge signature does not verify with the certificate',
    };
  }
  let current = leaf;
  for (let depth = 0; depth < 4; depth++) {
    if (new Date(current.validFrom) > now || new Date(current.validTo) < now) {
      return {
        ...(serial ? { serial } : {}),
        reason: `certificate "${current.subject}" is not valid now`,
      };
    }
    const root = roots.find((r) => current.checkIssued(r) && current.verify(r.publicKey));
    if (root) return serial ? { serial } : {};
    const issuer = chain.find(
      (c) => c !== current && current.checkIssued(c) && current.verify(c.publicKey),
    );
    if (!issuer) break;
    current = issuer;
  }
  return {
    ...(serial ? { serial } : {}),
    reason:
      `the DevID "${leaf.subject.replaceAll('\n', ', ')}" ` +
      "does not chain to the manufacturer's IDevID root",
  };
}

export interface LinkHandlers {
  status: () => LinkStatus;
  /** Only a backup accepts images and configuration. */
  acceptImage: (bytes: Buffer) => Promise<void>;
  acceptConfig: (xml: string) => void;
  /** The primary is about to reboot on purpose: do not take over for this long. */
  hold: (ms: number) => void;
}

/** The link service each routing engine runs on its internal address. */
export class ReLink {
  readonly #self: string;
  readonly #peer: string;
  readonly #stateDir: string;
  readonly #events: EventLog;
  readonly #handlers: LinkHandlers;
  #server: Server | undefined;

  constructor(options: {
    self: string;
    peer: string;
    stateDir: string;
    events: EventLog;
    handlers: LinkHandlers;
  }) {
    this.#self = options.self;
    this.#peer = options.peer;
    this.#stateDir = options.stateDir;
    this.#events = options.events;
    this.#handlers = options.handlers;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks);
        try {
          if (req.method === 'GET' && req.url === '/status') {
            res
              .writeHead(200, { 'content-type': 'application/json' })
              .end(JSON.stringify(this.#handlers.status()));
          } else if (req.method === 'POST' && req.url === '/challenge') {
            const nonce = Buffer.from(JSON.parse(body.toString()).nonce as string, 'base64');
            const signature = await signChallenge(this.#stateDir, nonce);
            const chain = readFileSync(join(this.#stateDir, CERT_FILE), 'utf8');
            this.#events.emit('challenge-answered', {});
            res
              .writeHead(200, { 'content-type': 'application/json' })
              .end(JSON.stringify({ signature: signature.toString('base64'), chain }));
          } else if (req.method === 'POST' && req.url === '/image') {
            if (this.#handlers.status().role !== 'backup')
              throw new Error('only a backup takes an image');
            parseFirmware(body, 'image from the primary');
            res.writeHead(202).end();
            await this.#handlers.acceptImage(body);
          } else if (req.method === 'POST' && req.url === '/hold') {
            this.#handlers.hold(Math.min(Number(JSON.parse(body.toString()).ms) || 0, 60_000));
            res.writeHead(204).end();
          } else if (req.method === 'POST' && req.url === '/config') {
            if (this.#handlers.status().role !== 'backup')
              throw new Error('only a backup takes a configuration');
            this.#handlers.acceptConfig(JSON.parse(body.toString()).xml as string);
            res.writeHead(204).end();
          } else {
            res.writeHead(404).end();
          }
        } catch (error) {
          if (!res.headersSent)
            res.writeHead(400, { 'content-type': 'text/plain' }).end((error as Error).message);
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.#server?.once('error', reject);
      this.#server?.listen(LINK_PORT, this.#self, () => resolve());
    });
  }

  /** One call to the peer; undefined when it does not answer in time. */
  async call(
    method: 'GET' | 'POST',
    path: string,
    body?: Buffer | string,
    timeoutMs = 400,
  ): Promise<{ status: number; body: Buffer } | undefined> {
    return new Promise((resolve) => {
      const req = request(
        { host: this.#peer, port: LINK_PORT, method, path, timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }),
          );
        },
      );
      req.on('timeout', () => {
        req.destroy();
        resolve(undefined);
      });
      req.on('error', () => resolve(undefined));
      req.end(body);
    });
  }

  async peerStatus(): Promise<LinkStatus | undefined> {
    const answer = await this.call('GET', '/status');
    if (answer?.status !== 200) return undefined;
    try {
      return JSON.parse(answer.body.toString()) as LinkStatus;
    } catch {
      return undefined;
    }
  }

  /** Challenges the peer to prove its DevID; the nonce is fresh each time. */
  async challenge(): Promise<{ nonce: Buffer; signature: Buffer; chain: string } | undefined> {
    const nonce = randomBytes(32);
    const answer = await this.call(
      'POST',
      '/challenge',
      JSON.stringify({ nonce: nonce.toString('base64') }),
      5000,
    );
    if (answer?.status !== 200) return undefined;
    const parsed = JSON.parse(answer.body.toString()) as { signature: string; chain: string };
    return { nonce, signature: Buffer.from(parsed.signature, 'base64'), chain: parsed.chain };
  }

  stop(): void {
    this.#server?.close();
  }
}
