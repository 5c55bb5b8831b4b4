// "Firmar": a party's keys kept in this browser (imported once from PEM, non-extractable, in
// IndexedDB) and signed envelopes made here, offline: the bytes signed are the payload's
// protobuf, written once from the JSON filled in; the envelope can be downloaded (for
// `veta submit`) or sent to the server (Check, then Submit over the Connect API), signed in
// with one of the keys (the server's challenge signed here: no password).
import { fromJson, type JsonValue, toBinary } from "@bufbuild/protobuf";

import { ledger } from "../api/client.js";
import { signIn, signOut, whoAmI } from "../api/session.js";
import { EnvelopeSchema } from "../gen/veta/v1/envelope_pb.js";
import { RedFlag } from "../gen/veta/v1/registry_pb.js";
import { addSignatures, kPayloadTypes, type PayloadKind, payloadBytes, signEnvelope } from "../sign/envelope.js";
import { importSigningKey, type SigningKey } from "../sign/keys.js";
import { keyNames, loadKey, saveKey } from "../sign/store.js";
import { explain, loadExplanations } from "./explain.js";
import { t } from "./i18n.js";
import { claim } from "./latest.js";
import { kDraftKey } from "./mesa.js";

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

const kRoles: Record<string, [string, string]> = {
  public: ["público", "public"], registrar: ["registrador", "registrar"], miner: ["minero", "miner"],
  selector: ["seleccionador", "selector"], trader: ["comercializador", "trader"], plant: ["planta", "plant"],
  exporter: ["exportador", "exporter"], regulator: ["regulador", "regulator"],
  operator: ["operador local (sin TLS)", "local operator (no TLS)"],
};
export const roleName = (r: string) => (kRoles[r] ? t(kRoles[r][0], kRoles[r][1]) : r);

// The server's message of a failed call, and its refusal code ("[CODE] text"), if any.
export function failure(e: unknown): { code?: string; message: string } {
  const message = String((e as { rawMessage?: string }).rawMessage ?? e);
  return { code: /\[([A-Z_]+)\]/.exec(message)?.[1], message };
}

export async function refusalBox(code: string | undefined, message: string): Promise<HTMLElement> {
  await loadExplanations();
  const why = code ? explain(code) : { title: "", text: "" };
  return el("div", { class: "error", role: "alert", "data-code": code ?? "" },
    el("strong", {}, t("Rechazada: ", "Refused: ") + (why.title !== code && why.title ? why.title : code ?? "")),
    el("p", {}, why.text || message),
    ...(why.text ? [el("p", { class: "nota" }, message)] : []));
}

const kExamples: Partial<Record<PayloadKind, string>> = {
  memo: '{"subject": "nota", "text": "texto firmado", "nonce": "1"}',
};

export async function renderFirmar(main: HTMLElement): Promise<void> {
  main.replaceChildren(
    el("h1", {}, t("Firmar en este navegador", "Sign in this browser")),
    el("p", { class: "lead" }, t(
      "Su clave privada se importa una vez desde su archivo PEM y queda guardada en este navegador sin poder leerse de nuevo (no exportable). Veta no guarda contraseñas.",
      "Your private key is imported once from its PEM file and kept in this browser where it cannot be read back (non-extractable). Veta stores no passwords.")),
  );

  // Keys.
  const keys = el("section", { class: "panel", id: "claves" });
  const list = el("ul", { id: "lista-claves" });
  const name = el("input", { id: "nombre-clave", type: "text", autocomplete: "off" });
  const pem = el("textarea", { id: "pem", rows: "4", spellcheck: "false", placeholder: "-----BEGIN PRIVATE KEY-----" });
  const pemFile = el("input", { id: "pem-archivo", type: "file", accept: ".pem" });
  const importButton = el("button", { type: "button", id: "importar" }, t("Importar clave", "Import key"));
  const keyStatus = el("p", { id: "estado-clave", "aria-live": "polite" });
  keys.append(
    el("h2", {}, t("Mis claves en este navegador", "My keys in this browser")), list,
    el("label", { for: "nombre-clave" }, t("Nombre de la clave (p. ej. su RUC)", "Key name (e.g. your RUC)")), name,
    el("label", { for: "pem-archivo" }, t("Archivo PEM de la clave privada", "Private key PEM file")), pemFile,
    el("label", { for: "pem" }, t("…o pegue el PEM", "…or paste the PEM")), pem,
    importButton, keyStatus,
  );

  // Signing.
  const form = el("form", { class: "panel", id: "form-firmar" });
  const kind = el("select", { id: "tipo" });
  for (const k of Object.keys(kPayloadTypes)) kind.append(el("option", { value: k }, k));
  const payload = el("textarea", { id: "carga", rows: "8", spellcheck: "false" });
  payload.value = kExamples.memo ?? "";
  // A purchase prepared on the buyer's desk.
  const draft = sessionStorage.getItem(kDraftKey);
  if (draft !== null) {
    sessionStorage.removeItem(kDraftKey);
    const d = JSON.parse(draft) as { kind: PayloadKind; payload: unknown };
    kind.value = d.kind;
    payload.value = JSON.stringify(d.payload, null, 1);
  }
  const received = el("textarea", { id: "recibido", rows: "3", spellcheck: "false",
    placeholder: t("{\"payload\": …, \"signatures\": […]} (opcional)", "{\"payload\": …, \"signatures\": […]} (optional)") });
  const signers = el("fieldset", { id: "firmantes" }, el("legend", {}, t("Firmar con", "Sign with")));
  const out = el("textarea", { id: "sobre", rows: "6", readonly: "", spellcheck: "false" });
  const submit = el("button", { type: "button", id: "enviar", disabled: "" }, t("Enviar al registro", "Submit to the registry"));
  const checkButton = el("button", { type: "button", id: "comprobar", disabled: "" }, t("Comprobar antes de enviar", "Check before submitting"));
  const download = el("a", { id: "descargar", download: "sobre.json", hidden: "" }, t("Descargar el sobre (para veta submit)", "Download the envelope (for veta submit)"));
  const status = el("div", { id: "estado-firma", "aria-live": "polite" });
  form.append(
    el("h2", {}, t("Firmar una transacción", "Sign a transaction")),
    el("label", { for: "tipo" }, t("Tipo", "Type")), kind,
    el("label", { for: "carga" }, t("Contenido (JSON, como en veta sign)", "Content (JSON, as for veta sign)")), payload,
    el("label", { for: "recibido" }, t("…o un sobre que otra parte ya firmó, para añadir su firma (una venta lleva la del vendedor y la del comprador)",
      "…or an envelope another party signed, to add your signature (a sale carries the seller's and the buyer's)")), received,
    signers,
    el("button", { type: "submit", id: "firmar" }, t("Firmar", "Sign")),
    el("label", { for: "sobre" }, t("Sobre firmado", "Signed envelope")), out, download,
    el("div", { class: "botones" }, checkButton, submit), status,
  );
  const who = el("p", { id: "sesion", "aria-live": "polite" });
  const out_ = el("button", { type: "button", id: "salir", hidden: "" }, t("Cerrar sesión", "Sign out"));
  const showWho = async () => {
    try {
      const w = await whoAmI();
      who.textContent = t(`Conectado como ${roleName(w.role)}${w.partyId ? ` ${w.partyId}` : ""}${w.keyid ? `, clave ${w.keyid.slice(0, 16)}…` : ""}.`,
        `Connected as ${roleName(w.role)}${w.partyId ? ` ${w.partyId}` : ""}${w.keyid ? `, key ${w.keyid.slice(0, 16)}…` : ""}.`);
      who.dataset.role = w.role;
      who.dataset.keyid = w.keyid;
      out_.hidden = w.keyid === "";
    } catch {
      who.textContent = t("Sin conexión con el registro: puede firmar y descargar el sobre.", "No connection to the registry: you can sign and download the envelope.");
    }
  };
  out_.addEventListener("click", async () => {
    await signOut();
    await showWho();
  });
  main.append(el("div", { class: "panel" }, who, out_), keys, form);
  void showWho();

  const refresh = async () => {
    const names = await keyNames();
    list.replaceChildren();
    signers.querySelectorAll("label").forEach((l) => l.remove());
    if (names.length === 0) list.append(el("li", {}, t("(ninguna todavía)", "(none yet)")));
    for (const n of names) {
      const k = await loadKey(n);
      if (k === undefined) continue;
      const enter = el("button", { type: "button", class: "entrar", "data-key": n }, t("Iniciar sesión", "Sign in"));
      enter.addEventListener("click", async () => {
        try {
          await signIn(k);
          await showWho();
        } catch (e) {
          who.textContent = t(`No se pudo iniciar sesión: ${failure(e).message}`, `Could not sign in: ${failure(e).message}`);
        }
      });
      list.append(el("li", { "data-keyid": k.keyid }, `${n}: ${k.algorithm}, id ${k.keyid.slice(0, 16)}… `, enter));
      const box = el("input", { type: "checkbox", value: n, id: `firmante-${n}` });
      signers.append(el("label", { for: `firmante-${n}`, class: "casilla" }, box, ` ${n}`));
    }
  };
  await refresh();

  pemFile.addEventListener("change", async () => {
    const f = pemFile.files?.[0];
    if (f) pem.value = await f.text();
  });
  importButton.addEventListener("click", async () => {
    try {
      if (name.value.trim() === "") throw new Error(t("dé un nombre a la clave", "give the key a name"));
      const key = await importSigningKey(pem.value);
      await saveKey(name.value.trim(), key);
      pem.value = "";
      pemFile.value = "";
      keyStatus.textContent = t(`Clave importada (${key.algorithm}, id ${key.keyid.slice(0, 16)}…).`, `Key imported (${key.algorithm}, id ${key.keyid.slice(0, 16)}…).`);
      await refresh();
    } catch (e) {
      keyStatus.textContent = t(`No se pudo importar: ${String(e)}`, `Could not import: ${String(e)}`);
    }
  });
  kind.addEventListener("change", () => {
    const example = kExamples[kind.value as PayloadKind];
    if (example !== undefined && payload.value.trim() === "") payload.value = example;
  });

  let envelopeBytes: Uint8Array | null = null;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    claim(status);  // a check of the envelope signed before answers for nothing now
    status.replaceChildren();
    submit.setAttribute("disabled", "");
    checkButton.setAttribute("disabled", "");
    try {
      const chosen: SigningKey[] = [];
      for (const box of signers.querySelectorAll<HTMLInputElement>("input:checked")) {
        const k = await loadKey(box.value);
        if (k) chosen.push(k);
      }
      if (chosen.length === 0) throw new Error(t("elija al menos una clave", "choose at least one key"));
      const envelope = received.value.trim() !== ""
        ? await addSignatures(JSON.parse(received.value) as JsonValue, chosen)
        : await signEnvelope(kind.value as PayloadKind, payloadBytes(kind.value as PayloadKind, JSON.parse(payload.value) as JsonValue), chosen);
      out.value = JSON.stringify(envelope);
      envelopeBytes = toBinary(EnvelopeSchema, fromJson(EnvelopeSchema, envelope));
      download.href = URL.createObjectURL(new Blob([out.value + "\n"], { type: "application/json" }));
      download.hidden = false;
      submit.removeAttribute("disabled");
      checkButton.removeAttribute("disabled");
    } catch (e) {
      status.append(el("p", { class: "error", role: "alert" }, t(`No se pudo firmar: ${String(e)}`, `Could not sign: ${String(e)}`)));
    }
  });
  checkButton.addEventListener("click", async () => {
    if (envelopeBytes === null) return;
    // Answered after a later check, a submission or a new signature: no longer news.
    const current = claim(status);
    status.replaceChildren();
    try {
      // The verdict is the answer: a refusal is an OK call whose response carries its code.
      const r = await ledger().check({ envelope: envelopeBytes });
      await loadExplanations();
      if (!current()) return;
      if (r.code !== 0 || r.refusal !== "") {
        status.append(await refusalBox(r.refusal || failure(r.message).code, r.message));
        return;
      }
      const flags = r.flags.map((f) => RedFlag[f.flag] ?? String(f.flag)).map((c) => explain(c).title || c).join(", ");
      status.append(el("p", { class: "ok-msg", id: "veredicto-check" }, t(
        `Sería aceptada${flags ? `, con alertas: ${flags}` : ""}.`, `It would be accepted${flags ? `, with red flags: ${flags}` : ""}.`)));
    } catch (e) {
      if (!current()) return;
      const f = failure(e);
      status.append(await refusalBox(f.code, f.message));
    }
  });
  submit.addEventListener("click", async () => {
    if (envelopeBytes === null) return;
    claim(status);  // a submission's answer is always shown; a pending check's is dropped
    status.replaceChildren();
    try {
      const r = await ledger().submit({ envelope: envelopeBytes });
      status.append(el("p", { class: "ok-msg", id: "registrada" }, t(`Registrada como entrada ${r.sequence}.`, `Recorded as entry ${r.sequence}.`)));
    } catch (e) {
      const f = failure(e);
      status.append(await refusalBox(f.code, f.message));
    }
  });
}
