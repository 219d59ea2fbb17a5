import type { Report, ScenarioResult, Status } from './model.ts';
import { formatDuration, isFailure } from './stats.ts';

interface Stream {
  write(text: string): unknown;
  isTTY?: boolean;
}

const MARKS: Record<Status, string> = {
  passed: '✓',
  failed: '✘',
  timedOut: '✘',
  interrupted: '✘',
  flaky: '~',
  skipped: '-',
};

const COLOURS: Record<Status, number> = {
  passed: 32,
  failed: 31,
  timedOut: 31,
  interrupted: 31,
  flaky: 33,
  skipped: 90,
};

/**
 * The `list` reporter: one line per scenario as it finishes, then a summary and the reasons
 * of the failures. Colour only on a terminal, so logs and CI output stay plain text.
 */
export class ListReporter {
  private readonly colour: boolean;
  private finished = 0;

  constructor(
    private readonly out: Stream = process.stdout,
    options: { colour?: boolean } = {},
  ) {
    this.colour = options.colour ?? (out.isTTY === true && process.env.NO_COLOR === undefined);
  }

  scenarioEnd(scenario: ScenarioResult): void {
    this.finished += 1;
    const mark = this.paint(scenario.status, MARKS[scenario.status]);
    const retries = scenario.attempts.length > 1 ? ` (${scenario.attempts.length} attempts)` : '';
    const note = scenario.status === 'timedOut' || scenario.status === 'interrupted';
    const status = note ? ` ${this.paint(scenario.status, scenario.status)}` : '';
    const duration = this.dim(`(${formatDuration(scenario.durationMs)})`);
    this.out.write(
      `  ${mark} ${String(this.finished).padStart(3)} ${scenario.file} › ${scenario.title}${status}${retries} ${duration}\n`,
    );
  }

  end(report: Report): void {
    const failures = report.scenarios.filter((scenario) => isFailure(scenario.status));
    if (failures.length > 0) this.out.write('\n');
    for (const scenario of failures) {
      const last = scenario.attempts.at(-1);
      this.out.write(`  ${this.paint('failed', '✘')} ${scenario.file} › ${scenario.title}\n`);
      const reasons = [
        ...(last?.error ? [last.error] : []),
        ...(last?.expectations ?? [])
          .filter((expectation) => !expectation.passed)
          .map((expectation) => `expected: ${expectation.title}`),
      ];
      for (const reason of reasons) this.out.write(`      ${reason.split('\n')[0]}\n`);
    }
    const { stats } = report;
    const parts = [
      stats.passed > 0 ? this.paint('passed', `${stats.passed} passed`) : '',
      stats.failed > 0 ? this.paint('failed', `${stats.failed} failed`) : '',
      stats.flaky > 0 ? this.paint('flaky', `${stats.flaky} flaky`) : '',
      stats.skipped > 0 ? this.paint('skipped', `${stats.skipped} skipped`) : '',
    ].filter(Boolean);
    const shard = report.shard ? `, shard ${report.shard.current}/${report.shard.total}` : '';
    this.out.write(
      `\n  ${parts.join(', ') || 'no scenarios'} of ${stats.total} (${formatDuration(report.durationMs)}${shard})\n`,
    );
  }

  private paint(status: Status, text: string): string {
    return this.colour ? `\u001b[${COLOURS[status]}m${text}\u001b[0m` : text;
  }

  private dim(text: string): string {
    return this.colour ? `\u001b[90m${text}\u001b[0m` : text;
  }
}
