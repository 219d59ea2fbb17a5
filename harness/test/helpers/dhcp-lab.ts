import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  execIn,
  execOk,
  type LabNode,
  nodeLogs,
  removeNode,
  startNode,
} from '../../src/runtime/containers.ts';
import {
  iscDhcpd4Config,
  iscDhcpd6Config,
  keaDhcp4Config,
  keaDhcp6Config,
} from '../../src/runtime/dhcp-config.ts';
import { imageTag } from '../../src/runtime/images.ts';
import { createLabNetwork, type LabNetwork, removeLabNetwork } from '../../src/runtime/networks.ts';

export type DhcpServerKind = 'kea' | 'isc';

export interface LeaseEvent {
  reason: string;
  interface: string;
  ipv4: string;
  ipv6: string;
  sztp4: string;
  sztp6: string;
}

export interface DhcpExchange {
  lab: string;
  network: LabNetwork;
  /** The address the client holds on eth0 after dhclient, as `ip` shows it. */
  interfaceAddresses: string[];
  lease: LeaseEvent;
  /** The option value as dhclient handed it to the exit hook. */
  optionText: string;
  serverLog: string;
  /** The client's packet capture of the exchange (classic pcap), when one was asked for. */
  pcap: Buffer | undefined;
}

const READY_PATTERN: Record<DhcpServerKind, Record<4 | 6, RegExp>> = {
  kea: { 4: /DHCP4_STARTED/, 6: /DHCP6_STARTED/ },
  isc: { 4: /Server starting service/, 6: /Server starting service/ },
};

async function waitForLog(node: LabNode, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  let log = '';
  while (performance.now() < deadline) {
    log = await nodeLogs(node);
    if (pattern.test(log)) return log;
    const state = await node.container.inspect();
    if (!state.State.Running) break;
    await sleep(100);
  }
  throw new Error(
    `node "${node.node}" did not log ${pattern} within ${timeoutMs} ms:\n${log.slice(-2000)}`,
  );
}

/**
 * One real DHCP exchange on a fresh lab network: a Kea or ISC server in a container serves the
 * given SZTP option payload, and `dhclient` in a device container asks for it. Everything the
 * exchange created is removed before this returns, whether it succeeded or not.
 */
export async function dhcpExchange(
  server: DhcpServerKind,
  family: 4 | 6,
  payload: Buffer,
  options: { capture?: boolean } = {},
): Promise<DhcpExchange> {
  const run = randomBytes(4).toString('hex');
  const lab = `t-${server}${family}-${run}`;
  const configDir = mkdtempSync(join(tmpdir(), 'sztp-lab-dhcp-'));
  const nodes: LabNode[] = [];
  const network = await createLabNetwork({ lab, name: 'lan', run, ipv6: true });
  try {
    const plan = family === 4 ? network.ipv4 : network.ipv6;
    if (!plan) throw new Error('the lab network has no IPv6 plan');
    const serve = { iface: 'eth0', plan, sztpPayload: payload };
    const files: Record<string, string> =
      server === 'kea'
        ? family === 4
          ? { 'kea-dhcp4.conf': keaDhcp4Config(serve) }
          : { 'kea-dhcp6.conf': keaDhcp6Config(serve) }
        : family === 4
          ? { 'dhcpd.conf': iscDhcpd4Config(serve) }
          : { 'dhcpd6.conf': iscDhcpd6Config(serve) };
    for (const [name, text] of Object.entries(files)) writeFileSync(join(configDir, name), text);

    const prefix4 = network.ipv4.subnet.replace(/\.0\/24$/, '');
    const prefix6 = network.ipv6?.subnet.replace(/::\/64$/, '') ?? '';
    const dhcpNode = await startNode({
      lab,
      node: 'dhcp',
      run,
      image: imageTag(server === 'kea' ? 'dhcp-kea' : 'dhcp-isc'),
      network: { name: network.name, ipv4: `${prefix4}.2`, ipv6: `${prefix6}::2` },
      binds: [`${configDir}:/etc/sztp-lab:ro`],
      capAdd: ['NET_ADMIN', 'NET_RAW'],
    });
    nodes.push(dhcpNode);
    const device = await startNode({
      lab,
      node: 're0',
      run,
      image: imageTag('device'),
      network: { name: network.name },
      cmd: ['sleep', 'infinity'],
      capAdd: ['NET_ADMIN'],
    });
    nodes.push(device);
    await waitForLog(dhcpNode, READY_PATTERN[server][family], 20_000);

    if (options.capture) {
      await execOk(device, [
        'sh',
        '-c',
        'tcpdump -i eth0 --immediate-mode -U -s 0 -w /tmp/dhcp.pcap udp port 67 or udp port 68 or udp port 546 or udp port 547 >/tmp/tcpdump.log 2>&1 & echo $! >/tmp/tcpdump.pid; for i in $(seq 50); do grep -q listening /tmp/tcpdump.log && exit 0; sleep 0.1; done; exit 1',
      ]);
    }
    // The address Docker gave the device goes; the lab's DHCP server must supply the new one.
    if (family === 4) {
      await execOk(device, ['ip', '-4', 'addr', 'flush', 'dev', 'eth0']);
      await execOk(device, [
        'dhclient',
        '-4',
        '-1',
        '-v',
        '-cf',
        '/etc/dhcp/dhclient4-sztp.conf',
        '-lf',
        '/var/lib/dhcp/dhclient.leases',
        '-pf',
        '/run/dhclient4.pid',
        'eth0',
      ]);
    } else {
      await execOk(device, ['ip', '-6', 'addr', 'flush', 'dev', 'eth0', 'scope', 'global']);
      await execOk(device, [
        'sh',
        '-c',
        'for i in $(seq 100); do ip -6 addr show dev eth0 | grep -q tentative || exit 0; sleep 0.1; done; exit 1',
      ]);
      await execOk(device, [
        'dhclient',
        '-6',
        '-1',
        '-v',
        '-cf',
        '/etc/dhcp/dhclient6-sztp.conf',
        '-lf',
        '/var/lib/dhcp/dhclient6.leases',
        '-pf',
        '/run/dhclient6.pid',
        'eth0',
      ]);
    }
    const events = (await execOk(device, ['cat', '/var/lib/sztp-lab/dhcp-events.jsonl']))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as LeaseEvent);
    const lease = events.filter((e) => /^(BOUND|REBOOT|RENEW|REBIND)6?$/.test(e.reason)).pop();
    if (!lease) throw new Error(`dhclient reported no lease: ${JSON.stringify(events)}`);
    const shown = await execIn(device, [
      'ip',
      `-${family}`,
      '-o',
      'addr',
      'show',
      'dev',
      'eth0',
      'scope',
      'global',
    ]);
    const interfaceAddresses = [...shown.stdout.matchAll(/inet6? ([0-9a-f.:]+)\//g)].map(
      (m) => m[1] ?? '',
    );
    let pcap: Buffer | undefined;
    if (options.capture) {
      // Let the last frames reach the file before tcpdump is told to stop.
      await execOk(device, ['sh', '-c', 'sleep 0.2; kill -INT $(cat /tmp/tcpdump.pid); sleep 0.3']);
      pcap = Buffer.from(
        (await execOk(device, ['base64', '-w0', '/tmp/dhcp.pcap'])).trim(),
        'base64',
      );
    }
    return {
      lab,
      pcap,
      network,
      interfaceAddresses,
      lease,
      optionText: family === 4 ? lease.sztp4 : lease.sztp6,
      serverLog: await nodeLogs(dhcpNode),
    };
  } finally {
    for (const node of nodes.reverse()) await removeNode(node).catch(() => {});
    await removeLabNetwork(network);
    rmSync(configDir, { recursive: true, force: true });
  }
}
