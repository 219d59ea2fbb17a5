import { LabError } from '../common/errors.ts';
import type { Report } from './model.ts';

const STATUSES = ['passed', 'failed', 'flaky', 'skipped', 'timedOut', 'interrupted'] as const;
const ATTEMPT_STATUSES = STATUSES.filter((status) => status !== 'flaky');
const STEP_STATUSES = ['passed', 'failed', 'skipped'] as const;
const TONES = ['ok', 'error', 'neutral'] as const;

type Fields = Record<string, unknown>;

/**
 * Checks that a parsed report.json has the shape of the model, field by field, so a reporter
 * never meets a missing array halfway through a page. Unknown keys are kept: newer writers may
 * add optional fields. The first problem is thrown, naming the file and the dotted path.
 */
export function validateReport(value: unknown, file: string): Report {
  const check = new Checker(file);
  const report = check.object(value, '(root)');
  if (report.format !== 'sztp-lab-report/1') {
    check.fail('format', `must be "sztp-lab-report/1", found ${JSON.stringify(report.format)}`);
  }
  check.string(report, 'runId', '');
  check.string(report, 'startedAt', '');
  check.number(report, 'durationMs', '');
  if (report.shard !== undefined) {
    const shard = check.object(report.shard, 'shard');
    check.number(shard, 'current', 'shard');
    check.number(shard, 'total', 'shard');
  }
  const stats = check.object(report.stats, 'stats');
  for (const key of ['total', 'passed', 'failed', 'flaky', 'skipped']) {
    check.number(stats, key, 'stats');
  }
  const environment = check.object(report.environment, 'environment');
  for (const key of ['host', 'node', 'sztpLab']) check.string(environment, key, 'environment');
  check.string(environment, 'docker', 'environment', true);

  check.list(report, 'scenarios', '').forEach((item, index) => {
    checkScenario(check, item, `scenarios[${index}]`);
  });
  return value as Report;
}

function checkScenario(check: Checker, value: unknown, path: string): void {
  const scenario = check.object(value, path);
  check.string(scenario, 'title', path);
  check.string(scenario, 'file', path);
  check.list(scenario, 'tags', path).forEach((tag, index) => {
    if (typeof tag !== 'string') check.fail(`${path}.tags[${index}]`, 'must be a string');
  });
  check.oneOf(scenario, 'status', path, STATUSES);
  check.number(scenario, 'durationMs', path);
  check.list(scenario, 'attempts', path).forEach((item, index) => {
    checkAttempt(check, item, `${path}.attempts[${index}]`);
  });
}

function checkAttempt(check: Checker, value: unknown, path: string): void {
  const attempt = check.object(value, path);
  check.oneOf(attempt, 'status', path, ATTEMPT_STATUSES);
  check.string(attempt, 'startedAt', path);
  check.number(attempt, 'durationMs', path);
  check.string(attempt, 'error', path, true);

  check.list(attempt, 'steps', path).forEach((item, index) => {
    const at = `${path}.steps[${index}]`;
    const step = check.object(item, at);
    check.string(step, 'title', at);
    check.oneOf(step, 'status', at, STEP_STATUSES);
    check.number(step, 'durationMs', at);
    check.string(step, 'error', at, true);
  });
  check.list(attempt, 'expectations', path).forEach((item, index) => {
    const at = `${path}.expectations[${index}]`;
    const expectation = check.object(item, at);
    check.string(expectation, 'title', at);
    if (typeof expectation.passed !== 'boolean') check.fail(`${at}.passed`, 'must be a boolean');
    check.string(expectation, 'detail', at, true);
  });
  check.list(attempt, 'timeline', path).forEach((item, index) => {
    const at = `${path}.timeline[${index}]`;
    const event = check.object(item, at);
    for (const key of ['time', 'node', 'kind']) check.string(event, key, at);
    check.object(event.fields, `${at}.fields`);
  });
  check.list(attempt, 'messages', path).forEach((item, index) => {
    const at = `${path}.messages[${index}]`;
    const message = check.object(item, at);
    for (const key of ['time', 'from', 'to', 'label']) check.string(message, key, at);
    check.oneOf(message, 'tone', at, TONES);
  });
  check.list(attempt, 'progress', path).forEach((item, index) => {
    const at = `${path}.progress[${index}]`;
    const progress = check.object(item, at);
    for (const key of ['server', 'serial', 'type', 'time']) check.string(progress, key, at);
    check.string(progress, 'message', at, true);
  });
  check.list(attempt, 'attachments', path).forEach((item, index) => {
    const at = `${path}.attachments[${index}]`;
    const attachment = check.object(item, at);
    for (const key of ['name', 'contentType', 'path']) check.string(attachment, key, at);
    check.number(attachment, 'bytes', at);
    if (!isInsideFolder(attachment.path as string)) {
      check.fail(`${at}.path`, 'must be a relative path inside the report folder');
    }
  });
  if (attempt.lab !== undefined) checkLab(check, attempt.lab, `${path}.lab`);
}

function checkLab(check: Checker, value: unknown, path: string): void {
  const lab = check.object(value, path);
  check.string(lab, 'name', path);
  check.list(lab, 'networks', path).forEach((item, index) => {
    const at = `${path}.networks[${index}]`;
    const network = check.object(item, at);
    check.string(network, 'name', at);
    check.string(network, 'ipv4', at);
    check.string(network, 'ipv6', at, true);
  });
  check.list(lab, 'nodes', path).forEach((item, index) => {
    const at = `${path}.nodes[${index}]`;
    const node = check.object(item, at);
    for (const key of ['name', 'kind', 'network']) check.string(node, key, at);
    for (const key of ['ipv4', 'ipv6', 'detail', 'chassisLink', 'image'])
      check.string(node, key, at, true);
    if (node.engines === undefined) return;
    check.list(node, 'engines', at).forEach((engineItem, n) => {
      const where = `${at}.engines[${n}]`;
      const engine = check.object(engineItem, where);
      check.string(engine, 'name', where);
      check.string(engine, 'ipv4', where, true);
      check.string(engine, 'ipv6', where, true);
      check.string(engine, 'chassisIpv4', where, true);
    });
  });
}

/** A path a report may link to or copy: relative, forward slashes, never climbing out. */
export function isInsideFolder(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\\') || /^[a-z]+:/i.test(path)) {
    return false;
  }
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

class Checker {
  constructor(private readonly file: string) {}

  fail(path: string, problem: string): never {
    throw new LabError('REPORT_INVALID', `${this.file}: ${path} ${problem}`, {
      details: { file: this.file, field: path },
    });
  }

  object(value: unknown, path: string): Fields {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(path, `must be an object, found ${describe(value)}`);
    }
    return value as Fields;
  }

  string(fields: Fields, key: string, path: string, optional = false): void {
    const value = fields[key];
    if (optional && value === undefined) return;
    if (typeof value !== 'string') {
      this.fail(join(path, key), `must be a string, found ${describe(value)}`);
    }
  }

  number(fields: Fields, key: string, path: string): void {
    const value = fields[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      this.fail(join(path, key), `must be a non-negative number, found ${describe(value)}`);
    }
  }

  list(fields: Fields, key: string, path: string): unknown[] {
    const value = fields[key];
    if (!Array.isArray(value))
      this.fail(join(path, key), `must be a list, found ${describe(value)}`);
    return value;
  }

  oneOf(fields: Fields, key: string, path: string, allowed: readonly string[]): void {
    const value = fields[key];
    if (typeof value !== 'string' || !allowed.includes(value)) {
      this.fail(join(path, key), `must be one of ${allowed.join(', ')}, found ${describe(value)}`);
    }
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return JSON.stringify(value);
}
