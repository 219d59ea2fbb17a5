import { createCipheriv, createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { LabError } from '../common/errors.ts';

/**
 * Lab firmware: what the emulated device downloads as its boot image. A gzip-compressed ustar
 * archive with two members, `manifest.json` (the os-name and os-version the device reports after
 * installing it) and `payload.bin` (filler bytes standing in for the real image). The archive is
 * written and read here without the system `tar`, so the device side needs nothing else.
 */
export const FIRMWARE_FORMAT = 'sztp-lab-firmware/1';
export const MANIFEST_NAME = 'manifest.json';
export const PAYLOAD_NAME = 'payload.bin';
export const DEFAULT_PAYLOAD_SIZE = 64 * 1024;
/** Large enough for any lab test, small enough that a typo does not fill the disk. */
export const MAX_PAYLOAD_SIZE = 1024 * 1024 * 1024;

export interface FirmwareManifest {
  format: typeof FIRMWARE_FORMAT;
  'os-name': string;
  'os-version': string;
  /** ISO 8601 time the file was made. */
  created: string;
  payload: { name: string; size: number; sha256: string };
}

export interface FirmwareOptions {
  osName: string;
  osVersion: string;
  /** Payload size in bytes; default {@link DEFAULT_PAYLOAD_SIZE}. */
  size?: number;
  /** Fixed creation time, for byte-identical files; default now. */
  created?: Date;
}

export interface FirmwareInfo {
  path: string;
  manifest: FirmwareManifest;
  /** Size of the firmware file itself. */
  size: number;
  /** SHA-256 of the firmware file: what onboarding information's image-verification carries. */
  sha256: string;
  /** The same digest as a YANG hex-string (colon-separated octets), for `hash-value`. */
  sha256Colon: string;
}

/** Colon-separated lower-case hex octets, the `yang:hex-string` form of `hash-value`. */
export function colonHex(bytes: Uint8Array): string {
  return Buffer.from(bytes)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1:');
}

/**
 * Deterministic filler: AES-256-CTR keystream keyed by a hash of name and version. The same
 * inputs always give the same bytes, and two versions give payloads (and hashes) that differ.
 */
export function payloadBytes(osName: string, osVersion: string, size: number): Buffer {
  const key = createHash('sha256').update(`sztp-lab firmware\0${osName}\0${osVersion}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

function invalid(path: string, why: string, cause?: unknown): never {
  throw new LabError(
    'FIRMWARE_INVALID',
    `${path}: not a lab firmware file (${why})`,
    cause === undefined ? undefined : { cause },
  );
}

function checkOptions(options: FirmwareOptions): number {
  const size = options.size ?? DEFAULT_PAYLOAD_SIZE;
  for (const [flag, value] of [
    ['os-name', options.osName],
    ['os-version', options.osVersion],
  ] as const) {
    if (value.trim() === '' || [...value].some((c) => c.charCodeAt(0) < 0x20)) {
      throw new LabError('INVALID_ARGUMENT', `${flag} "${value}" is empty or has control bytes`);
    }
  }
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_PAYLOAD_SIZE) {
    throw new LabError(
      'INVALID_ARGUMENT',
      `payload size ${size} is not a whole number of bytes from 0 to ${MAX_PAYLOAD_SIZE}`,
    );
  }
  return size;
}

// ---- a minimal ustar writer and reader (POSIX.1-1988 headers, regular files only) ----

const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function tarHeader(name: string, size: number, mtime: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 100, 'utf8');
  header.write(octal(0o644, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii');
  header.write(octal(0, 8), 116, 'ascii');
  header.write(octal(size, 12), 124, 'ascii');
  header.write(octal(mtime, 12), 136, 'ascii');
  header.write(' '.repeat(8), 148, 'ascii');
  header.write('0', 156, 'ascii');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  header.write('root', 265, 'ascii');
  header.write('root', 297, 'ascii');
  header.write(`${octal(checksum(header), 7)} `, 148, 'ascii');
  return header;
}

function checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  return sum;
}

function tar(entries: { name: string; data: Buffer }[], mtime: number): Buffer {
  const parts: Buffer[] = [];
  for (const { name, data } of entries) {
    parts.push(tarHeader(name, data.length, mtime), data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

function readField(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** The regular-file members of a tar archive by name. */
function untar(archive: Buffer, path: string): Map<string, Buffer> {
  const members = new Map<string, Buffer>();
  let offset = 0;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) return members;
    const stored = Number.parseInt(readField(header, 148, 8).trim(), 8);
    if (stored !== checksum(header)) invalid(path, `bad tar header checksum at offset ${offset}`);
    const name = readField(header, 0, 100).replace(/^\.\//, '');
    const size = Number.parseInt(readField(header, 124, 12).trim() || '0', 8);
    const type = readField(header, 156, 1);
    const start = offset + BLOCK;
    if (!Number.isSafeInteger(size) || start + size > archive.length) {
      invalid(path, `tar member "${name}" runs past the end of the archive`);
    }
    if (type === '0' || type === '') members.set(name, archive.subarray(start, start + size));
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  invalid(path, 'the tar archive has no end-of-archive marker');
}

// ---- firmware files ----

/** Builds a firmware file in memory. */
export function buildFirmware(options: FirmwareOptions): Buffer {
  const size = checkOptions(options);
  const created = options.created ?? new Date();
  const payload = payloadBytes(options.osName, options.osVersion, size);
  const manifest: FirmwareManifest = {
    format: FIRMWARE_FORMAT,
    'os-name': options.osName,
    'os-version': options.osVersion,
    created: created.toISOString(),
    payload: {
      name: PAYLOAD_NAME,
      size,
      sha256: createHash('sha256').update(payload).digest('hex'),
    },
  };
  const archive = tar(
    [
      { name: MANIFEST_NAME, data: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) },
      { name: PAYLOAD_NAME, data: payload },
    ],
    Math.floor(created.getTime() / 1000),
  );
  return gzipSync(archive);
}

function describe(path: string, bytes: Buffer, manifest: FirmwareManifest): FirmwareInfo {
  const digest = createHash('sha256').update(bytes).digest();
  return {
    path,
    manifest,
    size: bytes.length,
    sha256: digest.toString('hex'),
    sha256Colon: colonHex(digest),
  };
}

/** Writes a firmware file and describes it. */
export async function createFirmware(
  path: string,
  options: FirmwareOptions,
): Promise<FirmwareInfo> {
  const bytes = buildFirmware(options);
  await writeFile(path, bytes);
  return describe(path, bytes, parseFirmware(bytes, path));
}

function checkManifest(value: unknown, path: string): FirmwareManifest {
  if (typeof value !== 'object' || value === null)
    invalid(path, `${MANIFEST_NAME} is not an object`);
  const m = value as Record<string, unknown>;
  if (m.format !== FIRMWARE_FORMAT) {
    invalid(path, `${MANIFEST_NAME} format is ${JSON.stringify(m.format)}, not ${FIRMWARE_FORMAT}`);
  }
  for (const key of ['os-name', 'os-version', 'created']) {
    if (typeof m[key] !== 'string' || m[key] === '') {
      invalid(path, `${MANIFEST_NAME} has no ${key} string`);
    }
  }
  const payload = m.payload as Record<string, unknown> | undefined;
  if (
    typeof payload?.name !== 'string' ||
    typeof payload.size !== 'number' ||
    typeof payload.sha256 !== 'string'
  ) {
    invalid(path, `${MANIFEST_NAME} has no payload name, size and sha256`);
  }
  return value as FirmwareManifest;
}

/**
 * Reads and verifies firmware bytes: gzip, tar, a manifest of our format, and a payload whose
 * size and SHA-256 match the manifest. `path` only names the file in errors.
 */
export function parseFirmware(bytes: Buffer, path: string): FirmwareManifest {
  let archive: Buffer;
  try {
    archive = gunzipSync(bytes);
  } catch (error) {
    invalid(path, 'not gzip-compressed', error);
  }
  const members = untar(archive, path);
  const manifestBytes = members.get(MANIFEST_NAME);
  if (!manifestBytes) invalid(path, `the archive has no ${MANIFEST_NAME}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(manifestBytes.toString('utf8'));
  } catch (error) {
    invalid(path, `${MANIFEST_NAME} is not JSON`, error);
  }
  const manifest = checkManifest(parsed, path);
  const payload = members.get(manifest.payload.name);
  if (!payload) invalid(path, `the archive has no ${manifest.payload.name}`);
  if (payload.length !== manifest.payload.size) {
    invalid(
      path,
      `${manifest.payload.name} is ${payload.length} bytes, the manifest says ${manifest.payload.size}`,
    );
  }
  const digest = createHash('sha256').update(payload).digest('hex');
  if (digest !== manifest.payload.sha256) {
    invalid(path, `${manifest.payload.name} does not match the SHA-256 in ${MANIFEST_NAME}`);
  }
  return manifest;
}

/** Reads a firmware file from disk, verifies it and describes it. */
export async function inspectFirmware(path: string): Promise<FirmwareInfo> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new LabError('FIRMWARE_INVALID', `${path}: cannot read (${(error as Error).message})`, {
      cause: error,
    });
  }
  return describe(path, bytes, parseFirmware(bytes, path));
}
