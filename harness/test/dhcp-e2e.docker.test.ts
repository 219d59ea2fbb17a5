import test from 'ava';
import { remainingLabObjects } from '../src/runtime/cleanup.ts';
import { listRules } from '../src/runtime/firewall.ts';
import { buildImages } from '../src/runtime/images.ts';
import { readPcap } from '../src/runtime/pcap.ts';
import { decodeBootstrapServerList, encodeBootstrapServerList } from '../src/sztp/dhcp-option.ts';
import { dhcpV4FromFrame } from '../src/sztp/dhcp-packet.ts';
import { parseHexText } from '../src/sztp/hex-text.ts';
import { type DhcpServerKind, dhcpExchange } from './helpers/dhcp-lab.ts';

const URIS = ['https://redirect.sztp.lab:8443', 'https://[fd5a:7470:6c00::10]:9443'];

test.before(async () => {
  // Quick when the images are current; builds them on a machine that has none yet.
  await buildImages({ only: ['dhcp-kea', 'dhcp-isc', 'device'] });
});

function ipToNumber(ip: string): bigint {
  if (ip.includes(':')) {
    const [head = '', tail = ''] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    return groups.reduce((acc, g) => (acc << 16n) + BigInt(Number.parseInt(g, 16)), 0n);
  }
  return ip.split('.').reduce((acc, part) => (acc << 8n) + BigInt(Number(part)), 0n);
}

for (const server of ['kea', 'isc'] as DhcpServerKind[]) {
  for (const family of [4, 6] as const) {
    test.serial(
      `docker: ${server} serves option ${family === 4 ? 143 : 136} to dhclient over DHCPv${family}`,
      async (t) => {
        const payload = encodeBootstrapServerList(URIS);
        const exchange = await dhcpExchange(server, family, payload);
        const plan = family === 4 ? exchange.network.ipv4 : exchange.network.ipv6;
        if (!plan) throw new Error('no address plan');

        // The client's address is the lab DHCP server's, from its pool, not Docker's range.
        const leased = family === 4 ? exchange.lease.ipv4 : exchange.lease.ipv6;
        t.truthy(leased, `dhclient reported no address: ${JSON.stringify(exchange.lease)}`);
        const n = ipToNumber(leased);
        t.true(
          n >= ipToNumber(plan.dhcpPool.start) && n <= ipToNumber(plan.dhcpPool.end),
          `${leased} is outside the DHCP pool`,
        );
        t.true(
          exchange.interfaceAddresses.includes(leased),
          `eth0 holds ${exchange.interfaceAddresses.join(', ')}`,
        );

        // The bytes dhclient received decode, with our codec, to the URIs that were served.
        t.not(
          exchange.optionText,
          '',
          `no SZTP option reached the client; server log:\n${exchange.serverLog}`,
        );
        const received = parseHexText(exchange.optionText);
        t.deepEqual(received, payload);
        t.deepEqual(decodeBootstrapServerList(received).uris, URIS);

        // Nothing of the exchange is left behind.
        t.deepEqual(await remainingLabObjects(exchange.lab), { containers: 0, networks: 0 });
        const rules = await listRules();
        t.false(
          rules.some((r) => r.rule.includes(exchange.network.bridge)),
          'firewall rules remain',
        );
      },
    );
  }
}

// 8 URIs of 37 characters make a 312-octet list: more than one DHCPv4 option may carry, so
// the server must split it (RFC 3396) and dhclient must join the instances again.
const LONG_LIST = Array.from(
  { length: 8 },
  (_, i) => `https://bootstrap-${String(i).padStart(2, '0')}.example.net:8443`,
);

for (const server of ['kea', 'isc'] as DhcpServerKind[]) {
  test.serial(
    `docker: ${server} splits a 312-octet option 143 and dhclient joins it (RFC 3396)`,
    async (t) => {
      const payload = encodeBootstrapServerList(LONG_LIST);
      t.is(payload.length, 312);
      const exchange = await dhcpExchange(server, 4, payload, { capture: true });
      t.not(
        exchange.optionText,
        '',
        `no SZTP option reached the client; server log:\n${exchange.serverLog}`,
      );
      t.deepEqual(decodeBootstrapServerList(parseHexText(exchange.optionText)).uris, LONG_LIST);

      // On the wire, the server's ACK carries option 143 as several instances of at most 255
      // octets whose values, joined in order, are the payload. RFC 3396 leaves the cut points
      // to the sender: Kea sent 253 + 59 octets here, and ISC 255 + 25 in the options field
      // plus the rest in the overloaded `file` field (option 52), as RFC 2131 allows.
      const capture = readPcap(exchange.pcap ?? Buffer.alloc(0), `${server} capture`);
      const acks = capture.records
        .map((record) => dhcpV4FromFrame(record.data))
        .filter((message) => message?.messageType === 5);
      t.true(acks.length >= 1, 'the capture holds a DHCPACK');
      const instances = acks[0]?.options.filter((option) => option.code === 143) ?? [];
      const lengths = instances.map((option) => option.value.length);
      const where = instances.map((option) => `${option.value.length} in ${option.area}`);
      t.log(`${server}: option 143 instances: ${where.join(', ')}`);
      t.true(instances.length >= 2, `one instance of ${lengths[0]} octets`);
      t.true(lengths.every((length) => length <= 255));
      t.deepEqual(Buffer.concat(instances.map((option) => option.value)), payload);
    },
  );
}
