// What the ledger reports about its write path to whoever watches it (the server's Prometheus
// metrics, server/metrics.h): plain numbers, so that core/ needs no metrics library.
//
// Thread-safety: OnBatch is called on the sequencer thread, once per batch, after its write and
// before its callbacks (a caller that has its answer finds it counted). It must be quick (it delays
// the next batch) and must not call the ledger's write path.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "core/verify/envelope.h"
#include "veta/v1/registry.pb.h"

namespace veta {

// One batch of the sequencer: what it took, what it wrote, how long the synced write took.
// Dry runs (Check) are counted in `submissions` only.
struct BatchObservation {
  // Submissions the batch took; 0 for a batch that only signs a due checkpoint.
  size_t submissions = 0;
  // The payload kind of each entry written (accepted and durable).
  std::vector<PayloadKind> committed;
  // From Submit to the durable write, for each entry in `committed`.
  std::vector<std::chrono::steady_clock::duration> commit_latencies;
  // The code of each submission refused by a rule (kept in the attempts log).
  std::vector<veta::v1::Refusal> refusals;
  // The status code of each submission answered with an error and no refusal code: bytes that
  // do not decode, signatures that do not verify, a deadline passed, a storage error.
  std::vector<absl::StatusCode> failures;
  // The synced write of the batch; nullopt when nothing was written.
  std::optional<std::chrono::steady_clock::duration> sync;
  // The tree size a checkpoint was signed at by this batch, if one was.
  std::optional<uint64_t> checkpoint_size;
  // Entries committed in all, after this batch.
  uint64_t tree_size = 0;
};

class LedgerObserver {
 public:
  virtual ~LedgerObserver() = default;
  virtual void OnBatch(const BatchObservation& batch) = 0;
  // A submission turned away before it was queued (the queue is full, the ledger is closing
  // or stopped after a storage error), on the caller's thread.
  virtual void OnTurnedAway(absl::StatusCode code) { (void)code; }
};

// "sale", "key_registration", ...: the label a metric gives each payload kind.
inline const char* PayloadKindLabel(PayloadKind kind) {
  switch (kind) {
    case PayloadKind::kGenesis:
      return "genesis";
    case PayloadKind::kKeyRegistration:
      return "key_registration";
    case PayloadKind::kMemo:
      return "memo";
    case PayloadKind::kRegistry:
      return "registry";
    case PayloadKind::kExtraction:
      return "extraction";
    case PayloadKind::kSale:
      return "sale";
    case PayloadKind::kProcessing:
      return "processing";
    case PayloadKind::kExport:
      return "export";
    case PayloadKind::kCorrection:
      return "correction";
    case PayloadKind::kFlagClearance:
      return "flag_clearance";
  }
  return "unknown";
}

}  // namespace veta
