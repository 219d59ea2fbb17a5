import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabError } from '../common/errors.ts';

/**
 * The programs that run inside lab containers — a routing engine's device program and the
 * RFC 8572 server — as single ES modules built with esbuild from the TypeScript sources.
 *
 * Through tsx, a fresh container spends most of a second compiling about a hundred modules
 * before the server answers or the device boots (tsx's cache lives in the container and dies
 * with it). A bundle starts in under a tenth of that. Bundles live in the repository's .cache
 * folder, which containers see read-only at /opt/sztp-lab, under a hash of every source file
 * and the lockfile: changing any source makes a new bundle, and labs running in parallel share
 * one (built to a temporary folder and renamed into place).
 */

/** Paths of the bundles as containers see them. */
export interface NodeBundles {
  device: string;
  server: string;
  /** The hash that names them. */
  id: string;
}

const ENTRIES = {
  device: 'harness/src/device/entry.ts',
  server: 'harness/src/sztp/server/entry.ts',
} as const;
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BUNDLES_DIR = join(REPO_ROOT, '.cache', 'bundles');
const CONTAINER_ROOT = '/opt/sztp-lab';
/** Older bundles kept beside the current one (other checkouts' runs may still use them). */
const KEEP = 3;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|js|json)$/.test(entry.name)) out.push(path);
  }
  return out;
}

/** A hash of everything a bundle is made from: the sources, the lockfile, esbuild's version. */
export function bundleId(): string {
  const hash = createHash('sha256');
  const files = [
    ...sourceFiles(join(REPO_ROOT, 'harness', 'src')),
    join(REPO_ROOT, 'package-lock.json'),
  ].sort();
  for (const file of files) {
    hash.update(relative(REPO_ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

let pending: Promise<NodeBundles> | undefined;

/** The current bundles, built on first use (once per process, and once per source change). */
export function nodeBundles(): Promise<NodeBundles> {
  pending ??= ensureBundles().catch((error) => {
    pending = undefined;
    throw error;
  });
  return pending;
}

async function ensureBundles(): Promise<NodeBundles> {
  const id = bundleId();
  const dir = join(BUNDLES_DIR, id);
  const inContainer = (name: string) => `${CONTAINER_ROOT}/${relative(REPO_ROOT, join(dir, name))}`;
  const result = { id, device: inContainer('device.mjs'), server: inContainer('server.mjs') };
  if (existsSync(join(dir, 'device.mjs')) && existsSync(join(dir, 'server.mjs'))) return result;
  await mkdir(BUNDLES_DIR, { recursive: true });
  const temporary = `${dir}.${process.pid}.tmp`;
  await rm(temporary, { recursive: true, force: true });
  const { build } = await import('esbuild');
  try {
    await build({
      entryPoints: Object.fromEntries(
        Object.entries(ENTRIES).map(([name, path]) => [name, join(REPO_ROOT, path)]),
      ),
      outdir: temporary,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      keepNames: true,
      logLevel: 'silent',
      // CommonJS dependencies call require(); an ES module has none of its own.
      banner: {
        js:
          "import { createRequire as sztpLabRequire } from 'node:module'; " +
          'const require = sztpLabRequire(import.meta.url);',
      },
    });
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw new LabError(
      'COMMAND_FAILED',
      `building the node bundles (${Object.values(ENTRIES).join(', ')}) with esbuild ` +
        `failed: ${(error as Error).message}`,
      { cause: error },
    );
  }
  try {
    renameSync(temporary, dir);
  } catch {
    // Another lab built the same bundle first; theirs is identical.
    rmSync(temporary, { recursive: true, force: true });
  }
  await pruneBundles(id);
  return result;
}

/** Removes all but the newest few bundle folders (never the current one). */
async function pruneBundles(current: string): Promise<void> {
  const entries = (await readdir(BUNDLES_DIR, { withFileTypes: true }))
    .filter(
      (entry) => entry.isDirectory() && entry.name !== current && !entry.name.endsWith('.tmp'),
    )
    .map((entry) => ({
      path: join(BUNDLES_DIR, entry.name),
      mtime: statSync(join(BUNDLES_DIR, entry.name)).mtimeMs,
    }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const old of entries.slice(KEEP)) await rm(old.path, { recursive: true, force: true });
}
