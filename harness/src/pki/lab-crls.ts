import { parseCertificate } from './cert-info.ts';
import { fail } from './codes.ts';
import { type CrlReason, issueCrl } from './crl-build.ts';
import { bytesOf, equalBytes } from './der.ts';
import type { PkiManifest } from './lab-pki.ts';
import { signerFromFiles } from './lab-signers.ts';

/** What the CRLs of an owner chain say. */
export interface ChainCrlOptions {
  /** Certificates (DER) to list as revoked; each goes into the CRL of its issuer. */
  revoke?: Uint8Array[];
  reason?: CrlReason;
  thisUpdate?: Date;
  nextUpdate?: Date;
}

/** The signer of a CA of the PKI, found by its certificate file among the entities. */
async function caSigner(pki: PkiManifest, certPath: string) {
  const files = Object.values(pki.entities).find((entity) => entity.cert === certPath);
  if (!files) fail('PKI_INVALID', `${certPath}: no key for this CA in the PKI manifest`);
  return signerFromFiles(files);
}

/**
 * One CRL from each CA that issued a certificate of the owner chain, in chain order: the owner
 * certificate's issuer first, the pinned-domain-cert last. Stapled to the owner-certificate
 * artifact, they let a device honour `domain-cert-revocation-checks: true`.
 */
export async function ownerChainCrls(
  pki: PkiManifest,
  o: ChainCrlOptions = {},
): Promise<Uint8Array[]> {
  const revoke = (o.revoke ?? []).map((der) => ({
    der,
    issuer: bytesOf(parseCertificate(der, 'certificate to revoke').issuer),
  }));
  const crls: Uint8Array[] = [];
  for (const certPath of [...pki.ownerChain, pki.pinnedDomainCert]) {
    const signer = await caSigner(pki, certPath);
    const subject = bytesOf(parseCertificate(signer.certificate, certPath).subject);
    const revoked = revoke
      .filter((r) => equalBytes(r.issuer, subject))
      .map((r) => ({ certificate: r.der, ...(o.reason ? { reason: o.reason } : {}) }));
    crls.push(
      await issueCrl({
        signer,
        revoked,
        ...(o.thisUpdate ? { thisUpdate: o.thisUpdate } : {}),
        ...(o.nextUpdate ? { nextUpdate: o.nextUpdate } : {}),
      }),
    );
  }
  return crls;
}
