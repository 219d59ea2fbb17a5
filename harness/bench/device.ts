/**
 * bench:device — power-on to bootstrap-complete of one routing engine, without an image
 * change: a real lab (Kea DHCPv4, the bootstrap server, the device with its swtpm), the device
 * zeroized and powered on again for each round. Prints the median and a breakdown taken from
 * the device's own events: power-on to the program's boot event (TPM stack and program start),
 * DHCP, the TLS handshake, verification, configuration and the progress reports.
 */

import type { DeviceEvent } from '../src/device/events.ts';
import { execOk } from '../src/runtime/containers.ts';
import { buildImages } from '../src/runtime/images.ts';
import { startSztpLab } from '../test/helpers/sztp-lab.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const json = process.argv.includes('--json');
const CONFIG = Buffer.from(
  '<configuration><system><host-name>bench</host-name></system></configuration>',
).toString('base64');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const at = (e: DeviceEvent | undefined) => (e ? Date.parse(e.time) : Number.NaN);

await buildImages({ only: ['server', 'device', 'dhcp-kea'] });
const lab = await startSztpLab({
  records: (f) => ({
    devices: {
      [f.serial]: {
        onboarding: { configuration: CONFIG, 'configuration-handling': 'merge' },
        reportingLevel: 'minimal',
      },
    },
  }),
});
const rows: Record<string, number>[] = [];
try {
  await lab.waitFor((e) => e.kind === 'bootstrap-complete', 'the factory bootstrap', 90_000);
  for (let round = 1; round <= ROUNDS; round++) {
    await execOk(lab.device, [
      'node',
      '/opt/sztp-lab/harness/bin/sztp-lab.js',
      'device',
      'zeroize',
    ]);
    await lab.device.container.stop({ t: 5 });
    const seen = lab.events().length;
    const powerOn = Date.now();
    await lab.device.container.start();
    const completions = lab.events().filter((e) => e.kind === 'bootstrap-complete').length;
    await lab.waitFor(
      () => lab.events().filter((e) => e.kind === 'bootstrap-complete').length > completions,
      `bootstrap-complete of round ${round}`,
      60_000,
    );
    const events = lab.events().slice(seen);
    const find = (kind: string, extra?: (e: DeviceEvent) => boolean) =>
      events.find((e) => e.kind === kind && (!extra || extra(e)));
    const boot = find('boot');
    const dhcpStart = find('source-start');
    const lease = find('dhcp-lease');
    const request = find('bootstrap-request');
    const info = find('conveyed-information');
    const committed = find('config-committed');
    const done = find('bootstrap-complete');
    rows.push({
      totalMs: at(done) - powerOn,
      bootMs: at(boot) - powerOn,
      dhcpMs: at(lease) - at(dhcpStart),
      requestMs: at(request) - at(lease),
      tlsMs: Number(request?.tlsMs ?? Number.NaN),
      verifyMs: at(info) - at(request),
      configMs: at(committed) - at(info),
      reportsMs: at(done) - at(committed),
    });
    if (!json) process.stderr.write(`round ${round}/${ROUNDS}: ${rows.at(-1)?.totalMs} ms\n`);
  }
} finally {
  await lab.dispose();
}
const keys = Object.keys(rows[0] ?? {});
const result = Object.fromEntries(
  keys.map((k) => [k, Math.round(median(rows.map((r) => r[k] ?? 0)))]),
);
if (json) {
  process.stdout.write(`${JSON.stringify({ rounds: ROUNDS, medianMs: result })}\n`);
} else {
  const label: Record<string, string> = {
    totalMs: 'power-on to bootstrap-complete',
    bootMs: '  power-on to boot event (TPM stack, program start)',
    dhcpMs: '  DHCPv4 (dhclient, lease with option 143)',
    requestMs: '  get-bootstrapping-data (TLS with the TPM key)',
    tlsMs: '    of which TLS handshake (curl)',
    verifyMs: '  verification of the conveyed information',
    configMs: '  configuration commit (+ bootstrap-initiated report)',
    reportsMs: '  bootstrap-complete report',
  };
  process.stdout.write(`median of ${ROUNDS} power-ons, no image change:\n`);
  for (const k of keys) process.stdout.write(`${(label[k] ?? k).padEnd(58)} ${result[k]} ms\n`);
}
