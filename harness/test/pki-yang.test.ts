import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { run } from '../src/common/exec.ts';
import { voucherFor } from '../src/pki/artifacts.ts';
import { PkiError } from '../src/pki/codes.ts';
import { decodeConveyedInfo, type Encoding, encodeConveyedInfo } from '../src/pki/conveyed-info.ts';
import { sampleOnboarding } from '../src/pki/forge.ts';
import { initPki, type PkiManifest } from '../src/pki/lab-pki.ts';
import { encodeVoucher } from '../src/pki/voucher.ts';

/**
 * yanglint cannot load rc:yang-data instances, so the test restates each yang-data block as
 * top-level data: the published module with `rc:yang-data X {` turned into a grouping that the
 * module then uses. Names and namespaces stay, so our instance documents validate unchanged.
 */
const FIXTURES = new URL('./fixtures/pki/yang/', import.meta.url);
const CI_MODULE = 'ietf-sztp-conveyed-info@2019-04-30.yang';
const VOUCHER_MODULE = 'ietf-voucher@2018-05-09.yang';

let dir: string;
let pki: PkiManifest;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sztp-yang-'));
  for (const name of await readdir(FIXTURES)) {
    if (name.endsWith('.yang')) await copyFile(new URL(name, FIXTURES), join(dir, name));
  }
  for (const [file, block] of [
    [CI_MODULE, 'conveyed-information'],
    [VOUCHER_MODULE, 'voucher-artifact'],
  ] as const) {
    const text = await readFile(join(dir, file), 'utf8');
    const grouped = text.replace(`rc:yang-data ${block} {`, `grouping ${block}-as-data {`);
    if (grouped === text) throw new Error(`${file}: yang-data ${block} not found`);
    const end = grouped.trimEnd().lastIndexOf('}');
    await writeFile(join(dir, file), `${grouped.slice(0, end)}  uses ${block}-as-data;\n}\n`);
  }
  pki = await initPki(join(dir, 'pki'), {
    key: 'ecdsa-p256',
    pinnedDomain: 'intermediate',
    domain: 'sztp-lab.test',
  });
});

test.after.always(async () => {
  await rm(dir, { recursive: true, force: true });
});

let count = 0;
async function yanglint(module: string, encoding: Encoding, bytes: Uint8Array | string) {
  const path = join(dir, `instance-${count++}.${encoding}`);
  await writeFile(path, bytes);
  return run('yanglint', ['-p', dir, join(dir, module), path], { allowFailure: true });
}

const redirect = {
  'ietf-sztp-conveyed-info:redirect-information': {
    'bootstrap-server': [
      { address: 'bootstrap.sztp-lab.test', port: 8443, 'trust-anchor': 'MIIBAA==' },
      { address: '2001:db8::10' },
    ],
  },
};

for (const encoding of ['json', 'xml'] as const) {
  test(`our onboarding information in ${encoding} is valid against ietf-sztp-conveyed-info`, async (t) => {
    const doc = decodeConveyedInfo(sampleOnboarding()).content;
    const result = await yanglint(CI_MODULE, encoding, encodeConveyedInfo(doc, encoding));
    t.is(result.exitCode, 0, result.stderr);
  });

  test(`our redirect information in ${encoding} is valid against ietf-sztp-conveyed-info`, async (t) => {
    const result = await yanglint(CI_MODULE, encoding, encodeConveyedInfo(redirect, encoding));
    t.is(result.exitCode, 0, result.stderr);
  });
}

test('our vouchers (expiring and nonce-bound) are valid against ietf-voucher', async (t) => {
  const expiring = await voucherFor(pki, { serial: 'SN-0001', lastRenewalDate: new Date() });
  const nonced = await voucherFor(pki, { serial: 'SN-0001', nonce: new Uint8Array(16).fill(1) });
  for (const voucher of [expiring, nonced]) {
    const result = await yanglint(VOUCHER_MODULE, 'json', encodeVoucher(voucher));
    t.is(result.exitCode, 0, result.stderr);
  }
});

const invalid: Array<[string, unknown]> = [
  [
    'hash-value without colons',
    {
      'ietf-sztp-conveyed-info:onboarding-information': {
        'boot-image': {
          'download-uri': ['https://x/i'],
          'image-verification': [
            { 'hash-algorithm': 'ietf-sztp-conveyed-info:sha-256', 'hash-value': 'aabb' },
          ],
        },
      },
    },
  ],
  [
    'configuration without configuration-handling',
    { 'ietf-sztp-conveyed-info:onboarding-information': { configuration: 'AAAA' } },
  ],
  [
    'image-verification without download-uri',
    {
      'ietf-sztp-conveyed-info:onboarding-information': {
        'boot-image': {
          'image-verification': [
            { 'hash-algorithm': 'ietf-sztp-conveyed-info:sha-256', 'hash-value': 'aa:bb' },
          ],
        },
      },
    },
  ],
  [
    'port out of range',
    {
      'ietf-sztp-conveyed-info:redirect-information': {
        'bootstrap-server': [{ address: 'a', port: 70000 }],
      },
    },
  ],
  [
    'unknown member',
    { 'ietf-sztp-conveyed-info:onboarding-information': { 'boot-image': {}, colour: 'red' } },
  ],
  [
    'unknown configuration-handling',
    {
      'ietf-sztp-conveyed-info:onboarding-information': {
        'configuration-handling': 'append',
        configuration: 'AAAA',
      },
    },
  ],
];

for (const [name, doc] of invalid) {
  test(`yanglint and our codec agree on refusing conveyed information with ${name}`, async (t) => {
    const result = await yanglint(CI_MODULE, 'json', JSON.stringify(doc));
    t.not(result.exitCode, 0, 'yanglint should refuse it');
    const error = t.throws(
      () => decodeConveyedInfo(new TextEncoder().encode(JSON.stringify(doc))),
      { instanceOf: PkiError },
    );
    t.is(error?.code, 'CONVEYED_INFO_INVALID');
  });
}

test('yanglint refuses a voucher with both nonce and expires-on, and so do we', async (t) => {
  const voucher = await voucherFor(pki, { serial: 'SN-0001' });
  const json = encodeVoucher({ ...voucher, nonce: new Uint8Array(16) });
  const result = await yanglint(VOUCHER_MODULE, 'json', json);
  t.not(result.exitCode, 0);
  const { decodeVoucher } = await import('../src/pki/voucher.ts');
  const error = t.throws(() => decodeVoucher(new TextEncoder().encode(json)), {
    instanceOf: PkiError,
  });
  t.is(error?.code, 'VOUCHER_MALFORMED');
});
