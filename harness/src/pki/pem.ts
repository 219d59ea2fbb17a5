import { PkiError } from './codes.ts';

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/** Every certificate of a PEM text, as DER, in file order. */
export function certificatesFromPem(text: string): Uint8Array[] {
  return [...text.matchAll(CERTIFICATE_BLOCK)].map(
    (match) => new Uint8Array(Buffer.from((match[1] ?? '').replace(/\s+/g, ''), 'base64')),
  );
}

/** The first certificate of a PEM text, as DER; CMS_MALFORMED when there is none. */
export function firstCertificateFromPem(text: string, where = 'the PEM file'): Uint8Array {
  const [first] = certificatesFromPem(text);
  if (!first) throw new PkiError('CMS_MALFORMED', `no certificate in ${where}`);
  return first;
}

/** DER certificates as one PEM text (64-column base64). */
export function certificatesToPem(ders: readonly Uint8Array[]): string {
  return ders
    .map((der) => {
      const body = Buffer.from(der)
        .toString('base64')
        .replace(/(.{64})/g, '$1\n');
      return `-----BEGIN CERTIFICATE-----\n${body.trim()}\n-----END CERTIFICATE-----\n`;
    })
    .join('');
}
