#include "core/log/ledger.h"
#include "core/storage/rocks_store.h"

#include <google/protobuf/unknown_field_set.h>

#include <thread>

#include "core/base/strings.h"
#include "core/verify/note.h"
#include "gtest/gtest.h"
#include "tests/core/test_util.h"

namespace veta {
namespace {

using veta::testing::TempDir;

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    authority_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
    ASSERT_TRUE(Ledger::Create(dir_.path(), "veta.test/ledger", authority_, "test").ok());
    Reopen();
  }

  void Reopen() {
    ledger_.reset();
    LedgerOptions options;
    options.data_dir = dir_.path();
    options.checkpoint_interval = std::chrono::milliseconds(0);
    options.verify_threads = 2;
    auto opened = Ledger::Open(options, authority_);
    ASSERT_TRUE(opened.ok()) << opened.status();
    ledger_ = std::move(*opened);
  }

  std::string Memo(const std::string& text, const std::vector<PrivateKey>& keys,
                   uint64_t nonce = 0) {
    veta::v1::Memo memo;
    memo.set_subject("test");
    memo.set_text(text);
    memo.set_nonce(nonce);
    return SignEnvelope(kMemoType, memo.SerializeAsString(), keys)->SerializeAsString();
  }

  std::string Registration(const PrivateKey& key, const std::vector<PrivateKey>& signers,
                           const std::string& holder = "Comercializadora Test SAC") {
    veta::v1::KeyRegistration reg;
    *reg.mutable_key() = key.public_key().ToProto();
    reg.set_holder(holder);
    return SignEnvelope(kKeyRegistrationType, reg.SerializeAsString(), signers)
        ->SerializeAsString();
  }

  // Registers a new key of the given algorithm, signed by the authority.
  PrivateKey NewRegisteredKey(KeyAlgorithm alg) {
    PrivateKey key = *PrivateKey::Generate(alg);
    SubmitResult r = ledger_->SubmitAndWait(Registration(key, {authority_}));
    EXPECT_TRUE(r.status.ok()) << r.status;
    return key;
  }

  // Submits and expects the exact code, a message containing `words`, and no change.
  void ExpectRefused(std::string bytes, absl::StatusCode code, std::string_view words) {
    const uint64_t size_before = ledger_->size();
    const auto cp_before = ledger_->LatestCheckpoint();
    SubmitResult r = ledger_->SubmitAndWait(std::move(bytes));
    EXPECT_EQ(r.status.code(), code) << r.status;
    EXPECT_NE(std::string(r.status.message()).find(words), std::string::npos) << r.status;
    EXPECT_EQ(ledger_->size(), size_before);
    EXPECT_EQ(ledger_->LatestCheckpoint().note(), cp_before.note());
  }

  TempDir dir_;
  PrivateKey authority_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LedgerTest, GenesisIsEntryZeroWithACheckpoint) {
  EXPECT_EQ(ledger_->size(), 1u);
  auto cp = ledger_->LatestCheckpoint();
  EXPECT_EQ(cp.tree_size(), 1u);
  auto text = note::Open(cp.note(), ledger_->verifier_key());
  ASSERT_TRUE(text.ok()) << text.status();
  auto entry = ledger_->GetEntry(0);
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(cp.root_hash(), std::string(AsBytes(merkle::HashLeaf(*entry))));
}

TEST_F(LedgerTest, CreateRefusesAnExistingLedger) {
  auto s = Ledger::Create(dir_.path(), "veta.test/ledger", authority_, "again");
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(LedgerTest, AcceptsMemosChainedAndProven) {
  PrivateKey trader = NewRegisteredKey(KeyAlgorithm::kEcdsaP256);
  std::vector<SubmitResult> results;
  for (int i = 0; i < 20; ++i) {
    results.push_back(ledger_->SubmitAndWait(Memo("sale " + std::to_string(i), {trader})));
    ASSERT_TRUE(results.back().status.ok()) << results.back().status;
  }
  EXPECT_EQ(ledger_->size(), 22u);
  for (const auto& r : results) {
    auto bytes = ledger_->GetEntry(r.sequence);
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(merkle::HashLeaf(*bytes), r.leaf_hash);
    veta::v1::Entry entry;
    ASSERT_TRUE(entry.ParseFromString(*bytes));
    auto prev = ledger_->GetEntry(r.sequence - 1);
    EXPECT_EQ(entry.previous_hash(), std::string(AsBytes(merkle::HashLeaf(*prev))));
    auto proof = ledger_->InclusionProof(r.sequence, ledger_->size());
    ASSERT_TRUE(proof.ok());
    auto root = ledger_->RootAt(ledger_->size());
    EXPECT_TRUE(
        merkle::VerifyInclusion(r.sequence, ledger_->size(), r.leaf_hash, *proof, *root).ok());
    EXPECT_EQ(*ledger_->FindLeaf(r.leaf_hash), r.sequence);
  }
  auto consistency = ledger_->ConsistencyProof(5, 22);
  ASSERT_TRUE(consistency.ok());
  EXPECT_TRUE(
      merkle::VerifyConsistency(5, 22, *ledger_->RootAt(5), *ledger_->RootAt(22), *consistency)
          .ok());
}

TEST_F(LedgerTest, RefusesBadInputAndChangesNothing) {
  PrivateKey trader = NewRegisteredKey(KeyAlgorithm::kEd25519);
  PrivateKey stranger = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  ExpectRefused("", absl::StatusCode::kInvalidArgument, "empty");
  ExpectRefused("\xff\xff\xff garbage", absl::StatusCode::kInvalidArgument,
                "not a serialized veta.v1.Envelope");
  ExpectRefused(std::string(300 * 1024, 'x'), absl::StatusCode::kInvalidArgument,
                "the limit is 262144");
  ExpectRefused(Memo("hello", {stranger}), absl::StatusCode::kFailedPrecondition,
                "is not registered");
  ExpectRefused(Memo("hello", {}), absl::StatusCode::kInvalidArgument, "not signed");

  // A signature over other bytes.
  veta::v1::Envelope env;
  ASSERT_TRUE(env.ParseFromString(Memo("hello", {trader})));
  env.set_payload(env.payload() + " ");
  ExpectRefused(env.SerializeAsString(), absl::StatusCode::kInvalidArgument, "does not parse");
  ASSERT_TRUE(env.ParseFromString(Memo("hello", {trader})));
  veta::v1::Memo other;
  other.set_text("hellO");
  env.set_payload(other.SerializeAsString());
  ExpectRefused(env.SerializeAsString(), absl::StatusCode::kUnauthenticated, "does not verify");

  // Wrong payload type, and a payload that is not the type it claims.
  ASSERT_TRUE(env.ParseFromString(Memo("hello", {trader})));
  env.set_payload_type("application/json");
  ExpectRefused(env.SerializeAsString(), absl::StatusCode::kInvalidArgument,
                "unknown payload type 'application/json'");

  // Fields the schema does not define, in a signature or in the payload.
  ASSERT_TRUE(env.ParseFromString(Memo("hidden", {trader})));
  auto* sig = env.mutable_signatures(0);
  sig->GetReflection()->MutableUnknownFields(sig)->AddVarint(99, 1);
  ExpectRefused(env.SerializeAsString(), absl::StatusCode::kInvalidArgument,
                "fields that veta.v1.Envelope does not define");
  ASSERT_TRUE(env.ParseFromString(Memo("hidden", {trader})));
  veta::v1::Memo extra;
  extra.set_text("hidden");
  extra.GetReflection()->MutableUnknownFields(&extra)->AddLengthDelimited(
      77, "not shown to the signer");
  ExpectRefused(SignEnvelope(kMemoType, extra.SerializeAsString(), {trader})->SerializeAsString(),
                absl::StatusCode::kInvalidArgument, "fields that veta.v1.Memo does not define");

  // Duplicates: the same envelope twice, and the same statement signed again.
  std::string first = Memo("once", {trader});
  SubmitResult ok = ledger_->SubmitAndWait(first);
  ASSERT_TRUE(ok.status.ok());
  ExpectRefused(first, absl::StatusCode::kAlreadyExists,
                "already recorded as entry " + std::to_string(ok.sequence));

  // A second genesis.
  veta::v1::Genesis g;
  g.set_origin("x");
  *g.add_authority_keys() = trader.public_key().ToProto();
  ExpectRefused(SignEnvelope(kGenesisType, g.SerializeAsString(), {trader})->SerializeAsString(),
                absl::StatusCode::kFailedPrecondition, "already has its genesis");

  // Key registration by a non-authority, and a key registered twice.
  ExpectRefused(Registration(stranger, {trader}), absl::StatusCode::kPermissionDenied, "authority");
  ExpectRefused(Registration(trader, {authority_}), absl::StatusCode::kAlreadyExists,
                "already recorded as entry 1");
  ExpectRefused(Registration(trader, {authority_}, "Another holder"),
                absl::StatusCode::kAlreadyExists, "is already registered (entry 1)");
}

TEST_F(LedgerTest, DuplicatesWithinOneBatchAreRefused) {
  PrivateKey trader = NewRegisteredKey(KeyAlgorithm::kEd25519);
  const std::string env = Memo("twice", {trader});
  std::mutex mu;
  std::vector<SubmitResult> results;
  std::condition_variable cv;
  for (int i = 0; i < 2; ++i) {
    ledger_->Submit(env, [&](SubmitResult r) {
      std::lock_guard lock(mu);
      results.push_back(r);
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return results.size() == 2; });
  EXPECT_EQ(results[0].status.ok() + results[1].status.ok(), 1);
  EXPECT_EQ(ledger_->size(), 3u);
}

TEST_F(LedgerTest, ProofRequestsBeyondTheTreeAreOutOfRange) {
  EXPECT_EQ(ledger_->InclusionProof(0, 5).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ledger_->InclusionProof(3, 1).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ledger_->ConsistencyProof(1, 9).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ledger_->ConsistencyProof(0, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->GetEntry(7).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ledger_->ListEntries(0, 5000).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(LedgerTest, RestartKeepsHeadTreeAndKeys) {
  PrivateKey trader = NewRegisteredKey(KeyAlgorithm::kEcdsaP256);
  for (int i = 0; i < 37; ++i)
    ASSERT_TRUE(ledger_->SubmitAndWait(Memo("m", {trader}, i)).status.ok());
  const uint64_t size = ledger_->size();
  const Hash root = *ledger_->RootAt(size);
  ledger_->Close();
  Reopen();
  EXPECT_EQ(ledger_->size(), size);
  EXPECT_EQ(*ledger_->RootAt(size), root);
  EXPECT_EQ(ledger_->LatestCheckpoint().tree_size(), size);
  // Keys registered before the restart still sign; appends continue the same tree.
  SubmitResult r = ledger_->SubmitAndWait(Memo("after restart", {trader}));
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.sequence, size);
  auto proof = ledger_->ConsistencyProof(size, size + 1);
  EXPECT_TRUE(
      merkle::VerifyConsistency(size, size + 1, root, *ledger_->RootAt(size + 1), *proof).ok());
}

// A ledger of a previous format (v1, v2) is refused with what to do, not opened and misread.
TEST_F(LedgerTest, OpenRefusesAnOlderFormatAndSaysWhatToDo) {
  ledger_.reset();
  for (const std::string old : {"veta-ledger-v1", "veta-ledger-v2", "veta-ledger-v3"}) {
    TempDir dir;  // a ledger of its own for each old format (an old one no longer opens)
    ASSERT_TRUE(Ledger::Create(dir.path(), "veta.test/ledger", authority_, "test").ok());
    {
      auto store = RocksStore::Open(DatabasePath(dir.path()), RocksStore::Mode::kReadWrite);
      ASSERT_TRUE(store.ok()) << store.status();
      ASSERT_TRUE(PutRow(**store, Family::kMeta, "format", old).ok());
    }
    LedgerOptions options;
    options.data_dir = dir.path();
    auto opened = Ledger::Open(options, authority_);
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(opened.status().message().find(
                  StrCat("was written in format ", old, "; this Veta reads ", kFormatValue)),
              std::string::npos)
        << opened.status();
    EXPECT_NE(opened.status().message().find("An older ledger"), std::string::npos)
        << opened.status();
  }
}

TEST_F(LedgerTest, OpenRefusesAnotherCheckpointKey) {
  ledger_.reset();
  LedgerOptions options;
  options.data_dir = dir_.path();
  auto other = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  auto opened = Ledger::Open(options, other);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(LedgerTest, ManyConcurrentSubmittersAllCommitInOneTree) {
  std::vector<PrivateKey> keys;
  for (int i = 0; i < 4; ++i) keys.push_back(NewRegisteredKey(KeyAlgorithm::kEd25519));
  const uint64_t start = ledger_->size();
  std::vector<std::thread> threads;
  std::atomic<int> accepted{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        // Distinct nonces: the same memo signed by another key is the same statement.
        if (ledger_->SubmitAndWait(Memo("c", {keys[t]}, t * 50 + i)).status.ok()) ++accepted;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(accepted.load(), 200);
  EXPECT_EQ(ledger_->size(), start + 200);
}

TEST_F(LedgerTest, AnExpiredDeadlineWritesNothing) {
  PrivateKey trader = NewRegisteredKey(KeyAlgorithm::kEd25519);
  const uint64_t size = ledger_->size();
  std::promise<SubmitResult> done;
  ledger_->Submit(
      Memo("too late", {trader}), [&](SubmitResult r) { done.set_value(r); },
      std::chrono::system_clock::now() - std::chrono::seconds(1));
  SubmitResult r = done.get_future().get();
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ledger_->size(), size);
}

// Twice and more the queue's worth at once: the excess is refused at once with
// RESOURCE_EXHAUSTED (the queue, and so memory, stays bounded), everything is answered, and
// the ledger takes submissions again as soon as the flood drains.
TEST_F(LedgerTest, OverloadIsRefusedAndRecoveredFrom) {
  PrivateKey trader = NewRegisteredKey(KeyAlgorithm::kEd25519);
  ledger_.reset();
  LedgerOptions options;
  options.data_dir = dir_.path();
  options.queue_entries_max = 64;
  options.verify_threads = 1;
  ledger_ = std::move(*Ledger::Open(options, authority_));
  std::vector<std::string> envelopes;
  for (int i = 0; i < 2000; ++i) envelopes.push_back(Memo("flood", {trader}, 1000 + i));
  std::mutex mu;
  std::condition_variable cv;
  int answered = 0, accepted = 0, exhausted = 0;
  for (auto& e : envelopes) {
    ledger_->Submit(std::move(e), [&](SubmitResult r) {
      std::lock_guard lock(mu);
      ++answered;
      accepted += r.status.ok();
      exhausted += r.status.code() == absl::StatusCode::kResourceExhausted;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return answered == 2000; });
  }
  EXPECT_GT(exhausted, 0);
  EXPECT_GT(accepted, 0);
  EXPECT_EQ(accepted + exhausted, 2000);
  SubmitResult after = ledger_->SubmitAndWait(Memo("after the flood", {trader}));
  EXPECT_TRUE(after.status.ok()) << after.status;
}

}  // namespace
}  // namespace veta
