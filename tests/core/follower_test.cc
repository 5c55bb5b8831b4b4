// Followers: a replica Ledger fed by core/log/follower.h re-judges a primary's log. The
// primary here is a real ledger (in memory) with a few hundred entries of every kind, or a
// forged log signed with the primary's real authority key: a rule-refused entry, a changed past
// entry, an entry served other than signed. The gRPC path (a primary on a loopback port) is in
// tests/server/follower_service_test.cc, the SIGKILL of veta-follower in tests/e2e.
#include "core/log/follower.h"

#include <atomic>
#include <map>

#include "core/read/lineage.h"
#include "core/verify/note.h"
#include "tests/core/custody_fixture.h"

namespace veta::testing {
namespace {

// A primary read in the same process; its Entries calls fail from entry `fail_from` on (as if
// it went away there). Called from the follower's fetching threads.
class LedgerSource final : public PrimarySource {
 public:
  explicit LedgerSource(Ledger* primary) : primary_(primary) {}
  absl::StatusOr<std::string> LatestCheckpointNote() override {
    return primary_->LatestCheckpoint().note();
  }
  absl::StatusOr<std::vector<std::string>> Entries(uint64_t start, uint32_t limit) override {
    if (start >= fail_from.load()) return absl::UnavailableError("the primary went away");
    return primary_->ListEntries(start, limit);
  }
  absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t first, uint64_t second) override {
    return primary_->ConsistencyProof(first, second);
  }
  absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size) override {
    return primary_->InclusionProof(index, size);
  }
  std::atomic<uint64_t> fail_from{UINT64_MAX};

 private:
  Ledger* primary_;
};

// The nodes of the tree over a list of leaves, computed on demand.
class LeafNodes final : public merkle::NodeReader {
 public:
  explicit LeafNodes(const std::vector<Hash>* leaves) : leaves_(leaves) {}
  absl::StatusOr<Hash> GetNode(uint32_t level, uint64_t index) const override {
    const uint64_t begin = index << level, end = (index + 1) << level;
    if (end > leaves_->size()) return absl::NotFoundError("no such node");
    return Perfect(begin, end);
  }

 private:
  Hash Perfect(uint64_t begin, uint64_t end) const {
    if (end - begin == 1) return (*leaves_)[begin];
    const uint64_t mid = begin + (end - begin) / 2;
    return merkle::HashChildren(Perfect(begin, mid), Perfect(mid, end));
  }
  const std::vector<Hash>* leaves_;
};

// A primary that serves `served` and signs checkpoints over `signed_entries` with the real
// authority key: what a dishonest operator can do.
class ForgedPrimary final : public PrimarySource {
 public:
  ForgedPrimary(std::string origin, PrivateKey authority)
      : origin_(std::move(origin)), authority_(std::move(authority)) {}
  absl::StatusOr<std::string> LatestCheckpointNote() override {
    std::vector<Hash> leaves = Leaves(signed_entries);
    merkle::CompactTree tree;
    for (const Hash& h : leaves) tree.Append(h, [](uint32_t, uint64_t, const Hash&) {});
    return note::Sign(note::CheckpointText({origin_, tree.size(), tree.Root()}), origin_,
                      authority_);
  }
  absl::StatusOr<std::vector<std::string>> Entries(uint64_t start, uint32_t limit) override {
    std::vector<std::string> out;
    for (uint64_t i = start; i < served.size() && out.size() < limit; ++i) out.push_back(served[i]);
    return out;
  }
  absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t first, uint64_t second) override {
    const std::vector<Hash> leaves = Leaves(signed_entries);
    return merkle::ConsistencyProof(LeafNodes(&leaves), first, second);
  }
  absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size) override {
    const std::vector<Hash> leaves = Leaves(signed_entries);
    return merkle::InclusionProof(LeafNodes(&leaves), index, size);
  }

  // An entry as a sequencer writes it, after `entries`.
  static std::string Next(const std::vector<std::string>& entries, const std::string& envelope) {
    veta::v1::Entry last;
    EXPECT_TRUE(last.ParseFromString(entries.back()));
    veta::v1::Entry e;
    e.set_sequence(entries.size());
    *e.mutable_time() = last.time();
    e.set_previous_hash(std::string(AsBytes(merkle::HashLeaf(entries.back()))));
    e.set_envelope(envelope);
    return e.SerializeAsString();
  }
  // Re-links entries [from, end) to their (changed) predecessors.
  static void Rechain(std::vector<std::string>* entries, size_t from) {
    for (size_t i = std::max<size_t>(from, 1); i < entries->size(); ++i) {
      veta::v1::Entry e;
      EXPECT_TRUE(e.ParseFromString((*entries)[i]));
      e.set_previous_hash(std::string(AsBytes(merkle::HashLeaf((*entries)[i - 1]))));
      (*entries)[i] = e.SerializeAsString();
    }
  }

  std::vector<std::string> served, signed_entries;

 private:
  static std::vector<Hash> Leaves(const std::vector<std::string>& entries) {
    std::vector<Hash> out;
    for (const auto& e : entries) out.push_back(merkle::HashLeaf(e));
    return out;
  }
  std::string origin_;
  PrivateKey authority_;
};

class FollowerTest : public CustodyFixture {
 protected:
  // A few hundred entries of every kind: registry records (the fixture's), extractions, ore and
  // gold sales, processings (one a blend), an export, corrections, and refused attempts (which
  // stay with the primary).
  void MixedLog(int rounds) {
    BlendTwoUnits();
    ExpectAccepted(ExportEnvelope("E1"));
    for (int i = 0; i < rounds; ++i) {
      const std::string n = std::to_string(i);
      const bool a = i % 2 == 0;
      const uint64_t x = Extract("X" + n, a ? "UA" : "UB", 100_kg, 8_gpt).sequence;
      if (i % 10 == 9) {  // a mistaken extraction, voided by its miner
        ExpectAccepted(CorrectionEnvelope(x, {a ? key_a_ : key_b_}));
        continue;
      }
      Sell("X" + n, a ? miner_a_ : miner_b_, plant_, "P" + n, 60_kg);
      EXPECT_FALSE(ledger_
                       ->SubmitAndWait(
                           SellEnvelope("X" + n, a ? miner_a_ : miner_b_, plant_, "Q" + n, 50_kg))
                       .status.ok());  // more than is left: an attempt, not an entry
      Process({{"P" + n, 60_kg}}, {{"GX" + n, 300, 900_permille}});
      if (i % 3 == 0) Sell("GX" + n, plant_, trader_, "T" + n, 100, true);
    }
  }

  // A replica in memory and a follower on `source`.
  void NewFollower(PrimarySource* source, FollowerOptions options = {}) {
    follower_.reset();
    replica_.reset();
    if (replica_store_ == nullptr) {
      replica_store_ = std::make_shared<MemoryStore>();
      ASSERT_TRUE(Ledger::CreateReplica(replica_store_).ok());
    }
    LedgerOptions lo;
    lo.store = replica_store_;
    lo.primary = "primary.test:7480";
    auto opened = Ledger::OpenReplica(lo);
    ASSERT_TRUE(opened.ok()) << opened.status();
    replica_ = std::move(*opened);
    follower_ = std::make_unique<Follower>(replica_.get(), source, options);
  }

  static std::map<std::string, std::string> Rows(const Reader& store, Family family,
                                                 std::string_view skip_prefix = "") {
    std::map<std::string, std::string> rows;
    std::unique_ptr<Cursor> it = store.NewCursor(family);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (!skip_prefix.empty() && it->key().substr(0, skip_prefix.size()) == skip_prefix) continue;
      rows.emplace(std::string(it->key()), std::string(it->value()));
    }
    EXPECT_TRUE(it->status().ok());
    return rows;
  }

  // The replica holds the primary's log and derives the same state, row for row.
  void ExpectSameAsPrimary() {
    ASSERT_EQ(replica_->size(), ledger_->size());
    for (Family f : {Family::kEntries, Family::kLeaves, Family::kStatements, Family::kTree,
                     Family::kKeys, Family::kRegistry, Family::kState}) {
      EXPECT_EQ(Rows(replica_->store(), f), Rows(ledger_->store(), f)) << FamilyName(f);
    }
    // Evidence: the flags are derived from entries; attempts ("A" rows) stay with the primary.
    EXPECT_EQ(Rows(replica_->store(), Family::kEvidence, "A"),
              Rows(ledger_->store(), Family::kEvidence, "A"));
    EXPECT_TRUE(Rows(replica_->store(), Family::kAttempts).empty());
    // Its checkpoints are the primary's own notes.
    const auto primary_cps = Rows(ledger_->store(), Family::kCheckpoints);
    for (const auto& [size, cp] : Rows(replica_->store(), Family::kCheckpoints)) {
      ASSERT_TRUE(primary_cps.count(size)) << "a checkpoint the primary never signed";
      EXPECT_EQ(cp, primary_cps.at(size));
    }
    EXPECT_EQ(replica_->LatestCheckpoint().SerializeAsString(),
              ledger_->LatestCheckpoint().SerializeAsString());
    AuditReport audit = AuditStore(replica_->store());
    EXPECT_TRUE(audit.status.ok()) << audit.status;
    EXPECT_EQ(audit.entries, ledger_->size());
  }

  std::string Lineage(const Reader& store, const std::string& lot, bool forward) {
    LineageQuery q;
    q.id = lot;
    q.forward = forward;
    q.as_of = ledger_->size();
    auto l = QueryLineage(store, q);
    EXPECT_TRUE(l.ok()) << l.status();
    return l.ok() ? l->SerializeAsString() : "";
  }

  // Entry i of `log` carrying entry i-1's envelope instead of its own.
  static std::string Swapped(const std::vector<std::string>& log, size_t i) {
    veta::v1::Entry e, before;
    EXPECT_TRUE(e.ParseFromString(log[i]));
    EXPECT_TRUE(before.ParseFromString(log[i - 1]));
    e.set_envelope(before.envelope());
    return e.SerializeAsString();
  }

  std::shared_ptr<MemoryStore> replica_store_;
  std::unique_ptr<Ledger> replica_;
  std::unique_ptr<Follower> follower_;
};

TEST_F(FollowerTest, ReJudgesAMixedLogAndDerivesTheSameState) {
  MixedLog(80);
  ASSERT_GT(ledger_->size(), 250u);
  LedgerSource source(ledger_.get());
  FollowerOptions options;
  options.page_entries_max = 37;  // many pages, each tied to the signed root
  NewFollower(&source, options);
  ASSERT_TRUE(follower_->SyncOnce().ok()) << follower_->StatusLine();
  ExpectSameAsPrimary();
  EXPECT_EQ(follower_->LagEntries(), 0u);
  EXPECT_EQ(Lineage(replica_->store(), "G1", false), Lineage(ledger_->store(), "G1", false));
  EXPECT_EQ(Lineage(replica_->store(), "X4", true), Lineage(ledger_->store(), "X4", true));

  // The primary goes on; the next round checks the new checkpoint against the accepted one.
  Extract("LATE", "UB", 10_kg, 8_gpt);
  EXPECT_FALSE(ledger_->SubmitAndWait(ExportEnvelope("E1")).status.ok());  // exported already
  Sell("LATE", miner_b_, trader_, "LATE-T", 5_kg);
  ASSERT_TRUE(follower_->SyncOnce().ok()) << follower_->StatusLine();
  ExpectSameAsPrimary();
}

TEST_F(FollowerTest, AReplicaRefusesWritesAndSignsNothing) {
  LedgerSource source(ledger_.get());
  NewFollower(&source);
  ASSERT_TRUE(follower_->SyncOnce().ok());
  SubmitResult r =
      replica_->SubmitAndWait(Extraction("L1", miner_a_, "UA", kLonA, kLatA, 1_kg, key_a_));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status.message().find("primary.test:7480"), std::string::npos) << r.status;
  EXPECT_EQ(replica_->CheckAndWait("x").status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(replica_->SignNote("text").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(replica_->size(), ledger_->size());
}

TEST_F(FollowerTest, ResumesFromItsStoreWithNoGapOrDuplicate) {
  MixedLog(20);
  LedgerSource source(ledger_.get());
  FollowerOptions options;
  options.page_entries_max = 10;
  NewFollower(&source, options);
  source.fail_from = 40;  // the follower stops (as if killed) after 40 entries
  EXPECT_EQ(follower_->SyncOnce().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(replica_->size(), 40u);
  EXPECT_EQ(follower_->LagEntries(), ledger_->size() - 40);
  EXPECT_EQ(replica_->LatestCheckpoint().tree_size(), 0u);  // none accepted yet
  EXPECT_FALSE(follower_->diverged());

  source.fail_from = UINT64_MAX;
  NewFollower(&source, options);  // a new process on the same store
  EXPECT_EQ(replica_->size(), 40u);
  absl::Status resumed = follower_->SyncOnce();
  ASSERT_TRUE(resumed.ok()) << resumed;
  ExpectSameAsPrimary();

  // Killed again between a checkpoint and the next: resumes from both.
  Extract("AFTER", "UA", 10_kg, 8_gpt);
  for (int i = 0; i < 25; ++i) Extract("AFTER" + std::to_string(i), "UB", 1_kg, 8_gpt);
  source.fail_from = ledger_->size() - 12;
  EXPECT_FALSE(follower_->SyncOnce().ok());
  EXPECT_LT(replica_->size(), ledger_->size());
  source.fail_from = UINT64_MAX;
  NewFollower(&source, options);
  ASSERT_TRUE(follower_->SyncOnce().ok()) << follower_->StatusLine();
  ExpectSameAsPrimary();
}

TEST_F(FollowerTest, StopsAtAnEntryTheRulesRefuseAndAppliesNothingPastIt) {
  MixedLog(5);
  // A sale of ore that does not exist, accepted by a dishonest sequencer: the primary's own
  // rules refuse it (asked as a dry run).
  const std::string bad = SellEnvelope("NO-SUCH-LOT", miner_a_, plant_, "Z1", 1_kg);
  const SubmitResult honest = ledger_->CheckAndWait(bad);
  ASSERT_NE(honest.refusal, veta::v1::REFUSAL_UNSPECIFIED) << honest.status;

  std::vector<std::string> log = *ledger_->ListEntries(0, 1000);
  ASSERT_EQ(log.size(), ledger_->size());
  const uint64_t forged_at = log.size();
  log.push_back(ForgedPrimary::Next(log, bad));
  log.push_back(ForgedPrimary::Next(
      log, Extraction("AFTER", miner_a_, "UA", kLonA, kLatA, 1_kg, key_a_)));  // valid
  ForgedPrimary forged(ledger_->origin(), authority_);
  forged.served = forged.signed_entries = log;
  FollowerOptions options;
  options.page_entries_max = 1000;  // the forged entry in the middle of a page
  NewFollower(&forged, options);

  const absl::Status s = follower_->SyncOnce();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  const std::string code = veta::v1::Refusal_Name(honest.refusal);
  EXPECT_NE(s.message().find(StrCat("entry ", forged_at)), std::string::npos) << s;
  EXPECT_NE(s.message().find("[" + code + "]"), std::string::npos) << s;
  ASSERT_TRUE(follower_->diverged());
  EXPECT_EQ(follower_->divergence().sequence, forged_at);
  EXPECT_EQ(follower_->divergence().refusal, honest.refusal);
  EXPECT_EQ(replica_->size(), forged_at);  // everything before it, nothing past it
  EXPECT_EQ(Rows(replica_->store(), Family::kEntries).size(), forged_at);
  // Stopped for good: another round does not go on.
  EXPECT_EQ(follower_->SyncOnce().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(replica_->size(), forged_at);
  EXPECT_NE(follower_->StatusLine().find("diverged"), std::string::npos);
}

TEST_F(FollowerTest, EntriesNoSequencerWritesAreNamed) {
  MixedLog(2);
  const std::vector<std::string> log = *ledger_->ListEntries(0, 1000);
  const uint64_t n = log.size();
  veta::v1::Entry first, last;
  ASSERT_TRUE(first.ParseFromString(log[3]));
  ASSERT_TRUE(last.ParseFromString(log.back()));
  const std::string fresh = Extraction("FRESH", miner_a_, "UA", kLonA, kLatA, 1_kg, key_a_);
  struct Case {
    std::string name;
    std::function<void(veta::v1::Entry*)> change;  // on a valid next entry
    std::string words;
    std::string raw_suffix = "";  // bytes appended to the serialized entry
  };
  const std::vector<Case> cases = {
      {"a replayed envelope", [&](veta::v1::Entry* e) { e->set_envelope(first.envelope()); },
       "[ENVELOPE_REPLAYED]"},
      {"a broken chain", [](veta::v1::Entry* e) { e->set_previous_hash(std::string(32, 'x')); },
       "the chain is broken"},
      {"a time going backwards",
       [&](veta::v1::Entry* e) { e->mutable_time()->set_seconds(last.time().seconds() - 1); },
       "its time goes backwards"},
      {"a wrong number", [&](veta::v1::Entry* e) { e->set_sequence(n + 1); }, "it came numbered"},
      {"bytes a sequencer does not write", [](veta::v1::Entry*) {}, "not those a sequencer writes",
       std::string("\x2a\x00", 2)},  // field 5, empty
      {"an envelope that does not decode",
       [](veta::v1::Entry* e) { e->set_envelope("not an envelope"); }, "does not decode"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    veta::v1::Entry e;
    ASSERT_TRUE(e.ParseFromString(ForgedPrimary::Next(log, fresh)));
    c.change(&e);
    std::vector<std::string> forged_log = log;
    forged_log.push_back(e.SerializeAsString() + c.raw_suffix);
    ForgedPrimary forged(ledger_->origin(), authority_);
    forged.served = forged.signed_entries = forged_log;
    follower_.reset();
    replica_.reset();
    replica_store_.reset();
    NewFollower(&forged);
    const absl::Status s = follower_->SyncOnce();
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_NE(s.message().find(c.words), std::string::npos) << s;
    EXPECT_EQ(follower_->divergence().sequence, n) << s;
    // Nothing past it (a page whose own fields are wrong is not applied at all).
    EXPECT_LE(replica_->size(), n);
  }
}

TEST_F(FollowerTest, AChangedPastEntryFailsTheConsistencyCheck) {
  MixedLog(3);
  std::vector<std::string> log = *ledger_->ListEntries(0, 1000);
  ForgedPrimary forged(ledger_->origin(), authority_);
  forged.served = forged.signed_entries = log;
  NewFollower(&forged);
  ASSERT_TRUE(follower_->SyncOnce().ok()) << follower_->StatusLine();
  const uint64_t accepted = replica_->size();

  // The operator rewrites entry 12 (another entry's envelope), re-links the rest, and signs
  // the result.
  std::vector<std::string> rewritten = log;
  rewritten[12] = Swapped(rewritten, 12);
  ForgedPrimary::Rechain(&rewritten, 13);

  // The same size with another root: a fork.
  forged.served = forged.signed_entries = rewritten;
  absl::Status s = follower_->SyncOnce();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("two different trees of size " + std::to_string(accepted)),
            std::string::npos)
      << s;

  // A larger tree that does not extend the accepted one.
  rewritten.push_back(ForgedPrimary::Next(
      rewritten, Extraction("MORE", miner_a_, "UA", kLonA, kLatA, 1_kg, key_a_)));
  forged.served = forged.signed_entries = rewritten;
  NewFollower(&forged);  // a fresh process: the divergence is found again from the store
  s = follower_->SyncOnce();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(
      s.message().find("not consistent with its checkpoint of size " + std::to_string(accepted)),
      std::string::npos)
      << s;
  EXPECT_EQ(replica_->size(), accepted);
}

TEST_F(FollowerTest, AnEntryServedOtherThanSignedIsNamed) {
  MixedLog(3);
  std::vector<std::string> log = *ledger_->ListEntries(0, 1000);
  ForgedPrimary forged(ledger_->origin(), authority_);
  forged.signed_entries = log;
  // Served: entry 20 with another envelope, the rest re-linked so that the chain holds.
  forged.served = log;
  forged.served[20] = Swapped(log, 20);
  ForgedPrimary::Rechain(&forged.served, 21);
  FollowerOptions options;
  options.page_entries_max = 8;
  NewFollower(&forged, options);
  const absl::Status s = follower_->SyncOnce();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(follower_->divergence().sequence, 20u) << s;
  EXPECT_NE(s.message().find("the primary changed it"), std::string::npos) << s;
  EXPECT_EQ(replica_->size(), 16u);  // the pages before the one that holds it
}

TEST_F(FollowerTest, ACheckpointSignedByAnotherKeyStopsIt) {
  const PrivateKey other = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  ForgedPrimary forged(ledger_->origin(), other);
  forged.served = forged.signed_entries = *ledger_->ListEntries(0, 1000);
  FollowerOptions options;
  options.verifier_key = ledger_->verifier_key();  // pinned: the real authority's
  NewFollower(&forged, options);
  const absl::Status s = follower_->SyncOnce();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("does not verify"), std::string::npos) << s;
  EXPECT_EQ(replica_->size(), 0u);
}

}  // namespace
}  // namespace veta::testing
