#include "core/verify/merkle.h"

#include <bit>
#include <cassert>

#include "core/base/status_macros.h"
#include "core/base/strings.h"

namespace veta::merkle {
namespace {

// The largest power of two strictly less than n (n >= 2): the split point of RFC 6962.
uint64_t SplitPoint(uint64_t n) {
  assert(n >= 2);
  return std::bit_floor(n - 1);
}

absl::Status PathRecursive(const NodeReader& nodes, uint64_t index, uint64_t begin, uint64_t end,
                           std::vector<Hash>* out) {
  // Iterative form of PATH(m, D[begin:end]): siblings are pushed from the root down, and
  // reversed at the end so the proof runs leaf to root.
  std::vector<Hash> top_down;
  while (end - begin > 1) {
    const uint64_t k = SplitPoint(end - begin);
    if (index < begin + k) {
      ASSIGN_OR_RETURN(Hash right, SubtreeRoot(nodes, begin + k, end));
      top_down.push_back(right);
      end = begin + k;
    } else {
      ASSIGN_OR_RETURN(Hash left, SubtreeRoot(nodes, begin, begin + k));
      top_down.push_back(left);
      begin += k;
    }
  }
  out->assign(top_down.rbegin(), top_down.rend());
  return absl::OkStatus();
}

}  // namespace

Hash HashLeaf(std::string_view data) { return Sha256().Update(uint8_t{0}).Update(data).Finish(); }

Hash HashChildren(const Hash& left, const Hash& right) {
  return Sha256().Update(uint8_t{1}).Update(left).Update(right).Finish();
}

Hash EmptyRoot() { return Sha256Of(""); }

absl::StatusOr<CompactTree> CompactTree::Load(uint64_t size, const NodeReader& nodes) {
  CompactTree tree;
  tree.size_ = size;
  uint64_t begin = 0;
  for (int level = 63; level >= 0; --level) {
    const uint64_t width = uint64_t{1} << level;
    if ((size & width) == 0) continue;
    ASSIGN_OR_RETURN(Hash node, nodes.GetNode(static_cast<uint32_t>(level), begin >> level));
    tree.frontier_.push_back(node);
    begin += width;
  }
  assert(begin == size);
  return tree;
}

void CompactTree::Append(const Hash& leaf_hash, const NodeSink& sink) {
  Hash node = leaf_hash;
  uint64_t index = size_;
  uint32_t level = 0;
  if (sink) sink(0, index, node);
  // Each trailing one bit of the old size is a complete subtree that the new node completes.
  for (uint64_t s = size_; s & 1; s >>= 1) {
    assert(!frontier_.empty());
    node = HashChildren(frontier_.back(), node);
    frontier_.pop_back();
    ++level;
    index >>= 1;
    if (sink) sink(level, index, node);
  }
  frontier_.push_back(node);
  ++size_;
  assert(frontier_.size() == static_cast<size_t>(std::popcount(size_)));
}

Hash CompactTree::Root() const {
  if (frontier_.empty()) return EmptyRoot();
  Hash root = frontier_.back();
  for (auto it = frontier_.rbegin() + 1; it != frontier_.rend(); ++it) {
    root = HashChildren(*it, root);
  }
  return root;
}

absl::StatusOr<Hash> SubtreeRoot(const NodeReader& nodes, uint64_t begin, uint64_t end) {
  if (end <= begin) return absl::InvalidArgumentError("empty subtree");
  const uint64_t width = end - begin;
  if ((begin & (std::bit_ceil(width) - 1)) != 0) {
    return absl::InvalidArgumentError(
        StrCat("[", begin, ", ", end, ") is not a subtree of the RFC 6962 recursion"));
  }
  // Complete subtrees of the binary decomposition of the width, left to right, folded from
  // the right as MTH does.
  std::vector<Hash> parts;
  uint64_t at = begin;
  for (int level = 63; level >= 0; --level) {
    const uint64_t w = uint64_t{1} << level;
    if ((width & w) == 0) continue;
    ASSIGN_OR_RETURN(Hash node, nodes.GetNode(static_cast<uint32_t>(level), at >> level));
    parts.push_back(node);
    at += w;
  }
  Hash root = parts.back();
  for (auto it = parts.rbegin() + 1; it != parts.rend(); ++it) root = HashChildren(*it, root);
  return root;
}

absl::StatusOr<std::vector<Hash>> InclusionProof(const NodeReader& nodes, uint64_t index,
                                                 uint64_t size) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        StrCat("leaf ", index, " is not in a tree of ", size, " leaves"));
  }
  std::vector<Hash> proof;
  RETURN_IF_ERROR(PathRecursive(nodes, index, 0, size, &proof));
  return proof;
}

absl::StatusOr<std::vector<Hash>> ConsistencyProof(const NodeReader& nodes, uint64_t first,
                                                   uint64_t second) {
  if (first == 0 || first > second) {
    return absl::InvalidArgumentError(StrCat("no consistency proof from size ", first, " to size ",
                                             second, ": need 0 < first <= second"));
  }
  // SUBPROOF(m, D[begin:end], b) of RFC 6962 2.1.2, iteratively, root down.
  std::vector<Hash> top_down;
  uint64_t begin = 0, end = second;
  bool whole = true;  // b of SUBPROOF: is the old tree's part of D[begin:end] the whole of it?
  while (first != end) {
    const uint64_t k = SplitPoint(end - begin);
    if (first - begin <= k) {
      ASSIGN_OR_RETURN(Hash right, SubtreeRoot(nodes, begin + k, end));
      top_down.push_back(right);
      end = begin + k;
    } else {
      ASSIGN_OR_RETURN(Hash left, SubtreeRoot(nodes, begin, begin + k));
      top_down.push_back(left);
      begin += k;
      whole = false;
    }
  }
  if (!whole) {
    ASSIGN_OR_RETURN(Hash node, SubtreeRoot(nodes, begin, end));
    top_down.push_back(node);
  }
  return std::vector<Hash>(top_down.rbegin(), top_down.rend());
}

absl::StatusOr<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                            std::span<const Hash> proof) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        StrCat("leaf index ", index, " is not below tree size ", size));
  }
  uint64_t fn = index, sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) {
      return absl::InvalidArgumentError(
          StrCat("inclusion proof has ", proof.size(), " hashes: too many"));
    }
    if ((fn & 1) == 1 || fn == sn) {
      r = HashChildren(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = HashChildren(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::InvalidArgumentError(
        StrCat("inclusion proof has ", proof.size(), " hashes: too few"));
  }
  return r;
}

absl::Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                             std::span<const Hash> proof, const Hash& root) {
  ASSIGN_OR_RETURN(Hash computed, RootFromInclusionProof(index, size, leaf_hash, proof));
  if (computed != root) {
    return absl::InvalidArgumentError(StrCat("inclusion proof of leaf ", index, " leads to root ",
                                             ToHex(computed), ", not the expected ", ToHex(root)));
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t first, uint64_t second, const Hash& root1,
                               const Hash& root2, std::span<const Hash> proof) {
  if (first == 0 || first > second) {
    return absl::InvalidArgumentError(
        StrCat("no consistency between sizes ", first, " and ", second));
  }
  if (first == second) {
    if (!proof.empty()) return absl::InvalidArgumentError("proof between equal sizes not empty");
    if (root1 != root2) return absl::InvalidArgumentError("equal sizes with different roots");
    return absl::OkStatus();
  }
  if (proof.empty()) return absl::InvalidArgumentError("empty consistency proof");
  // RFC 9162 2.1.4.2.
  std::vector<Hash> path(proof.begin(), proof.end());
  if (std::has_single_bit(first)) path.insert(path.begin(), root1);
  uint64_t fn = first - 1, sn = second - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return absl::InvalidArgumentError("consistency proof too long");
    if ((fn & 1) == 1 || fn == sn) {
      fr = HashChildren(c, fr);
      sr = HashChildren(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = HashChildren(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return absl::InvalidArgumentError("consistency proof too short");
  if (fr != root1) {
    return absl::InvalidArgumentError(StrCat("consistency proof does not lead to the root of size ",
                                             first, " (", ToHex(root1), ")"));
  }
  if (sr != root2) {
    return absl::InvalidArgumentError(StrCat("consistency proof does not lead to the root of size ",
                                             second, " (", ToHex(root2), ")"));
  }
  return absl::OkStatus();
}

}  // namespace veta::merkle
