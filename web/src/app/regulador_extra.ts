// The regulator console's charts and graphs, drawn as plain SVG (no chart library):
//   - the indicators (GetIndicators) by department as bars: ore extracted, its fine gold and the
//     fine gold exported, and the refusals and red flags by code;
//   - a lot's backward lineage (GetLineage) as a graph: lots are nodes (by depth, the root on
//     the left), entries are the edges; a node (click or Enter) shows its entries and its share
//     of the root's fine gold, and reads the lineage again as of the entry that made that lot;
//   - a record's history (GetRecord, stepping back with AsOf before each version's entry).
// Every read may be "as of" an entry (the AsOf field of the requests): one field on the page.
import { type JsonObject, toJson } from "@bufbuild/protobuf";

import { ledger } from "../api/client.js";
import type { Lineage, LineageNode } from "../gen/veta/v1/custody_pb.js";
import { LotKind, LotSource } from "../gen/veta/v1/registry_pb.js";
import { type AsOf, type RecordVersion, RecordVersionSchema } from "../gen/veta/v1/service_pb.js";
import { explain, loadExplanations } from "./explain.js";
import { grams, integer, percent, t } from "./i18n.js";
import { claim } from "./latest.js";
import { departmentName } from "./map.js";

const SVG = "http://www.w3.org/2000/svg";

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}
function svg(tag: string, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  e.append(...children);
  return e;
}

// The "as of" of a read: after entry N, or now.
export const asOf = (n: bigint | null): AsOf | undefined =>
  (n === null ? undefined : ({ point: { case: "sequence", value: n } } as AsOf));

// Horizontal bars: one row per label, one bar per series (of one unit), scaled to the largest
// value (the values are shown as text beside them).
interface Series { name: string; cls: string; values: bigint[]; text: (v: bigint) => string }
function bars(id: string, title: string, labels: string[], keys: string[], series: Series[]): SVGSVGElement {
  const row = 16 * series.length + 10;
  // Room for the longest label (about 6.5 px a character at 11 px), at most 300 px.
  const labelW = Math.min(300, Math.max(90, ...labels.map((l) => l.length * 6.5 + 12)));
  const barW = 300, textW = 130, width = labelW + barW + textW;
  const height = row * labels.length + 24;
  const chart = svg("svg", { id, class: "grafico", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title }) as SVGSVGElement;
  chart.append(svg("title", {}, title));
  // Legend.
  series.forEach((s, i) => {
    chart.append(svg("rect", { x: labelW + i * 150, y: 2, width: 10, height: 10, class: s.cls }),
      svg("text", { x: labelW + i * 150 + 14, y: 11, class: "leyenda" }, s.name));
  });
  // One scale for all the series (they are in the same unit), so that bars compare across them.
  const top = series.flatMap((s) => s.values).reduce((a, b) => (b > a ? b : a), 0n);
  const max = series.map(() => top);
  labels.forEach((label, r) => {
    const y0 = 24 + r * row;
    const g = svg("g", { class: "fila-grafico", "data-clave": keys[r] });
    const shown = label.length > 44 ? `${label.slice(0, 43)}…` : label;
    g.append(svg("text", { x: labelW - 6, y: y0 + 8 * series.length + 4, "text-anchor": "end", class: "etiqueta" }, shown, svg("title", {}, label)));
    series.forEach((s, i) => {
      const v = s.values[r];
      const w = max[i] > 0n ? Number((v * 1000n) / max[i]) / 1000 * barW : 0;
      const bar = svg("rect", { x: labelW, y: y0 + i * 16, width: Math.max(w, v > 0n ? 1 : 0).toFixed(1), height: 13, class: `barra ${s.cls}`, "data-valor": v.toString() });
      bar.append(svg("title", {}, `${label}: ${s.name} ${s.text(v)}`));
      g.append(bar, svg("text", { x: labelW + Math.max(w, 0) + 4, y: y0 + i * 16 + 11, class: "valor" }, s.text(v)));
    });
    chart.append(g);
  });
  return chart;
}

export async function indicators(box: HTMLElement, n: bigint | null, denied: (what: [string, string], e: unknown) => HTMLElement): Promise<void> {
  const current = claim(box);
  box.replaceChildren(el("p", {}, t("Cargando…", "Loading…")));
  try {
    const ind = await ledger().getIndicators({ asOf: asOf(n) });
    await loadExplanations();
    if (!current()) return;
    const deps = [...ind.departments].sort((a, b) => (b.extractedFineMg > a.extractedFineMg ? 1 : b.extractedFineMg < a.extractedFineMg ? -1 : 0));
    const summary = el("p", { id: "resumen-indicadores" }, t(
      `Hasta la entrada ${integer(ind.asOf)}: ${integer(ind.lots)} lotes, ${integer(ind.exports)} ${ind.exports === 1n ? "exportación" : "exportaciones"} con ${grams(ind.exportedFineMg)} de oro fino, de los que ${percent(ind.exportedFineMgTraced, ind.exportedFineMg)} tienen trazabilidad completa; ${integer(ind.corrections)} correcciones.`,
      `Up to entry ${integer(ind.asOf)}: ${integer(ind.lots)} lots, ${integer(ind.exports)} ${ind.exports === 1n ? "export" : "exports"} holding ${grams(ind.exportedFineMg)} of fine gold, ${percent(ind.exportedFineMgTraced, ind.exportedFineMg)} of it fully traced; ${integer(ind.corrections)} corrections.`));
    const byDept = bars("grafico-departamentos", t("Oro por departamento", "Gold by department"),
      deps.map((d) => departmentName(d.department)), deps.map((d) => d.department), [
        { name: t("oro fino extraído", "fine gold extracted"), cls: "serie-extraido", values: deps.map((d) => d.extractedFineMg), text: grams },
        { name: t("oro fino exportado", "fine gold exported"), cls: "serie-exportado", values: deps.map((d) => d.exportedFineMg), text: grams },
      ]);
    const codes = (list: typeof ind.refusals, id: string, title: string, cls: string) => bars(id, title,
      list.map((c) => explain(c.code).title || c.code), list.map((c) => c.code),
      [{ name: title, cls, values: list.map((c) => c.count), text: integer }]);
    const table = el("table", { id: "tabla-departamentos" },
      el("caption", {}, t("Los mismos datos, en tabla", "The same figures, as a table")),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("Departamento", "Department")),
        el("th", { scope: "col" }, t("Mineral extraído", "Ore extracted")), el("th", { scope: "col" }, t("Oro fino extraído", "Fine gold extracted")),
        el("th", { scope: "col" }, t("Oro fino exportado", "Fine gold exported")))),
      el("tbody", {}, ...deps.map((d) => el("tr", {}, el("th", { scope: "row" }, departmentName(d.department)),
        el("td", { class: "num" }, `${integer(d.extractedOreG / 1000n)} kg`), el("td", { class: "num" }, grams(d.extractedFineMg)),
        el("td", { class: "num" }, grams(d.exportedFineMg))))));
    box.replaceChildren(summary, byDept, el("details", {}, el("summary", {}, t("Ver como tabla", "Show as a table")), table),
      el("h3", {}, t("Rechazos por motivo", "Refusals by reason")), codes(ind.refusals, "grafico-rechazos", t("rechazos", "refusals"), "serie-rechazos"),
      el("h3", {}, t("Alertas por tipo", "Red flags by kind")), codes(ind.flags, "grafico-alertas", t("alertas", "red flags"), "serie-alertas"));
    box.dataset.asOf = ind.asOf.toString();
  } catch (e) {
    if (current()) box.replaceChildren(denied(["los indicadores", "the indicators"], e));
  }
}

const kKinds: Record<number, [string, string]> = { [LotKind.ORE]: ["mineral", "ore"], [LotKind.GOLD]: ["oro", "gold"] };
const kSources: Record<number, [string, string]> = {
  [LotSource.EXTRACTED]: ["extraído", "extracted"], [LotSource.BOUGHT]: ["comprado", "bought"], [LotSource.PROCESSED]: ["procesado", "processed"],
};
const quantity = (n: LineageNode) => (n.kind === LotKind.GOLD ? grams(n.goldMg) : `${grams(n.oreG).replace(/ g$/, "")} kg`);

// The lineage as a graph: columns by depth, edges from a lot to the lots it was made from.
export function lineageGraph(l: Lineage, onAsOf: (lot: string, n: bigint) => void): HTMLElement {
  const colW = 290, rowH = 58, nodeW = 236, nodeH = 40;
  const byDepth = new Map<number, LineageNode[]>();
  for (const n of l.nodes) byDepth.set(n.depth, [...(byDepth.get(n.depth) ?? []), n]);
  const rows = Math.max(1, ...[...byDepth.values()].map((v) => v.length));
  const width = colW * byDepth.size + 20, height = rowH * rows + 20;
  const pos = new Map<string, { x: number; y: number }>();
  for (const [d, nodes] of byDepth) nodes.forEach((n, i) => pos.set(n.lotId, { x: 10 + d * colW, y: 10 + i * rowH }));
  const graph = svg("svg", { id: "grafo-linaje", class: "grafo", viewBox: `0 0 ${width} ${height}`, width, height, role: "group",
    "aria-label": t(`Grafo del linaje del lote ${l.nodes[0]?.lotId ?? ""}`, `Lineage graph of lot ${l.nodes[0]?.lotId ?? ""}`) });
  const detail = el("div", { id: "detalle-lote", "aria-live": "polite" });
  for (const n of l.nodes) {
    const a = pos.get(n.lotId)!;
    for (const e of n.edges) {
      const b = pos.get(e.lotId);
      if (!b) continue;
      const line = svg("line", { x1: a.x + nodeW, y1: a.y + nodeH / 2, x2: b.x, y2: b.y + nodeH / 2, class: "arista", "data-entrada": e.sequence.toString() });
      line.append(svg("title", {}, t(`entrada ${e.sequence}`, `entry ${e.sequence}`)));
      graph.append(line, svg("text", { x: (a.x + nodeW + b.x) / 2, y: b.y + nodeH / 2 - 4, class: "etiqueta-arista", "text-anchor": "middle" }, `#${e.sequence}`));
    }
  }
  const show = (n: LineageNode, g: SVGElement) => {
    graph.querySelectorAll(".nodo.elegido").forEach((x) => x.classList.remove("elegido"));
    g.classList.add("elegido");
    const dl = el("dl", { class: "datos" });
    const row = (k: string, v: string) => dl.append(el("dt", {}, k), el("dd", {}, v));
    row(t("Lote", "Lot"), n.lotId);
    row(t("Titular", "Holder"), n.holderId);
    row(t("Tipo", "Kind"), `${t(...kKinds[n.kind])}, ${t(...kSources[n.source])}`);
    row(t("Cantidad", "Quantity"), quantity(n));
    row(t("Oro fino", "Fine gold"), grams(n.fineMg));
    row(t("Parte del oro del lote raíz", "Share of the root lot's gold"), `${grams(n.rootFineMg)} (${percent(n.rootFineMg, l.fineMg)})`);
    if (n.unitCode) row(t("Unidad", "Unit"), `${n.unitCode}${n.department ? ` (${departmentName(n.department)})` : ""}`);
    row(t("Creado en la entrada", "Created at entry"), n.sequence.toString());
    if (n.exportedAt !== 0n) row(t("Exportado en la entrada", "Exported at entry"), `${n.exportedAt} (${n.exportDestination})`);
    if (n.voidedAt !== 0n) row(t("Anulado en la entrada", "Voided at entry"), n.voidedAt.toString());
    const entries = el("ul", { id: "entradas-lote" }, ...n.edges.map((e) => el("li", {}, t(
      `entrada ${e.sequence}: ${e.goldMg > 0n ? grams(e.goldMg) : `${grams(e.oreG).replace(/ g$/, "")} kg`} del lote ${e.lotId}`,
      `entry ${e.sequence}: ${e.goldMg > 0n ? grams(e.goldMg) : `${grams(e.oreG).replace(/ g$/, "")} kg`} from lot ${e.lotId}`))));
    const back = el("button", { type: "button", id: "ver-a-la-entrada" }, t(`Ver el linaje de ${n.lotId} tal como era tras la entrada ${n.sequence}, que lo creó`, `Show ${n.lotId}'s lineage as it was after entry ${n.sequence}, which made it`));
    back.addEventListener("click", () => onAsOf(n.lotId, n.sequence));
    detail.replaceChildren(el("h3", {}, t(`Lote ${n.lotId}`, `Lot ${n.lotId}`)), dl,
      el("h4", {}, t("Entradas de las que viene", "Entries it comes from")), n.edges.length ? entries : el("p", {}, t("Ninguna: extraído en la unidad.", "None: extracted at the unit.")), back);
  };
  for (const n of l.nodes) {
    const p = pos.get(n.lotId)!;
    const g = svg("g", { class: `nodo ${n.kind === LotKind.GOLD ? "nodo-oro" : "nodo-mineral"}`, tabindex: 0, role: "button", "data-lote": n.lotId,
      "aria-label": t(`Lote ${n.lotId}, ${quantity(n)}, de ${n.holderId}`, `Lot ${n.lotId}, ${quantity(n)}, of ${n.holderId}`) });
    g.append(svg("rect", { x: p.x, y: p.y, width: nodeW, height: nodeH, rx: 5 }),
      svg("text", { x: p.x + 6, y: p.y + 16, class: "nodo-id" }, n.lotId.length > 34 ? `…${n.lotId.slice(-33)}` : n.lotId),
      svg("text", { x: p.x + 6, y: p.y + 32, class: "nodo-dato" }, `${quantity(n)} · ${percent(n.rootFineMg, l.fineMg)}`));
    g.addEventListener("click", () => show(n, g));
    g.addEventListener("keydown", (ev) => {
      if ((ev as KeyboardEvent).key === "Enter" || (ev as KeyboardEvent).key === " ") {
        ev.preventDefault();
        show(n, g);
      }
    });
    graph.append(g);
  }
  return el("div", { class: "caja-grafo" }, el("p", { class: "nota" }, t(
    "Cada lote es un nodo (de izquierda a derecha: del lote a sus orígenes); cada flecha es una entrada del registro. Elija un lote (clic o Enter) para ver sus entradas y su parte del oro.",
    "Each lot is a node (left to right: from the lot to its origins); each arrow is an entry of the ledger. Choose a lot (click or Enter) to see its entries and its share of the gold.")),
  el("div", { class: "desplazable" }, graph), detail);
}

// A record's versions, newest first: each version's entry, then the one before it.
const kVersionsMax = 50;
export async function recordHistory(box: HTMLElement, kind: string, id: string, n: bigint | null): Promise<void> {
  const current = claim(box);
  box.replaceChildren(el("p", {}, t("Cargando…", "Loading…")));
  const versions: RecordVersion[] = [];
  let at = n;
  try {
    for (let i = 0; i < kVersionsMax; i++) {
      const v = await ledger().getRecord({ kind, id, asOf: asOf(at) });
      versions.push(v);
      if (v.sequence === 0n) break;
      at = v.sequence - 1n;
    }
  } catch (e) {
    if (!current()) return;
    if (versions.length === 0) {
      box.replaceChildren(el("p", { class: "error", role: "alert", id: "historial" }, t(
        `No hay registro ${kind} ${id}${n === null ? "" : ` a la entrada ${n}`}: ${String((e as { rawMessage?: string }).rawMessage ?? e)}`,
        `There is no ${kind} record ${id}${n === null ? "" : ` at entry ${n}`}: ${String((e as { rawMessage?: string }).rawMessage ?? e)}`)));
      return;
    }
    // No version before the oldest: the history is complete.
  }
  if (!current()) return;
  const fields = (v: RecordVersion): JsonObject => {
    const j = toJson(RecordVersionSchema, v) as JsonObject;
    const r = (j.record ?? {}) as JsonObject;
    const inner = Object.values(r)[0];
    return (inner && typeof inner === "object" && !Array.isArray(inner) ? inner : r) as JsonObject;
  };
  const body = el("tbody");
  versions.forEach((v, i) => {
    const now = fields(v);
    const before = i + 1 < versions.length ? fields(versions[i + 1]) : null;
    const changed = Object.keys({ ...now, ...(before ?? {}) }).filter((k) => before === null || JSON.stringify(now[k]) !== JSON.stringify(before[k]));
    const shown = changed.filter((k) => !/geometry/i.test(k)).map((k) => `${k}: ${JSON.stringify(now[k] ?? null)}`);
    body.append(el("tr", { "data-entrada": v.sequence.toString() }, el("td", { class: "num" }, v.sequence.toString()),
      el("td", {}, before === null ? t("alta", "created") : t("cambio", "change")),
      el("td", { class: "nota" }, shown.join("; ") || t("(sin cambios visibles)", "(no visible change)"))));
  });
  box.replaceChildren(el("table", { id: "historial" },
    el("caption", {}, t(`Historial de ${kind} ${id}: ${versions.length} versiones (la más reciente primero)`, `History of ${kind} ${id}: ${versions.length} versions (newest first)`)),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("Entrada", "Entry")), el("th", { scope: "col" }, t("Qué", "What")),
      el("th", { scope: "col" }, t("Campos (los que cambiaron)", "Fields (those that changed)")))), body));
}
