import test from 'ava';
import { createVoucher, voucherFor } from '../src/pki/artifacts.ts';
import { certificatesOnly, signContent } from '../src/pki/cms-build.ts';
import { PkiError } from '../src/pki/codes.ts';
import { issueCrl } from '../src/pki/crl-build.ts';
import { parseCrl } from '../src/pki/crl-read.ts';
import { contentOf, decodeTime, encodeTime, parseDer, Tag } from '../src/pki/der.ts';
import { ownerChainCrls } from '../src/pki/lab-crls.ts';
import type { CertKeyFiles } from '../src/pki/lab-pki.ts';
import { masaSigner, ownerSigner, readCertDer, signerFromFiles } from '../src/pki/lab-signers.ts';
import { Oid } from '../src/pki/oids.ts';
import type { ArtifactSet, DeviceTrust } from '../src/pki/verifier.ts';
import { verifyArtifacts } from '../src/pki/verifier.ts';
import { encodeVoucher } from '../src/pki/voucher.ts';
import { makeLab, type TestLab } from './fixtures/pki/lab.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let lab: TestLab;
let owner: Uint8Array;

test.before(async () => {
  lab = await makeLab('ecdsa-p256', 'root');
  owner = await readCertDer(lab.pki.ownerCertificate);
});

test.after.always(async () => {
  await lab?.cleanup();
});

const at = (offsetMs: number) => new Date(lab.ctx.now.getTime() + offsetMs);
const ownerCa = () => signerFromFiles(lab.pki.entities['owner-ca'] as CertKeyFiles);

/** Signed artifacts whose voucher asks for revocation checks (or says `checks`), with CRLs. */
async function withCrls(crls: Uint8Array[], checks: boolean | 'absent' = true) {
  const { signer, chain } = await ownerSigner(lab.pki);
  const base = { serial: lab.device.serial, createdOn: at(-DAY) };
  let ov: Uint8Array;
  if (checks === 'absent') {
    const { domainCertRevocationChecks: _, ...rest } = await voucherFor(lab.pki, base);
    const masa = await masaSigner(lab.pki);
    ov = await signContent({
      signer: masa.signer,
      contentType: Oid.voucherJson,
      content: new TextEncoder().encode(encodeVoucher(rest)),
      certificates: masa.chain,
    });
  } else {
    ov = await createVoucher(lab.pki, { ...base, revocationChecks: checks });
  }
  const set: ArtifactSet = {
    conveyedInformation: await signContent({
      signer,
      contentType: Oid.conveyedInfoJson,
      content: lab.ctx.input,
    }),
    ownerCertificate: certificatesOnly(chain, crls),
    ownershipVoucher: ov,
  };
  return set;
}

/** The current CRL of the owner root (for the intermediate), to go with a CRL under test. */
async function rootCrl(): Promise<Uint8Array> {
  const crls = await ownerChainCrls(lab.pki, { thisUpdate: at(-HOUR), nextUpdate: at(DAY) });
  return crls[1] as Uint8Array;
}

async function refusal(set: ArtifactSet, trust: Partial<DeviceTrust> = {}) {
  try {
    await verifyArtifacts(set, lab.trust(trust));
  } catch (error) {
    if (error instanceof PkiError) return error;
    throw error;
  }
  return undefined;
}

function clockless(): DeviceTrust {
  const { now: _, ...rest } = lab.trust();
  return rest;
}

test('times are UTCTime through 2049 and GeneralizedTime from 2050, and read back', (t) => {
  const late = new Date(Date.UTC(2049, 11, 31, 23, 59, 59));
  const later = new Date(Date.UTC(2050, 0, 1, 0, 0, 0));
  const a = parseDer(encodeTime(late), 'late');
  const b = parseDer(encodeTime(later), 'later');
  t.is(a.tag, Tag.UTC_TIME);
  t.is(Buffer.from(contentOf(a)).toString(), '491231235959Z');
  t.is(b.tag, Tag.GENERALIZED_TIME);
  t.is(Buffer.from(contentOf(b)).toString(), '20500101000000Z');
  t.deepEqual(decodeTime(a, 'late'), late);
  t.deepEqual(decodeTime(b, 'later'), later);
});

test('a lab CRL reads back: issuer, times, serials, reasons', async (t) => {
  const ca = await ownerCa();
  const der = await issueCrl({
    signer: ca,
    thisUpdate: at(-HOUR),
    nextUpdate: at(DAY),
    number: 42,
    revoked: [
      { certificate: owner, reason: 'superseded', revokedAt: at(-2 * HOUR) },
      { serial: '00:ff:01' },
    ],
  });
  const crl = parseCrl(der);
  t.deepEqual(crl.thisUpdate, new Date(Math.floor(at(-HOUR).getTime() / 1000) * 1000));
  t.truthy(crl.nextUpdate);
  t.is(crl.revoked.length, 2);
  t.is(crl.revoked[0]?.reason, 4);
  t.deepEqual([...(crl.revoked[1]?.serial ?? [])], [0x00, 0xff, 0x01]);
  t.true(crl.extensions.has(Oid.authorityKeyId));
  t.true(crl.extensions.has(Oid.crlNumber));
  t.deepEqual(crl.unsupportedCritical, []);
});

test('CRL shape errors name the field', async (t) => {
  const der = await issueCrl({ signer: await ownerCa() });
  t.throws(() => parseCrl(der.subarray(0, der.length - 3)), { message: /CRL/ });
  // ecdsa-with-SHA256 -> -SHA384 in the inner algorithm only (the first occurrence).
  const inner = Buffer.from(der);
  const at256 = inner.indexOf(Buffer.from('2a8648ce3d040302', 'hex'));
  inner[at256 + 7] = 0x03;
  t.throws(() => parseCrl(new Uint8Array(inner)), { message: /differs from outside/ });
});

test('the newest usable CRL decides: a lifted hold in a later CRL is not revoked', async (t) => {
  const ca = await ownerCa();
  const older = await issueCrl({
    signer: ca,
    thisUpdate: at(-3 * HOUR),
    nextUpdate: at(DAY),
    revoked: [{ certificate: owner, reason: 'certificateHold' }],
  });
  const newer = await issueCrl({ signer: ca, thisUpdate: at(-10_000), nextUpdate: at(DAY) });
  const result = await verifyArtifacts(
    await withCrls([older, newer, await rootCrl()]),
    lab.trust(),
  );
  t.true(result.signed);
  const held = await refusal(await withCrls([newer, older, await rootCrl()], true), {
    // Lab certificates are valid from a minute before the lab was made.
    now: at(-30_000),
  });
  t.is(held?.code, 'OWNER_CERT_REVOKED', 'before the newer CRL existed, the hold counts');
  t.regex(held?.message ?? '', /certificateHold/);
});

test('a CRL that is not yet valid, or without nextUpdate, does not serve a device with a clock', async (t) => {
  const ca = await ownerCa();
  const early = await issueCrl({ signer: ca, thisUpdate: at(HOUR), nextUpdate: at(DAY) });
  const open = await issueCrl({ signer: ca, thisUpdate: at(-HOUR), nextUpdate: null });
  const e1 = await refusal(await withCrls([early, await rootCrl()]));
  t.is(e1?.code, 'REVOCATION_UNAVAILABLE');
  t.regex(e1?.message ?? '', /CRL 0 is not yet valid: thisUpdate/);
  const e2 = await refusal(await withCrls([open, await rootCrl()]));
  t.is(e2?.code, 'REVOCATION_UNAVAILABLE');
  t.regex(e2?.message ?? '', /CRL 0 has no nextUpdate/);
});

test('a clockless device skips CRL times but still refuses a revoked owner certificate', async (t) => {
  const stale = await ownerChainCrls(lab.pki, { thisUpdate: at(-10 * DAY), nextUpdate: at(-DAY) });
  const result = await verifyArtifacts(await withCrls(stale), clockless());
  t.true(result.signed);
  const revoked = await ownerChainCrls(lab.pki, {
    thisUpdate: at(-10 * DAY),
    nextUpdate: at(-DAY),
    revoke: [owner],
  });
  await t.throwsAsync(verifyArtifacts(await withCrls(revoked), clockless()), {
    instanceOf: PkiError,
    message: /owner certificate .* was revoked/,
  });
});

test('a malformed stapled CRL is named, and does not hide a good one', async (t) => {
  const junk = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01);
  const e = await refusal(await withCrls([junk, await rootCrl()]));
  t.is(e?.code, 'REVOCATION_UNAVAILABLE');
  t.regex(e?.message ?? '', /CRL 0 is malformed \(CRL tbsCertList: expected tag 0x30/);
  const good = await ownerChainCrls(lab.pki, { thisUpdate: at(-HOUR), nextUpdate: at(DAY) });
  const result = await verifyArtifacts(await withCrls([junk, ...good]), lab.trust());
  t.true(result.signed);
});

test('critical delta-CRL and indirect-CRL extensions make a CRL unusable, and say so', async (t) => {
  const ca = await ownerCa();
  const times = { thisUpdate: at(-HOUR), nextUpdate: at(DAY) };
  const delta = await issueCrl({
    signer: ca,
    ...times,
    extraExtensions: [
      { oid: Oid.deltaCrlIndicator, critical: true, value: Uint8Array.of(2, 1, 1) },
    ],
  });
  const indirect = await issueCrl({
    signer: ca,
    ...times,
    revoked: [
      {
        serial: '01',
        extraExtensions: [
          { oid: Oid.certificateIssuer, critical: true, value: Uint8Array.of(0x30, 0) },
        ],
      },
    ],
  });
  const e = await refusal(await withCrls([delta, indirect, await rootCrl()]));
  t.is(e?.code, 'REVOCATION_UNAVAILABLE');
  t.regex(e?.message ?? '', /CRL 0 has critical extensions .*deltaCRLIndicator/);
  t.regex(e?.message ?? '', /CRL 1 has critical extensions .*certificateIssuer/);
});

test('without revocation checks (false or absent) the stapled CRLs are not even read', async (t) => {
  const junk = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01);
  const revoked = await ownerChainCrls(lab.pki, { revoke: [owner], nextUpdate: at(-DAY) });
  for (const checks of [false, 'absent'] as const) {
    const result = await verifyArtifacts(await withCrls([junk, ...revoked], checks), lab.trust());
    t.true(result.signed, String(checks));
    t.is(result.voucher?.domainCertRevocationChecks, checks === false ? false : undefined);
  }
});

test('a CA pinned as the domain cert needs no CRL of its own: one CRL serves a one-link chain', async (t) => {
  const pki = {
    ...lab.pki,
    pinnedDomainCert: (lab.pki.entities['owner-ca'] as CertKeyFiles).cert,
    ownerChain: [],
  };
  const crls = await ownerChainCrls(pki, { thisUpdate: at(-HOUR), nextUpdate: at(DAY) });
  t.is(crls.length, 1);
  const { signer } = await ownerSigner(pki);
  const set: ArtifactSet = {
    conveyedInformation: await signContent({
      signer,
      contentType: Oid.conveyedInfoJson,
      content: lab.ctx.input,
    }),
    ownerCertificate: certificatesOnly([signer.certificate], crls),
    ownershipVoucher: await createVoucher(pki, {
      serial: lab.device.serial,
      createdOn: at(-DAY),
      revocationChecks: true,
    }),
  };
  const result = await verifyArtifacts(set, lab.trust());
  t.true(result.signed);
});
