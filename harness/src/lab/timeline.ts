import type { Message, TimelineEvent } from '../report/model.ts';
import type { DhcpNode, Topology } from '../topology/types.ts';
import type { Placement } from './prepare.ts';

/**
 * An event of any node, flat as the routing engines write theirs: time (ISO 8601, UTC),
 * node, kind and the fields. Servers' records take this shape too, with the server's node
 * name and its own time.
 */
export interface NodeEvent {
  time: string;
  node: string;
  kind: string;
  [field: string]: unknown;
}

/**
 * Turns the nodes' events into the report's timeline and the arrows of its sequence diagram:
 * which node talked to which, when, and how it went. Server nodes are recognised by the
 * addresses (or names) the device used.
 */
export function buildTimeline(events: readonly NodeEvent[]): TimelineEvent[] {
  return events.map(({ time, node, kind, ...fields }) => ({ time, node, kind, fields }));
}

/**
 * The devices' events and the servers' records as one list in time order. The sort is
 * stable: at equal times device events come first, then each server's in the order given.
 * Times compare as strings, which is time order because every reader writes them the same
 * way (`Date.toISOString`).
 */
export function mergeEvents(
  device: readonly NodeEvent[],
  server: readonly NodeEvent[],
): NodeEvent[] {
  return [...device, ...server].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
}

function addressBook(topology: Topology, placements: Map<string, Placement>): Map<string, string> {
  const book = new Map<string, string>();
  for (const [name, place] of placements) {
    if (place.ipv4) book.set(place.ipv4, name);
    if (place.ipv6) book.set(place.ipv6, name);
    book.set(name, name);
  }
  for (const name of Object.keys(topology.nodes)) book.set(name, name);
  return book;
}

/** "198.18.0.10:8443", "fd00::10:8443", "bootstrap.example:8443 (198.18.0.10)" -> node name. */
export function serverNode(server: string, book: Map<string, string>): string {
  const inner = /\(([^)]+)\)/.exec(server)?.[1];
  const host = (inner ?? server.replace(/ \(.*$/, '').replace(/:\d+$/, '')).replace(/^\[|\]$/g, '');
  return book.get(host) ?? book.get(host.split('.')[0] ?? '') ?? host;
}

/** Events that concern one routing engine alone: a note on its own lifeline. */
const SELF_NOTES: Record<string, (e: NodeEvent) => [string, Message['tone']]> = {
  'verification-failed': (e) => [`refused: ${e.code}`, 'error'],
  'onboarding-refused': (e) => [`refused: ${e.code}`, 'error'],
  'image-hash-mismatch': () => ['image SHA-256 mismatch', 'error'],
  rollback: (e) => [`rollback: ${e.reason}`, 'error'],
  reboot: () => ['reboot into the new image', 'neutral'],
  'bootstrap-complete': () => ['bootstrap complete', 'ok'],
  mastership: (e) => [`mastership: ${e.role}`, 'neutral'],
  'clock-set': (e) => [
    e.mode === 'none' ? 'clock: none' : `clock skew ${e.skewSeconds} s`,
    'neutral',
  ],
  'mastership-acquired': (e) => [`mastership acquired (${e.reason})`, 'error'],
  'backup-provisioned': (e) => [`backup ${e.backup} provisioned`, 'ok'],
};

/**
 * A server's own record: a note on the server's lifeline, so the diagram shows what each
 * server saw beside what the device did. Labels lead with what fits the narrow column; the
 * tooltip has the rest.
 */
const SERVER_NOTES: Record<string, (e: NodeEvent) => [string, Message['tone']]> = {
  request: (e) => {
    const ok = typeof e.status === 'number' && e.status > 0 && e.status < 300;
    let what: string;
    if (e.outcome === 'dropped') what = 'connection dropped';
    else if (e.outcome === 'tls-failed') what = `TLS handshake failed: ${e.errorMessage}`;
    else if (!ok)
      what = `${e.status} ${[e.errorTag ?? e.outcome, e.errorMessage].filter(Boolean).join(': ')}`;
    else what = `${e.status} ${e.outcome === 'progress' ? e.progressType : e.outcome}`;
    // A request an armed fault acted on says so after the answer, with how long it took (a
    // delay fault shows there), so it does not read like the red note of the fault itself.
    const faulted =
      Array.isArray(e.faults) && e.faults.length
        ? `, under fault${typeof e.durationMs === 'number' ? ` (${(e.durationMs / 1000).toFixed(1)} s)` : ''}`
        : '';
    const signed = ok && e.signed ? ', signed' : '';
    const who = e.serial ? ` (${e.serial})` : '';
    return [`${what}${signed}${who}${faulted}`, ok ? 'ok' : 'error'];
  },
  download: (e) => {
    const size = typeof e.bytes === 'number' && e.bytes > 0 ? `, ${byteSize(e.bytes)}` : '';
    const verify =
      typeof e.clientVerify === 'string' && e.clientVerify !== 'NONE'
        ? `, client certificate ${e.clientVerify}`
        : '';
    const ok = typeof e.status === 'number' && e.status < 300;
    return [`${e.method ?? 'GET'} ${e.uri} ${e.status}${size}${verify}`, ok ? 'ok' : 'error'];
  },
  lease: (e) => [`lease ${e.address} to ${e.client}`, 'ok'],
  query: (e) => [`query ${e.type} ${e.name} (${e.transport})`, 'neutral'],
};

function byteSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * The sequence diagram's messages: arrows drawn from the routing engines' side, and notes on
 * the servers' own lifelines for the servers' records (`events` may hold both, in time order).
 */
export function buildMessages(
  events: NodeEvent[],
  topology: Topology,
  placements: Map<string, Placement>,
): Message[] {
  const book = addressBook(topology, placements);
  const dhcpFor = (family: number) =>
    Object.entries(topology.nodes).find(
      ([, node]) => node.kind === 'dhcp' && (node as DhcpNode).families.includes(family as 4 | 6),
    )?.[0] ?? 'dhcp';
  const dns = Object.entries(topology.nodes).find(([, node]) => node.kind === 'dns')?.[0] ?? 'dns';
  const lastServer = new Map<string, string>();
  const messages: Message[] = [];
  // An HTTP answer: the status, or why there was none.
  const answer = (e: NodeEvent, from: string, to: string) =>
    add(
      e.time,
      from,
      to,
      e.status ? `HTTP ${e.status}` : `no answer: ${e.error ?? ''}`,
      e.status === 200 ? 'ok' : 'error',
    );
  const add = (
    time: string,
    from: string,
    to: string,
    label: string,
    tone: Message['tone'] = 'neutral',
  ) => messages.push({ time, from, to, label, tone });
  for (const e of events) {
    const me = e.node;
    const spec = topology.nodes[me];
    if (e.kind === 'fault') {
      // An injected fault: a note on the lifeline it hit (a device's means its first engine).
      const on = spec?.kind === 'device' ? `${me}/re0` : me;
      add(e.time, on, on, `fault: ${e.title ?? e.fault}`, 'error');
      continue;
    }
    if (spec && spec.kind !== 'device') {
      const note = SERVER_NOTES[e.kind]?.(e);
      if (note) add(e.time, me, me, note[0], note[1]);
      continue;
    }
    switch (e.kind) {
      case 'dhcp-lease': {
        const from = dhcpFor(Number(e.family));
        add(e.time, me, from, `DHCPv${e.family} solicit/request`);
        const servers = (e.servers as string[] | undefined) ?? [];
        add(
          e.time,
          from,
          me,
          `lease ${e.address}, ` +
            (e.option === 'present'
              ? `option ${e.family === 4 ? 143 : 136}: ${servers.length} URI`
              : 'no SZTP option'),
          e.option === 'present' ? 'ok' : 'error',
        );
        break;
      }
      case 'dns-answer':
        add(e.time, me, dns, 'TXT / SRV query');
        add(
          e.time,
          dns,
          me,
          `${e.txt ? 'TXT artifacts, ' : ''}SRV ${(e.srv as string[]).join(' ') || 'none'}`,
          'neutral',
        );
        break;
      case 'bootstrap-request': {
        const to = serverNode(String(e.server), book);
        lastServer.set(me, to);
        add(e.time, me, to, `get-bootstrapping-data (${e.tls})`);
        answer(e, to, me);
        break;
      }
      case 'progress-report': {
        const to = lastServer.get(me) ?? 'bootstrap';
        add(
          e.time,
          me,
          to,
          `report-progress ${e.type} → ${e.status}`,
          e.status === 204 ? 'ok' : 'error',
        );
        break;
      }
      case 'image-download': {
        const to = serverNode(new URL(String(e.uri)).host, book);
        add(e.time, me, to, `GET ${new URL(String(e.uri)).pathname}`);
        answer(e, to, me);
        break;
      }
      // Dual routing engines: what crosses the chassis link.
      case 'backup-authenticated':
      case 'backup-refused': {
        const backup = String(e.backup);
        add(e.time, me, backup, 'DevID challenge (nonce)');
        add(
          e.time,
          backup,
          me,
          e.kind === 'backup-authenticated'
            ? 'signed in its TPM: DevID trusted'
            : `refused: ${e.reason}`,
          e.kind === 'backup-authenticated' ? 'ok' : 'error',
        );
        break;
      }
      case 'backup-image-sync':
        add(e.time, me, String(e.backup), `image ${e.to} (${e.flavour})`);
        break;
      case 'backup-config-sync':
        add(e.time, me, String(e.backup), 'configuration sync', e.status === 204 ? 'ok' : 'error');
        break;

      default: {
        const note = SELF_NOTES[e.kind]?.(e);
        if (note) add(e.time, me, me, note[0], note[1]);
        break;
      }
    }
  }
  return messages;
}
