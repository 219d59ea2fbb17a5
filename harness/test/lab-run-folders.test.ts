import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type Docker from 'dockerode';
import { markRunFolderOwner, OWNER_FILE, reapRunFolders } from '../src/lab/run-folders.ts';

/** The pid of a process that has exited: a child run to completion. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

/** A stand-in for the engine that reports containers for the labs named. */
function engineWith(labsWithContainers: string[]): Pick<Docker, 'listContainers'> {
  return {
    listContainers: (async (options: { filters: { label: string[] } }) => {
      const lab = options.filters.label[0]?.split('=')[1] ?? '';
      return labsWithContainers.includes(lab) ? [{ Id: 'c1' }] : [];
    }) as unknown as Docker['listContainers'],
  };
}

function folder(root: string, name: string, owner?: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'pki'), { recursive: true });
  writeFileSync(join(dir, 'pki', 'marker'), 'x');
  if (owner !== undefined) writeFileSync(join(dir, OWNER_FILE), `${owner}\n`);
  return dir;
}

test('reapRunFolders removes only the folders of dead runs whose labs have no container', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sztp-run-folders-'));
  const dead = deadPid();
  const gone = folder(root, 'std-dead', `${hostname()}:${dead}`);
  const alive = folder(root, 'std-alive', `${hostname()}:${process.pid}`);
  const byHand = folder(root, 'std-by-hand');
  const elsewhere = folder(root, 'std-other-host', `another-host-${hostname()}:${dead}`);
  const busy = folder(root, 'std-busy', `${hostname()}:${dead}`);
  const garbled = folder(root, 'std-garbled', 'not an owner');

  const removed = await reapRunFolders(root, engineWith(['std-busy']));

  t.deepEqual(removed, ['std-dead']);
  t.false(existsSync(gone));
  for (const kept of [alive, byHand, elsewhere, busy, garbled]) t.true(existsSync(kept), kept);
});

test('reapRunFolders on a folder that does not exist removes nothing', async (t) => {
  t.deepEqual(await reapRunFolders(join(tmpdir(), 'sztp-no-such-dir-x'), engineWith([])), []);
});

test('markRunFolderOwner writes this host and process', (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'sztp-owner-')), 'lab');
  markRunFolderOwner(dir);
  t.is(readFileSync(join(dir, OWNER_FILE), 'utf8'), `${hostname()}:${process.pid}\n`);
});
