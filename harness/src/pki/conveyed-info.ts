import { fail } from './codes.ts';
import { Oid } from './oids.ts';
import { escapeXml, parseXml, type XmlElement } from './xml.ts';

/** The YANG module of conveyed information and its XML namespace. */
export const CI_MODULE = 'ietf-sztp-conveyed-info';
export const CI_NAMESPACE = 'urn:ietf:params:xml:ns:yang:ietf-sztp-conveyed-info';

export type ConveyedInfoType = 'redirect-information' | 'onboarding-information';
export type Encoding = 'json' | 'xml';

/** Decoded conveyed information; `content` is always the RFC 7951 JSON form. */
export interface ConveyedInfo {
  type: ConveyedInfoType;
  encoding: Encoding;
  content: Record<string, unknown>;
}

type LeafType = 'string' | 'port' | 'binary' | 'handling' | 'identityref' | 'hex';
type SchemaNode =
  | { kind: 'leaf'; type: LeafType; mandatory?: boolean }
  | { kind: 'leaf-list'; type: LeafType }
  | { kind: 'container' | 'list'; children: Record<string, SchemaNode>; key?: string };

/** ietf-sztp-conveyed-info@2019-04-30, restated as the little tree this codec walks. */
const SCHEMA: Record<ConveyedInfoType, SchemaNode> = {
  'redirect-information': {
    kind: 'container',
    children: {
      'bootstrap-server': {
        kind: 'list',
        key: 'address',
        children: {
          address: { kind: 'leaf', type: 'string', mandatory: true },
          port: { kind: 'leaf', type: 'port' },
          'trust-anchor': { kind: 'leaf', type: 'binary' },
        },
      },
    },
  },
  'onboarding-information': {
    kind: 'container',
    children: {
      'boot-image': {
        kind: 'container',
        children: {
          'os-name': { kind: 'leaf', type: 'string' },
          'os-version': { kind: 'leaf', type: 'string' },
          'download-uri': { kind: 'leaf-list', type: 'string' },
          'image-verification': {
            kind: 'list',
            key: 'hash-algorithm',
            children: {
              'hash-algorithm': { kind: 'leaf', type: 'identityref', mandatory: true },
              'hash-value': { kind: 'leaf', type: 'hex', mandatory: true },
            },
          },
        },
      },
      'configuration-handling': { kind: 'leaf', type: 'handling' },
      'pre-configuration-script': { kind: 'leaf', type: 'binary' },
      configuration: { kind: 'leaf', type: 'binary' },
      'post-configuration-script': { kind: 'leaf', type: 'binary' },
    },
  },
};

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX_STRING = /^([0-9a-fA-F]{2}(:[0-9a-fA-F]{2})*)?$/;
const HASH_IDENTITIES = new Set(['sha-256', `${CI_MODULE}:sha-256`]);

function invalid(path: string, why: string): never {
  fail('CONVEYED_INFO_INVALID', `conveyed information ${path}: ${why}`);
}

function checkLeaf(value: unknown, type: LeafType, path: string): void {
  if (type === 'port') {
    if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 65535) {
      invalid(path, `"${String(value)}" is not a port number`);
    }
    return;
  }
  if (typeof value !== 'string') invalid(path, 'is not a string');
  if (type === 'binary' && !BASE64.test(value)) invalid(path, 'is not base64');
  if (type === 'hex' && !HEX_STRING.test(value)) {
    invalid(path, `"${value}" is not a yang:hex-string (colon-separated octets)`);
  }
  if (type === 'handling' && value !== 'merge' && value !== 'replace') {
    invalid(path, `"${value}" is not merge or replace`);
  }
  if (type === 'identityref' && !HASH_IDENTITIES.has(value)) {
    invalid(path, `"${value}" is not a known hash-algorithm identity`);
  }
}

function checkNode(value: unknown, node: SchemaNode, path: string): void {
  if (node.kind === 'leaf') {
    checkLeaf(value, node.type, path);
    return;
  }
  if (node.kind === 'leaf-list') {
    if (!Array.isArray(value)) invalid(path, 'is not an array');
    value.forEach((item, i) => {
      checkLeaf(item, node.type, `${path}[${i}]`);
    });
    return;
  }
  if (node.kind === 'list') {
    if (!Array.isArray(value)) invalid(path, 'is not an array');
    const keys = new Set<unknown>();
    value.forEach((entry, i) => {
      checkObject(entry, node.children, `${path}[${i}]`);
      const key = (entry as Record<string, unknown>)[node.key as string];
      if (keys.has(key)) invalid(`${path}[${i}]`, `duplicate key "${String(key)}"`);
      keys.add(key);
    });
    return;
  }
  checkObject(value, node.children, path);
}

function checkObject(value: unknown, children: Record<string, SchemaNode>, path: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid(path, 'is not an object');
  }
  const record = value as Record<string, unknown>;
  for (const [name, child] of Object.entries(record)) {
    const node = children[name];
    if (!node) invalid(path, `has unknown member "${name}"`);
    checkNode(child, node, `${path}/${name}`);
  }
  for (const [name, node] of Object.entries(children)) {
    if (node.kind === 'leaf' && node.mandatory && record[name] === undefined) {
      invalid(path, `lacks mandatory ${name}`);
    }
  }
}

/** Validates the RFC 7951 JSON form against ietf-sztp-conveyed-info; returns the type. */
export function validateConveyedInfo(doc: unknown): ConveyedInfoType {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    invalid('/', 'is not an object');
  const members = Object.keys(doc);
  if (members.length !== 1) invalid('/', `has ${members.length} top-level members, expected 1`);
  const member = members[0] as string;
  const type = member.replace(`${CI_MODULE}:`, '') as ConveyedInfoType;
  if (member !== `${CI_MODULE}:${type}` || !(type in SCHEMA)) {
    invalid(
      '/',
      `top-level member "${member}" is not ${CI_MODULE}:redirect- or onboarding-information`,
    );
  }
  const body = (doc as Record<string, unknown>)[member];
  checkNode(body, SCHEMA[type], `/${type}`);
  const b = body as Record<string, unknown>;
  if (type === 'redirect-information') {
    const servers = b['bootstrap-server'];
    if (!Array.isArray(servers) || servers.length === 0) {
      invalid('/redirect-information', 'needs at least one bootstrap-server');
    }
  } else {
    const image = b['boot-image'] as Record<string, unknown> | undefined;
    if (image?.['image-verification'] !== undefined && image['download-uri'] === undefined) {
      invalid('/onboarding-information/boot-image', 'image-verification requires download-uri');
    }
    if ((b['configuration-handling'] === undefined) !== (b.configuration === undefined)) {
      invalid('/onboarding-information', 'configuration and configuration-handling go together');
    }
  }
  return type;
}

function fromXml(element: XmlElement, node: SchemaNode, path: string): unknown {
  if (node.kind === 'leaf' || node.kind === 'leaf-list') {
    if (element.children.length > 0) invalid(path, 'is a leaf but has child elements');
    const text = element.text.trim();
    if (node.type === 'port') return /^\d+$/.test(text) ? Number(text) : text;
    if (node.type === 'identityref') {
      const [prefix, local] = text.includes(':') ? text.split(':') : ['', text];
      const ns = element.scope[prefix as string];
      if (ns !== CI_NAMESPACE) invalid(path, `identity "${text}" is not from ${CI_MODULE}`);
      return `${CI_MODULE}:${local}`;
    }
    return node.type === 'binary' ? text.replace(/\s+/g, '') : text;
  }
  const out: Record<string, unknown> = {};
  for (const child of element.children) {
    if (child.ns !== CI_NAMESPACE)
      invalid(`${path}/${child.name}`, `is in namespace "${child.ns}"`);
    const childNode = node.children[child.name];
    if (!childNode) invalid(path, `has unknown element <${child.name}>`);
    const value = fromXml(child, childNode, `${path}/${child.name}`);
    if (childNode.kind === 'list' || childNode.kind === 'leaf-list') {
      const list = (out[child.name] ?? []) as unknown[];
      list.push(value);
      out[child.name] = list;
    } else if (out[child.name] !== undefined) {
      invalid(`${path}/${child.name}`, 'appears twice');
    } else {
      out[child.name] = value;
    }
  }
  return out;
}

function toXml(value: unknown, node: SchemaNode, name: string, indent: string): string {
  if (node.kind === 'leaf-list' || node.kind === 'list') {
    const item: SchemaNode =
      node.kind === 'leaf-list'
        ? { kind: 'leaf', type: node.type }
        : { kind: 'container', children: node.children };
    return (value as unknown[]).map((v) => toXml(v, item, name, indent)).join('');
  }
  if (node.kind === 'leaf') {
    let text = String(value);
    if (node.type === 'identityref') text = text.replace(`${CI_MODULE}:`, '');
    return `${indent}<${name}>${escapeXml(text)}</${name}>\n`;
  }
  const inner = Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => toXml(v, node.children[k] as SchemaNode, k, `${indent}  `))
    .join('');
  return `${indent}<${name}>\n${inner}${indent}</${name}>\n`;
}

/** Encodes validated JSON-form conveyed information as JSON or XML bytes. */
export function encodeConveyedInfo(doc: Record<string, unknown>, encoding: Encoding): Uint8Array {
  const type = validateConveyedInfo(doc);
  if (encoding === 'json') return new TextEncoder().encode(JSON.stringify(doc));
  const body = doc[`${CI_MODULE}:${type}`];
  const xml = toXml(body, SCHEMA[type], type, '').replace(
    `<${type}>`,
    `<${type} xmlns="${CI_NAMESPACE}">`,
  );
  return new TextEncoder().encode(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
}

/** Tells JSON from XML by the first non-blank byte; undefined when it is neither. */
export function sniffEncoding(bytes: Uint8Array): Encoding | undefined {
  for (const byte of bytes) {
    if (
      byte === 0x20 ||
      byte === 0x09 ||
      byte === 0x0a ||
      byte === 0x0d ||
      byte === 0xef ||
      byte === 0xbb ||
      byte === 0xbf
    )
      continue;
    if (byte === 0x7b) return 'json';
    if (byte === 0x3c) return 'xml';
    return undefined;
  }
  return undefined;
}

/** Decodes JSON or XML conveyed information (sniffed) and validates it. */
export function decodeConveyedInfo(bytes: Uint8Array): ConveyedInfo {
  const encoding = sniffEncoding(bytes);
  if (!encoding) invalid('/', 'starts with neither "{" (JSON) nor "<" (XML)');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    invalid('/', 'is not UTF-8');
  }
  if (encoding === 'json') {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (error) {
      invalid('/', `is not JSON: ${(error as Error).message}`);
    }
    const type = validateConveyedInfo(doc);
    return { type, encoding, content: doc as Record<string, unknown> };
  }
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (error) {
    invalid('/', (error as Error).message);
  }
  const type = root.name as ConveyedInfoType;
  if (!(type in SCHEMA) || root.ns !== CI_NAMESPACE) {
    invalid('/', `root element <${root.name}> in "${root.ns}" is not conveyed information`);
  }
  const content = { [`${CI_MODULE}:${type}`]: fromXml(root, SCHEMA[type], `/${type}`) };
  validateConveyedInfo(content);
  return { type, encoding, content };
}

/** The RFC 8572 content type for an encoding. */
export function contentTypeFor(encoding: Encoding): string {
  return encoding === 'json' ? Oid.conveyedInfoJson : Oid.conveyedInfoXml;
}
