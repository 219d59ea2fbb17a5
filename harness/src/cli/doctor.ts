import type { Command } from 'commander';
import { runDoctor } from '../runtime/doctor.ts';
import { makeOutput } from './output.ts';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check what a lab needs: Docker engine, images, firewall tools, host tools')
    .option('--json', 'print one JSON object with a field per check')
    .action(async (opts: { json?: boolean }) => {
      const out = makeOutput(Boolean(opts.json));
      const report = await runDoctor();
      const lines = (['docker', 'images', 'firewall', 'tools', 'node', 'root'] as const).map(
        (name) => {
          const check = report[name];
          const mark = check.ok ? 'ok  ' : 'FAIL';
          return `${mark} ${name.padEnd(9)} ${check.detail}${check.hint ? `\n     ${' '.repeat(9)} hint: ${check.hint}` : ''}`;
        },
      );
      out.result(report, lines.join('\n'));
      if (!report.ok) process.exitCode = 1;
    });
}
