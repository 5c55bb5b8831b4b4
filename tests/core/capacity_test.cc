// The trader's desk (issue 12): GetDailyCapacity answers what a seller or a unit may still
// extract or process on a day, from the counters the rules check. Each test spends exactly the
// `left` it answers, and one gram more is refused with the rules' own code.
#include "core/read/capacity.h"

#include "tests/core/dating_fixture.h"

namespace veta::testing {
namespace {

class CapacityTest : public DatingFixture {
 protected:
  // The ledger's clock now (the fixture's, moved ahead).
  int64_t LedgerNow() const { return RealNow() + ahead_.load(); }

  veta::v1::DailyCapacity Ask(const std::string& id, int64_t day_micros = 0) {
    auto c = GetDailyCapacity(ledger_->store(), id, day_micros == 0 ? "" : PeruDayOf(day_micros),
                              LedgerNow(), ledger_->size());
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : veta::v1::DailyCapacity{};
  }
  static const veta::v1::UnitCapacity* UnitIn(const veta::v1::DailyCapacity& c,
                                              const std::string& code) {
    for (const auto& u : c.units()) {
      if (u.concession_code() == code) return &u;
    }
    return nullptr;
  }
};

// Rules v3: a back-dated declaration counts on its declared day and on the day it is submitted;
// `left` is the capacity less the larger of the two, for whatever day is asked about.
TEST_F(CapacityTest, UnitLeftIsWhatTheRulesStillAcceptBackDatedIncluded) {
  V3();
  ClockAt(10);
  ExpectAccepted(ExtractAt("D4", miner_a_, "U1", 600_kg, Day(4)));  // back-dated six days

  veta::v1::DailyCapacity today = Ask(miner_a_);  // by RUC: the miner's units
  EXPECT_EQ(today.kind(), "miner");
  EXPECT_TRUE(today.active());
  EXPECT_TRUE(today.counts_submission_day());
  EXPECT_EQ(today.day(), PeruDayOf(LedgerNow()));
  const auto* u1 = UnitIn(today, "U1");
  ASSERT_NE(u1, nullptr);
  ASSERT_NE(UnitIn(today, "UA"), nullptr);  // miner A holds UA too
  EXPECT_EQ(UnitIn(today, "UB"), nullptr);  // miner B's
  EXPECT_TRUE(u1->accepting());
  EXPECT_EQ(u1->use().capacity_ore_g(), 1_tpd);
  EXPECT_EQ(u1->use().used_declared_ore_g(), 0);  // nothing dated today
  EXPECT_EQ(u1->use().used_submitted_ore_g(), 600_kg);
  EXPECT_EQ(u1->use().left_ore_g(), 400_kg);

  veta::v1::DailyCapacity day4 = Ask("U1", Day(4));  // by unit, the declared day
  EXPECT_EQ(day4.kind(), "unit");
  ASSERT_EQ(day4.units_size(), 1);
  EXPECT_EQ(day4.units(0).use().used_declared_ore_g(), 600_kg);
  EXPECT_EQ(day4.units(0).use().left_ore_g(), 400_kg);

  // Spend exactly what is left, on another past day: accepted; then nothing is left.
  const int64_t left = Ask("U1", Day(9)).units(0).use().left_ore_g();
  ExpectAccepted(ExtractAt("D9", miner_a_, "U1", left, Day(9)));
  for (int64_t day : {Day(4), Day(8), Day(9), int64_t{0}}) {
    EXPECT_EQ(Ask("U1", day).units(0).use().left_ore_g(), 0) << PeruDayOf(day);
  }
  ExpectRefused(ExtractAt("D8", miner_a_, "U1", 1, Day(8)), veta::v1::UNIT_CAPACITY_EXCEEDED,
                "unit U1");
  ExpectRefused(ExtractAt("D10", miner_a_, "U1", 1, LedgerNow()), veta::v1::UNIT_CAPACITY_EXCEEDED,
                "unit U1");

  // The next real day: the day of submission is fresh, the declared day 9 is full.
  ClockAt(11);
  EXPECT_EQ(Ask("U1").units(0).use().left_ore_g(), 1_tpd);
  EXPECT_EQ(Ask("U1", Day(9)).units(0).use().left_ore_g(), 1_tpd - left);
  ExpectRefused(ExtractAt("D9b", miner_a_, "U1", 1_tpd - left + 1, Day(9)),
                veta::v1::UNIT_CAPACITY_EXCEEDED, "unit U1");
  ExpectAccepted(ExtractAt("D9c", miner_a_, "U1", 1_tpd - left, Day(9)));
  EXPECT_EQ(Ask("U1", Day(9)).units(0).use().left_ore_g(), 0);
}

// Before rules v3 only the declared day counts.
TEST_F(CapacityTest, RulesV2CountTheDeclaredDayOnly) {
  ClockAt(10);
  ExpectAccepted(ExtractAt("D4", miner_a_, "U1", 600_kg, Day(4)));
  veta::v1::DailyCapacity today = Ask("U1");
  EXPECT_FALSE(today.counts_submission_day());
  EXPECT_EQ(today.units(0).use().used_submitted_ore_g(), 0);
  EXPECT_EQ(today.units(0).use().left_ore_g(), 1_tpd);
  EXPECT_EQ(Ask("U1", Day(4)).units(0).use().left_ore_g(), 400_kg);
  ExpectRefused(ExtractAt("D4b", miner_a_, "U1", 400_kg + 1, Day(4)),
                veta::v1::UNIT_CAPACITY_EXCEEDED, "unit U1");
  ExpectAccepted(ExtractAt("D4c", miner_a_, "U1", 400_kg, Day(4)));
  EXPECT_EQ(Ask("U1", Day(4)).units(0).use().left_ore_g(), 0);
}

// A plant: its processing capacity, per declared day and per day of submission.
TEST_F(CapacityTest, PlantLeftIsWhatTheRulesStillAccept) {
  auto plant = PartyRecord(plant_, veta::v1::PLANT, plant_key_);
  plant.mutable_party()->set_processing_capacity_ore_g_per_day(1_tpd);
  ExpectAccepted(Registry(plant));
  V3();
  ClockAt(10);
  ExpectAccepted(ExtractAt("M1", miner_a_, "UA", 1000_kg, Day(5)));
  ExpectAccepted(ExtractAt("M2", miner_a_, "UA", 1000_kg, Day(6)));
  ExpectAccepted(SellAt("M1", miner_a_, plant_, "N1", 1000_kg, Day(7)));
  ExpectAccepted(SellAt("M2", miner_a_, plant_, "N2", 1000_kg, Day(7)));

  veta::v1::DailyCapacity before = Ask(plant_, Day(8));
  EXPECT_EQ(before.kind(), "party");
  EXPECT_EQ(before.party_kind(), veta::v1::PLANT);
  ASSERT_TRUE(before.has_processing());
  EXPECT_EQ(before.processing().capacity_ore_g(), 1_tpd);
  EXPECT_EQ(before.processing().left_ore_g(), 1000_kg);
  ExpectAccepted(ProcessAt({{"N1", 1000_kg}}, {{"NG1", 5_g, 900_permille}}, Day(8)));

  // Declared on day 8, submitted today: day 9 has room by its declared day, not by today's.
  veta::v1::DailyCapacity day9 = Ask(plant_, Day(9));
  EXPECT_EQ(day9.processing().used_declared_ore_g(), 0);
  EXPECT_EQ(day9.processing().used_submitted_ore_g(), 1000_kg);
  EXPECT_EQ(day9.processing().left_ore_g(), 0);
  EXPECT_EQ(Ask(plant_, Day(8)).processing().left_ore_g(), 0);
  ExpectRefused(ProcessAt({{"N2", 1000_kg}}, {{"NG2", 5_g, 900_permille}}, Day(9)),
                veta::v1::PLANT_CAPACITY_EXCEEDED, StrCat("plant ", plant_));
  // A trader has no capacity of its own: its status only.
  veta::v1::DailyCapacity trader = Ask(trader_);
  EXPECT_EQ(trader.party_kind(), veta::v1::TRADER);
  EXPECT_FALSE(trader.has_processing());
  EXPECT_EQ(trader.units_size(), 0);
}

// A unit working half of UA's ground: the ground's and the share's limits, per day of
// submission too; `left` on the ground is the least of the three.
TEST_F(CapacityTest, SharedGroundLeftIsWhatTheRulesStillAccept) {
  auto u2 = Unit("U2", miner_b_, kLonA, kLatA);  // UA's ground, before v3 (no overlap rule)
  auto* shared = u2.mutable_unit()->add_shared();
  shared->set_concession_code("UA");
  shared->set_share_ppm(500000);
  ExpectAccepted(Registry(u2));
  V3();
  ClockAt(3);
  ExpectAccepted(ExtractAt("S1", miner_b_, "U2", 3000_kg, Day(1)));
  veta::v1::DailyCapacity c = Ask("U2", Day(2));
  ASSERT_EQ(c.units_size(), 1);
  ASSERT_EQ(c.units(0).shared_size(), 1);
  const auto& g = c.units(0).shared(0);
  EXPECT_EQ(g.ground(), "UA");
  EXPECT_EQ(g.share_use().capacity_ore_g(), 5000_kg);
  EXPECT_EQ(g.share_use().left_ore_g(), 2000_kg);  // 3 t submitted today
  EXPECT_EQ(g.ground_use().left_ore_g(), 7000_kg);
  EXPECT_EQ(c.units(0).use().left_ore_g(), 7000_kg);  // U2's own 10 t
  EXPECT_EQ(g.left_ore_g(), 2000_kg);
  ExpectRefused(ExtractAt("S2", miner_b_, "U2", 2000_kg + 1, Day(2)),
                veta::v1::UNIT_CAPACITY_EXCEEDED, "share");
  ExpectAccepted(ExtractAt("S3", miner_b_, "U2", 2000_kg, Day(2)));
  EXPECT_EQ(Ask("U2", Day(2)).units(0).shared(0).left_ore_g(), 0);
  // UA's own answer: its ground's 10 t less U2's 5 t submitted today.
  EXPECT_EQ(Ask("UA", Day(2)).units(0).use().left_ore_g(), 5000_kg);
  ExpectRefused(ExtractAt("A1", miner_a_, "UA", 5000_kg + 1, Day(2)),
                veta::v1::UNIT_CAPACITY_EXCEEDED, "submitted that day");
  ExpectAccepted(ExtractAt("A2", miner_a_, "UA", 5000_kg, Day(2)));
  EXPECT_EQ(Ask("UA", Day(2)).units(0).use().left_ore_g(), 0);
}

// A selector: her daily limit and her units.
TEST_F(CapacityTest, SelectorLeftIsHerDailyLimit) {
  V3();
  veta::v1::DailyCapacity c = Ask(dni_);
  EXPECT_EQ(c.kind(), "selector");
  ASSERT_TRUE(c.has_selector());
  EXPECT_EQ(c.selector().capacity_ore_g(), 200_kg);
  ASSERT_EQ(c.units_size(), 1);
  EXPECT_EQ(c.units(0).concession_code(), "UA");
  ExpectAccepted(ExtractAt("P1", dni_, "UA", 150_kg, RealNow()));
  EXPECT_EQ(Ask(dni_).selector().left_ore_g(), 50_kg);
  ExpectRefused(ExtractAt("P2", dni_, "UA", 50_kg + 1, RealNow()),
                veta::v1::SELECTOR_LIMIT_EXCEEDED);
}

// A unit not in force for extraction, and a suspended seller, accept nothing.
TEST_F(CapacityTest, NothingIsLeftWhereNothingIsAccepted) {
  auto ub = Unit("UB", miner_b_, kLonB, kLatB);
  ub.mutable_unit()->mutable_status()->set_status(veta::v1::SUSPENDIDO);
  ub.mutable_unit()->mutable_status()->set_reason("fiscalizacion OEFA");
  ExpectAccepted(Registry(ub));
  veta::v1::DailyCapacity c = Ask("UB");
  EXPECT_FALSE(c.units(0).accepting());
  EXPECT_EQ(c.units(0).use().left_ore_g(), 0);
  EXPECT_EQ(c.units(0).use().capacity_ore_g(), 10_tpd);
  ExpectRefused(Extraction("LB", miner_b_, "UB", kLonB, kLatB, 1_kg, key_b_),
                veta::v1::UNIT_NOT_ACTIVE);

  ExpectAccepted(Registry(Miner(miner_a_, key_a_, veta::v1::SUSPENDIDO)));
  veta::v1::DailyCapacity a = Ask(miner_a_);
  EXPECT_EQ(a.status(), veta::v1::SUSPENDIDO);
  EXPECT_FALSE(a.active());
}

TEST_F(CapacityTest, BadQuestionsAreRefusedClearly) {
  const int64_t now = LedgerNow();
  auto ask = [&](const std::string& id, const std::string& day) {
    return GetDailyCapacity(ledger_->store(), id, day, now, ledger_->size()).status();
  };
  EXPECT_TRUE(absl::IsNotFound(ask("NOPE", "")));
  EXPECT_NE(ask("NOPE", "").message().find("NOPE is no registered"), std::string::npos);
  EXPECT_TRUE(absl::IsInvalidArgument(ask("U1", "2026-12-05")));
  EXPECT_TRUE(absl::IsInvalidArgument(ask("U1", "20261332")));
  EXPECT_TRUE(absl::IsInvalidArgument(ask("U1", PeruDayOf(now + 2 * kDay))));
  EXPECT_NE(ask("U1", PeruDayOf(now + 2 * kDay)).message().find("after today"), std::string::npos);
  EXPECT_TRUE(absl::IsInvalidArgument(ask("", "")));
}

}  // namespace
}  // namespace veta::testing
