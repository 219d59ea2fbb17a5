import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import test from 'ava';

const CLI = new URL('../bin/sztp-lab.js', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

function cli(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
}

test('--version prints the package version', (t) => {
  const result = cli('--version');
  t.is(result.status, 0);
  t.is(result.stdout.trim(), pkg.version);
});

test('--help lists the commands', (t) => {
  const result = cli('--help');
  t.is(result.status, 0);
  for (const command of ['doctor', 'setup', 'images', 'network', 'down', 'dhcp-option']) {
    t.regex(result.stdout, new RegExp(`\\b${command}\\b`));
  }
});

test('an unknown command fails with a non-zero status and says so', (t) => {
  const result = cli('frobnicate');
  t.not(result.status, 0);
  t.regex(result.stderr, /unknown command 'frobnicate'/);
});

test('down without a lab or --all is refused with a clear error', (t) => {
  const result = cli('down', '--json');
  t.is(result.status, 2);
  const body = JSON.parse(result.stdout) as {
    ok: boolean;
    error: { code: string; message: string };
  };
  t.false(body.ok);
  t.is(body.error.code, 'INVALID_ARGUMENT');
  t.regex(body.error.message, /name a lab, or give --all/);
});

test('images build --only refuses an unknown image by name', (t) => {
  const result = cli('images', 'build', '--only', 'router');
  t.is(result.status, 2);
  t.regex(result.stderr, /unknown image "router"/);
});

test('docker: doctor --json reports a working engine and the checks it made', (t) => {
  const result = cli('doctor', '--json');
  const report = JSON.parse(result.stdout) as Record<string, { ok: boolean; detail: string }>;
  t.true(report.docker?.ok, report.docker?.detail);
  for (const check of ['images', 'firewall', 'tools', 'node', 'root'])
    t.truthy(report[check], check);
  t.is(result.status, report.ok ? 0 : 1);
});
