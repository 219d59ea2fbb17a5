import type { Command } from 'commander';
import { LabError } from '../common/errors.ts';
import { loadScenario } from '../scenario/load.ts';
import { loadTopology } from '../topology/load.ts';
import {
  displayName,
  formatProblem,
  type Problem,
  SCENARIO_INVALID,
  TOPOLOGY_INVALID,
} from '../topology/problems.ts';
import { makeOutput } from './output.ts';

interface FileVerdict {
  file: string;
  ok: boolean;
  problems: Problem[];
}

/** Loads each file; a file's problems are its verdict, anything else is a real failure. */
async function checkFiles(
  files: string[],
  load: (path: string) => Promise<unknown>,
): Promise<FileVerdict[]> {
  const verdicts: FileVerdict[] = [];
  for (const path of files) {
    const file = displayName(path);
    try {
      await load(path);
      verdicts.push({ file, ok: true, problems: [] });
    } catch (error) {
      if (
        !(error instanceof LabError) ||
        ![TOPOLOGY_INVALID, SCENARIO_INVALID].includes(error.code)
      ) {
        throw error;
      }
      const listed = error.details?.problems as Problem[] | undefined;
      const problems = listed ?? [{ file, path: '', message: error.message }];
      verdicts.push({ file, ok: false, problems });
    }
  }
  return verdicts;
}

function addCheck(parent: Command, what: string, load: (path: string) => Promise<unknown>): void {
  parent
    .command('check')
    .description(
      `validate ${what} files (schema, defaults, references); exit 1 when any is invalid`,
    )
    .argument('<file...>', `${what} files`)
    .option('--json', 'print the verdicts as JSON')
    .action(async (files: string[], flags: { json?: boolean }) => {
      const out = makeOutput(Boolean(flags.json));
      const verdicts = await checkFiles(files, load);
      const ok = verdicts.every((verdict) => verdict.ok);
      const human = verdicts
        .map((verdict) =>
          verdict.ok ? `ok ${verdict.file}` : verdict.problems.map(formatProblem).join('\n'),
        )
        .join('\n');
      out.result({ ok, files: verdicts }, human);
      if (!ok) process.exitCode = 1;
    });
}

/** `topology check` and `scenario check`. */
export function registerTopology(program: Command): void {
  const topology = program.command('topology').description('topology files (topologies/*.yaml)');
  addCheck(topology, 'topology', loadTopology);
  const scenario = program.command('scenario').description('scenario files (scenarios/*.yaml)');
  addCheck(scenario, 'scenario', loadScenario);
}
