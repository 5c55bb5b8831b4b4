#include "core/storage/memory_store.h"

#include "core/base/check.h"

#include <limits>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace veta {

// Every version of every row: a version is the write that put it (nullopt: deleted).
struct MemoryStore::Rows {
  using Versions = std::vector<std::pair<uint64_t, std::optional<std::string>>>;
  mutable absl::Mutex mu;  // readers share it
  std::map<std::string, Versions, std::less<>> families[kFamilyCount] ABSL_GUARDED_BY(mu);
  uint64_t version ABSL_GUARDED_BY(mu) = 0;

  // The value of `versions` as of `at` (nullptr when absent then).
  static const std::string* At(const Versions& versions, uint64_t at) {
    for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
      if (it->first <= at) return it->second ? &*it->second : nullptr;
    }
    return nullptr;
  }
};

namespace {

constexpr uint64_t kNow = std::numeric_limits<uint64_t>::max();

// A cursor that holds no lock between calls: each move finds its place again by key, so a
// write between two moves is either seen (past the snapshot: never) or not, never a crash.
class MemoryCursor final : public Cursor {
 public:
  MemoryCursor(std::shared_ptr<const MemoryStore::Rows> rows, Family family, uint64_t at)
      : rows_(std::move(rows)), family_(static_cast<size_t>(family)), at_(at) {}

  void SeekToFirst() override { Find(std::string_view(), /*forward=*/true, /*inclusive=*/true); }
  void SeekToLast() override { FindLast(); }
  void Seek(std::string_view key) override { Find(key, true, true); }
  void SeekForPrev(std::string_view key) override { Find(key, false, true); }
  void Next() override {
    if (valid_) Find(std::string(key_), true, false);
  }
  void Prev() override {
    if (valid_) Find(std::string(key_), false, false);
  }
  bool Valid() const override { return valid_; }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  absl::Status status() const override { return absl::OkStatus(); }

 private:
  bool Take(const std::string& key, const MemoryStore::Rows::Versions& versions) {
    const std::string* v = MemoryStore::Rows::At(versions, at_);
    if (v == nullptr) return false;
    key_ = key;
    value_ = *v;
    valid_ = true;
    return true;
  }

  void Find(std::string_view key, bool forward, bool inclusive) {
    valid_ = false;
    absl::ReaderMutexLock lock(&rows_->mu);
    const auto& rows = rows_->families[family_];
    if (forward) {
      auto it = inclusive ? rows.lower_bound(key) : rows.upper_bound(key);
      for (; it != rows.end(); ++it) {
        if (Take(it->first, it->second)) return;
      }
    } else {
      auto it = inclusive ? rows.upper_bound(key) : rows.lower_bound(key);
      while (it != rows.begin()) {
        --it;
        if (Take(it->first, it->second)) return;
      }
    }
  }

  void FindLast() {
    valid_ = false;
    absl::ReaderMutexLock lock(&rows_->mu);
    const auto& rows = rows_->families[family_];
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
      if (Take(it->first, it->second)) return;
    }
  }

  std::shared_ptr<const MemoryStore::Rows> rows_;
  size_t family_;
  uint64_t at_;
  bool valid_ = false;
  std::string key_;
  std::string value_;
};

absl::StatusOr<std::string> GetAt(const MemoryStore::Rows& rows, Family family,
                                  std::string_view key, uint64_t at) {
  absl::ReaderMutexLock lock(&rows.mu);
  const auto& f = rows.families[static_cast<size_t>(family)];
  auto it = f.find(key);
  const std::string* v = it == f.end() ? nullptr : MemoryStore::Rows::At(it->second, at);
  if (v == nullptr) return absl::NotFoundError("not found");
  return *v;
}

class MemoryBatch final : public Batch {
 public:
  explicit MemoryBatch(const MemoryStore* owner) : store(owner) {}
  void Put(Family family, std::string_view key, std::string_view value) override {
    ops.push_back({family, std::string(key), std::string(value)});
  }
  void Delete(Family family, std::string_view key) override {
    ops.push_back({family, std::string(key), std::nullopt});
  }
  size_t Count() const override { return ops.size(); }

  struct Op {
    Family family;
    std::string key;
    std::optional<std::string> value;
  };
  const MemoryStore* store;
  std::vector<Op> ops;
};

class MemorySnapshot final : public Reader {
 public:
  MemorySnapshot(std::shared_ptr<const MemoryStore::Rows> rows, uint64_t at)
      : rows_(std::move(rows)), at_(at) {}
  absl::StatusOr<std::string> Get(Family family, std::string_view key) const override {
    return GetAt(*rows_, family, key, at_);
  }
  std::unique_ptr<Cursor> NewCursor(Family family) const override {
    return std::make_unique<MemoryCursor>(rows_, family, at_);
  }

 private:
  std::shared_ptr<const MemoryStore::Rows> rows_;
  uint64_t at_;
};

}  // namespace

MemoryStore::MemoryStore() : rows_(std::make_shared<Rows>()) {}
MemoryStore::~MemoryStore() = default;

absl::StatusOr<std::string> MemoryStore::Get(Family family, std::string_view key) const {
  return GetAt(*rows_, family, key, kNow);
}

std::unique_ptr<Cursor> MemoryStore::NewCursor(Family family) const {
  return std::make_unique<MemoryCursor>(rows_, family, kNow);
}

std::unique_ptr<Batch> MemoryStore::NewBatch() const { return std::make_unique<MemoryBatch>(this); }

absl::Status MemoryStore::Write(Batch& batch, bool) {
  auto* mine = dynamic_cast<MemoryBatch*>(&batch);
  if (mine == nullptr || mine->store != this) {
    return absl::InternalError("a batch was written to a store that did not make it");
  }
  absl::WriterMutexLock lock(&rows_->mu);
  const uint64_t version = ++rows_->version;
  for (auto& op : mine->ops) {
    auto& versions = rows_->families[static_cast<size_t>(op.family)][op.key];
    VETA_CHECK(versions.empty() || versions.back().first <= version,
               "a row's versions are in write order");
    if (!versions.empty() && versions.back().first == version) {
      versions.back().second = std::move(op.value);  // the same row twice in one batch
    } else {
      versions.emplace_back(version, std::move(op.value));
    }
  }
  mine->ops.clear();
  return absl::OkStatus();
}

std::unique_ptr<Reader> MemoryStore::Snapshot() const {
  uint64_t at = 0;
  {
    absl::ReaderMutexLock lock(&rows_->mu);
    at = rows_->version;
  }
  return std::make_unique<MemorySnapshot>(rows_, at);
}

}  // namespace veta
