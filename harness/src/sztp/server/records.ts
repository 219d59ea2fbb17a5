import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LabError } from '../../common/errors.ts';
import { CI_MODULE, validateConveyedInfo } from '../../pki/conveyed-info.ts';
import { type Assertion, Assertions } from '../../pki/voucher.ts';
import { CONFIG_INVALID, Shape } from './shape.ts';

/** One entry of redirect information. `trustAnchor: "server"` means this server's own root. */
export interface RedirectEntry {
  address: string;
  port?: number;
  trustAnchor?: 'server' | { file: string };
}

export type VoucherBinding = 'auto' | 'nonce' | 'expiry';

/**
 * Bootstrapping data captured elsewhere (a router in the field, another server), answered
 * byte for byte: this server neither signs nor checks it, the device does.
 */
export interface ReplayedOutput {
  conveyedInformation: Buffer;
  ownerCertificate?: Buffer;
  ownershipVoucher?: Buffer;
}

/** What the server answers one device: the record after validation (see records.md in README). */
export interface DeviceRecord {
  serial: string;
  response:
    | { kind: 'onboarding'; info: Record<string, unknown> }
    | { kind: 'redirect'; servers: RedirectEntry[] }
    | { kind: 'replay'; output: ReplayedOutput };
  signed: boolean;
  /** Encoding of the conveyed information inside the CMS. */
  encoding: 'json' | 'xml';
  reportingLevel: 'minimal' | 'verbose';
  voucher: {
    /** auto: bound to the nonce when the device sends one, else with an expiry. */
    binding: VoucherBinding;
    validityDays: number;
    assertion: Assertion;
    /** Put the device certificate's AKI in idevid-issuer. */
    idevidIssuer: boolean;
    /** Set domain-cert-revocation-checks: the device must check the owner chain's CRLs. */
    revocationChecks: boolean;
  };
  /**
   * CRLs stapled to the owner-certificate artifact, one per CA of the owner chain: none,
   * valid (nothing revoked) or owner-revoked (the owner signing certificate listed).
   */
  crls: 'none' | 'valid' | 'owner-revoked';
  /**
   * The answer to signed-data-preferred for onboarding information: "promote" returns signed
   * redirect information back to this server with its trust anchor (RFC 8572 Appendix B);
   * "signed" returns the onboarding information signed.
   */
  untrusted: 'promote' | 'signed';
  /** HTTP Basic password (an "activation code"); when set, Basic must carry it. */
  password?: string;
  /** The record as written, kept for the admin API and the journal. */
  source: Record<string, unknown>;
}

const SERIAL = /^[A-Za-z0-9 '()+,\-./:=?]{1,64}$/;
const RECORD_KEYS = [
  'onboarding',
  'redirect',
  'signed',
  'encoding',
  'reportingLevel',
  'voucher',
  'untrusted',
  'password',
  'crls',
  'replay',
] as const;

export function isValidSerial(serial: string): boolean {
  return SERIAL.test(serial);
}

/** Validates one device record; relative trust anchor paths resolve against `baseDir`. */
export function parseDeviceRecord(serial: string, shape: Shape, baseDir: string): DeviceRecord {
  if (!isValidSerial(serial))
    shape.fail('is not a serial number (1 to 64 PrintableString characters)');
  const o = shape.object(RECORD_KEYS);
  const hasOnboarding = shape.at('onboarding').present;
  const hasRedirect = shape.at('redirect').present;
  const hasReplay = shape.at('replay').present;
  if ([hasOnboarding, hasRedirect, hasReplay].filter(Boolean).length !== 1)
    shape.fail('must have exactly one of "onboarding", "redirect" and "replay"');

  let response: DeviceRecord['response'];
  if (hasReplay) {
    response = { kind: 'replay', output: parseReplay(shape.at('replay')) };
  } else if (hasOnboarding) {
    const info = shape.at('onboarding').object();
    try {
      validateConveyedInfo({ [`${CI_MODULE}:onboarding-information`]: info });
    } catch (error) {
      shape
        .at('onboarding')
        .fail(`is not valid onboarding information: ${(error as Error).message}`);
    }
    response = { kind: 'onboarding', info };
  } else {
    const entries = shape.at('redirect').array();
    if (entries.length === 0) shape.at('redirect').fail('needs at least one bootstrap server');
    const servers = entries.map((e): RedirectEntry => {
      e.object(['address', 'port', 'trustAnchor']);
      const entry: RedirectEntry = { address: e.at('address').string() };
      if (e.at('port').present) entry.port = e.at('port').integer(1, 65535);
      const ta = e.at('trustAnchor').optionalString();
      if (ta === 'server') entry.trustAnchor = 'server';
      else if (ta !== undefined)
        entry.trustAnchor = { file: isAbsolute(ta) ? ta : resolve(baseDir, ta) };
      return entry;
    });
    const seen = new Set<string>();
    for (const s of servers) {
      if (seen.has(s.address))
        shape.at('redirect').fail(`lists "${s.address}" twice (address is the key)`);
      seen.add(s.address);
    }
    response = { kind: 'redirect', servers };
  }

  const v = shape.at('voucher');
  if (v.present)
    v.object(['binding', 'validityDays', 'assertion', 'idevidIssuer', 'revocationChecks']);
  const record: DeviceRecord = {
    serial,
    response,
    signed: shape.at('signed').boolean(false),
    encoding: shape.at('encoding').oneOf(['json', 'xml'] as const, 'json'),
    reportingLevel: shape.at('reportingLevel').oneOf(['minimal', 'verbose'] as const, 'minimal'),
    voucher: {
      binding: v.at('binding').oneOf(['auto', 'nonce', 'expiry'] as const, 'auto'),
      validityDays: v.at('validityDays').integer(1, 36500, 30),
      assertion: v.at('assertion').oneOf(Assertions, 'verified'),
      idevidIssuer: v.at('idevidIssuer').boolean(false),
      revocationChecks: v.at('revocationChecks').boolean(false),
    },
    crls: shape.at('crls').oneOf(['none', 'valid', 'owner-revoked'] as const, 'none'),
    untrusted: shape.at('untrusted').oneOf(['promote', 'signed'] as const, 'promote'),
    source: o,
  };
  const password = shape.at('password').optionalString();
  if (password !== undefined) record.password = password;
  return record;
}

const REPLAY_KEYS = ['conveyedInformation', 'ownerCertificate', 'ownershipVoucher'] as const;

/** `{conveyedInformation, ownerCertificate?, ownershipVoucher?}`, each base64 DER. */
function parseReplay(shape: Shape): ReplayedOutput {
  shape.object(REPLAY_KEYS);
  const der = (key: (typeof REPLAY_KEYS)[number]) => {
    const at = shape.at(key);
    const text = at.optionalString();
    if (text === undefined) return undefined;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) at.fail('must be base64 (DER)');
    return Buffer.from(text, 'base64');
  };
  const conveyedInformation =
    der('conveyedInformation') ?? shape.at('conveyedInformation').fail('is required');
  const ownerCertificate = der('ownerCertificate');
  const ownershipVoucher = der('ownershipVoucher');
  if (!ownerCertificate !== !ownershipVoucher)
    shape.fail('must have both "ownerCertificate" and "ownershipVoucher", or neither');
  return {
    conveyedInformation,
    ...(ownerCertificate ? { ownerCertificate } : {}),
    ...(ownershipVoucher ? { ownershipVoucher } : {}),
  };
}

/** Validates a records document: `{"devices": {SERIAL: record, ...}}`. */
export function parseRecords(doc: unknown, file: string): Map<string, DeviceRecord> {
  const root = new Shape(file, '', doc);
  root.object(['devices']);
  const devices = root.at('devices');
  const records = new Map<string, DeviceRecord>();
  for (const serial of Object.keys(devices.object())) {
    records.set(serial, parseDeviceRecord(serial, devices.at(serial), dirname(resolve(file))));
  }
  return records;
}

export async function loadRecords(file: string): Promise<Map<string, DeviceRecord>> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new LabError(
      CONFIG_INVALID,
      `${file}: cannot read the device records: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return parseRecords(doc, file);
}
