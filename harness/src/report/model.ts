/**
 * The report model: what a run produced, written as report.json and rendered as JUnit and as
 * one self-contained HTML page. Every reporter reads this model (or the run events that
 * build it), nothing else.
 */
export type Status = 'passed' | 'failed' | 'flaky' | 'skipped' | 'timedOut' | 'interrupted';

export interface Report {
  format: 'sztp-lab-report/1';
  runId: string;
  startedAt: string;
  durationMs: number;
  /** The shard this report covers, when the run was sharded (1-based). */
  shard?: { current: number; total: number };
  stats: { total: number; passed: number; failed: number; flaky: number; skipped: number };
  environment: { host: string; node: string; docker?: string; sztpLab: string };
  scenarios: ScenarioResult[];
}

export interface ScenarioResult {
  title: string;
  file: string;
  tags: string[];
  status: Status;
  durationMs: number;
  /** Every attempt (retries); the last one decides the status, a pass after a failure is flaky. */
  attempts: Attempt[];
}

export interface Attempt {
  status: Exclude<Status, 'flaky'>;
  startedAt: string;
  durationMs: number;
  /** Why it failed, in one line, when it did. */
  error?: string;
  steps: StepResult[];
  expectations: ExpectationResult[];
  /** Merged, time-ordered events of every node. */
  timeline: TimelineEvent[];
  /** Messages between nodes, for the sequence diagram. */
  messages: Message[];
  /** Progress reports as each server logged them. */
  progress: { server: string; serial: string; type: string; time: string; message?: string }[];
  attachments: Attachment[];
  /** The lab the attempt ran in, drawn as the topology picture (absent when no lab came up). */
  lab?: LabView;
}

/** A lab as the report draws it: its networks, and each node with where it sits on them. */
export interface LabView {
  name: string;
  networks: { name: string; ipv4: string; ipv6?: string }[];
  nodes: LabViewNode[];
}

export interface LabViewNode {
  name: string;
  /** dhcp, dns, redirect-server, bootstrap-server, image-server or device. */
  kind: string;
  network: string;
  /** A service node's static addresses. */
  ipv4?: string;
  ipv6?: string;
  /** One short line about the node: "kea, DHCPv4+v6", "port 8443", "SN-0001, MX204". */
  detail?: string;
  /**
   * A device's routing engines, with the addresses they leased in this attempt and, in a
   * dual-RE chassis, their static address on the chassis-internal link.
   */
  engines?: { name: string; ipv4?: string; ipv6?: string; chassisIpv4?: string }[];
  /** A dual-RE device's chassis-internal link (its network's name). */
  chassisLink?: string;
  /** The node runs an image given in the topology (`image:`), not the lab's own. */
  image?: string;
}

export interface StepResult {
  title: string;
  status: 'passed' | 'failed' | 'skipped';
  durationMs: number;
  error?: string;
}

export interface ExpectationResult {
  title: string;
  passed: boolean;
  /** What was expected and what was found, when it failed. */
  detail?: string;
}

export interface TimelineEvent {
  time: string;
  node: string;
  kind: string;
  fields: Record<string, unknown>;
}

/** One arrow of the sequence diagram: from one node to another, at a time. */
export interface Message {
  time: string;
  from: string;
  to: string;
  label: string;
  /** ok, error or neutral: colours the arrow. */
  tone: 'ok' | 'error' | 'neutral';
}

export interface Attachment {
  name: string;
  /** text/plain, application/json, application/vnd.tcpdump.pcap, ... */
  contentType: string;
  /** Path relative to the report folder (attachments/<sha256>.<ext>). */
  path: string;
  bytes: number;
}
