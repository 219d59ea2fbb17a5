import type { LinkDirection } from '../runtime/link-fault.ts';
import type { Topology } from '../topology/types.ts';

/**
 * A scenario as read from `scenarios/*.yaml`: a topology (a file, possibly patched), steps run
 * in order, and expectations checked afterwards on the merged timeline and the final state.
 */
export interface Scenario {
  title: string;
  file?: string;
  description?: string;
  /** Tags for --grep and reports (e.g. dhcp, negative, dual-re). */
  tags: string[];
  topology: Topology;
  /** Whole-scenario time limit. */
  timeoutMs: number;
  steps: Step[];
  expect: Expectations;
}

/**
 * An event matcher: every given field must equal (strings may be /regex/). Waits see device
 * events only; timeline expectations also see the servers' records (scenario/server-logs.ts).
 */
export interface EventMatch {
  node?: string;
  kind?: string;
  [field: string]: unknown;
}

export type Step =
  | { kind: 'power-on'; node: string }
  | { kind: 'power-off'; node: string }
  | { kind: 'reboot'; node: string }
  | { kind: 'wait'; match: EventMatch; timeoutMs: number; count?: number }
  | { kind: 'sleep'; ms: number }
  | { kind: 'exec'; node: string; cmd: string[]; expectExit?: number }
  | {
      kind: 'records';
      server: string;
      serial: string;
      record: import('../topology/types.ts').RecordSpec;
    }
  | { kind: 'fault'; fault: Fault }
  | { kind: 'zeroize'; node: string };

export type Fault =
  | {
      kind: 'container';
      node: string;
      action: 'kill' | 'stop' | 'pause' | 'unpause' | 'restart' | 'start';
    }
  | { kind: 'disconnect'; node: string; network?: string }
  | { kind: 'connect'; node: string; network?: string }
  | {
      kind: 'netem';
      node: string;
      delayMs?: number;
      lossPercent?: number;
      corruptPercent?: number;
      direction?: LinkDirection;
    }
  | {
      kind: 'server';
      node: string;
      serial?: string;
      rpc?: string;
      count?: number;
      fault: Record<string, unknown>;
    }
  | { kind: 'clock'; node: string; skewSeconds: number };

export interface Expectations {
  /** Checks on the merged timeline: device events and the servers' own records. */
  timeline: TimelineExpectation[];
  /** Final state per device node (its re0 unless `re` says otherwise). */
  devices: Record<string, DeviceExpectation>;
  /** Progress reports each server logged, per serial: exact list or `includes`. */
  progress: ProgressExpectation[];
}

export type TimelineExpectation =
  | { kind: 'order'; events: EventMatch[] }
  | { kind: 'count'; match: EventMatch; min?: number; max?: number; equals?: number }
  | { kind: 'absent'; match: EventMatch };

export interface DeviceExpectation {
  re?: 're0' | 're1';
  image?: string;
  sztpEnabled?: boolean;
  /** Leaves of the running configuration by slash path, e.g. system/host-name. */
  config?: Record<string, string | null>;
  /** The device reached bootstrap-complete (or not) by the end. */
  provisioned?: boolean;
}

export interface ProgressExpectation {
  server: string;
  serial: string;
  exactly?: string[];
  includes?: string[];
  excludes?: string[];
}
