import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createVoucher } from '../../pki/artifacts.ts';
import { certificatesOnly, signContent, unsignedContent } from '../../pki/cms-build.ts';
import { CI_MODULE, contentTypeFor, encodeConveyedInfo } from '../../pki/conveyed-info.ts';
import { ownerChainCrls } from '../../pki/lab-crls.ts';
import type { PkiManifest } from '../../pki/lab-pki.ts';
import { ownerSigner } from '../../pki/lab-signers.ts';
import { BOOTSTRAP_MODULE, BOOTSTRAP_NAMESPACE, type Encoding } from './media.ts';
import type { DeviceRecord, RedirectEntry } from './records.ts';
import { RestconfError } from './restconf-errors.ts';

/** The get-bootstrapping-data output leaves, DER artifacts. */
export interface Output {
  reportingLevel?: 'minimal' | 'verbose';
  conveyedInformation: Uint8Array;
  ownerCertificate?: Uint8Array;
  ownershipVoucher?: Uint8Array;
}

/** Which conveyed information a request gets. */
export type Variant =
  | { kind: 'onboarding'; signed: boolean }
  | { kind: 'redirect'; signed: boolean }
  /** RFC 8572 Appendix B: signed redirect information back to this server. */
  | { kind: 'promote'; address: string; port: number };

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

const rendered = new WeakMap<Output, Partial<Record<Encoding, Buffer>>>();

/** The rendered reply body, kept with the (cached, never mutated) output it came from. */
export function renderedBody(out: Output, encoding: Encoding): Buffer {
  let forms = rendered.get(out);
  if (!forms) {
    forms = {};
    rendered.set(out, forms);
  }
  forms[encoding] ??= Buffer.from(renderOutput(out, encoding));
  return forms[encoding];
}

/** Renders the output in JSON (RFC 7951) or XML; leaves in module order. */
export function renderOutput(out: Output, encoding: Encoding): string {
  const leaves: [string, string][] = [];
  if (out.reportingLevel) leaves.push(['reporting-level', out.reportingLevel]);
  leaves.push(['conveyed-information', b64(out.conveyedInformation)]);
  if (out.ownerCertificate) leaves.push(['owner-certificate', b64(out.ownerCertificate)]);
  if (out.ownershipVoucher) leaves.push(['ownership-voucher', b64(out.ownershipVoucher)]);
  if (encoding === 'json') {
    return JSON.stringify({ [`${BOOTSTRAP_MODULE}:output`]: Object.fromEntries(leaves) });
  }
  const body = leaves.map(([k, v]) => `  <${k}>${v}</${k}>\n`).join('');
  return `<output xmlns="${BOOTSTRAP_NAMESPACE}">\n${body}</output>\n`;
}

/** Every certificate of a PEM file (or the one certificate of a DER file), as DER. */
export async function readCertificates(path: string): Promise<Uint8Array[]> {
  const data = await readFile(path);
  const text = data.toString('latin1');
  if (!text.includes('-----BEGIN')) return [new Uint8Array(new X509Certificate(data).raw)];
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((pem) => new Uint8Array(new X509Certificate(pem).raw));
}

interface Signed {
  ci: Uint8Array;
  oc?: Uint8Array;
}

function notAvailable(message: string): RestconfError {
  return new RestconfError(404, 'application', 'data-missing', message);
}

/**
 * Builds get-bootstrapping-data answers. The conveyed information (signed or not) and the owner
 * certificate are built once per record and variant and cached; a voucher with an expiry is
 * cached for an hour; a nonce-bound voucher is minted by the lab MASA for each request.
 */
export class ResponseBuilder {
  readonly #pki: PkiManifest | undefined;
  readonly #serverChain: Promise<Uint8Array[]> | undefined;
  readonly #artifacts = new WeakMap<DeviceRecord, Map<string, Promise<Signed>>>();
  readonly #vouchers = new WeakMap<
    DeviceRecord,
    Map<string, { at: number; der: Promise<Uint8Array> }>
  >();
  readonly #anchors = new Map<string, Promise<Uint8Array>>();
  readonly #outputs = new WeakMap<
    DeviceRecord,
    Map<string, { voucher?: Uint8Array; out: Output }>
  >();

  /**
   * @param serverChain this server's certificate file and trust anchor: the chain that goes in
   *   Appendix B redirects (intermediates from the certificate file, then the root).
   */
  constructor(
    pki: PkiManifest | undefined,
    serverChain?: { certFile: string; trustAnchor: string },
  ) {
    this.#pki = pki;
    if (serverChain) {
      this.#serverChain = (async () => {
        const [, ...intermediates] = await readCertificates(serverChain.certFile);
        return [...intermediates, ...(await readCertificates(serverChain.trustAnchor))];
      })();
      this.#serverChain.catch(() => {});
    }
  }

  get canSign(): boolean {
    return this.#pki !== undefined;
  }

  #requirePki(): PkiManifest {
    if (!this.#pki)
      throw notAvailable('signed data is needed and this server has no PKI to sign with');
    return this.#pki;
  }

  async #trustAnchor(ta: NonNullable<RedirectEntry['trustAnchor']>): Promise<Uint8Array> {
    if (ta === 'server') {
      if (!this.#serverChain)
        throw notAvailable('this server has no trust anchor configured (tls.trustAnchor)');
      return certificatesOnly(await this.#serverChain);
    }
    let anchor = this.#anchors.get(ta.file);
    if (!anchor) {
      anchor = readCertificates(ta.file).then((certs) => certificatesOnly(certs));
      this.#anchors.set(ta.file, anchor);
    }
    return anchor;
  }

  async #conveyed(record: DeviceRecord, variant: Variant): Promise<Uint8Array> {
    let doc: Record<string, unknown>;
    if (variant.kind === 'onboarding') {
      if (record.response.kind !== 'onboarding')
        throw new Error('record has no onboarding information');
      doc = { [`${CI_MODULE}:onboarding-information`]: record.response.info };
    } else {
      const entries: RedirectEntry[] =
        variant.kind === 'promote'
          ? [{ address: variant.address, port: variant.port, trustAnchor: 'server' }]
          : record.response.kind === 'redirect'
            ? record.response.servers
            : [];
      const servers = [];
      for (const e of entries) {
        const server: Record<string, unknown> = { address: e.address };
        if (e.port !== undefined) server.port = e.port;
        if (e.trustAnchor) server['trust-anchor'] = b64(await this.#trustAnchor(e.trustAnchor));
        servers.push(server);
      }
      doc = { [`${CI_MODULE}:redirect-information`]: { 'bootstrap-server': servers } };
    }
    return encodeConveyedInfo(doc, record.encoding);
  }

  async #build(record: DeviceRecord, variant: Variant, signed: boolean): Promise<Signed> {
    const document = await this.#conveyed(record, variant);
    const label = contentTypeFor(record.encoding);
    if (!signed) return { ci: unsignedContent(label, document) };
    const pki = this.#requirePki();
    const { signer, chain } = await ownerSigner(pki);
    const ci = await signContent({ signer, contentType: label, content: document });
    const crls =
      record.crls === 'none'
        ? []
        : await ownerChainCrls(pki, {
            ...(record.crls === 'owner-revoked'
              ? { revoke: [signer.certificate], reason: 'keyCompromise' as const }
              : {}),
            thisUpdate: new Date(Date.now() - 60_000),
            nextUpdate: new Date(Date.now() + 7 * 86_400_000),
          });
    return { ci, oc: certificatesOnly(chain, crls) };
  }

  #cached(record: DeviceRecord, variant: Variant, signed: boolean): Promise<Signed> {
    let perRecord = this.#artifacts.get(record);
    if (!perRecord) {
      perRecord = new Map();
      this.#artifacts.set(record, perRecord);
    }
    const key = JSON.stringify([variant, signed]);
    let entry = perRecord.get(key);
    if (!entry) {
      entry = this.#build(record, variant, signed);
      perRecord.set(key, entry);
      entry.catch(() => perRecord.delete(key));
    }
    return entry;
  }

  /** A voucher for `serial` (another device's, for a fault) with the record's settings. */
  voucher(record: DeviceRecord, serial: string, nonce: Buffer | undefined, idevid?: Buffer) {
    const pki = this.#requirePki();
    const v = record.voucher;
    const options = {
      serial,
      assertion: v.assertion,
      revocationChecks: v.revocationChecks,
      ...(v.idevidIssuer && idevid ? { idevidCert: new Uint8Array(idevid) } : {}),
    };
    if (nonce) return createVoucher(pki, { ...options, nonce: new Uint8Array(nonce) });
    const now = Date.now();
    let perRecord = this.#vouchers.get(record);
    if (!perRecord) {
      perRecord = new Map();
      this.#vouchers.set(record, perRecord);
    }
    const key = `${serial}\0${idevid ? createHash('sha256').update(idevid).digest('hex') : ''}`;
    const hit = perRecord.get(key);
    if (hit && now - hit.at < 3_600_000) return hit.der;
    const der = createVoucher(pki, {
      ...options,
      createdOn: new Date(now - 60_000),
      expiresOn: new Date(now + v.validityDays * 86_400_000),
    });
    perRecord.set(key, { at: now, der });
    der.catch(() => perRecord.delete(key));
    return der;
  }

  /**
   * The output for one request, before faults. Without a nonce the same object comes back until
   * the record or its voucher changes: callers must copy it before changing it.
   */
  async output(
    record: DeviceRecord,
    variant: Variant,
    options: { signed: boolean; nonce?: Buffer; idevid?: Buffer; onboardingServer: boolean },
  ): Promise<Output> {
    const { ci, oc } = await this.#cached(record, variant, options.signed);
    const voucher = oc
      ? await this.voucher(record, record.serial, options.nonce, options.idevid)
      : undefined;
    const key = JSON.stringify([variant, options.signed, options.onboardingServer]);
    let perRecord = this.#outputs.get(record);
    if (!perRecord) {
      perRecord = new Map();
      this.#outputs.set(record, perRecord);
    }
    const hit = options.nonce ? undefined : perRecord.get(key);
    if (hit && hit.voucher === voucher) return hit.out;
    const out: Output = { conveyedInformation: ci };
    if (variant.kind === 'onboarding' && options.onboardingServer) {
      out.reportingLevel = record.reportingLevel;
    }
    if (oc && voucher) {
      out.ownerCertificate = oc;
      out.ownershipVoucher = voucher;
    }
    if (!options.nonce) perRecord.set(key, voucher ? { voucher, out } : { out });
    return out;
  }
}
