import { createHash } from 'node:crypto';
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabError } from '../common/errors.ts';
import { run } from '../common/exec.ts';
import { findDebianMirror } from './apt-mirror.ts';
import { LABEL_INPUT_HASH } from './labels.ts';

/** The lab's images in build order; the role images all start FROM the base. */
export const IMAGE_NAMES = [
  'base',
  'netfault',
  'dhcp-kea',
  'dhcp-isc',
  'dns',
  'web',
  'server',
  'device',
] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];

/** Images whose build context receives the host's Node binary (see images/server/Dockerfile). */
const NEEDS_NODE: ReadonlySet<ImageName> = new Set(['server', 'device']);

export const REGISTRY_BASE = 'debian:bookworm-slim';
export const OFFLINE_ROOTFS = 'sztp-lab/rootfs:bookworm';

export const DEFAULT_IMAGES_DIR = fileURLToPath(new URL('../../../images', import.meta.url));

export function imageTag(name: ImageName): string {
  return `sztp-lab/${name}:latest`;
}

export function isImageName(name: string): name is ImageName {
  return (IMAGE_NAMES as readonly string[]).includes(name);
}

export type BuildEvent =
  | { kind: 'start'; image: string; index: number; total: number }
  | { kind: 'line'; image: string; line: string }
  | { kind: 'done'; image: string; status: 'built' | 'current'; durationMs: number };

export interface ImageState {
  name: ImageName;
  tag: string;
  present: boolean;
  current: boolean;
  inputHash: string | undefined;
  builtHash: string | undefined;
  id: string | undefined;
}

export interface BuildResult {
  name: ImageName;
  tag: string;
  status: 'built' | 'current';
  durationMs: number;
  inputHash: string;
}

interface InspectInfo {
  id: string;
  labels: Record<string, string>;
}

async function inspectImage(ref: string): Promise<InspectInfo | undefined> {
  const result = await run('docker', ['image', 'inspect', '--format', '{{json .}}', ref], {
    allowFailure: true,
  });
  if (result.exitCode !== 0) return undefined;
  const parsed = JSON.parse(result.stdout) as {
    Id: string;
    Config?: { Labels?: Record<string, string> };
  };
  return { id: parsed.Id, labels: parsed.Config?.Labels ?? {} };
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out.sort();
}

/** Hash of an image's folder (names, modes and contents) and of what it is built on. */
export function hashInputs(folder: string, extra: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of filesUnder(folder)) {
    const mode = statSync(file).mode & 0o777;
    hash.update(`${relative(folder, file)}\0${mode}\0`);
    hash.update(readFileSync(file));
    hash.update('\0');
  }
  for (const item of extra) hash.update(`${item}\0`);
  return hash.digest('hex').slice(0, 24);
}

function nodeFingerprint(): string {
  return `node ${process.version} ${statSync(realpathSync(process.execPath)).size}`;
}

/** What the base image starts from: the registry's Debian image, or our offline root fs. */
async function baseSource(): Promise<string | undefined> {
  const registry = await inspectImage(REGISTRY_BASE);
  if (registry) return registry.id;
  const offline = await inspectImage(OFFLINE_ROOTFS);
  return offline?.id;
}

/** The state of every image: present, and current with respect to its inputs. */
export async function imageStates(imagesDir = DEFAULT_IMAGES_DIR): Promise<ImageState[]> {
  const states: ImageState[] = [];
  const parentId = await baseSource();
  let baseId: string | undefined;
  for (const name of IMAGE_NAMES) {
    const info = await inspectImage(imageTag(name));
    const from = name === 'base' ? parentId : baseId;
    const inputHash =
      from === undefined ? undefined : hashInputs(join(imagesDir, name), inputExtras(name, from));
    const builtHash = info?.labels[LABEL_INPUT_HASH];
    states.push({
      name,
      tag: imageTag(name),
      present: info !== undefined,
      current: info !== undefined && inputHash !== undefined && builtHash === inputHash,
      inputHash,
      builtHash,
      id: info?.id,
    });
    if (name === 'base') baseId = info?.id;
  }
  return states;
}

function inputExtras(name: ImageName, fromId: string): string[] {
  return NEEDS_NODE.has(name) ? [fromId, nodeFingerprint()] : [fromId];
}

/**
 * Makes the Debian root file system offline: debootstrap from the mirror apt already uses,
 * then `docker import`. Used only when no registry can give us debian:bookworm-slim.
 */
async function buildOfflineRootfs(onLine: (line: string) => void): Promise<void> {
  const mirror = findDebianMirror();
  if (!mirror) {
    throw new LabError(
      'IMAGE_BUILD_FAILED',
      'cannot build the base image offline: no Debian mirror found in ' +
        '/etc/apt/sources.list or /etc/apt/sources.list.d',
    );
  }
  const root = mkdtempSync(join(tmpdir(), 'sztp-lab-rootfs-'));
  try {
    onLine(`debootstrap --variant=minbase bookworm (mirror from the apt sources)`);
    await run('debootstrap', ['--variant=minbase', 'bookworm', root, mirror], {
      timeoutMs: 15 * 60_000,
      onStdout: (chunk) => {
        for (const line of chunk.split('\n'))
          if (line.startsWith('I: Retrieving') === false && line.trim()) onLine(line.trim());
      },
    });
    onLine('docker import');
    await run('sh', [
      '-c',
      'tar -C "$1" --exclude=./var/cache/apt/archives/*.deb --exclude=./var/lib/apt/lists/* -c . ' +
        '| docker import -c "CMD [\\"/bin/bash\\"]" - "$2"',
      'sh',
      root,
      OFFLINE_ROOTFS,
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function ensureBaseSource(onLine: (line: string) => void): Promise<string> {
  if (await inspectImage(REGISTRY_BASE)) return REGISTRY_BASE;
  if (await inspectImage(OFFLINE_ROOTFS)) return OFFLINE_ROOTFS;
  const pull = await run('docker', ['pull', REGISTRY_BASE], {
    allowFailure: true,
    timeoutMs: 120_000,
  });
  if (pull.exitCode === 0) return REGISTRY_BASE;
  onLine(`no registry answers (${pull.stderr.trim().split('\n').pop() ?? ''}); building offline`);
  await buildOfflineRootfs(onLine);
  return OFFLINE_ROOTFS;
}

async function dockerBuild(
  name: ImageName,
  imagesDir: string,
  inputHash: string,
  buildArgs: Record<string, string>,
  onLine: (line: string) => void,
): Promise<void> {
  const context = mkdtempSync(join(tmpdir(), `sztp-lab-image-${name}-`));
  try {
    cpSync(join(imagesDir, name), context, { recursive: true });
    if (NEEDS_NODE.has(name)) cpSync(realpathSync(process.execPath), join(context, 'node'));
    const args = ['build', '--network', 'host', '--label', `${LABEL_INPUT_HASH}=${inputHash}`];
    args.push('--label', `sztp-lab.image=${name}`, '-t', imageTag(name));
    for (const [key, value] of Object.entries(buildArgs))
      args.push('--build-arg', `${key}=${value}`);
    args.push(context);
    let pending = '';
    const forward = (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onLine(line);
    };
    await run('docker', args, {
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      onStdout: forward,
      onStderr: forward,
      timeoutMs: 20 * 60_000,
    });
  } catch (error) {
    throw new LabError('IMAGE_BUILD_FAILED', `image ${name}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/**
 * Builds the lab images in order, skipping those whose inputs (their folder, what they are
 * built on, and for Node images the host's Node) match the hash recorded on the image.
 * `only` builds the named images (and the base when they need it rebuilt first).
 */
export async function buildImages(options: {
  imagesDir?: string;
  only?: readonly ImageName[];
  force?: boolean;
  onEvent?: (event: BuildEvent) => void;
}): Promise<BuildResult[]> {
  const imagesDir = options.imagesDir ?? DEFAULT_IMAGES_DIR;
  const emit = options.onEvent ?? (() => {});
  const wanted = options.only?.length
    ? new Set<ImageName>(['base', ...options.only])
    : new Set(IMAGE_NAMES);
  const order = IMAGE_NAMES.filter((name) => wanted.has(name));
  const results: BuildResult[] = [];
  let baseId = '';
  for (const [index, name] of order.entries()) {
    const started = performance.now();
    emit({ kind: 'start', image: name, index: index + 1, total: order.length });
    const onLine = (line: string) => emit({ kind: 'line', image: name, line });
    let fromId: string;
    const buildArgs: Record<string, string> = {};
    if (name === 'base') {
      const source = await ensureBaseSource(onLine);
      fromId = (await inspectImage(source))?.id ?? source;
      buildArgs.ROOTFS = source;
    } else {
      fromId = baseId;
    }
    const inputHash = hashInputs(join(imagesDir, name), inputExtras(name, fromId));
    const existing = await inspectImage(imageTag(name));
    let status: 'built' | 'current' = 'current';
    if (options.force || existing?.labels[LABEL_INPUT_HASH] !== inputHash) {
      await dockerBuild(name, imagesDir, inputHash, buildArgs, onLine);
      status = 'built';
    }
    if (name === 'base') baseId = (await inspectImage(imageTag('base')))?.id ?? '';
    const durationMs = Math.round(performance.now() - started);
    emit({ kind: 'done', image: name, status, durationMs });
    results.push({ name, tag: imageTag(name), status, durationMs, inputHash });
  }
  return results;
}
