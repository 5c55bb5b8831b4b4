// Every origin rule: the legal case accepted, each illegal case refused with its exact code,
// the ledger unchanged and the attempt logged.
#include "core/rules/registry.h"
#include "core/storage/rocks_store.h"

#include <cmath>
#include <map>

#include "core/read/audit.h"

#include "tests/core/registry_fixture.h"

namespace veta {
namespace {

using testing::Ruc;
using testing::Square;
using testing::Time;

constexpr double kLon = -69.9, kLat = -12.6;  // unit U1: a 0.02-degree square around it

class RulesTest : public testing::RegistryFixture {
 protected:
  void SetUp() override {
    RegistryFixture::SetUp();
    ExpectAccepted(Registry(Miner(miner_ruc_, miner_)));
    ExpectAccepted(Registry(Miner(other_ruc_, other_)));
    ExpectAccepted(Registry(Unit("U1", miner_ruc_, kLon, kLat)));
    ExpectAccepted(Registry(PartyRecord(plant_ruc_, veta::v1::PLANT, plant_)));
    ExpectAccepted(Registry(PartyRecord(trader_ruc_, veta::v1::TRADER, trader_)));
    ExpectAccepted(Registry(PartyRecord(exporter_ruc_, veta::v1::EXPORTER, exporter_)));
    ExpectAccepted(Registry(payloads::SelectorRecord("45678912", selector_.public_key(), {"U1"})));
    // An indigenous territory over the unit's north-east corner.
    ExpectAccepted(Registry(ZoneRecord("CN-1", veta::v1::PROHIBITED_INDIGENOUS_TERRITORY,
                                       Square(kLon + 0.008, kLat + 0.008, 0.004))));
  }

  std::string Sale(const veta::v1::Sale& s, const std::vector<PrivateKey>& keys) {
    return Sign(kSaleType, s, keys);
  }

  // An accepted extraction of `ore_g` grams into lot `lot` by the miner.
  void Extract(const std::string& lot, int64_t ore_g) {
    ExpectAccepted(Extraction(lot, miner_ruc_, "U1", kLon, kLat, ore_g, miner_));
  }

  const std::string miner_ruc_ = Ruc("2060000001"), other_ruc_ = Ruc("1040000002");
  const std::string plant_ruc_ = Ruc("2070000003"), trader_ruc_ = Ruc("2070000004");
  const std::string exporter_ruc_ = Ruc("2070000005");
  PrivateKey miner_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey other_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey plant_ = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
  PrivateKey trader_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey exporter_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey selector_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
};

TEST_F(RulesTest, LegalExtractionCreatesALot) {
  SubmitResult r =
      ExpectAccepted(Extraction("L1", miner_ruc_, "U1", kLon, kLat, 1250.5_kg, miner_));
  EXPECT_TRUE(r.flags.empty());
  testing::RegistryFixture::Reopen();  // the lot survives a restart
  auto lot = Find("L1");
  ASSERT_TRUE(lot.has_value());
  EXPECT_EQ(lot->holder_id(), miner_ruc_);
  EXPECT_EQ(lot->remaining_ore_g(), 1250.5_kg);
  EXPECT_EQ(lot->unit_code(), "U1");
}

TEST_F(RulesTest, ExtractionRefusals) {
  ExpectRefused(Extraction("X", Ruc("2099999999"), "U1", kLon, kLat, 100_kg, miner_),
                veta::v1::EXTRACTOR_UNKNOWN);
  ExpectRefused(Extraction("X", miner_ruc_, "U1", kLon, kLat, 100_kg, other_),
                veta::v1::SIGNER_NOT_PARTY, "did not sign");
  ExpectRefused(Extraction("X", miner_ruc_, "U9", kLon, kLat, 100_kg, miner_),
                veta::v1::UNIT_UNKNOWN);
  ExpectRefused(Extraction("X", other_ruc_, "U1", kLon, kLat, 100_kg, other_),
                veta::v1::EXTRACTOR_NOT_ALLOWED_ON_UNIT);
  ExpectRefused(Extraction("X", miner_ruc_, "U1", kLon + 0.05, kLat, 100_kg, miner_),
                veta::v1::POINT_OUTSIDE_UNIT, "lies outside unit U1");
  ExpectRefused(Extraction("X", miner_ruc_, "U1", kLon + 0.008, kLat + 0.008, 100_kg, miner_),
                veta::v1::POINT_IN_PROHIBITED_ZONE,
                "prohibited zone 'Zona CN-1' (PROHIBITED_INDIGENOUS_TERRITORY, Ley 28736");
  ExpectRefused(Extraction("X", miner_ruc_, "U1", std::nan(""), kLat, 100_kg, miner_),
                veta::v1::POINT_INVALID);
  ExpectRefused(Extraction("X", miner_ruc_, "U1", kLon, -95, 100_kg, miner_),
                veta::v1::POINT_INVALID);
  ExpectRefused(Extraction("X", miner_ruc_, "U1", kLon, kLat, 0_kg, miner_),
                veta::v1::QUANTITY_NOT_POSITIVE);
  ExpectRefused(Extraction("X", miner_ruc_, "U1", kLon, kLat, -5_kg, miner_),
                veta::v1::QUANTITY_NOT_POSITIVE);
  ExpectRefused(Extraction("X", miner_ruc_, "U1", kLon, kLat, 100_kg, miner_, 500_gpt),
                veta::v1::GRADE_OUT_OF_BOUNDS, "500.000 g/t is outside 0.500 g/t to 60.000 g/t");
  Extract("L1", 100_kg);
  ExpectRefused(Extraction("L1", miner_ruc_, "U1", kLon, kLat, 100_kg, miner_),
                veta::v1::LOT_ID_TAKEN);
  veta::v1::Extraction future;
  future.set_lot_id("F");
  future.set_extractor_id(miner_ruc_);
  future.set_unit_code("U1");
  future.mutable_point()->set_longitude(kLon);
  future.mutable_point()->set_latitude(kLat);
  *future.mutable_time() = Time("2099-01-01T00:00:00Z");
  future.set_ore_g(10_kg);
  future.set_grade_ppb(5_gpt);
  ExpectRefused(Sign(kExtractionType, future, {miner_}), veta::v1::TIME_IN_FUTURE);
}

TEST_F(RulesTest, PointOnTheUnitBoundaryIsInside) {
  Extract("edge-0", 1_kg);
  ExpectAccepted(Extraction("edge", miner_ruc_, "U1", kLon - 0.01, kLat, 1_kg, miner_));
}

TEST_F(RulesTest, SuspendedAndExpiredExtractorsAreRefused) {
  ExpectAccepted(Registry(Miner(miner_ruc_, miner_, veta::v1::SUSPENDIDO)));
  ExpectRefused(Extraction("X", miner_ruc_, "U1", kLon, kLat, 100_kg, miner_),
                veta::v1::EXTRACTOR_NOT_ACTIVE,
                StrCat("miner ", miner_ruc_, " is SUSPENDIDO since 2025-01-01 (entry "));
  auto expired = Miner(miner_ruc_, miner_);
  *expired.mutable_miner()->mutable_valid_until() = Time("2026-01-01T00:00:00Z");
  ExpectAccepted(Registry(expired));
  ExpectRefused(Extraction("X", miner_ruc_, "U1", kLon, kLat, 100_kg, miner_),
                veta::v1::EXTRACTOR_EXPIRED, "until 2026-01-01");
  ExpectAccepted(Registry(Miner(miner_ruc_, miner_, veta::v1::EXCLUIDO)));
  ExpectRefused(Extraction("X", miner_ruc_, "U1", kLon, kLat, 100_kg, miner_),
                veta::v1::EXTRACTOR_NOT_ACTIVE, "is EXCLUIDO");
}

TEST_F(RulesTest, DailyCapacityOfTheUnit) {
  Extract("A", 6000_kg);
  Extract("B", 3999_kg);
  ExpectRefused(Extraction("C", miner_ruc_, "U1", kLon, kLat, 2_kg, miner_),
                veta::v1::UNIT_CAPACITY_EXCEEDED, "above its limit of 10000.000 kg per day");
  Extract("C", 1_kg);                  // exactly at capacity
  testing::RegistryFixture::Reopen();  // the day's total survives a restart
  ExpectRefused(Extraction("D", miner_ruc_, "U1", kLon, kLat, 1_kg, miner_),
                veta::v1::UNIT_CAPACITY_EXCEEDED);
}

TEST_F(RulesTest, SelectorSellsWithinHerDailyLimit) {
  ExpectAccepted(Extraction("S1", "45678912", "U1", kLon, kLat, 150_kg, selector_));
  ExpectRefused(Extraction("S2", "45678912", "U1", kLon, kLat, 60_kg, selector_),
                veta::v1::SELECTOR_LIMIT_EXCEEDED, "limit of 200.000 kg");
  ExpectAccepted(Sale(SaleOf("S1", "45678912", plant_ruc_, "P-S1", 150_kg), {selector_, plant_}));
}

TEST_F(RulesTest, LegalSaleSplitsTheLot) {
  Extract("L1", 1000_kg);
  SubmitResult r =
      ExpectAccepted(Sale(SaleOf("L1", miner_ruc_, plant_ruc_, "P1", 400_kg), {miner_, plant_}));
  EXPECT_TRUE(r.flags.empty());
  EXPECT_EQ(Find("L1")->remaining_ore_g(), 600_kg);
  EXPECT_EQ(Find("P1")->holder_id(), plant_ruc_);
  EXPECT_EQ(Find("P1")->parent_lot_id(), "L1");
  EXPECT_EQ(Find("P1")->remaining_ore_g(), 400_kg);
  // The plant sells on to a trader.
  ExpectAccepted(Sale(SaleOf("P1", plant_ruc_, trader_ruc_, "T1", 400_kg), {plant_, trader_}));
}

TEST_F(RulesTest, SaleRefusals) {
  Extract("L1", 1000_kg);
  ExpectRefused(Sale(SaleOf("L9", miner_ruc_, plant_ruc_, "P1", 10_kg), {miner_, plant_}),
                veta::v1::LOT_UNKNOWN);
  ExpectRefused(Sale(SaleOf("L1", miner_ruc_, plant_ruc_, "P1", 1000.5_kg), {miner_, plant_}),
                veta::v1::QUANTITY_EXCEEDS_LOT,
                "lot L1 has 1000.000 kg left; the sale asks for 1000.500 kg");
  ExpectRefused(Sale(SaleOf("L1", other_ruc_, plant_ruc_, "P1", 10_kg), {other_, plant_}),
                veta::v1::SELLER_DOES_NOT_HOLD_LOT);
  ExpectRefused(Sale(SaleOf("L1", miner_ruc_, Ruc("2088888888"), "P1", 10_kg), {miner_, plant_}),
                veta::v1::BUYER_UNKNOWN);
  ExpectRefused(Sale(SaleOf("L1", miner_ruc_, exporter_ruc_, "E1", 10_kg), {miner_, exporter_}),
                veta::v1::BUYER_MAY_NOT_BUY_ORE, "only processing plants and traders");
  ExpectRefused(Sale(SaleOf("L1", miner_ruc_, plant_ruc_, "P1", 10_kg), {miner_}),
                veta::v1::SIGNER_NOT_PARTY, "processing plant");
  ExpectRefused(Sale(SaleOf("L1", miner_ruc_, plant_ruc_, "P1", 10_kg), {plant_}),
                veta::v1::SIGNER_NOT_PARTY);
  ExpectRefused(Sale(SaleOf("L1", miner_ruc_, plant_ruc_, "P1", 0_kg), {miner_, plant_}),
                veta::v1::QUANTITY_NOT_POSITIVE);
  ExpectRefused(Sale(SaleOf("L1", miner_ruc_, plant_ruc_, "L1", 10_kg), {miner_, plant_}),
                veta::v1::LOT_ID_TAKEN);
  // Sold twice: the second sale asks for more than remains.
  ExpectAccepted(Sale(SaleOf("L1", miner_ruc_, plant_ruc_, "P1", 700_kg), {miner_, plant_}));
  ExpectRefused(Sale(SaleOf("L1", miner_ruc_, trader_ruc_, "T1", 700_kg), {miner_, trader_}),
                veta::v1::QUANTITY_EXCEEDS_LOT, "has 300.000 kg left");
  // A seller suspended after extracting cannot sell; a buyer suspended cannot buy.
  ExpectAccepted(Registry(Miner(miner_ruc_, miner_, veta::v1::SUSPENDIDO)));
  ExpectRefused(Sale(SaleOf("L1", miner_ruc_, trader_ruc_, "T1", 10_kg), {miner_, trader_}),
                veta::v1::SELLER_NOT_ACTIVE, "is SUSPENDIDO");
  auto suspended_plant = PartyRecord(plant_ruc_, veta::v1::PLANT, plant_);
  suspended_plant.mutable_party()->mutable_status()->set_status(veta::v1::SUSPENDIDO);
  suspended_plant.mutable_party()->mutable_status()->set_reason("inspection");
  ExpectAccepted(Registry(suspended_plant));
  ExpectRefused(Sale(SaleOf("P1", plant_ruc_, trader_ruc_, "T2", 10_kg), {plant_, trader_}),
                veta::v1::SELLER_NOT_ACTIVE);
}

TEST_F(RulesTest, RedFlagsAcceptButFlag) {
  Extract("L1", 5000_kg);
  auto cash = SaleOf("L1", miner_ruc_, plant_ruc_, "P1", 100_kg);
  cash.set_payment(veta::v1::CASH);
  cash.set_price_cents(45000_soles);
  SubmitResult r = ExpectAccepted(Sale(cash, {miner_, plant_}));
  ASSERT_EQ(r.flags.size(), 1u);
  EXPECT_EQ(r.flags[0].flag(), veta::v1::CASH_ABOVE_THRESHOLD);
  // Three ordinary sales of 100 kg, then one of 1,000: a volume jump.
  for (int i = 2; i <= 3; ++i) {
    ExpectAccepted(
        Sale(SaleOf("L1", miner_ruc_, plant_ruc_, StrCat("P", i), 100_kg), {miner_, plant_}));
  }
  r = ExpectAccepted(Sale(SaleOf("L1", miner_ruc_, plant_ruc_, "P4", 1000_kg), {miner_, plant_}));
  ASSERT_EQ(r.flags.size(), 1u);
  EXPECT_EQ(r.flags[0].flag(), veta::v1::VOLUME_JUMP);
  // A detected scar reaching outside the unit, over its south-west corner.
  ExpectAccepted(Registry(ZoneRecord("SCAR-1", veta::v1::DETECTED_MINING_SCAR,
                                     Square(kLon - 0.01, kLat - 0.01, 0.003))));
  r = ExpectAccepted(Extraction("L2", miner_ruc_, "U1", kLon - 0.009, kLat - 0.009, 10_kg, miner_));
  ASSERT_EQ(r.flags.size(), 1u);
  EXPECT_EQ(r.flags[0].flag(), veta::v1::POINT_IN_DETECTED_SCAR);
}

TEST_F(RulesTest, RegistryChangesNeedARegistrarAndValidRecords) {
  PrivateKey stranger = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  // A miner's key is registered, but it is not a registrar's.
  ExpectRefused(Sign(kRegistryType, Miner(Ruc("2061111111"), stranger), {miner_}),
                veta::v1::NOT_A_REGISTRAR);
  veta::v1::RegistryRecord r;
  r.mutable_registrar()->set_registrar_id("ROGUE");
  r.mutable_registrar()->set_name("Rogue");
  r.mutable_registrar()->set_status(veta::v1::VIGENTE);
  *r.mutable_registrar()->add_keys() = stranger.public_key().ToProto();
  ExpectRefused(Registry(r), veta::v1::NOT_A_REGISTRAR, "authority");
  std::string bad_ruc = Ruc("2061111111");
  bad_ruc.back() = bad_ruc.back() == '9' ? '0' : static_cast<char>(bad_ruc.back() + 1);
  ExpectRefused(Registry(Miner(bad_ruc, stranger)), veta::v1::REGISTRY_RECORD_INVALID,
                "check digit");
  auto no_validity = Miner(Ruc("2061111111"), stranger);
  no_validity.mutable_miner()->clear_valid_until();
  ExpectRefused(Registry(no_validity), veta::v1::REGISTRY_RECORD_INVALID, "registrations expire");
  // The miner is an artisanal producer: its units stay within 25 t/day.
  ExpectRefused(Registry(Unit("U3", miner_ruc_, kLon, kLat, 30_tpd)),
                veta::v1::REGISTRY_RECORD_INVALID, "above the 25");
  auto open_ring = Unit("U2", miner_ruc_, kLon, kLat);
  open_ring.mutable_unit()->set_geometry_geojson(
      "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1]]]}");
  ExpectRefused(Registry(open_ring), veta::v1::REGISTRY_RECORD_INVALID, "not closed");
}

TEST_F(RulesTest, PrePurchaseCheckIsADryRun) {
  Extract("L1", 1000_kg);
  const uint64_t size = ledger_->size(), attempts = AttemptCount();
  // The buyer checks before the seller signs: OK, nothing written.
  SubmitResult ok =
      ledger_->CheckAndWait(Sale(SaleOf("L1", miner_ruc_, plant_ruc_, "P1", 500_kg), {plant_}));
  EXPECT_TRUE(ok.status.ok()) << ok.status;
  // The same codes as a real submission.
  SubmitResult refused =
      ledger_->CheckAndWait(Sale(SaleOf("L1", miner_ruc_, plant_ruc_, "P1", 5000_kg), {plant_}));
  EXPECT_EQ(refused.refusal, veta::v1::QUANTITY_EXCEEDS_LOT);
  EXPECT_EQ(ledger_->size(), size);
  EXPECT_EQ(AttemptCount(), attempts);
  EXPECT_FALSE(Find("P1").has_value());
}

TEST_F(RulesTest, ReplayingTheLogGivesTheSameStateAndDecisions) {
  Extract("L1", 1000_kg);
  ExpectAccepted(Sale(SaleOf("L1", miner_ruc_, plant_ruc_, "P1", 400_kg), {miner_, plant_}));
  ExpectRefused(Sale(SaleOf("L1", miner_ruc_, plant_ruc_, "P2", 700_kg), {miner_, plant_}),
                veta::v1::QUANTITY_EXCEEDS_LOT);
  ExpectAccepted(Registry(Miner(miner_ruc_, miner_, veta::v1::SUSPENDIDO)));
  ExpectRefused(Extraction("L2", miner_ruc_, "U1", kLon, kLat, 5_kg, miner_),
                veta::v1::EXTRACTOR_NOT_ACTIVE);

  // A second ledger under the same authority, fed every entry (after the genesis) and every
  // refused attempt, in the original order.
  struct Item {
    uint64_t position;  // ledger size when it was judged
    std::string envelope;
    bool accepted;
  };
  std::vector<Item> items;
  for (uint64_t seq = 1; seq < ledger_->size(); ++seq) {
    veta::v1::Entry e;
    ASSERT_TRUE(e.ParseFromString(*ledger_->GetEntry(seq)));
    items.push_back({seq, e.envelope(), true});
  }
  std::unique_ptr<Cursor> it = ledger_->store().NewCursor(Family::kAttempts);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    veta::v1::Attempt a;
    ASSERT_TRUE(a.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())));
    items.push_back({a.ledger_size(), a.envelope(), false});
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.position < b.position; });
  testing::TempDir other_dir;
  ASSERT_TRUE(Ledger::Create(other_dir.path(), "veta.test/registry", authority_, "", false).ok());
  LedgerOptions options;
  options.data_dir = other_dir.path();
  auto replica = *Ledger::Open(options, authority_);
  for (const Item& item : items) {
    SubmitResult r = replica->SubmitAndWait(item.envelope);
    EXPECT_EQ(r.status.ok(), item.accepted) << r.status;
  }
  EXPECT_EQ(replica->size(), ledger_->size());
  for (const char* lot : {"L1", "P1"}) {
    auto a = Find(lot);
    auto b = replica->store().Get(Family::kState, StrCat("L", lot));
    ASSERT_TRUE(a && b.ok());
    EXPECT_EQ(a->SerializeAsString(), *b) << lot;
  }
}

}  // namespace
}  // namespace veta

namespace veta {
namespace {

// A state rebuilt from nothing (a follower's first start, a derived family whose schema
// changed): start-up applies every entry through ApplyEntry and gets the state the sequencer
// wrote, row for row; then the ledger goes on as before.
TEST_F(RulesTest, StartUpAppliesTheEntriesTheStateDoesNotHold) {
  Extract("L1", 1000_kg);
  ExpectAccepted(Sale(SaleOf("L1", miner_ruc_, trader_ruc_, "T1", 400_kg), {miner_, trader_}));
  ExpectRefused(Extraction("X", miner_ruc_, "U9", kLon, kLat, 100_kg, miner_),
                veta::v1::UNIT_UNKNOWN);
  ledger_->Close();
  const auto before = DerivedRows(*store_);
  ASSERT_GT(before.size(), 20u);
  ASSERT_TRUE(WipeDerivedRows(*store_).ok());
  ASSERT_TRUE(DerivedRows(*store_).empty());
  Reopen();
  EXPECT_EQ(DerivedRows(*store_), before);
  EXPECT_EQ(*store_->Get(Family::kMeta, kAppliedKey), EncodeU64(ledger_->size()));
  EXPECT_TRUE(Audit().status.ok());
  Reopen();
  // The rebuilt state judges as the old one did: what remains of L1 is 600 kg.
  ExpectRefused(Sale(SaleOf("L1", miner_ruc_, trader_ruc_, "T2", 700_kg), {miner_, trader_}),
                veta::v1::QUANTITY_EXCEEDS_LOT);
  ExpectAccepted(Sale(SaleOf("L1", miner_ruc_, trader_ruc_, "T2", 600_kg), {miner_, trader_}));
}

// An applied-entries marker past the log (entries lost from under the state) stops start-up.
TEST_F(RulesTest, StartUpRefusesAStateAheadOfTheLog) {
  ledger_->Close();
  ASSERT_TRUE(PutRow(*store_, Family::kMeta, kAppliedKey, EncodeU64(ledger_->size() + 5)).ok());
  LedgerOptions options = BaseOptions();
  auto opened = Ledger::Open(options, authority_);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << opened.status();
}

// Tampers with the RocksDB files themselves.
class RulesOnDiskTest : public RulesTest {
 protected:
  RulesOnDiskTest() { on_disk_ = true; }
};

TEST_F(RulesOnDiskTest, AuditReplaysTheRulesAndComparesTheState) {
  Extract("L1", 1000_kg);
  ExpectAccepted(Sale(SaleOf("L1", miner_ruc_, plant_ruc_, "P1", 400_kg), {miner_, plant_}));
  ExpectRefused(Extraction("X", miner_ruc_, "U1", kLon + 0.05, kLat, 100_kg, miner_),
                veta::v1::POINT_OUTSIDE_UNIT);
  ledger_->Close();
  ledger_.reset();
  AuditReport clean = AuditLedger(dir_.path());
  ASSERT_TRUE(clean.status.ok()) << clean.status;
  {
    // Someone with disk access gives the miner back 400 kg.
    auto store = *RocksStore::Open(DatabasePath(dir_.path()), RocksStore::Mode::kReadWrite);
    veta::v1::Lot lot;
    ASSERT_TRUE(lot.ParseFromString(*store->Get(Family::kState, "LL1")));
    lot.set_remaining_ore_g(1000_kg);
    ASSERT_TRUE(PutRow(*store, Family::kState, "LL1", lot.SerializeAsString()).ok());
  }
  AuditReport tampered = AuditLedger(dir_.path());
  EXPECT_EQ(tampered.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(tampered.status.message()).find("lots and counters differ"),
            std::string::npos)
      << tampered.status;
}

TEST_F(RulesOnDiskTest, AuditChecksTheAttemptsChain) {
  for (int i = 0; i < 3; ++i) {
    ExpectRefused(Extraction(StrCat("X", i), miner_ruc_, "U9", kLon, kLat, 100_kg, miner_),
                  veta::v1::UNIT_UNKNOWN);
  }
  ledger_->Close();
  ledger_.reset();
  AuditReport clean = AuditLedger(dir_.path());
  ASSERT_TRUE(clean.status.ok()) << clean.status;
  EXPECT_EQ(clean.attempts, 3u);
  {
    // Someone erases the evidence of the second attempt.
    auto store = *RocksStore::Open(DatabasePath(dir_.path()), RocksStore::Mode::kReadWrite);
    ASSERT_TRUE(DeleteRow(*store, Family::kAttempts, EncodeU64(1)).ok());
  }
  AuditReport erased = AuditLedger(dir_.path());
  EXPECT_EQ(erased.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(erased.status.message()).find("attempt 1 is missing"), std::string::npos)
      << erased.status;
}

}  // namespace
}  // namespace veta

namespace veta {
namespace {

TEST_F(RulesTest, InactiveUnitUnknownSellerAndInactiveBuyer) {
  Extract("L1", 100_kg);
  auto closed = Unit("U1", miner_ruc_, kLon, kLat);
  closed.mutable_unit()->mutable_status()->set_status(veta::v1::SUSPENDIDO);
  closed.mutable_unit()->mutable_status()->set_reason("mercury found");
  ExpectAccepted(Registry(closed));
  ExpectRefused(Extraction("X", miner_ruc_, "U1", kLon, kLat, 100_kg, miner_),
                veta::v1::UNIT_NOT_ACTIVE, "unit U1 is SUSPENDIDO");
  ExpectRefused(Sale(SaleOf("L1", Ruc("1099999999"), plant_ruc_, "P1", 10_kg), {miner_, plant_}),
                veta::v1::SELLER_UNKNOWN);
  auto suspended = PartyRecord(plant_ruc_, veta::v1::PLANT, plant_);
  suspended.mutable_party()->mutable_status()->set_status(veta::v1::SUSPENDIDO);
  suspended.mutable_party()->mutable_status()->set_reason("no environmental permit");
  ExpectAccepted(Registry(suspended));
  ExpectRefused(Sale(SaleOf("L1", miner_ruc_, plant_ruc_, "P1", 10_kg), {miner_, plant_}),
                veta::v1::BUYER_NOT_ACTIVE, "no environmental permit");
  // Another buyer is fine: the lot itself is clean.
  ExpectAccepted(Sale(SaleOf("L1", miner_ruc_, trader_ruc_, "T1", 10_kg), {miner_, trader_}));
}

}  // namespace
}  // namespace veta

namespace veta {
namespace {

class RulesVersionTest : public testing::RegistryFixture {
 protected:
  veta::v1::RegistryRecord Parameters(uint32_t version) {
    veta::v1::RegistryRecord r = payloads::ParametersRecord();
    auto* p = r.mutable_parameters();
    p->mutable_grade_ppb_default()->set_min(1_gpt);
    p->mutable_grade_ppb_default()->set_max(100_gpt);
    p->mutable_recovery_ppm()->set_min(50_pct);
    p->set_rules_version(version);
    return r;
  }
};

// A ledger written under earlier rules replays under them: the rules in force are those the
// parameters named when an entry was sequenced, and the audit judges each entry by those.
TEST_F(RulesVersionTest, EntriesAreJudgedByTheRulesInForceWhenTheyWereSequenced) {
  const std::string miner = Ruc("2060000001"), trader = Ruc("2070000004");
  auto miner_key = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  auto trader_key = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  ExpectAccepted(Registry(Miner(miner, miner_key)));
  ExpectAccepted(Registry(Unit("U1", miner, kLon, kLat)));
  ExpectAccepted(Registry(PartyRecord(trader, veta::v1::TRADER, trader_key)));
  ExpectAccepted(Extraction("L1", miner, "U1", kLon, kLat, 1000_kg, miner_key));
  // Version 1 (no parameters say otherwise): a sale need not state how it was paid.
  veta::v1::Sale unpaid = SaleOf("L1", miner, trader, "T1", 100_kg);
  unpaid.set_payment(veta::v1::PAYMENT_METHOD_UNSPECIFIED);
  ExpectAccepted(Sign(kSaleType, unpaid, {miner_key, trader_key}));
  // Version 2 from the entry that records it.
  ExpectAccepted(Registry(Parameters(2)));
  unpaid = SaleOf("L1", miner, trader, "T2", 100_kg);
  unpaid.set_payment(veta::v1::PAYMENT_METHOD_UNSPECIFIED);
  ExpectRefused(Sign(kSaleType, unpaid, {miner_key, trader_key}), veta::v1::PAYMENT_METHOD_MISSING,
                "rules version 2");
  ExpectAccepted(
      Sign(kSaleType, SaleOf("L1", miner, trader, "T2", 100_kg), {miner_key, trader_key}));
  // Never lowered; never past what this server has.
  ExpectRefused(Registry(Parameters(1)), veta::v1::RULES_VERSION_INVALID, "never lower it");
  ExpectRefused(Registry(Parameters(0)), veta::v1::RULES_VERSION_INVALID, "never lower it");
  ExpectRefused(Registry(Parameters(4)), veta::v1::RULES_VERSION_INVALID,
                "has the rules up to version 3");
  // Version 3 needs a reference price of fine gold.
  ExpectRefused(Registry(Parameters(3)), veta::v1::REGISTRY_RECORD_INVALID, "reference price");
  // The replay judges T1 by version 1 and T2 by version 2: the whole log is clean, and a
  // restart (which applies nothing new) keeps version 2 in force.
  const AuditReport report = Audit();
  EXPECT_TRUE(report.status.ok()) << report.status;
  Reopen();
  unpaid.set_buyer_lot_id("T3");
  ExpectRefused(Sign(kSaleType, unpaid, {miner_key, trader_key}), veta::v1::PAYMENT_METHOD_MISSING);
}

}  // namespace
}  // namespace veta
