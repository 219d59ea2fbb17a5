import { run } from '../common/exec.ts';
import { engineInfo } from './docker.ts';
import { HOST_TOOLS, isRoot, toolPath } from './host.ts';
import { imageStates } from './images.ts';

export interface Check {
  ok: boolean;
  detail: string;
  hint?: string;
  [key: string]: unknown;
}

export interface DoctorReport {
  ok: boolean;
  docker: Check;
  images: Check & { images: { name: string; present: boolean; current: boolean }[] };
  firewall: Check;
  tools: Check & { tools: Record<string, string | null> };
  node: Check;
  root: Check;
}

async function dockerCheck(): Promise<Check> {
  try {
    const info = await engineInfo();
    return {
      ok: true,
      detail: `engine ${info.version} (API ${info.apiVersion}, ${info.storageDriver})`,
      ...info,
    };
  } catch (error) {
    return {
      ok: false,
      detail: (error as Error).message,
      hint: 'run "sztp-lab setup" as root: it installs docker.io and starts dockerd',
    };
  }
}

async function imagesCheck(dockerOk: boolean): Promise<DoctorReport['images']> {
  if (!dockerOk) {
    return {
      ok: false,
      detail: 'not checked: the Docker engine does not answer',
      images: [],
      hint: 'start the engine first',
    };
  }
  const states = await imageStates();
  const bad = states.filter((s) => !s.current);
  return {
    ok: bad.length === 0,
    detail:
      bad.length === 0
        ? `${states.length} images present and current`
        : bad.map((s) => `${s.name} ${s.present ? 'stale' : 'missing'}`).join(', '),
    images: states.map((s) => ({ name: s.name, present: s.present, current: s.current })),
    ...(bad.length ? { hint: 'run "sztp-lab images build"' } : {}),
  };
}

async function firewallCheck(): Promise<Check> {
  const v4 = await run('iptables', ['-w', '-S', 'DOCKER-USER'], { allowFailure: true }).catch(
    (e: Error) => ({
      exitCode: 1,
      stderr: e.message,
      stdout: '',
    }),
  );
  const v6 = await run('ip6tables', ['-w', '-S', 'FORWARD'], { allowFailure: true }).catch(
    (e: Error) => ({
      exitCode: 1,
      stderr: e.message,
      stdout: '',
    }),
  );
  const problems: string[] = [];
  if (v4.exitCode !== 0) problems.push(`iptables DOCKER-USER: ${v4.stderr.trim() || 'not usable'}`);
  if (v6.exitCode !== 0) problems.push(`ip6tables FORWARD: ${v6.stderr.trim() || 'not usable'}`);
  return problems.length === 0
    ? { ok: true, detail: 'iptables (DOCKER-USER) and ip6tables (FORWARD) usable' }
    : {
        ok: false,
        detail: problems.join('; '),
        hint:
          'run as root with the iptables package installed, ' +
          'after dockerd has created DOCKER-USER',
      };
}

async function toolsCheck(): Promise<DoctorReport['tools']> {
  const tools: Record<string, string | null> = {};
  const missing: string[] = [];
  for (const [tool, pkg] of Object.entries(HOST_TOOLS)) {
    const path = await toolPath(tool);
    tools[tool] = path ?? null;
    if (!path) missing.push(`${tool} (${pkg})`);
  }
  return missing.length === 0
    ? { ok: true, detail: Object.keys(tools).join(', '), tools }
    : {
        ok: false,
        detail: `missing: ${missing.join(', ')}`,
        tools,
        hint: 'run "sztp-lab setup" as root',
      };
}

/** Checks everything a lab needs, with a hint for each failure. Never throws. */
export async function runDoctor(): Promise<DoctorReport> {
  const docker = await dockerCheck();
  const [images, firewall, tools] = await Promise.all([
    imagesCheck(docker.ok),
    firewallCheck(),
    toolsCheck(),
  ]);
  const major = Number(process.versions.node.split('.')[0]);
  const node: Check =
    major >= 20
      ? { ok: true, detail: `Node ${process.versions.node}` }
      : {
          ok: false,
          detail: `Node ${process.versions.node}`,
          hint: 'sztp-lab needs Node 20 or later',
        };
  const root: Check = isRoot()
    ? { ok: true, detail: 'running as root' }
    : { ok: false, detail: 'not root', hint: 'lab networks change the firewall: run as root' };
  const ok = [docker, images, firewall, tools, node, root].every((check) => check.ok);
  return { ok, docker, images, firewall, tools, node, root };
}
