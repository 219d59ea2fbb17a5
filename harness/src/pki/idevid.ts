import { type Issuer, issueCertificate, KeyUsage, NEVER_EXPIRES, x509 } from './certs.ts';
import { fail } from './codes.ts';
import { Oid } from './oids.ts';

/** What `pki issue-idevid` needs besides the issuing CA. */
export interface IdevidRequest {
  /** PEM or DER PKCS#10 request made where the key lives (the device's TPM). */
  csr: string | Uint8Array;
  serial: string;
  hwModel?: string;
}

/** Parses and checks a CSR: well-formed and signed by the key it carries (proof of possession). */
export async function readCsr(data: string | Uint8Array, where: string) {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(data);
  } catch (error) {
    fail('CSR_INVALID', `${where}: not a PKCS#10 certificate request`, error);
  }
  if (!(await csr.verify())) fail('CSR_INVALID', `${where}: the request signature does not verify`);
  return csr;
}

/**
 * Issues an IEEE 802.1AR IDevID: the serial in subject serialNumber (2.5.4.5), notAfter
 * 99991231235959Z, digitalSignature plus keyAgreement (EC) or keyEncipherment (RSA) so that
 * artifacts can be encrypted to it. Only the public key from the CSR is used.
 */
export async function issueIdevid(issuer: Issuer, request: IdevidRequest, where = 'CSR') {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]+$/.test(request.serial)) {
    fail('CSR_INVALID', `serial "${request.serial}" is empty or not a PrintableString`);
  }
  const csr = await readCsr(request.csr, where);
  const publicKey = csr.publicKey;
  const keyAlgorithm = publicKey.algorithm.name;
  const encipher = keyAlgorithm.startsWith('RSA')
    ? KeyUsage.keyEncipherment
    : KeyUsage.keyAgreement;
  return issueCertificate({
    subject: [
      { O: ['sztp-lab manufacturer'] },
      { CN: [request.hwModel ?? 'sztp-lab device'] },
      { [Oid.serialNumberAttr]: [request.serial] },
    ],
    publicKey,
    issuer,
    keyUsage: KeyUsage.digitalSignature | encipher,
    notAfter: NEVER_EXPIRES,
  });
}
