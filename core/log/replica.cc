// Follower mode of the ledger: the primary's entries appended after the same checks and the
// same rules (ApplyEntry) its sequencer applied, so that a follower's state is an independent
// re-judgement of the log. The follower's loop (fetching, checkpoints, proofs) is in
// core/log/follower.h; this file only writes what it was given, or says why not.
#include <atomic>
#include <filesystem>
#include <thread>
#include <unordered_set>

#include "core/base/check.h"
#include "core/base/files.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/timestamp.h"
#include "core/log/ledger.h"
#include "core/rules/apply.h"
#include "core/storage/rocks_store.h"
#include "core/verify/note.h"

namespace veta {

struct Ledger::ReplicaEntry {
  veta::v1::Entry entry;
  const std::string* bytes = nullptr;  // the caller's, as received
  Hash leaf{};
  int64_t time_micros = 0;
  // Decoded, its signatures verified and its stateless rules checked, ahead and in parallel;
  // empty when that failed (with the keys then known), to be done again in sequence.
  std::optional<DecodedEnvelope> decoded;
};

namespace {

ReplicaAppend Diverged(uint64_t sequence, std::string_view why,
                       veta::v1::Refusal refusal = veta::v1::REFUSAL_UNSPECIFIED) {
  ReplicaAppend r;
  r.diverged = true;
  r.sequence = sequence;
  r.refusal = refusal;
  r.status = absl::FailedPreconditionError(StrCat("entry ", sequence, " of the primary: ", why));
  return r;
}

google::protobuf::Timestamp TimestampFromMicros(int64_t micros) {
  google::protobuf::Timestamp t;
  t.set_seconds(micros / 1000000);
  t.set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
  return t;
}

}  // namespace

absl::Status Ledger::CreateReplica(const std::string& data_dir) {
  RETURN_IF_ERROR(CreateDirectoriesSynced(data_dir));
  if (std::filesystem::exists(DatabasePath(data_dir))) {
    return absl::AlreadyExistsError(StrCat("a ledger already exists in ", data_dir));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<Store> store,
                   RocksStore::Open(DatabasePath(data_dir), RocksStore::Mode::kCreate));
  RETURN_IF_ERROR(SyncDirectory(data_dir));  // the database's folder, named in data_dir
  std::unique_ptr<Batch> wb = store->NewBatch();
  wb->Put(Family::kMeta, kAppliedKey, EncodeU64(0));
  RETURN_IF_ERROR(store->Write(*wb, /*sync=*/true));
  return store->FlushAll();
}

absl::Status Ledger::CreateReplica(std::shared_ptr<Store> store) {
  ASSIGN_OR_RETURN(const uint64_t count, store->EntryCount());
  if (count != 0) return absl::AlreadyExistsError("the store already holds a ledger");
  std::unique_ptr<Batch> wb = store->NewBatch();
  wb->Put(Family::kMeta, kFormatKey, kFormatValue);
  wb->Put(Family::kMeta, kAppliedKey, EncodeU64(0));
  return store->Write(*wb, /*sync=*/true);
}

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::OpenReplica(const LedgerOptions& options) {
  if (options.primary.empty()) {
    return absl::InvalidArgumentError("a replica names the primary it follows (options.primary)");
  }
  std::shared_ptr<Store> store = options.store;
  if (store == nullptr) {
    ASSIGN_OR_RETURN(store, RocksStore::Open(DatabasePath(options.data_dir),
                                             RocksStore::Mode::kReadWrite, options.env.get()));
  } else {
    ASSIGN_OR_RETURN(auto format, store->Get(Family::kMeta, kFormatKey));
    if (format != kFormatValue) {
      return absl::FailedPreconditionError(
          StrCat("the store holds format ", format, "; this Veta reads ", kFormatValue));
    }
  }
  std::unique_ptr<Ledger> ledger(new Ledger(options, std::move(store), std::nullopt));
  RETURN_IF_ERROR(ledger->Load());
  {
    absl::MutexLock lock(&ledger->mu_);
    ledger->closing_ = true;  // no sequencer: Close has nothing to drain
  }
  return ledger;
}

absl::Status Ledger::CheckReplicaCheckpoint(const std::string& note_text,
                                            const std::string& verifier_key, uint64_t size,
                                            const Hash& root) const {
  if (verifier_key.empty()) return absl::FailedPreconditionError("no genesis entry yet");
  ASSIGN_OR_RETURN(std::string text, note::Open(note_text, verifier_key));
  ASSIGN_OR_RETURN(note::Checkpoint cp, note::ParseCheckpointText(text));
  if (cp.size != size) {
    return absl::InvalidArgumentError(
        StrCat("the checkpoint given is of size ", cp.size, ", the page ends at ", size));
  }
  if (cp.root != root) {
    return absl::FailedPreconditionError(StrCat("the primary's signed checkpoint of size ", size,
                                                " has a root other than the tree of its entries"));
  }
  return absl::OkStatus();
}

ReplicaAppend Ledger::AppendReplicated(const std::vector<std::string>& entries,
                                       const ReplicaRootCheck& check_root,
                                       const std::string& checkpoint_note,
                                       VerifiedEnvelopes verified) {
  absl::MutexLock lock(&replica_mu_);
  ReplicaAppend result;
  if (!is_replica()) {
    result.status = absl::FailedPreconditionError("only a follower appends replicated entries");
    return result;
  }
  // First the log's own fields, before any rule: the sequence, the chain, the time, the bytes
  // as this sequencer would write them, and the leaves, tied by `check_root` to a signed root.
  const uint64_t first = tree_.size();
  std::vector<ReplicaEntry> page(entries.size());
  std::vector<Hash> leaves;
  leaves.reserve(entries.size());
  merkle::CompactTree tree = tree_;
  Hash last_leaf = last_leaf_;
  int64_t last_time = last_time_micros_;
  std::string verifier = verifier_key_;
  for (size_t i = 0; i < entries.size(); ++i) {
    const uint64_t seq = first + i;
    ReplicaEntry& e = page[i];
    e.bytes = &entries[i];
    if (!e.entry.ParseFromString(entries[i])) {
      return Diverged(seq, "its bytes are not a veta.v1.Entry");
    }
    if (e.entry.sequence() != seq) {
      return Diverged(seq, StrCat("it came numbered ", e.entry.sequence()));
    }
    if (e.entry.previous_hash() != (seq == 0 ? std::string() : std::string(AsBytes(last_leaf)))) {
      return Diverged(seq, StrCat("its previous hash is not the leaf hash of entry ", seq - 1,
                                  ": the chain is broken"));
    }
    e.time_micros = TimestampMicros(e.entry.time());
    if (e.time_micros < last_time) return Diverged(seq, "its time goes backwards");
    veta::v1::Entry canonical;
    canonical.set_sequence(seq);
    *canonical.mutable_time() = TimestampFromMicros(e.time_micros);
    canonical.set_previous_hash(e.entry.previous_hash());
    canonical.set_envelope(e.entry.envelope());
    if (canonical.SerializeAsString() != entries[i]) {
      return Diverged(seq, "its bytes are not those a sequencer writes for its fields");
    }
    if (seq == 0) {
      auto genesis = DecodeEnvelope(e.entry.envelope(), options_.limits);
      if (!genesis.ok() || genesis->kind != PayloadKind::kGenesis) {
        return Diverged(seq, "the first entry is not a genesis entry");
      }
      verifier = genesis->genesis.checkpoint_verifier_key();
    }
    e.leaf = merkle::HashLeaf(entries[i]);
    leaves.push_back(e.leaf);
    tree.Append(e.leaf, [](uint32_t, uint64_t, const Hash&) {});
    last_leaf = e.leaf;
    last_time = e.time_micros;
  }
  if (!page.empty() && check_root) {
    ReplicaAppend checked = check_root(first, leaves, tree.Root());
    if (!checked.status.ok()) return checked;
  }
  if (!checkpoint_note.empty()) {
    if (absl::Status s =
            CheckReplicaCheckpoint(checkpoint_note, verifier, tree.size(), tree.Root());
        !s.ok()) {
      if (absl::IsInvalidArgument(s)) {
        result.status = s;  // the caller's mistake, not the primary's
        return result;
      }
      return Diverged(tree.size() - 1, std::string(s.message()));
    }
  }
  if (verified.size() == page.size()) {
    for (size_t i = 0; i < page.size(); ++i) {
      // Only what was verified for this very envelope.
      if (verified[i] && verified[i]->bytes == page[i].entry.envelope()) {
        page[i].decoded = std::move(verified[i]);
      }
    }
  } else {
    VerifiedEnvelopes ahead;
    VerifyEnvelopes(
        page.size(), [&](size_t i) -> std::string_view { return page[i].entry.envelope(); },
        &ahead);
    for (size_t i = 0; i < page.size(); ++i) page[i].decoded = std::move(ahead[i]);
  }
  // Then the rules, entry by entry, in batches that end after an entry that registers keys (the
  // next entries' signatures may need them, and they count once committed).
  size_t next = 0;
  do {
    ReplicaAppend step = ApplyReplicated(page, &next, checkpoint_note);
    result.appended += step.appended;
    if (!step.status.ok()) {
      step.appended = result.appended;
      return step;
    }
  } while (next < page.size());
  return result;
}

void Ledger::VerifyEnvelopes(size_t count, const std::function<std::string_view(size_t)>& envelope,
                             VerifiedEnvelopes* out) const {
  // Signature verification is the costly step (as on the primary's verify pool): spread over
  // threads, against the keys known now. An entry signed by a key registered since fails here
  // and is verified again in sequence, once that key counts. (A key id names the key's bytes:
  // verifying against an older key ring gives the same answer for every key it holds.)
  constexpr size_t kTake = 16;  // entries a thread takes at a time
  out->assign(count, std::nullopt);
  const size_t threads = std::min<size_t>(options_.verify_threads > 0
                                              ? static_cast<size_t>(options_.verify_threads)
                                              : std::max(1u, std::thread::hardware_concurrency()),
                                          (count + kTake - 1) / kTake);
  std::atomic<size_t> cursor{0};
  auto work = [&] {
    for (size_t begin; (begin = cursor.fetch_add(kTake)) < count;) {
      for (size_t i = begin; i < std::min(begin + kTake, count); ++i) {
        auto d = DecodeEnvelope(std::string(envelope(i)), options_.limits);
        if (!d.ok() || !VerifySignatures(*d, keys_).ok()) continue;
        PrevalidateRecord(&*d);
        (*out)[i] = std::move(*d);
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

Ledger::VerifiedEnvelopes Ledger::VerifyReplicated(const std::vector<std::string>& entries) const {
  std::vector<veta::v1::Entry> parsed(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) (void)parsed[i].ParseFromString(entries[i]);
  VerifiedEnvelopes out;
  VerifyEnvelopes(
      parsed.size(), [&](size_t i) -> std::string_view { return parsed[i].envelope(); }, &out);
  return out;
}

ReplicaAppend Ledger::ApplyReplicated(std::vector<ReplicaEntry>& page, size_t* next,
                                      const std::string& checkpoint_note) {
  const merkle::CompactTree tree_before = tree_;
  std::unique_ptr<Batch> wb = store_->NewBatch();
  Delta delta;
  std::unordered_set<std::string> statements;  // of this batch
  Hash last_leaf = last_leaf_;
  int64_t last_time = last_time_micros_;
  std::string origin = origin_, verifier = verifier_key_;
  ReplicaAppend stop;  // why the batch stopped early, if it did
  size_t i = *next;
  while (i < page.size()) {
    ReplicaEntry& e = page[i];
    const uint64_t seq = tree_.size();
    VETA_CHECK(e.entry.sequence() == seq, "a page's entries follow the tree");
    if (!e.decoded) {  // not verified ahead (a key this page registered): verify it now
      auto decoded = DecodeEnvelope(e.entry.envelope(), options_.limits);
      if (!decoded.ok()) {
        stop = Diverged(seq, StrCat("its envelope does not decode: ", decoded.status().message()));
        break;
      }
      if (absl::Status s = VerifySignatures(*decoded, keys_); !s.ok()) {
        stop = Diverged(seq, StrCat("its signatures do not verify: ", s.message()));
        break;
      }
      PrevalidateRecord(&*decoded);
      e.decoded = std::move(*decoded);
    }
    const DecodedEnvelope* d = &*e.decoded;
    const std::string statement(AsBytes(d->statement_hash));
    auto recorded = store_->Get(Family::kStatements, statement);
    if (recorded.ok() || statements.count(statement) > 0) {
      stop = Diverged(seq, "[ENVELOPE_REPLAYED] its envelope is already recorded",
                      veta::v1::ENVELOPE_REPLAYED);
      break;
    }
    if (!absl::IsNotFound(recorded.status())) {
      stop.status = recorded.status();
      break;
    }
    Verdict v = ApplyEntry(*d, seq, e.time_micros, *registry_, keys_, &delta, wb.get());
    if (!v.error.ok() && i > *next) {
      // A rule that reads an earlier entry of this batch from the store (a correction, a flag
      // clearance) finds it once the batch is written: write it, and judge this one in the next.
      break;
    }
    if (!v.error.ok()) {
      stop.status = absl::UnavailableError(
          StrCat("entry ", seq, " could not be judged: ", v.error.message()));
      break;
    }
    if (!v.invalid.ok()) {
      stop = Diverged(seq, StrCat("no rule accepts it: ", v.invalid.message()));
      break;
    }
    if (!v.ok()) {
      stop = Diverged(
          seq, StrCat("the rules refuse it: [", veta::v1::Refusal_Name(v.refusal), "] ", v.message),
          v.refusal);
      break;
    }
    const std::string seq_key = EncodeU64(seq);
    wb->Put(Family::kEntries, seq_key, *e.bytes);
    wb->Put(Family::kLeaves, LeafKey(seq, AsBytes(e.leaf)), seq_key);
    wb->Put(Family::kStatements, statement, seq_key);
    tree_.Append(e.leaf, [&](uint32_t level, uint64_t index, const Hash& h) {
      wb->Put(Family::kTree, NodeKey(level, index), std::string(AsBytes(h)));
    });
    VETA_CHECK(tree_.size() == seq + 1, "a replicated entry takes the next sequence");
    statements.insert(statement);
    last_leaf = e.leaf;
    last_time = e.time_micros;
    if (d->kind == PayloadKind::kGenesis) {
      origin = d->genesis.origin();
      verifier = d->genesis.checkpoint_verifier_key();
    }
    ++i;
    if (!delta.keys.empty()) break;
  }
  const bool page_done = i == page.size() && stop.status.ok();
  std::optional<veta::v1::Checkpoint> checkpoint;
  if (page_done && !checkpoint_note.empty()) {
    checkpoint.emplace();
    checkpoint->set_origin(origin);
    checkpoint->set_tree_size(tree_.size());
    checkpoint->set_root_hash(std::string(AsBytes(tree_.Root())));
    checkpoint->set_note(checkpoint_note);
    wb->Put(Family::kCheckpoints, EncodeU64(tree_.size()), checkpoint_note);
  }
  if (tree_.size() > tree_before.size()) {
    wb->Put(Family::kMeta, kAppliedKey, EncodeU64(tree_.size()));
  }
  // A batch that ends the page (or the follower's progress) is synced; the ones before it are
  // written in order and made durable by it (RocksDB's log keeps them in order).
  if (wb->Count() > 0) {
    if (absl::Status s = store_->Write(*wb, /*sync=*/page_done || !stop.status.ok()); !s.ok()) {
      tree_ = tree_before;
      ReplicaAppend failed;
      failed.status =
          absl::UnavailableError(StrCat("cannot write replicated entries: ", s.message()));
      return failed;
    }
  }
  registry_->Commit(std::move(delta), &keys_);
  last_leaf_ = last_leaf;
  last_time_micros_ = last_time;
  origin_ = origin;
  verifier_key_ = verifier;
  size_.store(tree_.size(), std::memory_order_release);
  {
    absl::MutexLock lock(&growth_mu_);  // a follower's watchers look again (AwaitGrowth)
    ++batches_;
  }
  last_time_published_.store(last_time_micros_, std::memory_order_release);
  if (checkpoint) {
    checkpointed_size_ = checkpoint->tree_size();
    if (!options_.data_dir.empty()) {
      if (absl::Status s =
              WriteFileAtomic(LatestCheckpointPath(options_.data_dir), checkpoint_note);
          !s.ok()) {
        std::fprintf(stderr, "veta: cannot record the latest checkpoint: %s\n",
                     std::string(s.message()).c_str());
      }
    }
    absl::MutexLock lock(&checkpoint_mu_);
    checkpoint_ = std::move(*checkpoint);
  }
  stop.appended = i - *next;
  *next = i;
  return stop;
}

}  // namespace veta
