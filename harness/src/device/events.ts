import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What a routing engine tells the world, one structured event per step: a JSON line on stdout
 * (time, node, kind, fields), the same line appended to events.jsonl in its state folder, and
 * status.json rewritten with the latest phase, as a real phone-home client's status file.
 */
export interface DeviceEvent {
  time: string;
  node: string;
  kind: string;
  [field: string]: unknown;
}

export interface Status {
  node: string;
  phase: string;
  updated: string;
  boot: number;
  detail?: Record<string, unknown>;
}

export class EventLog {
  readonly #node: string;
  readonly #dir: string | undefined;
  readonly #write: (line: string) => void;
  readonly #now: () => Date;
  #boot = 0;
  readonly events: DeviceEvent[] = [];

  constructor(options: {
    node: string;
    dir?: string;
    write?: (line: string) => void;
    now?: () => Date;
  }) {
    this.#node = options.node;
    this.#dir = options.dir;
    this.#write = options.write ?? ((line) => process.stdout.write(line));
    this.#now = options.now ?? (() => new Date());
  }

  setBoot(boot: number): void {
    this.#boot = boot;
  }

  emit(kind: string, fields: Record<string, unknown> = {}): DeviceEvent {
    const event: DeviceEvent = {
      time: this.#now().toISOString(),
      node: this.#node,
      kind,
      ...fields,
    };
    this.events.push(event);
    const line = `${JSON.stringify(event)}\n`;
    this.#write(line);
    if (this.#dir) appendFileSync(join(this.#dir, 'events.jsonl'), line);
    return event;
  }

  /** Records the phase the device is in; status.json is replaced atomically. */
  status(phase: string, detail?: Record<string, unknown>): void {
    if (!this.#dir) return;
    const status: Status = {
      node: this.#node,
      phase,
      updated: this.#now().toISOString(),
      boot: this.#boot,
      ...(detail ? { detail } : {}),
    };
    const path = join(this.#dir, 'status.json');
    writeFileSync(`${path}.tmp`, `${JSON.stringify(status, null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
  }
}
