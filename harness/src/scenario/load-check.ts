import { recordReferenceProblems } from '../topology/check.ts';
import {
  closest,
  dottedPath,
  type PathSegment,
  type Problem,
  withArticle,
} from '../topology/problems.ts';
import type { Locate } from '../topology/schema.ts';
import type { NodeSpec, Topology } from '../topology/types.ts';
import { matchPattern } from './load-values.ts';
import type { EventMatch, Scenario } from './types.ts';

/**
 * The names a scenario uses, checked against its topology: devices where a device is needed
 * (`router1/re1` must be a device with a second routing engine), servers where a server is
 * needed, serials that exist, networks that exist, and regular expressions that compile.
 * Paths use the YAML's names (steps[2].wait.node).
 */

type Need = 'device' | 'server' | 'any';

const SERVER_KINDS: readonly NodeSpec['kind'][] = ['bootstrap-server', 'redirect-server'];

export function scenarioProblems(scenario: Scenario, file: string, locate?: Locate): Problem[] {
  const topology = scenario.topology;
  const problems: Problem[] = [];
  const report = (segments: PathSegment[], message: string) => {
    problems.push({ file, path: dottedPath(segments), message, ...(locate?.(segments) ?? {}) });
  };

  const node = (segments: PathSegment[], ref: string, need: Need) => {
    const message = nodeRefProblem(topology, ref, need);
    if (message) report(segments, message);
  };
  const serial = (segments: PathSegment[], value: string) => {
    if (knownSerial(topology, value)) return;
    report(segments, `"${value}" is not the serial of a device node nor listed in unknown-serials`);
  };
  const match = (segments: PathSegment[], event: EventMatch) => {
    for (const [field, value] of Object.entries(event)) {
      let pattern: RegExp | undefined;
      try {
        pattern = matchPattern(value);
      } catch (error) {
        report(
          [...segments, field],
          `is not a valid regular expression: ${(error as Error).message}`,
        );
        continue;
      }
      if (field === 'node' && typeof value === 'string' && !pattern) {
        node([...segments, field], value, 'any');
      }
    }
  };

  for (const [index, step] of scenario.steps.entries()) {
    const at: PathSegment[] = ['steps', index, step.kind];
    switch (step.kind) {
      case 'power-on':
      case 'power-off':
      case 'reboot':
      case 'zeroize':
        node(at, step.node, 'device');
        break;
      case 'sleep':
        break;
      case 'wait':
        match(at, step.match);
        if (step.match.kind === 'fault') {
          report(
            [...at, 'kind'],
            'a fault joins the timeline when its own step runs; a wait never sees it (expectations do)',
          );
        }
        break;
      case 'exec':
        node([...at, 'node'], step.node, 'any');
        break;
      case 'records':
        node([...at, 'server'], step.server, 'server');
        serial([...at, 'serial'], step.serial);
        problems.push(...recordReferenceProblems(topology, step.record, file, [...at, 'record']));
        break;
      case 'fault': {
        const fault = step.fault;
        const where = [...at, fault.kind];
        const need: Need =
          fault.kind === 'server' ? 'server' : fault.kind === 'clock' ? 'device' : 'any';
        node([...where, 'node'], fault.node, need);
        if ((fault.kind === 'disconnect' || fault.kind === 'connect') && fault.network) {
          if (!topology.networks[fault.network]) {
            report([...where, 'network'], `"${fault.network}" is not a network of the lab`);
          }
        }
        if (fault.kind === 'server' && fault.serial !== undefined) {
          serial([...where, 'serial'], fault.serial);
        }
        break;
      }
    }
  }

  for (const [index, check] of scenario.expect.timeline.entries()) {
    const at: PathSegment[] = ['expect', 'timeline', index, check.kind];
    if (check.kind === 'order') {
      for (const [position, event] of check.events.entries()) {
        match([...at, position], event);
      }
    } else if (check.kind === 'absent') {
      match(at, check.match);
    } else {
      match([...at, 'match'], check.match);
      if (check.equals !== undefined && (check.min !== undefined || check.max !== undefined)) {
        report(at, 'gives equals together with min or max');
      }
      if (check.min !== undefined && check.max !== undefined && check.min > check.max) {
        report(at, `min ${check.min} is above max ${check.max}`);
      }
    }
  }

  for (const [key, expectation] of Object.entries(scenario.expect.devices)) {
    const at: PathSegment[] = ['expect', 'devices', key];
    node(at, key, 'device');
    const suffix = /\/(re[01])$/.exec(key)?.[1];
    if (suffix && expectation.re !== suffix) {
      report([...at, 're'], `is ${expectation.re} but the key names ${suffix}`);
    } else if (!suffix && expectation.re) {
      node([...at, 're'], `${key}/${expectation.re}`, 'device');
    }
  }

  for (const [index, progress] of scenario.expect.progress.entries()) {
    const at: PathSegment[] = ['expect', 'progress', index];
    node([...at, 'server'], progress.server, 'server');
    serial([...at, 'serial'], progress.serial);
  }
  return problems;
}

function knownSerial(topology: Topology, serial: string): boolean {
  if (topology.unknownSerials?.includes(serial)) return true;
  return Object.values(topology.nodes).some((n) => n.kind === 'device' && n.serial === serial);
}

/** Why `ref` (a node name, or device/re0|re1) is not a node of the needed kind, if it is not. */
function nodeRefProblem(topology: Topology, ref: string, need: Need): string | undefined {
  const [name = '', re] = ref.split('/');
  const spec = topology.nodes[name];
  if (!spec) {
    const candidates = Object.entries(topology.nodes)
      .filter(([, n]) => need === 'any' || kindFits(n.kind, need))
      .map(([n]) => n);
    const guess = closest(name, candidates);
    return `"${name}" is not a node of the topology${guess ? ` (did you mean "${guess}"?)` : ''}`;
  }
  if (need !== 'any' && !kindFits(spec.kind, need)) {
    const wanted = need === 'device' ? 'a device' : 'a bootstrap-server or redirect-server';
    return `"${name}" is ${wanted === 'a device' ? 'not a device' : `not ${wanted}`} (it is ${withArticle(spec.kind)} node)`;
  }
  if (re !== undefined) {
    if (spec.kind !== 'device') return `"${ref}": only device nodes have routing engines`;
    if (!spec.routingEngines.includes(re as 're0' | 're1')) {
      return `"${ref}": ${name} has routing engines ${spec.routingEngines.join(', ')} only`;
    }
  }
  return undefined;
}

function kindFits(kind: NodeSpec['kind'], need: Need): boolean {
  return need === 'device' ? kind === 'device' : SERVER_KINDS.includes(kind);
}
