// C2SP signed notes and tlog checkpoints, read exactly as core/verify/note.cc reads them:
// verifier keys `name+hash+base64(0x01 || Ed25519 key)`, the note's text up to its last blank
// line, signature lines `— name base64(key hash || signature)`, and the checkpoint's origin,
// size and root hash lines.
import { ed25519 } from "@noble/curves/ed25519";
import { sha256 } from "@noble/hashes/sha2";

import { base64Decode, base64Encode, concat, equalBytes, parseU64, toHex, utf8 } from "./bytes.js";
import { fail } from "./status.js";

const kSignaturePrefix = "\u2014 "; // em dash, space
const kAlgEd25519 = 0x01;
const kNoteBytesMax = 1 << 16;
const kSignaturesMax = 100;

export interface Checkpoint {
  origin: string;
  size: bigint;
  root: Uint8Array;
}

// Names are non-empty, with no Unicode spaces and no plus sign (signed-note spec).
export function checkName(name: string): void {
  const bytes = utf8(name);
  if (bytes.length === 0) fail("clave", "el nombre de la clave está vacío", "note key name is empty");
  for (const c of bytes) {
    if (c <= 0x20 || c === 0x2b) {
      fail(
        "clave",
        `el nombre de clave '${name}' tiene un espacio o un '+'`,
        `note key name '${name}' has a space or a '+'`,
      );
    }
  }
}

export function keyHash(name: string, rawKey: Uint8Array): Uint8Array {
  return sha256(concat(utf8(name), utf8("\n"), new Uint8Array([kAlgEd25519]), rawKey)).slice(0, 4);
}

export function verifierKey(name: string, rawKey: Uint8Array): string {
  checkName(name);
  return `${name}+${toHex(keyHash(name, rawKey))}+${base64Encode(concat(new Uint8Array([kAlgEd25519]), rawKey))}`;
}

// The note's signed text, when `rawKey` signed it under `name`; throws otherwise.
export function openNote(note: string, name: string, rawKey: Uint8Array): string {
  checkName(name);
  const hash = keyHash(name, rawKey);
  if (utf8(note).length > kNoteBytesMax) {
    fail("formato", "la nota es demasiado grande", "note is too large");
  }
  const split = note.lastIndexOf("\n\n");
  if (split < 0) {
    fail("formato", "nota mal formada: no hay línea en blanco antes de las firmas",
      "malformed note: no blank line before the signatures");
  }
  const text = note.slice(0, split + 1);
  if (text.includes("\n\n")) {
    fail("formato", "el texto de la nota no debe tener líneas en blanco",
      "note text must not contain a blank line");
  }
  let sigs = note.slice(split + 2);
  if (sigs.length === 0 || !sigs.endsWith("\n")) {
    fail("formato", "nota mal formada: el bloque de firmas debe terminar en salto de línea",
      "malformed note: signature block must end with a newline");
  }
  sigs = sigs.slice(0, -1);
  const lines = sigs.split("\n");
  if (lines.length > kSignaturesMax) fail("formato", "demasiadas firmas", "too many signatures");
  for (let line of lines) {
    if (!line.startsWith(kSignaturePrefix)) {
      fail("formato", "nota mal formada: línea de firma sin raya (—)",
        "malformed note: signature line without em dash");
    }
    line = line.slice(kSignaturePrefix.length);
    const space = line.indexOf(" ");
    if (space < 0) {
      fail("formato", "nota mal formada: línea de firma sin espacio",
        "malformed note: signature line without a space");
    }
    const blob = base64Decode(line.slice(space + 1));
    if (blob === null || blob.length < 5) {
      fail("formato", "nota mal formada: firma mal codificada", "malformed note: bad signature encoding");
    }
    if (line.slice(0, space) !== name || !equalBytes(blob.slice(0, 4), hash)) continue;
    if (verifyEd25519(blob.slice(4), utf8(text), rawKey)) return text;
    fail("firma", `la firma de ${name} no es válida: la nota fue alterada`,
      `note signature by ${name} does not verify: the note was altered`);
  }
  fail("firma", `la nota no tiene firma de ${name}`, `note has no signature by ${name}`);
}

// RFC 8032, strict as libsodium (no ZIP-215 leniency).
function verifyEd25519(sig: Uint8Array, message: Uint8Array, rawKey: Uint8Array): boolean {
  if (sig.length !== 64) return false;
  try {
    return ed25519.verify(sig, message, rawKey, { zip215: false });
  } catch {
    return false;
  }
}

export function parseCheckpointText(text: string): Checkpoint {
  const lines = text.split("\n");
  if (lines.length < 4 || lines[lines.length - 1] !== "") {
    fail("checkpoint", "el checkpoint necesita líneas de origen, tamaño y raíz",
      "checkpoint needs origin, size and root lines");
  }
  const origin = lines[0];
  if (origin === "") fail("checkpoint", "el origen del checkpoint está vacío", "checkpoint origin is empty");
  const size = parseU64(lines[1]);
  if (size === null) {
    fail("checkpoint", `tamaño de checkpoint inválido '${lines[1]}'`, `bad checkpoint size '${lines[1]}'`);
  }
  const root = base64Decode(lines[2]);
  if (root === null || root.length !== 32) {
    fail("checkpoint", "hash raíz inválido: se espera base64 de 32 bytes",
      "bad checkpoint root hash: want base64 of 32 bytes");
  }
  return { origin, size, root };
}
