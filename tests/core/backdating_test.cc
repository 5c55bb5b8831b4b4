// Issue 11, item 2: back-dating multiplies capacity and outruns suspensions. Under rules v3
// nothing is dated before a registration or before the lot it moves, a suspension in force
// refuses whatever date a declaration carries (unless a registrar co-signs a late declaration
// of work done before it), limits hold per day of submission as well as per declared day, and
// a declaration more than 72 hours late is flagged.
#include "tests/core/dating_fixture.h"

namespace veta::testing {
namespace {

using DatingTest = DatingFixture;

// The pattern: on a 1 t/day unit registered that day, 29 declarations of 1,000 kg dated
// 1-29 days back. Under v3 none goes through: within the week's window they are dated before
// the unit's registration, beyond it too old; a registrar's co-signature lifts the window, not
// the registration.
TEST_F(DatingTest, BackDatedDeclarationsOnAUnitRegisteredTodayAreRefused) {
  V3();
  const int64_t now = RealNow();
  for (int k = 1; k <= 29; ++k) {
    const std::string env = ExtractAt(StrCat("B", k), miner_a_, "U1", 1000_kg, now - k * kDay);
    if (k < 7) {  // 7 days back is past the window by the time it is sequenced
      ExpectRefused(env, veta::v1::DATED_BEFORE_REGISTRATION, "before unit U1 was registered");
    } else {
      ExpectRefused(env, veta::v1::TIME_TOO_OLD, "needs a registrar's co-signature");
    }
  }
  // Co-signed by a registrar: the window is lifted, the registration is not.
  ExpectRefused(ExtractAt("BR", miner_a_, "U1", 1000_kg, now - 20 * kDay, {registrar_}),
                veta::v1::DATED_BEFORE_REGISTRATION, "nothing is declared of a time before");
  // Split into small declarations: the same.
  ExpectRefused(ExtractAt("BS", miner_a_, "U1", 10_kg, now - 2 * kHour),
                veta::v1::DATED_BEFORE_REGISTRATION, "before unit U1 was registered");
  // The real day's tonne goes through, and nothing more.
  ExpectAccepted(ExtractAt("T1", miner_a_, "U1", 1000_kg, RealNow()));
  ExpectRefused(ExtractAt("T2", miner_a_, "U1", 1_kg, RealNow()), veta::v1::UNIT_CAPACITY_EXCEEDED,
                "unit U1");
  EXPECT_FALSE(Find("B3").has_value());
}

// On a unit registered days earlier, declarations dated on different days inside the window,
// all submitted on one real day, share that day's capacity.
TEST_F(DatingTest, UnitCapacityHoldsPerSubmissionDay) {
  V3();
  ClockAt(10);  // ten days after the registrations
  ExpectAccepted(ExtractAt("D4", miner_a_, "U1", 600_kg, Day(4)));
  ExpectAccepted(ExtractAt("D5", miner_a_, "U1", 400_kg, Day(5)));
  for (int k = 6; k <= 9; ++k) {
    ExpectRefused(ExtractAt(StrCat("D", k), miner_a_, "U1", 1000_kg, Day(k)),
                  veta::v1::UNIT_CAPACITY_EXCEEDED,
                  "unit U1, counting what was submitted that day whatever day it declares, "
                  "would reach 2000.000 kg");
  }
  ExpectRefused(ExtractAt("Dx", miner_a_, "U1", 1_kg, Day(9)), veta::v1::UNIT_CAPACITY_EXCEEDED,
                "(1000.000 kg already)");
  // The next real day has its own tonne (declared on a day that still has room).
  ClockAt(11);
  ExpectAccepted(ExtractAt("D10", miner_a_, "U1", 1000_kg, Day(10)));
  ExpectRefused(ExtractAt("D10b", miner_a_, "U1", 1_kg, Day(9)), veta::v1::UNIT_CAPACITY_EXCEEDED,
                "submitted that day");
}

// A unit sharing another's ground (half of UA's 10 t a day) declares on two past days, both
// submitted the same real day: its share holds per day of submission too.
TEST_F(DatingTest, ASharedGroundHoldsPerSubmissionDay) {
  auto u2 = Unit("U2", miner_b_, kLonA, kLatA);  // UA's ground, before v3 (no overlap rule)
  auto* shared = u2.mutable_unit()->add_shared();
  shared->set_concession_code("UA");
  shared->set_share_ppm(500000);
  ExpectAccepted(Registry(u2));
  V3();
  ClockAt(3);
  ExpectAccepted(ExtractAt("S1", miner_b_, "U2", 3000_kg, Day(1)));
  ExpectRefused(ExtractAt("S2", miner_b_, "U2", 3000_kg, Day(2)), veta::v1::UNIT_CAPACITY_EXCEEDED,
                "unit U2's share of unit UA's ground, counting what was submitted that day");
  // The ground's own real day holds too: UA's 10 t less U2's 3 t.
  ExpectRefused(ExtractAt("A1", miner_a_, "UA", 7001_kg, Day(2)), veta::v1::UNIT_CAPACITY_EXCEEDED,
                "submitted that day");
  ExpectAccepted(ExtractAt("A2", miner_a_, "UA", 7000_kg, Day(2)));
  EXPECT_TRUE(Audit().status.ok());
}

// A pallaquera's 200 kg a day: 1 t in one real day by back-dating five declarations is refused.
TEST_F(DatingTest, SelectorLimitHoldsPerSubmissionDay) {
  V3();
  ClockAt(10);
  ExpectAccepted(ExtractAt("P5", dni_, "UA", 200_kg, Day(5)));
  for (int k = 6; k <= 9; ++k) {
    ExpectRefused(ExtractAt(StrCat("P", k), dni_, "UA", 200_kg, Day(k)),
                  veta::v1::SELECTOR_LIMIT_EXCEEDED,
                  StrCat("selector ", dni_, ", counting what was submitted that day"));
  }
  // Split: 100 + 100 on two declared days fill the same real day.
  ClockAt(11);
  ExpectAccepted(ExtractAt("Q1", dni_, "UA", 100_kg, Day(8)));
  ExpectAccepted(ExtractAt("Q2", dni_, "UA", 100_kg, Day(9)));
  ExpectRefused(ExtractAt("Q3", dni_, "UA", 1_kg, Day(10)), veta::v1::SELECTOR_LIMIT_EXCEEDED,
                "submitted that day");
}

// A plant's processing capacity holds per day of submission too, and a correction of a
// processing gives that day's room back.
TEST_F(DatingTest, PlantCapacityHoldsPerSubmissionDay) {
  auto plant = PartyRecord(plant_, veta::v1::PLANT, plant_key_);
  plant.mutable_party()->set_processing_capacity_ore_g_per_day(1_tpd);
  ExpectAccepted(Registry(plant));
  V3();
  ClockAt(10);
  ExpectAccepted(ExtractAt("M1", miner_a_, "UA", 1000_kg, Day(5)));
  ExpectAccepted(ExtractAt("M2", miner_a_, "UA", 1000_kg, Day(6)));
  ExpectAccepted(SellAt("M1", miner_a_, plant_, "N1", 1000_kg, Day(7)));
  ExpectAccepted(SellAt("M2", miner_a_, plant_, "N2", 1000_kg, Day(7)));
  SubmitResult first =
      ExpectAccepted(ProcessAt({{"N1", 1000_kg}}, {{"NG1", 5_g, 900_permille}}, Day(8)));
  ExpectRefused(ProcessAt({{"N2", 1000_kg}}, {{"NG2", 5_g, 900_permille}}, Day(9)),
                veta::v1::PLANT_CAPACITY_EXCEEDED,
                StrCat("plant ", plant_, ", counting what was submitted that day"));
  ExpectAccepted(CorrectionEnvelope(first.sequence, {plant_key_}));
  ExpectAccepted(ProcessAt({{"N2", 1000_kg}}, {{"NG2", 5_g, 900_permille}}, Day(9)));
  EXPECT_TRUE(Audit().status.ok());
}

// The suspension pattern: after a suspension is recorded, work dated before its
// `since` is refused (it went through under the 30-day window), whatever the kind of entry,
// unless a registrar co-signs the late declaration of work done while active.
TEST_F(DatingTest, SuspensionRefusesBackDatedWorkUnlessARegistrarCoSigns) {
  V3();
  ClockAt(3);
  ExpectAccepted(ExtractAt("S1", miner_a_, "UA", 1000_kg, Day(2.9)));
  ExpectAccepted(ExtractAt("SB", miner_b_, "UB", 1000_kg, Day(2.9)));
  ClockAt(10);
  auto suspended = Miner(miner_a_, key_a_);
  suspended.mutable_miner()->mutable_status()->set_status(veta::v1::SUSPENDIDO);
  *suspended.mutable_miner()->mutable_status()->mutable_since() = At(Day(9));
  suspended.mutable_miner()->mutable_status()->set_reason("fiscalizacion OEFA");
  ExpectAccepted(Registry(suspended));

  ExpectRefused(ExtractAt("S2", miner_a_, "UA", 500_kg, Day(8)), veta::v1::EXTRACTOR_NOT_ACTIVE,
                "back-dating does not help");
  ExpectRefused(SellAt("S1", miner_a_, plant_, "PS1", 500_kg, Day(8)), veta::v1::SELLER_NOT_ACTIVE,
                "that status is current");
  // A registrar co-signs a declaration of work done before the suspension: accepted.
  ExpectAccepted(ExtractAt("S3", miner_a_, "UA", 500_kg, Day(8), {registrar_}));
  ExpectAccepted(SellAt("S1", miner_a_, plant_, "PS1", 500_kg, Day(8.5), false, {registrar_}));
  // Not for work dated after it began.
  ExpectRefused(ExtractAt("S4", miner_a_, "UA", 500_kg, Day(9.5), {registrar_}),
                veta::v1::EXTRACTOR_NOT_ACTIVE, "is SUSPENDIDO since");
  // The plant, suspended, cannot be the buyer of back-dated ore either.
  auto plant = PartyRecord(plant_, veta::v1::PLANT, plant_key_);
  plant.mutable_party()->mutable_status()->set_status(veta::v1::SUSPENDIDO);
  *plant.mutable_party()->mutable_status()->mutable_since() = At(Day(9.9));
  plant.mutable_party()->mutable_status()->set_reason("licencia suspendida");
  ExpectAccepted(Registry(plant));
  ExpectRefused(SellAt("SB", miner_b_, plant_, "PSB", 100_kg, Day(8.6)), veta::v1::BUYER_NOT_ACTIVE,
                "back-dating does not help");
  ExpectRefused(ProcessAt({{"PS1", 100_kg}}, {{"GS", 500, 900_permille}}, Day(8.7)),
                veta::v1::PLANT_NOT_ACTIVE, "back-dating does not help");
}

// Suspended on day 5, reinstated on day 7: work dated days 5-6 is refused after the
// reinstatement too (co-signed or not), and after a restart (the periods are derived from the
// record's versions); work dated before or after the suspension is declared as usual.
TEST_F(DatingTest, WorkDatedInsideAPastSuspensionIsRefusedAfterReinstatement) {
  V3();
  ClockAt(5.5);
  auto suspended = Miner(miner_a_, key_a_);
  suspended.mutable_miner()->mutable_status()->set_status(veta::v1::SUSPENDIDO);
  *suspended.mutable_miner()->mutable_status()->mutable_since() = At(Day(5));
  suspended.mutable_miner()->mutable_status()->set_reason("fiscalizacion OEFA");
  ExpectAccepted(Registry(suspended));
  ClockAt(7.5);
  auto reinstated = Miner(miner_a_, key_a_);
  *reinstated.mutable_miner()->mutable_status()->mutable_since() = At(Day(7));
  ExpectAccepted(Registry(reinstated));
  for (bool restart : {false, true}) {
    if (restart) ReopenWithClock();
    const std::string n = restart ? "r" : "";
    ExpectRefused(ExtractAt("W1" + n, miner_a_, "UA", 100_kg, Day(6)),
                  veta::v1::EXTRACTOR_NOT_ACTIVE, "(suspended or excluded, then reinstated)");
    ExpectRefused(ExtractAt("W2" + n, miner_a_, "UA", 100_kg, Day(5.2), {registrar_}),
                  veta::v1::EXTRACTOR_NOT_ACTIVE, "inside that period");
    ExpectAccepted(ExtractAt("W3" + n, miner_a_, "UA", 100_kg, Day(7.2)));
  }
  ExpectAccepted(ExtractAt("W4", miner_a_, "UA", 100_kg, Day(4.9), {registrar_}));
  EXPECT_TRUE(Audit().status.ok());
}

// LATE_DECLARATION: declared more than 72 hours after the time it declares.
TEST_F(DatingTest, LateDeclarationIsFlagged) {
  V3();
  ClockAt(10);
  SubmitResult late = ExpectAccepted(ExtractAt("L1", miner_a_, "UA", 100_kg, Day(6)));
  EXPECT_TRUE(HasFlag(late, veta::v1::LATE_DECLARATION));
  EXPECT_NE(FlagMessage(late, veta::v1::LATE_DECLARATION).find("the extraction dated "),
            std::string::npos);
  EXPECT_NE(FlagMessage(late, veta::v1::LATE_DECLARATION).find("after the 72 hours"),
            std::string::npos);
  SubmitResult timely = ExpectAccepted(ExtractAt("L2", miner_a_, "UA", 100_kg, Day(7.5)));
  EXPECT_FALSE(HasFlag(timely, veta::v1::LATE_DECLARATION));
  // A sale too. A declaration a registrar co-signed is not flagged: the registrar has looked
  // into it (and a flag would then need the registrar again, to clear it, before the gold
  // could be certified or the entry corrected).
  SubmitResult sale = ExpectAccepted(SellAt("L1", miner_a_, plant_, "PL1", 100_kg, Day(6.5)));
  EXPECT_TRUE(HasFlag(sale, veta::v1::LATE_DECLARATION));
  SubmitResult cosigned =
      ExpectAccepted(ExtractAt("L3", miner_a_, "UA", 100_kg, Day(1), {registrar_}));
  EXPECT_FALSE(HasFlag(cosigned, veta::v1::LATE_DECLARATION));
}

// Nothing moves a lot before the time the entry that made it declared.
TEST_F(DatingTest, EntriesDatedBeforeTheLotTheyMoveAreRefused) {
  V3();
  ClockAt(10);
  ExpectAccepted(ExtractAt("X1", miner_a_, "UA", 1000_kg, Day(8)));
  ExpectRefused(SellAt("X1", miner_a_, plant_, "XP", 1000_kg, Day(7)),
                veta::v1::DATED_BEFORE_REGISTRATION, "before lot X1 existed: the extraction");
  ExpectAccepted(SellAt("X1", miner_a_, plant_, "XP", 1000_kg, Day(8.2)));
  ExpectRefused(ProcessAt({{"XP", 1000_kg}}, {{"XG", 5_g, 900_permille}}, Day(8.1)),
                veta::v1::DATED_BEFORE_REGISTRATION, "before lot XP existed: the sale");
  ExpectAccepted(ProcessAt({{"XP", 1000_kg}}, {{"XG", 5_g, 900_permille}}, Day(8.3)));
  ExpectAccepted(SellAt("XG", plant_, exporter_, "XE", 5_g, Day(8.5), true));
  ExpectRefused(ExportAt("XE", Day(8.4)), veta::v1::DATED_BEFORE_REGISTRATION,
                "before lot XE existed: the sale");
  ExpectAccepted(ExportAt("XE", Day(9.9)));
}

// Void and re-declare: a correction gives back the capacity of the real day the voided entry
// was submitted on, once; re-declaring does not double-count, and nothing is lost.
TEST_F(DatingTest, VoidAndRedeclareNeitherDoublesNorLosesCapacity) {
  V3();
  ClockAt(10);
  SubmitResult first = ExpectAccepted(ExtractAt("V1", miner_a_, "U1", 1000_kg, Day(8)));
  ExpectRefused(ExtractAt("V2", miner_a_, "U1", 1000_kg, Day(9)), veta::v1::UNIT_CAPACITY_EXCEEDED,
                "submitted that day");
  ExpectAccepted(CorrectionEnvelope(first.sequence, {key_a_}));
  SubmitResult second = ExpectAccepted(ExtractAt("V2", miner_a_, "U1", 1000_kg, Day(9)));
  ExpectRefused(ExtractAt("V3", miner_a_, "U1", 1_kg, Day(8)), veta::v1::UNIT_CAPACITY_EXCEEDED,
                "submitted that day");
  // The voided declaration's real day, corrected the next day, gets its room back: the next
  // day's submissions are not what the correction gives back.
  ClockAt(11);
  ExpectAccepted(ExtractAt("V4", miner_a_, "U1", 1000_kg, Day(10)));
  ExpectAccepted(CorrectionEnvelope(second.sequence, {key_a_}));
  ExpectRefused(ExtractAt("V5", miner_a_, "U1", 1_kg, Day(9)), veta::v1::UNIT_CAPACITY_EXCEEDED,
                "submitted that day");
  EXPECT_TRUE(Audit().status.ok());
}

// The state survives a restart (registrations' times rebuilt from the entries), and the audit
// replays the v3 ledger, refusals and flags and corrections included, clean.
TEST_F(DatingTest, RestartAndAuditOfAV3Ledger) {
  V3();
  ClockAt(10);
  ExpectAccepted(ExtractAt("R1", miner_a_, "U1", 600_kg, Day(5)));  // late: flagged
  SubmitResult r2 = ExpectAccepted(ExtractAt("R2", dni_, "UA", 150_kg, Day(9)));
  ExpectAccepted(SellAt("R1", miner_a_, plant_, "RP", 600_kg, Day(9.1)));
  ExpectAccepted(ProcessAt({{"RP", 600_kg}}, {{"RG", 3_g, 900_permille}}, Day(9.2)));
  ExpectAccepted(CorrectionEnvelope(r2.sequence, {selector_key_}));
  ReopenWithClock();
  ExpectRefused(ExtractAt("R3", miner_a_, "U1", 1_kg, Day(-1), {registrar_}),
                veta::v1::DATED_BEFORE_REGISTRATION, "before unit U1 was registered");
  ExpectRefused(ExtractAt("R4", miner_a_, "U1", 401_kg, Day(9)), veta::v1::UNIT_CAPACITY_EXCEEDED,
                "submitted that day");
  ExpectAccepted(ExtractAt("R5", dni_, "UA", 200_kg, Day(9)));  // the voided 150 kg back
  AuditReport report = Audit();
  EXPECT_TRUE(report.status.ok()) << report.status;
}

// Under rules v2 (no v3 parameters) the old behaviour stays: the patterns go through.
TEST_F(DatingTest, RulesV2KeepTheOldBehaviour) {
  const int64_t now = RealNow();
  for (int k = 1; k <= 29; ++k) {
    ExpectAccepted(ExtractAt(StrCat("O", k), miner_a_, "U1", 1000_kg, now - k * kDay));
  }
  ClockAt(10);
  SubmitResult late = ExpectAccepted(ExtractAt("O30", dni_, "UA", 200_kg, Day(5)));
  EXPECT_TRUE(late.flags.empty());
  ExpectAccepted(ExtractAt("O31", dni_, "UA", 200_kg, Day(6)));
  auto suspended = Miner(miner_a_, key_a_);
  suspended.mutable_miner()->mutable_status()->set_status(veta::v1::SUSPENDIDO);
  *suspended.mutable_miner()->mutable_status()->mutable_since() = At(Day(9));
  suspended.mutable_miner()->mutable_status()->set_reason("fiscalizacion OEFA");
  ExpectAccepted(Registry(suspended));
  ExpectAccepted(ExtractAt("O32", miner_a_, "UA", 1000_kg, Day(8)));
  EXPECT_FALSE(Find("O32")->has_declared_time());
  EXPECT_TRUE(Audit().status.ok());
}

}  // namespace
}  // namespace veta::testing
