// Gathers witness cosignatures (C2SP tlog-witness add-checkpoint) for the ledger's checkpoints
// and publishes the cosigned checkpoint (Ledger::PublishCosignedCheckpoint).
//
// Off the sequencer's path: one thread per witness of the policy, each with its own keep-alive
// HTTP connection. When the ledger has signed a checkpoint newer than the last one that
// witness cosigned, the thread posts it with a consistency proof from the size the witness
// holds (learned from its 409 answers, starting at 0; a 409 answer is retried at once, up to
// `attempts_max` posts). A failure (no answer within the timeout, a refusal: 422 for a fork it
// caught, 403, 404) is retried with the newest checkpoint after a backoff that doubles up to
// `retry_backoff_max`. Every cosignature that verifies is gathered by checkpoint size; as soon
// as the cosignatures on one checkpoint meet the policy's quorum, that checkpoint, with the
// authority's signature and every cosignature gathered on it, is published (again when a
// later cosignature on it arrives). A slow or dead witness delays no one: the others' quorum
// publishes without it.
//
// Thread-safety: Start/Stop from one thread; stats() from any.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/log/ledger.h"
#include "core/verify/cosignature.h"

namespace veta::server {

struct WitnessingOptions {
  // One add-checkpoint exchange (connect, send, answer).
  std::chrono::milliseconds request_timeout{2000};
  // Posts per checkpoint and witness (a 409 answer costs one).
  int attempts_max = 3;
  // How often each witness thread looks for a new checkpoint.
  std::chrono::milliseconds poll_interval{5};
  // Backoff after a failed exchange: 50 ms, doubling up to this.
  std::chrono::milliseconds retry_backoff_max{5000};
  // Checkpoint sizes whose cosignatures are kept while the quorum gathers.
  size_t sizes_kept_max = 64;
  // Print every exchange to stderr (failures are always printed, once per distinct reason).
  bool verbose = false;
};

struct WitnessingStats {
  // Finished add-checkpoint exchanges (cosigned or failed), all witnesses together.
  uint64_t exchanges = 0;
  uint64_t cosignatures = 0;
  // The size of the newest checkpoint published cosigned (0: none yet by this coordinator).
  uint64_t published_size = 0;
  // Milliseconds from the ledger's checkpoint (as first seen) to its publication, last one.
  uint64_t last_cosign_ms = 0;
};

class WitnessCoordinator {
 public:
  // Every witness of the policy must have a URL (its submission prefix, http:// or https://).
  static absl::StatusOr<std::unique_ptr<WitnessCoordinator>> Start(
      Ledger* ledger, cosig::Policy policy, const WitnessingOptions& options);
  ~WitnessCoordinator();
  // Stops the threads (an exchange in flight ends within the request timeout).
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);
  WitnessingStats stats() const ABSL_LOCKS_EXCLUDED(mu_);

  struct Peer;  // one witness: its connection and the size it holds (defined in the .cc)

 private:
  // Cosignatures gathered on one checkpoint.
  struct Gathered {
    std::string note;
    std::vector<std::string> lines;
    std::vector<std::string> names;
    std::chrono::steady_clock::time_point first_seen;
  };
  WitnessCoordinator(Ledger* ledger, cosig::Policy policy, const WitnessingOptions& options);
  void PeerLoop(Peer* peer) ABSL_LOCKS_EXCLUDED(mu_);
  // Adds a verified cosignature line; publishes when the quorum is met.
  void Record(const veta::v1::Checkpoint& checkpoint, const std::string& line,
              const std::string& name, std::chrono::steady_clock::time_point seen)
      ABSL_LOCKS_EXCLUDED(mu_, publish_mu_);

  Ledger* const ledger_;
  const cosig::Policy policy_;
  const WitnessingOptions options_;
  std::vector<std::unique_ptr<Peer>> peers_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  WitnessingStats stats_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Gathered> gathered_ ABSL_GUARDED_BY(mu_);  // by checkpoint size
  // Orders publications (the ledger refuses an older one; this keeps the newest last).
  absl::Mutex publish_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  size_t published_lines_ ABSL_GUARDED_BY(publish_mu_) = 0;
  uint64_t published_size_ ABSL_GUARDED_BY(publish_mu_) = 0;
};

}  // namespace veta::server
