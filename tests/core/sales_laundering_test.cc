// Issue 11, items 4-6, under rules v3: structuring and self-declared payments (Ley 28194's
// banking threshold, payment references, CASH_STRUCTURING), price sense (PRICE_INVALID,
// PRICE_OUT_OF_BAND against the registrar's reference price), nominees and wash trades
// (SELF_SALE, one key for one party, CIRCULAR_TRADE). Each pattern as a launderer tried it.
#include <functional>
#include <string>
#include <vector>

#include "core/verify/envelope.h"
#include "tests/core/dating_fixture.h"

namespace veta {
namespace {

using testing::Now;
using testing::Ruc;

// Ore at 60 g/t: a price of p céntimos for p/3 grams is S/ 500 a fine gram (125% of the
// reference, inside the band).
constexpr int64_t kGrade = 60000;  // ppb: 60 g/t
constexpr int64_t OreFor(int64_t price_cents) { return price_cents / 3; }

// The ledger's clock (DatingFixture) moves, so that sales dated on days after the
// registrations are judged as the sequencer judges them later (rules v3 refuse what is dated
// before a registration or before the lot it moves).
class SalesLaunderingTest : public testing::DatingFixture {
 protected:
  void SetUp() override {
    DatingFixture::SetUp();
    ExpectAccepted(Registry(PartyRecord(trader2_, veta::v1::TRADER, trader2_key_)));
  }

  // Rules v3 with the test's changes to the parameters.
  void V3(std::function<void(veta::v1::Parameters*)> change = nullptr) {
    veta::v1::RegistryRecord r = payloads::ParametersRecordV3();
    if (change) change(r.mutable_parameters());
    ExpectAccepted(Registry(r));
  }

  const PrivateKey& Key(const std::string& party) const {
    return party == trader2_ ? trader2_key_ : KeyOf(party);
  }

  // A sale of `quantity` (grams of ore, or mg of gold with `gold`) for `price_cents`.
  veta::v1::Sale SaleFor(const std::string& lot, const std::string& seller,
                         const std::string& buyer, const std::string& buyer_lot, int64_t quantity,
                         int64_t price_cents, veta::v1::PaymentMethod payment,
                         const std::string& reference = "", bool gold = false) {
    veta::v1::Sale s = SaleOf(lot, seller, buyer, buyer_lot, gold ? 0 : quantity);
    if (gold) s.set_quantity_mg(quantity);
    s.set_price_cents(price_cents);
    s.set_payment(payment);
    s.set_payment_reference(reference);
    return s;
  }
  std::string Signed(const veta::v1::Sale& s) {
    return Sign(kSaleType, s, {Key(s.seller_id()), Key(s.buyer_ruc())});
  }
  // The fixture's fair sale (SellEnvelope), signed with the second trader's key too.
  std::string FairSale(const std::string& lot, const std::string& seller, const std::string& buyer,
                       const std::string& buyer_lot, int64_t quantity, bool gold = false) {
    return Signed(SaleFor(lot, seller, buyer, buyer_lot, quantity, FairPrice(lot, quantity),
                          veta::v1::BANK_TRANSFER, StrCat("OP-", nonce_ + 1), gold));
  }
  // Lot LA extracted right after the registrations (day 0), the ledger's clock then 2.5 days
  // later; Today(), Yesterday() and TwoDaysAgo() are times of the ledger's days 2, 1 and 0.
  void ExtractLaThenMoveOn() {
    ExpectAccepted(ExtractAt("LA", miner_a_, "UA", 10000_kg, Day(0), {}, kGrade));
    ClockAt(2.5);
  }
  google::protobuf::Timestamp Today() const { return At(Day(2.4)); }
  google::protobuf::Timestamp Yesterday() const { return At(Day(1.4)); }
  google::protobuf::Timestamp TwoDaysAgo() const { return At(Day(0.4)); }
  // Cash for ore of lot LA (miner A) at S/ 500 a fine gram.
  std::string Cash(const std::string& buyer, const std::string& buyer_lot, int64_t price_cents,
                   const google::protobuf::Timestamp& time = Now()) {
    veta::v1::Sale s =
        SaleFor("LA", miner_a_, buyer, buyer_lot, OreFor(price_cents), price_cents, veta::v1::CASH);
    *s.mutable_time() = time;
    return Signed(s);
  }

  // The flag codes an accepted entry raised.
  static std::vector<veta::v1::RedFlag> Codes(const SubmitResult& r) {
    std::vector<veta::v1::RedFlag> out;
    for (const auto& f : r.flags) out.push_back(f.flag());
    return out;
  }
  static std::string Messages(const SubmitResult& r) {
    std::string out;
    for (const auto& f : r.flags) out += f.message() + "\n";
    return out;
  }
  using Flags = std::vector<veta::v1::RedFlag>;

  void ExpectAuditClean() {
    AuditReport report = Audit();
    EXPECT_TRUE(report.status.ok()) << report.status;
    Reopen();
  }

  const std::string trader2_ = Ruc("2070000016");
  PrivateKey trader2_key_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
};

// --- Item 4: structuring and self-declared payments ----------------------------------------

TEST_F(SalesLaunderingTest, CashAboveTheBankingThresholdIsRefused) {
  V3();
  Extract("LA", "UA", 10000_kg, kGrade);
  // Ten payments of S/ 29,999: the first is already refused (Ley 28194: above S/ 2,000 a
  // payment goes through a bank), and so is one of S/ 30,001.
  ExpectRefused(Cash(trader_, "T1", 2999900), veta::v1::CASH_ABOVE_BANKING_LIMIT,
                "a payment of S/ 29999.00 in cash is above S/ 2000.00: under Ley 28194");
  ExpectRefused(Cash(trader_, "T1", 3000100), veta::v1::CASH_ABOVE_BANKING_LIMIT,
                "pay by bank transfer");
  // At the threshold it is cash within the law.
  EXPECT_EQ(Codes(ExpectAccepted(Cash(trader_, "T1", 200000))), Flags{});
}

TEST_F(SalesLaunderingTest, TenCashPaymentsUnderARaisedThresholdAreStructuring) {
  // A registrar raises the banking threshold above S/ 30,000: the ten payments of S/ 29,999
  // go through, each under the cash threshold, and from the second on each is flagged.
  V3([](veta::v1::Parameters* p) { p->set_banking_threshold_cents(5000000); });
  Extract("LA", "UA", 10000_kg, kGrade);
  for (int i = 0; i < 10; ++i) {
    SubmitResult r = ExpectAccepted(Cash(trader_, StrCat("T", i), 2999900));
    if (i == 0) {
      EXPECT_EQ(Codes(r), Flags{}) << Messages(r);
      continue;
    }
    ASSERT_EQ(Codes(r), Flags{veta::v1::CASH_STRUCTURING}) << i;
    const std::string& m = r.flags[0].message();
    EXPECT_NE(m.find(StrCat("cash from buyer ", trader_, " to seller ", miner_a_, " on ")),
              std::string::npos)
        << m;
    EXPECT_NE(m.find(StrCat("sums ", units::Soles(2999900 * (i + 1)), " (",
                            units::Soles(2999900 * i), " before this sale's S/ 29999.00)")),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("above the banking threshold of S/ 50000.00"), std::string::npos) << m;
    EXPECT_NE(m.find(StrCat("cash paid to seller ", miner_a_)), std::string::npos) << m;
    EXPECT_NE(m.find("above the cash threshold of S/ 30000.00"), std::string::npos) << m;
  }
  // One of S/ 30,001 is above the cash threshold itself: CASH_ABOVE_THRESHOLD (and the pair's
  // day, far above the banking threshold).
  Extract("LB", "UB", 2000_kg, kGrade);
  veta::v1::Sale s =
      SaleFor("LB", miner_b_, trader_, "TB", OreFor(3000100), 3000100, veta::v1::CASH);
  SubmitResult r = ExpectAccepted(Signed(s));
  EXPECT_EQ(Codes(r), Flags{veta::v1::CASH_ABOVE_THRESHOLD}) << Messages(r);
  ExpectAuditClean();
}

TEST_F(SalesLaunderingTest, PaymentsThroughABankAboveTheThresholdStateTheirReference) {
  V3();
  Extract("LA", "UA", 10000_kg, kGrade);
  // S/ 45,000 by cheque: refused without the cheque's number, accepted with it.
  ExpectRefused(
      Signed(SaleFor("LA", miner_a_, trader_, "T1", OreFor(4500000), 4500000, veta::v1::CHECK)),
      veta::v1::PAYMENT_REFERENCE_MISSING,
      "a payment of S/ 45000.00 by cheque is above the banking threshold of S/ 2000.00: "
      "state the bank's operation number or the cheque's number in payment_reference");
  ExpectRefused(Signed(SaleFor("LA", miner_a_, trader_, "T1", OreFor(4500000), 4500000,
                               veta::v1::BANK_TRANSFER)),
                veta::v1::PAYMENT_REFERENCE_MISSING, "by bank transfer is above");
  ExpectRefused(Signed(SaleFor("LA", miner_a_, trader_, "T1", OreFor(4500000), 4500000,
                               veta::v1::CHECK, "00012345\n")),
                veta::v1::PAYMENT_REFERENCE_MISSING, "1-64 printable ASCII characters");
  ExpectRefused(Signed(SaleFor("LA", miner_a_, trader_, "T1", OreFor(4500000), 4500000,
                               veta::v1::CHECK, std::string(65, '7'))),
                veta::v1::PAYMENT_REFERENCE_MISSING, "1-64 printable ASCII characters");
  SubmitResult r = ExpectAccepted(Signed(SaleFor("LA", miner_a_, trader_, "T1", OreFor(4500000),
                                                 4500000, veta::v1::CHECK, "CHQ 00012345")));
  EXPECT_EQ(Codes(r), Flags{}) << Messages(r);
  // Under the threshold a transfer needs no reference.
  EXPECT_EQ(Codes(ExpectAccepted(Signed(SaleFor("LA", miner_a_, trader_, "T2", OreFor(150000),
                                                150000, veta::v1::BANK_TRANSFER)))),
            Flags{});
  // No payment method at all: refused (rules v2's rule, kept).
  ExpectRefused(Signed(SaleFor("LA", miner_a_, trader_, "T3", OreFor(4500000), 4500000,
                               veta::v1::PAYMENT_METHOD_UNSPECIFIED, "OP-1")),
                veta::v1::PAYMENT_METHOD_MISSING, "states its payment method");
}

TEST_F(SalesLaunderingTest, CashSplitUnderTheBankingThresholdBetweenOnePairIsFlagged) {
  V3();
  ExtractLaThenMoveOn();
  EXPECT_EQ(Codes(ExpectAccepted(Cash(trader_, "T1", 150000, Today()))), Flags{});
  SubmitResult r = ExpectAccepted(Cash(trader_, "T2", 150000, Today()));
  ASSERT_EQ(Codes(r), Flags{veta::v1::CASH_STRUCTURING}) << Messages(r);
  const std::string& m = r.flags[0].message();
  EXPECT_NE(m.find(StrCat("cash from buyer ", trader_, " to seller ", miner_a_, " on ")),
            std::string::npos)
      << m;
  EXPECT_NE(m.find(" sums S/ 3000.00 (S/ 1500.00 before this sale's S/ 1500.00), above the "
                   "banking threshold of S/ 2000.00 (Ley 28194 counts the partial payments"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("cash paid to seller"), std::string::npos) << m;
  // And every later one of the same day: each is part of the pattern.
  EXPECT_EQ(Codes(ExpectAccepted(Cash(trader_, "T3", 10000, Today()))),
            Flags{veta::v1::CASH_STRUCTURING});
  // Another buyer the same day starts its own pair (the seller's day is far under S/ 30,000).
  EXPECT_EQ(Codes(ExpectAccepted(Cash(trader2_, "T4", 150000, Today()))), Flags{});
  // Back-dating the split to the day before is another day for the pair.
  EXPECT_EQ(Codes(ExpectAccepted(Cash(trader_, "T5", 150000, Yesterday()))), Flags{});
  EXPECT_EQ(Codes(ExpectAccepted(Cash(trader_, "T6", 150000, Yesterday()))),
            Flags{veta::v1::CASH_STRUCTURING});
  ExpectAuditClean();
}

TEST_F(SalesLaunderingTest, TheSellersWeekSpreadOverDaysAndBuyersIsFlagged) {
  // A cash threshold of S/ 5,000 (a registrar's choice): S/ 2,000 a day, each day to another
  // buyer, stays under every per-pair and per-day sum, and the week adds up to S/ 6,000.
  V3([](veta::v1::Parameters* p) { p->set_cash_flag_threshold_cents(500000); });
  ExtractLaThenMoveOn();
  EXPECT_EQ(Codes(ExpectAccepted(Cash(trader_, "T1", 200000, TwoDaysAgo()))), Flags{});
  EXPECT_EQ(Codes(ExpectAccepted(Cash(trader2_, "T2", 200000, Yesterday()))), Flags{});
  SubmitResult r = ExpectAccepted(Cash(trader_, "T3", 200000, Today()));
  ASSERT_EQ(Codes(r), Flags{veta::v1::CASH_STRUCTURING}) << Messages(r);
  const std::string& m = r.flags[0].message();
  EXPECT_NE(m.find(StrCat("cash paid to seller ", miner_a_, " from ")), std::string::npos) << m;
  EXPECT_NE(m.find(" is above the cash threshold of S/ 5000.00"), std::string::npos) << m;
  // What other buyers paid the seller is not in the flag the buyer reads.
  EXPECT_EQ(m.find("S/ 4000.00"), std::string::npos) << m;
  EXPECT_EQ(m.find("banking threshold"), std::string::npos) << m;
  ExpectAuditClean();
}

// The week declared backwards: the later days first, so that a week ending on each day would
// hold none of the days counted before it. Every week holding the declared day is summed.
TEST_F(SalesLaunderingTest, AWeekDeclaredBackwardsIsStillAWeek) {
  V3([](veta::v1::Parameters* p) { p->set_cash_flag_threshold_cents(500000); });
  ExtractLaThenMoveOn();
  EXPECT_EQ(Codes(ExpectAccepted(Cash(trader_, "T1", 200000, Today()))), Flags{});
  EXPECT_EQ(Codes(ExpectAccepted(Cash(trader2_, "T2", 200000, Yesterday()))), Flags{});
  SubmitResult r = ExpectAccepted(Cash(trader_, "T3", 200000, TwoDaysAgo()));
  ASSERT_EQ(Codes(r), Flags{veta::v1::CASH_STRUCTURING}) << Messages(r);
  EXPECT_NE(r.flags[0].message().find(" is above the cash threshold of S/ 5000.00"),
            std::string::npos)
      << r.flags[0].message();
  ExpectAuditClean();
}

TEST_F(SalesLaunderingTest, ABuyersOwnCheckIsToldTheFlagNotTheSellersSums) {
  V3([](veta::v1::Parameters* p) { p->set_cash_flag_threshold_cents(500000); });
  ExtractLaThenMoveOn();
  EXPECT_EQ(Codes(ExpectAccepted(Cash(trader_, "T1", 200000, Yesterday()))), Flags{});
  EXPECT_EQ(Codes(ExpectAccepted(Cash(trader_, "T2", 200000, TwoDaysAgo()))), Flags{});
  // trader2 checks before paying, signed by itself alone: S/ 2,000 more makes the seller's
  // week S/ 6,000, paid by another buyer: trader2 learns the flag, not what trader paid.
  veta::v1::Sale s =
      SaleFor("LA", miner_a_, trader2_, "T3", OreFor(200000), 200000, veta::v1::CASH);
  *s.mutable_time() = Today();
  SubmitResult r = ledger_->CheckAndWait(Sign(kSaleType, s, {trader2_key_}));
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(Codes(r), Flags{veta::v1::CASH_STRUCTURING}) << Messages(r);
  EXPECT_NE(r.flags[0].message().find(" is above the cash threshold of S/ 5000.00"),
            std::string::npos)
      << r.flags[0].message();
  EXPECT_EQ(r.flags[0].message().find("S/ 4000.00"), std::string::npos) << r.flags[0].message();
  // Signed by both, the flag (which trader2 reads too) says no more.
  r = ExpectAccepted(Signed(s));
  ASSERT_EQ(Codes(r), Flags{veta::v1::CASH_STRUCTURING});
  EXPECT_EQ(r.flags[0].message().find("S/ 4000.00"), std::string::npos) << r.flags[0].message();
}

TEST_F(SalesLaunderingTest, VoidingAndDeclaringAgainNeitherResetsNorCountsTwice) {
  V3();
  Extract("LA", "UA", 10000_kg, kGrade);
  EXPECT_EQ(Codes(ExpectAccepted(Cash(trader_, "T1", 150000))), Flags{});
  SubmitResult second = ExpectAccepted(Cash(trader_, "T2", 40000));
  EXPECT_EQ(Codes(second), Flags{});  // S/ 1,900 that day
  // The second is voided (by a registrar): S/ 1,500 stays counted, S/ 400 goes.
  ExpectAccepted(CorrectionEnvelope(second.sequence, {registrar_}));
  // Declared again for S/ 500: S/ 2,000, not above (had the voided S/ 400 stayed, S/ 2,400).
  EXPECT_EQ(Codes(ExpectAccepted(Cash(trader_, "T2b", 50000))), Flags{});
  // And S/ 100 more is above (had the correction reset the day, S/ 100).
  SubmitResult r = ExpectAccepted(Cash(trader_, "T3", 10000));
  ASSERT_EQ(Codes(r), Flags{veta::v1::CASH_STRUCTURING}) << Messages(r);
  EXPECT_NE(r.flags[0].message().find("sums S/ 2100.00 (S/ 2000.00 before this sale's S/ 100.00)"),
            std::string::npos)
      << r.flags[0].message();
  ExpectAuditClean();
}

// --- Item 5: price sense --------------------------------------------------------------------

TEST_F(SalesLaunderingTest, PricesFarFromTheReferenceAreFlaggedAbsurdOnesRefused) {
  V3();
  Extract("LA", "UA", 10000_kg, kGrade);
  // 10 kg at 60 g/t: 0.6 g of fine gold, worth S/ 240 at the reference of S/ 400.
  auto sale = [&](const std::string& buyer_lot, int64_t price) {
    return Signed(
        SaleFor("LA", miner_a_, trader_, buyer_lot, 10_kg, price, veta::v1::BANK_TRANSFER, "OP-9"));
  };
  SubmitResult ten = ExpectAccepted(sale("P1", 240000));  // 10x: S/ 2,400
  ASSERT_EQ(Codes(ten), Flags{veta::v1::PRICE_OUT_OF_BAND}) << Messages(ten);
  EXPECT_NE(
      ten.flags[0].message().find(
          "the price is S/ 4000.00 a fine gram (S/ 2400.00 for 0.600 g of fine gold), "
          "outside 25.0000% to 150.0000% of the reference of S/ 400.00 a fine gram (set for "),
      std::string::npos)
      << ten.flags[0].message();
  EXPECT_NE(ten.flags[0].message().find("source: test: BCRP gold price in soles)"),
            std::string::npos);
  SubmitResult tenth = ExpectAccepted(sale("P2", 2400));  // 1/10x: S/ 24
  ASSERT_EQ(Codes(tenth), Flags{veta::v1::PRICE_OUT_OF_BAND}) << Messages(tenth);
  EXPECT_NE(tenth.flags[0].message().find("S/ 40.00 a fine gram"), std::string::npos);
  // The band's edges are inside it.
  EXPECT_EQ(Codes(ExpectAccepted(sale("P3", 6000))), Flags{});   // 25%: S/ 100 a fine gram
  EXPECT_EQ(Codes(ExpectAccepted(sale("P4", 36000))), Flags{});  // 150%
  // 0 and S/ 10^12: refused.
  ExpectRefused(sale("P5", 0), veta::v1::PRICE_INVALID, "0 is no price");
  ExpectRefused(sale("P5", 100000000000000), veta::v1::PRICE_INVALID,
                "the price is S/ 1666666666666.66 a fine gram (S/ 1000000000000.00 for 0.600 g "
                "of fine gold), more than 100 times the reference of S/ 400.00 a fine gram");
  // 100 times is still a flag; past it, refused.
  EXPECT_EQ(Codes(ExpectAccepted(sale("P6", 2400000))), Flags{veta::v1::PRICE_OUT_OF_BAND});
  ExpectRefused(sale("P7", 2400001), veta::v1::PRICE_INVALID, "more than 100 times");
  // As absurd the other way: under 1/100 of the reference (S/ 0.38 a fine gram).
  ExpectRefused(sale("P8", 230), veta::v1::PRICE_INVALID, "less than 1/100 of the reference");
  EXPECT_EQ(Codes(ExpectAccepted(sale("P8", 240))), Flags{veta::v1::PRICE_OUT_OF_BAND});
  // A sale of too little ore for a milligram of fine gold is priced as one milligram: a price
  // on dust is still a price (S/ 1 for it is S/ 1,000 a fine gram: flagged), and S/ 10^12
  // for it is refused, as for a gram.
  EXPECT_EQ(Codes(ExpectAccepted(Signed(SaleFor("LA", miner_a_, trader_, "P9", 10, 100,
                                                veta::v1::BANK_TRANSFER, "OP-10")))),
            Flags{veta::v1::PRICE_OUT_OF_BAND});
  ExpectRefused(Signed(SaleFor("LA", miner_a_, trader_, "P10", 10, 100000000000000,
                               veta::v1::BANK_TRANSFER, "OP-11")),
                veta::v1::PRICE_INVALID, "more than 100 times the reference");
  ExpectAuditClean();
}

TEST_F(SalesLaunderingTest, TheFixturesFairSalesStayCleanUnderV3) {
  V3();
  Extract("LA", "UA", 1000_kg, 7_gpt);
  Extract("LB", "UB", 1000_kg, 3_gpt);
  EXPECT_EQ(Codes(Sell("LA", miner_a_, plant_, "PA", 1000_kg)), Flags{});
  EXPECT_EQ(Codes(Sell("LB", miner_b_, plant_, "PB", 1000_kg)), Flags{});
  Process({{"PA", 1000_kg}, {"PB", 1000_kg}}, {{"G1", 10_g, 900_permille}});
  EXPECT_EQ(Codes(Sell("G1", plant_, exporter_, "E1", 4_g, true)), Flags{});
  ExpectAuditClean();
}

// --- Item 6: nominees and wash trades -------------------------------------------------------

TEST_F(SalesLaunderingTest, ASaleToOneselfIsRefused) {
  V3();
  Extract("LA", "UA", 1000_kg, 8_gpt);
  Sell("LA", miner_a_, trader_, "T1", 1000_kg);
  ExpectRefused(Sign(kSaleType,
                     SaleFor("T1", trader_, trader_, "T1b", 500_kg, FairPrice("T1", 500_kg),
                             veta::v1::BANK_TRANSFER, "OP-77"),
                     {trader_key_}),
                veta::v1::SELF_SALE, StrCat("seller and buyer are the same party (", trader_, ")"));
}

// One key, two RUCs. The routes tried against the code before rules v3: a key registered by
// a key registration to a RUC and then listed by that RUC's record (or the other way round), a
// key dropped by one record's new version and listed by another's, two records listing one
// key in one batch, the registrar's key listed by a party: each refused already (REGISTRY_KEY_
// TAKEN, or the registration KEY_REGISTRATION_REFUSED). What got through: a P-256 key written
// compressed is another key id for the same key, so a second record lists it and the same
// private key signs for both RUCs. Under v3 a key is known by its point, whatever its encoding.
std::string CompressedSpki(const PublicKey& key) {
  const std::string& der = key.spki_der();  // 0x30 0x59, algorithm (21), 0x03 0x42 0x00, 04 X Y
  EXPECT_EQ(der.size(), 91u);
  std::string out = "\x30\x39";
  out += der.substr(2, 21);
  out += std::string("\x03\x22\x00", 3);
  out += static_cast<char>(0x02 | (static_cast<unsigned char>(der[90]) & 1));
  out += der.substr(27, 32);
  return out;
}
// The same point in the hybrid form (X and Y, with Y's parity in the first byte).
std::string HybridSpki(const PublicKey& key) {
  std::string der = key.spki_der();
  der[26] = static_cast<char>(0x06 | (static_cast<unsigned char>(der[90]) & 1));
  return der;
}
veta::v1::PublicKey ProtoOf(const std::string& spki) {
  auto key = PublicKey::FromSpkiDer(spki);
  EXPECT_TRUE(key.ok()) << key.status();
  return key->ToProto();
}
veta::v1::PublicKey CompressedProto(const PublicKey& key) { return ProtoOf(CompressedSpki(key)); }
TEST_F(SalesLaunderingTest, OneKeyForTwoRucsIsRefusedEveryWay) {
  V3();
  const std::string t3 = Ruc("2070000017"), t4 = Ruc("2070000018");
  PrivateKey k = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  // Another party's key.
  ExpectRefused(Registry(PartyRecord(t3, veta::v1::TRADER, trader_key_)),
                veta::v1::REGISTRY_KEY_TAKEN, StrCat("is already registered to party:", trader_));
  // A key registered to a RUC by a key registration, then listed by that RUC's record.
  ExpectAccepted(
      Sign(kKeyRegistrationType, payloads::KeyRegistrationOf(k.public_key(), t3), {authority_}));
  ExpectRefused(Registry(PartyRecord(t3, veta::v1::TRADER, k)), veta::v1::REGISTRY_KEY_TAKEN,
                StrCat("is already registered to ", t3));
  // A record's key registered by a key registration to another RUC.
  SubmitResult r = ledger_->SubmitAndWait(
      Sign(kKeyRegistrationType, payloads::KeyRegistrationOf(trader_key_.public_key(), t4),
           {authority_}));
  EXPECT_EQ(r.refusal, veta::v1::KEY_REGISTRATION_REFUSED) << r.status;
  // A key dropped by a record's new version stays its holder's for good.
  PrivateKey k2 = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  ExpectAccepted(Registry(PartyRecord(trader2_, veta::v1::TRADER, k2)));
  ExpectRefused(Registry(PartyRecord(t4, veta::v1::TRADER, trader2_key_)),
                veta::v1::REGISTRY_KEY_TAKEN, StrCat("party:", trader2_));
}

TEST_F(SalesLaunderingTest, ACompressedP256KeyIsTheSameKeyForAnotherRuc) {
  PrivateKey ec = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
  const veta::v1::PublicKey alias = CompressedProto(ec.public_key());
  const veta::v1::PublicKey hybrid = ProtoOf(HybridSpki(ec.public_key()));
  ASSERT_NE(alias.keyid(), ec.public_key().keyid());
  ASSERT_NE(hybrid.keyid(), ec.public_key().keyid());
  ASSERT_NE(hybrid.keyid(), alias.keyid());
  const std::string t3 = Ruc("2070000017"), t4 = Ruc("2070000018"), t5 = Ruc("2070000019");
  auto with_alias = [&](const std::string& ruc, const veta::v1::PublicKey& k) {
    veta::v1::RegistryRecord r = PartyRecord(ruc, veta::v1::TRADER, ec);
    *r.mutable_party()->mutable_keys(0) = k;
    return r;
  };
  // Before rules v3 (the hole, kept as it was): t3 with the key, t5 with the same key
  // compressed; one private key signs for both.
  ExpectAccepted(Registry(PartyRecord(t3, veta::v1::TRADER, ec)));
  ExpectAccepted(Registry(with_alias(t5, alias)));
  V3();
  // Under v3: no record lists it for a third RUC (in a third encoding), no key registration
  // registers it.
  ExpectRefused(Registry(with_alias(t4, hybrid)), veta::v1::REGISTRY_KEY_TAKEN,
                StrCat("in another encoding, already registered to party:"));
  SubmitResult r = ledger_->SubmitAndWait(
      Sign(kKeyRegistrationType, payloads::KeyRegistrationOf(*PublicKey::FromProto(hybrid), t4),
           {authority_}));
  EXPECT_EQ(r.refusal, veta::v1::KEY_REGISTRATION_REFUSED) << r.status;
  EXPECT_NE(r.status.message().find("in another encoding"), std::string::npos) << r.status;
  // And the two RUCs registered before with one key cannot trade with each other.
  Extract("LA", "UA", 1000_kg, 8_gpt);
  ExpectAccepted(Sign(kSaleType,
                      SaleFor("LA", miner_a_, t3, "T1", 1000_kg, FairPrice("LA", 1000_kg),
                              veta::v1::BANK_TRANSFER, "OP-1"),
                      {key_a_, ec}));
  veta::v1::Sale wash = SaleFor("T1", t3, t5, "T2", 1000_kg, FairPrice("T1", 1000_kg),
                                veta::v1::BANK_TRANSFER, "OP-2");
  auto envelope = SignEnvelope(kSaleType, wash.SerializeAsString(), {ec, ec});
  ASSERT_TRUE(envelope.ok());
  envelope->mutable_signatures(1)->set_keyid(alias.keyid());
  ExpectRefused(envelope->SerializeAsString(), veta::v1::SELF_SALE,
                StrCat("seller ", t3, " and buyer ", t5, " are registered with one key"));
  ExpectAuditClean();
}

TEST_F(SalesLaunderingTest, TheCircularRouteIsFlagged) {
  V3();
  // 50 g of gold: plant -> t1 -> t2 -> t1 -> t2 -> plant.
  Extract("LA", "UA", 10000_kg, 8_gpt);  // 80 g of fine gold
  Sell("LA", miner_a_, plant_, "PA", 10000_kg);
  Process({{"PA", 10000_kg}}, {{"G", 50_g, 900_permille}});
  auto gold = [&](const std::string& lot, const std::string& seller, const std::string& buyer,
                  const std::string& buyer_lot) {
    return ExpectAccepted(FairSale(lot, seller, buyer, buyer_lot, 50_g, true));
  };
  EXPECT_EQ(Codes(gold("G", plant_, trader_, "R1")), Flags{});
  EXPECT_EQ(Codes(gold("R1", trader_, trader2_, "R2")), Flags{});
  SubmitResult back = gold("R2", trader2_, trader_, "R3");
  ASSERT_EQ(Codes(back), Flags{veta::v1::CIRCULAR_TRADE}) << Messages(back);
  EXPECT_NE(back.flags[0].message().find(StrCat("buyer ", trader_, " already held lot R1 (entry ")),
            std::string::npos)
      << back.flags[0].message();
  EXPECT_NE(back.flags[0].message().find("upstream of lot R2: the gold comes back to it"),
            std::string::npos);
  EXPECT_EQ(Codes(gold("R3", trader_, trader2_, "R4")), Flags{veta::v1::CIRCULAR_TRADE});
  SubmitResult home = gold("R4", trader2_, plant_, "R5");
  ASSERT_EQ(Codes(home), Flags{veta::v1::CIRCULAR_TRADE});
  // The plant held the processed lot G, and before it the ore PA (through the processing's
  // inputs): the nearest is named.
  EXPECT_NE(home.flags[0].message().find(StrCat("buyer ", plant_, " already held lot G ")),
            std::string::npos)
      << home.flags[0].message();
  ExpectAuditClean();
}

// The circle hidden behind a blend: the trader's ore is the last of 301 inputs, past the 256
// lots the walk of the history visits. The lot's upstream holders (kept with it under v3)
// still show the trader.
TEST_F(SalesLaunderingTest, ACircleHiddenBehindABlendIsFlagged) {
  V3();
  std::vector<In> inputs;
  for (int i = 0; i < 300; ++i) {
    const std::string lot = StrCat("D", i);
    Extract(lot, "UA", 1_kg, 8_gpt);
    Sell(lot, miner_a_, plant_, lot + "P", 1_kg);
    inputs.push_back({lot + "P", 1_kg});
  }
  Extract("LT", "UA", 1000_kg, 8_gpt);
  Sell("LT", miner_a_, trader_, "T", 1000_kg);
  Sell("T", trader_, plant_, "TP", 1000_kg);
  inputs.push_back({"TP", 1000_kg});
  Process(inputs, {{"G", 5_g, 900_permille}});
  // The blend knows who held its gold before: the miner, the trader, the plant.
  ASSERT_TRUE(Find("G")->upstream_known());
  EXPECT_EQ(Find("G")->upstream_holders_size(), 3);
  EXPECT_EQ(Codes(ExpectAccepted(FairSale("G", plant_, trader2_, "R1", 5_g, true))), Flags{});
  SubmitResult back = ExpectAccepted(FairSale("R1", trader2_, trader_, "R2", 5_g, true));
  ASSERT_EQ(Codes(back), Flags{veta::v1::CIRCULAR_TRADE}) << Messages(back);
  EXPECT_NE(back.flags[0].message().find(StrCat("buyer ", trader_,
                                                " already held gold upstream "
                                                "of lot R1, further back than the 256 nearest")),
            std::string::npos)
      << back.flags[0].message();
  // A buyer who never held it: no flag, and no walk of the 302 lots behind it.
  EXPECT_EQ(Codes(ExpectAccepted(FairSale("R2", trader_, exporter_, "R3", 5_g, true))), Flags{});
  ExpectAuditClean();
}

TEST_F(SalesLaunderingTest, NoneOfThisChangesUnderRulesV2) {
  veta::v1::RegistryRecord v2 = payloads::ParametersRecord();
  v2.mutable_parameters()->set_rules_version(2);
  ExpectAccepted(Registry(v2));
  Extract("LA", "UA", 10000_kg, kGrade);
  Extract("LB", "UB", 1000_kg, 8_gpt);
  // Cash above S/ 2,000, split cash, a cheque with no number, prices of 0 and 10^12 soles, a
  // sale to oneself, a circular route: accepted as before (only the old cash flag).
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Codes(ExpectAccepted(Cash(trader_, StrCat("T", i), 2999900))), Flags{});
  }
  EXPECT_EQ(Codes(ExpectAccepted(Cash(trader_, "T9", 3000100))),
            Flags{veta::v1::CASH_ABOVE_THRESHOLD});
  EXPECT_EQ(Codes(ExpectAccepted(
                Signed(SaleFor("LA", miner_a_, trader_, "C1", 10_kg, 4500000, veta::v1::CHECK)))),
            Flags{});
  EXPECT_EQ(Codes(ExpectAccepted(
                Signed(SaleFor("LA", miner_a_, trader_, "C2", 10_kg, 0, veta::v1::BANK_TRANSFER)))),
            Flags{});
  EXPECT_EQ(Codes(ExpectAccepted(Signed(SaleFor("LA", miner_a_, trader_, "C3", 10_kg,
                                                100000000000000, veta::v1::BANK_TRANSFER)))),
            Flags{});
  ExpectAccepted(FairSale("LB", miner_b_, trader2_, "D1", 1000_kg));
  ExpectAccepted(FairSale("D1", trader2_, trader_, "D2", 1000_kg));
  EXPECT_EQ(Codes(ExpectAccepted(FairSale("D2", trader_, trader2_, "D3", 1000_kg))), Flags{});
  ExpectAccepted(Sign(kSaleType,
                      SaleFor("C3", trader_, trader_, "C4", 5_kg, 100, veta::v1::BANK_TRANSFER),
                      {trader_key_}));
  ExpectAuditClean();
}

}  // namespace
}  // namespace veta
