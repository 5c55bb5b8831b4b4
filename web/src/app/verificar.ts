// "Verificar oro": open a certificate (file, paste, or the QR URL of a certificate opened
// before) and verify it here, offline, with only the authority's public key.
import { toJsonString } from "@bufbuild/protobuf";

import { ledger } from "../api/client.js";
import { CertificateSchema } from "../gen/veta/v1/custody_pb.js";
import { sha256 } from "@noble/hashes/sha2";

import { parseAuthorityKey, spkiDer } from "../verify/authority.js";
import { toHex } from "../verify/bytes.js";
import { type Verdict, noteDigest, verifyCertificateJson } from "../verify/certificate.js";
import { VerifyError } from "../verify/status.js";
import { grams, integer, percent, t } from "./i18n.js";
import { claim } from "./latest.js";
import { departmentName, drawMap } from "./map.js";
import { qrSvg } from "./qr.js";

const kKeyStore = "veta.authorityKey";
const kCertStore = "veta.certificates";
const kStoredMax = 50; // certificates remembered in this browser (about 10 KB each)

function storedCertificates(): Record<string, string> {
  try {
    return JSON.parse(localStorage.getItem(kCertStore) ?? "{}") as Record<string, string>;
  } catch {
    return {};
  }
}

export function rememberCertificate(text: string): void {
  let note = "";
  try {
    note = (JSON.parse(text) as { note?: string }).note ?? "";
  } catch {
    return;
  }
  if (note === "") return;
  const all = storedCertificates();
  all[noteDigest(note)] = text;
  const keys = Object.keys(all);
  for (const k of keys.slice(0, Math.max(0, keys.length - kStoredMax))) delete all[k];
  localStorage.setItem(kCertStore, JSON.stringify(all));
}

// The page's URL for a certificate: what its QR code holds.
export function certificateUrl(lot: string, noteSha256: string): string {
  const base = location.href.split("#")[0];
  return `${base}#/verificar?lote=${encodeURIComponent(lot)}&nota=${noteSha256}`;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

export function renderVerificar(main: HTMLElement, params: URLSearchParams): void {
  main.replaceChildren();
  main.append(
    el("h1", {}, t("Verificar oro formal", "Verify formal gold")),
    el("p", { class: "lead" }, t(
      "Abra el certificado de un lote de oro para comprobar, en este navegador y sin conexión, que la autoridad lo firmó, que cada entrada está en el registro público y que el origen declarado cuadra al miligramo.",
      "Open a gold lot's certificate to check, in this browser and offline, that the authority signed it, that each entry is in the public log and that the stated origin adds up to the milligram.")),
  );

  const form = el("form", { class: "panel", id: "form-verificar" });
  const file = el("input", { type: "file", id: "archivo", accept: ".json,application/json" });
  const paste = el("textarea", { id: "certificado", rows: "5", spellcheck: "false",
    placeholder: t("…o pegue aquí el JSON del certificado", "…or paste the certificate's JSON here") });
  const key = el("textarea", { id: "clave", rows: "3", spellcheck: "false",
    placeholder: "-----BEGIN PUBLIC KEY-----  /  origen+hash+clave" });
  key.value = localStorage.getItem(kKeyStore) ?? "";
  const fingerprint = el("p", { id: "huella", class: "nota" });
  const button = el("button", { type: "submit", id: "verificar" }, t("Verificar", "Verify"));
  form.append(
    el("label", { for: "archivo" }, t("Archivo del certificado (veta certificate LOTE --out ARCHIVO)", "Certificate file (veta certificate LOT --out FILE)")),
    file,
    el("label", { for: "certificado" }, t("Certificado (JSON)", "Certificate (JSON)")),
    paste,
    el("label", { for: "clave" }, t("Clave pública de la autoridad (PEM de authority.pub.pem, o clave verificadora)", "The authority's public key (PEM of authority.pub.pem, or verifier key)")),
    key,
    fingerprint,
    button,
  );
  // The key's fingerprint (its id: SHA-256 of the public key, as `veta init` prints it), for
  // comparing with the one the authority publishes.
  const showFingerprint = (origin: string) => {
    try {
      const id = toHex(sha256(spkiDer(parseAuthorityKey(key.value).raw)));
      fingerprint.textContent = t(`Huella de la clave: ${id}${origin}`, `Key fingerprint: ${id}${origin}`);
    } catch {
      fingerprint.textContent = "";
    }
  };
  key.addEventListener("input", () => showFingerprint(""));
  showFingerprint("");
  // No key yet: the one this server publishes beside the app (tools/run.sh puts it there).
  if (key.value.trim() === "") {
    void fetch("authority.pub.pem")
      .then((r) => (r.ok ? r.text() : ""))
      .then((pem) => {
        if (key.value.trim() !== "" || !pem.includes("BEGIN PUBLIC KEY")) return;
        key.value = pem.trim();
        showFingerprint(t(" (publicada por este servidor: compárela con la de la autoridad)",
          " (published by this server: compare it with the authority's)"));
      })
      .catch(() => undefined);
  }
  const result = el("section", { id: "resultado", "aria-live": "polite" });
  main.append(form, result);

  paste.addEventListener("input", () => (file.value = "")); // what is verified is the text
  file.addEventListener("change", async () => {
    const f = file.files?.[0];
    if (f) paste.value = await f.text();
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    claim(result);  // a certificate still being fetched from the server is not shown over this
    run(paste.value, key.value, result);
  });

  // The QR URL: a certificate opened here before, found by its note's digest.
  const lot = params.get("lote");
  const digest = params.get("nota");
  if (digest !== null) {
    const text = storedCertificates()[digest.toLowerCase()];
    if (text !== undefined) {
      paste.value = text;
      if (key.value.trim() !== "") run(text, key.value, result);
    } else {
      const ask = el("button", { type: "button", id: "pedir" }, t("Pedirlo al servidor", "Ask the server for it"));
      result.replaceChildren(el("p", { class: "aviso" }, t(
        `Abra el archivo del certificado del lote ${lot ?? "?"} (su huella SHA-256 es ${digest}): este navegador aún no lo tiene.`,
        `Open the certificate file of lot ${lot ?? "?"} (its SHA-256 digest is ${digest}): this browser does not have it yet.`)));
      if (lot !== null) result.append(ask);
      ask.addEventListener("click", () => void fetchCertificate(lot ?? "", digest.toLowerCase(), paste, key, result));
    }
  }
}

// Online: GetCertificate over the Connect API (for the lot's holder or a regulator, signed
// in). The server's answer is only accepted if it is the very certificate the QR code names
// (the SHA-256 of its note), and it is then verified here like any other.
async function fetchCertificate(lot: string, digest: string, paste: HTMLTextAreaElement, key: HTMLTextAreaElement, result: HTMLElement) {
  const current = claim(result);
  try {
    const cert = await ledger().getCertificate({ lotId: lot });
    if (!current()) return;  // the person verified another text meanwhile
    if (noteDigest(cert.note) !== digest) {
      result.replaceChildren(el("p", { class: "error", role: "alert" }, t(
        "El servidor dio otro certificado de ese lote (su huella no es la del código QR).",
        "The server gave another certificate of that lot (its digest is not the QR code's).")));
      return;
    }
    paste.value = toJsonString(CertificateSchema, cert, { prettySpaces: 1 });
    run(paste.value, key.value, result);
  } catch (e) {
    if (!current()) return;
    result.replaceChildren(el("p", { class: "error", role: "alert" }, t(
      `No se pudo obtener el certificado del servidor: ${String(e)}`, `Could not get the certificate from the server: ${String(e)}`)));
  }
}

function run(text: string, keyText: string, result: HTMLElement): void {
  let raw: Uint8Array;
  try {
    raw = parseAuthorityKey(keyText).raw;
  } catch (e) {
    const msg = e instanceof VerifyError ? t(e.es, e.en) : String(e);
    result.replaceChildren(el("p", { class: "error", role: "alert" }, msg));
    return;
  }
  localStorage.setItem(kKeyStore, keyText.trim());
  const verdict = verifyCertificateJson(text, raw);
  if (verdict.ok) rememberCertificate(text);
  show(verdict, result);
}

const kSteps: [string, string, string][] = [
  ["firma", "Firma de la autoridad (nota firmada C2SP)", "Authority's signature (C2SP signed note)"],
  ["checkpoint", "Checkpoint del registro", "Log checkpoint"],
  ["prueba", "Pruebas de inclusión RFC 6962 de cada entrada", "RFC 6962 inclusion proof of each entry"],
  ["aritmetica", "Origen recalculado al miligramo desde las entradas", "Origin recomputed to the milligram from the entries"],
];

function show(v: Verdict, result: HTMLElement): void {
  result.replaceChildren();
  const banner = el("div", { id: "veredicto", class: v.ok ? "veredicto ok" : "veredicto no", "data-ok": String(v.ok), role: "status" },
    el("strong", {}, v.ok ? t("VERIFICADO", "VERIFIED") : t("NO VERIFICADO", "NOT VERIFIED")));
  if (!v.ok) banner.append(el("p", { id: "motivo", "data-step": v.step }, t(v.es, v.en)));
  result.append(banner);

  // Which checks held: all when verified; those before the failing one otherwise.
  // (A malformed file or key fails before any step: none is marked.)
  const failedAt = v.ok ? -1 : kSteps.findIndex(([s]) => s === v.step);
  const list = el("ul", { class: "pasos" });
  kSteps.forEach(([, es, en], i) => {
    const state = v.ok || i < failedAt ? "ok" : i === failedAt ? "no" : "pendiente";
    const mark = state === "ok" ? "✓" : state === "no" ? "✗" : "–";
    list.append(el("li", { class: state }, `${mark} ${t(es, en)}`));
  });
  result.append(list);
  if (!v.ok) return;

  const c = v.claims;
  const dl = el("dl", { class: "datos" });
  const row = (k: string, value: string, id = "") => dl.append(el("dt", {}, k), el("dd", id ? { id } : {}, value));
  row(t("Lote", "Lot"), c.lotId, "lote");
  row(t("Titular (RUC)", "Holder (RUC)"), c.holder);
  row(t("Oro fino del lote", "Fine gold of the lot"), grams(c.fineMg), "fino");
  row(t("Oro que quedaba al emitirse", "Gold left when issued"), grams(c.remainingMg));
  if (c.exportedTo !== "") row(t("Exportado a", "Exported to"), `${c.exportedTo} (${t("entrada", "entry")} ${integer(c.exportedAt)})`);
  row(t("Registro", "Log"), c.origin);
  row("Checkpoint", `${integer(c.checkpoint.size)} ${t("entradas", "entries")}`);
  row(t("Entradas en que se apoya", "Entries it rests on"), integer(BigInt(c.entries.length)));
  result.append(el("h2", {}, t("El certificado", "The certificate")), dl);

  const table = el("table", { id: "unidades" });
  table.append(el("caption", {}, t("Origen por unidad minera (recalculado)", "Origin by mining unit (recomputed)")));
  table.append(el("thead", {}, el("tr", {},
    el("th", { scope: "col" }, t("Unidad", "Unit")), el("th", { scope: "col" }, t("Nombre", "Name")),
    el("th", { scope: "col" }, t("Departamento", "Department")), el("th", { scope: "col" }, t("Oro fino", "Fine gold")),
    el("th", { scope: "col" }, t("Parte", "Share")))));
  const body = el("tbody");
  for (const u of c.units) {
    const rec = v.units.get(u.unit);
    body.append(el("tr", {}, el("td", {}, u.unit), el("td", {}, rec?.name ?? ""),
      el("td", {}, departmentName(u.department)), el("td", { class: "num" }, grams(u.fineMg)),
      el("td", { class: "num" }, percent(u.fineMg, c.fineMg))));
  }
  table.append(body);
  result.append(table);

  const depts = el("ul", { id: "departamentos" });
  for (const d of c.departments) {
    depts.append(el("li", {}, `${departmentName(d.department)}: ${grams(d.fineMg)} (${percent(d.fineMg, c.fineMg)})`));
  }
  result.append(el("h2", {}, t("Origen por departamento", "Origin by department")), depts);

  const mapUnits = c.units.map((u) => ({
    code: u.unit,
    label: `${u.unit} ${v.units.get(u.unit)?.name ?? ""}: ${percent(u.fineMg, c.fineMg)}`,
    share: Number((u.fineMg * 10000n) / (c.fineMg === 0n ? 1n : c.fineMg)) / 10000,
    geometry: v.units.get(u.unit)?.geometry,
  }));
  const figure = el("figure", { class: "figura-mapa" });
  figure.append(drawMap(mapUnits, new Set(c.departments.map((d) => d.department)),
    t("Mapa del Perú con las unidades mineras de origen", "Map of Peru with the mining units of origin")),
  el("figcaption", {}, t("Departamentos de origen resaltados; cada círculo es una unidad minera, su área su parte.",
    "Departments of origin highlighted; each circle is a mining unit, its area its share.")));
  result.append(figure);

  const url = certificateUrl(c.lotId, v.noteSha256);
  const qr = el("figure", { class: "qr" });
  qr.append(qrSvg(url, t(`Código QR del certificado del lote ${c.lotId}`, `QR code of lot ${c.lotId}'s certificate`)),
    el("figcaption", {}, t("Enlace de este certificado (el de su código QR): ", "This certificate's link (its QR code's): "),
      el("a", { href: url, id: "enlace" }, url)));
  result.append(qr);
}
