// The ledger's families in memory: the same Store as on disk, without the disk. For the rules'
// tests (a ledger in a few microseconds, no temporary folder) and for embeddings that keep no
// state (a verifier re-judging entries). Writes are atomic and snapshots are real: every row
// keeps its versions, and a snapshot reads the versions written before it. Nothing is ever
// forgotten, so memory grows with every write: not for a long-running ledger.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/storage/store.h"

namespace veta {

class MemoryStore final : public Store {
 public:
  MemoryStore();
  ~MemoryStore() override;

  absl::StatusOr<std::string> Get(Family family, std::string_view key) const override;
  std::unique_ptr<Cursor> NewCursor(Family family) const override;
  std::unique_ptr<Batch> NewBatch() const override;
  [[nodiscard]] absl::Status Write(Batch& batch, bool sync) override;
  std::unique_ptr<Reader> Snapshot() const override;
  [[nodiscard]] absl::Status FlushAll() override { return absl::OkStatus(); }
  // Nothing to check: no bytes were kept outside this process.
  [[nodiscard]] absl::Status VerifyStorage(StorageReport*) const override {
    return absl::OkStatus();
  }

  struct Rows;

 private:
  std::shared_ptr<Rows> rows_;
};

}  // namespace veta
