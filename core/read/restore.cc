#include "core/read/restore.h"

#include <stdlib.h>

#include <filesystem>
#include <memory>

#include "core/base/files.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/log/ledger.h"
#include "core/read/audit.h"
#include "core/storage/backup.h"
#include "core/storage/rocks_store.h"
#include "core/verify/envelope.h"
#include "core/verify/keys.h"
#include "core/verify/merkle.h"
#include "core/verify/note.h"

namespace veta {
namespace {

// The witnessed checkpoint, verified.
absl::StatusOr<note::Checkpoint> OpenCheckpoint(const RestoreOptions& options) {
  if (options.log_key.empty()) {
    return absl::InvalidArgumentError(
        "a checkpoint needs the log's verifier key to be checked (--log-key)");
  }
  auto text = note::Open(options.checkpoint_note, options.log_key);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        StrCat("the checkpoint does not verify with the log key ", options.log_key,
                               ": ", text.status().message()));
  }
  ASSIGN_OR_RETURN(note::Checkpoint cp, note::ParseCheckpointText(*text));
  if (options.check_cosignatures) {
    RETURN_IF_ERROR(options.check_cosignatures(options.checkpoint_note));
  }
  return cp;
}

// The origin and checkpoint verifier key the store's genesis names.
absl::StatusOr<std::pair<std::string, std::string>> GenesisOf(const Reader& store) {
  ASSIGN_OR_RETURN(std::string bytes, store.Get(Family::kEntries, EncodeU64(0)));
  veta::v1::Entry entry;
  if (!entry.ParseFromString(bytes)) return absl::DataLossError("entry 0 is malformed");
  auto genesis = DecodeEnvelope(entry.envelope(), {});
  if (!genesis.ok() || genesis->kind != PayloadKind::kGenesis) {
    return absl::DataLossError("entry 0 is not a genesis entry");
  }
  return std::make_pair(genesis->genesis.origin(), genesis->genesis.checkpoint_verifier_key());
}

// MTH of the first `size` entries, recomputed from the entries' bytes (not the stored tree).
absl::StatusOr<Hash> RootOfEntries(const Reader& store, uint64_t size) {
  merkle::CompactTree tree;
  std::unique_ptr<Cursor> it = store.NewCursor(Family::kEntries);
  uint64_t expect = 0;
  for (it->SeekToFirst(); it->Valid() && expect < size; it->Next(), ++expect) {
    uint64_t seq = 0;
    if (!DecodeU64(it->key(), &seq) || seq != expect) {
      return absl::DataLossError(StrCat("entry ", expect, " is missing from the backup"));
    }
    tree.Append(merkle::HashLeaf(it->value()), nullptr);
  }
  RETURN_IF_ERROR(Annotate(it->status(), "read the backup's entries"));
  if (expect != size) return absl::DataLossError("the backup's entries end early");
  return tree.Root();
}

// Checks the restored store against the witnessed checkpoint; fills the report.
absl::Status CheckAgainst(const Reader& store, const RestoreOptions& options,
                          const std::optional<note::Checkpoint>& cp, RestoreReport* report) {
  ASSIGN_OR_RETURN(report->entries, store.EntryCount());
  if (report->entries == 0) return absl::DataLossError("the backup holds no entries");
  ASSIGN_OR_RETURN(auto genesis, GenesisOf(store));
  report->origin = genesis.first;
  if (!cp) return absl::OkStatus();
  if (genesis.second != options.log_key) {
    return absl::FailedPreconditionError(StrCat(
        "backup inconsistent with the checkpoint: the backup is of log ", genesis.first, " (key ",
        genesis.second, "), the checkpoint of ", cp->origin, " (key ", options.log_key, ")"));
  }
  report->checkpoint_size = cp->size;
  if (cp->size > report->entries) {
    if (!options.allow_older) {
      return absl::FailedPreconditionError(
          StrCat("entries ", report->entries, "..", cp->size - 1,
                 " witnessed but missing from the backup: it holds ", report->entries,
                 " entries, the checkpoint covers ", cp->size,
                 " (restore a newer backup, or allow the older one knowingly)"));
    }
    report->older_than_checkpoint = true;
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(const Hash root, RootOfEntries(store, cp->size));
  if (root != cp->root) {
    return absl::FailedPreconditionError(
        StrCat("backup inconsistent with the checkpoint: the backup's first ", cp->size,
               " entries have root ", ToHex(root), ", the checkpoint says ", ToHex(cp->root)));
  }
  return absl::OkStatus();
}

// Restores and checks in `scratch`; the caller moves or removes it.
absl::StatusOr<RestoreReport> RestoreInto(const std::string& scratch, const RestoreOptions& options,
                                          const std::optional<note::Checkpoint>& cp) {
  RestoreReport report;
  ASSIGN_OR_RETURN(report.backup_id,
                   RestoreBackup(options.backup_dir, options.backup_id, DatabasePath(scratch)));
  std::string latest_note = options.checkpoint_note;
  {
    // Read-write once: RocksStore records the digests of the files RocksDB wrote at open
    // (OPTIONS, IDENTITY), which the audit checks.
    ASSIGN_OR_RETURN(auto store,
                     RocksStore::Open(DatabasePath(scratch), RocksStore::Mode::kReadWrite));
    RETURN_IF_ERROR(CheckAgainst(*store, options, cp, &report));
    // The file beside the database holds a checkpoint as the store keeps it (the ledger and
    // the audit compare the two byte for byte): the store's note of that size when it is the
    // same checkpoint as the note given, which may carry more signature lines (a witness's
    // cosignatures).
    if (cp && !report.older_than_checkpoint) {
      auto stored = store->Get(Family::kCheckpoints, EncodeU64(cp->size));
      if (stored.ok()) {
        auto text = note::Open(*stored, options.log_key);
        if (text.ok() && *text == note::CheckpointText(*cp)) latest_note = *stored;
      } else if (!absl::IsNotFound(stored.status())) {
        return stored.status();
      }
    }
  }
  // The ledger refuses, at each start, a store behind the checkpoint published beside it.
  if (cp && !report.older_than_checkpoint) {
    RETURN_IF_ERROR(WriteFileAtomic(LatestCheckpointPath(scratch), latest_note));
  }
  if (options.audit) {
    std::vector<std::string> published;
    if (cp && !report.older_than_checkpoint) published.push_back(options.checkpoint_note);
    AuditReport audit = AuditLedger(scratch, nullptr, published);
    if (!audit.status.ok()) {
      return absl::DataLossError(
          StrCat("the restored ledger fails its audit",
                 audit.bad_sequence >= 0 ? StrCat(" at entry ", audit.bad_sequence) : "", ": ",
                 audit.status.message()));
    }
    report.audited = true;
  }
  return report;
}

}  // namespace

absl::StatusOr<RestoreReport> RestoreLedger(const RestoreOptions& options) {
  namespace fs = std::filesystem;
  std::optional<note::Checkpoint> cp;
  if (!options.checkpoint_note.empty()) {
    ASSIGN_OR_RETURN(cp, OpenCheckpoint(options));
  } else if (options.allow_older) {
    return absl::InvalidArgumentError("allowing an older backup needs a checkpoint to compare");
  }
  std::error_code ec;
  const fs::path target = fs::absolute(options.data_dir, ec);
  if (ec || options.data_dir.empty()) {
    return absl::InvalidArgumentError(StrCat("bad data folder '", options.data_dir, "'"));
  }
  if (fs::exists(target) && !(fs::is_directory(target) && fs::is_empty(target))) {
    return absl::AlreadyExistsError(
        StrCat(options.data_dir, " is not empty: restore into a new folder"));
  }
  RETURN_IF_ERROR(CreateDirectoriesSynced(target.parent_path().string()));
  std::string scratch = StrCat(target.string(), ".restoring-XXXXXX");
  if (::mkdtemp(scratch.data()) == nullptr) {
    return absl::UnavailableError(
        StrCat("cannot create a scratch folder beside ", options.data_dir));
  }
  absl::StatusOr<RestoreReport> report = RestoreInto(scratch, options, cp);
  if (report.ok()) {
    if (fs::exists(target)) fs::remove(target, ec);  // the empty folder given
    fs::rename(scratch, target, ec);
    if (ec) {
      report = absl::UnavailableError(
          StrCat("cannot move the restored ledger to ", options.data_dir, ": ", ec.message()));
    } else if (absl::Status s = SyncDirectory(target.parent_path().string()); !s.ok()) {
      report = s;  // the restored folder's name is not yet durable
    }
  }
  if (!report.ok()) fs::remove_all(scratch, ec);
  return report;
}

}  // namespace veta
