// The role matrix in the browser, over TLS (veta-server --tls-cert, https on loopback with a
// certificate made for the test): the public, not signed in, may not read the refused attempts
// or a lot's lineage on the regulator's console; after signing in with the authority's key
// (a regulator, by core/read/access.h), the same page lists them.
//   node tests/browser/roles.mjs --url https://127.0.0.1:PORT/ --key AUTHORITY.pem --lot LOT
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { args, fail, check, launch } from "./lib.mjs";


const browser = await launch();
try {
  // The test's own certificate authority is not the system's: trust it for this context only.
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1000, height: 900 }, locale: "es-PE" });
  const page = await context.newPage();
  const console_ = `${args.url}#/regulador?lote=${encodeURIComponent(args.lot)}`;

  await page.goto(console_);
  await page.locator("#caja-intentos .error").waitFor();
  await page.locator("#caja-linaje .error").waitFor();
  const denied = await page.locator("#caja-intentos .error").innerText();
  check(/unauthenticated|permission_denied/i.test(denied) && denied.includes("inicie sesión"), `the public's attempts: ${denied}`);
  console.log(`public: ${denied}`);
  if (args.screenshots) await page.screenshot({ path: join(args.screenshots, "regulador-publico.png") });

  await page.goto(`${args.url}#/firmar`);
  await page.getByLabel(/Nombre de la clave/).fill("autoridad");
  await page.getByLabel(/pegue el PEM/).fill(readFileSync(args.key, "utf8"));
  await page.getByRole("button", { name: "Importar clave" }).click();
  await page.locator("button.entrar[data-key=autoridad]").click();
  await page.locator("#sesion[data-role=regulator]").waitFor();
  console.log(`signed in: ${await page.locator("#sesion").innerText()}`);

  await page.goto(console_);
  await page.locator("#intentos tbody tr").first().waitFor();
  await page.locator("#linaje tbody tr").first().waitFor();
  console.log(`regulator: ${await page.locator("#intentos tbody tr").count()} attempts, ${await page.locator("#linaje tbody tr").count()} lots of lineage`);
  console.log("PASS: the public is refused, the signed-in regulator reads");
} finally {
  await browser.close();
}
