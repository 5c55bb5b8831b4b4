// The offline audit of a ledger folder: everything the server promises, re-derived from the
// entries alone. It re-hashes every entry, checks the hash chain, replays every rule and
// signature, recomputes the Merkle tree and compares it node by node with the stored one and
// with every signed checkpoint, and checks the indexes. It replays the origin rules in a
// scratch store and compares the registry and lots it rebuilds with the stored ones, and
// checks the attempts log's hash chain. It stops at the first inconsistency.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace veta {

struct AuditReport {
  uint64_t entries = 0;
  uint64_t checkpoints = 0;
  uint64_t signatures = 0;
  uint64_t attempts = 0;  // refused submissions in the attempts log, chain checked
  std::string origin;
  std::string root_hex;
  // When not OK: the first inconsistency; `bad_sequence` names its entry when there is one.
  absl::Status status;
  int64_t bad_sequence = -1;
};

// Audits the ledger in `data_dir` (opened read-only; the server should be stopped).
// `progress` (may be null) is called every 65536 entries with the count so far.
// `published` holds checkpoint notes seen elsewhere (by witnesses, clients): each must verify
// and match the recomputed tree at its size, which catches a store rolled back whole. The
// data folder's own latest-checkpoint file is always included.
AuditReport AuditLedger(const std::string& data_dir,
                        const std::function<void(uint64_t)>& progress = nullptr,
                        const std::vector<std::string>& published = {});

}  // namespace veta
