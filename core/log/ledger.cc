#include "core/log/ledger.h"

#include <filesystem>
#include <set>
#include <unordered_map>

#include "absl/time/time.h"
#include "core/base/check.h"
#include "core/base/files.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/timestamp.h"
#include "core/rules/apply.h"
#include "core/storage/rocks_store.h"
#include "core/verify/note.h"

namespace veta {

struct Ledger::Pending {
  std::string bytes;
  SubmitCallback done;
  absl::StatusOr<DecodedEnvelope> decoded = absl::UnknownError("not verified");
  bool dry_run = false;
  std::chrono::system_clock::time_point deadline = std::chrono::system_clock::time_point::max();
  std::chrono::steady_clock::time_point submitted = std::chrono::steady_clock::now();
  // Guarded by Ledger::mu_ (not annotated: the analysis cannot name another object's mutex).
  bool ready = false;
};

namespace {

constexpr size_t kVerifyTakeMax = 16;  // envelopes a verify worker takes per lock

int64_t MicrosOf(const google::protobuf::Timestamp& t) { return TimestampMicros(t); }

google::protobuf::Timestamp TimestampOfMicros(int64_t micros) {
  google::protobuf::Timestamp t;
  t.set_seconds(micros / 1000000);
  t.set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
  return t;
}

SubmitResult MakeResult(absl::Status status, uint64_t sequence = 0, Hash leaf = {}) {
  SubmitResult r;
  r.status = std::move(status);
  r.sequence = sequence;
  r.leaf_hash = leaf;
  return r;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::StatusOr<veta::v1::Entry> ParseEntry(std::string_view bytes, uint64_t sequence) {
  veta::v1::Entry entry;
  if (!entry.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      entry.sequence() != sequence) {
    return absl::DataLossError(StrCat("stored entry ", sequence, " is malformed"));
  }
  return entry;
}

}  // namespace

std::string DatabasePath(const std::string& data_dir) { return data_dir + "/db"; }
std::string LatestCheckpointPath(const std::string& data_dir) {
  return data_dir + "/latest-checkpoint";
}

std::string AuthorityKeyPath(const std::string& data_dir) {
  return data_dir + "/authority-key.pem";
}

Ledger::Ledger(const LedgerOptions& options, std::shared_ptr<Store> store,
               std::optional<PrivateKey> key)
    : options_(options),
      store_(std::move(store)),
      checkpoint_key_(std::move(key)),
      registry_(std::make_unique<Registry>(store_.get())) {}

Ledger::~Ledger() { Close(); }

absl::Status Ledger::Create(const std::string& data_dir, const std::string& origin,
                            const PrivateKey& authority, const std::string& description,
                            bool write_key) {
  if (authority.algorithm() != KeyAlgorithm::kEd25519) {
    return absl::InvalidArgumentError("the authority key signs checkpoints: it must be Ed25519");
  }
  RETURN_IF_ERROR(CreateDirectoriesSynced(data_dir));
  if (std::filesystem::exists(DatabasePath(data_dir))) {
    return absl::AlreadyExistsError(StrCat("a ledger already exists in ", data_dir));
  }
  if (write_key) {
    RETURN_IF_ERROR(WriteFileAtomic(AuthorityKeyPath(data_dir), authority.ToPem(), 0600));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<Store> store,
                   RocksStore::Open(DatabasePath(data_dir), RocksStore::Mode::kCreate));
  // The database's folder (RocksDB syncs what is inside it, not its name in data_dir).
  RETURN_IF_ERROR(SyncDirectory(data_dir));
  return CreateIn(std::move(store), data_dir, origin, authority, description);
}

absl::Status Ledger::Create(std::shared_ptr<Store> store, const std::string& origin,
                            const PrivateKey& authority, const std::string& description) {
  ASSIGN_OR_RETURN(const uint64_t count, store->EntryCount());
  if (count != 0) return absl::AlreadyExistsError("the store already holds a ledger");
  auto marker = store->NewBatch();
  marker->Put(Family::kMeta, kFormatKey, kFormatValue);
  RETURN_IF_ERROR(store->Write(*marker, /*sync=*/true));
  return CreateIn(std::move(store), "", origin, authority, description);
}

absl::Status Ledger::CreateIn(std::shared_ptr<Store> store, const std::string& data_dir,
                              const std::string& origin, const PrivateKey& authority,
                              const std::string& description) {
  if (authority.algorithm() != KeyAlgorithm::kEd25519) {
    return absl::InvalidArgumentError("the authority key signs checkpoints: it must be Ed25519");
  }
  veta::v1::Genesis genesis;
  genesis.set_origin(origin);
  *genesis.add_authority_keys() = authority.public_key().ToProto();
  *genesis.mutable_created() = TimestampOfMicros(NowMicros());
  genesis.set_description(description);
  ASSIGN_OR_RETURN(std::string verifier, note::VerifierKey(origin, authority.public_key()));
  genesis.set_checkpoint_verifier_key(verifier);
  ASSIGN_OR_RETURN(veta::v1::Envelope envelope,
                   SignEnvelope(kGenesisType, genesis.SerializeAsString(), {authority}));

  LedgerOptions options;
  options.data_dir = data_dir;  // empty: the caller's store only, no file
  std::unique_ptr<Ledger> ledger(new Ledger(options, std::move(store), authority));
  ledger->origin_ = origin;
  ledger->verifier_key_ = verifier;

  auto pending = std::make_shared<Pending>();
  pending->decoded = DecodeEnvelope(envelope.SerializeAsString(), options.limits);
  if (pending->decoded.ok()) {
    absl::Status s = VerifySignatures(*pending->decoded, ledger->keys_);
    if (!s.ok()) pending->decoded = s;
  }
  absl::Status result = absl::UnknownError("genesis not written");
  pending->done = [&result](SubmitResult r) { result = r.status; };
  ledger->ProcessBatch({pending}, /*force_checkpoint=*/true);
  {
    absl::MutexLock lock(&ledger->mu_);
    ledger->closing_ = true;  // no threads were started: nothing to drain
  }
  return result;
}

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Open(const LedgerOptions& options,
                                                     const PrivateKey& checkpoint_key) {
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
  std::unique_ptr<Ledger> ledger(new Ledger(options, std::move(store), checkpoint_key));
  RETURN_IF_ERROR(ledger->Load());
  const int threads = options.verify_threads > 0
                          ? options.verify_threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  for (int i = 0; i < threads; ++i)
    ledger->workers_.emplace_back([l = ledger.get()] { l->VerifyLoop(); });
  ledger->sequencer_ = std::thread([l = ledger.get()] { l->SequencerLoop(); });
  return ledger;
}

absl::Status Ledger::Load() {
  ASSIGN_OR_RETURN(const uint64_t count, store_->EntryCount());
  if (count == 0 && is_replica()) return ApplyPending(0);  // a follower yet to copy the genesis
  if (count == 0) return absl::DataLossError("the ledger has no genesis entry");
  // The genesis: origin, authority keys, checkpoint key.
  ASSIGN_OR_RETURN(std::string first, store_->Get(Family::kEntries, EncodeU64(0)));
  ASSIGN_OR_RETURN(veta::v1::Entry genesis_entry, ParseEntry(first, 0));
  ASSIGN_OR_RETURN(DecodedEnvelope genesis, DecodeEnvelope(genesis_entry.envelope(), {}));
  if (genesis.kind != PayloadKind::kGenesis) {
    return absl::DataLossError("entry 0 is not a genesis entry");
  }
  origin_ = genesis.genesis.origin();
  verifier_key_ = genesis.genesis.checkpoint_verifier_key();
  ASSIGN_OR_RETURN(
      std::string mine,
      is_replica() ? verifier_key_ : note::VerifierKey(origin_, checkpoint_key_->public_key()));
  if (mine != verifier_key_) {
    return absl::FailedPreconditionError(StrCat("the checkpoint key given (", mine,
                                                ") is not the one this ledger's genesis names (",
                                                verifier_key_, ")"));
  }
  // Registered keys: rows ApplyEntry wrote.
  std::unique_ptr<Cursor> it = store_->NewCursor(Family::kKeys);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ASSIGN_OR_RETURN(auto info, DecodeKeyRow(it->key(), it->value()));
    keys_.Add(std::move(info));
  }
  RETURN_IF_ERROR(Annotate(it->status(), "scan keys"));
  RETURN_IF_ERROR(registry_->Load());
  RETURN_IF_ERROR(ApplyPending(count));
  {
    std::unique_ptr<Cursor> at = store_->NewCursor(Family::kAttempts);
    at->SeekToLast();
    RETURN_IF_ERROR(Annotate(at->status(), "scan attempts"));
    if (at->Valid()) {
      if (!DecodeU64(at->key(), &attempt_count_)) {
        return absl::DataLossError("attempts column family holds a malformed key");
      }
      ++attempt_count_;
      last_attempt_hash_ = Sha256Of(at->value());
    }
    attempts_.store(attempt_count_, std::memory_order_release);
  }

  // The tree's right edge, and the last entry against its leaf.
  StoreNodeReader reader(*store_);
  ASSIGN_OR_RETURN(tree_, merkle::CompactTree::Load(count, reader));
  VETA_CHECK(tree_.size() == count, "the tree loaded covers the entries stored");
  ASSIGN_OR_RETURN(last_leaf_, reader.GetNode(0, count - 1));
  ASSIGN_OR_RETURN(std::string last, store_->Get(Family::kEntries, EncodeU64(count - 1)));
  if (merkle::HashLeaf(last) != last_leaf_) {
    return absl::DataLossError(StrCat("entry ", count - 1, " does not match its leaf hash"));
  }
  ASSIGN_OR_RETURN(veta::v1::Entry last_entry, ParseEntry(last, count - 1));
  last_time_micros_ = MicrosOf(last_entry.time());
  last_time_published_.store(last_time_micros_, std::memory_order_release);

  // The latest checkpoint must verify and agree with the tree. A follower killed before it
  // stored its first checkpoint has entries and none.
  auto latest_note = store_->LatestCheckpointNote();
  if (is_replica() && absl::IsNotFound(latest_note.status())) {
    size_.store(count, std::memory_order_release);
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::string note_text, std::move(latest_note));
  auto text = note::Open(note_text, verifier_key_);
  if (!text.ok()) {
    return absl::DataLossError(
        StrCat("the latest checkpoint does not verify: ", text.status().message()));
  }
  ASSIGN_OR_RETURN(note::Checkpoint cp, note::ParseCheckpointText(*text));
  if (cp.size > count) {
    return absl::DataLossError(StrCat("the latest checkpoint covers ", cp.size,
                                      " entries but the store holds ", count,
                                      ": entries were lost or the store was rolled back"));
  }
  ASSIGN_OR_RETURN(Hash root, merkle::SubtreeRoot(reader, 0, cp.size));
  if (root != cp.root) {
    return absl::DataLossError(
        StrCat("the stored tree of size ", cp.size, " does not match its signed checkpoint"));
  }
  // The newest checkpoint published, kept outside the database: a database restored from an
  // older copy is behind it.
  auto published = options_.data_dir.empty()
                       ? absl::StatusOr<std::string>(absl::NotFoundError("no data folder"))
                       : ReadFile(LatestCheckpointPath(options_.data_dir));
  if (published.ok()) {
    auto published_text = note::Open(*published, verifier_key_);
    if (!published_text.ok()) {
      return absl::DataLossError(StrCat(LatestCheckpointPath(options_.data_dir),
                                        " does not verify: ", published_text.status().message()));
    }
    ASSIGN_OR_RETURN(note::Checkpoint pub, note::ParseCheckpointText(*published_text));
    if (pub.size > count) {
      return absl::DataLossError(
          StrCat("checkpoint ", pub.size, " was published (",
                 LatestCheckpointPath(options_.data_dir), ") but the store holds ", count,
                 " entries: entries were lost or rolled back to an older copy of the store"));
    }
    ASSIGN_OR_RETURN(Hash pub_root, merkle::SubtreeRoot(reader, 0, pub.size));
    if (pub_root != pub.root) {
      return absl::DataLossError(StrCat("the store's tree of size ", pub.size,
                                        " differs from the checkpoint published for that size"));
    }
  } else if (!absl::IsNotFound(published.status())) {
    return published.status();
  }
  {
    absl::MutexLock lock(&checkpoint_mu_);
    checkpoint_.set_origin(cp.origin);
    checkpoint_.set_tree_size(cp.size);
    checkpoint_.set_root_hash(std::string(AsBytes(cp.root)));
    checkpoint_.set_note(note_text);
    opened_checkpoint_ = checkpoint_;
  }
  checkpointed_size_ = cp.size;
  if (cp.size < count) oldest_unchecked_ = std::chrono::steady_clock::now();
  size_.store(count, std::memory_order_release);
  // The newest cosigned checkpoint, if witnesses cosigned one: it must still match the tree.
  auto cosigned = options_.data_dir.empty()
                      ? absl::StatusOr<std::string>(absl::NotFoundError("no data folder"))
                      : ReadFile(CosignedCheckpointPath(options_.data_dir));
  if (cosigned.ok()) {
    auto checked = CheckCosigned(*cosigned);
    if (!checked.ok()) {
      return absl::DataLossError(
          StrCat(CosignedCheckpointPath(options_.data_dir), ": ", checked.status().message()));
    }
    absl::MutexLock lock(&checkpoint_mu_);
    cosigned_ = std::move(*checked);
  } else if (!absl::IsNotFound(cosigned.status())) {
    return cosigned.status();
  }
  return absl::OkStatus();
}

absl::Status Ledger::ApplyPending(uint64_t count) {
  auto marker = store_->Get(Family::kMeta, kAppliedKey);
  if (absl::IsNotFound(marker.status())) {
    return absl::DataLossError("the ledger does not record how many entries its state applies");
  }
  RETURN_IF_ERROR(marker.status());
  ASSIGN_OR_RETURN(uint64_t applied, DecodeSequence(*marker, "the applied-entries marker"));
  if (applied > count) {
    return absl::DataLossError(StrCat("the state applies ", applied, " entries but the log has ",
                                      count, ": entries were lost"));
  }
  if (applied < count) {
    std::fprintf(stderr, "veta: applying entries %llu to %llu to the state\n",
                 static_cast<unsigned long long>(applied),
                 static_cast<unsigned long long>(count - 1));
  }
  // In chunks of up to 1,024 entries, each one write; a chunk ends after an entry that adds
  // keys, which the next entries' signatures may need.
  constexpr uint64_t kChunk = 1024;
  while (applied < count) {
    Delta delta;
    std::unique_ptr<Batch> wb = store_->NewBatch();
    uint64_t end = applied;
    while (end < count && end - applied < kChunk && delta.keys.empty()) {
      const uint64_t seq = end++;
      ASSIGN_OR_RETURN(std::string bytes, store_->Get(Family::kEntries, EncodeU64(seq)));
      ASSIGN_OR_RETURN(veta::v1::Entry entry, ParseEntry(bytes, seq));
      auto d = DecodeEnvelope(entry.envelope(), {});
      if (!d.ok()) {
        return absl::DataLossError(StrCat("entry ", seq, ": ", d.status().message()));
      }
      if (absl::Status s = VerifySignatures(*d, keys_); !s.ok()) {
        return absl::DataLossError(StrCat("entry ", seq, ": ", s.message()));
      }
      const Verdict v =
          ApplyEntry(*d, seq, MicrosOf(entry.time()), *registry_, keys_, &delta, wb.get());
      RETURN_IF_ERROR(v.error);
      if (!v.ok()) {
        return absl::DataLossError(
            StrCat("entry ", seq, " is in the log but the rules refuse it: ",
                   v.invalid.ok() ? StrCat("[", veta::v1::Refusal_Name(v.refusal), "] ", v.message)
                                  : std::string(v.invalid.message())));
      }
    }
    VETA_CHECK(end > applied && end <= count, "each chunk applies entries of the log");
    wb->Put(Family::kMeta, kAppliedKey, EncodeU64(end));
    RETURN_IF_ERROR(store_->Write(*wb, /*sync=*/true));
    registry_->Commit(std::move(delta), &keys_);
    applied = end;
  }
  return absl::OkStatus();
}

void Ledger::Submit(std::string envelope_bytes, SubmitCallback done,
                    std::chrono::system_clock::time_point deadline) {
  Enqueue(std::move(envelope_bytes), std::move(done), false, deadline);
}

void Ledger::Check(std::string envelope_bytes, SubmitCallback done) {
  Enqueue(std::move(envelope_bytes), std::move(done), true,
          std::chrono::system_clock::time_point::max());
}

SubmitResult Ledger::CheckAndWait(std::string envelope_bytes) {
  std::promise<SubmitResult> promise;
  auto future = promise.get_future();
  Check(std::move(envelope_bytes), [&promise](SubmitResult r) { promise.set_value(r); });
  return future.get();
}

void Ledger::Enqueue(std::string envelope_bytes, SubmitCallback done, bool dry_run,
                     std::chrono::system_clock::time_point deadline) {
  auto pending = std::make_shared<Pending>();
  pending->bytes = std::move(envelope_bytes);
  pending->done = std::move(done);
  pending->dry_run = dry_run;
  pending->deadline = deadline;
  absl::Status refused;
  if (is_replica()) {
    pending->done(MakeResult(absl::FailedPreconditionError(
        StrCat("this is a follower: it serves reads only; submit and check at the primary, ",
               options_.primary))));
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (closing_) {
      refused = absl::UnavailableError("the ledger is shutting down; submit again after restart");
    } else if (!write_failure_.ok()) {
      refused = write_failure_;
    } else if (order_.size() >= options_.queue_entries_max) {
      refused = absl::ResourceExhaustedError(StrCat("the ledger already has ", order_.size(),
                                                    " submissions waiting; try again shortly"));
    } else {
      order_.push_back(pending);
      to_verify_.push_back(pending);
      queue_depth_.store(order_.size(), std::memory_order_relaxed);
    }
  }
  if (!refused.ok()) {
    if (options_.observer != nullptr && !dry_run) options_.observer->OnTurnedAway(refused.code());
    pending->done(MakeResult(refused));
    return;
  }
  work_cv_.Signal();
}

SubmitResult Ledger::SubmitAndWait(std::string envelope_bytes) {
  std::promise<SubmitResult> promise;
  auto future = promise.get_future();
  Submit(std::move(envelope_bytes), [&promise](SubmitResult r) { promise.set_value(r); });
  return future.get();
}

void Ledger::VerifyLoop() {
  std::vector<std::shared_ptr<Pending>> work;
  while (true) {
    work.clear();
    {
      absl::MutexLock lock(&mu_);
      while (!closing_ && to_verify_.empty()) work_cv_.Wait(&mu_);
      if (to_verify_.empty()) return;  // closing, and nothing left
      const size_t share = to_verify_.size() / workers_.size() + 1;
      while (!to_verify_.empty() && work.size() < std::min(share, kVerifyTakeMax)) {
        work.push_back(std::move(to_verify_.front()));
        to_verify_.pop_front();
      }
    }
    for (auto& p : work) {
      DecodedEnvelope& d = p->decoded.emplace();  // decoded where it stays
      absl::Status s = DecodeEnvelopeInto(std::move(p->bytes), options_.limits, &d);
      if (s.ok()) s = VerifySignatures(d, keys_);
      if (s.ok()) {
        PrevalidateRecord(&d);  // the stateless rules, here rather than in sequence
      } else {
        p->decoded = std::move(s);
      }
    }
    {
      absl::MutexLock lock(&mu_);
      for (auto& p : work) p->ready = true;
    }
    ready_cv_.Signal();
  }
}

bool Ledger::FrontReadyLocked() const { return !order_.empty() && order_.front()->ready; }

void Ledger::SequencerLoop() {
  mu_.Lock();
  while (true) {
    if (!FrontReadyLocked()) {
      if (closing_ && order_.empty()) break;
      const bool unchecked = tree_.size() > checkpointed_size_;
      if (!unchecked) {
        while (!FrontReadyLocked() && !(closing_ && order_.empty())) ready_cv_.Wait(&mu_);
        continue;
      }
      // Until the front is ready, the ledger closes, or the checkpoint is due (steady clock).
      const auto due = oldest_unchecked_ + options_.checkpoint_interval;
      bool woken = FrontReadyLocked() || closing_;
      while (!woken) {
        const auto left = due - std::chrono::steady_clock::now();
        if (left <= std::chrono::steady_clock::duration::zero()) break;
        ready_cv_.WaitWithTimeout(&mu_, absl::FromChrono(left));
        woken = FrontReadyLocked() || closing_;
      }
      if (!woken) {
        mu_.Unlock();
        ProcessBatch({}, /*force_checkpoint=*/true);
        mu_.Lock();
      }
      continue;
    }
    std::vector<std::shared_ptr<Pending>> batch;
    while (FrontReadyLocked() && batch.size() < options_.batch_entries_max) {
      batch.push_back(std::move(order_.front()));
      order_.pop_front();
    }
    queue_depth_.store(order_.size(), std::memory_order_relaxed);
    mu_.Unlock();
    ProcessBatch(std::move(batch), /*force_checkpoint=*/false);
    mu_.Lock();
  }
  mu_.Unlock();
  if (tree_.size() > checkpointed_size_) ProcessBatch({}, /*force_checkpoint=*/true);
}

void Ledger::ProcessBatch(std::vector<std::shared_ptr<Pending>> batch, bool force_checkpoint) {
  const merkle::CompactTree tree_before = tree_;
  const Hash last_leaf_before = last_leaf_;
  const int64_t last_time_before = last_time_micros_;
  std::unique_ptr<Batch> wb = store_->NewBatch();
  std::vector<SubmitResult> results(batch.size());
  // Statements written by this batch: their sequence and envelope bytes.
  std::unordered_map<std::string, std::pair<uint64_t, const std::string*>> batch_statements;
  Delta delta;
  const uint64_t attempt_count_before = attempt_count_;
  const Hash attempt_hash_before = last_attempt_hash_;
  const auto wall_now = std::chrono::system_clock::now();
  const int64_t now = std::max(options_.clock ? options_.clock() : NowMicros(), last_time_micros_);

  // Is each statement recorded already? Asked of the store for the whole batch at once (one
  // visit of each table file); the batch's own statements are looked for below.
  std::vector<std::string_view> statement_keys;
  for (const auto& p : batch) {
    if (p->decoded.ok()) statement_keys.push_back(AsBytes(p->decoded->statement_hash));
  }
  std::vector<absl::StatusOr<std::string>> recorded_rows =
      store_->MultiGet(Family::kStatements, statement_keys);
  size_t next_recorded = 0;

  for (size_t i = 0; i < batch.size(); ++i) {
    Pending& p = *batch[i];
    const absl::StatusOr<std::string>* recorded_row =
        p.decoded.ok() ? &recorded_rows[next_recorded++] : nullptr;
    if (p.deadline < wall_now) {
      results[i].status = absl::DeadlineExceededError(
          "the deadline passed before the entry could be sequenced; nothing was written");
      continue;
    }
    if (!p.decoded.ok()) {
      results[i].status = p.decoded.status();
      continue;
    }
    const absl::StatusOr<std::string>& existing = *recorded_row;
    const DecodedEnvelope& d = *p.decoded;
    const std::string statement(AsBytes(d.statement_hash));
    // The same statement again, whoever signed it: never a second entry. A copy whose bytes
    // differ (a signature added or changed: how a party would replay a record signed for it
    // by a registrar) is kept as an attempt; the same bytes again are a client's retry.
    std::optional<uint64_t> recorded;
    bool same_bytes = false;
    if (auto it = batch_statements.find(statement); it != batch_statements.end()) {
      recorded = it->second.first;
      same_bytes = *it->second.second == d.bytes;
    } else if (existing.ok()) {
      auto original = DecodeSequence(*existing, "a statement row");
      if (!original.ok()) {
        results[i].status = original.status();
        continue;
      }
      recorded = *original;
      auto entry = store_->Get(Family::kEntries, *existing);
      if (!entry.ok()) {
        results[i].status = entry.status();
        continue;
      }
      veta::v1::Entry stored;
      same_bytes = stored.ParseFromString(*entry) && stored.envelope() == d.bytes;
    } else if (!absl::IsNotFound(existing.status())) {
      results[i].status = existing.status();
      continue;
    }
    if (recorded) {
      Verdict verdict;
      verdict.refusal = veta::v1::ENVELOPE_REPLAYED;
      verdict.message = StrCat("this envelope is already recorded as entry ", *recorded,
                               ": a payload is recorded once, whoever signs it");
      Registry::Involved involved = registry_->InvolvedIn(d, delta);
      verdict.parties = std::move(involved.parties);
      verdict.unit_code = std::move(involved.unit_code);
      results[i].status = absl::AlreadyExistsError(StrCat("[ENVELOPE_REPLAYED] ", verdict.message));
      results[i].refusal = verdict.refusal;
      if (!p.dry_run && !same_bytes) LogAttempt(d, verdict, now, wb.get());
      continue;
    }
    const uint64_t seq = tree_.size();
    Verdict verdict =
        ApplyEntry(d, seq, now, *registry_, keys_, &delta, p.dry_run ? nullptr : wb.get());
    if (!verdict.error.ok()) {
      results[i].status = absl::UnavailableError(
          StrCat("the entry could not be judged: ", verdict.error.message()));
      continue;
    }
    if (!verdict.invalid.ok()) {
      results[i].status = verdict.invalid;
      continue;
    }
    if (!verdict.ok()) {
      results[i].status = RefusalStatus(verdict);
      results[i].refusal = verdict.refusal;
      if (!p.dry_run) LogAttempt(d, verdict, now, wb.get());
      continue;
    }
    if (p.dry_run) {
      results[i].flags = verdict.effects.flags;  // OK: it would be accepted now
      continue;
    }
    veta::v1::Entry entry;
    entry.set_sequence(seq);
    *entry.mutable_time() = TimestampOfMicros(now);
    if (seq > 0) entry.set_previous_hash(std::string(AsBytes(last_leaf_)));
    entry.set_envelope(d.bytes);
    const std::string bytes = entry.SerializeAsString();
    const Hash leaf = merkle::HashLeaf(bytes);
    const std::string seq_key = EncodeU64(seq);
    wb->Put(Family::kEntries, seq_key, bytes);
    wb->Put(Family::kLeaves, LeafKey(seq, AsBytes(leaf)), seq_key);
    wb->Put(Family::kStatements, statement, seq_key);
    tree_.Append(leaf, [&](uint32_t level, uint64_t index, const Hash& h) {
      wb->Put(Family::kTree, NodeKey(level, index), std::string(AsBytes(h)));
    });
    VETA_CHECK(tree_.size() == seq + 1, "an accepted entry takes the next sequence");
    batch_statements.emplace(statement, std::make_pair(seq, &d.bytes));
    last_leaf_ = leaf;
    last_time_micros_ = now;
    results[i] = MakeResult(absl::OkStatus(), seq, leaf);
    results[i].flags = std::move(verdict.effects.flags);
  }

  VETA_CHECK(last_time_micros_ >= last_time_before, "entry times never go backwards");
  if (tree_.size() > tree_before.size()) {
    wb->Put(Family::kMeta, kAppliedKey, EncodeU64(tree_.size()));  // the state is of them all
  }
  const auto steady_now = std::chrono::steady_clock::now();
  if (tree_.size() > tree_before.size() && tree_before.size() == checkpointed_size_) {
    oldest_unchecked_ = steady_now;
  }
  std::optional<veta::v1::Checkpoint> checkpoint;
  absl::Status write_status;
  if (tree_.size() > checkpointed_size_ &&
      (force_checkpoint || steady_now - oldest_unchecked_ >= options_.checkpoint_interval)) {
    auto signed_cp = SignCheckpoint(tree_.size(), tree_.Root());
    if (signed_cp.ok()) {
      wb->Put(Family::kCheckpoints, EncodeU64(tree_.size()), signed_cp->note());
      checkpoint = std::move(*signed_cp);
    } else {
      write_status = signed_cp.status();
    }
  }
  std::optional<std::chrono::steady_clock::duration> sync_time;
  bool checkpoint_written = false;
  if (write_status.ok() && wb->Count() > 0) {
    const auto sync_start = std::chrono::steady_clock::now();
    write_status = store_->Write(*wb, /*sync=*/true);
    sync_time = std::chrono::steady_clock::now() - sync_start;
  }
  if (!write_status.ok()) {
    // Nothing of this batch is durable: forget it, and take no more writes.
    tree_ = tree_before;
    last_leaf_ = last_leaf_before;
    last_time_micros_ = last_time_before;
    attempt_count_ = attempt_count_before;
    last_attempt_hash_ = attempt_hash_before;
    const absl::Status failure = absl::UnavailableError(StrCat(
        "the ledger stopped accepting writes after a storage error: ", write_status.message()));
    std::fprintf(stderr, "veta: %s\n", std::string(failure.message()).c_str());
    {
      absl::MutexLock lock(&mu_);
      write_failure_ = failure;
    }
    for (auto& r : results) {
      if (r.status.ok()) r = MakeResult(failure);
    }
  } else {
    registry_->Commit(std::move(delta), &keys_);
    size_.store(tree_.size(), std::memory_order_release);
    attempts_.store(attempt_count_, std::memory_order_release);
    {
      absl::MutexLock lock(&growth_mu_);  // AwaitGrowth's conditions are evaluated again
      ++batches_;
    }
    checkpoint_written = checkpoint.has_value();
    last_time_published_.store(last_time_micros_, std::memory_order_release);
    if (checkpoint) {
      checkpointed_size_ = checkpoint->tree_size();
      if (absl::Status s =
              options_.data_dir.empty()
                  ? absl::OkStatus()
                  : WriteFileAtomic(LatestCheckpointPath(options_.data_dir), checkpoint->note());
          !s.ok()) {
        std::fprintf(stderr, "veta: cannot record the latest checkpoint: %s\n",
                     std::string(s.message()).c_str());
      }
      absl::MutexLock lock(&checkpoint_mu_);
      checkpoint_ = std::move(*checkpoint);
    }
    if (checkpoint && options_.on_checkpoint) options_.on_checkpoint(checkpointed_size_);
  }
  // What the observer (the metrics) sees.
  if (options_.observer != nullptr) {
    BatchObservation seen;
    seen.submissions = batch.size();
    seen.sync = sync_time;
    seen.tree_size = tree_.size();
    if (write_status.ok() && checkpoint_written) seen.checkpoint_size = checkpointed_size_;
    const auto answered = std::chrono::steady_clock::now();
    for (size_t i = 0; i < batch.size(); ++i) {
      const Pending& p = *batch[i];
      if (p.dry_run) continue;
      const SubmitResult& r = results[i];
      if (r.status.ok()) {
        seen.committed.push_back(p.decoded->kind);
        seen.commit_latencies.push_back(answered - p.submitted);
      } else if (r.refusal != veta::v1::REFUSAL_UNSPECIFIED && write_status.ok()) {
        seen.refusals.push_back(r.refusal);
      } else {
        seen.failures.push_back(r.status.code());
      }
    }
    // Before the answers: a caller that has its answer finds it counted.
    options_.observer->OnBatch(seen);
  }
  for (size_t i = 0; i < batch.size(); ++i) batch[i]->done(std::move(results[i]));
}

void Ledger::LogAttempt(const DecodedEnvelope& d, const Verdict& verdict, int64_t now, Batch* wb) {
  veta::v1::Attempt attempt;
  attempt.set_number(attempt_count_);
  *attempt.mutable_time() = TimestampOfMicros(now);
  if (attempt_count_ > 0) attempt.set_previous_hash(std::string(AsBytes(last_attempt_hash_)));
  attempt.set_envelope(d.bytes);
  attempt.set_refusal(verdict.refusal);
  attempt.set_message(verdict.message);
  for (const auto& party : verdict.parties) attempt.add_parties(party);
  attempt.set_unit_code(verdict.unit_code);
  attempt.set_ledger_size(tree_.size());
  const std::string bytes = attempt.SerializeAsString();
  wb->Put(Family::kAttempts, EncodeU64(attempt_count_), bytes);
  for (const auto& key : AttemptIndexKeys(attempt)) wb->Put(Family::kEvidence, key, "");
  last_attempt_hash_ = Sha256Of(bytes);
  ++attempt_count_;
}

absl::StatusOr<uint64_t> Ledger::SizeAtTime(int64_t time_micros) const {
  // Binary search for the first entry later than time_micros.
  uint64_t lo = 0, hi = size();
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    ASSIGN_OR_RETURN(std::string bytes, GetEntry(mid));
    ASSIGN_OR_RETURN(veta::v1::Entry entry, ParseEntry(bytes, mid));
    if (MicrosOf(entry.time()) <= time_micros) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

absl::StatusOr<veta::v1::Checkpoint> Ledger::SignCheckpoint(uint64_t size, const Hash& root) const {
  veta::v1::Checkpoint cp;
  cp.set_origin(origin_);
  cp.set_tree_size(size);
  cp.set_root_hash(std::string(AsBytes(root)));
  ASSIGN_OR_RETURN(std::string note_text, note::Sign(note::CheckpointText({origin_, size, root}),
                                                     origin_, *checkpoint_key_));
  cp.set_note(std::move(note_text));
  return cp;
}

absl::StatusOr<std::string> Ledger::SignNote(std::string_view text) const {
  if (!checkpoint_key_) {
    return absl::FailedPreconditionError(
        StrCat("this follower holds no authority key and signs nothing: ask the primary, ",
               options_.primary));
  }
  return note::Sign(text, origin_, *checkpoint_key_);
}

void Ledger::Close() {
  std::call_once(close_once_, [this] {
    {
      absl::MutexLock lock(&mu_);
      closing_ = true;
    }
    work_cv_.SignalAll();
    ready_cv_.SignalAll();
    for (auto& w : workers_) w.join();
    if (sequencer_.joinable()) sequencer_.join();
    // Everything is already durable in the WAL; flushing the memtables now makes the next
    // start-up skip replaying it (1.4 s instead of 20 ms at 1M entries).
    if (store_ != nullptr && (!workers_.empty() || is_replica())) {
      absl::Status s = store_->FlushAll();
      if (!s.ok())
        std::fprintf(stderr, "veta: flush at close: %s\n", std::string(s.message()).c_str());
    }
    store_.reset();
  });
}

bool Ledger::AwaitGrowth(uint64_t entries_seen, uint64_t attempts_seen,
                         absl::Duration timeout) const {
  struct Seen {
    const Ledger* ledger;
    uint64_t entries, attempts;
  } seen{this, entries_seen, attempts_seen};
  absl::MutexLock lock(&growth_mu_);
  return growth_mu_.AwaitWithTimeout(absl::Condition(
                                         +[](Seen* s) {
                                           return s->ledger->size() > s->entries ||
                                                  s->ledger->attempts() > s->attempts;
                                         },
                                         &seen),
                                     timeout);
}

absl::StatusOr<std::string> Ledger::GetEntry(uint64_t sequence) const {
  const uint64_t n = size();
  if (sequence >= n) {
    return absl::OutOfRangeError(
        StrCat("entry ", sequence, " does not exist: the log has ", n, " entries"));
  }
  auto bytes = store_->Get(Family::kEntries, EncodeU64(sequence));
  if (absl::IsNotFound(bytes.status())) {
    return absl::DataLossError(StrCat("entry ", sequence, " is missing from the store"));
  }
  return bytes;
}

absl::StatusOr<std::vector<std::string>> Ledger::ListEntries(uint64_t start, uint32_t limit) const {
  if (limit > options_.list_entries_max) {
    return absl::InvalidArgumentError(StrCat("limit ", limit, " is above the maximum page of ",
                                             options_.list_entries_max, " entries"));
  }
  if (limit == 0) limit = options_.list_entries_max;
  std::vector<std::string> out;
  const uint64_t n = size();
  if (start >= n) return out;
  const uint64_t end = start + std::min<uint64_t>(limit, n - start);
  std::unique_ptr<Cursor> it = store_->NewCursor(Family::kEntries);
  uint64_t expect = start;
  for (it->Seek(EncodeU64(start)); it->Valid() && expect < end; it->Next(), ++expect) {
    uint64_t seq = 0;
    if (!DecodeU64(it->key(), &seq) || seq != expect) {
      return absl::DataLossError(StrCat("entry ", expect, " is missing from the store"));
    }
    out.push_back(std::string(it->value()));
  }
  RETURN_IF_ERROR(Annotate(it->status(), "list entries"));
  if (expect != end) return absl::DataLossError("the store ends before the log does");
  return out;
}

absl::StatusOr<uint64_t> Ledger::FindLeaf(const Hash& leaf_hash) const {
  return store_->FindLeaf(AsBytes(leaf_hash), size());
}

std::string CosignedCheckpointPath(const std::string& data_dir) {
  return data_dir + "/cosigned-checkpoint";
}

absl::StatusOr<veta::v1::Checkpoint> Ledger::CheckCosigned(const std::string& note) const {
  auto text = note::Open(note, verifier_key_);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        StrCat("the cosigned checkpoint does not verify: ", text.status().message()));
  }
  ASSIGN_OR_RETURN(note::Checkpoint cp, note::ParseCheckpointText(*text));
  if (cp.origin != origin_) {
    return absl::InvalidArgumentError(StrCat("the cosigned checkpoint is of log ", cp.origin));
  }
  ASSIGN_OR_RETURN(Hash root, RootAt(cp.size));
  if (root != cp.root) {
    return absl::DataLossError(
        StrCat("the cosigned checkpoint of size ", cp.size, " differs from the tree"));
  }
  veta::v1::Checkpoint out;
  out.set_origin(cp.origin);
  out.set_tree_size(cp.size);
  out.set_root_hash(std::string(AsBytes(cp.root)));
  out.set_note(note);
  return out;
}

absl::Status Ledger::PublishCosignedCheckpoint(const std::string& note) {
  absl::MutexLock publish(&publish_mu_);
  ASSIGN_OR_RETURN(veta::v1::Checkpoint cp, CheckCosigned(note));
  {
    absl::MutexLock lock(&checkpoint_mu_);
    if (cp.tree_size() < cosigned_.tree_size()) {
      return absl::FailedPreconditionError(StrCat("checkpoint ", cp.tree_size(),
                                                  " is older than the cosigned one published (",
                                                  cosigned_.tree_size(), ")"));
    }
    if (options_.witnessed && cosigned_.tree_size() == 0 &&
        cp.tree_size() < opened_checkpoint_.tree_size()) {
      return absl::FailedPreconditionError(StrCat("checkpoint ", cp.tree_size(),
                                                  " is older than the one published at start (",
                                                  opened_checkpoint_.tree_size(), ")"));
    }
  }
  if (!options_.data_dir.empty()) {
    RETURN_IF_ERROR(WriteFileAtomic(CosignedCheckpointPath(options_.data_dir), note));
  }
  absl::MutexLock lock(&checkpoint_mu_);
  cosigned_ = std::move(cp);
  return absl::OkStatus();
}

veta::v1::Checkpoint Ledger::PublishedCheckpoint() const {
  absl::MutexLock lock(&checkpoint_mu_);
  // Under a witness policy, before the first cosigned checkpoint (a first start, a restore, a
  // promoted follower): the checkpoint the ledger opened with, not the newest signed, which a
  // cosigned checkpoint of a smaller size would then take back (a follower or a client that
  // saw the newer one would see the log roll back).
  if (options_.witnessed) return cosigned_.tree_size() > 0 ? cosigned_ : opened_checkpoint_;
  return checkpoint_;
}

veta::v1::Checkpoint Ledger::LatestCheckpoint() const {
  absl::MutexLock lock(&checkpoint_mu_);
  return checkpoint_;
}

absl::Status Ledger::CheckTreeSize(uint64_t tree_size) const {
  const uint64_t n = size();
  if (tree_size > n) {
    return absl::OutOfRangeError(
        StrCat("tree size ", tree_size, " is beyond the log, which has ", n, " entries"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Hash>> Ledger::InclusionProof(uint64_t index, uint64_t tree_size) const {
  RETURN_IF_ERROR(CheckTreeSize(tree_size));
  if (index >= tree_size) {
    return absl::OutOfRangeError(
        StrCat("entry ", index, " is not in the tree of size ", tree_size));
  }
  return merkle::InclusionProof(StoreNodeReader(*store_), index, tree_size);
}

absl::StatusOr<std::vector<Hash>> Ledger::ConsistencyProof(uint64_t first, uint64_t second) const {
  RETURN_IF_ERROR(CheckTreeSize(second));
  if (first == 0 || first > second) {
    return absl::InvalidArgumentError(StrCat("no consistency proof from size ", first, " to ",
                                             second, ": need 0 < first <= second"));
  }
  return merkle::ConsistencyProof(StoreNodeReader(*store_), first, second);
}

absl::StatusOr<Hash> Ledger::RootAt(uint64_t tree_size) const {
  RETURN_IF_ERROR(CheckTreeSize(tree_size));
  if (tree_size == 0) return merkle::EmptyRoot();
  return merkle::SubtreeRoot(StoreNodeReader(*store_), 0, tree_size);
}

}  // namespace veta
