// SIGKILL during load: the real veta-server binary is killed at random moments while clients
// stream envelopes; after a restart every answered entry is there, unchanged, and the audit
// is clean. Bounded: a few rounds of well under a second each.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <random>
#include <thread>

#include "core/audit.h"
#include "core/ledger.h"
#include "gtest/gtest.h"
#include "tests/core/test_util.h"
#include "veta/v1/service.grpc.pb.h"

extern char** environ;

namespace veta {
namespace {

using veta::testing::TempDir;

class ServerProcess {
 public:
  explicit ServerProcess(const std::string& data_dir) : port_file_(data_dir + "/port") {
    std::remove(port_file_.c_str());
    std::vector<std::string> args = {VETA_SERVER_BIN,
                                     "--data-dir",
                                     data_dir,
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--port-file",
                                     port_file_,
                                     "--checkpoint-interval-ms",
                                     "20"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, VETA_SERVER_BIN, nullptr, nullptr, argv.data(), environ), 0);
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::ifstream in(port_file_);
      if (!(in >> port_)) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    EXPECT_NE(port_, 0) << "veta-server did not start";
  }
  ~ServerProcess() { Signal(SIGKILL); }

  // Sends `sig` and waits for the process; returns its wait status.
  int Signal(int sig) {
    if (pid_ <= 0) return 0;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    return status;
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::string port_file_;
  pid_t pid_ = 0;
  int port_ = 0;
};

struct Answer {
  uint64_t sequence;
  std::string leaf_hash;
  std::string envelope;
};

TEST(CrashTest, SigkillDuringLoadLosesNoAnsweredEntry) {
  TempDir dir;
  PrivateKey authority = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey client = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  ASSERT_TRUE(Ledger::Create(dir.path(), "veta.test/crash", authority, "").ok());
  {
    LedgerOptions options;
    options.data_dir = dir.path();
    auto ledger = *Ledger::Open(options, authority);
    veta::v1::KeyRegistration reg;
    *reg.mutable_key() = client.public_key().ToProto();
    reg.set_holder("crash client");
    ASSERT_TRUE(
        ledger
            ->SubmitAndWait(SignEnvelope(kKeyRegistrationType, reg.SerializeAsString(), {authority})
                                ->SerializeAsString())
            .status.ok());
  }
  std::mt19937_64 rng(std::random_device{}());
  std::vector<Answer> answered;
  uint64_t nonce = 0;
  constexpr int kRounds = 4;
  int interrupted_rounds = 0;  // rounds in which the kill cut the load short
  for (int round = 0; round < kRounds; ++round) {
    const size_t answered_before = answered.size();
    ServerProcess server(dir.path());
    auto stub = veta::v1::Ledger::NewStub(
        grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
    std::mutex mu;
    std::vector<std::thread> clients;
    for (int c = 0; c < 2; ++c) {
      std::vector<std::string> envelopes;
      for (int i = 0; i < 8000; ++i) {
        veta::v1::Memo memo;
        memo.set_text("crash round " + std::to_string(round));
        memo.set_nonce(++nonce);
        envelopes.push_back(
            SignEnvelope(kMemoType, memo.SerializeAsString(), {client})->SerializeAsString());
      }
      clients.emplace_back([&, envelopes = std::move(envelopes)] {
        grpc::ClientContext ctx;
        auto stream = stub->SubmitStream(&ctx);
        std::thread writer([&] {
          for (size_t i = 0; i < envelopes.size(); i += 50) {
            veta::v1::SubmitBatch batch;
            for (size_t j = i; j < std::min(envelopes.size(), i + 50); ++j) {
              batch.add_envelopes(envelopes[j]);
            }
            if (!stream->Write(batch)) break;
          }
          stream->WritesDone();
        });
        veta::v1::SubmitBatchResponse batch_answer;
        size_t i = 0;
        while (stream->Read(&batch_answer)) {
          for (const auto& a : batch_answer.answers()) {
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
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + rng() % 200));
    const int status = server.Signal(SIGKILL);
    EXPECT_TRUE(WIFSIGNALED(status));
    for (auto& t : clients) t.join();
    if (answered.size() - answered_before < 2 * 8000) ++interrupted_rounds;
  }
  ASSERT_FALSE(answered.empty()) << "no envelope was answered before the kills";
  EXPECT_GT(interrupted_rounds, 0) << "every round finished before its SIGKILL";

  // Restart: every answered entry is there, byte for byte.
  ServerProcess server(dir.path());
  auto stub = veta::v1::Ledger::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  for (const Answer& a : answered) {
    grpc::ClientContext ctx;
    veta::v1::GetEntryRequest req;
    req.set_sequence(a.sequence);
    veta::v1::GetEntryResponse entry;
    ASSERT_TRUE(stub->GetEntry(&ctx, req, &entry).ok())
        << "answered entry " << a.sequence << " lost";
    ASSERT_EQ(entry.leaf_hash(), a.leaf_hash) << a.sequence;
    ASSERT_EQ(entry.entry().envelope(), a.envelope) << a.sequence;
  }
  const int status = server.Signal(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  AuditReport report = AuditLedger(dir.path());
  EXPECT_TRUE(report.status.ok()) << report.status;
  EXPECT_GT(report.entries, answered.size());
  std::printf("crash test: %zu answered entries survived %d SIGKILLs; audit clean at %llu\n",
              answered.size(), kRounds, static_cast<unsigned long long>(report.entries));
}

}  // namespace
}  // namespace veta
