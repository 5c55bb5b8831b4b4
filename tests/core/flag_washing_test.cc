// Issue 11, item 1: flag-washing to a certificate. Under rules v3 an entry that raised a red
// flag no registrar cleared is voided only by a registrar (CORRECTION_NEEDS_REGISTRAR); a
// registrar clears a flag by a signed FlagClearance; a certificate is refused while the lot's
// history holds a flag no registrar cleared, on an entry of the lineage or on one that took from
// a lot of the lineage and was voided (the washed sale). Certificates are reads: they judge a
// v1/v2 ledger the same way, and its flags are cleared once v3 is in force.
#include "core/read/certificate.h"

#include <algorithm>

#include "core/read/queries.h"
#include "core/rules/registry.h"
#include "tests/core/custody_fixture.h"

namespace veta {
namespace {

class FlagWashingTest : public testing::CustodyFixture {
 protected:
  void SetUp() override {
    CustodyFixture::SetUp();
    if (v3_) ExpectAccepted(Registry(V3Parameters()));
  }

  // Rules v3, with the banking threshold above the cash flag threshold (S/ 30,000), so that
  // a cash sale of S/ 36,000 is flagged CASH_ABOVE_THRESHOLD rather than refused.
  static veta::v1::RegistryRecord V3Parameters() {
    veta::v1::RegistryRecord r = payloads::ParametersRecordV3();
    r.mutable_parameters()->set_banking_threshold_cents(100000_soles);
    return r;
  }

  static bool HasFlag(const SubmitResult& r, veta::v1::RedFlag flag) {
    return std::any_of(r.flags.begin(), r.flags.end(),
                       [&](const veta::v1::Flag& f) { return f.flag() == flag; });
  }

  // A sale of `quantity` of `lot` paid in cash at 90% of the reference price for its fine
  // gold: 5,000 kg at 20 g/t hold 100 g of fine gold, S/ 36,000, above the cash threshold.
  SubmitResult CashSale(const std::string& lot, const std::string& seller, const std::string& buyer,
                        const std::string& buyer_lot, int64_t quantity) {
    veta::v1::Sale s = SaleOf(lot, seller, buyer, buyer_lot, quantity);
    s.set_payment(veta::v1::CASH);
    s.set_price_cents(FairPrice(lot, quantity));
    EXPECT_GT(s.price_cents(), 30000_soles);
    SubmitResult r = ExpectAccepted(Sign(kSaleType, s, {KeyOf(seller), KeyOf(buyer)}));
    EXPECT_TRUE(HasFlag(r, veta::v1::CASH_ABOVE_THRESHOLD));
    return r;
  }

  std::string Clearance(uint64_t sequence, veta::v1::RedFlag flag,
                        const std::vector<PrivateKey>& keys,
                        const std::string& reason =
                            "SUNAT confirmed the cash was deposited "
                            "the same day (bank op 00123456)") {
    veta::v1::FlagClearance c;
    c.set_flagged_sequence(sequence);
    c.set_flag(flag);
    c.set_reason(reason);
    *c.mutable_time() = payloads::Now();
    c.set_nonce(++nonce_);
    return Sign(kFlagClearanceType, c, keys);
  }
  std::string Clearance(uint64_t sequence, veta::v1::RedFlag flag) {
    return Clearance(sequence, flag, {registrar_});
  }

  // The certificate's refusal message ("" when issued).
  std::string Refusal(const std::string& lot) {
    auto c = IssueCertificate(*ledger_, lot);
    if (c.ok()) return "";
    EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition) << c.status();
    return std::string(c.status().message());
  }
  void ExpectCertified(const std::string& lot) {
    auto c = IssueCertificate(*ledger_, lot);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_TRUE(VerifyCertificate(*c, authority_.public_key()).ok());
  }

  // The flags of entry `sequence`, as ListFlags shows them.
  std::vector<veta::v1::Flag> FlagsOf(uint64_t sequence) {
    auto all = ListFlags(ledger_->store(), {}, sequence, 100, ledger_->size());
    EXPECT_TRUE(all.ok()) << all.status();
    std::vector<veta::v1::Flag> out;
    for (const auto& f : *all) {
      if (f.sequence() == sequence) out.push_back(f);
    }
    return out;
  }

  bool v3_ = true;
};

// The issue's route: a flagged cash sale voided by its two parties, declared again as a bank
// transfer, processed and sold on, then certified.
TEST_F(FlagWashingTest, AWashedCashSaleKeepsItsFlagInTheCertifiedLotsHistory) {
  Extract("LA", "UA", 5000_kg, 20_gpt);
  const SubmitResult cash = CashSale("LA", miner_a_, plant_, "PA", 5000_kg);

  // Its two parties alone may not void it: refused, nothing changed.
  ExpectRefused(CorrectionEnvelope(cash.sequence, {key_a_, plant_key_}),
                veta::v1::CORRECTION_NEEDS_REGISTRAR,
                StrCat("entry ", cash.sequence,
                       " raised red flag CASH_ABOVE_THRESHOLD (paid in cash: S/ 36000.00"));
  ExpectRefused(CorrectionEnvelope(cash.sequence, {key_a_, plant_key_}),
                veta::v1::CORRECTION_NEEDS_REGISTRAR, "signed by an active registrar");
  EXPECT_EQ(Find("PA")->voided_at(), 0u);
  EXPECT_EQ(Remaining(*Find("LA")), 0);

  // A registrar may (having seen what replaces it).
  const uint64_t fix = ExpectAccepted(CorrectionEnvelope(cash.sequence, {registrar_})).sequence;
  EXPECT_EQ(Find("PA")->voided_at(), fix);
  EXPECT_EQ(Remaining(*Find("LA")), 5000_kg);

  // Declared again as a bank transfer, processed, sold on.
  const SubmitResult bank = Sell("LA", miner_a_, plant_, "PA2", 5000_kg);
  EXPECT_TRUE(bank.flags.empty());
  Process({{"PA2", 5000_kg}}, {{"G", 90_g, 900_permille}});
  Sell("G", plant_, exporter_, "E", 45_g, true);

  // The flag stays in the history of every lot made of LA's gold.
  for (const std::string lot : {"E", "G"}) {
    const std::string m = Refusal(lot);
    EXPECT_EQ(m.rfind(StrCat("[CERTIFICATE_REFUSED] lot ", lot,
                             " rests on lot LA, whose history "
                             "holds entry ",
                             cash.sequence, " (sale creating lot PA from it, voided by correction ",
                             "entry ", fix, "), which raised red flag CASH_ABOVE_THRESHOLD"),
                      0),
              0u)
        << m;
    EXPECT_NE(m.find(StrCat("a registrar's flag clearance lifts it: veta clear-flag ",
                            cash.sequence, " --flag CASH_ABOVE_THRESHOLD")),
              std::string::npos)
        << m;
    // The voided sale was another's payment: named by its code, not its words.
    EXPECT_EQ(m.find("paid in cash"), std::string::npos) << m;
  }

  // A registrar, having looked into it, clears the flag: the certificate is issued.
  const uint64_t cleared =
      ExpectAccepted(Clearance(cash.sequence, veta::v1::CASH_ABOVE_THRESHOLD)).sequence;
  ExpectCertified("E");
  ExpectCertified("G");
  // The flag is still listed (evidence is never deleted), marked cleared.
  const auto flags = FlagsOf(cash.sequence);
  ASSERT_EQ(flags.size(), 1u);
  EXPECT_EQ(flags[0].flag(), veta::v1::CASH_ABOVE_THRESHOLD);
  EXPECT_EQ(flags[0].cleared_by(), cleared);
  // As of before the clearance, the flag was not cleared.
  auto before = ListFlags(ledger_->store(), {}, cash.sequence, 1, cleared);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ((*before)[0].cleared_by(), 0u);

  const AuditReport report = Audit();
  EXPECT_TRUE(report.status.ok()) << report.status;
}

// Under v3 the lot a washed entry took from keeps the flag: its parties may not void it and
// declare its gold again under another lot (a registrar may, seeing what replaces it).
TEST_F(FlagWashingTest, TheLotAWashedEntryTookFromIsNotVoidedByItsPartiesEither) {
  const uint64_t extraction = Extract("LA", "UA", 5000_kg, 20_gpt).sequence;
  const SubmitResult cash = CashSale("LA", miner_a_, plant_, "PA", 5000_kg);
  ExpectAccepted(CorrectionEnvelope(cash.sequence, {registrar_}));
  ExpectRefused(CorrectionEnvelope(extraction, {key_a_}), veta::v1::CORRECTION_NEEDS_REGISTRAR,
                StrCat("entry ", extraction, " created lot LA, from which entry ", cash.sequence,
                       " took (voided since), raising red flag CASH_ABOVE_THRESHOLD"));
  EXPECT_EQ(Find("LA")->voided_at(), 0u);
  // Once a registrar cleared the flag, the miner may.
  ExpectAccepted(Clearance(cash.sequence, veta::v1::CASH_ABOVE_THRESHOLD));
  ExpectAccepted(CorrectionEnvelope(extraction, {key_a_}));
  EXPECT_TRUE(Audit().status.ok());
}

// A state rebuilt from the log (a follower's first start) applies many entries under one
// delta: a clearance, and a correction the clearance allows, are judged as they were live,
// against the flags and lineage edges of entries earlier in the same chunk.
TEST_F(FlagWashingTest, AStateRebuiltFromTheLogJudgesClearancesAsTheyWereJudged) {
  const uint64_t extraction = Extract("LA", "UA", 5000_kg, 20_gpt).sequence;
  const SubmitResult cash = CashSale("LA", miner_a_, plant_, "PA", 5000_kg);
  ExpectAccepted(CorrectionEnvelope(cash.sequence, {registrar_}));
  ExpectAccepted(Clearance(cash.sequence, veta::v1::CASH_ABOVE_THRESHOLD));
  ExpectAccepted(CorrectionEnvelope(extraction, {key_a_}));
  ledger_->Close();
  const auto before = DerivedRows(*store_);
  ASSERT_TRUE(WipeDerivedRows(*store_).ok());
  Reopen();  // applies every entry again, in one chunk
  EXPECT_EQ(DerivedRows(*store_), before);
  EXPECT_TRUE(Audit().status.ok());
}

// The launderer's variants of the route: the washed gold split between two buyers, one of
// them a second identity (a trader) in between, and blended with clean gold at the plant.
TEST_F(FlagWashingTest, SplittingOrBlendingTheWashedGoldDoesNotShedTheFlag) {
  Extract("LA", "UA", 5000_kg, 20_gpt);
  Extract("LB", "UB", 5000_kg, 20_gpt);  // clean
  const SubmitResult cash = CashSale("LA", miner_a_, plant_, "PA", 5000_kg);
  ExpectAccepted(CorrectionEnvelope(cash.sequence, {registrar_}));
  Sell("LA", miner_a_, plant_, "P1", 2500_kg);
  Sell("LA", miner_a_, trader_, "T1", 2500_kg);
  Sell("T1", trader_, plant_, "P2", 2500_kg);
  Sell("LB", miner_b_, plant_, "PB", 5000_kg);
  Process({{"P1", 2500_kg}}, {{"G1", 45_g, 900_permille}});
  Process({{"P2", 2500_kg}, {"PB", 2500_kg}}, {{"G2", 90_g, 900_permille}});
  Process({{"PB", 2500_kg}}, {{"G3", 45_g, 900_permille}});
  for (const std::string lot : {"G1", "G2"}) {
    EXPECT_NE(
        Refusal(lot).find(StrCat("rests on lot LA, whose history holds entry ", cash.sequence)),
        std::string::npos)
        << lot;
  }
  ExpectCertified("G3");  // the clean unit's gold alone
  ExpectAccepted(Clearance(cash.sequence, veta::v1::CASH_ABOVE_THRESHOLD));
  ExpectCertified("G1");
  ExpectCertified("G2");
}

// A flagged entry that was never voided blocks the lots made from it until it is cleared.
TEST_F(FlagWashingTest, AFlaggedEntryUpstreamBlocksUntilARegistrarClearsIt) {
  Extract("LA", "UA", 5000_kg, 20_gpt);
  const SubmitResult cash = CashSale("LA", miner_a_, plant_, "PA", 5000_kg);
  Process({{"PA", 5000_kg}}, {{"G", 90_g, 900_permille}});
  Sell("G", plant_, exporter_, "E", 90_g, true);
  const std::string m = Refusal("E");
  EXPECT_NE(m.find(StrCat("rests on entry ", cash.sequence, " (sale creating lot PA), which ",
                          "raised red flag CASH_ABOVE_THRESHOLD: paid in cash")),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("no registrar has cleared it"), std::string::npos) << m;
  ExpectAccepted(Clearance(cash.sequence, veta::v1::CASH_ABOVE_THRESHOLD));
  ExpectCertified("E");
  EXPECT_TRUE(Audit().status.ok());
}

// Every flag of an entry counts, not only the first: clearing one leaves the other.
TEST_F(FlagWashingTest, ASecondFlagIsNotHiddenByClearingTheFirst) {
  Extract("LA", "UA", 5000_kg, 20_gpt);
  Sell("LA", miner_a_, plant_, "P0", 100_kg);  // the seller's history: one sale of 100 kg
  // 4,900 kg: 49 times the seller's average (VOLUME_JUMP), S/ 35,280 in cash.
  const SubmitResult cash = CashSale("LA", miner_a_, plant_, "PA", 4900_kg);
  ASSERT_TRUE(HasFlag(cash, veta::v1::VOLUME_JUMP));
  ASSERT_TRUE(HasFlag(cash, veta::v1::CASH_ABOVE_THRESHOLD));
  ExpectAccepted(Clearance(cash.sequence, veta::v1::CASH_ABOVE_THRESHOLD));

  // The parties still may not void it: the volume jump is not cleared.
  ExpectRefused(CorrectionEnvelope(cash.sequence, {key_a_, plant_key_}),
                veta::v1::CORRECTION_NEEDS_REGISTRAR,
                StrCat("entry ", cash.sequence, " raised red flag VOLUME_JUMP"));
  Process({{"PA", 4900_kg}}, {{"G", 88_g, 900_permille}});
  Sell("G", plant_, exporter_, "E", 88_g, true);
  const std::string m = Refusal("E");
  EXPECT_NE(m.find(StrCat("rests on entry ", cash.sequence, " (sale creating lot PA), which ",
                          "raised red flag VOLUME_JUMP")),
            std::string::npos)
      << m;
  ExpectAccepted(Clearance(cash.sequence, veta::v1::VOLUME_JUMP));
  ExpectCertified("E");
  for (const auto& f : FlagsOf(cash.sequence)) EXPECT_NE(f.cleared_by(), 0u);
}

// The same with a washed entry: every flag of the voided entry counts.
TEST_F(FlagWashingTest, ASecondFlagOfAWashedEntryIsNotHiddenByClearingTheFirst) {
  Extract("LA", "UA", 5000_kg, 20_gpt);
  Sell("LA", miner_a_, plant_, "P0", 100_kg);
  const SubmitResult cash = CashSale("LA", miner_a_, plant_, "PA", 4900_kg);
  ASSERT_TRUE(HasFlag(cash, veta::v1::VOLUME_JUMP));
  ExpectAccepted(Clearance(cash.sequence, veta::v1::CASH_ABOVE_THRESHOLD));
  ExpectAccepted(CorrectionEnvelope(cash.sequence, {registrar_}));
  // Sold again in a piece the seller's history does not flag, through a trader.
  EXPECT_TRUE(Sell("LA", miner_a_, trader_, "T1", 400_kg).flags.empty());
  Sell("T1", trader_, plant_, "PT", 400_kg);
  Process({{"PT", 400_kg}}, {{"G", 7_g, 900_permille}});
  const std::string m = Refusal("G");
  EXPECT_NE(m.find(StrCat("whose history holds entry ", cash.sequence,
                          " (sale creating lot PA from it, voided by correction entry ")),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("raised red flag VOLUME_JUMP"), std::string::npos) << m;
  ExpectAccepted(Clearance(cash.sequence, veta::v1::VOLUME_JUMP));
  ExpectCertified("G");
}

// A flagged entry voided after the lineage took from the lot is not the certified gold's
// history (the gold it gave back went elsewhere); one voided before it is.
TEST_F(FlagWashingTest, OnlyAWashBeforeTheLineagesTakeCounts) {
  Extract("LA", "UA", 10000_kg, 20_gpt);
  Sell("LA", miner_a_, plant_, "P0", 5000_kg);  // the certified gold's take, bank transfer
  const SubmitResult cash = CashSale("LA", miner_a_, trader_, "T1", 5000_kg);
  ExpectAccepted(CorrectionEnvelope(cash.sequence, {registrar_}));
  Process({{"P0", 5000_kg}}, {{"G", 90_g, 900_permille}});
  ExpectCertified("G");
  // The gold given back to LA, sold again: that is the washed gold.
  Sell("LA", miner_a_, plant_, "P1", 5000_kg);
  Process({{"P1", 5000_kg}}, {{"G1", 90_g, 900_permille}});
  EXPECT_NE(Refusal("G1").find(StrCat("whose history holds entry ", cash.sequence)),
            std::string::npos);
  ExpectCertified("G");
}

TEST_F(FlagWashingTest, ClearancesAreARegistrarsAndNameAFlagTheEntryRaised) {
  const uint64_t extraction = Extract("LA", "UA", 5000_kg, 20_gpt).sequence;
  const SubmitResult cash = CashSale("LA", miner_a_, plant_, "PA", 5000_kg);
  ASSERT_FALSE(HasFlag(cash, veta::v1::VOLUME_JUMP));
  const auto flag = veta::v1::CASH_ABOVE_THRESHOLD;

  // Not a registrar: the parties, the authority.
  ExpectRefused(Clearance(cash.sequence, flag, {key_a_, plant_key_}), veta::v1::NOT_A_REGISTRAR,
                "a red flag is cleared by an active registrar");
  ExpectRefused(Clearance(cash.sequence, flag, {authority_}), veta::v1::NOT_A_REGISTRAR);
  // A flag the entry did not raise; an entry with none; no entry; no flag named.
  ExpectRefused(Clearance(cash.sequence, veta::v1::VOLUME_JUMP), veta::v1::FLAG_CLEARANCE_INVALID,
                StrCat("entry ", cash.sequence,
                       " raised no red flag VOLUME_JUMP (it raised CASH_ABOVE_THRESHOLD)"));
  ExpectRefused(Clearance(extraction, flag), veta::v1::FLAG_CLEARANCE_INVALID,
                StrCat("entry ", extraction, " raised no red flag CASH_ABOVE_THRESHOLD (it ",
                       "raised none)"));
  ExpectRefused(Clearance(ledger_->size() + 10, flag), veta::v1::FLAG_CLEARANCE_INVALID,
                "is not in the ledger");
  ExpectRefused(Clearance(cash.sequence, veta::v1::RED_FLAG_UNSPECIFIED),
                veta::v1::FLAG_CLEARANCE_INVALID, "names the red flag it clears");
  // No reason, or a reason too long.
  ExpectRefused(Clearance(cash.sequence, flag, {registrar_}, ""), veta::v1::FLAG_CLEARANCE_INVALID,
                "states its reason");
  ExpectRefused(Clearance(cash.sequence, flag, {registrar_}, std::string(2001, 'x')),
                veta::v1::FLAG_CLEARANCE_INVALID, "this one has 2001");
  // Dated in the future.
  veta::v1::FlagClearance future;
  future.set_flagged_sequence(cash.sequence);
  future.set_flag(flag);
  future.set_reason("checked");
  *future.mutable_time() = payloads::Now();
  future.mutable_time()->set_seconds(future.time().seconds() + 3600);
  future.set_nonce(++nonce_);
  ExpectRefused(Sign(kFlagClearanceType, future, {registrar_}), veta::v1::TIME_IN_FUTURE);

  const uint64_t cleared = ExpectAccepted(Clearance(cash.sequence, flag)).sequence;
  // Twice.
  ExpectRefused(Clearance(cash.sequence, flag), veta::v1::FLAG_CLEARANCE_INVALID,
                StrCat("red flag CASH_ABOVE_THRESHOLD of entry ", cash.sequence,
                       " was already cleared by entry ", cleared));
  // Once cleared, the flag no longer needs a registrar for a correction: the parties void it.
  ExpectAccepted(CorrectionEnvelope(cash.sequence, {key_a_, plant_key_}));
  EXPECT_NE(Find("PA")->voided_at(), 0u);
  // A clearance is not a transaction: it is not voided by a correction.
  ExpectRefused(CorrectionEnvelope(cleared, {registrar_}), veta::v1::CORRECTION_TARGET_INVALID,
                "is not a transaction");
  EXPECT_TRUE(Audit().status.ok());
}

// Under rules v2 the parties of a flagged entry still void it (an old ledger replays as it
// was written), and no flag clearance is accepted; the certificate (a read, not a rule) sees
// the washed flag all the same, until v3 is put in force and a registrar clears it.
class FlagWashingV2Test : public FlagWashingTest {
 protected:
  FlagWashingV2Test() { v3_ = false; }
};

// Under v2 the parties still void a flagged entry (an old ledger replays as it was written);
// a certificate reads the whole history, so the washed flag keeps it back on an old ledger too,
// and a registrar's clearance (a new payload, which no old ledger holds, so accepted under any
// rules) lifts it without moving the ledger to v3.
TEST_F(FlagWashingV2Test, PartiesStillVoidAFlaggedEntryAndARegistrarsClearanceLiftsIt) {
  veta::v1::RegistryRecord v2 = payloads::ParametersRecord();
  v2.mutable_parameters()->set_rules_version(2);
  ExpectAccepted(Registry(v2));
  Extract("LA", "UA", 5000_kg, 20_gpt);
  const SubmitResult cash = CashSale("LA", miner_a_, plant_, "PA", 5000_kg);
  ExpectAccepted(CorrectionEnvelope(cash.sequence, {key_a_, plant_key_}));
  Sell("LA", miner_a_, plant_, "PA2", 5000_kg);
  Process({{"PA2", 5000_kg}}, {{"G", 90_g, 900_permille}});
  EXPECT_NE(Refusal("G").find(StrCat("whose history holds entry ", cash.sequence)),
            std::string::npos);
  ExpectAccepted(Clearance(cash.sequence, veta::v1::CASH_ABOVE_THRESHOLD));
  ExpectCertified("G");
  const AuditReport report = Audit();
  EXPECT_TRUE(report.status.ok()) << report.status;
}

}  // namespace
}  // namespace veta
