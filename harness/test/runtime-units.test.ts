import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { findDebianMirror, mirrorsIn } from '../src/runtime/apt-mirror.ts';
import { bundleId, nodeBundles } from '../src/runtime/bundles.ts';
import {
  iscDhcpd4Config,
  iscDhcpd6Config,
  keaDhcp4Config,
  keaDhcp6Config,
} from '../src/runtime/dhcp-config.ts';
import { splitRule } from '../src/runtime/firewall.ts';
import { hashInputs } from '../src/runtime/images.ts';
import { isNoFault, netfaultCommand } from '../src/runtime/link-fault.ts';
import { networkNames, planFor } from '../src/runtime/networks.ts';

test('apt sources: one-line entries and deb822 stanzas give their mirrors', (t) => {
  const oneLine =
    'deb [arch=amd64] http://mirror.one/debian bookworm main\n# deb http://commented/ x y\n';
  const deb822 = 'Types: deb\nURIs: http://mirror.two/debian\nSuites: bookworm\n';
  t.deepEqual(mirrorsIn(oneLine), ['http://mirror.one/debian']);
  t.deepEqual(mirrorsIn(deb822), ['http://mirror.two/debian']);
  t.deepEqual(mirrorsIn('deb cdrom:[Debian]/ bookworm main'), []);
});

test('apt sources: the main archive is preferred over the security archive', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sztp-apt-'));
  try {
    mkdirSync(join(dir, 'sources.list.d'));
    writeFileSync(
      join(dir, 'sources.list.d', 'a.sources'),
      'URIs: http://sec.example/debian-security\n',
    );
    writeFileSync(join(dir, 'sources.list.d', 'b.sources'), 'URIs: http://main.example/debian\n');
    t.is(findDebianMirror(dir), 'http://main.example/debian');
    t.is(findDebianMirror(join(dir, 'absent')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('address plans stay in 198.18.0.0/15 and the lab ULA, and never overlap', (t) => {
  const seen = new Set<string>();
  for (const slot of [0, 1, 255, 256, 511]) {
    const plan = planFor(slot);
    t.regex(plan.ipv4.subnet, /^198\.1[89]\.\d{1,3}\.0\/24$/);
    t.regex(plan.ipv6.subnet, /^fd5a:7470:6c00:[0-9a-f]{1,3}::\/64$/);
    t.false(seen.has(plan.ipv4.subnet));
    seen.add(plan.ipv4.subnet);
  }
  t.is(planFor(256).ipv4.subnet, '198.19.0.0/24');
  t.is(planFor(3).ipv4.dhcpPool.start, '198.18.3.100');
  t.throws(() => planFor(512), { message: /outside 0\.\.511/ });
  t.throws(() => planFor(-1));
});

test('bridge names fit the kernel limit and differ between labs', (t) => {
  const a = networkNames('lab-with-a-rather-long-name', 'management');
  const b = networkNames('other', 'management');
  t.true(a.bridge.length <= 15);
  t.not(a.bridge, b.bridge);
  t.is(a.docker, 'sztp-lab-lab-with-a-rather-long-name-management');
});

test('iptables -S lines split into arguments with quoted comments kept whole', (t) => {
  t.deepEqual(splitRule('-D INPUT -i br0 -m comment --comment "sztp-lab:br0" -j DROP'), [
    '-D',
    'INPUT',
    '-i',
    'br0',
    '-m',
    'comment',
    '--comment',
    'sztp-lab:br0',
    '-j',
    'DROP',
  ]);
});

test('image input hashes change with content, mode and base, and only then', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sztp-img-'));
  try {
    writeFileSync(join(dir, 'Dockerfile'), 'FROM x\n');
    const first = hashInputs(dir, ['base-1']);
    t.is(hashInputs(dir, ['base-1']), first);
    t.not(hashInputs(dir, ['base-2']), first);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM y\n');
    t.not(hashInputs(dir, ['base-1']), first);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const plan4 = planFor(7).ipv4;
const plan6 = planFor(7).ipv6;
const payload = Buffer.from(
  `0019${Buffer.from('https://sztp1.example.com').toString('hex')}`,
  'hex',
);

test('Kea configurations carry the option as binary hex on the right subnet', (t) => {
  const v4 = JSON.parse(keaDhcp4Config({ iface: 'eth0', plan: plan4, sztpPayload: payload }));
  t.deepEqual(v4.Dhcp4['option-def'], [
    { name: 'sztp-redirect', code: 143, type: 'binary', space: 'dhcp4' },
  ]);
  const subnet = v4.Dhcp4.subnet4[0];
  t.is(subnet.subnet, '198.18.7.0/24');
  t.is(subnet.pools[0].pool, '198.18.7.100 - 198.18.7.200');
  t.is(subnet['option-data'][0].data, payload.toString('hex').toUpperCase());
  t.false(subnet['option-data'][0]['csv-format']);
  const v6 = JSON.parse(keaDhcp6Config({ iface: 'eth0', plan: plan6, sztpPayload: payload }));
  t.is(v6.Dhcp6.subnet6[0]['option-data'][0].code, 136);
  const none = JSON.parse(keaDhcp4Config({ iface: 'eth0', plan: plan4, sztpPayload: undefined }));
  t.deepEqual(none.Dhcp4.subnet4[0]['option-data'], []);
});

test('ISC configurations declare the option as a string of colon hex', (t) => {
  const v4 = iscDhcpd4Config({ iface: 'eth0', plan: plan4, sztpPayload: payload });
  t.regex(v4, /option sztp-redirect code 143 = string;/);
  t.regex(v4, /subnet 198\.18\.7\.0 netmask 255\.255\.255\.0 \{/);
  t.regex(v4, /option sztp-redirect 00:19:68:74:74:70:73:3a/);
  const v6 = iscDhcpd6Config({ iface: 'eth0', plan: plan6, sztpPayload: payload });
  t.regex(v6, /option dhcp6\.sztp-redirect code 136 = string;/);
  t.regex(v6, /range6 fd5a:7470:6c00:7::1000 fd5a:7470:6c00:7::1fff;/);
});

test('link fault: the helper command line, and a fault with nothing set clears', (t) => {
  t.deepEqual(netfaultCommand({ delayMs: 300, lossPercent: 5 }), [
    '/usr/local/bin/sztp-lab-netfault',
    '--delay-ms',
    '300',
    '--loss',
    '5',
    '--corrupt',
    '0',
    '--direction',
    'egress',
  ]);
  t.deepEqual(netfaultCommand({ corruptPercent: 0.5, direction: 'both' }).slice(5), [
    '--corrupt',
    '0.5',
    '--direction',
    'both',
  ]);
  t.true(isNoFault({}));
  t.true(isNoFault({ delayMs: 0, direction: 'both' }));
  t.false(isNoFault({ lossPercent: 1 }));
});

test('node bundles: built once per source hash, and the server bundle runs without tsx', async (t) => {
  const bundles = await nodeBundles();
  t.is(bundles.id, bundleId());
  t.is(await nodeBundles(), bundles, 'one build per process');
  const repo = fileURLToPath(new URL('../../', import.meta.url));
  const onHost = (path: string) => join(repo, path.replace(/^\/opt\/sztp-lab\//, ''));
  t.regex(
    bundles.server,
    new RegExp(`^/opt/sztp-lab/\\.cache/bundles/${bundles.id}/server\\.mjs$`),
  );
  t.true(existsSync(onHost(bundles.device)));
  // Plain node, no loader: the bundle holds everything, and its entry checks its arguments.
  const run = spawnSync(process.execPath, [onHost(bundles.server)], { encoding: 'utf8' });
  t.is(run.status, 2);
  t.regex(run.stderr, /--config FILE is required/);
  const parsed = execFileSync(process.execPath, ['--check', onHost(bundles.device)]);
  t.is(parsed.length, 0);
});
