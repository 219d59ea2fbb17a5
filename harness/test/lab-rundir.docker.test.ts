import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Lab } from '../src/lab/lab.ts';
import { OWNER_FILE } from '../src/lab/run-folders.ts';
import { remainingLabObjects } from '../src/runtime/cleanup.ts';
import { buildImages } from '../src/runtime/images.ts';
import { parseTopology } from '../src/topology/load.ts';

test.before(async () => {
  await buildImages({ only: ['dns'] });
});

/** A lab of one DNS node: the cheapest lab that has a run folder and containers. */
const topology = parseTopology({ name: 'rundir', nodes: { ns: { kind: 'dns' } } }, 'rundir.yaml');

test.serial(
  'docker: a lab never inherits a run folder; a second stop with purge removes it',
  async (t) => {
    const runId = randomBytes(3).toString('hex');
    const first = await Lab.start(topology, { runId });
    t.false(existsSync(join(first.runDir, OWNER_FILE)), 'a lab owned by no run has no owner file');
    const stale = join(first.runDir, 'stale-marker');
    writeFileSync(stale, 'left by an earlier lab');
    // While the first lab runs, a second lab of the same name is refused, its folder untouched.
    const refused = await t.throwsAsync(Lab.start(topology, { runId }));
    t.regex(refused?.message ?? '', /already has 1 container\(s\); take it down/);
    t.true(existsSync(stale));
    // Stopped without purge, the folder stays; the next lab of that name starts from empty.
    await first.stop();
    t.true(existsSync(stale));
    const second = await Lab.start(topology, { runId, owned: true });
    t.false(existsSync(stale));
    // Owned by this run: the folder names its process, for the reaper of a later run.
    t.is(readFileSync(join(second.runDir, OWNER_FILE), 'utf8'), `${hostname()}:${process.pid}\n`);
    await second.stop();
    await second.stop({ purge: true });
    t.false(existsSync(second.runDir));
    t.deepEqual(await remainingLabObjects(second.name), { containers: 0, networks: 0 });
  },
);
