import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { LabError } from '../common/errors.ts';
import { containerName, type LabNode, nodeLogs } from './containers.ts';
import { dockerClient } from './docker.ts';
import { imageTag } from './images.ts';
import { LABEL_LAB, LABEL_NODE, labLabels } from './labels.ts';

/** The packets a link fault touches: those the node sends (as netem on eth0), receives, or both. */
export type LinkDirection = 'egress' | 'ingress' | 'both';

/** How a node's link is degraded; with no delay, loss or corruption, it is left alone. */
export interface LinkFault {
  delayMs?: number;
  lossPercent?: number;
  corruptPercent?: number;
  direction?: LinkDirection;
}

export interface LinkFaultTarget {
  lab: string;
  run: string;
  node: Pick<LabNode, 'id' | 'node'>;
  docker?: Docker;
}

const PROGRAM = '/usr/local/bin/sztp-lab-netfault';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_S = 5;

/** The helper program's command line for a fault (see images/netfault/netfault.py). */
export function netfaultCommand(fault: LinkFault): string[] {
  return [
    PROGRAM,
    '--delay-ms',
    String(fault.delayMs ?? 0),
    '--loss',
    String(fault.lossPercent ?? 0),
    '--corrupt',
    String(fault.corruptPercent ?? 0),
    '--direction',
    fault.direction ?? 'egress',
  ];
}

export function isNoFault(fault: LinkFault): boolean {
  return !fault.delayMs && !fault.lossPercent && !fault.corruptPercent;
}

function helperNode(target: LinkFaultTarget): string {
  return `netem-${target.node.node}`;
}

function failure(target: LinkFaultTarget, what: string, log: string): LabError {
  const tail = log.trim().split('\n').slice(-4).join('\n');
  return new LabError(
    'COMMAND_FAILED',
    `netem on node "${target.node.node}": ${what}${tail ? `:\n${tail}` : ''}`,
  );
}

/**
 * Removes the node's link fault, if it has one: the helper is stopped (its program takes its
 * iptables rules out and lets the packets it holds go) and removed. A helper that had died on
 * its own is reported, since the fault was not in force when it was thought to be. Gives the
 * removed helper's log (what it did, with its packet counts), or '' when there was none.
 */
export async function clearLinkFault(target: LinkFaultTarget): Promise<string> {
  const logs: string[] = [];
  const docker = target.docker ?? dockerClient();
  const found = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_LAB}=${target.lab}`, `${LABEL_NODE}=${helperNode(target)}`] },
  });
  for (const info of found) {
    const container = docker.getContainer(info.Id);
    const wasRunning = info.State === 'running';
    if (wasRunning) await container.stop({ t: STOP_TIMEOUT_S });
    const state = (await container.inspect()).State;
    const log = await nodeLogs({ container });
    await container.remove({ force: true });
    if (state.ExitCode !== 0) {
      const when = wasRunning ? 'while being cleared' : 'before it was cleared';
      throw failure(target, `the link fault helper exited ${state.ExitCode} ${when}`, log);
    }
    logs.push(log);
  }
  return logs.join('');
}

async function startHelper(target: LinkFaultTarget, fault: LinkFault) {
  const docker = target.docker ?? dockerClient();
  const node = helperNode(target);
  let container: Docker.Container | undefined;
  try {
    container = await docker.createContainer({
      name: containerName(target.lab, node),
      Image: imageTag('netfault'),
      Cmd: netfaultCommand(fault),
      Labels: labLabels(target.lab, node, target.run),
      HostConfig: { NetworkMode: `container:${target.node.id}`, CapAdd: ['NET_ADMIN'] },
    });
    await container.start();
    return container;
  } catch (error) {
    await container?.remove({ force: true }).catch(() => {});
    const hint = /no such image/i.test(String(error)) ? ' (run "sztp-lab images build")' : '';
    throw new LabError(
      'COMMAND_FAILED',
      `netem on node "${target.node.node}": cannot start the link fault helper: ` +
        `${(error as Error).message}${hint}`,
      { cause: error },
    );
  }
}

/**
 * Degrades a node's link without sch_netem: a helper container joins the node's network
 * namespace with NET_ADMIN and runs images/netfault/netfault.py, which drops packets at random
 * with iptables and delays or corrupts them through NFQUEUE. The helper keeps running (and the
 * fault in force) until the next call for the node, `clearLinkFault`, or the lab's end; a fault
 * with nothing set only clears. Returns once the rules are in place, with the log of the
 * helper it replaced ('' when there was none).
 */
export async function setLinkFault(target: LinkFaultTarget, fault: LinkFault): Promise<string> {
  const cleared = await clearLinkFault(target);
  if (isNoFault(fault)) return cleared;
  const container = await startHelper(target, fault);
  const deadline = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    const log = await nodeLogs({ container });
    if (/^ready/m.test(log)) return cleared;
    const state = (await container.inspect()).State;
    if (!state.Running || performance.now() > deadline) {
      const last = await nodeLogs({ container }).catch(() => log);
      await container.remove({ force: true }).catch(() => {});
      const what = state.Running
        ? `the link fault helper was not ready after ${READY_TIMEOUT_MS / 1000} s`
        : `the link fault helper exited ${state.ExitCode}`;
      throw failure(target, what, last);
    }
    await sleep(100);
  }
}
