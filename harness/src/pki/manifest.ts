import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { fail } from './codes.ts';
import type { KeyProfile } from './keys.ts';

/** The servers of the lab that get TLS certificates. */
export const ServerRoles = ['redirect', 'bootstrap', 'image'] as const;
export type ServerRole = (typeof ServerRoles)[number];

/** A certificate file and its private key file. */
export interface CertKeyFiles {
  cert: string;
  key: string;
}

/**
 * The manifest `pki.json`: every file of a trust domain by role. Paths in the file are relative
 * to its directory; {@link loadManifest} resolves them.
 */
export interface PkiManifest {
  format: 'sztp-lab-pki/1';
  keyAlgorithm: KeyProfile;
  createdAt: string;
  /** Which owner CA the vouchers pin: the owner root, or the intermediate that issues owner certs. */
  pinnedDomain: 'root' | 'intermediate';
  voucherTrustAnchor: string;
  pinnedDomainCert: string;
  ownerCertificate: string;
  ownerKey: string;
  /** CA certificates between the owner certificate and the pinned-domain-cert (exclusive). */
  ownerChain: string[];
  masaSigner: CertKeyFiles;
  /** CA certificates between the MASA signer and the voucher trust anchor (exclusive). */
  masaChain: string[];
  idevidCa: string;
  idevidCaKey: string;
  idevidRoot: string;
  tlsTrustAnchor: string;
  servers: Record<ServerRole, CertKeyFiles & { dnsNames: string[]; ipAddresses: string[] }>;
  /** Every certificate and key by entity name. */
  entities: Record<string, CertKeyFiles>;
}

/** The manifest with every path made absolute against its directory. */
export function resolveManifest(dir: string, m: PkiManifest): PkiManifest {
  const r = (path: string) => (isAbsolute(path) ? path : resolve(dir, path));
  const pair = (f: CertKeyFiles) => ({ cert: r(f.cert), key: r(f.key) });
  const servers = {} as PkiManifest['servers'];
  for (const role of ServerRoles) servers[role] = { ...m.servers[role], ...pair(m.servers[role]) };
  return {
    ...m,
    voucherTrustAnchor: r(m.voucherTrustAnchor),
    pinnedDomainCert: r(m.pinnedDomainCert),
    ownerCertificate: r(m.ownerCertificate),
    ownerKey: r(m.ownerKey),
    ownerChain: m.ownerChain.map(r),
    masaSigner: pair(m.masaSigner),
    masaChain: m.masaChain.map(r),
    idevidCa: r(m.idevidCa),
    idevidCaKey: r(m.idevidCaKey),
    idevidRoot: r(m.idevidRoot),
    tlsTrustAnchor: r(m.tlsTrustAnchor),
    servers,
    entities: Object.fromEntries(Object.entries(m.entities).map(([k, v]) => [k, pair(v)])),
  };
}

/** Reads `DIR/pki.json` and resolves its paths; a missing or foreign file is PKI_INVALID. */
export async function loadManifest(dir: string): Promise<PkiManifest> {
  const path = join(dir, 'pki.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    fail(
      'PKI_INVALID',
      `${path}: cannot read the PKI manifest (run "sztp-lab pki init" first)`,
      error,
    );
  }
  let manifest: PkiManifest;
  try {
    manifest = JSON.parse(text) as PkiManifest;
  } catch (error) {
    fail('PKI_INVALID', `${path}: not JSON`, error);
  }
  if (manifest.format !== 'sztp-lab-pki/1') {
    fail('PKI_INVALID', `${path}: format is "${String(manifest.format)}", expected sztp-lab-pki/1`);
  }
  return resolveManifest(dir, manifest);
}
