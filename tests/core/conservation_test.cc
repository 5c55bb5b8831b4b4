// Every milligram is conserved: a chain of 1,000 splits and blends (sales of parts, processing
// blending several lots, gold re-melted, exports) through the real ledger (RocksDB, rules,
// keys), then some of its steps voided by corrections. After each phase, for every unit of
// origin, what all live lots hold plus what was exported equals what was extracted, exactly,
// and every lot's numerators sum to its fine mg. A stored counter of the wrong size is
// DataLoss at start-up, never a silent zero.
#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "core/read/audit.h"
#include "core/rules/registry.h"
#include "core/verify/lots.h"
#include "tests/core/custody_fixture.h"

namespace veta {
namespace {

class ConservationTest : public testing::CustodyFixture {
 protected:
  void SetUp() override {
    CustodyFixture::SetUp();
    // Recovery up to 100%: a processing may hold all the gold its ore brings, so that the
    // chain loses none (gold lost in processing is lost from every unit in proportion).
    veta::v1::RegistryRecord r = payloads::ParametersRecord();
    r.mutable_parameters()->mutable_recovery_ppm()->set_max(100_pct);
    r.mutable_parameters()->set_volume_history_min(3);
    ExpectAccepted(Registry(r));
  }

  std::vector<veta::v1::Lot> AllLots() {
    std::vector<veta::v1::Lot> lots;
    std::unique_ptr<Cursor> it = ledger_->store().NewCursor(Family::kState);
    for (it->Seek("L"); it->Valid() && it->key().starts_with("L"); it->Next()) {
      veta::v1::Lot lot;
      EXPECT_TRUE(lot.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())));
      lots.push_back(std::move(lot));
    }
    return lots;
  }

  static int64_t Sum(const Origin& o) {
    int64_t sum = 0;
    for (const auto& s : o) sum += s.fine_mg();
    return sum;
  }

  // The two identities, over every lot in the store. Returns the milligrams extracted.
  int64_t ExpectEveryMilligramConserved(const std::string& when) {
    std::map<std::string, int64_t> extracted, held;
    int64_t total = 0, live = 0, exported_lots = 0;
    for (const auto& lot : AllLots()) {
      // Each lot's numerators sum to its fine mg: as created, what remains, what left.
      EXPECT_EQ(Sum(OriginOf(lot)), lot.original_fine_mg()) << when << ": " << lot.lot_id();
      EXPECT_EQ(Sum(RemainingOriginOf(lot)), lot.remaining_fine_mg()) << when << lot.lot_id();
      EXPECT_EQ(lot.origin_size(), lot.remaining_origin_size()) << lot.lot_id();
      if (lot.exported_origin_size() > 0) {
        EXPECT_EQ(Sum({lot.exported_origin().begin(), lot.exported_origin().end()}),
                  lot.exported_fine_mg())
            << when << ": " << lot.lot_id();
      }
      if (lot.voided_at() != 0) continue;  // its entry was undone: its gold went back
      ++live;
      if (lot.source() == veta::v1::EXTRACTED) {
        extracted[lot.unit_code()] += lot.original_fine_mg();
        total += lot.original_fine_mg();
      }
      for (const auto& s : RemainingOriginOf(lot)) held[s.unit_code()] += s.fine_mg();
      if (lot.exported_at() != 0 && lot.export_voided_at() == 0) {
        ++exported_lots;
        if (lot.exported_origin_size() == 0) {
          held[lot.unit_code()] += lot.exported_fine_mg();
        } else {
          for (const auto& s : lot.exported_origin()) held[s.unit_code()] += s.fine_mg();
        }
      }
    }
    for (const auto& [unit, mg] : extracted) {
      EXPECT_EQ(held[unit], mg) << when << ": unit " << unit << " extracted " << mg
                                << " mg; live lots and exports hold " << held[unit];
    }
    EXPECT_EQ(held.size(), extracted.size()) << when;
    EXPECT_GT(exported_lots, 0) << when;
    EXPECT_GT(live, 100) << when;
    return total;
  }

  std::mt19937_64 rng_{20260417};
  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
};

TEST_F(ConservationTest, AThousandSplitsAndBlendsConserveEveryMilligram) {
  // Who holds which lots that still have something left (ids; quantities are read back).
  std::map<std::string, std::vector<std::string>> held;
  int next = 0;
  auto fresh = [&](const char* prefix) { return StrCat(prefix, next++); };
  auto lot_of = [&](const std::string& id) {
    auto lot = Find(id);
    EXPECT_TRUE(lot.has_value()) << id;
    return lot.value_or(veta::v1::Lot());
  };
  auto take = [&](const std::string& holder) {
    auto& v = held[holder];
    const size_t i = static_cast<size_t>(Uniform(0, static_cast<int64_t>(v.size()) - 1));
    std::string id = v[i];
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
    return id;
  };
  auto keep = [&](const std::string& holder, const std::string& id) {
    if (Remaining(lot_of(id)) > 0) held[holder].push_back(id);
  };
  std::vector<uint64_t> steps;  // every accepted transaction, in order
  auto accept = [&](const std::string& envelope) {
    SubmitResult r = ExpectAccepted(envelope);
    steps.push_back(r.sequence);
    return r;
  };

  // 18 ore lots of odd masses and grades from the three units (within 10 t a unit a day).
  for (int i = 0; i < 18; ++i) {
    const std::string unit = i % 3 == 0 ? "UA" : i % 3 == 1 ? "UB" : "UC";
    const std::string id = fresh("X");
    const std::string miner = unit == "UA" ? miner_a_ : miner_b_;
    steps.push_back(
        Extract(id, unit, Uniform(300_kg, 1600_kg), Uniform(1.001_gpt, 40.999_gpt)).sequence);
    held[miner].push_back(id);
  }
  int sales = 0, processings = 0, remelts = 0, exports = 0;
  for (int rounds = 0; static_cast<int>(steps.size()) < 1000 && rounds < 100000; ++rounds) {
    const int64_t dice = Uniform(0, 99);
    if (dice < 30 && (!held[miner_a_].empty() || !held[miner_b_].empty())) {
      // A miner sells part (or all) of an ore lot to the trader or the plant.
      const std::string miner = held[miner_a_].empty()   ? miner_b_
                                : held[miner_b_].empty() ? miner_a_
                                : Uniform(0, 1)          ? miner_a_
                                                         : miner_b_;
      const std::string id = take(miner);
      const int64_t left = Remaining(lot_of(id));
      const int64_t q = Uniform(0, 3) == 0 ? left : Uniform(1, left);
      const std::string buyer = Uniform(0, 2) == 0 ? trader_ : plant_;
      const std::string part = fresh("S");
      accept(SellEnvelope(id, miner, buyer, part, q));
      keep(miner, id);
      held[buyer].push_back(part);
      ++sales;
    } else if (dice < 45 && !held[trader_].empty()) {
      // The trader sells part of what it holds: ore to the plant, gold to the exporter.
      const std::string id = take(trader_);
      const veta::v1::Lot lot = lot_of(id);
      const int64_t q = Uniform(1, Remaining(lot));
      const std::string buyer = IsGold(lot) ? exporter_ : plant_;
      const std::string part = fresh("T");
      accept(SellEnvelope(id, trader_, buyer, part, q, IsGold(lot)));
      keep(trader_, id);
      held[buyer].push_back(part);
      ++sales;
    } else if (dice < 70 && !held[plant_].empty()) {
      // The plant blends 1 to 4 whole lots (ore, or gold re-melted) into 1 to 3 gold lots of
      // pure gold holding all the fine gold they bring: taking a whole lot takes all of its
      // fine mg, which the lot's state says.
      std::vector<In> inputs;
      int64_t fine = 0;
      bool gold_in = false;
      const int64_t n = Uniform(1, std::min<int64_t>(4, static_cast<int64_t>(held[plant_].size())));
      for (int64_t k = 0; k < n; ++k) {
        const veta::v1::Lot lot = lot_of(take(plant_));
        fine += lot.remaining_fine_mg();
        gold_in = gold_in || IsGold(lot);
        inputs.push_back(IsGold(lot) ? In{lot.lot_id(), 0, Remaining(lot)}
                                     : In{lot.lot_id(), Remaining(lot), 0});
      }
      if (fine < 3) {  // too little gold to make a lot of: give the lots back
        for (const auto& in : inputs) held[plant_].push_back(in.lot);
        continue;
      }
      std::vector<Out> outputs;
      int64_t left = fine;
      const int64_t m = Uniform(1, 3);
      for (int64_t k = 0; k < m; ++k) {
        const int64_t mg = k + 1 == m ? left : Uniform(1, left - (m - k - 1));
        left -= mg;
        outputs.push_back({fresh("G"), mg, 1000_permille});
      }
      accept(ProcessEnvelope(inputs, outputs));
      for (const auto& out : outputs) held[plant_].push_back(out.lot);
      ++processings;
      remelts += gold_in ? 1 : 0;
      // Sell some of the plant's gold on, part of a lot.
      const veta::v1::Lot g = lot_of(outputs.front().lot);
      if (g.remaining_gold_mg() > 1) {
        auto& v = held[plant_];
        v.erase(std::find(v.begin(), v.end(), g.lot_id()));
        const std::string part = fresh("P");
        const std::string buyer = Uniform(0, 1) ? exporter_ : trader_;
        accept(SellEnvelope(g.lot_id(), plant_, buyer, part, Uniform(1, g.remaining_gold_mg() - 1),
                            true));
        keep(plant_, g.lot_id());
        held[buyer].push_back(part);
        ++sales;
      }
    } else if (!held[exporter_].empty()) {
      // The exporter exports a lot, or sells part of one back to the plant for refining.
      const std::string id = take(exporter_);
      if (Uniform(0, 2) == 0 && Remaining(lot_of(id)) > 1) {
        const std::string part = fresh("R");
        accept(
            SellEnvelope(id, exporter_, plant_, part, Uniform(1, Remaining(lot_of(id)) - 1), true));
        keep(exporter_, id);
        held[plant_].push_back(part);
        ++sales;
      } else {
        accept(ExportEnvelope(id, "CH", StrCat("DAM-", id)));
        ++exports;
      }
    } else if (held[miner_a_].empty() && held[miner_b_].empty() && held[trader_].empty() &&
               held[plant_].empty()) {
      break;  // everything left the country
    }
  }
  EXPECT_GE(steps.size(), 1000u);
  EXPECT_GT(sales, 300);
  EXPECT_GT(processings, 100);
  EXPECT_GT(remelts, 20);
  EXPECT_GT(exports, 20);
  const int64_t extracted = ExpectEveryMilligramConserved("after the chain");
  EXPECT_GT(extracted, 100_g);

  // Void steps from the end: whatever created lots that moved on since is refused (blocked),
  // the rest restore exactly what they took.
  int voided = 0;
  for (auto it = steps.rbegin(); it != steps.rend() && voided < 60; ++it) {
    SubmitResult r = ledger_->SubmitAndWait(CorrectionEnvelope(*it, {registrar_}));
    if (r.status.ok()) {
      ++voided;
    } else {
      EXPECT_EQ(r.refusal, veta::v1::CORRECTION_BLOCKED) << r.status;
    }
  }
  EXPECT_GE(voided, 30);
  ExpectEveryMilligramConserved("after the corrections");
  // And again from the start of the chain, where lots have moved on the most.
  int early = 0;
  for (size_t i = 0; i < steps.size() && early < 10; i += 7) {
    SubmitResult r = ledger_->SubmitAndWait(CorrectionEnvelope(steps[i], {registrar_}));
    if (r.status.ok()) ++early;
  }
  ExpectEveryMilligramConserved("after early corrections");
  // The replay makes the same state, counters and stats included.
  AuditReport report = Audit();
  EXPECT_TRUE(report.status.ok()) << report.status;
  Reopen();
  ExpectEveryMilligramConserved("after a restart");
}

TEST_F(ConservationTest, AStoredCounterOfTheWrongSizeIsDataLoss) {
  Extract("L1", "UA", 1000_kg, 8_gpt);
  Sell("L1", miner_a_, plant_, "P1", 400_kg);
  ledger_.reset();
  for (const char prefix : {'C', 'T'}) {
    std::string key, good;
    {
      Store* store = store_.get();
      std::unique_ptr<Cursor> it = store->NewCursor(Family::kState);
      it->Seek(std::string(1, prefix));
      ASSERT_TRUE(it->Valid() && it->key().starts_with(std::string(1, prefix)));
      key = std::string(it->key());
      good = std::string(it->value());
      it.reset();
      // A host-order double, as counters were once stored: 8 bytes for a counter (so cut to
      // 4), 16 for stats (so cut to 12).
      ASSERT_TRUE(PutRow(*store, Family::kState, key, good.substr(0, good.size() - 4)).ok());
    }
    auto opened = Ledger::Open(BaseOptions(), authority_);
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << prefix << opened.status();
    EXPECT_NE(std::string(opened.status().message()).find(prefix == 'C' ? "counter" : "seller"),
              std::string::npos)
        << opened.status();
    ASSERT_TRUE(PutRow(*store_, Family::kState, key, good).ok());
  }
  Reopen();  // whole again
  EXPECT_EQ(Find("L1")->remaining_ore_g(), 600_kg);
}

}  // namespace
}  // namespace veta
