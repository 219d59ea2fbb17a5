import {
  basicConstraints,
  type CertInfo,
  KeyUsageBit,
  keyUsageBits,
  signedBy,
  subjectText,
} from './cert-info.ts';
import { bytesOf, equalBytes } from './der.ts';

/** Inputs of a path validation: one trust anchor, untrusted intermediates, optional clock. */
export interface PathInput {
  leaf: CertInfo;
  intermediates: CertInfo[];
  anchor: CertInfo;
  /** Absent: no validity-period checks (clockless device profile). */
  now?: Date;
  maxDepth?: number;
}

function timeProblem(cert: CertInfo, now: Date | undefined): string | undefined {
  if (!now) return undefined;
  if (now < cert.notBefore) {
    return `"${subjectText(cert)}" is not valid before ${cert.notBefore.toISOString()}`;
  }
  if (now > cert.notAfter) return `"${subjectText(cert)}" expired ${cert.notAfter.toISOString()}`;
  return undefined;
}

function caProblem(cert: CertInfo, below: number): string | undefined {
  const bc = basicConstraints(cert);
  if (!bc.ca) return `"${subjectText(cert)}" issued a certificate but is not a CA`;
  const usage = keyUsageBits(cert);
  if (usage && !usage.has(KeyUsageBit.keyCertSign)) {
    return `"${subjectText(cert)}" has no keyCertSign key usage`;
  }
  if (bc.pathLength !== undefined && below > bc.pathLength) {
    return `"${subjectText(cert)}" allows ${bc.pathLength} intermediates below it, path has ${below}`;
  }
  return undefined;
}

function issued(child: CertInfo, parent: CertInfo): boolean {
  return equalBytes(bytesOf(child.issuer), bytesOf(parent.subject)) && signedBy(child, parent);
}

/** A validated path, leaf first and the trust anchor last; or why there is none. */
export type PathResult = { path: CertInfo[] } | { problem: string };

/**
 * Builds and validates leaf -> intermediates -> anchor, with the anchor as the only trusted
 * certificate (a leaf equal to the anchor is trusted as is, and is then the whole path). A
 * problem is a sentence naming the certificate and the check that failed.
 */
export function findPath(input: PathInput): PathResult {
  const { anchor, now } = input;
  const maxDepth = input.maxDepth ?? 8;
  let current = input.leaf;
  const problem = timeProblem(current, now);
  if (problem) return { problem };
  if (equalBytes(current.der, anchor.der)) return { path: [anchor] };
  const used: CertInfo[] = [];
  for (let depth = 0; depth <= maxDepth; depth++) {
    if (issued(current, anchor)) {
      const anchorProblem = caProblem(anchor, used.length) ?? timeProblem(anchor, now);
      return anchorProblem ? { problem: anchorProblem } : { path: [input.leaf, ...used, anchor] };
    }
    const next = input.intermediates.find(
      (candidate) =>
        !used.includes(candidate) && candidate !== current && issued(current, candidate),
    );
    if (!next) {
      return {
        problem:
          `no path from "${subjectText(input.leaf)}" to the trust anchor ` +
          `"${subjectText(anchor)}": nothing in the chain issued "${subjectText(current)}"`,
      };
    }
    const nextProblem = caProblem(next, used.length) ?? timeProblem(next, now);
    if (nextProblem) return { problem: nextProblem };
    used.push(next);
    current = next;
  }
  return {
    problem: `certificate path from "${subjectText(input.leaf)}" is longer than ${maxDepth}`,
  };
}

/** {@link findPath} for callers that need only the verdict: undefined on success, else why. */
export function validatePath(input: PathInput): string | undefined {
  const result = findPath(input);
  return 'problem' in result ? result.problem : undefined;
}
