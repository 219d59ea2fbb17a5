import { randomBytes } from 'node:crypto';
import { isValidSerial } from './records.ts';
import type { ErrorTag } from './restconf-errors.ts';
import { Shape } from './shape.ts';

/** What a fault does to a matching request. */
export type FaultAction =
  /** Answer with this status and an ietf-restconf:errors body. */
  | { kind: 'status'; status: number; errorTag: ErrorTag; message: string }
  /** Wait this long before handling the request (combines with the other kinds). */
  | { kind: 'delay'; ms: number }
  /** Close the connection without an answer. */
  | { kind: 'drop' }
  /** Flip the last octet (inside the signature) of one artifact of the reply. */
  | { kind: 'corrupt-signature'; artifact: ArtifactName }
  /** Send a voucher minted for another serial number. */
  | { kind: 'other-voucher'; serial: string }
  /** Send the reply with this Content-Type instead of the negotiated one. */
  | { kind: 'content-type'; value: string };

export type ArtifactName = 'conveyed-information' | 'owner-certificate' | 'ownership-voucher';
export type FaultKind = FaultAction['kind'];

export interface Fault {
  id: string;
  /** Only requests of this device; all devices when absent. */
  serial?: string;
  /** Only this RPC; both when absent. */
  rpc?: 'get-bootstrapping-data' | 'report-progress';
  /** How many more requests it applies to; unlimited when absent. */
  remaining?: number;
  action: FaultAction;
  hits: number;
}

const KINDS = [
  'status',
  'delay',
  'drop',
  'corrupt-signature',
  'other-voucher',
  'content-type',
] as const;
const ERROR_TAGS: readonly ErrorTag[] = [
  'access-denied',
  'bad-element',
  'data-missing',
  'invalid-value',
  'malformed-message',
  'missing-element',
  'operation-failed',
  'operation-not-supported',
  'too-big',
  'unknown-element',
  'unknown-namespace',
];

/** Validates a fault as the admin API receives it. */
export function parseFault(doc: unknown): Fault {
  const s = new Shape('fault', '', doc);
  s.object([
    'serial',
    'rpc',
    'count',
    'kind',
    'status',
    'errorTag',
    'message',
    'ms',
    'artifact',
    'value',
  ]);
  const kind = s.at('kind').oneOf(KINDS);
  let action: FaultAction;
  switch (kind) {
    case 'status':
      action = {
        kind,
        status: s.at('status').integer(400, 599),
        errorTag: s.at('errorTag').oneOf(ERROR_TAGS, 'operation-failed'),
        message: s.at('message').string('injected fault'),
      };
      break;
    case 'delay':
      action = { kind, ms: s.at('ms').integer(0, 600_000) };
      break;
    case 'drop':
      action = { kind };
      break;
    case 'corrupt-signature':
      action = {
        kind,
        artifact: s
          .at('artifact')
          .oneOf(
            ['conveyed-information', 'owner-certificate', 'ownership-voucher'] as const,
            'conveyed-information',
          ),
      };
      break;
    case 'other-voucher': {
      const serial = s.at('value').string('SN-OTHER');
      if (!isValidSerial(serial)) s.at('value').fail('is not a serial number');
      action = { kind, serial };
      break;
    }
    case 'content-type':
      action = { kind, value: s.at('value').string() };
      if (/[\r\n]/.test(action.value)) s.at('value').fail('cannot hold line breaks');
      break;
  }
  const fault: Fault = { id: randomBytes(4).toString('hex'), action, hits: 0 };
  const serial = s.at('serial').optionalString();
  if (serial !== undefined) fault.serial = serial;
  if (s.at('rpc').present) {
    fault.rpc = s.at('rpc').oneOf(['get-bootstrapping-data', 'report-progress'] as const);
  }
  if (s.at('count').present) fault.remaining = s.at('count').integer(1, 1_000_000);
  return fault;
}

/** The faults armed at run time (not kept across restarts: they are a test's setup). */
export class FaultTable {
  readonly #faults: Fault[] = [];

  list(): Fault[] {
    return [...this.#faults];
  }

  add(fault: Fault): Fault {
    this.#faults.push(fault);
    return fault;
  }

  remove(id: string): boolean {
    const i = this.#faults.findIndex((f) => f.id === id);
    if (i >= 0) this.#faults.splice(i, 1);
    return i >= 0;
  }

  clear(): void {
    this.#faults.length = 0;
  }

  /** The faults that apply to this request, counted as used; spent ones are removed. */
  take(serial: string, rpc: string): Fault[] {
    if (this.#faults.length === 0) return [];
    const hit: Fault[] = [];
    for (const fault of [...this.#faults]) {
      if (fault.serial !== undefined && fault.serial !== serial) continue;
      if (fault.rpc !== undefined && fault.rpc !== rpc) continue;
      fault.hits++;
      hit.push(fault);
      if (fault.remaining !== undefined && --fault.remaining <= 0) this.remove(fault.id);
    }
    return hit;
  }
}

/** A copy of a DER artifact with its last octet changed: for our SignedData, the signature's. */
export function corrupt(der: Uint8Array): Uint8Array {
  const copy = new Uint8Array(der);
  const last = copy.length - 1;
  if (last >= 0) copy[last] = (copy[last] as number) ^ 0x5a;
  return copy;
}
