import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { LabError } from '../common/errors.ts';
import {
  computeStats,
  ListReporter,
  type Report,
  type ReporterName,
  type ScenarioResult,
  storeAttachment,
  writeReports,
} from '../report/index.ts';
import { executeScenario } from './execute.ts';
import { findScenarioFiles, loadScenario } from './load.ts';
import type { Scenario } from './types.ts';

export interface RunOptions {
  paths: string[];
  grep?: RegExp;
  shard?: { current: number; total: number };
  retries: number;
  reporters: (ReporterName | 'list')[];
  /** Default reports/<run-id>, with reports/latest pointing at it. */
  outDir?: string;
  /** Scenarios run at the same time, each in its own lab. */
  workers: number;
  capture: boolean;
  version: string;
  dockerVersion?: string;
  /** Progress lines for a person (stderr). */
  log?: (line: string) => void;
}

export const REPORTS_ROOT = resolve(process.cwd(), 'reports');

/** Parses `I/N` (1-based). */
export function parseShard(text: string): { current: number; total: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const current = Number(match?.[1]);
  const total = Number(match?.[2]);
  if (!match || current < 1 || total < 1 || current > total) {
    throw new LabError(
      'INVALID_ARGUMENT',
      `--shard "${text}": give I/N with 1 <= I <= N, e.g. 2/4`,
    );
  }
  return { current, total };
}

/** The files of one shard: the sorted list dealt round-robin, so every shard gets a mix. */
export function shardFiles(files: string[], shard?: { current: number; total: number }): string[] {
  if (!shard) return files;
  return files.filter((_, index) => index % shard.total === shard.current - 1);
}

/**
 * Runs scenario files: one fresh, isolated lab per scenario, several at once up to `workers`,
 * retries for failures (a pass after a failure is "flaky"), and the reports at the end. The
 * run can be interrupted: labs still up are taken down before it returns.
 */
export async function runScenarios(
  options: RunOptions,
  signal?: AbortSignal,
): Promise<{ report: Report; outDir: string }> {
  const runId = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}-${randomBytes(2).toString('hex')}`;
  const outDir = resolve(options.outDir ?? join(REPORTS_ROOT, runId));
  mkdirSync(outDir, { recursive: true });
  if (!options.outDir) {
    const latest = join(REPORTS_ROOT, 'latest');
    rmSync(latest, { force: true });
    symlinkSync(relative(dirname(latest), outDir), latest);
  }
  const log = options.log ?? (() => {});
  const files = shardFiles(await findScenarioFiles(options.paths), options.shard);
  const scenarios: { file: string; scenario: Scenario }[] = [];
  for (const file of files) {
    const scenario = await loadScenario(file);
    if (options.grep && !options.grep.test(scenario.title) && !options.grep.test(file)) continue;
    scenarios.push({ file, scenario });
  }
  log(
    `running ${scenarios.length} scenario${scenarios.length === 1 ? '' : 's'} with ${options.workers} worker${options.workers === 1 ? '' : 's'}${options.shard ? ` (shard ${options.shard.current}/${options.shard.total})` : ''}`,
  );
  const list = options.reporters.includes('list') ? new ListReporter(process.stderr) : undefined;
  const started = new Date();
  const t0 = performance.now();
  const results: ScenarioResult[] = new Array(scenarios.length);
  let next = 0;
  const worker = async (slot: number) => {
    while (next < scenarios.length && !signal?.aborted) {
      const index = next++;
      const { file, scenario } = scenarios[index] as { file: string; scenario: Scenario };
      const attempts = [];
      for (let attempt = 0; attempt <= options.retries; attempt++) {
        const result = await executeScenario(scenario, {
          runId: `${slot}${randomBytes(2).toString('hex')}`,
          capture: options.capture,
          log: (line) => log(`  ${line}`),
          attach: (name, contentType, body) => storeAttachment(outDir, { name, contentType, body }),
          ...(signal ? { signal } : {}),
        });
        attempts.push(result);
        if (result.status === 'passed' || result.status === 'interrupted') break;
      }
      const last = attempts.at(-1);
      const status =
        last?.status === 'passed' && attempts.length > 1 ? 'flaky' : (last?.status ?? 'skipped');
      const scenarioResult: ScenarioResult = {
        title: scenario.title,
        file: relative(process.cwd(), file),
        tags: [...scenario.tags],
        status,
        durationMs: attempts.reduce((sum, a) => sum + a.durationMs, 0),
        attempts,
      };
      results[index] = scenarioResult;
      list?.scenarioEnd(scenarioResult);
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, options.workers) }, (_, slot) => worker(slot)),
  );
  const done = results.map(
    (result, index) =>
      result ?? {
        title: scenarios[index]?.scenario.title ?? '',
        file: relative(process.cwd(), scenarios[index]?.file ?? ''),
        tags: [...(scenarios[index]?.scenario.tags ?? [])],
        status: 'skipped' as const,
        durationMs: 0,
        attempts: [],
      },
  );
  const report: Report = {
    format: 'sztp-lab-report/1',
    runId,
    startedAt: started.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    ...(options.shard ? { shard: options.shard } : {}),
    stats: computeStats(done),
    environment: {
      host: hostname(),
      node: process.version,
      ...(options.dockerVersion ? { docker: options.dockerVersion } : {}),
      sztpLab: options.version,
    },
    scenarios: done,
  };
  const writers = options.reporters.filter((r): r is ReporterName => r !== 'list');
  await writeReports(report, outDir, writers);
  list?.end(report);
  return { report, outDir };
}
