import { generateKeyPairSync, sign } from 'node:crypto';
import test from 'ava';
import { PkiError } from '../src/pki/codes.ts';
import { decodeConveyedInfo, encodeConveyedInfo, sniffEncoding } from '../src/pki/conveyed-info.ts';
import {
  DerError,
  decodeOid,
  decodeTime,
  definite,
  oid,
  parseDer,
  readTlv,
  Tag,
  tlv,
} from '../src/pki/der.ts';
import { clearPublicKeys, verifyWith } from '../src/pki/public-keys.ts';
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

test('OIDs decode the same on first and later reads, and a cut sub-identifier is refused', (t) => {
  for (const dotted of ['1.2.840.113549.1.9.16.1.40', '2.5.29.19', '2.999.1', '1.3.6.1.4.1.2636']) {
    const encoded = parseDer(oid(dotted), 'oid');
    t.is(decodeOid(encoded, 'oid'), dotted);
    t.is(decodeOid(encoded, 'oid'), dotted);
  }
  const cut = parseDer(tlv(Tag.OID, Uint8Array.of(0x2a, 0x86)), 'oid');
  t.throws(() => decodeOid(cut, 'the test OID'), { message: /the test OID: .*sub-identifier/ });
});

test('UTCTime and GeneralizedTime decode; anything but whole-second Z form is refused', (t) => {
  const time = (tag: number, text: string) => parseDer(tlv(tag, Buffer.from(text)), 'time');
  t.is(
    decodeTime(time(Tag.UTC_TIME, '491231235959Z'), 't').toISOString(),
    '2049-12-31T23:59:59.000Z',
  );
  t.is(
    decodeTime(time(Tag.UTC_TIME, '500101000000Z'), 't').toISOString(),
    '1950-01-01T00:00:00.000Z',
  );
  t.is(
    decodeTime(time(Tag.GENERALIZED_TIME, '99991231235959Z'), 't').toISOString(),
    '9999-12-31T23:59:59.000Z',
  );
  for (const bad of ['4912312359Z', '491231235959', '4912312359590Z', '49123123595aZ']) {
    t.throws(() => decodeTime(time(Tag.UTC_TIME, bad), 'notAfter'), {
      message: new RegExp(`notAfter: bad time value "${bad}"`),
    });
  }
  t.throws(() => decodeTime(time(Tag.GENERALIZED_TIME, '491231235959Z'), 'notBefore'), {
    message: /notBefore: bad time value/,
  });
});

test('EC keys imported through the fast path verify, and a point off the curve never does', (t) => {
  for (const namedCurve of ['P-256', 'P-384']) {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve });
    const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
    const data = Buffer.from('signed bytes');
    const digest = namedCurve === 'P-256' ? 'sha256' : 'sha384';
    const signature = sign(digest, data, privateKey);
    clearPublicKeys();
    t.true(verifyWith(spki, '', data, signature, digest), namedCurve);
    t.false(verifyWith(spki, '', Buffer.from('other bytes'), signature, digest), namedCurve);
    const offCurve = Uint8Array.from(spki);
    offCurve[offCurve.length - 1] = (offCurve[offCurve.length - 1] as number) ^ 1;
    clearPublicKeys();
    t.false(verifyWith(offCurve, '', data, signature, digest), `${namedCurve} off the curve`);
  }
});
