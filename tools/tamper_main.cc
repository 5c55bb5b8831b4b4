// veta-tamper: a tamper campaign against veta-audit. Builds a ledger with every kind of content
// (registry records of every kind, keys, memos, extractions, sales, processing, an export, a
// correction, red flags, refused attempts), stops it, then repeatedly flips one random byte of
// one random stored file (table files, MANIFEST, OPTIONS, CURRENT, IDENTITY, WAL, the
// latest-checkpoint file beside the database), runs veta-audit, restores the byte, and counts
// the flips the audit caught. Exit 0 when every flip was caught.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "core/base/flags.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/units.h"
#include "core/log/ledger.h"
#include "core/verify/envelope.h"
#include "core/verify/keys.h"
#include "core/verify/sha256.h"
#include "tests/support/payloads.h"

extern char** environ;

namespace veta {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// The ledger: three phases, each in a process of its own. The first two end with a clean stop
// (every memtable flushed: table files for every family); the last one ends as a killed server
// does, after its last answered write, so that the WAL holds records too.

// The shared builders (tests/support/payloads.h).
using payloads::PartyRecord;
using payloads::Ruc;
using payloads::Sign;
using payloads::Square;
using payloads::Unit;
using payloads::ZoneRecord;

class Builder {
 public:
  explicit Builder(std::string dir) : dir_(std::move(dir)) {}

  // Keys are kept in the data folder between phases (keys/NAME.pem).
  absl::StatusOr<PrivateKey> Key(const std::string& name, KeyAlgorithm alg) {
    const std::string path = StrCat(dir_, "/../keys/", name, ".pem");
    if (auto pem = ReadFile(path); pem.ok()) return PrivateKey::FromPem(*pem);
    ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::Generate(alg));
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    RETURN_IF_ERROR(WriteFileAtomic(path, key.ToPem(), 0600));
    return key;
  }

  absl::Status Load(const std::string& name, KeyAlgorithm alg) {
    ASSIGN_OR_RETURN(PrivateKey key, Key(name, alg));
    keys_.insert_or_assign(name, std::move(key));
    return absl::OkStatus();
  }
  const PrivateKey& K(const std::string& name) const { return keys_.at(name); }

  absl::Status Open() {
    RETURN_IF_ERROR(Load("authority", KeyAlgorithm::kEd25519));
    if (!fs::exists(DatabasePath(dir_))) {
      RETURN_IF_ERROR(
          Ledger::Create(dir_, "veta.tamper/campaign", K("authority"), "tamper campaign"));
    }
    RETURN_IF_ERROR(Load("registrar", KeyAlgorithm::kEd25519));
    RETURN_IF_ERROR(Load("memo", KeyAlgorithm::kEcdsaP256));
    RETURN_IF_ERROR(Load("miner-a", KeyAlgorithm::kEd25519));
    RETURN_IF_ERROR(Load("miner-b", KeyAlgorithm::kEd25519));
    RETURN_IF_ERROR(Load("miner-c", KeyAlgorithm::kEd25519));
    RETURN_IF_ERROR(Load("plant", KeyAlgorithm::kEcdsaP256));
    RETURN_IF_ERROR(Load("trader", KeyAlgorithm::kEd25519));
    RETURN_IF_ERROR(Load("exporter", KeyAlgorithm::kEd25519));
    LedgerOptions options;
    options.data_dir = dir_;
    options.checkpoint_interval = std::chrono::milliseconds(0);
    ASSIGN_OR_RETURN(ledger_, Ledger::Open(options, K("authority")));
    nonce_ = ledger_->size() * 1000;  // distinct payloads across phases
    return absl::OkStatus();
  }

  absl::Status Phase1() {
    RETURN_IF_ERROR(
        Accept(Sign(kRegistryType, payloads::RegistrarRecord("DGFM", K("registrar").public_key()),
                    {K("authority")})));
    RETURN_IF_ERROR(Accept(
        Sign(kKeyRegistrationType,
             payloads::KeyRegistrationOf(K("memo").public_key(), "Notaria de Puerto Maldonado"),
             {K("authority")})));
    RETURN_IF_ERROR(Memos(150, "phase 1"));
    RETURN_IF_ERROR(Accept(Registry(Miner(miner_a_, K("miner-a"), veta::v1::VIGENTE))));
    RETURN_IF_ERROR(Accept(Registry(Miner(miner_b_, K("miner-b"), veta::v1::VIGENTE))));
    RETURN_IF_ERROR(Accept(Registry(Miner(miner_c_, K("miner-c"), veta::v1::EXCLUIDO))));
    RETURN_IF_ERROR(Accept(Registry(Unit("UA", miner_a_, kLonA, kLat))));
    RETURN_IF_ERROR(Accept(Registry(Unit("UB", miner_b_, kLonB, kLat))));
    RETURN_IF_ERROR(Accept(Registry(Unit("UC", miner_c_, kLonC, kLat))));
    RETURN_IF_ERROR(Accept(Registry(Party(plant_, veta::v1::PLANT, K("plant")))));
    RETURN_IF_ERROR(Accept(Registry(Party(trader_, veta::v1::TRADER, K("trader")))));
    RETURN_IF_ERROR(Accept(Registry(Party(exporter_, veta::v1::EXPORTER, K("exporter")))));
    RETURN_IF_ERROR(Accept(Registry(payloads::SelectorRecord(
        "45678912", PrivateKey::Generate(KeyAlgorithm::kEd25519)->public_key(), {"UA"}))));
    // An indigenous territory over UA's north-east corner; a detected scar over its south-west
    // corner, reaching outside it.
    RETURN_IF_ERROR(Accept(Registry(ZoneRecord("CN-1", veta::v1::PROHIBITED_INDIGENOUS_TERRITORY,
                                               Square(kLonA + 0.008, kLat + 0.008, 0.004)))));
    RETURN_IF_ERROR(Accept(Registry(ZoneRecord("SCAR-1", veta::v1::DETECTED_MINING_SCAR,
                                               Square(kLonA - 0.01, kLat - 0.01, 0.003)))));
    return absl::OkStatus();
  }

  absl::Status Phase2() {
    RETURN_IF_ERROR(Accept(Extraction("LA", miner_a_, "UA", kLonA, kLat, 1000, K("miner-a"), 7)));
    RETURN_IF_ERROR(Accept(Extraction("LB", miner_b_, "UB", kLonB, kLat, 1000, K("miner-b"), 3)));
    // A red flag: the point lies in the scar.
    RETURN_IF_ERROR(
        Accept(Extraction("LS", miner_a_, "UA", kLonA - 0.009, kLat - 0.009, 10, K("miner-a"), 7)));
    // Refusals: a prohibited zone, over capacity, an excluded miner, an unknown lot.
    RETURN_IF_ERROR(Refuse(
        Extraction("X1", miner_a_, "UA", kLonA + 0.008, kLat + 0.008, 100, K("miner-a"), 7)));
    RETURN_IF_ERROR(Refuse(Extraction("X2", miner_b_, "UB", kLonB, kLat, 20000, K("miner-b"), 3)));
    RETURN_IF_ERROR(Refuse(Extraction("X3", miner_c_, "UC", kLonC, kLat, 100, K("miner-c"), 5)));
    RETURN_IF_ERROR(Refuse(Sale("NOPE", miner_a_, plant_, "PX", 10, {K("miner-a"), K("plant")})));
    // A cash sale above the threshold (a red flag), an ordinary one.
    veta::v1::Sale cash = SaleOf("LA", miner_a_, plant_, "PA", 1000);
    cash.set_payment(veta::v1::CASH);
    cash.set_price_cents(4500000);  // S/ 45,000
    RETURN_IF_ERROR(Accept(Sign(kSaleType, cash, {K("miner-a"), K("plant")})));
    RETURN_IF_ERROR(Accept(Sale("LB", miner_b_, plant_, "PB", 1000, {K("miner-b"), K("plant")})));
    // Processing the blend into gold, a gold sale, an export.
    // 1,000 kg each into 10 g at 900; 4 g of it sold (S/ 300 a gram) and exported.
    RETURN_IF_ERROR(Accept(Sign(kProcessingType,
                                payloads::ProcessingOf(plant_, {{"PA", 1000000}, {"PB", 1000000}},
                                                       {{"G1", 10000, 900000000}}, ++nonce_),
                                {K("plant")})));
    RETURN_IF_ERROR(
        Accept(Sign(kSaleType, payloads::GoldSaleOf("G1", plant_, exporter_, "E1", 4000, ++nonce_),
                    {K("plant"), K("exporter")})));
    RETURN_IF_ERROR(Accept(
        Sign(kExportType, payloads::ExportOf("E1", exporter_, "CH", "DAM-2026-0001", ++nonce_),
             {K("exporter")})));
    // An extraction declared in error, voided by a correction.
    RETURN_IF_ERROR(Accept(Extraction("LX", miner_b_, "UB", kLonB, kLat, 50, K("miner-b"), 3)));
    RETURN_IF_ERROR(Accept(
        Sign(kCorrectionType, payloads::CorrectionOf(last_sequence_, "declared in error", ++nonce_),
             {K("registrar")})));
    return Memos(100, "phase 2");
  }

  absl::Status Phase3() {
    RETURN_IF_ERROR(Accept(Extraction("LC", miner_a_, "UA", kLonA, kLat, 200, K("miner-a"), 6)));
    RETURN_IF_ERROR(Accept(Sale("LC", miner_a_, trader_, "TC", 150, {K("miner-a"), K("trader")})));
    RETURN_IF_ERROR(Refuse(Sale("LC", miner_a_, trader_, "TD", 500, {K("miner-a"), K("trader")})));
    return Memos(40, "phase 3");
  }

  void Close() { ledger_->Close(); }

 private:
  static constexpr double kLonA = -69.90, kLonB = -69.80, kLonC = -69.70, kLat = -12.60;

  absl::Status Accept(const std::string& envelope) {
    SubmitResult r = ledger_->SubmitAndWait(envelope);
    if (!r.status.ok()) return r.status;
    last_sequence_ = r.sequence;
    return absl::OkStatus();
  }

  absl::Status Refuse(const std::string& envelope) {
    SubmitResult r = ledger_->SubmitAndWait(envelope);
    if (r.status.ok() || r.refusal == veta::v1::REFUSAL_UNSPECIFIED) {
      return absl::InternalError(StrCat("expected a refusal, got: ", r.status.ToString()));
    }
    return absl::OkStatus();
  }

  absl::Status Memos(int n, const std::string& what) {
    for (int i = 0; i < n; ++i) {
      RETURN_IF_ERROR(Accept(Sign(
          kMemoType, payloads::MemoOf(StrCat(what, ": lot sheet ", i, " of ", n, ", ", ++nonce_)),
          {K("memo")})));
    }
    return absl::OkStatus();
  }

  std::string Registry(const veta::v1::RegistryRecord& r) {
    return Sign(kRegistryType, r, {K("registrar")});
  }

  // The campaign's quantities are whole kg of ore and g/t.
  veta::v1::RegistryRecord Miner(const std::string& ruc, const PrivateKey& key,
                                 veta::v1::RegistryStatus status) {
    return payloads::Miner(ruc, key.public_key(), status);
  }

  veta::v1::RegistryRecord Party(const std::string& ruc, veta::v1::PartyKind kind,
                                 const PrivateKey& key) {
    return PartyRecord(ruc, kind, key.public_key());
  }

  std::string Extraction(const std::string& lot, const std::string& extractor,
                         const std::string& unit, double lon, double lat, int64_t kg,
                         const PrivateKey& key, int64_t grade_g_per_t) {
    return Sign(kExtractionType,
                payloads::ExtractionOf(lot, extractor, unit, lon, lat, kg * 1000,
                                       grade_g_per_t * units::kPpbPerGramPerTonne, ++nonce_),
                {key});
  }

  veta::v1::Sale SaleOf(const std::string& lot, const std::string& seller, const std::string& buyer,
                        const std::string& buyer_lot, int64_t kg) {
    return payloads::SaleOf(lot, seller, buyer, buyer_lot, kg * 1000, ++nonce_);
  }

  std::string Sale(const std::string& lot, const std::string& seller, const std::string& buyer,
                   const std::string& buyer_lot, int64_t kg, const std::vector<PrivateKey>& keys) {
    return Sign(kSaleType, SaleOf(lot, seller, buyer, buyer_lot, kg), keys);
  }

  const std::string dir_;
  std::unique_ptr<Ledger> ledger_;
  std::map<std::string, PrivateKey> keys_;
  const std::string miner_a_ = Ruc("1040000011"), miner_b_ = Ruc("2060000012");
  const std::string miner_c_ = Ruc("2060000016"), plant_ = Ruc("2070000013");
  const std::string trader_ = Ruc("2070000014"), exporter_ = Ruc("2070000015");
  uint64_t nonce_ = 0;
  uint64_t last_sequence_ = 0;
};

// One phase, in this process (started by the campaign as a child of its own).
int RunPhase(const std::string& dir, uint64_t phase) {
  Builder b(dir);
  absl::Status s = b.Open();
  if (s.ok()) s = phase == 1 ? b.Phase1() : phase == 2 ? b.Phase2() : b.Phase3();
  if (!s.ok()) {
    std::fprintf(stderr, "veta-tamper: phase %llu: %s\n", static_cast<unsigned long long>(phase),
                 s.ToString().c_str());
    return 1;
  }
  if (phase < 3) {
    b.Close();
    return 0;
  }
  // Stopped as a killed server stops: every answered write is synced in the WAL, nothing more.
  std::fflush(nullptr);
  ::_exit(0);
}

// ---------------------------------------------------------------------------------------------
// The campaign.

// Runs `argv` with its output sent to /dev/null (or kept when `verbose`); its exit code, or
// 128 + the signal that ended it.
int Run(const std::vector<std::string>& args, bool verbose) {
  std::fflush(nullptr);  // our output before the child's
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!verbose) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  }
  pid_t pid = 0;
  const int err = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) {
    std::fprintf(stderr, "veta-tamper: cannot run %s: %s\n", argv[0], std::strerror(err));
    return 127;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

// What a file is, for the tally.
std::string KindOf(const std::string& name) {
  if (name.size() > 4 && name.substr(name.size() - 4) == ".sst") return "table file";
  if (name.size() > 4 && name.substr(name.size() - 4) == ".log") return "WAL";
  if (name.rfind("MANIFEST-", 0) == 0) return "MANIFEST";
  if (name.rfind("OPTIONS-", 0) == 0) return "OPTIONS";
  return name;  // CURRENT, IDENTITY, latest-checkpoint
}

// The stored files: everything in the data folder and its database but RocksDB's info logs
// (LOG, LOG.old.*: diagnostics, written by every open, read by nothing), its empty LOCK, and
// the authority's private key, which is not the ledger's data but the operator's secret
// (veta-audit checks that it is the genesis's key, but a flip in its PKCS#8 version field
// leaves the same key, which OpenSSL accepts: harmless, and not a stored byte of the ledger).
std::vector<fs::path> StoredFiles(const std::string& data_dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(data_dir)) {
    if (!e.is_regular_file() || e.file_size() == 0) continue;
    const std::string name = e.path().filename().string();
    if (name.rfind("LOG", 0) == 0 || e.path() == fs::path(AuthorityKeyPath(data_dir))) continue;
    files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool FlipByte(const fs::path& path, uint64_t offset, unsigned char mask) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  if (!f) return false;
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  if (!f.get(c)) return false;
  c = static_cast<char>(static_cast<unsigned char>(c) ^ mask);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(c);
  f.flush();
  return static_cast<bool>(f);
}

std::string SelfPath() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

}  // namespace
}  // namespace veta

int main(int argc, char** argv) {
  using veta::StrCat;
  namespace fs = std::filesystem;
  uint64_t flips = 100, seed = 1, phase = 0;
  std::string audit, keep, phase_dir;
  bool verbose = false;
  veta::Flags flags(
      "veta-tamper [--flips N] [--seed S] [--audit PATH] [--keep DIR]",
      "A tamper campaign against veta-audit: builds a ledger with every kind of content (its last\n"
      "writes left in the WAL, as a killed server leaves them), then N times flips one random\n"
      "byte of one random stored file (table files, MANIFEST, OPTIONS, CURRENT, IDENTITY, WAL,\n"
      "latest-checkpoint; not RocksDB's info logs, nor the authority's private key), runs\n"
      "veta-audit, restores the byte. Prints the flips caught by kind of file and each one\n"
      "missed. Exit 0 when every flip was caught and the restored ledger audits clean; 1\n"
      "otherwise; 2 on bad usage.");
  flags.Uint("flips", &flips, "Flips to make.");
  flags.Uint("seed", &seed, "Seed of the random choices (file, offset, bits).");
  flags.String("audit", &audit, "The veta-audit binary (default: the one beside this binary).");
  flags.String("keep", &keep, "Build the ledger in this (new) folder and keep it.");
  flags.Bool("verbose", &verbose, "Show each flip and the audit's output.");
  flags.Uint("phase", &phase, "(internal) Build phase 1, 2 or 3 of the ledger in --phase-dir.");
  flags.String("phase-dir", &phase_dir, "(internal) The data folder a phase builds.");
  if (auto s = flags.Parse(argc, argv); !s.ok()) {
    std::fprintf(stderr, "veta-tamper: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  if (flags.help_requested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return 0;
  }
  if (phase != 0) return veta::RunPhase(phase_dir, phase);
  const std::string self = veta::SelfPath();
  if (audit.empty()) audit = (fs::path(self).parent_path() / "veta-audit").string();
  if (!fs::exists(audit)) {
    std::fprintf(stderr, "veta-tamper: no veta-audit at %s (use --audit)\n", audit.c_str());
    return 2;
  }

  std::string root = keep;
  if (root.empty()) {
    root = (fs::temp_directory_path() / "veta-tamper-XXXXXX").string();
    if (::mkdtemp(root.data()) == nullptr) {
      std::fprintf(stderr, "veta-tamper: cannot create a temporary folder\n");
      return 1;
    }
  } else if (fs::exists(root) && !fs::is_empty(root)) {
    std::fprintf(stderr, "veta-tamper: %s is not empty\n", root.c_str());
    return 2;
  }
  const std::string data_dir = root + "/data";
  auto cleanup = [&] {
    if (keep.empty()) {
      std::error_code ec;
      fs::remove_all(root, ec);
    }
  };
  for (uint64_t p = 1; p <= 3; ++p) {
    if (veta::Run({self, StrCat("--phase=", p), "--phase-dir", data_dir}, true) != 0) {
      std::fprintf(stderr, "veta-tamper: building the ledger failed (phase %llu)\n",
                   static_cast<unsigned long long>(p));
      cleanup();
      return 1;
    }
  }
  const std::vector<std::string> audit_args = {audit, "--quiet", data_dir};
  if (veta::Run(audit_args, true) != 0) {
    std::fprintf(stderr, "veta-tamper: the untouched ledger does not audit clean\n");
    cleanup();
    return 1;
  }
  const auto files = veta::StoredFiles(data_dir);
  std::map<std::string, int> by_kind_files;
  for (const auto& f : files) ++by_kind_files[veta::KindOf(f.filename().string())];
  std::printf("veta-tamper: %zu stored files:", files.size());
  for (const auto& [kind, n] : by_kind_files) std::printf(" %s %d,", kind.c_str(), n);
  std::printf(" seed %llu\n", static_cast<unsigned long long>(seed));

  std::mt19937_64 rng(seed);
  std::map<std::string, std::pair<int, int>> tally;  // kind -> (made, caught)
  uint64_t caught = 0, crashed = 0;
  std::vector<std::string> missed;
  for (uint64_t i = 0; i < flips; ++i) {
    const fs::path& file = files[std::uniform_int_distribution<size_t>(0, files.size() - 1)(rng)];
    const uint64_t size = fs::file_size(file);
    const uint64_t offset = std::uniform_int_distribution<uint64_t>(0, size - 1)(rng);
    const auto mask = static_cast<unsigned char>(std::uniform_int_distribution<int>(1, 255)(rng));
    const std::string where = StrCat(fs::relative(file, data_dir).string(), " byte ", offset,
                                     " of ", size, " xor 0x", veta::ToHex(std::string(1, mask)));
    if (!veta::FlipByte(file, offset, mask)) {
      std::fprintf(stderr, "veta-tamper: cannot change %s\n", where.c_str());
      cleanup();
      return 1;
    }
    if (verbose) std::printf("flip %llu: %s\n", static_cast<unsigned long long>(i), where.c_str());
    const int code = veta::Run(audit_args, verbose);
    if (!veta::FlipByte(file, offset, mask)) {
      std::fprintf(stderr, "veta-tamper: cannot restore %s\n", where.c_str());
      cleanup();
      return 1;
    }
    auto& t = tally[veta::KindOf(file.filename().string())];
    ++t.first;
    if (code == 1) {
      ++caught;
      ++t.second;
    } else if (code == 0) {
      missed.push_back(where);
      std::printf("MISSED: %s\n", where.c_str());
    } else {
      ++crashed;
      missed.push_back(StrCat(where, " (veta-audit exit ", code, ")"));
      std::printf("AUDIT FAILED TO RUN (exit %d): %s\n", code, where.c_str());
    }
  }
  for (const auto& [kind, t] : tally) {
    std::printf("  %-18s %d/%d caught\n", kind.c_str(), t.second, t.first);
  }
  const bool clean_after = veta::Run(audit_args, verbose) == 0;
  std::printf("veta-tamper: %llu/%llu flips detected by veta-audit%s\n",
              static_cast<unsigned long long>(caught), static_cast<unsigned long long>(flips),
              clean_after ? "; the restored ledger audits clean" : "");
  if (!clean_after) std::printf("veta-tamper: the restored ledger does NOT audit clean\n");
  cleanup();
  return caught == flips && crashed == 0 && clean_after ? 0 : 1;
}
