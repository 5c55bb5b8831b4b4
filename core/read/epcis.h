// The ledger's custody events as an EPCIS 2.0 JSON-LD document (GS1 EPCIS 2.0 / CBV 2.0), for
// whoever follows gold in EPCIS: one event per transaction entry, with the entry's sequence so
// that anyone can fetch its inclusion proof. Every document validates against GS1's JSON schema.
//
// Mapping (identifiers are URIs under `base_uri`; ids are percent-encoded):
//   extraction  ObjectEvent ADD, commissioning, active; quantityList = the new lot (ore_g,
//               GRM); readPoint = the point as "geo:lat,lon"; bizLocation = /unit/<code>; ilmd
//               veta:extractor and veta:gradePpb.
//   sale        two ObjectEvents OBSERVE: "#ship" (shipping, in_transit, the seller's lot) and
//               "#receive" (receiving, in_progress, the buyer's new lot, veta:fromLot = the
//               seller's lot); both with bizTransaction inv = /entry/<seq>, source and
//               destination owning_party = /party/<seller> and /party/<buyer>; quantity_ore_g
//               (GRM) for ore or quantity_mg (MGM) for gold.
//   processing  TransformationEvent, commissioning, active: inputQuantityList (ore_g GRM or
//               gold_mg MGM), outputQuantityList (gold_mg MGM); bizLocation = /party/<plant>;
//               ilmd veta:outputs = each output lot's fineness (veta:finenessPpb).
//   export      ObjectEvent OBSERVE, departing, in_transit: the lot with the milligrams exported
//               (MGM; no quantity when the lot's state no longer says), bizTransaction desadv
//               = /customs/<declaration>, source owning_party = /party/<exporter>,
//               destination location = /country/<ISO code>.
//   correction  the corrected entry's events restated, same eventIDs (as EPCIS asks of an error
//               declaration), recordTime of the correction, errorDeclaration {declarationTime,
//               reason did_not_occur, veta:reason = the stated reason}, veta:correctedEntry.
//   other entries (genesis, keys, memos, registry records) give no event.
// Quantities are integers in the ledger's units (UN/CEFACT codes GRM: gram, MGM: milligram).
// Every event: eventID /entry/<seq> (+ "#ship" / "#receive"), eventTime from the payload with
// eventTimeZoneOffset "-05:00" (Peru), recordTime = the entry's time, veta:sequence = <seq>.
// The "veta" prefix is <base_uri>/ns/epcis# in @context; the document also carries veta:start
// and veta:nextStart (paging).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/storage/schema.h"
#include "core/storage/store.h"

namespace veta {

inline constexpr uint64_t kEpcisEntriesMax = 10000;  // entries read per document
// Bytes of events per document, by default: stays below gRPC's default 4 MiB message.
inline constexpr size_t kEpcisBytesMax = 3 << 20;
inline constexpr std::string_view kEpcisContextUrl =
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

struct EpcisOptions {
  uint64_t start = 0;  // first entry sequence to read
  uint64_t limit = 0;  // entries to read, 0 = kEpcisEntriesMax; more is InvalidArgument
  std::string lot_id;  // optional: only events that create/consume/export this lot
  std::string base_uri = "https://veta.gob.pe";  // for identifiers: http(s), no query/fragment
  // The document stops before an entry whose events would take it past this many bytes (but
  // always holds the events of at least one entry); next_start then tells where to go on.
  size_t bytes_max = kEpcisBytesMax;
};

struct EpcisResult {
  std::string json;
  uint64_t next_start = 0;  // the first entry not read: the next page's start
  size_t events = 0;
};

// Reads entries [start, min(start+limit, visible)) from the store and writes one EPCIS 2.0
// document (type EPCISDocument, schemaVersion "2.0") with the events of the transaction
// entries among them. A start at or past `visible` gives an empty document and next_start =
// start. DataLoss when an entry is missing or malformed.
absl::StatusOr<EpcisResult> EpcisDocument(const Reader& store, uint64_t visible,
                                          const EpcisOptions& options);

}  // namespace veta
