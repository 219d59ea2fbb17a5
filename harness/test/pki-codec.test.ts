import test from 'ava';
import { PkiError } from '../src/pki/codes.ts';
import { decodeConveyedInfo, encodeConveyedInfo, sniffEncoding } from '../src/pki/conveyed-info.ts';
import { DerError, definite, parseDer, readTlv } from '../src/pki/der.ts';
import { decodeVoucher } from '../src/pki/voucher.ts';
import { parseXml } from '../src/pki/xml.ts';

const enc = (text: string) => new TextEncoder().encode(text);

test('XML with prefixes, comments, CDATA and entities decodes to the JSON form', (t) => {
  const xml = `<?xml version="1.0"?>
<!-- from a vendor tool -->
<ci:redirect-information xmlns:ci="urn:ietf:params:xml:ns:yang:ietf-sztp-conveyed-info">
  <ci:bootstrap-server><ci:address>a&amp;b.example</ci:address><ci:port>8443</ci:port></ci:bootstrap-server>
  <ci:bootstrap-server><ci:address><![CDATA[2001:db8::1]]></ci:address></ci:bootstrap-server>
</ci:redirect-information>`;
  const decoded = decodeConveyedInfo(enc(xml));
  t.is(decoded.encoding, 'xml');
  t.deepEqual(decoded.content, {
    'ietf-sztp-conveyed-info:redirect-information': {
      'bootstrap-server': [{ address: 'a&b.example', port: 8443 }, { address: '2001:db8::1' }],
    },
  });
});

test('a prefixed identityref in XML resolves through its namespace declaration', (t) => {
  const xml = `<onboarding-information xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-conveyed-info" xmlns:s="urn:ietf:params:xml:ns:yang:ietf-sztp-conveyed-info">
<boot-image><download-uri>https://i/x</download-uri><image-verification><hash-algorithm>s:sha-256</hash-algorithm><hash-value>00:ff</hash-value></image-verification></boot-image></onboarding-information>`;
  const content = decodeConveyedInfo(enc(xml)).content as Record<
    string,
    Record<string, Record<string, Array<Record<string, string>>>>
  >;
  t.is(
    content['ietf-sztp-conveyed-info:onboarding-information']?.['boot-image']?.[
      'image-verification'
    ]?.[0]?.['hash-algorithm'],
    'ietf-sztp-conveyed-info:sha-256',
  );
});

test('JSON and XML encodings round-trip to the same content', (t) => {
  const doc = {
    'ietf-sztp-conveyed-info:onboarding-information': {
      'configuration-handling': 'merge',
      configuration: 'PGE+PC9hPg==',
    },
  };
  for (const encoding of ['json', 'xml'] as const) {
    t.deepEqual(decodeConveyedInfo(encodeConveyedInfo(doc, encoding)).content, doc);
  }
});

test('the first non-blank byte tells JSON from XML, and anything else is refused', (t) => {
  t.is(sniffEncoding(enc('  \n{')), 'json');
  t.is(sniffEncoding(enc('\ufeff<x/>')), 'xml');
  t.is(sniffEncoding(enc('MIIB')), undefined);
  const error = t.throws(() => decodeConveyedInfo(enc('hello')), { instanceOf: PkiError });
  t.is(error?.code, 'CONVEYED_INFO_INVALID');
});

test('the XML reader refuses DTDs, mismatched tags and foreign namespaces', (t) => {
  t.throws(() => parseXml('<!DOCTYPE x [<!ENTITY a "b">]><x/>'), { message: /DTD/ });
  t.throws(() => parseXml('<a><b></a>'), { message: /expected <\/b>/ });
  const foreign =
    '<redirect-information xmlns="urn:example"><bootstrap-server><address>a</address></bootstrap-server></redirect-information>';
  t.is(
    t.throws(() => decodeConveyedInfo(enc(foreign)), { instanceOf: PkiError })?.code,
    'CONVEYED_INFO_INVALID',
  );
});

test('the DER reader names truncation, trailing bytes and bad lengths', (t) => {
  t.throws(() => parseDer(Uint8Array.of(0x30, 0x05, 0x02, 0x01), 'x'), {
    instanceOf: DerError,
    message: /past its container/,
  });
  t.throws(() => parseDer(Uint8Array.of(0x02, 0x01, 0x00, 0x00), 'x'), {
    instanceOf: DerError,
    message: /trailing/,
  });
  t.throws(() => parseDer(Uint8Array.of(0x04, 0x80, 0x00, 0x00), 'x'), { message: /primitive/ });
  t.throws(() => readTlv(Uint8Array.of(0x30), 0, 1, 'x'), { message: /truncated/ });
});

test('BER indefinite lengths are read and re-encoded definite', (t) => {
  const ber = Uint8Array.of(
    0x30,
    0x80,
    0x02,
    0x01,
    0x05,
    0x30,
    0x80,
    0x05,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
  );
  const der = definite(parseDer(ber, 'ber'));
  t.deepEqual([...der], [0x30, 0x07, 0x02, 0x01, 0x05, 0x30, 0x02, 0x05, 0x00]);
});

test('voucher decoding accepts offsets and string booleans, refuses what ietf-voucher forbids', (t) => {
  const base = {
    'created-on': '2022-07-10T17:08:18.720-04:00',
    assertion: 'proximity',
    'serial-number': 'SN',
    'pinned-domain-cert': 'AAAA',
  };
  const ok = decodeVoucher(
    enc(
      JSON.stringify({
        'ietf-voucher:voucher': { ...base, 'domain-cert-revocation-checks': 'true' },
      }),
    ),
  );
  t.true(ok.domainCertRevocationChecks);
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ ...base, assertion: '' }, /assertion/],
    [{ ...base, 'created-on': '2022-07-10 17:08' }, /created-on/],
    [{ ...base, nonce: 'AAAA' }, /nonce has 3 octets/],
    [{ ...base, 'last-renewal-date': '2022-07-10T17:08:18Z' }, /needs expires-on/],
    [{ assertion: 'verified' }, /lacks mandatory created-on/],
  ];
  for (const [body, message] of bad) {
    const error = t.throws(
      () => decodeVoucher(enc(JSON.stringify({ 'ietf-voucher:voucher': body }))),
      { instanceOf: PkiError },
    );
    t.is(error?.code, 'VOUCHER_MALFORMED');
    t.regex(error?.message ?? '', message);
  }
});
