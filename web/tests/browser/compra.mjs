// A purchase registered from the browser, as a person does it (README "En el navegador"), in
// Debian's chromium against veta-server (--web-dir, the Connect API): on "Mesa del comprador"
// the seller is looked up and a purchase of part of a lot it holds typed in kilograms and
// soles; on "Firmar" the buyer's key and the seller's key are imported from their PEM files,
// the buyer signs, the seller's signature is added to the envelope the buyer signed ("…o un
// sobre que otra parte ya firmó"), the pre-purchase check says it would be accepted, and Submit
// records it. Then, through the API (GetLot): the buyer's new lot holds exactly the quantity
// typed, taken from the seller's lot. The same envelope submitted again is refused as a replay,
// and a purchase of more than the lot has left is refused with its code and its Spanish
// explanation; neither changes any lot.
//   node tests/browser/compra.mjs --url URL --seller RUC --seller-key PEM --buyer RUC
//        --buyer-key PEM --lot SELLERS_LOT --new-lot BUYERS_NEW_LOT --kg KG --price SOLES
//        [--screenshots DIR]
import { args, fail, check, launch, shot } from "./lib.mjs";


// The Connect API as any client calls it (the local operator, on loopback without TLS).
async function call(method, body) {
  const r = await fetch(new URL(`veta.v1.Ledger/${method}`, args.url), {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}
const lot = async (id) => {
  const r = await call("GetLot", { lotId: id });
  return r.status === 200 ? r.body : null;
};
const snapshot = async () => JSON.stringify([await lot(args.lot), await lot(args.newLot), await lot(`${args["new-lot"]}-MAS`)]);
args.newLot = args["new-lot"];

// kg at scale 3 -> g, exactly (no floating point).
const grams = (kg) => {
  const [whole, frac = ""] = kg.split(".");
  return BigInt(whole + frac.padEnd(3, "0"));
};

const browser = await launch();
try {
  const before = await lot(args.lot);
  check(before !== null && before.holderId === args.seller, `the seller ${args.seller} does not hold ${args.lot}: ${JSON.stringify(before)}`);
  const left = BigInt(before.remainingOreG ?? "0");
  const taken = grams(args.kg);
  check(left > taken, `${args.lot} has ${left} g of ore left, not more than ${taken}`);
  check((await lot(args.newLot)) === null, `${args.newLot} exists already`);

  const page = await (await browser.newContext({ viewport: { width: 1000, height: 900 }, locale: "es-PE" })).newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));

  // Mesa del comprador: the seller, then the purchase.
  const prepare = async (kg, newLot) => {
    await page.goto(`${args.url}#/mesa`);
    await page.getByLabel(/RUC \(11 dígitos\)/).fill(args.seller);
    await page.getByRole("button", { name: "Consultar" }).click();
    await page.locator("#ficha").waitFor();
    const card = await page.locator("#ficha").innerText();
    check(card.includes("VIGENTE"), `the seller's card: ${card}`);
    await page.getByLabel("Lote del vendedor").fill(args.lot);
    await page.getByLabel("RUC o DNI del vendedor").fill(args.seller);
    await page.getByLabel("Su RUC (comprador)").fill(args.buyer);
    await page.getByLabel("Su lote nuevo").fill(newLot);
    await page.getByLabel("Qué compra").selectOption("ore");
    await page.getByLabel(/^Cantidad/).fill(kg);
    await page.getByLabel(/^Precio total/).fill(args.price);
    await page.getByLabel("N.º de operación o de cheque").fill(`OP-WEB-${Date.now()}`);
    await page.getByRole("button", { name: "Preparar y firmar" }).click();
    await page.waitForURL(/#\/firmar/);
    await page.locator("#carga").waitFor();
    await page.waitForFunction(() => document.querySelector("#tipo")?.value === "sale");
    return JSON.parse(await page.locator("#carga").inputValue());
  };
  const sale = await prepare(args.kg, args.newLot);
  check(sale.quantityOreG === taken.toString() && sale.lotId === args.lot && sale.buyerLotId === args.newLot,
    `the draft: ${JSON.stringify(sale)}`);
  console.log(`Mesa del comprador: ${args.kg} kg of ${args.lot} from ${args.seller} for S/ ${args.price}`);

  // Firmar: both keys imported from their PEM files (the names people give them).
  const importKey = async (name, file) => {
    await page.getByLabel(/Nombre de la clave/).fill(name);
    await page.locator("#pem-archivo").setInputFiles(file);
    await page.waitForFunction(() => document.querySelector("#pem").value.includes("PRIVATE KEY"));
    await page.getByRole("button", { name: "Importar clave" }).click();
    await page.locator(`#lista-claves li button[data-key="${name}"]`).waitFor();
  };
  await importKey(args.buyer, args["buyer-key"]);
  await importKey(args.seller, args["seller-key"]);
  // The buyer signs...
  await page.getByLabel(args.buyer, { exact: true }).check();
  await page.getByRole("button", { name: "Firmar", exact: true }).click();
  await page.waitForFunction(() => document.querySelector("#sobre").value.length > 0);
  const byBuyer = JSON.parse(await page.locator("#sobre").inputValue());
  check(byBuyer.signatures.length === 1, `the buyer's envelope: ${byBuyer.signatures.length} signatures`);
  // ...the seller adds its signature to the envelope the buyer signed (the payload untouched).
  await page.getByLabel(/un sobre que otra parte ya firmó/).fill(JSON.stringify(byBuyer));
  await page.getByLabel(args.buyer, { exact: true }).uncheck();
  await page.getByLabel(args.seller, { exact: true }).check();
  await page.getByRole("button", { name: "Firmar", exact: true }).click();
  await page.waitForFunction(() => JSON.parse(document.querySelector("#sobre").value || "{}").signatures?.length === 2);
  const envelope = JSON.parse(await page.locator("#sobre").inputValue());
  check(envelope.payload === byBuyer.payload && envelope.signatures[0].sig === byBuyer.signatures[0].sig,
    "adding the seller's signature changed the buyer's envelope");
  // The pre-purchase check, then Submit.
  await page.getByRole("button", { name: "Comprobar antes de enviar" }).click();
  await page.locator("#veredicto-check, #estado-firma .error").first().waitFor();
  const verdict = await page.locator("#estado-firma").innerText();
  check(await page.locator("#veredicto-check").isVisible() && verdict.startsWith("Sería aceptada"), `the check: ${verdict}`);
  console.log(`pre-purchase check: ${verdict}`);
  await page.getByRole("button", { name: "Enviar al registro" }).click();
  await page.locator("#registrada, #estado-firma .error").first().waitFor();
  const recorded = await page.locator("#estado-firma").innerText();
  const entry = /Registrada como entrada ([0-9]+)\./.exec(recorded);
  check(entry !== null, `the submission: ${recorded}`);
  console.log(`submitted from the page: ${recorded}`);
  await shot(page, "compra-registrada.png");

  // In the ledger: the buyer's new lot holds what was typed, taken from the seller's lot.
  const bought = await lot(args.newLot);
  check(bought !== null && bought.holderId === args.buyer && BigInt(bought.originalOreG) === taken &&
    BigInt(bought.remainingOreG) === taken && bought.parentLotId === args.lot && String(bought.createdAt) === entry[1],
  `the buyer's lot: ${JSON.stringify(bought)}`);
  const after = await lot(args.lot);
  check(BigInt(after.remainingOreG ?? "0") === left - taken, `${args.lot}: ${left} g - ${taken} g left ${after.remainingOreG} g`);
  console.log(`GetLot: ${args.newLot} holds ${bought.remainingOreG} g of ore (entry ${bought.createdAt}); ${args.lot}: ${left} -> ${after.remainingOreG} g`);

  // Submitted again: a replay, refused, nothing changed.
  const state = await snapshot();
  await page.getByRole("button", { name: "Enviar al registro" }).click();
  await page.locator("#estado-firma .error").waitFor();
  const replay = page.locator("#estado-firma .error");
  check((await replay.getAttribute("data-code")) === "ENVELOPE_REPLAYED", `submitted again: ${await replay.innerText()}`);
  check((await replay.locator("strong").innerText()).includes("Envío repetido"), `the replay's explanation: ${await replay.innerText()}`);
  check((await snapshot()) === state, "the replay changed a lot");
  console.log(`submitted again: ${(await replay.innerText()).replace(/\n/g, " ")}`);

  // More than the lot has left: refused with its code and explanation, at the check and at
  // Submit; nothing changed.
  const more = (left - taken + 1000n).toString();
  const tooMuch = `${more.slice(0, -3) || "0"}.${more.slice(-3).padStart(3, "0")}`;
  await prepare(tooMuch, `${args.newLot}-MAS`);
  for (const who of [args.buyer, args.seller]) await page.getByLabel(who, { exact: true }).check();
  await page.getByRole("button", { name: "Firmar", exact: true }).click();
  await page.waitForFunction(() => JSON.parse(document.querySelector("#sobre").value || "{}").signatures?.length === 2);
  for (const button of ["Comprobar antes de enviar", "Enviar al registro"]) {
    await page.getByRole("button", { name: button }).click();
    const refusal = page.locator("#estado-firma .error");
    await refusal.waitFor();
    const text = await refusal.innerText();
    check((await refusal.getAttribute("data-code")) === "QUANTITY_EXCEEDS_LOT", `${button}, ${tooMuch} kg: ${text}`);
    check(text.includes("Más de lo que queda en el lote") && text.includes("le queda al lote"), `${button}: not explained in Spanish: ${text}`);
    console.log(`${button}, ${tooMuch} kg (${left - taken} g left): ${text.replace(/\n/g, " ")}`);
  }
  check((await snapshot()) === state, "the refused purchase changed a lot");
  await shot(page, "compra-rechazada.png");
  check(errors.length === 0, `errors in the page: ${errors.join("; ")}`);
  console.log("PASS: a purchase signed by both parties in the browser recorded with its exact quantity; replay and overdraw refused, explained, nothing changed");
} finally {
  await browser.close();
}
