/** Object identifiers used by SZTP artifacts (RFC 5652, RFC 8366, RFC 8572, RFC 5753). */
export const Oid = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  voucherJson: '1.2.840.113549.1.9.16.1.40',
  conveyedInfoXml: '1.2.840.113549.1.9.16.1.42',
  conveyedInfoJson: '1.2.840.113549.1.9.16.1.43',
  contentTypeAttr: '1.2.840.113549.1.9.3',
  messageDigestAttr: '1.2.840.113549.1.9.4',
  signingTimeAttr: '1.2.840.113549.1.9.5',
  serialNumberAttr: '2.5.4.5',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  ecdsaSha512: '1.2.840.10045.4.3.4',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaSha256: '1.2.840.113549.1.1.11',
  rsaSha384: '1.2.840.113549.1.1.12',
  rsaSha512: '1.2.840.113549.1.1.13',
  rsaOaep: '1.2.840.113549.1.1.7',
  rsaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdhSha256Kdf: '1.3.132.1.11.1',
  ecdhSha384Kdf: '1.3.132.1.11.2',
  ecdhSha512Kdf: '1.3.132.1.11.3',
  ecdhSha1Kdf: '1.3.133.16.840.63.0.2',
  aes128Wrap: '2.16.840.1.101.3.4.1.5',
  aes192Wrap: '2.16.840.1.101.3.4.1.25',
  aes256Wrap: '2.16.840.1.101.3.4.1.45',
  aes128Cbc: '2.16.840.1.101.3.4.1.2',
  aes192Cbc: '2.16.840.1.101.3.4.1.22',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
} as const;

/** Digest names node:crypto understands, by digest OID. */
export const DigestByOid: Record<string, string> = {
  [Oid.sha256]: 'sha256',
  [Oid.sha384]: 'sha384',
  [Oid.sha512]: 'sha512',
};

/** The digest a signature algorithm OID implies, for the algorithms CMS signers use. */
export const DigestBySignatureOid: Record<string, string> = {
  [Oid.ecdsaSha256]: 'sha256',
  [Oid.ecdsaSha384]: 'sha384',
  [Oid.ecdsaSha512]: 'sha512',
  [Oid.rsaSha256]: 'sha256',
  [Oid.rsaSha384]: 'sha384',
  [Oid.rsaSha512]: 'sha512',
};
