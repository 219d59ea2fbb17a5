import { readFileSync } from 'node:fs';
import { LabError } from '../common/errors.ts';
import type { Profile } from './scripts.ts';
import type { KeyAlgorithm } from './tpm.ts';

/** A discovery source, in the order the device tries them (RFC 8572 §5.2, closest first). */
export type SourceName = 'usb' | 'dns' | 'dhcp4' | 'dhcp6' | 'well-known';

export interface ServerEntry {
  address: string;
  port?: number;
}

/**
 * The factory data and settings of one routing engine (/etc/sztp-lab/device.json). Trust
 * anchors are PEM files; the IDevID and its key live in the state folder.
 */
export interface DeviceConfig {
  node: string;
  serial: string;
  hwModel: string;
  profile: Profile;
  keyAlgorithm: KeyAlgorithm;
  /** The image the engine runs from the factory. */
  factoryImage: { osName: string; osVersion: string };
  sources: SourceName[];
  interface: string;
  usbDir: string;
  dns?: { domain: string; resolver: string };
  wellKnownServers: ServerEntry[];
  /** TLS trust anchors for bootstrap servers (PEM files), preconfigured. */
  bootstrapTrustAnchors: string[];
  /** Manufacturer trust anchors for vouchers (PEM files). */
  voucherTrustAnchors: string[];
  /** Trust anchors for image servers (PEM files); images are checked by hash whatever the TLS. */
  imageTrustAnchors: string[];
  /** `system`, or `none` for a clockless device (no validity checks); a skew shifts the clock. */
  clock: { mode: 'system' | 'none'; skewSeconds: number };
  maxRedirects: number;
  /** Pacing of the retry loop over all sources. */
  retry: { initialMs: number; maxMs: number };
  /** Send a nonce to untrusted servers (for nonce-bound vouchers). */
  nonce: boolean;
  /** Also authenticate with HTTP Basic (user = serial) toward trusted servers. */
  basicAuth: boolean;
  /** Read option 143/136 leniently (plain-text URIs some servers send). */
  lenientDhcp: boolean;
  scriptTimeoutMs: number;
  /**
   * Dual routing engines: this engine's and its peer's address on the chassis-internal link,
   * the flavour of backup provisioning, and the manufacturer IDevID roots a backup's DevID
   * must chain to.
   */
  dualRe?: {
    flavour: 'junos' | 'junos-evolved';
    self: string;
    peer: string;
    idevidTrustAnchors: string[];
  };
}

const DEFAULTS: Omit<DeviceConfig, 'serial'> = {
  node: 're0',
  hwModel: 'MX204',
  profile: 'junos',
  keyAlgorithm: 'ecc-p256',
  factoryImage: { osName: 'Junos', osVersion: '23.4R1' },
  sources: ['usb', 'dns', 'dhcp4', 'dhcp6', 'well-known'],
  interface: 'eth0',
  usbDir: '/media/usb',
  wellKnownServers: [],
  bootstrapTrustAnchors: [],
  voucherTrustAnchors: [],
  imageTrustAnchors: [],
  clock: { mode: 'system', skewSeconds: 0 },
  maxRedirects: 10,
  retry: { initialMs: 500, maxMs: 8000 },
  nonce: true,
  basicAuth: false,
  lenientDhcp: false,
  scriptTimeoutMs: 60_000,
};

const KNOWN = new Set(Object.keys(DEFAULTS).concat('serial', 'dns', 'dualRe'));

/** Reads and checks a device configuration; errors name the file and the field. */
export function loadDeviceConfig(path: string): DeviceConfig {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new LabError('DEVICE_CONFIG_INVALID', `${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return checkDeviceConfig(raw, path);
}

export function checkDeviceConfig(raw: Record<string, unknown>, where: string): DeviceConfig {
  const bad = (field: string, why: string) =>
    new LabError('DEVICE_CONFIG_INVALID', `${where}: ${field} ${why}`);
  for (const key of Object.keys(raw)) if (!KNOWN.has(key)) throw bad(key, 'is not a known setting');
  if (typeof raw.serial !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/.test(raw.serial)) {
    throw bad('serial', 'must be 1 to 63 letters, digits or dashes (it is also a DNS label)');
  }
  // Nested settings keep the defaults of the members they do not give.
  const nested = (name: 'clock' | 'retry' | 'factoryImage') =>
    raw[name] === undefined ? DEFAULTS[name] : { ...DEFAULTS[name], ...(raw[name] as object) };
  const config = {
    ...DEFAULTS,
    ...raw,
    clock: nested('clock'),
    retry: nested('retry'),
    factoryImage: nested('factoryImage'),
  } as DeviceConfig;
  // DNS discovery needs a domain and a resolver: without them the default order skips it.
  if (raw.sources === undefined && !config.dns) {
    config.sources = config.sources.filter((source) => source !== 'dns');
  }
  if (!Number.isFinite(config.clock.skewSeconds))
    throw bad('clock.skewSeconds', 'must be a number');
  if (!(config.retry.initialMs > 0) || !(config.retry.maxMs >= config.retry.initialMs)) {
    throw bad('retry', 'needs initialMs > 0 and maxMs >= initialMs');
  }
  if (!['junos', 'rfc8572'].includes(config.profile))
    throw bad('profile', 'must be "junos" or "rfc8572"');
  if (!['ecc-p256', 'rsa-2048'].includes(config.keyAlgorithm)) {
    throw bad('keyAlgorithm', 'must be "ecc-p256" or "rsa-2048"');
  }
  const sources: SourceName[] = ['usb', 'dns', 'dhcp4', 'dhcp6', 'well-known'];
  for (const source of config.sources) {
    if (!sources.includes(source))
      throw bad('sources', `has "${source}"; known: ${sources.join(', ')}`);
  }
  if (
    !Number.isInteger(config.maxRedirects) ||
    config.maxRedirects < 0 ||
    config.maxRedirects > 10
  ) {
    throw bad('maxRedirects', 'must be a whole number from 0 to 10 (RFC 8572 §5.5)');
  }
  if (config.sources.includes('dns') && !config.dns)
    throw bad('dns', 'is needed when "dns" is a source');
  return config;
}
