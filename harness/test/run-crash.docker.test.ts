import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { Lab } from '../src/lab/lab.ts';
import { LABS_DIR, OWNER_FILE } from '../src/lab/run-folders.ts';
import { remainingLabObjects } from '../src/runtime/cleanup.ts';
import { dockerClient } from '../src/runtime/docker.ts';
import { buildImages } from '../src/runtime/images.ts';
import { LABEL_LAB, LABEL_OWNER } from '../src/runtime/labels.ts';
import { parseTopology } from '../src/topology/load.ts';

const CLI = new URL('../bin/sztp-lab.js', import.meta.url).pathname;

test.before(async () => {
  await buildImages({ only: ['dns'] });
});

/** A folder with a one-node topology and a scenario that sleeps long enough to be cut short. */
function hangingScenario(): { dir: string; scenario: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sztp-crash-'));
  writeFileSync(join(dir, 'crash.yaml'), 'name: crash\nnodes:\n  ns: { kind: dns }\n');
  const scenario = join(dir, 'hang.yaml');
  writeFileSync(
    scenario,
    'title: hangs\ntopology: crash.yaml\ntimeout: 120s\nsteps:\n  - sleep: 90s\n',
  );
  return { dir, scenario };
}

interface Run {
  child: ChildProcess;
  stderr: () => string;
}

function startRun(args: string[]): Run {
  const child = spawn(process.execPath, [CLI, 'run', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  return { child, stderr: () => err };
}

/** The lab a run owns, once its container is running. */
async function ownedLab(pid: number, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const running = await dockerClient().listContainers({
      filters: { label: [`${LABEL_OWNER}=${hostname()}:${pid}`], status: ['running'] },
    });
    const lab = running[0]?.Labels[LABEL_LAB];
    if (lab) return lab;
    await sleep(200);
  }
  throw new Error(`no running lab owned by pid ${pid} after ${timeoutMs} ms`);
}

test.serial(
  'docker: a run killed outright leaves its lab, and the next run reaps it',
  async (t) => {
    const { dir, scenario } = hangingScenario();
    const killed = startRun([scenario, '--reporter', 'json', '--out', join(dir, 'first')]);
    const lab = await ownedLab(killed.child.pid as number);
    t.true(existsSync(join(LABS_DIR, lab, OWNER_FILE)), 'the run folder names its owner');
    killed.child.kill('SIGKILL');
    await once(killed.child, 'exit');
    const left = await remainingLabObjects(lab);
    t.true(left.containers > 0 && left.networks > 0, 'SIGKILL gives no chance to clean up');

    // A later run reaps before it starts; here it runs nothing at all.
    const next = startRun([
      scenario,
      '--grep',
      '^never$',
      '--reporter',
      'json',
      '--out',
      join(dir, 'next'),
    ]);
    const [code] = await once(next.child, 'exit');
    t.is(code, 0, next.stderr());
    t.regex(next.stderr(), new RegExp(`removed labs of dead runs: .*${lab}`));
    t.regex(next.stderr(), /removed \d+ run folder\(s\) of dead runs/);
    t.deepEqual(await remainingLabObjects(lab), { containers: 0, networks: 0 });
    t.false(existsSync(join(LABS_DIR, lab)));
  },
);

test.serial(
  'docker: Ctrl-C ends the running step, takes the run’s own labs down and leaves others',
  async (t) => {
    const bystander = await Lab.start(
      parseTopology({ name: 'bystander', nodes: { ns: { kind: 'dns' } } }, 'bystander.yaml'),
    );
    try {
      const { dir, scenario } = hangingScenario();
      const out = join(dir, 'out');
      const run = startRun([scenario, '--reporter', 'json', '--out', out]);
      const lab = await ownedLab(run.child.pid as number);
      const sent = Date.now();
      run.child.kill('SIGINT');
      const [code] = await once(run.child, 'exit');
      const tookMs = Date.now() - sent;
      t.is(code, 1, run.stderr());
      t.true(tookMs < 30_000, `the 90 s sleep was cut short (exit after ${tookMs} ms)`);
      t.deepEqual(await remainingLabObjects(lab), { containers: 0, networks: 0 });
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      t.like(report.scenarios[0].attempts.at(-1), { status: 'interrupted' });
      t.deepEqual(await remainingLabObjects(bystander.name), { containers: 1, networks: 1 });
    } finally {
      await bystander.stop({ purge: true });
    }
  },
);
