import type { DeviceEvent } from '../device/events.ts';
import type { Message, TimelineEvent } from '../report/model.ts';
import type { DhcpNode, Topology } from '../topology/types.ts';
import type { Placement } from './prepare.ts';

/**
 * Turns the routing engines' events into the report's timeline and the arrows of its sequence
 * diagram: which node talked to which, when, and how it went. Server nodes are recognised by
 * the addresses (or names) the device used.
 */
export function buildTimeline(events: DeviceEvent[]): TimelineEvent[] {
  return events.map(({ time, node, kind, ...fields }) => ({ time, node, kind, fields }));
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
const SELF_NOTES: Record<string, (e: DeviceEvent) => [string, Message['tone']]> = {
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

export function buildMessages(
  events: DeviceEvent[],
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
  const answer = (e: DeviceEvent, from: string, to: string) =>
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
