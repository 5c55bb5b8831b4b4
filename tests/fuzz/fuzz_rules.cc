// The origin rules, end to end through a real ledger.
//
// Once per process: a ledger in a temporary folder ($TMPDIR) with a registrar, a miner, a
// selector, a unit, a plant, a trader, an exporter, a prohibited zone, one extracted lot
// (kSeedLot), part of it bought by the plant (kPlantLot) and partly processed into a gold lot
// (kGoldLot), some of whose grams the exporter bought (kExportLot).
// Per input: the first byte chooses Extraction, Sale, Processing, Export or Correction, who
// signs, and two fix-ups (see RulesHeader in fuzz_util.h); the rest is the payload, signed and
// submitted. Corrections may void and restore lots, the start-up ones too: the state drifts. The
// answer is OK, or a refusal (a rule's code, or InvalidArgument / AlreadyExists /
// FailedPrecondition); never a crash. The ledger grows by exactly one entry when OK, by none
// otherwise, and an accepted entry is stored as answered. VETA_FUZZ_VERBOSE=1 prints each answer.
#include <google/protobuf/util/time_util.h>
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/base/strings.h"
#include "core/base/units.h"
#include "core/log/ledger.h"
#include "core/verify/envelope.h"
#include "core/verify/merkle.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/support/payloads.h"

namespace {

using google::protobuf::util::TimeUtil;
using veta::KeyAlgorithm;
using veta::PrivateKey;
using veta::StrCat;
namespace fz = veta::fuzz;
namespace pl = veta::payloads;
using pl::Sign;

PrivateKey Generate(KeyAlgorithm algorithm) {
  auto key = PrivateKey::Generate(algorithm);
  VETA_FUZZ_CHECK(key.ok());
  return *key;
}

class Rules {
 public:
  Rules() {
    const char* tmp = std::getenv("TMPDIR");
    dir_ = StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/veta-fuzz-rules-XXXXXX");
    VETA_FUZZ_CHECK(::mkdtemp(dir_.data()) != nullptr);
    const absl::Status created =
        veta::Ledger::Create(dir_, "veta.fuzz/rules", authority_, "", /*write_key=*/false);
    VETA_FUZZ_CHECK_MSG(created.ok(), created.ToString());
    veta::LedgerOptions options;
    options.data_dir = dir_;
    options.checkpoint_interval = std::chrono::milliseconds(1000);
    options.verify_threads = 1;
    auto opened = veta::Ledger::Open(options, authority_);
    VETA_FUZZ_CHECK_MSG(opened.ok(), opened.status().ToString());
    ledger_ = std::move(*opened);

    Accept(Sign(veta::kRegistryType, pl::RegistrarRecord("DGFM", registrar_.public_key()),
                {authority_}));
    // The unit is installed for 350 t/day: its holder is a small producer, not an artisanal one.
    Register(pl::Miner(fz::MinerRuc(), miner_.public_key(), veta::v1::VIGENTE, veta::v1::SMALL));
    Register(pl::Unit(fz::kUnitCode, fz::MinerRuc(), fz::kUnitLon, fz::kUnitLat,
                      350 * veta::units::kGramsPerTonne));
    Register(pl::PartyRecord(fz::PlantRuc(), veta::v1::PLANT, plant_.public_key()));
    Register(pl::PartyRecord(fz::TraderRuc(), veta::v1::TRADER, trader_.public_key()));
    Register(pl::PartyRecord(fz::ExporterRuc(), veta::v1::EXPORTER, exporter_.public_key()));
    Register(
        pl::SelectorRecord(fz::kSelectorDni, selector_.public_key(), {std::string(fz::kUnitCode)}));
    // An indigenous territory over the unit's north-east corner.
    Register(pl::ZoneRecord("CN-1", veta::v1::PROHIBITED_INDIGENOUS_TERRITORY,
                            pl::Square(fz::kUnitLon + 0.008, fz::kUnitLat + 0.008, 0.004)));

    VETA_FUZZ_CHECK(
        Accept(Sign(veta::kExtractionType,
                    pl::ExtractionOf(fz::kSeedLot, fz::MinerRuc(), fz::kUnitCode, fz::kUnitLon,
                                     fz::kUnitLat, fz::kSeedLotOreG, fz::kSeedLotGradePpb, 1),
                    {miner_})) == fz::kSeedLotEntry);
    // The plant's ore, its gold, and the exporter's part of it.
    VETA_FUZZ_CHECK(Accept(Sign(veta::kSaleType,
                                pl::SaleOf(fz::kSeedLot, fz::MinerRuc(), fz::PlantRuc(),
                                           fz::kPlantLot, fz::kPlantLotOreG, 2),
                                {miner_, plant_})) == fz::kPlantLotEntry);
    VETA_FUZZ_CHECK(
        Accept(Sign(veta::kProcessingType,
                    pl::ProcessingOf(
                        fz::PlantRuc(), {{std::string(fz::kPlantLot), fz::kProcessedOreG}},
                        {{std::string(fz::kGoldLot), fz::kGoldLotMg, fz::kGoldFinenessPpb}}, 3),
                    {plant_})) == fz::kGoldLotEntry);
    VETA_FUZZ_CHECK(Accept(Sign(veta::kSaleType,
                                pl::GoldSaleOf(fz::kGoldLot, fz::PlantRuc(), fz::ExporterRuc(),
                                               fz::kExportLot, fz::kExportLotMg, 4),
                                {plant_, exporter_})) == fz::kExportLotEntry);
    VETA_FUZZ_CHECK(ledger_->size() == fz::kStartEntries);
    // Then rules version 3 (issue 11's: dates, cash, prices, circles, grades, flagged
    // corrections), so that the newest rules are the ones fuzzed; the start-up entries above
    // were judged by version 1, as an old ledger's are.
    Register(pl::ParametersRecordV3());
    VETA_FUZZ_CHECK(ledger_->size() == fz::kStartEntries + 1);

    keys_by_id_ = {{fz::MinerRuc(), &miner_},
                   {fz::PlantRuc(), &plant_},
                   {fz::TraderRuc(), &trader_},
                   {fz::ExporterRuc(), &exporter_},
                   {std::string(fz::kSelectorDni), &selector_}};
  }

  ~Rules() {
    ledger_.reset();  // closes: finishes the queue, signs a last checkpoint
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void Run(const uint8_t* data, size_t size) {
    const uint8_t header = data[0];
    const fz::RulesCustody custody = fz::RulesCustodyOf(header);
    const bool sale = custody == fz::kCustodyOrigin && (header & fz::kRulesSale) != 0;
    const bool stamp_now = (header & fz::kRulesStampNow) != 0;
    const bool fresh_lot = (header & fz::kRulesFreshLot) != 0;
    const auto signers = static_cast<fz::RulesSigners>((header >> 1) & 3);
    std::string payload(fz::AsText(data + 1, size - 1));
    std::vector<const PrivateKey*> parties;
    std::string_view type, what;
    switch (custody) {
      case fz::kCustodyOrigin:
        if (sale) {
          type = veta::kSaleType;
          what = "sale";
          veta::v1::Sale s;
          if (s.ParseFromString(payload)) {
            if (stamp_now) *s.mutable_time() = TimeUtil::GetCurrentTime();
            if (fresh_lot) s.set_buyer_lot_id(StrCat(s.buyer_lot_id(), "#", ++fresh_));
            payload = s.SerializeAsString();
            parties = {KeyOf(s.seller_id()), KeyOf(s.buyer_ruc())};
          }
        } else {
          type = veta::kExtractionType;
          what = "extraction";
          veta::v1::Extraction x;
          if (x.ParseFromString(payload)) {
            if (stamp_now) *x.mutable_time() = TimeUtil::GetCurrentTime();
            if (fresh_lot) x.set_lot_id(StrCat(x.lot_id(), "#", ++fresh_));
            payload = x.SerializeAsString();
            parties = {KeyOf(x.extractor_id())};
          }
        }
        break;
      case fz::kCustodyProcessing: {
        type = veta::kProcessingType;
        what = "processing";
        veta::v1::Processing p;
        if (p.ParseFromString(payload)) {
          if (stamp_now) *p.mutable_time() = TimeUtil::GetCurrentTime();
          if (fresh_lot) {
            const uint64_t suffix = ++fresh_;
            for (auto& out : *p.mutable_outputs()) {
              out.set_lot_id(StrCat(out.lot_id(), "#", suffix));
            }
          }
          payload = p.SerializeAsString();
          parties = {KeyOf(p.plant_ruc())};
        }
        break;
      }
      case fz::kCustodyExport: {
        type = veta::kExportType;
        what = "export";
        veta::v1::Export e;
        if (e.ParseFromString(payload)) {
          if (stamp_now) *e.mutable_time() = TimeUtil::GetCurrentTime();
          payload = e.SerializeAsString();
          parties = {KeyOf(e.exporter_ruc())};
        }
        break;
      }
      case fz::kCustodyCorrection: {
        type = veta::kCorrectionType;
        what = "correction";
        veta::v1::Correction c;
        if (c.ParseFromString(payload)) {
          if (stamp_now) *c.mutable_time() = TimeUtil::GetCurrentTime();
          payload = c.SerializeAsString();
        }
        parties = {&registrar_};  // a registrar may correct any transaction
        break;
      }
    }
    std::vector<PrivateKey> keys;
    std::set<std::string> keyids;
    auto add = [&](const PrivateKey* k) {
      if (k != nullptr && keyids.insert(k->public_key().keyid()).second) keys.push_back(*k);
    };
    switch (signers) {
      case fz::kSignParties:
        for (const PrivateKey* k : parties) add(k);
        if (keys.empty()) add(&miner_);
        break;
      case fz::kSignMinerPlant:
        add(&miner_);
        add(&plant_);
        break;
      case fz::kSignMiner:
        add(&miner_);
        break;
      case fz::kSignStranger:
        add(&stranger_);
        break;
    }
    const std::string envelope = pl::SignBytes(type, std::move(payload), keys);

    const uint64_t before = ledger_->size();
    const veta::SubmitResult r = ledger_->SubmitAndWait(envelope);
    const uint64_t after = ledger_->size();
    if (verbose_) {
      std::fprintf(stderr, "fuzz_rules: %s signed by %zu -> %s (size %llu -> %llu)\n",
                   std::string(what).c_str(), keys.size(), r.status.ToString().c_str(),
                   static_cast<unsigned long long>(before), static_cast<unsigned long long>(after));
    }
    if (r.status.ok()) {
      VETA_FUZZ_CHECK(after == before + 1);
      VETA_FUZZ_CHECK(r.refusal == veta::v1::REFUSAL_UNSPECIFIED);
      VETA_FUZZ_CHECK(r.sequence == before);
      // Stored as answered: the entry's leaf hash, and the envelope byte for byte.
      auto stored = ledger_->GetEntry(r.sequence);
      VETA_FUZZ_CHECK_MSG(stored.ok(), stored.status().ToString());
      VETA_FUZZ_CHECK(veta::merkle::HashLeaf(*stored) == r.leaf_hash);
      veta::v1::Entry entry;
      VETA_FUZZ_CHECK(entry.ParseFromString(*stored));
      VETA_FUZZ_CHECK(entry.sequence() == r.sequence && entry.envelope() == envelope);
      return;
    }
    VETA_FUZZ_CHECK_MSG(after == before, r.status.ToString());
    if (r.refusal != veta::v1::REFUSAL_UNSPECIFIED) {
      // A rule's refusal: FailedPrecondition, its code at the front of the message; a replay
      // is AlreadyExists (the entry it already is), a refused key registration keeps its
      // check's code.
      const absl::StatusCode code = r.status.code();
      if (r.refusal == veta::v1::ENVELOPE_REPLAYED) {
        VETA_FUZZ_CHECK_MSG(code == absl::StatusCode::kAlreadyExists, r.status.ToString());
      } else if (r.refusal == veta::v1::KEY_REGISTRATION_REFUSED) {
        VETA_FUZZ_CHECK_MSG(code == absl::StatusCode::kPermissionDenied ||
                                code == absl::StatusCode::kInvalidArgument ||
                                code == absl::StatusCode::kAlreadyExists ||
                                code == absl::StatusCode::kFailedPrecondition,
                            r.status.ToString());
      } else {
        VETA_FUZZ_CHECK_MSG(code == absl::StatusCode::kFailedPrecondition, r.status.ToString());
      }
      const std::string prefix = StrCat("[", veta::v1::Refusal_Name(r.refusal), "] ");
      VETA_FUZZ_CHECK_MSG(std::string(r.status.message()).rfind(prefix, 0) == 0,
                          r.status.ToString());
      return;
    }
    const absl::StatusCode code = r.status.code();
    VETA_FUZZ_CHECK_MSG(code == absl::StatusCode::kInvalidArgument ||
                            code == absl::StatusCode::kAlreadyExists ||
                            code == absl::StatusCode::kFailedPrecondition,
                        r.status.ToString());
  }

 private:
  const PrivateKey* KeyOf(const std::string& id) const {
    auto it = keys_by_id_.find(id);
    return it == keys_by_id_.end() ? nullptr : it->second;
  }

  // Submits what start-up needs; returns its entry number.
  uint64_t Accept(const std::string& envelope) {
    const veta::SubmitResult r = ledger_->SubmitAndWait(envelope);
    VETA_FUZZ_CHECK_MSG(r.status.ok(), r.status.ToString());
    return r.sequence;
  }
  void Register(const veta::v1::RegistryRecord& r) {
    Accept(Sign(veta::kRegistryType, r, {registrar_}));
  }

  std::string dir_;
  PrivateKey authority_ = Generate(KeyAlgorithm::kEd25519);
  PrivateKey registrar_ = Generate(KeyAlgorithm::kEd25519);
  PrivateKey miner_ = Generate(KeyAlgorithm::kEd25519);
  PrivateKey plant_ = Generate(KeyAlgorithm::kEcdsaP256);
  PrivateKey trader_ = Generate(KeyAlgorithm::kEd25519);
  PrivateKey exporter_ = Generate(KeyAlgorithm::kEd25519);
  PrivateKey selector_ = Generate(KeyAlgorithm::kEd25519);
  PrivateKey stranger_ = Generate(KeyAlgorithm::kEd25519);  // registered nowhere
  std::map<std::string, const PrivateKey*> keys_by_id_;
  std::unique_ptr<veta::Ledger> ledger_;
  uint64_t fresh_ = 0;
  const bool verbose_ = std::getenv("VETA_FUZZ_VERBOSE") != nullptr;  // each answer, on stderr
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 4096) return 0;
  static Rules rules;  // closed and removed at exit
  rules.Run(data, size);
  return 0;
}
