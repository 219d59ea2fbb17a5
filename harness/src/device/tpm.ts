import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../common/errors.ts';
import { run } from '../common/exec.ts';
import { children, contentOf, parseDer } from '../pki/der.ts';

/**
 * The routing engine's TPM, reached only through child processes (tpm2-tools, and openssl with
 * the tpm2 provider): loading that provider into this process would break software EC keys
 * here. The identity key is created inside the TPM under a persistent primary key; what lands
 * on disk is the TPM-wrapped blob (a `TSS2 PRIVATE KEY` PEM), which only this TPM can load.
 */
export const PRIMARY_HANDLE = '0x81000000';
export const KEY_FILE = 'idevid.tss2.pem';
export const CSR_FILE = 'idevid.csr';
export const CERT_FILE = 'idevid.pem';

export type KeyAlgorithm = 'ecc-p256' | 'rsa-2048';

/** Arguments that make an openssl command use the TPM for keys and software for the rest. */
export const TPM_PROVIDER_ARGS = [
  '-provider',
  'tpm2',
  '-provider',
  'default',
  '-propquery',
  '?provider=tpm2',
];

/** TPM object attribute bits (TPMA_OBJECT) the key-custody test looks at. */
export const TpmaObject = {
  fixedTPM: 0x2,
  fixedParent: 0x10,
  sensitiveDataOrigin: 0x20,
  userWithAuth: 0x40,
  decrypt: 0x20000,
  sign: 0x40000,
} as const;

function tpmEnv(): NodeJS.ProcessEnv {
  const tcti = process.env.TPM2OPENSSL_TCTI ?? 'tabrmd:bus_type=session';
  return { ...process.env, TPM2TOOLS_TCTI: tcti, TPM2OPENSSL_TCTI: tcti };
}

async function ensurePrimary(): Promise<void> {
  const env = tpmEnv();
  // boot.sh says when the TPM had never run before this power-on: then no key is there yet.
  if (process.env.SZTP_LAB_TPM_FRESH !== '1') {
    const present = await run('tpm2_readpublic', ['-c', PRIMARY_HANDLE], {
      env,
      allowFailure: true,
    });
    if (present.exitCode === 0) return;
  }
  const ctx = '/tmp/sztp-primary.ctx';
  await run('tpm2_createprimary', ['-C', 'o', '-g', 'sha256', '-G', 'ecc256', '-c', ctx], { env });
  await run('tpm2_evictcontrol', ['-C', 'o', '-c', ctx, PRIMARY_HANDLE], { env });
}

/** Creates the identity key inside the TPM (once) and returns the path of its wrapped blob. */
export async function ensureIdentityKey(
  stateDir: string,
  algorithm: KeyAlgorithm,
): Promise<string> {
  const path = join(stateDir, KEY_FILE);
  if (existsSync(path)) return path;
  await ensurePrimary();
  const keyArgs =
    algorithm === 'rsa-2048'
      ? ['-algorithm', 'RSA', '-pkeyopt', 'bits:2048']
      : ['-algorithm', 'EC', '-pkeyopt', 'group:P-256'];
  await run(
    'openssl',
    [
      'genpkey',
      ...TPM_PROVIDER_ARGS,
      ...keyArgs,
      '-pkeyopt',
      `parent:${PRIMARY_HANDLE}`,
      '-out',
      path,
    ],
    { env: tpmEnv() },
  );
  return path;
}

/** A PKCS#10 request signed inside the TPM; subject serialNumber is the device serial. */
export async function makeCsr(stateDir: string, serial: string, hwModel: string): Promise<string> {
  const path = join(stateDir, CSR_FILE);
  await run(
    'openssl',
    [
      'req',
      '-new',
      ...TPM_PROVIDER_ARGS,
      '-key',
      join(stateDir, KEY_FILE),
      '-subj',
      `/serialNumber=${serial}/CN=${hwModel}`,
      '-out',
      `${path}.tmp`,
    ],
    { env: tpmEnv() },
  );
  // The factory picks the CSR up as soon as it appears: it must appear whole.
  renameSync(`${path}.tmp`, path);
  return readFileSync(path, 'utf8');
}

/** The public area and attributes recorded in a TSS2 PRIVATE KEY blob (RFC-less, TCG format). */
export function wrappedKeyInfo(pem: string): {
  parent: string;
  attributes: number;
  publicArea: Buffer;
  privateBlob: Buffer;
} {
  const body = pem.replace(/-----(BEGIN|END) TSS2 PRIVATE KEY-----/g, '').replace(/\s+/g, '');
  if (!pem.includes('BEGIN TSS2 PRIVATE KEY')) {
    throw new LabError(
      'TPM_KEY_INVALID',
      'the key file is not a TSS2 PRIVATE KEY (a TPM-wrapped key)',
    );
  }
  const der = Buffer.from(body, 'base64');
  const top = parseDer(der, 'TSS2 key');
  const parts = children(top, 'TSS2 key');
  const integers = parts.filter((p) => p.tag === 0x02);
  const octets = parts.filter((p) => p.tag === 0x04);
  const parentTlv = integers[0];
  const pub = octets[0];
  const priv = octets[1];
  if (!parentTlv || !pub || !priv)
    throw new LabError('TPM_KEY_INVALID', 'TSS2 key: missing parent, public or private part');
  const publicArea = Buffer.from(contentOf(pub));
  // TPM2B_PUBLIC: size (2), type (2), nameAlg (2), objectAttributes (4), ...
  const attributes = publicArea.readUInt32BE(6);
  return {
    parent: `0x${Buffer.from(contentOf(parentTlv)).toString('hex').replace(/^00/, '')}`,
    attributes,
    publicArea,
    privateBlob: Buffer.from(contentOf(priv)),
  };
}

/**
 * Asks the TPM itself (tpm2_load + tpm2_readpublic) which attributes the key object has: the
 * independent check that the key was made inside the TPM and cannot leave it.
 */
export async function tpmReportedAttributes(stateDir: string): Promise<string> {
  const info = wrappedKeyInfo(readFileSync(join(stateDir, KEY_FILE), 'utf8'));
  const env = tpmEnv();
  writeFileSync('/tmp/sztp-key.pub', info.publicArea);
  writeFileSync('/tmp/sztp-key.priv', info.privateBlob);
  await run(
    'tpm2_load',
    [
      '-C',
      PRIMARY_HANDLE,
      '-u',
      '/tmp/sztp-key.pub',
      '-r',
      '/tmp/sztp-key.priv',
      '-c',
      '/tmp/sztp-key.ctx',
    ],
    { env },
  );
  const shown = await run('tpm2_readpublic', ['-c', '/tmp/sztp-key.ctx'], { env });
  await run('tpm2_flushcontext', ['-t'], { env, allowFailure: true });
  return /attributes:\s*\n\s*value:\s*(\S+)/.exec(shown.stdout)?.[1] ?? '';
}
