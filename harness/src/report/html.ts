import { createHash } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTextAttachment } from './attachments.ts';
import { html, type Markup, raw } from './escape.ts';
import { SCRIPT, STYLE } from './html-assets.ts';
import type { Attachment, Attempt, Report, ScenarioResult } from './model.ts';
import { relativeTime, renderSequence } from './sequence.ts';
import { formatDuration, isFailure, statusGroup } from './stats.ts';
import { renderTopology } from './topology.ts';
import { isInsideFolder } from './validate.ts';

export const INDEX_HTML = 'index.html';

/** Text attachments larger than this are shown cut, with a link to the whole file. */
export const INLINE_TEXT_LIMIT = 256 * 1024;

/** The text of each text attachment by its path, for viewing in the page. */
export type AttachmentTexts = ReadonlyMap<string, { text: string; cut: boolean }>;

/*
 * The page is rendered here, to static HTML, rather than by a script from embedded JSON. All
 * escaping then happens in one place on our side (the `html` tag escapes every value), the page
 * reads with scripts off or blocked, text search in the browser finds everything, and the test
 * can check what a person sees without running a template engine in the page. The one inline
 * script only filters rows, and the Content-Security-Policy allows that script by its hash and
 * nothing else: a title that slipped through escaping still could not run.
 */
export function renderHtml(report: Report, texts: AttachmentTexts = new Map()): string {
  const script = SCRIPT.trim();
  const scriptHash = createHash('sha256').update(script).digest('base64');
  const policy = [
    "default-src 'none'",
    `script-src 'sha256-${scriptHash}'`,
    "style-src 'unsafe-inline'",
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const title = `sztp-lab report · ${report.stats.failed > 0 ? 'failed' : 'passed'}`;

  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${policy}">
<meta name="generator" content="sztp-lab">
<title>${title}</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<header class="top"><h1>sztp-lab report</h1><span class="run">run <code>${report.runId}</code> · started ${report.startedAt}</span></header>
<main>
${summary(report)}
${toolbar(report)}
<div id="scenarios">
${report.scenarios.map((scenario, index) => scenarioBlock(scenario, index, texts))}
</div>
<p id="empty" class="empty" hidden>No scenario matches the filter.</p>
</main>
<script>${raw(script)}</script>
</body>
</html>
`.text;
}

/** Renders index.html into the report folder, reading text attachments to show them inline. */
export async function writeHtmlReport(report: Report, outDir: string): Promise<string> {
  const texts = new Map<string, { text: string; cut: boolean }>();
  for (const attachment of report.scenarios.flatMap((s) =>
    s.attempts.flatMap((a) => a.attachments),
  )) {
    if (!isTextAttachment(attachment) || texts.has(attachment.path)) continue;
    const text = await readStart(join(outDir, attachment.path), INLINE_TEXT_LIMIT);
    if (text) texts.set(attachment.path, text);
  }
  const file = join(outDir, INDEX_HTML);
  await writeFile(file, renderHtml(report, texts));
  return file;
}

async function readStart(file: string, limit: number) {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const buffer = Buffer.alloc(limit + 1);
    const { bytesRead } = await handle.read(buffer, 0, limit + 1, 0);
    const cut = bytesRead > limit;
    return { text: buffer.subarray(0, Math.min(bytesRead, limit)).toString('utf8'), cut };
  } finally {
    await handle.close();
  }
}

function summary(report: Report): Markup {
  const { stats, environment } = report;
  const cards = (['passed', 'failed', 'flaky', 'skipped'] as const).map(
    (key) =>
      html`<div class="card ${key}"><span class="n">${stats[key]}</span><span class="k">${key}</span></div>`,
  );
  const env: [string, string | undefined][] = [
    ['host', environment.host],
    ['node', environment.node],
    ['docker', environment.docker],
    ['sztp-lab', environment.sztpLab],
    ['shard', report.shard ? `${report.shard.current} of ${report.shard.total}` : undefined],
  ];
  return html`<section class="summary" aria-label="summary">
<div class="card"><span class="n">${stats.total}</span><span class="k">scenarios</span></div>
${cards}
<div class="card"><span class="n">${formatDuration(report.durationMs)}</span><span class="k">duration</span></div>
<div class="card env"><span class="k">environment</span><dl>${env
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => html`<dt>${key}</dt><dd>${value}</dd>`)}</dl></div>
</section>`;
}

function toolbar(report: Report): Markup {
  const counts = { all: report.stats.total, ...report.stats };
  const groups = ['all', 'failed', 'flaky', 'passed', 'skipped'] as const;
  return html`<nav class="toolbar" aria-label="filters">
${groups.map(
  (group) =>
    html`<button type="button" data-show="${group}" aria-pressed="${group === 'all'}">${group} <span class="count">${counts[group]}</span></button>`,
)}
<input id="search" type="search" placeholder="Search titles, files, tags" aria-label="search scenarios">
</nav>`;
}

function scenarioBlock(scenario: ScenarioResult, index: number, texts: AttachmentTexts): Markup {
  const failed = isFailure(scenario.status);
  const search = [scenario.title, scenario.file, ...scenario.tags].join(' ').toLowerCase();
  const attempts = scenario.attempts.length;
  return html`<details class="scenario" id="s${index}" data-status="${scenario.status}" data-group="${statusGroup(scenario.status)}" data-search="${search}"${raw(failed ? ' open' : '')}>
<summary><span class="badge ${scenario.status}">${scenario.status}</span><span class="title">${scenario.title}</span><span class="file">${scenario.file}</span>
<span class="right">${scenario.tags.map((tag) => html`<span class="tag">${tag}</span>`)}${attempts > 1 ? html`<span>${attempts} attempts</span>` : ''}<span>${formatDuration(scenario.durationMs)}</span></span></summary>
<div class="body">
${scenario.attempts.map((attempt, n) => attemptBlock(attempt, n, attempts, `s${index}a${n}`, texts))}
${attempts === 0 ? html`<p class="skip">Not run.</p>` : ''}
</div>
</details>`;
}

function attemptBlock(
  attempt: Attempt,
  n: number,
  count: number,
  id: string,
  texts: AttachmentTexts,
): Markup {
  const last = n === count - 1;
  const origin = Date.parse(attempt.startedAt);
  const label = count > 1 ? `Attempt ${n + 1} of ${count}` : 'Attempt';
  return html`<details class="attempt"${raw(last ? ' open' : '')}>
<summary>${label} · <span class="badge ${attempt.status}">${attempt.status}</span> · ${formatDuration(attempt.durationMs)}${attempt.error && !last ? html`<span class="err">${firstLine(attempt.error)}</span>` : ''}</summary>
${attempt.error ? html`<pre class="error">${attempt.error}</pre>` : ''}
${expectations(attempt)}
${steps(attempt)}
${attempt.lab ? html`<h3>Topology</h3><div class="legend">lab <code>${attempt.lab.name}</code> · hover a box for all it knows${attempt.lab.nodes.some((node) => node.image) ? ' · * runs an image given in the topology' : ''}</div>${renderTopology(attempt.lab)}` : ''}
${attempt.messages.length > 0 ? html`<h3>Sequence</h3><div class="legend">arrows:<i class="ok"></i>ok<i class="error"></i>error<i class="neutral"></i>neutral · hover an arrow for its full label</div>${renderSequence(attempt.messages, Number.isNaN(origin) ? Date.parse(attempt.messages[0]?.time ?? '') : origin)}` : ''}
${progress(attempt, origin)}
${timeline(attempt, origin, id)}
${attachments(attempt.attachments, texts)}
</details>`;
}

function expectations(attempt: Attempt): Markup {
  if (attempt.expectations.length === 0) return html``;
  return html`<h3>Expectations</h3><ul class="checks">${attempt.expectations.map(
    (item) =>
      html`<li class="expectation ${item.passed ? 'passed' : 'failed'}"><span class="${item.passed ? 'ok' : 'bad'}">${item.passed ? '✓' : '✘'}</span> ${item.title}${!item.passed && item.detail ? html`<pre class="error">${item.detail}</pre>` : ''}</li>`,
  )}</ul>`;
}

function steps(attempt: Attempt): Markup {
  if (attempt.steps.length === 0) return html``;
  const marks = { passed: ['✓', 'ok'], failed: ['✘', 'bad'], skipped: ['–', 'skip'] } as const;
  return html`<h3>Steps</h3><ul class="checks">${attempt.steps.map((step) => {
    const [mark, tone] = marks[step.status];
    return html`<li class="step ${step.status}"><span class="${tone}">${mark}</span> ${step.title} <span class="skip">${formatDuration(step.durationMs)}</span>${step.error ? html`<pre class="error">${step.error}</pre>` : ''}</li>`;
  })}</ul>`;
}

function progress(attempt: Attempt, origin: number): Markup {
  if (attempt.progress.length === 0) return html``;
  return html`<h3>Progress reports</h3><table class="progress"><thead><tr><th>time</th><th>server</th><th>serial</th><th>type</th><th>message</th></tr></thead><tbody>${attempt.progress.map(
    (row) =>
      html`<tr${raw(/fail|error|warning/i.test(row.type) ? ' class="error"' : '')}><td class="num" title="${row.time}">${relativeTime(row.time, origin)}</td><td>${row.server}</td><td class="mono">${row.serial}</td><td class="mono">${row.type}</td><td>${row.message ?? ''}</td></tr>`,
  )}</tbody></table>`;
}

function timeline(attempt: Attempt, origin: number, id: string): Markup {
  if (attempt.timeline.length === 0) return html``;
  const nodes = [...new Set(attempt.timeline.map((event) => event.node))].sort();
  return html`<h3>Timeline</h3><details class="timeline"><summary>${attempt.timeline.length} events from ${nodes.length} nodes</summary>
<label>node <select data-timeline="${id}-timeline"><option value="">all nodes</option>${nodes.map((node) => html`<option>${node}</option>`)}</select></label>
<div class="scroll"><table id="${id}-timeline"><thead><tr><th>time</th><th>node</th><th>event</th><th>fields</th></tr></thead><tbody>${attempt.timeline.map(
    (event) =>
      html`<tr data-node="${event.node}"><td class="num" title="${event.time}">${relativeTime(event.time, origin)}</td><td>${event.node}</td><td class="mono">${event.kind}</td><td class="fields mono">${fields(event.fields)}</td></tr>`,
  )}</tbody></table></div></details>`;
}

function fields(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('  ');
}

function attachments(list: Attachment[], texts: AttachmentTexts): Markup {
  if (list.length === 0) return html``;
  return html`<h3>Attachments</h3><ul class="files">${list.map((attachment) => {
    const text = texts.get(attachment.path);
    const view = text
      ? html`<details class="view"><summary>view</summary><pre class="attachment-text">${text.text}</pre>${text.cut ? html`<p class="skip">Cut at ${formatBytes(INLINE_TEXT_LIMIT)}; open the file for the rest.</p>` : ''}</details>`
      : '';
    // Only paths inside the report folder become links: a model could carry "javascript:".
    const name = isInsideFolder(attachment.path)
      ? html`<a href="${attachment.path}" type="${attachment.contentType}">${attachment.name}</a>`
      : html`<span>${attachment.name}</span>`;
    return html`<li>${name}<span class="meta">${attachment.contentType} · ${formatBytes(attachment.bytes)}</span>${view}</li>`;
  })}</ul>`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}
