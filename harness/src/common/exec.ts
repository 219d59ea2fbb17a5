import { spawn } from 'node:child_process';
import { LabError } from './errors.ts';

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ExecOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  timeoutMs?: number;
  /** Called with each chunk of stderr as it arrives (progress of long commands). */
  onStderr?: (chunk: string) => void;
  onStdout?: (chunk: string) => void;
}

/** The last few non-empty lines of a command's error output, for messages. */
export function tailLines(text: string, count = 6): string {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.length > 0)
    .slice(-count)
    .join('\n');
}

/**
 * Runs a program without a shell. A failure explains itself: the command line, the exit status
 * and the last lines of its error output.
 */
export function run(command: string, args: readonly string[], options: ExecOptions = {}) {
  return new Promise<ExecResult>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      out.push(chunk);
      options.onStdout?.(chunk.toString());
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err.push(chunk);
      options.onStderr?.(chunk.toString());
    });
    child.on('error', (error) => {
      if (timer) clearTimeout(timer);
      reject(
        new LabError('COMMAND_FAILED', `cannot run ${command}: ${error.message}`, {
          cause: error,
        }),
      );
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const result = {
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        exitCode: code ?? 128,
      };
      if (result.exitCode === 0 || (options.allowFailure && !timedOut)) {
        resolve(result);
        return;
      }
      const why = timedOut
        ? `timed out after ${options.timeoutMs} ms`
        : signal
          ? `was killed by ${signal}`
          : `exited with status ${result.exitCode}`;
      const tail = tailLines(result.stderr || result.stdout);
      reject(
        new LabError(
          'COMMAND_FAILED',
          `${[command, ...args].join(' ')} ${why}${tail ? `:\n${tail}` : ''}`,
          { details: { command, args: [...args], exitCode: result.exitCode } },
        ),
      );
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}
