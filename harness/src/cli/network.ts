import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { dockerClient } from '../runtime/docker.ts';
import { LABEL_LAB, LABEL_NODE } from '../runtime/labels.ts';
import { createLabNetwork, networkNames, removeLabNetwork } from '../runtime/networks.ts';
import { makeOutput } from './output.ts';

export function registerNetwork(program: Command): void {
  const network = program.command('network').description('create, list and remove lab networks');

  network
    .command('create')
    .description(
      'create an internal lab network (198.18.0.0/15 and a ULA /64) with its firewall rules',
    )
    .argument('<lab>', 'the lab the network belongs to')
    .argument('<name>', 'the network name inside the lab')
    .option('--no-ipv6', 'IPv4 only')
    .option('--json', 'print the network and its address plan as JSON')
    .action(async (lab: string, name: string, opts: { ipv6: boolean; json?: boolean }) => {
      const out = makeOutput(Boolean(opts.json));
      const created = await createLabNetwork({
        lab,
        name,
        run: randomBytes(4).toString('hex'),
        ipv6: opts.ipv6,
      });
      const v6 = created.ipv6 ? `, ${created.ipv6.subnet}` : '';
      out.result(
        created,
        `${created.name} on bridge ${created.bridge}: ${created.ipv4.subnet}${v6}`,
      );
    });

  network
    .command('ls')
    .description('list lab networks')
    .option('--json', 'print the list as JSON')
    .action(async (opts: { json?: boolean }) => {
      const out = makeOutput(Boolean(opts.json));
      const nets = await dockerClient().listNetworks({ filters: { label: [LABEL_LAB] } });
      const rows = nets.map((n) => ({
        name: n.Name,
        lab: n.Labels?.[LABEL_LAB],
        node: n.Labels?.[LABEL_NODE],
        bridge: n.Options?.['com.docker.network.bridge.name'],
        subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet),
      }));
      out.result(
        rows,
        rows.map((r) => `${r.name}  ${r.bridge}  ${r.subnets.join(' ')}`).join('\n') ||
          'no lab networks',
      );
    });

  network
    .command('rm')
    .description('remove a lab network and its firewall rules')
    .argument('<lab>')
    .argument('<name>')
    .option('--json', 'print the result as JSON')
    .action(async (lab: string, name: string, opts: { json?: boolean }) => {
      const out = makeOutput(Boolean(opts.json));
      const names = networkNames(lab, name);
      const info = await dockerClient().getNetwork(names.docker).inspect();
      await removeLabNetwork({ id: info.Id as string, bridge: names.bridge });
      out.result({ ok: true, removed: names.docker }, `removed ${names.docker}`);
    });
}
