/**
 * bench:lab — how long the lab runtime takes to create a lab network (with its firewall rules)
 * and start one container of every role image on it, beside plain parallel `docker run` of
 * the same images on Docker's default bridge network. Both start the images with the same
 * idle command, so the figures compare orchestration, not the servers' own start-up.
 * Prints a table, or one JSON object with --json. Bounded: a few rounds, everything removed.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { run } from '../src/common/exec.ts';
import { Lab, type StartedLab } from '../src/lab/lab.ts';
import { removeLabs } from '../src/runtime/cleanup.ts';
import { startNode } from '../src/runtime/containers.ts';
import { buildImages, IMAGE_NAMES, type ImageName, imageTag } from '../src/runtime/images.ts';
import { createLabNetwork } from '../src/runtime/networks.ts';
import { loadTopology, parseTopology } from '../src/topology/load.ts';
import type { Topology } from '../src/topology/types.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROLES = IMAGE_NAMES.filter((name) => name !== 'base');
const json = process.argv.includes('--json');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const networkMs: number[] = [];

async function labRound(): Promise<number> {
  const id = randomBytes(4).toString('hex');
  const lab = `bench-${id}`;
  const started = performance.now();
  const network = await createLabNetwork({
    lab,
    name: 'lan',
    run: id,
    ipv6: process.env.BENCH_IPV6 !== '0',
  });
  networkMs.push(performance.now() - started);
  await Promise.all(
    ROLES.map((role) =>
      startNode({
        lab,
        node: role,
        run: id,
        image: imageTag(role),
        network: { name: network.name },
        entrypoint: ['sleep'],
        cmd: ['infinity'],
      }),
    ),
  );
  const elapsed = performance.now() - started;
  await removeLabs(lab);
  return elapsed;
}

/**
 * Plain parallel `docker run` of the images, timed, then removed: on Docker's default bridge,
 * or on a given network.
 */
async function plainDockerRun(images: readonly ImageName[], network?: string): Promise<number> {
  const label = `sztp-lab.bench=${randomBytes(4).toString('hex')}`;
  const started = performance.now();
  await Promise.all(
    images.map((role) =>
      run('docker', [
        'run',
        '-d',
        '--init',
        '--label',
        label,
        ...(network ? ['--network', network] : []),
        '--entrypoint',
        'sleep',
        imageTag(role),
        'infinity',
      ]),
    ),
  );
  const elapsed = performance.now() - started;
  const ids = (await run('docker', ['ps', '-aq', '--filter', `label=${label}`])).stdout
    .split('\n')
    .filter(Boolean);
  if (ids.length) await run('docker', ['rm', '-f', ...ids]);
  return elapsed;
}

const plainRound = () => plainDockerRun(ROLES);

/**
 * Lab up and ready (PKI, configurations, four nodes, readiness probes, the device's factory
 * identity), then plain `docker run` of the same four images on Docker's default bridge and on
 * a network of the lab's own kind (internal; IPv6 when the topology's network has it).
 */
async function topologyRound(topology: Topology) {
  const cpuBefore = machineCpuMs();
  const started = performance.now();
  const lab = await Lab.start(topology, { runId: randomBytes(3).toString('hex') });
  const upMs = performance.now() - started;
  const upCpuMs = machineCpuMs() - cpuBefore;
  const phases = { ...lab.upTimings };
  await lab.stop({ purge: true });
  const images: ImageName[] = ['dhcp-kea', 'server', 'web', 'device'];
  const plainCpuBefore = machineCpuMs();
  const plainMs = await plainDockerRun(images);
  const plainCpuMs = machineCpuMs() - plainCpuBefore;
  const id = randomBytes(4).toString('hex');
  const ipv6 = topology.networks.lan?.ipv6 ?? false;
  const network = await createLabNetwork({ lab: `bench-${id}`, name: 'lan', run: id, ipv6 });
  const sameNetMs = await plainDockerRun(images, network.name);
  await removeLabs(`bench-${id}`);
  return { upMs, plainMs, sameNetMs, phases, upCpuMs, plainCpuMs };
}

/**
 * CPU time the whole machine has spent busy, in ms, from /proc/stat (10 ms ticks): on two
 * cores, what a lab start costs in CPU bounds how fast it can be. Steal time is printed apart:
 * it is what the hypervisor gave other guests, and it makes runs noisy.
 */
function cpuTicks(): number[] {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1);
  return (fields ?? []).map(Number);
}

function machineCpuMs(): number {
  // user, nice, system, idle, iowait, irq, softirq, steal, ...: busy is all but idle and
  // iowait, and steal (time the hypervisor gave to others), which the guest never used.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = cpuTicks();
  return (user + nice + system + irq + softirq) * 10;
}

function machineStealMs(): number {
  return (cpuTicks()[7] ?? 0) * 10;
}

/** The standard topology as it is (IPv4 only), and with its network made dual-stack. */
async function topologies(): Promise<{ label: string; topology: Topology }[]> {
  const path = new URL('../../topologies/standard.yaml', import.meta.url).pathname;
  const standard = await loadTopology(path);
  const doc = parseYaml(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const dual = parseTopology({ ...doc, networks: { lan: { ipv6: true } } }, 'standard+ipv6');
  return [
    { label: 'standard (IPv4)', topology: standard },
    { label: 'standard, dual-stack network', topology: dual },
  ];
}

async function libraryWallTime(): Promise<number> {
  const started = performance.now();
  await run(
    process.execPath,
    [
      new URL('../bin/sztp-lab.js', import.meta.url).pathname,
      'run',
      'scenarios',
      '--reporter',
      'json',
      '--out',
      '/tmp/sztp-lab-bench-library',
    ],
    {
      allowFailure: true,
      timeoutMs: 30 * 60_000,
    },
  );
  return performance.now() - started;
}

async function main(): Promise<void> {
  await buildImages({});
  const lab: number[] = [];
  const plain: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    plain.push(await plainRound());
    lab.push(await labRound());
    if (!json)
      process.stderr.write(
        `round ${round}/${ROUNDS}: lab ${lab.at(-1)?.toFixed(0)} ms, docker run ${plain.at(-1)?.toFixed(0)} ms\n`,
      );
  }
  const result = {
    containers: ROLES.length,
    rounds: ROUNDS,
    labNetworkAndStartMs: Math.round(median(lab)),
    plainDockerRunMs: Math.round(median(plain)),
    ratio: Number((median(lab) / median(plain)).toFixed(2)),
    networkWithRulesMs: Math.round(median(networkMs)),
  };
  const stealBefore = machineStealMs();
  const roundsStarted = performance.now();
  const measured = [];
  for (const { label, topology } of await topologies()) {
    const ups: Awaited<ReturnType<typeof topologyRound>>[] = [];
    for (let round = 1; round <= ROUNDS; round++) ups.push(await topologyRound(topology));
    const upMs = Math.round(median(ups.map((u) => u.upMs)));
    const plainMs = Math.round(median(ups.map((u) => u.plainMs)));
    const sameNetMs = Math.round(median(ups.map((u) => u.sameNetMs)));
    const upCpuMs = Math.round(median(ups.map((u) => u.upCpuMs)));
    const plainCpuMs = Math.round(median(ups.map((u) => u.plainCpuMs)));
    const phase = (key: keyof StartedLab['upTimings']) =>
      Math.round(median(ups.map((u) => u.phases[key] ?? Number.NaN)));
    measured.push({
      topology: label,
      ipv6: topology.networks.lan?.ipv6 ?? false,
      labUpAndReadyMs: upMs,
      plainSameImagesMs: plainMs,
      ratio: Number((upMs / plainMs).toFixed(2)),
      plainOnLabLikeNetworkMs: sameNetMs,
      ratioOnLabLikeNetwork: Number((upMs / sameNetMs).toFixed(2)),
      cpuMs: { labUp: upCpuMs, plainSameImages: plainCpuMs },
      phasesMs: {
        prepared: phase('preparedMs'),
        containersStarted: phase('containersStartedMs'),
        servicesReady: phase('servicesReadyMs'),
        ready: phase('readyMs'),
      },
    });
  }
  const stealMs = machineStealMs() - stealBefore;
  const roundsMs = Math.round(performance.now() - roundsStarted);
  const library =
    process.env.BENCH_LIBRARY === '1' ? Math.round(await libraryWallTime()) : undefined;
  Object.assign(result, {
    topologies: measured,
    steal: { ms: stealMs, ofWallMs: roundsMs },
    ...(library ? { libraryWallMs: library } : {}),
  });
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const lines = [
    `role containers started:            ${result.containers} (median of ${ROUNDS} rounds)`,
    `lab network + start (sztp-lab):     ${result.labNetworkAndStartMs} ms`,
    `  of which network + firewall:      ${result.networkWithRulesMs} ms`,
    `plain parallel docker run:          ${result.plainDockerRunMs} ms`,
    `ratio (lab / plain):                ${result.ratio}`,
  ];
  for (const m of measured) {
    lines.push(
      `${m.topology}: up and ready (PKI, configurations, 4 nodes, readiness, device identity)`,
      `  lab up and ready:                 ${m.labUpAndReadyMs} ms`,
      `  plain docker run of its 4 images: ${m.plainSameImagesMs} ms`,
      `  ratio (lab up / plain):           ${m.ratio} (goal: at most 1.3)`,
      `  same 4 on a lab-like network:     ${m.plainOnLabLikeNetworkMs} ms ` +
        `(internal${m.ipv6 ? ', IPv4+IPv6' : ', IPv4'}; lab up / that: ${m.ratioOnLabLikeNetwork})`,
      `  CPU used (whole machine):         lab up ${m.cpuMs.labUp} ms, plain docker run ` +
        `${m.cpuMs.plainSameImages} ms`,
      `  phases (ms from the start):       networks, PKI, configurations ${m.phasesMs.prepared}; ` +
        `last container started ${m.phasesMs.containersStarted}; services ready ` +
        `${m.phasesMs.servicesReady}; all ready ${m.phasesMs.ready}`,
    );
  }
  lines.push(
    `CPU stolen by the hypervisor:       ${stealMs} ms over the ${(roundsMs / 1000).toFixed(0)} s ` +
      'of topology rounds (noise: other guests on the host)',
    library
      ? `scenario library wall time:         ${(library / 1000).toFixed(0)} s`
      : 'scenario library wall time:         (set BENCH_LIBRARY=1 to measure)',
    '',
  );
  process.stdout.write(lines.join('\n'));
}

await main();
