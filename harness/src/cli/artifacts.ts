import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { LabError } from '../common/errors.ts';
import { ArtifactFiles, createArtifacts, writeArtifacts } from '../pki/artifacts.ts';
import { parseDateFlag, parseNonce } from '../pki/cli-flags.ts';
import { PkiError } from '../pki/codes.ts';
import { parseCrl } from '../pki/crl-read.ts';
import { ownerChainCrls } from '../pki/lab-crls.ts';
import { loadManifest, type PkiManifest } from '../pki/lab-pki.ts';
import { readCertDer } from '../pki/lab-signers.ts';
import { OpenSslDecrypter } from '../pki/openssl-decrypter.ts';
import { crlsFromPem } from '../pki/pem.ts';
import { SoftwareDecrypter } from '../pki/signer.ts';
import { type ArtifactSet, type DeviceTrust, verifyArtifacts } from '../pki/verifier.ts';
import { type Assertion, Assertions } from '../pki/voucher.ts';
import { makeOutput } from './output.ts';

interface CreateFlags {
  pki: string;
  serial: string;
  in: string;
  sign?: boolean;
  encryptTo?: string;
  encryptAll?: boolean;
  nonce?: string;
  encoding?: 'json' | 'xml';
  idData?: boolean;
  expires?: string;
  revocationChecks?: boolean;
  revokeOwner?: boolean;
  crl?: string[];
  out: string;
  json?: boolean;
}

interface VerifyFlags {
  dir: string;
  voucherTrustAnchor: string;
  serial: string;
  idevidKey?: string;
  idevidCert?: string;
  nonce?: string;
  now?: string;
  clockless?: boolean;
  assertion?: string;
  requireSigned?: boolean;
  json?: boolean;
}

async function readInput(path: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new LabError(
      'INVALID_ARGUMENT',
      `${flag} ${path}: cannot read (${(error as Error).message})`,
    );
  }
}

async function readArtifactDir(dir: string): Promise<ArtifactSet> {
  const optional = async (name: string) => {
    try {
      return new Uint8Array(await readFile(join(dir, name)));
    } catch {
      return undefined;
    }
  };
  const ci = await optional(ArtifactFiles.conveyedInformation);
  if (!ci) {
    throw new LabError('INVALID_ARGUMENT', `--dir ${dir}: no ${ArtifactFiles.conveyedInformation}`);
  }
  const oc = await optional(ArtifactFiles.ownerCertificate);
  const ov = await optional(ArtifactFiles.ownershipVoucher);
  return {
    conveyedInformation: ci,
    ...(oc ? { ownerCertificate: oc } : {}),
    ...(ov ? { ownershipVoucher: ov } : {}),
  };
}

/** CRLs from --crl files, PEM (any number of X509 CRL blocks) or DER (one CRL). */
async function readCrlFiles(paths: string[]): Promise<Uint8Array[]> {
  const crls: Uint8Array[] = [];
  for (const path of paths) {
    const data = await readInput(path, '--crl');
    const text = data.toString('latin1');
    const found = text.includes('-----BEGIN') ? crlsFromPem(text) : [new Uint8Array(data)];
    if (found.length === 0) {
      throw new LabError('INVALID_ARGUMENT', `--crl ${path}: no "X509 CRL" PEM block in the file`);
    }
    for (const der of found) {
      try {
        parseCrl(der, `--crl ${path}`);
      } catch (error) {
        throw new LabError('INVALID_ARGUMENT', `not an X.509 CRL: ${(error as Error).message}`);
      }
    }
    crls.push(...found);
  }
  return crls;
}

/** The CRLs `artifacts create` staples: the --crl files, else lab-made ones when asked for. */
async function stapledCrls(flags: CreateFlags, manifest: PkiManifest): Promise<Uint8Array[]> {
  const stapling = flags.revokeOwner || flags.crl || flags.revocationChecks;
  if (stapling && !flags.sign) {
    throw new LabError(
      'INVALID_ARGUMENT',
      '--revocation-checks, --revoke-owner and --crl need --sign (only signed sets have an owner certificate)',
    );
  }
  const given = flags.crl ? await readCrlFiles(flags.crl) : [];
  if (!flags.revokeOwner && (!flags.revocationChecks || given.length > 0)) return given;
  const revoke = flags.revokeOwner ? [await readCertDer(manifest.ownerCertificate)] : [];
  return [...given, ...(await ownerChainCrls(manifest, { revoke }))];
}

/** The IDevID certificate: --idevid-cert, or a certificate in the --idevid-key PEM itself. */
async function idevidCertificate(flags: VerifyFlags): Promise<Uint8Array | undefined> {
  if (flags.idevidCert) return readCertDer(flags.idevidCert);
  if (!flags.idevidKey) return undefined;
  const text = (await readInput(flags.idevidKey, '--idevid-key')).toString('utf8');
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text);
  if (!pem) {
    throw new LabError(
      'INVALID_ARGUMENT',
      `--idevid-key ${flags.idevidKey} holds no certificate; give --idevid-cert too`,
    );
  }
  return new Uint8Array(new X509Certificate(pem[0]).raw);
}

async function deviceTrust(flags: VerifyFlags): Promise<DeviceTrust> {
  const cert = await idevidCertificate(flags);
  let decrypter: SoftwareDecrypter | undefined;
  if (flags.idevidKey && cert) {
    let key: ReturnType<typeof createPrivateKey>;
    try {
      key = createPrivateKey(await readInput(flags.idevidKey, '--idevid-key'));
    } catch (error) {
      throw new LabError(
        'INVALID_ARGUMENT',
        `--idevid-key ${flags.idevidKey}: not a private key (${(error as Error).message})`,
      );
    }
    decrypter = new SoftwareDecrypter(cert, key, new OpenSslDecrypter(cert, flags.idevidKey));
  }
  const accepted = flags.assertion?.split(',').map((a) => a.trim());
  for (const a of accepted ?? []) {
    if (!(Assertions as readonly string[]).includes(a)) {
      throw new LabError(
        'INVALID_ARGUMENT',
        `--assertion "${a}" is not one of ${Assertions.join(', ')}`,
      );
    }
  }
  return {
    voucherTrustAnchors: [await readCertDer(flags.voucherTrustAnchor)],
    serialNumber: flags.serial,
    ...(cert ? { idevidCertificate: cert } : {}),
    ...(decrypter ? { decrypter } : {}),
    ...(flags.nonce ? { nonce: parseNonce(flags.nonce, '--nonce') } : {}),
    ...(flags.clockless ? {} : { now: flags.now ? parseDateFlag(flags.now, '--now') : new Date() }),
    ...(accepted ? { acceptedAssertions: accepted as Assertion[] } : {}),
    requireSigned: flags.requireSigned ?? false,
  };
}

/** Registers `artifacts create` and `artifacts verify`. */
export function registerArtifacts(program: Command): void {
  const group = program
    .command('artifacts')
    .description(
      'Bootstrapping artifacts of one device: conveyed information, owner certificate, voucher',
    );

  group
    .command('create')
    .description('Wrap redirect or onboarding information (JSON or XML) for one device')
    .requiredOption('--pki <dir>', 'the trust domain (from pki init)')
    .requiredOption('--serial <sn>', 'device serial number (for the voucher)')
    .requiredOption('--in <file>', 'redirect-information or onboarding-information, JSON or XML')
    .option(
      '--sign',
      'sign with the owner key and add owner-certificate.cms and ownership-voucher.cms',
    )
    .option('--encrypt-to <cert>', "encrypt to the device's IDevID certificate (PEM or DER)")
    .option('--encrypt-all', 'with --encrypt-to: encrypt the owner certificate and voucher too')
    .option('--nonce <hex>', 'bind the voucher to the nonce the device sent')
    .addOption(
      new Option('--encoding <encoding>', 'output encoding (default: the input one)').choices([
        'json',
        'xml',
      ]),
    )
    .option('--id-data', 'label the conveyed information id-data instead of .43 / .42')
    .option('--expires <iso>', 'voucher expires-on (default: 30 days from now)')
    .option(
      '--revocation-checks',
      'set domain-cert-revocation-checks to true and staple a CRL from each owner-chain CA',
    )
    .option('--revoke-owner', 'staple lab-made CRLs that list the owner certificate as revoked')
    .option(
      '--crl <file>',
      'staple this CRL (PEM or DER; repeatable); --revocation-checks then makes none of its own',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .requiredOption('--out <dir>', 'directory for the artifact files')
    .option('--json', 'print a JSON document')
    .action(async (flags: CreateFlags) => {
      const manifest = await loadManifest(flags.pki);
      const input = new Uint8Array(await readInput(flags.in, '--in'));
      const crls = await stapledCrls(flags, manifest);
      let set: ArtifactSet;
      try {
        set = await createArtifacts(manifest, {
          input,
          serial: flags.serial,
          sign: flags.sign ?? false,
          ...(flags.encryptTo ? { encryptTo: await readCertDer(flags.encryptTo) } : {}),
          encryptAll: flags.encryptAll ?? false,
          ...(flags.nonce ? { nonce: parseNonce(flags.nonce, '--nonce') } : {}),
          ...(flags.encoding ? { encoding: flags.encoding } : {}),
          labelIdData: flags.idData ?? false,
          ...(flags.expires ? { expiresOn: parseDateFlag(flags.expires, '--expires') } : {}),
          revocationChecks: flags.revocationChecks ?? false,
          crls,
        });
      } catch (error) {
        if (error instanceof PkiError && error.code === 'CONVEYED_INFO_INVALID') {
          throw new PkiError(error.code, `--in ${flags.in}: ${error.message}`);
        }
        throw error;
      }
      const files = await writeArtifacts(flags.out, set);
      const value = {
        dir: flags.out,
        files,
        signed: flags.sign ?? false,
        encrypted: Boolean(flags.encryptTo),
        revocationChecks: flags.revocationChecks ?? false,
        crls: crls.length,
      };
      makeOutput(flags.json ?? false).result(value, files.join('\n'));
    });

  group
    .command('verify')
    .description('Verify an artifact directory as the device would (RFC 8572 §5.4)')
    .requiredOption(
      '--dir <dir>',
      'directory with conveyed-information.cms (+ owner certificate, voucher)',
    )
    .requiredOption(
      '--voucher-trust-anchor <pem>',
      "the manufacturer's voucher-signing trust anchor",
    )
    .requiredOption('--serial <sn>', "the device's serial number")
    .option(
      '--idevid-key <pem>',
      'IDevID private key, for encrypted artifacts (may hold the certificate too)',
    )
    .option('--idevid-cert <pem>', 'IDevID certificate (idevid-issuer check, recipient match)')
    .option('--nonce <hex>', 'the nonce the device sent')
    .option('--now <iso>', 'the device clock (default: the system clock)')
    .option('--clockless', 'skip validity-period checks (device without a trustworthy clock)')
    .option('--assertion <list>', 'accepted voucher assertions, comma-separated (default: all)')
    .option('--require-signed', 'refuse unsigned conveyed information (untrusted source)')
    .option('--json', 'print a JSON document')
    .action(async (flags: VerifyFlags) => {
      const out = makeOutput(flags.json ?? false);
      const set = await readArtifactDir(flags.dir);
      const trust = await deviceTrust(flags);
      try {
        const r = await verifyArtifacts(set, trust);
        const value = {
          ok: true,
          type: r.type,
          encoding: r.encoding,
          signed: r.signed,
          encrypted: r.encrypted,
          content: r.content,
        };
        out.result(
          value,
          `accepted: ${r.signed ? 'signed' : 'unsigned'}${r.encrypted ? ', encrypted' : ''} ${r.type} (${r.encoding})`,
        );
      } catch (error) {
        if (!(error instanceof PkiError)) throw error;
        out.result(
          { ok: false, code: error.code, message: error.message },
          `refused [${error.code}]: ${error.message}`,
        );
        process.exitCode = 1;
      }
    });
}
