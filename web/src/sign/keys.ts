// A party's signing key in WebCrypto: imported once from its PKCS#8 PEM (what `veta keygen`
// and `veta init` write) as a NON-extractable CryptoKey, so that no script can read it back;
// its public key (SPKI DER) and key id (lowercase hex SHA-256 of the SPKI, as envelopes name
// keys: core/verify/keys.h) are computed during the import, from a temporary extractable copy
// that is dropped. Ed25519 and ECDSA P-256, as the server accepts.
import { sha256 } from "@noble/hashes/sha2";

import { base64Decode, toHex } from "../verify/bytes.js";

export type Algorithm = "ed25519" | "ecdsa-p256";

export interface SigningKey {
  algorithm: Algorithm;
  privateKey: CryptoKey; // extractable: false
  spkiDer: Uint8Array;
  keyid: string;
}

const kEd25519Oid = [0x06, 0x03, 0x2b, 0x65, 0x70];
const kEcPublicKeyOid = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const kP256Oid = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

function contains(der: Uint8Array, needle: number[]): boolean {
  outer: for (let i = 0; i + needle.length <= der.length && i < 64; i++) {
    for (let k = 0; k < needle.length; k++) if (der[i + k] !== needle[k]) continue outer;
    return true;
  }
  return false;
}

export class KeyError extends Error {}

export function pkcs8FromPem(pem: string): { der: Uint8Array; algorithm: Algorithm } {
  const m = /-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/.exec(pem);
  if (!m) throw new KeyError("not a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----)");
  const der = base64Decode(m[1].replace(/\s+/g, ""));
  if (der === null) throw new KeyError("the PEM's base64 does not decode");
  if (contains(der, kEd25519Oid)) return { der, algorithm: "ed25519" };
  if (contains(der, kEcPublicKeyOid) && contains(der, kP256Oid)) return { der, algorithm: "ecdsa-p256" };
  throw new KeyError("the key is neither Ed25519 nor ECDSA P-256");
}

function params(algorithm: Algorithm) {
  return algorithm === "ed25519" ? { name: "Ed25519" } : { name: "ECDSA", namedCurve: "P-256" };
}

const buf = (b: Uint8Array): ArrayBuffer => b.slice().buffer as ArrayBuffer;

export async function importSigningKey(pem: string, subtle: SubtleCrypto = crypto.subtle): Promise<SigningKey> {
  const { der, algorithm } = pkcs8FromPem(pem);
  // The public half, from a copy that can be read once (JWK without its private part).
  const temporary = await subtle.importKey("pkcs8", buf(der), params(algorithm), true, ["sign"]);
  const jwk = await subtle.exportKey("jwk", temporary);
  delete jwk.d;
  jwk.key_ops = ["verify"];
  const pub = await subtle.importKey("jwk", jwk, params(algorithm), true, ["verify"]);
  const spkiDer = new Uint8Array(await subtle.exportKey("spki", pub));
  const privateKey = await subtle.importKey("pkcs8", buf(der), params(algorithm), false, ["sign"]);
  return { algorithm, privateKey, spkiDer, keyid: toHex(sha256(spkiDer)) };
}

// WebCrypto's ECDSA signature is r || s (32 bytes each); the server reads DER (core/verify/keys).
export function p1363ToDer(sig: Uint8Array): Uint8Array {
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = b.slice(i);
    return v[0] & 0x80 ? [0x02, v.length + 1, 0, ...v] : [0x02, v.length, ...v];
  };
  const body = [...int(sig.slice(0, 32)), ...int(sig.slice(32))];
  return new Uint8Array([0x30, body.length, ...body]);
}

export async function signBytes(key: SigningKey, message: Uint8Array, subtle: SubtleCrypto = crypto.subtle): Promise<Uint8Array> {
  if (key.algorithm === "ed25519") {
    return new Uint8Array(await subtle.sign({ name: "Ed25519" }, key.privateKey, buf(message)));
  }
  const raw = new Uint8Array(await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key.privateKey, buf(message)));
  return p1363ToDer(raw);
}
