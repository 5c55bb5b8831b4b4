// veta-audit: checks a stopped ledger from its entries alone; names the first inconsistency.
#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include "core/base/flags.h"
#include "core/read/audit.h"
#include "core/verify/keys.h"

namespace {

// RocksDB stops the process (an assertion) on a few corruptions of a table file it reads
// before checking it; the audit checks what it can before RocksDB reads it (tables written
// with crc32c block checksums), and reports any other such stop as what it is.
void OnAbort(int) {
  static constexpr char kMessage[] =
      "FAILED: the storage library stopped while reading the database: a corrupted file (its "
      "message above names it)\n";
  ssize_t ignored = ::write(STDOUT_FILENO, kMessage, sizeof(kMessage) - 1);
  (void)ignored;
  ::_exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  bool quiet = false;
  std::vector<std::string> published_paths;
  veta::Flags flags("veta-audit [--quiet] DATA_DIR",
                    "Audits a stopped Veta ledger. Checks every stored byte: the block and\n"
                    "whole-file checksums of every table file, every record of the MANIFEST and\n"
                    "WAL, OPTIONS and IDENTITY against their recorded digests. Re-hashes every\n"
                    "entry, checks the hash chain, verifies every signature and replays every\n"
                    "rule, recomputes the Merkle tree and checks every signed checkpoint, checks\n"
                    "the attempts log's chain, and rebuilds every family derived from the log\n"
                    "(indexes, tree, keys, registry, lots, counters, lineage, flags, evidence\n"
                    "indexes) to compare it with the stored one row for row. Exit 0 when clean;\n"
                    "1 with the first inconsistency (and its entry's sequence number when there\n"
                    "is one) otherwise; 2 on bad usage.");
  flags.Bool("quiet", &quiet, "Print nothing on success.");
  flags.Strings("checkpoint", &published_paths,
                "A checkpoint note published earlier (saved by a witness or client): the store "
                "must contain it (repeatable). Catches a store rolled back whole.");
  if (auto s = flags.Parse(argc, argv); !s.ok()) {
    std::fprintf(stderr, "veta-audit: %s\n", std::string(s.message()).c_str());
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
  std::vector<std::string> published;
  for (const auto& path : published_paths) {
    auto note = veta::ReadFile(path);
    if (!note.ok()) {
      std::fprintf(stderr, "veta-audit: %s\n", std::string(note.status().message()).c_str());
      return 2;
    }
    published.push_back(*note);
  }
  std::fflush(nullptr);
  ::signal(SIGABRT, OnAbort);
  auto report = veta::AuditLedger(
      flags.positional()[0],
      [quiet](uint64_t n) {
        if (!quiet)
          std::fprintf(stderr, "veta-audit: %llu entries checked\n", (unsigned long long)n);
      },
      published);
  if (!report.status.ok()) {
    if (report.bad_sequence >= 0) {
      std::printf("FAILED at entry %lld: %s\n", static_cast<long long>(report.bad_sequence),
                  std::string(report.status.message()).c_str());
    } else {
      std::printf("FAILED: %s\n", std::string(report.status.message()).c_str());
    }
    return 1;
  }
  if (!quiet) {
    std::printf(
        "clean: %s, %llu entries, %llu signatures, %llu checkpoints, %llu refused attempts, "
        "root %s\n",
        report.origin.c_str(), static_cast<unsigned long long>(report.entries),
        static_cast<unsigned long long>(report.signatures),
        static_cast<unsigned long long>(report.checkpoints),
        static_cast<unsigned long long>(report.attempts), report.root_hex.c_str());
    const auto& st = report.storage;
    std::printf(
        "storage: %llu table files (block checksums; %llu with a whole-file checksum, %llu "
        "checked before opening), %llu MANIFEST and WAL files, %llu files against their "
        "digests; %llu derived rows equal to the rebuilt ones\n",
        static_cast<unsigned long long>(st.table_files),
        static_cast<unsigned long long>(st.table_files_whole_checksum),
        static_cast<unsigned long long>(st.table_files_prechecked),
        static_cast<unsigned long long>(st.log_files),
        static_cast<unsigned long long>(st.digested_files),
        static_cast<unsigned long long>(report.derived_rows));
    if (st.torn_tails > 0) {
      std::printf(
          "note: %llu log files end in a record cut short (a write interrupted by a crash; "
          "RocksDB ignores it)\n",
          static_cast<unsigned long long>(st.torn_tails));
    }
  }
  return 0;
}
