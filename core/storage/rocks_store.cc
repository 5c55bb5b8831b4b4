#include "core/storage/rocks_store.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <set>
#include <string_view>

#include "core/base/check.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/storage/schema.h"
#include "core/verify/sha256.h"
#include "rocksdb/db.h"
#include "rocksdb/file_checksum.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/sst_partitioner.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace veta {
namespace {

// RocksDB's log format (db/log_format.h), used by the MANIFEST and the WAL: 32 KiB blocks of
// records, each a 7-byte header (masked crc32c of type and payload, 2-byte length, type) and a
// payload; a block's last < 7 bytes are zeros. Records never cross a block.
constexpr size_t kLogBlockSize = 32768;
constexpr size_t kLogHeaderSize = 7;
enum LogRecordType : uint8_t { kZero = 0, kFull = 1, kFirst = 2, kMiddle = 3, kLast = 4 };
constexpr uint8_t kSetCompressionType = 9;

// CRC-32C (Castagnoli), reflected, as RocksDB computes it.
uint32_t Crc32cExtend(uint32_t crc, std::string_view data) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (unsigned char b : data) crc = table[(crc ^ b) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint32_t UnmaskCrc(uint32_t masked) {
  const uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

struct LogState {
  bool in_fragment = false;
  bool any_record = false;
  bool torn = false;  // the file ended inside a record; the rest is ignored
};

bool AllZero(std::string_view bytes) {
  for (char c : bytes) {
    if (c != 0) return false;
  }
  return true;
}

// Checks one block (at most 32 KiB, at `offset` in the file) of a log file; `last`: the file
// ends in this block. Every byte must belong to a record whose checksum holds, or be a block's
// zero padding. A record cut by the end of the file is a write a crash interrupted (RocksDB
// ignores it, and so does this check), unless a shorter length makes its checksum hold: then
// its length was altered, and the record RocksDB would silently drop is reported.
absl::Status VerifyLogBlock(const std::string& name, std::string_view block, uint64_t offset,
                            bool last, LogState* state) {
  auto bad = [&](size_t pos, std::string_view what) {
    return absl::DataLossError(StrCat(name, ": ", what, " at byte ", offset + pos));
  };
  size_t pos = 0;
  while (pos < block.size() && !state->torn) {
    const size_t left = block.size() - pos;
    if (kLogBlockSize - pos < kLogHeaderSize) {  // the block's trailer
      if (!AllZero(block.substr(pos)))
        return bad(pos, "the padding at the end of a block is not zero");
      break;
    }
    if (left < kLogHeaderSize) {  // only in the last block: a header cut by the end of the file
      state->torn = true;
      break;
    }
    const auto* h = reinterpret_cast<const unsigned char*>(block.data() + pos);
    const uint32_t masked = static_cast<uint32_t>(h[0]) | static_cast<uint32_t>(h[1]) << 8 |
                            static_cast<uint32_t>(h[2]) << 16 | static_cast<uint32_t>(h[3]) << 24;
    const size_t length = static_cast<size_t>(h[4]) | static_cast<size_t>(h[5]) << 8;
    const uint8_t type = h[6];
    if (type == kZero && length == 0 && masked == 0 && last && AllZero(block.substr(pos))) {
      state->torn = true;  // zeros up to the end: space allocated but never written
      break;
    }
    if (kLogHeaderSize + length > kLogBlockSize - pos) {
      return bad(pos, "a record's length runs past its block");
    }
    const uint32_t expected = UnmaskCrc(masked);
    if (kLogHeaderSize + length > left) {  // only in the last block: cut by the end of the file
      const std::string_view typed = block.substr(pos + kLogHeaderSize - 1);
      uint32_t crc = Crc32cExtend(0, typed.substr(0, 1));
      for (size_t n = 1; n <= typed.size(); ++n) {
        if (n > 1) crc = Crc32cExtend(crc, typed.substr(n - 1, 1));
        if (crc == expected) {
          return bad(pos, "a record's length was altered (RocksDB would drop the record)");
        }
      }
      state->torn = true;
      break;
    }
    const std::string_view typed = block.substr(pos + kLogHeaderSize - 1, length + 1);
    if (Crc32cExtend(0, typed) != expected) return bad(pos, "a record fails its checksum");
    switch (type) {
      case kFull:
      case kFirst:
        if (state->in_fragment) return bad(pos, "a record starts inside another");
        state->in_fragment = type == kFirst;
        break;
      case kMiddle:
      case kLast:
        if (!state->in_fragment) return bad(pos, "a record continues nothing");
        state->in_fragment = type == kMiddle;
        break;
      case kSetCompressionType:
        if (state->any_record) return bad(pos, "a compression record is not the first");
        break;
      default:
        return bad(pos, StrCat("a record has an unexpected type ", static_cast<int>(type)));
    }
    state->any_record = true;
    pos += kLogHeaderSize + length;
  }
  return absl::OkStatus();
}

// Checks a whole MANIFEST or WAL file, block by block.
absl::Status VerifyLogFile(rocksdb::Env* env, const std::string& path, const std::string& name,
                           StorageReport* report) {
  uint64_t size = 0;
  RETURN_IF_ERROR(FromRocks(env->GetFileSize(path, &size), StrCat("size of ", name)));
  std::unique_ptr<rocksdb::SequentialFile> file;
  RETURN_IF_ERROR(
      FromRocks(env->NewSequentialFile(path, &file, rocksdb::EnvOptions()), StrCat("open ", name)));
  std::string scratch(kLogBlockSize, '\0');
  LogState state;
  for (uint64_t offset = 0; offset < size && !state.torn; offset += kLogBlockSize) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kLogBlockSize, size - offset));
    rocksdb::Slice got;
    RETURN_IF_ERROR(FromRocks(file->Read(want, &got, scratch.data()), StrCat("read ", name)));
    if (got.size() != want) {
      return absl::UnavailableError(StrCat(name, " ended early while it was read"));
    }
    RETURN_IF_ERROR(
        VerifyLogBlock(name, got.ToStringView(), offset, offset + want == size, &state));
  }
  if (state.in_fragment) state.torn = true;  // the last record's end was never written
  if (state.torn) ++report->torn_tails;
  ++report->log_files;
  return absl::OkStatus();
}

// Block-based table files (table/format.cc, format_version 1 to 5): a 53-byte footer (checksum
// type, metaindex and index handles as varints in 40 bytes padded with zeros, format version,
// magic number); each block followed by a compression type byte and a checksum of the block
// and that byte. The metaindex block names the meta blocks (filter, properties, ...).
constexpr size_t kFooterSize = 53;
constexpr uint64_t kTableMagic = 0x88e241b785f4cff7ull;
constexpr size_t kBlockTrailerSize = 5;

uint32_t Fixed32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) | static_cast<uint32_t>(u[1]) << 8 |
         static_cast<uint32_t>(u[2]) << 16 | static_cast<uint32_t>(u[3]) << 24;
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    const auto b = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// Reads the block at (offset, size) with its trailer and checks its crc32c.
absl::Status ReadTableBlock(rocksdb::RandomAccessFile* file, const std::string& name,
                            uint64_t file_size, uint64_t offset, uint64_t size,
                            std::string_view what, std::string* block) {
  if (offset > file_size || size > file_size - offset ||
      file_size - offset - size < kBlockTrailerSize + kFooterSize) {
    return absl::DataLossError(StrCat(name, ": the ", what, " block lies outside the file"));
  }
  std::string scratch(size + kBlockTrailerSize, '\0');
  rocksdb::Slice got;
  RETURN_IF_ERROR(
      FromRocks(file->Read(offset, scratch.size(), &got, scratch.data()), StrCat("read ", name)));
  if (got.size() != scratch.size()) {
    return absl::UnavailableError(StrCat(name, " ended early while it was read"));
  }
  const std::string_view data = got.ToStringView();
  if (UnmaskCrc(Fixed32(data.data() + size + 1)) != Crc32cExtend(0, data.substr(0, size + 1))) {
    return absl::DataLossError(
        StrCat(name, ": the ", what, " block (at byte ", offset, ") fails its checksum"));
  }
  block->assign(data.substr(0, size));
  return absl::OkStatus();
}

// Checks a table file's footer and the checksums of its metaindex, index and meta blocks
// (filters, properties, ...) before RocksDB opens it: RocksDB reads the properties block
// before it checks its checksum, and stops the process on some corruptions of it. A file
// whose blocks are not crc32c-checksummed (older tables use XXH3) is counted, not checked
// here; after the open, DB::VerifyChecksum checks every block of every table file.
absl::Status PrecheckTableFile(rocksdb::Env* env, const std::string& path, const std::string& name,
                               StorageReport* report) {
  uint64_t size = 0;
  RETURN_IF_ERROR(FromRocks(env->GetFileSize(path, &size), StrCat("size of ", name)));
  const std::string truncated_or_altered =
      StrCat(name, " does not end with a table footer: truncated (a leftover of a crash: start ",
             "and stop the server once to remove it) or altered");
  if (size < kFooterSize) return absl::DataLossError(truncated_or_altered);
  std::unique_ptr<rocksdb::RandomAccessFile> file;
  RETURN_IF_ERROR(FromRocks(env->NewRandomAccessFile(path, &file, rocksdb::EnvOptions()),
                            StrCat("open ", name)));
  std::string footer(kFooterSize, '\0');
  rocksdb::Slice got;
  RETURN_IF_ERROR(FromRocks(file->Read(size - kFooterSize, kFooterSize, &got, footer.data()),
                            StrCat("read ", name)));
  if (got.size() != kFooterSize) return absl::UnavailableError(StrCat("cannot read ", name));
  const std::string_view f = got.ToStringView();
  const uint64_t magic =
      static_cast<uint64_t>(Fixed32(f.data() + 49)) << 32 | Fixed32(f.data() + 45);
  if (magic != kTableMagic) return absl::DataLossError(truncated_or_altered);
  const uint32_t format_version = Fixed32(f.data() + 41);
  const auto checksum_type = static_cast<unsigned char>(f[0]);
  if (checksum_type == rocksdb::kNoChecksum) {
    // Veta never writes tables without block checksums; RocksDB would read it unchecked.
    return absl::DataLossError(StrCat(name, ": the footer names no block checksum"));
  }
  if (format_version < 1 || format_version > 5 || checksum_type != rocksdb::kCRC32c) {
    ++report->table_files_not_prechecked;  // RocksDB refuses what it does not know
    return absl::OkStatus();
  }
  std::string_view part2 = f.substr(1, 40);
  uint64_t meta_offset = 0, meta_size = 0, index_offset = 0, index_size = 0;
  if (!GetVarint(&part2, &meta_offset) || !GetVarint(&part2, &meta_size) ||
      !GetVarint(&part2, &index_offset) || !GetVarint(&part2, &index_size)) {
    return absl::DataLossError(StrCat(name, ": the footer's block handles do not decode"));
  }
  if (!AllZero(part2))
    return absl::DataLossError(StrCat(name, ": the footer's padding is not zero"));
  std::string block;
  RETURN_IF_ERROR(
      ReadTableBlock(file.get(), name, size, index_offset, index_size, "index", &block));
  RETURN_IF_ERROR(
      ReadTableBlock(file.get(), name, size, meta_offset, meta_size, "metaindex", &block));
  // The metaindex block: entries (shared, unshared and value lengths as varints, the key's new
  // bytes, a block handle), then the restart offsets and their count.
  if (block.size() < 4) return absl::DataLossError(StrCat(name, ": the metaindex block is short"));
  const uint64_t restarts = Fixed32(block.data() + block.size() - 4);
  if (restarts > (block.size() - 4) / 4) {
    return absl::DataLossError(StrCat(name, ": the metaindex block does not decode"));
  }
  std::string_view entries = std::string_view(block).substr(0, block.size() - 4 - 4 * restarts);
  std::string key;
  while (!entries.empty()) {
    uint64_t shared = 0, unshared = 0, value_size = 0;
    if (!GetVarint(&entries, &shared) || !GetVarint(&entries, &unshared) ||
        !GetVarint(&entries, &value_size) || shared > key.size() || unshared > entries.size() ||
        value_size > entries.size() - unshared) {
      return absl::DataLossError(StrCat(name, ": the metaindex block does not decode"));
    }
    key = key.substr(0, shared) + std::string(entries.substr(0, unshared));
    std::string_view value = entries.substr(unshared, value_size);
    entries.remove_prefix(unshared + value_size);
    uint64_t offset = 0, length = 0;
    if (!GetVarint(&value, &offset) || !GetVarint(&value, &length)) {
      return absl::DataLossError(StrCat(name, ": the metaindex block does not decode"));
    }
    std::string meta;
    RETURN_IF_ERROR(ReadTableBlock(file.get(), name, size, offset, length, key, &meta));
  }
  ++report->table_files_prechecked;
  return absl::OkStatus();
}

// Files RocksDB writes at open and never checksums.
bool IsDigestedFile(std::string_view name) {
  return name == "IDENTITY" || (name.substr(0, 8) == "OPTIONS-" &&
                                (name.size() < 6 || name.substr(name.size() - 6) != ".dbtmp"));
}

bool IsLogFile(std::string_view name) {
  return name.substr(0, 9) == "MANIFEST-" ||
         (name.size() > 4 && name.substr(name.size() - 4) == ".log");
}

const std::vector<std::string>& FamilyNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (size_t i = 0; i < kFamilyCount; ++i) n.emplace_back(FamilyName(static_cast<Family>(i)));
    return n;
  }();
  return names;
}

rocksdb::ColumnFamilyOptions FamilyOptions(const std::string& name,
                                           const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // Hash-keyed families are looked up by point reads on the write path: a Bloom filter
  // answers most misses (new statements are mostly misses) without touching the disk.
  if (name == "leaves" || name == "statements" || name == "tree" || name == "keys" ||
      name == "state") {
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  }
  // crc32c block checksums (RocksDB 7.8 defaults to XXH3): the audit checks the footer and
  // meta blocks of every table file itself before RocksDB opens them
  // (RocksStore::PrecheckTableFiles).
  table.checksum = rocksdb::kCRC32c;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  if (name == "leaves" || name == "statements") {
    // Random 32-byte keys: a small memtable keeps skiplist inserts shallow and in cache.
    cf.write_buffer_size = 8 << 20;
  }
  if (name == "leaves") {
    // Keys begin with their bucket (LeafKey): a table file is cut at each new bucket, so a
    // compaction merges new rows only with their own bucket's file, and the files of older
    // buckets, which nothing overlaps again, are moved down the levels without a rewrite.
    // Without the cut, files of 64 MiB spanning many buckets were rewritten again and again
    // (write amplification 8.2 at 10M entries, as much as the unbucketed keys had).
    cf.sst_partitioner_factory = rocksdb::NewSstPartitionerFixedPrefixFactory(kLeafBucketBytes);
  }
  if (name == "statements") {
    // Every entry adds a random key here: with level compaction (RocksDB's default) each
    // flush's few MiB were merged into a whole level again and again, written 11-30 times over
    // (tools/scale-bench.sh with VETA_ROCKSDB_LOG=info: 1.7 GB of compaction for 3M entries),
    // and ingest fell from 22k to 14k entries/s by 10M entries. Universal compaction merges
    // runs of like size, six at a time: each key is written a few times (about 3 at 3M
    // entries). The statement asked for with each submission asks each run's Bloom filter,
    // held in memory: a miss stays cheap with more runs. (The leaves family has the same
    // random hashes, but after their bucket: see LeafKey. Level compaction moves its older
    // buckets down untouched.)
    constexpr int kRuns = 6;
    cf.compaction_style = rocksdb::kCompactionStyleUniversal;
    cf.level0_file_num_compaction_trigger = kRuns;
    cf.compaction_options_universal.min_merge_width = kRuns;
    cf.level0_slowdown_writes_trigger = 4 * kRuns + 8;
    cf.level0_stop_writes_trigger = 6 * kRuns + 16;
  }
  if (name == "statements" || name == "state") {
    // Every submission asks whether its statement is already recorded, every new lot whether
    // its id is taken, and the answer is nearly always no: a memtable Bloom filter answers
    // that without a skiplist search.
    cf.memtable_whole_key_filtering = true;
    cf.memtable_prefix_bloom_size_ratio = 0.05;
  }
  // Each memtable insert starts from the place the last insert of the same first byte ended
  // (in `state`, the same kind of row), searching up only as far as it must: a batch's rows
  // arrive sorted (RocksBatch), so the next is usually near.
  cf.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewCappedPrefixTransform(1));
  cf.compression = rocksdb::kNoCompression;  // hashes and signatures do not compress
  return cf;
}

}  // namespace

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsInvalidArgument()) return absl::FailedPreconditionError(msg);
  return absl::UnavailableError(msg);
}

absl::StatusOr<std::unique_ptr<RocksStore>> RocksStore::Open(const std::string& path, Mode mode,
                                                             rocksdb::Env* env) {
  rocksdb::DBOptions options;
  if (env != nullptr) options.env = env;
  options.create_if_missing = mode == Mode::kCreate;
  options.error_if_exists = mode == Mode::kCreate;
  options.create_missing_column_families = mode != Mode::kReadOnly;  // families added later
  options.paranoid_checks = true;
  options.max_background_jobs = 2;
  // Start-up after a crash replays the WAL into memtables, at the cost of the inserts that wrote
  // it (random-keyed rows: leaves, statements, lots): capping it (RocksDB flushes the memtables
  // holding its oldest records when it grows past this) bounds that replay, whatever was
  // written. 64 MiB let an extraction load leave 78 MiB, replayed in 1.6 s quiet (4.9 s under
  // load); 16 MiB: 0.2-0.3 s. The replayed memtables are not flushed at open either: they stay
  // in memory, with their WAL, until the normal flush (no table writing before serving).
  options.max_total_wal_size = 16 << 20;
  options.avoid_flush_during_recovery = true;
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  // VETA_ROCKSDB_LOG=info: RocksDB's own LOG in the ledger folder with its flushes, compactions
  // and, every minute, its statistics (write amplification, stalls): for diagnosing a slow
  // ledger, never needed to run one.
  if (const char* log = std::getenv("VETA_ROCKSDB_LOG");
      log != nullptr && std::string_view(log) == "info") {
    options.info_log_level = rocksdb::InfoLogLevel::INFO_LEVEL;
    options.stats_dump_period_sec = 60;
  }
  // Every table file written gets a whole-file crc32c in the MANIFEST, which the audit checks
  // (DB::VerifyFileChecksums): it covers the bytes no block checksum does (footer padding).
  options.file_checksum_gen_factory = rocksdb::GetFileChecksumGenCrc32cFactory();
  auto cache = rocksdb::NewLRUCache(64 << 20);
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& name : FamilyNames()) families.emplace_back(name, FamilyOptions(name, cache));

  std::unique_ptr<RocksStore> store(new RocksStore());
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      mode == Mode::kReadOnly
          ? rocksdb::DB::OpenForReadOnly(options, path, families, &store->handles_, &raw)
          : rocksdb::DB::Open(options, path, families, &store->handles_, &raw);
  if (!s.ok()) {
    if (mode != Mode::kCreate && s.IsInvalidArgument() &&
        s.ToString().find("does not exist") != std::string::npos) {
      return absl::NotFoundError(StrCat("no ledger at ", path, " (", s.ToString(), ")"));
    }
    return FromRocks(s, StrCat("cannot open the ledger database at ", path));
  }
  store->db_.reset(raw);
  store->path_ = path;
  store->env_ = options.env != nullptr ? options.env : rocksdb::Env::Default();
  VETA_CHECK(store->handles_.size() == kFamilyCount,
             "one handle per family: handle() indexes them");
  if (mode == Mode::kCreate) {
    RETURN_IF_ERROR(FromRocks(store->db_->Put(rocksdb::WriteOptions(), store->handle(Family::kMeta),
                                              std::string(kFormatKey), std::string(kFormatValue)),
                              "write format marker"));
  } else {
    auto format = store->Get(Family::kMeta, kFormatKey);
    if (format.ok() && format->rfind("veta-ledger-", 0) == 0 && *format != kFormatValue) {
      return absl::FailedPreconditionError(StrCat(
          path, " was written in format ", *format, "; this Veta reads ", kFormatValue,
          " (v2: a statement's identity and registry record versions changed; v3: quantities "
          "are integers: grams of ore, milligrams of gold; v4: the leaf index is kept by "
          "buckets of entries). There is no deployed ledger of an old format to convert: move "
          "its data folder away and create a new ledger; for the demo's, `mv "
          "~/.local/share/veta ~/.local/share/veta.old && bash tools/run.sh` (docs/GUIDE.md: "
          "'An older ledger')"));
    }
    if (!format.ok() || *format != kFormatValue) {
      return absl::FailedPreconditionError(
          StrCat(path, " is not a Veta ledger (format marker missing or unknown)"));
    }
  }
  if (mode != Mode::kReadOnly) RETURN_IF_ERROR(store->RecordFileDigests());
  return store;
}

absl::Status RocksStore::RecordFileDigests() {
  std::vector<std::string> children;
  RETURN_IF_ERROR(FromRocks(env_->GetChildren(path_, &children), "list the database folder"));
  rocksdb::WriteBatch wb;
  std::set<std::string> present;
  for (const auto& name : children) {
    if (!IsDigestedFile(name)) continue;
    std::string bytes;
    RETURN_IF_ERROR(FromRocks(rocksdb::ReadFileToString(env_, StrCat(path_, "/", name), &bytes),
                              StrCat("read ", name)));
    const std::string key = StrCat(kFileDigestPrefix, name);
    RETURN_IF_ERROR(FromRocks(
        wb.Put(handle(Family::kMeta), key, std::string(AsBytes(Sha256Of(bytes)))), "digest"));
    present.insert(key);
  }
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handle(Family::kMeta)));
  for (it->Seek(std::string(kFileDigestPrefix));
       it->Valid() && it->key().starts_with(std::string(kFileDigestPrefix)); it->Next()) {
    if (present.count(it->key().ToString()) == 0) {
      RETURN_IF_ERROR(FromRocks(wb.Delete(handle(Family::kMeta), it->key()), "digest"));
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "scan file digests"));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Write(wo, &wb), "record file digests");
}

absl::Status RocksStore::PrecheckTableFiles(const std::string& path, StorageReport* report) {
  rocksdb::Env* env = rocksdb::Env::Default();
  std::vector<std::string> children;
  RETURN_IF_ERROR(FromRocks(env->GetChildren(path, &children), StrCat("list ", path)));
  std::sort(children.begin(), children.end());
  for (const auto& name : children) {
    if (name.size() > 4 && name.substr(name.size() - 4) == ".sst") {
      RETURN_IF_ERROR(PrecheckTableFile(env, StrCat(path, "/", name), name, report));
    }
  }
  return absl::OkStatus();
}

absl::Status RocksStore::VerifyStorage(StorageReport* report) const {
  // Table files: every block (data, index, filter, properties, metaindex) against its checksum,
  // then every file whole against the crc32c the MANIFEST recorded when it was written.
  RETURN_IF_ERROR(FromRocks(db_->VerifyChecksum(rocksdb::ReadOptions()),
                            "verify the block checksums of the table files"));
  RETURN_IF_ERROR(FromRocks(db_->VerifyFileChecksums(rocksdb::ReadOptions()),
                            "verify the whole-file checksums of the table files"));
  std::vector<rocksdb::LiveFileMetaData> tables;
  db_->GetLiveFilesMetaData(&tables);
  for (const auto& t : tables) {
    ++report->table_files;
    if (t.file_checksum != rocksdb::kUnknownFileChecksum) ++report->table_files_whole_checksum;
  }
  // The MANIFEST and the WAL: every record, every padding byte.
  std::vector<std::string> children;
  RETURN_IF_ERROR(FromRocks(env_->GetChildren(path_, &children), "list the database folder"));
  std::sort(children.begin(), children.end());
  for (const auto& name : children) {
    if (IsLogFile(name))
      RETURN_IF_ERROR(VerifyLogFile(env_, StrCat(path_, "/", name), name, report));
  }
  // OPTIONS and IDENTITY, which RocksDB writes without a checksum, against the digests taken
  // when it wrote them. A ledger never opened for writing by this version has none.
  std::map<std::string, std::string> digests;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handle(Family::kMeta)));
  for (it->Seek(std::string(kFileDigestPrefix));
       it->Valid() && it->key().starts_with(std::string(kFileDigestPrefix)); it->Next()) {
    digests[it->key().ToString().substr(kFileDigestPrefix.size())] = it->value().ToString();
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "scan file digests"));
  if (digests.empty()) return absl::OkStatus();
  for (const auto& name : children) {
    if (IsDigestedFile(name) && digests.count(name) == 0) {
      return absl::DataLossError(StrCat(name, " has no digest recorded at the last start: ",
                                        "the database was opened by another program, or the ",
                                        "file was added"));
    }
  }
  for (const auto& [name, digest] : digests) {
    std::string bytes;
    rocksdb::Status s = rocksdb::ReadFileToString(env_, StrCat(path_, "/", name), &bytes);
    if (s.IsNotFound() || (s.IsIOError() && !env_->FileExists(StrCat(path_, "/", name)).ok())) {
      return absl::DataLossError(StrCat(name, " is missing"));
    }
    RETURN_IF_ERROR(FromRocks(s, StrCat("read ", name)));
    if (AsBytes(Sha256Of(bytes)) != digest) {
      return absl::DataLossError(StrCat(name, " differs from the file RocksDB wrote at the last ",
                                        "start (its SHA-256 is recorded in the database)"));
    }
    ++report->digested_files;
  }
  return absl::OkStatus();
}

RocksStore::~RocksStore() {
  for (auto* h : handles_) {
    if (db_) db_->DestroyColumnFamilyHandle(h);
  }
  if (db_) db_->Close().PermitUncheckedError();
}

namespace {

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

class RocksCursor final : public Cursor {
 public:
  // `snapshot` keeps the snapshot a cursor reads alive (null: the store as it stands).
  RocksCursor(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const rocksdb::Snapshot* snap,
              std::shared_ptr<const void> keep)
      : keep_(std::move(keep)) {
    rocksdb::ReadOptions options;
    options.snapshot = snap;
    it_.reset(db->NewIterator(options, cf));
  }
  void SeekToFirst() override { it_->SeekToFirst(); }
  void SeekToLast() override { it_->SeekToLast(); }
  void Seek(std::string_view key) override { it_->Seek(ToSlice(key)); }
  void SeekForPrev(std::string_view key) override { it_->SeekForPrev(ToSlice(key)); }
  void Next() override { it_->Next(); }
  void Prev() override { it_->Prev(); }
  bool Valid() const override { return it_->Valid(); }
  std::string_view key() const override { return it_->key().ToStringView(); }
  std::string_view value() const override { return it_->value().ToStringView(); }
  absl::Status status() const override { return FromRocks(it_->status(), "read the ledger"); }

 private:
  std::shared_ptr<const void> keep_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

// Rows are staged here and handed to RocksDB at Write, ordered by family and key: a memtable
// insert then starts from where the one before it ended (memtable_insert_with_hint_prefix_
// extractor, FamilyOptions) instead of from the skiplist's top. Most of a batch's rows have
// random keys (leaf hashes, statement hashes, lot ids); inserted in the order they were made,
// each searched the whole skiplist, which was about a seventh of the server's CPU
// (tools/scale-bench.sh, perf). The order is stable, so rows of one key keep theirs.
class RocksBatch final : public Batch {
 public:
  explicit RocksBatch(const RocksStore* store) : store_(store) {}
  void Put(Family family, std::string_view key, std::string_view value) override {
    rows_.push_back({family, false, bytes_.size(), key.size(), value.size()});
    bytes_.append(key).append(value);
  }
  void Delete(Family family, std::string_view key) override {
    rows_.push_back({family, true, bytes_.size(), key.size(), 0});
    bytes_.append(key);
  }
  size_t Count() const override { return rows_.size(); }
  // At least the size of the rows in RocksDB's WriteBatch form (a 12-byte header; per row a tag,
  // a family id and two lengths, each at most 5 bytes): reserved at once, a batch of a thousand
  // entries (about a megabyte) is not copied again at each doubling of its buffer.
  size_t EncodedSizeBound() const { return 12 + bytes_.size() + rows_.size() * 16; }

  // The rows in RocksDB's form; the first error a Put or Delete meets (a key or batch past
  // RocksDB's size limits) refuses the whole batch rather than writing part of it.
  absl::Status Build(rocksdb::WriteBatch* batch) const {
    // By family, then by key where the rows did not come in order already (entries and tree
    // nodes do); stable, so that a key's later row stays later.
    std::array<std::vector<const Row*>, kFamilyCount> families;
    for (const Row& row : rows_) families[static_cast<size_t>(row.family)].push_back(&row);
    const auto by_key = [this](const Row* a, const Row* b) { return Key(*a) < Key(*b); };
    for (auto& rows : families) {
      if (!std::is_sorted(rows.begin(), rows.end(), by_key)) {
        std::stable_sort(rows.begin(), rows.end(), by_key);
      }
    }
    for (const auto& rows : families) {
      for (const Row* row : rows) {
        rocksdb::ColumnFamilyHandle* cf = store_->handle(row->family);
        const rocksdb::Status s = row->erase
                                      ? batch->Delete(cf, ToSlice(Key(*row)))
                                      : batch->Put(cf, ToSlice(Key(*row)), ToSlice(Value(*row)));
        if (!s.ok()) return FromRocks(s, "stage a row");
      }
    }
    return absl::OkStatus();
  }

  const RocksStore* store_;

 private:
  // A row's key, then its value, are in bytes_ from `at` on (one allocation for the batch).
  struct Row {
    Family family;
    bool erase;
    size_t at;
    size_t key_size;
    size_t value_size;
  };
  std::string_view Key(const Row& row) const {
    return std::string_view(bytes_).substr(row.at, row.key_size);
  }
  std::string_view Value(const Row& row) const {
    return std::string_view(bytes_).substr(row.at + row.key_size, row.value_size);
  }
  std::vector<Row> rows_;
  std::string bytes_;
};

absl::StatusOr<std::string> GetFrom(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                                    const rocksdb::Snapshot* snapshot, std::string_view key) {
  rocksdb::ReadOptions options;
  options.snapshot = snapshot;
  std::string value;
  rocksdb::Status s = db->Get(options, cf, ToSlice(key), &value);
  if (s.IsNotFound()) return absl::NotFoundError("not found");
  RETURN_IF_ERROR(FromRocks(s, "read"));
  return value;
}

// A RocksDB snapshot, released when the last reader of it (cursors included) is gone.
struct SnapshotHold {
  SnapshotHold(rocksdb::DB* d) : db(d), snapshot(d->GetSnapshot()) {}
  ~SnapshotHold() { db->ReleaseSnapshot(snapshot); }
  rocksdb::DB* db;
  const rocksdb::Snapshot* snapshot;
};

class RocksSnapshot final : public Reader {
 public:
  explicit RocksSnapshot(const RocksStore* store)
      : store_(store), hold_(std::make_shared<SnapshotHold>(store->db())) {}
  absl::StatusOr<std::string> Get(Family family, std::string_view key) const override {
    return GetFrom(store_->db(), store_->handle(family), hold_->snapshot, key);
  }
  std::unique_ptr<Cursor> NewCursor(Family family) const override {
    return std::make_unique<RocksCursor>(store_->db(), store_->handle(family), hold_->snapshot,
                                         hold_);
  }

 private:
  const RocksStore* store_;
  std::shared_ptr<SnapshotHold> hold_;
};

}  // namespace

absl::StatusOr<std::string> RocksStore::Get(Family family, std::string_view key) const {
  return GetFrom(db_.get(), handle(family), nullptr, key);
}

std::vector<absl::StatusOr<std::string>> RocksStore::MultiGet(
    Family family, const std::vector<std::string_view>& keys) const {
  if (keys.empty()) return {};
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (std::string_view key : keys) slices.push_back(ToSlice(key));
  std::vector<rocksdb::PinnableSlice> found(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), handle(family), keys.size(), slices.data(), found.data(),
                statuses.data());
  std::vector<absl::StatusOr<std::string>> values;
  values.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) {
      values.push_back(absl::NotFoundError("not found"));
    } else if (absl::Status s = FromRocks(statuses[i], "read"); !s.ok()) {
      values.push_back(std::move(s));
    } else {
      values.push_back(found[i].ToString());
    }
  }
  return values;
}

std::unique_ptr<Cursor> RocksStore::NewCursor(Family family) const {
  return std::make_unique<RocksCursor>(db_.get(), handle(family), nullptr, nullptr);
}

std::unique_ptr<Batch> RocksStore::NewBatch() const { return std::make_unique<RocksBatch>(this); }

absl::Status RocksStore::Write(Batch& batch, bool sync) {
  auto* rocks = dynamic_cast<RocksBatch*>(&batch);
  if (rocks == nullptr || rocks->store_ != this) {
    return absl::InternalError("a batch was written to a store that did not make it");
  }
  rocksdb::WriteBatch rows(rocks->EncodedSizeBound());
  RETURN_IF_ERROR(rocks->Build(&rows));
  rocksdb::WriteOptions options;
  options.sync = sync;
  return FromRocks(db_->Write(options, &rows), "write to the ledger database");
}

std::unique_ptr<Reader> RocksStore::Snapshot() const {
  return std::make_unique<RocksSnapshot>(this);
}

absl::Status RocksStore::FlushAll() {
  rocksdb::FlushOptions options;
  options.wait = true;
  return FromRocks(db_->Flush(options, handles_), "flush");
}

}  // namespace veta
