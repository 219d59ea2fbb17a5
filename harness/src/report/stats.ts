import type { Report, ScenarioResult, Status } from './model.ts';

/** Statuses that count as failed in the stats: a timeout or an interruption is a failure too. */
export function isFailure(status: Status): boolean {
  return status === 'failed' || status === 'timedOut' || status === 'interrupted';
}

/** The filter group a status belongs to in the HTML report and the console summary. */
export function statusGroup(status: Status): 'passed' | 'failed' | 'flaky' | 'skipped' {
  if (isFailure(status)) return 'failed';
  return status as 'passed' | 'flaky' | 'skipped';
}

export function computeStats(scenarios: readonly ScenarioResult[]): Report['stats'] {
  const stats = { total: scenarios.length, passed: 0, failed: 0, flaky: 0, skipped: 0 };
  for (const scenario of scenarios) stats[statusGroup(scenario.status)] += 1;
  return stats;
}

/** 850ms, 12.3s, 2m 05s: short enough for a console line and a badge. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes}m ${String(seconds).padStart(2, '0')}s`;
}
