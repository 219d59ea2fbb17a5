import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import anyTest, { type TestFn } from 'ava';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import type { Report } from '../src/report/model.ts';
import { writeReports } from '../src/report/write.ts';
import {
  DUAL_RE_LAB,
  FAILING_DETAIL,
  FAILING_EXPECTATION,
  sampleReport,
} from './fixtures/report/sample.ts';

const CHROMIUM = '/usr/bin/chromium';
const test = anyTest as TestFn<{ browser: BrowserContext; dir: string; url: string }>;

test.before(async (t) => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: 'sztp-lab setup' installs it (apt-get install chromium)`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'sztp-lab-html-'));
  await writeReports(await sampleReport(join(dir, 'report')), join(dir, 'report'));
  const browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
  });
  const url = pathToFileURL(join(dir, 'report', 'index.html')).href;
  t.context = { browser, dir, url };
});

test.after.always(async (t) => {
  await t.context.browser?.close();
  if (t.context.dir) rmSync(t.context.dir, { recursive: true, force: true });
});

/** Opens a page and records what a careful person would notice: errors, requests, dialogs. */
async function open(browser: BrowserContext, url: string) {
  const seen = { errors: [] as string[], requests: [] as string[], dialogs: [] as string[] };
  const page = await browser.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      seen.errors.push(`console ${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => seen.errors.push(`page error: ${error.message}`));
  page.on('request', (request) => seen.requests.push(request.url()));
  page.on('dialog', async (dialog) => {
    seen.dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  await page.goto(url);
  return { page, seen };
}

function visibleScenarios(page: Page): Promise<string[]> {
  return page.locator('details.scenario:visible summary .title').allTextContents();
}

test('the report opens from a file with no errors and no network', async (t) => {
  const { page, seen } = await open(t.context.browser, t.context.url);
  t.is(await page.title(), 'sztp-lab report · failed');
  t.deepEqual(seen.errors, []);
  t.deepEqual(
    seen.requests.filter((url) => !url.startsWith('file://')),
    [],
    'only file:// requests',
  );
  t.is(await page.locator('.card.failed .n').textContent(), '1');
  t.is(await page.locator('.card.flaky .n').textContent(), '1');
  t.true(await page.getByText('1 of 2', { exact: true }).isVisible(), 'the shard is shown');

  const screenshot = join(t.context.dir, 'report.png');
  await page.screenshot({ path: screenshot, fullPage: true });
  t.true(statSync(screenshot).size > 10_000);
  await page.close();
});

test('the failed scenario shows its failing expectation and its sequence diagram unclicked', async (t) => {
  const { page } = await open(t.context.browser, t.context.url);
  const failed = page.locator('details.scenario[data-status="failed"]');
  const expectation = failed.locator('li.expectation.failed');
  t.true(await expectation.isVisible());
  t.true((await expectation.textContent())?.includes(FAILING_EXPECTATION));
  t.is(await expectation.locator('pre').textContent(), FAILING_DETAIL);
  t.true(await failed.getByText('image server answered 404').isVisible(), 'the step error');

  const diagram = failed.locator('svg.seq-body');
  t.true(await diagram.isVisible());
  t.is(await diagram.locator('.lifeline').count(), 5);
  t.is(await diagram.locator('g.arrow').count(), 15);
  t.deepEqual(await failed.locator('svg.seq-head text').allTextContents(), [
    're0',
    're1',
    'dhcp',
    'bootstrap',
    'images',
  ]);
  t.is(await diagram.locator('g.arrow.tone-error').count(), 2);

  const passed = page.locator('details.scenario[data-status="passed"]');
  t.false(await passed.locator('svg.seq-body').isVisible(), 'passed scenarios start closed');
  await passed.locator('> summary').click();
  const big = passed.locator('svg.seq-body');
  t.is(await big.locator('.lifeline').count(), 20);
  t.is(await big.locator('g.arrow').count(), 200);
  const box = await passed.locator('.seq').boundingBox();
  t.true((box?.width ?? 0) < 1280, 'a wide diagram scrolls inside its box');
  await page.close();
});

test('the failed scenario draws its lab: servers over the network, the chassis under it', async (t) => {
  const { page } = await open(t.context.browser, t.context.url);
  const failed = page.locator('details.scenario[data-status="failed"]');
  const picture = failed.locator('.topo svg');
  t.true(await picture.isVisible(), 'the topology is open with the failed scenario');
  t.is(await picture.locator('g.box').count(), DUAL_RE_LAB.nodes.length);
  t.true(
    await picture
      .getByText('lan · 198.18.4.0/24 · fd5a:17ab:3c00:4::/64', { exact: true })
      .isVisible(),
  );
  t.true(
    await picture.getByText('ri-dev1 · 198.18.5.0/24', { exact: true }).isVisible(),
    'the chassis link',
  );
  // Every service box sits above the bus and the chassis below it, none overlapping another.
  const bus = await picture.locator('g.net line').boundingBox();
  const boxes = await picture.locator('g.box > rect:first-of-type').evaluateAll((rects) =>
    rects.map((rect) => {
      const r = rect.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, left: r.left, right: r.right };
    }),
  );
  const [dhcp, , , , , chassis] = boxes;
  t.true((dhcp?.bottom ?? 1e9) < (bus?.y ?? 0), 'servers above the bus');
  t.true((chassis?.top ?? 0) > (bus?.y ?? 1e9), 'the device below it');
  for (const [i, a] of boxes.entries()) {
    for (const b of boxes.slice(i + 1)) {
      const apart =
        a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top;
      t.true(apart, 'boxes do not overlap');
    }
  }
  t.true(
    await picture.getByText('198.18.4.101', { exact: true }).isVisible(),
    're1 shows its lease',
  );
  await page.close();
});

test('the filter buttons and the search show only the matching scenarios', async (t) => {
  const { page, seen } = await open(t.context.browser, t.context.url);
  t.is((await visibleScenarios(page)).length, 4);

  await page.getByRole('button', { name: /^failed/ }).click();
  t.deepEqual(await visibleScenarios(page), ['backup RE onboards after image download fails']);
  t.is(new URL(page.url()).hash, '#failed');

  await page.getByRole('button', { name: /^flaky/ }).click();
  t.deepEqual(await visibleScenarios(page), ['redirect server answers after a restart']);

  await page.getByRole('button', { name: /^all/ }).click();
  await page.getByRole('searchbox').fill('USB');
  t.deepEqual(await visibleScenarios(page), ['removable storage onboarding']);
  await page.getByRole('searchbox').fill('no such thing');
  t.deepEqual(await visibleScenarios(page), []);
  t.true(await page.getByText('No scenario matches the filter.').isVisible());
  await page.getByRole('searchbox').fill('');

  const failed = page.locator('details.scenario[data-status="failed"]');
  await failed.locator('details.timeline > summary').click();
  t.is(await failed.locator('details.timeline tbody tr:visible').count(), 5);
  t.deepEqual(
    await failed.locator('details.timeline select option').allTextContents(),
    ['all nodes', 'bootstrap', 'dev1-re0', 'dev1-re1', 'dhcp', 'images'],
    'the node filter lists the servers beside the routing engines',
  );
  await failed.locator('details.timeline select').selectOption('images');
  t.deepEqual(
    await failed.locator('details.timeline tbody tr:visible td:nth-child(2)').allTextContents(),
    ['images'],
  );
  t.deepEqual(seen.errors, []);
  await page.close();
});

test('attachments link by relative path and text ones read in the page', async (t) => {
  const { page } = await open(t.context.browser, t.context.url);
  const failed = page.locator('details.scenario[data-status="failed"]');
  const links = failed.locator('ul.files a');
  t.deepEqual(await links.allTextContents(), ['re1 console.log', 'lab.pcap']);
  for (const href of await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')))) {
    t.regex(href ?? '', /^attachments\/[0-9a-f]{64}\.(txt|pcap)$/);
    t.true(existsSync(join(t.context.dir, 'report', href ?? '')), `${href} is in the folder`);
  }
  await failed.locator('details.view > summary').click();
  const text = await failed.locator('pre.attachment-text').textContent();
  t.true(
    text?.includes('<script>alert("log")</script>\nztp: giving up'),
    'log markup shown as text',
  );
  await page.close();
});

test('a hostile title and tag are shown as text and never run', async (t) => {
  const dir = join(t.context.dir, 'hostile');
  const title = '<script>alert(1)</script>';
  const report: Report = await sampleReport(dir, { title });
  report.scenarios[1]?.tags.push('"><img src=x onerror=alert(2)>');
  await writeReports(report, dir, ['html']);

  const { page, seen } = await open(t.context.browser, pathToFileURL(join(dir, 'index.html')).href);
  const failed = page.locator('details.scenario[data-status="failed"]');
  t.is(await failed.locator('summary .title').textContent(), title);
  t.true(await failed.getByText('"><img src=x onerror=alert(2)>').isVisible());
  t.is(await page.locator('#scenarios script, #scenarios img').count(), 0);
  t.deepEqual(seen.dialogs, []);
  t.deepEqual(seen.errors, []);
  await page.close();
});
