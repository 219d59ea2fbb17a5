import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { remainingLabObjects } from '../src/runtime/cleanup.ts';
import { execIn, type LabNode, removeNode, startNode } from '../src/runtime/containers.ts';
import { listRules } from '../src/runtime/firewall.ts';
import { buildImages, imageTag } from '../src/runtime/images.ts';
import { createLabNetwork, type LabNetwork, removeLabNetwork } from '../src/runtime/networks.ts';

const CLI = new URL('../bin/sztp-lab.js', import.meta.url).pathname;

test.before(async () => {
  await buildImages({ only: ['device'] });
});

function runId(): string {
  return randomBytes(4).toString('hex');
}

test.serial('docker: two labs side by side get their own subnets, bridges and rules', async (t) => {
  const run = runId();
  const [a, b] = await Promise.all([
    createLabNetwork({ lab: `t-a-${run}`, name: 'lan', run }),
    createLabNetwork({ lab: `t-b-${run}`, name: 'lan', run }),
  ]);
  try {
    t.not(a.ipv4.subnet, b.ipv4.subnet);
    t.not(a.ipv6?.subnet, b.ipv6?.subnet);
    t.not(a.bridge, b.bridge);
    for (const net of [a, b]) {
      t.regex(net.ipv4.subnet, /^198\.1[89]\.\d+\.0\/24$/);
      t.regex(net.ipv6?.subnet ?? '', /^fd[0-9a-f]{2}:/);
      const rules = (await listRules()).filter((r) => r.rule.includes(net.bridge));
      t.true(rules.some((r) => r.tool === 'iptables' && r.rule.includes('67,68')));
      t.is(rules.filter((r) => r.tool === 'ip6tables').length, 3);
    }
  } finally {
    await removeLabNetwork(a);
    await removeLabNetwork(b);
  }
  const left = (await listRules()).filter(
    (r) => r.rule.includes(a.bridge) || r.rule.includes(b.bridge),
  );
  t.deepEqual(left, []);
});

test.serial('docker: lab traffic stays in its lab, IPv4 and IPv6', async (t) => {
  const run = runId();
  const labs = [`t-iso-a-${run}`, `t-iso-b-${run}`];
  const nets = await Promise.all(labs.map((lab) => createLabNetwork({ lab, name: 'lan', run })));
  const nodes: LabNode[] = [];
  try {
    const specs = [
      { lab: labs[0] ?? '', node: 'n1', net: nets[0] },
      { lab: labs[0] ?? '', node: 'n2', net: nets[0] },
      { lab: labs[1] ?? '', node: 'm1', net: nets[1] },
    ];
    for (const spec of specs) {
      nodes.push(
        await startNode({
          lab: spec.lab,
          node: spec.node,
          run,
          image: imageTag('device'),
          network: { name: spec.net?.name ?? '' },
          cmd: ['sleep', 'infinity'],
        }),
      );
    }
    const [n1, n2, m1] = nodes;
    if (!n1 || !n2 || !m1) throw new Error('nodes did not start');
    const address = async (node: LabNode, net: LabNetwork | undefined) => {
      const info = await node.container.inspect();
      const endpoint = info.NetworkSettings.Networks[net?.name ?? ''];
      return { v4: endpoint?.IPAddress ?? '', v6: endpoint?.GlobalIPv6Address ?? '' };
    };
    const sameLab = await address(n2, nets[0]);
    const otherLab = await address(m1, nets[1]);
    t.truthy(sameLab.v6, 'nodes have IPv6 addresses on the lab network');

    // Within a lab, both families reach the other node.
    t.is((await execIn(n1, ['ping', '-c1', '-W2', sameLab.v4])).exitCode, 0);
    t.is((await execIn(n1, ['ping', '-6', '-c1', '-W2', sameLab.v6])).exitCode, 0);

    // Another lab's node is out of reach in both families (Docker's isolation for IPv4, the
    // lab's ip6tables rules for IPv6, which Docker 20.10 does not isolate).
    t.not((await execIn(n1, ['ping', '-c1', '-W2', otherLab.v4])).exitCode, 0, 'IPv4 crossed labs');
    t.not(
      (await execIn(n1, ['ping', '-6', '-c1', '-W2', otherLab.v6])).exitCode,
      0,
      'IPv6 crossed labs',
    );

    // A connection to the host's own IPv6 address on the bridge is dropped, not refused:
    // curl times out (28) where an open path would get "connection refused" (7).
    const gw6 = nets[0]?.ipv6?.gateway ?? '';
    const probe = await execIn(n1, ['curl', '-sS', '-m', '2', `http://[${gw6}]:9/`]);
    t.is(
      probe.exitCode,
      28,
      `curl to the host over IPv6 exited ${probe.exitCode}: ${probe.stderr}`,
    );
  } finally {
    for (const node of nodes) await removeNode(node);
    for (const net of nets) await removeLabNetwork(net);
  }
});

test.serial(
  'docker: "down LAB" clears what a crashed run left, firewall rules included',
  async (t) => {
    const run = runId();
    const lab = `t-crash-${run}`;
    // A run that "crashed": its network, rules and container are left with no teardown.
    const net = await createLabNetwork({ lab, name: 'lan', run });
    await startNode({
      lab,
      node: 'n1',
      run,
      image: imageTag('device'),
      network: { name: net.name },
      cmd: ['sleep', 'infinity'],
    });
    t.deepEqual(await remainingLabObjects(lab), { containers: 1, networks: 1 });

    const result = spawnSync(process.execPath, [CLI, 'down', lab, '--json'], { encoding: 'utf8' });
    t.is(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout) as {
      containers: string[];
      networks: string[];
      rules: unknown[];
    };
    t.deepEqual(report.containers, [`sztp-lab-${lab}-n1`]);
    t.deepEqual(report.networks, [net.name]);
    t.is(report.rules.length, 4);
    t.deepEqual(await remainingLabObjects(lab), { containers: 0, networks: 0 });
    t.false((await listRules()).some((r) => r.rule.includes(net.bridge)));
  },
);
