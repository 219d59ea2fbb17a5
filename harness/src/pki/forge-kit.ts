/**
 * What the attack catalogue (forge.ts, forge-revocation.ts) is built from: its types, and the
 * genuine artifacts each forgery starts from before it breaks one thing.
 */
import { createVoucher } from './artifacts.ts';
import { certificatesOnly, signContent } from './cms-build.ts';
import type { PkiCode } from './codes.ts';
import type { PkiManifest } from './lab-pki.ts';
import { ownerSigner } from './lab-signers.ts';
import { Oid } from './oids.ts';
import type { ArtifactSet, DeviceTrust } from './verifier.ts';

/** What a forgery is made from: the genuine trust domain, an attacker's one, and the device. */
export interface ForgeContext {
  pki: PkiManifest;
  /** A second, unrelated trust domain standing in for the attacker. */
  evil: PkiManifest;
  serial: string;
  /** The device's IDevID certificate (DER). */
  idevid: Uint8Array;
  /** Another device's IDevID certificate (DER), for misdirected encryption. */
  otherIdevid: Uint8Array;
  /** Genuine conveyed information (JSON). */
  input: Uint8Array;
  now: Date;
}

/** One entry of the attack catalogue. */
export interface Forgery {
  name: string;
  /** What is wrong, and the RFC 8572 / RFC 8366 rule it breaks. */
  description: string;
  expected: PkiCode;
  /** What the message must say, where several causes share the code. */
  because?: RegExp;
  build(ctx: ForgeContext): Promise<ArtifactSet>;
  /** How the device's own state differs from the default for this case. */
  trust?(ctx: ForgeContext): Partial<DeviceTrust>;
}

export const DAY = 86_400_000;

export async function signedCi(
  ctx: ForgeContext,
  pki = ctx.pki,
  contentType: string = Oid.conveyedInfoJson,
) {
  const { signer } = await ownerSigner(pki);
  return signContent({ signer, contentType, content: ctx.input });
}

/** A voucher for the device made by the genuine MASA a day before the device clock. */
export function dayOldVoucher(
  ctx: ForgeContext,
  extra: Partial<Parameters<typeof createVoucher>[1]> = {},
): Promise<Uint8Array> {
  return createVoucher(ctx.pki, {
    serial: ctx.serial,
    createdOn: new Date(ctx.now.getTime() - DAY),
    ...extra,
  });
}

/** A genuine signed set, with parts replaced. */
export async function genuine(
  ctx: ForgeContext,
  parts: Partial<ArtifactSet> = {},
): Promise<ArtifactSet> {
  return {
    conveyedInformation: parts.conveyedInformation ?? (await signedCi(ctx)),
    ownerCertificate:
      parts.ownerCertificate ?? certificatesOnly((await ownerSigner(ctx.pki)).chain),
    ownershipVoucher: parts.ownershipVoucher ?? (await dayOldVoucher(ctx)),
  };
}
