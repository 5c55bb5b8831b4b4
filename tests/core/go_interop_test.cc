// Interoperability of Veta's checkpoints and proofs with the Go reference code: every signed
// checkpoint, inclusion proof and consistency proof made here by core/verify/merkle.h and
// core/verify/note.h is handed to tests/go/vetaverify, which checks it with
// golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog (see that file). Tampered proofs and
// notes must be refused.
//
// The Go program's path comes from the compile definition VETA_GO_VERIFIER (set by
// tests/go/go_verifier.cmake). The tests fail, and do not skip, when it is absent. About 260
// processes are spawned in all.
#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/strings.h"
#include "core/verify/keys.h"
#include "core/verify/merkle.h"
#include "core/verify/note.h"
#include "core/verify/sha256.h"
#include "gtest/gtest.h"
#include "tests/core/test_util.h"

#ifndef VETA_GO_VERIFIER
#define VETA_GO_VERIFIER ""
#endif

namespace veta {
namespace {

constexpr std::string_view kGoVerifier = VETA_GO_VERIFIER;
constexpr std::string_view kOrigin = "veta.example/go-interop";
constexpr uint64_t kMaxSize = 40;

// Exit status of vetaverify: 0 valid, 1 refused (2 is a usage error, never expected here).
constexpr int kValid = 0;
constexpr int kRefused = 1;

std::string Quote(std::string_view arg) {
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

struct RunResult {
  int exit_code = -1;  // -1 when the process did not exit normally
  std::string output;  // stdout and stderr together
};

// Runs vetaverify with `args`; its exit code and output.
RunResult RunVerifier(const std::vector<std::string>& args) {
  std::string command = Quote(kGoVerifier);
  for (const std::string& arg : args) command += " " + Quote(arg);
  command += " 2>&1";
  RunResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    result.output = "popen failed";
    return result;
  }
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

std::string Describe(const std::vector<std::string>& args, const RunResult& result) {
  std::string out = "vetaverify";
  for (const std::string& arg : args) out += " " + arg;
  return StrCat(out, "\n  exit code ", result.exit_code, ", output: ", result.output);
}

void ExpectExit(int want, const std::vector<std::string>& args) {
  const RunResult result = RunVerifier(args);
  EXPECT_EQ(result.exit_code, want) << Describe(args, result);
}

std::vector<std::string> Hexes(const std::vector<Hash>& hashes) {
  std::vector<std::string> out;
  for (const Hash& h : hashes) out.push_back(ToHex(h));
  return out;
}

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class MapNodeReader : public merkle::NodeReader {
 public:
  absl::StatusOr<Hash> GetNode(uint32_t level, uint64_t index) const override {
    auto it = nodes_.find({level, index});
    if (it == nodes_.end()) {
      return absl::NotFoundError(StrCat("no node (", level, ", ", index, ")"));
    }
    return it->second;
  }
  void Put(uint32_t level, uint64_t index, const Hash& hash) { nodes_[{level, index}] = hash; }

 private:
  std::map<std::pair<uint32_t, uint64_t>, Hash> nodes_;
};

// A log of kMaxSize leaves with a signed checkpoint file for every size 1..kMaxSize.
struct Log {
  explicit Log(const PrivateKey& key, const testing::TempDir& dir, std::string_view leaf_prefix,
               std::string_view file_prefix) {
    merkle::CompactTree tree;
    for (uint64_t i = 0; i < kMaxSize; ++i) {
      const Hash leaf = merkle::HashLeaf(StrCat(leaf_prefix, " leaf ", i));
      leaves.push_back(leaf);
      tree.Append(leaf, [this](uint32_t level, uint64_t index, const Hash& hash) {
        nodes.Put(level, index, hash);
      });
      const uint64_t size = tree.size();
      roots[size] = tree.Root();
      texts[size] = note::CheckpointText({std::string(kOrigin), size, roots[size]});
      absl::StatusOr<std::string> signed_note = note::Sign(texts[size], kOrigin, key);
      EXPECT_TRUE(signed_note.ok()) << signed_note.status();
      notes[size] = signed_note.value_or("");
      files[size] = dir.Sub(StrCat(file_prefix, size, ".note"));
      std::ofstream(files[size], std::ios::binary) << notes[size];
    }
  }

  MapNodeReader nodes;
  std::vector<Hash> leaves;
  std::map<uint64_t, Hash> roots;
  std::map<uint64_t, std::string> texts;
  std::map<uint64_t, std::string> notes;
  std::map<uint64_t, std::string> files;
};

class GoInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(kGoVerifier.empty())
        << "built without VETA_GO_VERIFIER: tests/CMakeLists.txt must include "
           "tests/go/go_verifier.cmake and define VETA_GO_VERIFIER=\"${VETA_GO_VERIFIER_PATH}\"";
    ASSERT_TRUE(std::filesystem::is_regular_file(std::string(kGoVerifier)))
        << "the Go verifier " << kGoVerifier
        << " is missing: build the target veta_go_verifier (needs the Debian packages "
           "golang-go golang-golang-x-mod-dev)";
    absl::StatusOr<PrivateKey> key = PrivateKey::Generate(KeyAlgorithm::kEd25519);
    ASSERT_TRUE(key.ok()) << key.status();
    key_.emplace(*std::move(key));
    absl::StatusOr<std::string> vkey = note::VerifierKey(kOrigin, key_->public_key());
    ASSERT_TRUE(vkey.ok()) << vkey.status();
    vkey_ = *vkey;
    log_.emplace(*key_, dir_, "main", "cp");
  }

  std::string WriteFile(std::string_view name, std::string_view contents) {
    const std::string path = dir_.Sub(name);
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  std::vector<std::string> InclusionArgs(uint64_t index, uint64_t size, const Hash& leaf,
                                         const std::vector<Hash>& proof) {
    return Concat({"inclusion", vkey_, log_->files.at(size), StrCat(index), ToHex(leaf)},
                  Hexes(proof));
  }

  std::vector<std::string> ConsistencyArgs(const std::string& old_file, const std::string& new_file,
                                           const std::vector<Hash>& proof) {
    return Concat({"consistency", vkey_, old_file, new_file}, Hexes(proof));
  }

  testing::TempDir dir_;
  std::optional<PrivateKey> key_;
  std::string vkey_;
  std::optional<Log> log_;
};

// The (index, size) pairs checked: every index of a few sizes, the first, middle and last
// index of sizes around powers of two, and one scattered index for every size.
std::set<std::pair<uint64_t, uint64_t>> InclusionPairs() {
  std::set<std::pair<uint64_t, uint64_t>> pairs;
  for (uint64_t size : {7u, 13u}) {
    for (uint64_t i = 0; i < size; ++i) pairs.insert({i, size});
  }
  for (uint64_t size : {1u, 2u, 3u, 4u, 5u, 8u, 9u, 15u, 16u, 17u, 31u, 32u, 33u, 40u}) {
    pairs.insert({0, size});
    pairs.insert({size / 2, size});
    pairs.insert({size - 1, size});
  }
  for (uint64_t size = 1; size <= kMaxSize; ++size) pairs.insert({(size * 13 + 5) % size, size});
  return pairs;
}

// The (first, second) pairs checked, likewise.
std::set<std::pair<uint64_t, uint64_t>> ConsistencyPairs() {
  std::set<std::pair<uint64_t, uint64_t>> pairs;
  for (uint64_t m = 1; m <= 11; ++m) pairs.insert({m, 11});
  for (uint64_t n : {1u, 2u, 3u, 4u, 5u, 8u, 9u, 16u, 17u, 32u, 33u, 40u}) {
    pairs.insert({1, n});
    pairs.insert({n, n});
    if (n > 1) pairs.insert({n - 1, n});
    if (n > 2) pairs.insert({n / 2, n});
  }
  for (uint64_t n = 2; n <= kMaxSize; ++n) pairs.insert({(n * 7 + 3) % (n - 1) + 1, n});
  return pairs;
}

TEST_F(GoInteropTest, EveryCheckpointOpensWithTheGoNotePackage) {
  for (uint64_t size = 1; size <= kMaxSize; ++size) {
    const std::vector<std::string> args = {"checkpoint", vkey_, log_->files.at(size)};
    const RunResult result = RunVerifier(args);
    EXPECT_EQ(result.exit_code, kValid) << Describe(args, result);
    EXPECT_EQ(result.output, StrCat(size, " ", ToHex(log_->roots.at(size)), "\n"))
        << Describe(args, result);
  }
}

TEST_F(GoInteropTest, GoAcceptsCheckpointExtensionLines) {
  const std::string text = log_->texts.at(5) + "extension line one\nsecond extension\n";
  absl::StatusOr<std::string> signed_note = note::Sign(text, kOrigin, *key_);
  ASSERT_TRUE(signed_note.ok()) << signed_note.status();
  const std::vector<std::string> args = {"checkpoint", vkey_,
                                         WriteFile("extended.note", *signed_note)};
  const RunResult result = RunVerifier(args);
  EXPECT_EQ(result.exit_code, kValid) << Describe(args, result);
  EXPECT_EQ(result.output, StrCat("5 ", ToHex(log_->roots.at(5)), "\n"));
}

TEST_F(GoInteropTest, InclusionProofsVerifyWithTlogCheckRecord) {
  const auto pairs = InclusionPairs();
  EXPECT_GE(pairs.size(), 80u);
  for (const auto& [index, size] : pairs) {
    absl::StatusOr<std::vector<Hash>> proof = merkle::InclusionProof(log_->nodes, index, size);
    ASSERT_TRUE(proof.ok()) << proof.status() << " index " << index << " size " << size;
    // Our own verifier first, so that a failure below points at the Go side or the format.
    EXPECT_TRUE(
        merkle::VerifyInclusion(index, size, log_->leaves[index], *proof, log_->roots.at(size))
            .ok())
        << "index " << index << " size " << size;
    ExpectExit(kValid, InclusionArgs(index, size, log_->leaves[index], *proof));
  }
}

TEST_F(GoInteropTest, ConsistencyProofsVerifyWithTlogCheckTree) {
  const auto pairs = ConsistencyPairs();
  EXPECT_GE(pairs.size(), 70u);
  for (const auto& [first, second] : pairs) {
    absl::StatusOr<std::vector<Hash>> proof = merkle::ConsistencyProof(log_->nodes, first, second);
    ASSERT_TRUE(proof.ok()) << proof.status() << " first " << first << " second " << second;
    EXPECT_TRUE(merkle::VerifyConsistency(first, second, log_->roots.at(first),
                                          log_->roots.at(second), *proof)
                    .ok())
        << "first " << first << " second " << second;
    ExpectExit(kValid, ConsistencyArgs(log_->files.at(first), log_->files.at(second), *proof));
  }
}

TEST_F(GoInteropTest, GoRefusesTamperedInclusionProofs) {
  struct Case {
    uint64_t index, size;
  };
  for (const Case c : {Case{0, 2}, Case{5, 13}, Case{12, 13}, Case{20, 33}, Case{39, 40}}) {
    absl::StatusOr<std::vector<Hash>> proof = merkle::InclusionProof(log_->nodes, c.index, c.size);
    ASSERT_TRUE(proof.ok()) << proof.status();
    ASSERT_FALSE(proof->empty());
    const Hash leaf = log_->leaves[c.index];
    // The genuine proof, as a control.
    ExpectExit(kValid, InclusionArgs(c.index, c.size, leaf, *proof));
    // One bit flipped in the last (root-side) hash.
    std::vector<Hash> mutated = *proof;
    mutated.back()[7] ^= 0x10;
    ExpectExit(kRefused, InclusionArgs(c.index, c.size, leaf, mutated));
    // The proof of another leaf index.
    ExpectExit(kRefused, InclusionArgs((c.index + 1) % c.size, c.size, leaf, *proof));
    // A hash missing.
    std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
    ExpectExit(kRefused, InclusionArgs(c.index, c.size, leaf, shorter));
  }
  // Leaf-to-root order matters: the reversed path of a non-symmetric proof is refused.
  absl::StatusOr<std::vector<Hash>> proof = merkle::InclusionProof(log_->nodes, 5, 13);
  ASSERT_TRUE(proof.ok()) << proof.status();
  std::vector<Hash> reversed(proof->rbegin(), proof->rend());
  ExpectExit(kRefused, InclusionArgs(5, 13, log_->leaves[5], reversed));
  // A leaf hash that is not in the tree.
  ExpectExit(kRefused, InclusionArgs(5, 13, merkle::HashLeaf("not a leaf"), *proof));
}

TEST_F(GoInteropTest, GoRefusesTamperedConsistencyProofs) {
  for (const auto& [first, second] :
       std::vector<std::pair<uint64_t, uint64_t>>{{3, 7}, {4, 11}, {17, 40}}) {
    absl::StatusOr<std::vector<Hash>> proof = merkle::ConsistencyProof(log_->nodes, first, second);
    ASSERT_TRUE(proof.ok()) << proof.status();
    ASSERT_FALSE(proof->empty());
    std::vector<Hash> mutated = *proof;
    mutated.front()[0] ^= 0x01;
    ExpectExit(kRefused, ConsistencyArgs(log_->files.at(first), log_->files.at(second), mutated));
    // The checkpoints swapped.
    ExpectExit(kRefused, ConsistencyArgs(log_->files.at(second), log_->files.at(first), *proof));
  }
  // A fork: another log under the same key whose tree of 17 leaves differs. The genuine proof
  // from 17 to 40 must not tie the forked checkpoint to ours.
  Log fork(*key_, dir_, "fork", "fork");
  absl::StatusOr<std::vector<Hash>> proof = merkle::ConsistencyProof(log_->nodes, 17, 40);
  ASSERT_TRUE(proof.ok()) << proof.status();
  ExpectExit(kValid, ConsistencyArgs(log_->files.at(17), log_->files.at(40), *proof));
  ExpectExit(kRefused, ConsistencyArgs(fork.files.at(17), log_->files.at(40), *proof));
}

TEST_F(GoInteropTest, GoRefusesForeignKeysAndAlteredNotes) {
  const std::string good = log_->notes.at(9);
  ExpectExit(kValid, {"checkpoint", vkey_, WriteFile("good.note", good)});

  // Signed by another key under the same name.
  absl::StatusOr<PrivateKey> other = PrivateKey::Generate(KeyAlgorithm::kEd25519);
  ASSERT_TRUE(other.ok()) << other.status();
  absl::StatusOr<std::string> foreign = note::Sign(log_->texts.at(9), kOrigin, *other);
  ASSERT_TRUE(foreign.ok()) << foreign.status();
  ExpectExit(kRefused, {"checkpoint", vkey_, WriteFile("foreign.note", *foreign)});
  // ... and the other key's verifier key does not open our notes.
  absl::StatusOr<std::string> other_vkey = note::VerifierKey(kOrigin, other->public_key());
  ASSERT_TRUE(other_vkey.ok()) << other_vkey.status();
  ExpectExit(kRefused, {"checkpoint", *other_vkey, WriteFile("good2.note", good)});

  // Altered text under the original signature: the size, then one character of the root.
  std::string altered_size = good;
  const size_t size_line = altered_size.find("\n9\n");
  ASSERT_NE(size_line, std::string::npos);
  altered_size[size_line + 1] = '8';
  ExpectExit(kRefused, {"checkpoint", vkey_, WriteFile("altered-size.note", altered_size)});

  std::string altered_root = good;
  const size_t root_pos = altered_root.find("\n9\n") + 3;
  altered_root[root_pos] = altered_root[root_pos] == 'A' ? 'B' : 'A';
  ExpectExit(kRefused, {"checkpoint", vkey_, WriteFile("altered-root.note", altered_root)});

  // An altered signature.
  std::string altered_sig = good;
  const size_t sig_end = altered_sig.size() - 2;  // last base64 character before "\n"
  altered_sig[sig_end - 4] = altered_sig[sig_end - 4] == 'A' ? 'B' : 'A';
  ExpectExit(kRefused, {"checkpoint", vkey_, WriteFile("altered-sig.note", altered_sig)});

  // The signature removed.
  ExpectExit(kRefused, {"checkpoint", vkey_, WriteFile("unsigned.note", log_->texts.at(9))});

  // An inclusion proof checked against a checkpoint with an altered note is refused even
  // though the proof itself is genuine.
  absl::StatusOr<std::vector<Hash>> proof = merkle::InclusionProof(log_->nodes, 3, 9);
  ASSERT_TRUE(proof.ok()) << proof.status();
  ExpectExit(kRefused, Concat({"inclusion", vkey_, WriteFile("altered-root2.note", altered_root),
                               "3", ToHex(log_->leaves[3])},
                              Hexes(*proof)));
}

}  // namespace
}  // namespace veta
