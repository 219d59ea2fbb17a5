import { html, type Markup } from './escape.ts';
import type { LabView, LabViewNode } from './model.ts';
import { clip as clipAt } from './sequence.ts';

const MARGIN = 16;
const GAP = 24;
const BOX_W = 176;
const BOX_H = 68;
const RE_W = 176;
const RE_H = 52;
const PAD = 8;
const HEADER = 36;
const LINK_DROP = 14;
const BUS_GAP = 30;
const CHAR = 6.2;

const clip = (text: string, pixels: number) => clipAt(text, pixels, CHAR);

interface Placed {
  node: LabViewNode;
  x: number;
  y: number;
  width: number;
  height: number;
}

type Engine = NonNullable<LabViewNode['engines']>[number] & { x: number };

/**
 * The lab of one attempt as a network diagram in inline SVG: the service nodes in a row above,
 * each lab network as a bus with its subnets, the devices below. A dual-RE device is a chassis
 * holding both routing engines, joined under them by its chassis-internal link. Every box has
 * a tooltip with all it knows (kind, addresses, a user image); text that does not fit is cut.
 */
export function renderTopology(view: LabView): Markup {
  const chassisLinks = new Set(view.nodes.flatMap((n) => (n.chassisLink ? [n.chassisLink] : [])));
  const buses = view.networks.filter((network) => !chassisLinks.has(network.name));
  const top = row(
    view.nodes.filter((node) => node.kind !== 'device'),
    MARGIN,
    () => BOX_W,
    BOX_H,
  );
  const busTop = MARGIN + (top.length ? BOX_H : 0) + BUS_GAP;
  const busY = new Map(buses.map((network, index) => [network.name, busTop + index * BUS_GAP]));
  const rowY = busTop + Math.max(0, buses.length - 1) * BUS_GAP + BUS_GAP;
  const bottom = row(
    view.nodes.filter((node) => node.kind === 'device'),
    rowY,
    (node) => {
      const engines = Math.max(1, node.engines?.length ?? 1);
      return engines * RE_W + (engines + 1) * PAD;
    },
    HEADER + RE_H + PAD,
  );
  const placed = [...top, ...bottom];
  // Each bus's label sits at its right end, past the last tap on it.
  const lastTap = (name: string) =>
    Math.max(MARGIN, ...placed.filter((p) => p.node.network === name).flatMap(taps));
  const right = Math.max(
    MARGIN + 360,
    ...placed.map((p) => p.x + p.width),
    ...buses.map((network) => lastTap(network.name) + 16 + busLabel(network).length * CHAR),
  );
  const width = right + MARGIN;
  const deepest = Math.max(0, ...bottom.map((p) => p.y + p.height));
  const hasLink = bottom.some((p) => p.node.chassisLink);
  const height = Math.max(rowY, deepest + (hasLink ? LINK_DROP + 16 : 0)) + MARGIN;

  const busLines = buses.map((network) => {
    const y = busY.get(network.name) ?? 0;
    const label = busLabel(network);
    const line = html`<line x1="${MARGIN}" y1="${y}" x2="${width - MARGIN}" y2="${y}"/>`;
    const text = html`<text x="${width - MARGIN}" y="${y - 5}">${label}</text>`;
    return html`<g class="net"><title>network ${label}</title>${line}${text}</g>`;
  });
  // A tap joins a box to its bus: from a service box's bottom, or a chassis's top per engine.
  const drops = placed.flatMap((p) => {
    const bus = busY.get(p.node.network);
    if (bus === undefined) return [];
    const from = p.node.kind === 'device' ? p.y : p.y + p.height;
    return taps(p).map(
      (x) => html`<line class="drop" x1="${x}" y1="${from}" x2="${x}" y2="${bus}"/>
<circle class="tap" cx="${x}" cy="${bus}" r="3"/>`,
    );
  });
  const subnet = (name: string) => view.networks.find((network) => network.name === name)?.ipv4;
  const plural = buses.length === 1 ? '' : 's';
  const label = `topology of lab ${view.name}: ${view.nodes.length} nodes on ${buses.length} network${plural}`;

  return html`<div class="topo"><svg role="img" aria-label="${label}" data-nodes="${view.nodes.length}"
 width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
${busLines}${drops}${top.map(serviceBox)}${bottom.map((p) => deviceBox(p, subnet))}
</svg></div>`;
}

/** Boxes side by side from the left margin, at height `y`. */
function row(
  nodes: LabViewNode[],
  y: number,
  widthOf: (node: LabViewNode) => number,
  height: number,
): Placed[] {
  let x = MARGIN;
  return nodes.map((node) => {
    const width = widthOf(node);
    const placed = { node, x, y, width, height };
    x += width + GAP;
    return placed;
  });
}

function busLabel(network: LabView['networks'][number]): string {
  return [network.name, network.ipv4, network.ipv6].filter(Boolean).join(' · ');
}

/** Where a box meets its bus: its middle, or for a device the middle of each engine. */
function taps(placed: Placed): number[] {
  if (placed.node.kind !== 'device') return [placed.x + placed.width / 2];
  return engineBoxes(placed).map((engine) => engine.x + RE_W / 2);
}

function engineBoxes(placed: Placed): Engine[] {
  const engines = placed.node.engines?.length ? placed.node.engines : [{ name: 're0' }];
  return engines.map((engine, index) => ({ ...engine, x: placed.x + PAD + index * (RE_W + PAD) }));
}

function tooltip(lines: (string | undefined)[]): string {
  return lines.filter(Boolean).join('\n');
}

/** A box's name, cut to `room`, starred when the node runs a user image. */
function nameText(node: LabViewNode, x: number, y: number, room: number): Markup {
  const star = node.image ? html`<tspan class="own"> *</tspan>` : '';
  return html`<text class="name" x="${x}" y="${y}">${clip(node.name, room)}${star}</text>`;
}

function serviceBox(placed: Placed): Markup {
  const { node, x, y, width, height } = placed;
  const kind = node.kind.replace(/-server$/, '');
  const lines = [node.detail, node.ipv4, node.ipv6].filter((line): line is string => !!line);
  const tip = tooltip([
    `${node.name} (${node.kind})`,
    node.detail,
    node.ipv4,
    node.ipv6,
    node.image ? `image ${node.image}` : undefined,
  ]);
  const text = lines.map(
    (line, index) =>
      html`<text class="${index === 0 ? 'detail' : 'addr'}" x="${x + 14}" y="${y + 33 + index * 13}">${clip(line, width - 24)}</text>`,
  );
  return html`<g class="box kind-${node.kind}" data-node="${node.name}"><title>${tip}</title>
<rect x="${x}" y="${y}" width="${width}" height="${height}" rx="6"/>
<rect class="stripe" x="${x}" y="${y}" width="5" height="${height}" rx="2"/>
${nameText(node, x + 14, y + 17, width - 32 - kind.length * CHAR)}
<text class="kind" x="${x + width - 8}" y="${y + 17}">${kind}</text>${text}</g>`;
}

function engineBox(node: LabViewNode, engine: Engine, y: number): Markup {
  const leases = [engine.ipv4, engine.ipv6].filter((a): a is string => !!a);
  const lines = leases.length ? leases : [`no lease on ${node.network}`];
  const tip = tooltip([
    `${node.name}/${engine.name}`,
    ...(leases.length ? leases.map((a) => `leased ${a}`) : ['no lease']),
    engine.chassisIpv4 ? `chassis link ${engine.chassisIpv4}` : undefined,
  ]);
  const text = lines.map(
    (line, index) =>
      html`<text class="addr" x="${engine.x + 8}" y="${y + 30 + index * 13}">${clip(line, RE_W - 16)}</text>`,
  );
  return html`<g class="engine" data-engine="${node.name}/${engine.name}"><title>${tip}</title>
<rect x="${engine.x}" y="${y}" width="${RE_W}" height="${RE_H}" rx="4"/>
<text class="name" x="${engine.x + 8}" y="${y + 16}">${engine.name}</text>${text}</g>`;
}

/** The chassis-internal link of a dual-RE device: under its engines, with both ends named. */
function chassisLink(
  placed: Placed,
  [first, second]: Engine[],
  subnet: (name: string) => string | undefined,
): Markup {
  const link = placed.node.chassisLink;
  if (!link || !first || !second) return html``;
  const top = placed.y + HEADER + RE_H;
  const below = placed.y + placed.height + LINK_DROP;
  const a = first.x + RE_W / 2;
  const b = second.x + RE_W / 2;
  const ends = [first.chassisIpv4, second.chassisIpv4].filter(Boolean).join(' ↔ ');
  const label = [link, ends || subnet(link)].filter(Boolean).join(' · ');
  return html`<g class="chassis-link"><title>chassis-internal link ${link} ${subnet(link) ?? ''}: ${ends}</title>
<path d="M${a} ${top} V${below} H${b} V${top}"/>
<text x="${(a + b) / 2}" y="${below + 13}">${clip(label, b - a + 140)}</text></g>`;
}

function deviceBox(placed: Placed, subnet: (name: string) => string | undefined): Markup {
  const { node, x, y, width, height } = placed;
  const engines = engineBoxes(placed);
  const tip = tooltip([
    `${node.name} (device)`,
    node.detail,
    node.image ? `image ${node.image}` : undefined,
  ]);
  return html`<g class="box kind-device" data-node="${node.name}"><title>${tip}</title>
<rect x="${x}" y="${y}" width="${width}" height="${height}" rx="6"/>
${nameText(node, x + 10, y + 16, width - 20)}
<text class="detail" x="${x + 10}" y="${y + 29}">${clip(node.detail ?? '', width - 20)}</text></g>
${engines.map((engine) => engineBox(node, engine, y + HEADER))}${chassisLink(placed, engines, subnet)}`;
}
