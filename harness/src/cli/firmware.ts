import type { Command } from 'commander';
import { LabError } from '../common/errors.ts';
import { createFirmware, type FirmwareInfo, inspectFirmware } from '../sztp/firmware.ts';
import { makeOutput } from './output.ts';

interface CreateFlags {
  osName: string;
  osVersion: string;
  size?: string;
  created?: string;
  out: string;
  json?: boolean;
}

function parseSize(text: string): number {
  const size = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(size)) {
    throw new LabError('INVALID_ARGUMENT', `--size "${text}" is not a whole number of bytes`);
  }
  return size;
}

function parseCreated(text: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) {
    throw new LabError('INVALID_ARGUMENT', `--created "${text}" is not an ISO 8601 time`);
  }
  return date;
}

function human(info: FirmwareInfo): string {
  return [
    `path        ${info.path}`,
    `os-name     ${info.manifest['os-name']}`,
    `os-version  ${info.manifest['os-version']}`,
    `created     ${info.manifest.created}`,
    `size        ${info.size} bytes (payload ${info.manifest.payload.size})`,
    `sha256      ${info.sha256}`,
    `hash-value  ${info.sha256Colon}`,
  ].join('\n');
}

function document(info: FirmwareInfo) {
  return {
    path: info.path,
    size: info.size,
    sha256: info.sha256,
    hashValue: info.sha256Colon,
    manifest: info.manifest,
  };
}

/** Registers `firmware create` and `firmware inspect` (lab boot images). */
export function registerFirmware(program: Command): void {
  const group = program
    .command('firmware')
    .description('Make and read lab firmware files, the boot images emulated devices install');

  group
    .command('create')
    .description('Write a firmware file and print its size and SHA-256')
    .requiredOption('--os-name <name>', 'os-name the device reports once installed, e.g. Junos')
    .requiredOption('--os-version <version>', 'os-version the device reports once installed')
    .option('--size <bytes>', 'payload size in bytes (default 65536)')
    .option('--created <time>', 'fixed creation time (ISO 8601), for byte-identical files')
    .requiredOption('--out <file>', 'where to write the firmware file')
    .option('--json', 'print a JSON document')
    .action(async (flags: CreateFlags) => {
      const info = await createFirmware(flags.out, {
        osName: flags.osName,
        osVersion: flags.osVersion,
        ...(flags.size === undefined ? {} : { size: parseSize(flags.size) }),
        ...(flags.created === undefined ? {} : { created: parseCreated(flags.created) }),
      });
      makeOutput(flags.json ?? false).result(document(info), human(info));
    });

  group
    .command('inspect')
    .description('Verify a firmware file and print its manifest and SHA-256')
    .argument('<file>', 'the firmware file')
    .option('--json', 'print a JSON document')
    .action(async (file: string, flags: { json?: boolean }) => {
      const info = await inspectFirmware(file);
      makeOutput(flags.json ?? false).result(document(info), human(info));
    });
}
