import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { LabError } from '../common/errors.ts';
import { issueIdevid } from '../pki/idevid.ts';
import { type KeyProfile, KeyProfiles } from '../pki/keys.ts';
import { initPki, loadManifest, readIssuer, type ServerRole, ServerRoles } from '../pki/lab-pki.ts';
import { makeOutput } from './output.ts';

interface InitFlags {
  key: KeyProfile;
  pinned: 'root' | 'intermediate';
  domain: string;
  serverIp: string[];
  force?: boolean;
  json?: boolean;
}

interface IssueFlags {
  pki: string;
  csr: string;
  serial: string;
  hwModel?: string;
  out?: string;
  json?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseServerIps(values: string[]): Partial<Record<ServerRole, string[]>> {
  const out: Partial<Record<ServerRole, string[]>> = {};
  for (const value of values) {
    const [role, ip] = value.split('=');
    if (!ip || !(ServerRoles as readonly string[]).includes(role as string)) {
      throw new LabError(
        'INVALID_ARGUMENT',
        `--server-ip "${value}" is not ROLE=IP with ROLE one of ${ServerRoles.join(', ')}`,
      );
    }
    const list = out[role as ServerRole] ?? [];
    list.push(ip);
    out[role as ServerRole] = list;
  }
  return out;
}

/** Registers `pki init` and `pki issue-idevid`. */
export function registerPki(program: Command): void {
  const group = program
    .command('pki')
    .description('Lab trust domain: manufacturer, MASA, owner and TLS CAs');

  group
    .command('init')
    .description('Create a trust domain in DIR (PEM files, keys mode 0600, manifest pki.json)')
    .argument('<dir>', 'directory to create the PKI in')
    .addOption(
      new Option('--key <algorithm>', 'key algorithm for every key')
        .choices(KeyProfiles)
        .default('ecdsa-p256'),
    )
    .addOption(
      new Option('--pinned <ca>', 'owner CA the vouchers pin')
        .choices(['root', 'intermediate'])
        .default('intermediate'),
    )
    .option('--domain <suffix>', 'DNS suffix of the server names', 'sztp-lab.test')
    .option(
      '--server-ip <role=ip>',
      'extra IP SAN for redirect, bootstrap or image (repeatable)',
      collect,
      [],
    )
    .option('--force', 'overwrite an existing PKI in DIR')
    .option('--json', 'print the manifest as JSON')
    .action(async (dir: string, flags: InitFlags) => {
      const exists = await access(join(dir, 'pki.json')).then(
        () => true,
        () => false,
      );
      if (exists && !flags.force) {
        throw new LabError(
          'INVALID_ARGUMENT',
          `${join(dir, 'pki.json')} exists; use --force to replace the trust domain`,
        );
      }
      const manifest = await initPki(dir, {
        key: flags.key,
        pinnedDomain: flags.pinned,
        domain: flags.domain,
        serverIps: parseServerIps(flags.serverIp),
      });
      const human = [
        `trust domain in ${dir} (${manifest.keyAlgorithm}, pinned: owner ${manifest.pinnedDomain})`,
        `  voucher trust anchor: ${manifest.voucherTrustAnchor}`,
        `  pinned-domain-cert:   ${manifest.pinnedDomainCert}`,
        `  owner certificate:    ${manifest.ownerCertificate}`,
        `  IDevID issuing CA:    ${manifest.idevidCa}`,
        `  TLS trust anchor:     ${manifest.tlsTrustAnchor}`,
      ].join('\n');
      makeOutput(flags.json ?? false).result(manifest, human);
    });

  group
    .command('issue-idevid')
    .description('Issue an 802.1AR IDevID from a CSR; the device key never leaves the device')
    .requiredOption('--pki <dir>', 'the trust domain (from pki init)')
    .requiredOption('--csr <file>', 'PKCS#10 request, PEM or DER')
    .requiredOption('--serial <sn>', 'device serial number, put in subject serialNumber (2.5.4.5)')
    .option('--hw-model <model>', 'hardware model, put in the subject common name')
    .option('--out <file>', 'where to write the certificate (default DIR/idevid-SN.pem)')
    .option('--json', 'print a JSON document')
    .action(async (flags: IssueFlags) => {
      const manifest = await loadManifest(flags.pki);
      let csr: Buffer;
      try {
        csr = await readFile(flags.csr);
      } catch (error) {
        throw new LabError(
          'INVALID_ARGUMENT',
          `--csr ${flags.csr}: cannot read (${(error as Error).message})`,
        );
      }
      const text = csr.toString('latin1');
      const issuer = await readIssuer({ cert: manifest.idevidCa, key: manifest.idevidCaKey });
      const cert = await issueIdevid(
        issuer,
        {
          csr: text.includes('-----BEGIN') ? text : new Uint8Array(csr),
          serial: flags.serial,
          ...(flags.hwModel ? { hwModel: flags.hwModel } : {}),
        },
        flags.csr,
      );
      const out =
        flags.out ?? join(flags.pki, `idevid-${flags.serial.replace(/[^\w.-]/g, '_')}.pem`);
      const pem = `${cert.toString('pem')}\n`;
      await writeFile(out, pem);
      const value = {
        certificate: out,
        serial: flags.serial,
        subject: cert.subject,
        issuer: cert.issuer,
        notAfter: cert.notAfter.toISOString(),
        pem,
      };
      makeOutput(flags.json ?? false).result(
        value,
        `IDevID for ${flags.serial} written to ${out}\n  subject: ${cert.subject}`,
      );
    });
}
