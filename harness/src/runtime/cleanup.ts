import { hostname } from 'node:os';
import type Docker from 'dockerode';
import { dockerClient } from './docker.ts';
import { type RemovedRule, removeRules } from './firewall.ts';
import { LABEL_LAB, LABEL_OWNER, ownerMark } from './labels.ts';

export interface CleanupReport {
  containers: string[];
  networks: string[];
  rules: RemovedRule[];
}

/**
 * Removes every container and network labelled as belonging to a lab (one lab, or all of
 * them), and the firewall rules of their bridges. Works from labels and live rule sets alone,
 * so it also clears what a crashed run left behind.
 */
export async function removeLabs(
  lab?: string,
  docker: Docker = dockerClient(),
): Promise<CleanupReport> {
  const filter = { label: [lab === undefined ? LABEL_LAB : `${LABEL_LAB}=${lab}`] };
  const report: CleanupReport = { containers: [], networks: [], rules: [] };
  const containers = await docker.listContainers({ all: true, filters: filter });
  await Promise.all(
    containers.map(async (info) => {
      try {
        await docker.getContainer(info.Id).remove({ force: true, v: true });
        report.containers.push(info.Names[0]?.replace(/^\//, '') ?? info.Id);
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 404) throw error;
      }
    }),
  );
  const networks = await docker.listNetworks({ filters: filter });
  for (const info of networks) {
    const bridge = info.Options?.['com.docker.network.bridge.name'];
    try {
      await docker.getNetwork(info.Id).remove();
      report.networks.push(info.Name);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
    if (bridge) report.rules.push(...(await removeRules(bridge)));
  }
  // Rules whose network is already gone (a crash between the two steps) are found by comment.
  if (lab === undefined) report.rules.push(...(await removeRules()));
  return report;
}

/** Counts what is left of labs: for tests that prove a teardown was complete. */
export async function remainingLabObjects(lab?: string, docker: Docker = dockerClient()) {
  const filter = { label: [lab === undefined ? LABEL_LAB : `${LABEL_LAB}=${lab}`] };
  const containers = await docker.listContainers({ all: true, filters: filter });
  const networks = await docker.listNetworks({ filters: filter });
  return { containers: containers.length, networks: networks.length };
}

/**
 * Removes the labs this process owns (a scenario run taking its labs down on Ctrl-C), and no
 * other: labs of other runs, and labs brought up by hand, stay.
 */
export async function removeOwnedLabs(docker: Docker = dockerClient()): Promise<string[]> {
  const mine = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_OWNER}=${ownerMark()}`] },
  });
  const labs = [...new Set(mine.map((info) => info.Labels[LABEL_LAB]).filter(Boolean))] as string[];
  for (const lab of labs) await removeLabs(lab, docker);
  return labs;
}

/**
 * The reaper: removes the labs whose owning process (label sztp-lab.owner, `<host>:<pid>`) on
 * this host is gone, such as a scenario run killed with SIGKILL. Labs brought up by `lab up`
 * carry no owner and are left alone.
 */
export async function reapOrphans(docker: Docker = dockerClient()): Promise<string[]> {
  const owned = await docker.listContainers({ all: true, filters: { label: [LABEL_OWNER] } });
  const orphans = new Set<string>();
  for (const info of owned) {
    const [host, pid] = (info.Labels[LABEL_OWNER] ?? '').split(':');
    if (host !== hostname()) continue;
    let alive = true;
    try {
      process.kill(Number(pid), 0);
    } catch {
      alive = false;
    }
    const lab = info.Labels[LABEL_LAB];
    if (!alive && lab) orphans.add(lab);
  }
  for (const lab of orphans) await removeLabs(lab, docker);
  return [...orphans];
}
