import type { NodeEvent } from '../lab/timeline.ts';
import type { Topology } from '../topology/types.ts';
import {
  auditEvents,
  auditLogEntries,
  bindEvents,
  iscEvents,
  keaEvents,
  nginxEvents,
} from './server-logs.ts';

/** Where the servers' records are read from: a running lab, or a test's fixtures. */
export interface ServerRecordSource {
  /** The entries of a bootstrap or redirect server's `GET /audit`. */
  audit(server: string): Promise<unknown[]>;
  /**
   * The node's container log, stdout and stderr, each line led by the time Docker received it
   * (as `docker logs --timestamps` prints it).
   */
  log(node: string): Promise<string>;
}

/**
 * Every server's own records as timeline events, in topology order and each server's own
 * order: bootstrap and redirect servers' audit entries (from the admin API, or from the
 * container log when the API does not answer, a server stopped by a fault), the image
 * server's access log, Kea's and ISC dhcpd's leases and bind9's queries. A server whose
 * records cannot be read has none; a line that does not parse is skipped. With `only`, just
 * those nodes' records are read.
 */
export async function collectServerEvents(
  topology: Topology,
  source: ServerRecordSource,
  only?: readonly string[],
): Promise<NodeEvent[]> {
  const read = async (what: Promise<NodeEvent[]>) => what.catch(() => []);
  const perNode = Object.entries(topology.nodes).map(([name, node]) => {
    if (only && !only.includes(name)) return Promise.resolve([]);
    switch (node.kind) {
      case 'bootstrap-server':
      case 'redirect-server':
        return read(
          source
            .audit(name)
            .catch(async () => auditLogEntries(await source.log(name)))
            .then((entries) => auditEvents(name, entries)),
        );
      case 'image-server':
        return read(source.log(name).then((text) => nginxEvents(name, text)));
      case 'dhcp':
        return read(
          source
            .log(name)
            .then((log) => (node.server === 'isc' ? iscEvents : keaEvents)(name, log)),
        );
      case 'dns':
        return read(source.log(name).then((text) => bindEvents(name, text)));
      default:
        return Promise.resolve([]);
    }
  });
  return (await Promise.all(perNode)).flat();
}

/** Which kind of server writes each kind of record. */
const RECORD_WRITERS: Record<string, readonly string[]> = {
  request: ['bootstrap-server', 'redirect-server'],
  download: ['image-server'],
  lease: ['dhcp'],
  query: ['dns'],
};

const isPattern = (value: unknown) => typeof value === 'string' && /^\/.*\/[a-z]*$/.test(value);

/**
 * The servers whose records could match an event matcher, so that a wait reads no more logs
 * than it must: none when the matcher names a routing engine's node or kind, the one server
 * it names, the servers that write the record kind it names, or, when it names neither node
 * nor kind plainly, every server.
 */
export function serversToWatch(topology: Topology, match: Record<string, unknown>): string[] {
  const servers = Object.entries(topology.nodes).filter(([, node]) => node.kind !== 'device');
  const { node, kind } = match;
  if (typeof node === 'string' && !isPattern(node)) {
    return servers.some(([name]) => name === node) ? [node] : [];
  }
  if (typeof kind === 'string' && !isPattern(kind)) {
    const writers = RECORD_WRITERS[kind] ?? [];
    return servers.filter(([, spec]) => writers.includes(spec.kind)).map(([name]) => name);
  }
  return servers.map(([name]) => name);
}
