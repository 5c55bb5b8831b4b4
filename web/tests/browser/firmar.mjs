// "Firmar" in Debian's chromium (headless, playwright-core): a private key imported from its
// PEM is kept in IndexedDB as a non-extractable CryptoKey (exportKey fails; it survives a
// reload), and the memo signed in the page is, byte for byte, the envelope `veta sign` makes
// (Ed25519 is deterministic):
//   node tests/browser/firmar.mjs --url URL | --dist DIR  --key PRIVATE.pem --memo MEMO.json
//        --expected ENVELOPE.json --out ENVELOPE.json [--screenshots DIR]
import { readFileSync, writeFileSync } from "node:fs";
import { args, fail, check, launch, app, shot } from "./lib.mjs";

const { base, close } = await app();
const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, locale: "es-PE" });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${base}#/firmar`);
  await page.getByLabel(/Nombre de la clave/).fill("autoridad");
  await page.getByLabel(/pegue el PEM/).fill(readFileSync(args.key, "utf8"));
  await page.getByRole("button", { name: "Importar clave" }).click();
  await page.locator("#lista-claves li[data-keyid]").waitFor();
  check((await page.locator("#pem").inputValue()) === "", "the PEM stays in the page after the import");

  // Non-extractable, in IndexedDB, across a reload.
  await page.reload();
  await page.locator("#lista-claves li[data-keyid]").waitFor();
  const stored = await page.evaluate(async () => {
    const db = await new Promise((ok, no) => {
      const r = indexedDB.open("veta", 1);
      r.onsuccess = () => ok(r.result);
      r.onerror = () => no(r.error);
    });
    const key = await new Promise((ok) => {
      const r = db.transaction("keys").objectStore("keys").get("autoridad");
      r.onsuccess = () => ok(r.result);
    });
    let exported = true;
    try {
      await crypto.subtle.exportKey("pkcs8", key.privateKey);
    } catch {
      exported = false;
    }
    return { extractable: key.privateKey.extractable, exported, type: key.privateKey.type };
  });
  check(stored.type === "private" && stored.extractable === false && stored.exported === false,
    `the stored key is readable: ${JSON.stringify(stored)}`);

  // Sign the memo.
  await page.locator("#tipo").selectOption("memo");
  await page.locator("#carga").fill(readFileSync(args.memo, "utf8"));
  await page.getByLabel("autoridad").check();
  await page.getByRole("button", { name: "Firmar", exact: true }).click();
  await page.waitForFunction(() => document.querySelector("#sobre").value.length > 0);
  const envelope = await page.locator("#sobre").inputValue();
  const expected = readFileSync(args.expected, "utf8").trim();
  check(envelope === expected, `the page's envelope\n${envelope}\nis not veta sign's\n${expected}`);
  writeFileSync(args.out, envelope + "\n");
  check(await page.locator("#descargar").isVisible(), "no download link");
  await shot(page, "firmar.png");

  // On veta-server (--web-dir): sign in with the key (the challenge signed in the page), Check
  // and Submit the memo over the Connect API, and Check a sale of a lot that does not exist.
  if (args.url) {
    await page.locator("button.entrar[data-key=autoridad]").click();
    await page.waitForFunction(() => document.querySelector("#sesion")?.dataset.keyid?.length === 64);
    const keyid = await page.locator("#lista-claves li[data-keyid]").getAttribute("data-keyid");
    check((await page.locator("#sesion").getAttribute("data-keyid")) === keyid, "signed in with another key");
    console.log(`signed in: ${await page.locator("#sesion").innerText()}`);
    await page.getByRole("button", { name: "Comprobar antes de enviar" }).click();
    await page.locator("#veredicto-check").waitFor();
    await page.getByRole("button", { name: "Enviar al registro" }).click();
    await page.locator("#registrada").waitFor();
    console.log(`submitted from the page: ${await page.locator("#registrada").innerText()}`);
    await shot(page, "firmar-enviado.png");
    await page.locator("#tipo").selectOption("sale");
    await page.locator("#carga").fill(JSON.stringify({
      lotId: "NO-EXISTE-1", sellerId: "20100000001", buyerRuc: "20100000002", buyerLotId: "NO-EXISTE-2",
      quantityMg: "1000", nonce: "1", time: new Date().toISOString(),
    }));
    await page.getByRole("button", { name: "Firmar", exact: true }).click();
    await page.waitForFunction(() => !document.querySelector("#comprobar").disabled);
    await page.getByRole("button", { name: "Comprobar antes de enviar" }).click();
    const refusal = page.locator("#estado-firma .error");
    await refusal.waitFor();
    const code = await refusal.getAttribute("data-code");
    check(code !== null && code !== "", `the refusal has no code: ${await refusal.innerText()}`);
    if (args.explained) {
      // The shipped table (explain.json) explains the code in Spanish, not the code itself.
      const title = await refusal.locator("strong").innerText();
      check(!title.includes(code), `the refusal is not explained: '${title}'`);
    }
    console.log(`checked a sale of no lot: refused ${code}: ${(await refusal.innerText()).replace(/\n/g, " ")}`);
    await shot(page, "firmar-rechazo.png");
  }

  // Bad input: JSON that is not a memo is refused in the page, and nothing is signed.
  await page.locator("#tipo").selectOption("memo");
  await page.locator("#carga").fill('{"no_such_field": 1}');
  await page.getByRole("button", { name: "Firmar", exact: true }).click();
  await page.locator("#estado-firma .error").waitFor();
  check(errors.length === 0, `errors in the page: ${errors.join("; ")}`);
  console.log("PASS: key non-extractable in IndexedDB; envelope equal to veta sign's");
} finally {
  await browser.close();
  close();
}
