import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Report, ScenarioResult } from './model.ts';
import { isFailure } from './stats.ts';

export const JUNIT_XML = 'junit.xml';

/**
 * JUnit XML as CI servers read it: one <testsuite> per scenario file, one <testcase> per
 * scenario. Failed scenarios carry the failing expectations and steps; flaky ones pass with a
 * note in <system-out> saying which attempts failed.
 */
export function renderJUnit(report: Report): string {
  const files = new Map<string, ScenarioResult[]>();
  for (const scenario of report.scenarios) {
    files.set(scenario.file, [...(files.get(scenario.file) ?? []), scenario]);
  }
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites ${attributes({
      name: 'sztp-lab',
      tests: report.stats.total,
      failures: report.stats.failed,
      skipped: report.stats.skipped,
      errors: 0,
      time: seconds(report.durationMs),
      timestamp: report.startedAt,
    })}>`,
  ];
  for (const [file, scenarios] of files) {
    const time = scenarios.reduce((sum, scenario) => sum + scenario.durationMs, 0);
    lines.push(
      `  <testsuite ${attributes({
        name: file,
        tests: scenarios.length,
        failures: scenarios.filter((scenario) => isFailure(scenario.status)).length,
        skipped: scenarios.filter((scenario) => scenario.status === 'skipped').length,
        errors: 0,
        time: seconds(time),
      })}>`,
    );
    for (const scenario of scenarios) lines.push(...testcase(scenario));
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

export async function writeJUnitReport(report: Report, outDir: string): Promise<string> {
  const file = join(outDir, JUNIT_XML);
  await writeFile(file, renderJUnit(report));
  return file;
}

function testcase(scenario: ScenarioResult): string[] {
  const open = `    <testcase ${attributes({
    classname: scenario.file,
    name: scenario.title,
    time: seconds(scenario.durationMs),
  })}`;
  const body: string[] = [];
  const last = scenario.attempts.at(-1);

  if (scenario.status === 'skipped') body.push('      <skipped/>');
  if (isFailure(scenario.status)) {
    const problems = last ? failureLines(last) : [];
    const message = last?.error ?? problems[0] ?? `scenario ${scenario.status}`;
    body.push(
      `      <failure ${attributes({ message: oneLine(message), type: scenario.status })}>${text(
        problems.join('\n'),
      )}</failure>`,
    );
  }
  const notes: string[] = [];
  if (scenario.status === 'flaky') {
    const failed = scenario.attempts
      .map((attempt, index) => ({ attempt, number: index + 1 }))
      .filter(({ attempt }) => attempt.status !== 'passed');
    notes.push(
      `flaky: passed on attempt ${scenario.attempts.length} of ${scenario.attempts.length}`,
      ...failed.map(
        ({ attempt, number }) =>
          `attempt ${number} ${attempt.status}${attempt.error ? `: ${attempt.error}` : ''}`,
      ),
    );
  }
  if (scenario.status !== 'passed' && last) {
    // Jenkins' JUnit attachments plugin picks these markers up; other readers show plain text.
    notes.push(...last.attachments.map((attachment) => `[[ATTACHMENT|${attachment.path}]]`));
  }
  if (notes.length > 0) body.push(`      <system-out>${text(notes.join('\n'))}</system-out>`);

  return body.length === 0 ? [`${open}/>`] : [`${open}>`, ...body, '    </testcase>'];
}

function failureLines(attempt: NonNullable<ScenarioResult['attempts'][number]>): string[] {
  const lines: string[] = [];
  for (const expectation of attempt.expectations.filter((item) => !item.passed)) {
    lines.push(`expectation failed: ${expectation.title}`);
    if (expectation.detail) lines.push(indent(expectation.detail));
  }
  for (const step of attempt.steps.filter((item) => item.status === 'failed')) {
    lines.push(`step failed: ${step.title}`);
    if (step.error) lines.push(indent(step.error));
  }
  return lines;
}

function indent(value: string): string {
  return value
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

function oneLine(value: string): string {
  const line = value.split('\n')[0] ?? '';
  return line.length > 500 ? `${line.slice(0, 499)}…` : line;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function attributes(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}="${attribute(String(value))}"`)
    .join(' ');
}

/** XML 1.0 cannot carry most control characters even escaped; logs sometimes hold them. */
function printable(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  return value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd');
}

function text(value: string): string {
  return printable(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attribute(value: string): string {
  return text(value)
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
}
