import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { LabError } from '../common/errors.ts';
import { issueIdevid } from '../pki/idevid.ts';
import { type PkiManifest, readIssuer } from '../pki/lab-pki.ts';
import { type LabNode, startNode } from '../runtime/containers.ts';
import { imageTag } from '../runtime/images.ts';
import type { DeviceEvent } from './events.ts';

/** The repository root, mounted read-only into lab containers that run our code. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface DeviceNodeSpec {
  lab: string;
  run: string;
  node: string;
  network: string;
  /** Host folders: the engine's configuration (read-only inside) and its state volume. */
  configDir: string;
  stateDir: string;
  /** The device configuration (see harness/src/device/device-config.ts); trust anchors are
   * given as host paths and copied into the configuration folder. */
  device: Record<string, unknown> & { serial: string };
  bootstrapTrustAnchors?: string[];
  voucherTrustAnchors?: string[];
  imageTrustAnchors?: string[];
  pki: PkiManifest;
  ipv4?: string;
  image?: string;
  /** More host:container[:ro] mounts, e.g. a removable-storage folder at /media/usb. */
  extraBinds?: string[];
}

function copyAnchors(configDir: string, prefix: string, paths: string[] | undefined): string[] {
  return (paths ?? []).map((path, i) => {
    const name = `${prefix}-${i}.pem`;
    writeFileSync(join(configDir, name), readFileSync(path));
    return `/etc/sztp-lab/${name}`;
  });
}

/**
 * Starts one routing engine in a `device` container and plays the manufacturer's factory:
 * the engine makes its key in its TPM and writes a CSR; the lab's IDevID CA answers with the
 * certificate (and chain) on the state volume. The container restarts when the engine exits
 * non-zero (a reboot), with the same state volume.
 */
export async function startDeviceNode(spec: DeviceNodeSpec): Promise<LabNode> {
  mkdirSync(spec.configDir, { recursive: true });
  mkdirSync(spec.stateDir, { recursive: true });
  const config = {
    ...spec.device,
    bootstrapTrustAnchors: copyAnchors(spec.configDir, 'bootstrap-ta', spec.bootstrapTrustAnchors),
    voucherTrustAnchors: copyAnchors(spec.configDir, 'voucher-ta', spec.voucherTrustAnchors),
    imageTrustAnchors: copyAnchors(spec.configDir, 'image-ta', spec.imageTrustAnchors),
  };
  writeFileSync(join(spec.configDir, 'device.json'), `${JSON.stringify(config, null, 2)}\n`);
  const node = await startNode({
    lab: spec.lab,
    node: spec.node,
    run: spec.run,
    image: spec.image ?? imageTag('device'),
    network: { name: spec.network, ...(spec.ipv4 ? { ipv4: spec.ipv4 } : {}) },
    binds: [
      `${REPO_ROOT}:/opt/sztp-lab:ro`,
      `${spec.configDir}:/etc/sztp-lab:ro`,
      `${spec.stateDir}:/var/lib/sztp-lab/state`,
      ...(spec.extraBinds ?? []),
    ],
    capAdd: ['NET_ADMIN'],
    restart: { name: 'on-failure', maximumRetryCount: 10 },
  });
  await provideIdevid(
    spec.stateDir,
    spec.device.serial,
    spec.pki,
    String(spec.device.hwModel ?? 'MX204'),
  );
  return node;
}

/**
 * Waits until a routing engine has written its IDevID CSR (its TPM is up and its key made);
 * returns the CSR's path. Returns at once when the engine already has its certificate.
 */
async function waitForCsr(stateDir: string, serial: string, timeoutMs = 60_000): Promise<string> {
  const csrPath = join(stateDir, 'idevid.csr');
  if (existsSync(join(stateDir, 'idevid.pem'))) return csrPath;
  const deadline = performance.now() + timeoutMs;
  while (!existsSync(csrPath)) {
    if (performance.now() > deadline) {
      throw new LabError(
        'WAIT_TIMEOUT',
        `device ${serial}: no CSR in ${stateDir} after ${timeoutMs} ms`,
      );
    }
    await sleep(25);
  }
  return csrPath;
}

/** Waits for the engine's CSR and writes the IDevID chain; a no-op once it has one. */
export async function provideIdevid(
  stateDir: string,
  serial: string,
  pki: PkiManifest,
  hwModel: string,
  timeoutMs = 60_000,
): Promise<void> {
  const certPath = join(stateDir, 'idevid.pem');
  if (existsSync(certPath)) return;
  const csrPath = await waitForCsr(stateDir, serial, timeoutMs);
  const issuer = await readIssuer({ cert: pki.idevidCa, key: pki.idevidCaKey });
  const cert = await issueIdevid(
    issuer,
    { csr: readFileSync(csrPath, 'utf8'), serial, hwModel },
    csrPath,
  );
  const chain = `${cert.toString('pem')}\n${readFileSync(pki.idevidCa, 'utf8')}`;
  writeFileSync(`${certPath}.tmp`, chain);
  // Renamed into place so the engine never reads half a file.
  renameSync(`${certPath}.tmp`, certPath);
}

export function readDeviceEvents(stateDir: string): DeviceEvent[] {
  const path = join(stateDir, 'events.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as DeviceEvent);
}

/** Waits until an event matching the predicate is in the engine's event log. */
export async function waitForDeviceEvent(
  stateDir: string,
  predicate: (event: DeviceEvent) => boolean,
  what: string,
  timeoutMs: number,
): Promise<DeviceEvent> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const match = readDeviceEvents(stateDir).find(predicate);
    if (match) return match;
    if (performance.now() > deadline) {
      const tail = readDeviceEvents(stateDir)
        .slice(-8)
        .map((e) => `${e.kind} ${JSON.stringify(e).slice(0, 200)}`)
        .join('\n');
      throw new LabError(
        'WAIT_TIMEOUT',
        `waited ${timeoutMs} ms for ${what}; last events:\n${tail}`,
      );
    }
    await sleep(100);
  }
}
