// Backups of the ledger's database with RocksDB's BackupEngine: incremental (table files are
// shared between backups), every file with its checksum, restored only after the checksums
// hold. The only other place that includes RocksDB beside rocks_store.cc.
//
// A backup holds the database (db/) only: not the authority's private key, which the operator
// keeps apart, nor the latest-checkpoint file. What a restore must check against a witnessed
// checkpoint is in core/read/restore.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/storage/rocks_store.h"

namespace veta {

struct BackupInfo {
  uint32_t id = 0;
  int64_t timestamp_seconds = 0;  // Unix time it was made
  uint64_t bytes = 0;             // of its files (some shared with other backups)
  uint32_t files = 0;
  // Entries the store held when the backup began: the backup holds at least these (writes
  // may go on while it is made).
  uint64_t entries_at_least = 0;
};

// Backs up `store`, which may be in use (the ledger writing to it: the backup is a consistent
// state of the database at one moment), into `backup_dir` (created if missing). Unavailable on
// an I/O error.
[[nodiscard]] absl::StatusOr<BackupInfo> CreateBackup(const RocksStore& store,
                                                      const std::string& backup_dir);

// The backups in `backup_dir`, oldest first. NotFound when there is no backup folder there.
[[nodiscard]] absl::StatusOr<std::vector<BackupInfo>> ListBackups(const std::string& backup_dir);

// Reads every file of backup `id` (0: the newest) and checks its size and checksum. DataLoss
// naming the damage.
[[nodiscard]] absl::Status VerifyBackup(const std::string& backup_dir, uint32_t id);

// Restores backup `id` (0: the newest) into `db_path`, which must not hold a database, after
// VerifyBackup. Returns the id restored.
[[nodiscard]] absl::StatusOr<uint32_t> RestoreBackup(const std::string& backup_dir, uint32_t id,
                                                     const std::string& db_path);

// The file in a ledger's folder where a running veta-server (--backup-dir) writes the result of
// each live backup it makes on SIGUSR1, for `veta-backup live` (deploy/veta-backup.service) to
// wait on. One line: "ok ID attempt=N pid=P" or "failed attempt=N pid=P: MESSAGE"; every
// attempt writes a different line (N counts the attempts of that process).
std::string LiveBackupStatusPath(const std::string& data_dir);

}  // namespace veta
