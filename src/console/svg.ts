// Server-rendered SVG: the report's bar plots (data from src/evidence/report-plots.ts) and a
// model's lineage as a left-to-right graph (datasets and base models -> operation -> model).
// Every text goes through hono/html escaping; each figure has a title and a text description.
import { html } from 'hono/html';
import type { PlotData } from '../evidence/index.js';
import type { LineageNode } from '../lineage/index.js';
import { short } from './layout.js';

export function barPlot(id: string, p: PlotData) {
  const W = 640, H = 260, L = 56, R = 16, T = 30, B = 48;
  const w = W - L - R, h = H - T - B;
  const max = Math.max(...p.values, 1e-300);
  const bw = w / p.values.length;
  const x = (v: number) => L + ((v - p.xMin) / (p.xMax - p.xMin)) * w;
  const mx = Math.min(L + w, Math.max(L, x(p.mark)));
  return html`<figure>
<svg id="${id}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="${id}-t ${id}-d">
<title id="${id}-t">${p.title}</title>
<desc id="${id}-d">Bars: what a model that was never marked scores by luck (${p.yLabel}). Red line: the suspect, ${p.markLabel}.</desc>
<rect x="${L}" y="${T}" width="${w}" height="${h}" fill="#f8fafc" stroke="#d0d7de"/>
${p.values.map((v, i) => html`<rect x="${(L + i * bw).toFixed(2)}" y="${(T + h - (v / max) * h).toFixed(2)}" width="${Math.max(0.5, bw - 0.5).toFixed(2)}" height="${((v / max) * h).toFixed(2)}" fill="#3b6ea8"/>`)}
<line x1="${mx.toFixed(2)}" x2="${mx.toFixed(2)}" y1="${T - 4}" y2="${T + h}" stroke="#b3261e" stroke-width="2.5"/>
<text x="${Math.min(mx + 4, W - 170).toFixed(2)}" y="${T - 8}" font-size="12" fill="#b3261e">${p.markLabel}</text>
<text x="${L}" y="${H - 28}" font-size="11" fill="#333">${p.xMin}</text>
<text x="${L + w}" y="${H - 28}" font-size="11" fill="#333" text-anchor="end">${p.xMax}</text>
<text x="${L + w / 2}" y="${H - 8}" font-size="12" fill="#333" text-anchor="middle">${p.xLabel}</text>
<text x="14" y="${T + h / 2}" font-size="12" fill="#333" text-anchor="middle" transform="rotate(-90 14 ${T + h / 2})">${p.yLabel}</text>
</svg>
<figcaption>${p.title}.</figcaption>
</figure>`;
}

interface Box { id: string; label: string; sub: string; kind: 'model' | 'dataset' | 'op'; col: number; row: number; href?: string }
interface Edge { from: string; to: string }

/** Flattens the lineage tree into columns: inputs left, the model right. */
function layout(root: LineageNode): { boxes: Box[]; edges: Edge[]; cols: number } {
  const boxes = new Map<string, Box>();
  const edges: Edge[] = [];
  const rows = new Map<number, number>();
  const place = (b: Omit<Box, 'row'>) => {
    if (boxes.has(b.id)) return;
    const row = rows.get(b.col) ?? 0;
    rows.set(b.col, row + 1);
    boxes.set(b.id, { ...b, row });
  };
  let depth = 0;
  const walk = (n: LineageNode, level: number) => {
    depth = Math.max(depth, level);
    place({ id: n.id, label: n.registered?.name ?? 'unregistered model', sub: short(n.id.replace('model:sha256:', ''), 12), kind: 'model', col: level, href: `/console/models/${n.id}` });
    if (n.cycle) return;
    for (const d of n.derivations) {
      const op = `op:${d.index}`;
      place({ id: op, label: d.operation, sub: `entry ${d.index}`, kind: 'op', col: level + 1 });
      edges.push({ from: op, to: n.id });
      for (const ds of d.datasets) {
        place({ id: ds.id, label: ds.registered?.name ?? 'unregistered dataset', sub: short(ds.id.replace('dataset:sha256:', ''), 12), kind: 'dataset', col: level + 2 });
        edges.push({ from: ds.id, to: op });
        depth = Math.max(depth, level + 2);
      }
      for (const b of d.baseModels) {
        edges.push({ from: b.id, to: op });
        walk(b, level + 2);
      }
      depth = Math.max(depth, level + 1);
    }
  };
  walk(root, 0);
  return { boxes: [...boxes.values()], edges, cols: depth + 1 };
}

const FILL = { model: '#e8f0fb', dataset: '#eef7ee', op: '#fff4e0' } as const;

export function lineageGraph(root: LineageNode) {
  const { boxes, edges, cols } = layout(root);
  const BW = 180, BH = 46, GX = 60, GY = 18;
  const maxRow = Math.max(...boxes.map((b) => b.row)) + 1;
  const W = cols * (BW + GX) + 20, H = maxRow * (BH + GY) + 20;
  // Inputs on the left: column 0 (the model itself) is drawn rightmost.
  const pos = (b: Box) => ({ x: 10 + (cols - 1 - b.col) * (BW + GX), y: 10 + b.row * (BH + GY) });
  const byId = new Map(boxes.map((b) => [b.id, b]));
  const desc = edges.map((e) => `${byId.get(e.from)!.label} → ${byId.get(e.to)!.label}`).join('; ');
  return html`<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="lineage-t lineage-d" id="lineage-graph">
<title id="lineage-t">Lineage of ${root.registered?.name ?? root.id}</title>
<desc id="lineage-d">${desc || 'No recorded derivation: the model was registered on its own.'}</desc>
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>
${edges.map((e) => {
    const a = pos(byId.get(e.from)!), b = pos(byId.get(e.to)!);
    return html`<line x1="${a.x + BW}" y1="${a.y + BH / 2}" x2="${b.x}" y2="${b.y + BH / 2}" stroke="#57606a" stroke-width="1.5" marker-end="url(#arrow)"/>`;
  })}
${boxes.map((b) => {
    const p = pos(b);
    const box = html`<rect x="${p.x}" y="${p.y}" width="${BW}" height="${BH}" rx="${b.kind === 'op' ? 20 : 4}" fill="${FILL[b.kind]}" stroke="#57606a"/>
<text x="${p.x + 8}" y="${p.y + 19}" font-size="13" font-weight="600" fill="#1b1f24">${short(b.label, 22)}</text>
<text x="${p.x + 8}" y="${p.y + 36}" font-size="11" fill="#4a5561">${b.kind}: ${b.sub}</text>`;
    return box;
  })}
</svg>
${boxes.some((b) => b.href && b.col > 0) ? html`<p>Models in this lineage: ${boxes.filter((b) => b.href && b.col > 0).map((b, i) => html`${i ? ', ' : ''}<a href="${b.href}">${b.label}</a>`)}.</p>` : ''}`;
}
