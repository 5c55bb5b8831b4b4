// Known-answer and property tests of the RFC 6962 / RFC 9162 Merkle tree (core/verify/merkle.h).
//
// Published vectors come from github.com/transparency-dev/merkle:
//   - testonly/constants.go (commit 582a6ad190b6848f1d26f8bf08ddef29955d9db1): LeafInputs,
//     NodeHashes, RootHashes, CompactTrees, EmptyRootHash.
//   - proof/verify_test.go (commit 02194e9afb6c1d95b5381350007963aa70fff472): inclusionProofs,
//     consistencyProofs, roots, and the corruptInclusionProof / corruptConsistencyProof probes.
//   - testonly/reference_test.go (commit 141d627eab770a7e9a2514f46a8b6338e6d90874):
//     TestRefInclusionProof, TestRefConsistencyProof.
//   - proof/proof_test.go (commit 02a3e2029520f515596d5238c54fb0ac9e19bff4): TestInclusion and
//     TestConsistency, which name the nodes of each proof; those of trees of at most 8 leaves
//     are turned into hashes here with NodeHashes.
// Everything else is cross-checked against a naive recursive implementation of MTH, PATH and
// PROOF/SUBPROOF written straight from RFC 6962 section 2.1 (Ref* below).
#include "core/verify/merkle.h"

#include <bit>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/verify/sha256.h"
#include "gtest/gtest.h"
#include "tests/core/test_util.h"

namespace veta::merkle {
namespace {

// ---------------------------------------------------------------------------------------------
// Helpers.

Hash H(std::string_view hex) {
  Hash h{};
  EXPECT_TRUE(HashFromHex(hex, &h)) << hex;
  return h;
}

using veta::testing::Unhex;

std::vector<std::string> Hexes(const std::vector<Hash>& hashes) {
  std::vector<std::string> out;
  for (const Hash& h : hashes) out.push_back(ToHex(h));
  return out;
}

Hash FlipBit(Hash h, size_t bit) {
  h[bit / 8] = static_cast<uint8_t>(h[bit / 8] ^ (1u << (bit % 8)));
  return h;
}

// An in-memory node store keyed by (level, index), filled through CompactTree::Append's sink.
class MemoryNodes : public NodeReader {
 public:
  absl::StatusOr<Hash> GetNode(uint32_t level, uint64_t index) const override {
    ++reads_;
    auto it = nodes_.find({level, index});
    if (it == nodes_.end()) {
      return absl::NotFoundError(absl::StrCat("no node (", level, ", ", index, ")"));
    }
    return it->second;
  }

  // Stores a node; nodes are immutable, so a second write of one is a test failure.
  void Put(uint32_t level, uint64_t index, const Hash& hash) {
    auto [it, inserted] = nodes_.emplace(std::make_pair(level, index), hash);
    EXPECT_TRUE(inserted) << "node (" << level << ", " << index << ") written twice";
  }

  NodeSink Sink() {
    return [this](uint32_t level, uint64_t index, const Hash& hash) { Put(level, index, hash); };
  }

  const std::map<std::pair<uint32_t, uint64_t>, Hash>& nodes() const { return nodes_; }
  size_t reads() const { return reads_; }
  void ResetReads() const { reads_ = 0; }

 private:
  std::map<std::pair<uint32_t, uint64_t>, Hash> nodes_;
  mutable size_t reads_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Published vectors (transparency-dev/merkle testonly/constants.go).

std::vector<std::string> LeafInputs() {
  return {Unhex(""),
          Unhex("00"),
          Unhex("10"),
          Unhex("2021"),
          Unhex("3031"),
          Unhex("40414243"),
          Unhex("5051525354555657"),
          Unhex("606162636465666768696a6b6c6d6e6f")};
}

// NodeHashes()[level][index]: every complete subtree of the tree of the 8 LeafInputs.
std::vector<std::vector<Hash>> NodeHashes() {
  return {{
              H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
              H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
              H("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
              H("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
              H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
              H("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
              H("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
              H("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
          },
          {
              H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
              H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
              H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
              H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
          },
          {
              H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
              H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
          },
          {
              H("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
          }};
}

// RootHashes()[size] for sizes 0..8.
std::vector<Hash> RootHashes() {
  return {
      H("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),  // EmptyRootHash
      H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
      H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
      H("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
      H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
      H("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
      H("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
      H("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
      H("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
  };
}

// CompactTrees()[size]: the (level, index) of the frontier nodes of each tree, left to right.
std::vector<std::vector<std::pair<uint32_t, uint64_t>>> CompactTreeNodes() {
  return {{},       {{0, 0}},         {{1, 0}},         {{1, 0}, {0, 2}},
          {{2, 0}}, {{2, 0}, {0, 4}}, {{2, 0}, {1, 2}}, {{2, 0}, {1, 2}, {0, 6}},
          {{3, 0}}};
}

// proof/verify_test.go: sha256SomeHash and sha256EmptyTreeHash.
Hash SomeHash() { return H("abacaba000000000000000000000000000000000000000000060061e00123456"); }
Hash EmptyTreeHash() {
  return H("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

struct InclusionVector {
  uint64_t index;  // 0-based (verify_test.go lists leaf numbers from 1)
  uint64_t size;
  std::vector<Hash> proof;
};

// proof/verify_test.go inclusionProofs[1:] (entry 0, {0, 0, nil}, is an invalid path there),
// plus testonly/reference_test.go TestRefInclusionProof.
std::vector<InclusionVector> InclusionVectors() {
  return {
      {0, 1, {}},
      {0,
       8,
       {H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")}},
      {5,
       8,
       {H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
        H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}},
      {2, 3, {H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")}},
      {1,
       5,
       {H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")}},
      // testonly/reference_test.go TestRefInclusionProof.
      {0, 2, {H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7")}},
      {1, 2, {H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")}},
  };
}

struct ConsistencyVector {
  uint64_t first;
  uint64_t second;
  std::vector<Hash> proof;
};

// proof/verify_test.go consistencyProofs (also testonly/reference_test.go
// TestRefConsistencyProof).
std::vector<ConsistencyVector> ConsistencyVectors() {
  return {
      {1, 1, {}},
      {1,
       8,
       {H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")}},
      {6,
       8,
       {H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
        H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}},
      {2,
       5,
       {H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")}},
      {6,
       7,
       {H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        H("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")}},
  };
}

// ---------------------------------------------------------------------------------------------
// Reference implementation: RFC 6962 section 2.1, recursively, over leaf hashes.

// The largest power of two strictly less than n (n >= 2).
uint64_t RefSplit(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// MTH(D[begin:end]).
Hash RefRoot(const std::vector<Hash>& leaves, uint64_t begin, uint64_t end) {
  if (end == begin) return Sha256Of("");
  if (end - begin == 1) return leaves[begin];
  const uint64_t k = RefSplit(end - begin);
  const Hash left = RefRoot(leaves, begin, begin + k);
  const Hash right = RefRoot(leaves, begin + k, end);
  return Sha256().Update(uint8_t{1}).Update(left).Update(right).Finish();
}

// PATH(m, D[begin:end]), m relative to begin.
std::vector<Hash> RefPath(const std::vector<Hash>& leaves, uint64_t m, uint64_t begin,
                          uint64_t end) {
  if (end - begin == 1) return {};
  const uint64_t k = RefSplit(end - begin);
  std::vector<Hash> path;
  if (m < k) {
    path = RefPath(leaves, m, begin, begin + k);
    path.push_back(RefRoot(leaves, begin + k, end));
  } else {
    path = RefPath(leaves, m - k, begin + k, end);
    path.push_back(RefRoot(leaves, begin, begin + k));
  }
  return path;
}

// SUBPROOF(m, D[begin:end], b), m relative to begin.
std::vector<Hash> RefSubproof(const std::vector<Hash>& leaves, uint64_t m, uint64_t begin,
                              uint64_t end, bool b) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (b) return {};
    return {RefRoot(leaves, begin, end)};
  }
  const uint64_t k = RefSplit(n);
  std::vector<Hash> proof;
  if (m <= k) {
    proof = RefSubproof(leaves, m, begin, begin + k, b);
    proof.push_back(RefRoot(leaves, begin + k, end));
  } else {
    proof = RefSubproof(leaves, m - k, begin + k, end, false);
    proof.push_back(RefRoot(leaves, begin, begin + k));
  }
  return proof;
}

// PROOF(m, D[n]).
std::vector<Hash> RefConsistency(const std::vector<Hash>& leaves, uint64_t m, uint64_t n) {
  return RefSubproof(leaves, m, 0, n, true);
}

// A tree of `n` leaves with arbitrary distinct data, stored through CompactTree::Append.
struct BuiltTree {
  std::vector<Hash> leaves;  // leaf hashes
  MemoryNodes nodes;
  std::vector<Hash> roots;  // roots[s] = MTH of the first s leaves, from CompactTree::Root
};

void Build(BuiltTree* t, uint64_t n, std::string_view tag) {
  CompactTree tree;
  t->roots.push_back(tree.Root());
  for (uint64_t i = 0; i < n; ++i) {
    t->leaves.push_back(HashLeaf(absl::StrCat(std::string(tag), "-", i)));
    tree.Append(t->leaves.back(), t->nodes.Sink());
    t->roots.push_back(tree.Root());
  }
}

constexpr uint64_t kMaxSize = 70;

const BuiltTree& Big() {
  static const BuiltTree* tree = [] {
    auto* t = new BuiltTree;
    Build(t, kMaxSize, "leaf");
    return t;
  }();
  return *tree;
}

// ---------------------------------------------------------------------------------------------
// Hashing.

TEST(MerkleHash, EmptyRootIsSha256OfNothing) {
  EXPECT_EQ(ToHex(EmptyRoot()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(CompactTree().Root(), EmptyRoot());
  EXPECT_EQ(CompactTree().size(), 0u);
}

TEST(MerkleHash, LeafAndNodeHashesMatchPublishedNodeHashes) {
  const auto inputs = LeafInputs();
  const auto nh = NodeHashes();
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(ToHex(HashLeaf(inputs[i])), ToHex(nh[0][i])) << "leaf " << i;
  }
  for (size_t level = 1; level < nh.size(); ++level) {
    for (size_t i = 0; i < nh[level].size(); ++i) {
      EXPECT_EQ(ToHex(HashChildren(nh[level - 1][2 * i], nh[level - 1][2 * i + 1])),
                ToHex(nh[level][i]))
          << "node (" << level << ", " << i << ")";
    }
  }
}

TEST(MerkleHash, DomainSeparation) {
  // SHA-256(0x00 || d) and SHA-256(0x01 || l || r), spelled out.
  const Hash a = HashLeaf("a");
  EXPECT_EQ(a, Sha256Of(std::string("\0a", 2)));
  const Hash b = HashLeaf("b");
  std::string cat = "\x01";
  cat += AsBytes(a);
  cat += AsBytes(b);
  EXPECT_EQ(HashChildren(a, b), Sha256Of(cat));
  EXPECT_NE(HashChildren(a, b), HashChildren(b, a));
  EXPECT_NE(HashLeaf(""), EmptyRoot());
}

// ---------------------------------------------------------------------------------------------
// Roots and stored nodes of the published 8-leaf tree.

class MerklePublished : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const std::string& input : LeafInputs()) {
      leaves_.push_back(HashLeaf(input));
      const uint64_t old_size = tree_.size();
      size_t writes = 0;
      tree_.Append(leaves_.back(), [&](uint32_t level, uint64_t index, const Hash& hash) {
        ++writes;
        nodes_.Put(level, index, hash);
      });
      // The leaf and one node per trailing one bit of the old size.
      EXPECT_EQ(writes, 1u + static_cast<size_t>(std::countr_one(old_size)));
      roots_.push_back(tree_.Root());
    }
  }

  std::vector<Hash> leaves_;
  CompactTree tree_;
  MemoryNodes nodes_;
  std::vector<Hash> roots_;  // roots_[s - 1] = root of size s
};

TEST_F(MerklePublished, RootsForAllSizes) {
  const auto want = RootHashes();
  ASSERT_EQ(roots_.size(), 8u);
  for (uint64_t s = 1; s <= 8; ++s) {
    EXPECT_EQ(ToHex(roots_[s - 1]), ToHex(want[s])) << "size " << s;
    // The root of a prefix, read back from the stored nodes.
    auto sub = SubtreeRoot(nodes_, 0, s);
    ASSERT_TRUE(sub.ok()) << sub.status();
    EXPECT_EQ(ToHex(*sub), ToHex(want[s])) << "size " << s;
  }
  EXPECT_EQ(tree_.size(), 8u);
}

TEST_F(MerklePublished, StoredNodesAreExactlyThePublishedNodeHashes) {
  const auto nh = NodeHashes();
  size_t count = 0;
  for (uint32_t level = 0; level < nh.size(); ++level) {
    for (uint64_t i = 0; i < nh[level].size(); ++i) {
      auto got = nodes_.GetNode(level, i);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(ToHex(*got), ToHex(nh[level][i])) << "node (" << level << ", " << i << ")";
      ++count;
    }
  }
  EXPECT_EQ(nodes_.nodes().size(), count);  // 15: nothing else was written
}

TEST_F(MerklePublished, LoadFromPublishedCompactTreeNodes) {
  // A reader holding only the frontier nodes of testonly CompactTrees() is enough to load.
  const auto nh = NodeHashes();
  const auto want = RootHashes();
  const auto frontiers = CompactTreeNodes();
  for (uint64_t s = 0; s <= 8; ++s) {
    MemoryNodes frontier;
    for (auto [level, index] : frontiers[s]) frontier.Put(level, index, nh[level][index]);
    auto loaded = CompactTree::Load(s, frontier);
    ASSERT_TRUE(loaded.ok()) << "size " << s << ": " << loaded.status();
    EXPECT_EQ(loaded->size(), s);
    EXPECT_EQ(ToHex(loaded->Root()), ToHex(want[s])) << "size " << s;
    EXPECT_EQ(frontier.reads(), static_cast<size_t>(std::popcount(s)));
    // Continue appending the published leaves: same roots as appending from scratch.
    CompactTree tree = *loaded;
    for (uint64_t i = s; i < 8; ++i) {
      tree.Append(leaves_[i], [&](uint32_t level, uint64_t index, const Hash& hash) {
        auto stored = nodes_.GetNode(level, index);
        ASSERT_TRUE(stored.ok()) << stored.status();
        EXPECT_EQ(ToHex(hash), ToHex(*stored)) << "node (" << level << ", " << index << ")";
      });
      EXPECT_EQ(ToHex(tree.Root()), ToHex(want[i + 1])) << "loaded at " << s << ", size " << i + 1;
    }
  }
}

TEST_F(MerklePublished, PublishedInclusionProofs) {
  const auto roots = RootHashes();
  for (const InclusionVector& v : InclusionVectors()) {
    SCOPED_TRACE(absl::StrCat("index ", v.index, " size ", v.size));
    auto proof = InclusionProof(nodes_, v.index, v.size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(Hexes(*proof), Hexes(v.proof));
    auto root = RootFromInclusionProof(v.index, v.size, leaves_[v.index], v.proof);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(ToHex(*root), ToHex(roots[v.size]));
    EXPECT_TRUE(VerifyInclusion(v.index, v.size, leaves_[v.index], v.proof, roots[v.size]).ok());
  }
}

TEST_F(MerklePublished, PublishedConsistencyProofs) {
  const auto roots = RootHashes();
  for (const ConsistencyVector& v : ConsistencyVectors()) {
    SCOPED_TRACE(absl::StrCat("first ", v.first, " second ", v.second));
    auto proof = ConsistencyProof(nodes_, v.first, v.second);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(Hexes(*proof), Hexes(v.proof));
    EXPECT_TRUE(
        VerifyConsistency(v.first, v.second, roots[v.first], roots[v.second], v.proof).ok());
  }
}

// proof/proof_test.go TestInclusion and TestConsistency name proof nodes by (level, index) in
// the tree of the figure there (a..j are leaves and level-1 nodes); in an 8-leaf tree each
// name is a NodeHashes entry, and a "rehash" pair (i, j) is HashChildren(i, j).
TEST_F(MerklePublished, ProofNodeLayoutOfProofTestGo) {
  const auto nh = NodeHashes();
  const Hash a = nh[0][0], b = nh[0][1], c = nh[0][2], d = nh[0][3], e = nh[0][4], f = nh[0][5],
             j = nh[0][6], leaf7 = nh[0][7];
  const Hash g = nh[1][0], h = nh[1][1], i = nh[1][2];
  const Hash k = nh[2][0], l8 = nh[2][1];
  const Hash l7 = HashChildren(i, j);  // l = hash(i, j) in the tree of 7 leaves
  struct Case {
    uint64_t index, size;
    std::vector<Hash> want;
  };
  const std::vector<Case> inclusion = {
      {0, 1, {}},         {0, 2, {b}},        {1, 2, {a}},        {1, 3, {a, c}},
      {0, 7, {b, h, l7}}, {1, 7, {a, h, l7}}, {2, 7, {d, g, l7}}, {3, 7, {c, g, l7}},
      {4, 7, {f, j, k}},  {5, 7, {e, j, k}},  {6, 7, {i, k}},     {2, 4, {d, g}},
      {3, 5, {c, g, e}},  {3, 6, {c, g, i}},  {4, 6, {f, k}},
  };
  for (const Case& t : inclusion) {
    auto proof = InclusionProof(nodes_, t.index, t.size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(Hexes(*proof), Hexes(t.want)) << "inclusion " << t.index << " in " << t.size;
  }
  const std::vector<Case> consistency = {
      {1, 2, {b}},          {1, 4, {b, h}},
      {1, 6, {b, h, i}},    {2, 3, {c}},
      {2, 8, {h, l8}},      {3, 7, {c, d, g, l7}},
      {4, 7, {l7}},         {5, 7, {e, f, j, k}},
      {6, 7, {i, j, k}},    {7, 8, {j, leaf7, i, k}},
      {1, 1, {}},           {2, 2, {}},
      {3, 3, {}},           {4, 4, {}},
      {5, 5, {}},           {7, 7, {}},
      {8, 8, {}},           {2, 4, {h}},
      {3, 5, {c, d, g, e}}, {3, 6, {c, d, g, i}},
      {4, 6, {i}},          {1, 7, {b, h, l7}},
  };
  for (const Case& t : consistency) {
    auto proof = ConsistencyProof(nodes_, t.index, t.size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_EQ(Hexes(*proof), Hexes(t.want)) << "consistency " << t.index << " to " << t.size;
  }
}

TEST_F(MerklePublished, EveryProofUpToEightMatchesTheReference) {
  const auto roots = RootHashes();
  for (uint64_t n = 1; n <= 8; ++n) {
    EXPECT_EQ(ToHex(RefRoot(leaves_, 0, n)), ToHex(roots[n])) << "reference root " << n;
    for (uint64_t i = 0; i < n; ++i) {
      auto proof = InclusionProof(nodes_, i, n);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_EQ(Hexes(*proof), Hexes(RefPath(leaves_, i, 0, n))) << i << " in " << n;
      EXPECT_TRUE(VerifyInclusion(i, n, leaves_[i], *proof, roots[n]).ok()) << i << " in " << n;
    }
    for (uint64_t m = 1; m <= n; ++m) {
      auto proof = ConsistencyProof(nodes_, m, n);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_EQ(Hexes(*proof), Hexes(RefConsistency(leaves_, m, n))) << m << " to " << n;
      EXPECT_TRUE(VerifyConsistency(m, n, roots[m], roots[n], *proof).ok()) << m << " to " << n;
    }
  }
}

// The probes of proof/verify_test.go corruptInclusionProof, on the published vectors. Byte
// strings of the wrong length there ("WrongLeaf", empty garbage) become other hashes here,
// since the API takes fixed-size hashes.
TEST_F(MerklePublished, CorruptedPublishedInclusionProofsAreRejected) {
  const auto roots = RootHashes();
  for (const InclusionVector& v : InclusionVectors()) {
    SCOPED_TRACE(absl::StrCat("index ", v.index, " size ", v.size));
    const Hash& leaf = leaves_[v.index];
    const Hash& root = roots[v.size];
    const std::vector<Hash>& proof = v.proof;
    auto rejects = [&](uint64_t index, uint64_t size, const Hash& leaf_hash,
                       const std::vector<Hash>& p, const Hash& r, const char* what) {
      EXPECT_FALSE(VerifyInclusion(index, size, leaf_hash, p, r).ok()) << what;
    };
    rejects(v.index - 1, v.size, leaf, proof, root, "leafIndex - 1");  // wraps for index 0
    rejects(v.index + 1, v.size, leaf, proof, root, "leafIndex + 1");
    rejects(v.index ^ 2, v.size, leaf, proof, root, "leafIndex ^ 2");
    rejects(v.index, v.size * 2, leaf, proof, root, "treeSize * 2");
    rejects(v.index, v.size / 2, leaf, proof, root, "treeSize / 2");
    rejects(v.index, v.size, HashLeaf("WrongLeaf"), proof, root, "wrong leaf");
    rejects(v.index, v.size, leaf, proof, EmptyTreeHash(), "empty root");
    rejects(v.index, v.size, leaf, proof, SomeHash(), "random root");
    auto extended = proof;
    extended.push_back(EmptyTreeHash());
    rejects(v.index, v.size, leaf, extended, root, "trailing garbage");
    extended.back() = root;
    rejects(v.index, v.size, leaf, extended, root, "trailing root");
    auto prepended = proof;
    prepended.insert(prepended.begin(), EmptyTreeHash());
    rejects(v.index, v.size, leaf, prepended, root, "preceding garbage");
    prepended.front() = root;
    rejects(v.index, v.size, leaf, prepended, root, "preceding root");
    for (size_t i = 0; i < proof.size(); ++i) {
      auto wrong = proof;
      wrong[i][0] ^= 8;
      rejects(v.index, v.size, leaf, wrong, root, "modified proof bit 3");
    }
    if (!proof.empty()) {
      rejects(v.index, v.size, leaf, std::vector<Hash>(proof.begin(), proof.end() - 1), root,
              "removed component");
    }
    if (proof.size() > 1) {
      std::vector<Hash> wrong = {proof[0], SomeHash()};
      wrong.insert(wrong.end(), proof.begin() + 1, proof.end());
      rejects(v.index, v.size, leaf, wrong, root, "inserted component");
    }
  }
}

// The probes of proof/verify_test.go corruptConsistencyProof, on the published vectors.
TEST_F(MerklePublished, CorruptedPublishedConsistencyProofsAreRejected) {
  const auto roots = RootHashes();
  for (const ConsistencyVector& v : ConsistencyVectors()) {
    if (v.proof.empty()) continue;  // as verify_test.go: only non-trivial proofs
    SCOPED_TRACE(absl::StrCat("first ", v.first, " second ", v.second));
    const Hash& root1 = roots[v.first];
    const Hash& root2 = roots[v.second];
    const std::vector<Hash>& proof = v.proof;
    auto rejects = [&](uint64_t first, uint64_t second, const Hash& r1, const Hash& r2,
                       const std::vector<Hash>& p, const char* what) {
      EXPECT_FALSE(VerifyConsistency(first, second, r1, r2, p).ok()) << what;
    };
    rejects(v.first - 1, v.second, root1, root2, proof, "size1 - 1");
    rejects(v.first + 1, v.second, root1, root2, proof, "size1 + 1");
    rejects(v.first ^ 2, v.second, root1, root2, proof, "size1 ^ 2");
    rejects(v.first, v.second * 2, root1, root2, proof, "size2 * 2");
    rejects(v.first, v.second / 2, root1, root2, proof, "size2 / 2");
    rejects(v.first, v.second, SomeHash(), root2, proof, "wrong root1");
    rejects(v.first, v.second, root1, SomeHash(), proof, "wrong root2");
    rejects(v.first, v.second, root2, root1, proof, "swapped roots");
    rejects(v.first, v.second, root1, root2, {}, "empty proof");
    for (const Hash& extra : {EmptyTreeHash(), root1, root2}) {
      auto extended = proof;
      extended.push_back(extra);
      rejects(v.first, v.second, root1, root2, extended, "trailing hash");
    }
    for (const Hash& extra : {EmptyTreeHash(), root1, root2, proof[0]}) {
      auto prepended = proof;
      prepended.insert(prepended.begin(), extra);
      rejects(v.first, v.second, root1, root2, prepended, "preceding hash");
    }
    rejects(v.first, v.second, root1, root2, std::vector<Hash>(proof.begin(), proof.end() - 1),
            "truncated proof");
    for (size_t i = 0; i < proof.size(); ++i) {
      auto wrong = proof;
      wrong[i][0] ^= 16;
      rejects(v.first, v.second, root1, root2, wrong, "modified proof bit 4");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Cross-check with the reference implementation for every size up to kMaxSize.

TEST(MerkleReference, RootsOfEverySize) {
  const BuiltTree& t = Big();
  for (uint64_t n = 0; n <= kMaxSize; ++n) {
    const Hash want = RefRoot(t.leaves, 0, n);
    EXPECT_EQ(ToHex(t.roots[n]), ToHex(want)) << "size " << n;
    if (n > 0) {
      auto sub = SubtreeRoot(t.nodes, 0, n);
      ASSERT_TRUE(sub.ok()) << sub.status();
      EXPECT_EQ(ToHex(*sub), ToHex(want)) << "size " << n;
    }
  }
}

TEST(MerkleReference, StoredNodesAreTheCompleteSubtrees) {
  const BuiltTree& t = Big();
  size_t count = 0;
  for (uint32_t level = 0; (uint64_t{1} << level) <= kMaxSize; ++level) {
    for (uint64_t index = 0; ((index + 1) << level) <= kMaxSize; ++index) {
      auto got = t.nodes.GetNode(level, index);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, RefRoot(t.leaves, index << level, (index + 1) << level))
          << "node (" << level << ", " << index << ")";
      ++count;
    }
  }
  EXPECT_EQ(t.nodes.nodes().size(), count);
}

TEST(MerkleReference, SubtreeRootOfEveryAlignedRange) {
  const BuiltTree& t = Big();
  for (uint64_t begin = 0; begin < kMaxSize; ++begin) {
    for (uint64_t end = begin + 1; end <= kMaxSize; ++end) {
      auto got = SubtreeRoot(t.nodes, begin, end);
      if ((begin & (std::bit_ceil(end - begin) - 1)) == 0) {
        ASSERT_TRUE(got.ok()) << begin << ".." << end << ": " << got.status();
        EXPECT_EQ(*got, RefRoot(t.leaves, begin, end)) << begin << ".." << end;
      } else {
        EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << begin << ".." << end;
      }
    }
  }
}

TEST(MerkleReference, EveryInclusionProof) {
  const BuiltTree& t = Big();
  for (uint64_t n = 1; n <= kMaxSize; ++n) {
    for (uint64_t i = 0; i < n; ++i) {
      const std::vector<Hash> want = RefPath(t.leaves, i, 0, n);
      t.nodes.ResetReads();
      auto proof = InclusionProof(t.nodes, i, n);
      ASSERT_TRUE(proof.ok()) << i << " in " << n << ": " << proof.status();
      ASSERT_EQ(Hexes(*proof), Hexes(want)) << i << " in " << n;
      // O(log n) reads: one per proof hash, plus the fold of at most one incomplete subtree.
      EXPECT_LE(t.nodes.reads(), 2 * static_cast<size_t>(std::bit_width(n))) << i << " in " << n;
      auto root = RootFromInclusionProof(i, n, t.leaves[i], *proof);
      ASSERT_TRUE(root.ok()) << root.status();
      EXPECT_EQ(*root, t.roots[n]);
      EXPECT_TRUE(VerifyInclusion(i, n, t.leaves[i], *proof, t.roots[n]).ok()) << i << " in " << n;
    }
  }
}

TEST(MerkleReference, EveryConsistencyProof) {
  const BuiltTree& t = Big();
  for (uint64_t n = 1; n <= kMaxSize; ++n) {
    for (uint64_t m = 1; m <= n; ++m) {
      auto proof = ConsistencyProof(t.nodes, m, n);
      ASSERT_TRUE(proof.ok()) << m << " to " << n << ": " << proof.status();
      ASSERT_EQ(Hexes(*proof), Hexes(RefConsistency(t.leaves, m, n))) << m << " to " << n;
      EXPECT_TRUE(VerifyConsistency(m, n, t.roots[m], t.roots[n], *proof).ok()) << m << " to " << n;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Every mutated proof is rejected.

TEST(MerkleMutation, InclusionProofs) {
  const BuiltTree& t = Big();
  const std::vector<size_t> bits = {0, 7, 100, 255};
  for (uint64_t n = 1; n <= kMaxSize; ++n) {
    for (uint64_t i = 0; i < n; ++i) {
      const std::vector<Hash> proof = RefPath(t.leaves, i, 0, n);
      const Hash& leaf = t.leaves[i];
      const Hash& root = t.roots[n];
      ASSERT_TRUE(VerifyInclusion(i, n, leaf, proof, root).ok());
      auto bad = [&](uint64_t index, uint64_t size, const Hash& lh, const std::vector<Hash>& p,
                     const Hash& r) { return !VerifyInclusion(index, size, lh, p, r).ok(); };
      const std::string at = absl::StrCat("leaf ", i, " of ", n, ": ");
      // One bit flipped in each proof hash, in the leaf hash, in the root.
      for (size_t h = 0; h < proof.size(); ++h) {
        for (size_t bit : bits) {
          auto p = proof;
          p[h] = FlipBit(p[h], bit);
          EXPECT_TRUE(bad(i, n, leaf, p, root)) << at << "bit " << bit << " of hash " << h;
        }
      }
      for (size_t bit : bits) {
        EXPECT_TRUE(bad(i, n, FlipBit(leaf, bit), proof, root)) << at << "leaf bit " << bit;
        EXPECT_TRUE(bad(i, n, leaf, proof, FlipBit(root, bit))) << at << "root bit " << bit;
      }
      // A hash dropped (anywhere), added (anywhere), or two swapped.
      for (size_t h = 0; h < proof.size(); ++h) {
        auto p = proof;
        p.erase(p.begin() + static_cast<std::ptrdiff_t>(h));
        EXPECT_TRUE(bad(i, n, leaf, p, root)) << at << "dropped hash " << h;
      }
      for (size_t h = 0; h <= proof.size(); ++h) {
        for (const Hash& extra : {SomeHash(), root, leaf}) {
          auto p = proof;
          p.insert(p.begin() + static_cast<std::ptrdiff_t>(h), extra);
          EXPECT_TRUE(bad(i, n, leaf, p, root)) << at << "hash added at " << h;
        }
      }
      for (size_t h = 0; h + 1 < proof.size(); ++h) {
        if (proof[h] == proof[h + 1]) continue;
        auto p = proof;
        std::swap(p[h], p[h + 1]);
        EXPECT_TRUE(bad(i, n, leaf, p, root)) << at << "swapped hashes " << h;
      }
      // Another leaf's hash, or this one at another index.
      EXPECT_TRUE(bad(i, n, t.leaves[(i + 1) % kMaxSize], proof, root)) << at << "other leaf";
      for (uint64_t j = 0; j <= n; ++j) {
        if (j != i) {
          EXPECT_TRUE(bad(j, n, leaf, proof, root)) << at << "index " << j;
        }
      }
      EXPECT_TRUE(bad(n + 1, n, leaf, proof, root)) << at << "index n + 1";
      EXPECT_TRUE(bad(UINT64_MAX, n, leaf, proof, root)) << at << "index max";
      // Another size, with the root of the claimed size or with the true root of that size.
      for (uint64_t size = 0; size <= kMaxSize; ++size) {
        if (size == n) continue;
        EXPECT_TRUE(bad(i, size, leaf, proof, t.roots[size])) << at << "size " << size;
      }
      EXPECT_TRUE(bad(i, 0, leaf, proof, root)) << at << "size 0";
      EXPECT_TRUE(bad(i, n * 2, leaf, proof, root)) << at << "size * 2";
      EXPECT_TRUE(bad(i, n / 2, leaf, proof, root)) << at << "size / 2";
      // Another root.
      EXPECT_TRUE(bad(i, n, leaf, proof, EmptyRoot())) << at << "empty root";
      for (uint64_t s = 1; s <= kMaxSize; ++s) {
        if (s != n) {
          EXPECT_TRUE(bad(i, n, leaf, proof, t.roots[s])) << at << "root of " << s;
        }
      }
    }
  }
}

TEST(MerkleMutation, ConsistencyProofs) {
  const BuiltTree& t = Big();
  const std::vector<size_t> bits = {0, 7, 100, 255};
  for (uint64_t n = 2; n <= kMaxSize; ++n) {
    for (uint64_t m = 1; m < n; ++m) {
      const std::vector<Hash> proof = RefConsistency(t.leaves, m, n);
      const Hash& r1 = t.roots[m];
      const Hash& r2 = t.roots[n];
      ASSERT_TRUE(VerifyConsistency(m, n, r1, r2, proof).ok()) << m << " to " << n;
      auto bad = [&](uint64_t first, uint64_t second, const Hash& a, const Hash& b,
                     const std::vector<Hash>& p) {
        return !VerifyConsistency(first, second, a, b, p).ok();
      };
      const std::string at = absl::StrCat(m, " to ", n, ": ");
      for (size_t h = 0; h < proof.size(); ++h) {
        for (size_t bit : bits) {
          auto p = proof;
          p[h] = FlipBit(p[h], bit);
          EXPECT_TRUE(bad(m, n, r1, r2, p)) << at << "bit " << bit << " of hash " << h;
        }
      }
      for (size_t bit : bits) {
        EXPECT_TRUE(bad(m, n, FlipBit(r1, bit), r2, proof)) << at << "root1 bit " << bit;
        EXPECT_TRUE(bad(m, n, r1, FlipBit(r2, bit), proof)) << at << "root2 bit " << bit;
      }
      EXPECT_TRUE(bad(m, n, r2, r1, proof)) << at << "swapped roots";
      EXPECT_TRUE(bad(m, n, r1, r2, {})) << at << "empty proof";
      for (size_t h = 0; h < proof.size(); ++h) {
        auto p = proof;
        p.erase(p.begin() + static_cast<std::ptrdiff_t>(h));
        EXPECT_TRUE(bad(m, n, r1, r2, p)) << at << "dropped hash " << h;
      }
      for (size_t h = 0; h <= proof.size(); ++h) {
        for (const Hash& extra : {SomeHash(), r1, r2, proof[0]}) {
          auto p = proof;
          p.insert(p.begin() + static_cast<std::ptrdiff_t>(h), extra);
          EXPECT_TRUE(bad(m, n, r1, r2, p)) << at << "hash added at " << h;
        }
      }
      for (size_t h = 0; h + 1 < proof.size(); ++h) {
        if (proof[h] == proof[h + 1]) continue;
        auto p = proof;
        std::swap(p[h], p[h + 1]);
        EXPECT_TRUE(bad(m, n, r1, r2, p)) << at << "swapped hashes " << h;
      }
      // Another first size: with the claimed root1, and with the true root of that size.
      for (uint64_t first = 0; first <= kMaxSize; ++first) {
        if (first == m) continue;
        EXPECT_TRUE(bad(first, n, r1, r2, proof)) << at << "first " << first;
        EXPECT_TRUE(bad(first, n, t.roots[first], r2, proof)) << at << "first " << first;
      }
      // Another second size, with the true root of that size. (With root2 unchanged, RFC 9162
      // 2.1.4.2 accepts some other sizes whose verification runs the same steps, e.g. the
      // proof {d1, d2} of 1 -> 3 also checks as 1 -> 4; a checkpoint binds size and root.)
      for (uint64_t second = 0; second <= kMaxSize; ++second) {
        if (second == n) continue;
        EXPECT_TRUE(bad(m, second, r1, t.roots[second], proof)) << at << "second " << second;
      }
      // verify_test.go's probes of the second size, with root2 unchanged.
      EXPECT_TRUE(bad(m, n * 2, r1, r2, proof)) << at << "second * 2";
      EXPECT_TRUE(bad(m, n / 2, r1, r2, proof)) << at << "second / 2";
      // Roots of other trees of the same sizes.
      EXPECT_TRUE(bad(m, n, EmptyRoot(), r2, proof)) << at << "empty root1";
      EXPECT_TRUE(bad(m, n, r1, EmptyRoot(), proof)) << at << "empty root2";
    }
  }
}

// A proof from another log (same sizes, different leaves) does not verify against this one.
TEST(MerkleMutation, ProofsOfAnotherLogAreRejected) {
  const BuiltTree& t = Big();
  BuiltTree other;
  Build(&other, 20, "other");
  for (uint64_t n = 2; n <= 20; ++n) {  // (the proof in a tree of one leaf is empty)
    for (uint64_t i = 0; i < n; ++i) {
      const auto proof = RefPath(other.leaves, i, 0, n);
      EXPECT_FALSE(VerifyInclusion(i, n, t.leaves[i], proof, t.roots[n]).ok());
      EXPECT_FALSE(VerifyInclusion(i, n, other.leaves[i], proof, t.roots[n]).ok());
    }
    for (uint64_t m = 1; m < n; ++m) {
      const auto proof = RefConsistency(other.leaves, m, n);
      EXPECT_FALSE(VerifyConsistency(m, n, t.roots[m], t.roots[n], proof).ok());
      EXPECT_FALSE(VerifyConsistency(m, n, other.roots[m], t.roots[n], proof).ok());
      EXPECT_FALSE(VerifyConsistency(m, n, t.roots[m], other.roots[n], proof).ok());
    }
  }
}

// ---------------------------------------------------------------------------------------------
// CompactTree::Load.

TEST(MerkleCompactTree, LoadGivesTheSameRootAndContinuesIdentically) {
  const BuiltTree& t = Big();
  for (uint64_t s = 0; s <= kMaxSize; ++s) {
    t.nodes.ResetReads();
    auto loaded = CompactTree::Load(s, t.nodes);
    ASSERT_TRUE(loaded.ok()) << "size " << s << ": " << loaded.status();
    EXPECT_EQ(t.nodes.reads(), static_cast<size_t>(std::popcount(s))) << "size " << s;
    EXPECT_EQ(loaded->size(), s);
    EXPECT_EQ(loaded->Root(), t.roots[s]) << "size " << s;
    CompactTree tree = *loaded;
    for (uint64_t i = s; i < kMaxSize; ++i) {
      size_t writes = 0;
      tree.Append(t.leaves[i], [&](uint32_t level, uint64_t index, const Hash& hash) {
        ++writes;
        auto stored = t.nodes.GetNode(level, index);
        ASSERT_TRUE(stored.ok()) << "loaded at " << s << ": unexpected node (" << level << ", "
                                 << index << ")";
        EXPECT_EQ(hash, *stored) << "loaded at " << s << ": node (" << level << ", " << index
                                 << ")";
      });
      EXPECT_EQ(writes, 1u + static_cast<size_t>(std::countr_one(i)));
      EXPECT_EQ(tree.size(), i + 1);
      EXPECT_EQ(tree.Root(), t.roots[i + 1]) << "loaded at " << s << ", size " << i + 1;
    }
  }
}

TEST(MerkleCompactTree, AppendWithoutSinkAndCopiesAreIndependent) {
  const BuiltTree& t = Big();
  CompactTree a;
  for (uint64_t i = 0; i < 10; ++i) a.Append(t.leaves[i], nullptr);
  EXPECT_EQ(a.Root(), t.roots[10]);
  CompactTree b = a;
  b.Append(t.leaves[10], nullptr);
  EXPECT_EQ(a.Root(), t.roots[10]);
  EXPECT_EQ(a.size(), 10u);
  EXPECT_EQ(b.Root(), t.roots[11]);
}

TEST(MerkleCompactTree, LoadFailsWhenANodeIsMissing) {
  const BuiltTree& t = Big();
  auto beyond = CompactTree::Load(kMaxSize + 1, t.nodes);
  EXPECT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.status().code(), absl::StatusCode::kNotFound);
  MemoryNodes empty;
  auto none = CompactTree::Load(5, empty);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  auto zero = CompactTree::Load(0, empty);
  ASSERT_TRUE(zero.ok()) << zero.status();
  EXPECT_EQ(zero->Root(), EmptyRoot());
}

// ---------------------------------------------------------------------------------------------
// Edge cases of the arguments.

TEST(MerkleEdge, InclusionIndexNotBelowSize) {
  const BuiltTree& t = Big();
  for (uint64_t n : {uint64_t{0}, uint64_t{1}, uint64_t{7}, uint64_t{8}, kMaxSize}) {
    for (uint64_t i : {n, n + 1, n + 5, UINT64_MAX}) {
      auto proof = InclusionProof(t.nodes, i, n);
      EXPECT_EQ(proof.status().code(), absl::StatusCode::kInvalidArgument) << i << " in " << n;
      auto root = RootFromInclusionProof(i, n, t.leaves[0], {});
      EXPECT_EQ(root.status().code(), absl::StatusCode::kInvalidArgument) << i << " in " << n;
      EXPECT_FALSE(VerifyInclusion(i, n, t.leaves[0], {}, t.roots[n]).ok()) << i << " in " << n;
    }
  }
  // RFC 9162 2.1.3.2: a tree of size 0 has no leaves, whatever the root.
  EXPECT_FALSE(VerifyInclusion(0, 0, EmptyRoot(), {}, EmptyRoot()).ok());
  EXPECT_FALSE(VerifyInclusion(0, 0, SomeHash(), {}, SomeHash()).ok());
}

TEST(MerkleEdge, InclusionInATreeOfOneLeaf) {
  // verify_test.go TestVerifyInclusionSingleEntry: the root is the leaf hash; the proof empty.
  const Hash leaf = HashLeaf("data");
  EXPECT_TRUE(VerifyInclusion(0, 1, leaf, {}, leaf).ok());
  EXPECT_FALSE(VerifyInclusion(0, 1, leaf, {}, EmptyRoot()).ok());
  EXPECT_FALSE(VerifyInclusion(0, 1, EmptyRoot(), {}, leaf).ok());
  EXPECT_FALSE(VerifyInclusion(0, 1, leaf, std::vector<Hash>{leaf}, HashChildren(leaf, leaf)).ok());
}

TEST(MerkleEdge, RootFromInclusionProofRejectsWrongLengths) {
  const BuiltTree& t = Big();
  for (uint64_t n = 1; n <= 33; ++n) {
    for (uint64_t i = 0; i < n; ++i) {
      const auto proof = RefPath(t.leaves, i, 0, n);
      auto shorter = std::vector<Hash>(proof.begin(), proof.end() - (proof.empty() ? 0 : 1));
      if (!proof.empty()) {
        EXPECT_EQ(RootFromInclusionProof(i, n, t.leaves[i], shorter).status().code(),
                  absl::StatusCode::kInvalidArgument)
            << i << " in " << n;
      }
      auto longer = proof;
      longer.push_back(SomeHash());
      EXPECT_EQ(RootFromInclusionProof(i, n, t.leaves[i], longer).status().code(),
                absl::StatusCode::kInvalidArgument)
          << i << " in " << n;
    }
  }
}

TEST(MerkleEdge, ConsistencyArguments) {
  const BuiltTree& t = Big();
  // first == 0: no proof (RFC 9162 2.1.4 defines proofs for 0 < m).
  for (uint64_t n : {uint64_t{0}, uint64_t{1}, uint64_t{8}}) {
    EXPECT_EQ(ConsistencyProof(t.nodes, 0, n).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(VerifyConsistency(0, n, EmptyRoot(), t.roots[n], {}).ok());
    EXPECT_FALSE(
        VerifyConsistency(0, n, EmptyRoot(), t.roots[n], std::vector<Hash>{SomeHash()}).ok());
  }
  // first > second.
  const std::vector<std::pair<uint64_t, uint64_t>> backwards = {{2, 1}, {5, 0}, {9, 8}, {70, 69}};
  for (auto [m, n] : backwards) {
    EXPECT_EQ(ConsistencyProof(t.nodes, m, n).status().code(), absl::StatusCode::kInvalidArgument)
        << m << " to " << n;
    EXPECT_FALSE(VerifyConsistency(m, n, t.roots[m], t.roots[n], {}).ok()) << m << " to " << n;
    auto forward = RefConsistency(t.leaves, n == 0 ? 1 : n, m);
    EXPECT_FALSE(VerifyConsistency(m, n, t.roots[m], t.roots[n], forward).ok()) << m << " to " << n;
  }
  // first == second: the proof is empty and the roots must be equal.
  for (uint64_t n = 1; n <= kMaxSize; ++n) {
    auto proof = ConsistencyProof(t.nodes, n, n);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_TRUE(proof->empty()) << n;
    EXPECT_TRUE(VerifyConsistency(n, n, t.roots[n], t.roots[n], {}).ok()) << n;
    EXPECT_FALSE(VerifyConsistency(n, n, t.roots[n], t.roots[n - 1], {}).ok()) << n;
    EXPECT_FALSE(
        VerifyConsistency(n, n, t.roots[n], t.roots[n], std::vector<Hash>{t.roots[n]}).ok())
        << n;
    EXPECT_FALSE(
        VerifyConsistency(n, n, t.roots[n], t.roots[n], std::vector<Hash>{EmptyRoot()}).ok())
        << n;
  }
  // verify_test.go TestVerifyConsistency: an empty proof between different sizes.
  EXPECT_FALSE(VerifyConsistency(1, 2, t.roots[1], t.roots[2], {}).ok());
}

TEST(MerkleEdge, ProofsBeyondTheStoredTreeFail) {
  const BuiltTree& t = Big();
  EXPECT_FALSE(InclusionProof(t.nodes, 0, kMaxSize + 1).ok());
  EXPECT_FALSE(InclusionProof(t.nodes, kMaxSize - 1, kMaxSize + 2).ok());
  EXPECT_FALSE(ConsistencyProof(t.nodes, 3, kMaxSize + 1).ok());
  EXPECT_FALSE(SubtreeRoot(t.nodes, 64, kMaxSize + 1).ok());
  MemoryNodes empty;
  EXPECT_EQ(InclusionProof(empty, 0, 2).status().code(), absl::StatusCode::kNotFound);
  // A tree of one leaf needs no node for an inclusion proof.
  auto single = InclusionProof(empty, 0, 1);
  ASSERT_TRUE(single.ok()) << single.status();
  EXPECT_TRUE(single->empty());
}

TEST(MerkleEdge, SubtreeRootRejectsBadRanges) {
  const BuiltTree& t = Big();
  EXPECT_EQ(SubtreeRoot(t.nodes, 3, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SubtreeRoot(t.nodes, 5, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SubtreeRoot(t.nodes, 1, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SubtreeRoot(t.nodes, 2, 5).status().code(), absl::StatusCode::kInvalidArgument);
  auto one = SubtreeRoot(t.nodes, 5, 6);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(*one, t.leaves[5]);
  auto three = SubtreeRoot(t.nodes, 4, 7);
  ASSERT_TRUE(three.ok()) << three.status();
  EXPECT_EQ(*three, RefRoot(t.leaves, 4, 7));
}

}  // namespace
}  // namespace veta::merkle
