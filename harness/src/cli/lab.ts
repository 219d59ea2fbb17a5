import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { LabError } from '../common/errors.ts';
import { LABS_DIR, Lab } from '../lab/lab.ts';
import { removeLabs } from '../runtime/cleanup.ts';
import { execIn, nodeLogs } from '../runtime/containers.ts';
import { dockerClient } from '../runtime/docker.ts';
import { LABEL_LAB, LABEL_NODE } from '../runtime/labels.ts';
import { loadTopology } from '../topology/load.ts';
import { makeOutput } from './output.ts';

async function findNode(lab: string, node: string) {
  const docker = dockerClient();
  const wanted = [node, node.replace('/', '-'), `${node}-re0`];
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_LAB}=${lab}`] },
  });
  const info = list.find((c) => wanted.includes(c.Labels[LABEL_NODE] ?? ''));
  if (!info) {
    const known = list.map((c) => c.Labels[LABEL_NODE]).join(', ') || 'none';
    throw new LabError('INVALID_ARGUMENT', `lab "${lab}" has no node "${node}" (nodes: ${known})`);
  }
  return { container: docker.getContainer(info.Id), node };
}

export function registerLab(program: Command): void {
  const lab = program.command('lab').description('bring labs up and down, look inside them');

  lab
    .command('up')
    .description('bring up the lab a topology file describes; it runs until "lab down"')
    .argument('<file>', 'topology file (topologies/*.yaml)')
    .option('--name <id>', 'instance id appended to the topology name (default random)')
    .option('--capture', 'record a pcap per lab network')
    .option('--json', 'print the lab as JSON')
    .action(async (file: string, opts: { name?: string; capture?: boolean; json?: boolean }) => {
      const out = makeOutput(Boolean(opts.json));
      const topology = await loadTopology(file);
      const started = await Lab.start(topology, {
        ...(opts.name ? { runId: opts.name } : {}),
        capture: Boolean(opts.capture),
        log: (line) => out.progress(line),
      });
      const description = { ...started.describe(), upTimings: started.upTimings };
      const seconds = ((started.upTimings.readyMs ?? 0) / 1000).toFixed(2);
      out.result(
        description,
        `lab ${started.name} is up in ${seconds} s; "sztp-lab lab down ${started.name}" removes it`,
      );
    });

  lab
    .command('down')
    .description('remove a lab (or all labs): containers, networks, firewall rules and its files')
    .argument('[name]')
    .option('--all', 'every lab')
    .option('--json', 'print what was removed as JSON')
    .action(async (name: string | undefined, opts: { all?: boolean; json?: boolean }) => {
      const out = makeOutput(Boolean(opts.json));
      if (!name && !opts.all) throw new LabError('INVALID_ARGUMENT', 'name a lab, or give --all');
      const report = await removeLabs(opts.all ? undefined : name);
      if (opts.all) rmSync(LABS_DIR, { recursive: true, force: true });
      else if (name) rmSync(join(LABS_DIR, name), { recursive: true, force: true });
      out.result(
        { ok: true, ...report },
        `removed ${report.containers.length} containers, ${report.networks.length} networks`,
      );
    });

  lab
    .command('status')
    .description('the labs that are up, with their nodes and states')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const out = makeOutput(Boolean(opts.json));
      const containers = await dockerClient().listContainers({
        all: true,
        filters: { label: [LABEL_LAB] },
      });
      const labs: Record<string, { nodes: Record<string, string>; runDir?: string }> = {};
      for (const c of containers) {
        const name = c.Labels[LABEL_LAB] ?? '?';
        labs[name] ??= { nodes: {} };
        labs[name].nodes[c.Labels[LABEL_NODE] ?? c.Id] = c.State;
        const dir = join(LABS_DIR, name);
        if (existsSync(join(dir, 'lab.json'))) labs[name].runDir = dir;
      }
      const human = Object.entries(labs)
        .map(
          ([name, lab]) =>
            `${name}\n${Object.entries(lab.nodes)
              .map(([n, s]) => `  ${n.padEnd(24)} ${s}`)
              .join('\n')}`,
        )
        .join('\n');
      out.result({ labs }, human || 'no labs are up');
    });

  lab
    .command('exec')
    .description('run a command in a node of a lab')
    .argument('<name>')
    .argument('<node>')
    .argument('<cmd...>')
    .option('--json', 'print exit status and output as JSON')
    .action(async (name: string, node: string, cmd: string[], opts: { json?: boolean }) => {
      const out = makeOutput(Boolean(opts.json));
      const result = await execIn(await findNode(name, node), cmd);
      if (opts.json) out.result(result, '');
      else {
        process.stdout.write(result.stdout);
        process.stderr.write(result.stderr);
      }
      process.exitCode = result.exitCode;
    });

  lab
    .command('logs')
    .description("a node's log, or every node's")
    .argument('<name>')
    .argument('[node]')
    .option('--json', 'print as JSON')
    .action(async (name: string, node: string | undefined, opts: { json?: boolean }) => {
      const out = makeOutput(Boolean(opts.json));
      const docker = dockerClient();
      const list = await docker.listContainers({
        all: true,
        filters: { label: [`${LABEL_LAB}=${name}`] },
      });
      const chosen = node
        ? [await findNode(name, node)]
        : list.map((c) => ({
            container: docker.getContainer(c.Id),
            node: c.Labels[LABEL_NODE] ?? c.Id,
          }));
      const logs: Record<string, string> = {};
      for (const handle of chosen) logs[handle.node] = await nodeLogs(handle);
      const meta = join(LABS_DIR, name, 'lab.json');
      out.result(
        {
          lab: name,
          logs,
          ...(existsSync(meta) ? { lab: JSON.parse(readFileSync(meta, 'utf8')) } : {}),
        },
        Object.entries(logs)
          .map(([n, text]) => `==> ${n} <==\n${text}`)
          .join('\n'),
      );
    });
}
