import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { storeAttachment } from '../src/report/attachments.ts';
import { ListReporter } from '../src/report/console.ts';
import { readJsonReport, writeJsonReport } from '../src/report/json.ts';
import { renderJUnit } from '../src/report/junit.ts';
import { mergeReports } from '../src/report/merge.ts';
import type { Report } from '../src/report/model.ts';
import { renderSequence } from '../src/report/sequence.ts';
import { writeReports } from '../src/report/write.ts';
import {
  FAILING_DETAIL,
  FAILING_EXPECTATION,
  STEP_ERROR,
  sampleReport,
} from './fixtures/report/sample.ts';

const REPORT_CLI = new URL('./fixtures/report/report-cli.ts', import.meta.url).pathname;

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['--import=tsx', REPORT_CLI, ...args], { encoding: 'utf8' });
}

function tempDir(t: { teardown(fn: () => void): void }, name = 'report'): string {
  const dir = mkdtempSync(join(tmpdir(), `sztp-lab-${name}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface ParsedCase {
  classname: string;
  name: string;
  time: string;
  failure: { message: string; type: string; text: string } | null;
  skipped: boolean;
  out: string | null;
}

/** Parses JUnit XML with Python's ElementTree, a parser that owes nothing to our writer. */
function parseJUnit(xml: string): {
  root: Record<string, string>;
  suites: number;
  cases: ParsedCase[];
} {
  const script = `
import json, sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
cases = []
for case in root.iter('testcase'):
    failure = case.find('failure')
    out = case.find('system-out')
    cases.append({**case.attrib, 'skipped': case.find('skipped') is not None,
        'failure': None if failure is None else {**failure.attrib, 'text': failure.text or ''},
        'out': None if out is None else out.text})
print(json.dumps({'root': {'tag': root.tag, **root.attrib}, 'suites': len(root.findall('testsuite')), 'cases': cases}))
`;
  const result = spawnSync('python3', ['-c', script], { input: xml, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`python3 could not parse the XML: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

test('report.json round-trips through the validating reader', async (t) => {
  const dir = tempDir(t);
  const report = await sampleReport(dir);
  const file = await writeJsonReport(report, dir);
  t.deepEqual(await readJsonReport(file), report);
  t.deepEqual(await readJsonReport(dir), report, 'a folder reads its report.json');
  t.true(readFileSync(file, 'utf8').startsWith('{\n  "format": "sztp-lab-report/1"'));
});

test('a malformed report.json is refused with the file and the field named', async (t) => {
  const dir = tempDir(t);
  const report = JSON.parse(JSON.stringify(await sampleReport(dir)));
  report.scenarios[1].attempts[0].status = 'exploded';
  writeFileSync(join(dir, 'report.json'), JSON.stringify(report));
  const error = await t.throwsAsync(readJsonReport(dir), {
    message: /scenarios\[1\]\.attempts\[0\]\.status must be one of/,
  });
  t.true(error?.message.startsWith(join(dir, 'report.json')));
  t.is((error as { code?: string }).code, 'REPORT_INVALID');

  delete report.scenarios[1].attempts[0].status;
  report.scenarios[1].attempts[0].status = 'failed';
  report.scenarios[1].attempts[0].attachments[0].path = '../../etc/passwd';
  writeFileSync(join(dir, 'report.json'), JSON.stringify(report));
  await t.throwsAsync(readJsonReport(dir), {
    message: /attachments\[0\]\.path must be a relative path inside the report folder/,
  });

  report.scenarios[1].attempts[0].attachments[0].path = 'attachments/a.txt';
  report.scenarios[1].attempts[0].lab.nodes[5].engines = [{ name: 're0', ipv4: 7 }];
  writeFileSync(join(dir, 'report.json'), JSON.stringify(report));
  await t.throwsAsync(readJsonReport(dir), {
    message: /attempts\[0\]\.lab\.nodes\[5\]\.engines\[0\]\.ipv4 must be a string, found 7/,
  });

  writeFileSync(join(dir, 'report.json'), '{"format": "sztp-lab-report/1",');
  await t.throwsAsync(readJsonReport(dir), { message: /report\.json: not valid JSON/ });
  await t.throwsAsync(readJsonReport(join(dir, 'nope')), { message: /cannot read the report/ });
});

test('JUnit: counts, one testcase per scenario, failures, skips and the flaky note', async (t) => {
  const dir = tempDir(t);
  const report = await sampleReport(dir);
  const junit = parseJUnit(renderJUnit(report));

  t.like(junit.root, { tag: 'testsuites', tests: '4', failures: '1', skipped: '1', errors: '0' });
  t.is(junit.root.time, '75.100');
  t.is(junit.suites, 4, 'one suite per scenario file');
  t.deepEqual(
    junit.cases.map((c) => [c.classname, c.name, c.time]),
    report.scenarios.map((s) => [s.file, s.title, (s.durationMs / 1000).toFixed(3)]),
  );

  const [passed, failed, flaky, skipped] = junit.cases as [
    ParsedCase,
    ParsedCase,
    ParsedCase,
    ParsedCase,
  ];
  t.is(passed.failure, null);
  t.false(passed.skipped);
  t.is(failed.failure?.message, `expectation failed: ${FAILING_EXPECTATION}`);
  t.is(failed.failure?.type, 'failed');
  t.true(failed.failure?.text.includes(`expectation failed: ${FAILING_EXPECTATION}`));
  for (const line of FAILING_DETAIL.split('\n')) t.true(failed.failure?.text.includes(line));
  t.true(failed.failure?.text.includes(`step failed: wait for re1 image\n  ${STEP_ERROR}`));
  t.regex(failed.out ?? '', /\[\[ATTACHMENT\|attachments\/[0-9a-f]{64}\.txt\]\]/);
  t.is(flaky.failure, null);
  t.regex(
    flaky.out ?? '',
    /^flaky: passed on attempt 2 of 2\nattempt 1 failed: redirect server did not answer/,
  );
  t.true(skipped.skipped);
});

test('JUnit stays well-formed whatever the titles and errors hold', async (t) => {
  const dir = tempDir(t);
  const report = await sampleReport(dir, { title: 'a <b>&"quoted"\' title\u0001 with\ttab' });
  const failed = report.scenarios[1]?.attempts[0];
  if (failed) failed.error = 'line one ]]> <x/>\nline two \u0000 & more';
  const junit = parseJUnit(renderJUnit(report));
  t.is(junit.cases[1]?.name, 'a <b>&"quoted"\' title\ufffd with\ttab');
  t.is(junit.cases[1]?.failure?.message, 'line one ]]> <x/>');
});

test('attachments are stored once by content hash with an extension for their type', async (t) => {
  const dir = tempDir(t);
  const a = await storeAttachment(dir, {
    name: 'x.log',
    contentType: 'text/plain',
    body: 'hello\n',
  });
  const b = await storeAttachment(dir, {
    name: 'y.log',
    contentType: 'text/plain',
    body: 'hello\n',
  });
  const c = await storeAttachment(dir, {
    name: 'voucher.vcj',
    contentType: 'application/voucher-cms+json',
    body: new Uint8Array([1, 2, 3]),
  });
  t.is(a.path, 'attachments/5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03.txt');
  t.is(b.path, a.path);
  t.is(a.bytes, 6);
  t.regex(c.path, /^attachments\/[0-9a-f]{64}\.vcj$/);
  t.deepEqual(readdirSync(join(dir, 'attachments')).length, 2);
});

test('merging two shard folders recounts, copies attachments and takes the longest duration', async (t) => {
  const one = tempDir(t, 'shard1');
  const two = tempDir(t, 'shard2');
  const out = join(tempDir(t, 'merged'), 'report');
  const first = await sampleReport(one);
  const second: Report = {
    ...(await sampleReport(two)),
    runId: 'run-0002',
    durationMs: 90_000,
    shard: { current: 2, total: 2 },
  };
  second.scenarios = second.scenarios.slice(1, 3);
  const extra = await storeAttachment(two, {
    name: 'only-in-two.txt',
    contentType: 'text/plain',
    body: 'two',
  });
  second.scenarios[0]?.attempts[0]?.attachments.push(extra);
  await writeReports(first, one, ['json']);
  await writeReports(second, two, ['json']);

  const merged = await mergeReports([one, two], out);
  t.like(merged.report.stats, { total: 6, passed: 1, failed: 2, flaky: 2, skipped: 1 });
  t.is(merged.report.durationMs, 90_000);
  t.is(merged.report.shard, undefined);
  t.not(merged.report.runId, first.runId);
  t.deepEqual(merged.missing, []);
  t.deepEqual(readdirSync(out).sort(), ['attachments', 'index.html', 'junit.xml', 'report.json']);
  t.is(readdirSync(join(out, 'attachments')).length, 3, 'log and pcap once, plus the extra');
  t.deepEqual(await readJsonReport(out), merged.report);
  t.like(parseJUnit(readFileSync(join(out, 'junit.xml'), 'utf8')).root, {
    tests: '6',
    failures: '2',
  });
});

test('report merge and report render through the CLI', async (t) => {
  const one = tempDir(t, 'cli1');
  const two = tempDir(t, 'cli2');
  const out = join(tempDir(t, 'cli-out'), 'merged');
  await writeReports(await sampleReport(one), one, ['json']);
  await writeReports(await sampleReport(two), two, ['json']);

  const merge = cli('report', 'merge', one, two, '--out', out, '--json');
  t.is(merge.status, 0, merge.stderr);
  const body = JSON.parse(merge.stdout) as { ok: boolean; stats: Report['stats']; files: string[] };
  t.true(body.ok);
  t.is(body.stats.total, 8);
  t.is(body.files.length, 3);

  const render = cli('report', 'render', one);
  t.is(render.status, 0, render.stderr);
  t.regex(render.stdout, /wrote .*junit\.xml\nwrote .*index\.html/);

  writeFileSync(join(two, 'report.json'), '{"format":"other"}');
  const bad = cli('report', 'render', two, '--json');
  t.is(bad.status, 1);
  t.like(JSON.parse(bad.stdout).error, { code: 'REPORT_INVALID' });
});

test('the list reporter prints one plain line per scenario and a summary when not a TTY', async (t) => {
  const dir = tempDir(t);
  const report = await sampleReport(dir);
  let text = '';
  const reporter = new ListReporter({ write: (chunk: string) => (text += chunk), isTTY: false });
  for (const scenario of report.scenarios) reporter.scenarioEnd(scenario);
  reporter.end(report);

  const lines = text.split('\n');
  t.regex(
    lines[0] ?? '',
    /^ {2}✓ {3}1 scenarios\/010-fleet\.yaml › fleet of seven dual-RE devices onboards \(24\.0s\)$/,
  );
  t.regex(
    lines[1] ?? '',
    /^ {2}✘ {3}2 .* backup RE onboards after image download fails \(42\.1s\)$/,
  );
  t.regex(lines[2] ?? '', /^ {2}~ {3}3 .*\(2 attempts\) \(9\.0s\)$/);
  t.regex(lines[3] ?? '', /^ {2}- {3}4 /);
  t.true(text.includes(`      expected: ${FAILING_EXPECTATION}`));
  t.true(
    text.trimEnd().endsWith('1 passed, 1 failed, 1 flaky, 1 skipped of 4 (1m 15s, shard 1/2)'),
  );
  t.false(text.includes('\u001b['), 'no colour codes when not a terminal');
});

test('the sequence diagram makes room for notes on its last lifeline', (t) => {
  const at = '2026-01-01T00:00:01.000Z';
  const arrow = {
    time: at,
    from: 're0',
    to: 'images',
    label: 'GET /a.tgz',
    tone: 'neutral',
  } as const;
  const note = { ...arrow, from: 'images', label: 'GET /a.tgz 200, 64.4 KiB' } as const;
  const width = (markup: { toString(): string }) =>
    /class="seq-body"[^>]* width="(\d+)"/.exec(markup.toString())?.[1];
  t.is(width(renderSequence([arrow], Date.parse(at))), '300');
  t.is(width(renderSequence([arrow, note], Date.parse(at))), '450');
});
