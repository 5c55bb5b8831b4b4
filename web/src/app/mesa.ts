// "Mesa del comprador": look a seller up by RUC (or a selector by DNI) in the public registry,
// and fill in a purchase in the units people use (grams of gold, kilograms of ore, soles),
// turned into the protos' integers exactly (no floating point); the purchase then goes to
// "Firmar" to be checked, signed and submitted.
import { ledger } from "../api/client.js";
import { PartyKind, RegistryStatus } from "../gen/veta/v1/registry_pb.js";
import { integer, t } from "./i18n.js";
import { claim } from "./latest.js";
import { departmentName } from "./map.js";

export const kDraftKey = "veta.draft";

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

// "12.5" at scale 3 -> 12500n, exactly as units::ParseDecimal; null for anything else.
export function parseDecimal(text: string, scale: number): bigint | null {
  const m = /^([0-9]*)(?:\.([0-9]*))?$/.exec(text.trim().replace(",", "."));
  if (!m || (m[1] === "" && (m[2] ?? "") === "") || (m[2] !== undefined && m[2] === "")) return null;
  const frac = m[2] ?? "";
  if (frac.length > scale) return null;
  return BigInt((m[1] || "0") + frac.padEnd(scale, "0"));
}

const kStatus: Record<number, [string, string]> = {
  [RegistryStatus.VIGENTE]: ["VIGENTE (activo)", "VIGENTE (active)"],
  [RegistryStatus.SUSPENDIDO]: ["SUSPENDIDO", "SUSPENDED"],
  [RegistryStatus.EXCLUIDO]: ["EXCLUIDO", "EXCLUDED"],
};
const statusText = (s: RegistryStatus | undefined) => (s !== undefined && kStatus[s] ? t(...kStatus[s]) : t("sin estado", "no status"));
const kKinds: Record<number, [string, string]> = {
  [PartyKind.TRADER]: ["comercializador (REPCO)", "trader (REPCO)"],
  [PartyKind.PLANT]: ["planta de beneficio (REPCO)", "processing plant (REPCO)"],
  [PartyKind.EXPORTER]: ["exportador (REPCO)", "exporter (REPCO)"],
};

const kUnitPagesMax = 10; // the units of the registry read to find a miner's (1,000 a page)

// The mining units a miner holds or may work, with their status and capacity.
async function unitsOf(ruc: string): Promise<HTMLElement> {
  const api = ledger();
  const rows: HTMLElement[] = [];
  let after = "";
  for (let i = 0; i < kUnitPagesMax; i++) {
    const page = await api.listRecords({ kind: "unit", afterId: after, limit: 1000 });
    for (const v of page.records) {
      const r = v.record?.record;
      if (r?.case !== "unit" || (r.value.holderRuc !== ruc && !r.value.allowedMiners.includes(ruc))) continue;
      const u = r.value;
      rows.push(el("tr", {}, el("td", {}, u.concessionCode), el("td", {}, u.name), el("td", {}, departmentName(u.ubigeo.slice(0, 2))),
        el("td", {}, statusText(u.status?.status)),
        el("td", { class: "num" }, `${integer(u.capacityOreGPerDay / 1000n)} kg`)));
    }
    if (page.nextAfterId === "") break;
    after = page.nextAfterId;
  }
  if (rows.length === 0) return el("p", { class: "aviso" }, t("No tiene unidades mineras registradas.", "No registered mining units."));
  return el("table", { id: "unidades-vendedor" },
    el("caption", {}, t("Unidades mineras que puede trabajar", "Mining units it may work")),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("Código", "Code")), el("th", { scope: "col" }, t("Nombre", "Name")),
      el("th", { scope: "col" }, t("Departamento", "Department")), el("th", { scope: "col" }, t("Estado", "Status")),
      el("th", { scope: "col" }, t("Capacidad de mineral al día", "Ore capacity a day")))),
    el("tbody", {}, ...rows));
}

// What the seller may still extract or process today (GetDailyCapacity: the rules' own daily
// counters), for a signed-in party, registrar or regulator.
async function capacityToday(id: string): Promise<HTMLElement> {
  const kg = (g: bigint) => `${integer(g / 1000n)} kg`;
  try {
    const c = await ledger().getDailyCapacity({ id });
    const rows: HTMLElement[] = [];
    const row = (key: string, what: string, u: { capacityOreG: bigint; usedDeclaredOreG: bigint; usedSubmittedOreG: bigint; leftOreG: bigint } | undefined, note = "") => {
      if (!u) return;
      const used = u.usedDeclaredOreG > u.usedSubmittedOreG ? u.usedDeclaredOreG : u.usedSubmittedOreG;
      rows.push(el("tr", { "data-clave": key, "data-queda": u.leftOreG.toString() }, el("th", { scope: "row" }, what),
        el("td", { class: "num" }, kg(u.capacityOreG)), el("td", { class: "num" }, kg(used)),
        el("td", { class: "num" }, el("strong", {}, kg(u.leftOreG))), el("td", {}, note)));
    };
    for (const u of c.units) {
      row(u.concessionCode, `${u.concessionCode} ${u.name}`, u.use, u.accepting ? "" : t("no acepta extracciones", "accepts no extractions"));
    }
    row("planta", t("procesamiento de la planta", "the plant's processing"), c.processing);
    row("seleccionadora", t("límite de la seleccionadora", "the selector's limit"), c.selector);
    if (rows.length === 0) return el("p", { id: "capacidad-hoy" }, t("Sin capacidad diaria registrada.", "No daily capacity registered."));
    const day = `${c.today.slice(6, 8)}/${c.today.slice(4, 6)}/${c.today.slice(0, 4)}`;
    return el("table", { id: "capacidad-hoy", "data-activo": String(c.active) },
      el("caption", {}, t(`Capacidad que le queda hoy (${day}), según los contadores del registro`, `Capacity left today (${day}), by the registry's counters`)),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("Unidad o actividad", "Unit or activity")), el("th", { scope: "col" }, t("Al día", "A day")),
        el("th", { scope: "col" }, t("Ya declarado", "Declared already")), el("th", { scope: "col" }, t("Queda hoy", "Left today")), el("th", { scope: "col" }, t("Nota", "Note")))),
      el("tbody", {}, ...rows));
  } catch (e) {
    const code = (e as { code?: number }).code;
    return el("p", { class: "aviso", id: "capacidad-hoy" }, code === 16 || code === 7
      ? t("Inicie sesión en Firmar (como comprador registrado) para ver la capacidad que le queda hoy al vendedor.", "Sign in on Sign (as a registered buyer) to see the seller's capacity left today.")
      : t(`No se pudo leer la capacidad de hoy: ${String(e)}`, `Could not read today's capacity: ${String(e)}`));
  }
}

async function lookUp(id: string): Promise<HTMLElement> {
  const api = ledger();
  for (const kind of id.length === 8 ? ["selector"] : ["miner", "party"]) {
    try {
      const v = await api.getRecord({ kind, id });
      const r = v.record?.record;
      const dl = el("dl", { class: "datos", id: "ficha", "data-kind": kind, "data-id": id });
      const row = (k: string, value: string) => dl.append(el("dt", {}, k), el("dd", {}, value));
      if (r?.case === "miner") {
        row(t("Nombre", "Name"), r.value.name);
        row(t("Registro", "Registry"), t("minero en REINFO", "miner in REINFO"));
        row(t("Estado", "Status"), statusText(r.value.status?.status));
        if (r.value.status?.reason) row(t("Motivo", "Reason"), r.value.status.reason);
      } else if (r?.case === "party") {
        row(t("Nombre", "Name"), r.value.name);
        row(t("Registro", "Registry"), kKinds[r.value.kind] ? t(...kKinds[r.value.kind]) : String(r.value.kind));
        row(t("Estado", "Status"), statusText(r.value.status?.status));
        if (r.value.processingCapacityOreGPerDay > 0n) {
          row(t("Capacidad de planta", "Plant capacity"), `${integer(r.value.processingCapacityOreGPerDay / 1000n)} kg ${t("de mineral al día", "of ore a day")}`);
        }
      } else if (r?.case === "selector") {
        row(t("Nombre", "Name"), r.value.name);
        row(t("Registro", "Registry"), t("seleccionadora de mineral", "ore selector"));
        row(t("Estado", "Status"), statusText(r.value.status?.status));
        row(t("Unidades", "Units"), r.value.allowedUnits.join(", "));
      }
      row(t("Versión del registro", "Record version"), `${t("entrada", "entry")} ${v.sequence}`);
      if (r?.case === "miner") return el("div", {}, dl, await unitsOf(id), await capacityToday(id));
      if (r?.case === "selector" || (r?.case === "party" && r.value.kind === PartyKind.PLANT)) return el("div", {}, dl, await capacityToday(id));
      return dl;
    } catch {
      // not this kind: try the next
    }
  }
  return el("p", { class: "error", role: "alert", id: "ficha", "data-id": id }, t(
    `No hay registro de ${id} en REINFO ni en REPCO: no compre.`, `${id} is in neither REINFO nor REPCO: do not buy.`));
}

export function renderMesa(main: HTMLElement): void {
  main.replaceChildren(
    el("h1", {}, t("Mesa del comprador", "Buyer's desk")),
    el("p", { class: "lead" }, t(
      "Antes de comprar: consulte al vendedor en el registro, prepare la compra, compruébela y fírmela.",
      "Before buying: look the seller up in the registry, prepare the purchase, check it and sign it.")),
  );
  // Look-up.
  const lookup = el("form", { class: "panel", id: "form-buscar" });
  const ruc = el("input", { id: "ruc", type: "text", inputmode: "numeric", autocomplete: "off", pattern: "[0-9]{8}|[0-9]{11}" });
  const card = el("div", { id: "resultado-ruc", "aria-live": "polite" });
  lookup.append(el("h2", {}, t("Consultar al vendedor", "Look the seller up")),
    el("label", { for: "ruc" }, t("RUC (11 dígitos) o DNI (8)", "RUC (11 digits) or DNI (8)")), ruc,
    el("button", { type: "submit", id: "buscar" }, t("Consultar", "Look up")), card);
  lookup.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    // A slow answer for a RUC looked up before must not replace the card of the one asked now.
    const current = claim(card);
    const answer = await lookUp(ruc.value.trim());
    if (current()) card.replaceChildren(answer);
  });

  // Purchase.
  const form = el("form", { class: "panel", id: "form-compra" });
  const field = (id: string, es: string, en: string, attrs: Record<string, string> = {}) => {
    const input = el("input", { id, type: "text", autocomplete: "off", ...attrs });
    form.append(el("label", { for: id }, t(es, en)), input);
    return input;
  };
  form.append(el("h2", {}, t("Preparar una compra", "Prepare a purchase")));
  const lot = field("lote-vendedor", "Lote del vendedor", "Seller's lot");
  const seller = field("vendedor", "RUC o DNI del vendedor", "Seller's RUC or DNI", { inputmode: "numeric" });
  const buyer = field("comprador", "Su RUC (comprador)", "Your RUC (buyer)", { inputmode: "numeric" });
  const newLot = field("lote-nuevo", "Su lote nuevo", "Your new lot");
  const kind = el("select", { id: "unidad" },
    el("option", { value: "gold" }, t("oro (gramos)", "gold (grams)")),
    el("option", { value: "ore" }, t("mineral (kilogramos)", "ore (kilograms)")));
  form.append(el("label", { for: "unidad" }, t("Qué compra", "What you buy")), kind);
  const qty = field("cantidad", "Cantidad (g de oro o kg de mineral, hasta 3 decimales)", "Quantity (g of gold or kg of ore, up to 3 decimals)", { inputmode: "decimal" });
  const price = field("precio", "Precio total (S/, hasta 2 decimales)", "Total price (S/, up to 2 decimals)", { inputmode: "decimal" });
  const payment = el("select", { id: "pago" },
    el("option", { value: "BANK_TRANSFER" }, t("transferencia bancaria", "bank transfer")),
    el("option", { value: "CHECK" }, t("cheque", "cheque")),
    el("option", { value: "CASH" }, t("efectivo", "cash")));
  form.append(el("label", { for: "pago" }, t("Medio de pago", "Payment")), payment);
  const reference = field("referencia", "N.º de operación o de cheque", "Bank operation or cheque number");
  const error = el("p", { id: "error-compra", role: "alert" });
  form.append(el("button", { type: "submit", id: "preparar" }, t("Preparar y firmar", "Prepare and sign")), error);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const q = parseDecimal(qty.value, 3);
    const p = parseDecimal(price.value, 2);
    if (q === null || q === 0n) {
      error.textContent = t("Cantidad no válida: un número como 12.5, con hasta 3 decimales.", "Invalid quantity: a number such as 12.5, with up to 3 decimals.");
      return;
    }
    if (p === null) {
      error.textContent = t("Precio no válido: un número como 1500.50.", "Invalid price: a number such as 1500.50.");
      return;
    }
    const sale: Record<string, string> = {
      lotId: lot.value.trim(), sellerId: seller.value.trim(), buyerRuc: buyer.value.trim(),
      buyerLotId: newLot.value.trim(), priceCents: p.toString(), payment: payment.value,
      time: new Date().toISOString(), nonce: String(Math.floor(Math.random() * 2 ** 48)),
    };
    // g of gold -> mg; kg of ore -> g: both are the typed number at scale 3.
    if (kind.value === "gold") sale.quantityMg = q.toString();
    else sale.quantityOreG = q.toString();
    if (reference.value.trim() !== "") sale.paymentReference = reference.value.trim();
    sessionStorage.setItem(kDraftKey, JSON.stringify({ kind: "sale", payload: sale }));
    location.hash = "#/firmar?borrador=1";
  });
  main.append(lookup, form);
}
