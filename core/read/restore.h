// Restoring a ledger from a backup (core/storage/backup.h), checked against a checkpoint the
// operator holds: one a witness cosigned, or one a client saved. A backup that does not hold
// the witnessed log is refused, so that a damaged, tampered, foreign or stale copy never
// becomes the registry again:
//   - the checkpoint must verify with the log's verifier key (and, through the hook, carry the
//     witnesses' cosignatures a policy asks for);
//   - the backup must be of that log (its genesis names that key);
//   - its tree at the checkpoint's size must have the checkpoint's root, recomputed from the
//     entries themselves ("backup inconsistent with the checkpoint: ...");
//   - it must hold every entry the checkpoint covers ("entries N..M witnessed but missing from
//     the backup"), unless the operator accepts an older copy (allow_older: the entries after
//     it are then lost to this registry, and the witnesses will refuse its next checkpoints
//     until it grows past theirs);
//   - then the whole audit (core/read/audit.h) runs on the restored folder, with the
//     checkpoint among the published ones.
// The restore is made in a scratch folder beside `data_dir` and moved there only when every
// check passed: a refused restore leaves nothing behind.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace veta {

struct RestoreOptions {
  std::string backup_dir;
  uint32_t backup_id = 0;  // 0: the newest
  // Where the ledger goes: a folder that does not exist, or an empty one.
  std::string data_dir;
  // A signed checkpoint note (C2SP tlog-checkpoint) the operator holds, and the log's verifier
  // key (signed-note form: origin+hash+base64). Empty note: no witnessed checkpoint, the
  // backup is checked against its own checkpoints only.
  std::string checkpoint_note;
  std::string log_key;
  bool allow_older = false;
  // The hook for witness cosignatures (C2SP tlog-cosignature, checked by a k-of-n policy):
  // called with the checkpoint note once the log's own signature verified; an error refuses
  // the restore. Null: the log's signature alone is required.
  std::function<absl::Status(std::string_view note)> check_cosignatures;
  // Run the full audit on the restored folder (recommended; it replays every entry).
  bool audit = true;
};

struct RestoreReport {
  uint32_t backup_id = 0;
  uint64_t entries = 0;
  std::string origin;
  uint64_t checkpoint_size = 0;  // the witnessed checkpoint's, 0 without one
  bool older_than_checkpoint = false;
  bool audited = false;
};

// FailedPrecondition for a backup that does not hold the witnessed log (the messages above),
// Unauthenticated for a checkpoint that does not verify, DataLoss for a damaged backup or a
// restored ledger that fails its audit, AlreadyExists when data_dir is not empty.
[[nodiscard]] absl::StatusOr<RestoreReport> RestoreLedger(const RestoreOptions& options);

}  // namespace veta
