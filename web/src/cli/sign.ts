// The browser's signing code (web/src/sign) run under node, for the cross-check against
// `veta sign` and the server (tests/web/sign_test.sh), with node's WebCrypto:
//   node dist-node/sign.mjs --key KEY.pem [--key KEY2.pem] --type KIND PAYLOAD.json
//   node dist-node/sign.mjs --key KEY.pem --add-to ENVELOPE.json
// Prints the signed envelope as JSON, as `veta sign` does; exits 2 on bad input.
import { readFileSync } from "node:fs";
import { webcrypto } from "node:crypto";

import type { JsonValue } from "@bufbuild/protobuf";

import { addSignatures, kPayloadTypes, type PayloadKind, payloadBytes, signEnvelope } from "../sign/envelope.js";
import { importSigningKey } from "../sign/keys.js";

async function main(argv: string[]): Promise<number> {
  const keys: string[] = [];
  let kind = "memo";
  let file = "";
  let addTo = "";
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--key") keys.push(argv[++i]);
    else if (argv[i] === "--type") kind = argv[++i];
    else if (argv[i] === "--add-to") addTo = argv[++i];
    else file = argv[i];
  }
  if (keys.length === 0 || (file === "" && addTo === "") || !(kind in kPayloadTypes)) {
    process.stderr.write(`usage: sign.mjs --key KEY.pem [--key ...] --type ${Object.keys(kPayloadTypes).join("|")} PAYLOAD.json\n`);
    return 2;
  }
  const subtle = webcrypto.subtle as unknown as SubtleCrypto;
  try {
    const signing = [];
    for (const k of keys) signing.push(await importSigningKey(readFileSync(k, "utf8"), subtle));
    if (addTo !== "") {
      const envelope = await addSignatures(JSON.parse(readFileSync(addTo, "utf8")) as JsonValue, signing, subtle);
      process.stdout.write(JSON.stringify(envelope) + "\n");
      return 0;
    }
    const payload = payloadBytes(kind as PayloadKind, JSON.parse(readFileSync(file, "utf8")) as JsonValue);
    const envelope = await signEnvelope(kind as PayloadKind, payload, signing, subtle);
    process.stdout.write(JSON.stringify(envelope) + "\n");
    return 0;
  } catch (e) {
    process.stderr.write(`sign.mjs: ${String(e)}\n`);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
