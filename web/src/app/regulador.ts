// "Consola del regulador": the registry's mining units, prohibited zones and the mining scars
// detected by satellite on one map, filterable by department; the refused attempts with their
// codes explained; and the backward lineage of any lot (its lots, steps and origin shares).
// Reads over the Connect API; what a caller sees is the server's role matrix (a regulator sees
// everything, a party only its own).
import { Code } from "@connectrpc/connect";

import { ledger } from "../api/client.js";
import { Refusal, ZoneKind } from "../gen/veta/v1/registry_pb.js";
import { explain, loadExplanations } from "./explain.js";
import { grams, integer, percent, t } from "./i18n.js";
import { departmentName, departments, drawMap, type MapShape, type MapUnit } from "./map.js";
import { claim } from "./latest.js";
import { asOf, indicators, lineageGraph, recordHistory } from "./regulador_extra.js";

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

// A failed read in plain words: who may read it and how to sign in, then the server's message.
function readError(what: [string, string], e: unknown): HTMLElement {
  const code = (e as { code?: number }).code;
  const denied = code === Code.Unauthenticated || code === Code.PermissionDenied;
  return el("div", { class: "error", role: "alert" },
    el("p", {}, code === Code.PermissionDenied
      ? t(`Solo un regulador, o la parte a la que se refieren, puede leer ${what[0]}: su sesión no tiene ese permiso.`,
        `Only a regulator, or the party they concern, may read ${what[1]}: your session does not have that permission.`)
      : denied
      ? t(`Solo un regulador, o la parte a la que se refieren, puede leer ${what[0]}: inicie sesión con su clave en Firmar.`,
        `Only a regulator, or the party they concern, may read ${what[1]}: sign in with your key on Sign.`)
      : t(`No se pudo leer ${what[0]}.`, `Could not read ${what[1]}.`)),
    el("p", { class: "nota" }, String(e)));
}

const kPagesMax = 20; // pages of 1,000 records: the map shows at most 20,000 units

async function listAll(kind: string, department: string) {
  const api = ledger();
  const out = [];
  let after = "";
  for (let i = 0; i < kPagesMax; i++) {
    const page = await api.listRecords({ kind, department, afterId: after, limit: 1000 });
    out.push(...page.records);
    if (page.nextAfterId === "") break;
    after = page.nextAfterId;
  }
  return out;
}

const parse = (s: string): unknown => {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
};

async function drawConsoleMap(figure: HTMLElement, department: string): Promise<void> {
  // Choosing a department while the first map still loaded drew every department: the first
  // answer came last.
  const current = claim(figure);
  delete figure.dataset.departamento;
  figure.replaceChildren(el("p", {}, t("Cargando…", "Loading…")));
  const [units, zones, scars] = await Promise.all([
    listAll("unit", department),
    listAll("zone", ""),
    import("../gen/scars.json").then((m) => (m.default as { features: { properties: { minedHa: number }; geometry: unknown }[] }).features),
  ]);
  if (!current()) return;
  const mapUnits: MapUnit[] = [];
  for (const v of units) {
    const r = v.record?.record;
    if (r?.case !== "unit") continue;
    mapUnits.push({ code: r.value.concessionCode, label: `${r.value.concessionCode} ${r.value.name} (${departmentName(r.value.ubigeo.slice(0, 2))})`, share: 0, geometry: parse(r.value.geometryGeojson) });
  }
  const shapes: MapShape[] = [];
  for (const v of zones) {
    const r = v.record?.record;
    // Prohibitions only: districts and corridors are not, and scars come from the satellite data.
    const prohibited = [ZoneKind.PROHIBITED_INDIGENOUS_TERRITORY, ZoneKind.PROHIBITED_PROTECTED_AREA, ZoneKind.PROHIBITED_WATER_BODY];
    if (r?.case === "zone" && r.value.inForce && prohibited.includes(r.value.kind)) shapes.push({ cls: "zona", label: `${t("Zona prohibida", "Prohibited zone")}: ${r.value.name}`, geometry: parse(r.value.geometryGeojson) });
  }
  for (const s of scars) shapes.push({ cls: "cicatriz", label: `${t("Minería detectada por satélite", "Mining detected by satellite")} (2025 T4): ${s.properties.minedHa} ha`, geometry: s.geometry });
  const svg = drawMap(mapUnits, new Set(department ? [department] : []), t("Mapa de unidades, zonas prohibidas y minería detectada", "Map of units, prohibited zones and detected mining"), shapes);
  const zoneCount = shapes.filter((x) => x.cls === "zona").length;
  figure.dataset.departamento = department || "todos";
  figure.replaceChildren(svg, el("figcaption", { id: "leyenda" },
    t(`${integer(BigInt(mapUnits.length))} unidades mineras (rojo), ${integer(BigInt(zoneCount))} zonas prohibidas (verde), ${integer(BigInt(scars.length))} áreas de minería detectadas por satélite en 2025 T4 (negro; Amazon Mining Watch, licencia MIT).`,
      `${integer(BigInt(mapUnits.length))} mining units (red), ${integer(BigInt(zoneCount))} prohibited zones (green), ${integer(BigInt(scars.length))} areas of mining detected by satellite in 2025 Q4 (black; Amazon Mining Watch, MIT licence).`)));
}

async function attemptsTable(box: HTMLElement): Promise<void> {
  await loadExplanations();
  try {
    const page = await ledger().listAttempts({ limit: 50 });
    const table = el("table", { id: "intentos" }, el("caption", {}, t("Intentos rechazados (los más antiguos primero)", "Refused attempts (oldest first)")),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "N.º"), el("th", { scope: "col" }, t("Motivo", "Reason")),
        el("th", { scope: "col" }, t("Partes", "Parties")), el("th", { scope: "col" }, t("Unidad", "Unit")), el("th", { scope: "col" }, t("Detalle", "Detail")))));
    const body = el("tbody");
    for (const a of page.attempts) {
      const code = Refusal[a.refusal] ?? String(a.refusal);
      const why = explain(code);
      body.append(el("tr", { "data-code": code }, el("td", { class: "num" }, String(a.number)),
        el("td", {}, el("strong", {}, why.title || code), why.text ? el("br") : "", why.text ? why.text : ""),
        el("td", {}, a.parties.join(", ")), el("td", {}, a.unitCode), el("td", { class: "nota" }, a.message)));
    }
    table.append(body);
    box.replaceChildren(table);
  } catch (e) {
    box.replaceChildren(readError(["los intentos rechazados", "the refused attempts"], e));
  }
}

async function lineage(box: HTMLElement, lot: string, at: bigint | null = null, onAsOf: (lot: string, n: bigint) => void = () => {}): Promise<void> {
  const current = claim(box);
  try {
    const l = await ledger().getLineage({ root: { case: "lotId", value: lot }, asOf: asOf(at) });
    if (!current()) return;
    box.dataset.asOf = l.asOf.toString();
    const nodes = el("table", { id: "linaje" }, el("caption", {}, t(`Linaje del lote ${lot} (hacia atrás, hasta las unidades mineras)`, `Lineage of lot ${lot} (backward, to the mining units)`)),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("Nivel", "Depth")), el("th", { scope: "col" }, t("Lote", "Lot")),
        el("th", { scope: "col" }, t("Titular", "Holder")), el("th", { scope: "col" }, t("Entrada", "Entry")),
        el("th", { scope: "col" }, t("Oro fino", "Fine gold")), el("th", { scope: "col" }, t("Viene de", "Comes from")))));
    const body = el("tbody");
    for (const n of l.nodes) {
      body.append(el("tr", {}, el("td", { class: "num" }, String(n.depth)), el("td", {}, `${"· ".repeat(n.depth)}${n.lotId}`),
        el("td", {}, n.holderId), el("td", { class: "num" }, String(n.sequence)), el("td", { class: "num" }, grams(n.fineMg)),
        el("td", {}, n.edges.map((e) => `${e.lotId} (${t("entrada", "entry")} ${e.sequence})`).join(", ") || n.unitCode)));
    }
    nodes.append(body);
    const shares = el("ul", { id: "linaje-origen" });
    for (const u of l.units) shares.append(el("li", {}, `${u.unitCode} (${departmentName(u.department)}): ${grams(u.fineMg)}, ${percent(u.fineMg, l.fineMg)}`));
    const map = await originMap(lot, l.units, l.fineMg, at);
    if (!current()) return;
    box.replaceChildren(lineageGraph(l, onAsOf), nodes, el("h3", {}, t("Origen por unidad", "Origin by unit")), shares, map);
  } catch (e) {
    if (current()) box.replaceChildren(readError(["el linaje de este lote", "this lot's lineage"], e));
  }
}

// The lot's gold on the map: each unit of origin's polygon (its registry record as of the same
// entry) with a mark sized by its share of the fine gold, their departments shaded.
async function originMap(lot: string, units: { unitCode: string; department: string; fineMg: bigint }[], fineMg: bigint, at: bigint | null): Promise<HTMLElement> {
  const mapUnits: MapUnit[] = await Promise.all(units.map(async (u) => {
    const share = fineMg > 0n ? Number((u.fineMg * 1_000_000n) / fineMg) / 1_000_000 : 0;
    const label = `${u.unitCode} (${departmentName(u.department)}): ${grams(u.fineMg)}, ${percent(u.fineMg, fineMg)}`;
    try {
      const r = (await ledger().getRecord({ kind: "unit", id: u.unitCode, asOf: asOf(at) })).record?.record;
      return { code: u.unitCode, label, share, geometry: r?.case === "unit" ? parse(r.value.geometryGeojson) : null };
    } catch {
      return { code: u.unitCode, label, share, geometry: null };  // drawn as its department only
    }
  }));
  const title = t(`Origen del oro del lote ${lot} en el mapa`, `Where lot ${lot}'s gold comes from, on the map`);
  return el("figure", { class: "figura-mapa", id: "mapa-linaje" },
    drawMap(mapUnits, new Set(units.map((u) => u.department)), title),
    el("figcaption", {}, t(`${title}: ${units.length === 1 ? "la unidad minera" : `las ${units.length} unidades mineras`} de origen (el tamaño de la marca es su parte del oro fino) y sus departamentos.`,
      `${title}: the ${units.length === 1 ? "mining unit" : `${units.length} mining units`} of origin (a mark's size is its share of the fine gold) and their departments.`)));
}

export function renderRegulador(main: HTMLElement, params: URLSearchParams): void {
  main.replaceChildren(el("h1", {}, t("Consola del regulador", "Regulator console")));
  const select = el("select", { id: "departamento" }, el("option", { value: "" }, t("Todos los departamentos", "All departments")));
  for (const f of [...departments].sort((a, b) => a.properties.code.localeCompare(b.properties.code))) {
    select.append(el("option", { value: f.properties.code }, departmentName(f.properties.code)));
  }
  select.value = params.get("departamento") ?? "";
  const figure = el("figure", { class: "figura-mapa", id: "mapa-regulador" });
  const attempts = el("section", { id: "caja-intentos" });
  const lotInput = el("input", { id: "lote-linaje", type: "text", autocomplete: "off" });
  const lineageBox = el("section", { id: "caja-linaje", "aria-live": "polite" });
  const lineageForm = el("form", { class: "panel", id: "form-linaje" },
    el("label", { for: "lote-linaje" }, t("Lote", "Lot")), lotInput, el("button", { type: "submit" }, t("Ver linaje", "Show lineage")));
  // "As of" an entry: the indicators, lineage and record history read the registry as it was.
  const at = el("input", { id: "a-la-entrada", type: "text", inputmode: "numeric", autocomplete: "off", placeholder: t("ahora", "now") });
  const atValue = (): bigint | null => (/^[0-9]+$/.test(at.value.trim()) ? BigInt(at.value.trim()) : null);
  const indicatorsBox = el("section", { id: "caja-indicadores", "aria-live": "polite" });
  const kindSelect = el("select", { id: "tipo-registro" }, ...[["miner", "minero (REINFO)", "miner (REINFO)"], ["unit", "unidad minera", "mining unit"],
    ["party", "empresa (REPCO)", "company (REPCO)"], ["selector", "seleccionadora", "selector"], ["registrar", "registrador", "registrar"],
    ["zone", "zona", "zone"]].map(([v, es, en]) => el("option", { value: v }, t(es, en))));
  const recordId = el("input", { id: "id-registro", type: "text", autocomplete: "off" });
  const historyBox = el("section", { id: "caja-historial", "aria-live": "polite" });
  const historyForm = el("form", { class: "panel", id: "form-historial" },
    el("label", { for: "tipo-registro" }, t("Tipo de registro", "Record kind")), kindSelect,
    el("label", { for: "id-registro" }, t("RUC, DNI o código", "RUC, DNI or code")), recordId,
    el("button", { type: "submit" }, t("Ver historial", "Show history")));
  main.append(
    el("div", { class: "panel" }, el("label", { for: "departamento" }, t("Departamento", "Department")), select,
      el("label", { for: "a-la-entrada" }, t("Ver indicadores, linaje e historial tal como eran tras la entrada N.º (vacío: ahora)",
        "Show indicators, lineage and history as they were after entry No. (empty: now)")), at),
    figure,
    el("h2", {}, t("Indicadores por departamento", "Indicators by department")), indicatorsBox,
    el("h2", {}, t("Intentos rechazados", "Refused attempts")), attempts,
    el("h2", {}, t("Linaje de un lote", "Lineage of a lot")), lineageForm, lineageBox,
    el("h2", {}, t("Historial de un registro", "History of a record")), historyForm, historyBox,
  );
  const showLineage = () => void lineage(lineageBox, lotInput.value.trim(), atValue(), (l, n) => {
    lotInput.value = l;
    at.value = n.toString();
    refresh();
  });
  const refresh = () => {
    void indicators(indicatorsBox, atValue(), readError);
    if (lotInput.value.trim() !== "") showLineage();
    if (recordId.value.trim() !== "") void recordHistory(historyBox, kindSelect.value, recordId.value.trim(), atValue());
  };
  select.addEventListener("change", () => void drawConsoleMap(figure, select.value));
  at.addEventListener("change", refresh);
  lineageForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    showLineage();
  });
  historyForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void recordHistory(historyBox, kindSelect.value, recordId.value.trim(), atValue());
  });
  void drawConsoleMap(figure, select.value);
  void attemptsTable(attempts);
  void indicators(indicatorsBox, atValue(), readError);
  const lot = params.get("lote");
  if (lot) {
    lotInput.value = lot;
    showLineage();
  }
}
