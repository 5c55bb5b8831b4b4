// The storage layer's interface: an ordered key-value store of named families, written in
// atomic batches, read directly or through a snapshot. Nothing above this layer knows which
// engine holds the bytes: RocksStore (rocks_store.h) is the ledger's, on disk; MemoryStore
// (memory_store.h) holds the same families in memory, for the rules' tests and for any
// embedding that needs no disk. What each family holds, key by key, is in schema.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/verify/merkle.h"

namespace veta {

// The families of the ledger's store (schema.h says what each holds).
enum class Family : uint8_t {
  kMeta,
  kEntries,
  kLeaves,
  kStatements,
  kTree,
  kCheckpoints,
  kKeys,
  kRegistry,
  kState,
  kAttempts,
  kEvidence,
};
inline constexpr size_t kFamilyCount = 11;
// "default", "entries", ...: the names the families have on disk.
std::string_view FamilyName(Family family);

// What Store::VerifyStorage read.
struct StorageReport {
  uint64_t table_files = 0;                 // block checksums verified
  uint64_t table_files_whole_checksum = 0;  // whole-file crc32c verified too
  // Table files whose footer, index and meta blocks were checked before RocksDB opened them,
  // and those it could not check so (blocks not crc32c-checksummed: tables written before).
  uint64_t table_files_prechecked = 0;
  uint64_t table_files_not_prechecked = 0;
  uint64_t log_files = 0;       // MANIFEST and WAL files, every record checked
  uint64_t digested_files = 0;  // OPTIONS and IDENTITY files against their digests
  // Log files whose last record was cut by the end of the file (a write interrupted by a
  // crash, which RocksDB also ignores); a record whose length was altered is not counted here
  // but refused.
  uint64_t torn_tails = 0;
};

// A position in one family, in key order. Keys and values stay valid until the cursor moves.
class Cursor {
 public:
  virtual ~Cursor() = default;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  // The first key >= `key`.
  virtual void Seek(std::string_view key) = 0;
  // The last key <= `key`.
  virtual void SeekForPrev(std::string_view key) = 0;
  virtual void Next() = 0;
  virtual void Prev() = 0;
  [[nodiscard]] virtual bool Valid() const = 0;
  [[nodiscard]] virtual std::string_view key() const = 0;
  [[nodiscard]] virtual std::string_view value() const = 0;
  // Not OK when the storage failed under the cursor (then Valid() is false).
  [[nodiscard]] virtual absl::Status status() const = 0;
};

// Reads, of the store as it stands or of one snapshot of it. Thread-safe.
class Reader {
 public:
  virtual ~Reader() = default;
  // NotFound when absent; Unavailable or DataLoss when the storage fails.
  [[nodiscard]] virtual absl::StatusOr<std::string> Get(Family family,
                                                        std::string_view key) const = 0;
  [[nodiscard]] virtual std::unique_ptr<Cursor> NewCursor(Family family) const = 0;
  // Get of each key, answered in the keys' order: one call for many point reads (RocksStore
  // asks each table file once for all of them). This default asks Get for each.
  [[nodiscard]] virtual std::vector<absl::StatusOr<std::string>> MultiGet(
      Family family, const std::vector<std::string_view>& keys) const;

  // Number of entries: one past the last sequence in `entries`.
  [[nodiscard]] absl::StatusOr<uint64_t> EntryCount() const;
  // The newest checkpoint note; NotFound when there is none.
  [[nodiscard]] absl::StatusOr<std::string> LatestCheckpointNote() const;
  // The sequence of the entry, among the first `size`, whose leaf hash is `leaf_hash`: its row
  // is looked for in each bucket of the leaves family, newest first. NotFound when none.
  [[nodiscard]] absl::StatusOr<uint64_t> FindLeaf(std::string_view leaf_hash, uint64_t size) const;
};

// Puts to apply together: all of them or none.
class Batch {
 public:
  virtual ~Batch() = default;
  virtual void Put(Family family, std::string_view key, std::string_view value) = 0;
  virtual void Delete(Family family, std::string_view key) = 0;
  [[nodiscard]] virtual size_t Count() const = 0;
};

class Store : public Reader {
 public:
  [[nodiscard]] virtual std::unique_ptr<Batch> NewBatch() const = 0;
  // Applies a batch of this store's atomically; `sync`: durable when it returns.
  [[nodiscard]] virtual absl::Status Write(Batch& batch, bool sync) = 0;
  // Reads bound to the store as it is now, unaffected by later writes.
  [[nodiscard]] virtual std::unique_ptr<Reader> Snapshot() const = 0;
  // Makes everything written durable without a log to replay (a clean shutdown).
  [[nodiscard]] virtual absl::Status FlushAll() = 0;
  // Checks every byte the engine keeps against its checksums (RocksStore: see there).
  // DataLoss naming what is damaged.
  [[nodiscard]] virtual absl::Status VerifyStorage(StorageReport* report) const = 0;
};

// Adds what was being done to a storage error's message.
[[nodiscard]] absl::Status Annotate(const absl::Status& status, std::string_view what);

// merkle::NodeReader over the `tree` family.
class StoreNodeReader final : public merkle::NodeReader {
 public:
  explicit StoreNodeReader(const Reader& store) : store_(store) {}
  absl::StatusOr<Hash> GetNode(uint32_t level, uint64_t index) const override;

 private:
  const Reader& store_;
};

}  // namespace veta
