import {
  authorityKeyId,
  type CertInfo,
  certificateOf,
  KeyUsageBit,
  keyUsageBits,
  parseCertificate,
  subjectKeyId,
  subjectText,
} from './cert-info.ts';
import { findPath, validatePath } from './cert-path.ts';
import { decryptEnveloped } from './cms-envelope.ts';
import {
  checkSignerInfo,
  matchesSigner,
  octets,
  readContentInfo,
  readSignedData,
  type SignedData,
} from './cms-read.ts';
import { fail, PkiError } from './codes.ts';
import { type ConveyedInfo, decodeConveyedInfo, type Encoding } from './conveyed-info.ts';
import { bytesOf, children, DerError, equalBytes, parseDer, Tag, type Tlv, toHex } from './der.ts';
import { Oid } from './oids.ts';
import { checkRevocation } from './revocation.ts';
import type { Decrypter } from './signer.ts';
import { type Assertion, decodeVoucher, parseDateAndTime, type Voucher } from './voucher.ts';

/** The three artifacts of RFC 8572 §3 as the device receives them (DER). */
export interface ArtifactSet {
  conveyedInformation: Uint8Array;
  ownerCertificate?: Uint8Array;
  ownershipVoucher?: Uint8Array;
}

/** What the device knows and decides: its identity, trust anchors, clock and policy. */
export interface DeviceTrust {
  /** Manufacturer voucher-signing trust anchors (DER certificates). */
  voucherTrustAnchors: Uint8Array[];
  serialNumber: string;
  /** The IDevID certificate; needed for idevid-issuer checks (and given by `decrypter`). */
  idevidCertificate?: Uint8Array;
  /** The identity key, for EnvelopedData. */
  decrypter?: Decrypter;
  /** The nonce the device sent, if any. */
  nonce?: Uint8Array;
  /** The device clock; undefined for a clockless profile (no validity-period checks). */
  now?: Date;
  /** Assertions local policy accepts; all three by default. */
  acceptedAssertions?: readonly Assertion[];
  /** Refuse unsigned conveyed information (the source is untrusted). */
  requireSigned?: boolean;
}

/** The verdict on an accepted artifact set. */
export interface Verified {
  type: ConveyedInfo['type'];
  encoding: Encoding;
  signed: boolean;
  encrypted: boolean;
  content: Record<string, unknown>;
  voucher?: Voucher;
}

const CI_TYPES = new Set<string>([Oid.conveyedInfoJson, Oid.conveyedInfoXml, Oid.data]);

function describe(cert: CertInfo): string {
  return `"${subjectText(cert)}"`;
}

function malformed(what: string, error: unknown): never {
  if (error instanceof PkiError) throw error;
  fail('CMS_MALFORMED', `${what}: ${(error as Error).message}`, error);
}

/** A parsed artifact after any decryption: a SignedData or a bare document. */
type Opened =
  | { kind: 'signed'; label: string; sd: SignedData }
  | { kind: 'document'; label: string; bytes: Uint8Array };

function looksLikeSignedContentInfo(bytes: Uint8Array): boolean {
  try {
    return readContentInfo(bytes, 'inner').contentType === Oid.signedData;
  } catch {
    return false;
  }
}

/** Reads decrypted SignedData bytes: a bare SignedData or a ContentInfo around one. */
function signedFromPlaintext(bytes: Uint8Array, what: string): SignedData {
  const top = parseDer(bytes, what);
  const first = children(top, what)[0];
  if (first?.tag === Tag.OID) {
    const info = readContentInfo(bytes, what);
    if (info.contentType !== Oid.signedData) {
      fail(
        'CONTENT_TYPE_UNEXPECTED',
        `${what}: decrypted content is ${info.contentType}, not SignedData`,
      );
    }
    return readSignedData(info.content, what);
  }
  return readSignedData(top, what);
}

class Opener {
  encrypted = false;
  constructor(private readonly decrypter: Decrypter | undefined) {}

  /** Opens one artifact: decrypts EnvelopedData, then returns its SignedData or document. */
  async open(der: Uint8Array, what: string, documentTypes: Set<string>): Promise<Opened> {
    let info: ReturnType<typeof readContentInfo>;
    try {
      info = readContentInfo(der, what);
    } catch (error) {
      malformed(what, error);
    }
    if (info.contentType === Oid.envelopedData) {
      if (!this.decrypter)
        fail('DECRYPTION_FAILED', `${what} is encrypted and no identity key was given`);
      this.encrypted = true;
      let inner: Awaited<ReturnType<typeof decryptEnveloped>>;
      try {
        inner = await decryptEnveloped(info.content, this.decrypter);
      } catch (error) {
        malformed(`${what} EnvelopedData`, error);
      }
      const { innerType, plaintext } = inner;
      try {
        if (
          innerType === Oid.signedData ||
          (innerType === Oid.data && looksLikeSignedContentInfo(plaintext))
        ) {
          return { kind: 'signed', label: innerType, sd: signedFromPlaintext(plaintext, what) };
        }
      } catch (error) {
        malformed(`${what} decrypted content`, error);
      }
      if (!documentTypes.has(innerType)) {
        fail(
          'CONTENT_TYPE_UNEXPECTED',
          `${what}: encrypted content type ${innerType} is not allowed here`,
        );
      }
      return { kind: 'document', label: innerType, bytes: plaintext };
    }
    try {
      if (info.contentType === Oid.signedData) {
        return { kind: 'signed', label: Oid.signedData, sd: readSignedData(info.content, what) };
      }
      if (documentTypes.has(info.contentType)) {
        return { kind: 'document', label: info.contentType, bytes: octets(info.content, what) };
      }
    } catch (error) {
      malformed(what, error);
    }
    fail(
      'CONTENT_TYPE_UNEXPECTED',
      `${what}: content type ${info.contentType} is not allowed here`,
    );
  }
}

function parseCerts(list: Uint8Array[], what: string): CertInfo[] {
  try {
    return list.map((der, i) => certificateOf(der, `${what} certificate ${i}`));
  } catch (error) {
    malformed(what, error);
  }
}

/** Picks the owner certificate: the one the CI names as signer, else the chain's leaf. */
function pickOwnerCert(certs: CertInfo[], ciSigner: SignedData['signerInfos'][number] | undefined) {
  if (ciSigner) {
    const named = certs.find((c) => matchesSigner(c, ciSigner.sid, subjectKeyId(c)));
    if (named) return named;
  }
  const issuers = (c: CertInfo) =>
    certs.some((o) => o !== c && equalBytes(bytesOf(o.issuer), bytesOf(c.subject)));
  return certs.find((c) => !issuers(c)) ?? certs[0];
}

/**
 * The device-side verifier, in RFC 8572 §5.4 order. Trust anchors are parsed once, so one
 * instance serves many artifact sets. Every refusal is a {@link PkiError} with a stable code.
 */
export class DeviceVerifier {
  readonly #trust: DeviceTrust;
  readonly #anchors: CertInfo[];
  readonly #idevid: CertInfo | undefined;

  constructor(trust: DeviceTrust) {
    this.#trust = trust;
    this.#anchors = trust.voucherTrustAnchors.map((der, i) =>
      parseCertificate(der, `voucher trust anchor ${i}`),
    );
    const idevid = trust.idevidCertificate ?? trust.decrypter?.certificate;
    this.#idevid = idevid ? parseCertificate(idevid, 'IDevID certificate') : undefined;
  }

  async verify(set: ArtifactSet): Promise<Verified> {
    const t = this.#trust;
    const opener = new Opener(t.decrypter);
    // Step 1: decrypt whatever is enveloped, and sort out the shapes.
    const ci = await opener.open(set.conveyedInformation, 'conveyed-information', CI_TYPES);
    const oc = set.ownerCertificate
      ? await opener.open(set.ownerCertificate, 'owner-certificate', new Set())
      : undefined;
    const ov = set.ownershipVoucher
      ? await opener.open(set.ownershipVoucher, 'ownership-voucher', new Set())
      : undefined;
    if (ci.kind === 'document') {
      if (oc || ov) {
        fail(
          'CONVEYED_INFO_UNSIGNED',
          'an owner certificate or voucher came with unsigned conveyed information',
        );
      }
      if (t.requireSigned)
        fail('CONVEYED_INFO_UNSIGNED', 'unsigned conveyed information from an untrusted source');
      return { ...this.#document(ci.bytes, ci.label), signed: false, encrypted: opener.encrypted };
    }
    if (!CI_TYPES.has(ci.sd.eContentType) || !ci.sd.eContent) {
      fail(
        'CONTENT_TYPE_UNEXPECTED',
        `signed conveyed information has eContentType ${ci.sd.eContentType}${ci.sd.eContent ? '' : ' and no content'}`,
      );
    }
    if (!ov)
      fail('VOUCHER_MISSING', 'signed conveyed information came without an ownership voucher');
    if (!oc)
      fail('OWNER_CERT_MISSING', 'signed conveyed information came without an owner certificate');
    if (ov.kind !== 'signed' || oc.kind !== 'signed') {
      fail('CONTENT_TYPE_UNEXPECTED', 'the owner certificate and voucher must be SignedData');
    }
    const voucher = this.#checkVoucher(ov.sd);
    this.#checkOwner(voucher, oc.sd, ci.sd);
    const decoded = this.#document(ci.sd.eContent as Uint8Array, ci.sd.eContentType);
    return { ...decoded, signed: true, encrypted: opener.encrypted, voucher };
  }

  #document(bytes: Uint8Array, label: string) {
    const doc = decodeConveyedInfo(bytes);
    const expected =
      label === Oid.conveyedInfoJson
        ? 'json'
        : label === Oid.conveyedInfoXml
          ? 'xml'
          : doc.encoding;
    if (expected !== doc.encoding) {
      fail(
        'CONTENT_TYPE_UNEXPECTED',
        `content type ${label} says ${expected} but the content is ${doc.encoding}`,
      );
    }
    return { type: doc.type, encoding: doc.encoding, content: doc.content };
  }

  /** Steps 2-5: voucher signature, clock, assertion, serial, idevid-issuer, nonce. */
  #checkVoucher(sd: SignedData): Voucher {
    const t = this.#trust;
    if (sd.eContentType !== Oid.voucherJson && sd.eContentType !== Oid.data) {
      fail(
        'CONTENT_TYPE_UNEXPECTED',
        `voucher eContentType ${sd.eContentType} is not id-ct-animaJSONVoucher or id-data`,
      );
    }
    const si = sd.signerInfos[0];
    if (!si || !sd.eContent)
      fail('VOUCHER_SIGNATURE_INVALID', 'the voucher has no signer or no content');
    const certs = parseCerts(sd.certificates, 'voucher');
    const signer = certs.find((c) => matchesSigner(c, si.sid, subjectKeyId(c)));
    if (!signer)
      fail('VOUCHER_SIGNATURE_INVALID', 'the voucher does not carry its signer certificate');
    const problems = this.#anchors.map((anchor) =>
      validatePath({
        leaf: signer,
        intermediates: certs,
        anchor,
        ...(t.now ? { now: t.now } : {}),
      }),
    );
    if (!problems.includes(undefined)) {
      fail(
        'VOUCHER_SIGNATURE_INVALID',
        `voucher signer ${describe(signer)} is not trusted: ${problems[0] ?? 'no trust anchor'}`,
      );
    }
    const why = checkSignerInfo(si, sd.eContentType, sd.eContent, signer);
    if (why) fail('VOUCHER_SIGNATURE_INVALID', `voucher signature: ${why}`);
    const v = decodeVoucher(sd.eContent);
    if (t.now) {
      const created = parseDateAndTime(v.createdOn, 'created-on');
      if (created > t.now) {
        fail(
          'VOUCHER_NOT_YET_VALID',
          `voucher created-on ${v.createdOn} is after the device time ${t.now.toISOString()}`,
        );
      }
      if (v.expiresOn && parseDateAndTime(v.expiresOn, 'expires-on') < t.now) {
        fail(
          'VOUCHER_EXPIRED',
          `voucher expires-on ${v.expiresOn} is before the device time ${t.now.toISOString()}`,
        );
      }
    }
    if (t.acceptedAssertions && !t.acceptedAssertions.includes(v.assertion)) {
      fail(
        'VOUCHER_ASSERTION_REJECTED',
        `voucher assertion "${v.assertion}" is not one of ${t.acceptedAssertions.join(', ')}`,
      );
    }
    if (v.serialNumber !== t.serialNumber) {
      fail(
        'VOUCHER_SERIAL_MISMATCH',
        `voucher serial-number "${v.serialNumber}" is not the device serial "${t.serialNumber}"`,
      );
    }
    if (v.idevidIssuer) {
      const aki = this.#idevid ? authorityKeyId(this.#idevid) : undefined;
      if (!aki || !equalBytes(aki, v.idevidIssuer)) {
        fail(
          'VOUCHER_ISSUER_MISMATCH',
          `voucher idevid-issuer ${toHex(v.idevidIssuer)} is not the IDevID authority key identifier ${aki ? toHex(aki) : '(no IDevID certificate given)'}`,
        );
      }
    }
    if (v.nonce && (!t.nonce || !equalBytes(v.nonce, t.nonce))) {
      fail(
        'VOUCHER_NONCE_MISMATCH',
        `voucher nonce ${toHex(v.nonce)} is not the device nonce ${t.nonce ? toHex(t.nonce) : '(none sent)'}`,
      );
    }
    return v;
  }

  /**
   * Steps 6-7: owner certificate to the pinned-domain-cert (with stapled CRLs when the voucher
   * asks for revocation checks), then the CI signature.
   */
  #checkOwner(v: Voucher, ocSd: SignedData, ciSd: SignedData): void {
    const t = this.#trust;
    let pinned: CertInfo;
    try {
      pinned = certificateOf(v.pinnedDomainCert, 'pinned-domain-cert');
    } catch (error) {
      fail(
        'VOUCHER_MALFORMED',
        `voucher pinned-domain-cert is not a certificate: ${(error as Error).message}`,
      );
    }
    const certs = parseCerts(ocSd.certificates, 'owner-certificate');
    const ciSigner = ciSd.signerInfos[0];
    const owner = pickOwnerCert(certs, ciSigner);
    if (!owner) fail('OWNER_CERT_MISSING', 'the owner-certificate artifact holds no certificate');
    if (t.now && (t.now < owner.notBefore || t.now > owner.notAfter)) {
      fail(
        'OWNER_CERT_INVALID',
        `owner certificate ${describe(owner)} is valid ${owner.notBefore.toISOString()} to ${owner.notAfter.toISOString()}, not at ${t.now.toISOString()}`,
      );
    }
    const usage = keyUsageBits(owner);
    if (usage && !usage.has(KeyUsageBit.digitalSignature)) {
      fail(
        'OWNER_CERT_INVALID',
        `owner certificate ${describe(owner)} lacks the digitalSignature key usage`,
      );
    }
    const found = findPath({
      leaf: owner,
      intermediates: certs.filter((c) => c !== owner),
      anchor: pinned,
      ...(t.now ? { now: t.now } : {}),
    });
    if ('problem' in found)
      fail(
        'OWNER_CERT_UNTRUSTED',
        `owner certificate does not chain to the pinned-domain-cert: ${found.problem}`,
      );
    // RFC 8366: true means the device must establish revocation status; false or absent, the
    // stapled CRLs are not looked at.
    if (v.domainCertRevocationChecks === true) {
      checkRevocation({ path: found.path, crls: ocSd.crls, ...(t.now ? { now: t.now } : {}) });
    }
    if (!ciSigner)
      fail('CONVEYED_INFO_SIGNATURE_INVALID', 'the conveyed information has no signer');
    if (!matchesSigner(owner, ciSigner.sid, subjectKeyId(owner))) {
      fail(
        'CONVEYED_INFO_SIGNATURE_INVALID',
        `the conveyed information is signed by a key other than owner certificate ${describe(owner)}`,
      );
    }
    const why = checkSignerInfo(ciSigner, ciSd.eContentType, ciSd.eContent as Uint8Array, owner);
    if (why) fail('CONVEYED_INFO_SIGNATURE_INVALID', `conveyed information signature: ${why}`);
  }
}

/** One-shot form of {@link DeviceVerifier}. */
export async function verifyArtifacts(set: ArtifactSet, trust: DeviceTrust): Promise<Verified> {
  return new DeviceVerifier(trust).verify(set);
}

export { DerError, type Tlv };
