#include "core/audit.h"

#include "core/ledger.h"
#include "core/store.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/core/test_util.h"

namespace veta {
namespace {

using veta::testing::TempDir;

// A closed ledger with a registered key and `memos` memos.
class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PrivateKey authority = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
    ASSERT_TRUE(Ledger::Create(dir_.path(), "veta.test/audit", authority, "").ok());
    LedgerOptions options;
    options.data_dir = dir_.path();
    options.checkpoint_interval = std::chrono::milliseconds(0);
    auto ledger = *Ledger::Open(options, authority);
    PrivateKey key = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
    veta::v1::KeyRegistration reg;
    *reg.mutable_key() = key.public_key().ToProto();
    reg.set_holder("Planta de Beneficio Test");
    ASSERT_TRUE(
        ledger
            ->SubmitAndWait(SignEnvelope(kKeyRegistrationType, reg.SerializeAsString(), {authority})
                                ->SerializeAsString())
            .status.ok());
    for (int i = 0; i < 10; ++i) {
      veta::v1::Memo memo;
      memo.set_text("lot " + std::to_string(i));
      ASSERT_TRUE(
          ledger
              ->SubmitAndWait(
                  SignEnvelope(kMemoType, memo.SerializeAsString(), {key})->SerializeAsString())
              .status.ok());
    }
    ledger->Close();
  }

  // Opens the raw store to tamper with it.
  std::unique_ptr<Store> Raw() {
    return std::move(*Store::Open(DatabasePath(dir_.path()), Store::Mode::kReadWrite));
  }

  TempDir dir_;
};

TEST_F(AuditTest, CleanLedgerPasses) {
  AuditReport report = AuditLedger(dir_.path());
  ASSERT_TRUE(report.status.ok()) << report.status;
  EXPECT_EQ(report.entries, 12u);
  EXPECT_EQ(report.origin, "veta.test/audit");
  EXPECT_GE(report.checkpoints, 2u);
}

TEST_F(AuditTest, OneChangedByteIsNamed) {
  {
    auto store = Raw();
    std::string entry = *store->Get(store->entries(), EncodeU64(5));
    entry[entry.size() - 3] ^= 0x01;
    ASSERT_TRUE(store->db()->Put({}, store->entries(), EncodeU64(5), entry).ok());
  }
  AuditReport report = AuditLedger(dir_.path());
  EXPECT_EQ(report.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(report.bad_sequence, 5);
}

TEST_F(AuditTest, DeletedEntryIsNamed) {
  {
    auto store = Raw();
    ASSERT_TRUE(store->db()->Delete({}, store->entries(), EncodeU64(7)).ok());
  }
  AuditReport report = AuditLedger(dir_.path());
  EXPECT_EQ(report.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(report.bad_sequence, 7);
  EXPECT_NE(std::string(report.status.message()).find("entry 7 is missing"), std::string::npos)
      << report.status;
}

TEST_F(AuditTest, SwappedEntriesAreNamed) {
  {
    auto store = Raw();
    std::string a = *store->Get(store->entries(), EncodeU64(3));
    std::string b = *store->Get(store->entries(), EncodeU64(4));
    ASSERT_TRUE(store->db()->Put({}, store->entries(), EncodeU64(3), b).ok());
    ASSERT_TRUE(store->db()->Put({}, store->entries(), EncodeU64(4), a).ok());
  }
  AuditReport report = AuditLedger(dir_.path());
  EXPECT_EQ(report.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(report.bad_sequence, 3);
}

TEST_F(AuditTest, TruncatedTailBelowACheckpointIsNamed) {
  {
    auto store = Raw();
    ASSERT_TRUE(store->db()->Delete({}, store->entries(), EncodeU64(11)).ok());
  }
  AuditReport report = AuditLedger(dir_.path());
  EXPECT_EQ(report.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(report.status.message()).find("lost or rolled back"), std::string::npos)
      << report.status;
}

TEST_F(AuditTest, ServerRefusesToOpenATamperedStore) {
  {
    auto store = Raw();
    ASSERT_TRUE(store->db()->Delete({}, store->entries(), EncodeU64(11)).ok());
  }
  LedgerOptions options;
  options.data_dir = dir_.path();
  auto key = *PrivateKey::FromPem(*ReadFile(AuthorityKeyPath(dir_.path())));
  auto opened = Ledger::Open(options, key);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << opened.status();
}

}  // namespace
}  // namespace veta
