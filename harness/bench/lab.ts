/**
 * bench:lab — how long the lab runtime takes to create a lab network (with its firewall rules)
 * and start one container of every role image on it, beside plain parallel `docker run` of
 * the same images on Docker's default bridge network. Both start the images with the same
 * idle command, so the figures compare orchestration, not the servers' own start-up.
 * Prints a table, or one JSON object with --json. Bounded: a few rounds, everything removed.
 */
import { randomBytes } from 'node:crypto';
import { run } from '../src/common/exec.ts';
import { Lab } from '../src/lab/lab.ts';
import { removeLabs } from '../src/runtime/cleanup.ts';
import { startNode } from '../src/runtime/containers.ts';
import { buildImages, IMAGE_NAMES, type ImageName, imageTag } from '../src/runtime/images.ts';
import { createLabNetwork } from '../src/runtime/networks.ts';
import { loadTopology } from '../src/topology/load.ts';

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

/** Lab up and ready: the standard topology (PKI, configurations, four nodes, readiness probes). */
async function topologyRound(): Promise<{ upMs: number; plainMs: number; sameNetMs: number }> {
  const topology = await loadTopology(
    new URL('../../topologies/standard.yaml', import.meta.url).pathname,
  );
  const started = performance.now();
  const lab = await Lab.start(topology, { runId: randomBytes(3).toString('hex') });
  const upMs = performance.now() - started;
  await lab.stop({ purge: true });
  const images: ImageName[] = ['dhcp-kea', 'server', 'web', 'device'];
  const plainMs = await plainDockerRun(images);
  // The same starts on a network like the lab's (internal, IPv4 and IPv6, made beforehand):
  // Docker itself attaches containers to it more slowly than to its default bridge.
  const id = randomBytes(4).toString('hex');
  const network = await createLabNetwork({ lab: `bench-${id}`, name: 'lan', run: id, ipv6: true });
  const sameNetMs = await plainDockerRun(images, network.name);
  await removeLabs(`bench-${id}`);
  return { upMs, plainMs, sameNetMs };
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
  const ups: { upMs: number; plainMs: number; sameNetMs: number }[] = [];
  for (let round = 1; round <= ROUNDS; round++) ups.push(await topologyRound());
  const up = {
    labUpAndReadyMs: Math.round(median(ups.map((u) => u.upMs))),
    plainSameImagesMs: Math.round(median(ups.map((u) => u.plainMs))),
    plainOnLabLikeNetworkMs: Math.round(median(ups.map((u) => u.sameNetMs))),
  };
  const upRatio = Number((up.labUpAndReadyMs / up.plainSameImagesMs).toFixed(2));
  const library =
    process.env.BENCH_LIBRARY === '1' ? Math.round(await libraryWallTime()) : undefined;
  const sameNetRatio = Number((up.labUpAndReadyMs / up.plainOnLabLikeNetworkMs).toFixed(2));
  Object.assign(result, {
    standardTopology: { ...up, ratio: upRatio, ratioOnLabLikeNetwork: sameNetRatio },
    ...(library ? { libraryWallMs: library } : {}),
  });
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    process.stdout.write(
      [
        `role containers started:            ${result.containers} (median of ${ROUNDS} rounds)`,
        `lab network + start (sztp-lab):     ${result.labNetworkAndStartMs} ms`,
        `  of which network + firewall:      ${result.networkWithRulesMs} ms`,
        `plain parallel docker run:          ${result.plainDockerRunMs} ms`,
        `ratio (lab / plain):                ${result.ratio}`,
        `standard topology up and ready:     ${up.labUpAndReadyMs} ms ` +
          '(PKI, configurations, 4 nodes, readiness, device factory identity)',
        `plain docker run of its 4 images:   ${up.plainSameImagesMs} ms`,
        `ratio (lab up / plain):             ${upRatio} (goal: at most 1.3)`,
        `same 4 on an IPv4+IPv6 internal net: ${up.plainOnLabLikeNetworkMs} ms (lab up / that: ${sameNetRatio})`,
        ...(library
          ? [`scenario library wall time:         ${(library / 1000).toFixed(0)} s`]
          : ['scenario library wall time:         (set BENCH_LIBRARY=1 to measure)']),
        '',
      ].join('\n'),
    );
  }
}

await main();
