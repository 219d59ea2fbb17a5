/**
 * RPC input of ietf-sztp-bootstrap-server@2019-04-30, checked by hand against the module: a
 * small schema tree restated from the YANG, one reader per encoding that turns the body into the
 * RFC 7951 JSON shape, and one checker for types, lengths, mandatory nodes and `when` rules.
 * Unknown nodes are refused. The tests cross-check verdicts with yanglint.
 */
import { parseXml, type XmlElement } from '../../pki/xml.ts';
import { BOOTSTRAP_MODULE, BOOTSTRAP_NAMESPACE, type Encoding } from './media.ts';
import { RestconfError, rpcPath, schemaError } from './restconf-errors.ts';

export const RPC_NAMES = ['get-bootstrapping-data', 'report-progress'] as const;
export type RpcName = (typeof RPC_NAMES)[number];

export const PROGRESS_TYPES = [
  'bootstrap-initiated',
  'parsing-initiated',
  'parsing-warning',
  'parsing-error',
  'parsing-complete',
  'boot-image-initiated',
  'boot-image-warning',
  'boot-image-error',
  'boot-image-mismatch',
  'boot-image-installed-rebooting',
  'boot-image-complete',
  'pre-script-initiated',
  'pre-script-warning',
  'pre-script-error',
  'pre-script-complete',
  'config-initiated',
  'config-warning',
  'config-error',
  'config-complete',
  'post-script-initiated',
  'post-script-warning',
  'post-script-error',
  'post-script-complete',
  'bootstrap-warning',
  'bootstrap-error',
  'bootstrap-complete',
  'informational',
] as const;
export type ProgressType = (typeof PROGRESS_TYPES)[number];

export interface BootstrapRequest {
  signedDataPreferred: boolean;
  hwModel?: string;
  osName?: string;
  osVersion?: string;
  nonce?: Buffer;
}

export interface ProgressReport {
  progressType: ProgressType;
  message?: string;
  sshHostKeys?: { algorithm: string; keyData: string }[];
  /** base64 CMS, as sent. */
  trustAnchorCerts?: string[];
}

type LeafType =
  | { base: 'string' }
  | { base: 'empty' }
  | { base: 'binary'; length?: [number, number] }
  | { base: 'enumeration'; values: ReadonlySet<string> };

type Node =
  | { kind: 'leaf'; type: LeafType; mandatory?: boolean }
  | { kind: 'leaf-list'; type: LeafType }
  | { kind: 'container' | 'list'; children: Record<string, Node>; when?: WhenRule };

/** A `when` on a child of the input: the sibling leaf and the value it must have. */
type WhenRule = { leaf: string; equals: string; text: string };

const STRING: LeafType = { base: 'string' };
const BINARY: LeafType = { base: 'binary' };
const BOOTSTRAP_COMPLETE: WhenRule = {
  leaf: 'progress-type',
  equals: 'bootstrap-complete',
  text: "../progress-type = 'bootstrap-complete'",
};

const INPUTS: Record<RpcName, Record<string, Node>> = {
  'get-bootstrapping-data': {
    'signed-data-preferred': { kind: 'leaf', type: { base: 'empty' } },
    'hw-model': { kind: 'leaf', type: STRING },
    'os-name': { kind: 'leaf', type: STRING },
    'os-version': { kind: 'leaf', type: STRING },
    nonce: { kind: 'leaf', type: { base: 'binary', length: [16, 32] } },
  },
  'report-progress': {
    'progress-type': {
      kind: 'leaf',
      type: { base: 'enumeration', values: new Set(PROGRESS_TYPES) },
      mandatory: true,
    },
    message: { kind: 'leaf', type: STRING },
    'ssh-host-keys': {
      kind: 'container',
      when: BOOTSTRAP_COMPLETE,
      children: {
        'ssh-host-key': {
          kind: 'list',
          children: {
            algorithm: { kind: 'leaf', type: STRING, mandatory: true },
            'key-data': { kind: 'leaf', type: BINARY, mandatory: true },
          },
        },
      },
    },
    'trust-anchor-certs': {
      kind: 'container',
      when: BOOTSTRAP_COMPLETE,
      children: { 'trust-anchor-cert': { kind: 'leaf-list', type: BINARY } },
    },
  },
};

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Characters YANG strings may not hold (RFC 7950 §9.4: the XML 1.0 Char production). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the point
const ILLEGAL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function malformed(message: string): RestconfError {
  return new RestconfError(400, 'protocol', 'malformed-message', message);
}

/** A schema child by name; never something inherited such as "constructor" or "__proto__". */
function schemaChild(nodes: Record<string, Node>, name: string): Node | undefined {
  return Object.hasOwn(nodes, name) ? nodes[name] : undefined;
}

// ---- JSON (RFC 7951) --------------------------------------------------------------------------

function memberName(name: string, path: string): string {
  const colon = name.indexOf(':');
  if (colon < 0) return name;
  const module = name.slice(0, colon);
  if (module !== BOOTSTRAP_MODULE) {
    throw schemaError(
      'unknown-namespace',
      path,
      `member "${name}": module "${module}" is not supported here`,
    );
  }
  return name.slice(colon + 1);
}

function fromJson(body: string, rpc: RpcName): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (error) {
    throw malformed(`the body is not JSON: ${(error as Error).message}`);
  }
  const wrapper = `${BOOTSTRAP_MODULE}:input`;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw malformed(`the body must be a JSON object with the single member "${wrapper}"`);
  }
  const members = Object.keys(doc);
  if (members.length !== 1 || members[0] !== wrapper) {
    throw malformed(
      `the body must have the single member "${wrapper}", not ${members.map((m) => `"${m}"`).join(', ') || 'none'}`,
    );
  }
  const input = (doc as Record<string, unknown>)[wrapper];
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw malformed(`"${wrapper}" must be a JSON object`);
  }
  return normalizeNames(input as Record<string, unknown>, rpcPath(rpc));
}

/** Strips the (allowed, redundant) own-module qualifier from members at every level. */
function normalizeNames(obj: Record<string, unknown>, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const [name, value] of Object.entries(obj)) {
    const local = memberName(name, `${path}/${name}`);
    if (Object.hasOwn(out, local))
      throw schemaError('bad-element', `${path}/${local}`, `"${local}" appears twice`);
    out[local] = value;
  }
  return out;
}

// ---- XML (RFC 7950 §7 encoding) ---------------------------------------------------------------

function checkAttributes(element: XmlElement, path: string): void {
  for (const name of Object.keys(element.attributes)) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
    throw new RestconfError(
      400,
      'protocol',
      'unknown-element',
      `attribute "${name}" is not allowed`,
      {
        path,
        appTag: 'unknown-attribute',
      },
    );
  }
}

function xmlChildren(parent: XmlElement, nodes: Record<string, Node>, path: string) {
  const out: Record<string, unknown> = Object.create(null);
  if (parent.text.trim() !== '') {
    throw schemaError('invalid-value', path, 'text is not allowed between the child elements');
  }
  for (const child of parent.children) {
    const childPath = `${path}/${child.name}`;
    if (child.ns !== BOOTSTRAP_NAMESPACE) {
      throw schemaError(
        'unknown-namespace',
        childPath,
        `<${child.name}> is in namespace "${child.ns}"`,
      );
    }
    const node = schemaChild(nodes, child.name);
    if (!node) throw schemaError('unknown-element', childPath, `unknown element <${child.name}>`);
    checkAttributes(child, childPath);
    const value = xmlValue(child, node, childPath);
    if (node.kind === 'list' || node.kind === 'leaf-list') {
      const list = (out[child.name] ?? []) as unknown[];
      list.push(value);
      out[child.name] = list;
    } else if (Object.hasOwn(out, child.name)) {
      throw schemaError('bad-element', childPath, `<${child.name}> appears twice`);
    } else {
      out[child.name] = value;
    }
  }
  return out;
}

function xmlValue(element: XmlElement, node: Node, path: string): unknown {
  if (node.kind === 'container' || node.kind === 'list') {
    return xmlChildren(element, node.children, path);
  }
  if (element.children.length > 0) {
    throw schemaError('invalid-value', path, 'a leaf cannot have child elements');
  }
  if (node.kind !== 'leaf' && node.kind !== 'leaf-list') return undefined;
  if (node.type.base === 'empty') return element.text.trim() === '' ? [null] : element.text;
  if (node.type.base === 'binary') return element.text.replace(/[ \t\r\n]+/g, '');
  if (node.type.base === 'enumeration') return element.text.trim();
  return element.text;
}

function fromXml(body: string, rpc: RpcName): Record<string, unknown> {
  let root: XmlElement;
  try {
    root = parseXml(body);
  } catch (error) {
    throw malformed(`the body is not well-formed XML: ${(error as Error).message}`);
  }
  if (root.name !== 'input' || root.ns !== BOOTSTRAP_NAMESPACE) {
    throw malformed(
      `the root element must be <input xmlns="${BOOTSTRAP_NAMESPACE}">, not <${root.name}> in "${root.ns}"`,
    );
  }
  checkAttributes(root, rpcPath(rpc));
  return xmlChildren(root, INPUTS[rpc], rpcPath(rpc));
}

// ---- the checker ------------------------------------------------------------------------------

/** The node a path ends in, for messages: "nonce", "ssh-host-key[2]". */
function nodeName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function checkString(value: unknown, path: string): string {
  if (typeof value !== 'string')
    throw schemaError('invalid-value', path, `${nodeName(path)} must be a string`);
  if (ILLEGAL_CHARS.test(value) || LONE_SURROGATE.test(value)) {
    throw schemaError(
      'invalid-value',
      path,
      `${nodeName(path)} holds characters a YANG string cannot have`,
    );
  }
  return value;
}

function checkLeaf(value: unknown, type: LeafType, path: string): unknown {
  switch (type.base) {
    case 'empty':
      if (!Array.isArray(value) || value.length !== 1 || value[0] !== null) {
        throw schemaError(
          'invalid-value',
          path,
          `${nodeName(path)} is an empty leaf, written [null]`,
        );
      }
      return true;
    case 'string':
      return checkString(value, path);
    case 'enumeration': {
      const text = checkString(value, path);
      if (!type.values.has(text)) {
        throw schemaError(
          'invalid-value',
          path,
          `${nodeName(path)}: "${text.slice(0, 64)}" is not one of the enumeration's values`,
        );
      }
      return text;
    }
    case 'binary': {
      if (typeof value !== 'string' || !BASE64.test(value)) {
        throw schemaError(
          'invalid-value',
          path,
          `${nodeName(path)} must be base64 (RFC 4648, padded)`,
        );
      }
      const bytes = Buffer.from(value, 'base64');
      if (type.length && (bytes.length < type.length[0] || bytes.length > type.length[1])) {
        throw schemaError(
          'invalid-value',
          path,
          `${nodeName(path)} is ${bytes.length} octets long; the length must be ${type.length[0]}..${type.length[1]}`,
        );
      }
      return bytes;
    }
  }
}

function checkNode(value: unknown, node: Node, path: string): unknown {
  if (node.kind === 'leaf') return checkLeaf(value, node.type, path);
  if (node.kind === 'leaf-list') {
    if (!Array.isArray(value))
      throw schemaError(
        'invalid-value',
        path,
        `${nodeName(path)} is a leaf-list, written as a JSON array`,
      );
    return value.map((item, i) => checkLeaf(item, node.type, `${path}[${i + 1}]`));
  }
  if (node.kind === 'list') {
    if (!Array.isArray(value))
      throw schemaError(
        'invalid-value',
        path,
        `${nodeName(path)} is a list, written as a JSON array`,
      );
    return value.map((entry, i) => checkObject(entry, node.children, `${path}[${i + 1}]`));
  }
  return checkObject(value, node.children, path);
}

function checkObject(value: unknown, nodes: Record<string, Node>, path: string) {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw schemaError('invalid-value', path, `${nodeName(path)} must be a JSON object`);
  }
  const input = normalizeNames(value as Record<string, unknown>, path);
  const out: Record<string, unknown> = Object.create(null);
  for (const [name, child] of Object.entries(input)) {
    const node = schemaChild(nodes, name);
    if (!node) throw schemaError('unknown-element', `${path}/${name}`, `unknown node "${name}"`);
    out[name] = checkNode(child, node, `${path}/${name}`);
  }
  for (const [name, node] of Object.entries(nodes)) {
    if (node.kind === 'leaf' && node.mandatory && out[name] === undefined) {
      throw schemaError(
        'missing-element',
        `${path}/${name}`,
        `the mandatory leaf "${name}" is missing`,
      );
    }
  }
  for (const [name, node] of Object.entries(nodes)) {
    if (node.kind !== 'container' || !node.when || out[name] === undefined) continue;
    if (out[node.when.leaf] !== node.when.equals) {
      throw schemaError(
        'unknown-element',
        `${path}/${name}`,
        `"${name}" is only allowed when ${node.when.text}`,
      );
    }
  }
  return out;
}

/** Parses and checks an RPC body; an empty body is an input with no nodes. */
export function parseRpcInput(rpc: RpcName, body: string, encoding: Encoding | undefined) {
  const raw =
    body.trim() === '' || encoding === undefined
      ? {}
      : encoding === 'json'
        ? fromJson(body, rpc)
        : fromXml(body, rpc);
  return checkObject(raw, INPUTS[rpc], rpcPath(rpc));
}

export function parseBootstrapRequest(
  body: string,
  encoding: Encoding | undefined,
): BootstrapRequest {
  const v = parseRpcInput('get-bootstrapping-data', body, encoding);
  const out: BootstrapRequest = { signedDataPreferred: v['signed-data-preferred'] === true };
  if (v['hw-model'] !== undefined) out.hwModel = v['hw-model'] as string;
  if (v['os-name'] !== undefined) out.osName = v['os-name'] as string;
  if (v['os-version'] !== undefined) out.osVersion = v['os-version'] as string;
  if (v.nonce !== undefined) out.nonce = v.nonce as Buffer;
  return out;
}

export function parseProgressReport(body: string, encoding: Encoding | undefined): ProgressReport {
  const v = parseRpcInput('report-progress', body, encoding);
  const out: ProgressReport = { progressType: v['progress-type'] as ProgressType };
  if (v.message !== undefined) out.message = v.message as string;
  const keys = v['ssh-host-keys'] as { 'ssh-host-key'?: Record<string, unknown>[] } | undefined;
  if (keys?.['ssh-host-key']) {
    out.sshHostKeys = keys['ssh-host-key'].map((k) => ({
      algorithm: k.algorithm as string,
      keyData: (k['key-data'] as Buffer).toString('base64'),
    }));
  }
  const anchors = v['trust-anchor-certs'] as { 'trust-anchor-cert'?: Buffer[] } | undefined;
  if (anchors?.['trust-anchor-cert']) {
    out.trustAnchorCerts = anchors['trust-anchor-cert'].map((b) => b.toString('base64'));
  }
  return out;
}
