#include "core/storage/backup.h"

#include <filesystem>
#include <memory>

#include "core/base/files.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "rocksdb/db.h"
#include "rocksdb/utilities/backup_engine.h"

namespace veta {
namespace {

// The entries count is the backup's metadata: "entries>=N".
constexpr std::string_view kEntriesPrefix = "entries>=";

absl::Status FromIo(const rocksdb::IOStatus& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = StrCat(what, ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsInvalidArgument()) return absl::FailedPreconditionError(msg);
  return absl::UnavailableError(msg);
}

BackupInfo InfoOf(const rocksdb::BackupInfo& b) {
  BackupInfo info;
  info.id = b.backup_id;
  info.timestamp_seconds = b.timestamp;
  info.bytes = b.size;
  info.files = b.number_files;
  if (std::string_view meta = b.app_metadata; meta.starts_with(kEntriesPrefix)) {
    meta.remove_prefix(kEntriesPrefix.size());
    uint64_t n = 0;
    for (char c : meta) {
      if (c < '0' || c > '9') break;
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    info.entries_at_least = n;
  }
  return info;
}

absl::StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly>> OpenReadOnly(
    const std::string& backup_dir) {
  if (!std::filesystem::is_directory(StrCat(backup_dir, "/meta"))) {
    return absl::NotFoundError(StrCat("no backups in ", backup_dir));
  }
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  RETURN_IF_ERROR(
      FromIo(rocksdb::BackupEngineReadOnly::Open(rocksdb::BackupEngineOptions(backup_dir),
                                                 rocksdb::Env::Default(), &raw),
             StrCat("cannot open the backups in ", backup_dir)));
  return std::unique_ptr<rocksdb::BackupEngineReadOnly>(raw);
}

// The backup `id`, or the newest when id is 0.
absl::StatusOr<uint32_t> Pick(const rocksdb::BackupEngineReadOnly& engine,
                              const std::string& backup_dir, uint32_t id) {
  std::vector<rocksdb::BackupInfo> infos;
  engine.GetBackupInfo(&infos);
  if (infos.empty()) return absl::NotFoundError(StrCat("no backups in ", backup_dir));
  if (id == 0) return infos.back().backup_id;
  for (const auto& b : infos) {
    if (b.backup_id == id) return id;
  }
  return absl::NotFoundError(StrCat("no backup ", id, " in ", backup_dir, " (the newest is ",
                                    infos.back().backup_id, ")"));
}

}  // namespace

absl::StatusOr<BackupInfo> CreateBackup(const RocksStore& store, const std::string& backup_dir) {
  ASSIGN_OR_RETURN(const uint64_t entries, store.EntryCount());
  // The engine syncs the files and folders it writes inside backup_dir, not backup_dir's own
  // name in its parent: made here, synced.
  RETURN_IF_ERROR(CreateDirectoriesSynced(backup_dir));
  rocksdb::BackupEngine* raw = nullptr;
  RETURN_IF_ERROR(FromIo(rocksdb::BackupEngine::Open(rocksdb::BackupEngineOptions(backup_dir),
                                                     rocksdb::Env::Default(), &raw),
                         StrCat("cannot open the backup folder ", backup_dir)));
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);
  rocksdb::CreateBackupOptions options;
  // The memtables go to table files first: a backup is table files, with no WAL to replay.
  options.flush_before_backup = true;
  rocksdb::BackupID id = 0;
  RETURN_IF_ERROR(FromIo(engine->CreateNewBackupWithMetadata(options, store.db(),
                                                             StrCat(kEntriesPrefix, entries), &id),
                         StrCat("cannot back up into ", backup_dir)));
  RETURN_IF_ERROR(SyncDirectory(backup_dir));  // the engine's folders, named in backup_dir
  std::vector<rocksdb::BackupInfo> infos;
  engine->GetBackupInfo(&infos);
  for (const auto& b : infos) {
    if (b.backup_id == id) return InfoOf(b);
  }
  return absl::InternalError(StrCat("backup ", id, " is not listed after it was made"));
}

absl::StatusOr<std::vector<BackupInfo>> ListBackups(const std::string& backup_dir) {
  ASSIGN_OR_RETURN(auto engine, OpenReadOnly(backup_dir));
  std::vector<rocksdb::BackupInfo> infos;
  engine->GetBackupInfo(&infos);
  std::vector<BackupInfo> out;
  for (const auto& b : infos) out.push_back(InfoOf(b));
  return out;
}

absl::Status VerifyBackup(const std::string& backup_dir, uint32_t id) {
  ASSIGN_OR_RETURN(auto engine, OpenReadOnly(backup_dir));
  ASSIGN_OR_RETURN(const uint32_t picked, Pick(*engine, backup_dir, id));
  absl::Status s = FromIo(engine->VerifyBackup(picked, /*verify_with_checksum=*/true),
                          StrCat("backup ", picked, " in ", backup_dir, " is damaged"));
  if (!s.ok() && !absl::IsDataLoss(s)) {
    // A missing file or a size that differs is damage too, not an I/O error of this machine.
    return absl::DataLossError(s.message());
  }
  return s;
}

absl::StatusOr<uint32_t> RestoreBackup(const std::string& backup_dir, uint32_t id,
                                       const std::string& db_path) {
  if (std::filesystem::exists(StrCat(db_path, "/CURRENT"))) {
    return absl::AlreadyExistsError(StrCat("a database already exists in ", db_path));
  }
  ASSIGN_OR_RETURN(auto engine, OpenReadOnly(backup_dir));
  ASSIGN_OR_RETURN(const uint32_t picked, Pick(*engine, backup_dir, id));
  RETURN_IF_ERROR(VerifyBackup(backup_dir, picked));
  RETURN_IF_ERROR(
      FromIo(engine->RestoreDBFromBackup(rocksdb::RestoreOptions(), picked, db_path, db_path),
             StrCat("cannot restore backup ", picked, " into ", db_path)));
  return picked;
}

std::string LiveBackupStatusPath(const std::string& data_dir) {
  return StrCat(data_dir, "/backup-status");
}

}  // namespace veta
