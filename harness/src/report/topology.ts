import { html, type Markup } from './escape.ts';
import type { LabView, LabViewNode } from './model.ts';

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

interface Placed {
  node: LabViewNode;
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The lab of one attempt as a network diagram in inline SVG: the service nodes in a row above,
 * each lab network as a bus with its subnets, the devices below. A dual-RE device is a chassis
 * holding both routing engines, joined under them by its chassis-internal link. Every box has
 * a tooltip with all it knows (kind, addresses, a user image); text that does not fit is cut.
 */
export function renderTopology(view: LabView): Markup {
  const chassisLinks = new Set(view.nodes.flatMap((n) => (n.chassisLink ? [n.chassisLink] : [])));
  const buses = view.networks.filter((network) => !chassisLinks.has(network.name));
  const services = view.nodes.filter((node) => node.kind !== 'device');
  const devices = view.nodes.filter((node) => node.kind === 'device');

  const top: Placed[] = [];
  let x = MARGIN;
  for (const node of services) {
    top.push({ node, x, y: MARGIN, width: BOX_W, height: BOX_H });
    x += BOX_W + GAP;
  }
  const busTop = MARGIN + (top.length ? BOX_H : 0) + BUS_GAP;
  const busY = new Map(buses.map((network, index) => [network.name, busTop + index * BUS_GAP]));
  const rowY = busTop + Math.max(0, buses.length - 1) * BUS_GAP + BUS_GAP;
  const bottom: Placed[] = [];
  x = MARGIN;
  for (const node of devices) {
    const engines = Math.max(1, node.engines?.length ?? 1);
    const width = engines * RE_W + (engines + 1) * PAD;
    const height = HEADER + RE_H + PAD;
    bottom.push({ node, x, y: rowY, width, height });
    x += width + GAP;
  }
  // Each bus's label sits at its right end, past the last box that taps it.
  const busLabel = (network: LabView['networks'][number]) =>
    [network.name, network.ipv4, network.ipv6].filter(Boolean).join(' · ');
  const lastTap = (name: string) =>
    Math.max(
      MARGIN,
      ...[...top, ...bottom]
        .filter((placed) => placed.node.network === name)
        .map((placed) => placed.x + placed.width / 2),
    );
  const right = Math.max(
    MARGIN + 360,
    ...[...top, ...bottom].map((placed) => placed.x + placed.width),
    ...buses.map((network) => lastTap(network.name) + 16 + busLabel(network).length * CHAR),
  );
  const width = right + MARGIN;
  const deepest = Math.max(0, ...bottom.map((placed) => placed.y + placed.height));
  const hasLink = bottom.some((placed) => placed.node.chassisLink);
  const height = Math.max(rowY, deepest + (hasLink ? LINK_DROP + 16 : 0)) + MARGIN;

  const busLines = buses.map((network) => {
    const y = busY.get(network.name) ?? 0;
    const label = busLabel(network);
    return html`<g class="net"><title>network ${label}</title><line x1="${MARGIN}" y1="${y}" x2="${width - MARGIN}" y2="${y}"/><text x="${width - MARGIN}" y="${y - 5}">${label}</text></g>`;
  });
  const drops = [
    ...top.map((placed) =>
      drop(placed.x + placed.width / 2, placed.y + placed.height, busY.get(placed.node.network)),
    ),
    ...bottom.flatMap((placed) =>
      engineBoxes(placed).map((box) =>
        drop(box.x + RE_W / 2, placed.y, busY.get(placed.node.network)),
      ),
    ),
  ];
  const subnet = (name: string) => view.networks.find((network) => network.name === name)?.ipv4;

  return html`<div class="topo"><svg role="img" aria-label="topology of lab ${view.name}: ${view.nodes.length} nodes on ${buses.length} network${buses.length === 1 ? '' : 's'}" data-nodes="${view.nodes.length}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
${busLines}${drops}${top.map(serviceBox)}${bottom.map((placed) => deviceBox(placed, subnet))}
</svg></div>`;
}

function drop(x: number, from: number, busY: number | undefined): Markup {
  if (busY === undefined) return html``;
  return html`<line class="drop" x1="${x}" y1="${from}" x2="${x}" y2="${busY}"/><circle class="tap" cx="${x}" cy="${busY}" r="3"/>`;
}

function serviceBox(placed: Placed): Markup {
  const { node, x, y, width, height } = placed;
  const lines = [node.detail, node.ipv4, node.ipv6].filter((line): line is string => !!line);
  const tip = [
    `${node.name} (${node.kind})`,
    node.detail,
    node.ipv4,
    node.ipv6,
    node.image ? `image ${node.image}` : undefined,
  ]
    .filter(Boolean)
    .join('\n');
  return html`<g class="box kind-${node.kind}" data-node="${node.name}"><title>${tip}</title><rect x="${x}" y="${y}" width="${width}" height="${height}" rx="6"/><rect class="stripe" x="${x}" y="${y}" width="5" height="${height}" rx="2"/>
<text class="name" x="${x + 14}" y="${y + 17}">${clip(node.name, width - 32 - shortKind(node.kind).length * CHAR)}${node.image ? html`<tspan class="own"> *</tspan>` : ''}</text><text class="kind" x="${x + width - 8}" y="${y + 17}">${shortKind(node.kind)}</text>
${lines.map((line, index) => html`<text class="${index === 0 ? 'detail' : 'addr'}" x="${x + 14}" y="${y + 33 + index * 13}">${clip(line, width - 24)}</text>`)}</g>`;
}

function engineBoxes(
  placed: Placed,
): { name: string; x: number; ipv4?: string; ipv6?: string; chassisIpv4?: string }[] {
  const engines = placed.node.engines?.length ? placed.node.engines : [{ name: 're0' }];
  return engines.map((engine, index) => ({
    ...engine,
    x: placed.x + PAD + index * (RE_W + PAD),
  }));
}

function deviceBox(placed: Placed, subnet: (name: string) => string | undefined): Markup {
  const { node, x, y, width, height } = placed;
  const boxes = engineBoxes(placed);
  const reY = y + HEADER;
  const engines = boxes.map((box) => {
    const leases = [box.ipv4, box.ipv6].filter((a): a is string => !!a);
    const lines = leases.length ? leases : [`no lease on ${node.network}`];
    const tip = [
      `${node.name}/${box.name}`,
      ...(leases.length ? leases.map((a) => `leased ${a}`) : ['no lease']),
      box.chassisIpv4 ? `chassis link ${box.chassisIpv4}` : undefined,
    ]
      .filter(Boolean)
      .join('\n');
    return html`<g class="engine" data-engine="${node.name}/${box.name}"><title>${tip}</title><rect x="${box.x}" y="${reY}" width="${RE_W}" height="${RE_H}" rx="4"/><text class="name" x="${box.x + 8}" y="${reY + 16}">${box.name}</text>${lines.map((line, index) => html`<text class="addr" x="${box.x + 8}" y="${reY + 30 + index * 13}">${clip(line, RE_W - 16)}</text>`)}</g>`;
  });
  let link = html``;
  const [first, second] = boxes;
  if (node.chassisLink && first && second) {
    const below = y + height + LINK_DROP;
    const a = first.x + RE_W / 2;
    const b = second.x + RE_W / 2;
    const ends = [first.chassisIpv4, second.chassisIpv4].filter(Boolean).join(' ↔ ');
    const label = [node.chassisLink, ends || subnet(node.chassisLink)].filter(Boolean).join(' · ');
    link = html`<g class="chassis-link"><title>chassis-internal link ${node.chassisLink} ${subnet(node.chassisLink) ?? ''}: ${ends}</title><path d="M${a} ${reY + RE_H} V${below} H${b} V${reY + RE_H}"/><text x="${(a + b) / 2}" y="${below + 13}">${clip(label, b - a + 140)}</text></g>`;
  }
  const tip = [`${node.name} (device)`, node.detail, node.image ? `image ${node.image}` : undefined]
    .filter(Boolean)
    .join('\n');
  return html`<g class="box kind-device" data-node="${node.name}"><title>${tip}</title><rect x="${x}" y="${y}" width="${width}" height="${height}" rx="6"/>
<text class="name" x="${x + 10}" y="${y + 16}">${clip(node.name, width - 20)}${node.image ? html`<tspan class="own"> *</tspan>` : ''}</text><text class="detail" x="${x + 10}" y="${y + 29}">${clip(node.detail ?? '', width - 20)}</text></g>${engines}${link}`;
}

function shortKind(kind: string): string {
  return kind.replace(/-server$/, '');
}

function clip(text: string, pixels: number): string {
  const fits = Math.max(4, Math.floor(pixels / CHAR));
  return text.length <= fits ? text : `${text.slice(0, fits - 1)}…`;
}
