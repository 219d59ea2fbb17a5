/** Markup already escaped (or written by us): the only thing `html` inserts verbatim. */
export class Markup {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for an element body or a quoted attribute. */
export function escapeHtml(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL and friends never belong in a page
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c).replace(/[\u0000-\u0008]/g, '\ufffd');
}

/**
 * Builds markup with every interpolated value escaped, unless it is Markup itself. Lists are
 * joined; undefined, null and false insert nothing. Escaping by default is what keeps titles
 * and log text from the model (untrusted) from ever becoming markup.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Markup {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += insert(value) + (strings[index + 1] ?? '');
  });
  return new Markup(out);
}

function insert(value: unknown): string {
  if (value instanceof Markup) return value.text;
  if (Array.isArray(value)) return value.map(insert).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

export function raw(text: string): Markup {
  return new Markup(text);
}
