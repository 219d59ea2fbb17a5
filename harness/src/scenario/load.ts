import { readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { LabError } from '../common/errors.ts';
import { resolveRecord } from '../topology/defaults.ts';
import { deepFreeze, parseTopology, readText, readYaml } from '../topology/load.ts';
import { recordPaths, topologyPaths } from '../topology/paths.ts';
import {
  displayName,
  type Problem,
  SCENARIO_INVALID,
  TOPOLOGY_INVALID,
  throwProblems,
} from '../topology/problems.ts';
import { camelize, schemaProblems } from '../topology/schema.ts';
import type { Topology } from '../topology/types.ts';
import { scenarioProblems } from './load-check.ts';
import { parseDuration } from './load-values.ts';
import type {
  DeviceExpectation,
  EventMatch,
  Expectations,
  Fault,
  Scenario,
  Step,
  TimelineExpectation,
} from './types.ts';

/**
 * Scenario files: YAML -> schema -> the topology (read relative to the scenario, merge-patched,
 * validated) -> steps and expectations -> names checked against the topology -> frozen.
 */

type Raw = Record<string, unknown>;

export { matchPattern, parseDuration } from './load-values.ts';

const DEFAULT_TIMEOUT = '5m';
/**
 * RFC 7386 JSON merge patch: mappings merge key by key, anything else replaces, null removes.
 * Neither argument is modified.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const base =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Raw) }
      : {};
  for (const [key, value] of Object.entries(patch as Raw)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}

/** Reads, validates and freezes a scenario file with its (patched) topology. */
export async function loadScenario(path: string): Promise<Scenario> {
  const file = displayName(path);
  const { doc, locate } = readYaml(
    await readText(path, file, SCENARIO_INVALID),
    file,
    SCENARIO_INVALID,
  );
  const problems = schemaProblems('scenario.schema.json', doc, file, locate);
  if (problems.length > 0) throwProblems(SCENARIO_INVALID, problems);
  const raw = camelize(doc, 'scenario.schema.json') as Raw;

  const topologyPath = resolve(dirname(path), raw.topology as string);
  const topologyFile = displayName(topologyPath);
  const topologyYaml = readYaml(
    await readText(topologyPath, topologyFile, TOPOLOGY_INVALID),
    topologyFile,
    TOPOLOGY_INVALID,
  );
  // A patched document no longer lines up with the topology file, so no line numbers then.
  // Paths in the topology are relative to it, paths in the patch to the scenario.
  const topologyDoc = topologyPaths(topologyYaml.doc, dirname(topologyPath));
  const topology =
    raw.patch === undefined
      ? parseTopology(topologyDoc, topologyFile, topologyYaml.locate)
      : parseTopology(
          mergePatch(topologyDoc, topologyPaths((doc as Raw).patch, dirname(resolve(path)))),
          `${topologyFile} (patched by ${file})`,
        );

  const scenario = buildScenario(raw, topology, file);
  const references = scenarioProblems(scenario, file, locate);
  if (references.length > 0) throwProblems(SCENARIO_INVALID, references);
  return deepFreeze(scenario);
}

function buildScenario(raw: Raw, topology: Topology, file: string): Scenario {
  const timeoutMs = parseDuration((raw.timeout as string | undefined) ?? DEFAULT_TIMEOUT);
  const scenario: Scenario = {
    title: raw.title as string,
    file,
    tags: (raw.tags as string[] | undefined) ?? [],
    topology,
    timeoutMs,
    steps: ((raw.steps as Raw[] | undefined) ?? []).map((step) =>
      buildStep(step, timeoutMs, dirname(resolve(file))),
    ),
    expect: buildExpectations((raw.expect as Raw | undefined) ?? {}),
  };
  if (typeof raw.description === 'string') scenario.description = raw.description;
  return scenario;
}

/**
 * Copies the keys that are present, renamed (optional fields stay absent, never undefined).
 * The schema has checked their types; the result adds nothing the caller's type must know.
 */
function present(source: Raw, keys: Record<string, string>): Record<never, never> {
  const out: Raw = {};
  for (const [from, to] of Object.entries(keys)) {
    if (source[from] !== undefined) out[to] = source[from];
  }
  return out;
}

function buildStep(step: Raw, scenarioTimeoutMs: number, baseDir: string): Step {
  const [key, value] = Object.entries(step)[0] as [string, unknown];
  switch (key) {
    case 'powerOn':
      return { kind: 'power-on', node: value as string };
    case 'powerOff':
      return { kind: 'power-off', node: value as string };
    case 'reboot':
      return { kind: 'reboot', node: value as string };
    case 'zeroize':
      return { kind: 'zeroize', node: value as string };
    case 'sleep':
      return { kind: 'sleep', ms: parseDuration(value as string) };
    case 'wait': {
      const { timeout, count, ...match } = value as Raw;
      return {
        kind: 'wait',
        match: match as EventMatch,
        timeoutMs: timeout === undefined ? scenarioTimeoutMs : parseDuration(timeout as string),
        ...(count === undefined ? {} : { count: count as number }),
      };
    }
    case 'exec': {
      const exec = value as Raw;
      return {
        kind: 'exec',
        node: exec.node as string,
        cmd: exec.cmd as string[],
        ...present(exec, { expectExit: 'expectExit' }),
      };
    }
    case 'records': {
      const records = value as Raw;
      return {
        kind: 'records',
        server: records.server as string,
        serial: records.serial as string,
        // A captured reply a records step names is relative to the scenario file.
        record: resolveRecord(recordPaths(records.record, baseDir) as Raw),
      };
    }
    case 'fault':
      return { kind: 'fault', fault: buildFault(value as Raw) };
    default:
      throw new Error(`step kind ${key} passed the schema but has no builder`);
  }
}

function buildFault(fault: Raw): Fault {
  const [key, value] = Object.entries(fault)[0] as [string, Raw];
  switch (key) {
    case 'container':
      return { kind: 'container', node: value.node as string, action: value.action as 'kill' };
    case 'disconnect':
    case 'connect':
      return { kind: key, node: value.node as string, ...present(value, { network: 'network' }) };
    case 'netem': {
      const netem: Extract<Fault, { kind: 'netem' }> = {
        kind: 'netem',
        node: value.node as string,
        ...present(value, {
          loss: 'lossPercent',
          corrupt: 'corruptPercent',
          direction: 'direction',
        }),
      };
      if (typeof value.delay === 'string') netem.delayMs = parseDuration(value.delay);
      return netem;
    }
    case 'server':
      return {
        kind: 'server',
        node: value.node as string,
        ...present(value, { serial: 'serial', rpc: 'rpc', count: 'count' }),
        fault: value.fault as Raw,
      };
    case 'clock':
      return {
        kind: 'clock',
        node: value.node as string,
        skewSeconds: value.skewSeconds as number,
      };
    default:
      throw new Error(`fault kind ${key} passed the schema but has no builder`);
  }
}

function buildExpectations(expect: Raw): Expectations {
  const timeline = ((expect.timeline as Raw[] | undefined) ?? []).map(
    (check): TimelineExpectation => {
      if (check.order) return { kind: 'order', events: check.order as EventMatch[] };
      if (check.absent) return { kind: 'absent', match: check.absent as EventMatch };
      const count = check.count as Raw;
      return {
        kind: 'count',
        match: count.match as EventMatch,
        ...present(count, { min: 'min', max: 'max', equals: 'equals' }),
      };
    },
  );
  const devices: Record<string, DeviceExpectation> = {};
  for (const [key, value] of Object.entries((expect.devices as Raw | undefined) ?? {})) {
    const device = { ...(value as DeviceExpectation) };
    const re = /\/(re[01])$/.exec(key)?.[1] as DeviceExpectation['re'];
    if (re && device.re === undefined) device.re = re;
    devices[key] = device;
  }
  return {
    timeline,
    devices,
    progress: ((expect.progress as unknown[] | undefined) ?? []) as Expectations['progress'],
  };
}

/** Scenario files among `paths`: files as given, folders searched for *.yaml; sorted. */
export async function findScenarioFiles(paths: string[]): Promise<string[]> {
  const found = new Set<string>();
  const walk = async (path: string): Promise<void> => {
    const entries = await readdir(path, { withFileTypes: true });
    for (const entry of entries) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) await walk(child);
      else if (/\.ya?ml$/.test(entry.name)) found.add(child);
    }
  };
  for (const path of paths) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (error) {
      throw new LabError('INVALID_ARGUMENT', `${path}: no such file or folder`, { cause: error });
    }
    if (info.isDirectory()) await walk(path);
    else found.add(path);
  }
  return [...found].sort();
}

export type { Problem };
