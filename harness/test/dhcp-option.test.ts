import { execFileSync } from 'node:child_process';
import test from 'ava';
import { LabError } from '../src/common/errors.ts';
import { formatOption } from '../src/sztp/dhcp-format.ts';
import {
  checkBootstrapUri,
  decodeBootstrapServerList,
  decodeV4Option,
  decodeV6Option,
  encodeBootstrapServerList,
  encodeV4Options,
  encodeV6Option,
  joinV4Instances,
} from '../src/sztp/dhcp-option.ts';
import { parseHexText } from '../src/sztp/hex-text.ts';

const ONE = 'https://sztp1.example.com';
const TWO = 'https://[2001:db8::1]:8443';
const ONE_HEX = '001968747470733a2f2f737a7470312e6578616d706c652e636f6d';
const TWO_HEX = '001a68747470733a2f2f5b323030313a6462383a3a315d3a38343433';
const JEREMYCOHOE = '00:15:68:74:74:70:73:3a:2f:2f:31:30:2e:31:2e:31:2e:33:3a:38:30:38:30';
const EIGHT = Array.from(
  { length: 8 },
  (_, i) => `https://bootstrap-${String(i).padStart(2, '0')}.example.net:8443`,
);

/** Vectors of docs/sztp-protocol.md §7.4 and public repositories, written out by hand. */
const vectors: { name: string; uris: string[]; v4: string; v6?: string }[] = [
  { name: 'one hostname', uris: [ONE], v4: `8f1b${ONE_HEX}` },
  {
    name: 'hostname and IPv6 literal',
    uris: [ONE, TWO],
    v4: `8f37${ONE_HEX}${TWO_HEX}`,
    v6: `00880037${ONE_HEX}${TWO_HEX}`,
  },
  {
    name: 'jeremycohoe/sztp tests/test_encode_sztp_url.py',
    uris: ['https://10.1.1.3:8080'],
    v4: `8f17${JEREMYCOHOE.replaceAll(':', '')}`,
  },
  {
    name: 'vendor document example',
    uris: ['https://mx-phs-server6.net'],
    v4: '8f1c001a68747470733a2f2f6d782d7068732d736572766572362e6e6574',
  },
];

for (const vector of vectors) {
  test(`encodes and decodes the vector: ${vector.name}`, (t) => {
    const v4 = encodeV4Options(vector.uris);
    t.is(v4.wire.toString('hex'), vector.v4);
    t.is(v4.payload.toString('hex'), vector.v4.slice(4));
    t.deepEqual(
      decodeV4Option(Buffer.from(vector.v4, 'hex'), { withHeader: true }).uris,
      vector.uris,
    );
    t.deepEqual(decodeBootstrapServerList(v4.payload).uris, vector.uris);
    if (vector.v6) {
      t.is(encodeV6Option(vector.uris).wire.toString('hex'), vector.v6);
      t.deepEqual(
        decodeV6Option(Buffer.from(vector.v6, 'hex'), { withHeader: true }).uris,
        vector.uris,
      );
    }
  });
}

test('the vendor example decodes from the bare payload', (t) => {
  const payload = parseHexText('001a68747470733a2f2f6d782d7068732d736572766572362e6e6574');
  const result = decodeBootstrapServerList(payload);
  t.deepEqual(result, {
    uris: ['https://mx-phs-server6.net'],
    skipped: [],
    warnings: [],
    dropped: false,
  });
});

test('8 URIs of 37 characters split into instances of 255 and 57 octets', (t) => {
  const v4 = encodeV4Options(EIGHT);
  t.is(v4.payload.length, 312);
  t.deepEqual(
    v4.instances.map((instance) => [instance[0], instance[1], instance.length]),
    [
      [143, 255, 257],
      [143, 57, 59],
    ],
  );
  t.deepEqual(decodeV4Option(v4.wire, { withHeader: true }).uris, EIGHT);
  // Exactly 255 octets still fit one instance; 256 do not.
  t.is(encodeV4Options(['https://a.example:1', ...EIGHT.slice(0, 6)]).instances.length, 1);
});

test('an independent encoder (Python struct) agrees on every vector and the long list', (t) => {
  const script = [
    'import struct, sys, json',
    'uris = json.loads(sys.argv[1])',
    'p = b"".join(struct.pack("!H", len(u)) + u.encode() for u in uris)',
    'v4 = b"".join(bytes([143, len(p[i:i+255])]) + p[i:i+255] for i in range(0, len(p), 255))',
    'print(v4.hex(), (struct.pack("!HH", 136, len(p)) + p).hex())',
  ].join('\n');
  for (const uris of [...vectors.map((vector) => vector.uris), EIGHT]) {
    let out: string;
    try {
      out = execFileSync('python3', ['-c', script, JSON.stringify(uris)], { encoding: 'utf8' });
    } catch {
      t.log('python3 is not available; the cross-check falls back to the hand-written vectors');
      t.pass();
      return;
    }
    const [v4 = '', v6 = ''] = out.trim().split(' ');
    t.is(encodeV4Options(uris).wire.toString('hex'), v4, uris.join(' '));
    t.is(encodeV6Option(uris).wire.toString('hex'), v6, uris.join(' '));
  }
});

test('a hand-built Buffer matches the encoder', (t) => {
  const uri = 'https://[2001:db8::1]:8443';
  const expected = Buffer.concat([
    Buffer.from([0x8f, uri.length + 2, 0, uri.length]),
    Buffer.from(uri),
  ]);
  t.deepEqual(encodeV4Options([uri]).wire, expected);
});

test('round-trips various valid URIs', (t) => {
  const uris = [
    'https://a.b',
    'https://192.0.2.1',
    'https://[::1]',
    'https://host-1.example.org:65535',
    'https://x:1',
    `https://${'a'.repeat(63)}.example`,
  ];
  t.deepEqual(decodeBootstrapServerList(encodeBootstrapServerList(uris)).uris, uris);
});

const refusals: [string, RegExp][] = [
  ['', /empty/],
  ['http://sztp.example.com', /scheme is "http".*only https/],
  ['sztp.example.com:443', /no "https:\/\/" prefix/],
  ['https:sztp.example.com', /no authority/],
  ['https://sztp.example.com/', /path \("\/"\)/],
  ['https://redirecter:8080/restconf/operations/x', /path/],
  ['https://sztp.example.com?x=1', /query/],
  ['https://sztp.example.com#top', /fragment/],
  ['https://user@sztp.example.com', /userinfo/],
  ['https://', /host is empty/],
  ['https://:443', /host is empty/],
  ['https://sztp.example.com:0', /port "0"/],
  ['https://sztp.example.com:65536', /port "65536"/],
  ['https://sztp.example.com:', /port ""/],
  ['https://sztp.example.com:8o', /port "8o"/],
  ['https://10.1.1.300', /not a valid IPv4/],
  ['https://2001:db8::1', /not a valid hostname|port/],
  ['https://[2001:db8::g]', /not a valid IPv6/],
  ['https://[2001:db8::1', /closing "\]"/],
  ['https://[fe80::1%25eth0]', /zone/],
  ['https://[::1]x', /after the IPv6 literal/],
  ['https://bad_host.example', /not a valid hostname/],
  ['https://-bad.example', /not a valid hostname/],
  ['https://a..b', /not a valid hostname/],
  ['https://sztp .example', /space/],
  ['https://sztp\u0000.example', /NUL/],
  ['https://sztp\u007f.example', /control character/],
  ['https://bücher.example', /non-ASCII/],
];

for (const [uri, reason] of refusals) {
  test(`refuses ${JSON.stringify(uri)}`, (t) => {
    const check = checkBootstrapUri(uri);
    t.false(check.ok);
    if (!check.ok) t.regex(check.reason, reason);
    const error = t.throws(() => encodeV4Options([uri]), { instanceOf: LabError });
    t.is(error?.code, 'DHCP_OPTION_INVALID');
    t.true(error?.message.includes(`"${uri}"`));
  });
}

test('the encoder refuses an empty list', (t) => {
  t.throws(() => encodeBootstrapServerList([]), { message: /empty/ });
});

/** Builds a list from raw entries without validating them, as a faulty server would. */
function rawList(...uris: string[]): Buffer {
  return Buffer.concat(
    uris.map((uri) => {
      const bytes = Buffer.from(uri, 'latin1');
      const length = Buffer.alloc(2);
      length.writeUInt16BE(bytes.length);
      return Buffer.concat([length, bytes]);
    }),
  );
}

test('strict decoding skips invalid entries and keeps the rest, in order', (t) => {
  const payload = rawList('http://a.example', ONE, 'https://b.example/path', TWO);
  const result = decodeBootstrapServerList(payload);
  t.deepEqual(result.uris, [ONE, TWO]);
  t.deepEqual(
    result.skipped.map((entry) => [entry.uri, entry.offset]),
    [
      ['http://a.example', 0],
      ['https://b.example/path', 45],
    ],
  );
  t.regex(result.skipped[0]?.reason ?? '', /only https/);
  t.false(result.dropped);
});

test('an option with no valid entry is dropped, and says so', (t) => {
  const result = decodeBootstrapServerList(rawList('http://a.example', 'ftp://b.example'));
  t.deepEqual(result.uris, []);
  t.true(result.dropped);
  t.is(result.skipped.length, 2);
  t.regex(result.warnings.join('\n'), /discards the whole option/);
});

const malformed: [string, string, RegExp][] = [
  ['empty payload', '', /offset 0: the list is empty/],
  ['length past the end', '00ff6874', /offset 0: uri-length 255 runs past the end \(2 octets/],
  ['zero length', `${ONE_HEX}0000`, /offset 27: an entry has uri-length 0/],
  ['one trailing octet', `${ONE_HEX}00`, /offset 27: 1 trailing octet/],
  ['second entry cut short', `${ONE_HEX}0019687474`, /offset 27: uri-length 25 runs past/],
];

for (const [name, hex, message] of malformed) {
  test(`strict decoding refuses a malformed list: ${name}`, (t) => {
    const error = t.throws(() => decodeBootstrapServerList(Buffer.from(hex, 'hex')), {
      instanceOf: LabError,
    });
    t.regex(error?.message ?? '', message);
    t.is(error?.code, 'DHCP_OPTION_INVALID');
  });
}

test('strict decoding refuses plain text and says why (opiproject style)', (t) => {
  const text =
    'https://redirecter:8080/restconf/operations/ietf-sztp-bootstrap-server:get-bootstrapping-data';
  const error = t.throws(() => decodeBootstrapServerList(Buffer.from(text)), {
    instanceOf: LabError,
  });
  t.regex(error?.message ?? '', /looks like plain text/);
  t.regex(error?.message ?? '', /RFC 8572 §8\.3 requires .*\(uint16 length, URI\)/);
  t.regex(error?.message ?? '', /--lenient/);
});

test('strict decoding refuses bare host:port text (fl-sztp style)', (t) => {
  t.throws(() => decodeBootstrapServerList(Buffer.from('host:9090')), { message: /plain text/ });
});

test('lenient decoding reads the opiproject form, dropping the path with a warning', (t) => {
  const text =
    'https://redirecter:8080/restconf/operations/ietf-sztp-bootstrap-server:get-bootstrapping-data';
  const result = decodeBootstrapServerList(Buffer.from(text), { mode: 'lenient' });
  t.deepEqual(result.uris, ['https://redirecter:8080']);
  t.is(result.warnings.length, 2);
  t.regex(result.warnings[0] ?? '', /plain text/);
  t.regex(result.warnings[1] ?? '', /dropped "\/restconf\/operations/);
});

test('lenient decoding reads the fl-sztp form, assuming https', (t) => {
  const result = decodeBootstrapServerList(Buffer.from('host:9090\0'), { mode: 'lenient' });
  t.deepEqual(result.uris, ['https://host:9090']);
  t.regex(result.warnings.join('\n'), /no scheme; assumed https/);
});

test('lenient decoding splits text on whitespace and commas and still skips http', (t) => {
  const text = 'https://a.example, https://b.example:8443\nhttp://c.example';
  const result = decodeBootstrapServerList(Buffer.from(text), { mode: 'lenient' });
  t.deepEqual(result.uris, ['https://a.example', 'https://b.example:8443']);
  t.deepEqual(
    result.skipped.map((entry) => entry.uri),
    ['http://c.example'],
  );
});

test('lenient decoding repairs a framed entry with a path, keeps conformant lists', (t) => {
  const repaired = decodeBootstrapServerList(rawList('https://a.example/x'), { mode: 'lenient' });
  t.deepEqual(repaired.uris, ['https://a.example']);
  const clean = decodeBootstrapServerList(rawList(ONE, TWO), { mode: 'lenient' });
  t.deepEqual(clean, { uris: [ONE, TWO], skipped: [], warnings: [], dropped: false });
});

test('lenient decoding still refuses binary garbage', (t) => {
  t.throws(() => decodeBootstrapServerList(Buffer.from([0xff, 0x01, 0x80]), { mode: 'lenient' }), {
    message: /neither a bootstrap-server-list .* nor plain text/,
  });
});

test('RFC 3396: several 143 instances are joined in order, other options and Pad ignored', (t) => {
  const payload = encodeBootstrapServerList([ONE, TWO]);
  const wire = Buffer.concat([
    Buffer.from([53, 1, 5]),
    Buffer.from([143, 10]),
    payload.subarray(0, 10),
    Buffer.from([0, 0]),
    Buffer.from([3, 4, 192, 0, 2, 1]),
    Buffer.from([143, 20]),
    payload.subarray(10, 30),
    Buffer.from([143, payload.length - 30]),
    payload.subarray(30),
    Buffer.from([255]),
  ]);
  t.deepEqual(joinV4Instances(wire), payload);
  t.deepEqual(decodeV4Option(wire, { withHeader: true }).uris, [ONE, TWO]);
  t.throws(() => joinV4Instances(Buffer.from([143, 9, 0])), { message: /offset 0.*past the end/ });
  t.throws(() => joinV4Instances(Buffer.from([3, 0])), { message: /No option 143/ });
});

test('the DHCPv6 header is checked', (t) => {
  const wire = encodeV6Option([ONE]).wire;
  t.throws(
    () =>
      decodeV6Option(Buffer.concat([Buffer.from([0, 135]), wire.subarray(2)]), {
        withHeader: true,
      }),
    {
      message: /code is 135, not 136/,
    },
  );
  t.throws(() => decodeV6Option(wire.subarray(0, -1), { withHeader: true }), {
    message: /length says 27 octets but 26/,
  });
});

test('hex input: plain, 0x, dhclient colons without padding, spaces, IOS dots', (t) => {
  const expected = Buffer.from('001568747470', 'hex');
  for (const text of [
    '001568747470',
    '0x001568747470',
    '0:15:68:74:74:70',
    '00 15 68 74 74 70',
    '0015.6874.7470',
    ' 00:15:68:74:74:70\n',
  ]) {
    t.deepEqual(parseHexText(text), expected, text);
  }
  t.throws(() => parseHexText('00156'), { message: /odd number/ });
  t.throws(() => parseHexText('0:115:68'), { message: /one or two digits/ });
  t.throws(() => parseHexText('zz'), { message: /"z" is not a hex digit/ });
  t.throws(() => parseHexText(''), { message: /no hex digits/ });
});

test('output formats', (t) => {
  const v4 = encodeV4Options(['https://10.1.1.3:8080']);
  t.is(formatOption(v4, 'hex'), v4.payload.toString('hex'));
  t.true(formatOption(v4, 'hex').startsWith('00156874747073'));
  t.is(
    formatOption(v4, 'colon'),
    '00:15:68:74:74:70:73:3a:2f:2f:31:30:2e:31:2e:31:2e:33:3a:38:30:38:30',
  );
  t.is(formatOption(v4, 'isc'), formatOption(v4, 'colon'));
  t.is(formatOption(v4, 'kea'), '001568747470733A2F2F31302E312E312E333A38303830');
  t.is(formatOption(v4, 'hex', true), `8f17${v4.payload.toString('hex')}`);
  const long = encodeV4Options(EIGHT);
  t.deepEqual(
    formatOption(long, 'hex', true)
      .split('\n')
      .map((line) => line.slice(0, 4)),
    ['8fff', '8f39'],
  );
  t.throws(() => formatOption(long, 'kea', true), { message: /--tlv does not apply/ });
});

test('a bare-payload decode of a whole option points at --with-header', (t) => {
  t.throws(() => decodeV4Option(encodeV4Options([ONE]).wire), { message: /--with-header/ });
  t.throws(() => decodeV6Option(encodeV6Option([ONE]).wire), { message: /--with-header/ });
});
