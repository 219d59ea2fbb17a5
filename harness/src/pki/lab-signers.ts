import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fail } from './codes.ts';
import type { CertKeyFiles, PkiManifest } from './lab-pki.ts';
import { SoftwareSigner } from './signer.ts';

/** Reads a PEM or DER certificate file as DER bytes; PKI_INVALID names the file. */
export async function readCertDer(path: string): Promise<Uint8Array> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    fail('PKI_INVALID', `${path}: cannot read certificate`, error);
  }
  try {
    return new Uint8Array(new X509Certificate(data).raw);
  } catch (error) {
    fail('PKI_INVALID', `${path}: not an X.509 certificate (PEM or DER)`, error);
  }
}

/** A software signer over a certificate and key file pair. */
export async function signerFromFiles(files: CertKeyFiles): Promise<SoftwareSigner> {
  const cert = await readCertDer(files.cert);
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(await readFile(files.key));
  } catch (error) {
    fail('PKI_INVALID', `${files.key}: not a private key`, error);
  }
  return new SoftwareSigner(cert, key);
}

/** The owner's signer and the certificates of its owner-certificate artifact. */
export async function ownerSigner(m: PkiManifest) {
  const signer = await signerFromFiles({ cert: m.ownerCertificate, key: m.ownerKey });
  const chain = await Promise.all(m.ownerChain.map(readCertDer));
  return { signer, chain: [signer.certificate, ...chain] };
}

/** The MASA voucher signer and the chain it ships in vouchers (signer up to the trust anchor). */
export async function masaSigner(m: PkiManifest) {
  const signer = await signerFromFiles(m.masaSigner);
  const chain = await Promise.all([...m.masaChain, m.voucherTrustAnchor].map(readCertDer));
  return { signer, chain: [signer.certificate, ...chain] };
}
