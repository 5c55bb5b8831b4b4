// veta-crash: the crash campaign. Runs the real server under load, kills it with SIGKILL at
// random moments, restarts it, and checks after every restart that every answered entry is
// there byte for byte, that the new checkpoint verifies and is consistent with the last one
// seen before the crash (the tree only grows), and at the end that veta-audit is clean.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "client/connection.h"
#include "core/base/flags.h"
#include "core/base/strings.h"
#include "core/log/ledger.h"
#include "core/read/audit.h"
#include "core/verify/envelope.h"
#include "core/verify/merkle.h"
#include "core/verify/note.h"
#include "veta/v1/service.grpc.pb.h"

extern char** environ;

namespace {

using veta::StrCat;

struct Answer {
  uint64_t sequence;
  std::string leaf_hash, envelope;
};

class ServerProcess {
 public:
  ServerProcess(const std::string& binary, const std::string& data_dir)
      : port_file_(data_dir + "/crash-port") {
    std::remove(port_file_.c_str());
    std::vector<std::string> args = {
        binary,        "--data-dir",  data_dir,   "--listen",
        "127.0.0.1:0", "--port-file", port_file_, "--checkpoint-interval-ms",
        "20"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // The server's own log goes to a file in the data folder, not into the campaign's output.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = data_dir + "/crash-server.log";
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&actions);
    for (int i = 0; i < 400 && port_ == 0 && pid_ > 0; ++i) {
      std::ifstream in(port_file_);
      if (!(in >> port_)) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  ~ServerProcess() { Signal(SIGKILL); }
  bool up() const { return port_ != 0; }
  int Signal(int sig) {
    if (pid_ <= 0) return 0;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    return status;
  }
  std::string address() const { return StrCat("127.0.0.1:", port_); }

 private:
  std::string port_file_;
  pid_t pid_ = 0;
  int port_ = 0;
};

int Fail(const std::string& why) {
  std::printf("FAILED: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t rounds = 20, per_round = 4000, seed = 0;
  std::string server_bin, data_dir;
  veta::Flags flags(
      "veta-crash [--rounds N] [--server-binary PATH] [--data-dir DIR]",
      "The crash campaign: under load, SIGKILL the server at random moments, restart it, and\n"
      "check that no answered entry is lost, that each new checkpoint is consistent with the\n"
      "last one before the crash, and finally that veta-audit is clean. Exit 0 when all hold.");
  flags.Uint("rounds", &rounds, "Kill/restart rounds (20 for CI; 1000 for a long run).");
  flags.Uint("per-round", &per_round, "Envelopes offered per round (2 streaming clients).");
  flags.Uint("seed", &seed, "Random seed (0: from the clock); printed for reproduction.");
  flags.String("server-binary", &server_bin,
               "veta-server (default: ../server/veta-server from here).");
  flags.String("data-dir", &data_dir, "Ledger folder (default: a new temporary one, removed).");
  if (auto s = flags.Parse(argc, argv); !s.ok() || flags.help_requested()) {
    std::fputs(flags.Help().c_str(), s.ok() ? stdout : stderr);
    return s.ok() ? 0 : 2;
  }
  if (server_bin.empty()) {
    server_bin = (std::filesystem::read_symlink("/proc/self/exe").parent_path().parent_path() /
                  "server" / "veta-server")
                     .string();
  }
  const bool temporary = data_dir.empty();
  if (temporary) {
    data_dir = (std::filesystem::temp_directory_path() / "veta-crash-XXXXXX").string();
    if (mkdtemp(data_dir.data()) == nullptr) return Fail("cannot create a temporary folder");
  }
  if (seed == 0)
    seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  std::printf("veta-crash: %llu rounds, seed %llu, ledger %s\n", (unsigned long long)rounds,
              (unsigned long long)seed, data_dir.c_str());
  std::mt19937_64 rng(seed);

  auto authority = *veta::PrivateKey::Generate(veta::KeyAlgorithm::kEd25519);
  auto client = *veta::PrivateKey::Generate(veta::KeyAlgorithm::kEd25519);
  if (auto s = veta::Ledger::Create(data_dir, "veta.test/crash", authority, "crash campaign");
      !s.ok()) {
    return Fail(std::string(s.message()));
  }
  {
    veta::LedgerOptions options;
    options.data_dir = data_dir;
    auto ledger = veta::Ledger::Open(options, authority);
    if (!ledger.ok()) return Fail(std::string(ledger.status().message()));
    veta::v1::KeyRegistration reg;
    *reg.mutable_key() = client.public_key().ToProto();
    reg.set_holder("crash client");
    auto r = (*ledger)->SubmitAndWait(
        veta::SignEnvelope(veta::kKeyRegistrationType, reg.SerializeAsString(), {authority})
            ->SerializeAsString());
    if (!r.status.ok()) return Fail(std::string(r.status.message()));
  }
  const std::string verifier = *veta::note::VerifierKey("veta.test/crash", authority.public_key());

  std::vector<Answer> answered;
  veta::note::Checkpoint last_seen;  // the newest checkpoint read before a crash
  uint64_t nonce = 0, interrupted = 0;
  size_t checked = 0;  // answers checked after an earlier restart
  for (uint64_t round = 0; round <= rounds; ++round) {
    ServerProcess server(server_bin, data_dir);
    if (!server.up())
      return Fail(StrCat("round ", round, ": the server did not start after a crash"));
    veta::client::ConnectionOptions connection;  // plaintext: the campaign's own loopback server
    connection.server = server.address();
    auto connected = veta::client::Connect(connection);
    if (!connected.ok()) return Fail(std::string(connected.status().message()));
    auto stub = std::move(*connected);
    // 1. The entries answered before the last crash survived it, byte for byte; after the
    //    last round, every entry answered in the whole campaign is checked again.
    const size_t check_from = round == rounds ? 0 : checked;
    checked = answered.size();
    for (size_t k = check_from; k < answered.size(); ++k) {
      const Answer& a = answered[k];
      grpc::ClientContext ctx;
      veta::v1::GetEntryRequest req;
      req.set_sequence(a.sequence);
      veta::v1::GetEntryResponse entry;
      if (!stub->GetEntry(&ctx, req, &entry).ok() || entry.leaf_hash() != a.leaf_hash ||
          entry.entry().envelope() != a.envelope) {
        return Fail(StrCat("round ", round, ": answered entry ", a.sequence, " was lost"));
      }
    }
    // 2. The checkpoint verifies and extends the last one seen.
    grpc::ClientContext cctx;
    veta::v1::Checkpoint cp;
    if (!stub->GetCheckpoint(&cctx, {}, &cp).ok()) return Fail("no checkpoint after restart");
    auto text = veta::note::Open(cp.note(), verifier);
    if (!text.ok()) return Fail(StrCat("round ", round, ": checkpoint does not verify"));
    auto now = *veta::note::ParseCheckpointText(*text);
    if (last_seen.size > 0) {
      if (now.size < last_seen.size) {
        return Fail(
            StrCat("round ", round, ": the tree shrank from ", last_seen.size, " to ", now.size));
      }
      grpc::ClientContext pctx;
      veta::v1::GetConsistencyProofRequest preq;
      preq.set_first_size(last_seen.size);
      preq.set_second_size(now.size);
      veta::v1::ConsistencyProof proof;
      if (!stub->GetConsistencyProof(&pctx, preq, &proof).ok()) return Fail("no consistency proof");
      std::vector<veta::Hash> hashes;
      for (const auto& h : proof.hashes()) {
        if (!veta::HashFromBytes(h, &hashes.emplace_back()))
          return Fail("a proof hash is not 32 bytes");
      }
      if (!veta::merkle::VerifyConsistency(last_seen.size, now.size, last_seen.root, now.root,
                                           hashes)
               .ok()) {
        return Fail(StrCat("round ", round, ": checkpoint ", now.size,
                           " is not consistent with checkpoint ", last_seen.size,
                           " seen before the crash"));
      }
    }
    last_seen = now;
    if (round == rounds) {  // the final restart: check, stop cleanly, audit
      const int status = server.Signal(SIGTERM);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return Fail("the server did not stop cleanly");
      break;
    }
    // 3. Load, and a SIGKILL at a random moment.
    std::mutex mu;
    std::vector<std::thread> clients;
    size_t answered_before = answered.size();
    for (int c = 0; c < 2; ++c) {
      std::vector<std::string> envelopes;
      for (uint64_t i = 0; i < per_round / 2; ++i) {
        veta::v1::Memo memo;
        memo.set_text(StrCat("crash round ", round));
        memo.set_nonce(++nonce);
        envelopes.push_back(veta::SignEnvelope(veta::kMemoType, memo.SerializeAsString(), {client})
                                ->SerializeAsString());
      }
      clients.emplace_back([&, envelopes = std::move(envelopes)] {
        grpc::ClientContext ctx;
        auto stream = stub->SubmitStream(&ctx);
        std::thread writer([&] {
          for (size_t i = 0; i < envelopes.size(); i += 50) {
            veta::v1::SubmitBatch batch;
            for (size_t j = i; j < std::min(envelopes.size(), i + 50); ++j)
              batch.add_envelopes(envelopes[j]);
            if (!stream->Write(batch)) break;
          }
          stream->WritesDone();
        });
        veta::v1::SubmitBatchResponse answer;
        size_t i = 0;
        while (stream->Read(&answer)) {
          for (const auto& a : answer.answers()) {
            const size_t at = i++;
            if (a.code() != 0) continue;
            std::lock_guard lock(mu);
            answered.push_back({a.sequence(), a.leaf_hash(), envelopes[at]});
          }
        }
        writer.join();
        stream->Finish().IgnoreError();
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 250));
    {  // the last checkpoint the outside world saw before the crash
      grpc::ClientContext ctx;
      veta::v1::Checkpoint seen;
      if (stub->GetCheckpoint(&ctx, {}, &seen).ok()) {
        last_seen = *veta::note::ParseCheckpointText(*veta::note::Open(seen.note(), verifier));
      }
    }
    server.Signal(SIGKILL);
    for (auto& t : clients) t.join();
    if (answered.size() - answered_before < per_round) ++interrupted;
  }
  veta::AuditReport report = veta::AuditLedger(data_dir);
  if (!report.status.ok()) return Fail(StrCat("veta-audit: ", report.status.message()));
  std::printf(
      "passed: %llu SIGKILLs (%llu mid-load), %zu answered entries all present, "
      "checkpoints consistent across every crash, audit clean at %llu entries\n",
      (unsigned long long)rounds, (unsigned long long)interrupted, answered.size(),
      (unsigned long long)report.entries);
  if (temporary) std::filesystem::remove_all(data_dir);
  return 0;
}
