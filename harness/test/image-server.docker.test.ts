import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { x509 } from '../src/pki/certs.ts';
import { issueIdevid } from '../src/pki/idevid.ts';
import { generateKey, signingAlgorithm, writePrivateKey } from '../src/pki/keys.ts';
import { initPki, type PkiManifest, readIssuer } from '../src/pki/lab-pki.ts';
import {
  execIn,
  execOk,
  type LabNode,
  nodeLogs,
  removeNode,
  startNode,
} from '../src/runtime/containers.ts';
import { buildImages, imageTag } from '../src/runtime/images.ts';
import { createLabNetwork, type LabNetwork, removeLabNetwork } from '../src/runtime/networks.ts';
import { type ClientVerification, nginxConfig } from '../src/runtime/web-config.ts';
import { createFirmware, type FirmwareInfo } from '../src/sztp/firmware.ts';

const HOST = 'image.lab.example';
const SERIAL = 'SN-IMG-0001';

interface ImageLab {
  network: LabNetwork;
  device: LabNode;
  servers: Record<
    ClientVerification & ('optional' | 'on'),
    { node: LabNode; v4: string; v6: string }
  >;
  firmware: FirmwareInfo;
}

let lab: ImageLab | undefined;
const cleanups: (() => Promise<void>)[] = [];
const work = mkdtempSync(join(tmpdir(), 'sztp-lab-web-'));

/** An IDevID for the test device: a software key, a CSR, and the lab IDevID CA's signature. */
async function issueDeviceIdentity(pki: PkiManifest, dir: string): Promise<void> {
  const key = await generateKey(pki.keyAlgorithm);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${SERIAL}`,
    keys: key.pair,
    signingAlgorithm: signingAlgorithm(pki.keyAlgorithm),
  });
  const issuer = await readIssuer({ cert: pki.idevidCa, key: pki.idevidCaKey });
  const cert = await issueIdevid(issuer, { csr: csr.toString('pem'), serial: SERIAL });
  writeFileSync(join(dir, 'idevid.pem'), `${cert.toString('pem')}\n`);
  await writePrivateKey(join(dir, 'idevid.key'), key.privatePem);
}

test.before(async () => {
  await buildImages({ only: ['web', 'dns', 'device'] });
  const run = randomBytes(4).toString('hex');
  const labName = `t-web-${run}`;
  const pkiDir = join(work, 'pki');
  const pki = await initPki(pkiDir, {
    key: 'ecdsa-p256',
    pinnedDomain: 'root',
    domain: 'lab.example',
  });

  // The served directory is read by nginx's worker user, so it must be world-readable.
  const images = join(work, 'images');
  mkdirSync(images);
  const firmware = await createFirmware(join(images, 'junos-24.2R1.tgz'), {
    osName: 'Junos',
    osVersion: '24.2R1',
    size: 256 * 1024,
  });
  for (const path of [work, images]) chmodSync(path, 0o755);
  chmodSync(firmware.path, 0o644);

  const deviceDir = join(work, 'device');
  mkdirSync(deviceDir);
  writeFileSync(join(deviceDir, 'tls-ca.pem'), readFileSync(pki.tlsTrustAnchor));
  await issueDeviceIdentity(pki, deviceDir);
  // Another CA's certificate, which the server must not accept as an IDevID.
  writeFileSync(join(deviceDir, 'stranger.pem'), readFileSync(pki.entities.owner?.cert ?? ''));
  await writePrivateKey(
    join(deviceDir, 'stranger.key'),
    readFileSync(pki.entities.owner?.key ?? '', 'utf8'),
  );
  chmodSync(deviceDir, 0o755);

  const network = await createLabNetwork({ lab: labName, name: 'lan', run, ipv6: true });
  cleanups.push(() => removeLabNetwork(network));
  const prefix4 = network.ipv4.subnet.replace(/\.0\/24$/, '');
  const prefix6 = network.ipv6?.subnet.replace(/::\/64$/, '') ?? '';

  const servers = {} as ImageLab['servers'];
  for (const [index, verify] of (['optional', 'on'] as const).entries()) {
    const conf = join(work, `web-${verify}`);
    mkdirSync(conf);
    writeFileSync(join(conf, 'server.pem'), readFileSync(pki.servers.image.cert));
    await writePrivateKey(join(conf, 'server.key'), readFileSync(pki.servers.image.key, 'utf8'));
    writeFileSync(
      join(conf, 'idevid-cas.pem'),
      Buffer.concat([readFileSync(pki.idevidCa), readFileSync(pki.idevidRoot)]),
    );
    writeFileSync(
      join(conf, 'nginx.conf'),
      nginxConfig({
        root: '/srv/images',
        cert: '/etc/sztp-lab/server.pem',
        key: '/etc/sztp-lab/server.key',
        verifyClient: verify,
        clientCa: '/etc/sztp-lab/idevid-cas.pem',
        accessLogs: ['/dev/stdout', '/var/log/nginx/sztp-access.jsonl'],
      }),
    );
    const v4 = `${prefix4}.${3 + index}`;
    const v6 = `${prefix6}::${3 + index}`;
    const node = await startNode({
      lab: labName,
      node: `web-${verify}`,
      run,
      image: imageTag('web'),
      network: { name: network.name, ipv4: v4, ipv6: v6 },
      binds: [`${conf}:/etc/sztp-lab:ro`, `${images}:/srv/images:ro`],
    });
    cleanups.push(() => removeNode(node));
    servers[verify] = { node, v4, v6 };
  }
  const device = await startNode({
    lab: labName,
    node: 're0',
    run,
    image: imageTag('device'),
    network: { name: network.name },
    cmd: ['sleep', 'infinity'],
    binds: [`${deviceDir}:/pki:ro`],
  });
  cleanups.push(() => removeNode(device));
  lab = { network, device, servers, firmware };
});

test.after.always(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  rmSync(work, { recursive: true, force: true });
});

interface Fetch {
  exitCode: number;
  status: string;
  stderr: string;
}

/** curl from the device, trusting only the lab TLS CA; waits while nginx is still starting. */
async function fetch(address: string, path: string, extra: string[] = []): Promise<Fetch> {
  if (!lab) throw new Error('the lab did not start');
  const resolve = address.includes(':') ? `[${address}]` : address;
  const cmd = [
    'curl',
    '-sS',
    '--cacert',
    '/pki/tls-ca.pem',
    '--resolve',
    `${HOST}:443:${resolve}`,
    '-o',
    '/tmp/download',
    '-w',
    '%{http_code}',
    ...extra,
    `https://${HOST}${path}`,
  ];
  const deadline = performance.now() + 15_000;
  for (;;) {
    const result = await execIn(lab.device, cmd);
    // 7: connection refused, nginx is not listening yet.
    if (result.exitCode !== 7 || performance.now() > deadline) {
      return { exitCode: result.exitCode, status: result.stdout.trim(), stderr: result.stderr };
    }
    await sleep(100);
  }
}

async function downloadedSha256(): Promise<string> {
  if (!lab) throw new Error('the lab did not start');
  return (await execOk(lab.device, ['sha256sum', '/tmp/download'])).split(' ')[0] ?? '';
}

interface AccessEntry {
  uri: string;
  status: string;
  client: string;
  tls: string;
  clientVerify: string;
  clientSubject: string;
  bytes: string;
}

async function accessLog(node: LabNode): Promise<AccessEntry[]> {
  return (await nodeLogs(node))
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as AccessEntry);
}

test.serial(
  'docker: image server serves firmware over HTTPS (v4 and v6, TLS 1.2 and 1.3)',
  async (t) => {
    if (!lab) return t.fail('no lab');
    const { v4, v6, node } = lab.servers.optional;
    const path = '/junos-24.2R1.tgz';
    const got = await fetch(v4, path);
    t.is(got.exitCode, 0, got.stderr);
    t.is(got.status, '200');
    t.is(await downloadedSha256(), lab.firmware.sha256);

    const v6got = await fetch(v6, path, ['--tlsv1.2', '--tls-max', '1.2']);
    t.is(v6got.status, '200', v6got.stderr);
    t.is(await downloadedSha256(), lab.firmware.sha256);

    const old = await fetch(v4, path, ['--tlsv1.1', '--tls-max', '1.1']);
    t.not(old.exitCode, 0, 'TLS 1.1 is refused');

    const untrusted = await execIn(lab.device, [
      'curl',
      '-sS',
      '--resolve',
      `${HOST}:443:${v4}`,
      `https://${HOST}${path}`,
      '-o',
      '/dev/null',
    ]);
    t.is(untrusted.exitCode, 60, 'the lab CA is not in the system store');

    t.is((await fetch(v4, '/missing.tgz')).status, '404');

    const entries = await accessLog(node);
    const ok = entries.filter((e) => e.uri === path && e.status === '200');
    t.is(ok.length, 2);
    t.deepEqual(ok.map((e) => e.tls).sort(), ['TLSv1.2', 'TLSv1.3']);
    t.true(ok.every((e) => e.clientVerify === 'NONE' && e.bytes === String(lab?.firmware.size)));
    const file = await execOk(node, ['cat', '/var/log/nginx/sztp-access.jsonl']);
    t.is(file.trim().split('\n').length, entries.length, 'the log file has the same lines');
  },
);

test.serial(
  'docker: image server with ssl_verify_client on wants an IDevID-chained client certificate',
  async (t) => {
    if (!lab) return t.fail('no lab');
    const { v4, node } = lab.servers.on;
    const path = '/junos-24.2R1.tgz';

    const without = await fetch(v4, path);
    t.is(without.status, '400', 'nginx answers 400 when no certificate was sent');

    const stranger = await fetch(v4, path, [
      '--cert',
      '/pki/stranger.pem',
      '--key',
      '/pki/stranger.key',
    ]);
    t.is(stranger.status, '400', 'a certificate from another CA is refused');

    const withId = await fetch(v4, path, ['--cert', '/pki/idevid.pem', '--key', '/pki/idevid.key']);
    t.is(withId.exitCode, 0, withId.stderr);
    t.is(withId.status, '200');
    t.is(await downloadedSha256(), lab.firmware.sha256);

    const entries = await accessLog(node);
    const served = entries.filter((e) => e.status === '200');
    t.is(served.length, 1);
    t.is(served[0]?.clientVerify, 'SUCCESS');
    t.regex(served[0]?.clientSubject ?? '', new RegExp(`serialNumber=${SERIAL}`));
    t.regex(served[0]?.uri ?? '', /junos-24\.2R1\.tgz$/);
    t.true(entries.some((e) => e.status === '400' && e.clientVerify === 'NONE'));
    t.true(entries.some((e) => e.status === '400' && e.clientVerify.startsWith('FAILED')));
  },
);
