import { createVoucher, voucherFor } from './artifacts.ts';
import { issueCertificate, KeyUsage } from './certs.ts';
import { certificatesOnly, signContent, unsignedContent } from './cms-build.ts';
import { encryptTo } from './cms-envelope.ts';
import { contentTypeFor, decodeConveyedInfo, encodeConveyedInfo } from './conveyed-info.ts';
import {
  DAY,
  dayOldVoucher,
  type ForgeContext,
  type Forgery,
  genuine,
  signedCi,
} from './forge-kit.ts';
import { RevocationForgeries } from './forge-revocation.ts';
import { generateKey } from './keys.ts';
import { readIssuer } from './lab-pki.ts';
import { masaSigner, ownerSigner, readCertDer } from './lab-signers.ts';
import { Oid } from './oids.ts';
import { SoftwareSigner } from './signer.ts';
import { encodeVoucher } from './voucher.ts';

export type { ForgeContext, Forgery } from './forge-kit.ts';
export { type Genuine, GenuineVariants } from './forge-revocation.ts';

/** Flips one byte of `needle` inside `der` (same length, so the DER stays well-formed). */
function tamper(der: Uint8Array, needle: string): Uint8Array {
  const out = new Uint8Array(der);
  const at = Buffer.from(out).indexOf(needle);
  if (at < 0) throw new Error(`cannot tamper: "${needle}" not found`);
  out[at] = (out[at] as number) ^ 0x01;
  return out;
}

/** A voucher with arbitrary JSON, properly signed by the genuine MASA. */
async function masaSigned(ctx: ForgeContext, json: string): Promise<Uint8Array> {
  const { signer, chain } = await masaSigner(ctx.pki);
  return signContent({
    signer,
    contentType: Oid.voucherJson,
    content: new TextEncoder().encode(json),
    certificates: chain,
  });
}

/** An owner certificate issued by the genuine owner CA, with odd validity or key usage. */
async function oddOwnerCert(ctx: ForgeContext, odd: { expired?: boolean; noSign?: boolean }) {
  // The owner issuing CA sits below (or is) the pinned-domain-cert in either PKI layout.
  const issuer = await readIssuer(ctx.pki.entities['owner-ca'] as { cert: string; key: string });
  const key = await generateKey(ctx.pki.keyAlgorithm);
  const cert = await issueCertificate({
    subject: [{ CN: ['Odd Owner Certificate'] }],
    publicKey: key.pair.publicKey,
    issuer,
    keyUsage: odd.noSign ? KeyUsage.keyEncipherment : KeyUsage.digitalSignature,
    ...(odd.expired
      ? {
          notBefore: new Date(ctx.now.getTime() - 400 * DAY),
          notAfter: new Date(ctx.now.getTime() - DAY),
        }
      : {}),
  });
  const signer = new SoftwareSigner(new Uint8Array(cert.rawData), key.privateKey);
  const chain = await Promise.all(ctx.pki.ownerChain.map(readCertDer));
  return genuine(ctx, {
    conveyedInformation: await signContent({
      signer,
      contentType: Oid.conveyedInfoJson,
      content: ctx.input,
    }),
    ownerCertificate: certificatesOnly([signer.certificate, ...chain]),
  });
}

/** The attack catalogue: each forged or broken artifact set and the code the device must give. */
export const Forgeries: Forgery[] = [
  {
    name: 'wrong-serial',
    description: 'voucher issued for another device (RFC 8366: serial-number must match)',
    expected: 'VOUCHER_SERIAL_MISMATCH',
    build: async (ctx) =>
      genuine(ctx, {
        ownershipVoucher: await createVoucher(ctx.pki, {
          serial: `${ctx.serial}-OTHER`,
          createdOn: new Date(ctx.now.getTime() - DAY),
        }),
      }),
  },
  {
    name: 'expired-voucher',
    description: 'voucher expires-on is in the past (RFC 8572 §5.4 step 3)',
    expected: 'VOUCHER_EXPIRED',
    build: async (ctx) =>
      genuine(ctx, {
        ownershipVoucher: await createVoucher(ctx.pki, {
          serial: ctx.serial,
          createdOn: new Date(ctx.now.getTime() - 60 * DAY),
          expiresOn: new Date(ctx.now.getTime() - DAY),
        }),
      }),
  },
  {
    name: 'not-yet-valid-voucher',
    description: 'voucher created-on is in the future (RFC 8572 §5.4 step 3)',
    expected: 'VOUCHER_NOT_YET_VALID',
    build: async (ctx) =>
      genuine(ctx, {
        ownershipVoucher: await createVoucher(ctx.pki, {
          serial: ctx.serial,
          createdOn: new Date(ctx.now.getTime() + DAY),
        }),
      }),
  },
  {
    name: 'untrusted-voucher-signer',
    description: "voucher signed by a MASA key that does not chain to the device's trust anchor",
    expected: 'VOUCHER_SIGNATURE_INVALID',
    build: async (ctx) =>
      genuine(ctx, {
        ownershipVoucher: await createVoucher(ctx.evil, {
          serial: ctx.serial,
          createdOn: new Date(ctx.now.getTime() - DAY),
        }),
      }),
  },
  {
    name: 'voucher-changed-after-signing',
    description: 'one byte of the voucher JSON changed after the MASA signed it',
    expected: 'VOUCHER_SIGNATURE_INVALID',
    build: async (ctx) => {
      const ov = await dayOldVoucher(ctx);
      return genuine(ctx, { ownershipVoucher: tamper(ov, '"assertion"') });
    },
  },
  {
    name: 'owner-cert-not-chaining',
    description:
      "owner certificate (and CI signature) from another owner than the voucher's pinned-domain-cert",
    expected: 'OWNER_CERT_UNTRUSTED',
    build: async (ctx) =>
      genuine(ctx, {
        conveyedInformation: await signedCi(ctx, ctx.evil),
        ownerCertificate: certificatesOnly((await ownerSigner(ctx.evil)).chain),
      }),
  },
  {
    name: 'owner-cert-missing-intermediate',
    description:
      'owner-certificate artifact lacks the intermediate CA between the owner certificate and the pinned-domain-cert',
    expected: 'OWNER_CERT_UNTRUSTED',
    build: async (ctx) => {
      if (ctx.pki.ownerChain.length === 0) throw new Error('needs a PKI pinned at the owner root');
      return genuine(ctx, {
        ownerCertificate: certificatesOnly([(await ownerSigner(ctx.pki)).signer.certificate]),
      });
    },
  },
  {
    name: 'owner-cert-expired',
    description: 'owner certificate issued by the genuine owner CA but outside its validity period',
    expected: 'OWNER_CERT_INVALID',
    build: (ctx) => oddOwnerCert(ctx, { expired: true }),
  },
  {
    name: 'owner-cert-no-digital-signature',
    description:
      'owner certificate whose key usage does not allow digitalSignature (RFC 8572 §3.2)',
    expected: 'OWNER_CERT_INVALID',
    build: (ctx) => oddOwnerCert(ctx, { noSign: true }),
  },
  {
    name: 'ci-signed-by-other-key',
    description: 'conveyed information signed by a key other than the owner certificate',
    expected: 'CONVEYED_INFO_SIGNATURE_INVALID',
    build: async (ctx) => genuine(ctx, { conveyedInformation: await signedCi(ctx, ctx.evil) }),
  },
  {
    name: 'ci-changed-after-signing',
    description: 'one byte of the signed conveyed information changed after signing',
    expected: 'CONVEYED_INFO_SIGNATURE_INVALID',
    build: async (ctx) =>
      genuine(ctx, { conveyedInformation: tamper(await signedCi(ctx), 'onboarding-information') }),
  },
  {
    name: 'ci-wrong-content-type',
    description:
      'signed conveyed information labelled id-ct-animaJSONVoucher instead of .43/.42/id-data',
    expected: 'CONTENT_TYPE_UNEXPECTED',
    build: async (ctx) =>
      genuine(ctx, { conveyedInformation: await signedCi(ctx, ctx.pki, Oid.voucherJson) }),
  },
  {
    name: 'ci-label-contradicts-content',
    description: 'unsigned conveyed information labelled XML (.42) whose content is JSON',
    expected: 'CONTENT_TYPE_UNEXPECTED',
    build: async (ctx) => ({
      conveyedInformation: unsignedContent(Oid.conveyedInfoXml, ctx.input),
    }),
  },
  {
    name: 'voucher-wrong-content-type',
    description: 'voucher eContentType is the conveyed-information JSON type',
    expected: 'CONTENT_TYPE_UNEXPECTED',
    build: async (ctx) => {
      const { signer, chain } = await masaSigner(ctx.pki);
      const json = encodeVoucher(
        await voucherFor(ctx.pki, {
          serial: ctx.serial,
          createdOn: new Date(ctx.now.getTime() - DAY),
        }),
      );
      const ov = await signContent({
        signer,
        contentType: Oid.conveyedInfoJson,
        content: new TextEncoder().encode(json),
        certificates: chain,
      });
      return genuine(ctx, { ownershipVoucher: ov });
    },
  },
  {
    name: 'truncated-ci',
    description: 'conveyed information DER cut short',
    expected: 'CMS_MALFORMED',
    build: async (ctx) => {
      const ci = await signedCi(ctx);
      return genuine(ctx, { conveyedInformation: ci.subarray(0, ci.length - 40) });
    },
  },
  {
    name: 'truncated-voucher',
    description: 'ownership voucher DER cut short',
    expected: 'CMS_MALFORMED',
    build: async (ctx) => {
      const ov = await dayOldVoucher(ctx);
      return genuine(ctx, { ownershipVoucher: ov.subarray(0, 100) });
    },
  },
  {
    name: 'nonce-mismatch',
    description: 'nonce-bound voucher whose nonce is not the one the device sent',
    expected: 'VOUCHER_NONCE_MISMATCH',
    build: async (ctx) =>
      genuine(ctx, {
        ownershipVoucher: await dayOldVoucher(ctx, {
          nonce: new Uint8Array(16).fill(7),
        }),
      }),
    trust: () => ({ nonce: new Uint8Array(16).fill(8) }),
  },
  {
    name: 'nonce-not-sent',
    description: 'nonce-bound voucher replayed to a device that sent no nonce',
    expected: 'VOUCHER_NONCE_MISMATCH',
    build: async (ctx) =>
      genuine(ctx, {
        ownershipVoucher: await dayOldVoucher(ctx, {
          nonce: new Uint8Array(16).fill(7),
        }),
      }),
  },
  {
    name: 'idevid-issuer-mismatch',
    description: "voucher idevid-issuer is not the authority key identifier of the device's IDevID",
    expected: 'VOUCHER_ISSUER_MISMATCH',
    build: async (ctx) =>
      genuine(ctx, {
        ownershipVoucher: await dayOldVoucher(ctx, {
          idevidCert: await readCertDer(ctx.pki.servers.redirect.cert),
        }),
      }),
  },
  {
    name: 'assertion-rejected',
    description: 'voucher assertion "logged" where local policy accepts only "verified"',
    expected: 'VOUCHER_ASSERTION_REJECTED',
    build: async (ctx) =>
      genuine(ctx, {
        ownershipVoucher: await dayOldVoucher(ctx, {
          assertion: 'logged',
        }),
      }),
    trust: () => ({ acceptedAssertions: ['verified'] }),
  },
  ...RevocationForgeries,
  {
    name: 'voucher-unknown-member',
    description: 'MASA-signed voucher JSON with a member ietf-voucher does not define',
    expected: 'VOUCHER_MALFORMED',
    build: async (ctx) => {
      const v = JSON.parse(
        encodeVoucher(
          await voucherFor(ctx.pki, {
            serial: ctx.serial,
            createdOn: new Date(ctx.now.getTime() - DAY),
          }),
        ),
      );
      v['ietf-voucher:voucher'].XMLName = { Space: '', Local: '' };
      return genuine(ctx, { ownershipVoucher: await masaSigned(ctx, JSON.stringify(v)) });
    },
  },
  {
    name: 'owner-cert-without-voucher',
    description: 'signed conveyed information with an owner certificate but no voucher',
    expected: 'VOUCHER_MISSING',
    build: async (ctx) => {
      const { ownershipVoucher: _, ...rest } = await genuine(ctx);
      return rest;
    },
  },
  {
    name: 'voucher-without-owner-cert',
    description: 'signed conveyed information with a voucher but no owner certificate',
    expected: 'OWNER_CERT_MISSING',
    build: async (ctx) => {
      const { ownerCertificate: _, ...rest } = await genuine(ctx);
      return rest;
    },
  },
  {
    name: 'signature-stripped',
    description: 'genuine voucher and owner certificate next to unsigned conveyed information',
    expected: 'CONVEYED_INFO_UNSIGNED',
    build: async (ctx) =>
      genuine(ctx, { conveyedInformation: unsignedContent(Oid.conveyedInfoJson, ctx.input) }),
  },
  {
    name: 'unsigned-from-untrusted-source',
    description: 'unsigned onboarding information from an untrusted source (RFC 8572 §5.3)',
    expected: 'CONVEYED_INFO_UNSIGNED',
    build: async (ctx) => ({
      conveyedInformation: unsignedContent(Oid.conveyedInfoJson, ctx.input),
    }),
    trust: () => ({ requireSigned: true }),
  },
  {
    name: 'encrypted-to-other-device',
    description: "conveyed information encrypted to another device's IDevID",
    expected: 'DECRYPTION_FAILED',
    build: async (ctx) => ({
      conveyedInformation: await encryptTo(ctx.otherIdevid, Oid.conveyedInfoJson, ctx.input),
    }),
  },
  {
    name: 'ci-not-yang-valid',
    description: 'signed conveyed information whose hash-value is plain hex, not yang:hex-string',
    expected: 'CONVEYED_INFO_INVALID',
    build: async (ctx) => {
      const doc = decodeConveyedInfo(ctx.input).content as Record<string, Record<string, unknown>>;
      const json = JSON.stringify(doc).replace(/"hash-value":"[^"]*"/, '"hash-value":"abcdef"');
      const { signer } = await ownerSigner(ctx.pki);
      const ci = await signContent({
        signer,
        contentType: contentTypeFor('json'),
        content: new TextEncoder().encode(json),
      });
      return genuine(ctx, { conveyedInformation: ci });
    },
  },
];

/** Genuine conveyed information for the catalogue: onboarding information with every leaf. */
export function sampleOnboarding(): Uint8Array {
  return encodeConveyedInfo(
    {
      'ietf-sztp-conveyed-info:onboarding-information': {
        'boot-image': {
          'os-name': 'Junos',
          'os-version': '23.4R1',
          'download-uri': ['https://image.sztp-lab.test/junos.tgz'],
          'image-verification': [
            {
              'hash-algorithm': 'ietf-sztp-conveyed-info:sha-256',
              'hash-value':
                '5f:70:bf:18:a0:86:00:70:16:e9:48:b0:4a:ed:3b:82:10:3a:36:be:a4:17:55:b6:cd:df:af:10:ac:e3:c6:ef',
            },
          ],
        },
        'configuration-handling': 'merge',
        'pre-configuration-script': Buffer.from('#!/bin/sh\necho pre\n').toString('base64'),
        configuration: Buffer.from('<configuration/>\n').toString('base64'),
        'post-configuration-script': Buffer.from('#!/bin/sh\necho post\n').toString('base64'),
      },
    },
    'json',
  );
}
