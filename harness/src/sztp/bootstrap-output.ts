import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../common/errors.ts';
import { ArtifactFiles } from '../pki/artifacts.ts';
import { parseXml } from '../pki/xml.ts';

/**
 * Bootstrapping data captured elsewhere (from a router in the field, another vendor's server,
 * a support case), to be answered to a lab device byte for byte: the three RFC 8572 artifacts
 * as DER (CMS ContentInfo each).
 */
export interface CapturedOutput {
  conveyedInformation: Buffer;
  ownerCertificate?: Buffer;
  ownershipVoucher?: Buffer;
}

const OUTPUT = 'ietf-sztp-bootstrap-server:output';
const BOOTSTRAP_NS = 'urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server';
const LEAVES = {
  conveyedInformation: 'conveyed-information',
  ownerCertificate: 'owner-certificate',
  ownershipVoucher: 'ownership-voucher',
} as const;

/**
 * Reads captured bootstrapping data from `path`: a get-bootstrapping-data reply in JSON
 * (`{"ietf-sztp-bootstrap-server:output": {"conveyed-information": base64, ...}}`, or the
 * same object unwrapped) or in XML (`<output xmlns="urn:ietf:params:xml:ns:yang:ietf-sztp-
 * bootstrap-server">`), or a folder in the removable-storage layout of RFC 8572 section 4.1
 * (`conveyed-information.cms`, and `owner-certificate.cms` with `ownership-voucher.cms`),
 * which is also what `sztp-lab artifacts create` writes. Errors name the file and the leaf.
 */
export function readCapturedOutput(path: string, shown = path): CapturedOutput {
  let isFolder: boolean;
  try {
    isFolder = statSync(path).isDirectory();
  } catch (error) {
    throw invalid(shown, `cannot read it (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  const found = isFolder ? fromFolder(path, shown) : fromReply(path, shown);
  if (!found.conveyedInformation) throw invalid(shown, 'has no conveyed-information');
  if (!!found.ownerCertificate !== !!found.ownershipVoucher)
    throw invalid(
      shown,
      'has one of owner-certificate and ownership-voucher without the other (RFC 8572 sends both or neither)',
    );
  for (const [key, leaf] of Object.entries(LEAVES) as [keyof CapturedOutput, string][]) {
    const der = found[key];
    // Every artifact is a CMS ContentInfo: a DER SEQUENCE.
    if (der && der[0] !== 0x30)
      throw invalid(shown, `${leaf} is not DER (a CMS ContentInfo starts with 0x30)`);
  }
  return found as CapturedOutput;
}

function fromFolder(path: string, shown: string): Partial<CapturedOutput> {
  const names = new Set(readdirSync(path));
  const out: Partial<CapturedOutput> = {};
  for (const [key, file] of Object.entries(ArtifactFiles) as [keyof CapturedOutput, string][]) {
    if (names.has(file)) out[key] = readFileSync(join(path, file));
  }
  if (!out.conveyedInformation)
    throw invalid(shown, `is a folder without ${ArtifactFiles.conveyedInformation}`);
  return out;
}

function fromReply(path: string, shown: string): Partial<CapturedOutput> {
  const text = readFileSync(path, 'utf8');
  const leaves = text.trimStart().startsWith('<')
    ? xmlLeaves(text, shown)
    : jsonLeaves(text, shown);
  const out: Partial<CapturedOutput> = {};
  for (const [key, leaf] of Object.entries(LEAVES) as [keyof CapturedOutput, string][]) {
    const value = leaves[leaf];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !/^[A-Za-z0-9+/\s]+={0,2}\s*$/.test(value))
      throw invalid(shown, `${leaf} must be base64 text`);
    out[key] = Buffer.from(value, 'base64');
  }
  return out;
}

function jsonLeaves(text: string, shown: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw invalid(shown, `is not a JSON get-bootstrapping-data reply: ${(error as Error).message}`);
  }
  const root = doc as Record<string, unknown> | null;
  const output = (root && typeof root === 'object' && OUTPUT in root ? root[OUTPUT] : root) as
    | Record<string, unknown>
    | null
    | undefined;
  if (!output || typeof output !== 'object' || Array.isArray(output))
    throw invalid(shown, `must hold an object "${OUTPUT}" (or its content)`);
  return output;
}

/** The leaves of an XML reply: `<output>` in the bootstrap-server namespace, one text each. */
function xmlLeaves(text: string, shown: string): Record<string, unknown> {
  let root: ReturnType<typeof parseXml>;
  try {
    root = parseXml(text);
  } catch (error) {
    throw invalid(shown, `is not an XML get-bootstrapping-data reply: ${(error as Error).message}`);
  }
  if (root.name !== 'output' || root.ns !== BOOTSTRAP_NS)
    throw invalid(shown, `must have <output xmlns="${BOOTSTRAP_NS}"> as its root element`);
  const leaves: Record<string, unknown> = {};
  for (const child of root.children) {
    if (child.name in leaves) throw invalid(shown, `has <${child.name}> twice`);
    leaves[child.name] = child.text;
  }
  return leaves;
}

function invalid(file: string, problem: string): LabError {
  return new LabError('INVALID_ARGUMENT', `captured bootstrapping data ${file}: ${problem}`, {
    details: { file },
  });
}

/** The artifacts as base64, keyed as the lab's server records carry them. */
export function capturedToWire(captured: CapturedOutput): Record<string, string> {
  return Object.fromEntries(
    Object.entries(captured)
      .filter((entry): entry is [string, Buffer] => Buffer.isBuffer(entry[1]))
      .map(([key, der]) => [key, der.toString('base64')]),
  );
}
