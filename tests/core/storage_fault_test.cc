// Storage faults: a write that fails (disk full) makes the ledger refuse writes with
// UNAVAILABLE and a clear message; nothing answered is lost and nothing half-written is
// served, before or after a restart.
#include <atomic>

#include "core/log/ledger.h"
#include "core/read/audit.h"
#include "core/storage/rocks_store.h"
#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "tests/core/test_util.h"

namespace veta {
namespace {

using veta::testing::TempDir;

// A file system whose writes and syncs fail with "no space" once `full` is set.
class FullDisk final : public rocksdb::FileSystemWrapper {
 public:
  explicit FullDisk(std::shared_ptr<rocksdb::FileSystem> base) : FileSystemWrapper(base) {}
  const char* Name() const override { return "FullDisk"; }
  std::atomic<bool> full{false};

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    auto s = target()->NewWritableFile(f, o, r, dbg);
    if (s.ok()) r->reset(new File(std::move(*r), &full));
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override {
    auto s = target()->ReuseWritableFile(f, old, o, r, dbg);
    if (s.ok()) r->reset(new File(std::move(*r), &full));
    return s;
  }

 private:
  class File final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> t, std::atomic<bool>* full)
        : FSWritableFileOwnerWrapper(std::move(t)), full_(full) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      if (*full_) return rocksdb::IOStatus::NoSpace("injected: the disk is full");
      return FSWritableFileOwnerWrapper::Append(d, o, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& d, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& v,
                             rocksdb::IODebugContext* dbg) override {
      if (*full_) return rocksdb::IOStatus::NoSpace("injected: the disk is full");
      return FSWritableFileOwnerWrapper::Append(d, o, v, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (*full_) return rocksdb::IOStatus::NoSpace("injected: the disk is full");
      return FSWritableFileOwnerWrapper::Sync(o, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (*full_) return rocksdb::IOStatus::NoSpace("injected: the disk is full");
      return FSWritableFileOwnerWrapper::Fsync(o, dbg);
    }

   private:
    std::atomic<bool>* full_;
  };
};

TEST(StorageFaultTest, AFullDiskStopsWritesAndLosesNothing) {
  TempDir dir;
  PrivateKey authority = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  ASSERT_TRUE(Ledger::Create(dir.path(), "veta.test/fault", authority, "").ok());
  auto disk = std::make_shared<FullDisk>(rocksdb::FileSystem::Default());
  LedgerOptions options;
  options.data_dir = dir.path();
  options.checkpoint_interval = std::chrono::milliseconds(0);
  options.env = std::shared_ptr<rocksdb::Env>(rocksdb::NewCompositeEnv(disk).release());
  auto ledger = *Ledger::Open(options, authority);
  auto memo = [&](int i) {
    veta::v1::KeyRegistration reg;  // any authority-signed entry will do
    *reg.mutable_key() = PrivateKey::Generate(KeyAlgorithm::kEd25519)->public_key().ToProto();
    reg.set_holder("k" + std::to_string(i));
    return SignEnvelope(kKeyRegistrationType, reg.SerializeAsString(), {authority})
        ->SerializeAsString();
  };
  std::vector<SubmitResult> answered;
  for (int i = 0; i < 5; ++i) {
    answered.push_back(ledger->SubmitAndWait(memo(i)));
    ASSERT_TRUE(answered.back().status.ok());
  }
  const uint64_t size = ledger->size();
  disk->full = true;
  SubmitResult failed = ledger->SubmitAndWait(memo(100));
  EXPECT_EQ(failed.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(
      std::string(failed.status.message()).find("stopped accepting writes after a storage error"),
      std::string::npos)
      << failed.status;
  disk->full = false;  // even with space back, the ledger stays stopped until restarted
  SubmitResult after = ledger->SubmitAndWait(memo(101));
  EXPECT_EQ(after.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ledger->size(), size);  // nothing half-written is served
  EXPECT_EQ(ledger->GetEntry(size).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(ledger->GetEntry(size - 1).ok());  // reads go on
  ledger->Close();
  ledger.reset();

  // A restart on a healthy disk: every answered entry is there, the failed one is not.
  options.env = nullptr;
  ledger = *Ledger::Open(options, authority);
  EXPECT_EQ(ledger->size(), size);
  for (const auto& a : answered) {
    auto bytes = ledger->GetEntry(a.sequence);
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(merkle::HashLeaf(*bytes), a.leaf_hash);
  }
  EXPECT_TRUE(ledger->SubmitAndWait(memo(200)).status.ok());
  ledger->Close();
  ledger.reset();
  AuditReport report = AuditLedger(dir.path());
  EXPECT_TRUE(report.status.ok()) << report.status;
}

}  // namespace
}  // namespace veta
