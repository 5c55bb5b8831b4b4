// The offline audit of a ledger folder: everything the server promises, re-derived from the
// entries alone, and every stored byte checked.
//
// First the storage (Store::VerifyStorage): every block checksum of every table file, the
// whole-file checksums, every record of the MANIFEST and WAL, OPTIONS and IDENTITY against
// their recorded digests. Then the log: it re-hashes every entry, checks the hash chain,
// replays every rule and signature (parsing and signature verification run on one thread per
// core a bounded window ahead of the in-order replay, which checks that every signer's key was
// registered by an earlier entry), and checks every signed checkpoint against the tree it
// recomputes (and the latest-checkpoint file against the store); it checks the attempts log's
// hash chain. Replaying the log in a scratch store rebuilds every family derived from it (the
// leaf and statement indexes, the Merkle tree, the keys, the registry, lots, counters and
// lineage edges, red flags and their indexes, the attempt indexes), and each must equal the
// stored one row for row: nothing missing, nothing extra, nothing different. Finally the
// authority key beside the database, when there is one readable, must be the genesis's. It
// stops at the first inconsistency.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/storage/schema.h"
#include "core/storage/store.h"

namespace veta {

struct AuditReport {
  uint64_t entries = 0;
  uint64_t checkpoints = 0;
  uint64_t signatures = 0;
  uint64_t attempts = 0;      // refused submissions in the attempts log, chain checked
  uint64_t derived_rows = 0;  // rows of derived families found equal to the rebuilt ones
  StorageReport storage;      // what the storage check read
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

// The same replay and comparisons for a store of any kind (a MemoryStore in the rules' tests),
// rebuilt in memory: no storage check, no file beside the store.
AuditReport AuditStore(const Reader& store, const std::vector<std::string>& published = {});

}  // namespace veta
