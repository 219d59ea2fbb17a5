import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LabError } from '../common/errors.ts';
import { readJsonReport } from './json.ts';
import type { Report } from './model.ts';
import { computeStats } from './stats.ts';
import { writeReports } from './write.ts';

export interface MergeResult {
  report: Report;
  files: string[];
  /** Attachments a shard's report names but its folder lacks, as "<shard dir>: <path>". */
  missing: string[];
}

/**
 * Merges the report folders of several shards into one: scenarios in the order of the
 * folders, stats counted again, attachments copied (their names are content hashes, so equal
 * files from two shards are one file), the duration of the slowest shard and a new run id.
 */
export async function mergeReports(
  dirs: readonly string[],
  outDir: string,
  options: { runId?: string } = {},
): Promise<MergeResult> {
  if (dirs.length === 0) throw new LabError('INVALID_ARGUMENT', 'name at least one report folder');
  const shards: Report[] = [];
  for (const dir of dirs) shards.push(await readJsonReport(dir));

  await mkdir(outDir, { recursive: true });
  const missing: string[] = [];
  for (const [index, shard] of shards.entries()) {
    const from = dirs[index] as string;
    const paths = new Set(
      shard.scenarios.flatMap((s) => s.attempts.flatMap((a) => a.attachments.map((x) => x.path))),
    );
    for (const path of paths) {
      const source = join(from, path);
      const target = join(outDir, path);
      if (!(await stat(source).catch(() => undefined))) {
        missing.push(`${from}: ${path}`);
        continue;
      }
      if (await stat(target).catch(() => undefined)) continue;
      await mkdir(dirname(target), { recursive: true });
      await copyFile(source, target);
    }
  }

  const scenarios = shards.flatMap((shard) => shard.scenarios);
  const starts = shards.map((shard) => shard.startedAt).sort();
  const first = shards[0] as Report;
  const report: Report = {
    format: 'sztp-lab-report/1',
    runId: options.runId ?? randomUUID(),
    startedAt: starts[0] ?? first.startedAt,
    durationMs: Math.max(...shards.map((shard) => shard.durationMs)),
    stats: computeStats(scenarios),
    environment: first.environment,
    scenarios,
  };
  const files = await writeReports(report, outDir, ['json', 'junit', 'html']);
  return { report, files, missing };
}
