import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../common/errors.ts';
import { readContentInfo, readSignedData } from '../pki/cms-read.ts';
import { PkiError } from '../pki/codes.ts';
import { Oid } from '../pki/oids.ts';
import { certificatesToPem, firstCertificateFromPem } from '../pki/pem.ts';
import type { Decrypter } from '../pki/signer.ts';
import { DeviceVerifier, type Verified } from '../pki/verifier.ts';
import { candidate } from './config-store.ts';
import type { DeviceConfig, ServerEntry, SourceName } from './device-config.ts';
import {
  type DhcpResult,
  type DnsResult,
  dhcpDiscover,
  dnsDiscover,
  resolveAll,
  usbDiscover,
} from './discovery.ts';
import type { EventLog } from './events.ts';
import { fetchBootImage } from './image-install.ts';
import { OPERATIONS, ProgressReporter, type ReportingLevel, type SshHostKey } from './reporter.ts';
import { runScript, type ScriptResult } from './scripts.ts';
import type { StateStore } from './state.ts';
import {
  type Endpoint,
  type HttpResult,
  httpsRequest,
  isCertificateFailure,
  type RequestOptions,
  type TlsIdentity,
} from './transport.ts';

/** How one attempt ended: done, a reboot into a new image, or "try the next thing". */
export type Outcome = 'success' | 'reboot' | 'fail';

export interface BootstrapDeps {
  config: DeviceConfig;
  state: StateStore;
  events: EventLog;
  identity: TlsIdentity;
  decrypter: Decrypter;
  sshHostKeys: SshHostKey[];
  /** Edges, replaceable in tests. */
  send?: (endpoint: Endpoint, path: string, options: RequestOptions) => Promise<HttpResult>;
  dhcp?: (config: DeviceConfig, family: 4 | 6) => Promise<DhcpResult>;
  dns?: (config: DeviceConfig) => Promise<DnsResult>;
  resolve?: (config: DeviceConfig, host: string) => Promise<string[]>;
  now?: () => Date;
  /** The clock setting at this moment (default: the configuration's); see clock.ts. */
  clock?: () => DeviceConfig['clock'];
  /**
   * Dual routing engines: every verified image is handed here (the primary keeps a copy for
   * its backup), and with `downloadCurrentImage` the image is fetched even when the engine
   * already runs it (the junos flavour's provision-backup-re behaviour).
   */
  keepImage?: (bytes: Buffer, osName: string, osVersion: string) => void;
  downloadCurrentImage?: boolean;
}

interface Artifacts {
  ci: Buffer;
  oc?: Buffer;
  ov?: Buffer;
}

/** Where a server's answer came from, and whether its TLS certificate was authenticated. */
interface Origin {
  endpoint?: Endpoint;
  trustAnchors?: string;
  trusted: boolean;
  reportingLevel: ReportingLevel;
  label: string;
}

const MEDIA_JSON = 'application/yang-data+json';

/**
 * The RFC 8572 §5 device logic of one routing engine: sources in order, servers with every
 * address, redirects (trust passed on only from trusted redirect information), signed-data
 * verification, and onboarding in RFC order with progress reports.
 */
export class Bootstrapper {
  readonly #d: BootstrapDeps;
  readonly #send: NonNullable<BootstrapDeps['send']>;
  readonly #work: string;
  #preconfiguredAnchors: string | undefined;
  /** The manufacturer's voucher trust anchors, read once. */
  readonly #voucherAnchors: Uint8Array[];

  constructor(deps: BootstrapDeps) {
    this.#d = deps;
    // Every request goes by the engine's clock as it stands: curl checks certificates then.
    const send = deps.send ?? httpsRequest;
    this.#send = (endpoint, path, options) => {
      const clock = this.#d.clock?.() ?? this.#d.config.clock;
      const skew = clock.mode === 'system' ? clock.skewSeconds : 0;
      return send(endpoint, path, skew ? { ...options, clockSkewSeconds: skew } : options);
    };
    this.#work = mkdtempSync(join(tmpdir(), 'sztp-device-'));
    this.#voucherAnchors = deps.config.voucherTrustAnchors.map((path) =>
      firstCertificateFromPem(readFileSync(path, 'utf8'), path),
    );
    const pems = deps.config.bootstrapTrustAnchors.map((path) => readFileSync(path, 'utf8'));
    if (pems.length) {
      this.#preconfiguredAnchors = join(this.#work, 'bootstrap-anchors.pem');
      writeFileSync(this.#preconfiguredAnchors, pems.join('\n'));
    }
  }

  dispose(): void {
    rmSync(this.#work, { recursive: true, force: true });
  }

  get #events(): EventLog {
    return this.#d.events;
  }

  #clock(): Date | undefined {
    const clock = this.#d.clock?.() ?? this.#d.config.clock;
    if (clock.mode === 'none') return undefined;
    const now = this.#d.now?.() ?? new Date();
    return new Date(now.getTime() + clock.skewSeconds * 1000);
  }

  /**
   * Tries every source until one bootstraps the device, then rests; rounds repeat with a
   * growing pause (servers learned from DHCP are thereby retried round-robin until one works).
   * `maxRounds` bounds the loop for tests; a device in the lab loops until it succeeds.
   */
  async run(maxRounds = Number.POSITIVE_INFINITY): Promise<Outcome> {
    let pause = this.#d.config.retry.initialMs;
    for (let round = 1; round <= maxRounds; round++) {
      this.#events.status('discovering', { round });
      for (const source of this.#d.config.sources) {
        this.#events.emit('source-start', { source, round });
        let outcome: Outcome;
        try {
          outcome = await this.#trySource(source);
        } catch (error) {
          this.#events.emit('source-error', { source, error: errorMessage(error) });
          outcome = 'fail';
        }
        if (outcome !== 'fail') return outcome;
        this.#events.emit('source-failed', { source });
      }
      if (round >= maxRounds) break;
      this.#events.emit('retry', { round, pauseMs: pause });
      await sleep(pause);
      pause = Math.min(pause * 2, this.#d.config.retry.maxMs);
    }
    return 'fail';
  }

  async #trySource(source: SourceName): Promise<Outcome> {
    const config = this.#d.config;
    switch (source) {
      case 'usb': {
        const found = usbDiscover(config);
        if (!found) return 'fail';
        this.#events.emit('usb-artifacts', { signed: Boolean(found.ov) });
        return this.#processArtifacts(found, {
          trusted: false,
          reportingLevel: 'minimal',
          label: 'removable storage',
        });
      }
      case 'dns': {
        const answer = await (this.#d.dns ?? dnsDiscover)(config);
        this.#events.emit('dns-answer', {
          txt: Boolean(answer.artifacts),
          srv: answer.servers.map((s) => `${s.address}:${s.port ?? 443}`),
        });
        if (answer.artifacts) {
          const outcome = await this.#processArtifacts(answer.artifacts, {
            trusted: false,
            reportingLevel: 'minimal',
            label: 'DNS TXT',
          });
          if (outcome !== 'fail') return outcome;
        }
        return this.#processServers(answer.servers, false, 0, 'DNS SRV');
      }
      case 'dhcp4':
      case 'dhcp6': {
        const family = source === 'dhcp4' ? 4 : 6;
        const lease = await (this.#d.dhcp ?? dhcpDiscover)(config, family);
        this.#events.emit('dhcp-lease', {
          family,
          address: lease.address,
          option: lease.optionText ? 'present' : 'absent',
          servers: lease.servers.map((s) => `${s.address}:${s.port ?? 443}`),
          ...(lease.skipped.length ? { skipped: lease.skipped } : {}),
          ...(lease.warnings.length ? { warnings: lease.warnings } : {}),
        });
        return this.#processServers(lease.servers, false, 0, `DHCPv${family}`);
      }
      case 'well-known':
        return this.#processServers(config.wellKnownServers, false, 0, 'well-known servers');
    }
  }

  /** A list of servers from redirect information, tried in order (RFC 8572 §5.5). */
  async #processServers(
    servers: ServerEntry[],
    trustedRedirect: boolean,
    depth: number,
    from: string,
  ): Promise<Outcome> {
    for (const server of servers) {
      const outcome = await this.#processServer(server, trustedRedirect, depth, from);
      if (outcome !== 'fail') return outcome;
    }
    return 'fail';
  }

  async #processServer(
    server: ServerEntry & { trustAnchor?: Buffer },
    trustedRedirect: boolean,
    depth: number,
    from: string,
  ): Promise<Outcome> {
    const port = server.port ?? 443;
    // Trust anchors from redirect information count only when that information was trusted.
    let anchors = this.#preconfiguredAnchors;
    if (trustedRedirect && server.trustAnchor) {
      let pem: string;
      try {
        pem = this.#anchorPem(server.trustAnchor);
      } catch (error) {
        // A broken entry is skipped; the rest of the redirect list is still walked (§5.5).
        this.#events.emit('trust-anchor-invalid', {
          server: server.address,
          from,
          error: errorMessage(error),
        });
        return 'fail';
      }
      anchors = join(this.#work, `anchor-${randomBytes(4).toString('hex')}.pem`);
      writeFileSync(anchors, pem);
    }
    const addresses = await (this.#d.resolve ?? resolveAll)(this.#d.config, server.address);
    if (addresses.length === 0) {
      this.#events.emit('server-unresolved', { server: server.address, from });
      return 'fail';
    }
    for (const address of addresses) {
      const endpoint: Endpoint = { host: server.address, port, address };
      const outcome = await this.#askServer(endpoint, anchors, depth, from);
      if (outcome !== undefined) return outcome;
    }
    return 'fail';
  }

  #anchorPem(cms: Buffer): string {
    const info = readContentInfo(cms, 'redirect trust-anchor');
    if (info.contentType !== Oid.signedData) {
      throw new PkiError(
        'CONTENT_TYPE_UNEXPECTED',
        'a trust-anchor must be a certificates-only SignedData',
      );
    }
    return certificatesToPem(readSignedData(info.content, 'redirect trust-anchor').certificates);
  }

  /**
   * One get-bootstrapping-data exchange. Returns undefined when this address gave no usable
   * bootstrapping data (try the next address), or the outcome of processing what it gave.
   */
  async #askServer(
    endpoint: Endpoint,
    anchors: string | undefined,
    depth: number,
    from: string,
  ): Promise<Outcome | undefined> {
    const config = this.#d.config;
    const via = endpoint.address !== endpoint.host ? ` (${endpoint.address})` : '';
    const where = `${endpoint.host}:${endpoint.port}${via}`;
    // First the authenticated connection; if the certificate does not validate, a provisional one.
    let trusted = false;
    let nonce: Buffer | undefined;
    let result: HttpResult | undefined;
    for (const attempt of anchors ? ['verified', 'provisional'] : ['provisional']) {
      const verified = attempt === 'verified';
      const input: Record<string, unknown> = {};
      if (verified) {
        input['hw-model'] = config.hwModel;
        const image = this.#d.state.running();
        input['os-name'] = image.osName;
        input['os-version'] = image.osVersion;
      } else {
        input['signed-data-preferred'] = [null];
        if (config.nonce) {
          nonce = randomBytes(16);
          input.nonce = nonce.toString('base64');
        }
      }
      const options: RequestOptions = {
        body: JSON.stringify({ 'ietf-sztp-bootstrap-server:input': input }),
        headers: { 'Content-Type': MEDIA_JSON, Accept: MEDIA_JSON },
        identity: this.#d.identity,
        ...(verified && anchors ? { trustAnchors: anchors } : {}),
        ...(verified && config.basicAuth ? { basicUser: config.serial } : {}),
      };
      result = await this.#send(endpoint, `${OPERATIONS}:get-bootstrapping-data`, options);
      this.#events.emit('bootstrap-request', {
        server: where,
        from,
        depth,
        tls: verified ? 'authenticated' : 'provisional',
        status: result.status,
        tlsMs: result.timing.tlsMs,
        ...(result.error ? { error: result.error } : {}),
      });
      if (verified && isCertificateFailure(result)) continue;
      trusted = verified && result.curlExit === 0;
      break;
    }
    if (result?.status !== 200) return undefined;
    let output: Record<string, unknown>;
    try {
      const parsed = JSON.parse(result.body.toString('utf8')) as Record<string, unknown>;
      output = parsed['ietf-sztp-bootstrap-server:output'] as Record<string, unknown>;
      if (!output || typeof output['conveyed-information'] !== 'string')
        throw new Error('no conveyed-information');
    } catch (error) {
      this.#events.emit('bootstrap-response-invalid', {
        server: where,
        error: errorMessage(error),
      });
      return undefined;
    }
    const b64 = (name: string) =>
      typeof output[name] === 'string' ? Buffer.from(output[name] as string, 'base64') : undefined;
    const artifacts: Artifacts = {
      ci: b64('conveyed-information') as Buffer,
      ...(b64('owner-certificate') ? { oc: b64('owner-certificate') } : {}),
      ...(b64('ownership-voucher') ? { ov: b64('ownership-voucher') } : {}),
    };
    const level = output['reporting-level'] === 'verbose' ? 'verbose' : 'minimal';
    return this.#processArtifacts(
      artifacts,
      {
        endpoint,
        ...(anchors ? { trustAnchors: anchors } : {}),
        trusted,
        reportingLevel: level,
        label: where,
      },
      nonce,
      depth,
    );
  }

  async #processArtifacts(
    artifacts: Artifacts,
    origin: Origin,
    nonce?: Buffer,
    depth = 0,
  ): Promise<Outcome> {
    const config = this.#d.config;
    const now = this.#clock();
    const verifier = new DeviceVerifier({
      voucherTrustAnchors: this.#voucherAnchors,
      serialNumber: config.serial,
      decrypter: this.#d.decrypter,
      ...(nonce ? { nonce } : {}),
      ...(now ? { now } : {}),
    });
    let verified: Verified;
    try {
      verified = await verifier.verify({
        conveyedInformation: artifacts.ci,
        ...(artifacts.oc ? { ownerCertificate: artifacts.oc } : {}),
        ...(artifacts.ov ? { ownershipVoucher: artifacts.ov } : {}),
      });
    } catch (error) {
      const code = error instanceof PkiError ? error.code : 'CMS_MALFORMED';
      this.#events.emit('verification-failed', {
        from: origin.label,
        code,
        message: errorMessage(error),
      });
      if (origin.trusted && origin.endpoint) {
        await this.#reporter(origin).report('parsing-error', `${code}: ${errorMessage(error)}`);
      }
      return 'fail';
    }
    const trustState = verified.signed || origin.trusted;
    this.#events.emit('conveyed-information', {
      from: origin.label,
      type: verified.type,
      encoding: verified.encoding,
      signed: verified.signed,
      encrypted: verified.encrypted,
      trustedServer: origin.trusted,
    });
    // The verifier gives the RFC 7951 form, whatever the encoding: the top member is qualified.
    const content = verified.content as Record<string, Record<string, unknown>>;
    const body =
      content[`ietf-sztp-conveyed-info:${verified.type}`] ?? content[verified.type] ?? {};
    if (verified.type === 'redirect-information') {
      if (depth + 1 > config.maxRedirects) {
        this.#events.emit('redirect-limit', { depth: depth + 1, max: config.maxRedirects });
        return 'fail';
      }
      const list = (body['bootstrap-server'] ?? []) as {
        address: string;
        port?: number;
        'trust-anchor'?: string;
      }[];
      const servers = list.map((entry) => ({
        address: entry.address,
        ...(entry.port ? { port: Number(entry.port) } : {}),
        ...(entry['trust-anchor']
          ? { trustAnchor: Buffer.from(entry['trust-anchor'], 'base64') }
          : {}),
      }));
      this.#events.emit('redirect', {
        depth: depth + 1,
        trusted: trustState,
        servers: servers.map((s) => `${s.address}:${s.port ?? 443}`),
      });
      return this.#processServers(servers, trustState, depth + 1, `redirect from ${origin.label}`);
    }
    if (!trustState) {
      this.#events.emit('onboarding-refused', {
        from: origin.label,
        code: 'UNSIGNED_ONBOARDING_FROM_UNTRUSTED',
        message:
          'unsigned onboarding information from a server whose certificate was not authenticated',
      });
      return 'fail';
    }
    const reporter = origin.trusted && origin.endpoint ? this.#reporter(origin) : undefined;
    return this.#onboard(body, reporter, origin);
  }

  #reporter(origin: Origin): ProgressReporter {
    return new ProgressReporter(
      origin.endpoint as Endpoint,
      {
        identity: this.#d.identity,
        ...(origin.trustAnchors ? { trustAnchors: origin.trustAnchors } : {}),
        ...(this.#d.config.basicAuth ? { basicUser: this.#d.config.serial } : {}),
      },
      origin.reportingLevel,
      this.#events,
      this.#send,
    );
  }

  /** RFC 8572 §5.6, in order: image, pre-script, configuration, post-script, completion. */
  async #onboard(
    info: Record<string, unknown>,
    reporter: ProgressReporter | undefined,
    origin: Origin,
  ): Promise<Outcome> {
    const report = async (
      type: string,
      message?: string,
      extra?: { sshHostKeys?: SshHostKey[] },
    ) => (reporter ? reporter.report(type, message, extra) : false);
    const { config, state } = this.#d;
    this.#events.status('onboarding', { from: origin.label });
    this.#events.emit('onboarding-start', {
      from: origin.label,
      reports: reporter ? origin.reportingLevel : 'none',
    });
    if (reporter && !(await report('bootstrap-initiated'))) {
      this.#events.emit('onboarding-aborted', {
        reason: 'bootstrap-initiated was not answered with 204',
      });
      await report('bootstrap-error', 'bootstrap-initiated was not acknowledged');
      return 'fail';
    }
    await report('parsing-initiated');
    await report('parsing-complete');

    // 1. Boot image.
    const image = info['boot-image'] as Record<string, unknown> | undefined;
    if (image) {
      await report('boot-image-initiated');
      const running = state.running();
      const wantName = String(image['os-name'] ?? running.osName);
      const wantVersion = String(image['os-version'] ?? running.osVersion);
      if (wantName === running.osName && wantVersion === running.osVersion) {
        this.#events.emit('boot-image-current', { osName: wantName, osVersion: wantVersion });
        if (this.#d.downloadCurrentImage) {
          const copy = await this.#installImage(image, wantName, wantVersion, false);
          if (typeof copy === 'string') this.#events.emit('backup-image-error', { reason: copy });
        }
        await report('boot-image-complete');
      } else {
        this.#events.emit('boot-image-mismatch', {
          running: `${running.osName} ${running.osVersion}`,
          wanted: `${wantName} ${wantVersion}`,
        });
        await report(
          'boot-image-mismatch',
          `running ${running.osName} ${running.osVersion}, wanted ${wantName} ${wantVersion}`,
        );
        const installed = await this.#installImage(image, wantName, wantVersion);
        if (typeof installed === 'string') {
          this.#events.emit('boot-image-error', { reason: installed });
          await report('boot-image-error', installed);
          return 'fail';
        }
        await report('boot-image-installed-rebooting', `rebooting into ${wantName} ${wantVersion}`);
        this.#events.emit('reboot', { reason: 'boot-image-installed', slot: installed.slot });
        return 'reboot';
      }
    }

    // 2. Pre-configuration script. The junos profile rolls back to the configuration from
    // before this script when the post-configuration script fails.
    const beforeScripts = state.state.config.running;
    const pre = info['pre-configuration-script'];
    if (typeof pre === 'string') {
      await report('pre-script-initiated');
      const result = await this.#script('pre-configuration-script', pre);
      if (result.verdict === 'error') {
        await report('pre-script-error', result.output || `exit status ${result.exitCode}`);
        return 'fail';
      }
      await report('pre-script-complete', result.note);
    }

    // 3. Configuration, committed atomically.
    const beforeConfig = state.state.config.running;
    const configuration = info.configuration;
    if (typeof configuration === 'string') {
      await report('config-initiated');
      const handling = info['configuration-handling'] === 'replace' ? 'replace' : 'merge';
      try {
        const xml = Buffer.from(configuration, 'base64').toString('utf8');
        const next = candidate(state.state.config.running, xml, handling);
        state.commit(next);
        this.#events.emit('config-committed', { handling, bytes: next.length });
      } catch (error) {
        this.#events.emit('config-error', { error: errorMessage(error) });
        await report('config-error', errorMessage(error));
        return 'fail';
      }
      await report('config-complete');
    }

    // 4. Post-configuration script; on failure the configuration goes back.
    const post = info['post-configuration-script'];
    if (typeof post === 'string') {
      await report('post-script-initiated');
      const result = await this.#script('post-configuration-script', post);
      if (result.verdict === 'error') {
        const restore = config.profile === 'junos' ? beforeScripts : beforeConfig;
        if (state.state.config.running !== restore) state.commit(restore);
        this.#events.emit('rollback', {
          reason: 'post-configuration-script failed',
          to:
            config.profile === 'junos'
              ? 'before the pre-configuration script'
              : 'before the configuration',
        });
        await report('post-script-error', result.output || `exit status ${result.exitCode}`);
        return 'fail';
      }
      await report('post-script-complete', result.note);
    }

    // 5. Completion: bootstrap-complete must be acknowledged, then SZTP is switched off.
    if (reporter) {
      const ok = await report('bootstrap-complete', 'onboarding complete', {
        sshHostKeys: this.#d.sshHostKeys,
      });
      if (!ok) {
        state.commit(beforeScripts);
        this.#events.emit('rollback', { reason: 'bootstrap-complete was not answered with 204' });
        await report('bootstrap-error', 'bootstrap-complete was not acknowledged');
        return 'fail';
      }
    }
    state.update((s) => {
      s.sztpEnabled = false;
    });
    this.#events.emit('bootstrap-complete', {
      from: origin.label,
      image: `${state.running().osName} ${state.running().osVersion}`,
    });
    this.#events.status('provisioned');
    return 'success';
  }

  async #script(which: string, base64: string): Promise<ScriptResult> {
    const script = Buffer.from(base64, 'base64').toString('utf8');
    const result = await runScript(script, this.#d.config.profile, {
      timeoutMs: this.#d.config.scriptTimeoutMs,
    });
    this.#events.emit('script', {
      which,
      interpreter: result.interpreter,
      exitCode: result.exitCode,
      verdict: result.verdict,
      ...(result.note ? { note: result.note } : {}),
      output: result.output.slice(-500),
    });
    return result;
  }

  /** Downloads and checks an image, then installs it into the other slot (unless only kept). */
  async #installImage(
    image: Record<string, unknown>,
    osName: string,
    osVersion: string,
    install = true,
  ): Promise<{ slot: 'a' | 'b' } | string> {
    const { state } = this.#d;
    const fetched = await fetchBootImage(
      {
        config: this.#d.config,
        identity: this.#d.identity,
        events: this.#events,
        work: this.#work,
        send: this.#send,
      },
      image,
      osName,
      osVersion,
    );
    if (typeof fetched === 'string') return fetched;
    this.#d.keepImage?.(fetched.bytes, osName, osVersion);
    if (!install) return { slot: state.state.active };
    const slot = state.state.active === 'a' ? 'b' : 'a';
    state.update((s) => {
      s.slots[slot] = { osName, osVersion, sha256: fetched.sha256 };
      s.pendingSlot = slot;
      s.imageReboots += 1;
    });
    this.#events.emit('image-installed', { slot, osName, osVersion });
    return { slot };
  }
}
