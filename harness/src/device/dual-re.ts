import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../common/errors.ts';
import { buildFirmware, parseFirmware } from '../sztp/firmware.ts';
import type { DeviceConfig } from './device-config.ts';
import type { EventLog } from './events.ts';
import { checkBackupIdentity, configHash, type LinkStatus, ReLink, type Role } from './re-link.ts';
import type { StateStore } from './state.ts';

/** How long a backup waits after the last heartbeat before it takes mastership. */
export const TAKEOVER_AFTER_MS = 3000;
/** How long a backup holds off while the primary reboots into a new image on purpose. */
export const REBOOT_HOLD_MS = 20_000;
/** The image copy the primary keeps for its backup. */
export const BACKUP_IMAGE = 'backup-image.tgz';

/**
 * Two routing engines, one chassis: mastership with heartbeats (re0 preferred at election),
 * only the primary runs SZTP, and the primary then authenticates the backup's DevID and
 * brings it to its own image and configuration. Flavours: `junos` pushes the image the
 * onboarding information named (downloaded even when the primary already ran it);
 * `junos-evolved` pushes the image the primary runs (upgrading or downgrading the backup).
 */
export class DualRe {
  readonly #config: DeviceConfig;
  readonly #store: StateStore;
  readonly #events: EventLog;
  readonly #stateDir: string;
  readonly #bootId = randomBytes(6).toString('hex');
  readonly link: ReLink;
  role: Role = 'starting';
  #holdUntil = 0;
  #onReboot: () => void;

  constructor(options: {
    config: DeviceConfig;
    store: StateStore;
    events: EventLog;
    stateDir: string;
    onReboot: () => void;
  }) {
    this.#config = options.config;
    this.#store = options.store;
    this.#events = options.events;
    this.#stateDir = options.stateDir;
    this.#onReboot = options.onReboot;
    const dual = this.#config.dualRe as NonNullable<DeviceConfig['dualRe']>;
    this.link = new ReLink({
      self: dual.self,
      peer: dual.peer,
      stateDir: this.#stateDir,
      events: this.#events,
      handlers: {
        status: () => this.status(),
        acceptImage: (bytes) => this.#acceptImage(bytes),
        acceptConfig: (xml) => this.#acceptConfig(xml),
        hold: (ms) => {
          this.#holdUntil = Date.now() + ms;
          this.#events.emit('takeover-held', { ms });
        },
      },
    });
  }

  status(): LinkStatus {
    const image = this.#store.running();
    return {
      re: this.#config.node,
      bootId: this.#bootId,
      role: this.role,
      image: `${image.osName} ${image.osVersion}`,
      sztpEnabled: this.#store.state.sztpEnabled,
      configHash: configHash(this.#store.state.config.running),
    };
  }

  /** Election at boot: re0 is primary unless the peer already is; re1 waits for re0 first. */
  async elect(): Promise<Role> {
    await this.link.start();
    const isRe0 = this.#config.node.endsWith('re0');
    const deadline = Date.now() + (isRe0 ? 600 : 2500);
    let peer: LinkStatus | undefined;
    while (Date.now() < deadline) {
      peer = await this.link.peerStatus();
      if (peer && (peer.role !== 'starting' || isRe0)) break;
      await sleep(150);
    }
    this.role = peer?.role === 'master' || (!isRe0 && peer) ? 'backup' : 'master';
    this.#events.emit('mastership', {
      role: this.role,
      peer: peer ? `${peer.re} (${peer.role})` : 'absent',
    });
    return this.role;
  }

  /** As backup: follow the primary's heartbeats; return when it is lost and we take over. */
  async followPrimary(): Promise<void> {
    let lastSeen = Date.now();
    for (;;) {
      const peer = await this.link.peerStatus();
      if (peer && peer.role === 'master') lastSeen = Date.now();
      const silent = Date.now() - lastSeen;
      if (silent > TAKEOVER_AFTER_MS && Date.now() > this.#holdUntil) {
        this.role = 'master';
        this.#events.emit('mastership-acquired', {
          reason: peer ? `the peer is ${peer.role}` : 'no heartbeat from the primary',
          silentMs: silent,
        });
        return;
      }
      await sleep(250);
    }
  }

  /** Before a planned reboot of the primary: ask the backup not to take over meanwhile. */
  async announceReboot(): Promise<void> {
    await this.link.call('POST', '/hold', JSON.stringify({ ms: REBOOT_HOLD_MS }), 1000);
  }

  /** Keeps the image the backup must run (junos: the one SZTP named; evolved: the running one). */
  keepImage(bytes: Buffer, osName: string, osVersion: string): void {
    writeFileSync(join(this.#stateDir, BACKUP_IMAGE), bytes);
    this.#events.emit('backup-image-kept', { osName, osVersion });
  }

  #wantedImage(): { bytes: Buffer; name: string } | undefined {
    const dual = this.#config.dualRe as NonNullable<DeviceConfig['dualRe']>;
    if (dual.flavour === 'junos-evolved') {
      // The primary's copy of what it runs; the factory image is rebuilt from its identity.
      const running = this.#store.running();
      const path = join(this.#stateDir, BACKUP_IMAGE);
      if (existsSync(path)) {
        const bytes = readFileSync(path);
        const manifest = parseFirmware(bytes, path);
        if (
          manifest['os-name'] === running.osName &&
          manifest['os-version'] === running.osVersion
        ) {
          return { bytes, name: `${running.osName} ${running.osVersion}` };
        }
      }
      return {
        bytes: buildFirmware({ osName: running.osName, osVersion: running.osVersion }),
        name: `${running.osName} ${running.osVersion}`,
      };
    }
    const path = join(this.#stateDir, BACKUP_IMAGE);
    if (!existsSync(path)) return undefined;
    const bytes = readFileSync(path);
    const manifest = parseFirmware(bytes, path);
    return { bytes, name: `${manifest['os-name']} ${manifest['os-version']}` };
  }

  /**
   * As primary, after SZTP: watch for a backup; authenticate each one that appears (a new boot
   * of it counts), then push the image and the configuration until it matches. Runs forever.
   */
  async provisionBackups(): Promise<never> {
    const dual = this.#config.dualRe as NonNullable<DeviceConfig['dualRe']>;
    const roots = dual.idevidTrustAnchors.map((path) => new X509Certificate(readFileSync(path)));
    const verdicts = new Map<string, 'trusted' | 'refused'>();
    const provisioned = new Set<string>();
    for (;;) {
      await sleep(400);
      const peer = await this.link.peerStatus();
      if (peer?.role !== 'backup') continue;
      let verdict = verdicts.get(peer.bootId);
      if (!verdict) {
        const answer = await this.link.challenge();
        if (!answer) continue;
        const check = checkBackupIdentity(answer.nonce, answer.signature, answer.chain, roots);
        verdict = check.reason ? 'refused' : 'trusted';
        verdicts.set(peer.bootId, verdict);
        this.#events.emit(check.reason ? 'backup-refused' : 'backup-authenticated', {
          backup: peer.re,
          ...(check.serial ? { serial: check.serial } : {}),
          ...(check.reason ? { reason: check.reason } : {}),
        });
      }
      if (verdict !== 'trusted' || provisioned.has(peer.bootId)) continue;
      try {
        const image = this.#wantedImage();
        if (image && image.name !== peer.image) {
          this.#events.emit('backup-image-sync', {
            backup: peer.re,
            from: peer.image,
            to: image.name,
            flavour: dual.flavour,
          });
          await this.link.call('POST', '/image', image.bytes, 15_000);
          continue;
        }
        const mine = this.#store.state.config.running;
        if (configHash(mine) !== peer.configHash || peer.sztpEnabled) {
          const answer = await this.link.call(
            'POST',
            '/config',
            JSON.stringify({ xml: mine }),
            5000,
          );
          this.#events.emit('backup-config-sync', { backup: peer.re, status: answer?.status ?? 0 });
          continue;
        }
        provisioned.add(peer.bootId);
        this.#events.emit('backup-provisioned', { backup: peer.re, image: peer.image });
      } catch (error) {
        this.#events.emit('backup-sync-error', { backup: peer.re, error: errorMessage(error) });
      }
    }
  }

  async #acceptImage(bytes: Buffer): Promise<void> {
    const manifest = parseFirmware(bytes, 'image from the primary');
    const slot = this.#store.state.active === 'a' ? 'b' : 'a';
    this.#store.update((s) => {
      s.slots[slot] = { osName: manifest['os-name'], osVersion: manifest['os-version'] };
      s.pendingSlot = slot;
    });
    this.#events.emit('image-installed-from-primary', {
      slot,
      osName: manifest['os-name'],
      osVersion: manifest['os-version'],
    });
    this.#events.emit('reboot', { reason: 'image from the primary', slot });
    setTimeout(() => this.#onReboot(), 100);
  }

  #acceptConfig(xml: string): void {
    if (this.#store.state.config.running !== xml) this.#store.commit(xml);
    this.#store.update((s) => {
      s.sztpEnabled = false;
    });
    this.#events.emit('config-synced-from-primary', { hash: configHash(xml) });
  }
}
