import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { createArtifacts, writeArtifacts } from '../src/pki/artifacts.ts';
import { initPki } from '../src/pki/lab-pki.ts';
import {
  execIn,
  execOk,
  type LabNode,
  nodeLogs,
  removeNode,
  startNode,
} from '../src/runtime/containers.ts';
import { buildImages, imageTag } from '../src/runtime/images.ts';
import { createLabNetwork, removeLabNetwork } from '../src/runtime/networks.ts';
import { parseDigTxt, type SztpTxtValues } from '../src/sztp/dns-zone-txt.ts';
import { colonHex } from '../src/sztp/firmware.ts';

const CLI = new URL('../bin/sztp-lab.js', import.meta.url).pathname;
const DOMAIN = 'lab.example';

interface DnsLab {
  dns: LabNode;
  device: LabNode;
  ns4: string;
  ns6: string;
  bootstrap4: string;
  bootstrap6: string;
  /** What each serial's TXT record must carry, read back from the files given to the CLI. */
  expected: Record<string, SztpTxtValues>;
}

let lab: DnsLab | undefined;
const cleanups: (() => Promise<void>)[] = [];
const work = mkdtempSync(join(tmpdir(), 'sztp-lab-dns-'));

function readDir(dir: string): SztpTxtValues {
  const names = {
    ci: 'conveyed-information.cms',
    oc: 'owner-certificate.cms',
    ov: 'ownership-voucher.cms',
  };
  const files = new Set(readdirSync(dir));
  return Object.fromEntries(
    Object.entries(names)
      .filter(([, name]) => files.has(name))
      .map(([key, name]) => [key, readFileSync(join(dir, name))]),
  );
}

async function waitForLog(node: LabNode, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let log = '';
  while (performance.now() < deadline) {
    log = await nodeLogs(node);
    if (pattern.test(log)) return;
    await sleep(100);
  }
  throw new Error(
    `node "${node.node}" did not log ${pattern} in ${timeoutMs} ms:\n${log.slice(-1500)}`,
  );
}

test.before(async () => {
  await buildImages({ only: ['web', 'dns', 'device'] });
  const run = randomBytes(4).toString('hex');
  const labName = `t-dns-${run}`;

  // Real artifacts for one device: signed onboarding information whose configuration makes the
  // conveyed information well over 2 KB, the owner certificate and the voucher.
  const pki = await initPki(join(work, 'pki'), {
    key: 'ecdsa-p256',
    pinnedDomain: 'root',
    domain: DOMAIN,
  });
  const onboarding = {
    'ietf-sztp-conveyed-info:onboarding-information': {
      'boot-image': {
        'os-name': 'Junos',
        'os-version': '24.2R1',
        'download-uri': [`https://image.${DOMAIN}/junos-24.2R1.tgz`],
        'image-verification': [
          {
            'hash-algorithm': 'ietf-sztp-conveyed-info:sha-256',
            'hash-value': colonHex(randomBytes(32)),
          },
        ],
      },
      'configuration-handling': 'merge',
      configuration: randomBytes(1800).toString('base64'),
    },
  };
  const signed = join(work, 'SN-DNS-1');
  await writeArtifacts(
    signed,
    await createArtifacts(pki, {
      serial: 'SN-DNS-1',
      input: Buffer.from(JSON.stringify(onboarding)),
      sign: true,
    }),
  );
  // Every octet value, 300 of them, for the escaping; and a device with an unsigned ci only.
  const raw = join(work, 'raw');
  mkdirSync(raw);
  writeFileSync(
    join(raw, 'ci.bin'),
    Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) % 256)),
  );
  writeFileSync(join(raw, 'small.bin'), Buffer.from('redirect'));

  const network = await createLabNetwork({ lab: labName, name: 'lan', run, ipv6: true });
  cleanups.push(() => removeLabNetwork(network));
  const prefix4 = network.ipv4.subnet.replace(/\.0\/24$/, '');
  const prefix6 = network.ipv6?.subnet.replace(/::\/64$/, '') ?? '';
  const ns4 = `${prefix4}.2`;
  const ns6 = `${prefix6}::2`;
  const bootstrap4 = `${prefix4}.10`;
  const bootstrap6 = `${prefix6}::10`;

  const conf = join(work, 'conf');
  const made = spawnSync(
    process.execPath,
    [
      CLI,
      'dns',
      'zone',
      '--domain',
      DOMAIN,
      '--server',
      `ns=${ns4},${ns6}`,
      '--server',
      `bootstrap=${bootstrap4},${bootstrap6}`,
      '--server',
      `image=${prefix4}.11`,
      '--srv',
      'bootstrap:443:0:0',
      '--srv',
      'bootstrap2.example.net.:8443:10:5',
      '--device',
      `SN-DNS-1=${signed}`,
      '--device-file',
      `RAW-2:ci=${join(raw, 'ci.bin')}`,
      '--device-file',
      `PLAIN-3:ci=${join(raw, 'small.bin')}`,
      '--out',
      conf,
      '--json',
    ],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`dns zone failed: ${made.stderr}${made.stdout}`);
  // named reads its files as the bind user.
  for (const path of [work, conf]) chmodSync(path, 0o755);

  const dns = await startNode({
    lab: labName,
    node: 'dns',
    run,
    image: imageTag('dns'),
    network: { name: network.name, ipv4: ns4, ipv6: ns6 },
    binds: [`${conf}:/etc/sztp-lab:ro`],
  });
  cleanups.push(() => removeNode(dns));
  const device = await startNode({
    lab: labName,
    node: 're0',
    run,
    image: imageTag('device'),
    network: { name: network.name },
    cmd: ['sleep', 'infinity'],
  });
  cleanups.push(() => removeNode(device));
  await waitForLog(dns, /all zones loaded/, 20_000);
  lab = {
    dns,
    device,
    ns4,
    ns6,
    bootstrap4,
    bootstrap6,
    expected: {
      'SN-DNS-1': readDir(signed),
      'RAW-2': { ci: readFileSync(join(raw, 'ci.bin')) },
      'PLAIN-3': { ci: readFileSync(join(raw, 'small.bin')) },
    },
  };
});

test.after.always(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  rmSync(work, { recursive: true, force: true });
});

async function dig(server: string, ...args: string[]): Promise<string> {
  if (!lab) throw new Error('the lab did not start');
  return execOk(lab.device, ['dig', `@${server}`, '+short', '+time=2', '+tries=2', ...args]);
}

test.serial('docker: DNS files pass named-checkconf and named-checkzone', async (t) => {
  if (!lab) return t.fail('no lab');
  await execOk(lab.dns, ['named-checkconf', '/etc/sztp-lab/named.conf']);
  const zone = await execOk(lab.dns, [
    'named-checkzone',
    // Integrity checks of in-zone names only: the out-of-zone SRV target cannot be looked up.
    '-i',
    'local',
    '-k',
    'fail',
    '-n',
    'fail',
    DOMAIN,
    `/etc/sztp-lab/${DOMAIN}.zone`,
  ]);
  t.regex(zone, /loaded serial 1\nOK/);
});

test.serial('docker: DNS answers A, AAAA and SRV over IPv4 and IPv6', async (t) => {
  if (!lab) return t.fail('no lab');
  for (const server of [lab.ns4, lab.ns6]) {
    t.is((await dig(server, 'A', `bootstrap.${DOMAIN}`)).trim(), lab.bootstrap4);
    t.is((await dig(server, 'AAAA', `bootstrap.${DOMAIN}`)).trim(), lab.bootstrap6);
  }
  const srv = (await dig(lab.ns4, 'SRV', `_sztp._tcp.${DOMAIN}`)).trim().split('\n').sort();
  t.deepEqual(srv, [`0 0 443 bootstrap.${DOMAIN}.`, '10 5 8443 bootstrap2.example.net.']);
  const recursion = await execIn(lab.device, [
    'dig',
    `@${lab.ns4}`,
    '+time=2',
    '+tries=1',
    'A',
    'example.com',
  ]);
  t.regex(recursion.stdout, /status: REFUSED/, 'authoritative only: no recursion');
});

test.serial('docker: TXT <serial>._sztp carries ci, oc and ov byte for byte', async (t) => {
  if (!lab) return t.fail('no lab');
  const signed = lab.expected['SN-DNS-1'] ?? {};
  t.true((signed.ci?.length ?? 0) > 2048, `ci is ${signed.ci?.length} octets`);
  t.truthy(signed.oc);
  t.truthy(signed.ov);
  for (const [serial, expected] of Object.entries(lab.expected)) {
    for (const server of [lab.ns4, lab.ns6]) {
      const answer = await dig(server, '+tcp', 'TXT', `${serial}._sztp.${DOMAIN}`);
      const got = parseDigTxt(answer);
      t.deepEqual(Object.keys(got).sort(), Object.keys(expected).sort(), serial);
      for (const key of ['ci', 'oc', 'ov'] as const) {
        if (expected[key])
          t.true(got[key]?.equals(expected[key]), `${serial} ${key} via ${server}`);
      }
    }
  }
  t.true((lab.expected['RAW-2']?.ci?.length ?? 0) > 255);
  // DNS names compare case-insensitively.
  t.deepEqual(parseDigTxt(await dig(lab.ns4, '+tcp', 'TXT', `sn-dns-1._sztp.${DOMAIN}`)), signed);
});

test.serial('docker: the signed TXT answer does not fit UDP: TC set, then TCP', async (t) => {
  if (!lab) return t.fail('no lab');
  const udp = await execOk(lab.device, [
    'dig',
    `@${lab.ns4}`,
    '+ignore',
    '+notcp',
    '+time=2',
    'TXT',
    `SN-DNS-1._sztp.${DOMAIN}`,
  ]);
  t.regex(udp, /flags:[^;]*\btc\b/);
  // Without +ignore dig retries over TCP by itself, as a device resolver must.
  const retried = await execOk(lab.device, [
    'dig',
    `@${lab.ns4}`,
    '+short',
    'TXT',
    `SN-DNS-1._sztp.${DOMAIN}`,
  ]);
  t.deepEqual(parseDigTxt(retried), lab.expected['SN-DNS-1']);
});
