import { type Command, Option } from 'commander';
import { LabError } from '../common/errors.ts';
import { formatOption, OPTION_FORMATS, type OptionFormat } from '../sztp/dhcp-format.ts';
import {
  type DecodeResult,
  decodeV4Option,
  decodeV6Option,
  encodeV4Options,
  encodeV6Option,
  type OptionDecodeOptions,
} from '../sztp/dhcp-option.ts';
import { parseHexText } from '../sztp/hex-text.ts';
import { makeOutput } from './output.ts';

interface EncodeFlags {
  v6?: boolean;
  format: OptionFormat;
  tlv?: boolean;
  json?: boolean;
}

interface DecodeFlags {
  v6?: boolean;
  lenient?: boolean;
  withHeader?: boolean;
  json?: boolean;
}

/** Registers `dhcp-option encode` and `dhcp-option decode` (RFC 8572 §8 options 143 and 136). */
export function registerDhcpOption(program: Command): void {
  const group = program
    .command('dhcp-option')
    .description('Encode or decode the SZTP redirect DHCP option (v4 code 143, v6 code 136)');

  group
    .command('encode')
    .description('Build the option payload for a list of https://host[:port] URIs')
    .argument('<uri...>', 'bootstrap server URIs, in the order a device should try them')
    .option('--v6', 'build OPTION_V6_SZTP_REDIRECT (136) instead of the DHCPv4 option 143')
    .addOption(
      new Option('--format <format>', 'how to print the value')
        .choices(OPTION_FORMATS)
        .default('hex'),
    )
    .option('--tlv', 'print each on-wire option instance, header included (hex and colon)')
    .option('--json', 'print a JSON document')
    .action((uris: string[], flags: EncodeFlags) => {
      const encoded = flags.v6 ? encodeV6Option(uris) : encodeV4Options(uris);
      const formatted = formatOption(encoded, flags.format, flags.tlv);
      const value = {
        code: encoded.code,
        payloadHex: encoded.payload.toString('hex'),
        instances: encoded.instances.map((instance) => instance.toString('hex')),
        formatted,
      };
      makeOutput(flags.json ?? false).result(value, formatted);
    });

  group
    .command('decode')
    .description('Read the URIs from an option payload given in hex')
    .argument('<hex...>', 'the payload in hex: 001a68…, 0:1a:68:… (dhclient) or 00 1a 68 …')
    .option('--v6', 'the input is OPTION_V6_SZTP_REDIRECT (136)')
    .option('--lenient', 'also accept the plain-text forms some peers send')
    .option(
      '--with-header',
      'the input starts with the option code and length (v4: may be several)',
    )
    .option('--json', 'print a JSON document')
    .action((hex: string[], flags: DecodeFlags) => {
      const bytes = parseHexText(hex.join(' '));
      const options: OptionDecodeOptions = {
        mode: flags.lenient ? 'lenient' : 'strict',
        withHeader: flags.withHeader === true,
      };
      const result = flags.v6 ? decodeV6Option(bytes, options) : decodeV4Option(bytes, options);
      if (result.dropped) throw droppedError(result);
      const output = makeOutput(flags.json ?? false);
      for (const warning of result.warnings) output.progress(`warning: ${warning}`);
      for (const entry of result.skipped)
        output.progress(`skipped "${entry.uri}": ${entry.reason}`);
      const { uris, skipped, warnings } = result;
      output.result({ uris, skipped, warnings }, uris.join('\n'));
    });
}

function droppedError(result: DecodeResult): LabError {
  const reasons = result.skipped.map((entry) => `"${entry.uri}": ${entry.reason}`);
  return new LabError(
    'DHCP_OPTION_INVALID',
    `No valid URI in the option, so a receiver discards it (RFC 8572 §8)` +
      (reasons.length > 0 ? `; skipped ${reasons.join('; ')}` : ''),
    { details: { skipped: result.skipped, warnings: result.warnings } },
  );
}
