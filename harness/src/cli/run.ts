import type { Command } from 'commander';
import { LabError } from '../common/errors.ts';
import { reapRunFolders } from '../lab/run-folders.ts';
import type { ReporterName } from '../report/index.ts';
import { reapOrphans, removeOwnedLabs } from '../runtime/cleanup.ts';
import { engineInfo } from '../runtime/docker.ts';
import { parseShard, runScenarios } from '../scenario/runner.ts';
import { makeOutput } from './output.ts';

const KNOWN_REPORTERS = ['list', 'json', 'junit', 'html'] as const;

export function registerRun(program: Command, version: string): void {
  program
    .command('run')
    .description('run scenarios, each in a fresh lab, and write the reports')
    .argument('[paths...]', 'scenario files or folders', ['scenarios'])
    .option('--grep <regex>', 'only scenarios whose title or file matches')
    .option('--shard <i/n>', 'run the i-th of n shards (1-based)')
    .option(
      '--retries <n>',
      'run a failed scenario again up to n times (a later pass is flaky)',
      '0',
    )
    .option(
      '--reporter <names>',
      'comma-separated: list, json, junit, html',
      'list,json,junit,html',
    )
    .option('--out <dir>', 'report folder (default reports/<run-id>, with reports/latest)')
    .option('--workers <n>', 'scenarios at once, each in its own lab', '2')
    .option('--no-capture', 'do not record packet captures')
    .option('--json', 'print the report summary as JSON')
    .action(
      async (
        paths: string[],
        opts: {
          grep?: string;
          shard?: string;
          retries: string;
          reporter: string;
          out?: string;
          workers: string;
          capture: boolean;
          json?: boolean;
        },
      ) => {
        const out = makeOutput(Boolean(opts.json));
        const reporters = opts.reporter.split(',').map((r) => r.trim());
        for (const r of reporters) {
          if (!(KNOWN_REPORTERS as readonly string[]).includes(r)) {
            throw new LabError(
              'INVALID_ARGUMENT',
              `--reporter: unknown "${r}" (known: ${KNOWN_REPORTERS.join(', ')})`,
            );
          }
        }
        const retries = Number(opts.retries);
        const workers = Number(opts.workers);
        if (!Number.isInteger(retries) || retries < 0)
          throw new LabError(
            'INVALID_ARGUMENT',
            `--retries "${opts.retries}" is not a whole number`,
          );
        if (!Number.isInteger(workers) || workers < 1)
          throw new LabError('INVALID_ARGUMENT', `--workers "${opts.workers}" must be 1 or more`);
        let grep: RegExp | undefined;
        if (opts.grep) {
          try {
            grep = new RegExp(opts.grep);
          } catch (error) {
            throw new LabError('INVALID_ARGUMENT', `--grep: ${(error as Error).message}`);
          }
        }
        const reaped = await reapOrphans();
        if (reaped.length) out.progress(`removed labs of dead runs: ${reaped.join(', ')}`);
        const folders = await reapRunFolders();
        if (folders.length) out.progress(`removed ${folders.length} run folder(s) of dead runs`);
        const engine = await engineInfo();
        // Ctrl-C: stop starting scenarios, finish the running steps' teardown; twice: remove now.
        const controller = new AbortController();
        let interrupts = 0;
        const onSignal = () => {
          interrupts += 1;
          if (interrupts === 1) {
            out.progress('interrupted: taking the running labs down (again to force)');
            controller.abort();
          } else {
            void removeOwnedLabs().finally(() => process.exit(130));
          }
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const { report, outDir } = await runScenarios(
            {
              paths,
              ...(grep ? { grep } : {}),
              ...(opts.shard ? { shard: parseShard(opts.shard) } : {}),
              retries,
              reporters: reporters as (ReporterName | 'list')[],
              ...(opts.out ? { outDir: opts.out } : {}),
              workers,
              capture: opts.capture,
              version,
              dockerVersion: engine.version,
              log: (line) => out.progress(line),
            },
            controller.signal,
          );
          const { stats } = report;
          // The last line is the plain count CI systems read: "scenarios: N passed, N failed".
          const skipped = stats.skipped ? `, ${stats.skipped} skipped` : '';
          out.result(
            { ok: stats.failed === 0, outDir, stats, durationMs: report.durationMs },
            `report: ${outDir}/index.html\n` +
              `scenarios: ${stats.passed + stats.flaky} passed, ${stats.failed} failed${skipped}`,
          );
          if (stats.failed > 0 || controller.signal.aborted) process.exitCode = 1;
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          if (controller.signal.aborted) await removeOwnedLabs().catch(() => {});
        }
      },
    );
}
