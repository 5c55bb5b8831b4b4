// Operations on the real veta-server binary: Prometheus metrics scraped over HTTP from
// --metrics-listen while accepted, refused and malformed entries are submitted (the counters
// move by exactly what was sent), and a live backup (--backup-dir, SIGUSR1) restored against
// the server's own checkpoint and audited.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "core/log/ledger.h"
#include "core/read/audit.h"
#include "core/read/restore.h"
#include "core/storage/backup.h"
#include "core/verify/note.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "server/metrics.h"
#include "tests/core/test_util.h"
#include "tests/support/payloads.h"
#include "veta/v1/service.grpc.pb.h"

extern char** environ;

namespace veta::server {
namespace {

using veta::testing::TempDir;

// The samples of a text exposition: "name{labels}" -> value.
std::map<std::string, double> ParseExposition(const std::string& text) {
  std::map<std::string, double> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

// A value, or -1 when the sample is absent (so that a missing metric fails a comparison).
double Sample(const std::map<std::string, double>& samples, const std::string& name) {
  auto it = samples.find(name);
  return it == samples.end() ? -1 : it->second;
}

// The veta-server binary on a loopback port, its log in the temporary folder.
class ServerProcess {
 public:
  ServerProcess(const std::string& data_dir, const std::vector<std::string>& extra)
      : dir_(data_dir) {
    std::vector<std::string> args = {VETA_SERVER_BINARY,
                                     "--data-dir",
                                     data_dir,
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--port-file",
                                     data_dir + "/port",
                                     "--checkpoint-interval-ms",
                                     "0",
                                     "--metrics-listen",
                                     "127.0.0.1:0",
                                     "--metrics-port-file",
                                     data_dir + "/metrics-port"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::remove((data_dir + "/port").c_str());
    std::remove((data_dir + "/metrics-port").c_str());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = data_dir + "/server.log";
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (posix_spawn(&pid_, VETA_SERVER_BINARY, &actions, nullptr, argv.data(), environ) != 0) {
      pid_ = 0;
    }
    posix_spawn_file_actions_destroy(&actions);
    // Waits for the server to say where it listens (bounded: 20 s).
    for (int i = 0; i < 800 && (port_ == 0 || metrics_port_ == 0) && pid_ > 0; ++i) {
      if (waitpid(pid_, &exit_status_, WNOHANG) == pid_) {
        pid_ = 0;  // it stopped: Stop() returns how
        break;
      }
      std::ifstream in(data_dir + "/port"), metrics(data_dir + "/metrics-port");
      if (!(in >> port_) || !(metrics >> metrics_port_)) {
        port_ = metrics_port_ = 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
    }
  }
  ~ServerProcess() { Stop(SIGKILL); }

  bool up() const { return port_ != 0 && metrics_port_ != 0; }
  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  void Signal(int sig) { kill(pid_, sig); }
  // Stops it with `sig` and returns its exit status.
  int Stop(int sig) {
    if (pid_ <= 0) return exit_status_;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    return status;
  }
  std::string Log() const {
    std::ifstream in(dir_ + "/server.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string dir_;
  pid_t pid_ = 0;
  int port_ = 0;
  int metrics_port_ = 0;
  int exit_status_ = 0;
};

class OpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.Sub("data");
    ASSERT_TRUE(Ledger::Create(data_, "veta.test/ops", authority_, "").ok());
  }

  void Start(const std::vector<std::string>& extra = {}) {
    server_ = std::make_unique<ServerProcess>(data_, extra);
    ASSERT_TRUE(server_->up()) << server_->Log();
    stub_ = veta::v1::Ledger::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }

  grpc::Status Submit(const std::string& envelope, veta::v1::SubmitResponse* response) {
    grpc::ClientContext ctx;
    veta::v1::SubmitRequest request;
    request.set_envelope(envelope);
    return stub_->Submit(&ctx, request, response);
  }

  veta::v1::Checkpoint Checkpoint() {
    grpc::ClientContext ctx;
    veta::v1::Checkpoint cp;
    EXPECT_TRUE(stub_->GetCheckpoint(&ctx, {}, &cp).ok());
    return cp;
  }

  // SIGTERM, after closing the channel (gRPC's shutdown waits seconds for a connected client
  // to go); returns the exit status.
  int Stop() {
    stub_.reset();
    return server_->Stop(SIGTERM);
  }

  std::map<std::string, double> Scrape() {
    httplib::Client http("127.0.0.1", server_->metrics_port());
    auto response = http.Get("/metrics");
    EXPECT_TRUE(response) << "no answer from /metrics";
    if (!response) return {};
    EXPECT_EQ(response->status, 200);
    EXPECT_NE(response->get_header_value("Content-Type").find("text/plain"), std::string::npos);
    return ParseExposition(response->body);
  }

  // Registers a registrar and a miner (two registry entries), then the miner's memo (accepted)
  // and two extractions on a unit nobody registered (refused, UNIT_UNKNOWN), and bytes that are
  // no envelope (refused before any rule).
  void SubmitAFew() {
    using namespace payloads;
    veta::v1::SubmitResponse r;
    ASSERT_TRUE(
        Submit(Sign(kRegistryType, RegistrarRecord("DGFM", registrar_.public_key()), {authority_}),
               &r)
            .ok());
    ASSERT_TRUE(
        Submit(Sign(kRegistryType, Miner(miner_, miner_key_.public_key()), {registrar_}), &r).ok());
    grpc::Status s = Submit(Sign(kMemoType, MemoOf("hola", "", 1), {miner_key_}), &r);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (uint64_t nonce : {2, 3}) {
      s = Submit(Sign(kExtractionType,
                      ExtractionOf("L" + std::to_string(nonce), miner_, "NO-SUCH-UNIT", -69.9,
                                   -12.6, 1000, 8000, nonce),
                      {miner_key_}),
                 &r);
      ASSERT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
      ASSERT_EQ(s.error_message().rfind("[UNIT_UNKNOWN]", 0), 0u) << s.error_message();
    }
    s = Submit("not an envelope \xff", &r);
    ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  }

  TempDir dir_;
  std::string data_;
  PrivateKey authority_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey registrar_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey miner_key_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  const std::string miner_ = payloads::Ruc("1040000011");
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<veta::v1::Ledger::Stub> stub_;
};

TEST_F(OpsTest, MetricsCountExactlyWhatWasSubmitted) {
  Start();
  const auto before = Scrape();
  EXPECT_EQ(Sample(before, "veta_log_entries"), 1);  // the genesis
  EXPECT_EQ(Sample(before, "veta_checkpoint_entries"), 1);
  EXPECT_EQ(Sample(before, "veta_queue_submissions"), 0);
  EXPECT_EQ(Sample(before, R"(veta_refusals_total{code="UNIT_UNKNOWN"})"), -1);

  SubmitAFew();
  const auto m = Scrape();
  EXPECT_EQ(Sample(m, R"(veta_entries_committed_total{kind="registry"})"), 2);
  EXPECT_EQ(Sample(m, R"(veta_entries_committed_total{kind="memo"})"), 1);
  EXPECT_EQ(Sample(m, R"(veta_entries_committed_total{kind="extraction"})"), -1);
  EXPECT_EQ(Sample(m, R"(veta_refusals_total{code="UNIT_UNKNOWN"})"), 2);
  EXPECT_EQ(Sample(m, R"(veta_submission_errors_total{code="INVALID_ARGUMENT"})"), 1);
  EXPECT_EQ(Sample(m, "veta_commit_latency_seconds_count"), 3);
  EXPECT_EQ(Sample(m, "veta_log_entries"), 4);
  // Checkpoints after every batch (--checkpoint-interval-ms 0): the last covers entry 3.
  EXPECT_EQ(Sample(m, "veta_checkpoint_entries"), 4);
  EXPECT_GE(Sample(m, "veta_checkpoint_age_seconds"), 0);
  EXPECT_GE(Sample(m, "veta_storage_sync_seconds_count"), 5);  // 3 entries, 2 attempts
  EXPECT_GE(Sample(m, "veta_sequencer_batch_submissions_count"), 5);
  EXPECT_EQ(Sample(m, "veta_queue_submissions"), 0);
  // Each RPC timed, by method and status.
  const std::string submit = R"(method="veta.v1.Ledger/Submit")";
  EXPECT_EQ(Sample(m, "veta_rpc_duration_seconds_count{" + submit + "}"), 6);
  EXPECT_EQ(Sample(m, R"(veta_rpc_responses_total{code="OK",)" + submit + "}"), 3);
  EXPECT_EQ(Sample(m, R"(veta_rpc_responses_total{code="FAILED_PRECONDITION",)" + submit + "}"), 2);
  EXPECT_EQ(Sample(m, R"(veta_rpc_responses_total{code="INVALID_ARGUMENT",)" + submit + "}"), 1);

  // A metrics address that cannot be bound stops the server with a clear message.
  Stop();
  ServerProcess busy(data_, {"--metrics-listen", "127.0.0.1:99999"});
  EXPECT_FALSE(busy.up());
  EXPECT_EQ(busy.Stop(SIGKILL) & 0xff00, 1 << 8) << busy.Log();
  EXPECT_NE(busy.Log().find("cannot serve metrics on 127.0.0.1:99999"), std::string::npos)
      << busy.Log();
}

TEST_F(OpsTest, LiveBackupOnSigusr1RestoresAgainstTheCheckpointAndAudits) {
  const std::string backups = dir_.Sub("backups");
  Start({"--backup-dir", backups});
  SubmitAFew();
  const veta::v1::Checkpoint cp = Checkpoint();
  ASSERT_EQ(cp.tree_size(), 4u);
  server_->Signal(SIGUSR1);
  // Waits (bounded) for the server to count the backup made.
  std::map<std::string, double> m;
  for (int i = 0; i < 400 && Sample(m, R"(veta_backups_total{result="ok"})") != 1; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    m = Scrape();
  }
  ASSERT_EQ(Sample(m, R"(veta_backups_total{result="ok"})"), 1) << server_->Log();
  EXPECT_GT(Sample(m, "veta_backup_last_success_timestamp_seconds"), 0);
  // Writes go on after the backup.
  veta::v1::SubmitResponse r;
  ASSERT_TRUE(
      Submit(payloads::Sign(kMemoType, payloads::MemoOf("after", "", 9), {miner_key_}), &r).ok());

  auto listed = ListBackups(backups);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_GE((*listed)[0].entries_at_least, 4u);

  RestoreOptions options;
  options.backup_dir = backups;
  options.data_dir = dir_.Sub("restored");
  options.checkpoint_note = cp.note();
  options.log_key = *note::VerifierKey("veta.test/ops", authority_.public_key());
  auto report = RestoreLedger(options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->entries, 4u);
  EXPECT_TRUE(report->audited);
  EXPECT_EQ(Stop(), 0) << server_->Log();
  EXPECT_TRUE(AuditLedger(options.data_dir).status.ok());
}

TEST(MetricsTest, WitnessAndFollowerLagHooksAreExposed) {
  Metrics metrics;
  metrics.SetWitnessLag("sunat.gob.pe/witness", 12, 1.5);
  metrics.SetWitnessLag("oefa.gob.pe/witness", 0, 0);
  metrics.SetFollowerLag(300, 2.25);
  const auto m = ParseExposition(metrics.Render());
  EXPECT_EQ(Sample(m, R"(veta_witness_lag_entries{witness="sunat.gob.pe/witness"})"), 12);
  EXPECT_EQ(Sample(m, R"(veta_witness_lag_seconds{witness="sunat.gob.pe/witness"})"), 1.5);
  EXPECT_EQ(Sample(m, R"(veta_witness_lag_entries{witness="oefa.gob.pe/witness"})"), 0);
  EXPECT_EQ(Sample(m, "veta_follower_lag_entries"), 300);
  EXPECT_EQ(Sample(m, "veta_follower_lag_seconds"), 2.25);
}

}  // namespace
}  // namespace veta::server
