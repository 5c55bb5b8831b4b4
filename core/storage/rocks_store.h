// The ledger's store on RocksDB: one column family per Family, every batch one WriteBatch
// (a crash leaves all of an entry or none of it). The only code that includes RocksDB.
//
// Every byte on disk is checked by something: table files by their block checksums and by a
// whole-file crc32c recorded in the MANIFEST (Open sets the factory), the MANIFEST and the
// WAL by their record checksums, OPTIONS and IDENTITY by digests kept in the default family,
// CURRENT by RocksDB when it opens the database (VerifyStorage runs all of these).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/storage/store.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class Env;
class Status;
}  // namespace rocksdb

namespace veta {

// Turns a RocksDB status into an absl::Status with context.
[[nodiscard]] absl::Status FromRocks(const rocksdb::Status& s, std::string_view what);

class RocksStore final : public Store {
 public:
  enum class Mode { kCreate, kReadWrite, kReadOnly };
  // `env`: the storage to use (tests inject faults through it); null means the default.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RocksStore>> Open(
      const std::string& path, Mode mode, rocksdb::Env* env = nullptr);
  ~RocksStore() override;

  absl::StatusOr<std::string> Get(Family family, std::string_view key) const override;
  std::vector<absl::StatusOr<std::string>> MultiGet(
      Family family, const std::vector<std::string_view>& keys) const override;
  std::unique_ptr<Cursor> NewCursor(Family family) const override;
  std::unique_ptr<Batch> NewBatch() const override;
  [[nodiscard]] absl::Status Write(Batch& batch, bool sync) override;
  std::unique_ptr<Reader> Snapshot() const override;
  [[nodiscard]] absl::Status FlushAll() override;

  // Checks every byte of the database's files that RocksDB would otherwise trust or skip:
  // every block checksum of every table file (filters, indexes, properties included), the
  // whole-file checksums the MANIFEST records (footer padding included), every record of the
  // MANIFEST and WAL files (checksums, lengths, padding), and OPTIONS and IDENTITY against
  // the digests recorded at the last read-write open. DataLoss naming the file otherwise.
  [[nodiscard]] absl::Status VerifyStorage(StorageReport* report) const override;

  // Before a database is opened: the footer, index block and meta blocks (filters, properties)
  // of every table file in the folder `path`, against their crc32c, because RocksDB parses a
  // table's properties block before it checks it, and a corrupted one can stop the process.
  // DataLoss naming the file (which may also be the leftover of a crash, not yet removed).
  [[nodiscard]] static absl::Status PrecheckTableFiles(const std::string& path,
                                                       StorageReport* report);

  // For the storage layer's own tests (fault injection, compaction): the engine itself.
  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* handle(Family family) const {
    return handles_[static_cast<size_t>(family)];
  }

 private:
  RocksStore() = default;
  // Records the digests of the files RocksDB wrote at open without a checksum.
  [[nodiscard]] absl::Status RecordFileDigests();

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::string path_;
  rocksdb::Env* env_ = nullptr;
};

}  // namespace veta
