import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { errorMessage, LabError } from '../common/errors.ts';
import { CLOCK_FILE } from '../device/clock.ts';
import type { DeviceEvent } from '../device/events.ts';
import { provideIdevid, REPO_ROOT, readDeviceEvents } from '../device/node.ts';
import type { PersistentState } from '../device/state.ts';
import { initPki, type PkiManifest } from '../pki/lab-pki.ts';
import { type NodeBundles, nodeBundles } from '../runtime/bundles.ts';
import { execIn, type LabNode, nodeLogs, removeNode, startNode } from '../runtime/containers.ts';
import { dockerClient } from '../runtime/docker.ts';
import { imageTag } from '../runtime/images.ts';
import { LABEL_OWNER, ownerMark } from '../runtime/labels.ts';
import { createLabNetwork, type LabNetwork, removeLabNetwork } from '../runtime/networks.ts';
import type { DeviceNode, RecordSpec, Topology } from '../topology/types.ts';
import { chassisAddress, writeEngineConfig } from './engine-config.ts';
import { type PreparedLab, prepareLab, serverRecord } from './prepare.ts';
import { LABS_DIR, markRunFolderOwner } from './run-folders.ts';
import { serviceContainer, waitServiceReady } from './services.ts';

export { LABS_DIR } from './run-folders.ts';

export interface LabOptions {
  /** Distinguishes this instance; default random. The lab's name is `<topology>-<runId>`. */
  runId?: string;
  /** Capture every lab network to a pcap file (tcpdump on the bridge). */
  capture?: boolean;
  /** Progress lines for a person. */
  log?: (line: string) => void;
  /** Mark the lab as owned by this process, so the reaper removes it if the process dies. */
  owned?: boolean;
  docker?: Docker;
}

/** One routing engine's container and its state volume. */
export interface EngineHandle {
  device: string;
  re: string;
  stateDir: string;
  configDir: string;
  node?: LabNode;
}

/**
 * A lab from a topology: `const lab = await Lab.start(topology)` brings up the networks, the
 * servers and the devices; `await lab.stop()` (or `await using lab = ...`) removes them all.
 */
export const Lab = {
  async start(topology: Topology, options: LabOptions = {}): Promise<StartedLab> {
    const runId = options.runId ?? randomBytes(3).toString('hex');
    const name = `${topology.name}-${runId}`.slice(0, 40);
    const lab = new StartedLab(topology, name, runId, options);
    try {
      await lab.up();
      return lab;
    } catch (error) {
      await lab.stop().catch(() => {});
      throw new LabError(
        (error as LabError).code ?? 'LAB_START_FAILED',
        `lab "${name}": ${errorMessage(error)}`,
        {
          cause: error,
        },
      );
    }
  },
};

export class StartedLab implements AsyncDisposable {
  readonly topology: Topology;
  readonly name: string;
  readonly runId: string;
  readonly runDir: string;
  readonly networks = new Map<string, LabNetwork>();
  readonly nodes = new Map<string, LabNode>();
  readonly engines = new Map<string, EngineHandle>();
  readonly startedAt = new Date();
  prepared: PreparedLab | undefined;
  readonly #options: LabOptions;
  #captures: LabNode[] = [];
  #stopped = false;

  constructor(topology: Topology, name: string, runId: string, options: LabOptions) {
    this.topology = topology;
    this.name = name;
    this.runId = runId;
    this.runDir = join(LABS_DIR, name);
    this.#options = options;
  }

  get #ownerLabels(): Record<string, string> {
    return this.#options.owned ? { [LABEL_OWNER]: ownerMark() } : {};
  }

  #log(line: string): void {
    this.#options.log?.(`[${this.name}] ${line}`);
  }

  async up(): Promise<void> {
    const t = this.topology;
    this.#upStarted = performance.now();
    await this.#claimRunDir();
    // The container programs' bundles build (or are found) while the networks come up.
    const bundles = nodeBundles();
    bundles.catch(() => {});
    // The networks are created while the PKI's CAs are made (see prepareLab).
    const networks = this.#createNetworks();
    networks.catch(() => {});
    const preparing = prepareLab(t, this.runDir, networks);
    preparing.catch(() => {});
    for (const [nodeName, node] of Object.entries(t.nodes)) {
      if (node.kind === 'device') this.#addEngines(nodeName, node as DeviceNode);
    }
    // Devices powered on by the topology start as soon as their networks and the program
    // bundles exist, while the PKI and the configurations are still being made: a routing
    // engine's container, TPM and identity key take longest to come up, and our device image
    // waits at boot until its configuration is written. The factory certificate that lets a
    // device boot is only installed once every service is ready (the gate), so no device looks
    // for a server too early.
    const gate = deferred();
    const powered = Object.entries(t.nodes)
      .filter(([, node]) => node.kind === 'device' && (node as DeviceNode).powerOn)
      .map(([nodeName]) => nodeName);
    const devices = (async () => {
      await networks;
      this.#bundles = await bundles;
      await Promise.all(powered.map((name) => this.powerOn(name, gate.promise, preparing)));
    })();
    devices.catch(() => {});
    const prepared = await preparing.catch(async (error: unknown) => {
      // Every start settles before a failure is reported, so stop() finds all containers.
      gate.fail(error);
      await devices.catch(() => {});
      throw error;
    });
    const subnets = [...this.networks.values()].map((n) => n.ipv4.subnet);
    this.#log(`networks ${subnets.join(', ')}; PKI and configurations written`);
    this.prepared = prepared;
    writeFileSync(join(this.runDir, 'lab.json'), `${JSON.stringify(this.describe(), null, 2)}\n`);
    this.#bundles = await bundles;
    if (this.#options.capture) await this.#startCaptures();
    this.upTimings.preparedMs = this.#sinceUp();

    // Servers, DHCP, DNS and image servers start in parallel, then each is waited for.
    const infra = Object.entries(t.nodes).filter(([, node]) => node.kind !== 'device');
    const servicesReady = (async () => {
      await Promise.all(infra.map(([nodeName]) => this.#startInfra(nodeName)));
      await Promise.all(infra.map(([nodeName]) => this.#ready(nodeName)));
      this.upTimings.servicesReadyMs = this.#sinceUp();
      const at = [...this.#readyAt].map(([node, ms]) => `${node} ${(ms / 1000).toFixed(2)} s`);
      this.#log(`${infra.length} service nodes ready (${at.join(', ')})`);
    })();
    servicesReady.then(gate.open, gate.fail);
    // Every start settles before a failure is reported, so stop() finds all containers.
    const outcomes = await Promise.allSettled([servicesReady, devices]);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    this.upTimings.readyMs = this.#sinceUp();
  }

  /** Registers a device's routing engines: their state and configuration folders. */
  #addEngines(nodeName: string, node: DeviceNode): void {
    for (const re of node.routingEngines) {
      const dir = join(this.runDir, 'devices', nodeName, re);
      this.engines.set(`${nodeName}/${re}`, {
        device: nodeName,
        re,
        stateDir: join(dir, 'state'),
        configDir: join(dir, 'config'),
      });
    }
  }

  /**
   * When up() reached each phase, in ms from its start: networks, PKI and configurations
   * written; the last container started; every service ready; everything ready (devices with
   * their factory identity). bench:lab prints them.
   */
  readonly upTimings: {
    preparedMs?: number;
    containersStartedMs?: number;
    servicesReadyMs?: number;
    readyMs?: number;
  } = {};

  #upStarted = 0;
  /** When each service node became ready, in ms from the start of up(): for the log. */
  #readyAt = new Map<string, number>();

  #sinceUp(): number {
    return Math.round(performance.now() - this.#upStarted);
  }

  /** Notes a container started during up() (the last one sets containersStartedMs). */
  #started(): void {
    if (this.upTimings.readyMs === undefined) this.upTimings.containersStartedMs = this.#sinceUp();
  }

  /**
   * A lab claims its name: none of its containers may exist yet (another lab of that name
   * runs, and stopping this one would remove its containers), and it starts from an empty run
   * folder. One found under its name was left by an earlier lab that was not purged: its
   * routing engines' state (keys, IDevIDs from another PKI) must not be inherited.
   */
  async #claimRunDir(): Promise<void> {
    const docker = this.#options.docker ?? dockerClient();
    const running = await docker.listContainers({
      all: true,
      filters: { label: [`sztp-lab.lab=${this.name}`] },
    });
    if (running.length > 0) {
      throw new LabError(
        'INVALID_ARGUMENT',
        `a lab named "${this.name}" already has ${running.length} container(s); take it down ` +
          `(sztp-lab lab down ${this.name}) or use another run id`,
      );
    }
    this.#claimed = true;
    if (existsSync(this.runDir)) {
      this.#log(`removing ${this.runDir}, left by an earlier lab of the same name`);
      rmSync(this.runDir, { recursive: true, force: true });
    }
    // A run killed outright leaves this folder; the owner file lets the next run remove it.
    if (this.#options.owned) markRunFolderOwner(this.runDir);
  }

  #claimed = false;

  /** The topology's networks, and for each dual-RE device a private chassis link. */
  async #createNetworks(): Promise<Map<string, LabNetwork>> {
    const wanted = Object.entries(this.topology.networks).map(([name, spec]): [string, boolean] => [
      name,
      spec.ipv6,
    ]);
    for (const [nodeName, node] of Object.entries(this.topology.nodes)) {
      if (node.kind === 'device' && (node as DeviceNode).routingEngines.includes('re1'))
        wanted.push([`ri-${nodeName}`, false]);
    }
    for (const [name, ipv6] of wanted) {
      const network = await createLabNetwork({
        lab: this.name,
        name,
        run: this.runId,
        ipv6,
        labels: this.#ownerLabels,
      });
      this.networks.set(name, network);
    }
    return this.networks;
  }

  /** What `lab status` and reports show: nodes, addresses, folders. */
  describe(): Record<string, unknown> {
    return {
      name: this.name,
      topology: this.topology.name,
      file: this.topology.file,
      runDir: this.runDir,
      networks: Object.fromEntries(
        [...this.networks].map(([n, net]) => [
          n,
          { bridge: net.bridge, ipv4: net.ipv4.subnet, ipv6: net.ipv6?.subnet },
        ]),
      ),
      nodes: Object.fromEntries(
        Object.entries(this.topology.nodes).map(([n, node]) => [
          n,
          { kind: node.kind, ...(this.prepared?.placements.get(n) ?? {}) },
        ]),
      ),
    };
  }

  async #startInfra(nodeName: string): Promise<void> {
    const node = this.topology.nodes[nodeName];
    const prepared = this.prepared as PreparedLab;
    const place = prepared.placements.get(nodeName);
    const network = this.networks.get(node?.network ?? '') as LabNetwork;
    const common = {
      lab: this.name,
      node: nodeName,
      run: this.runId,
      network: {
        name: network.name,
        ...(place?.ipv4 ? { ipv4: place.ipv4 } : {}),
        ...(place?.ipv6 ? { ipv6: place.ipv6 } : {}),
        aliases: [nodeName],
      },
      labels: this.#ownerLabels,
      ...(this.#options.docker ? { docker: this.#options.docker } : {}),
    };
    if (!node) throw new LabError('TOPOLOGY_INVALID', `no node "${nodeName}"`);
    const started = await startNode({
      ...common,
      ...serviceContainer(nodeName, node, prepared, this.#bundles),
    });
    this.nodes.set(nodeName, started);
    this.#started();
  }

  async #ready(nodeName: string): Promise<void> {
    const node = this.topology.nodes[nodeName];
    const address = this.prepared?.placements.get(nodeName)?.ipv4;
    if (node) await waitServiceReady(nodeName, node, this.nodes.get(nodeName) as LabNode, address);
    this.#readyAt.set(nodeName, this.#sinceUp());
  }

  async #startCaptures(): Promise<void> {
    const dir = join(this.runDir, 'captures');
    mkdirSync(dir, { recursive: true });
    for (const [netName, network] of this.networks) {
      // tcpdump on the host side of the bridge sees every frame between the lab's nodes.
      const capture = await startNode({
        lab: this.name,
        node: `capture-${netName}`,
        run: this.runId,
        image: imageTag('base'),
        hostNetwork: true,
        labels: this.#ownerLabels,
        capAdd: ['NET_ADMIN', 'NET_RAW'],
        binds: [`${dir}:/captures`],
        cmd: [
          'tcpdump',
          '-i',
          network.bridge,
          '-U',
          '--immediate-mode',
          '-s',
          '0',
          '-w',
          `/captures/${netName}.pcap`,
        ],
      });
      this.#captures.push(capture);
    }
  }

  // ---- devices ----------------------------------------------------------------------------

  #engines(device: string): EngineHandle[] {
    const found = [...this.engines.values()].filter(
      (e) => e.device === device || `${e.device}/${e.re}` === device,
    );
    if (found.length === 0)
      throw new LabError('INVALID_ARGUMENT', `lab "${this.name}": no device "${device}"`);
    return found;
  }

  /**
   * Powers a device on: each routing engine's container starts (created on first power-on).
   * With `preparing` (lab start), an engine running our device image starts before the lab is
   * prepared and gets its configuration once it is (the image's boot waits for it); one
   * running a user image starts only then, as its boot may not wait. The factory certificate
   * waits for `factoryGate`.
   */
  async powerOn(
    device: string,
    factoryGate?: Promise<void>,
    preparing?: Promise<PreparedLab>,
  ): Promise<void> {
    const factories: Promise<void>[] = [];
    for (const engine of this.#engines(device)) {
      if (engine.node) {
        await engine.node.container.start().catch((error) => {
          if ((error as { statusCode?: number }).statusCode !== 304) throw error;
        });
        continue;
      }
      const node = this.topology.nodes[engine.device] as DeviceNode;
      mkdirSync(engine.configDir, { recursive: true });
      mkdirSync(engine.stateDir, { recursive: true });
      const link = this.networks.get(`ri-${engine.device}`);
      const early = preparing !== undefined && node.image === undefined;
      let prepared = early ? undefined : await (preparing ?? (this.prepared as PreparedLab));
      if (prepared) writeEngineConfig(this.topology, prepared, engine, link);
      const network = this.networks.get(node.network) as LabNetwork;
      engine.node = await startNode({
        lab: this.name,
        node: `${engine.device}-${engine.re}`,
        run: this.runId,
        image: node.image ?? imageTag('device'),
        network: { name: network.name, aliases: [`${engine.device}-${engine.re}`] },
        binds: [
          `${REPO_ROOT}:/opt/sztp-lab:ro`,
          `${engine.configDir}:/etc/sztp-lab:ro`,
          `${engine.stateDir}:/var/lib/sztp-lab/state`,
        ],
        capAdd: ['NET_ADMIN'],
        ...(this.#bundles ? { env: { SZTP_LAB_DEVICE_ENTRY: this.#bundles.device } } : {}),
        ...(link
          ? {
              extraNetworks: [{ name: link.name, ipv4: chassisAddress(link, engine.re) }],
            }
          : {}),
        restart: { name: 'on-failure', maximumRetryCount: 10 },
        labels: this.#ownerLabels,
        ...(this.#options.docker ? { docker: this.#options.docker } : {}),
      });
      this.nodes.set(`${engine.device}/${engine.re}`, engine.node);
      this.#started();
      factories.push(
        (async () => {
          if (!prepared) {
            prepared = await (preparing as Promise<PreparedLab>);
            writeEngineConfig(this.topology, prepared, engine, link);
          }
          // A rogue backup gets its DevID from a CA that is not the manufacturer's.
          const issuer =
            engine.re === 're1' && node.rogueRe1 ? await this.#roguePki() : prepared.pki;
          // The engine makes its key and CSR meanwhile; its certificate waits for the gate.
          await factoryGate;
          await provideIdevid(engine.stateDir, node.serial, issuer, node.model);
          this.#log(`${engine.device}/${engine.re} powered on (serial ${node.serial})`);
        })(),
      );
    }
    // The routing engines of a chassis power on together; their factories answer in parallel.
    await Promise.all(factories);
  }

  #rogue: Promise<PkiManifest> | undefined;
  #bundles: NodeBundles | undefined;

  #roguePki(): Promise<PkiManifest> {
    this.#rogue ??= initPki(join(this.runDir, 'rogue-pki'), {
      key: 'ecdsa-p256',
      pinnedDomain: 'root',
      domain: 'rogue.invalid',
    });
    return this.#rogue;
  }

  async powerOff(device: string): Promise<void> {
    for (const engine of this.#engines(device))
      await engine.node?.container.stop({ t: 5 }).catch(() => {});
  }

  async reboot(device: string): Promise<void> {
    for (const engine of this.#engines(device)) await engine.node?.container.restart({ t: 5 });
  }

  /**
   * Sets a device's clock while the lab runs: each routing engine goes by it from its next
   * time check on (voucher, certificate and CRL validity), and logs a clock-set event then.
   * Written atomically into the engine's state folder, so it also holds across reboots.
   */
  setClock(device: string, clock: { skewSeconds: number; mode?: 'system' | 'none' }): void {
    for (const engine of this.#engines(device)) {
      mkdirSync(engine.stateDir, { recursive: true });
      const path = join(engine.stateDir, CLOCK_FILE);
      const body = { mode: clock.mode ?? 'system', skewSeconds: clock.skewSeconds };
      writeFileSync(`${path}.tmp`, `${JSON.stringify(body)}\n`);
      renameSync(`${path}.tmp`, path);
    }
  }

  async zeroize(device: string): Promise<void> {
    for (const engine of this.#engines(device)) {
      if (!engine.node) continue;
      const result = await execIn(engine.node, [
        'node',
        '/opt/sztp-lab/harness/bin/sztp-lab.js',
        'device',
        'zeroize',
      ]);
      if (result.exitCode !== 0)
        throw new LabError('COMMAND_FAILED', `zeroize ${device}: ${result.stderr}`);
      await engine.node.container.restart({ t: 5 });
    }
  }

  /** Device events of every routing engine, merged in time order. */
  deviceEvents(): DeviceEvent[] {
    return [...this.engines.values()]
      .flatMap((engine) => readDeviceEvents(engine.stateDir))
      .sort((a, b) => a.time.localeCompare(b.time));
  }

  deviceState(device: string, re = 're0'): PersistentState | undefined {
    const engine = this.#engines(device).find((e) => e.re === re);
    const path = engine ? join(engine.stateDir, 'state.json') : '';
    return path && existsSync(path)
      ? (JSON.parse(readFileSync(path, 'utf8')) as PersistentState)
      : undefined;
  }

  // ---- servers -----------------------------------------------------------------------------

  /** Calls a server node's admin API (from inside its container, where it listens). */
  async admin(server: string, method: string, path: string, body?: unknown): Promise<unknown> {
    const node = this.nodes.get(server);
    if (!node) throw new LabError('INVALID_ARGUMENT', `lab "${this.name}": no server "${server}"`);
    const args = ['curl', '-sS', '-X', method, `http://127.0.0.1:9000${path}`];
    if (body !== undefined)
      args.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body));
    const result = await execIn(node, args);
    if (result.exitCode !== 0)
      throw new LabError(
        'COMMAND_FAILED',
        `admin ${method} ${path} on ${server}: ${result.stderr}`,
      );
    return result.stdout.trim() ? JSON.parse(result.stdout) : {};
  }

  async setRecord(server: string, serial: string, record: RecordSpec): Promise<void> {
    const prepared = this.prepared as PreparedLab;
    const wire = serverRecord(this.topology, prepared, record);
    await this.admin(server, 'PUT', `/devices/${encodeURIComponent(serial)}`, wire);
  }

  async progress(
    server: string,
  ): Promise<Record<string, { progressType: string; ts: string; message?: string }[]>> {
    const out = (await this.admin(server, 'GET', '/progress')) as { progress?: Record<string, []> };
    return out.progress ?? {};
  }

  async audit(server: string): Promise<Record<string, unknown>[]> {
    const out = (await this.admin(server, 'GET', '/audit')) as {
      entries?: Record<string, unknown>[];
    };
    return out.entries ?? [];
  }

  async logs(node: string): Promise<string> {
    const handle = this.nodes.get(node);
    return handle ? nodeLogs(handle) : '';
  }

  #keptLogs = new Map<string, string>();

  /** Keeps the log of a helper container that is gone (a replaced link fault's) for helperLogs. */
  keepLog(name: string, text: string): void {
    this.#keptLogs.set(name, (this.#keptLogs.get(name) ?? '') + text);
  }

  /**
   * The logs of the lab's helper containers, by helper name: the kept logs of removed ones,
   * then those of the helpers still there (link fault helpers, labelled with the lab but not
   * nodes of it), which are stopped first. Call it as the lab ends. Packet captures, which log
   * nothing useful, are left out.
   */
  async helperLogs(): Promise<Map<string, string>> {
    const logs = new Map(this.#keptLogs);
    const docker = this.#options.docker ?? dockerClient();
    const found = await docker.listContainers({
      all: true,
      filters: { label: [`sztp-lab.lab=${this.name}`] },
    });
    const nodeIds = new Set([...this.nodes.values()].map((n) => n.id));
    for (const info of found) {
      const name = info.Labels['sztp-lab.node'] ?? info.Id;
      if (nodeIds.has(info.Id) || name.startsWith('capture-')) continue;
      const container = docker.getContainer(info.Id);
      // A link fault helper prints its packet counts when it stops; the lab is ending anyway.
      if (info.State === 'running') await container.stop({ t: 5 }).catch(() => {});
      const text = await nodeLogs({ container });
      logs.set(name, (logs.get(name) ?? '') + text);
    }
    return logs;
  }

  captureFiles(): string[] {
    const dir = join(this.runDir, 'captures');
    return [...this.networks.keys()]
      .map((n) => join(dir, `${n}.pcap`))
      .filter((p) => existsSync(p));
  }

  /** Removes every container and network of the lab; keeps the run folder unless `purge`. */
  async stop(options: { purge?: boolean } = {}): Promise<void> {
    // A second stop only removes the run folder, when asked (after reading the captures).
    if (this.#stopped) {
      if (options.purge) rmSync(this.runDir, { recursive: true, force: true });
      return;
    }
    this.#stopped = true;
    // A lab refused its name (another of that name runs) owns nothing to remove.
    if (!this.#claimed) return;
    for (const capture of this.#captures) {
      await capture.container.kill({ signal: 'SIGINT' }).catch(() => {});
    }
    if (this.#captures.length) await sleep(300);
    const docker = this.#options.docker ?? dockerClient();
    const all = await docker.listContainers({
      all: true,
      filters: { label: [`sztp-lab.lab=${this.name}`] },
    });
    await Promise.all(
      all.map((info) => removeNode({ container: docker.getContainer(info.Id) }).catch(() => {})),
    );
    for (const network of this.networks.values())
      await removeLabNetwork(network, docker).catch(() => {});
    if (options.purge) rmSync(this.runDir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop({ purge: true });
  }
}

/** A promise with its resolve and reject at hand (the factory gate). */
function deferred(): { promise: Promise<void>; open: () => void; fail: (error: unknown) => void } {
  let open: () => void = () => {};
  let fail: (error: unknown) => void = () => {};
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  promise.catch(() => {});
  return { promise, open, fail };
}
