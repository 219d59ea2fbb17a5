import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../common/exec.ts';

/**
 * Pre- and post-configuration scripts. RFC 8572 leaves the language and the signalling to the
 * vendor; the interpreter comes from the shebang, and the profile decides what a non-zero exit
 * means: under `rfc8572` every script's failure is an error; under `junos` a shell script's exit
 * status is checked and a Python script's is not (the vendor document's behaviour).
 */
export type Profile = 'rfc8572' | 'junos';

export interface ScriptResult {
  interpreter: string;
  exitCode: number;
  output: string;
  /** What the profile makes of the run. */
  verdict: 'ok' | 'warning' | 'error';
  /** Why a failure was ignored, when it was. */
  note?: string;
}

const INTERPRETERS: Record<string, string> = {
  sh: '/bin/sh',
  bash: '/bin/bash',
  python: '/usr/bin/python3',
  python3: '/usr/bin/python3',
};

export function interpreterOf(script: string): string {
  const first = script.split('\n', 1)[0] ?? '';
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
  if (!shebang) return '/bin/sh';
  const program = shebang[1] ?? '';
  // `#!/usr/bin/env python3` names the interpreter in its argument.
  const name = (program.endsWith('/env') ? (shebang[2] ?? '') : program).split('/').pop() ?? '';
  return INTERPRETERS[name] ?? program;
}

export function isPython(interpreter: string): boolean {
  return /python/.test(interpreter);
}

export async function runScript(
  script: string,
  profile: Profile,
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ScriptResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sztp-script-'));
  const path = join(dir, 'script');
  try {
    writeFileSync(path, script);
    chmodSync(path, 0o700);
    const interpreter = interpreterOf(script);
    const result = await run(interpreter, [path], {
      allowFailure: true,
      timeoutMs: options.timeoutMs ?? 60_000,
      cwd: dir,
      env: options.env ?? process.env,
    });
    const output = `${result.stdout}${result.stderr}`.slice(-4000);
    if (result.exitCode === 0) return { interpreter, exitCode: 0, output, verdict: 'ok' };
    if (profile === 'junos' && isPython(interpreter)) {
      return {
        interpreter,
        exitCode: result.exitCode,
        output,
        verdict: 'ok',
        note:
          `exit status ${result.exitCode} of a Python script ` +
          'is not checked under the junos profile',
      };
    }
    return { interpreter, exitCode: result.exitCode, output, verdict: 'error' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
