import { PkiError } from './codes.ts';

/** Every block of one PEM label ("CERTIFICATE", "X509 CRL") in a text, as DER, in order. */
function blocksFromPem(text: string, label: string): Uint8Array[] {
  const block = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  return [...text.matchAll(block)].map(
    (match) => new Uint8Array(Buffer.from((match[1] ?? '').replace(/\s+/g, ''), 'base64')),
  );
}

/** DER objects as PEM blocks of one label (64-column base64). */
function blocksToPem(ders: readonly Uint8Array[], label: string): string {
  return ders
    .map((der) => {
      const body = Buffer.from(der)
        .toString('base64')
        .replace(/(.{64})/g, '$1\n');
      return `-----BEGIN ${label}-----\n${body.trim()}\n-----END ${label}-----\n`;
    })
    .join('');
}

/** Every certificate of a PEM text, as DER, in file order. */
export function certificatesFromPem(text: string): Uint8Array[] {
  return blocksFromPem(text, 'CERTIFICATE');
}

/** The first certificate of a PEM text, as DER; CMS_MALFORMED when there is none. */
export function firstCertificateFromPem(text: string, where = 'the PEM file'): Uint8Array {
  const [first] = certificatesFromPem(text);
  if (!first) throw new PkiError('CMS_MALFORMED', `no certificate in ${where}`);
  return first;
}

/** DER certificates as one PEM text. */
export function certificatesToPem(ders: readonly Uint8Array[]): string {
  return blocksToPem(ders, 'CERTIFICATE');
}

/** Every CRL of a PEM text ("X509 CRL" blocks, as openssl writes them), as DER. */
export function crlsFromPem(text: string): Uint8Array[] {
  return blocksFromPem(text, 'X509 CRL');
}

/** DER CRLs as one PEM text, as `openssl crl` reads it. */
export function crlsToPem(ders: readonly Uint8Array[]): string {
  return blocksToPem(ders, 'X509 CRL');
}
