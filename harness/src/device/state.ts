import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../common/errors.ts';

/** An installed software image: what the firmware manifest says it is. */
export interface InstalledImage {
  osName: string;
  osVersion: string;
  sha256?: string;
}

/** What a routing engine keeps across reboots, on its state volume. */
export interface PersistentState {
  /** RFC 8572 §5.1's "SZTP enabled" flag: true from the factory, cleared by onboarding. */
  sztpEnabled: boolean;
  /** Two image slots; `active` is the one booted. */
  slots: { a: InstalledImage | null; b: InstalledImage | null };
  active: 'a' | 'b';
  /** The slot to boot next time, when an install asked for a switch. */
  pendingSlot?: 'a' | 'b';
  /** The running configuration (XML) and earlier ones, newest first (rollback 1, 2, ...). */
  config: { running: string; history: string[] };
  boots: number;
  /** Onboarding passes that ended in "reboot into the new image". */
  imageReboots: number;
}

export const EMPTY_CONFIG = '<configuration/>';
const HISTORY_LIMIT = 10;

export function factoryState(image: InstalledImage): PersistentState {
  return {
    sztpEnabled: true,
    slots: { a: image, b: null },
    active: 'a',
    config: { running: EMPTY_CONFIG, history: [] },
    boots: 0,
    imageReboots: 0,
  };
}

/** The state file of a routing engine; every change is written atomically (temp + rename). */
export class StateStore {
  readonly path: string;
  #state: PersistentState;

  constructor(dir: string, factory: () => PersistentState) {
    this.path = join(dir, 'state.json');
    if (existsSync(this.path)) {
      try {
        this.#state = JSON.parse(readFileSync(this.path, 'utf8')) as PersistentState;
      } catch (error) {
        throw new LabError('DEVICE_STATE_INVALID', `${this.path}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    } else {
      this.#state = factory();
      this.save();
    }
  }

  get state(): Readonly<PersistentState> {
    return this.#state;
  }

  update(change: (state: PersistentState) => void): void {
    const copy = structuredClone(this.#state);
    change(copy);
    this.#state = copy;
    this.save();
  }

  /** The image running now. */
  running(): InstalledImage {
    const image = this.#state.slots[this.#state.active];
    if (!image)
      throw new LabError('DEVICE_STATE_INVALID', `${this.path}: the active slot is empty`);
    return image;
  }

  /** Boot: count it and switch to a slot an install selected. */
  boot(): void {
    this.update((s) => {
      s.boots += 1;
      if (s.pendingSlot && s.slots[s.pendingSlot]) s.active = s.pendingSlot;
      delete s.pendingSlot;
    });
  }

  /** Commits a configuration; the one it replaces becomes rollback 1. */
  commit(config: string): void {
    this.update((s) => {
      s.config.history.unshift(s.config.running);
      s.config.history.length = Math.min(s.config.history.length, HISTORY_LIMIT);
      s.config.running = config;
    });
  }

  /** Zeroize: configuration and flags back to the factory default; images and identity stay. */
  zeroize(): void {
    this.update((s) => {
      s.sztpEnabled = true;
      s.config = { running: EMPTY_CONFIG, history: [] };
      s.imageReboots = 0;
    });
  }

  save(): void {
    writeFileSync(`${this.path}.tmp`, `${JSON.stringify(this.#state, null, 2)}\n`);
    renameSync(`${this.path}.tmp`, this.path);
  }
}
