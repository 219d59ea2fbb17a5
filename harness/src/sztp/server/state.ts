import { dirname } from 'node:path';
import {
  type AuditEntry,
  Journal,
  type JournalEntry,
  type ProgressEntry,
  type RecordEntry,
} from './journal.ts';
import { type DeviceRecord, loadRecords, parseDeviceRecord } from './records.ts';
import { Shape } from './shape.ts';

type Draft<T> = Omit<T, 'seq' | 'ts'>;

/** Entries kept in memory for the admin API; the journal on disk keeps everything. */
const AUDIT_IN_MEMORY = 100_000;

/**
 * The server's state: device records (the records file, then run-time changes replayed from the
 * journal), the audit log and each device's progress reports. Every change goes to the journal
 * first, so a restarted server comes back with the same records and logs.
 */
export class ServerState {
  readonly records: Map<string, DeviceRecord>;
  readonly audit: AuditEntry[] = [];
  readonly progress = new Map<string, ProgressEntry[]>();
  readonly recordsFile: string;
  readonly skippedLines: number;
  /** Audit entries that could not be written to the journal. */
  journalErrors = 0;
  onJournalError: (error: unknown) => void = () => {};
  readonly #journal: Journal;
  #seq = 0;

  private constructor(
    recordsFile: string,
    records: Map<string, DeviceRecord>,
    journal: Journal,
    skipped: number,
  ) {
    this.recordsFile = recordsFile;
    this.records = records;
    this.#journal = journal;
    this.skippedLines = skipped;
  }

  static async open(recordsFile: string, dataDir: string): Promise<ServerState> {
    const records = await loadRecords(recordsFile);
    const { journal, entries, skipped } = await Journal.open(dataDir);
    const state = new ServerState(recordsFile, records, journal, skipped);
    for (const entry of entries) state.#apply(entry, true);
    return state;
  }

  get journalPath(): string {
    return this.#journal.path;
  }

  get lastSeq(): number {
    return this.#seq;
  }

  #apply(entry: JournalEntry, replay: boolean): void {
    if (typeof entry.seq === 'number' && entry.seq > this.#seq) this.#seq = entry.seq;
    if (entry.kind === 'audit') {
      this.audit.push(entry);
      if (this.audit.length > AUDIT_IN_MEMORY)
        this.audit.splice(0, this.audit.length - AUDIT_IN_MEMORY);
    } else if (entry.kind === 'progress') {
      const list = this.progress.get(entry.serial) ?? [];
      list.push(entry);
      this.progress.set(entry.serial, list);
    } else if (entry.kind === 'record' && replay) {
      if (entry.record === null) this.records.delete(entry.serial);
      else {
        const shape = new Shape(this.journalPath, `record ${entry.serial}`, entry.record);
        this.records.set(
          entry.serial,
          parseDeviceRecord(entry.serial, shape, dirname(this.recordsFile)),
        );
      }
    }
  }

  #entry<T extends JournalEntry>(draft: Draft<T>): T {
    return { seq: ++this.#seq, ts: new Date().toISOString(), ...draft } as T;
  }

  /** Journals an entry and then applies it: the caller learns only once it is on disk. */
  async #durable<T extends JournalEntry>(draft: Draft<T>): Promise<T> {
    const entry = this.#entry(draft);
    await this.#journal.append(entry);
    this.#apply(entry, false);
    return entry;
  }

  /**
   * Keeps an audit entry: visible to the admin API at once, on disk with the next group commit.
   * The reply does not wait for the sync (a crash in that moment loses the entry, not a report).
   */
  recordAudit(draft: Draft<AuditEntry>): AuditEntry {
    const entry = this.#entry<AuditEntry>(draft);
    this.#apply(entry, false);
    this.#journal.append(entry).catch((error: unknown) => {
      this.journalErrors++;
      this.onJournalError(error);
    });
    return entry;
  }

  /** Keeps a progress report; resolves once it is on disk, so a 204 means it is kept. */
  recordProgress(draft: Draft<ProgressEntry>): Promise<ProgressEntry> {
    return this.#durable<ProgressEntry>(draft);
  }

  /** Sets (or with null removes) a device record at run time; validated before it is kept. */
  async setRecord(
    serial: string,
    source: Record<string, unknown> | null,
    where = 'admin',
  ): Promise<DeviceRecord | undefined> {
    const record =
      source === null
        ? undefined
        : parseDeviceRecord(
            serial,
            new Shape(where, `devices.${serial}`, source),
            dirname(this.recordsFile),
          );
    await this.#durable<RecordEntry>({ kind: 'record', serial, record: source });
    if (record) this.records.set(serial, record);
    else this.records.delete(serial);
    return record;
  }

  close(): Promise<void> {
    return this.#journal.close();
  }
}
