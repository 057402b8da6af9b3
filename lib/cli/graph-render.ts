/** A workflow DAG as the renderers need it; nodes come in topological order. */
export interface GraphInput {
  name: string;
  nodes: { id: string; computeType: string; dependsOn: string[] }[];
}

export type GraphFormat = "mermaid" | "dot" | "svg";
export const GRAPH_FORMATS: GraphFormat[] = ["mermaid", "dot", "svg"];

export function renderGraph(graph: GraphInput, format: GraphFormat): string {
  if (format === "mermaid") return renderMermaid(graph);
  if (format === "dot") return renderDot(graph);
  return renderSvg(graph);
}

/** Mermaid node keys must be plain identifiers, so processors get `n<index>` and their id as the label. */
export function renderMermaid(graph: GraphInput): string {
  const key = new Map(graph.nodes.map((n, i) => [n.id, `n${i}`]));
  const label = (text: string) => text.replace(/"/g, "#quot;").replace(/[<>]/g, (c) => (c === "<" ? "#lt;" : "#gt;"));
  const lines = ["flowchart TD"];
  for (const n of graph.nodes) lines.push(`  ${key.get(n.id)}${n.computeType === "lambda" ? `(["${label(n.id)}"])` : `["${label(n.id)}"]`}`);
  for (const n of graph.nodes) for (const d of n.dependsOn) lines.push(`  ${key.get(d)} --> ${key.get(n.id)}`);
  return lines.join("\n") + "\n";
}

export function renderDot(graph: GraphInput): string {
  const q = (text: string) => `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
  const lines = [`digraph ${q(graph.name)} {`, "  rankdir=TB;", '  node [shape=box, fontname="Helvetica"];'];
  for (const n of graph.nodes) lines.push(`  ${q(n.id)}${n.computeType === "lambda" ? " [style=rounded]" : ""};`);
  for (const n of graph.nodes) for (const d of n.dependsOn) lines.push(`  ${q(d)} -> ${q(n.id)};`);
  lines.push("}");
  return lines.join("\n") + "\n";
}

/** Topological level of each node: 0 for sources, else one more than its deepest dependency. */
export function levelsOf(graph: GraphInput): Map<string, number> {
  const level = new Map<string, number>();
  for (const n of graph.nodes) level.set(n.id, n.dependsOn.reduce((max, d) => Math.max(max, (level.get(d) ?? 0) + 1), 0));
  return level;
}

const BOX_H = 32;
const ROW_GAP = 56;
const COL_GAP = 24;
const CHAR_W = 7.2;
const MAX_LABEL = 28;

/**
 * A layered drawing with no layout engine: one row per topological level, nodes ordered by their
 * dependencies' positions, edges as straight arrows. Enough to see the shape of a workflow; not Graphviz.
 */
export function renderSvg(graph: GraphInput): string {
  const level = levelsOf(graph);
  const rows: GraphInput["nodes"][] = [];
  for (const n of graph.nodes) (rows[level.get(n.id)!] ??= []).push(n);
  // One barycentre pass: each node sits near the mean position of its dependencies, which removes most crossings.
  const order = new Map<string, number>();
  rows.forEach((row, r) => {
    if (r > 0) {
      const centre = (n: GraphInput["nodes"][number]) => n.dependsOn.reduce((sum, d) => sum + order.get(d)!, 0) / Math.max(1, n.dependsOn.length);
      row.sort((a, b) => centre(a) - centre(b));
    }
    row.forEach((n, i) => order.set(n.id, row.length > 1 ? i / (row.length - 1) : 0.5));
  });
  const shown = (id: string) => (id.length > MAX_LABEL ? `${id.slice(0, MAX_LABEL - 1)}…` : id);
  const width = (id: string) => Math.max(60, Math.ceil(shown(id).length * CHAR_W) + 20);
  const rowWidths = rows.map((row) => row.reduce((sum, n) => sum + width(n.id), 0) + COL_GAP * (row.length - 1));
  const totalW = Math.max(200, ...rowWidths) + 40;
  const pos = new Map<string, { x: number; y: number; w: number }>();
  rows.forEach((row, r) => {
    let x = (totalW - rowWidths[r]) / 2;
    for (const n of row) {
      pos.set(n.id, { x, y: 40 + r * (BOX_H + ROW_GAP), w: width(n.id) });
      x += width(n.id) + COL_GAP;
    }
  });
  const totalH = 40 + rows.length * (BOX_H + ROW_GAP) - ROW_GAP + 20;
  const esc = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.round(totalW)}" height="${Math.round(totalH)}" viewBox="0 0 ${Math.round(totalW)} ${Math.round(totalH)}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `  <title>${esc(graph.name)}</title>`,
    '  <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    `  <text x="12" y="22" font-size="14" font-weight="bold">${esc(graph.name)}</text>`,
  ];
  for (const n of graph.nodes) {
    const to = pos.get(n.id)!;
    for (const d of n.dependsOn) {
      const from = pos.get(d)!;
      out.push(`  <line x1="${r1(from.x + from.w / 2)}" y1="${r1(from.y + BOX_H)}" x2="${r1(to.x + to.w / 2)}" y2="${r1(to.y)}" stroke="#555" marker-end="url(#arrow)"/>`);
    }
  }
  for (const n of graph.nodes) {
    const p = pos.get(n.id)!;
    const fill = n.computeType === "lambda" ? "#fff4e0" : "#e8f0fe";
    out.push(
      `  <g><title>${esc(n.id)} (${esc(n.computeType)})</title><rect x="${r1(p.x)}" y="${r1(p.y)}" width="${p.w}" height="${BOX_H}" rx="${n.computeType === "lambda" ? 14 : 4}" fill="${fill}" stroke="#333"/>` +
        `<text x="${r1(p.x + p.w / 2)}" y="${r1(p.y + BOX_H / 2 + 4)}" text-anchor="middle">${esc(shown(n.id))}</text></g>`,
    );
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}

const r1 = (n: number) => Math.round(n * 10) / 10;
