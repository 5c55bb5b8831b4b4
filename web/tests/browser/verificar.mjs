// Drives Debian's chromium (headless, through playwright-core: no browser download) through
// "Verificar oro" against the built web app:
//   node tests/browser/verificar.mjs --url URL | --dist DIR  --cert GENUINE.json --key PUB.pem
//        --tampered DIR (tests/tamper.mjs's variants)  [--screenshots DIR]
// With --dist it serves DIR itself on a loopback port. Checks: the genuine certificate shows
// VERIFICADO with its units in a table and on the map (25 departments, one mark per unit, the
// departments of origin highlighted); its QR link, opened later, verifies again from what the
// browser remembered; tampered ones show NO VERIFICADO with the failing step and reason; the
// English toggle; and the page asks nothing of any host but its own (no CDN).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { args, fail, check, launch, app, shot } from "./lib.mjs";

const cert = readFileSync(args.cert, "utf8");
const key = readFileSync(args.key, "utf8");
const note = JSON.parse(cert).note;
const unitLines = note.split("\n").filter((l) => l.startsWith("unit "));
const deptLines = note.split("\n").filter((l) => l.startsWith("department "));

const { base, close } = await app();
const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, locale: "es-PE" });
  const page = await context.newPage();
  const foreign = [];
  const origin = new URL(base).origin;
  page.on("request", (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith("data:")) foreign.push(r.url());
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));

  // 1. The genuine certificate, opened as a file.
  await page.goto(`${base}#/verificar`);
  await page.getByLabel(/Clave pública de la autoridad/).fill(key);
  if (args.keyid) {
    const shown = await page.locator("#huella").innerText();
    check(shown.includes(args.keyid), `the key's fingerprint shows '${shown}', not ${args.keyid}`);
  }
  await page.setInputFiles("#archivo", args.cert);
  await page.waitForFunction(() => document.querySelector("#certificado").value.length > 0);
  await page.getByRole("button", { name: "Verificar" }).click();
  const verdict = page.locator("#veredicto");
  await verdict.waitFor();
  check((await verdict.getAttribute("data-ok")) === "true", `the genuine certificate: ${await verdict.innerText()}`);
  check((await verdict.innerText()).includes("VERIFICADO"), "no VERIFICADO banner");
  const departments = await page.locator("svg.mapa path.departamento").count();
  check(departments === 25, `the map draws ${departments} departments, not 25`);
  const units = await page.locator("svg.mapa g.unidad").count();
  check(units === unitLines.length, `the map draws ${units} units; the certificate names ${unitLines.length}`);
  const marks = await page.locator("svg.mapa g.unidad circle.unidad-marca").count();
  check(marks === unitLines.length, `${marks} unit marks with a polygon of their registry record`);
  const highlighted = await page.locator("svg.mapa path.departamento.origen").count();
  check(highlighted === deptLines.length, `${highlighted} departments highlighted; ${deptLines.length} of origin`);
  const rows = await page.locator("#unidades tbody tr").count();
  check(rows === unitLines.length, `${rows} rows of units`);
  const fine = await page.locator("#fino").innerText();
  check(/\d+[.,]\d{3} g/.test(fine), `fine gold shown as '${fine}'`);
  console.log(`verified: ${departments} departments, ${units} units on the map, fine gold ${fine}`);
  await shot(page, "verificar-oro-verificado.png");

  // 2. Its QR link, opened in a new page: verified again from what this browser remembered.
  const link = await page.locator("#enlace").getAttribute("href");
  check(/#\/verificar\?lote=[^&]+&nota=[0-9a-f]{64}$/.test(link), `QR link '${link}'`);
  const qrText = await page.locator("svg.qr-codigo").getAttribute("data-text");
  check(qrText === link, `the QR code holds '${qrText}', not the link`);
  check(((await page.locator("svg.qr-codigo path").getAttribute("d")) ?? "").length > 100, "an empty QR code");
  const again = await context.newPage();
  await again.goto(link);
  await again.locator("#veredicto").waitFor();
  check((await again.locator("#veredicto").getAttribute("data-ok")) === "true", "the QR link does not verify");
  await again.close();
  // In a browser that never opened it, the link says which file to open (and offers the server).
  const fresh = await browser.newContext();
  const stranger = await fresh.newPage();
  await stranger.goto(link);
  await stranger.locator(".aviso").waitFor();
  check((await stranger.locator(".aviso").innerText()).includes("aún no lo tiene"), "the QR link in a new browser");
  check((await stranger.locator("#pedir").count()) === 1, "no button to ask the server");
  await fresh.close();

  // 3. Tampered certificates, pasted: refused, with the step and the reason.
  for (const [name, step, words] of [
    ["share-moved", "aritmetica", "mg finos"],
    ["note-byte", "firma", "alterada"],
    ["proof-hash", "prueba", "prueba de inclusión"],
  ]) {
    await page.goto(`${base}#/verificar`);
    await page.locator("#certificado").fill(readFileSync(join(args.tampered, `${name}.json`), "utf8"));
    await page.getByRole("button", { name: "Verificar" }).click();
    await verdict.waitFor();
    check((await verdict.getAttribute("data-ok")) === "false", `${name} verified`);
    const reason = page.locator("#motivo");
    check((await reason.getAttribute("data-step")) === step, `${name}: step ${await reason.getAttribute("data-step")}, not ${step}`);
    check((await reason.innerText()).includes(words), `${name}: reason '${await reason.innerText()}'`);
    check((await page.locator("svg.mapa").count()) === 0, `${name}: a refused certificate draws a map`);
    console.log(`refused ${name}: ${await reason.innerText()}`);
    if (name === "share-moved") await shot(page, "verificar-oro-no-verificado.png");
  }

  // 4. English.
  await page.locator("#lang").click();
  check((await page.locator("h1").innerText()) === "Verify formal gold", "the English toggle");
  await page.locator("#lang").click();

  check(foreign.length === 0, `the page asked other hosts: ${foreign.join(", ")}`);
  check(errors.length === 0, `errors in the page: ${errors.join("; ")}`);
  console.log("PASS");
} finally {
  await browser.close();
  close();
}
