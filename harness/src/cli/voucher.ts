import { readFile, writeFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { LabError } from '../common/errors.ts';
import { createVoucher } from '../pki/artifacts.ts';
import { parseCertificate, subjectText } from '../pki/cert-info.ts';
import { parseDateFlag, parseNonce } from '../pki/cli-flags.ts';
import { matchesSigner, readContentInfo, readSignedData } from '../pki/cms-read.ts';
import { PkiError } from '../pki/codes.ts';
import { loadManifest } from '../pki/lab-pki.ts';
import { readCertDer } from '../pki/lab-signers.ts';
import { Oid } from '../pki/oids.ts';
import { type Assertion, Assertions, decodeVoucher, voucherToJson } from '../pki/voucher.ts';
import { makeOutput } from './output.ts';

interface CreateFlags {
  pki: string;
  serial: string;
  nonce?: string;
  created?: string;
  expires?: string;
  assertion: Assertion;
  idevidCert?: string;
  revocationChecks?: boolean;
  idData?: boolean;
  out: string;
  json?: boolean;
}

/** Registers `voucher create` and `voucher inspect`. */
export function registerVoucher(program: Command): void {
  const group = program
    .command('voucher')
    .description('RFC 8366 ownership vouchers signed by the lab MASA');

  group
    .command('create')
    .description('Sign an ownership voucher for one device, pinning the owner CA of the PKI')
    .requiredOption('--pki <dir>', 'the trust domain (from pki init)')
    .requiredOption('--serial <sn>', 'device serial number')
    .option('--nonce <hex>', 'bind the voucher to this device nonce (no expires-on then)')
    .option('--created <iso>', 'created-on (default: now)')
    .option('--expires <iso>', 'expires-on (default: 30 days after created-on)')
    .addOption(
      new Option('--assertion <value>', 'voucher assertion')
        .choices(Assertions)
        .default('verified'),
    )
    .option('--idevid-cert <pem>', 'device IDevID certificate; its AKI becomes idevid-issuer')
    .option('--revocation-checks', 'set domain-cert-revocation-checks to true')
    .option('--id-data', 'label the content id-data instead of id-ct-animaJSONVoucher')
    .requiredOption('--out <file>', 'where to write the voucher (DER CMS)')
    .option('--json', 'print a JSON document')
    .action(async (flags: CreateFlags) => {
      const manifest = await loadManifest(flags.pki);
      const nonce = flags.nonce ? parseNonce(flags.nonce, '--nonce') : undefined;
      const der = await createVoucher(manifest, {
        serial: flags.serial,
        ...(nonce ? { nonce } : {}),
        ...(flags.created ? { createdOn: parseDateFlag(flags.created, '--created') } : {}),
        ...(flags.expires ? { expiresOn: parseDateFlag(flags.expires, '--expires') } : {}),
        assertion: flags.assertion,
        ...(flags.idevidCert ? { idevidCert: await readCertDer(flags.idevidCert) } : {}),
        revocationChecks: flags.revocationChecks ?? false,
        labelIdData: flags.idData ?? false,
      });
      await writeFile(flags.out, der);
      const value = { file: flags.out, bytes: der.length, ...inspect(der, flags.out) };
      makeOutput(flags.json ?? false).result(
        value,
        `voucher for ${flags.serial} written to ${flags.out}`,
      );
    });

  group
    .command('inspect')
    .description('Show the content, signer and certificates of a voucher (no trust decision)')
    .argument('<file>', 'voucher CMS, DER')
    .option('--json', 'print a JSON document')
    .action(async (file: string, flags: { json?: boolean }) => {
      let der: Buffer;
      try {
        der = await readFile(file);
      } catch (error) {
        throw new LabError(
          'INVALID_ARGUMENT',
          `${file}: cannot read (${(error as Error).message})`,
        );
      }
      const value = inspect(new Uint8Array(der), file);
      makeOutput(flags.json ?? false).result(value, JSON.stringify(value, null, 2));
    });
}

function inspect(der: Uint8Array, file: string) {
  try {
    const info = readContentInfo(der, file);
    if (info.contentType !== Oid.signedData) {
      throw new PkiError(
        'CONTENT_TYPE_UNEXPECTED',
        `${file}: content type ${info.contentType} is not SignedData`,
      );
    }
    const sd = readSignedData(info.content, file);
    const certs = sd.certificates.map((c, i) => parseCertificate(c, `${file} certificate ${i}`));
    const si = sd.signerInfos[0];
    const signer = si ? certs.find((c) => matchesSigner(c, si.sid)) : undefined;
    return {
      eContentType: sd.eContentType,
      signer: signer ? subjectText(signer) : null,
      certificates: certs.map(subjectText),
      voucher: sd.eContent ? voucherToJson(decodeVoucher(sd.eContent)) : null,
    };
  } catch (error) {
    if (error instanceof LabError) throw error;
    throw new PkiError('CMS_MALFORMED', `${file}: ${(error as Error).message}`);
  }
}
