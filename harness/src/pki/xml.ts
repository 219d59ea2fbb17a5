/**
 * A deliberately small XML reader for YANG instance documents: elements, attributes, namespaces,
 * text, comments, CDATA and the five predefined entities. No DTDs (they are refused).
 */

/** One element: local name, resolved namespace, attributes, child elements and text. */
export interface XmlElement {
  name: string;
  prefix: string;
  ns: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
  /** Namespace prefixes in scope, for resolving prefixed identityref values. */
  scope: Record<string, string>;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string, where: () => string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (_, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    const value = ENTITIES[ref];
    if (value === undefined) throw new SyntaxError(`${where()}: unknown entity &${ref};`);
    return value;
  });
}

/** Parses a document and returns its root element; errors name the line. */
export function parseXml(source: string): XmlElement {
  let pos = 0;
  const line = () => `line ${source.slice(0, pos).split('\n').length}`;
  const error = (why: string) => new SyntaxError(`XML ${line()}: ${why}`);

  const skipMisc = () => {
    for (;;) {
      while (pos < source.length && /\s/.test(source[pos] as string)) pos++;
      const close = source.startsWith('<?', pos)
        ? '?>'
        : source.startsWith('<!--', pos)
          ? '-->'
          : '';
      if (!close) {
        if (source.startsWith('<!', pos)) throw error('DTDs are not accepted');
        return;
      }
      const end = source.indexOf(close, pos);
      if (end < 0) throw error('unterminated declaration or comment');
      pos = end + close.length;
    }
  };

  const parseElement = (parentScope: Record<string, string>): XmlElement => {
    const open = /^<([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)/.exec(source.slice(pos, pos + 200));
    if (!open) throw error('expected an element');
    const qname = open[1] as string;
    pos += open[0].length;
    const attributes: Record<string, string> = {};
    const attr = /^\s+([A-Za-z_][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/;
    for (let m = attr.exec(source.slice(pos)); m; m = attr.exec(source.slice(pos))) {
      attributes[m[1] as string] = decodeEntities(m[3] ?? m[4] ?? '', line);
      pos += m[0].length;
    }
    while (/\s/.test(source[pos] ?? '')) pos++;
    const scope = { ...parentScope };
    for (const [key, value] of Object.entries(attributes)) {
      if (key === 'xmlns') scope[''] = value;
      else if (key.startsWith('xmlns:')) scope[key.slice(6)] = value;
    }
    const [prefix, name] = qname.includes(':') ? qname.split(':') : ['', qname];
    const ns = scope[prefix as string];
    if (ns === undefined && prefix) throw error(`undeclared namespace prefix "${prefix}"`);
    const element: XmlElement = {
      name: name as string,
      prefix: prefix as string,
      ns: ns ?? '',
      attributes,
      children: [],
      text: '',
      scope,
    };
    if (source.startsWith('/>', pos)) {
      pos += 2;
      return element;
    }
    if (source[pos] !== '>') throw error(`malformed start tag <${qname}>`);
    pos++;
    for (;;) {
      if (pos >= source.length) throw error(`<${qname}> is not closed`);
      if (source.startsWith('</', pos)) {
        const close = /^<\/([^\s>]+)\s*>/.exec(source.slice(pos, pos + 200));
        if (!close || close[1] !== qname) throw error(`expected </${qname}>`);
        pos += close[0].length;
        return element;
      }
      if (source.startsWith('<!--', pos)) {
        const end = source.indexOf('-->', pos);
        if (end < 0) throw error('unterminated comment');
        pos = end + 3;
      } else if (source.startsWith('<![CDATA[', pos)) {
        const end = source.indexOf(']]>', pos);
        if (end < 0) throw error('unterminated CDATA');
        element.text += source.slice(pos + 9, end);
        pos = end + 3;
      } else if (source[pos] === '<') {
        element.children.push(parseElement(scope));
      } else {
        const end = source.indexOf('<', pos);
        element.text += decodeEntities(source.slice(pos, end < 0 ? source.length : end), line);
        pos = end < 0 ? source.length : end;
      }
    }
  };

  skipMisc();
  const root = parseElement({});
  skipMisc();
  if (pos < source.length) throw error('content after the root element');
  return root;
}

/** Escapes text for element content. */
export function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
