import test from 'ava';
import { createArtifacts } from '../src/pki/artifacts.ts';
import { PkiCodes, PkiError } from '../src/pki/codes.ts';
import { Forgeries, GenuineVariants } from '../src/pki/forge.ts';
import { verifyArtifacts } from '../src/pki/verifier.ts';
import { makeLab, type TestLab } from './fixtures/pki/lab.ts';

let lab: TestLab;

test.before(async () => {
  lab = await makeLab('ecdsa-p256', 'root');
});

test.after.always(async () => {
  await lab?.cleanup();
});

test('the genuine signed and encrypted artifact set is accepted (control for the catalogue)', async (t) => {
  const set = await createArtifacts(lab.pki, {
    input: lab.ctx.input,
    serial: lab.device.serial,
    sign: true,
    encryptTo: lab.device.idevid,
    // The device clock is fixed when the lab is made; the voucher must not postdate it.
    createdOn: new Date(lab.ctx.now.getTime() - 60_000),
  });
  const result = await verifyArtifacts(set, lab.trust({ acceptedAssertions: ['verified'] }));
  t.true(result.signed);
  t.true(result.encrypted);
  t.is(result.type, 'onboarding-information');
});

test('every forgery names a stable code', (t) => {
  for (const forgery of Forgeries) t.true(forgery.expected in PkiCodes, forgery.name);
  const names = [...Forgeries, ...GenuineVariants].map((f) => f.name);
  t.is(new Set(names).size, names.length);
});

for (const forgery of Forgeries) {
  test(`refuses ${forgery.name}: ${forgery.description}`, async (t) => {
    const set = await forgery.build(lab.ctx);
    const error = await t.throwsAsync(
      verifyArtifacts(set, lab.trust(forgery.trust?.(lab.ctx) ?? {})),
      { instanceOf: PkiError },
    );
    t.is(error?.code, forgery.expected, error?.message);
    if (forgery.because) t.regex(error?.message ?? '', forgery.because);
    t.true((error?.message.length ?? 0) > 20, 'the message says what did not match');
  });
}

for (const variant of GenuineVariants) {
  test(`accepts ${variant.name}: ${variant.description}`, async (t) => {
    const set = await variant.build(lab.ctx);
    const result = await verifyArtifacts(set, lab.trust(variant.trust?.(lab.ctx) ?? {}));
    t.true(result.signed);
    t.is(result.type, 'onboarding-information');
  });
}

test('a clockless device skips the voucher time checks that refuse an expired voucher', async (t) => {
  const expired = Forgeries.find((f) => f.name === 'expired-voucher');
  if (!expired) return t.fail('catalogue lacks expired-voucher');
  const set = await expired.build(lab.ctx);
  const { now: _, ...clockless } = lab.trust();
  const result = await verifyArtifacts(set, clockless);
  t.true(result.signed);
});
