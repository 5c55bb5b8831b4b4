// Writes the seed corpora of the fuzz targets: small valid inputs of each kind, so that the
// fuzzers start past the parsers' first checks. Run once, by hand, when the formats change:
//   build-fuzz/tests/fuzz/fuzz_make_seeds tests/fuzz/corpus
// Ed25519 signatures are deterministic; the ECDSA ones (and their keys) differ at each run.
#include <google/protobuf/util/time_util.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/base/strings.h"
#include "core/verify/envelope.h"
#include "core/verify/keys.h"
#include "core/verify/note.h"
#include "core/verify/sha256.h"
#include "tests/core/test_units.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/support/payloads.h"
#include "veta/v1/ledger.pb.h"

namespace {

using veta::PrivateKey;
using veta::StrCat;
namespace fz = veta::fuzz;
using namespace veta::test_unit_literals;  // NOLINT: 1000_kg, 8_gpt, 7_g, 900_permille

std::filesystem::path root;

void Write(const std::string& target, const std::string& name, std::string_view bytes) {
  const auto dir = root / target;
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  VETA_FUZZ_CHECK(out.good());
}

PrivateKey Ed25519(std::string_view tag) {
  // A fixed seed per tag: the same key, and the same signatures, at every run.
  const veta::Hash seed = veta::Sha256Of(StrCat("veta fuzz seed key ", tag));
  auto key = PrivateKey::FromEd25519Seed(veta::AsBytes(seed));
  VETA_FUZZ_CHECK(key.ok());
  return *key;
}

// The shared builders (tests/support/payloads.h), at fixed times and nonces: the same seeds at
// every run.
using veta::payloads::Square;

std::string Envelope(std::string_view type, const google::protobuf::Message& payload,
                     const std::vector<PrivateKey>& keys) {
  return veta::payloads::Sign(type, payload, keys);
}

template <typename Payload>
Payload At(Payload payload, std::string_view time) {
  *payload.mutable_time() = veta::payloads::Time(time);
  return payload;
}

std::string CsvQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

veta::v1::Extraction Extraction(const std::string& lot, const std::string& extractor, double lon,
                                double lat, int64_t ore_g) {
  return At(veta::payloads::ExtractionOf(lot, extractor, fz::kUnitCode, lon, lat, ore_g, 8_gpt, 7),
            "2026-06-01T15:00:00Z");
}

veta::v1::Sale Sale(const std::string& lot, const std::string& seller, const std::string& buyer,
                    const std::string& buyer_lot, int64_t ore_g, veta::v1::PaymentMethod payment) {
  auto s =
      At(veta::payloads::SaleOf(lot, seller, buyer, buyer_lot, ore_g, 8), "2026-06-01T16:00:00Z");
  s.set_payment(payment);
  return s;
}

using ProcessingIn = veta::payloads::ProcessingIn;
using ProcessingOut = veta::payloads::ProcessingOut;
veta::v1::Processing Processing(const std::vector<ProcessingIn>& inputs,
                                const std::vector<ProcessingOut>& outputs) {
  return At(veta::payloads::ProcessingOf(fz::PlantRuc(), inputs, outputs, 9),
            "2026-06-01T17:00:00Z");
}

veta::v1::Export Export(const std::string& lot, const std::string& country,
                        const std::string& dam) {
  return At(veta::payloads::ExportOf(lot, fz::ExporterRuc(), country, dam, 10),
            "2026-06-01T18:00:00Z");
}

veta::v1::Correction Correction(uint64_t sequence, const std::string& reason) {
  return At(veta::payloads::CorrectionOf(sequence, reason, 11), "2026-06-01T19:00:00Z");
}

std::string Rules(uint8_t header, const google::protobuf::Message& payload) {
  return std::string(1, static_cast<char>(header)) + payload.SerializeAsString();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus folder>\n", argv[0]);
    return 2;
  }
  root = argv[1];
  const PrivateKey alice = Ed25519("alice"), bob = Ed25519("bob");
  auto ecdsa = PrivateKey::Generate(veta::KeyAlgorithm::kEcdsaP256);
  VETA_FUZZ_CHECK(ecdsa.ok());

  // Envelopes: a memo (one Ed25519 signature), an extraction (ECDSA), a sale (two signers), a
  // registry record.
  const std::string memo_env = Envelope(
      veta::kMemoType, veta::payloads::MemoOf("a memo for the fuzzers", "fuzz", 1), {alice});
  const auto extraction = Extraction("L1", fz::MinerRuc(), fz::kUnitLon, fz::kUnitLat, 1000_kg);
  const std::string extraction_env = Envelope(veta::kExtractionType, extraction, {*ecdsa});
  const auto sale =
      Sale("L1", fz::MinerRuc(), fz::PlantRuc(), "P1", 400_kg, veta::v1::BANK_TRANSFER);
  const std::string sale_env = Envelope(veta::kSaleType, sale, {alice, bob});
  const std::string registry_env =
      Envelope(veta::kRegistryType,
               veta::payloads::ZoneRecord("CN-1", veta::v1::PROHIBITED_INDIGENOUS_TERRITORY,
                                          Square(-69.9, -12.6, 0.004)),
               {bob});
  Write("fuzz_envelope", "memo", memo_env);
  Write("fuzz_envelope", "extraction-ecdsa", extraction_env);
  Write("fuzz_envelope", "sale-two-signers", sale_env);
  Write("fuzz_envelope", "registry-zone", registry_env);

  // Entries: the genesis-like first entry and a later one, with the previous leaf hash.
  veta::v1::Entry entry;
  entry.set_sequence(0);
  google::protobuf::util::TimeUtil::FromString("2026-06-01T15:00:01Z", entry.mutable_time());
  entry.set_envelope(memo_env);
  Write("fuzz_entry", "entry-0", entry.SerializeAsString());
  entry.set_sequence(41);
  entry.set_previous_hash(std::string(veta::AsBytes(veta::Sha256Of("previous"))));
  entry.set_envelope(sale_env);
  Write("fuzz_entry", "entry-41", entry.SerializeAsString());

  // Proofs: the input is only bytes for a FuzzedDataProvider; a few of different lengths.
  for (size_t n : {40u, 200u, 1200u}) {
    std::string bytes;
    for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<char>((i * 37 + n) & 0xff));
    Write("fuzz_proof", StrCat("bytes-", n), bytes);
  }

  // GeoJSON: a polygon, a multipolygon with a hole (then probe bytes after a NUL), and a
  // feature collection (polygon, point, null geometry, properties).
  const std::string probe("\0\x01\x80\x40\x02\x03\x10\x00\x00\x00\x00\x00\x00\xf0\x7f", 15);
  Write("fuzz_geojson", "polygon", Square(-69.9, -12.6, 0.01));
  Write("fuzz_geojson", "polygon-probe", Square(-69.9, -12.6, 0.01) + probe);
  const std::string multi =
      "{\"type\":\"MultiPolygon\",\"coordinates\":["
      "[[[-70,-13],[-69,-13],[-69,-12],[-70,-12],[-70,-13]],"
      "[[-69.8,-12.8],[-69.2,-12.8],[-69.2,-12.2],[-69.8,-12.2],[-69.8,-12.8]]],"
      "[[[-71.5,-14.5],[-71.0,-14.4],[-71.2,-14.0],[-71.5,-14.5]]]]}";
  Write("fuzz_geojson", "multipolygon-hole", multi + probe);
  const std::string collection =
      "{\"type\":\"FeatureCollection\",\"features\":["
      "{\"type\":\"Feature\",\"properties\":{\"id\":\"CN-1\",\"name\":\"Comunidad\",\"area\":12.5,"
      "\"titled\":true},\"geometry\":" +
      Square(-69.892, -12.592, 0.004) +
      "},"
      "{\"type\":\"Feature\",\"properties\":{\"id\":\"P\"},\"geometry\":{\"type\":\"Point\","
      "\"coordinates\":[-69.89,-12.59]}},"
      "{\"type\":\"Feature\",\"properties\":null,\"geometry\":null}]}";
  Write("fuzz_geojson", "feature-collection", collection);

  // CSV: REINFO and REPCO files with a valid row, and a malformed one.
  const std::string key = veta::Base64Encode(alice.public_key().spki_der());
  const std::string reinfo =
      "ruc,name,size_class,category,status,status_since,status_reason,valid_from,valid_until,"
      "public_key,concession_code,unit_name,ubigeo,geometry,activity,capacity_tpd,"
      "allowed_miners\n" +
      StrCat(fz::MinerRuc(), ",Minera Fuzz,ARTISANAL,II,VIGENTE,2025-01-01,,2025-01-01,2030-01-01,",
             key, ",U1,Concesion U1,170101,", CsvQuote(Square(-69.9, -12.6, 0.01)),
             ",EXTRACTION,10,", fz::Ruc("1040000002"), "\r\n") +
      StrCat(fz::MinerRuc(), ",Minera Fuzz,ARTISANAL,II,VIGENTE,2025-01-01,,2025-01-01,2030-01-01,",
             key, ",U2,Concesion U2,170101,", CsvQuote(Square(-69.7, -12.4, 0.01)),
             ",EXTRACTION,12.5,\r\n");
  Write("fuzz_csv", "reinfo", reinfo);
  const std::string repco =
      "ruc,name,kind,status,status_since,status_reason,valid_from,valid_until,public_key,"
      "processing_capacity_tpd\n" +
      StrCat(fz::PlantRuc(), ",\"Planta \"\"Fuzz\"\"\",PLANT,VIGENTE,2025-01-01,,2025-01-01,",
             "2030-01-01,", key, ",100\n") +
      StrCat(fz::TraderRuc(), ",Comercial,TRADER,SUSPENDIDO,2025-06-01,\"multa, pendiente\",",
             "2025-01-01,2030-01-01,", veta::Base64Encode(bob.public_key().spki_der()), ",\n");
  Write("fuzz_csv", "repco", repco);
  Write("fuzz_csv", "malformed", "a,b,c\r\n1,\"x, \"\"y\"\"\",\"two\nlines\"\n\n3,,\n4,ab\"c\n");

  // Notes: a checkpoint signed by the fixed key, one with an extension line and a second
  // signer, and one followed by a NUL and its verifier key.
  auto note_key = PrivateKey::FromEd25519Seed(fz::kNoteKeySeed);
  VETA_FUZZ_CHECK(note_key.ok());
  veta::note::Checkpoint cp;
  cp.origin = "veta.fuzz/log";
  cp.size = 42;
  cp.root = veta::Sha256Of("root");
  auto note = veta::note::Sign(veta::note::CheckpointText(cp), fz::kNoteKeyName, *note_key);
  VETA_FUZZ_CHECK(note.ok());
  Write("fuzz_note", "checkpoint", *note);
  const std::string extended = veta::note::CheckpointText(cp) + "extension line\n";
  auto by_bob = veta::note::Sign(extended, "veta.fuzz/bob", bob);
  auto by_both = veta::note::Sign(extended, fz::kNoteKeyName, *note_key);
  VETA_FUZZ_CHECK(by_bob.ok() && by_both.ok());
  // Both signature lines under one text: bob's first, then the fixed key's.
  const std::string bob_line = by_bob->substr(extended.size() + 1);
  Write("fuzz_note", "two-signers", *by_both + bob_line);
  auto verifier = veta::note::VerifierKey(fz::kNoteKeyName, note_key->public_key());
  VETA_FUZZ_CHECK(verifier.ok());
  Write("fuzz_note", "checkpoint-verifier", *note + std::string(1, '\0') + *verifier);
  Write("fuzz_note", "checkpoint-text", veta::note::CheckpointText(cp));

  // Rules: payloads naming fuzz_rules' registry (fuzz_util.h).
  using fz::RulesHeader;
  const std::string miner = fz::MinerRuc(), plant = fz::PlantRuc(), trader = fz::TraderRuc();
  const std::string dni(fz::kSelectorDni);
  Write("fuzz_rules", "extraction",
        Rules(RulesHeader(false, fz::kSignParties, true, true),
              Extraction("X", miner, fz::kUnitLon, fz::kUnitLat, 1000_kg)));
  Write("fuzz_rules", "extraction-selector",
        Rules(RulesHeader(false, fz::kSignParties, true, true),
              Extraction("S", dni, fz::kUnitLon + 0.005, fz::kUnitLat - 0.005, 20_kg)));
  Write("fuzz_rules", "extraction-in-zone",
        Rules(RulesHeader(false, fz::kSignParties, true, true),
              Extraction("Z", miner, fz::kUnitLon + 0.008, fz::kUnitLat + 0.008, 10_kg)));
  Write("fuzz_rules", "extraction-stranger",
        Rules(RulesHeader(false, fz::kSignStranger, true, true),
              Extraction("Q", miner, fz::kUnitLon, fz::kUnitLat, 10_kg)));
  Write("fuzz_rules", "extraction-old-time",
        Rules(RulesHeader(false, fz::kSignMiner, false, false),
              Extraction("T", miner, fz::kUnitLon, fz::kUnitLat, 10_kg)));
  Write("fuzz_rules", "sale-to-plant",
        Rules(RulesHeader(true, fz::kSignParties, true, true),
              Sale(std::string(fz::kSeedLot), miner, plant, "P", 100_kg, veta::v1::BANK_TRANSFER)));
  Write("fuzz_rules", "sale-cash",
        Rules(RulesHeader(true, fz::kSignMinerPlant, true, true),
              Sale(std::string(fz::kSeedLot), miner, plant, "C", 5000_kg, veta::v1::CASH)));
  Write("fuzz_rules", "sale-to-trader",
        Rules(RulesHeader(true, fz::kSignParties, true, true),
              Sale(std::string(fz::kSeedLot), miner, trader, "T", 10_kg, veta::v1::BANK_TRANSFER)));
  Write("fuzz_rules", "sale-miner-only",
        Rules(RulesHeader(true, fz::kSignMiner, true, true),
              Sale(std::string(fz::kSeedLot), miner, plant, "M", 10_kg, veta::v1::BANK_TRANSFER)));
  // Custody (header bits 5-6): processing, export and correction, naming the lots and entries
  // fuzz_rules' start-up writes (kPlantLot, kGoldLot, kExportLot; fuzz_util.h).
  using fz::CustodyHeader;
  const std::string plant_lot(fz::kPlantLot), gold_lot(fz::kGoldLot), export_lot(fz::kExportLot);
  // 1,000 kg at 8 g/t allow 7.752 g fine: 7 g at 900 is 6.3 g, 9 g at 900 is 8.1 g.
  Write("fuzz_rules", "processing",
        Rules(CustodyHeader(fz::kCustodyProcessing, fz::kSignParties, true, true),
              Processing({{plant_lot, 1000_kg}}, {{"AU", 7_g, 900_permille}})));
  Write("fuzz_rules", "processing-two-outputs",
        Rules(CustodyHeader(fz::kCustodyProcessing, fz::kSignParties, true, true),
              Processing({{plant_lot, 500_kg}},
                         {{"AU", 2_g, 900_permille}, {"AG", 1.5_g, 990_permille}})));
  Write("fuzz_rules", "processing-mass-balance",
        Rules(CustodyHeader(fz::kCustodyProcessing, fz::kSignParties, true, true),
              Processing({{plant_lot, 1000_kg}}, {{"AU", 9_g, 900_permille}})));
  Write("fuzz_rules", "processing-not-held",
        Rules(CustodyHeader(fz::kCustodyProcessing, fz::kSignParties, true, true),
              Processing({{std::string(fz::kSeedLot), 1000_kg}}, {{"AU", 1_g, 900_permille}})));
  // Re-melting gold, and blending it with ore.
  Write("fuzz_rules", "processing-remelt",
        Rules(CustodyHeader(fz::kCustodyProcessing, fz::kSignParties, true, true),
              Processing({{gold_lot, 0_kg, 2_g}}, {{"AU", 1.9_g, 940_permille}})));
  Write(
      "fuzz_rules", "processing-blend",
      Rules(CustodyHeader(fz::kCustodyProcessing, fz::kSignParties, true, true),
            Processing({{gold_lot, 0_kg, 1_g}, {plant_lot, 200_kg}}, {{"AU", 2_g, 950_permille}})));
  Write("fuzz_rules", "processing-miner-signs",
        Rules(CustodyHeader(fz::kCustodyProcessing, fz::kSignMiner, true, true),
              Processing({{plant_lot, 100_kg}}, {{"AU", 0.5_g, 900_permille}})));
  Write("fuzz_rules", "export",
        Rules(CustodyHeader(fz::kCustodyExport, fz::kSignParties, true, false),
              Export(export_lot, "CH", "DAM-2026-0001")));
  Write("fuzz_rules", "export-to-pe",
        Rules(CustodyHeader(fz::kCustodyExport, fz::kSignParties, true, false),
              Export(export_lot, "PE", "DAM-2026-0002")));
  Write("fuzz_rules", "export-not-held",
        Rules(CustodyHeader(fz::kCustodyExport, fz::kSignParties, true, false),
              Export(gold_lot, "AE", "DAM-2026-0003")));
  Write("fuzz_rules", "export-stranger",
        Rules(CustodyHeader(fz::kCustodyExport, fz::kSignStranger, true, false),
              Export(export_lot, "CH", "DAM-2026-0004")));
  // Corrections: the gold sale (accepted unless its lot has moved on), the extraction (blocked:
  // its lot was sold), a registry record (not a transaction), an entry past the end.
  Write("fuzz_rules", "correction-gold-sale",
        Rules(CustodyHeader(fz::kCustodyCorrection, fz::kSignParties, true, false),
              Correction(fz::kExportLotEntry, "declared in error")));
  Write("fuzz_rules", "correction-blocked",
        Rules(CustodyHeader(fz::kCustodyCorrection, fz::kSignParties, true, false),
              Correction(fz::kSeedLotEntry, "weighed twice")));
  Write("fuzz_rules", "correction-processing-by-plant",
        Rules(CustodyHeader(fz::kCustodyCorrection, fz::kSignMinerPlant, true, false),
              Correction(fz::kGoldLotEntry, "wrong fineness")));
  Write("fuzz_rules", "correction-registry-record",
        Rules(CustodyHeader(fz::kCustodyCorrection, fz::kSignParties, true, false),
              Correction(fz::kRegistrarEntry, "not a transaction")));
  Write("fuzz_rules", "correction-missing-entry",
        Rules(CustodyHeader(fz::kCustodyCorrection, fz::kSignParties, true, false),
              Correction(1'000'000, "no such entry")));
  // Gold sold by the gram: to the exporter, and to the trader.
  auto gold_sale = [&](const std::string& buyer, const std::string& buyer_lot, int64_t mg) {
    return At(veta::payloads::GoldSaleOf(gold_lot, plant, buyer, buyer_lot, mg, 8),
              "2026-06-01T16:00:00Z");
  };
  Write("fuzz_rules", "sale-gold-to-exporter",
        Rules(RulesHeader(true, fz::kSignParties, true, true),
              gold_sale(fz::ExporterRuc(), "XG", 2_g)));
  Write("fuzz_rules", "sale-gold-to-trader",
        Rules(RulesHeader(true, fz::kSignParties, true, true), gold_sale(trader, "TG", 1_g)));
  // Regressions: times far outside google.protobuf.Timestamp's range (their microseconds
  // overflowed int64 in the rules).
  for (const int64_t seconds : {int64_t{1'000'000'000'000'000}, int64_t{-1'000'000'000'000'000}}) {
    auto x = Extraction("W", miner, fz::kUnitLon, fz::kUnitLat, 10_kg);
    x.mutable_time()->set_seconds(seconds);
    Write("fuzz_rules", seconds > 0 ? "extraction-time-far-future" : "extraction-time-far-past",
          Rules(RulesHeader(false, fz::kSignParties, false, true), x));
  }
  return 0;
}
