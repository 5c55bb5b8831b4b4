#include "core/store.h"

#include "core/status_macros.h"
#include "core/strings.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"

namespace veta {
namespace {

const std::vector<std::string>& FamilyNames() {
  static const std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName,
                                                 "entries",
                                                 "leaves",
                                                 "statements",
                                                 "tree",
                                                 "checkpoints",
                                                 "keys",
                                                 "registry",
                                                 "state",
                                                 "attempts",
                                                 "evidence"};
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
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  if (name == "leaves" || name == "statements") {
    // Random 32-byte keys: a small memtable keeps skiplist inserts shallow and in cache.
    cf.write_buffer_size = 8 << 20;
  }
  if (name == "statements") {
    // Every submission asks whether its statement is already recorded, and the answer is
    // nearly always no: a memtable Bloom filter answers that without a skiplist search.
    cf.memtable_whole_key_filtering = true;
    cf.memtable_prefix_bloom_size_ratio = 0.05;
  }
  cf.compression = rocksdb::kNoCompression;  // hashes and signatures do not compress
  return cf;
}

}  // namespace

std::string EncodeU64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

bool DecodeU64(std::string_view bytes, uint64_t* v) {
  if (bytes.size() != 8) return false;
  uint64_t out = 0;
  for (unsigned char c : bytes) out = (out << 8) | c;
  *v = out;
  return true;
}

std::string NodeKey(uint32_t level, uint64_t index) {
  // Keyed by the end of the node's leaf range, then level: every node an append creates has
  // the same end (the new tree size), so keys arrive in ascending order and RocksDB's
  // memtable inserts them at its cached position instead of searching the skiplist.
  std::string key = EncodeU64((index + 1) << level);
  key.push_back(static_cast<char>(level));
  return key;
}

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = StrCat(what, ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsInvalidArgument()) return absl::FailedPreconditionError(msg);
  return absl::UnavailableError(msg);
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path, Mode mode,
                                                   rocksdb::Env* env) {
  rocksdb::DBOptions options;
  if (env != nullptr) options.env = env;
  options.create_if_missing = mode == Mode::kCreate;
  options.error_if_exists = mode == Mode::kCreate;
  options.create_missing_column_families = mode != Mode::kReadOnly;  // families added later
  options.paranoid_checks = true;
  options.max_background_jobs = 2;
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  auto cache = rocksdb::NewLRUCache(64 << 20);
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& name : FamilyNames()) families.emplace_back(name, FamilyOptions(name, cache));

  std::unique_ptr<Store> store(new Store());
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
  if (store->handles_.size() != FamilyNames().size()) std::abort();  // accessors index it
  if (mode == Mode::kCreate) {
    RETURN_IF_ERROR(FromRocks(store->db_->Put(rocksdb::WriteOptions(), store->meta(),
                                              std::string(kFormatKey), std::string(kFormatValue)),
                              "write format marker"));
  } else {
    auto format = store->Get(store->meta(), kFormatKey);
    if (!format.ok() || *format != kFormatValue) {
      return absl::FailedPreconditionError(
          StrCat(path, " is not a Veta ledger (format marker missing or unknown)"));
    }
  }
  return store;
}

Store::~Store() {
  for (auto* h : handles_) {
    if (db_) db_->DestroyColumnFamilyHandle(h);
  }
  if (db_) db_->Close().PermitUncheckedError();
}

absl::StatusOr<std::string> Store::Get(rocksdb::ColumnFamilyHandle* cf,
                                       std::string_view key) const {
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf, rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return absl::NotFoundError("not found");
  RETURN_IF_ERROR(FromRocks(s, "read"));
  return value;
}

absl::StatusOr<uint64_t> Store::EntryCount() const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), entries()));
  it->SeekToLast();
  RETURN_IF_ERROR(FromRocks(it->status(), "scan entries"));
  if (!it->Valid()) return 0;
  uint64_t last = 0;
  if (!DecodeU64(it->key().ToStringView(), &last)) {
    return absl::DataLossError("entries column family holds a malformed key");
  }
  return last + 1;
}

absl::Status Store::FlushAll() {
  rocksdb::FlushOptions options;
  options.wait = true;
  return FromRocks(db_->Flush(options, handles_), "flush");
}

absl::StatusOr<std::string> Store::LatestCheckpointNote() const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), checkpoints()));
  it->SeekToLast();
  RETURN_IF_ERROR(FromRocks(it->status(), "scan checkpoints"));
  if (!it->Valid()) return absl::NotFoundError("the ledger has no checkpoint");
  return it->value().ToString();
}

absl::StatusOr<Hash> StoreNodeReader::GetNode(uint32_t level, uint64_t index) const {
  auto value = store_.Get(store_.tree(), NodeKey(level, index));
  if (absl::IsNotFound(value.status())) {
    return absl::DataLossError(
        StrCat("tree node (level ", level, ", index ", index, ") is missing"));
  }
  RETURN_IF_ERROR(value.status());
  Hash h;
  if (!HashFromBytes(*value, &h)) {
    return absl::DataLossError(
        StrCat("tree node (level ", level, ", index ", index, ") is not 32 bytes"));
  }
  return h;
}

}  // namespace veta
