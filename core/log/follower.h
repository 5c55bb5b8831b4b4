// A follower: replicates a primary's log into a replica Ledger (Ledger::OpenReplica) and
// re-judges every entry as it goes. Each round it
//   1. reads the primary's latest checkpoint and verifies its signature with the pinned
//      verifier key (given, or the one the primary's genesis names, pinned at the first round);
//   2. checks it against the last checkpoint it accepted: the same size and root, or a larger
//      tree with a consistency proof from the accepted one (a primary that rolled back or
//      changed a past entry is caught here);
//   3. copies the entries up to it, a page at a time: each page's leaves are tied to the signed
//      root (by the root itself at the end, by a consistency proof from the page's tree to the
//      checkpoint's before it) and then appended by Ledger::AppendReplicated, which re-applies
//      every entry through ApplyEntry at the entry's own time;
//   4. stores the checkpoint once its tree is whole.
// A divergence (a rule refusing an entry the primary accepted, a broken chain, a root other
// than the signed one) stops the follower for good: Run returns it, naming the entry and the
// refusal code; nothing past that entry is applied. Errors reaching the primary are retried.
//
// The replica's store is the truth: after a crash the follower resumes from what it holds.
//
// Thread-safety: Run on one thread; Stop, the lag getters and StatusLine from any.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/log/ledger.h"
#include "core/verify/note.h"

namespace veta {

// What a follower reads from its primary: the read side of veta.v1.Ledger (the gRPC client is
// server/follower_source.h; tests read a Ledger in the same process).
class PrimarySource {
 public:
  virtual ~PrimarySource() = default;
  // The primary's latest checkpoint: its signed note.
  virtual absl::StatusOr<std::string> LatestCheckpointNote() = 0;
  // Entries from `start` (serialized veta.v1.Entry), at least one and at most `limit`.
  virtual absl::StatusOr<std::vector<std::string>> Entries(uint64_t start, uint32_t limit) = 0;
  virtual absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t first, uint64_t second) = 0;
  virtual absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size) = 0;
};

struct FollowerOptions {
  // The checkpoints' verifier key (signed-note form, name+hash+base64). Empty: trust the
  // primary's genesis on first use and pin it (the replica keeps the genesis from then on).
  std::string verifier_key;
  // Entries asked for per page (the primary may send fewer).
  uint32_t page_entries_max = 1000;
  // The wait between rounds once caught up, and after an error reaching the primary.
  std::chrono::milliseconds poll_interval{200};
};

// Why a follower stopped for good.
struct Divergence {
  uint64_t sequence = 0;
  veta::v1::Refusal refusal = veta::v1::REFUSAL_UNSPECIFIED;
  std::string message;
};

class Follower {
 public:
  Follower(Ledger* replica, PrimarySource* source, FollowerOptions options);

  // One round (steps 1-4 above). OK: caught up with the checkpoint read. FailedPrecondition:
  // diverged (see divergence()); anything else: retry later.
  [[nodiscard]] absl::Status SyncOnce() ABSL_LOCKS_EXCLUDED(mu_);
  // Rounds until Stop() (OK) or a divergence (its status); errors reaching the primary are
  // written to stderr once each and retried.
  [[nodiscard]] absl::Status Run() ABSL_LOCKS_EXCLUDED(mu_);
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Entries behind the primary's latest checkpoint (as last read).
  uint64_t LagEntries() const;
  // Seconds since the follower last held every entry of the primary's latest checkpoint it
  // had read (0 while it does).
  double LagSeconds() const;
  // The primary's latest checkpoint size as last read.
  uint64_t PrimarySize() const { return primary_size_.load(std::memory_order_acquire); }
  bool diverged() const ABSL_LOCKS_EXCLUDED(mu_);
  Divergence divergence() const ABSL_LOCKS_EXCLUDED(mu_);
  // "follower: 1234 entries, primary checkpoint 1300, lag 66 entries 0.4 s" (or diverged ...).
  std::string StatusLine() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  [[nodiscard]] absl::Status Diverge(uint64_t sequence, veta::v1::Refusal refusal,
                                     std::string message) ABSL_LOCKS_EXCLUDED(mu_);
  // The checkpoint read against the one accepted (step 2).
  [[nodiscard]] absl::Status CheckAgainstAccepted(const note::Checkpoint& cp);
  // A page of entries from the primary, with the consistency proof from the tree at its end to
  // the checkpoint being copied (none when it ends there).
  struct Page {
    uint64_t start = 0;
    std::vector<std::string> entries;
    std::vector<Hash> proof;
    Ledger::VerifiedEnvelopes verified;  // signatures checked in the fetching thread
  };
  // Step 3's tie of a page to the signed root (`proof`: from the page's end to cp), naming the
  // first entry that breaks it.
  ReplicaAppend CheckPage(uint64_t first, const std::vector<Hash>& leaves, const Hash& root,
                          const note::Checkpoint& cp, const std::vector<Hash>* proof);

  Ledger* const replica_;
  PrimarySource* const source_;
  const FollowerOptions options_;
  std::string verifier_key_;  // pinned; Run's thread only
  std::atomic<uint64_t> primary_size_{0};
  // Steady-clock nanoseconds when the follower last held the whole checkpoint read.
  std::atomic<int64_t> caught_up_at_ns_{0};
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool diverged_ ABSL_GUARDED_BY(mu_) = false;
  Divergence divergence_ ABSL_GUARDED_BY(mu_);
};

}  // namespace veta
