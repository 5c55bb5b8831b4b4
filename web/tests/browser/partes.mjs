// The parties' desks in Debian's chromium, over TLS (veta-server --tls-cert), each party signed
// in with the demo's key for it (veta-demo --out-dir: llaves/<RUC>.pem):
//   - the trader sees its own lots and refused attempts on "Mis lotes y planta", and is refused,
//     in Spanish, what only a regulator may read (all attempts, the indicators, another party's
//     lot's lineage);
//   - the plant sees the ore lot it received, declares a processing whose live mass balance
//     says "no cuadra" for too much gold and "cuadra" for a possible amount, checks it (Check),
//     signs it here and records it (Submit); its new gold lot is listed with its certificate
//     (QR link); asking for the
//     certificate of the demo's flagged gold says why there is none;
//   - the exporter saves its exported gold's certificate (a JSON download) whose QR link names
//     the SHA-256 of the downloaded certificate's note.
//   node tests/browser/partes.mjs --url URL --trader-key PEM --plant-key PEM --exporter-key PEM
//     --ore-lot LOT --out-lot NEW_LOT --flagged GOLD_LOT --exported LOT [--screenshots DIR]
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { args, fail, check, launch, shot, holdBack, appears } from "./lib.mjs";


const browser = await launch();
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1000, height: 800 }, locale: "es-PE", acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));

  // Imports a key in "Firmar" and signs in with it.
  const signIn = async (name, pem, role) => {
    await page.goto(`${args.url}#/firmar`);
    await page.getByLabel(/Nombre de la clave/).fill(name);
    await page.getByLabel(/pegue el PEM/).fill(readFileSync(pem, "utf8"));
    await page.getByRole("button", { name: "Importar clave" }).click();
    await page.locator(`button.entrar[data-key=${name}]`).click();
    await page.locator(`#sesion[data-role=${role}]`).waitFor();
    await page.goto(`${args.url}#/planta`);
    await page.locator(`#parte[data-role=${role}]`).waitFor();
    await page.locator("#mis-lotes").waitFor();
    await page.locator("#mis-intentos").waitFor();
  };

  // The trader: its lots and attempts; the regulator's views refused in Spanish.
  await signIn("comercializador", args["trader-key"], "trader");
  const traderLots = await page.locator("#mis-lotes tbody tr").count();
  const traderAttempts = await page.locator("#mis-intentos tbody tr").count();
  check(traderLots >= 1, `the trader sees ${traderLots} lots`);
  check(traderAttempts >= 1, `the trader sees ${traderAttempts} refused attempts`);
  const codes = await page.locator("#mis-intentos tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.code));
  console.log(`trader: ${traderLots} lots, ${traderAttempts} refused attempts (${codes.join(", ")})`);
  await shot(page, "mis-lotes-comercializador.png");
  await page.goto(`${args.url}#/regulador?lote=${encodeURIComponent(args.exported)}`);
  await page.locator("#caja-intentos .error").waitFor();
  // Another party's lot (the exporter's): its lineage is not the trader's to read.
  await page.locator("#caja-linaje .error").waitFor();
  check((await page.locator("#caja-linaje .error").innerText()).includes("su sesión no tiene ese permiso"), "the trader read the exporter's lineage");
  const denied = await page.locator("#caja-intentos .error").innerText();
  check(denied.includes("Solo un regulador") && denied.includes("su sesión no tiene ese permiso") && /permission_denied/i.test(denied), `the trader's view of all attempts: ${denied}`);
  if (await page.locator("#caja-indicadores").count()) {
    await page.locator("#caja-indicadores .error").waitFor();
    check((await page.locator("#caja-indicadores .error").innerText()).includes("Solo un regulador"), "the trader read the indicators");
  }
  console.log(`trader refused: ${denied.split("\n")[0]}`);

  // The plant: the ore it received, a processing with its mass balance, checked and recorded.
  await signIn("planta", args["plant-key"], "plant");
  const ore = page.locator(`#mis-lotes tbody tr[data-lote="${args["ore-lot"]}"]`);
  check((await ore.getAttribute("data-tipo")) === "mineral", `the plant does not list ore lot ${args["ore-lot"]}`);
  await page.locator("#entrada-lote-1").selectOption(args["ore-lot"]);
  await page.getByLabel("Cantidad 1 (kg de mineral, o g de oro)").fill("250");
  await page.getByLabel("Lote nuevo 1").fill(args["out-lot"]);
  await page.getByLabel(/^Doré 1/).fill("3");
  await page.locator("#balance[data-estado=excede]").waitFor();
  const tooMuch = await page.locator("#veredicto-balance").innerText();
  check(tooMuch.startsWith("No cuadra"), `3 g of doré from 250 kg of ore: ${tooMuch}`);
  await page.getByLabel(/^Doré 1/).fill("2");
  await page.locator("#balance[data-estado=cuadra]").waitFor();
  console.log(`mass balance: ${tooMuch.split(".")[0]}; then ${(await page.locator("#veredicto-balance").innerText()).split(".")[0]}`);
  // Too much for the lot: said before anything is signed.
  await page.getByLabel("Cantidad 1 (kg de mineral, o g de oro)").fill("250000");
  await page.locator("#balance[data-estado=incompleto]").waitFor();
  check((await page.locator("#balance").innerText()).includes("solo tiene"), "250 t of a 250 kg lot");
  await page.getByLabel("Cantidad 1 (kg de mineral, o g de oro)").fill("250");
  // The preview's arithmetic is the rules': at fineness 1000 the maximum itself balances and
  // the registry's Check accepts it; one milligram more does not, and Check refuses it so.
  await page.locator("#balance[data-estado=cuadra]").waitFor();
  const maxMg = BigInt(await page.locator("#balance").getAttribute("data-maximo-mg"));
  const asGrams = (mg) => `${mg / 1000n}.${String(mg % 1000n).padStart(3, "0")}`;
  await page.getByLabel(/^Ley 1/).fill("1000");
  const verdict = async (grams) => {
    await page.getByLabel(/^Doré 1/).fill(grams);
    await page.locator("#estado-procesamiento").evaluate((e) => e.replaceChildren());
    await page.getByRole("button", { name: "Comprobar en el registro" }).click();
    await page.locator("#estado-procesamiento > *").first().waitFor();
    return [await page.locator("#balance").getAttribute("data-estado"),
      (await page.locator("#veredicto-procesamiento").count()) ? "accepted" : await page.locator("#estado-procesamiento .error").getAttribute("data-code")];
  };
  const atMax = await verdict(asGrams(maxMg));
  const overMax = await verdict(asGrams(maxMg + 1n));
  check(atMax[0] === "cuadra" && atMax[1] === "accepted", `${asGrams(maxMg)} g of fine gold (the maximum): preview ${atMax[0]}, registry ${atMax[1]}`);
  check(overMax[0] === "excede" && overMax[1] === "MASS_BALANCE_EXCEEDED", `one mg over the maximum: preview ${overMax[0]}, registry ${overMax[1]}`);
  console.log(`mass balance at the boundary: ${asGrams(maxMg)} g fine ${atMax.join("/")}, +1 mg ${overMax.join("/")}`);
  await page.getByLabel(/^Ley 1/).fill("900");
  await page.getByLabel(/^Doré 1/).fill("2");
  await page.locator("#estado-procesamiento").evaluate((e) => e.replaceChildren());
  await page.getByRole("button", { name: "Comprobar en el registro" }).click();
  await page.locator("#veredicto-procesamiento").waitFor();
  await shot(page, "planta.png");
  await page.getByRole("button", { name: "Firmar y registrar" }).click();
  await page.locator("#procesamiento-registrado").waitFor();
  console.log(`plant: ${await page.locator("#procesamiento-registrado").innerText()}`);
  const gold = page.locator(`#mis-lotes tbody tr[data-lote="${args["out-lot"]}"]`);
  await gold.waitFor();
  check((await gold.getAttribute("data-tipo")) === "oro", "the processing's gold lot is not listed");
  check((await ore.count()) === 0 || (await ore.innerText()).includes("agotado"), `the ore lot after the processing: ${await ore.innerText()}`);
  // Its new gold's certificate (once a checkpoint covers it), with its QR link.
  await gold.getByRole("button", { name: "Certificado" }).click();
  const own = page.locator(`#caja-certificado figure.qr[data-lote="${args["out-lot"]}"]`);
  await own.waitFor();
  check((await own.locator("a.enlace-verificar").getAttribute("href")).includes(`lote=${encodeURIComponent(args["out-lot"])}&nota=`), "the plant's certificate link");
  console.log(`plant: certificate of ${args["out-lot"]}`);
  // The demo's gold from the structured cash sale (flagged): no certificate, and why.
  await page.locator(`#mis-lotes tbody tr[data-lote="${args.flagged}"] button.pedir-certificado`).click();
  await page.locator(`#caja-certificado .error[data-lote="${args.flagged}"]`).waitFor();
  const none = await page.locator("#caja-certificado .error").innerText();
  check(none.includes("Sin certificado"), `the flagged gold's certificate: ${none}`);
  console.log(`flagged gold: ${none.replace(/\n+/g, " | ")}`);
  // The newest click wins: the new gold's certificate is held back 1.5 s while the plant asks
  // for the flagged gold's. The late certificate must not replace the answer about the lot
  // clicked last (another lot's QR code would stand under it). Watched for 6 s after it.
  const passed = await holdBack(page, "**/veta.v1.Ledger/GetCertificate", (body) => body.includes(args["out-lot"]));
  await gold.getByRole("button", { name: "Certificado" }).click();
  await page.locator(`#mis-lotes tbody tr[data-lote="${args.flagged}"] button.pedir-certificado`).click();
  await page.locator(`#caja-certificado .error[data-lote="${args.flagged}"]`).waitFor();
  const stale = appears(own);
  check(await passed(), `the certificate of ${args["out-lot"]} was not held back: the test did not force the race`);
  check(!(await stale), `asked for ${args["out-lot"]}'s certificate, then ${args.flagged}'s: the box shows ${args["out-lot"]}'s`);
  await page.unroute("**/veta.v1.Ledger/GetCertificate");
  console.log(`the late certificate of ${args["out-lot"]} did not replace the answer for ${args.flagged}`);

  // The exporter: its exported gold's certificate, saved, with its QR link.
  await signIn("exportador", args["exporter-key"], "exporter");
  await page.locator(`#mis-lotes tbody tr[data-lote="${args.exported}"] button.pedir-certificado`).click();
  const figure = page.locator(`#caja-certificado figure.qr[data-lote="${args.exported}"]`);
  await figure.waitFor();
  const [download] = await Promise.all([page.waitForEvent("download"), figure.locator("a.descarga-certificado").click()]);
  const cert = JSON.parse(readFileSync(await download.path(), "utf8"));
  const nota = createHash("sha256").update(cert.note, "utf8").digest("hex");
  const link = await figure.locator("a.enlace-verificar").getAttribute("href");
  check(link.endsWith(`#/verificar?lote=${encodeURIComponent(args.exported)}&nota=${nota}`), `the QR link ${link} (note digest ${nota})`);
  check((await figure.locator("svg.qr-codigo").getAttribute("data-text")) === link, "the QR code does not hold the link");
  await shot(page, "certificado-exportador.png");
  check(errors.length === 0, `errors in the page: ${errors.join("; ")}`);
  console.log(`PASS: trader's lots and attempts, refused the regulator's; plant's processing recorded; certificate saved (${download.suggestedFilename()}) with QR ${link}`);
} finally {
  await browser.close();
}
