import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../common/errors.ts';
import { type FirmwareManifest, parseFirmware } from '../sztp/firmware.ts';
import type { DeviceConfig } from './device-config.ts';
import type { EventLog } from './events.ts';
import type { Endpoint, HttpResult, RequestOptions, TlsIdentity } from './transport.ts';

/** What fetching a boot image needs from the routing engine. */
export interface ImageFetchContext {
  config: DeviceConfig;
  identity: TlsIdentity;
  events: EventLog;
  /** A private working folder. */
  work: string;
  send: (endpoint: Endpoint, path: string, options: RequestOptions) => Promise<HttpResult>;
}

export interface FetchedImage {
  bytes: Buffer;
  sha256: string;
  manifest: FirmwareManifest;
}

type Verification = { 'hash-algorithm': string; 'hash-value': string };

/**
 * Downloads the boot image of onboarding information from the first `download-uri` that
 * yields the right file: SHA-256 as announced, a lab firmware manifest naming the wanted
 * os-name and os-version. Returns the image, or why none of the URIs gave it.
 */
export async function fetchBootImage(
  ctx: ImageFetchContext,
  image: Record<string, unknown>,
  osName: string,
  osVersion: string,
): Promise<FetchedImage | string> {
  const { config } = ctx;
  const uris = (image['download-uri'] ?? []) as string[];
  const checks = (image['image-verification'] ?? []) as Verification[];
  const isSha256 = (check: Verification) => /sha-256$/.test(check['hash-algorithm']);
  if (config.profile === 'junos' && checks.some((check) => !isSha256(check))) {
    return 'the junos profile accepts only sha-256 image verification';
  }
  const sha256 = checks.find(isSha256);
  if (!sha256) return 'no sha-256 hash to verify the image with';
  if (config.profile === 'junos' && osName !== 'Junos') return `os-name "${osName}" is not Junos`;
  const expected = sha256['hash-value'].replaceAll(':', '').toLowerCase();
  const file = join(ctx.work, 'image.tgz');
  let anchors: string | undefined;
  if (config.imageTrustAnchors.length) {
    anchors = join(ctx.work, 'image-anchors.pem');
    const pems = config.imageTrustAnchors.map((path) => readFileSync(path, 'utf8'));
    writeFileSync(anchors, pems.join('\n'));
  }
  let lastError = 'no download-uri';
  for (const uri of uris) {
    const url = new URL(uri);
    const endpoint: Endpoint = {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(url.port || 443),
    };
    const result = await ctx.send(endpoint, url.pathname + url.search, {
      identity: ctx.identity,
      outFile: file,
      timeoutMs: 120_000,
      ...(anchors ? { trustAnchors: anchors } : {}),
    });
    ctx.events.emit('image-download', {
      uri,
      status: result.status,
      ...(result.error ? { error: result.error } : {}),
    });
    if (result.status !== 200) {
      lastError = `${uri}: ${result.error ?? `HTTP ${result.status}`}`;
      continue;
    }
    const bytes = readFileSync(file);
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== expected) {
      lastError = `${uri}: SHA-256 ${digest} does not match the expected ${expected}`;
      ctx.events.emit('image-hash-mismatch', { uri, expected, actual: digest });
      continue;
    }
    let manifest: FirmwareManifest;
    try {
      manifest = parseFirmware(bytes, uri);
    } catch (error) {
      lastError = errorMessage(error);
      continue;
    }
    if (manifest['os-name'] !== osName || manifest['os-version'] !== osVersion) {
      const holds = `${manifest['os-name']} ${manifest['os-version']}`;
      lastError = `${uri} holds ${holds}, not ${osName} ${osVersion}`;
      continue;
    }
    return { bytes, sha256: digest, manifest };
  }
  return lastError;
}
