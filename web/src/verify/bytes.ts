// Bytes, text and encodings, exactly as core/base/strings.{h,cc} reads them: standard base64
// with padding, strictly (a text that does not re-encode to itself is refused), decimals
// without sign or leading zeros. No Node or DOM dependency: the same code runs in the browser
// and under node (the cross-check against `veta verify-certificate`).

const kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const kDecode = (() => {
  const t = new Int16Array(256).fill(-1);
  for (let i = 0; i < kAlphabet.length; i++) t[kAlphabet.charCodeAt(i)] = i;
  return t;
})();

export function base64Encode(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += kAlphabet[n >> 18] + kAlphabet[(n >> 12) & 63] + kAlphabet[(n >> 6) & 63] + kAlphabet[n & 63];
  }
  if (i < bytes.length) {
    const rest = bytes.length - i;
    const n = (bytes[i] << 16) | (rest === 2 ? bytes[i + 1] << 8 : 0);
    out += kAlphabet[n >> 18] + kAlphabet[(n >> 12) & 63];
    out += rest === 2 ? kAlphabet[(n >> 6) & 63] + "=" : "==";
  }
  return out;
}

// Standard alphabet with padding, strictly: null on anything else.
export function base64Decode(text: string): Uint8Array | null {
  if (text.length % 4 !== 0) return null;
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let n = 0;
    for (let k = 0; k < 4; k++) {
      const c = text.charCodeAt(i + k);
      const last = i + 4 === text.length;
      let v: number;
      if (c === 61 /* = */ && last && k >= 4 - pad) v = 0;
      else v = c < 256 ? kDecode[c] : -1;
      if (v < 0) return null;
      n = (n << 6) | v;
    }
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return base64Encode(out) === text ? out : null;
}

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// The order of std::string's operator<: byte by byte of the UTF-8 text.
export function compareBytes(a: string, b: string): number {
  const x = utf8(a);
  const y = utf8(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

const kUint64Max = (1n << 64n) - 1n;
export const kInt64Max = (1n << 63n) - 1n;

// A decimal without sign, leading zeros (except "0") or spaces, up to 2^64-1 (ParseU64).
export function parseU64(s: string): bigint | null {
  if (!/^[0-9]+$/.test(s) || (s.length > 1 && s[0] === "0")) return null;
  const v = BigInt(s);
  return v <= kUint64Max ? v : null;
}

// Digits only (leading zeros allowed), up to int64's maximum: units::ParseDecimal(s, 0).
export function parseMg(s: string): bigint | null {
  if (!/^[0-9]+$/.test(s)) return null;
  const v = BigInt(s);
  return v <= kInt64Max ? v : null;
}
