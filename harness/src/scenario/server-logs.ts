import type { NodeEvent } from '../lab/timeline.ts';

/**
 * Readers for what the lab's servers record about themselves, each record turned into one
 * timeline event stamped with the server's own clock. Every reader is defensive: a line or an
 * entry it does not recognise is skipped, never an error, because logs also carry start-up
 * banners, warnings and lines cut short by a killed process.
 *
 * The log readers take a container log as `docker logs --timestamps` prints it: each line led
 * by the time Docker received it, which is the host's clock, the one every container reads.
 * Servers that print their own time are timed by it; the stamp serves where they print none
 * (ISC dhcpd) or only whole seconds (nginx). Lines without the stamp are read too.
 *
 * The kinds are chosen apart from the routing engines' kinds (`bootstrap-request`,
 * `image-download`, `dhcp-lease`, `dns-answer`, ...), so a scenario matcher that names a
 * device kind never matches a server's record.
 */
export const SERVER_EVENT_KINDS = ['request', 'download', 'lease', 'query'] as const;

/** An ISO 8601 time as the device events write it (UTC, milliseconds), or undefined. */
function isoTime(text: string): string | undefined {
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : new Date(at).toISOString();
}

interface LogLine {
  /** When Docker received the line, if the log carries the stamp. */
  received?: string;
  text: string;
}

const DOCKER_STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (.*)$/;

function logLines(log: string): LogLine[] {
  return log.split('\n').map((line) => {
    const stamped = DOCKER_STAMP.exec(line.trimEnd());
    const received = stamped ? isoTime(stamped[1] as string) : undefined;
    return received ? { received, text: stamped?.[2] ?? '' } : { text: line.trimEnd() };
  });
}

/**
 * Entries of a bootstrap or redirect server's audit log (`GET /audit`, or the JSON lines it
 * prints when `logRequests` is on) as `request` events: peer, rpc, serial, auth, tls, status,
 * outcome, signed, nonce, encoding, progressType, errorTag, errorMessage, faults, durationMs.
 */
export function auditEvents(node: string, entries: readonly unknown[]): NodeEvent[] {
  const events: NodeEvent[] = [];
  for (const entry of entries) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) continue;
    const { kind, ts, ...fields } = entry as Record<string, unknown>;
    const time = typeof ts === 'string' ? isoTime(ts) : undefined;
    if (kind !== 'audit' || !time || typeof fields.status !== 'number') continue;
    events.push({ time, node, kind: 'request', ...fields });
  }
  return events;
}

/** The audit entries a server printed in its container log, one JSON object per line. */
export function auditLogEntries(log: string): unknown[] {
  return jsonLines(log).map(({ value }) => value);
}

function jsonLines(log: string): { received?: string; value: unknown }[] {
  const entries: { received?: string; value: unknown }[] = [];
  for (const { received, text } of logLines(log)) {
    if (!text.startsWith('{')) continue;
    try {
      entries.push({ ...(received ? { received } : {}), value: JSON.parse(text) });
    } catch {
      // A line cut short when the server was killed.
    }
  }
  return entries;
}

/**
 * The image server's access log (the JSON format of runtime/web-config.ts) as `download`
 * events: client, method, uri, status, bytes, tls, clientVerify, clientSubject, clientIssuer,
 * certSerial (the client certificate's serial number) and serial (the device serial from the
 * subject's serialNumber). Empty values are left out.
 *
 * The lab's format logs `msec`, the time the line was written to the millisecond, and that
 * times the event. Lines without it (an image server with its own format) have whole seconds
 * only, which would put a download before everything else in its second: then Docker's
 * receive time of the line is taken when it lies within two seconds after nginx's (nginx
 * writes the line as the request ends, Docker stamps it a few milliseconds later), and
 * nginx's own time otherwise.
 */
export function nginxEvents(node: string, log: string): NodeEvent[] {
  const events: NodeEvent[] = [];
  for (const { received, value } of jsonLines(log)) {
    if (typeof value !== 'object' || value === null) continue;
    const raw = value as Record<string, unknown>;
    const own = typeof raw.time === 'string' ? isoTime(raw.time) : undefined;
    const status = Number(raw.status);
    if (!own || typeof raw.uri !== 'string' || !Number.isInteger(status)) continue;
    const msec = Number(raw.msec);
    const lag = received ? Date.parse(received) - Date.parse(own) : -1;
    const time =
      raw.msec !== undefined && Number.isFinite(msec) && msec > 0
        ? new Date(Math.round(msec * 1000)).toISOString()
        : received && lag >= 0 && lag < 2000
          ? received
          : own;
    const text = (key: string) => {
      const field = raw[key];
      return typeof field === 'string' && field !== '' && field !== '-' ? field : undefined;
    };
    const fields: Record<string, unknown> = {
      client: text('client'),
      method: text('method'),
      uri: raw.uri,
      status,
      bytes: Number(raw.bytes) || 0,
      tls: text('tls'),
      clientVerify: text('clientVerify'),
      clientSubject: text('clientSubject'),
      clientIssuer: text('clientIssuer'),
      certSerial: text('clientSerial'),
      serial: /(?:^|,)serialNumber=([^,]+)/.exec(text('clientSubject') ?? '')?.[1],
      userAgent: text('userAgent'),
    };
    const present = Object.entries(fields).filter(([, field]) => field !== undefined);
    events.push({ time, node, kind: 'download', ...Object.fromEntries(present) });
  }
  return events;
}

function lease(time: string, node: string, fields: Record<string, unknown>): NodeEvent {
  return { time, node, kind: 'lease', ...fields };
}

// Kea 2.2 prints local time, which is UTC in the lab's containers (no TZ is set).
const KEA_TIME = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) /;
const KEA_LEASE4 =
  / DHCP4_LEASE_ALLOC \[hwtype=\d+ ([0-9a-f:]+)\], cid=\[[^\]]*\], tid=0x[0-9a-f]+: lease (\S+) has been allocated for (\d+) seconds$/;
const KEA_LEASE6 =
  / DHCP6_LEASE_ALLOC duid=\[([0-9a-f:]+)\], tid=0x[0-9a-f]+: lease for address (\S+) and iaid=(\d+) has been allocated for (\d+) seconds$/;

/**
 * Kea's log as `lease` events, one per lease allocated (DHCP4_LEASE_ALLOC or
 * DHCP6_LEASE_ALLOC): family, address, client (hardware address for DHCPv4, DUID for
 * DHCPv6), lifetime in seconds and, for DHCPv6, iaid.
 */
export function keaEvents(node: string, log: string): NodeEvent[] {
  const events: NodeEvent[] = [];
  for (const { text: line } of logLines(log)) {
    const stamp = KEA_TIME.exec(line);
    const time = stamp ? isoTime(`${stamp[1]}T${stamp[2]}Z`) : undefined;
    if (!time) continue;
    const v4 = KEA_LEASE4.exec(line);
    const v6 = KEA_LEASE6.exec(line);
    if (v4) {
      const [, client, address, lifetime] = v4;
      events.push(lease(time, node, { family: 4, address, client, lifetime: Number(lifetime) }));
    } else if (v6) {
      const [, client, address, iaid, lifetime] = v6;
      const fields = { family: 6, address, client, iaid: Number(iaid), lifetime: Number(lifetime) };
      events.push(lease(time, node, fields));
    }
  }
  return events;
}

const ISC_ACK4 = /^DHCPACK on (\S+) to ([0-9a-f:]+) via \S+$/;
const ISC_REPLY6 =
  /^Reply NA: address (\S+) to client with duid (\S+) iaid = (-?\d+) valid for (\d+) seconds$/;

/**
 * ISC dhcpd's log as `lease` events: DHCPACK (DHCPv4: family, address, client hardware
 * address) and "Reply NA" (DHCPv6: family, address, client DUID, iaid, lifetime; a Confirm
 * after a reboot renews nothing and is not one). dhcpd prints no time, so each event takes
 * the time Docker received its line; a line without that stamp is skipped.
 */
export function iscEvents(node: string, log: string): NodeEvent[] {
  const events: NodeEvent[] = [];
  for (const { received: time, text: body } of logLines(log)) {
    if (!time) continue;
    const v4 = ISC_ACK4.exec(body);
    const v6 = ISC_REPLY6.exec(body);
    if (v4) {
      events.push(lease(time, node, { family: 4, address: v4[1], client: v4[2] }));
    } else if (v6) {
      const [, address, client, iaid, lifetime] = v6;
      // dhcpd prints the IAID as a signed 32-bit number, Kea as unsigned: the lab keeps Kea's.
      const unsigned = Number(iaid) >>> 0;
      const fields = { family: 6, address, client, iaid: unsigned, lifetime: Number(lifetime) };
      events.push(lease(time, node, fields));
    }
  }
  return events;
}

const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';
// named -g prints local time (UTC in the lab's containers) and, with `querylog yes`, one line
// per query: client @0x... ADDRESS#PORT (NAME): query: NAME CLASS TYPE FLAGS (LOCAL ADDRESS)
const BIND_QUERY =
  /^(\d\d)-([A-Z][a-z]{2})-(\d{4}) (\d\d:\d\d:\d\d\.\d{3}) client @0x[0-9a-f]+ (\S+)#\d+ \([^)]*\): query: (\S+) (\S+) (\S+) (\S+) \(\S+\)$/;

/**
 * bind9's query log as `query` events: client (address), name, class, type, transport (tcp
 * or udp, from the T flag) and flags as named prints them (+ recursion desired, E(n) EDNS,
 * T TCP, K cookie, S signed, D DNSSEC OK, C checking disabled).
 */
export function bindEvents(node: string, log: string): NodeEvent[] {
  const events: NodeEvent[] = [];
  for (const { text: line } of logLines(log)) {
    const query = BIND_QUERY.exec(line);
    if (!query) continue;
    const [, day, month, year, clock, client, name, dnsClass, type, flags = ''] = query;
    const index = MONTHS.indexOf(month as string);
    if (index < 0 || index % 3 !== 0) continue;
    const monthNumber = String(index / 3 + 1).padStart(2, '0');
    const time = isoTime(`${year}-${monthNumber}-${day}T${clock}Z`);
    if (!time) continue;
    const transport = /T/.test(flags.replace(/E\(\d+\)/, '')) ? 'tcp' : 'udp';
    events.push({
      time,
      node,
      kind: 'query',
      client,
      name,
      class: dnsClass,
      type,
      transport,
      flags,
    });
  }
  return events;
}
