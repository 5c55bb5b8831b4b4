// Shared by the fuzz targets and the seed generator: the invariant check, and the fixed names
// and keys that seeds and targets must agree on.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tests/support/payloads.h"

// An invariant of the code under test: abort (libFuzzer records the input) when it fails.
#define VETA_FUZZ_CHECK(cond)                                                             \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

// The same, with a message (a status, a value) printed on failure.
#define VETA_FUZZ_CHECK_MSG(cond, msg)                                                       \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: invariant violated: %s: %s\n", __FILE__, __LINE__, #cond, \
                   std::string(msg).c_str());                                                \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

namespace veta::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// fuzz_note: the checkpoint signer. A fixed seed so that the seed notes verify.
inline constexpr std::string_view kNoteKeyName = "veta.fuzz/log";
inline constexpr std::string_view kNoteKeySeed = "veta fuzz: fixed note key seed!!";  // 32 bytes
static_assert(kNoteKeySeed.size() == 32);

// fuzz_rules: the registry it builds, which the seed payloads name.
inline constexpr double kUnitLon = -69.9, kUnitLat = -12.6;  // unit U1: 0.02-degree square
inline constexpr std::string_view kUnitCode = "U1";
inline constexpr std::string_view kSelectorDni = "45678912";
inline constexpr std::string_view kSeedLot = "L0";  // extracted at start-up, 100 t at 8 g/t
// Then, at start-up: the miner sells kPlantLotOreG of kSeedLot to the plant (kPlantLot); the
// plant processes kProcessedOreG of it into kGoldLotMg of gold at kGoldFinenessPpb (kGoldLot;
// the mass balance allows 5,000 kg x 8 g/t x 0.95 x 1.02 = 38.76 g fine, this is 36 g); and
// sells kExportLotMg of that gold to the exporter (kExportLot), which may export it.
inline constexpr std::string_view kPlantLot = "PL0";
inline constexpr std::string_view kGoldLot = "AU0";
inline constexpr std::string_view kExportLot = "XU0";
// Grams of ore, milligrams of gold, ppb (core/base/units.h).
inline constexpr int64_t kPlantLotOreG = 20000000, kProcessedOreG = 5000000;  // 20 t, 5 t
inline constexpr int64_t kGoldLotMg = 40000, kGoldFinenessPpb = 900000000;    // 40 g at 900
inline constexpr int64_t kExportLotMg = 30000;                                // 30 g
inline constexpr int64_t kSeedLotOreG = 100000000, kSeedLotGradePpb = 8000;   // 100 t, 8 g/t
// The entries fuzz_rules' start-up writes (0 is the genesis; 1-8 the registry records), which
// correction seeds name.
inline constexpr uint64_t kRegistrarEntry = 1;
inline constexpr uint64_t kSeedLotEntry = 9;     // the extraction of kSeedLot
inline constexpr uint64_t kPlantLotEntry = 10;   // the sale into kPlantLot
inline constexpr uint64_t kGoldLotEntry = 11;    // the processing into kGoldLot
inline constexpr uint64_t kExportLotEntry = 12;  // the sale into kExportLot
inline constexpr uint64_t kStartEntries = 13;    // the ledger's size after start-up

using payloads::Ruc;  // a valid RUC (tests/support/payloads.h)
inline std::string MinerRuc() { return Ruc("2060000001"); }
inline std::string PlantRuc() { return Ruc("2070000003"); }
inline std::string TraderRuc() { return Ruc("2070000004"); }
inline std::string ExporterRuc() { return Ruc("2070000005"); }

// fuzz_rules: the first input byte. Bits 5-6: the custody kind (RulesCustody): 0 = an
// Extraction or a Sale, as bit 0 says (bit 0: 0 = Extraction, 1 = Sale); 1 = a Processing; 2 =
// an Export; 3 = a Correction (bit 0 is then ignored). Bits 1-2: who signs (kSignParties: the
// payload's parties as it names them: the extractor, or seller and buyer, or the plant, or the
// exporter; for a correction, the registrar, who may correct anything; kSignMinerPlant: the
// miner and the plant; kSignMiner: the miner alone; kSignStranger: an unregistered key).
// Bit 3: stamp the payload with the current time. Bit 4: make the new lot ids unique (a
// suffix: the extracted lot, the buyer's lot, the processing outputs), so that a payload can be
// accepted again. Bit 7 is unused.
enum RulesSigners : uint8_t {
  kSignParties = 0,
  kSignMinerPlant = 1,
  kSignMiner = 2,
  kSignStranger = 3
};
enum RulesCustody : uint8_t {
  kCustodyOrigin = 0,  // Extraction or Sale (bit 0)
  kCustodyProcessing = 1,
  kCustodyExport = 2,
  kCustodyCorrection = 3
};
inline constexpr uint8_t kRulesSale = 1, kRulesStampNow = 8, kRulesFreshLot = 16;
inline constexpr int kRulesCustodyShift = 5;
inline constexpr uint8_t RulesHeader(bool sale, RulesSigners signers, bool stamp_now,
                                     bool fresh_lot, RulesCustody custody = kCustodyOrigin) {
  return static_cast<uint8_t>((sale ? kRulesSale : 0) | (signers << 1) |
                              (stamp_now ? kRulesStampNow : 0) | (fresh_lot ? kRulesFreshLot : 0) |
                              (custody << kRulesCustodyShift));
}
inline constexpr RulesCustody RulesCustodyOf(uint8_t header) {
  return static_cast<RulesCustody>((header >> kRulesCustodyShift) & 3);
}
// A processing, export or correction header (bit 0 is 0).
inline constexpr uint8_t CustodyHeader(RulesCustody custody, RulesSigners signers, bool stamp_now,
                                       bool fresh_lot) {
  return RulesHeader(false, signers, stamp_now, fresh_lot, custody);
}

}  // namespace veta::fuzz
