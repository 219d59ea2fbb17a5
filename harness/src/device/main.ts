import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from '../common/errors.ts';
import { OpenSslDecrypter } from '../pki/openssl-decrypter.ts';
import { firstCertificateFromPem } from '../pki/pem.ts';
import { Bootstrapper } from './bootstrap.ts';
import { clockSource } from './clock.ts';
import { type DeviceConfig, loadDeviceConfig } from './device-config.ts';
import { DualRe } from './dual-re.ts';
import { EventLog } from './events.ts';
import type { SshHostKey } from './reporter.ts';
import { factoryState, StateStore } from './state.ts';
import {
  CERT_FILE,
  ensureIdentityKey,
  KEY_FILE,
  makeCsr,
  TPM_PROVIDER_ARGS,
  TpmaObject,
  tpmReportedAttributes,
  wrappedKeyInfo,
} from './tpm.ts';

export const DEFAULT_CONFIG = '/etc/sztp-lab/device.json';
export const DEFAULT_STATE = '/var/lib/sztp-lab/state';
export const TPM_OPENSSL_CONF = '/etc/sztp-lab-tpm/openssl.cnf';
/** The exit status that asks for a reboot (the lab restarts the container on it). */
export const REBOOT_EXIT = 3;

/**
 * The SSH host key the engine reports in bootstrap-complete: made once, kept on the state
 * volume, reported as the RFC 4253 public key blob.
 */
function sshHostKeys(stateDir: string): SshHostKey[] {
  const path = join(stateDir, 'ssh_host_ed25519_key.json');
  if (!existsSync(path)) {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    const name = Buffer.from('ssh-ed25519');
    const blob = Buffer.concat([
      Buffer.from([0, 0, 0, name.length]),
      name,
      Buffer.from([0, 0, 0, raw.length]),
      raw,
    ]);
    const keyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    writeFileSync(
      path,
      JSON.stringify({ algorithm: 'ssh-ed25519', keyData: blob.toString('base64'), keyPem }),
      {
        mode: 0o600,
      },
    );
  }
  const saved = JSON.parse(readFileSync(path, 'utf8')) as SshHostKey;
  return [{ algorithm: saved.algorithm, keyData: saved.keyData }];
}

/**
 * Factory step: the identity key is made inside the TPM and a CSR written to the state folder;
 * the lab's manufacturer CA answers by writing the IDevID certificate next to it.
 */
async function ensureIdentity(
  config: DeviceConfig,
  stateDir: string,
  events: EventLog,
): Promise<void> {
  if (existsSync(join(stateDir, CERT_FILE))) return;
  const started = performance.now();
  await ensureIdentityKey(stateDir, config.keyAlgorithm);
  await makeCsr(stateDir, config.serial, config.hwModel);
  events.emit('factory-csr', {
    serial: config.serial,
    algorithm: config.keyAlgorithm,
    ms: Math.round(performance.now() - started),
  });
  events.status('waiting-for-idevid');
  for (let waited = 0; !existsSync(join(stateDir, CERT_FILE)); waited += 20) {
    if (waited > 120_000)
      throw new LabError('DEVICE_IDENTITY', 'no IDevID certificate arrived within 120 s');
    await sleep(20);
  }
  events.emit('factory-idevid-installed', {});
}

/** Keeps the process alive (a provisioned router keeps running) until it is told to stop. */
async function idle(): Promise<never> {
  await new Promise(() => setInterval(() => {}, 1 << 30));
  throw new Error('unreachable');
}

export async function runDevice(options: { config?: string; state?: string }): Promise<number> {
  const config = loadDeviceConfig(options.config ?? DEFAULT_CONFIG);
  const stateDir = options.state ?? DEFAULT_STATE;
  const events = new EventLog({ node: config.node, dir: stateDir });
  const store = new StateStore(stateDir, () => factoryState(config.factoryImage));
  process.on('SIGTERM', () => {
    events.emit('power-off', {});
    // An orderly power-off tells the TPM, as firmware does before it cuts power.
    spawnSync('tpm2_shutdown', ['-c'], { stdio: 'ignore', timeout: 2000 });
    process.exit(0);
  });
  await ensureIdentity(config, stateDir, events);
  store.boot();
  events.setBoot(store.state.boots);
  const running = store.running();
  events.emit('boot', {
    boot: store.state.boots,
    slot: store.state.active,
    image: `${running.osName} ${running.osVersion}`,
    sztpEnabled: store.state.sztpEnabled,
    profile: config.profile,
  });
  // Dual routing engines: only the primary runs SZTP; a backup follows it and takes over when
  // its heartbeats stop.
  let dual: DualRe | undefined;
  if (config.dualRe) {
    dual = new DualRe({
      config,
      store,
      events,
      stateDir,
      onReboot: () => process.exit(REBOOT_EXIT),
    });
    if ((await dual.elect()) === 'backup') {
      events.status('backup');
      await dual.followPrimary();
    }
    events.status('primary');
  }
  if (!store.state.sztpEnabled) {
    events.emit('sztp-disabled', {});
    events.status(dual ? 'primary' : 'running');
    return dual ? dual.provisionBackups() : idle();
  }
  const certPem = readFileSync(join(stateDir, CERT_FILE), 'utf8');
  const bootstrapper = new Bootstrapper({
    config,
    state: store,
    events,
    clock: clockSource(config, stateDir, events),
    identity: {
      certPath: join(stateDir, CERT_FILE),
      keyPath: join(stateDir, KEY_FILE),
      opensslConf: TPM_OPENSSL_CONF,
    },
    decrypter: new OpenSslDecrypter(
      firstCertificateFromPem(certPem, CERT_FILE),
      join(stateDir, KEY_FILE),
      TPM_PROVIDER_ARGS,
    ),
    sshHostKeys: sshHostKeys(stateDir),
    ...(dual
      ? {
          keepImage: (bytes: Buffer, osName: string, osVersion: string) =>
            dual?.keepImage(bytes, osName, osVersion),
          downloadCurrentImage: config.dualRe?.flavour === 'junos',
        }
      : {}),
  });
  const outcome = await bootstrapper.run();
  bootstrapper.dispose();
  if (outcome === 'reboot') {
    events.status('rebooting');
    await dual?.announceReboot();
    return REBOOT_EXIT;
  }
  return dual ? dual.provisionBackups() : idle();
}

/** Zeroize: back to the factory default; the IDevID (and the TPM) stay, as on real hardware. */
export function zeroize(options: { config?: string; state?: string }): void {
  const config = loadDeviceConfig(options.config ?? DEFAULT_CONFIG);
  const stateDir = options.state ?? DEFAULT_STATE;
  const store = new StateStore(stateDir, () => factoryState(config.factoryImage));
  store.zeroize();
  new EventLog({ node: config.node, dir: stateDir }).emit('zeroize', {});
}

/**
 * Rearm: set the SZTP flag again but keep the configuration, as an operator does to run
 * phone-home once more on a configured router (zeroize would wipe the configuration).
 */
export function rearm(options: { config?: string; state?: string }): void {
  const config = loadDeviceConfig(options.config ?? DEFAULT_CONFIG);
  const stateDir = options.state ?? DEFAULT_STATE;
  const store = new StateStore(stateDir, () => factoryState(config.factoryImage));
  store.update((s) => {
    s.sztpEnabled = true;
  });
  new EventLog({ node: config.node, dir: stateDir }).emit('rearm', {});
}

/** Every file on the state volume, checked for key material that is not TPM-wrapped. */
export function scanForPlainKeys(dir: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const name of readdirSync(path)) walk(join(path, name));
      return;
    }
    if (stat.size > 4 * 1024 * 1024) return;
    const text = readFileSync(path).toString('latin1');
    if (
      /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(text) &&
      !path.endsWith('ssh_host_ed25519_key.json')
    ) {
      found.push(path);
    }
  };
  walk(dir);
  return found;
}

export interface KeyCustody {
  keyFile: string;
  wrapped: boolean;
  parent: string;
  attributes: { fixedTPM: boolean; fixedParent: boolean; sensitiveDataOrigin: boolean };
  tpmReports: string;
  plainKeyFiles: string[];
}

/** Evidence that the identity key never left the TPM (for tests and `device key-check`). */
export async function keyCustody(stateDir: string): Promise<KeyCustody> {
  const pem = readFileSync(join(stateDir, KEY_FILE), 'utf8');
  const info = wrappedKeyInfo(pem);
  return {
    keyFile: join(stateDir, KEY_FILE),
    wrapped: true,
    parent: info.parent,
    attributes: {
      fixedTPM: (info.attributes & TpmaObject.fixedTPM) !== 0,
      fixedParent: (info.attributes & TpmaObject.fixedParent) !== 0,
      sensitiveDataOrigin: (info.attributes & TpmaObject.sensitiveDataOrigin) !== 0,
    },
    tpmReports: await tpmReportedAttributes(stateDir),
    plainKeyFiles: scanForPlainKeys(stateDir),
  };
}
