#include "core/read/audit.h"

#include <filesystem>

#include "core/log/ledger.h"
#include "core/storage/rocks_store.h"
#include "core/storage/schema.h"
#include "core/storage/store.h"
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
  std::unique_ptr<RocksStore> Raw() {
    return std::move(*RocksStore::Open(DatabasePath(dir_.path()), RocksStore::Mode::kReadWrite));
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
    std::string entry = *store->Get(Family::kEntries, EncodeU64(5));
    entry[entry.size() - 3] ^= 0x01;
    ASSERT_TRUE(PutRow(*store, Family::kEntries, EncodeU64(5), entry).ok());
  }
  AuditReport report = AuditLedger(dir_.path());
  EXPECT_EQ(report.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(report.bad_sequence, 5);
}

TEST_F(AuditTest, DeletedEntryIsNamed) {
  {
    auto store = Raw();
    ASSERT_TRUE(DeleteRow(*store, Family::kEntries, EncodeU64(7)).ok());
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
    std::string a = *store->Get(Family::kEntries, EncodeU64(3));
    std::string b = *store->Get(Family::kEntries, EncodeU64(4));
    ASSERT_TRUE(PutRow(*store, Family::kEntries, EncodeU64(3), b).ok());
    ASSERT_TRUE(PutRow(*store, Family::kEntries, EncodeU64(4), a).ok());
  }
  AuditReport report = AuditLedger(dir_.path());
  EXPECT_EQ(report.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(report.bad_sequence, 3);
}

TEST_F(AuditTest, TruncatedTailBelowACheckpointIsNamed) {
  {
    auto store = Raw();
    ASSERT_TRUE(DeleteRow(*store, Family::kEntries, EncodeU64(11)).ok());
  }
  AuditReport report = AuditLedger(dir_.path());
  EXPECT_EQ(report.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(report.status.message()).find("lost or rolled back"), std::string::npos)
      << report.status;
}

TEST_F(AuditTest, ServerRefusesToOpenATamperedStore) {
  {
    auto store = Raw();
    ASSERT_TRUE(DeleteRow(*store, Family::kEntries, EncodeU64(11)).ok());
  }
  LedgerOptions options;
  options.data_dir = dir_.path();
  auto key = *PrivateKey::FromPem(*ReadFile(AuthorityKeyPath(dir_.path())));
  auto opened = Ledger::Open(options, key);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << opened.status();
}

}  // namespace
}  // namespace veta

namespace veta {
namespace {

// Appends `n` entries (key registrations by the authority) to the closed ledger in `dir`.
void Append(const std::string& dir, int n) {
  auto authority = *PrivateKey::FromPem(*ReadFile(AuthorityKeyPath(dir)));
  LedgerOptions options;
  options.data_dir = dir;
  options.checkpoint_interval = std::chrono::milliseconds(0);
  auto ledger = *Ledger::Open(options, authority);
  for (int i = 0; i < n; ++i) {
    veta::v1::KeyRegistration reg;
    *reg.mutable_key() = PrivateKey::Generate(KeyAlgorithm::kEd25519)->public_key().ToProto();
    reg.set_holder("later");
    ASSERT_TRUE(
        ledger
            ->SubmitAndWait(SignEnvelope(kKeyRegistrationType, reg.SerializeAsString(), {authority})
                                ->SerializeAsString())
            .status.ok());
  }
}

void CopyTree(const std::string& from, const std::string& to) {
  std::filesystem::remove_all(to);
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

TEST_F(AuditTest, ADatabaseRestoredFromAnOlderCopyIsRefused) {
  const std::string old_db = dir_.Sub("old-db");
  CopyTree(DatabasePath(dir_.path()), old_db);
  Append(dir_.path(), 3);
  CopyTree(old_db, DatabasePath(dir_.path()));  // the database goes back; the note stays
  LedgerOptions options;
  options.data_dir = dir_.path();
  auto opened =
      Ledger::Open(options, *PrivateKey::FromPem(*ReadFile(AuthorityKeyPath(dir_.path()))));
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(opened.status().message()).find("rolled back to an older copy"),
            std::string::npos)
      << opened.status();
  AuditReport report = AuditLedger(dir_.path());
  EXPECT_EQ(report.status.code(), absl::StatusCode::kDataLoss);
}

TEST_F(AuditTest, AWholeFolderRolledBackIsCaughtByAPublishedCheckpoint) {
  const std::string old_dir = dir_.Sub("old");
  std::filesystem::create_directories(old_dir);
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    if (e.path().filename() != "old") {
      std::filesystem::copy(e.path(), old_dir + "/" + e.path().filename().string(),
                            std::filesystem::copy_options::recursive);
    }
  }
  Append(dir_.path(), 3);
  const std::string witnessed = *ReadFile(LatestCheckpointPath(dir_.path()));  // a witness kept it
  // Everything goes back, the latest-checkpoint file too: locally consistent, so the server
  // opens it; only a checkpoint seen outside tells.
  AuditReport clean_locally = AuditLedger(old_dir);
  EXPECT_TRUE(clean_locally.status.ok()) << clean_locally.status;
  AuditReport caught = AuditLedger(old_dir, nullptr, {witnessed});
  EXPECT_EQ(caught.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(caught.status.message()).find("was published but the store holds 12"),
            std::string::npos)
      << caught.status;
  // And a checkpoint that the entries do contain passes.
  EXPECT_TRUE(AuditLedger(dir_.path(), nullptr, {witnessed}).status.ok());
}

}  // namespace
}  // namespace veta
