import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from '../common/errors.ts';
import { REPO_ROOT } from '../device/node.ts';
import type { NodeBundles } from '../runtime/bundles.ts';
import { type LabNode, logShows, type NodeSpec, nodeLogs } from '../runtime/containers.ts';
import { imageTag } from '../runtime/images.ts';
import type { NodeSpec as TopologyNode } from '../topology/types.ts';
import type { PreparedLab } from './prepare.ts';

const READY_TIMEOUT_MS = 30_000;
const SERVER_JSON = '/etc/sztp-lab/node/server.json';

/** What a service node's container needs: image, mounts, command, capabilities. */
export function serviceContainer(
  name: string,
  node: TopologyNode,
  prepared: PreparedLab,
  bundles?: NodeBundles,
): Pick<NodeSpec, 'image' | 'binds' | 'cmd' | 'capAdd'> {
  const configDir = prepared.configDirs.get(name) ?? '';
  switch (node.kind) {
    case 'bootstrap-server':
    case 'redirect-server':
      return {
        image: node.image ?? imageTag('server'),
        binds: [
          `${REPO_ROOT}:/opt/sztp-lab:ro`,
          `${prepared.pkiDir}:/etc/sztp-lab/pki:ro`,
          `${configDir}:/etc/sztp-lab/node:ro`,
          `${join(configDir, 'data')}:/var/lib/sztp-lab/server`,
        ],
        cmd: bundles
          ? ['node', bundles.server, '--config', SERVER_JSON]
          : ['node', '/opt/sztp-lab/harness/bin/sztp-lab.js', 'server', '--config', SERVER_JSON],
      };
    case 'dhcp':
      return {
        image: node.image ?? imageTag(node.server === 'kea' ? 'dhcp-kea' : 'dhcp-isc'),
        binds: [`${configDir}:/etc/sztp-lab:ro`],
        capAdd: ['NET_ADMIN', 'NET_RAW'],
      };
    case 'dns':
      return { image: node.image ?? imageTag('dns'), binds: [`${configDir}:/etc/sztp-lab:ro`] };
    case 'image-server':
      return {
        image: node.image ?? imageTag('web'),
        binds: [`${configDir}:/etc/sztp-lab:ro`, `${prepared.pkiDir}:/etc/sztp-lab-pki:ro`],
      };
    default:
      throw new LabError('TOPOLOGY_INVALID', `node "${name}" is not a service node`);
  }
}

/** What a service node's readiness waits for: a line in its log, or a port taking connections. */
type Probe = { what: string; log: RegExp } | { what: string; port: number };

function probeFor(node: TopologyNode): Probe | undefined {
  switch (node.kind) {
    case 'bootstrap-server':
    case 'redirect-server':
      // The server prints its ready line once both the RFC 8572 listener and the admin API
      // listen.
      return { what: 'the server\'s "serving ..." ready line', log: /^serving .* admin API at /m };
    case 'dhcp':
      return {
        what: 'the DHCP server start line',
        log: /DHCP[46]_STARTED|Server starting service/,
      };
    case 'dns':
      return { what: 'named loading its zone', log: /all zones loaded/ };
    case 'image-server':
      // nginx takes connections once its configuration, certificate and key have loaded.
      return { what: `nginx taking connections on port ${node.port}`, port: node.port };
    default:
      return undefined;
  }
}

/**
 * Whether a TCP connection to address:port is taken, tried every 20 ms until the deadline or
 * until the container is found stopped (looked at every half second).
 */
async function portOpens(
  handle: LabNode,
  address: string,
  port: number,
  deadline: number,
): Promise<boolean> {
  for (let attempt = 1; performance.now() < deadline; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: address, port, timeout: 1000 });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
      socket.once('timeout', () => done(false));
    });
    if (open) return true;
    if (attempt % 25 === 0 && !(await handle.container.inspect()).State.Running) return false;
    await sleep(20);
  }
  return false;
}

/**
 * Waits until a service node is ready: its log shows the kind's ready line (the server's,
 * the DHCP server's start, named's zone load), followed as it is written, or, for nginx, its
 * port takes a connection from the host (lab networks are internal, but the host is on every
 * bridge). An error names the node, what was awaited and the end of its log.
 */
export async function waitServiceReady(
  name: string,
  node: TopologyNode,
  handle: LabNode,
  address?: string,
): Promise<void> {
  const probe = probeFor(node);
  if (!probe) return;
  const deadline = performance.now() + READY_TIMEOUT_MS;
  const ready =
    'log' in probe
      ? await logShows(handle, probe.log, READY_TIMEOUT_MS)
      : await portOpens(handle, address ?? '', probe.port, deadline);
  if (ready) return;
  const state = await handle.container.inspect();
  const log = (await nodeLogs(handle)).slice(-1500);
  const why = state.State.Running
    ? `not ready after ${READY_TIMEOUT_MS} ms waiting for ${probe.what}`
    : `exited while waiting for ${probe.what}`;
  throw new LabError('WAIT_TIMEOUT', `node "${name}" (${node.kind}) ${why}:\n${log}`);
}
