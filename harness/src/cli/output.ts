import { LabError } from '../common/errors.ts';

/** Where a command writes: stdout stays machine-readable under --json; progress goes to stderr. */
export interface Output {
  json: boolean;
  /** The command's result: a JSON document under --json, otherwise the human text. */
  result(value: unknown, human: string): void;
  /** Progress and remarks for a person; always on stderr, silent under --json unless verbose. */
  progress(line: string): void;
}

export function makeOutput(json: boolean): Output {
  return {
    json,
    result(value, human) {
      process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human}\n`);
    },
    progress(line) {
      if (!json || process.env.SZTP_LAB_VERBOSE === '1') process.stderr.write(`${line}\n`);
    },
  };
}

/** Prints a failure the way every command does, and gives the exit status to use. */
export function reportFailure(error: unknown, json: boolean): number {
  const lab =
    error instanceof LabError
      ? error
      : new LabError('COMMAND_FAILED', error instanceof Error ? error.message : String(error));
  if (json) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: lab.toJSON() }, null, 2)}\n`);
  } else {
    process.stderr.write(`sztp-lab: ${lab.message} [${lab.code}]\n`);
  }
  return lab.code === 'INVALID_ARGUMENT' ? 2 : 1;
}
