/** The two value syntaxes of scenario files: durations and /regex/ event matches. */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `2m`, `1.5h` -> milliseconds. */
export function parseDuration(text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/.exec(text);
  if (!match) throw new TypeError(`"${text}" is not a duration such as 500ms, 30s or 2m`);
  return Math.round(Number(match[1]) * (UNIT_MS[match[2] as string] ?? 1));
}

/** An event match value written `/.../flags` is a regular expression; others match exactly. */
export function matchPattern(value: unknown): RegExp | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^\/(.*)\/([a-z]*)$/s.exec(value);
  return match ? new RegExp(match[1] as string, match[2]) : undefined;
}
