import { lookup, Resolver } from 'node:dns/promises';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { run } from '../common/exec.ts';
import { decodeBootstrapServerList } from '../sztp/dhcp-option.ts';
import { parseDigTxt } from '../sztp/dns-zone-txt.ts';
import { parseHexText } from '../sztp/hex-text.ts';
import type { DeviceConfig, ServerEntry } from './device-config.ts';

/** Where the dhclient exit hook of the device image records leases. */
export const DHCP_EVENTS = '/var/lib/sztp-lab/dhcp-events.jsonl';

export interface DhcpResult {
  family: 4 | 6;
  address: string;
  servers: ServerEntry[];
  skipped: { uri: string; reason: string }[];
  warnings: string[];
  /** The option as dhclient handed it over (colon hex), empty when the server sent none. */
  optionText: string;
}

/** Turns `https://host[:port]` into a server entry. */
export function entryFromUri(uri: string): ServerEntry {
  const url = new URL(uri);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { address: host, port: url.port ? Number(url.port) : 443 };
}

/**
 * Runs the real dhclient once (DHCPv4 or DHCPv6) on the lab interface and reads the SZTP
 * redirect option it received. For DHCPv4 the address Docker gave the interface is removed
 * first, so the lab's DHCP server supplies the address the device then uses.
 */
export async function dhcpDiscover(config: DeviceConfig, family: 4 | 6): Promise<DhcpResult> {
  const iface = config.interface;
  const before = existsSync(DHCP_EVENTS) ? readFileSync(DHCP_EVENTS, 'utf8').length : 0;
  if (family === 4) {
    await run('ip', ['-4', 'addr', 'flush', 'dev', iface]);
    await run(
      'dhclient',
      [
        '-4',
        '-1',
        '-cf',
        '/etc/dhcp/dhclient4-sztp.conf',
        '-lf',
        '/var/lib/dhcp/dhclient4.leases',
        '-pf',
        '/run/dhclient4.pid',
        iface,
      ],
      { timeoutMs: 90_000 },
    );
  } else {
    await run('sh', [
      '-c',
      `for i in $(seq 100); do ip -6 addr show dev ${iface} | grep -q tentative || exit 0; ` +
        'sleep 0.1; done',
    ]);
    await run(
      'dhclient',
      [
        '-6',
        '-1',
        '-cf',
        '/etc/dhcp/dhclient6-sztp.conf',
        '-lf',
        '/var/lib/dhcp/dhclient6.leases',
        '-pf',
        '/run/dhclient6.pid',
        iface,
      ],
      { timeoutMs: 90_000 },
    );
  }
  const fresh = readFileSync(DHCP_EVENTS, 'utf8').slice(before).trim().split('\n').filter(Boolean);
  const leases = fresh
    .map((line) => JSON.parse(line) as Record<string, string>)
    .filter((event) => /^(BOUND|REBOOT|RENEW|REBIND)6?$/.test(event.reason ?? ''));
  const lease = leases.at(-1);
  if (!lease) throw new Error(`dhclient -${family} got no lease on ${iface}`);
  const optionText = (family === 4 ? lease.sztp4 : lease.sztp6) ?? '';
  const address = (family === 4 ? lease.ipv4 : lease.ipv6) ?? '';
  if (!optionText) return { family, address, servers: [], skipped: [], warnings: [], optionText };
  // dhclient prints a `string` option as colon hex, unless every octet is printable: then it
  // hands over the text itself. A conforming option starts with a zero octet (the high byte of
  // the first length), so text means the server sent the URI as plain text.
  let payload: Buffer;
  try {
    payload = parseHexText(optionText);
  } catch {
    payload = Buffer.from(optionText.replace(/^"|"$/g, ''), 'latin1');
  }
  const decoded = decodeBootstrapServerList(payload, {
    mode: config.lenientDhcp ? 'lenient' : 'strict',
  });
  return {
    family,
    address,
    servers: decoded.uris.map(entryFromUri),
    skipped: decoded.skipped.map((s) => ({ uri: s.uri, reason: s.reason })),
    warnings: decoded.warnings,
    optionText,
  };
}

export interface DnsResult {
  /** Device-specific artifacts from TXT `<serial>._sztp.<domain>`, if any. */
  artifacts?: { ci: Buffer; oc?: Buffer; ov?: Buffer };
  /** Device-independent servers from SRV `_sztp._tcp.<domain>`, in priority order. */
  servers: ServerEntry[];
}

async function dig(config: DeviceConfig, type: string, name: string): Promise<string> {
  const dns = config.dns;
  if (!dns) return '';
  const result = await run(
    'dig',
    ['+short', '+tcp', '+time=2', '+tries=2', `@${dns.resolver}`, type, name],
    {
      allowFailure: true,
    },
  );
  return result.exitCode === 0 ? result.stdout : '';
}

/** DNS discovery (RFC 8572 §4.2): device-specific TXT first, then device-independent SRV. */
export async function dnsDiscover(config: DeviceConfig): Promise<DnsResult> {
  const domain = config.dns?.domain ?? '';
  const txt = await dig(config, 'TXT', `${config.serial}._sztp.${domain}`);
  const values = txt.trim() ? parseDigTxt(txt) : {};
  const srv = await dig(config, 'SRV', `_sztp._tcp.${domain}`);
  const servers = srv
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((parts) => parts.length === 4)
    .map(([priority, weight, port, target]) => ({
      priority: Number(priority),
      weight: Number(weight),
      entry: { address: (target ?? '').replace(/\.$/, ''), port: Number(port) },
    }))
    .sort((a, b) => a.priority - b.priority || b.weight - a.weight)
    .map((record) => record.entry);
  return {
    ...(values.ci
      ? {
          artifacts: {
            ci: values.ci,
            ...(values.oc ? { oc: values.oc } : {}),
            ...(values.ov ? { ov: values.ov } : {}),
          },
        }
      : {}),
    servers,
  };
}

/** Removable storage (RFC 8572 §4.1): `<usbDir>/<serial>/bootstrapping-data/*.cms`. */
export function usbDiscover(
  config: DeviceConfig,
): { ci: Buffer; oc?: Buffer; ov?: Buffer } | undefined {
  const dir = join(config.usbDir, config.serial, 'bootstrapping-data');
  const read = (name: string) => {
    const path = join(dir, name);
    return existsSync(path) ? readFileSync(path) : undefined;
  };
  const ci = read('conveyed-information.cms');
  if (!ci) return undefined;
  const oc = read('owner-certificate.cms');
  const ov = read('ownership-voucher.cms');
  return { ci, ...(oc ? { oc } : {}), ...(ov ? { ov } : {}) };
}

/** Every address of a server name (IP literals stand for themselves), IPv6 and IPv4. */
export async function resolveAll(config: DeviceConfig, host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  const found: string[] = [];
  if (config.dns) {
    const resolver = new Resolver({ timeout: 2000, tries: 2 });
    resolver.setServers([config.dns.resolver]);
    for (const query of [resolver.resolve6(host), resolver.resolve4(host)]) {
      try {
        found.push(...(await query));
      } catch {
        // No record of that family.
      }
    }
  }
  if (found.length === 0) {
    try {
      found.push(...(await lookup(host, { all: true })).map((entry) => entry.address));
    } catch {
      // The name does not resolve: the caller moves to the next server.
    }
  }
  return [...new Set(found)];
}
