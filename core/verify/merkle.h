// The RFC 6962 / RFC 9162 Merkle tree: hashing, roots, inclusion and consistency proofs.
//
// Storage model: every complete subtree is a node (level, index) covering the leaves
// [index << level, (index + 1) << level); level 0 holds the leaf hashes. Nodes never change
// once written, so readers need no snapshot. An append writes at most log2(n) + 1 nodes, and
// a proof reads O(log n) nodes: the hash of the one incomplete subtree a proof may need (on
// the tree's right edge) is folded from at most log2(n) complete ones.
//
// Thread-safety: the free functions are pure; CompactTree is a value type (external locking).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/verify/sha256.h"

namespace veta::merkle {

// SHA-256(0x00 || data).
Hash HashLeaf(std::string_view data);
// SHA-256(0x01 || left || right).
Hash HashChildren(const Hash& left, const Hash& right);
// The root of the empty tree: SHA-256 of nothing.
Hash EmptyRoot();

// Read access to stored complete-subtree nodes.
class NodeReader {
 public:
  virtual ~NodeReader() = default;
  // The hash of node (level, index); NotFound or DataLoss if it is not stored.
  virtual absl::StatusOr<Hash> GetNode(uint32_t level, uint64_t index) const = 0;
};

// Receives each complete node an append creates, leaf (level 0) first.
using NodeSink = std::function<void(uint32_t level, uint64_t index, const Hash& hash)>;

// The right edge of a tree (one root per complete subtree of the binary decomposition of its
// size): enough to append and to compute the root, in O(log n) memory.
class CompactTree {
 public:
  CompactTree() = default;
  // Rebuilds the right edge of a tree of `size` leaves from stored nodes (popcount reads).
  static absl::StatusOr<CompactTree> Load(uint64_t size, const NodeReader& nodes);

  uint64_t size() const { return size_; }
  // Appends a leaf hash; `sink` (may be null) sees the leaf and every node it completes.
  void Append(const Hash& leaf_hash, const NodeSink& sink);
  // MTH of the whole tree (EmptyRoot() when empty).
  Hash Root() const;

 private:
  uint64_t size_ = 0;
  // Roots of the complete subtrees, largest (leftmost) first; one per set bit of size_.
  std::vector<Hash> frontier_;
};

// MTH(D[begin:end]) for a subtree of the RFC 6962 recursion: `begin` must be a multiple of
// the smallest power of two >= end - begin (true of every subtree a proof names).
absl::StatusOr<Hash> SubtreeRoot(const NodeReader& nodes, uint64_t begin, uint64_t end);

// RFC 9162 2.1.3.1: the audit path of leaf `index` in the tree of `size` leaves.
// InvalidArgument unless index < size.
absl::StatusOr<std::vector<Hash>> InclusionProof(const NodeReader& nodes, uint64_t index,
                                                 uint64_t size);

// RFC 9162 2.1.4.1: proof that the tree of `first` leaves is a prefix of that of `second`.
// InvalidArgument unless 0 < first <= second (first == second gives an empty proof).
absl::StatusOr<std::vector<Hash>> ConsistencyProof(const NodeReader& nodes, uint64_t first,
                                                   uint64_t second);

// RFC 9162 2.1.3.2. Returns the root the proof leads to; InvalidArgument when the proof has
// the wrong length for (index, size).
absl::StatusOr<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                            std::span<const Hash> proof);
// OK iff the proof shows `leaf_hash` at `index` in the tree of `size` leaves and root `root`.
[[nodiscard]] absl::Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                           std::span<const Hash> proof, const Hash& root);
// RFC 9162 2.1.4.2. OK iff the proof shows root1 (size `first`) is a prefix of root2.
[[nodiscard]] absl::Status VerifyConsistency(uint64_t first, uint64_t second, const Hash& root1,
                                             const Hash& root2, std::span<const Hash> proof);

}  // namespace veta::merkle
