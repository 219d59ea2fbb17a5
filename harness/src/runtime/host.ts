import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from '../common/errors.ts';
import { run } from '../common/exec.ts';

/**
 * Debian packages the lab needs on the host: the container engine, the offline image builder,
 * the firewall tools, and the independent implementations the tests cross-check against.
 */
export const HOST_PACKAGES = [
  'docker.io',
  'debootstrap',
  'iptables',
  'openssl',
  'curl',
  'libyang2-tools',
  'chromium',
] as const;

/** Programs the tests and the runtime call, with the package that brings each. */
export const HOST_TOOLS: Record<string, string> = {
  docker: 'docker.io',
  debootstrap: 'debootstrap',
  iptables: 'iptables',
  ip6tables: 'iptables',
  openssl: 'openssl',
  curl: 'curl',
  yanglint: 'libyang2-tools',
  chromium: 'chromium',
};

export const DOCKERD_LOG = '/var/log/sztp-lab-dockerd.log';

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function osRelease(): { id: string; like: string; pretty: string } {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const field = (name: string) =>
      new RegExp(`^${name}="?([^"\\n]*)"?$`, 'm').exec(text)?.[1] ?? '';
    return { id: field('ID'), like: field('ID_LIKE'), pretty: field('PRETTY_NAME') };
  } catch {
    return { id: 'unknown', like: '', pretty: 'unknown' };
  }
}

export function isDebianLike(): boolean {
  const os = osRelease();
  return /debian|ubuntu/.test(`${os.id} ${os.like}`);
}

export async function missingPackages(
  packages: readonly string[] = HOST_PACKAGES,
): Promise<string[]> {
  const missing: string[] = [];
  for (const name of packages) {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own field syntax
    const format = '${Status}';
    const result = await run('dpkg-query', ['-W', '-f', format, name], { allowFailure: true });
    if (!result.stdout.includes('install ok installed')) missing.push(name);
  }
  return missing;
}

export async function toolPath(tool: string): Promise<string | undefined> {
  const result = await run('sh', ['-c', `command -v "$1"`, 'sh', tool], { allowFailure: true });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

export async function dockerAnswers(): Promise<boolean> {
  const result = await run('docker', ['info', '--format', '{{.ServerVersion}}'], {
    allowFailure: true,
    timeoutMs: 15_000,
  }).catch(() => ({ exitCode: 1 }));
  return result.exitCode === 0;
}

/** Starts dockerd (through systemd where it runs, else as a background process) and waits. */
export async function startDockerd(
  log: (line: string) => void,
  timeoutMs = 60_000,
): Promise<string> {
  if (await dockerAnswers()) return 'already running';
  let how: string;
  if (existsSync('/run/systemd/system')) {
    await run('systemctl', ['start', 'docker'], { allowFailure: true });
    how = 'started with systemctl';
  } else {
    const out = openSync(DOCKERD_LOG, 'a');
    const child = spawn('dockerd', [], { detached: true, stdio: ['ignore', out, out] });
    child.unref();
    how = `started as a background process (pid ${child.pid}, log ${DOCKERD_LOG})`;
  }
  log(`dockerd ${how}; waiting for it to answer`);
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await dockerAnswers()) return how;
    await sleep(500);
  }
  throw new LabError(
    'DOCKER_UNAVAILABLE',
    `dockerd did not answer within ${timeoutMs / 1000} s after it was ${how}; see ${DOCKERD_LOG}`,
  );
}

export interface SetupReport {
  installed: string[];
  dockerd: string;
  changed: boolean;
}

/**
 * Makes a Debian or Ubuntu machine ready for the lab: installs what is missing and starts the
 * Docker engine. Idempotent: on a ready machine it checks and returns without changing a thing.
 */
export async function setupHost(log: (line: string) => void): Promise<SetupReport> {
  const missing = await missingPackages();
  if (missing.length > 0) {
    if (!isRoot()) {
      throw new LabError(
        'SETUP_FAILED',
        `missing Debian packages: ${missing.join(', ')}; run "sztp-lab setup" as root, ` +
          `or: apt-get install -y ${missing.join(' ')}`,
      );
    }
    if (!isDebianLike()) {
      throw new LabError(
        'SETUP_FAILED',
        `${osRelease().pretty} is not Debian or Ubuntu; ` +
          `install these yourself: ${missing.join(', ')}`,
      );
    }
    log(`installing ${missing.join(', ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update', '-qq'], { env, timeoutMs: 10 * 60_000 });
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
      env,
      timeoutMs: 20 * 60_000,
    });
  }
  let dockerd = 'already running';
  if (!(await dockerAnswers())) {
    if (!isRoot()) {
      throw new LabError(
        'SETUP_FAILED',
        'the Docker engine is not running; run "sztp-lab setup" as root to start it',
      );
    }
    dockerd = await startDockerd(log);
  }
  return {
    installed: missing,
    dockerd,
    changed: missing.length > 0 || dockerd !== 'already running',
  };
}
