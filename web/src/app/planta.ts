// "Mis lotes y planta": a signed-in party's desk. Every party (miner, trader, plant, exporter)
// sees the lots it holds (GetLineage forward from its own id: its lots, nothing downstream),
// its refused attempts, and downloads the certificates of its gold lots (with their QR code and
// verification link). A processing plant also declares a processing: inputs from the lots it
// holds, outputs of doré, with a live mass-balance preview in the rules' own integer arithmetic
// (core/rules/processing.cc, RuleMassBalance in core/rules/common.cc; what each input gives is
// core/verify/lots.h's TakeFrom), then checks it (Check), signs it here with the session's key
// and submits it.
import { fromJson, type JsonValue, toBinary, toJsonString } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { sha256 } from "@noble/hashes/sha2";

import { ledger } from "../api/client.js";
import { whoAmI } from "../api/session.js";
import { CertificateSchema } from "../gen/veta/v1/custody_pb.js";
import { EnvelopeSchema } from "../gen/veta/v1/envelope_pb.js";
import { type Lot, LotKind, Refusal } from "../gen/veta/v1/registry_pb.js";
import { payloadBytes, signEnvelope } from "../sign/envelope.js";
import type { SigningKey } from "../sign/keys.js";
import { keyNames, loadKey } from "../sign/store.js";
import { toHex, utf8 } from "../verify/bytes.js";
import { fineOfGold, mulDiv } from "../verify/lots.js";
import { explain, loadExplanations } from "./explain.js";
import { failure, refusalBox, roleName } from "./firmar.js";
import { grams, t } from "./i18n.js";
import { claim } from "./latest.js";
import { departmentName } from "./map.js";
import { parseDecimal } from "./mesa.js";
import { qrSvg } from "./qr.js";
import { certificateUrl, rememberCertificate } from "./verificar.js";

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

const kParties = ["miner", "selector", "trader", "plant", "exporter"];
const kLotsMax = 1000; // the lots listed (one page of the lineage)
const kCertificateTries = 20; // a second apart, while the lot is newer than the checkpoint
const kPpmWhole = 1000000n;
const kTolerancePpmDefault = 20000n; // core/rules/rules_internal.h: 2%

const isGold = (l: Lot) => l.kind === LotKind.GOLD;
const remaining = (l: Lot) => (isGold(l) ? l.remainingGoldMg : l.remainingOreG);
// Kilograms of ore (grams in the protos) with three decimals.
const kg = (g: bigint) => grams(g).replace(/ g$/, " kg");
const amount = (l: Lot, q: bigint) => (isGold(l) ? grams(q) : kg(q));
const movable = (l: Lot) => remaining(l) > 0n && l.exportedAt === 0n && l.voidedAt === 0n;

// The lots a party holds, as of now.
async function lotsOf(party: string): Promise<Lot[]> {
  const api = ledger();
  const l = await api.getLineage({ root: { case: "minerId", value: party }, forward: true, pageSize: kLotsMax });
  return Promise.all(l.nodes.map((n) => api.getLot({ lotId: n.lotId })));
}

// The certificate of a gold lot: saved as a file, with its QR code and verification link.
async function certificate(lot: string, box: HTMLElement): Promise<void> {
  // Another lot's button clicked meanwhile: that lot's certificate is the one to show (and no
  // more waiting for this one).
  const current = claim(box);
  box.replaceChildren(el("p", {}, t("Pidiendo el certificado…", "Asking for the certificate…")));
  try {
    // A lot newer than the latest signed checkpoint waits for the next one (UNAVAILABLE).
    const ask = async () => {
      for (let i = 0; ; i++) {
        try {
          return await ledger().getCertificate({ lotId: lot });
        } catch (e) {
          if ((e as { code?: number }).code !== Code.Unavailable || i >= kCertificateTries || !current()) throw e;
          box.replaceChildren(el("p", {}, t("Esperando el próximo checkpoint firmado…", "Waiting for the next signed checkpoint…")));
          await new Promise((ok) => setTimeout(ok, 1000));
        }
      }
    };
    const cert = await ask();
    if (!current()) return;
    const json = toJsonString(CertificateSchema, cert);
    rememberCertificate(json);
    const url = certificateUrl(lot, toHex(sha256(utf8(cert.note))));
    const file = el("a", { class: "descarga-certificado", download: `certificado-${lot}.json`,
      href: URL.createObjectURL(new Blob([json + "\n"], { type: "application/json" })) },
    t(`Guardar el certificado del lote ${lot} (JSON)`, `Save lot ${lot}'s certificate (JSON)`));
    const link = el("a", { class: "enlace-verificar", href: url }, url);
    box.replaceChildren(el("figure", { class: "qr", "data-lote": lot },
      qrSvg(url, t(`Código QR del certificado del lote ${lot}`, `QR code of lot ${lot}'s certificate`)),
      el("figcaption", {}, file, el("br"), t("Verificarlo (enlace del código QR): ", "Verify it (the QR code's link): "), link)));
  } catch (e) {
    const f = failure(e);
    await loadExplanations();
    if (!current()) return;
    // The first code in the message that the explanations know (a red flag, a refusal).
    const known = [...f.message.matchAll(/\b([A-Z][A-Z_]{3,})\b/g)].map((m) => explain(m[1])).find((x) => x.text !== "");
    const why = known ?? { title: "", text: "" };
    box.replaceChildren(el("div", { class: "error", role: "alert", "data-lote": lot },
      el("strong", {}, t(`Sin certificado para el lote ${lot}`, `No certificate for lot ${lot}`)),
      ...(why.text ? [el("p", {}, `${why.title}: ${why.text}`)] : []),
      el("p", { class: "nota" }, f.message)));
  }
}

function lotsTable(lots: Lot[], certBox: HTMLElement): HTMLElement {
  if (lots.length === 0) return el("p", { class: "aviso", id: "mis-lotes" }, t("No tiene lotes.", "You hold no lots."));
  const body = el("tbody");
  for (const l of lots) {
    const grade = isGold(l)
      ? `${t("ley", "fineness")} ${new Intl.NumberFormat(t("es-PE", "en-US"), { maximumFractionDigits: 3 }).format(Number(l.finenessPpb) / 1e6)} ‰`
      : `${new Intl.NumberFormat(t("es-PE", "en-US"), { maximumFractionDigits: 3 }).format(Number(l.gradePpb) / 1000)} g/t`;
    const state = l.exportedAt !== 0n ? t(`exportado (${l.exportDestination})`, `exported (${l.exportDestination})`)
      : l.voidedAt !== 0n ? t("anulado", "voided") : remaining(l) === 0n ? t("agotado", "used up") : t("disponible", "available");
    const actions = el("td");
    if (isGold(l)) {
      const b = el("button", { type: "button", class: "pedir-certificado", "data-lote": l.lotId }, t("Certificado", "Certificate"));
      b.addEventListener("click", () => void certificate(l.lotId, certBox));
      actions.append(b);
    }
    body.append(el("tr", { "data-lote": l.lotId, "data-tipo": isGold(l) ? "oro" : "mineral" },
      el("th", { scope: "row" }, l.lotId),
      el("td", {}, isGold(l) ? t("oro (doré)", "gold (doré)") : t("mineral", "ore")),
      el("td", { class: "num" }, amount(l, remaining(l))),
      el("td", { class: "num" }, grade),
      el("td", { class: "num" }, grams(l.remainingFineMg)),
      el("td", {}, l.department ? `${l.unitCode} (${departmentName(l.department)})` : l.unitCode),
      el("td", {}, state),
      el("td", { class: "num" }, String(l.createdAt)),
      actions));
  }
  const th = (es: string, en: string) => el("th", { scope: "col" }, t(es, en));
  return el("table", { id: "mis-lotes" },
    el("caption", {}, t("Los lotes que tiene", "The lots you hold")),
    el("thead", {}, el("tr", {}, th("Lote", "Lot"), th("Tipo", "Kind"), th("Queda", "Left"), th("Ley", "Grade"),
      th("Oro fino que queda", "Fine gold left"), th("Origen principal", "Main origin"), th("Estado", "State"),
      th("Entrada", "Entry"), th("Certificado", "Certificate"))),
    body);
}

async function attemptsOf(party: string): Promise<HTMLElement> {
  await loadExplanations();
  const page = await ledger().listAttempts({ party, limit: 100 });
  if (page.attempts.length === 0) return el("p", { id: "mis-intentos" }, t("Ningún intento rechazado.", "No refused attempts."));
  const body = el("tbody");
  for (const a of page.attempts) {
    const code = Refusal[a.refusal] ?? String(a.refusal);
    const why = explain(code);
    body.append(el("tr", { "data-code": code }, el("td", { class: "num" }, String(a.number)),
      el("td", {}, el("strong", {}, why.title || code), why.text ? el("br") : "", why.text), el("td", { class: "nota" }, a.message)));
  }
  return el("table", { id: "mis-intentos" }, el("caption", {}, t("Sus intentos rechazados", "Your refused attempts")),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "N.º"), el("th", { scope: "col" }, t("Motivo", "Reason")),
      el("th", { scope: "col" }, t("Detalle", "Detail")))), body);
}

// The rules' parameters the preview needs: recovery's maximum and the assay tolerance.
async function massBalanceParameters(): Promise<{ recoveryMaxPpm: bigint; tolerancePpm: bigint } | null> {
  try {
    const v = await ledger().getRecord({ kind: "parameters", id: "" });
    const r = v.record?.record;
    if (r?.case !== "parameters" || !r.value.recoveryPpm) return null;
    const tol = r.value.massBalanceTolerancePpm > 0n ? r.value.massBalanceTolerancePpm : kTolerancePpmDefault;
    return { recoveryMaxPpm: r.value.recoveryPpm.max, tolerancePpm: tol };
  } catch {
    return null;
  }
}

interface Row { lot: HTMLSelectElement | HTMLInputElement; qty: HTMLInputElement; fineness?: HTMLInputElement }

// The processing form of a plant, with the live mass balance.
function processingForm(plant: string, keyid: string, lots: Lot[], params: Awaited<ReturnType<typeof massBalanceParameters>>,
  done: () => void): HTMLElement {
  const form = el("form", { class: "panel", id: "form-procesamiento" });
  const usable = lots.filter(movable);
  const inputs: Row[] = [];
  const outputs: Row[] = [];
  const inBox = el("fieldset", { id: "entradas" }, el("legend", {}, t("Entra (lotes que tiene)", "In (lots you hold)")));
  const outBox = el("fieldset", { id: "salidas" }, el("legend", {}, t("Sale (lotes de doré nuevos)", "Out (new doré lots)")));
  const preview = el("div", { id: "balance", "aria-live": "polite" });
  const status = el("div", { id: "estado-procesamiento", "aria-live": "polite" });
  const addInput = () => {
    const n = inputs.length + 1;
    const lot = el("select", { id: `entrada-lote-${n}` });
    for (const l of usable) lot.append(el("option", { value: l.lotId }, `${l.lotId}: ${amount(l, remaining(l))} (${isGold(l) ? t("oro", "gold") : t("mineral", "ore")})`));
    const qty = el("input", { id: `entrada-cantidad-${n}`, type: "text", inputmode: "decimal", autocomplete: "off" });
    inBox.append(el("div", { class: "fila" },
      el("label", { for: `entrada-lote-${n}` }, t(`Lote de entrada ${n}`, `Input lot ${n}`)), lot,
      el("label", { for: `entrada-cantidad-${n}` }, t(`Cantidad ${n} (kg de mineral, o g de oro)`, `Quantity ${n} (kg of ore, or g of gold)`)), qty));
    inputs.push({ lot, qty });
  };
  const addOutput = () => {
    const n = outputs.length + 1;
    const lot = el("input", { id: `salida-lote-${n}`, type: "text", autocomplete: "off" });
    const qty = el("input", { id: `salida-gramos-${n}`, type: "text", inputmode: "decimal", autocomplete: "off" });
    const fineness = el("input", { id: `salida-ley-${n}`, type: "text", inputmode: "decimal", autocomplete: "off", value: "900" });
    outBox.append(el("div", { class: "fila" },
      el("label", { for: `salida-lote-${n}` }, t(`Lote nuevo ${n}`, `New lot ${n}`)), lot,
      el("label", { for: `salida-gramos-${n}` }, t(`Doré ${n} (g, hasta 3 decimales)`, `Doré ${n} (g, up to 3 decimals)`)), qty,
      el("label", { for: `salida-ley-${n}` }, t(`Ley ${n} (por mil, p. ej. 900)`, `Fineness ${n} (per mille, e.g. 900)`)), fineness));
    outputs.push({ lot, qty, fineness });
  };
  const moreIn = el("button", { type: "button", id: "mas-entradas" }, t("Añadir una entrada", "Add an input"));
  const moreOut = el("button", { type: "button", id: "mas-salidas" }, t("Añadir una salida", "Add an output"));
  moreIn.addEventListener("click", () => { addInput(); update(); });
  moreOut.addEventListener("click", () => { addOutput(); update(); });
  addInput();
  addOutput();
  const check = el("button", { type: "button", id: "comprobar-procesamiento" }, t("Comprobar en el registro", "Check with the registry"));
  const submit = el("button", { type: "submit", id: "enviar-procesamiento" }, t("Firmar y registrar", "Sign and record"));
  form.append(el("h2", {}, t("Declarar un procesamiento", "Declare a processing")),
    el("p", { class: "nota" }, t(
      "El oro fino que sale no puede pasar del oro contenido en el mineral por la recuperación máxima (más la tolerancia del ensayo), más el oro fino de las entradas de oro: la misma cuenta, en enteros, que hace el registro.",
      "The fine gold out may not exceed the ore's gold content times the maximum recovery (plus the assay tolerance), plus the fine gold of gold inputs: the registry's own arithmetic, in integers.")),
    inBox, moreIn, outBox, moreOut, el("h3", {}, t("Balance de masa (vista previa)", "Mass balance (preview)")), preview,
    el("div", { class: "botones" }, check, submit), status);

  // The payload as typed, or the first problem in plain words.
  type Built = { payload: JsonValue; oreFine: bigint; goldFine: bigint; fineOut: bigint; oreG: bigint; rows: HTMLElement[] };
  const build = (): Built | string => {
    const ins: Record<string, string>[] = [];
    const rows: HTMLElement[] = [];
    let oreFine = 0n, goldFine = 0n, fineOut = 0n, oreG = 0n;
    for (const [i, r] of inputs.entries()) {
      const lot = usable.find((l) => l.lotId === r.lot.value);
      if (lot === undefined) return t("No tiene lotes que procesar.", "You hold no lots to process.");
      const q = parseDecimal(r.qty.value, 3);
      if (q === null || q === 0n) return t(`Entrada ${i + 1}: escriba una cantidad como 250 o 12.5 (hasta 3 decimales).`, `Input ${i + 1}: type a quantity such as 250 or 12.5 (up to 3 decimals).`);
      const left = remaining(lot);
      if (q > left) return t(`Entrada ${i + 1}: el lote ${lot.lotId} solo tiene ${amount(lot, left)}.`, `Input ${i + 1}: lot ${lot.lotId} holds only ${amount(lot, left)}.`);
      // TakeFrom: all of the fine gold left when all is taken, else floor(F * q / R).
      const fine = q === left ? lot.remainingFineMg : mulDiv(lot.remainingFineMg, q, left);
      if (isGold(lot)) goldFine += fine;
      else { oreFine += fine; oreG += q; }
      ins.push(isGold(lot) ? { lotId: lot.lotId, goldMg: q.toString() } : { lotId: lot.lotId, oreG: q.toString() });
      rows.push(el("tr", {}, el("td", {}, lot.lotId), el("td", { class: "num" }, amount(lot, q)), el("td", { class: "num" }, grams(fine))));
    }
    const outs: Record<string, string>[] = [];
    for (const [i, r] of outputs.entries()) {
      const id = r.lot.value.trim();
      if (id === "") return t(`Salida ${i + 1}: dé un código al lote nuevo.`, `Output ${i + 1}: give the new lot an id.`);
      const mg = parseDecimal(r.qty.value, 3);
      if (mg === null || mg === 0n) return t(`Salida ${i + 1}: escriba los gramos de doré (hasta 3 decimales).`, `Output ${i + 1}: type the grams of doré (up to 3 decimals).`);
      const ppb = parseDecimal(r.fineness?.value ?? "", 6);
      if (ppb === null || ppb === 0n || ppb > 1000000000n) return t(`Salida ${i + 1}: la ley va de 0 a 1000 por mil.`, `Output ${i + 1}: fineness is 0 to 1000 per mille.`);
      const fine = fineOfGold(mg, ppb);
      fineOut += fine;
      outs.push({ lotId: id, goldMg: mg.toString(), finenessPpb: ppb.toString() });
      rows.push(el("tr", { class: "salida" }, el("td", {}, `→ ${id}`), el("td", { class: "num" }, grams(mg)), el("td", { class: "num" }, grams(fine))));
    }
    const payload = { plantRuc: plant, inputs: ins, outputs: outs, time: new Date().toISOString(), nonce: String(Math.floor(Math.random() * 2 ** 48)) };
    return { payload, oreFine, goldFine, fineOut, oreG, rows };
  };

  const update = () => {
    const b = build();
    if (typeof b === "string") {
      preview.dataset.estado = "incompleto";
      preview.replaceChildren(el("p", { class: "aviso" }, b));
      return;
    }
    const table = el("table", { id: "tabla-balance" },
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("Lote", "Lot")), el("th", { scope: "col" }, t("Cantidad", "Quantity")),
        el("th", { scope: "col" }, t("Oro fino", "Fine gold")))),
      el("tbody", {}, ...b.rows));
    const lines: HTMLElement[] = [table];
    if (params === null) {
      preview.dataset.estado = "sin-parametros";
      lines.push(el("p", { class: "aviso" }, t("No se pudieron leer los parámetros del registro: use «Comprobar».", "Could not read the registry's parameters: use Check.")));
    } else {
      // RuleMassBalance: ore fine x recovery max x (1 + tolerance) + gold fine, rounded down.
      const limit = (b.oreFine * params.recoveryMaxPpm * (kPpmWhole + params.tolerancePpm)) / (kPpmWhole * kPpmWhole) + b.goldFine;
      const pct = (ppm: bigint) => new Intl.NumberFormat(t("es-PE", "en-US"), { maximumFractionDigits: 2 }).format(Number(ppm) / 10000);
      lines.push(el("p", { class: "nota" }, t(
        `Máximo que puede salir: ${grams(b.oreFine)} del mineral × ${pct(params.recoveryMaxPpm)} % de recuperación × (1 + ${pct(params.tolerancePpm)} %) + ${grams(b.goldFine)} de oro = ${grams(limit)} de oro fino.`,
        `Most that may come out: ${grams(b.oreFine)} from the ore × ${pct(params.recoveryMaxPpm)} % recovery × (1 + ${pct(params.tolerancePpm)} %) + ${grams(b.goldFine)} of gold = ${grams(limit)} of fine gold.`)));
      const ok = b.fineOut <= limit;
      preview.dataset.estado = ok ? "cuadra" : "excede";
      preview.dataset.maximoMg = limit.toString();
      lines.push(el("p", { class: ok ? "ok-msg" : "error", id: "veredicto-balance" }, ok
        ? t(`Cuadra: salen ${grams(b.fineOut)} de oro fino, dentro del máximo.`, `Balances: ${grams(b.fineOut)} of fine gold out, within the maximum.`)
        : t(`No cuadra: salen ${grams(b.fineOut)} de oro fino, más que el máximo de ${grams(limit)}. El registro lo rechazará (MASS_BALANCE_EXCEEDED).`,
          `Does not balance: ${grams(b.fineOut)} of fine gold out, more than the maximum of ${grams(limit)}. The registry will refuse it (MASS_BALANCE_EXCEEDED).`)));
    }
    preview.replaceChildren(...lines);
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();

  const sessionKey = async (): Promise<SigningKey> => {
    for (const n of await keyNames()) {
      const k = await loadKey(n);
      if (k?.keyid === keyid) return k;
    }
    throw new Error(t("la clave de esta sesión no está en este navegador: impórtela en Firmar", "this session's key is not in this browser: import it on Sign"));
  };
  const envelope = async (): Promise<Uint8Array | null> => {
    status.replaceChildren();
    const b = build();
    if (typeof b === "string") {
      status.append(el("p", { class: "error", role: "alert" }, b));
      return null;
    }
    try {
      const json = await signEnvelope("processing", payloadBytes("processing", b.payload as JsonValue), [await sessionKey()]);
      return toBinary(EnvelopeSchema, fromJson(EnvelopeSchema, json));
    } catch (e) {
      status.append(el("p", { class: "error", role: "alert" }, t(`No se pudo firmar: ${String(e)}`, `Could not sign: ${String(e)}`)));
      return null;
    }
  };
  check.addEventListener("click", async () => {
    // A check answered after a later check or submission of the form is no longer news.
    const current = claim(status);
    const bytes = await envelope();
    if (bytes === null) return;
    try {
      const r = await ledger().check({ envelope: bytes });
      if (!current()) return;
      if (r.code !== 0 || r.refusal !== "") {
        status.append(await refusalBox(r.refusal || failure(r.message).code, r.message));
        return;
      }
      status.append(el("p", { class: "ok-msg", id: "veredicto-procesamiento" }, t("Sería aceptado.", "It would be accepted.")));
    } catch (e) {
      if (!current()) return;
      const f = failure(e);
      status.append(await refusalBox(f.code, f.message));
    }
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    claim(status);  // a submission's answer is always shown; a pending check's is dropped
    const bytes = await envelope();
    if (bytes === null) return;
    try {
      const r = await ledger().submit({ envelope: bytes });
      status.append(el("p", { class: "ok-msg", id: "procesamiento-registrado" }, t(`Registrado como entrada ${r.sequence}.`, `Recorded as entry ${r.sequence}.`)));
      done();
    } catch (e) {
      const f = failure(e);
      status.append(await refusalBox(f.code, f.message));
    }
  });
  return form;
}

export async function renderPlanta(main: HTMLElement): Promise<void> {
  main.replaceChildren(el("h1", {}, t("Mis lotes y planta", "My lots and plant")),
    el("p", { class: "lead" }, t(
      "Los lotes que tiene, sus intentos rechazados y los certificados de su oro; una planta de beneficio declara aquí sus procesamientos.",
      "The lots you hold, your refused attempts and your gold's certificates; a processing plant declares its processings here.")));
  let who;
  try {
    who = await whoAmI();
  } catch (e) {
    main.append(el("p", { class: "error", role: "alert" }, t(`Sin conexión con el registro: ${String(e)}`, `No connection to the registry: ${String(e)}`)));
    return;
  }
  if (!kParties.includes(who.role) || who.partyId === "") {
    main.append(el("p", { class: "aviso", id: "sin-sesion" }, t(
      `Conectado como ${roleName(who.role)}. Inicie sesión con la clave de su empresa en `,
      `Connected as ${roleName(who.role)}. Sign in with your company's key on `), el("a", { href: "#/firmar" }, t("Firmar", "Sign")),
    t(" para ver sus lotes.", " to see your lots.")));
    return;
  }
  const partyId = who.partyId;
  main.append(el("p", { id: "parte", "data-role": who.role, "data-party": partyId }, t(
    `${roleName(who.role)[0].toUpperCase()}${roleName(who.role).slice(1)} ${partyId}.`, `${roleName(who.role)[0].toUpperCase()}${roleName(who.role).slice(1)} ${partyId}.`)));
  const lotsBox = el("section", { id: "caja-lotes", "aria-live": "polite" });
  const certBox = el("section", { id: "caja-certificado", "aria-live": "polite" });
  const attemptsBox = el("section", { id: "caja-mis-intentos" });
  const plantBox = el("section", { id: "caja-planta" });
  main.append(el("h2", {}, t("Mis lotes", "My lots")), lotsBox, certBox,
    el("h2", {}, t("Mis intentos rechazados", "My refused attempts")), attemptsBox, plantBox);
  const load = async () => {
    const current = claim(lotsBox);  // reloaded after a processing: the newest read wins
    try {
      const lots = await lotsOf(partyId);
      const plant = who.role === "plant";
      const parameters = plant ? await massBalanceParameters() : null;
      if (!current()) return;
      lotsBox.replaceChildren(lotsTable(lots, certBox));
      if (plant) plantBox.replaceChildren(processingForm(partyId, who.keyid, lots, parameters, () => void load()));
    } catch (e) {
      if (!current()) return;
      lotsBox.replaceChildren(el("p", { class: "error", role: "alert" }, t(`No se pudieron leer sus lotes: ${failure(e).message}`, `Could not read your lots: ${failure(e).message}`)));
    }
  };
  await load();
  try {
    attemptsBox.replaceChildren(await attemptsOf(partyId));
  } catch (e) {
    attemptsBox.replaceChildren(el("p", { class: "error", role: "alert" }, failure(e).message));
  }
}
