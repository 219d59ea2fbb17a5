/**
 * npm run bench:server — the bootstrap server on loopback, beside a bare node:https server with the
 * same TLS setup (mutual TLS, P-256) that answers every request with a canned reply of the same
 * size. Two measures for each: signed get-bootstrapping-data on keep-alive connections
 * (requests/s) and with a new mutual-TLS handshake per request (handshakes/s, no session reuse).
 * Each server runs in its own process; the client runs here. Bounded by count and by time.
 * Goals: at least 2,000 requests/s, 500 handshakes/s, and half the bare server's rates.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { initPki } from '../src/pki/lab-pki.ts';
import { demoDevice, demoOnboarding } from '../src/sztp/server/demo.ts';

const REQUESTS = Number(process.env.SZTP_LAB_BENCH_REQUESTS ?? 6000);
const HANDSHAKES = Number(process.env.SZTP_LAB_BENCH_HANDSHAKES ?? 1500);
const SECONDS = Number(process.env.SZTP_LAB_BENCH_SECONDS ?? 8);
const CONCURRENCY = Number(process.env.SZTP_LAB_BENCH_CONCURRENCY ?? 16);
const CLI = fileURLToPath(new URL('../bin/sztp-lab.js', import.meta.url));
const PATH = '/restconf/operations/ietf-sztp-bootstrap-server:get-bootstrapping-data';
const BODY = JSON.stringify({ 'ietf-sztp-bootstrap-server:input': { 'os-name': 'Junos' } });

/** A bare HTTPS server: reads the body, sends the canned reply. Run with node -e. */
const BARE = `
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
const [key, cert, ca, replyFile] = process.argv.slice(1);
const reply = readFileSync(replyFile);
const server = createServer({ key: readFileSync(key), cert: readFileSync(cert), ca: readFileSync(ca),
  requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, (req, res) => {
  if (!req.socket.authorized) { res.statusCode = 401; res.end(); return; }
  req.resume();
  req.on('end', () => { res.setHeader('Content-Type', 'application/yang-data+json'); res.end(reply); });
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: 'https://127.0.0.1:' + server.address().port })));
`;

interface Started {
  url: string;
  child: ChildProcess;
}

async function startChild(command: string, args: string[]): Promise<Started> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NonNullable<ChildProcess['stdout']> });
  const timer = setTimeout(() => child.kill(), 30_000);
  for await (const line of lines) {
    if (line.startsWith('{')) {
      clearTimeout(timer);
      return { url: (JSON.parse(line) as { url: string }).url, child };
    }
  }
  throw new Error(`${command} ${args.join(' ')} exited before it was ready`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

function post(agent: Agent, url: URL): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: PATH,
        agent,
        headers: {
          'Content-Type': 'application/yang-data+json',
          Accept: 'application/yang-data+json',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(BODY);
  });
}

interface Measure {
  count: number;
  ms: number;
  perSecond: number;
}

/** `total` requests over `concurrency` loops, or until the time is up. */
async function measure(
  agent: Agent,
  target: string,
  total: number,
  concurrency: number,
): Promise<Measure> {
  const url = new URL(target);
  const deadline = performance.now() + SECONDS * 1000;
  let issued = 0;
  let done = 0;
  const loop = async () => {
    while (issued < total && performance.now() < deadline) {
      issued++;
      const reply = await post(agent, url);
      if (reply.status !== 200)
        throw new Error(`status ${reply.status}: ${reply.body.toString().slice(0, 200)}`);
      done++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  const ms = performance.now() - t0;
  return { count: done, ms, perSecond: (done * 1000) / ms };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sztp-bench-server-'));
  const children: ChildProcess[] = [];
  try {
    const pki = await initPki(join(dir, 'pki'), {
      key: 'ecdsa-p256',
      pinnedDomain: 'root',
      domain: 'bench.test',
    });
    const device = await demoDevice(pki, join(dir, 'devices'), 'SN-BENCH');
    await writeFile(
      join(dir, 'records.json'),
      JSON.stringify({ devices: { 'SN-BENCH': { onboarding: demoOnboarding(), signed: true } } }),
    );
    const config = join(dir, 'server.json');
    await writeFile(
      config,
      JSON.stringify({
        listen: { host: '127.0.0.1', port: 0 },
        pki: 'pki',
        records: 'records.json',
        dataDir: 'data',
        logRequests: false,
      }),
    );
    const tls = {
      ca: readFileSync(pki.tlsTrustAnchor),
      cert: readFileSync(device.cert),
      key: readFileSync(device.key),
    };
    const keepAlive = () => new Agent({ ...tls, keepAlive: true, maxSockets: CONCURRENCY });
    const fresh = () =>
      new Agent({ ...tls, keepAlive: false, maxCachedSessions: 0, maxSockets: CONCURRENCY });

    const sztp = await startChild(process.execPath, [
      ...(process.env.SZTP_LAB_BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/sztp-prof'] : []),
      CLI,
      'server',
      '--config',
      config,
      '--json',
    ]);
    children.push(sztp.child);
    const warm = keepAlive();
    const sample = await post(warm, new URL(sztp.url));
    if (sample.status !== 200) throw new Error(`the server answered ${sample.status}`);
    const replyFile = join(dir, 'reply.json');
    await writeFile(replyFile, sample.body);
    await measure(warm, sztp.url, 300, CONCURRENCY);
    warm.destroy();

    const bare = await startChild(process.execPath, [
      '--input-type=module',
      '-e',
      BARE,
      pki.servers.bootstrap.key,
      pki.servers.bootstrap.cert,
      pki.idevidRoot,
      replyFile,
    ]);
    children.push(bare.child);
    const warmBare = keepAlive();
    await measure(warmBare, bare.url, 300, CONCURRENCY);
    warmBare.destroy();

    const results: Record<string, { sztp: Measure; bare: Measure }> = {};
    for (const [name, makeAgent, total] of [
      ['keep-alive requests/s', keepAlive, REQUESTS],
      ['mTLS handshakes/s', fresh, HANDSHAKES],
    ] as const) {
      const a = makeAgent();
      const s = await measure(a, sztp.url, total, CONCURRENCY);
      a.destroy();
      const b = makeAgent();
      const r = await measure(b, bare.url, total, CONCURRENCY);
      b.destroy();
      results[name] = { sztp: s, bare: r };
    }

    const rows = Object.entries(results).map(([name, { sztp: s, bare: b }]) => ({
      measure: name,
      sztp: Math.round(s.perSecond),
      bare: Math.round(b.perSecond),
      ratio: Number((s.perSecond / b.perSecond).toFixed(2)),
      count: s.count,
    }));
    const ka = rows[0];
    const hs = rows[1];
    const goals = {
      'requests/s >= 2000': (ka?.sztp ?? 0) >= 2000,
      'handshakes/s >= 500': (hs?.sztp ?? 0) >= 500,
      'ratio >= 0.5': (ka?.ratio ?? 0) >= 0.5 && (hs?.ratio ?? 0) >= 0.5,
    };
    process.stderr.write(
      `bench:server — signed get-bootstrapping-data, ${CONCURRENCY} concurrent clients, reply ${sample.body.length} octets, loopback\n`,
    );
    process.stderr.write(
      `${'measure'.padEnd(24)}${'sztp-lab'.padStart(10)}${'bare https'.padStart(12)}${'ratio'.padStart(8)}\n`,
    );
    for (const row of rows) {
      process.stderr.write(
        `${row.measure.padEnd(24)}${String(row.sztp).padStart(10)}${String(row.bare).padStart(12)}${row.ratio.toFixed(2).padStart(8)}\n`,
      );
    }
    for (const [goal, met] of Object.entries(goals))
      process.stderr.write(`goal ${goal}: ${met ? 'met' : 'NOT met'}\n`);
    process.stdout.write(
      `${JSON.stringify({ bench: 'server', concurrency: CONCURRENCY, rows, goals })}\n`,
    );
  } finally {
    for (const child of children) await stop(child).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
