// "Oro formal" certificates verified offline, with only the authority's public key: the same
// checks, in the same order, as core/verify/certificate_verify.cc (read its header for the
// note's format): both signed notes, every entry's RFC 6962 inclusion proof against the
// checkpoint, the envelopes' stateless decoding (core/verify/envelope.cc), and the replay of
// the lots' arithmetic over the entries' payloads, compared exactly with the claims.
import { fromBinary, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { sha256 } from "@noble/hashes/sha2";

import { type Certificate, CertificateSchema } from "../gen/veta/v1/custody_pb.js";
import { type Envelope, EnvelopeSchema } from "../gen/veta/v1/envelope_pb.js";
import {
  type Entry,
  EntrySchema,
  GenesisSchema,
  KeyRegistrationSchema,
  MemoSchema,
  type ProofBundle,
} from "../gen/veta/v1/ledger_pb.js";
import {
  CorrectionSchema,
  ExportSchema,
  ExtractionSchema,
  FlagClearanceSchema,
  ProcessingSchema,
  RegistryRecordSchema,
  SaleSchema,
} from "../gen/veta/v1/registry_pb.js";
import { base64Decode, equalBytes, parseMg, parseU64, toHex, utf8 } from "./bytes.js";
import * as lots from "./lots.js";
import { type Checkpoint, openNote, parseCheckpointText } from "./note.js";
import { hashLeaf, verifyInclusion } from "./merkle.js";
import { fail, type Step, VerifyError } from "./status.js";

export const kCertificateTitle = "oro-formal certificate v2";

export interface UnitClaim {
  unit: string;
  department: string;
  fineMg: bigint;
}
export interface Claims {
  origin: string;
  lotId: string;
  holder: string;
  fineMg: bigint;
  remainingMg: bigint;
  exportedTo: string;
  exportedAt: bigint;
  units: UnitClaim[];
  departments: { department: string; fineMg: bigint }[];
  checkpoint: Checkpoint;
  entries: bigint[];
}
// A unit of origin as its registry record in the certificate describes it.
export interface UnitRecord {
  code: string;
  name: string;
  ubigeo: string;
  holderRuc: string;
  geometry: unknown; // GeoJSON Polygon or MultiPolygon, or null when it does not parse
}

export type Verdict =
  | { ok: true; claims: Claims; units: Map<string, UnitRecord>; noteSha256: string }
  | { ok: false; step: Step; es: string; en: string; noteSha256: string };

// Lowercase hex SHA-256 of the note's UTF-8 bytes: what the QR URL's `nota` holds.
export function noteDigest(note: string): string {
  return toHex(sha256(utf8(note)));
}

// A certificate file's text (protobuf JSON of veta.v1.Certificate) as a message.
export function parseCertificateJson(text: string): Certificate {
  let json: JsonValue;
  try {
    json = JSON.parse(text) as JsonValue;
  } catch (e) {
    fail("formato", `el archivo no es JSON: ${String(e)}`, `the file is not JSON: ${String(e)}`);
  }
  try {
    return fromJson(CertificateSchema, json);
  } catch (e) {
    fail("formato", `el JSON no es un certificado (veta.v1.Certificate): ${String(e)}`,
      `the JSON is not a certificate (veta.v1.Certificate): ${String(e)}`);
  }
}

export function verifyCertificateJson(text: string, authority: Uint8Array, expectedOrigin = ""): Verdict {
  let cert: Certificate;
  try {
    cert = parseCertificateJson(text);
  } catch (e) {
    return failed(e, "");
  }
  return verifyCertificate(cert, authority, expectedOrigin);
}

export function verifyCertificate(cert: Certificate, authority: Uint8Array, expectedOrigin = ""): Verdict {
  const noteSha256 = noteDigest(cert.note);
  try {
    const { claims, units } = check(cert, authority, expectedOrigin);
    return { ok: true, claims, units, noteSha256 };
  } catch (e) {
    return failed(e, noteSha256);
  }
}

function failed(e: unknown, noteSha256: string): Verdict {
  if (e instanceof VerifyError) return { ok: false, step: e.step, es: e.es, en: e.en, noteSha256 };
  const text = String(e);
  return { ok: false, step: "formato", es: `error inesperado: ${text}`, en: `unexpected error: ${text}`, noteSha256 };
}

export function openCheckpointNote(noteText: string, authority: Uint8Array): Checkpoint {
  const nl = noteText.indexOf("\n");
  const origin = nl < 0 ? noteText : noteText.slice(0, nl);
  return parseCheckpointText(openNote(noteText, origin, authority));
}

function check(cert: Certificate, authority: Uint8Array, expectedOrigin: string) {
  if (cert.checkpoint === undefined) {
    fail("checkpoint", "el certificado no trae checkpoint", "the certificate carries no checkpoint");
  }
  const cp = openCheckpointNote(cert.checkpoint.note, authority);
  if (expectedOrigin !== "" && cp.origin !== expectedOrigin) {
    fail("checkpoint", `el certificado es del registro '${cp.origin}', no de '${expectedOrigin}'`,
      `the certificate is from log '${cp.origin}', not '${expectedOrigin}'`);
  }
  if (cert.checkpoint.origin !== cp.origin || cert.checkpoint.treeSize !== cp.size ||
      !equalBytes(cert.checkpoint.rootHash, cp.root)) {
    fail("checkpoint", "los campos del checkpoint difieren de su nota firmada",
      "the checkpoint's fields differ from its signed note");
  }
  const text = openNote(cert.note, cp.origin, authority);
  const claims = parseClaims(text);
  if (claims.origin !== cp.origin || claims.checkpoint.size !== cp.size ||
      !equalBytes(claims.checkpoint.root, cp.root)) {
    fail("checkpoint", "el certificado nombra otro checkpoint que el que trae",
      "the certificate names another checkpoint than the one it carries");
  }
  // Every entry it names is there, proven against the checkpoint; replayed in log order.
  const decoded = new Map<bigint, Decoded>();
  for (const bundle of cert.entries) {
    verifyInclusionBundle(bundle, cp);
    const entry = fromBinary(EntrySchema, bundle.entry);
    const d = decodeEnvelope(entry.envelope);
    if (!decoded.has(entry.sequence)) decoded.set(entry.sequence, d);
  }
  for (const seq of claims.entries) {
    if (!decoded.has(seq)) {
      fail("prueba", `el certificado se apoya en la entrada ${seq} pero no la trae`,
        `the certificate rests on entry ${seq} but does not carry it`);
    }
  }
  if (decoded.size !== claims.entries.length) {
    fail("prueba", "el certificado trae entradas que no nombra", "the certificate carries entries it does not name");
  }
  const r = new Recomputer();
  for (const seq of [...decoded.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    r.add(seq, decoded.get(seq)!);
  }
  const lot = r.lot(claims.lotId);
  if (lot.originalFineMg !== claims.fineMg) {
    fail("aritmetica", `el certificado declara ${claims.fineMg} mg finos; sus entradas muestran ${lot.originalFineMg}`,
      `the certificate claims ${claims.fineMg} fine mg; its entries show ${lot.originalFineMg}`);
  }
  if (lot.holder !== claims.holder) {
    fail("aritmetica", `el certificado nombra al titular ${claims.holder}; sus entradas muestran ${lot.holder}`,
      `the certificate names holder ${claims.holder}; its entries show ${lot.holder}`);
  }
  const origin = new Map<string, bigint>();
  for (const s of lots.originOf(lot)) origin.set(s.unit, s.fineMg);
  if (claims.units.length !== origin.size) {
    fail("aritmetica", `el certificado nombra ${claims.units.length} unidades de origen; sus entradas muestran ${origin.size}`,
      `the certificate names ${claims.units.length} units of origin; its entries show ${origin.size}`);
  }
  const byDepartment = new Map<string, bigint>();
  const named = new Set<string>();
  for (const u of claims.units) {
    if (named.has(u.unit)) {
      fail("formato", `el certificado nombra la unidad ${u.unit} dos veces`, `the certificate names unit ${u.unit} twice`);
    }
    named.add(u.unit);
    const mg = origin.get(u.unit);
    if (mg === undefined || mg !== u.fineMg) {
      fail("aritmetica", `el certificado da a la unidad ${u.unit} ${u.fineMg} mg finos; sus entradas muestran ${mg ?? 0n}`,
        `the certificate gives unit ${u.unit} ${u.fineMg} fine mg; its entries show ${mg ?? 0n}`);
    }
    const dept = r.department(u.unit);
    if (dept !== u.department) {
      fail("aritmetica", `la unidad ${u.unit} está en el departamento ${dept}, no en ${u.department}`,
        `unit ${u.unit} is in department ${dept}, not ${u.department}`);
    }
    byDepartment.set(dept, (byDepartment.get(dept) ?? 0n) + mg);
  }
  const departments = new Set(claims.departments.map((d) => d.department));
  if (claims.departments.length !== byDepartment.size || departments.size !== byDepartment.size) {
    fail("aritmetica", "los departamentos del certificado no son los de sus unidades",
      "the certificate's departments are not those of its units");
  }
  for (const d of claims.departments) {
    if (byDepartment.get(d.department) !== d.fineMg) {
      fail("aritmetica", `la parte del departamento ${d.department} no cuadra`,
        `the share of department ${d.department} does not add up`);
    }
  }
  claims.checkpoint = cp;
  return { claims, units: r.units };
}

function verifyInclusionBundle(bundle: ProofBundle, cp: Checkpoint): void {
  const proof = bundle.inclusion;
  if (proof === undefined || proof.treeSize !== cp.size) {
    fail("prueba", `la prueba es para un árbol de ${proof?.treeSize ?? 0n} entradas pero el checkpoint tiene ${cp.size}`,
      `the proof is for tree size ${proof?.treeSize ?? 0n} but the checkpoint is of size ${cp.size}`);
  }
  const leaf = hashLeaf(bundle.entry);
  if (!equalBytes(leaf, proof.leafHash)) {
    fail("prueba", "la entrada no corresponde al hash de hoja de su prueba", "the entry does not hash to the proof's leaf hash");
  }
  let entry: Entry | undefined;
  try {
    entry = fromBinary(EntrySchema, bundle.entry);
  } catch {
    entry = undefined;
  }
  if (entry === undefined || entry.sequence !== proof.leafIndex) {
    fail("prueba", "la secuencia de la entrada no es el índice de hoja de la prueba",
      "the entry's sequence is not the proof's leaf index");
  }
  const hashes = proof.hashes.map((h) => (h.length === 32 ? h : new Uint8Array(32)));
  verifyInclusion(proof.leafIndex, cp.size, leaf, hashes, cp.root);
}

function parseClaims(text: string): Claims {
  const lines = text.split("\n");
  const bad = (line: string) =>
    fail("formato", `certificado: línea mal formada '${line.slice(0, 80)}'`,
      `certificate: malformed line '${line.slice(0, 80)}'`);
  if (lines.length < 4 || lines[1] !== kCertificateTitle) {
    fail("formato", "no es un certificado oro-formal v2", "not an oro-formal certificate v2");
  }
  const c: Claims = {
    origin: lines[0], lotId: "", holder: "", fineMg: 0n, remainingMg: 0n, exportedTo: "", exportedAt: 0n,
    units: [], departments: [], checkpoint: { origin: "", size: 0n, root: new Uint8Array(32) }, entries: [],
  };
  for (const line of lines.slice(2)) {
    if (line === "") continue;
    const f = line.split(" ");
    const key = f[0];
    const mg = (s: string) => parseMg(s) ?? bad(line);
    if (key === "lot" && f.length === 2) {
      c.lotId = f[1];
    } else if (key === "holder" && f.length === 2) {
      c.holder = f[1];
    } else if (key === "fine-mg" && f.length === 2) {
      c.fineMg = mg(f[1]);
    } else if (key === "remaining-mg" && f.length === 2) {
      c.remainingMg = mg(f[1]);
    } else if (key === "exported" && f.length === 3) {
      c.exportedTo = f[1];
      c.exportedAt = parseU64(f[2]) ?? bad(line);
    } else if (key === "unit" && f.length === 4) {
      c.units.push({ unit: f[1], department: f[2], fineMg: mg(f[3]) });
    } else if (key === "department" && f.length === 3) {
      c.departments.push({ department: f[1], fineMg: mg(f[2]) });
    } else if (key === "checkpoint" && f.length === 3) {
      const size = parseU64(f[1]) ?? bad(line);
      const root = base64Decode32(f[2]) ?? bad(line);
      c.checkpoint = { origin: c.origin, size, root };
    } else if (key === "entries") {
      for (const s of f.slice(1)) c.entries.push(parseU64(s) ?? bad(line));
    } else {
      bad(line);
    }
  }
  if (c.lotId === "" || c.units.length === 0 || c.entries.length === 0) {
    fail("formato", "certificado: se requieren lote, unidades y entradas", "certificate: lot, units and entries are required");
  }
  return c;
}

function base64Decode32(s: string): Uint8Array | null {
  const b = base64Decode(s);
  return b !== null && b.length === 32 ? b : null;
}

// --- Envelopes: the stateless decoding of core/verify/envelope.cc ---

const kTypes = {
  "application/vnd.veta.genesis+protobuf": GenesisSchema,
  "application/vnd.veta.key-registration+protobuf": KeyRegistrationSchema,
  "application/vnd.veta.memo+protobuf": MemoSchema,
  "application/vnd.veta.registry+protobuf": RegistryRecordSchema,
  "application/vnd.veta.extraction+protobuf": ExtractionSchema,
  "application/vnd.veta.sale+protobuf": SaleSchema,
  "application/vnd.veta.processing+protobuf": ProcessingSchema,
  "application/vnd.veta.export+protobuf": ExportSchema,
  "application/vnd.veta.correction+protobuf": CorrectionSchema,
  "application/vnd.veta.flag-clearance+protobuf": FlagClearanceSchema,
} as const;
type PayloadType = keyof typeof kTypes;

interface Decoded {
  envelope: Envelope;
  type: PayloadType;
  payload: unknown;
}

const kEnvelopeBytesMax = 256 * 1024;
const kSignaturesMax = 8;
const kSignatureBytesMax = 512;
const kTimestampSecondsMin = -62135596800n;
const kTimestampSecondsMax = 253402300799n;

function decodeFail(es: string, en: string): never {
  fail("formato", `sobre (envelope) inválido: ${es}`, `invalid envelope: ${en}`);
}

export function decodeEnvelope(bytes: Uint8Array): Decoded {
  if (bytes.length === 0) decodeFail("está vacío", "envelope is empty");
  if (bytes.length > kEnvelopeBytesMax) {
    decodeFail(`tiene ${bytes.length} bytes; el límite es ${kEnvelopeBytesMax}`,
      `envelope is ${bytes.length} bytes; the limit is ${kEnvelopeBytesMax}`);
  }
  let env: Envelope;
  try {
    env = fromBinary(EnvelopeSchema, bytes);
  } catch {
    decodeFail("no es un veta.v1.Envelope serializado", "envelope is not a serialized veta.v1.Envelope");
  }
  if (hasUnknownFields(env)) {
    decodeFail("tiene campos que veta.v1.Envelope no define", "envelope has fields that veta.v1.Envelope does not define");
  }
  if (env.payload.length === 0) decodeFail("la carga está vacía", "envelope payload is empty");
  if (!(env.payloadType in kTypes)) {
    decodeFail(`tipo de carga desconocido '${env.payloadType.slice(0, 100)}'`,
      `unknown payload type '${env.payloadType.slice(0, 100)}'`);
  }
  if (env.signatures.length === 0) decodeFail("no está firmado", "envelope is not signed");
  if (env.signatures.length > kSignaturesMax) {
    decodeFail(`tiene ${env.signatures.length} firmas; el límite es ${kSignaturesMax}`,
      `envelope has ${env.signatures.length} signatures; the limit is ${kSignaturesMax}`);
  }
  const seen = new Set<string>();
  env.signatures.forEach((sig, i) => {
    if (utf8(sig.keyid).length !== 64) {
      decodeFail(`firma ${i}: el id de clave debe tener 64 dígitos hexadecimales`,
        `signature ${i}: key id must be 64 hex digits (SHA-256 of the key)`);
    }
    if (sig.sig.length === 0 || sig.sig.length > kSignatureBytesMax) {
      decodeFail(`firma ${i}: ${sig.sig.length} bytes no es una firma`, `signature ${i}: ${sig.sig.length} bytes is not a signature`);
    }
    if (seen.has(sig.keyid)) decodeFail(`firma ${i}: la clave ${sig.keyid} firmó dos veces`, `signature ${i}: key ${sig.keyid} signed twice`);
    seen.add(sig.keyid);
  });
  const type = env.payloadType as PayloadType;
  let payload: { $typeName: string };
  try {
    payload = fromBinary(kTypes[type] as typeof SaleSchema, env.payload);
  } catch {
    decodeFail(`la carga no se lee como ${type}`, `payload does not parse as ${type} (binary protobuf expected)`);
  }
  if (hasUnknownFields(payload)) {
    decodeFail(`la carga tiene campos que ${payload.$typeName} no define`,
      `payload has fields that ${payload.$typeName} does not define`);
  }
  checkTimestamps(payload, payload.$typeName.replace(/^veta\.v1\./, ""));
  return { envelope: env, type, payload };
}

function isMessage(v: unknown): v is { $typeName: string; $unknown?: unknown[] } & Record<string, unknown> {
  return typeof v === "object" && v !== null && typeof (v as { $typeName?: unknown }).$typeName === "string";
}

// Walks every message value below `v`, at any depth (repeated fields, oneofs, maps).
function* messages(v: unknown): Generator<{ $typeName: string } & Record<string, unknown>> {
  if (v instanceof Uint8Array || typeof v !== "object" || v === null) return;
  if (Array.isArray(v)) {
    for (const x of v) yield* messages(x);
    return;
  }
  if (isMessage(v)) yield v;
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith("$")) continue;
    yield* messages(x);
  }
}

function hasUnknownFields(m: unknown): boolean {
  for (const x of messages(m)) {
    const unknown = (x as { $unknown?: unknown[] }).$unknown;
    if (unknown !== undefined && unknown.length > 0) return true;
  }
  return false;
}

function checkTimestamps(m: unknown, path: string): void {
  for (const x of messages(m)) {
    if (x.$typeName !== "google.protobuf.Timestamp") continue;
    const seconds = x.seconds as bigint;
    const nanos = x.nanos as number;
    if (seconds < kTimestampSecondsMin || seconds > kTimestampSecondsMax || nanos < 0 || nanos > 999999999) {
      decodeFail(`${path}: una fecha fuera de rango (segundos ${seconds}, nanos ${nanos})`,
        `${path} has a timestamp that is not a time: seconds ${seconds}, nanos ${nanos}`);
    }
  }
}

// --- Recomputing the claims from the entries' payloads (the Recomputer of the C++) ---

class Recomputer {
  private lots = new Map<string, lots.Lot>();
  // What each entry took, by lot: what its correction gives back.
  private takes = new Map<bigint, [string, lots.Taken][]>();
  private departments = new Map<string, string>();
  readonly units = new Map<string, UnitRecord>();

  add(seq: bigint, d: Decoded): void {
    const p = d.payload as never;
    switch (d.type) {
      case "application/vnd.veta.extraction+protobuf": {
        const x = p as { lotId: string; extractorId: string; unitCode: string; oreG: bigint; gradePpb: bigint };
        this.put(seq, lots.newOreLot(x.lotId, x.extractorId, x.unitCode, x.oreG, x.gradePpb));
        return;
      }
      case "application/vnd.veta.sale+protobuf": {
        const x = p as { lotId: string; quantityMg: bigint; quantityOreG: bigint; buyerLotId: string; buyerRuc: string };
        const parent = this.get(seq, x.lotId);
        const q = x.quantityMg !== 0n ? x.quantityMg : x.quantityOreG;
        checkEnough(seq, parent, q);
        const part = lots.splitOff(parent, q);
        part.lotId = x.buyerLotId;
        part.holder = x.buyerRuc;
        this.take(seq, x.lotId, { quantity: q, fineMg: part.originalFineMg, origin: lots.originOf(part) });
        this.put(seq, part);
        return;
      }
      case "application/vnd.veta.processing+protobuf": {
        const x = p as {
          plantRuc: string;
          inputs: { lotId: string; goldMg: bigint; oreG: bigint }[];
          outputs: { lotId: string; goldMg: bigint; finenessPpb: bigint }[];
        };
        const inputs: lots.Lot[] = [];
        const quantities: bigint[] = [];
        for (const input of x.inputs) {
          const lot = this.lots.get(input.lotId);
          const q = input.goldMg !== 0n ? input.goldMg : input.oreG;
          if (lot === undefined) continue; // an earlier take from a lot we follow: only ours
          checkEnough(seq, lot, q);
          inputs.push(lot);
          quantities.push(q);
        }
        if (inputs.length === 0) {
          fail("aritmetica", `la entrada ${seq} no toma de ningún lote cuya entrada de creación traiga el certificado`,
            `entry ${seq} takes from no lot whose creating entry the certificate holds`);
        }
        if (inputs.length < x.inputs.length) {
          inputs.forEach((lot, i) => this.take(seq, lot.lotId, lots.takeFrom(lot, quantities[i])));
          return;
        }
        const made = lots.blend(inputs, quantities, x.outputs);
        inputs.forEach((lot, i) => this.take(seq, lot.lotId, made.taken[i]));
        for (const lot of made.lots) {
          lot.holder = x.plantRuc;
          this.put(seq, lot);
        }
        return;
      }
      case "application/vnd.veta.correction+protobuf": {
        // A correction of an earlier take gives back exactly what it took.
        const corrected = (p as { correctedSequence: bigint }).correctedSequence;
        const takes = this.takes.get(corrected);
        if (takes === undefined) {
          fail("aritmetica", `la corrección ${seq} anula la entrada ${corrected}, que el certificado no trae`,
            `correction entry ${seq} voids entry ${corrected}, which the certificate does not carry`);
        }
        for (const [id, taken] of takes) lots.giveBack(this.lots.get(id)!, taken);
        this.takes.delete(corrected);
        return;
      }
      case "application/vnd.veta.registry+protobuf": {
        const record = (p as { record: { case?: string; value?: unknown } }).record;
        if (record.case === "unit") {
          const u = record.value as { concessionCode: string; name: string; ubigeo: string; holderRuc: string; geometryGeojson: string };
          this.departments.set(u.concessionCode, u.ubigeo.slice(0, 2));
          let geometry: unknown = null;
          try {
            geometry = JSON.parse(u.geometryGeojson);
          } catch {
            geometry = null;
          }
          this.units.set(u.concessionCode, { code: u.concessionCode, name: u.name, ubigeo: u.ubigeo, holderRuc: u.holderRuc, geometry });
        }
        return;
      }
      default:
        return; // an export gives back all it took when voided: no change
    }
  }

  lot(id: string): lots.Lot {
    const lot = this.lots.get(id);
    if (lot === undefined) {
      fail("aritmetica", `ninguna entrada del certificado crea el lote ${id}`, `no entry of the certificate creates lot ${id}`);
    }
    return lot;
  }

  department(unit: string): string {
    const d = this.departments.get(unit);
    if (d === undefined) {
      fail("aritmetica", `el certificado no trae el registro de la unidad ${unit}`,
        `the certificate holds no registry record of unit ${unit}`);
    }
    return d;
  }

  private take(seq: bigint, lotId: string, taken: lots.Taken): void {
    const list = this.takes.get(seq) ?? [];
    list.push([lotId, taken]);
    this.takes.set(seq, list);
  }

  private put(seq: bigint, lot: lots.Lot): void {
    if (this.lots.has(lot.lotId)) {
      fail("aritmetica", `la entrada ${seq} crea el lote ${lot.lotId} por segunda vez`,
        `entry ${seq} creates lot ${lot.lotId} a second time`);
    }
    this.lots.set(lot.lotId, lot);
  }

  private get(seq: bigint, id: string): lots.Lot {
    const lot = this.lots.get(id);
    if (lot === undefined) {
      fail("aritmetica", `la entrada ${seq} toma del lote ${id}, cuya entrada de creación no está en el certificado`,
        `entry ${seq} takes from lot ${id}, whose creating entry is not in the certificate`);
    }
    return lot;
  }
}

function checkEnough(seq: bigint, lot: lots.Lot, q: bigint): void {
  if (q > 0n && q <= lot.remaining) return;
  const unit = lot.gold ? "mg de oro" : "g de mineral";
  const unitEn = lot.gold ? "mg of gold" : "g of ore";
  fail("aritmetica",
    `la entrada ${seq} toma ${q} ${unit} del lote ${lot.lotId}, al que le quedan ${lot.remaining} según las entradas del certificado`,
    `entry ${seq} takes ${q} ${unitEn} of lot ${lot.lotId}, which has ${lot.remaining} left by the certificate's entries`);
}

