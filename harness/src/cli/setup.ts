import type { Command } from 'commander';
import { setupHost } from '../runtime/host.ts';
import { makeOutput } from './output.ts';

export function registerSetup(program: Command): void {
  program
    .command('setup')
    .description('install the Debian packages the lab needs and start the Docker engine (as root)')
    .option('--json', 'print what was done as JSON')
    .action(async (opts: { json?: boolean }) => {
      const out = makeOutput(Boolean(opts.json));
      const started = performance.now();
      const report = await setupHost((line) => out.progress(line));
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const human = report.changed
        ? `ready (${seconds} s): installed ${report.installed.join(', ') || 'nothing'}; dockerd ${report.dockerd}`
        : `ready (${seconds} s): nothing to do`;
      out.result({ ok: true, ...report, seconds: Number(seconds) }, human);
    });
}
