// The authority's public key as a person has it: the PEM file `veta init` writes
// (data/authority.pub.pem, an Ed25519 SubjectPublicKeyInfo), or the checkpoint verifier key it
// prints (`origin+hash+base64`). Either becomes the 32 raw bytes of the Ed25519 key.
import { base64Decode, concat, equalBytes, toHex } from "./bytes.js";
import { keyHash } from "./note.js";
import { fail } from "./status.js";

// SEQUENCE { SEQUENCE { OID 1.3.101.112 } BIT STRING (32 bytes) }
const kSpkiPrefix = new Uint8Array([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

export interface AuthorityKey {
  raw: Uint8Array;
  // The name in a verifier key, when the key was given as one.
  name?: string;
}

export function parseAuthorityKey(input: string): AuthorityKey {
  const text = input.trim();
  const pem = /^-----BEGIN PUBLIC KEY-----([\s\S]*?)-----END PUBLIC KEY-----$/.exec(text);
  if (pem) {
    const der = base64Decode(pem[1].replace(/\s+/g, ""));
    if (der === null || der.length !== 44 || !equalBytes(der.slice(0, 12), kSpkiPrefix)) {
      fail("clave", "la clave PEM no es una clave pública Ed25519",
        "the PEM key is not an Ed25519 public key");
    }
    return { raw: der.slice(12) };
  }
  const plus1 = text.indexOf("+");
  const plus2 = plus1 < 0 ? -1 : text.indexOf("+", plus1 + 1);
  if (plus2 < 0 || plus2 - plus1 !== 9) {
    fail("clave", "clave de autoridad no reconocida: pegue el PEM o la clave verificadora nombre+hash+clave",
      "unrecognised authority key: paste the PEM or the verifier key name+hash+key");
  }
  const name = text.slice(0, plus1);
  const prefixed = base64Decode(text.slice(plus2 + 1));
  if (prefixed === null || prefixed.length !== 33 || prefixed[0] !== 0x01) {
    fail("clave", "clave verificadora mal formada: se espera una clave Ed25519",
      "malformed verifier key: want an Ed25519 key");
  }
  const raw = prefixed.slice(1);
  if (toHex(keyHash(name, raw)) !== text.slice(plus1 + 1, plus2)) {
    fail("clave", "clave verificadora mal formada: el hash no corresponde a la clave",
      "malformed verifier key: hash does not match the key");
  }
  return { raw, name };
}

// Lowercase hex SHA-256 of the SPKI DER: the key id the CLI prints (`veta init`).
export function spkiDer(raw: Uint8Array): Uint8Array {
  return concat(kSpkiPrefix, raw);
}
