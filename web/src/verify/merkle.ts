// RFC 6962 / RFC 9162 hashes and inclusion proofs, as core/verify/merkle.cc computes them.
import { sha256 } from "@noble/hashes/sha2";

import { concat, equalBytes, toHex } from "./bytes.js";
import { fail } from "./status.js";

export function hashLeaf(entry: Uint8Array): Uint8Array {
  return sha256(concat(new Uint8Array([0]), entry));
}

export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(concat(new Uint8Array([1]), left, right));
}

// RFC 9162 2.1.3.2.
export function rootFromInclusionProof(
  index: bigint,
  size: bigint,
  leaf: Uint8Array,
  proof: Uint8Array[],
): Uint8Array {
  if (index >= size) {
    fail("prueba", `el índice de hoja ${index} no es menor que el tamaño del árbol ${size}`,
      `leaf index ${index} is not below tree size ${size}`);
  }
  let fn = index;
  let sn = size - 1n;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) {
      fail("prueba", `la prueba de inclusión tiene ${proof.length} hashes: demasiados`,
        `inclusion proof has ${proof.length} hashes: too many`);
    }
    if ((fn & 1n) === 1n || fn === sn) {
      r = hashChildren(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) {
    fail("prueba", `la prueba de inclusión tiene ${proof.length} hashes: muy pocos`,
      `inclusion proof has ${proof.length} hashes: too few`);
  }
  return r;
}

export function verifyInclusion(
  index: bigint,
  size: bigint,
  leaf: Uint8Array,
  proof: Uint8Array[],
  root: Uint8Array,
): void {
  const computed = rootFromInclusionProof(index, size, leaf, proof);
  if (!equalBytes(computed, root)) {
    fail("prueba",
      `la prueba de inclusión de la entrada ${index} lleva a la raíz ${toHex(computed)}, no a la del checkpoint ${toHex(root)}`,
      `inclusion proof of leaf ${index} leads to root ${toHex(computed)}, not the expected ${toHex(root)}`);
  }
}
