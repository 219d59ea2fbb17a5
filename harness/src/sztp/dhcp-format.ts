import { LabError } from '../common/errors.ts';
import type { EncodedOption } from './dhcp-option.ts';
import { colonHex } from './hex-text.ts';

/**
 * Writes an encoded SZTP option the way a person pastes it somewhere.
 *
 * For `isc` and `kea` the whole payload is given even when a DHCPv4 list is longer than 255
 * octets, because both servers split a long value into consecutive instances themselves:
 * - ISC dhcpd: `store_options()` in common/options.c copies an option value in chunks of at
 *   most 255 octets, each behind its own code and length octet (RFC 3396). The option must be
 *   declared `option sztp-redirect code 143 = string;` and the value given as colon hex.
 * - Kea (since 2.1.6, "Support for Long Options" in the ARM): options longer than 255 octets are
 *   accepted in the configuration and `LibDHCP::splitOptions4()` splits them on send; received
 *   split options are joined. With `"csv-format": false` the `data` is a hex string; Kea also
 *   takes a `0x` prefix, colons or spaces there, so plain hex needs no escaping either way.
 * The `hex` and `colon` formats with `tlv` print the on-wire instances instead, one a line.
 */

/** The output formats of `dhcp-option encode`. */
export const OPTION_FORMATS = ['hex', 'colon', 'isc', 'kea'] as const;
/** One of {@link OPTION_FORMATS}. */
export type OptionFormat = (typeof OPTION_FORMATS)[number];

/** Formats the payload (or, with `tlv`, each on-wire instance on its own line). */
export function formatOption(encoded: EncodedOption, format: OptionFormat, tlv = false): string {
  if (tlv && (format === 'isc' || format === 'kea')) {
    throw new LabError(
      'INVALID_ARGUMENT',
      `--tlv does not apply to --format ${format}: the server adds the option headers itself`,
    );
  }
  const values = tlv ? encoded.instances : [encoded.payload];
  return values.map((value) => formatBytes(value, format)).join('\n');
}

function formatBytes(bytes: Buffer, format: OptionFormat): string {
  switch (format) {
    case 'hex':
      return bytes.toString('hex');
    case 'colon':
    case 'isc':
      return colonHex(bytes);
    case 'kea':
      return bytes.toString('hex').toUpperCase();
  }
}
