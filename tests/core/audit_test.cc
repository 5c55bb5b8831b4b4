#include "core/read/audit.h"

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "core/log/ledger.h"
#include "core/storage/rocks_store.h"
#include "core/storage/schema.h"
#include "core/storage/store.h"
#include "core/verify/merkle.h"
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

  // Forges the log: `edit` changes the stored entries, then every entry is chained again to
  // the one before it (previous hash), so that the hash chain holds and only the edit is wrong.
  void Forge(const std::function<void(std::vector<veta::v1::Entry>*)>& edit) {
    auto store = Raw();
    std::vector<veta::v1::Entry> entries;
    for (uint64_t seq = 0;; ++seq) {
      auto bytes = store->Get(Family::kEntries, EncodeU64(seq));
      if (!bytes.ok()) break;
      ASSERT_TRUE(entries.emplace_back().ParseFromString(*bytes));
    }
    ASSERT_GT(entries.size(), 2u);
    edit(&entries);
    std::string previous;
    for (auto& e : entries) {
      e.set_previous_hash(previous);
      const std::string bytes = e.SerializeAsString();
      ASSERT_TRUE(PutRow(*store, Family::kEntries, EncodeU64(e.sequence()), bytes).ok());
      previous = std::string(AsBytes(merkle::HashLeaf(bytes)));
    }
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

// The audit verifies signatures on a pool of threads against the keys of the stored `keys`
// family (the state at the end of the log), ahead of the replay: a key registered by entry 2
// must still not sign entry 1, although the stored family knows it.
TEST_F(AuditTest, AnEntrySignedByAKeyRegisteredOnlyByALaterEntryIsRefused) {
  Forge([](std::vector<veta::v1::Entry>* entries) {
    // Entry 1 registers the key, entry 2 is its first memo: the memo goes first.
    std::swap(*(*entries)[1].mutable_envelope(), *(*entries)[2].mutable_envelope());
  });
  {
    auto store = Raw();
    veta::v1::Entry first;
    ASSERT_TRUE(first.ParseFromString(*store->Get(Family::kEntries, EncodeU64(1))));
    veta::v1::Envelope memo;
    ASSERT_TRUE(memo.ParseFromString(first.envelope()));
    ASSERT_EQ(memo.signatures_size(), 1);
    // The stored keys family names the memo's key: the pool finds its signature good.
    EXPECT_TRUE(store->Get(Family::kKeys, memo.signatures(0).keyid()).ok());
  }
  AuditReport report = AuditLedger(dir_.path());
  EXPECT_EQ(report.status.code(), absl::StatusCode::kDataLoss) << report.status;
  EXPECT_EQ(report.bad_sequence, 1);
  EXPECT_NE(std::string(report.status.message()).find("is not registered in this ledger"),
            std::string::npos)
      << report.status;
}

// A log longer than the audit reads ahead (16 chunks of 256 entries): the replay crosses
// chunks and refills the window, and a key registered late in the log, then used before its
// registration by a forged order, is still caught at the right entry.
TEST_F(AuditTest, ALogLongerThanTheReadAheadWindowIsCheckedInOrder) {
  constexpr uint64_t kFirst = 4600, kSecond = 100;
  {
    auto authority = *PrivateKey::FromPem(*ReadFile(AuthorityKeyPath(dir_.path())));
    LedgerOptions options;
    options.data_dir = dir_.path();
    options.checkpoint_interval = std::chrono::milliseconds(0);
    auto ledger = *Ledger::Open(options, authority);
    auto submit_all = [&](const PrivateKey& key, uint64_t n, const std::string& what) {
      veta::v1::KeyRegistration reg;
      *reg.mutable_key() = key.public_key().ToProto();
      reg.set_holder(what);
      ASSERT_TRUE(ledger
                      ->SubmitAndWait(
                          SignEnvelope(kKeyRegistrationType, reg.SerializeAsString(), {authority})
                              ->SerializeAsString())
                      .status.ok());
      std::mutex mu;
      std::condition_variable cv;
      uint64_t done = 0, refused = 0;
      for (uint64_t i = 0; i < n; ++i) {
        veta::v1::Memo memo;
        memo.set_text(StrCat(what, " ", i));
        ledger->Submit(
            SignEnvelope(kMemoType, memo.SerializeAsString(), {key})->SerializeAsString(),
            [&](SubmitResult r) {
              std::lock_guard lock(mu);
              if (!r.status.ok()) ++refused;
              if (++done == n) cv.notify_all();
            });
      }
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return done == n; });
      EXPECT_EQ(refused, 0u);
    };
    submit_all(*PrivateKey::Generate(KeyAlgorithm::kEd25519), kFirst, "first");
    submit_all(*PrivateKey::Generate(KeyAlgorithm::kEd25519), kSecond, "second");
    ledger->Close();
  }
  const uint64_t second_key = 12 + 1 + kFirst;  // the entry that registers the second key
  AuditReport clean = AuditLedger(dir_.path());
  ASSERT_TRUE(clean.status.ok()) << clean.status;
  EXPECT_EQ(clean.entries, second_key + 1 + kSecond);
  EXPECT_EQ(clean.signatures, clean.entries);
  Forge([&](std::vector<veta::v1::Entry>* entries) {
    std::swap(*(*entries)[second_key].mutable_envelope(),
              *(*entries)[second_key + 50].mutable_envelope());
  });
  AuditReport report = AuditLedger(dir_.path());
  EXPECT_EQ(report.status.code(), absl::StatusCode::kDataLoss) << report.status;
  EXPECT_EQ(report.bad_sequence, static_cast<int64_t>(second_key));
  EXPECT_NE(std::string(report.status.message()).find("is not registered in this ledger"),
            std::string::npos)
      << report.status;
}

// A signature changed in a log whose hash chain is intact: the entry is named, and why.
TEST_F(AuditTest, ASignatureThatDoesNotVerifyIsRefused) {
  Forge([](std::vector<veta::v1::Entry>* entries) {
    veta::v1::Envelope env;
    ASSERT_TRUE(env.ParseFromString((*entries)[6].envelope()));
    (*env.mutable_signatures(0)->mutable_sig())[10] ^= 0x01;
    (*entries)[6].set_envelope(env.SerializeAsString());
  });
  AuditReport report = AuditLedger(dir_.path());
  EXPECT_EQ(report.status.code(), absl::StatusCode::kDataLoss) << report.status;
  EXPECT_EQ(report.bad_sequence, 6);
  EXPECT_NE(std::string(report.status.message()).find("does not verify"), std::string::npos)
      << report.status;
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
