import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { collectServerEvents, serversToWatch } from '../src/scenario/server-events.ts';
import {
  auditEvents,
  auditLogEntries,
  bindEvents,
  iscEvents,
  keaEvents,
  nginxEvents,
  SERVER_EVENT_KINDS,
} from '../src/scenario/server-logs.ts';
import type { Topology } from '../src/topology/types.ts';

// Every log line below was captured from a real lab container (`docker logs --timestamps`
// where a stamp leads the line), cut to what each reader needs.

const AUDIT_ONBOARDING = {
  seq: 1,
  ts: '2026-12-03T19:52:17.481Z',
  kind: 'audit',
  peer: '198.18.2.100',
  method: 'POST',
  path: '/restconf/operations/ietf-sztp-bootstrap-server:get-bootstrapping-data',
  tls: 'TLSv1.3',
  rpc: 'get-bootstrapping-data',
  serial: 'SN-0001',
  auth: 'certificate',
  status: 200,
  outcome: 'onboarding',
  signed: true,
  nonce: false,
  encoding: 'json',
  durationMs: 3.05,
};
const AUDIT_FAULT = {
  seq: 1,
  ts: '2026-12-03T19:54:21.713Z',
  kind: 'audit',
  peer: '198.18.27.100',
  method: 'POST',
  path: '/restconf/operations/ietf-sztp-bootstrap-server:get-bootstrapping-data',
  tls: 'TLSv1.3',
  rpc: 'get-bootstrapping-data',
  serial: 'SN-0002',
  auth: 'certificate',
  faults: ['51d3d9b7'],
  status: 503,
  outcome: 'error',
  errorTag: 'operation-failed',
  errorMessage: 'injected fault',
  durationMs: 1.45,
};

test('audit entries become request events with the server time and every field', (t) => {
  const events = auditEvents('bootstrap', [
    AUDIT_ONBOARDING,
    AUDIT_FAULT,
    { kind: 'progress', ts: '2026-12-03T19:52:17.500Z', status: 204 },
    { kind: 'audit', ts: 'yesterday', status: 200 },
    { kind: 'audit', ts: '2026-12-03T19:52:17.500Z' },
    'not an entry',
    null,
  ]);
  t.is(events.length, 2, 'other journal kinds, bad times and entries without status are skipped');
  const { kind: _kind, ts: _ts, ...fields } = AUDIT_ONBOARDING;
  t.deepEqual(events[0], {
    time: '2026-12-03T19:52:17.481Z',
    node: 'bootstrap',
    kind: 'request',
    ...fields,
  });
  t.like(events[1], { status: 503, outcome: 'error', faults: ['51d3d9b7'] });
});

test('audit lines in a stopped server log are read back, banner and cut lines skipped', (t) => {
  const log = [
    '2026-12-03T20:00:24.667923096Z serving redirect-server + onboarding-server at https://[::]:8443, admin API at http://127.0.0.1:9000',
    `2026-12-03T19:52:17.482733769Z ${JSON.stringify(AUDIT_ONBOARDING)}`,
    '2026-12-03T19:52:17.529352858Z {"seq":3,"ts":"2026-12-03T19:52:17.529Z","kind":"audit","peer":"198.1',
    JSON.stringify(AUDIT_FAULT),
  ].join('\n');
  const events = auditEvents('bootstrap-a', auditLogEntries(log));
  t.deepEqual(
    events.map((e) => [e.time, e.status]),
    [
      ['2026-12-03T19:52:17.481Z', 200],
      ['2026-12-03T19:54:21.713Z', 503],
    ],
  );
});

test('nginx access lines become download events, timed to the millisecond by Docker', (t) => {
  const log = [
    '2026-12-03T20:00:25.918840124Z {"time":"2026-12-03T20:00:25+00:00","client":"198.19.26.2","method":"GET","uri":"/junos-24.2R1.tgz","status":"200","bytes":"65995","tls":"TLSv1.3","clientVerify":"SUCCESS","clientSubject":"serialNumber=SN-0001,CN=MX204,O=sztp-lab manufacturer","clientIssuer":"CN=IDevID Issuing CA,O=sztp-lab","clientSerial":"553E11EF7FD0A8CEDF56CB6B0F46A438","userAgent":"curl/7.88.1"}',
    '{"time":"2026-12-03T19:52:21+00:00","client":"198.18.120.100","method":"GET","uri":"/junos-24.2R1.tgz","status":"200","bytes":"65995","tls":"TLSv1.3","clientVerify":"NONE","clientSubject":"","clientIssuer":"","clientSerial":"","userAgent":"curl/7.88.1"}',
    '2026-12-03T20:00:30.000000000Z {"time":"2026-12-03T20:00:25+00:00","uri":"/late","status":"404","bytes":"0"}',
    '2026-12-03T20:00:24.100000000Z 2026/12/03 20:00:24 [notice] 1#1: start worker processes',
    '{"time":"not a time","uri":"/x","status":"200"}',
    '{"time":"2026-12-03T20:00:25+00:00","uri":"/x","status":"-"}',
    '2026-12-03T20:00:27.000000000Z {"time":"2026-12-03T20:00:26+00:00","msec":"1796328026.417","uri":"/msec","status":"200","bytes":"1"}',
  ].join('\n');
  const events = nginxEvents('images', log);
  t.is(events.length, 4);
  t.is(events[3]?.time, '2026-12-03T20:00:26.417Z', 'msec, when logged, times the line');
  t.false('msec' in (events[3] ?? {}), 'msec is not a field of the event');
  t.deepEqual(events[0], {
    time: '2026-12-03T20:00:25.918Z',
    node: 'images',
    kind: 'download',
    client: '198.19.26.2',
    method: 'GET',
    uri: '/junos-24.2R1.tgz',
    status: 200,
    bytes: 65995,
    tls: 'TLSv1.3',
    clientVerify: 'SUCCESS',
    clientSubject: 'serialNumber=SN-0001,CN=MX204,O=sztp-lab manufacturer',
    clientIssuer: 'CN=IDevID Issuing CA,O=sztp-lab',
    certSerial: '553E11EF7FD0A8CEDF56CB6B0F46A438',
    serial: 'SN-0001',
    userAgent: 'curl/7.88.1',
  });
  t.is(events[1]?.time, '2026-12-03T19:52:21.000Z', 'no stamp: nginx’s own second');
  t.false('clientSubject' in (events[1] ?? {}), 'empty values are left out');
  t.is(events[2]?.time, '2026-12-03T20:00:25.000Z', 'a stamp far from nginx’s time is not used');
});

const KEA_LOG = `2026-12-03 19:52:20.356 INFO  [kea-dhcp4.dhcp4/8.139689156317696] DHCP4_STARTING Kea DHCPv4 server version 2.2.0 (stable) starting
2026-12-03 19:52:20.363 WARN  [kea-dhcp4.dhcpsrv/8.139689156317696] DHCPSRV_MEMFILE_NO_STORAGE running in non-persistent mode, leases will be lost after restart
2026-12-03 19:52:20.680 INFO  [kea-dhcp4.leases/8.139689156317696] DHCP4_LEASE_ADVERT [hwtype=1 02:42:c6:12:78:02], cid=[no info], tid=0x4f99457a: lease 198.18.120.100 will be advertised
2026-12-03 19:52:20.683 INFO  [kea-dhcp4.leases/8.139689156317696] DHCP4_LEASE_ALLOC [hwtype=1 02:42:c6:12:78:02], cid=[no info], tid=0x4f99457a: lease 198.18.120.100 has been allocated for 600 seconds
2026-12-03 19:52:21.955 INFO  [kea-dhcp4.leases/8.139689156317696] DHCP4_INIT_REBOOT [hwtype=1 02:42:c6:12:78:02], cid=[no info], tid=0x6c587c36: client is in INIT-REBOOT state and requests address 198.18.120.100
2026-12-03 19:52:21.956 INFO  [kea-dhcp4.leases/8.139689156317696] DHCP4_LEASE_ALLOC [hwtype=1 02:42:c6:12:78:02], cid=[no info], tid=0x6c587c36: lease 198.18.120.100 has been allocated for 600 seconds
2026-12-03 19:54:20.017 INFO  [kea-dhcp6.leases/44.140628643058176] DHCP6_LEASE_ADVERT duid=[00:01:00:01:32:a4:85:6b:02:42:c6:13:34:02], tid=0xd0e38f: lease for address fd5a:7470:6c00:134::1000 and iaid=3323147266 will be advertised
2026-12-03 19:54:21.048 INFO  [kea-dhcp6.leases/44.140628643058176] DHCP6_LEASE_ALLOC duid=[00:01:00:01:32:a4:85:6b:02:42:c6:13:34:02], tid=0x5f63ae: lease for address fd5a:7470:6c00:134::1000 and iaid=3323147266 has been allocated for 600 seconds
2026-12-03 19:54:21.0`;

test('Kea leases: one event per allocation, DHCPv4 and DHCPv6, in Kea’s own time', (t) => {
  const events = keaEvents('dhcp', KEA_LOG);
  t.deepEqual(events, [
    {
      time: '2026-12-03T19:52:20.683Z',
      node: 'dhcp',
      kind: 'lease',
      family: 4,
      address: '198.18.120.100',
      client: '02:42:c6:12:78:02',
      lifetime: 600,
    },
    {
      time: '2026-12-03T19:52:21.956Z',
      node: 'dhcp',
      kind: 'lease',
      family: 4,
      address: '198.18.120.100',
      client: '02:42:c6:12:78:02',
      lifetime: 600,
    },
    {
      time: '2026-12-03T19:54:21.048Z',
      node: 'dhcp',
      kind: 'lease',
      family: 6,
      address: 'fd5a:7470:6c00:134::1000',
      client: '00:01:00:01:32:a4:85:6b:02:42:c6:13:34:02',
      iaid: 3323147266,
      lifetime: 600,
    },
  ]);
  const stamped = KEA_LOG.split('\n')
    .map((line) => `2026-12-03T19:52:20.684000000Z ${line}`)
    .join('\n');
  t.deepEqual(keaEvents('dhcp', stamped), events, 'Docker’s stamp does not replace Kea’s time');
});

test('ISC dhcpd leases take Docker’s time; lines without it are skipped', (t) => {
  const log = `2026-12-03T20:00:25.673695374Z Wrote 0 leases to leases file.
2026-12-03T20:00:25.728080148Z DHCPDISCOVER from 02:42:c6:13:1a:03 via eth0
2026-12-03T20:00:26.729650949Z DHCPOFFER on 198.19.26.100 to 02:42:c6:13:1a:03 via eth0
2026-12-03T20:00:26.730082422Z DHCPREQUEST for 198.19.26.100 (198.19.26.11) from 02:42:c6:13:1a:03 via eth0
2026-12-03T20:00:26.730415720Z DHCPACK on 198.19.26.100 to 02:42:c6:13:1a:03 via eth0
2026-12-03T20:01:16.002819122Z Advertise NA: address fd5a:7470:6c00:126::1d84 to client with duid 00:01:00:01:32:a4:87:0b:02:42:c6:13:26:03 iaid = -971823613 valid for 600 seconds
2026-12-03T20:01:17.014112409Z Reply NA: address fd5a:7470:6c00:126::1d84 to client with duid 00:01:00:01:32:a4:87:0b:02:42:c6:13:26:03 iaid = -971823613 valid for 600 seconds
2026-12-03T20:01:19.374271839Z Confirm message from fe80::42:c6ff:fe13:2603 port 546, transaction ID 0xF3846900
DHCPACK on 198.19.19.100 to 02:42:c6:13:13:02 via eth0`;
  t.deepEqual(iscEvents('dhcp', log), [
    {
      time: '2026-12-03T20:00:26.730Z',
      node: 'dhcp',
      kind: 'lease',
      family: 4,
      address: '198.19.26.100',
      client: '02:42:c6:13:1a:03',
    },
    {
      time: '2026-12-03T20:01:17.014Z',
      node: 'dhcp',
      kind: 'lease',
      family: 6,
      address: 'fd5a:7470:6c00:126::1d84',
      client: '00:01:00:01:32:a4:87:0b:02:42:c6:13:26:03',
      iaid: 3323143683,
      lifetime: 600,
    },
  ]);
});

test('bind9 query lines become query events with transport from the flags', (t) => {
  const log = `2026-12-03T20:00:24.101000000Z 03-Dec-2026 20:00:24.101 zone sztp-lab.test/IN: loaded serial 1
2026-12-03T20:00:24.101000000Z 03-Dec-2026 20:00:24.101 running
2026-12-03T20:00:25.727837156Z 03-Dec-2026 20:00:25.725 client @0x7f1202639c98 198.19.26.2#44025 (SN-0001._sztp.sztp-lab.test): query: SN-0001._sztp.sztp-lab.test IN TXT +E(0)TK (198.19.26.12)
2026-12-03T20:00:25.765720709Z 03-Dec-2026 20:00:25.761 client @0x7f1200b07098 198.19.26.2#51332 (bootstrap.sztp-lab.test): query: bootstrap.sztp-lab.test IN A + (198.19.26.12)
03-Dec-2026 19:53:07.493 client @0x7f1ea2307098 198.19.192.2#46689 (_sztp._tcp.sztp-lab.test): query: _sztp._tcp.sztp-lab.test IN SRV +E(0)TK (198.19.192.12)
03-Foo-2026 19:53:07.493 client @0x7f1ea2307098 198.19.192.2#46689 (x): query: x IN A + (198.19.192.12)`;
  const events = bindEvents('dns', log);
  t.deepEqual(events[0], {
    time: '2026-12-03T20:00:25.725Z',
    node: 'dns',
    kind: 'query',
    client: '198.19.26.2',
    name: 'SN-0001._sztp.sztp-lab.test',
    class: 'IN',
    type: 'TXT',
    transport: 'tcp',
    flags: '+E(0)TK',
  });
  t.like(events[1], { type: 'A', transport: 'udp', time: '2026-12-03T20:00:25.761Z' });
  t.like(events[2], { type: 'SRV', name: '_sztp._tcp.sztp-lab.test' });
  t.is(events.length, 3, 'an unknown month is skipped');
});

const topology = {
  name: 't',
  nodes: {
    dhcp: { kind: 'dhcp', server: 'kea', families: [4] },
    dns: { kind: 'dns' },
    redirect: { kind: 'redirect-server' },
    bootstrap: { kind: 'bootstrap-server' },
    images: { kind: 'image-server' },
    router1: { kind: 'device' },
  },
} as unknown as Topology;

test('collection: every server in topology order; a server that cannot be read has none', async (t) => {
  const asked: string[] = [];
  const events = await collectServerEvents(topology, {
    audit: async (server) => {
      if (server === 'bootstrap') throw new Error('admin API: container is not running');
      return [{ ...AUDIT_ONBOARDING, outcome: 'redirect', serial: 'SN-0003' }];
    },
    log: async (node) => {
      asked.push(node);
      if (node === 'dns') throw new Error('no such container');
      if (node === 'dhcp') return KEA_LOG;
      if (node === 'bootstrap') return `2026-12-03T19:54:21.714Z ${JSON.stringify(AUDIT_FAULT)}`;
      return 'garbage\n{"half":';
    },
  });
  t.deepEqual(
    events.map((e) => [e.node, e.kind]),
    [
      ['dhcp', 'lease'],
      ['dhcp', 'lease'],
      ['dhcp', 'lease'],
      ['redirect', 'request'],
      ['bootstrap', 'request'],
    ],
  );
  t.like(events[4], { status: 503 }, 'the audit lines of its log stand in for the admin API');
  t.false(asked.includes('router1'), 'devices are not read');
});

test('server kinds and fault are none of the kinds a routing engine emits', (t) => {
  const dir = new URL('../src/device/', import.meta.url).pathname;
  const deviceKinds = new Set<string>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts'))) {
    const source = readFileSync(join(dir, file), 'utf8');
    for (const match of source.matchAll(
      /\.emit\(\s*(?:[^'),]*\?\s*)?'([a-z-]+)'(?:\s*:\s*'([a-z-]+)')?/g,
    )) {
      deviceKinds.add(match[1] as string);
      if (match[2]) deviceKinds.add(match[2]);
    }
  }
  t.true(deviceKinds.size > 40, `found the device kinds (${deviceKinds.size})`);
  t.true(deviceKinds.has('backup-refused') && deviceKinds.has('backup-authenticated'));
  t.deepEqual(
    [...SERVER_EVENT_KINDS, 'fault'].filter((kind) => deviceKinds.has(kind)),
    [],
  );
});

test('a wait reads only the servers whose records could match', (t) => {
  const all = ['dhcp', 'dns', 'redirect', 'bootstrap', 'images'];
  t.deepEqual(serversToWatch(topology, { node: 'router1', kind: 'bootstrap-complete' }), []);
  t.deepEqual(serversToWatch(topology, { kind: 'bootstrap-complete' }), []);
  t.deepEqual(serversToWatch(topology, { node: 'nowhere' }), []);
  t.deepEqual(serversToWatch(topology, { node: 'images', kind: 'download' }), ['images']);
  t.deepEqual(serversToWatch(topology, { kind: 'request', status: 200 }), [
    'redirect',
    'bootstrap',
  ]);
  t.deepEqual(serversToWatch(topology, { kind: 'lease' }), ['dhcp']);
  t.deepEqual(serversToWatch(topology, { node: '/^b/', kind: 'request' }), [
    'redirect',
    'bootstrap',
  ]);
  t.deepEqual(serversToWatch(topology, { kind: '/download|lease/' }), all);
  t.deepEqual(serversToWatch(topology, { status: 200 }), all);
});

test('collection with only: the other servers are not read', async (t) => {
  const asked: string[] = [];
  const events = await collectServerEvents(
    topology,
    {
      audit: async () => [],
      log: async (node) => {
        asked.push(node);
        return node === 'dhcp' ? KEA_LOG : '';
      },
    },
    ['dhcp'],
  );
  t.deepEqual(asked, ['dhcp']);
  t.true(events.length > 0 && events.every((e) => e.node === 'dhcp' && e.kind === 'lease'));
});
