// veta-audit: checks a stopped ledger from its entries alone; names the first inconsistency.
#include <cstdio>

#include "core/audit.h"
#include "core/flags.h"
#include "core/keys.h"

int main(int argc, char** argv) {
  bool quiet = false;
  std::vector<std::string> published_paths;
  veta::Flags flags("veta-audit [--quiet] DATA_DIR",
                    "Audits a stopped Veta ledger: re-hashes every entry, checks the hash chain,\n"
                    "verifies every signature and replays every rule, recomputes the Merkle tree\n"
                    "and compares it with the stored nodes and with every signed checkpoint, and\n"
                    "checks the indexes. Exit 0 when clean; 1 with the first inconsistency and\n"
                    "its sequence number otherwise; 2 on bad usage.");
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
  }
  return 0;
}
