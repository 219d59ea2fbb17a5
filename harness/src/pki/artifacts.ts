import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { authorityKeyId, parseCertificate } from './cert-info.ts';
import { certificatesOnly, signContent, unsignedContent } from './cms-build.ts';
import { encryptTo } from './cms-envelope.ts';
import { readContentInfo } from './cms-read.ts';
import {
  contentTypeFor,
  decodeConveyedInfo,
  type Encoding,
  encodeConveyedInfo,
} from './conveyed-info.ts';
import { bytesOf } from './der.ts';
import { type ChainCrlOptions, ownerChainCrls } from './lab-crls.ts';
import type { PkiManifest } from './lab-pki.ts';
import { masaSigner, ownerSigner, readCertDer } from './lab-signers.ts';
import { Oid } from './oids.ts';
import type { ArtifactSet } from './verifier.ts';
import { type Assertion, encodeVoucher, type Voucher } from './voucher.ts';

/** File names of an artifact directory, as RFC 8572 names the artifacts. */
export const ArtifactFiles = {
  conveyedInformation: 'conveyed-information.cms',
  ownerCertificate: 'owner-certificate.cms',
  ownershipVoucher: 'ownership-voucher.cms',
} as const;

/** Voucher content choices; everything else comes from the PKI. */
export interface VoucherOptions {
  serial: string;
  nonce?: Uint8Array;
  createdOn?: Date;
  /** Ignored when a nonce is given (the two are exclusive). Default: 30 days after created-on. */
  expiresOn?: Date;
  assertion?: Assertion;
  /** The device IDevID certificate, whose AKI becomes idevid-issuer. */
  idevidCert?: Uint8Array;
  revocationChecks?: boolean;
  lastRenewalDate?: Date;
  /** Label the voucher id-data instead of id-ct-animaJSONVoucher. */
  labelIdData?: boolean;
}

function dateAndTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** The voucher fields for a device, pinning the PKI's pinned-domain-cert. */
export async function voucherFor(pki: PkiManifest, o: VoucherOptions): Promise<Voucher> {
  const created = o.createdOn ?? new Date();
  const v: Voucher = {
    createdOn: dateAndTime(created),
    assertion: o.assertion ?? 'verified',
    serialNumber: o.serial,
    pinnedDomainCert: await readCertDer(pki.pinnedDomainCert),
    domainCertRevocationChecks: o.revocationChecks ?? false,
  };
  if (o.nonce) v.nonce = o.nonce;
  else v.expiresOn = dateAndTime(o.expiresOn ?? new Date(created.getTime() + 30 * 86_400_000));
  if (o.idevidCert) {
    const aki = authorityKeyId(parseCertificate(o.idevidCert, 'IDevID certificate'));
    if (aki) v.idevidIssuer = aki;
  }
  if (o.lastRenewalDate && v.expiresOn) v.lastRenewalDate = dateAndTime(o.lastRenewalDate);
  return v;
}

/** An ownership voucher artifact: the voucher JSON signed by the MASA with its chain. */
export async function createVoucher(pki: PkiManifest, o: VoucherOptions): Promise<Uint8Array> {
  const { signer, chain } = await masaSigner(pki);
  return signContent({
    signer,
    contentType: o.labelIdData ? Oid.data : Oid.voucherJson,
    content: new TextEncoder().encode(encodeVoucher(await voucherFor(pki, o))),
    certificates: chain,
  });
}

/** The owner-certificate artifact: owner certificate and intermediates (and CRLs), no signers. */
export async function createOwnerCertificate(
  pki: PkiManifest,
  crls: Uint8Array[] = [],
): Promise<Uint8Array> {
  return certificatesOnly((await ownerSigner(pki)).chain, crls);
}

/** Choices for one device's artifact set. */
export interface ArtifactOptions extends VoucherOptions {
  /** Redirect or onboarding information, JSON or XML. */
  input: Uint8Array;
  /** Output encoding; default: the input's. */
  encoding?: Encoding;
  sign: boolean;
  /** Encrypt to this IDevID certificate (DER). */
  encryptTo?: Uint8Array;
  /** Encrypt the owner certificate and voucher too, not only the conveyed information. */
  encryptAll?: boolean;
  /** Label the conveyed information id-data instead of its specific content type. */
  labelIdData?: boolean;
  /** DER CRLs to staple to the owner-certificate artifact as they are. */
  crls?: Uint8Array[];
  /** Also staple a fresh CRL from every CA of the owner chain, made by the lab PKI. */
  chainCrls?: ChainCrlOptions;
}

/** The "generate bootstrap information for each device" step: one device's artifacts. */
export async function createArtifacts(pki: PkiManifest, o: ArtifactOptions): Promise<ArtifactSet> {
  const parsed = decodeConveyedInfo(o.input);
  const encoding = o.encoding ?? parsed.encoding;
  const doc = encodeConveyedInfo(parsed.content, encoding);
  const label = o.labelIdData ? Oid.data : contentTypeFor(encoding);
  const encrypt = async (artifact: Uint8Array, innerType: string, inner: Uint8Array) =>
    o.encryptTo ? encryptTo(o.encryptTo, innerType, inner) : artifact;
  if (!o.sign) {
    const plain = unsignedContent(label, doc);
    return { conveyedInformation: await encrypt(plain, label, doc) };
  }
  const { signer, chain } = await ownerSigner(pki);
  const signed = await signContent({ signer, contentType: label, content: doc });
  const ci = await encrypt(signed, Oid.signedData, innerSignedData(signed));
  const voucherOptions = {
    ...o,
    ...(o.encryptTo && !o.idevidCert ? { idevidCert: o.encryptTo } : {}),
  };
  const ov = await createVoucher(pki, { ...voucherOptions, labelIdData: false });
  const crls = [...(o.crls ?? []), ...(o.chainCrls ? await ownerChainCrls(pki, o.chainCrls) : [])];
  const oc = certificatesOnly(chain, crls);
  if (!o.encryptAll) return { conveyedInformation: ci, ownerCertificate: oc, ownershipVoucher: ov };
  return {
    conveyedInformation: ci,
    ownerCertificate: await encrypt(oc, Oid.signedData, innerSignedData(oc)),
    ownershipVoucher: await encrypt(ov, Oid.signedData, innerSignedData(ov)),
  };
}

/** The SignedData inside a ContentInfo: what EnvelopedData encrypts for signed-then-encrypted. */
export function innerSignedData(contentInfoDer: Uint8Array): Uint8Array {
  return bytesOf(readContentInfo(contentInfoDer, 'SignedData').content);
}

/** Writes an artifact set with RFC 8572 file names; absent artifacts are not written. */
export async function writeArtifacts(dir: string, set: ArtifactSet): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [key, name] of Object.entries(ArtifactFiles)) {
    const bytes = set[key as keyof ArtifactSet];
    if (!bytes) continue;
    await writeFile(join(dir, name), bytes);
    written.push(join(dir, name));
  }
  return written;
}
