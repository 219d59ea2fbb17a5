/**
 * The revocation part of the attack catalogue: vouchers that set domain-cert-revocation-checks,
 * with stapled CRLs that revoke, are missing, stale, or come from the wrong key or CA; and the
 * genuine variants that must still be accepted.
 */
import { certificatesOnly } from './cms-build.ts';
import { issueCrl } from './crl-build.ts';
import { DAY, dayOldVoucher, type ForgeContext, type Forgery, genuine } from './forge-kit.ts';
import { ownerChainCrls } from './lab-crls.ts';
import type { CertKeyFiles } from './lab-pki.ts';
import { ownerSigner, readCertDer, signerFromFiles } from './lab-signers.ts';
import type { Signer } from './signer.ts';
import type { ArtifactSet } from './verifier.ts';

/** CRL times that are current at the device clock. */
function fresh(ctx: ForgeContext) {
  return {
    thisUpdate: new Date(ctx.now.getTime() - DAY / 24),
    nextUpdate: new Date(ctx.now.getTime() + 7 * DAY),
  };
}

/** A genuine set whose voucher demands revocation checks, with these CRLs stapled. */
async function revocationSet(ctx: ForgeContext, crls: Uint8Array[]): Promise<ArtifactSet> {
  return genuine(ctx, {
    ownerCertificate: certificatesOnly((await ownerSigner(ctx.pki)).chain, crls),
    ownershipVoucher: await dayOldVoucher(ctx, {
      revocationChecks: true,
    }),
  });
}

/** A revocation set whose owner-CA CRL is `crl`; the CAs above staple genuine, current CRLs. */
async function withOwnerCaCrl(ctx: ForgeContext, crl: Uint8Array): Promise<ArtifactSet> {
  const [, ...above] = await ownerChainCrls(ctx.pki, fresh(ctx));
  return revocationSet(ctx, [crl, ...above]);
}

/** Forgeries the device must refuse once the voucher asks for revocation checks. */
export const RevocationForgeries: Forgery[] = [
  {
    name: 'owner-cert-revoked',
    description:
      'voucher demands revocation checks and the CRL of the owner CA lists the owner certificate',
    expected: 'OWNER_CERT_REVOKED',
    because: /owner certificate .* was revoked on .*\(keyCompromise\)/,
    build: async (ctx) => {
      const owner = await readCertDer(ctx.pki.ownerCertificate);
      return revocationSet(
        ctx,
        await ownerChainCrls(ctx.pki, { ...fresh(ctx), revoke: [owner], reason: 'keyCompromise' }),
      );
    },
  },
  {
    name: 'intermediate-revoked',
    description:
      'voucher demands revocation checks and the root CRL lists the intermediate CA below it',
    expected: 'OWNER_CERT_REVOKED',
    because: /intermediate CA certificate .*Owner Issuing CA.* was revoked/,
    build: async (ctx) => {
      const [intermediate] = ctx.pki.ownerChain;
      if (!intermediate) throw new Error('needs a PKI pinned at the owner root');
      const revoke = [await readCertDer(intermediate)];
      return revocationSet(ctx, await ownerChainCrls(ctx.pki, { ...fresh(ctx), revoke }));
    },
  },
  {
    name: 'revocation-no-crl',
    description: 'voucher demands revocation checks and the owner certificate comes without CRLs',
    expected: 'REVOCATION_UNAVAILABLE',
    because: /carries no CRLs/,
    build: (ctx) => revocationSet(ctx, []),
  },
  {
    name: 'revocation-stale-crl',
    description: "voucher demands revocation checks and the CRLs' nextUpdate is before device time",
    expected: 'REVOCATION_UNAVAILABLE',
    because: /CRL \d is stale: nextUpdate/,
    build: async (ctx) =>
      revocationSet(
        ctx,
        await ownerChainCrls(ctx.pki, {
          thisUpdate: new Date(ctx.now.getTime() - 10 * DAY),
          nextUpdate: new Date(ctx.now.getTime() - DAY),
        }),
      ),
  },
  {
    name: 'revocation-crl-other-key',
    description:
      "CRL naming the owner CA as issuer (and its key identifier) but signed by the attacker's key",
    expected: 'REVOCATION_UNAVAILABLE',
    because: /signature that does not verify with the key of/,
    build: async (ctx) => {
      const attacker = await signerFromFiles(ctx.evil.entities['owner-ca'] as CertKeyFiles);
      const claimed: Signer = {
        certificate: await readCertDer((ctx.pki.entities['owner-ca'] as CertKeyFiles).cert),
        algorithm: attacker.algorithm,
        sign: (data) => attacker.sign(data),
      };
      return withOwnerCaCrl(ctx, await issueCrl({ signer: claimed, ...fresh(ctx) }));
    },
  },
  {
    name: 'revocation-crl-other-issuer',
    description: 'the CRL stapled for the owner certificate comes from another CA (the TLS CA)',
    expected: 'REVOCATION_UNAVAILABLE',
    because: /is issued by "O=sztp-lab, CN=TLS CA", not by/,
    build: async (ctx) => {
      const tlsCa = await signerFromFiles(ctx.pki.entities['tls-ca'] as CertKeyFiles);
      return withOwnerCaCrl(ctx, await issueCrl({ signer: tlsCa, ...fresh(ctx) }));
    },
  },
  {
    name: 'revocation-crl-unknown-critical-extension',
    description:
      'the owner CA CRL carries a critical extension the device does not know (RFC 5280 §5.2)',
    expected: 'REVOCATION_UNAVAILABLE',
    because: /critical extensions .*1\.3\.6\.1\.4\.1\.55555\.1/,
    build: async (ctx) => {
      const ca = await signerFromFiles(ctx.pki.entities['owner-ca'] as CertKeyFiles);
      const odd = { oid: '1.3.6.1.4.1.55555.1', critical: true, value: Uint8Array.of(5, 0) };
      const crl = await issueCrl({ signer: ca, ...fresh(ctx), extraExtensions: [odd] });
      return withOwnerCaCrl(ctx, crl);
    },
  },
];

/** A genuine variant the device must accept: a control for the forgeries next to it. */
export type Genuine = Omit<Forgery, 'expected' | 'because'>;

/** Genuine sets that exercise checks the forgeries break; each must be accepted. */
export const GenuineVariants: Genuine[] = [
  {
    name: 'revocation-checked-not-revoked',
    description:
      'voucher demands revocation checks; a current CRL from every owner-chain CA is stapled',
    build: async (ctx) => revocationSet(ctx, await ownerChainCrls(ctx.pki, fresh(ctx))),
  },
  {
    name: 'revocation-checks-off-revoked-ignored',
    description:
      'voucher sets domain-cert-revocation-checks false: a CRL listing the owner is not looked at',
    build: async (ctx) => {
      const revoke = [await readCertDer(ctx.pki.ownerCertificate)];
      const crls = await ownerChainCrls(ctx.pki, { ...fresh(ctx), revoke });
      return genuine(ctx, {
        ownerCertificate: certificatesOnly((await ownerSigner(ctx.pki)).chain, crls),
      });
    },
  },
];
