#include "core/storage/store.h"

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/storage/schema.h"

namespace veta {

std::string_view FamilyName(Family family) {
  static constexpr std::string_view kNames[kFamilyCount] = {
      "default", "entries",  "leaves", "statements", "tree",    "checkpoints",
      "keys",    "registry", "state",  "attempts",   "evidence"};
  return kNames[static_cast<size_t>(family)];
}

absl::Status Annotate(const absl::Status& status, std::string_view what) {
  if (status.ok()) return status;
  return absl::Status(status.code(), StrCat(what, ": ", status.message()));
}

std::vector<absl::StatusOr<std::string>> Reader::MultiGet(
    Family family, const std::vector<std::string_view>& keys) const {
  std::vector<absl::StatusOr<std::string>> values;
  values.reserve(keys.size());
  for (std::string_view key : keys) values.push_back(Get(family, key));
  return values;
}

absl::StatusOr<uint64_t> Reader::FindLeaf(std::string_view leaf_hash, uint64_t size) const {
  for (uint64_t bucket = LeafBuckets(size); bucket-- > 0;) {
    auto row = Get(Family::kLeaves, LeafKey(bucket << kLeafBucketBits, leaf_hash));
    if (absl::IsNotFound(row.status())) continue;
    RETURN_IF_ERROR(row.status());
    ASSIGN_OR_RETURN(const uint64_t seq, DecodeSequence(*row, "a leaf index row"));
    if (seq >> kLeafBucketBits != bucket) {
      return absl::DataLossError(StrCat("the leaf index row of bucket ", bucket, " names entry ",
                                        seq, ", of another bucket"));
    }
    if (seq < size) return seq;
  }
  return absl::NotFoundError(StrCat("no entry has leaf hash ", ToHex(leaf_hash)));
}

absl::StatusOr<uint64_t> Reader::EntryCount() const {
  auto it = NewCursor(Family::kEntries);
  it->SeekToLast();
  RETURN_IF_ERROR(Annotate(it->status(), "scan entries"));
  if (!it->Valid()) return 0;
  uint64_t last = 0;
  if (!DecodeU64(it->key(), &last)) {
    return absl::DataLossError("entries column family holds a malformed key");
  }
  return last + 1;
}

absl::StatusOr<std::string> Reader::LatestCheckpointNote() const {
  auto it = NewCursor(Family::kCheckpoints);
  it->SeekToLast();
  RETURN_IF_ERROR(Annotate(it->status(), "scan checkpoints"));
  if (!it->Valid()) return absl::NotFoundError("the ledger has no checkpoint");
  return std::string(it->value());
}

absl::StatusOr<Hash> StoreNodeReader::GetNode(uint32_t level, uint64_t index) const {
  auto value = store_.Get(Family::kTree, NodeKey(level, index));
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
