// "As of" reads across status changes, listings with filters and paging, attempts and flags
// by party, unit and refusal.
#include "core/read/queries.h"

#include "tests/core/registry_fixture.h"

namespace veta {
namespace {

using testing::Ruc;

class QueriesTest : public testing::RegistryFixture {
 protected:
  const Reader& store() { return ledger_->store(); }
  PrivateKey key_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
};

TEST_F(QueriesTest, RecordAsOfEntryAndTimeAcrossStatusChanges) {
  const std::string ruc = Ruc("2060000001");
  const uint64_t registered = ExpectAccepted(Registry(Miner(ruc, key_))).sequence;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const int64_t between = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const uint64_t suspended =
      ExpectAccepted(Registry(Miner(ruc, key_, veta::v1::SUSPENDIDO))).sequence;
  // Reinstated: the same fields as the first version, so it says why (else it would be the
  // same envelope, refused as a replay).
  auto reinstated = Miner(ruc, key_, veta::v1::VIGENTE);
  reinstated.set_note("reinstated after inspection");
  const uint64_t restored = ExpectAccepted(Registry(reinstated)).sequence;
  auto now = GetRecordAsOf(store(), RecordKind::kMiner, ruc, ledger_->size());
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(now->sequence, restored);
  auto during = GetRecordAsOf(store(), RecordKind::kMiner, ruc, suspended + 1);
  EXPECT_EQ(during->record.miner().status().status(), veta::v1::SUSPENDIDO);
  EXPECT_EQ(during->sequence, suspended);
  auto first = GetRecordAsOf(store(), RecordKind::kMiner, ruc, suspended);
  EXPECT_EQ(first->record.miner().status().status(), veta::v1::VIGENTE);
  EXPECT_EQ(first->sequence, registered);
  EXPECT_TRUE(
      absl::IsNotFound(GetRecordAsOf(store(), RecordKind::kMiner, ruc, registered).status()));
  // As of a time between the registration and the suspension.
  auto size = ledger_->SizeAtTime(between);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, registered + 1);
  EXPECT_EQ(GetRecordAsOf(store(), RecordKind::kMiner, ruc, *size)->sequence, registered);
  EXPECT_TRUE(absl::IsNotFound(
      GetRecordAsOf(store(), RecordKind::kMiner, Ruc("2069999999"), ledger_->size()).status()));
}

TEST_F(QueriesTest, ListRecordsFiltersAndPages) {
  for (int i = 0; i < 7; ++i) {
    // A key per miner: a key identifies one holder (REGISTRY_KEY_TAKEN).
    ExpectAccepted(
        Registry(Miner(Ruc(StrCat("206000000", i)), *PrivateKey::Generate(KeyAlgorithm::kEd25519),
                       i % 2 ? veta::v1::SUSPENDIDO : veta::v1::VIGENTE)));
  }
  auto unit = Unit("U-LIMA", Ruc("2060000000"), -77.03, -12.05);
  unit.mutable_unit()->set_ubigeo("150101");
  ExpectAccepted(Registry(unit));
  ExpectAccepted(Registry(Unit("U-MDD", Ruc("2060000000"), -69.19, -12.59)));
  auto all = ListRecords(store(), RecordKind::kMiner, {}, "", 100, ledger_->size());
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 7u);
  auto active = ListRecords(store(), RecordKind::kMiner, {veta::v1::VIGENTE, "", {}}, "", 100,
                            ledger_->size());
  EXPECT_EQ(active->size(), 4u);
  // Pages of 3, resuming after the last id.
  std::vector<std::string> ids;
  std::string after;
  for (int page = 0; page < 5; ++page) {
    auto p = ListRecords(store(), RecordKind::kMiner, {}, after, 3, ledger_->size());
    ASSERT_TRUE(p.ok());
    for (const auto& v : *p) ids.push_back(v.record.miner().ruc());
    if (p->size() < 3) break;
    after = ids.back();
  }
  EXPECT_EQ(ids.size(), 7u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  auto mdd = ListRecords(store(), RecordKind::kUnit, {{}, "17", {}}, "", 100, ledger_->size());
  ASSERT_EQ(mdd->size(), 1u);
  EXPECT_EQ((*mdd)[0].record.unit().concession_code(), "U-MDD");
  EXPECT_EQ(ListRecords(store(), RecordKind::kMiner, {}, "", 1001, ledger_->size()).status().code(),
            absl::StatusCode::kInvalidArgument);
  // As of before the units: none.
  EXPECT_TRUE(ListRecords(store(), RecordKind::kUnit, {}, "", 100, 3)->empty());
}

TEST_F(QueriesTest, AttemptsAndFlagsByPartyUnitAndCode) {
  const std::string ruc = Ruc("2060000001"), plant = Ruc("2070000003");
  PrivateKey plant_key = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  ExpectAccepted(Registry(Miner(ruc, key_)));
  ExpectAccepted(Registry(Unit("U1", ruc, -69.9, -12.6)));
  ExpectAccepted(Registry(PartyRecord(plant, veta::v1::PLANT, plant_key)));
  ExpectRefused(Extraction("X1", ruc, "U1", -69.0, -12.6, 10_kg, key_),
                veta::v1::POINT_OUTSIDE_UNIT);
  ExpectRefused(Extraction("X2", ruc, "U9", -69.9, -12.6, 10_kg, key_), veta::v1::UNIT_UNKNOWN);
  ExpectAccepted(Extraction("L1", ruc, "U1", -69.9, -12.6, 100_kg, key_));
  auto cash = SaleOf("L1", ruc, plant, "P1", 50_kg);
  cash.set_payment(veta::v1::CASH);
  cash.set_price_cents(99999_soles);
  ExpectAccepted(Sign(kSaleType, cash, {key_, plant_key}));

  auto by_party = ListAttempts(store(), {ruc, "", ""}, 0, 100);
  ASSERT_TRUE(by_party.ok());
  EXPECT_EQ(by_party->size(), 2u);
  auto by_unit = ListAttempts(store(), {"", "U1", ""}, 0, 100);
  ASSERT_EQ(by_unit->size(), 1u);
  EXPECT_EQ((*by_unit)[0].refusal(), veta::v1::POINT_OUTSIDE_UNIT);
  auto by_code = ListAttempts(store(), {"", "", "UNIT_UNKNOWN"}, 0, 100);
  ASSERT_EQ(by_code->size(), 1u);
  EXPECT_EQ((*by_code)[0].unit_code(), "U9");
  // The attempts log is hash-chained.
  auto all = ListAttempts(store(), {}, 0, 100);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].previous_hash(),
            std::string(AsBytes(Sha256Of((*all)[0].SerializeAsString()))));
  auto flags = ListFlags(store(), {plant, "", ""}, 0, 100, ledger_->size());
  ASSERT_EQ(flags->size(), 1u);
  EXPECT_EQ((*flags)[0].flag(), veta::v1::CASH_ABOVE_THRESHOLD);
  EXPECT_EQ(ListFlags(store(), {"", "U1", ""}, 0, 100, ledger_->size())->size(), 1u);
  EXPECT_TRUE(ListFlags(store(), {"", "U9", ""}, 0, 100, ledger_->size())->empty());
}

}  // namespace
}  // namespace veta
