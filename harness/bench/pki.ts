/**
 * npm run bench:pki — how many artifact sets the lab creates and the device fully verifies per
 * second, and the cost of one full verification beside three raw ECDSA P-256 verifications with
 * node:crypto (voucher signature, owner certificate, conveyed-information signature). Goal: at
 * most 2x. Bounded: a fixed number of rounds, no network.
 */
import { generateKeyPairSync, sign, verify, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createArtifacts } from '../src/pki/artifacts.ts';
import { clearParsedCertificates } from '../src/pki/cert-info.ts';
import { sampleOnboarding } from '../src/pki/forge.ts';
import { initPki } from '../src/pki/lab-pki.ts';
import { clearPublicKeys } from '../src/pki/public-keys.ts';
import { DeviceVerifier } from '../src/pki/verifier.ts';

const ROUNDS = Number(process.env.SZTP_LAB_BENCH_ROUNDS ?? 300);
const TRIALS = Number(process.env.SZTP_LAB_BENCH_TRIALS ?? 5);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function perSecond(count: number, ms: number): string {
  return ((count * 1000) / ms).toFixed(0);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sztp-bench-pki-'));
  try {
    const pki = await initPki(join(dir, 'pki'), {
      key: 'ecdsa-p256',
      pinnedDomain: 'intermediate',
      domain: 'bench.test',
    });
    const anchor = new Uint8Array(new X509Certificate(await readFile(pki.voucherTrustAnchor)).raw);
    const input = sampleOnboarding();

    const t0 = performance.now();
    const sets = [];
    for (let i = 0; i < ROUNDS; i++) {
      sets.push(await createArtifacts(pki, { input, serial: 'SN-BENCH', sign: true }));
    }
    const createMs = performance.now() - t0;

    const verifier = new DeviceVerifier({
      voucherTrustAnchors: [anchor],
      serialNumber: 'SN-BENCH',
      now: new Date(Date.now() + 1000),
    });
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const data = Buffer.alloc(512, 1);
    const signature = sign('sha256', data, privateKey);
    for (const set of sets.slice(0, 20)) await verifier.verify(set); // warm-up
    for (let i = 0; i < 200; i++) verify('sha256', data, publicKey, signature);

    // The three kinds of run alternate, several times, and each figure is the median of its
    // trials: on a shared 2-core machine a burst of other work then moves one trial, not the
    // comparison.
    const trials = { warm: [] as number[], cold: [] as number[], raw: [] as number[] };
    for (let trial = 0; trial < TRIALS; trial++) {
      let t0 = performance.now();
      for (const set of sets) await verifier.verify(set);
      trials.warm.push((performance.now() - t0) / ROUNDS);
      // Cold: every certificate parsed and every public key imported again, as on a device's
      // first bootstrap.
      t0 = performance.now();
      for (const set of sets) {
        clearPublicKeys();
        clearParsedCertificates();
        await verifier.verify(set);
      }
      trials.cold.push((performance.now() - t0) / ROUNDS);
      t0 = performance.now();
      for (let i = 0; i < ROUNDS * 3; i++) verify('sha256', data, publicKey, signature);
      trials.raw.push((performance.now() - t0) / ROUNDS);
    }
    const perVerify = median(trials.warm);
    const perCold = median(trials.cold);
    const perRawTriple = median(trials.raw);
    const verifyMs = perVerify * ROUNDS;
    const ratio = perVerify / perRawTriple;
    const result = {
      rounds: ROUNDS,
      createdPerSecond: Number(perSecond(ROUNDS, createMs)),
      verifiedPerSecond: Number(perSecond(ROUNDS, verifyMs)),
      createdAndVerifiedPerSecond: Number(perSecond(ROUNDS, createMs + verifyMs)),
      verifyMicroseconds: Math.round(perVerify * 1000),
      threeRawEcdsaP256Microseconds: Math.round(perRawTriple * 1000),
      ratio: Number(ratio.toFixed(2)),
      coldVerifyMicroseconds: Math.round(perCold * 1000),
      coldRatio: Number((perCold / perRawTriple).toFixed(2)),
      trials: TRIALS,
      goal: 'ratio <= 2',
    };
    if (process.argv.includes('--json')) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      process.stdout.write(
        `${[
          `artifact sets (signed, ECDSA P-256, ${ROUNDS} rounds, median of ${TRIALS} trials)`,
          `  created:                ${result.createdPerSecond}/s`,
          `  fully verified:         ${result.verifiedPerSecond}/s`,
          `  created and verified:   ${result.createdAndVerifiedPerSecond}/s`,
          `  one verification:       ${result.verifyMicroseconds} us`,
          `  3 raw P-256 verifies:   ${result.threeRawEcdsaP256Microseconds} us`,
          `  ratio:                  ${result.ratio}x (goal: at most 2x)`,
          `  cold (keys re-imported): ${result.coldVerifyMicroseconds} us, ${result.coldRatio}x`,
        ].join('\n')}\n`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
