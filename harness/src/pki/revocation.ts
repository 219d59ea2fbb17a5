import {
  type CertInfo,
  KeyUsageBit,
  keyUsageBits,
  nameText,
  signedBy,
  subjectText,
} from './cert-info.ts';
import { fail } from './codes.ts';
import { type CrlInfo, CrlReasons, parseCrl } from './crl-read.ts';
import { bytesOf, contentOf, equalBytes, toHex } from './der.ts';
import { DigestBySignatureOid } from './oids.ts';

/** What the revocation check of an owner chain works from. */
export interface RevocationInput {
  /** The validated path, owner certificate first and the pinned-domain-cert last. */
  path: CertInfo[];
  /** DER CRLs stapled to the owner-certificate artifact. */
  crls: Uint8Array[];
  /** The device clock; absent for a clockless device (no thisUpdate/nextUpdate checks). */
  now?: Date;
}

type Stapled = { crl: CrlInfo } | { problem: string };

function readStapled(der: Uint8Array): Stapled {
  try {
    return { crl: parseCrl(der, 'CRL') };
  } catch (error) {
    return { problem: `is malformed (${(error as Error).message})` };
  }
}

/** The serial as hex, without the sign octet DER adds to keep large serials positive. */
function serialHex(serial: Uint8Array): string {
  const hex = toHex(serial);
  return hex.startsWith('00') && hex.length > 2 ? hex.slice(2) : hex;
}

function label(cert: CertInfo): string {
  return `"${subjectText(cert)}" (serial ${serialHex(contentOf(cert.serial))})`;
}

/** Why one parsed CRL cannot speak for `cert`, or undefined when it can. */
function whyNot(crl: CrlInfo, cert: CertInfo, issuer: CertInfo, now?: Date): string | undefined {
  if (!equalBytes(bytesOf(crl.issuer), bytesOf(cert.issuer))) {
    return `is issued by "${nameText(crl.issuer)}", not by "${nameText(cert.issuer)}"`;
  }
  if (crl.unsupportedCritical.length > 0) {
    const names = crl.unsupportedCritical.join('; ');
    return `has critical extensions this verifier does not process: ${names}`;
  }
  const usage = keyUsageBits(issuer);
  if (usage && !usage.has(KeyUsageBit.cRLSign)) {
    return `comes from "${subjectText(issuer)}", whose key usage lacks cRLSign`;
  }
  if (!DigestBySignatureOid[crl.signatureOid]) {
    return `is signed with algorithm ${crl.signatureOid}, which this verifier does not support`;
  }
  if (!signedBy(crl, issuer)) {
    return `has a signature that does not verify with the key of "${subjectText(issuer)}"`;
  }
  if (!now) return undefined;
  if (crl.thisUpdate > now) {
    return (
      `is not yet valid: thisUpdate ${crl.thisUpdate.toISOString()} ` +
      `is after the device time ${now.toISOString()}`
    );
  }
  if (!crl.nextUpdate) return 'has no nextUpdate, so the device cannot tell whether it is current';
  if (crl.nextUpdate < now) {
    return (
      `is stale: nextUpdate ${crl.nextUpdate.toISOString()} ` +
      `is before the device time ${now.toISOString()}`
    );
  }
  return undefined;
}

/**
 * RFC 8366 `domain-cert-revocation-checks: true`: every certificate of the path below the
 * pinned-domain-cert needs a stapled CRL from its issuer (the next certificate up) that is signed
 * by the issuer's key and current at the device time, and its serial must not be listed. When
 * several CRLs serve, the most recent (by thisUpdate) decides. The pinned-domain-cert is the
 * trust anchor and is not checked. Throws REVOCATION_UNAVAILABLE or OWNER_CERT_REVOKED.
 */
export function checkRevocation(input: RevocationInput): void {
  const { path, now } = input;
  const stapled = input.crls.map((der) => readStapled(der));
  for (let i = 0; i + 1 < path.length; i++) {
    const cert = path[i] as CertInfo;
    const issuer = path[i + 1] as CertInfo;
    const role = i === 0 ? 'owner certificate' : 'intermediate CA certificate';
    const reasons: string[] = [];
    let best: CrlInfo | undefined;
    for (const [n, entry] of stapled.entries()) {
      if ('problem' in entry) {
        reasons.push(`CRL ${n} ${entry.problem}`);
        continue;
      }
      const why = whyNot(entry.crl, cert, issuer, now);
      if (why) reasons.push(`CRL ${n} ${why}`);
      else if (!best || entry.crl.thisUpdate > best.thisUpdate) best = entry.crl;
    }
    if (!best) {
      const detail =
        stapled.length === 0
          ? 'the owner-certificate artifact carries no CRLs'
          : reasons.join('; ');
      fail(
        'REVOCATION_UNAVAILABLE',
        'the voucher requires revocation checks, and no stapled CRL gives the status of ' +
          `${role} ${label(cert)}: ${detail}`,
      );
    }
    const serial = contentOf(cert.serial);
    const listed = best.revoked.find((entry) => equalBytes(entry.serial, serial));
    if (listed) {
      const reason = listed.reason === undefined ? '' : ` (${reasonName(listed.reason)})`;
      fail(
        'OWNER_CERT_REVOKED',
        `${role} ${label(cert)} was revoked on ${listed.revokedAt.toISOString()}${reason}, ` +
          `says the CRL of "${nameText(best.issuer)}" issued ${best.thisUpdate.toISOString()}`,
      );
    }
  }
}

function reasonName(reason: number): string {
  return CrlReasons[reason] ?? `reason ${reason}`;
}
