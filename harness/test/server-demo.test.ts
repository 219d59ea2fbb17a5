import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { loadServerConfig } from '../src/sztp/server/config.ts';
import { asReplyDocument, curl, OP, yanglint } from './fixtures/server/lab.ts';

const CLI = fileURLToPath(new URL('../bin/sztp-lab.js', import.meta.url));

test('server demo: one JSON line on stdout; curl with its credentials gets YANG-valid JSON and XML and a 204', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sztp-demo-test-'));
  const child = spawn(
    process.execPath,
    [CLI, 'server', 'demo', '--dir', dir, '--port', '0', '--serial', 'SN-TRY-1'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  try {
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', () => reject(new Error(`demo exited early:\n${stderr}`)));
    });
    lines.on('line', (line) => {
      stdout += `${line}\n`;
    });
    const ready = JSON.parse(first) as {
      url: string;
      trustAnchor: string;
      device: { serial: string; cert: string; key: string };
    };
    t.deepEqual(Object.keys(ready).sort(), ['device', 'trustAnchor', 'url']);
    t.is(ready.device.serial, 'SN-TRY-1');
    t.regex(ready.url, /^https:\/\/127\.0\.0\.1:\d+$/);

    const common = { device: ready.device, trust: ready.trustAnchor };
    const json = await curl(`${ready.url}${OP}:get-bootstrapping-data`, {
      ...common,
      body: JSON.stringify({ 'ietf-sztp-bootstrap-server:input': { 'os-name': 'Junos' } }),
      contentType: 'application/yang-data+json',
    });
    t.is(json.status, 200, json.body);
    t.is(await yanglint('reply', asReplyDocument(json.body, 'json'), 'json'), undefined);
    const xml = await curl(`${ready.url}${OP}:get-bootstrapping-data`, {
      ...common,
      body: '<input xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server"/>',
      contentType: 'application/yang-data+xml',
    });
    t.is(xml.status, 200, xml.body);
    t.is(await yanglint('reply', asReplyDocument(xml.body, 'xml'), 'xml'), undefined);
    const progress = await curl(`${ready.url}${OP}:report-progress`, {
      ...common,
      body: JSON.stringify({
        'ietf-sztp-bootstrap-server:input': { 'progress-type': 'bootstrap-initiated' },
      }),
      contentType: 'application/yang-data+json',
    });
    t.is(progress.status, 204);
    const bad = await curl(`${ready.url}${OP}:report-progress`, {
      ...common,
      body: '{"ietf-sztp-bootstrap-server:input":{"progress-type":"done"}}',
      contentType: 'application/yang-data+json',
    });
    t.is(bad.status, 400);
    t.is(JSON.parse(bad.body)['ietf-restconf:errors'].error[0]['error-tag'], 'invalid-value');
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
    await rm(dir, { recursive: true, force: true });
  }
  t.is(stdout, '', 'nothing but the ready line on stdout');
  t.regex(stderr, /admin API at http:\/\/127\.0\.0\.1:\d+/);
  t.notRegex(stderr, /PRIVATE KEY/);
});

test('config errors name the file and the setting', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sztp-config-test-'));
  try {
    const file = join(dir, 'server.json');
    const attempt = async (doc: unknown) => {
      await writeFile(file, JSON.stringify(doc));
      const error = await t.throwsAsync(loadServerConfig(file));
      return error?.message ?? '';
    };
    const base = {
      records: 'r.json',
      dataDir: 'd',
      tls: { cert: 'c', key: 'k', clientTrustAnchors: ['a'] },
    };
    t.is(
      await attempt({ ...base, tls: { ...base.tls, minVersion: 'SSLv3' } }),
      `${file}: tls.minVersion must be one of TLSv1.2, TLSv1.3`,
    );
    t.regex(
      await attempt({ ...base, roles: ['bootstrap'] }),
      /: roles\[0\] must be one of redirect-server, onboarding-server$/,
    );
    t.regex(await attempt({ ...base, colour: 'red' }), /: colour is not a known setting/);
    t.regex(
      await attempt({ ...base, listen: { port: 70000 } }),
      /: listen\.port must be an integer from 0 to 65535$/,
    );
    t.regex(
      await attempt({ records: 'r.json', dataDir: 'd' }),
      /: tls\.cert must be given when no "pki" directory is configured$/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
