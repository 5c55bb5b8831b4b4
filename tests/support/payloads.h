// Payload builders shared by the tests, the fuzz targets and the tools: one definition of each
// registry record kind (registrar, miner, unit, party, selector, zone, parameters), of each
// custody payload (extraction, sale, processing, export, correction), of the key registration
// and the memo, and the signing of envelopes. Each builder takes the few fields that vary
// (ids, keys, quantities in the integer units of core/base/units.h: grams of ore, milligrams of
// gold, ppb, céntimos) and fills the rest with valid defaults; a caller that needs something
// special sets that field on the message it gets back.
//
// Payloads are stamped with the current time and the nonce given (0: none); a caller that wants
// a fixed time sets it. Records are valid from kValidFrom to kValidUntil.
//
// No GoogleTest and no gRPC here (the tools link it): what cannot fail in a test's own data
// (a malformed fixed time, a signing error) aborts with a message.
#pragma once

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/units.h"
#include "core/verify/keys.h"
#include "veta/v1/ledger.pb.h"
#include "veta/v1/registry.pb.h"

namespace veta::payloads {

// --- Identifiers, times, geometry ---------------------------------------------------------

// A valid RUC: the 10 given digits and SUNAT's check digit.
std::string Ruc(std::string_view first10);

// An RFC 3339 time ("2025-01-01T00:00:00Z"); aborts on a malformed one.
google::protobuf::Timestamp Time(std::string_view rfc3339);
google::protobuf::Timestamp Now();

// The validity of the records the builders make.
inline constexpr std::string_view kValidFrom = "2025-01-01T00:00:00Z";
inline constexpr std::string_view kValidUntil = "2030-01-01T00:00:00Z";

// A closed square ring around (lon, lat) with half-side d degrees, as a GeoJSON Polygon.
std::string Square(double lon, double lat, double d);

// --- Envelopes ----------------------------------------------------------------------------

// The serialized envelope of `payload` as `type`, signed by `keys` (aborts if signing fails).
std::string Sign(std::string_view type, const google::protobuf::Message& payload,
                 const std::vector<PrivateKey>& keys);
// The same for payload bytes as they are (fuzzed bytes, a malformed payload).
std::string SignBytes(std::string_view type, std::string payload,
                      const std::vector<PrivateKey>& keys);

// --- Registry records ---------------------------------------------------------------------

inline constexpr std::string_view kDgfmName = "Direccion General de Formalizacion Minera";

// A registrar (in force), signed into the ledger by the authority.
veta::v1::RegistryRecord RegistrarRecord(std::string_view id, const PublicKey& key,
                                         std::string_view name = kDgfmName);

// A REINFO miner named "Minera Test <ruc>": the person type the RUC's prefix says (20:
// company), category II, status `status` since kValidFrom (reason "test" unless VIGENTE).
// An artisanal producer's units may not pass 25 t/day: SMALL for larger ones.
veta::v1::RegistryRecord Miner(std::string_view ruc, const PublicKey& key,
                               veta::v1::RegistryStatus status = veta::v1::VIGENTE,
                               veta::v1::SizeClass size_class = veta::v1::ARTISANAL);

// A mining unit (concession `code`, in force, extraction) held by `holder`: a square of
// half-side `half_side` degrees around (lon, lat) in Tambopata (ubigeo 170101), installed for
// `capacity` grams of ore a day.
veta::v1::RegistryRecord Unit(std::string_view code, std::string_view holder, double lon,
                              double lat, int64_t capacity = 10 * units::kGramsPerTonne,
                              double half_side = 0.01);

// A REPCO party ("Empresa <ruc>"); a plant processes up to 100 t of ore a day.
veta::v1::RegistryRecord PartyRecord(std::string_view ruc, veta::v1::PartyKind kind,
                                     const PublicKey& key);

// A selector (pallaquera "Maria Quispe" of an association) allowed at `allowed_units`.
veta::v1::RegistryRecord SelectorRecord(std::string_view dni, const PublicKey& key,
                                        const std::vector<std::string>& allowed_units);

// A zone ("Zona <id>", Ley 28736, in force) over `geojson`.
veta::v1::RegistryRecord ZoneRecord(std::string_view id, veta::v1::ZoneKind kind,
                                    std::string_view geojson);

// Parameters as the ledger's defaults (grades 0.5-60 g/t, recovery 30-95%, a selector's 200 kg
// a day, cash flagged above S/ 30,000, a volume jump at 500% of the average) but for the
// volume jump's minimum history, left at 0 (the ledger's default is 3 sales). Set what a test
// changes.
veta::v1::RegistryRecord ParametersRecord();
// The same under rules version 3, with the reference price it needs (S/ 400 a fine gram).
veta::v1::RegistryRecord ParametersRecordV3();
inline constexpr int64_t kReferencePriceCentsPerFineG = 40000;

// --- Custody payloads ---------------------------------------------------------------------

// `ore_g` grams of ore at `grade_ppb` extracted into `lot` at (lon, lat) of unit `unit`.
veta::v1::Extraction ExtractionOf(std::string_view lot, std::string_view extractor,
                                  std::string_view unit, double lon, double lat, int64_t ore_g,
                                  int64_t grade_ppb = 8 * units::kPpbPerGramPerTonne,
                                  uint64_t nonce = 0);

// `ore_g` grams of ore of `lot` sold to `buyer` (into `buyer_lot`) by bank transfer at S/ 20 a
// kg.
veta::v1::Sale SaleOf(std::string_view lot, std::string_view seller, std::string_view buyer,
                      std::string_view buyer_lot, int64_t ore_g, uint64_t nonce = 0);
// `gold_mg` milligrams of a gold lot, by bank transfer at S/ 300 a gram.
veta::v1::Sale GoldSaleOf(std::string_view lot, std::string_view seller, std::string_view buyer,
                          std::string_view buyer_lot, int64_t gold_mg, uint64_t nonce = 0);

// A processing's inputs (ore, or gold by the milligram) and outputs (gold at a fineness).
struct ProcessingIn {
  std::string lot;
  int64_t ore_g = 0;
  int64_t gold_mg = 0;
};
struct ProcessingOut {
  std::string lot;
  int64_t gold_mg = 0;
  int64_t fineness_ppb = 0;
};
veta::v1::Processing ProcessingOf(std::string_view plant_ruc,
                                  const std::vector<ProcessingIn>& inputs,
                                  const std::vector<ProcessingOut>& outputs, uint64_t nonce = 0);

veta::v1::Export ExportOf(std::string_view lot, std::string_view exporter_ruc,
                          std::string_view country = "CH",
                          std::string_view customs_declaration = "DAM-2026-0001",
                          uint64_t nonce = 0);

veta::v1::Correction CorrectionOf(uint64_t sequence, std::string_view reason = "declared in error",
                                  uint64_t nonce = 0);

// --- Keys and memos -----------------------------------------------------------------------

veta::v1::KeyRegistration KeyRegistrationOf(const PublicKey& key, std::string_view holder);
veta::v1::Memo MemoOf(std::string_view text, std::string_view subject = "", uint64_t nonce = 0);

}  // namespace veta::payloads
