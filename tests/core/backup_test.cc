// Backups (core/storage/backup.h) and restores checked against a witnessed checkpoint
// (core/read/restore.h), on real RocksDB folders: a live backup restored, reopened, written and
// audited; a short, foreign, forked, damaged backup refused, each with its reason, leaving
// nothing behind.
#include <filesystem>
#include <fstream>

#include "core/log/ledger.h"
#include "core/read/audit.h"
#include "core/read/restore.h"
#include "core/storage/backup.h"
#include "core/storage/rocks_store.h"
#include "core/verify/note.h"
#include "gtest/gtest.h"
#include "tests/core/test_util.h"
#include "tests/support/payloads.h"

namespace veta {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// A ledger on disk whose RocksStore the test holds (as veta-server does with --backup-dir), so
// that it can be backed up while the ledger is open.
class LiveLedger {
 public:
  LiveLedger(const std::string& data_dir, const std::string& origin, const PrivateKey& authority)
      : authority_(authority) {
    EXPECT_TRUE(Ledger::Create(data_dir, origin, authority, "").ok());
    store_ = std::shared_ptr<RocksStore>(
        std::move(*RocksStore::Open(DatabasePath(data_dir), RocksStore::Mode::kReadWrite)));
    LedgerOptions options;
    options.data_dir = data_dir;
    options.store = store_;
    options.checkpoint_interval = std::chrono::milliseconds(0);
    ledger_ = std::move(*Ledger::Open(options, authority));
    const SubmitResult r = ledger_->SubmitAndWait(
        payloads::Sign(kKeyRegistrationType,
                       payloads::KeyRegistrationOf(writer_.public_key(), "writer"), {authority}));
    EXPECT_TRUE(r.status.ok()) << r.status;
  }
  ~LiveLedger() { ledger_->Close(); }

  // `n` memos, accepted.
  void Write(int n) {
    for (int i = 0; i < n; ++i) {
      const SubmitResult r = ledger_->SubmitAndWait(
          payloads::Sign(kMemoType, payloads::MemoOf("memo", "", ++nonce_), {writer_}));
      ASSERT_TRUE(r.status.ok()) << r.status;
    }
  }
  BackupInfo Backup(const std::string& backup_dir) {
    auto made = CreateBackup(*store_, backup_dir);
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? *made : BackupInfo{};
  }
  std::string CheckpointNote() const { return ledger_->LatestCheckpoint().note(); }
  std::string LogKey() const { return ledger_->verifier_key(); }
  Ledger& ledger() { return *ledger_; }

 private:
  PrivateKey authority_;
  PrivateKey writer_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  std::shared_ptr<RocksStore> store_;
  std::unique_ptr<Ledger> ledger_;
  uint64_t nonce_ = 0;
};

class BackupTest : public ::testing::Test {
 protected:
  RestoreOptions Options(const std::string& note, const std::string& key) {
    RestoreOptions options;
    options.backup_dir = backups_;
    options.data_dir = target_;
    options.checkpoint_note = note;
    options.log_key = key;
    return options;
  }

  // Refused with `code` and `words`, and nothing left behind beside the target.
  void ExpectRefused(const RestoreOptions& options, absl::StatusCode code,
                     const std::string& words) {
    auto report = RestoreLedger(options);
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.status().code(), code) << report.status();
    EXPECT_NE(report.status().message().find(words), std::string::npos) << report.status();
    EXPECT_FALSE(fs::exists(target_));
    for (const auto& e : fs::directory_iterator(dir_.path())) {
      EXPECT_EQ(e.path().filename().string().find(".restoring"), std::string::npos)
          << "scratch folder left behind: " << e.path();
    }
  }

  TempDir dir_;
  const std::string backups_ = dir_.Sub("backups");
  const std::string target_ = dir_.Sub("restored");
  PrivateKey authority_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
};

TEST_F(BackupTest, LiveBackupRestoresReopensWritesAndAudits) {
  std::string note, key;
  {
    LiveLedger live(dir_.Sub("data"), "veta.test/backup", authority_);
    live.Write(10);
    note = live.CheckpointNote();
    key = live.LogKey();
    const BackupInfo first = live.Backup(backups_);
    EXPECT_EQ(first.id, 1u);
    EXPECT_EQ(first.entries_at_least, 12u);  // genesis, key registration, 10 memos
    live.Write(5);
    const BackupInfo second = live.Backup(backups_);  // incremental: shares the table files
    EXPECT_EQ(second.id, 2u);
    EXPECT_EQ(second.entries_at_least, 17u);
  }
  auto list = ListBackups(backups_);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, 1u);
  EXPECT_EQ((*list)[1].entries_at_least, 17u);
  EXPECT_TRUE(VerifyBackup(backups_, 0).ok());

  // The newest backup holds the checkpoint of 12 entries and grows past it.
  auto report = RestoreLedger(Options(note, key));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->backup_id, 2u);
  EXPECT_EQ(report->entries, 17u);
  EXPECT_EQ(report->checkpoint_size, 12u);
  EXPECT_EQ(report->origin, "veta.test/backup");
  EXPECT_TRUE(report->audited);
  EXPECT_FALSE(report->older_than_checkpoint);

  // The restored ledger opens with the authority key, takes new entries, and audits clean.
  {
    LedgerOptions options;
    options.data_dir = target_;
    auto ledger = Ledger::Open(options, authority_);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    EXPECT_EQ((*ledger)->size(), 17u);
    const SubmitResult r = (*ledger)->SubmitAndWait(payloads::Sign(
        kKeyRegistrationType,
        payloads::KeyRegistrationOf(PrivateKey::Generate(KeyAlgorithm::kEd25519)->public_key(),
                                    "after restore"),
        {authority_}));
    EXPECT_TRUE(r.status.ok()) << r.status;
    (*ledger)->Close();
  }
  const AuditReport audit = AuditLedger(target_, nullptr, {note});
  EXPECT_TRUE(audit.status.ok()) << audit.status;
  EXPECT_EQ(audit.entries, 18u);

  // A second restore into a folder that now holds a ledger is refused.
  auto again = RestoreLedger(Options(note, key));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists) << again.status();
}

TEST_F(BackupTest, BackupShorterThanTheCheckpointIsRefusedUnlessAllowed) {
  std::string note, key;
  {
    LiveLedger live(dir_.Sub("data"), "veta.test/backup", authority_);
    live.Write(3);
    live.Backup(backups_);  // 5 entries
    live.Write(4);
    note = live.CheckpointNote();  // 9 entries, witnessed
    key = live.LogKey();
  }
  ExpectRefused(Options(note, key), absl::StatusCode::kFailedPrecondition,
                "entries 5..8 witnessed but missing from the backup");
  RestoreOptions older = Options(note, key);
  older.allow_older = true;
  auto report = RestoreLedger(older);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->older_than_checkpoint);
  EXPECT_EQ(report->entries, 5u);
  EXPECT_TRUE(AuditLedger(target_).status.ok());
}

TEST_F(BackupTest, ForeignAndForkedBackupsAreRefused) {
  std::string note, key;
  {
    LiveLedger mine(dir_.Sub("mine"), "veta.test/backup", authority_);
    mine.Write(4);
    note = mine.CheckpointNote();
    key = mine.LogKey();
  }
  {
    // Another log altogether: another origin and key.
    LiveLedger other(dir_.Sub("other"), "veta.test/other",
                     *PrivateKey::Generate(KeyAlgorithm::kEd25519));
    other.Write(6);
    other.Backup(backups_);
  }
  ExpectRefused(Options(note, key), absl::StatusCode::kFailedPrecondition,
                "backup inconsistent with the checkpoint: the backup is of log veta.test/other");
  fs::remove_all(backups_);
  {
    // The same log's origin and key, another history (a fork, or a copy rewritten by someone
    // holding the key): its tree at the checkpoint's size has another root.
    LiveLedger fork(dir_.Sub("fork"), "veta.test/backup", authority_);
    fork.Write(6);
    fork.Backup(backups_);
  }
  ExpectRefused(Options(note, key), absl::StatusCode::kFailedPrecondition,
                "backup inconsistent with the checkpoint: the backup's first 6 entries have root");
}

TEST_F(BackupTest, DamagedBackupOrBadCheckpointIsRefused) {
  std::string note, key;
  {
    LiveLedger live(dir_.Sub("data"), "veta.test/backup", authority_);
    live.Write(20);
    note = live.CheckpointNote();
    key = live.LogKey();
    live.Backup(backups_);
  }
  // A checkpoint whose text was altered, or checked with another key, does not verify.
  std::string altered = note;
  altered[altered.find('\n') + 1] ^= 1;  // the tree size's first digit
  ExpectRefused(Options(altered, key), absl::StatusCode::kUnauthenticated, "does not verify");
  const std::string stranger = *note::VerifierKey(
      "veta.test/backup", PrivateKey::Generate(KeyAlgorithm::kEd25519)->public_key());
  ExpectRefused(Options(note, stranger), absl::StatusCode::kUnauthenticated, "does not verify");
  // The cosignature hook refuses (a witness policy not met).
  RestoreOptions policy = Options(note, key);
  policy.check_cosignatures = [](std::string_view) {
    return absl::UnauthenticatedError("1 of 2 witnesses cosigned; the policy needs 2");
  };
  ExpectRefused(policy, absl::StatusCode::kUnauthenticated, "the policy needs 2");

  // One byte of the largest backed-up file flipped: the checksums catch it before a restore.
  fs::path largest;
  uintmax_t largest_size = 0;
  for (const auto& e : fs::recursive_directory_iterator(backups_)) {
    if (e.is_regular_file() && e.path().parent_path().filename() != "meta" &&
        e.file_size() > largest_size) {
      largest = e.path();
      largest_size = e.file_size();
    }
  }
  ASSERT_GT(largest_size, 0u);
  {
    std::fstream f(largest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(largest_size / 2));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(largest_size / 2));
    f.put(static_cast<char>(c ^ 0x20));
  }
  EXPECT_EQ(VerifyBackup(backups_, 0).code(), absl::StatusCode::kDataLoss);
  ExpectRefused(Options(note, key), absl::StatusCode::kDataLoss, "is damaged");
  // Nothing there at all.
  RestoreOptions none = Options(note, key);
  none.backup_dir = dir_.Sub("nowhere");
  ExpectRefused(none, absl::StatusCode::kNotFound, "no backups in");
}

}  // namespace
}  // namespace veta
