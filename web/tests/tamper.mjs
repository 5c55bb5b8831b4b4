// Writes tampered variants of a genuine certificate, for the cross-check of the browser's
// verifier against `veta verify-certificate` (tests/web/cross_check_test.sh):
//   node tests/tamper.mjs CERT.json AUTHORITY_KEY.pem OUT_DIR
// Each variant is OUT_DIR/<name>.json; OUT_DIR/expected.txt lists "<name> ok|refused". Some
// variants are re-signed with the authority's private key (a test ledger's key): they pass
// both signatures, so only the replay of the lots' arithmetic can refuse them.
import { ed25519 } from "@noble/curves/ed25519";
import { sha256 } from "@noble/hashes/sha2";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [certFile, keyFile, out] = process.argv.slice(2);
const cert = JSON.parse(readFileSync(certFile, "utf8"));
const pem = readFileSync(keyFile, "utf8").replace(/-----[^-]+-----|\s/g, "");
const seed = Buffer.from(pem, "base64").subarray(-32); // PKCS#8 Ed25519: the seed is last
const pub = ed25519.getPublicKey(seed);
mkdirSync(out, { recursive: true });
const expected = [];
const clone = () => JSON.parse(JSON.stringify(cert));
const write = (name, c, outcome) => {
  writeFileSync(join(out, `${name}.json`), JSON.stringify(c, null, 1));
  expected.push(`${name} ${outcome}`);
};

// The note's text re-signed by the authority, as core/verify/note.cc signs.
function resign(text, name) {
  const enc = new TextEncoder();
  const hash = sha256(new Uint8Array([...enc.encode(name), 10, 1, ...pub])).slice(0, 4);
  const sig = ed25519.sign(enc.encode(text), seed);
  return `${text}\n\u2014 ${name} ${Buffer.from([...hash, ...sig]).toString("base64")}\n`;
}
const textOf = (note) => note.slice(0, note.lastIndexOf("\n\n") + 1);
const origin = cert.note.split("\n")[0];
const flipB64 = (b64, i = 0) => {
  const b = Buffer.from(b64, "base64");
  b[i] ^= 1;
  return b.toString("base64");
};

write("genuine", clone(), "ok");
write("resigned-same", (() => { const c = clone(); c.note = resign(textOf(c.note), origin); return c; })(), "ok");

// One byte of the note (a digit of the fine milligrams): its signature fails.
let c = clone();
c.note = c.note.replace(/^fine-mg (\d)/m, (_, d) => `fine-mg ${(Number(d) + 1) % 10}`);
write("note-byte", c, "refused");
// One byte of the checkpoint's note.
c = clone();
c.checkpoint.note = c.checkpoint.note.replace(/\n(\d)/, (_, d) => `\n${(Number(d) + 1) % 10}`);
write("checkpoint-byte", c, "refused");
// A hash of an inclusion proof.
c = clone();
c.entries[0].inclusion.hashes[0] = flipB64(c.entries[0].inclusion.hashes[0]);
write("proof-hash", c, "refused");
// A byte of an entry's payload (near its end: the envelope's payload or signature).
c = clone();
c.entries[c.entries.length - 1].entry = flipB64(c.entries[c.entries.length - 1].entry, 40);
write("entry-payload", c, "refused");
// An entry left out.
c = clone();
c.entries.splice(1, 1);
write("entry-missing", c, "refused");

// Shares, re-signed by the authority: only the replay of the arithmetic refuses them.
const lines = textOf(cert.note).split("\n");
const units = lines.filter((l) => l.startsWith("unit "));
const resigned = (edit) => { const c = clone(); c.note = resign(edit(textOf(c.note)), origin); return c; };
const bump = (line, delta) => { const f = line.split(" "); f[f.length - 1] = String(BigInt(f[f.length - 1]) + BigInt(delta)); return f.join(" "); };
write("share-plus-one", resigned((t) => t.replace(units[0], bump(units[0], 1))), "refused");
if (units.length >= 2) {
  // One milligram moved between two units: the total still adds up.
  write("share-moved", resigned((t) => t.replace(units[0], bump(units[0], 1)).replace(units[1], bump(units[1], -1))), "refused");
}
const fine = lines.find((l) => l.startsWith("fine-mg "));
write("fine-mg-plus-one", resigned((t) => t.replace(fine, bump(fine, 1))), "refused");
const dept = lines.find((l) => l.startsWith("department "));
write("department-renamed", resigned((t) => t.replace(dept, dept.replace(/^department \d\d/, "department 99"))), "refused");
const unitDept = units[0].split(" ");
unitDept[2] = unitDept[2] === "15" ? "16" : "15";
write("unit-department", resigned((t) => t.replace(units[0], unitDept.join(" "))), "refused");
const holder = lines.find((l) => l.startsWith("holder "));
write("holder", resigned((t) => t.replace(holder, "holder 20999999999")), "refused");

writeFileSync(join(out, "expected.txt"), expected.join("\n") + "\n");
