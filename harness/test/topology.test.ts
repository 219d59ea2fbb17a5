import test from 'ava';
import { LabError } from '../src/common/errors.ts';
import { loadTopology, parseTopology, topologyFromYaml } from '../src/topology/load.ts';
import { schemaDocuments } from '../src/topology/schema.ts';
import type { DeviceNode, DhcpNode, ServerNode } from '../src/topology/types.ts';

const FILE = 'topologies/x.yaml';

/** A small valid topology document, as parsed YAML; each invalid case changes a copy. */
// biome-ignore lint/suspicious/noExplicitAny: the cases reach into the document freely
type Doc = Record<string, any>;

function base(): Doc {
  return {
    name: 'lab',
    nodes: {
      dhcp: { kind: 'dhcp', 'bootstrap-servers': ['redirect', 'https://192.0.2.1:8443'] },
      dns: { kind: 'dns', srv: ['bootstrap'], txt: { 'SN-0001': 'bootstrap' } },
      redirect: { kind: 'redirect-server' },
      bootstrap: { kind: 'bootstrap-server' },
      images: {
        kind: 'image-server',
        images: { 'a.tgz': { 'os-name': 'Junos', 'os-version': '24.2R1' } },
      },
      router1: { kind: 'device', serial: 'SN-0001' },
      router2: { kind: 'device', serial: 'SN-0002' },
    },
    records: {
      redirect: { 'SN-0001': { redirect: [{ server: 'bootstrap' }], signed: true } },
      bootstrap: {
        'SN-0001': { onboarding: { 'boot-image': { server: 'images', file: 'a.tgz' } } },
      },
    },
  };
}

function refusal(doc: unknown): LabError {
  const error = (() => {
    try {
      parseTopology(doc, FILE);
    } catch (caught) {
      return caught;
    }
    return undefined;
  })();
  if (!(error instanceof LabError)) throw new Error('the document was accepted');
  return error;
}

test('the example topologies load', async (t) => {
  for (const file of ['topologies/basic.yaml', 'topologies/full.yaml']) {
    const topology = await loadTopology(file);
    t.is(topology.file, file);
  }
});

test('basic.yaml gets its defaults, in camelCase, and is frozen deeply', async (t) => {
  const topology = await loadTopology('topologies/basic.yaml');
  t.deepEqual(topology.pki, { key: 'ecdsa-p256', pinnedDomain: 'root', domain: 'sztp-lab.test' });
  t.deepEqual(topology.networks, { lan: { ipv6: false } });
  const dhcp = topology.nodes.dhcp as DhcpNode;
  t.deepEqual([dhcp.network, dhcp.families, dhcp.bootstrapServers], ['lan', [4], ['bootstrap']]);
  const server = topology.nodes.bootstrap as ServerNode;
  t.deepEqual([server.port, server.tls], [8443, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' }]);
  const device = topology.nodes.router1 as DeviceNode;
  t.like(device, {
    model: 'MX204',
    profile: 'junos',
    startingImage: { osName: 'Junos', osVersion: '23.4R1' },
    routingEngines: ['re0'],
    keyAlgorithm: 'ecc-p256',
    sources: ['dhcp4'],
    wellKnownServers: [],
    trustsServers: true,
    clock: { mode: 'system', skewSeconds: 0 },
    powerOn: true,
  });
  t.like(topology.records.bootstrap?.['SN-0001'], {
    onboarding: {
      bootImage: { server: 'images', file: 'junos-24.2R1.tgz' },
      configurationHandling: 'merge',
    },
    signed: false,
    encoding: 'json',
    reportingLevel: 'verbose',
    untrusted: 'promote',
  });
  t.true(Object.isFrozen(topology));
  t.true(Object.isFrozen(device.clock));
  t.true(Object.isFrozen(dhcp.families));
  t.throws(() => {
    (device as { serial: string }).serial = 'other';
  });
});

test('full.yaml: dual routing engines, DNS domain from the PKI, redirect defaults', async (t) => {
  const topology = await loadTopology('topologies/full.yaml');
  t.deepEqual((topology.nodes.router2 as DeviceNode).routingEngines, ['re0', 're1']);
  t.deepEqual((topology.nodes.dhcp as DhcpNode).families, [4, 6]);
  t.deepEqual(topology.records.redirect?.['SN-0002']?.redirect, [
    { server: 'bootstrap', trustAnchor: true },
  ]);
  t.like(topology.records.bootstrap?.['SN-0002'], {
    encoding: 'xml',
    voucher: { validityDays: 7 },
  });
});

test('user-chosen keys stay as written; only the format keys are camelCased', (t) => {
  const doc = base();
  doc.nodes['pre-configuration-script'] = { kind: 'bootstrap-server' };
  doc.nodes.dhcp['bootstrap-servers'].push('pre-configuration-script');
  const topology = parseTopology(doc, FILE);
  t.truthy(topology.nodes['pre-configuration-script']);
  t.truthy((topology.nodes.images as { images: Record<string, unknown> }).images['a.tgz']);
  t.truthy(topology.nodes.dns && 'txt' in topology.nodes.dns && topology.nodes.dns.txt['SN-0001']);
});

test('defaults come from the node first, then its kind, then the lab', (t) => {
  const doc = base();
  doc.pki = { domain: 'example.net' };
  doc.nodes.router1.clock = { 'skew-seconds': -60 };
  doc.nodes.bootstrap.tls = { 'max-version': 'TLSv1.2' };
  const topology = parseTopology(doc, FILE);
  t.is((topology.nodes.dns as { domain: string }).domain, 'example.net');
  t.deepEqual((topology.nodes.router1 as DeviceNode).clock, { mode: 'system', skewSeconds: -60 });
  t.deepEqual((topology.nodes.bootstrap as ServerNode).tls, {
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
  });
});

test('a network has IPv6 when it says so, or when a node on it uses DHCPv6', (t) => {
  const ipv6Of = (doc: Doc) => parseTopology(doc, FILE).networks.lan?.ipv6;
  t.false(ipv6Of(base()));
  const served = base();
  served.nodes.dhcp.families = [4, 6];
  t.true(ipv6Of(served));
  const asked = base();
  asked.nodes.router2.sources = ['dhcp4', 'dhcp6'];
  t.true(ipv6Of(asked));
  const said = base();
  said.networks = { lan: { ipv6: true } };
  t.true(ipv6Of(said));
  // A network that says false keeps it, and DHCPv6 on it is refused by the checks.
  served.networks = { lan: { ipv6: false } };
  t.throws(() => parseTopology(served, FILE), { message: /has no IPv6/ });
  // With two networks, only the one the DHCPv6 node is on gets IPv6.
  const two = base();
  two.networks = { lan: {}, mgmt: {} };
  for (const node of Object.values(two.nodes) as Doc[]) node.network = 'lan';
  two.nodes.dhcp.families = [6];
  const networks = parseTopology(two, FILE).networks;
  t.deepEqual([networks.lan?.ipv6, networks.mgmt?.ipv6], [true, false]);
});

test('records for serials listed in unknown-serials are accepted', (t) => {
  const doc = base();
  doc.records.bootstrap['SN-9999'] = { redirect: [{ server: 'bootstrap' }] };
  t.throws(() => parseTopology(doc, FILE), { message: /records\.bootstrap\.SN-9999/ });
  doc['unknown-serials'] = ['SN-9999'];
  t.deepEqual(parseTopology(doc, FILE).unknownSerials, ['SN-9999']);
});

test('a redirect entry takes trust-anchor true, false or wrong-ca, and nothing else', (t) => {
  const withAnchor = (value: unknown) => {
    const doc = base();
    doc['unknown-serials'] = ['SN-9999'];
    doc.records.bootstrap['SN-9999'] = {
      redirect: [{ server: 'bootstrap', 'trust-anchor': value }],
    };
    return doc;
  };
  for (const value of [true, false, 'wrong-ca']) {
    const topology = parseTopology(withAnchor(value), FILE);
    t.deepEqual(topology.records.bootstrap?.['SN-9999']?.redirect, [
      { server: 'bootstrap', trustAnchor: value },
    ]);
  }
  t.throws(() => parseTopology(withAnchor('stale'), FILE), {
    message: /records\.bootstrap\.SN-9999\.redirect\[0\]\.trust-anchor/,
  });
});

/** Each case breaks the base document one way; the message must name the file and the path. */
const invalid: [string, (doc: Doc) => void, RegExp][] = [
  [
    'unknown key, with a suggestion',
    (d) => {
      d.nodes.router1.serail = 'x';
    },
    /nodes\.router1: unknown key "serail" \(did you mean "serial"\?\)/,
  ],
  [
    'unknown top-level key',
    (d) => {
      d.node = {};
    },
    /x\.yaml: unknown key "node" \(did you mean "nodes"\?\)/,
  ],
  [
    'wrong type',
    (d) => {
      d.nodes.router1.serial = 1234;
    },
    /nodes\.router1\.serial must be a string/,
  ],
  [
    'wrong type in a list',
    (d) => {
      d.nodes.dhcp.families = ['4'];
    },
    /nodes\.dhcp\.families\[0\] must be one of 4, 6/,
  ],
  [
    'bad enum, with a suggestion',
    (d) => {
      d.nodes.router1.profile = 'junoss';
    },
    /nodes\.router1\.profile must be one of "junos", "rfc8572" \(got "junoss"; did you mean "junos"\?\)/,
  ],
  [
    'bad node kind',
    (d) => {
      d.nodes.router1.kind = 'router';
    },
    /nodes\.router1\.kind must be one of/,
  ],
  [
    'missing required key',
    (d) => {
      delete d.nodes.router1.serial;
    },
    /nodes\.router1: missing required key "serial"/,
  ],
  [
    'bad lab name',
    (d) => {
      d.name = 'My_Lab';
    },
    /x\.yaml: name must be lowercase letters/,
  ],
  [
    'bad node name',
    (d) => {
      d.nodes.Router3 = { kind: 'device', serial: 'SN-3' };
    },
    /nodes\.Router3 is not a valid key: node names must be lowercase/,
  ],
  [
    'serial that is no DNS label',
    (d) => {
      d.nodes.router2.serial = 'SN_0002';
    },
    /nodes\.router2\.serial must be a DNS label/,
  ],
  [
    'duplicate serial',
    (d) => {
      d.nodes.router2.serial = 'SN-0001';
    },
    /nodes\.router2\.serial: "SN-0001" is also the serial of node router1/,
  ],
  [
    'port out of range',
    (d) => {
      d.nodes.bootstrap.port = 70000;
    },
    /nodes\.bootstrap\.port must be <= 65535/,
  ],
  [
    'DHCP server that is no node',
    (d) => {
      d.nodes.dhcp['bootstrap-servers'] = ['bootstrap2'];
    },
    /topologies\/x\.yaml: nodes\.dhcp\.bootstrap-servers\[0\]: "bootstrap2" is not a node of kind bootstrap-server or redirect-server/,
  ],
  [
    'DHCP server URI that is not https',
    (d) => {
      d.nodes.dhcp['bootstrap-servers'] = ['http://192.0.2.1/'];
    },
    /nodes\.dhcp\.bootstrap-servers\[0\]: "http:\/\/192\.0\.2\.1\/" must be an https:\/\/ URI/,
  ],
  [
    'DNS SRV target of the wrong kind',
    (d) => {
      d.nodes.dns.srv = ['images'];
    },
    /nodes\.dns\.srv\[0\]: "images" is not a node of kind bootstrap-server or redirect-server \(it is an image-server node\)/,
  ],
  [
    'DNS TXT for a server without that record',
    (d) => {
      d.nodes.dns.txt = { 'SN-0002': 'bootstrap' };
    },
    /nodes\.dns\.txt\.SN-0002: server bootstrap has no record for SN-0002/,
  ],
  [
    'records of a node that is no server',
    (d) => {
      d.records.images = {};
    },
    /records\.images: "images" is not a node of kind bootstrap-server or redirect-server/,
  ],
  [
    'records for a serial no device has',
    (d) => {
      d.records.bootstrap['SN-0404'] = { redirect: [{ server: 'bootstrap' }] };
    },
    /records\.bootstrap\.SN-0404: "SN-0404" is not the serial of a device node.*unknown-serials/,
  ],
  [
    'boot image from a node that is no image server',
    (d) => {
      d.records.bootstrap['SN-0001'].onboarding['boot-image'].server = 'bootstrap';
    },
    /records\.bootstrap\.SN-0001\.onboarding\.boot-image\.server: "bootstrap" is not a node of kind image-server/,
  ],
  [
    'boot image file the image server lacks',
    (d) => {
      d.records.bootstrap['SN-0001'].onboarding['boot-image'].file = 'b.tgz';
    },
    /boot-image\.file: "b\.tgz" is not an image of images \(did you mean "a\.tgz"\?\)/,
  ],
  [
    'boot image of both shapes',
    (d) => {
      d.records.bootstrap['SN-0001'].onboarding['boot-image']['os-name'] = 'Junos';
    },
    /records\.bootstrap\.SN-0001\.onboarding\.boot-image must be either \{server, file\}/,
  ],
  [
    'redirect to a node that is no server',
    (d) => {
      d.records.redirect['SN-0001'].redirect[0].server = 'router1';
    },
    /records\.redirect\.SN-0001\.redirect\[0\]\.server: "router1" is not a node of kind bootstrap-server or redirect-server \(it is a device node\)/,
  ],
  [
    'record with none of onboarding, redirect and replay',
    (d) => {
      d.records.redirect['SN-0001'] = { signed: true };
    },
    /records\.redirect\.SN-0001 must have exactly one of onboarding, redirect and replay/,
  ],
  [
    'configuration without its handling',
    (d) => {
      d.records.bootstrap['SN-0001'].onboarding.configuration = 'x';
    },
    /records\.bootstrap\.SN-0001\.onboarding must have property configuration-handling/,
  ],
  [
    'network that does not exist',
    (d) => {
      d.nodes.router1.network = 'wan';
    },
    /nodes\.router1\.network: "wan" is not a network of the lab \(did you mean "lan"\?\)/,
  ],
  [
    'network left out when there are several',
    (d) => {
      d.networks = { lan: {}, mgmt: {} };
    },
    /nodes\.dhcp\.network is required when the lab has several networks \(lan, mgmt\)/,
  ],
  [
    'DHCPv6 on an IPv4-only network',
    (d) => {
      d.networks = { lan: { ipv6: false } };
      d.nodes.dhcp.families = [6];
    },
    /nodes\.dhcp\.families: includes 6 but network lan has no IPv6/,
  ],
  [
    'TLS versions upside down',
    (d) => {
      d.nodes.bootstrap.tls = { 'min-version': 'TLSv1.3', 'max-version': 'TLSv1.2' };
    },
    /nodes\.bootstrap\.tls: min-version TLSv1\.3 is above max-version TLSv1\.2/,
  ],
  [
    'well-known server that is no server',
    (d) => {
      d.nodes.router1['well-known-servers'] = ['dhcp'];
    },
    /nodes\.router1\.well-known-servers\[0\]: "dhcp" is not a node of kind bootstrap-server or redirect-server/,
  ],
  [
    'bad sha256',
    (d) => {
      d.records.bootstrap['SN-0001'].onboarding['boot-image'] = {
        'os-name': 'J',
        'os-version': '1',
        uris: ['https://x/'],
        sha256: 'abc',
      };
    },
    /boot-image\.sha256 must be 64 hex digits/,
  ],
];

for (const [name, mutate, expected] of invalid) {
  test(`refused: ${name}`, (t) => {
    const doc = base();
    mutate(doc);
    const error = refusal(doc);
    t.is(error.code, 'TOPOLOGY_INVALID');
    t.regex(error.message, expected);
    for (const line of error.message.split('\n')) t.true(line.startsWith(`${FILE}: `), line);
  });
}

test('every problem is reported, not just the first', (t) => {
  const doc = base();
  doc.nodes.router1.serail = 'x';
  doc.nodes.router2.profile = 'nope';
  doc.nodes.bootstrap.port = 'x';
  const problems = refusal(doc).details?.problems as unknown[];
  t.is(problems.length, 3);
});

test('a YAML syntax error names file:line:col', (t) => {
  const error = t.throws(() =>
    topologyFromYaml('name: x\nnodes:\n  a: { kind: dhcp\n  b: 1\n', FILE),
  );
  t.is((error as LabError).code, 'TOPOLOGY_INVALID');
  t.regex(error?.message ?? '', /^topologies\/x\.yaml:\d+:\d+: YAML: /);
});

test('schema problems point at the line and column in the YAML', (t) => {
  const yaml = 'name: lab\nnodes:\n  router1:\n    kind: device\n    serial: 42\n';
  const error = t.throws(() => topologyFromYaml(yaml, FILE));
  t.is(error?.message, `${FILE}: nodes.router1.serial must be a string (line 5, column 5)`);
});

test('a missing file is refused with its name', async (t) => {
  const error = await t.throwsAsync(loadTopology('topologies/does-not-exist.yaml'));
  t.regex(error?.message ?? '', /topologies\/does-not-exist\.yaml: cannot read: no such file/);
});

test('every property in both schemas has a description', (t) => {
  const missing: string[] = [];
  const visit = (node: unknown, path: string, root: Record<string, unknown>) => {
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) visit(item, `${path}/${i}`, root);
    }
    if (!node || typeof node !== 'object') return;
    const properties = (node as { properties?: Record<string, Record<string, unknown>> })
      .properties;
    for (const [key, schema] of Object.entries(properties ?? {})) {
      let target = schema;
      if (!target.description && typeof target.$ref === 'string' && target.$ref.startsWith('#/')) {
        target = target.$ref
          .slice(2)
          .split('/')
          .reduce((at: Doc | undefined, part) => at?.[part], root) as Record<string, unknown>;
      }
      if (!target?.description) missing.push(`${path}/properties/${key}`);
    }
    for (const [key, child] of Object.entries(node)) {
      // `if` holds conditions, not properties a file can set.
      if (key !== 'if') visit(child, `${path}/${key}`, root);
    }
  };
  for (const [name, schema] of Object.entries(schemaDocuments())) visit(schema, name, schema);
  t.deepEqual(missing, []);
});
