import { LabError } from '../common/errors.ts';
import { escapeXml, parseXml, type XmlElement } from '../pki/xml.ts';

/**
 * The routing engine's configuration store: Junos-style XML under one <configuration> root.
 * `merge` lays the new tree over the running one (containers recurse, leaves are replaced,
 * list entries are matched by their <name> child); `replace` takes the new tree whole. Either
 * way the candidate is built and checked completely before anything is committed.
 */
export type ConfigHandling = 'merge' | 'replace';

export function parseConfiguration(xml: string, where: string): XmlElement {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (error) {
    throw new LabError('CONFIG_INVALID', `${where}: ${(error as Error).message}`, { cause: error });
  }
  if (root.name !== 'configuration') {
    throw new LabError(
      'CONFIG_INVALID',
      `${where}: the root element is <${root.name}>, a configuration must be <configuration>`,
    );
  }
  return root;
}

function keyOf(element: XmlElement): string | undefined {
  return element.children.find((child) => child.name === 'name')?.text.trim();
}

function isLeaf(element: XmlElement): boolean {
  return element.children.length === 0;
}

function countNamed(parent: XmlElement, name: string): number {
  return parent.children.filter((child) => child.name === name).length;
}

function mergeInto(target: XmlElement, incoming: XmlElement): void {
  for (const child of incoming.children) {
    const key = keyOf(child);
    // Repeated un-keyed leaves are a leaf-list: each value is its own entry, matched by value.
    const leafList =
      isLeaf(child) &&
      key === undefined &&
      (countNamed(incoming, child.name) > 1 || countNamed(target, child.name) > 1);
    const match = target.children.find(
      (existing) =>
        existing.name === child.name &&
        keyOf(existing) === key &&
        (!leafList || existing.text.trim() === child.text.trim()),
    );
    if (!match) {
      target.children.push(structuredClone(child));
    } else if (isLeaf(child)) {
      // An empty element names a container (or a presence flag): merging it adds nothing.
      if (child.text.trim() === '' && match.children.length > 0) continue;
      match.text = child.text;
      match.children = [];
    } else {
      mergeInto(match, child);
    }
  }
}

export function serialize(element: XmlElement, indent = ''): string {
  const attributes = Object.entries(element.attributes)
    .map(([name, value]) => ` ${name}="${escapeXml(value)}"`)
    .join('');
  const name = element.prefix ? `${element.prefix}:${element.name}` : element.name;
  if (element.children.length === 0) {
    const text = element.text.trim();
    return text
      ? `${indent}<${name}${attributes}>${escapeXml(text)}</${name}>`
      : `${indent}<${name}${attributes}/>`;
  }
  const inner = element.children.map((child) => serialize(child, `${indent}  `)).join('\n');
  return `${indent}<${name}${attributes}>\n${inner}\n${indent}</${name}>`;
}

/** Builds the candidate configuration; throws CONFIG_INVALID without touching the running one. */
export function candidate(running: string, incoming: string, handling: ConfigHandling): string {
  const next = parseConfiguration(incoming, 'onboarding configuration');
  if (handling === 'replace') return serialize(next);
  const base = parseConfiguration(running, 'running configuration');
  mergeInto(base, next);
  return serialize(base);
}

/** Reads a leaf by a slash path below <configuration>, e.g. `system/host-name`. */
export function leaf(config: string, path: string): string | undefined {
  let node: XmlElement | undefined = parseConfiguration(config, 'configuration');
  for (const part of path.split('/')) {
    node = node?.children.find((child) => child.name === part);
  }
  return node?.text.trim();
}
