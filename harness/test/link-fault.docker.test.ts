import { randomBytes } from 'node:crypto';
import test from 'ava';
import { remainingLabObjects, removeLabs } from '../src/runtime/cleanup.ts';
import { execIn, execOk, type LabNode, startNode } from '../src/runtime/containers.ts';
import { buildImages, imageTag } from '../src/runtime/images.ts';
import { clearLinkFault, type LinkFault, setLinkFault } from '../src/runtime/link-fault.ts';
import { createLabNetwork, type LabNetwork } from '../src/runtime/networks.ts';

// One small lab for every test here: `server` answers HTTP on 8080 and gets the faults, `peer`
// measures with ping and curl. Both sit on an internal lab network.
const run = randomBytes(4).toString('hex');
const lab = `t-netem-${run}`;
let network: LabNetwork;
let server: LabNode;
let peer: LabNode;
let v4 = '';
let v6 = '';

test.before(async () => {
  await buildImages({ only: ['netfault', 'device'] });
  network = await createLabNetwork({ lab, name: 'lan', run, ipv6: true });
  const on = { name: network.name };
  server = await startNode({
    lab,
    node: 'server',
    run,
    image: imageTag('device'),
    network: on,
    cmd: ['python3', '-m', 'http.server', '--bind', '::', '8080'],
  });
  peer = await startNode({
    lab,
    node: 'peer',
    run,
    image: imageTag('base'),
    network: on,
    cmd: ['sleep', 'infinity'],
  });
  const endpoint = (await server.container.inspect()).NetworkSettings.Networks[network.name];
  v4 = endpoint?.IPAddress ?? '';
  v6 = endpoint?.GlobalIPv6Address ?? '';
});

test.after.always(async () => {
  await removeLabs(lab);
});

const target = () => ({ lab, run, node: server });

interface PingResult {
  sent: number;
  received: number;
  /** min, avg and max round-trip time in ms; absent when nothing came back. */
  rtt?: { min: number; avg: number; max: number };
}

async function ping(address: string, count: number, extra: string[] = []): Promise<PingResult> {
  const args = ['ping', '-n', '-c', String(count), '-i', '0.1', '-W', '2', ...extra, address];
  const { stdout } = await execIn(peer, args);
  const totals = /(\d+) packets transmitted, (\d+) received/.exec(stdout);
  if (!totals) throw new Error(`no ping summary in:\n${stdout}`);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\//.exec(stdout);
  return {
    sent: Number(totals[1]),
    received: Number(totals[2]),
    ...(rtt ? { rtt: { min: Number(rtt[1]), avg: Number(rtt[2]), max: Number(rtt[3]) } } : {}),
  };
}

async function tcpChecksumErrors(node: LabNode): Promise<number> {
  const snmp = await execOk(node, ['cat', '/proc/net/snmp']);
  const [names, values] = snmp.split('\n').filter((line) => line.startsWith('Tcp:'));
  const index = names?.split(/\s+/).indexOf('InCsumErrors') ?? -1;
  return Number(values?.split(/\s+/)[index]);
}

function fetchPage() {
  return execIn(peer, ['curl', '-sS', '-o', '/dev/null', '-m', '4', `http://${v4}:8080/`]);
}

async function withFault(fault: LinkFault, body: () => Promise<void>): Promise<void> {
  await setLinkFault(target(), fault);
  try {
    await body();
  } finally {
    await clearLinkFault(target());
  }
}

test.serial('docker: netem delay 200 ms adds 200 ms to the RTT, IPv4 and IPv6', async (t) => {
  const before = await ping(v4, 5);
  t.true((before.rtt?.avg ?? Infinity) < 20, `RTT before the fault: ${before.rtt?.avg} ms`);

  await withFault({ delayMs: 200 }, async () => {
    for (const [family, address] of [
      ['IPv4', v4],
      ['IPv6', v6],
    ] as const) {
      const during = await ping(address, 5);
      t.is(during.received, 5, `${family}: every ping came back`);
      const rtt = during.rtt ?? { min: 0, avg: 0, max: 0 };
      t.log(`${family} RTT with 200 ms delay: ${rtt.min} / ${rtt.avg} / ${rtt.max} ms`);
      t.true(rtt.min >= 200, `${family}: min RTT ${rtt.min} ms`);
      // An IPv6 echo may first wait for neighbour discovery, whose answer is delayed as well
      // (ARP is not IP, so IPv4 has no such wait): one more delay at most.
      t.true(rtt.max < 650, `${family}: max RTT ${rtt.max} ms`);
    }
  });

  const after = await ping(v4, 5);
  t.log(`RTT before ${before.rtt?.avg} ms, after clearing ${after.rtt?.avg} ms`);
  t.is(after.received, 5);
  t.true((after.rtt?.avg ?? Infinity) < 20, `RTT after clearing: ${after.rtt?.avg} ms`);
});

test.serial(
  'docker: netem delay in both directions delays the request and the reply',
  async (t) => {
    await withFault({ delayMs: 150, direction: 'both' }, async () => {
      const during = await ping(v4, 5);
      const rtt = during.rtt ?? { min: 0, avg: 0, max: 0 };
      t.log(`RTT with 150 ms each way: ${rtt.min} / ${rtt.avg} / ${rtt.max} ms`);
      t.true(rtt.min >= 300, `min RTT ${rtt.min} ms`);
      t.true(rtt.max < 500, `max RTT ${rtt.max} ms`);
    });
  },
);

test.serial('docker: netem loss 50% drops a random share of 40 pings', async (t) => {
  await withFault({ lossPercent: 50 }, async () => {
    const result = await ping(v4, 40);
    const lost = (result.sent - result.received) / result.sent;
    t.log(`lost ${result.sent - result.received} of ${result.sent} (${Math.round(lost * 100)}%)`);
    t.true(lost >= 0.2 && lost <= 0.8, `lost share ${lost}`);
  });
  const after = await ping(v4, 10);
  t.is(after.received, 10, 'no loss once cleared');
});

test.serial('docker: netem corrupt 100% breaks TCP on bad checksums', async (t) => {
  t.is((await fetchPage()).exitCode, 0, 'the page loads before the fault');
  const errorsBefore = await tcpChecksumErrors(peer);

  await withFault({ corruptPercent: 100 }, async () => {
    const result = await fetchPage();
    t.log(`curl during corruption: exit ${result.exitCode}, ${result.stderr.trim()}`);
    t.is(result.exitCode, 28, 'curl timed out');
  });

  // The peer's kernel saw the server's SYN-ACKs arrive and threw them away on their checksum.
  const errorsAfter = await tcpChecksumErrors(peer);
  t.log(`peer TCP InCsumErrors: ${errorsBefore} -> ${errorsAfter}`);
  t.true(errorsAfter > errorsBefore);
  t.is((await fetchPage()).exitCode, 0, 'the page loads once cleared');
});

test.serial('docker: netem corrupt on ingress spoils what the node receives', async (t) => {
  const errorsBefore = await tcpChecksumErrors(server);
  await withFault({ corruptPercent: 100, direction: 'ingress' }, async () => {
    t.is((await fetchPage()).exitCode, 28, 'curl timed out');
  });
  // This time the server's own kernel dropped the peer's SYNs on their checksum.
  const errorsAfter = await tcpChecksumErrors(server);
  t.log(`server TCP InCsumErrors: ${errorsBefore} -> ${errorsAfter}`);
  t.true(errorsAfter > errorsBefore);
});

test.serial('docker: a new netem fault replaces the last; an empty one clears', async (t) => {
  t.is(await setLinkFault(target(), { delayMs: 300 }), '', 'nothing replaced');
  // The replaced helper's log says what it did, packet counts included.
  const replacedLog = await setLinkFault(target(), { delayMs: 100 });
  t.regex(replacedLog, /^ready: delay 300 ms/m);
  t.regex(replacedLog, /^stopped: \d+ packets queued/m);
  const replaced = await ping(v4, 3);
  t.true((replaced.rtt?.min ?? 0) >= 100 && (replaced.rtt?.max ?? Infinity) < 300);

  t.regex(await setLinkFault(target(), {}), /^ready: delay 100 ms/m);
  const cleared = await ping(v4, 3);
  t.true((cleared.rtt?.max ?? Infinity) < 20, `RTT after clearing: ${cleared.rtt?.max} ms`);
  t.deepEqual(await remainingLabObjects(lab), { containers: 2, networks: 1 }, 'no helper left');
});

test.serial('docker: a fault on a stopped node names the node', async (t) => {
  const stopped = await startNode({
    lab,
    node: 'stopped',
    run,
    image: imageTag('base'),
    network: { name: network.name },
    cmd: ['sleep', 'infinity'],
  });
  await stopped.container.stop({ t: 0 });
  const error = await t.throwsAsync(setLinkFault({ lab, run, node: stopped }, { delayMs: 50 }));
  t.log(error?.message);
  t.regex(error?.message ?? '', /^netem on node "stopped": cannot start the link fault helper/);
});
