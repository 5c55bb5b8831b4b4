// veta-backup: backups of a ledger's database (RocksDB BackupEngine), and restores checked
// against a witnessed checkpoint (core/read/restore.h).
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>
#include <string>
#include <thread>

#include "core/base/flags.h"
#include "core/base/strings.h"
#include "core/log/ledger.h"
#include "core/read/restore.h"
#include "core/storage/backup.h"
#include "core/storage/rocks_store.h"
#include "core/verify/cosignature.h"
#include "core/verify/keys.h"

namespace {

constexpr char kUsage[] =
    "veta-backup create --data-dir D --backup-dir B\n"
    "       veta-backup live --data-dir D --backup-dir B --pid PID [--timeout-seconds S]\n"
    "       veta-backup list --backup-dir B\n"
    "       veta-backup verify --backup-dir B [--id N]\n"
    "       veta-backup restore --backup-dir B --data-dir D2 [--id N]\n"
    "                           [--checkpoint FILE --log-key KEY [--witness-policy FILE]]\n"
    "                           [--allow-older] [--skip-audit]";

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "veta-backup: %s\n", std::string(s.message()).c_str());
  return 1;
}

std::string TimeText(int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A verifier key given as itself or as a file holding it.
absl::StatusOr<std::string> KeyText(const std::string& value) {
  std::error_code ec;
  if (value.find('+') == std::string::npos && std::filesystem::is_regular_file(value, ec)) {
    auto text = veta::ReadFile(value);
    if (!text.ok()) return text.status();
    std::string key = *text;
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' '))
      key.pop_back();
    return key;
  }
  return value;
}

int Create(const std::string& data_dir, const std::string& backup_dir) {
  auto store =
      veta::RocksStore::Open(veta::DatabasePath(data_dir), veta::RocksStore::Mode::kReadWrite);
  if (!store.ok()) {
    if (store.status().message().find("lock") != std::string_view::npos) {
      return Fail(absl::FailedPreconditionError(veta::StrCat(
          "the ledger in ", data_dir,
          " is open by a running veta-server: start it with --backup-dir ", backup_dir,
          " and send it SIGUSR1 (systemctl kill -s USR1 veta-server) for a live backup\n(",
          store.status().message(), ")")));
    }
    return Fail(store.status());
  }
  auto made = veta::CreateBackup(**store, backup_dir);
  if (!made.ok()) return Fail(made.status());
  // A backup is only as good as its files: read them back before saying it worked.
  if (absl::Status s = veta::VerifyBackup(backup_dir, made->id); !s.ok()) {
    return Fail(absl::DataLossError(
        veta::StrCat("backup ", made->id, " was written but does not verify: ", s.message())));
  }
  std::printf("backup %u: %llu entries, %llu bytes in %u files, %s\n", made->id,
              static_cast<unsigned long long>(made->entries_at_least),
              static_cast<unsigned long long>(made->bytes), made->files,
              TimeText(made->timestamp_seconds).c_str());
  return 0;
}

// Asks the running veta-server (`pid`, started with --backup-dir B) for a live backup
// (SIGUSR1), waits for the result it writes (veta::LiveBackupStatusPath), and verifies the
// backup made. Non-zero, with the reason, when the server cannot be signalled, exits, reports
// a failure, does not answer in time, or the backup does not verify.
int Live(const std::string& data_dir, const std::string& backup_dir, uint64_t pid,
         uint64_t timeout_seconds) {
  using veta::StrCat;
  if (pid == 0 || pid > static_cast<uint64_t>(std::numeric_limits<pid_t>::max())) {
    return Fail(absl::InvalidArgumentError(
        StrCat("give --pid, the process id of the running veta-server (got ", pid,
               "; `systemctl show -p MainPID --value veta-server` is 0 when it is not running)")));
  }
  const std::string status_path = veta::LiveBackupStatusPath(data_dir);
  const std::string before = veta::ReadFile(status_path).value_or("");
  if (kill(static_cast<pid_t>(pid), SIGUSR1) != 0) {
    return Fail(absl::UnavailableError(
        StrCat("cannot signal veta-server (pid ", pid, "): ", std::strerror(errno))));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  std::string line;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto now = veta::ReadFile(status_path);
    if (now.ok() && *now != before && !now->empty() && now->back() == '\n') {
      line = now->substr(0, now->size() - 1);
      break;
    }
    if (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      return Fail(absl::UnavailableError(
          StrCat("veta-server (pid ", pid, ") exited before reporting the backup: see its log")));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Fail(absl::DeadlineExceededError(
          StrCat("veta-server (pid ", pid, ") reported no backup in ", status_path, " within ",
                 timeout_seconds, " s: is it the server of ", data_dir,
                 ", started with --backup-dir? See its log")));
    }
  }
  if (line.rfind("ok ", 0) != 0) {
    const size_t colon = line.find(": ");
    return Fail(
        absl::UnavailableError(StrCat("veta-server's live backup failed: ",
                                      colon == std::string::npos ? line : line.substr(colon + 2))));
  }
  uint64_t id = 0;
  const size_t space = line.find(' ', 3);
  if (!veta::ParseU64(std::string_view(line).substr(3, space - 3), &id) || id == 0) {
    return Fail(absl::InternalError(StrCat("unreadable result in ", status_path, ": ", line)));
  }
  if (absl::Status s = veta::VerifyBackup(backup_dir, static_cast<uint32_t>(id)); !s.ok()) {
    return Fail(absl::DataLossError(
        StrCat("backup ", id, " was made but does not verify in ", backup_dir, ": ", s.message())));
  }
  std::printf(
      "backup %llu made by veta-server (pid %lld) and verified: every file holds its "
      "checksum\n",
      static_cast<unsigned long long>(id), static_cast<long long>(pid));
  return 0;
}

int List(const std::string& backup_dir) {
  auto list = veta::ListBackups(backup_dir);
  if (!list.ok()) return Fail(list.status());
  std::printf("%-6s %-21s %-14s %-14s %s\n", "id", "made", "entries", "bytes", "files");
  for (const auto& b : *list) {
    std::printf("%-6u %-21s >=%-12llu %-14llu %u\n", b.id, TimeText(b.timestamp_seconds).c_str(),
                static_cast<unsigned long long>(b.entries_at_least),
                static_cast<unsigned long long>(b.bytes), b.files);
  }
  return 0;
}

}  // namespace

int Run(int argc, char** argv) {
  std::string data_dir, backup_dir, checkpoint_path, log_key, witness_policy_path;
  uint64_t id = 0, timeout_seconds = 3600;
  uint64_t pid = 0;
  bool allow_older = false, skip_audit = false;
  veta::Flags flags(
      kUsage,
      "Backs up a Veta ledger's database (RocksDB BackupEngine: incremental, every file with\n"
      "its checksum) and restores it. `create` needs the server stopped; for a live backup,\n"
      "run veta-server with --backup-dir B and send it SIGUSR1. A backup holds the database\n"
      "only: keep the authority key apart.\n"
      "`restore` refuses a backup inconsistent with a witnessed checkpoint (--checkpoint, a\n"
      "signed note, with --log-key, the log's verifier key or a file holding it): the backup\n"
      "must be of that log, its tree at the checkpoint's size must have the checkpoint's root,\n"
      "and it must hold every entry the checkpoint covers (unless --allow-older). Then the\n"
      "full audit runs on the restored folder. Nothing is left behind when it refuses.\n"
      "`live` asks the running server (--pid) for a live backup and waits for its result:\n"
      "it exits non-zero when the backup fails or does not verify (veta-backup.service).");
  flags.String("data-dir", &data_dir, "The ledger folder (create: read; restore: written).");
  flags.String("backup-dir", &backup_dir, "The backup folder.");
  flags.Uint("pid", &pid, "live: the process id of the running veta-server to back up.");
  flags.Uint("timeout-seconds", &timeout_seconds,
             "live: how long to wait for the server's backup before failing.");
  flags.Uint("id", &id, "The backup to verify or restore (0: the newest).");
  flags.String("checkpoint", &checkpoint_path,
               "A checkpoint note the restored ledger must hold (saved from a witness or client).");
  flags.String("log-key", &log_key, "The log's verifier key (origin+hash+base64), or its file.");
  flags.String("witness-policy", &witness_policy_path,
               "A C2SP tlog-policy file: the --checkpoint must also carry the cosignatures of "
               "its quorum of witnesses (a checkpoint the witnesses saw, not only one the "
               "operator signed).");
  flags.Bool("allow-older", &allow_older,
             "Restore a backup that holds fewer entries than the checkpoint covers.");
  flags.Bool("skip-audit", &skip_audit, "Do not audit the restored ledger (not recommended).");
  if (absl::Status s = flags.Parse(argc, argv); !s.ok()) {
    std::fprintf(stderr, "veta-backup: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  if (flags.help_requested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return 0;
  }
  if (flags.positional().size() != 1) {
    std::fputs(flags.Help().c_str(), stderr);
    return 2;
  }
  const std::string& command = flags.positional()[0];
  if (backup_dir.empty()) return Fail(absl::InvalidArgumentError("give --backup-dir"));
  if (command == "create") {
    if (data_dir.empty()) return Fail(absl::InvalidArgumentError("give --data-dir"));
    return Create(data_dir, backup_dir);
  }
  if (command == "live") {
    if (data_dir.empty()) return Fail(absl::InvalidArgumentError("give --data-dir"));
    return Live(data_dir, backup_dir, pid, timeout_seconds);
  }
  if (command == "list") return List(backup_dir);
  if (command == "verify") {
    if (absl::Status s = veta::VerifyBackup(backup_dir, static_cast<uint32_t>(id)); !s.ok()) {
      return Fail(s);
    }
    std::printf("backup %s: every file holds its checksum\n",
                id == 0 ? "(newest)" : std::to_string(id).c_str());
    return 0;
  }
  if (command != "restore") {
    std::fprintf(stderr, "veta-backup: unknown command '%s'\n%s\n", command.c_str(), kUsage);
    return 2;
  }
  if (data_dir.empty()) return Fail(absl::InvalidArgumentError("give --data-dir"));
  veta::RestoreOptions options;
  options.backup_dir = backup_dir;
  options.backup_id = static_cast<uint32_t>(id);
  options.data_dir = data_dir;
  options.allow_older = allow_older;
  options.audit = !skip_audit;
  if (!checkpoint_path.empty()) {
    auto note = veta::ReadFile(checkpoint_path);
    if (!note.ok()) return Fail(note.status());
    options.checkpoint_note = *note;
    if (log_key.empty()) {
      return Fail(absl::InvalidArgumentError("--checkpoint needs --log-key to be verified"));
    }
    auto key = KeyText(log_key);
    if (!key.ok()) return Fail(key.status());
    options.log_key = *key;
  }
  if (!witness_policy_path.empty()) {
    if (checkpoint_path.empty()) {
      return Fail(absl::InvalidArgumentError(
          "--witness-policy checks the cosignatures of a --checkpoint: give one"));
    }
    auto text = veta::ReadFile(witness_policy_path);
    if (!text.ok()) return Fail(text.status());
    auto policy = veta::cosig::Policy::Parse(*text);
    if (!policy.ok()) return Fail(policy.status());
    options.check_cosignatures = [policy = std::move(*policy),
                                  key = options.log_key](std::string_view note) -> absl::Status {
      auto verified = policy.Verify(note, key);
      if (!verified.ok()) {
        return absl::Status(verified.status().code(),
                            veta::StrCat("the checkpoint is not witnessed as the policy asks (",
                                         policy.Describe(), "): ", verified.status().message()));
      }
      return absl::OkStatus();
    };
  }
  auto report = veta::RestoreLedger(options);
  if (!report.ok()) return Fail(report.status());
  std::printf("restored backup %u into %s: %s, %llu entries%s%s\n", report->backup_id,
              data_dir.c_str(), report->origin.c_str(),
              static_cast<unsigned long long>(report->entries),
              report->checkpoint_size == 0
                  ? ""
                  : veta::StrCat(report->older_than_checkpoint ? ", OLDER than" : ", holds",
                                 " the checkpoint of ", report->checkpoint_size, " entries")
                        .c_str(),
              report->audited ? ", audit clean" : ", not audited");
  std::printf("start it with: veta-server --data-dir %s --authority-key AUTHORITY-KEY.pem\n",
              data_dir.c_str());
  return 0;
}

// A report that cannot be written (a full disk behind stdout) is a failure too.
int main(int argc, char** argv) {
  const int status = Run(argc, argv);
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "veta-backup: cannot write the report to standard output: %s\n",
                 std::strerror(errno));
    return status == 0 ? 1 : status;
  }
  return status;
}
