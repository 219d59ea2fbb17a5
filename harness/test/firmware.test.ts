import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import test from 'ava';
import { LabError } from '../src/common/errors.ts';
import {
  buildFirmware,
  colonHex,
  createFirmware,
  inspectFirmware,
  parseFirmware,
} from '../src/sztp/firmware.ts';

const CLI = new URL('../bin/sztp-lab.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'sztp-lab-fw-'));
const created = new Date('2025-01-02T03:04:05Z');

test.after.always(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
}

test('a firmware file round-trips its manifest and hashes the whole file', async (t) => {
  const path = join(dir, 'junos.tgz');
  const info = await createFirmware(path, { osName: 'Junos', osVersion: '23.4R1.9', created });
  t.is(info.manifest['os-name'], 'Junos');
  t.is(info.manifest['os-version'], '23.4R1.9');
  t.is(info.manifest.created, created.toISOString());
  t.is(info.manifest.payload.size, 64 * 1024);
  const bytes = readFileSync(path);
  t.is(info.size, bytes.length);
  t.is(info.sha256, createHash('sha256').update(bytes).digest('hex'));
  t.regex(info.sha256Colon, /^[0-9a-f]{2}(:[0-9a-f]{2}){31}$/);
  t.is(info.sha256Colon.replaceAll(':', ''), info.sha256);
  t.deepEqual(await inspectFirmware(path), info);
});

test('the same inputs give the same bytes; another version gives another payload', (t) => {
  const a = buildFirmware({ osName: 'Junos', osVersion: '1', created, size: 4096 });
  const b = buildFirmware({ osName: 'Junos', osVersion: '1', created, size: 4096 });
  const c = buildFirmware({ osName: 'Junos', osVersion: '2', created, size: 4096 });
  t.deepEqual(a, b);
  const payloadOf = (bytes: Buffer) => parseFirmware(bytes, 'x').payload.sha256;
  t.not(payloadOf(a), payloadOf(c));
});

test('the system tar reads the archive, members and sizes included', (t) => {
  const path = join(dir, 'listed.tgz');
  writeFileSync(path, buildFirmware({ osName: 'Junos', osVersion: '3', created, size: 1000 }));
  const listed = spawnSync('tar', ['-tvzf', path], { encoding: 'utf8' });
  t.is(listed.status, 0, listed.stderr);
  t.regex(listed.stdout, /manifest\.json/);
  t.regex(listed.stdout, /\s1000 .*payload\.bin/);
  const extracted = spawnSync('tar', ['-xzOf', path, 'manifest.json'], { encoding: 'utf8' });
  t.is((JSON.parse(extracted.stdout) as { 'os-version': string })['os-version'], '3');
});

test('payload size 0 and a custom size are allowed; nonsense is refused', (t) => {
  t.is(parseFirmware(buildFirmware({ osName: 'J', osVersion: '1', size: 0 }), 'x').payload.size, 0);
  t.is(
    parseFirmware(buildFirmware({ osName: 'J', osVersion: '1', size: 777 }), 'x').payload.size,
    777,
  );
  const error = t.throws(() => buildFirmware({ osName: 'J', osVersion: '1', size: -1 }));
  t.is((error as LabError).code, 'INVALID_ARGUMENT');
  t.throws(() => buildFirmware({ osName: '', osVersion: '1' }), { message: /os-name/ });
});

/** Replaces one member of a firmware archive's tar with other bytes of the same length. */
function tamper(bytes: Buffer, from: string, to: string): Buffer {
  const tar = gunzipSync(bytes);
  const at = tar.indexOf(from);
  if (at < 0) throw new Error(`"${from}" not in archive`);
  tar.write(to, at);
  return gzipSync(tar);
}

test('files that are not lab firmware are refused with the file named', async (t) => {
  const good = buildFirmware({ osName: 'Junos', osVersion: '1', created, size: 2048 });
  const cases: [string, Buffer, RegExp][] = [
    ['text.bin', Buffer.from('hello\n'), /not gzip-compressed/],
    ['plain.gz', gzipSync(Buffer.from('x'.repeat(2000))), /tar header checksum/],
    ['empty-tar.gz', gzipSync(Buffer.alloc(1024)), /no manifest\.json/],
    ['renamed.gz', tamper(good, 'manifest.json', 'manifest.jsoN'), /checksum|no manifest/],
    ['format.gz', tamper(good, 'sztp-lab-firmware/1', 'sztp-lab-firmware/9'), /checksum|format/],
  ];
  for (const [name, bytes, why] of cases) {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    const error = await t.throwsAsync(inspectFirmware(path));
    t.true(error instanceof LabError, name);
    t.is((error as LabError).code, 'FIRMWARE_INVALID', name);
    t.true(error?.message.startsWith(`${path}: not a lab firmware file`), error?.message);
    t.regex(error?.message ?? '', why, name);
  }
  const missing = await t.throwsAsync(inspectFirmware(join(dir, 'nope.tgz')));
  t.regex(missing?.message ?? '', /nope\.tgz: cannot read/);
});

test('the manifest is not protected inside the file: the file hash is what catches a change', (t) => {
  const good = buildFirmware({ osName: 'Junos', osVersion: '1', created, size: 2048 });
  const forged = tamper(good, '"os-version": "1"', '"os-version": "2"');
  t.is(parseFirmware(forged, 'forged.tgz')['os-version'], '2');
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  t.not(sha(forged), sha(good));
});

test('a payload changed after the manifest was written is caught by its SHA-256', (t) => {
  const tar = gunzipSync(buildFirmware({ osName: 'Junos', osVersion: '1', created, size: 600 }));
  // The payload starts in the block after its header, which follows the manifest's two blocks.
  const payloadStart = 3 * 512;
  tar[payloadStart] = (tar[payloadStart] ?? 0) ^ 0xff;
  t.throws(() => parseFirmware(gzipSync(tar), 'flip.tgz'), {
    message: /^flip\.tgz: .*payload\.bin does not match the SHA-256/,
  });
});

test('colonHex gives the yang:hex-string form', (t) => {
  t.is(colonHex(Uint8Array.of(0, 0xab, 0x10)), '00:ab:10');
  t.is(colonHex(new Uint8Array()), '');
});

test('CLI: firmware create and inspect print path, size and both hash forms', (t) => {
  const out = join(dir, 'cli.tgz');
  const made = cli(
    'firmware',
    'create',
    '--os-name',
    'Junos',
    '--os-version',
    '24.2R1',
    '--size',
    '5000',
    '--out',
    out,
    '--json',
  );
  t.is(made.status, 0, made.stderr);
  const doc = JSON.parse(made.stdout) as {
    path: string;
    size: number;
    sha256: string;
    hashValue: string;
    manifest: { 'os-name': string; payload: { size: number } };
  };
  t.is(doc.path, out);
  t.is(doc.size, readFileSync(out).length);
  t.is(doc.sha256, createHash('sha256').update(readFileSync(out)).digest('hex'));
  t.is(doc.hashValue, colonHex(Buffer.from(doc.sha256, 'hex')));
  t.is(doc.manifest.payload.size, 5000);
  const shown = cli('firmware', 'inspect', out);
  t.is(shown.status, 0, shown.stderr);
  t.regex(shown.stdout, /os-version\s+24\.2R1/);
  t.regex(shown.stdout, new RegExp(`hash-value\\s+${doc.hashValue}`));

  const bad = join(dir, 'cli-bad.bin');
  writeFileSync(bad, 'not firmware');
  const refused = cli('firmware', 'inspect', bad, '--json');
  t.is(refused.status, 1);
  const body = JSON.parse(refused.stdout) as { error: { code: string; message: string } };
  t.is(body.error.code, 'FIRMWARE_INVALID');
  t.true(body.error.message.includes(bad));
  t.is(
    cli('firmware', 'create', '--os-name', 'J', '--os-version', '1', '--size', 'big', '--out', out)
      .status,
    2,
  );
});
