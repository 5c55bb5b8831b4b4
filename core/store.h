// The ledger's RocksDB schema. One column family per kind of record; every record of one
// append is written in the same WriteBatch, so a crash leaves all of an entry or none of it.
//
//   column family  key                              value
//   default        "format"                         "veta-ledger-v3"
//                  "file/" name                     SHA-256 of a file RocksDB keeps no checksum
//                                                   of (OPTIONS-*, IDENTITY), as RocksDB left it
//                                                   at the last read-write open
//   entries        sequence (8 bytes, big-endian)   the entry bytes (veta.v1.Entry)
//   leaves         leaf hash (32 bytes)             sequence (8 bytes, big-endian)
//   statements     SHA-256(PAE) (32 bytes)          sequence: refuses a replayed envelope
//   tree           end leaf (8, BE) || level (1)    node hash (32 bytes); end = (index+1) << level
//   checkpoints    tree size (8, BE)                the signed note
//   keys           key id (64 hex chars)            sequence of its registration (8, BE)
//   registry       kind (1) || id || 0 || seq (BE)  a registry record version (RegistryRecord)
//   state          "L" lot id                       the lot as it stands (Lot), with its inputs
//                  "C" kind id "/" day              grams of ore that day (EncodeI64): U unit,
//                                                   S selector, P plant (ore processed)
//                  "T" seller id ("g:" for gold)    the seller's sale count and quantity sold
//                                                   (g of ore, mg of gold): EncodeSellerStats
//                  "D" parent lot 0 child lot       creating entry (8, BE): lineage edges
//                  "N" unit 0 lot                   extraction entry: the lots of a unit
//                  "H" holder 0 lot                 creating entry: the lots of a party
//                  "V" corrected entry (8, BE)      the correction that voided it
//   attempts       attempt number (8, BE)           a refused submission (Attempt), hash-chained
//   evidence       "A" p|u|r key 0 number           indexes of attempts by party, unit, refusal
//                                                   (AttemptIndexKeys; empty values)
//                  "f" seq || i                     a red flag raised on entry seq (Flag)
//                  "F" p|u key 0 seq || i           index of flags by party and unit
//
// Big-endian numbers keep RocksDB's byte order equal to numeric order.
//
// Every byte on disk is checked by something: table files by their block checksums and by a
// whole-file crc32c recorded in the MANIFEST (Store::Open sets the factory), the MANIFEST and
// the WAL by their record checksums, OPTIONS and IDENTITY by the digests above, CURRENT by
// RocksDB when it opens the database (Store::VerifyStorage runs all of these).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/merkle.h"
#include "rocksdb/db.h"
#include "veta/v1/registry.pb.h"

namespace veta {

inline constexpr std::string_view kFormatKey = "format";
// v2: statements keyed by SHA-256(PAE) alone; registry records name the version they replace.
// v3: integer units (grams of ore, milligrams of gold, ppb grades, céntimos); counters in a
// fixed byte order.
inline constexpr std::string_view kFormatValue = "veta-ledger-v3";

std::string EncodeU64(uint64_t v);
// False unless exactly 8 bytes.
bool DecodeU64(std::string_view bytes, uint64_t* v);
// A signed counter: 8 bytes, big-endian two's complement.
std::string EncodeI64(int64_t v);
// DataLoss unless exactly 8 bytes; `what` names the value in the message.
absl::StatusOr<int64_t> DecodeI64(std::string_view bytes, std::string_view what = "a counter");
// A seller's statistics: the number of sales and the quantity sold, two EncodeI64 (16 bytes).
std::string EncodeSellerStats(int64_t sales, int64_t quantity);
// DataLoss unless exactly 16 bytes.
absl::Status DecodeSellerStats(std::string_view bytes, int64_t* sales, int64_t* quantity);
std::string NodeKey(uint32_t level, uint64_t index);

// The `evidence` rows that index a refused attempt (empty values): "Ap" party 0 number for
// each party, "Au" unit 0 number when it names a unit, "Ar" refusal name 0 number. The one
// definition of those keys: the ledger writes them, the audit rebuilds them. A key may repeat
// when a party is named twice.
std::vector<std::string> AttemptIndexKeys(const veta::v1::Attempt& attempt);

// Rows of the default family that hold file digests ("file/" name).
inline constexpr std::string_view kFileDigestPrefix = "file/";

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

// Turns a RocksDB status into an absl::Status with context.
absl::Status FromRocks(const rocksdb::Status& s, std::string_view what);

// An open RocksDB with the ledger's column families. Thread-safe as rocksdb::DB is.
class Store {
 public:
  enum class Mode { kCreate, kReadWrite, kReadOnly };
  // `env`: the storage to use (tests inject faults through it); null means the default.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path, Mode mode,
                                                     rocksdb::Env* env = nullptr);
  ~Store();

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* meta() const { return handles_[0]; }
  rocksdb::ColumnFamilyHandle* entries() const { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* leaves() const { return handles_[2]; }
  rocksdb::ColumnFamilyHandle* statements() const { return handles_[3]; }
  rocksdb::ColumnFamilyHandle* tree() const { return handles_[4]; }
  rocksdb::ColumnFamilyHandle* checkpoints() const { return handles_[5]; }
  rocksdb::ColumnFamilyHandle* keys() const { return handles_[6]; }
  rocksdb::ColumnFamilyHandle* registry() const { return handles_[7]; }
  rocksdb::ColumnFamilyHandle* state() const { return handles_[8]; }
  rocksdb::ColumnFamilyHandle* attempts() const { return handles_[9]; }
  rocksdb::ColumnFamilyHandle* evidence() const { return handles_[10]; }

  // NotFound when absent.
  absl::StatusOr<std::string> Get(rocksdb::ColumnFamilyHandle* cf, std::string_view key) const;
  // Number of entries: one past the last sequence in `entries`.
  absl::StatusOr<uint64_t> EntryCount() const;
  // Flushes every column family's memtable to disk (used at a clean shutdown).
  absl::Status FlushAll();
  // The newest checkpoint note; NotFound when there is none.
  absl::StatusOr<std::string> LatestCheckpointNote() const;

  // Checks every byte of the database's files that RocksDB would otherwise trust or skip:
  // every block checksum of every table file (filters, indexes, properties included), the
  // whole-file checksums the MANIFEST records (footer padding included), every record of the
  // MANIFEST and WAL files (checksums, lengths, padding), and OPTIONS and IDENTITY against
  // the digests recorded at the last read-write open. DataLoss naming the file otherwise.
  absl::Status VerifyStorage(StorageReport* report) const;

  // Before a database is opened: the footer, index block and meta blocks (filters, properties)
  // of every table file in the folder `path`, against their crc32c, because RocksDB parses a
  // table's properties block before it checks it, and a corrupted one can stop the process.
  // DataLoss naming the file (which may also be the leftover of a crash, not yet removed).
  static absl::Status PrecheckTableFiles(const std::string& path, StorageReport* report);

 private:
  Store() = default;
  // Records the digests of the files RocksDB wrote at open without a checksum.
  absl::Status RecordFileDigests();

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::string path_;
  rocksdb::Env* env_ = nullptr;
};

// merkle::NodeReader over the `tree` column family.
class StoreNodeReader final : public merkle::NodeReader {
 public:
  explicit StoreNodeReader(const Store& store) : store_(store) {}
  absl::StatusOr<Hash> GetNode(uint32_t level, uint64_t index) const override;

 private:
  const Store& store_;
};

}  // namespace veta
