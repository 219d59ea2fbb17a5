import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';

/** One request as the audit log keeps it: who, what, and how it ended. */
export interface AuditEntry {
  kind: 'audit';
  seq: number;
  ts: string;
  peer: string;
  method: string;
  path: string;
  rpc?: string;
  serial?: string;
  /** How the device authenticated: certificate, basic, or both. */
  auth?: string;
  tls?: string;
  status: number;
  errorTag?: string;
  errorMessage?: string;
  /** onboarding | redirect | promote | progress | host-meta | error | dropped | tls-failed */
  outcome: string;
  signed?: boolean;
  nonce?: boolean;
  encoding?: string;
  progressType?: string;
  faults?: string[];
  durationMs: number;
}

/** One report-progress call, kept per device. */
export interface ProgressEntry {
  kind: 'progress';
  seq: number;
  ts: string;
  serial: string;
  progressType: string;
  message?: string;
  sshHostKeys?: { algorithm: string; keyData: string }[];
  trustAnchorCerts?: string[];
}

/** A device record set (or removed, when `record` is null) through the admin API. */
export interface RecordEntry {
  kind: 'record';
  seq: number;
  ts: string;
  serial: string;
  record: Record<string, unknown> | null;
}

export type JournalEntry = AuditEntry | ProgressEntry | RecordEntry;

export const JOURNAL_FILE = 'journal.jsonl';

interface Pending {
  line: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * An append-only JSON Lines file, one entry per line, made durable before `append` resolves.
 * Appends that arrive while a write is in flight go out together with one fdatasync (group
 * commit), so many concurrent requests share the cost of a sync.
 */
export class Journal {
  readonly path: string;
  readonly #file: FileHandle;
  #pending: Pending[] = [];
  #flushing: Promise<void> | undefined;

  private constructor(path: string, file: FileHandle) {
    this.path = path;
    this.#file = file;
  }

  /**
   * Opens the journal in `dir`, returning the entries already there. A last line cut short by a
   * crash is dropped from the file; lines that are not JSON are skipped and counted.
   */
  static async open(
    dir: string,
  ): Promise<{ journal: Journal; entries: JournalEntry[]; skipped: number }> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, JOURNAL_FILE);
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const complete = text.lastIndexOf('\n') + 1;
    if (complete < text.length) await truncate(path, Buffer.byteLength(text.slice(0, complete)));
    const entries: JournalEntry[] = [];
    let skipped = 0;
    for (const line of text.slice(0, complete).split('\n')) {
      if (!line) continue;
      try {
        entries.push(JSON.parse(line) as JournalEntry);
      } catch {
        skipped++;
      }
    }
    const file = await open(path, 'a');
    return { journal: new Journal(path, file), entries, skipped };
  }

  append(entry: JournalEntry): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ line: `${JSON.stringify(entry)}\n`, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      try {
        await this.#file.appendFile(batch.map((p) => p.line).join(''));
        await this.#file.datasync();
        for (const p of batch) p.resolve();
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    this.#flushing = undefined;
  }

  async close(): Promise<void> {
    await this.#flushing;
    await this.#file.close();
  }
}
