import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const bin = fileURLToPath(new URL('../bin/sztp-lab.js', import.meta.url));

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const child = spawnSync(process.execPath, [bin, 'dhcp-option', ...args], { encoding: 'utf8' });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

const VENDOR = '001a68747470733a2f2f6d782d7068732d736572766572362e6e6574';
const OPI =
  'https://redirecter:8080/restconf/operations/ietf-sztp-bootstrap-server:get-bootstrapping-data';
const hexOf = (text: string) => Buffer.from(text).toString('hex');

test('decode prints the vendor example URI', (t) => {
  const result = run('decode', VENDOR);
  t.is(result.status, 0, result.stderr);
  t.is(result.stdout, 'https://mx-phs-server6.net\n');
});

test('decode --json takes dhclient colon hex without padding', (t) => {
  const dhclient = '0:15:68:74:74:70:73:3a:2f:2f:31:30:2e:31:2e:31:2e:33:3a:38:30:38:30';
  const result = run('decode', '--json', dhclient);
  t.is(result.status, 0, result.stderr);
  t.deepEqual(JSON.parse(result.stdout), {
    uris: ['https://10.1.1.3:8080'],
    skipped: [],
    warnings: [],
  });
});

test('decode joins space-separated arguments and option headers with --with-header', (t) => {
  const result = run('decode', '--with-header', '8f', '1c', ...(VENDOR.match(/../g) ?? []));
  t.is(result.status, 0, result.stderr);
  t.is(result.stdout, 'https://mx-phs-server6.net\n');
});

test('strict decode of plain text fails with a reason on stderr', (t) => {
  const result = run('decode', hexOf(OPI));
  t.is(result.status, 1);
  t.is(result.stdout, '');
  t.regex(
    result.stderr,
    /looks like plain text.*RFC 8572 §8\.3.*--lenient.*\[DHCP_OPTION_INVALID\]/s,
  );
});

test('lenient decode reads plain text and warns on stderr', (t) => {
  const opi = run('decode', '--lenient', hexOf(OPI));
  t.is(opi.status, 0, opi.stderr);
  t.is(opi.stdout, 'https://redirecter:8080\n');
  t.regex(opi.stderr, /warning: dropped "\/restconf/);
  const fl = run('decode', '--v6', '--lenient', '--json', hexOf('host:9090'));
  t.is(fl.status, 0, fl.stderr);
  const document = JSON.parse(fl.stdout) as { uris: string[]; warnings: string[] };
  t.deepEqual(document.uris, ['https://host:9090']);
  t.regex(document.warnings.join('\n'), /assumed https/);
});

test('an option with only invalid URIs is reported as dropped', (t) => {
  const entry = hexOf('http://a.example');
  const result = run('decode', `00${(entry.length / 2).toString(16)}${entry}`);
  t.is(result.status, 1);
  t.regex(result.stderr, /receiver discards it.*"http:\/\/a\.example".*only https/);
});

test('encode prints hex, colon, isc, kea and the JSON document', (t) => {
  const uri = 'https://10.1.1.3:8080';
  const payload = `0015${hexOf(uri)}`;
  t.is(run('encode', uri).stdout, `${payload}\n`);
  t.is(run('encode', '--format', 'colon', uri).stdout.slice(0, 15), '00:15:68:74:74:');
  t.is(run('encode', '--format', 'isc', uri).stdout.slice(0, 15), '00:15:68:74:74:');
  t.is(run('encode', '--format', 'kea', uri).stdout, `${payload.toUpperCase()}\n`);
  t.is(run('encode', '--tlv', uri).stdout, `8f17${payload}\n`);
  const json = JSON.parse(run('encode', '--json', '--v6', uri).stdout);
  t.deepEqual(json, {
    code: 136,
    payloadHex: payload,
    instances: [`00880017${payload}`],
    formatted: payload,
  });
});

test('encode --tlv prints one line per RFC 3396 instance', (t) => {
  const uris = Array.from({ length: 8 }, (_, i) => `https://bootstrap-0${i}.example.net:8443`);
  const result = run('encode', '--tlv', ...uris);
  t.is(result.status, 0, result.stderr);
  const lines = result.stdout.trim().split('\n');
  t.deepEqual(
    lines.map((line) => [line.slice(0, 4), line.length / 2]),
    [
      ['8fff', 257],
      ['8f39', 59],
    ],
  );
});

test('encode refuses an invalid URI, naming it and the reason', (t) => {
  const result = run('encode', 'https://sztp.example.com', 'https://b.example/path');
  t.is(result.status, 1);
  t.is(result.stdout, '');
  t.regex(result.stderr, /Cannot encode "https:\/\/b\.example\/path": it has a path/);
});

test('bad hex and bad flags exit non-zero', (t) => {
  const hex = run('decode', '0:115');
  t.is(hex.status, 2);
  t.regex(hex.stderr, /INVALID_ARGUMENT/);
  t.not(run('encode', '--format', 'yaml', 'https://a.example').status, 0);
  t.is(run('encode', '--format', 'kea', '--tlv', 'https://a.example').status, 2);
});
