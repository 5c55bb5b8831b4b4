// The ledger: an append-only log of signed envelopes on RocksDB, hash-chained, in an RFC 9162
// Merkle tree, with signed checkpoints.
//
// Write path (group commit):
//   Submit() -> [verify pool: decode, look up keys, verify signatures, in parallel]
//            -> [sequencer thread: takes the verified envelopes in submission order, applies
//                the rules to each against the state after the previous ones, assigns
//                sequence numbers, hashes, and writes the whole batch in ONE synced
//                WriteBatch] -> callbacks, only after the sync.
// An answer with OK means the entry is on disk. A refused envelope changes nothing but the
// attempts log.
//
// The attempts log (evidence) keeps a refusal when the envelope decoded and every signature on
// it verified with a key the ledger knows, i.e. when registered signers can be held to it: a
// rule's refusal (a stable Refusal code), a key no longer in force, a refused key
// registration, a replay whose bytes differ from the recorded entry's (a signature added to a
// statement already recorded). It does not keep bytes that do not decode, unknown keys or
// signatures that do not verify (anyone can make those: they prove nothing about any
// registered party, and keeping them would let anyone fill the log), the same bytes again (a
// client's retry, answered with the entry it already is), dry runs (Check), nor entries that
// could not be judged (storage errors, answered UNAVAILABLE).
//
// Thread-safety: every public method may be called from any thread. Callbacks run on the
// ledger's threads and must not block for long.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>  // std::once_flag
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/log/keyring.h"
#include "core/log/observer.h"
#include "core/rules/registry.h"
#include "core/storage/schema.h"
#include "core/storage/store.h"
#include "core/verify/envelope.h"
#include "core/verify/merkle.h"
#include "veta/v1/ledger.pb.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace veta {

struct LedgerOptions {
  // Holds db/ (RocksDB) and authority-key.pem.
  std::string data_dir;
  EnvelopeLimits limits;
  // Most entries written by one synced WriteBatch.
  size_t batch_entries_max = 2048;
  // Most submissions waiting (verifying or sequencing); past it Submit answers
  // ResourceExhausted instead of queueing without bound.
  size_t queue_entries_max = 100000;
  // Signature verification threads; 0 means one per core.
  int verify_threads = 0;
  // A checkpoint is signed once new entries are this old (0: after every batch).
  std::chrono::milliseconds checkpoint_interval{250};
  // Ledger pages and proof sizes.
  uint32_t list_entries_max = 1000;
  // The storage RocksDB uses; null means the machine's. Tests inject disk faults with it.
  std::shared_ptr<rocksdb::Env> env;
  // The store to keep the ledger in instead of data_dir/db: a MemoryStore for a ledger with no
  // disk at all (then data_dir may be empty, and no file is read or written). The store's
  // owner may open a Ledger on it again, as after a restart.
  std::shared_ptr<Store> store;
  // The sequencer's clock, microseconds since the epoch; null means the system's. Entry times
  // still never go backwards. Tests move it ahead to judge declarations made days later.
  std::function<int64_t()> clock;
  // A witness policy is in force (veta-server --witness-policy): the checkpoint published
  // (PublishedCheckpoint) is the newest one the witness quorum cosigned.
  bool witnessed = false;
  // Told about every batch of the sequencer (the server's metrics); null: nobody.
  std::shared_ptr<LedgerObserver> observer;
  // Called on the sequencer thread after each new checkpoint is durable and LatestCheckpoint()
  // returns it, with its tree size (the tile writer's Notify). Must return at once.
  std::function<void(uint64_t tree_size)> on_checkpoint;
  // Follower mode (Ledger::OpenReplica): the address of the primary this ledger replicates,
  // named in the refusal of every write.
  std::string primary;
};

// What Ledger::AppendReplicated did with a page of the primary's entries.
struct ReplicaAppend {
  // OK when every entry given was appended. Otherwise why the page stopped: `diverged` false
  // for a failure worth retrying (storage, the root check's own I/O), true when the primary's
  // log is not what this ledger computes (an entry out of sequence or off the chain, a time
  // going backwards, bytes other than those the sequencer writes, a signature, a replay, a rule
  // refusing it, a root other than the signed one).
  absl::Status status;
  bool diverged = false;
  // The entry that diverged, and the refusal code when a rule refused it.
  uint64_t sequence = 0;
  veta::v1::Refusal refusal = veta::v1::REFUSAL_UNSPECIFIED;
  // Entries appended (durably) by this call, even when it stopped.
  uint64_t appended = 0;
};

// Ties the leaves of a page to the primary's signed tree: called with the page's first
// sequence, its leaf hashes and the root of the whole tree after it, before anything of the page
// is applied. A status other than OK stops the page, with its verdict.
using ReplicaRootCheck =
    std::function<ReplicaAppend(uint64_t first, const std::vector<Hash>& leaves, const Hash& root)>;

struct SubmitResult {
  absl::Status status;
  uint64_t sequence = 0;
  Hash leaf_hash{};
  // When an origin rule refused it: the stable code (also at the front of the message).
  veta::v1::Refusal refusal = veta::v1::REFUSAL_UNSPECIFIED;
  // Red flags raised on the accepted entry.
  std::vector<veta::v1::Flag> flags;
};

using SubmitCallback = std::function<void(SubmitResult)>;

// File names inside the data folder.
std::string DatabasePath(const std::string& data_dir);
std::string AuthorityKeyPath(const std::string& data_dir);
// The newest checkpoint the server has published, kept beside the database (not in it), so
// that a database rolled back to an older copy is noticed at start-up.
std::string LatestCheckpointPath(const std::string& data_dir);
// The newest checkpoint cosigned by the witness quorum (a note with the authority's signature
// and the witnesses' cosignature lines).
std::string CosignedCheckpointPath(const std::string& data_dir);

class Ledger {
 public:
  // Creates a new ledger in `data_dir` (which must not hold one): the genesis entry, naming
  // `authority` (Ed25519) as the authority and checkpoint key, and the first checkpoint.
  // Writes the authority's private key to data_dir/authority-key.pem (mode 0600) unless
  // `write_key` is false.
  [[nodiscard]] static absl::Status Create(const std::string& data_dir, const std::string& origin,
                                           const PrivateKey& authority,
                                           const std::string& description, bool write_key = true);
  // The same in an empty store of the caller's (e.g. a MemoryStore), with no file written.
  [[nodiscard]] static absl::Status Create(std::shared_ptr<Store> store, const std::string& origin,
                                           const PrivateKey& authority,
                                           const std::string& description);

  // Opens an existing ledger and checks it: the latest checkpoint verifies and matches the
  // stored tree, the last entry matches its leaf. FailedPrecondition / DataLoss otherwise:
  // a store that fails its own check is never written to.
  static absl::StatusOr<std::unique_ptr<Ledger>> Open(const LedgerOptions& options,
                                                      const PrivateKey& checkpoint_key);
  ~Ledger();

  // Follower mode. A replica holds the primary's entries and checkpoints and the state the
  // rules derive from them, with no authority key: it signs nothing, and refuses Submit and
  // Check (FailedPrecondition naming options.primary). CreateReplica makes an empty one (no
  // entry: the genesis comes from the primary); OpenReplica opens one, checked as Open checks.
  [[nodiscard]] static absl::Status CreateReplica(const std::string& data_dir);
  [[nodiscard]] static absl::Status CreateReplica(std::shared_ptr<Store> store);
  static absl::StatusOr<std::unique_ptr<Ledger>> OpenReplica(const LedgerOptions& options);
  // Appends the primary's next entries (serialized veta.v1.Entry, from size() on) as the
  // primary's sequencer wrote them, re-judging each: its sequence, previous hash and time, its
  // bytes as this sequencer would write them, its envelope and signatures, no replayed
  // statement, and ApplyEntry at the entry's own time accepting it. `check_root` first ties the
  // page's leaves to the primary's signed root. `checkpoint_note`, when not empty, is the
  // primary's signed checkpoint of the size the page ends at: verified with the genesis's key
  // against the tree, stored, and served as the latest. Written in synced batches: nothing at
  // or after a divergence is written; the entries before it are when the rules or signatures
  // diverge, not when the log's own fields (number, chain, time, bytes, root) do, which are
  // checked for the whole page first. One caller at a time.
  // `verified`: VerifyReplicated's answer for these entries, when the caller got it ahead
  // (overlapping it with the previous page's rules); empty: verified here.
  using VerifiedEnvelopes = std::vector<std::optional<DecodedEnvelope>>;
  ReplicaAppend AppendReplicated(const std::vector<std::string>& entries,
                                 const ReplicaRootCheck& check_root,
                                 const std::string& checkpoint_note = "",
                                 VerifiedEnvelopes verified = {});
  // Decodes the envelopes of serialized entries and verifies their signatures, on a pool of
  // threads, with the keys known now; an entry that fails is left empty (AppendReplicated does
  // it again in sequence, and says why if it still fails). Thread-safe.
  VerifiedEnvelopes VerifyReplicated(const std::vector<std::string>& entries) const;
  bool is_replica() const { return !options_.primary.empty(); }
  const std::string& primary() const { return options_.primary; }
  // Time of the last entry (microseconds since the epoch); 0 when empty.
  int64_t last_entry_time_micros() const {
    return last_time_published_.load(std::memory_order_acquire);
  }

  // Queues an envelope; `done` is called exactly once, after the entry is durable or with
  // the reason it was refused.
  // `deadline`: if the entry is not sequenced by then, it is not written and the answer is
  // DeadlineExceeded (a client that has given up is not answered "written" late).
  void Submit(std::string envelope_bytes, SubmitCallback done,
              std::chrono::system_clock::time_point deadline =
                  std::chrono::system_clock::time_point::max());
  SubmitResult SubmitAndWait(std::string envelope_bytes);
  // A dry run: the same checks and rules, in sequence with the writes, against the state as it
  // stands, but nothing is written and no attempt is logged. For a sale, the counterpart's
  // signature may be missing (a buyer checking a seller before paying). OK means it would be
  // accepted now.
  void Check(std::string envelope_bytes, SubmitCallback done);
  SubmitResult CheckAndWait(std::string envelope_bytes);

  // Refuses new submissions, finishes those already queued, signs a final checkpoint,
  // syncs and closes. Idempotent.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

  // Entries durably committed (the tree size).
  uint64_t size() const { return size_.load(std::memory_order_acquire); }
  // Refused attempts durably logged (the attempts log's size).
  uint64_t attempts() const { return attempts_.load(std::memory_order_acquire); }
  // Waits until the log holds more than `entries_seen` entries or the attempts log more than
  // `attempts_seen` attempts, or `timeout` passes; returns whether either grew. For watchers.
  bool AwaitGrowth(uint64_t entries_seen, uint64_t attempts_seen, absl::Duration timeout) const
      ABSL_LOCKS_EXCLUDED(growth_mu_);
  const std::string& origin() const { return origin_; }
  const std::string& verifier_key() const { return verifier_key_; }
  // Submissions queued (verifying or waiting for the sequencer), for the metrics.
  size_t queue_depth() const { return queue_depth_.load(std::memory_order_relaxed); }

  // The stored bytes of an entry. OutOfRange past the end of the log.
  absl::StatusOr<std::string> GetEntry(uint64_t sequence) const;
  // Up to `limit` (0: list_entries_max) entries from `start`. InvalidArgument past the max.
  absl::StatusOr<std::vector<std::string>> ListEntries(uint64_t start, uint32_t limit) const;
  // The sequence of the entry with this leaf hash; NotFound if none.
  absl::StatusOr<uint64_t> FindLeaf(const Hash& leaf_hash) const;
  veta::v1::Checkpoint LatestCheckpoint() const ABSL_LOCKS_EXCLUDED(checkpoint_mu_);
  // The checkpoint the log publishes: what GetCheckpoint answers, proofs default to, and
  // certificates and the tlog-tiles `checkpoint` file carry. With options.witnessed, the
  // newest checkpoint cosigned by the witness quorum (its note carries the authority's
  // signature and the witnesses' cosignature lines), or, until one is, the checkpoint the
  // ledger opened with (never a newer one that a cosigned one would then take back);
  // without, LatestCheckpoint().
  veta::v1::Checkpoint PublishedCheckpoint() const ABSL_LOCKS_EXCLUDED(checkpoint_mu_);
  std::string PublishedCheckpointNote() const { return PublishedCheckpoint().note(); }
  // Publishes a cosigned checkpoint (the server's witness coordinator calls it): the note must
  // open with the ledger's key, match the tree at its size, and be no smaller than the one
  // published. Written to CosignedCheckpointPath (fsync + rename) before it is served.
  [[nodiscard]] absl::Status PublishCosignedCheckpoint(const std::string& note)
      ABSL_LOCKS_EXCLUDED(checkpoint_mu_, publish_mu_);
  absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t tree_size) const;
  absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t first, uint64_t second) const;
  absl::StatusOr<Hash> RootAt(uint64_t tree_size) const;
  // Signs a statement (a C2SP signed note's text) with the checkpoint key, under the origin:
  // certificates are opened with the checkpoints' verifier key.
  absl::StatusOr<std::string> SignNote(std::string_view text) const;

  // Read access for queries (registry versions, lots, attempts): the store is safe to read
  // from any thread; records at sequences >= size() are not yet visible.
  const Reader& store() const { return *store_; }
  // The signing keys the ledger knows (thread-safe).
  const KeyRing& keys() const { return keys_; }
  // The number of entries whose time is <= time_micros (so "as of" that time means "as of
  // entries [0, result)"). Entry times never decrease.
  absl::StatusOr<uint64_t> SizeAtTime(int64_t time_micros) const;

 private:
  struct Pending;
  Ledger(const LedgerOptions& options, std::shared_ptr<Store> store, std::optional<PrivateKey> key);
  // AppendReplicated's steps (core/log/replica.cc).
  struct ReplicaEntry;
  [[nodiscard]] absl::Status CheckReplicaCheckpoint(const std::string& note_text,
                                                    const std::string& verifier_key, uint64_t size,
                                                    const Hash& root) const;
  void VerifyEnvelopes(size_t count, const std::function<std::string_view(size_t)>& envelope,
                       VerifiedEnvelopes* out) const;
  ReplicaAppend ApplyReplicated(std::vector<ReplicaEntry>& entries, size_t* next,
                                const std::string& checkpoint_note);
  [[nodiscard]] static absl::Status CreateIn(std::shared_ptr<Store> store,
                                             const std::string& data_dir, const std::string& origin,
                                             const PrivateKey& authority,
                                             const std::string& description);
  void Enqueue(std::string envelope_bytes, SubmitCallback done, bool dry_run,
               std::chrono::system_clock::time_point deadline) ABSL_LOCKS_EXCLUDED(mu_);
  void LogAttempt(const DecodedEnvelope& d, const Verdict& verdict, int64_t now, Batch* wb);
  [[nodiscard]] absl::Status Load();
  // Applies to the state, through ApplyEntry, the entries [applied, count) of a log whose state
  // is behind it (a state rebuilt, a follower catching up); a no-op after a normal run.
  [[nodiscard]] absl::Status ApplyPending(uint64_t count);
  void VerifyLoop() ABSL_LOCKS_EXCLUDED(mu_);
  void SequencerLoop() ABSL_LOCKS_EXCLUDED(mu_);
  // Whether the oldest submission is verified and may be sequenced.
  bool FrontReadyLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ProcessBatch(std::vector<std::shared_ptr<Pending>> batch, bool force_checkpoint)
      ABSL_LOCKS_EXCLUDED(mu_, checkpoint_mu_);
  absl::StatusOr<veta::v1::Checkpoint> SignCheckpoint(uint64_t size, const Hash& root) const;
  // A cosigned checkpoint note that opens with the ledger's key and matches the tree.
  absl::StatusOr<veta::v1::Checkpoint> CheckCosigned(const std::string& note) const;
  [[nodiscard]] absl::Status CheckTreeSize(uint64_t tree_size) const;

  const LedgerOptions options_;
  std::shared_ptr<Store> store_;
  const std::optional<PrivateKey> checkpoint_key_;  // none in a replica
  std::string origin_;
  std::string verifier_key_;
  KeyRing keys_;

  // Sequencer-owned (only the sequencer thread touches these after Load).
  merkle::CompactTree tree_;
  Hash last_leaf_{};
  int64_t last_time_micros_ = 0;  // entry times never go backwards
  std::unique_ptr<Registry> registry_;
  uint64_t attempt_count_ = 0;
  Hash last_attempt_hash_{};
  uint64_t checkpointed_size_ = 0;
  std::chrono::steady_clock::time_point oldest_unchecked_{};

  std::atomic<uint64_t> size_{0};
  std::atomic<uint64_t> attempts_{0};
  // Released after each durable batch, so that AwaitGrowth's waiters look again.
  mutable absl::Mutex growth_mu_;
  uint64_t batches_ ABSL_GUARDED_BY(growth_mu_) = 0;
  std::atomic<size_t> queue_depth_{0};  // order_.size(), readable without mu_
  std::atomic<int64_t> last_time_published_{0};
  absl::Mutex replica_mu_;  // one AppendReplicated at a time
  mutable absl::Mutex checkpoint_mu_;
  veta::v1::Checkpoint checkpoint_ ABSL_GUARDED_BY(checkpoint_mu_);
  // The newest cosigned checkpoint (tree_size 0 until one); publish_mu_ orders its writes.
  veta::v1::Checkpoint cosigned_ ABSL_GUARDED_BY(checkpoint_mu_);
  veta::v1::Checkpoint opened_checkpoint_ ABSL_GUARDED_BY(checkpoint_mu_);  // at Load
  absl::Mutex publish_mu_ ABSL_ACQUIRED_BEFORE(checkpoint_mu_);

  absl::Mutex mu_;
  absl::CondVar work_cv_;   // verify workers wait for work
  absl::CondVar ready_cv_;  // the sequencer waits for the front to be verified
  std::deque<std::shared_ptr<Pending>> order_ ABSL_GUARDED_BY(mu_);  // submission order
  std::deque<std::shared_ptr<Pending>> to_verify_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  bool workers_done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status write_failure_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> workers_;
  std::thread sequencer_;
  std::once_flag close_once_;
};

}  // namespace veta
