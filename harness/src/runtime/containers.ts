import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { LabError } from '../common/errors.ts';
import { dockerClient } from './docker.ts';
import { labLabels } from './labels.ts';

export interface NodeSpec {
  lab: string;
  node: string;
  run: string;
  image: string;
  /** The lab network to join, and the static addresses (from the Docker range) to take there. */
  network?: { name: string; ipv4?: string; ipv6?: string; aliases?: string[] };
  cmd?: string[];
  entrypoint?: string[];
  env?: Record<string, string>;
  /** host path -> container path[:ro] */
  binds?: string[];
  capAdd?: string[];
  sysctls?: Record<string, string>;
  /** More networks to join before the container starts (e.g. a chassis-internal link). */
  extraNetworks?: { name: string; ipv4?: string }[];
  /** More labels, e.g. the owning process of a scenario run (for the reaper). */
  labels?: Record<string, string>;
  /** Share the host's network namespace (packet capture on a lab bridge); no lab network. */
  hostNetwork?: boolean;
  /** Docker restart policy: `on-failure` lets a process "reboot" by exiting non-zero. */
  restart?: { name: 'no' | 'on-failure' | 'always'; maximumRetryCount?: number };
  docker?: Docker;
}

export interface LabNode {
  id: string;
  name: string;
  node: string;
  container: Docker.Container;
}

export function containerName(lab: string, node: string): string {
  return `sztp-lab-${lab}-${node}`;
}

/** Creates and starts one lab node. The container runs under an init so that stop is quick. */
export async function startNode(spec: NodeSpec): Promise<LabNode> {
  const docker = spec.docker ?? dockerClient();
  const name = containerName(spec.lab, spec.node);
  const endpoints: Docker.EndpointsConfig = {};
  if (spec.network) {
    endpoints[spec.network.name] = {
      IPAMConfig: {
        ...(spec.network.ipv4 ? { IPv4Address: spec.network.ipv4 } : {}),
        ...(spec.network.ipv6 ? { IPv6Address: spec.network.ipv6 } : {}),
      },
      Aliases: spec.network.aliases ?? [spec.node],
    };
  }
  try {
    const container = await docker.createContainer({
      name,
      Image: spec.image,
      ...(spec.hostNetwork ? {} : { Hostname: spec.node }),
      Labels: { ...labLabels(spec.lab, spec.node, spec.run), ...(spec.labels ?? {}) },
      Env: Object.entries(spec.env ?? {}).map(([key, value]) => `${key}=${value}`),
      ...(spec.cmd ? { Cmd: spec.cmd } : {}),
      ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
      HostConfig: {
        Init: true,
        NetworkMode: spec.hostNetwork ? 'host' : (spec.network?.name ?? 'none'),
        Binds: spec.binds ?? [],
        CapAdd: spec.capAdd ?? [],
        ...(spec.hostNetwork
          ? {}
          : { Sysctls: { 'net.ipv6.conf.all.disable_ipv6': '0', ...(spec.sysctls ?? {}) } }),
        ...(spec.restart
          ? {
              RestartPolicy: {
                Name: spec.restart.name,
                ...(spec.restart.name === 'on-failure'
                  ? { MaximumRetryCount: spec.restart.maximumRetryCount ?? 10 }
                  : {}),
              },
            }
          : {}),
      },
      NetworkingConfig: { EndpointsConfig: endpoints },
    });
    for (const extra of spec.extraNetworks ?? []) {
      await docker.getNetwork(extra.name).connect({
        Container: container.id,
        EndpointConfig: { ...(extra.ipv4 ? { IPAMConfig: { IPv4Address: extra.ipv4 } } : {}) },
      });
    }
    await container.start();
    return { id: container.id, name, node: spec.node, container };
  } catch (error) {
    throw new LabError(
      'COMMAND_FAILED',
      `lab "${spec.lab}" > node "${spec.node}" > start: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

export interface ExecOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a command in a running node and collects its output and exit status. */
export async function execIn(
  node: Pick<LabNode, 'container' | 'node'>,
  cmd: string[],
): Promise<ExecOutput> {
  const exec = await node.container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (c: Buffer) => chunks.out.push(c));
  err.on('data', (c: Buffer) => chunks.err.push(c));
  node.container.modem.demuxStream(stream, out, err);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', () => resolve());
    stream.on('close', () => resolve());
    stream.on('error', reject);
  });
  const info = await exec.inspect();
  return {
    exitCode: info.ExitCode ?? -1,
    stdout: Buffer.concat(chunks.out).toString(),
    stderr: Buffer.concat(chunks.err).toString(),
  };
}

/** Like execIn, but a non-zero exit is an error that names the node, the command and its output. */
export async function execOk(
  node: Pick<LabNode, 'container' | 'node'>,
  cmd: string[],
): Promise<string> {
  const result = await execIn(node, cmd);
  if (result.exitCode !== 0) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-6).join('\n');
    throw new LabError(
      'COMMAND_FAILED',
      `node "${node.node}": ${cmd.join(' ')} exited with status ${result.exitCode}` +
        (tail ? `:\n${tail}` : ''),
    );
  }
  return result.stdout;
}

/**
 * The node's log (stdout and stderr of its main process), as text; with `timestamps`, each
 * line led by the time Docker received it (as `docker logs --timestamps` prints it).
 */
export async function nodeLogs(
  node: Pick<LabNode, 'container'>,
  options: { timestamps?: boolean } = {},
): Promise<string> {
  const buffer = (await node.container.logs({
    stdout: true,
    stderr: true,
    follow: false,
    timestamps: options.timestamps ?? false,
  })) as Buffer;
  // Without a TTY the log is multiplexed: 8-byte frame headers precede each chunk.
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts).toString();
}

/**
 * Follows the node's log until a line matches `pattern`: true when one does, false when the
 * log ends first (the main process exited) or `timeoutMs` passes. Lines already written count,
 * so the call may come after the container started.
 */
export async function logShows(
  node: Pick<LabNode, 'container'>,
  pattern: RegExp,
  timeoutMs: number,
): Promise<boolean> {
  const stream = (await node.container.logs({
    stdout: true,
    stderr: true,
    follow: true,
  })) as unknown as NodeJS.ReadableStream & { destroy(): void };
  const text = new PassThrough();
  node.container.modem.demuxStream(stream, text, text);
  return new Promise<boolean>((resolve) => {
    let seen = '';
    const finish = (found: boolean) => {
      clearTimeout(timer);
      stream.destroy();
      resolve(found);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    text.on('data', (chunk: Buffer) => {
      // Only the unfinished last line is kept between chunks, so a long log costs nothing.
      seen += chunk.toString();
      if (pattern.test(seen)) return finish(true);
      seen = seen.slice(seen.lastIndexOf('\n') + 1);
    });
    stream.on('end', () => finish(false));
    stream.on('close', () => finish(false));
    stream.on('error', () => finish(false));
  });
}

export async function removeNode(node: Pick<LabNode, 'container'>): Promise<void> {
  try {
    await node.container.remove({ force: true, v: true });
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
}
