// Signed envelopes (DSSE) as core/verify/envelope.cc builds them: each signature is over
// PAE(type, payload) = "DSSEv1" SP LEN(type) SP type SP LEN(payload) SP payload (lengths in
// bytes, decimal), with the signer's key id. The payload is the binary protobuf of the
// transaction, written once from the JSON a person fills in; its bytes are what is signed.
import { create, fromJson, type JsonValue, toBinary, toJson } from "@bufbuild/protobuf";

import { EnvelopeSchema, SignatureSchema } from "../gen/veta/v1/envelope_pb.js";
import { KeyRegistrationSchema, MemoSchema } from "../gen/veta/v1/ledger_pb.js";
import {
  CorrectionSchema,
  ExportSchema,
  ExtractionSchema,
  FlagClearanceSchema,
  ProcessingSchema,
  RegistryRecordSchema,
  SaleSchema,
} from "../gen/veta/v1/registry_pb.js";
import { concat, utf8 } from "../verify/bytes.js";
import { type SigningKey, signBytes } from "./keys.js";

// The payload kinds a person signs (as `veta sign --type`), by payload type.
export const kPayloadTypes = {
  memo: ["application/vnd.veta.memo+protobuf", MemoSchema],
  "key-registration": ["application/vnd.veta.key-registration+protobuf", KeyRegistrationSchema],
  registry: ["application/vnd.veta.registry+protobuf", RegistryRecordSchema],
  extraction: ["application/vnd.veta.extraction+protobuf", ExtractionSchema],
  sale: ["application/vnd.veta.sale+protobuf", SaleSchema],
  processing: ["application/vnd.veta.processing+protobuf", ProcessingSchema],
  export: ["application/vnd.veta.export+protobuf", ExportSchema],
  correction: ["application/vnd.veta.correction+protobuf", CorrectionSchema],
  "flag-clearance": ["application/vnd.veta.flag-clearance+protobuf", FlagClearanceSchema],
} as const;
export type PayloadKind = keyof typeof kPayloadTypes;

export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8(payloadType);
  return concat(utf8(`DSSEv1 ${type.length} `), type, utf8(` ${payload.length} `), payload);
}

// The payload's JSON (protobuf's JSON mapping, integers as in the protos) to its bytes.
export function payloadBytes(kind: PayloadKind, json: JsonValue): Uint8Array {
  const schema = kPayloadTypes[kind][1] as typeof MemoSchema;
  return toBinary(schema, fromJson(schema, json));
}

// Signs `payload` with each key in order; returns the envelope as protobuf JSON (what
// `veta submit` and the Connect API take).
export async function signEnvelope(
  kind: PayloadKind,
  payload: Uint8Array,
  keys: SigningKey[],
  subtle: SubtleCrypto = crypto.subtle,
): Promise<JsonValue> {
  const payloadType = kPayloadTypes[kind][0];
  const message = pae(payloadType, payload);
  const signatures = [];
  for (const key of keys) {
    signatures.push(create(SignatureSchema, { sig: await signBytes(key, message, subtle), keyid: key.keyid }));
  }
  return toJson(EnvelopeSchema, create(EnvelopeSchema, { payloadType, payload, signatures }));
}

// Adds signatures to an envelope received as JSON (`veta sign --add-to`): a sale signed by the
// seller on one device and by the buyer on another. The payload's bytes are not touched.
export async function addSignatures(envelopeJson: JsonValue, keys: SigningKey[], subtle: SubtleCrypto = crypto.subtle): Promise<JsonValue> {
  const envelope = fromJson(EnvelopeSchema, envelopeJson);
  const message = pae(envelope.payloadType, envelope.payload);
  for (const key of keys) {
    if (envelope.signatures.some((s) => s.keyid === key.keyid)) continue; // signed already
    envelope.signatures.push(create(SignatureSchema, { sig: await signBytes(key, message, subtle), keyid: key.keyid }));
  }
  return toJson(EnvelopeSchema, envelope);
}
