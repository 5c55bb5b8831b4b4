// The browser's certificate verifier run under node, for the cross-check against
// `veta verify-certificate` (tests/web/cross_check_test.sh):
//   node dist-node/verify.mjs --authority KEY CERT.json
// KEY is a PEM file (data/authority.pub.pem) or a file holding the verifier key. Prints
// "VERIFICADO ..." and exits 0, or "NO VERIFICADO [step] reason" and exits 1; 2 on usage.
import { readFileSync } from "node:fs";

import { parseAuthorityKey } from "../verify/authority.js";
import { verifyCertificateJson } from "../verify/certificate.js";
import { VerifyError } from "../verify/status.js";

function main(argv: string[]): number {
  const i = argv.indexOf("--authority");
  if (i < 0 || i + 1 >= argv.length || argv.length !== 3) {
    process.stderr.write("usage: verify.mjs --authority KEY_FILE CERTIFICATE.json\n");
    return 2;
  }
  const keyFile = argv[i + 1];
  const certFile = argv.filter((_, k) => k !== i && k !== i + 1)[0];
  let raw: Uint8Array;
  try {
    raw = parseAuthorityKey(readFileSync(keyFile, "utf8")).raw;
  } catch (e) {
    process.stderr.write(`${keyFile}: ${e instanceof VerifyError ? e.es : String(e)}\n`);
    return 2;
  }
  const v = verifyCertificateJson(readFileSync(certFile, "utf8"), raw);
  if (!v.ok) {
    process.stdout.write(`NO VERIFICADO [${v.step}] ${v.es}\n  (${v.en})\n`);
    return 1;
  }
  const c = v.claims;
  process.stdout.write(`VERIFICADO: certificado oro formal del lote ${c.lotId} (titular ${c.holder})\n`);
  process.stdout.write(`  ${c.fineMg} mg de oro fino\n`);
  for (const u of c.units) process.stdout.write(`  unit ${u.unit} ${u.department} ${u.fineMg}\n`);
  for (const d of c.departments) process.stdout.write(`  department ${d.department} ${d.fineMg}\n`);
  process.stdout.write(`  checkpoint ${c.checkpoint.size} de ${c.checkpoint.origin}, ${c.entries.length} entradas\n`);
  process.stdout.write(`  nota sha256 ${v.noteSha256}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
