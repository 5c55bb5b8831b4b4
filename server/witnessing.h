// Gathers witness cosignatures (C2SP tlog-witness add-checkpoint) for the ledger's checkpoints
// and publishes the cosigned checkpoint (Ledger::PublishCosignedCheckpoint).
//
// One thread, off the sequencer's path: when the ledger signs a checkpoint newer than the last
// one sent, a round posts it to every witness of the policy at once (one thread each, a
// keep-alive HTTP connection per witness), each with a consistency proof from the size that
// witness holds (learned from its 409 answers, starting at 0), retrying a failed request up to
// `attempts_max` times within the round's timeout. Cosignatures that verify are gathered; if
// they meet the policy's quorum, the checkpoint with the authority's signature and every
// gathered cosignature is published. A witness that refuses (422: a fork it caught, 403, 404)
// or does not answer simply does not cosign; the next round tries again with a newer
// checkpoint.
//
// Thread-safety: Start/Stop from one thread; stats() from any.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
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
  // Tries per witness per round (a 409 answer costs one).
  int attempts_max = 3;
  // How often the coordinator looks for a new checkpoint.
  std::chrono::milliseconds poll_interval{5};
  // Print one line per round to stderr (size, cosigners, milliseconds).
  bool verbose = false;
};

struct WitnessingStats {
  uint64_t rounds = 0;
  uint64_t published_size = 0;
  // Milliseconds from seeing a new checkpoint to publishing it cosigned, last round.
  uint64_t last_cosign_ms = 0;
};

class WitnessCoordinator {
 public:
  // Every witness of the policy must have a URL (its submission prefix, http:// or https://).
  static absl::StatusOr<std::unique_ptr<WitnessCoordinator>> Start(
      Ledger* ledger, cosig::Policy policy, const WitnessingOptions& options);
  ~WitnessCoordinator();
  // Ends the current round (waiting for its requests, at most the request timeout) and stops.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);
  WitnessingStats stats() const ABSL_LOCKS_EXCLUDED(mu_);

  struct Peer;  // one witness: its connection and the size it holds (defined in the .cc)

 private:
  WitnessCoordinator(Ledger* ledger, cosig::Policy policy, const WitnessingOptions& options);
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);
  void Round(const veta::v1::Checkpoint& checkpoint) ABSL_LOCKS_EXCLUDED(mu_);

  Ledger* const ledger_;
  const cosig::Policy policy_;
  const WitnessingOptions options_;
  std::vector<std::unique_ptr<Peer>> peers_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  WitnessingStats stats_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace veta::server
