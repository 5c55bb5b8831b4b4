// C2SP tlog-cosignature (cosignature/v1, Ed25519) and tlog-policy, core/verify/cosignature.h.
//
// golang.org/x/mod 0.7.0 (Debian) knows only signature type 0x01, so the bytes are checked
// against the spec by hand: the expected vkey and signature line below were computed with
// Python's `cryptography` (an independent Ed25519) from RFC 8032's TEST 1 seed, the spec's
// example checkpoint and the spec's example time 1679315147, following tlog-cosignature
// literally (key id = SHA-256(name || "\n" || 0x04 || key)[:4], message "cosignature/v1\n"
// "time T\n" || body, blob = key id || u64 big-endian T || signature).
#include "core/verify/cosignature.h"

#include <cstdio>
#include <string>
#include <vector>

#include "core/base/strings.h"
#include "core/verify/keys.h"
#include "core/verify/note.h"
#include "core/verify/tlog_proof.h"
#include "gtest/gtest.h"
#include "tests/core/test_util.h"

namespace veta::cosig {
namespace {

using ::veta::testing::Unhex;

constexpr std::string_view kSeedHex =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr std::string_view kName = "witness.example/w1";
constexpr std::string_view kVkey =
    "witness.example/w1+eb762cc2+BNdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea";
constexpr std::string_view kSpecCheckpoint =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
constexpr uint64_t kSpecTime = 1679315147;
constexpr std::string_view kLine =
    "\u2014 witness.example/w1 63YswgAAAABkGFDL+TPmh4BYuAjsYRoqMJCWb/gWJaeRF/kmm5tlCr9sJ57DLErur7K0"
    "yDXc2ArN+TIuotuB/HbuL3AJsp3bv/aNCQ==\n";

PrivateKey SeedKey() {
  auto key = PrivateKey::FromEd25519Seed(Unhex(kSeedHex));
  EXPECT_TRUE(key.ok()) << key.status();
  return *key;
}

TEST(CosignatureTest, VerifierKeyMatchesTheSpecByHand) {
  auto vkey = VerifierKey(kName, SeedKey().public_key());
  ASSERT_TRUE(vkey.ok()) << vkey.status();
  EXPECT_EQ(*vkey, kVkey);
  auto parsed = ParseVerifierKey(kVkey);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->name, kName);
  EXPECT_EQ(parsed->ed25519_raw, SeedKey().public_key().ed25519_raw());
}

TEST(CosignatureTest, SignedMessageIsTheSpecExample) {
  EXPECT_EQ(SignedMessage(kSpecTime, kSpecCheckpoint),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
            "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
}

TEST(CosignatureTest, SignMatchesAnIndependentImplementation) {
  auto line = Sign(kSpecCheckpoint, kName, SeedKey(), kSpecTime);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, kLine);
  auto cosigner = ParseVerifierKey(kVkey);
  ASSERT_TRUE(cosigner.ok());
  auto ts = Verify(kSpecCheckpoint, kLine, *cosigner);
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_EQ(*ts, kSpecTime);
}

TEST(CosignatureTest, SpecExampleLineCarriesItsTimestamp) {
  // The spec's example cosignature (no key given): 76 bytes, and its timestamp is the time of
  // the spec's example message, 1679315147 (0x641850CB) big-endian after the key id.
  const std::string b64 =
      "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+"
      "mbIUBkBIfZ+qnA==";
  std::string blob;
  ASSERT_TRUE(Base64Decode(b64, &blob));
  ASSERT_EQ(blob.size(), 76u);
  uint64_t t = 0;
  for (int i = 4; i < 12; ++i) t = (t << 8) | static_cast<uint8_t>(blob[i]);
  EXPECT_EQ(t, kSpecTime);
}

TEST(CosignatureTest, RefusesAlteredCheckpointTimeAndForeignLines) {
  auto cosigner = ParseVerifierKey(kVkey);
  ASSERT_TRUE(cosigner.ok());
  std::string other(kSpecCheckpoint);
  other[other.find("20852163")] = '3';
  EXPECT_EQ(Verify(other, kLine, *cosigner).status().code(), absl::StatusCode::kUnauthenticated);
  // The timestamp is signed: change one of its bytes.
  std::string blob;
  ASSERT_TRUE(
      Base64Decode(kLine.substr(kLine.rfind(' ') + 1, kLine.size() - kLine.rfind(' ') - 2), &blob));
  blob[11] ^= 1;
  const std::string moved = StrCat("\u2014 ", kName, " ", Base64Encode(blob), "\n");
  EXPECT_EQ(Verify(kSpecCheckpoint, moved, *cosigner).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Another name, or a note signature (type 0x01 key id) by the same key: not this cosigner.
  auto note_line = note::Sign(std::string(kSpecCheckpoint), kName, SeedKey());
  ASSERT_TRUE(note_line.ok());
  const std::string type1 = note_line->substr(note_line->find("\n\n") + 2);
  EXPECT_EQ(Verify(kSpecCheckpoint, type1, *cosigner).status().code(), absl::StatusCode::kNotFound);
  auto renamed = Sign(kSpecCheckpoint, "witness.example/w2", SeedKey(), kSpecTime);
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(Verify(kSpecCheckpoint, *renamed, *cosigner).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Verify(kSpecCheckpoint, "no dash", *cosigner).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CosignatureTest, RefusesBadKeysAndTimes) {
  // A checkpoint (type 0x01) verifier key is not a witness key.
  auto log_vkey = note::VerifierKey(kName, SeedKey().public_key());
  ASSERT_TRUE(log_vkey.ok());
  EXPECT_EQ(ParseVerifierKey(*log_vkey).status().code(), absl::StatusCode::kInvalidArgument);
  std::string wrong_id(kVkey);
  wrong_id[wrong_id.find('+') + 1] = 'f';
  EXPECT_EQ(ParseVerifierKey(wrong_id).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseVerifierKey("nonsense").ok());
  EXPECT_FALSE(Sign(kSpecCheckpoint, kName, SeedKey(), 0).ok());
  EXPECT_FALSE(Sign(kSpecCheckpoint, kName, SeedKey(), uint64_t{1} << 63).ok());
  EXPECT_FALSE(Sign("no newline", kName, SeedKey(), kSpecTime).ok());
}

// A log, three witnesses and checkpoints they cosign, all with keys made here.
struct Fixture {
  Fixture() {
    auto k = PrivateKey::Generate(KeyAlgorithm::kEd25519);
    log_key = *k;
    log_vkey = *note::VerifierKey("veta.test/log", log_key.public_key());
    for (int i = 0; i < 3; ++i) {
      witness_keys.push_back(*PrivateKey::Generate(KeyAlgorithm::kEd25519));
      names.push_back(StrCat("w", i, ".example"));
      vkeys.push_back(*VerifierKey(names.back(), witness_keys.back().public_key()));
    }
  }
  std::string Policy(std::string_view quorum_lines) const {
    std::string p = StrCat("# test policy\nlog ", log_vkey, " https://log.example\n");
    for (int i = 0; i < 3; ++i) p += StrCat("witness W", i, " ", vkeys[i], "\n");
    return p + std::string(quorum_lines);
  }
  std::string Note(uint64_t size, char root_byte) const {
    Hash root{};
    root.fill(static_cast<uint8_t>(root_byte));
    return *note::Sign(note::CheckpointText({"veta.test/log", size, root}), "veta.test/log",
                       log_key);
  }
  std::string Cosign(const std::string& note, const std::vector<int>& who) const {
    const std::string text = note.substr(0, note.find("\n\n") + 1);
    std::vector<std::string> lines;
    for (int i : who) lines.push_back(*Sign(text, names[i], witness_keys[i], 1700000000 + i));
    return *AddSignatureLines(note, lines);
  }
  PrivateKey log_key = SeedKey();
  std::string log_vkey;
  std::vector<PrivateKey> witness_keys;
  std::vector<std::string> names;
  std::vector<std::string> vkeys;
};

TEST(PolicyTest, TwoOfThreeNeedsTwoValidCosignatures) {
  Fixture f;
  auto policy = Policy::Parse(f.Policy("group G 2 W0 W1 W2\nquorum G\n"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  const std::string note = f.Note(7, 'a');
  EXPECT_EQ(policy->Verify(f.Cosign(note, {})).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(policy->Verify(f.Cosign(note, {1})).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto two = policy->Verify(f.Cosign(note, {0, 2}));
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->cosigned_by, (std::vector<std::string>{"W0", "W2"}));
  EXPECT_EQ(two->checkpoint.size, 7u);
  auto three = policy->Verify(f.Cosign(note, {0, 1, 2}));
  ASSERT_TRUE(three.ok()) << three.status();
  EXPECT_EQ(three->cosigned_by.size(), 3u);

  // Cosignatures moved onto another checkpoint (a fork) do not count: they fail to verify.
  const std::string fork = f.Note(7, 'b');
  const std::string cosigned = f.Cosign(note, {0, 1});
  auto parts = SplitNote(cosigned);
  ASSERT_TRUE(parts.ok());
  const std::vector<std::string> witness_lines(parts->signature_lines.begin() + 1,
                                               parts->signature_lines.end());
  const std::string moved = *AddSignatureLines(fork, witness_lines);
  EXPECT_EQ(policy->Verify(moved).status().code(), absl::StatusCode::kUnauthenticated);
  // Not signed by the log: refused whatever the witnesses say.
  Fixture other;
  EXPECT_FALSE(policy->Verify(other.Note(7, 'a')).ok());
  // An explicit log key overrides the policy's logs.
  EXPECT_FALSE(policy->Verify(f.Cosign(note, {0, 1}), other.log_vkey).ok());
}

TEST(PolicyTest, GroupsAnyAllAndNone) {
  Fixture f;
  auto nested =
      Policy::Parse(f.Policy("group A all W0 W1\ngroup B any W2\ngroup AB any A B\nquorum AB\n"));
  ASSERT_TRUE(nested.ok()) << nested.status();
  const std::string note = f.Note(3, 'c');
  EXPECT_TRUE(nested->Verify(f.Cosign(note, {2})).ok());
  EXPECT_TRUE(nested->Verify(f.Cosign(note, {0, 1})).ok());
  EXPECT_FALSE(nested->Verify(f.Cosign(note, {0})).ok());
  auto single = Policy::Parse(f.Policy("quorum W1\n"));
  ASSERT_TRUE(single.ok());
  EXPECT_TRUE(single->Verify(f.Cosign(note, {1})).ok());
  EXPECT_FALSE(single->Verify(f.Cosign(note, {0, 2})).ok());
  auto none = Policy::Parse(f.Policy("quorum none\n"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->Verify(note).ok());
}

TEST(PolicyTest, MalformedPoliciesAreRefusedWithTheLine) {
  Fixture f;
  const std::vector<std::string> bad = {
      f.Policy(""),                                            // no quorum
      f.Policy("quorum X\n"),                                  // undefined
      f.Policy("group G 4 W0 W1 W2\nquorum G\n"),              // k > n
      f.Policy("group G 0 W0\nquorum G\n"),                    // k < 1
      f.Policy("group G 1 W0 W0\nquorum G\n"),                 // member twice
      f.Policy("quorum W0\nquorum W1\n"),                      // two quorums
      f.Policy("witness W0 " + f.vkeys[0] + "\nquorum W0\n"),  // name reused
      f.Policy("witness W9 " + f.vkeys[0] + "\nquorum W9\n"),  // key reused
      f.Policy("witness W9 " + f.log_vkey + "\nquorum W9\n"),  // type 0x01 key
      f.Policy("frobnicate\nquorum W0\n"),
      f.Policy("log notakey\nquorum W0\n"),
      f.Policy("group none any W0\nquorum none\n"),
  };
  for (const std::string& text : bad) {
    auto p = Policy::Parse(text);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(p.status().message().find("line"), std::string_view::npos) << p.status();
  }
}

TEST(PolicyTest, WitnessUrlsAndTabsAreRead) {
  Fixture f;
  auto p = Policy::Parse(StrCat("log\t", f.log_vkey, "\n  witness  W0\t", f.vkeys[0],
                                "  http://127.0.0.1:1234/w  \n  # comment\n\nquorum W0"));
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->witnesses().size(), 1u);
  EXPECT_EQ(p->witnesses()[0].url, "http://127.0.0.1:1234/w");
  EXPECT_EQ(p->witnesses()[0].name, "w0.example");
  EXPECT_EQ(p->witnesses()[0].name_in_policy, "W0");
}

}  // namespace
}  // namespace veta::cosig

namespace veta::cosig {
namespace {

TEST(TlogProofTest, FormatParseRoundTripAndMalformed) {
  tlogproof::TlogProof p;
  p.extra = "entry bytes";
  p.index = 73894;
  Hash a{}, b{};
  a.fill(1);
  b.fill(2);
  p.inclusion = {a, b};
  p.checkpoint_note =
      "example.com/log\n5\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n\n\u2014 x YWJj\n";
  const std::string text = tlogproof::Format(p);
  EXPECT_EQ(text.substr(0, text.find('\n')), "c2sp.org/tlog-proof@v1");
  EXPECT_NE(text.find("\nextra ZW50cnkgYnl0ZXM=\nindex 73894\n"), std::string::npos) << text;
  auto back = tlogproof::Parse(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->extra, p.extra);
  EXPECT_EQ(back->index, p.index);
  EXPECT_EQ(back->inclusion, p.inclusion);
  EXPECT_EQ(back->checkpoint_note, p.checkpoint_note);
  // Without extra, as the spec allows.
  p.extra.clear();
  auto bare = tlogproof::Parse(tlogproof::Format(p));
  ASSERT_TRUE(bare.ok());
  EXPECT_TRUE(bare->extra.empty());
  for (const std::string bad :
       {"c2sp.org/tlog-proof@v2\nindex 1\n\nx", "c2sp.org/tlog-proof@v1\nindex 01\n\nx",
        "c2sp.org/tlog-proof@v1\nindex 1\nnot base64\n\nx", "c2sp.org/tlog-proof@v1\nindex 1\n"}) {
    EXPECT_EQ(tlogproof::Parse(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

#ifdef VETA_GO_VERIFIER
// golang.org/x/mod/sumdb/note ignores signature lines by unknown keys: a checkpoint carrying
// witness cosignatures still opens with the log's key in the Go reference code.
TEST(CosignatureGoTest, CosignedCheckpointStillOpensWithGoNote) {
  Fixture f;
  const std::string cosigned = f.Cosign(f.Note(9, 'd'), {0, 1, 2});
  veta::testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.Sub("note"), cosigned).ok());
  const std::string cmd =
      StrCat("'", VETA_GO_VERIFIER, "' checkpoint '", f.log_vkey, "' '", dir.Sub("note"), "' 2>&1");
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  EXPECT_EQ(::pclose(pipe), 0) << out;
  EXPECT_EQ(out.substr(0, 2), "9 ") << out;
}
#endif

}  // namespace
}  // namespace veta::cosig
