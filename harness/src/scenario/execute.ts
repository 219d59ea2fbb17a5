import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, LabError } from '../common/errors.ts';
import { Lab, type StartedLab } from '../lab/lab.ts';
import { labView } from '../lab/lab-view.ts';
import type { PreparedLab } from '../lab/prepare.ts';
import { buildMessages, buildTimeline, mergeEvents, type NodeEvent } from '../lab/timeline.ts';
import type { Attachment, Attempt, StepResult } from '../report/model.ts';
import { execIn, nodeLogs } from '../runtime/containers.ts';
import { setLinkFault } from '../runtime/link-fault.ts';
import { describeMatch, evaluate, matches } from './expect.ts';
import { collectServerEvents, type ServerRecordSource, serversToWatch } from './server-events.ts';
import type { Fault, Scenario, Step } from './types.ts';

export interface ExecuteOptions {
  runId: string;
  capture: boolean;
  log?: (line: string) => void;
  /** Stores a file as a report attachment and gives its description. */
  attach: (name: string, contentType: string, data: Buffer) => Promise<Attachment>;
  /** Set when the run is being interrupted: the attempt stops at the next step. */
  signal?: AbortSignal;
}

/** A running lab's servers' records: the admin API's audit, and the containers' logs. */
function liveRecords(lab: StartedLab): ServerRecordSource {
  return {
    audit: (server) => lab.audit(server),
    log: async (node) => {
      const handle = lab.nodes.get(node);
      return handle ? nodeLogs(handle, { timestamps: true }) : '';
    },
  };
}

function stepTitle(step: Step): string {
  switch (step.kind) {
    case 'wait': {
      const times = step.count ? ` ×${step.count}` : '';
      return `wait for ${describeMatch(step.match)}${times} (≤ ${step.timeoutMs / 1000} s)`;
    }
    case 'sleep':
      return `sleep ${step.ms} ms`;
    case 'exec':
      return `exec on ${step.node}: ${step.cmd.join(' ')}`;
    case 'records':
      return `change the record of ${step.serial} on ${step.server}`;
    case 'fault':
      return `fault: ${faultTitle(step.fault)}`;
    default:
      return `${step.kind} ${step.node}`;
  }
}

function faultTitle(fault: Fault): string {
  switch (fault.kind) {
    case 'container':
      return `${fault.action} ${fault.node}`;
    case 'disconnect':
    case 'connect':
      return `${fault.kind} ${fault.node}`;
    case 'netem': {
      const parts = [
        fault.delayMs ? `delay ${fault.delayMs} ms` : '',
        fault.lossPercent ? `loss ${fault.lossPercent}%` : '',
        fault.corruptPercent ? `corrupt ${fault.corruptPercent}%` : '',
      ].filter(Boolean);
      if (parts.length === 0) return `netem on ${fault.node} cleared`;
      const direction =
        fault.direction && fault.direction !== 'egress' ? ` (${fault.direction})` : '';
      return `netem on ${fault.node}${direction} ${parts.join(' ')}`;
    }
    case 'server':
      return `server ${fault.node}: ${JSON.stringify(fault.fault)}`;
    case 'clock':
      return `clock of ${fault.node} skewed ${fault.skewSeconds} s`;
  }
}

async function applyFault(lab: StartedLab, fault: Fault): Promise<void> {
  const nodeOf = (name: string) => {
    const node = lab.nodes.get(name) ?? lab.nodes.get(`${name}/re0`);
    if (!node) throw new LabError('INVALID_ARGUMENT', `no node "${name}" is running`);
    return node;
  };
  switch (fault.kind) {
    case 'container': {
      const c = nodeOf(fault.node).container;
      if (fault.action === 'kill') await c.kill();
      else if (fault.action === 'stop') await c.stop({ t: 2 });
      else if (fault.action === 'pause') await c.pause();
      else if (fault.action === 'unpause') await c.unpause();
      else if (fault.action === 'restart') await c.restart({ t: 2 });
      else await c.start();
      return;
    }
    case 'disconnect':
    case 'connect': {
      const spec = lab.topology.nodes[fault.node];
      const network = lab.networks.get(fault.network ?? spec?.network ?? '');
      if (!network) throw new LabError('INVALID_ARGUMENT', `no network for ${fault.node}`);
      const place = lab.prepared?.placements.get(fault.node);
      const handle = nodeOf(fault.node);
      const { dockerClient } = await import('../runtime/docker.ts');
      const net = dockerClient().getNetwork(network.id);
      if (fault.kind === 'disconnect') await net.disconnect({ Container: handle.id, Force: true });
      else
        await net.connect({
          Container: handle.id,
          EndpointConfig: {
            IPAMConfig: {
              ...(place?.ipv4 ? { IPv4Address: place.ipv4 } : {}),
              ...(place?.ipv6 ? { IPv6Address: place.ipv6 } : {}),
            },
            Aliases: [fault.node],
          },
        });
      return;
    }
    case 'netem': {
      // This kernel has no sch_netem: the helper drops with iptables and delays or corrupts
      // through NFQUEUE instead (runtime/link-fault.ts, images/netfault/netfault.py).
      const { kind: _kind, node, ...link } = fault;
      const replaced = await setLinkFault(
        { lab: lab.name, run: lab.runId, node: nodeOf(node) },
        link,
      );
      if (replaced) lab.keepLog(`netem-${node}`, replaced);
      return;
    }
    case 'server':
      await lab.admin(fault.node, 'POST', '/faults', {
        ...fault.fault,
        ...(fault.serial ? { serial: fault.serial } : {}),
        ...(fault.rpc ? { rpc: fault.rpc } : {}),
        ...(fault.count ? { count: fault.count } : {}),
      });
      return;
    case 'clock':
      lab.setClock(fault.node, { skewSeconds: fault.skewSeconds });
      return;
  }
}

/**
 * A fault as a timeline event on the node it hit, timed when it took effect: the report shows
 * it beside the nodes' own events, and expectations can place it (`kind: fault`, with
 * `fault` the fault's kind and its settings as fields; a server fault's own kind is in
 * `serverFault`).
 */
export function faultEvent(fault: Fault, time: Date): NodeEvent {
  const { kind, node, ...settings } = fault;
  const { fault: serverFault, ...rest } = settings as Record<string, unknown>;
  return {
    time: time.toISOString(),
    node,
    kind: 'fault',
    fault: kind,
    ...rest,
    ...(serverFault === undefined ? {} : { serverFault }),
    title: faultTitle(fault),
  };
}

async function runStep(lab: StartedLab, step: Step, injected: NodeEvent[]): Promise<void> {
  switch (step.kind) {
    case 'power-on':
      return lab.powerOn(step.node);
    case 'power-off':
      return lab.powerOff(step.node);
    case 'reboot':
      return lab.reboot(step.node);
    case 'zeroize':
      return lab.zeroize(step.node);
    case 'sleep':
      await sleep(step.ms);
      return;
    case 'wait': {
      const deadline = performance.now() + step.timeoutMs;
      const want = step.count ?? 1;
      // A match that a server's record could meet reads those servers' logs on each look.
      const watched = serversToWatch(lab.topology, step.match);
      const records = liveRecords(lab);
      for (;;) {
        const events: NodeEvent[] = watched.length
          ? mergeEvents(
              lab.deviceEvents(),
              await collectServerEvents(lab.topology, records, watched),
            )
          : lab.deviceEvents();
        const found = events.filter((e) => matches(e, step.match)).length;
        if (found >= want) return;
        if (performance.now() > deadline) {
          const last = events
            .slice(-5)
            .map((e) => `${e.node} ${e.kind}`)
            .join(', ');
          throw new LabError(
            'WAIT_TIMEOUT',
            `waited ${step.timeoutMs} ms for ${want} × ${describeMatch(step.match)}, ` +
              `saw ${found}; last events: ${last || 'none'}`,
          );
        }
        await sleep(watched.length ? 300 : 150);
      }
    }
    case 'exec': {
      const node = lab.nodes.get(step.node) ?? lab.nodes.get(`${step.node}/re0`);
      if (!node) throw new LabError('INVALID_ARGUMENT', `no node "${step.node}" is running`);
      const result = await execIn(node, step.cmd);
      const want = step.expectExit ?? 0;
      if (result.exitCode !== want) {
        throw new LabError(
          'COMMAND_FAILED',
          `exit ${result.exitCode}, expected ${want}: ` +
            (result.stderr || result.stdout).trim().slice(-300),
        );
      }
      return;
    }
    case 'records':
      return lab.setRecord(step.server, step.serial, step.record);
    case 'fault':
      await applyFault(lab, step.fault);
      injected.push(faultEvent(step.fault, new Date()));
      return;
  }
}

/**
 * One attempt of a scenario: a fresh lab, the steps in order (the first failing step skips
 * the rest), the expectations, and everything a person needs to see why: timeline, sequence
 * diagram, progress reports, container logs, device events and packet captures.
 */
export async function executeScenario(
  scenario: Scenario,
  options: ExecuteOptions,
): Promise<Attempt> {
  const startedAt = new Date();
  const t0 = performance.now();
  const steps: StepResult[] = [];
  /** The faults the steps injected, as timeline events. */
  const injected: NodeEvent[] = [];
  const attachments: Attachment[] = [];
  let error: string | undefined;
  let status: Attempt['status'] = 'passed';
  let lab: StartedLab | undefined;
  const deadline = t0 + scenario.timeoutMs;
  try {
    const s0 = performance.now();
    lab = await Lab.start(scenario.topology, {
      runId: options.runId,
      capture: options.capture,
      owned: true,
      ...(options.log ? { log: options.log } : {}),
    });
    steps.push({
      title: 'lab up',
      status: 'passed',
      durationMs: Math.round(performance.now() - s0),
    });
    for (const step of scenario.steps) {
      const title = stepTitle(step);
      if (error || options.signal?.aborted) {
        steps.push({ title, status: 'skipped', durationMs: 0 });
        continue;
      }
      const started = performance.now();
      try {
        const left = deadline - performance.now();
        if (left <= 0)
          throw new LabError(
            'WAIT_TIMEOUT',
            `the scenario's ${scenario.timeoutMs / 1000} s are up`,
          );
        // The deadline timer is cancelled when the step ends, or it would keep the process
        // alive until the scenario's whole time limit had passed.
        const deadlineTimer = new AbortController();
        try {
          await Promise.race([
            runStep(lab, step, injected),
            sleep(left, undefined, { signal: deadlineTimer.signal }).then(() => {
              throw new LabError(
                'WAIT_TIMEOUT',
                `the scenario's ${scenario.timeoutMs / 1000} s are up`,
              );
            }),
            // An interrupted run does not wait for a long step: the lab comes down now.
            ...(options.signal
              ? [
                  once(options.signal, 'abort', { signal: deadlineTimer.signal }).then(() => {
                    throw new LabError('INTERRUPTED', 'the run was interrupted');
                  }),
                ]
              : []),
          ]);
        } finally {
          deadlineTimer.abort();
        }
        steps.push({
          title,
          status: 'passed',
          durationMs: Math.round(performance.now() - started),
        });
      } catch (caught) {
        error = `step "${title}": ${errorMessage(caught)}`;
        if ((caught as LabError).code === 'WAIT_TIMEOUT' && /scenario's/.test(errorMessage(caught)))
          status = 'timedOut';
        steps.push({
          title,
          status: 'failed',
          durationMs: Math.round(performance.now() - started),
          error: errorMessage(caught),
        });
      }
    }
  } catch (caught) {
    error = `lab up: ${errorMessage(caught)}`;
    steps.push({
      title: 'lab up',
      status: 'failed',
      durationMs: Math.round(performance.now() - t0),
      error: errorMessage(caught),
    });
  }
  if (options.signal?.aborted) status = 'interrupted';

  // Collect the evidence whatever happened.
  let events: NodeEvent[] = lab ? lab.deviceEvents() : [];
  const progressRows: Attempt['progress'] = [];
  const progressBy = new Map<string, Record<string, string[]>>();
  let expectations: Attempt['expectations'] = [];
  if (lab) {
    const live = lab;
    for (const [name, node] of Object.entries(live.topology.nodes)) {
      if (node.kind !== 'bootstrap-server' && node.kind !== 'redirect-server') continue;
      try {
        const progress = await live.progress(name);
        const bySerial: Record<string, string[]> = {};
        for (const [serial, list] of Object.entries(progress)) {
          bySerial[serial] = list.map((p) => p.progressType);
          for (const p of list) {
            progressRows.push({
              server: name,
              serial,
              type: p.progressType,
              time: p.ts,
              ...(p.message ? { message: p.message } : {}),
            });
          }
        }
        progressBy.set(name, bySerial);
      } catch {
        // A server killed by a fault has no progress log to read.
      }
    }
    // The servers' own records join the devices' events: one timeline from every node.
    const serverEvents = await collectServerEvents(live.topology, liveRecords(live));
    events = mergeEvents(mergeEvents(events, serverEvents), injected);
    expectations = evaluate(scenario.expect, {
      events,
      state: (device, re) => live.deviceState(device, re),
      progress: progressBy,
    });
    for (const node of live.nodes.keys()) {
      const text = await live.logs(node).catch(() => '');
      if (text)
        attachments.push(await options.attach(`log: ${node}`, 'text/plain', Buffer.from(text)));
    }
    for (const [name, text] of await live.helperLogs().catch(() => new Map<string, string>())) {
      attachments.push(await options.attach(`log: ${name}`, 'text/plain', Buffer.from(text)));
    }
    for (const engine of live.engines.values()) {
      const path = join(engine.stateDir, 'events.jsonl');
      if (existsSync(path)) {
        attachments.push(
          await options.attach(
            `events: ${engine.device}/${engine.re}`,
            'application/x-ndjson',
            readFileSync(path),
          ),
        );
      }
    }
    await live.stop();
    for (const file of live.captureFiles()) {
      attachments.push(
        await options.attach(
          `pcap: ${file.split('/').pop()}`,
          'application/vnd.tcpdump.pcap',
          readFileSync(file),
        ),
      );
    }
    // The run folder goes once the captures are read.
    await live.stop({ purge: true });
  }
  const failedExpectations = expectations.filter((e) => !e.passed);
  if (!error && failedExpectations.length) {
    const [first] = failedExpectations;
    const plural = failedExpectations.length > 1 ? 's' : '';
    const detail = first?.detail ? ` (${first.detail})` : '';
    error = `${failedExpectations.length} expectation${plural} failed: ${first?.title}${detail}`;
  }
  if (error && status === 'passed') status = 'failed';
  return {
    status,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    ...(error ? { error } : {}),
    steps,
    expectations,
    timeline: buildTimeline(events),
    messages: lab
      ? buildMessages(
          events,
          scenario.topology,
          (lab.prepared as PreparedLab | undefined)?.placements ?? new Map(),
        )
      : [],
    progress: progressRows,
    attachments,
    ...(lab?.prepared
      ? {
          lab: labView(
            lab.name,
            scenario.topology,
            lab.networks,
            (lab.prepared as PreparedLab).placements,
            events,
          ),
        }
      : {}),
  };
}
