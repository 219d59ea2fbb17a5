import { resolve } from 'node:path';
import type { Command } from 'commander';
import { LabError } from '../common/errors.ts';
import { readJsonReport } from '../report/json.ts';
import { mergeReports } from '../report/merge.ts';
import { formatDuration } from '../report/stats.ts';
import { writeReports } from '../report/write.ts';
import { makeOutput } from './output.ts';

export function registerReport(program: Command): void {
  const report = program
    .command('report')
    .description('merge shard reports and render report.json as JUnit XML and HTML');

  report
    .command('merge')
    .description('merge the report folders of several shards into one report folder')
    .argument('<dirs...>', 'report folders, each with a report.json')
    .requiredOption('--out <dir>', 'folder for the merged report.json, junit.xml and index.html')
    .option('--json', 'print what was written as JSON')
    .action(async (dirs: string[], opts: { out: string; json?: boolean }) => {
      const out = makeOutput(Boolean(opts.json));
      const outDir = resolve(opts.out);
      if (dirs.some((dir) => resolve(dir) === outDir)) {
        throw new LabError('INVALID_ARGUMENT', `--out ${opts.out} is one of the shard folders`);
      }
      const merged = await mergeReports(dirs, outDir);
      for (const line of merged.missing) out.progress(`warning: attachment missing in ${line}`);
      const { stats } = merged.report;
      const human = [
        `merged ${dirs.length} reports: ${stats.total} scenarios, ${stats.passed} passed, ${stats.failed} failed, ${stats.flaky} flaky, ${stats.skipped} skipped (${formatDuration(merged.report.durationMs)})`,
        ...merged.files.map((file) => `  ${file}`),
      ].join('\n');
      out.result(
        {
          ok: true,
          runId: merged.report.runId,
          stats,
          files: merged.files,
          missing: merged.missing,
        },
        human,
      );
    });

  report
    .command('render')
    .description('write junit.xml and index.html again from the report.json in a folder')
    .argument('<dir>', 'a report folder')
    .option('--json', 'print what was written as JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const out = makeOutput(Boolean(opts.json));
      const model = await readJsonReport(dir);
      const files = await writeReports(model, dir, ['junit', 'html']);
      out.result({ ok: true, files }, files.map((file) => `wrote ${file}`).join('\n'));
    });
}
