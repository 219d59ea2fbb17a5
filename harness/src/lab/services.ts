import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from '../common/errors.ts';
import { REPO_ROOT } from '../device/node.ts';
import type { NodeBundles } from '../runtime/bundles.ts';
import { execIn, type LabNode, type NodeSpec, nodeLogs } from '../runtime/containers.ts';
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

/** One readiness probe per kind, and what it waits for (for the timeout message). */
function probeFor(
  node: TopologyNode,
  handle: LabNode,
): { what: string; ready: () => Promise<boolean> } {
  const exitsZero = async (cmd: string[]) => (await execIn(handle, cmd)).exitCode === 0;
  const logShows = async (pattern: RegExp) => pattern.test(await nodeLogs(handle));
  switch (node.kind) {
    case 'bootstrap-server':
    case 'redirect-server':
      // The server prints its ready line once both the RFC 8572 listener and the admin API
      // listen; reading the log costs one API call where an exec of curl costs several.
      return {
        what: 'the server\'s "serving ..." ready line',
        ready: () => logShows(/^serving .* admin API at /m),
      };
    case 'dhcp':
      return {
        what: 'the DHCP server start line',
        ready: () => logShows(/DHCP[46]_STARTED|Server starting service/),
      };
    case 'dns':
      return { what: 'named loading its zone', ready: () => logShows(/all zones loaded/) };
    case 'image-server':
      return {
        what: 'nginx answering HTTPS',
        ready: () =>
          exitsZero(['curl', '-sk', '-o', '/dev/null', `https://127.0.0.1:${node.port}/`]),
      };
    default:
      return { what: 'nothing', ready: async () => true };
  }
}

/**
 * Waits until a service node is ready (the server's admin health, the DHCP server's start
 * line, named's zone load, nginx answering); an error names the node, what was awaited and
 * the end of its log.
 */
export async function waitServiceReady(name: string, node: TopologyNode, handle: LabNode) {
  const { what, ready } = probeFor(node, handle);
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (!(await ready())) {
    const state = await handle.container.inspect();
    if (!state.State.Running || performance.now() > deadline) {
      const log = (await nodeLogs(handle)).slice(-1500);
      const why = state.State.Running
        ? `not ready after ${READY_TIMEOUT_MS} ms waiting for ${what}`
        : 'exited';
      throw new LabError('WAIT_TIMEOUT', `node "${name}" (${node.kind}) ${why}:\n${log}`);
    }
    await sleep(50);
  }
}
