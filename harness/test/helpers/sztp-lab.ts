import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeviceEvent } from '../../src/device/events.ts';
import {
  REPO_ROOT,
  readDeviceEvents,
  startDeviceNode,
  waitForDeviceEvent,
} from '../../src/device/node.ts';
import { createArtifacts, writeArtifacts } from '../../src/pki/artifacts.ts';
import { initPki, type PkiManifest } from '../../src/pki/lab-pki.ts';
import { firstCertificateFromPem } from '../../src/pki/pem.ts';
import {
  execIn,
  execOk,
  type LabNode,
  nodeLogs,
  removeNode,
  startNode,
} from '../../src/runtime/containers.ts';
import { keaDhcp4Config, keaDhcp6Config } from '../../src/runtime/dhcp-config.ts';
import { imageTag } from '../../src/runtime/images.ts';
import { createLabNetwork, type LabNetwork, removeLabNetwork } from '../../src/runtime/networks.ts';
import { nginxConfig } from '../../src/runtime/web-config.ts';
import { encodeBootstrapServerList } from '../../src/sztp/dhcp-option.ts';
import { namedConf, zoneFile } from '../../src/sztp/dns-zone.ts';
import { buildFirmware } from '../../src/sztp/firmware.ts';

/**
 * A whole SZTP lab for one end-to-end test: a lab network, a lab PKI, the bootstrap server
 * (both roles) in the `server` image, an nginx image server, a Kea DHCP server pointing at the
 * bootstrap server, and one routing engine in the `device` image. Everything goes in dispose().
 */
export interface SztpLabOptions {
  /** Device records for the server, given the lab's addresses and image hashes. */
  records: (lab: LabFacts) => Record<string, unknown>;
  device?: Record<string, unknown>;
  /** Which DHCP family announces the server (none: the device must find it another way). */
  dhcp?: 4 | 6 | 'none';
  /** Firmware files to put on the image server: name -> os-version (os-name Junos). */
  images?: Record<string, string>;
  /** Give the device the TLS trust anchor of the servers (a trusted bootstrap server). */
  trustServers?: boolean;
  /** Serve a lab zone with bind9 (SRV `_sztp._tcp` to the bootstrap server) and use DNS. */
  dns?: boolean;
  /** Server-side faults armed through the admin API before the device powers on. */
  faults?: Record<string, unknown>[];
  /** Put conveyed information on a removable-storage folder and make it the only source. */
  usb?: { info: Record<string, unknown>; sign: boolean; encrypt?: boolean };
}

export interface LabFacts {
  serial: string;
  serverV4: string;
  serverV6: string;
  imageV4: string;
  /** Image file name -> {uri, sha256 colon hex}. */
  images: Record<string, { uri: string; hash: string }>;
  pki: PkiManifest;
}

export interface SztpLab extends LabFacts {
  lab: string;
  network: LabNetwork;
  device: LabNode;
  server: LabNode;
  stateDir: string;
  events(): DeviceEvent[];
  waitFor(
    predicate: (e: DeviceEvent) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<DeviceEvent>;
  /** The server's progress reports for the device, through its admin API. */
  progress(): Promise<{ 'progress-type': string }[]>;
  audit(): Promise<{ rpc: string; status: number }[]>;
  /** Restarts the device container, as a power cycle. */
  powerCycle(): Promise<void>;
  dispose(): Promise<void>;
}

const SERIAL_PREFIX = 'SN-E2E';
const DOMAIN = 'sztp-lab.test';

export async function startSztpLab(options: SztpLabOptions): Promise<SztpLab> {
  const run = randomBytes(4).toString('hex');
  const lab = `t-dev-${run}`;
  const serial = `${SERIAL_PREFIX}-${run.toUpperCase()}`;
  const root = mkdtempSync(join(tmpdir(), 'sztp-lab-e2e-'));
  const nodes: LabNode[] = [];
  const network = await createLabNetwork({ lab, name: 'lan', run });
  const cleanup = async () => {
    for (const node of nodes.reverse()) await removeNode(node).catch(() => {});
    await removeLabNetwork(network).catch(() => {});
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const p4 = network.ipv4.subnet.replace(/\.0\/24$/, '');
    const p6 = network.ipv6?.subnet.replace(/::\/64$/, '') ?? '';
    const serverV4 = `${p4}.10`;
    const serverV6 = `${p6}::10`;
    const imageV4 = `${p4}.11`;
    const pkiDir = join(root, 'pki');
    const pki = await initPki(pkiDir, {
      key: 'ecdsa-p256',
      pinnedDomain: 'root',
      domain: 'sztp-lab.test',
      serverIps: {
        bootstrap: [serverV4, serverV6],
        redirect: [serverV4, serverV6],
        image: [imageV4],
      },
    });

    // Image server with the requested firmware files.
    const images: LabFacts['images'] = {};
    const imageDir = join(root, 'images');
    mkdirSync(imageDir);
    for (const [name, version] of Object.entries(options.images ?? {})) {
      const bytes = buildFirmware({ osName: 'Junos', osVersion: version });
      writeFileSync(join(imageDir, name), bytes);
      const hash = createHash('sha256').update(bytes).digest('hex').match(/../g)?.join(':') ?? '';
      images[name] = { uri: `https://${imageV4}:8444/${name}`, hash };
    }
    const facts: LabFacts = { serial, serverV4, serverV6, imageV4, images, pki };

    // Bootstrap server (both roles).
    const serverDir = join(root, 'server');
    mkdirSync(join(serverDir, 'data'), { recursive: true });
    writeFileSync(join(serverDir, 'records.json'), JSON.stringify(options.records(facts), null, 2));
    writeFileSync(
      join(serverDir, 'server.json'),
      JSON.stringify({
        roles: ['redirect-server', 'onboarding-server'],
        listen: { host: '::', port: 8443 },
        admin: { host: '127.0.0.1', port: 9000 },
        pki: '/etc/sztp-lab/pki',
        records: '/etc/sztp-lab/server/records.json',
        dataDir: '/var/lib/sztp-lab/server',
        advertise: { address: serverV4, port: 8443 },
      }),
    );
    const server = await startNode({
      lab,
      node: 'bootstrap',
      run,
      image: imageTag('server'),
      network: { name: network.name, ipv4: serverV4, ipv6: serverV6 },
      binds: [
        `${REPO_ROOT}:/opt/sztp-lab:ro`,
        `${pkiDir}:/etc/sztp-lab/pki:ro`,
        `${serverDir}:/etc/sztp-lab/server:ro`,
        `${join(serverDir, 'data')}:/var/lib/sztp-lab/server`,
      ],
      cmd: [
        'node',
        '/opt/sztp-lab/harness/bin/sztp-lab.js',
        'server',
        '--config',
        '/etc/sztp-lab/server/server.json',
      ],
    });
    nodes.push(server);

    // Image server.
    if (options.images) {
      writeFileSync(
        join(root, 'nginx.conf'),
        nginxConfig({
          port: 8444,
          root: '/srv/images',
          cert: `/etc/sztp-lab/pki/${relative(pkiDir, pki.servers.image.cert)}`,
          key: `/etc/sztp-lab/pki/${relative(pkiDir, pki.servers.image.key)}`,
        }),
      );
      nodes.push(
        await startNode({
          lab,
          node: 'images',
          run,
          image: imageTag('web'),
          network: { name: network.name, ipv4: imageV4, ipv6: `${p6}::11` },
          binds: [
            `${imageDir}:/srv/images:ro`,
            `${join(root, 'nginx.conf')}:/etc/sztp-lab/nginx.conf:ro`,
            `${pkiDir}:/etc/sztp-lab/pki:ro`,
          ],
        }),
      );
    }

    // DHCP: Kea announcing the bootstrap server.
    const dhcp = options.dhcp ?? 4;
    if (dhcp !== 'none') {
      const uri = dhcp === 4 ? `https://${serverV4}:8443` : `https://[${serverV6}]:8443`;
      const payload = encodeBootstrapServerList([uri]);
      const confDir = join(root, 'dhcp');
      mkdirSync(confDir);
      const plan = dhcp === 4 ? network.ipv4 : network.ipv6;
      if (!plan) throw new Error('no IPv6 plan');
      const serve = { iface: 'eth0', plan, sztpPayload: payload };
      writeFileSync(
        join(confDir, dhcp === 4 ? 'kea-dhcp4.conf' : 'kea-dhcp6.conf'),
        dhcp === 4 ? keaDhcp4Config(serve) : keaDhcp6Config(serve),
      );
      nodes.push(
        await startNode({
          lab,
          node: 'dhcp',
          run,
          image: imageTag('dhcp-kea'),
          network: { name: network.name, ipv4: `${p4}.2`, ipv6: `${p6}::2` },
          binds: [`${confDir}:/etc/sztp-lab:ro`],
          capAdd: ['NET_ADMIN', 'NET_RAW'],
        }),
      );
    }

    await waitForHealth(server);
    for (const fault of options.faults ?? []) {
      await execOk(server, [
        'curl',
        '-sSf',
        '-X',
        'POST',
        '-H',
        'Content-Type: application/json',
        '--data-binary',
        JSON.stringify({ serial, ...fault }),
        'http://127.0.0.1:9000/faults',
      ]);
    }

    let dnsSettings: Record<string, unknown> = {};
    if (options.dns) {
      const dnsV4 = `${p4}.12`;
      const zoneDir = join(root, 'zone');
      mkdirSync(zoneDir);
      writeFileSync(
        join(zoneDir, 'zone.db'),
        zoneFile({
          domain: DOMAIN,
          servers: [
            { name: 'ns', addresses: [dnsV4] },
            { name: 'bootstrap', addresses: [serverV4, serverV6] },
          ],
          srv: [{ target: 'bootstrap', port: 8443 }],
        }),
      );
      writeFileSync(
        join(zoneDir, 'named.conf'),
        namedConf({ domain: DOMAIN, zoneFile: '/etc/sztp-lab/zone.db' }),
      );
      chmodSync(zoneDir, 0o755);
      chmodSync(root, 0o755);
      const dnsNode = await startNode({
        lab,
        node: 'dns',
        run,
        image: imageTag('dns'),
        network: { name: network.name, ipv4: dnsV4, ipv6: `${p6}::12` },
        binds: [`${zoneDir}:/etc/sztp-lab:ro`],
      });
      nodes.push(dnsNode);
      dnsSettings = { dns: { domain: DOMAIN, resolver: dnsV4 } };
    }

    let usbSettings: Record<string, unknown> = {};
    const extraBinds: string[] = [];
    const usb = options.usb;
    let writeUsb: ((stateDir: string) => Promise<void>) | undefined;
    if (usb) {
      const input = Buffer.from(
        JSON.stringify({ 'ietf-sztp-conveyed-info:onboarding-information': usb.info }),
      );
      // Encrypted artifacts need the device's IDevID, which exists only after its factory step:
      // they are written once the certificate is there (the device retries the source).
      writeUsb = async (stateDir: string) => {
        const encryptTo = usb.encrypt
          ? firstCertificateFromPem(readFileSync(join(stateDir, 'idevid.pem'), 'utf8'))
          : undefined;
        const set = await createArtifacts(pki, {
          serial,
          input,
          sign: usb.sign,
          ...(encryptTo ? { encryptTo, idevidCert: encryptTo } : {}),
        });
        await writeArtifacts(join(root, 'usb', serial, 'bootstrapping-data'), set);
      };
      mkdirSync(join(root, 'usb'), { recursive: true });
      if (!usb.encrypt) await writeUsb('');
      extraBinds.push(`${join(root, 'usb')}:/media/usb:ro`);
      usbSettings = { sources: ['usb'] };
    }

    const stateDir = join(root, 're0-state');
    const device = await startDeviceNode({
      lab,
      run,
      node: 're0',
      network: network.name,
      configDir: join(root, 're0-config'),
      stateDir,
      extraBinds,
      device: {
        serial,
        sources: options.dns
          ? ['dns']
          : dhcp === 4
            ? ['dhcp4']
            : dhcp === 6
              ? ['dhcp6']
              : ['well-known'],
        ...dnsSettings,
        ...usbSettings,
        retry: { initialMs: 300, maxMs: 2000 },
        ...options.device,
      },
      pki,
      ...(options.trustServers === false ? {} : { bootstrapTrustAnchors: [pki.tlsTrustAnchor] }),
      voucherTrustAnchors: [pki.voucherTrustAnchor],
      imageTrustAnchors: [pki.tlsTrustAnchor],
    });
    nodes.push(device);
    if (usb?.encrypt && writeUsb) await writeUsb(stateDir);

    const admin = async (path: string) => {
      const out = await execOk(server, ['curl', '-sS', `http://127.0.0.1:9000${path}`]);
      return JSON.parse(out) as Record<string, unknown>;
    };
    return {
      ...facts,
      lab,
      network,
      device,
      server,
      stateDir,
      events: () => readDeviceEvents(stateDir),
      waitFor: (predicate, what, timeoutMs = 60_000) =>
        waitForDeviceEvent(stateDir, predicate, what, timeoutMs),
      progress: async () =>
        ((await admin(`/devices/${serial}/progress`)).progress ?? []) as {
          'progress-type': string;
        }[],
      audit: async () =>
        ((await admin(`/audit?serial=${serial}`)).entries ?? []) as {
          rpc: string;
          status: number;
        }[],
      powerCycle: async () => {
        await device.container.restart({ t: 2 });
      },
      dispose: cleanup,
    };
  } catch (error) {
    for (const node of nodes) {
      const log = await nodeLogs(node).catch(() => '');
      if (log) process.stderr.write(`--- ${node.node} log ---\n${log.slice(-3000)}\n`);
    }
    await cleanup();
    throw error;
  }
}

async function waitForHealth(server: LabNode): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const result = await execIn(server, ['curl', '-sf', 'http://127.0.0.1:9000/health']);
    if (result.exitCode === 0) return;
    await sleep(100);
  }
  throw new Error(`the bootstrap server did not become healthy:\n${await nodeLogs(server)}`);
}
