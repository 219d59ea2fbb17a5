import type { Command } from 'commander';
import { LabError } from '../common/errors.ts';
import { removeLabs } from '../runtime/cleanup.ts';
import { makeOutput } from './output.ts';

export function registerDown(program: Command): void {
  program
    .command('down')
    .description(
      'remove a lab (or every lab) by its labels: containers, networks and firewall rules',
    )
    .argument('[lab]', 'the lab to remove')
    .option('--all', 'remove everything labelled sztp-lab.lab, including what crashed runs left')
    .option('--json', 'print what was removed as JSON')
    .action(async (lab: string | undefined, opts: { all?: boolean; json?: boolean }) => {
      const out = makeOutput(Boolean(opts.json));
      if (!opts.all && !lab) throw new LabError('INVALID_ARGUMENT', 'name a lab, or give --all');
      if (opts.all && lab)
        throw new LabError(
          'INVALID_ARGUMENT',
          `give either a lab name ("${lab}") or --all, not both`,
        );
      const report = await removeLabs(opts.all ? undefined : lab);
      const human = `removed ${report.containers.length} containers, ${report.networks.length} networks, ${report.rules.length} firewall rules`;
      out.result({ ok: true, ...report }, human);
    });
}
