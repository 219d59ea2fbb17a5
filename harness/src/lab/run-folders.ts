import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { dockerClient } from '../runtime/docker.ts';
import { LABEL_LAB, ownerMark } from '../runtime/labels.ts';

/** Where labs keep their files: PKI, node configurations, device state volumes, captures. */
export const LABS_DIR = join(tmpdir(), 'sztp-lab', 'labs');

/** In a run folder of a lab owned by a process: `<host>:<pid>`, as the owner label has it. */
export const OWNER_FILE = 'owner';

/** Marks a run folder as belonging to this process, before anything else is written in it. */
export function markRunFolderOwner(runDir: string): void {
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, OWNER_FILE), `${ownerMark()}\n`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the run folders that a dead scenario run left: those whose owner file names a
 * process of this host that is gone, and whose lab has no container left (the container
 * reaper runs first). Folders of labs brought up by hand (`lab up`) carry no owner file and
 * are left alone; `lab down` removes them. Returns the names of the folders removed.
 */
export async function reapRunFolders(
  dir: string = LABS_DIR,
  docker: Pick<Docker, 'listContainers'> = dockerClient(),
): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    let owner: string;
    try {
      owner = readFileSync(join(dir, name, OWNER_FILE), 'utf8').trim();
    } catch {
      continue;
    }
    const [host, pid] = owner.split(':');
    if (host !== hostname() || !/^\d+$/.test(pid ?? '') || processAlive(Number(pid))) continue;
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_LAB}=${name}`] },
    });
    if (left.length > 0) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
