import { html, type Markup } from './escape.ts';
import type { Message } from './model.ts';

const GUTTER = 76;
const COLUMN = 150;
const ROW = 26;
const HEAD = 34;
const CHAR = 6.4;

/** Where a node sorts among the lifelines: the device first, then servers in protocol order. */
const ORDER: [RegExp, number][] = [
  [/re\d|routing|device|dev\d|^dut/i, 0],
  [/dhcp/i, 1],
  [/dns/i, 2],
  [/redirect/i, 3],
  [/bootstrap|sztp|server/i, 4],
  [/image|firmware|http|web/i, 5],
];

export function lifelineOrder(messages: readonly Message[]): string[] {
  const first = new Map<string, number>();
  for (const message of messages) {
    for (const node of [message.from, message.to]) {
      if (!first.has(node)) first.set(node, first.size);
    }
  }
  const rank = (node: string) => ORDER.find(([pattern]) => pattern.test(node))?.[1] ?? 6;
  return [...first.keys()].sort(
    (a, b) => rank(a) - rank(b) || (first.get(a) ?? 0) - (first.get(b) ?? 0),
  );
}

/**
 * The sequence diagram of one attempt as inline SVG: a sticky header with the node names, then
 * one lifeline per node and one arrow per message in time order. Columns have a fixed width,
 * so twenty lifelines make a wide picture that scrolls sideways instead of shrinking to
 * unreadable text; the full label of each arrow is in its tooltip.
 */
export function renderSequence(messages: readonly Message[], origin: number): Markup {
  const ordered = [...messages].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  const nodes = lifelineOrder(ordered);
  const x = new Map(nodes.map((node, index) => [node, COLUMN * index + COLUMN / 2]));
  // A note on the last lifeline (a server's record, say) runs past its column: room for it.
  const last = nodes[nodes.length - 1];
  const noteOnLast = ordered.some((message) => message.from === last && message.to === last);
  const width = COLUMN * nodes.length + (noteOnLast ? COLUMN : 0);
  const height = ROW * ordered.length + ROW;

  const heads = nodes.map((node) => {
    const centre = x.get(node) ?? 0;
    return html`<g class="head"><title>${node}</title><rect x="${centre - COLUMN / 2 + 8}" y="4" width="${COLUMN - 16}" height="${HEAD - 8}" rx="5"/><text x="${centre}" y="${HEAD / 2 + 4}">${clip(node, COLUMN - 24)}</text></g>`;
  });
  const lifelines = nodes.map((node) => {
    const centre = x.get(node) ?? 0;
    return html`<line class="lifeline" data-node="${node}" x1="${centre}" y1="0" x2="${centre}" y2="${height}"/>`;
  });
  const times = ordered.map(
    (message, index) =>
      html`<text x="${GUTTER - 8}" y="${ROW * index + ROW + 4}">${relativeTime(message.time, origin)}</text>`,
  );
  const arrows = ordered.map((message, index) =>
    arrow(message, index, x.get(message.from) ?? 0, x.get(message.to) ?? 0, origin),
  );

  // Four cells in a grid that scrolls as one: the names stay on top and the times on the left
  // however far the reader scrolls.
  return html`<div class="seq" role="img" aria-label="sequence diagram: ${nodes.length} nodes, ${ordered.length} messages">
<div class="seq-corner"></div>
<svg class="seq-head" width="${width}" height="${HEAD}" viewBox="0 0 ${width} ${HEAD}">${heads}</svg>
<svg class="seq-gutter" width="${GUTTER}" height="${height}" viewBox="0 0 ${GUTTER} ${height}">${times}</svg>
<svg class="seq-body" data-lifelines="${nodes.length}" data-arrows="${ordered.length}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${lifelines}${arrows}</svg>
</div>`;
}

function arrow(message: Message, index: number, from: number, to: number, origin: number): Markup {
  const y = ROW * index + ROW;
  const when = relativeTime(message.time, origin);
  const tip = `${when}  ${message.from} → ${message.to}: ${message.label}`;
  if (from === to) {
    const path = `M${from} ${y - 8} h26 v12 h-22`;
    return html`<g class="arrow tone-${message.tone}"><title>${tip}</title><path d="${path}"/><polygon points="${from + 2},${y + 4} ${from + 9},${y + 0.5} ${from + 9},${y + 7.5}"/><text class="label self" x="${from + 32}" y="${y}">${clip(message.label, COLUMN * 1.5 - 40)}</text></g>`;
  }
  const direction = to > from ? 1 : -1;
  const tipX = to - direction * 2;
  const head = `${tipX},${y} ${tipX - direction * 8},${y - 4} ${tipX - direction * 8},${y + 4}`;
  return html`<g class="arrow tone-${message.tone}"><title>${tip}</title><line x1="${from}" y1="${y}" x2="${tipX - direction * 6}" y2="${y}"/><polygon points="${head}"/><text class="label" x="${(from + to) / 2}" y="${y - 5}">${clip(message.label, Math.abs(to - from) - 12)}</text></g>`;
}

/** Seconds since the attempt began, the way the diagram's gutter and the timeline show it. */
export function relativeTime(time: string, origin: number): string {
  const at = Date.parse(time);
  if (Number.isNaN(at) || Number.isNaN(origin)) return time;
  return `+${((at - origin) / 1000).toFixed(3)}s`;
}

/** `text` cut with an ellipsis to about `pixels` of 11 px text (the diagrams' label size). */
export function clip(text: string, pixels: number, charWidth = CHAR): string {
  const fits = Math.max(4, Math.floor(pixels / charWidth));
  return text.length <= fits ? text : `${text.slice(0, fits - 1)}…`;
}
