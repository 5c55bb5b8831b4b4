// Merkle proofs. First, verification of arbitrary (index, size, leaf, proof, root) never
// crashes and refuses with InvalidArgument. Then a real tree of a size the input picks: its
// root, proofs and nodes match a direct RFC 6962 implementation, its proofs verify, and a
// proof, leaf or root with one bit flipped (the bit the input picks) does not.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "core/base/strings.h"
#include "core/verify/merkle.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using veta::Hash;
namespace merkle = veta::merkle;

class MemoryNodes : public merkle::NodeReader {
 public:
  absl::StatusOr<Hash> GetNode(uint32_t level, uint64_t index) const override {
    auto it = nodes_.find({level, index});
    if (it == nodes_.end()) {
      return absl::NotFoundError(veta::StrCat("no node (", level, ", ", index, ")"));
    }
    return it->second;
  }
  void Put(uint32_t level, uint64_t index, const Hash& hash) {
    VETA_FUZZ_CHECK(nodes_.emplace(std::make_pair(level, index), hash).second);  // written once
  }
  size_t size() const { return nodes_.size(); }

 private:
  std::map<std::pair<uint32_t, uint64_t>, Hash> nodes_;
};

Hash ConsumeHash(FuzzedDataProvider& in) {
  Hash h{};
  const std::vector<uint8_t> bytes = in.ConsumeBytes<uint8_t>(h.size());
  std::copy(bytes.begin(), bytes.end(), h.begin());
  return h;
}

// Small values mostly (where the edge cases are), any 64-bit value sometimes.
uint64_t ConsumeSize(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      return in.ConsumeIntegral<uint64_t>();
    case 1:
      return in.ConsumeIntegralInRange<uint64_t>(0, 70);
    default:
      return in.ConsumeIntegralInRange<uint64_t>(0, 5000);
  }
}

// RFC 6962 2.1, literally: MTH, PATH and SUBPROOF over the leaf hashes.
uint64_t Split(uint64_t n) { return std::bit_floor(n - 1); }

Hash Mth(const std::vector<Hash>& leaves, uint64_t begin, uint64_t end) {
  if (end - begin == 1) return leaves[begin];
  const uint64_t k = Split(end - begin);
  return merkle::HashChildren(Mth(leaves, begin, begin + k), Mth(leaves, begin + k, end));
}

void Path(const std::vector<Hash>& leaves, uint64_t m, uint64_t begin, uint64_t end,
          std::vector<Hash>* out) {
  if (end - begin == 1) return;
  const uint64_t k = Split(end - begin);
  if (m < k) {
    Path(leaves, m, begin, begin + k, out);
    out->push_back(Mth(leaves, begin + k, end));
  } else {
    Path(leaves, m - k, begin + k, end, out);
    out->push_back(Mth(leaves, begin, begin + k));
  }
}

void Subproof(const std::vector<Hash>& leaves, uint64_t m, uint64_t begin, uint64_t end, bool b,
              std::vector<Hash>* out) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (!b) out->push_back(Mth(leaves, begin, end));
    return;
  }
  const uint64_t k = Split(n);
  if (m <= k) {
    Subproof(leaves, m, begin, begin + k, b, out);
    out->push_back(Mth(leaves, begin + k, end));
  } else {
    Subproof(leaves, m - k, begin + k, end, false, out);
    out->push_back(Mth(leaves, begin, begin + k));
  }
}

void FlipBit(Hash* h, uint64_t bit) {
  (*h)[bit / 8] = static_cast<uint8_t>((*h)[bit / 8] ^ (1u << (bit % 8)));
}

void CheckRefusal(const absl::Status& s) {
  VETA_FUZZ_CHECK_MSG(s.ok() || s.code() == absl::StatusCode::kInvalidArgument, s.ToString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  FuzzedDataProvider in(data, size);

  // 1. Arbitrary proofs: any answer, but no crash, and only InvalidArgument as a refusal.
  {
    const uint64_t index = ConsumeSize(in), tree_size = ConsumeSize(in);
    const Hash leaf = ConsumeHash(in), root1 = ConsumeHash(in), root2 = ConsumeHash(in);
    std::vector<Hash> proof(in.ConsumeIntegralInRange<size_t>(0, 70));
    for (Hash& h : proof) h = ConsumeHash(in);
    const absl::Status inclusion = merkle::VerifyInclusion(index, tree_size, leaf, proof, root1);
    CheckRefusal(inclusion);
    auto computed = merkle::RootFromInclusionProof(index, tree_size, leaf, proof);
    CheckRefusal(computed.status());
    VETA_FUZZ_CHECK(inclusion.ok() == (computed.ok() && *computed == root1));
    const absl::Status consistency =
        merkle::VerifyConsistency(index, tree_size, root1, root2, proof);
    CheckRefusal(consistency);
    if (consistency.ok() && index == tree_size) {
      VETA_FUZZ_CHECK(proof.empty() && root1 == root2);
    }
  }

  // 2. A real tree.
  const uint64_t n = in.ConsumeIntegralInRange<uint64_t>(1, 1024);
  const uint8_t salt = in.ConsumeIntegral<uint8_t>();
  std::vector<Hash> leaves;
  MemoryNodes nodes;
  merkle::CompactTree tree;
  for (uint64_t i = 0; i < n; ++i) {
    leaves.push_back(merkle::HashLeaf(veta::StrCat(salt, ":", i)));
    tree.Append(leaves.back(), [&](uint32_t level, uint64_t index, const Hash& hash) {
      nodes.Put(level, index, hash);
    });
  }
  VETA_FUZZ_CHECK(tree.size() == n);
  // Every complete subtree is stored, and nothing else: floor(n / 2^level) nodes per level.
  uint64_t expected_nodes = 0;
  for (uint64_t w = n; w > 0; w >>= 1) expected_nodes += w;
  VETA_FUZZ_CHECK(nodes.size() == expected_nodes);
  const Hash root = tree.Root();
  VETA_FUZZ_CHECK(root == Mth(leaves, 0, n));
  auto subtree_root = merkle::SubtreeRoot(nodes, 0, n);
  VETA_FUZZ_CHECK(subtree_root.ok() && *subtree_root == root);
  auto loaded = merkle::CompactTree::Load(n, nodes);
  VETA_FUZZ_CHECK(loaded.ok() && loaded->size() == n && loaded->Root() == root);

  // Inclusion of a leaf the input picks, in the whole tree and in a prefix of it.
  const uint64_t index = in.ConsumeIntegralInRange<uint64_t>(0, n - 1);
  auto proof = merkle::InclusionProof(nodes, index, n);
  VETA_FUZZ_CHECK_MSG(proof.ok(), proof.status().ToString());
  std::vector<Hash> expected;
  Path(leaves, index, 0, n, &expected);
  VETA_FUZZ_CHECK(*proof == expected);
  VETA_FUZZ_CHECK(merkle::VerifyInclusion(index, n, leaves[index], *proof, root).ok());

  const uint64_t m = in.ConsumeIntegralInRange<uint64_t>(1, n);
  const Hash root_m = Mth(leaves, 0, m);
  const uint64_t index_m = in.ConsumeIntegralInRange<uint64_t>(0, m - 1);
  auto proof_m = merkle::InclusionProof(nodes, index_m, m);
  VETA_FUZZ_CHECK_MSG(proof_m.ok(), proof_m.status().ToString());
  VETA_FUZZ_CHECK(merkle::VerifyInclusion(index_m, m, leaves[index_m], *proof_m, root_m).ok());

  // Consistency of the prefix of m leaves with the whole tree.
  auto consistency = merkle::ConsistencyProof(nodes, m, n);
  VETA_FUZZ_CHECK_MSG(consistency.ok(), consistency.status().ToString());
  expected.clear();
  Subproof(leaves, m, 0, n, true, &expected);
  VETA_FUZZ_CHECK(*consistency == expected);
  VETA_FUZZ_CHECK(merkle::VerifyConsistency(m, n, root_m, root, *consistency).ok());

  // Out of range: refused, never a crash or a read past the stored nodes.
  CheckRefusal(merkle::InclusionProof(nodes, n, n).status());
  VETA_FUZZ_CHECK(!merkle::InclusionProof(nodes, n, n).ok());
  VETA_FUZZ_CHECK(!merkle::ConsistencyProof(nodes, 0, n).ok());
  if (n > 1) VETA_FUZZ_CHECK(!merkle::ConsistencyProof(nodes, n, m == n ? n - 1 : m).ok());
  const uint64_t beyond = n + in.ConsumeIntegralInRange<uint64_t>(1, 64);
  VETA_FUZZ_CHECK(!merkle::InclusionProof(nodes, index, beyond).ok());
  VETA_FUZZ_CHECK(!merkle::ConsistencyProof(nodes, m, beyond).ok());

  // One flipped bit, anywhere in (leaf, proof, root), and the inclusion proof fails.
  {
    Hash leaf = leaves[index], r = root;
    std::vector<Hash> p = *proof;
    const uint64_t bits = 256 * (p.size() + 2);
    const uint64_t bit = in.ConsumeIntegral<uint64_t>() % bits;
    const uint64_t which = bit / 256;
    Hash* target = which == 0 ? &leaf : which == p.size() + 1 ? &r : &p[which - 1];
    FlipBit(target, bit % 256);
    const absl::Status s = merkle::VerifyInclusion(index, n, leaf, p, r);
    VETA_FUZZ_CHECK(!s.ok());
    CheckRefusal(s);
  }
  // And likewise in (root_m, consistency proof, root).
  {
    Hash r1 = root_m, r2 = root;
    std::vector<Hash> p = *consistency;
    const uint64_t bits = 256 * (p.size() + 2);
    const uint64_t bit = in.ConsumeIntegral<uint64_t>() % bits;
    const uint64_t which = bit / 256;
    Hash* target = which == 0 ? &r1 : which == p.size() + 1 ? &r2 : &p[which - 1];
    FlipBit(target, bit % 256);
    const absl::Status s = merkle::VerifyConsistency(m, n, r1, r2, p);
    VETA_FUZZ_CHECK(!s.ok());
    CheckRefusal(s);
  }
  return 0;
}
