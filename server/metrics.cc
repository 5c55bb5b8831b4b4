#include "server/metrics.h"

#include <grpcpp/support/server_interceptor.h>
#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/log/ledger.h"

namespace veta::server {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// From 100 µs (a batch's sync here is about 0.33 ms) to 10 s.
const Histogram::BucketBoundaries& SecondsBuckets() {
  static const Histogram::BucketBoundaries buckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                      1,      2.5,     5,      10};
  return buckets;
}

// Powers of two up to past the largest batch the flags allow by default (2048).
const Histogram::BucketBoundaries& BatchBuckets() {
  static const Histogram::BucketBoundaries buckets = {1,   2,   4,   8,    16,   32,  64,
                                                      128, 256, 512, 1024, 2048, 4096};
  return buckets;
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Opens and closes a TCP connection to the metrics listener (host of `listen`, or loopback for
// a wildcard address) at `port`; errors are ignored.
void Poke(const std::string& listen, int port) {
  const size_t colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? "" : listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return;
  const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    (void)connect(fd, found->ai_addr, found->ai_addrlen);
    close(fd);
  }
  freeaddrinfo(found);
}

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

struct Metrics::Impl final : public prometheus::Collectable {
  Impl()
      : registry(std::make_shared<prometheus::Registry>()),
        committed(prometheus::BuildCounter()
                      .Name("veta_entries_committed_total")
                      .Help("Entries written to the log, by payload kind.")
                      .Register(*registry)),
        refusals(prometheus::BuildCounter()
                     .Name("veta_refusals_total")
                     .Help("Submissions refused by a rule (kept in the attempts log), by "
                           "refusal code.")
                     .Register(*registry)),
        errors(prometheus::BuildCounter()
                   .Name("veta_submission_errors_total")
                   .Help("Submissions answered with an error other than a rule's refusal "
                         "(undecodable, bad signature, deadline, queue full, storage), by "
                         "status code.")
                   .Register(*registry)),
        batch_submissions(prometheus::BuildHistogram()
                              .Name("veta_sequencer_batch_submissions")
                              .Help("Submissions taken by each sequencer batch (one synced "
                                    "write).")
                              .Register(*registry)
                              .Add({}, BatchBuckets())),
        sync_seconds(prometheus::BuildHistogram()
                         .Name("veta_storage_sync_seconds")
                         .Help("Duration of each batch's synced write.")
                         .Register(*registry)
                         .Add({}, SecondsBuckets())),
        commit_seconds(prometheus::BuildHistogram()
                           .Name("veta_commit_latency_seconds")
                           .Help("From Submit to the entry durable on disk, per entry "
                                 "(verification, queueing, sequencing and the sync).")
                           .Register(*registry)
                           .Add({}, SecondsBuckets())),
        queue(prometheus::BuildGauge()
                  .Name("veta_queue_submissions")
                  .Help("Submissions queued (verifying or waiting for the sequencer).")
                  .Register(*registry)
                  .Add({})),
        log_entries(prometheus::BuildGauge()
                        .Name("veta_log_entries")
                        .Help("Entries in the log (the tree size).")
                        .Register(*registry)
                        .Add({})),
        checkpoint_entries(prometheus::BuildGauge()
                               .Name("veta_checkpoint_entries")
                               .Help("Tree size of the latest signed checkpoint.")
                               .Register(*registry)
                               .Add({})),
        checkpoint_time(prometheus::BuildGauge()
                            .Name("veta_checkpoint_timestamp_seconds")
                            .Help("When the latest checkpoint was signed (Unix time; for the "
                                  "checkpoint found at start-up, the start-up time).")
                            .Register(*registry)
                            .Add({})),
        checkpoint_age(prometheus::BuildGauge()
                           .Name("veta_checkpoint_age_seconds")
                           .Help("Seconds since the latest checkpoint was signed.")
                           .Register(*registry)
                           .Add({})),
        rpc_seconds(prometheus::BuildHistogram()
                        .Name("veta_rpc_duration_seconds")
                        .Help("Duration of each RPC, from its start to its status (a stream: "
                              "its whole life), by method.")
                        .Register(*registry)),
        rpc_responses(prometheus::BuildCounter()
                          .Name("veta_rpc_responses_total")
                          .Help("RPCs answered, by method and gRPC status code.")
                          .Register(*registry)),
        witness_entries(prometheus::BuildGauge()
                            .Name("veta_witness_lag_entries")
                            .Help("Entries the witness's newest cosignature is behind the "
                                  "newest checkpoint.")
                            .Register(*registry)),
        witness_seconds(prometheus::BuildGauge()
                            .Name("veta_witness_lag_seconds")
                            .Help("Seconds the witness's newest cosignature is behind the "
                                  "newest checkpoint.")
                            .Register(*registry)),
        follower_entries(prometheus::BuildGauge()
                             .Name("veta_follower_lag_entries")
                             .Help("Entries this follower's log is behind its primary's.")
                             .Register(*registry)),
        follower_seconds(prometheus::BuildGauge()
                             .Name("veta_follower_lag_seconds")
                             .Help("Seconds this follower's log is behind its primary's.")
                             .Register(*registry)),
        backups(prometheus::BuildCounter()
                    .Name("veta_backups_total")
                    .Help("Backups of the database, by result (ok, failed).")
                    .Register(*registry)),
        backup_time(prometheus::BuildGauge()
                        .Name("veta_backup_last_success_timestamp_seconds")
                        .Help("When the last backup succeeded (Unix time).")
                        .Register(*registry)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    {
      absl::MutexLock lock(&mu);
      if (ledger != nullptr) {
        queue.Set(static_cast<double>(ledger->queue_depth()));
        log_entries.Set(static_cast<double>(ledger->size()));
      }
    }
    checkpoint_age.Set(std::max(0.0, UnixNow() - checkpoint_time.Value()));
    return registry->Collect();
  }

  void SetCheckpoint(uint64_t size) {
    checkpoint_entries.Set(static_cast<double>(size));
    checkpoint_time.Set(UnixNow());
  }

  std::shared_ptr<prometheus::Registry> registry;
  Family<Counter>& committed;
  Family<Counter>& refusals;
  Family<Counter>& errors;
  Histogram& batch_submissions;
  Histogram& sync_seconds;
  Histogram& commit_seconds;
  Gauge& queue;
  Gauge& log_entries;
  Gauge& checkpoint_entries;
  Gauge& checkpoint_time;
  Gauge& checkpoint_age;
  Family<Histogram>& rpc_seconds;
  Family<Counter>& rpc_responses;
  Family<Gauge>& witness_entries;
  Family<Gauge>& witness_seconds;
  // Only once set: a server that is no follower and made no backup shows none.
  Family<Gauge>& follower_entries;
  Family<Gauge>& follower_seconds;
  Family<Counter>& backups;
  Family<Gauge>& backup_time;

  mutable absl::Mutex mu;
  const Ledger* ledger ABSL_GUARDED_BY(mu) = nullptr;
  // Last: destroyed first, so that no scrape runs while the rest goes away.
  std::unique_ptr<prometheus::Exposer> exposer ABSL_GUARDED_BY(mu);
  std::string listen ABSL_GUARDED_BY(mu);
};

namespace {

// Times one RPC: created by gRPC when the call starts, deleted by gRPC when it ends.
class RpcTimer final : public grpc::experimental::Interceptor {
 public:
  RpcTimer(Metrics* metrics, std::string method)
      : metrics_(metrics), method_(std::move(method)), start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      metrics_->ObserveRpc(
          method_, absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
          Seconds(std::chrono::steady_clock::now() - start_));
    }
    methods->Proceed();
  }

 private:
  Metrics* const metrics_;
  const std::string method_;
  const std::chrono::steady_clock::time_point start_;
};

class RpcTimerFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcTimerFactory(Metrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    std::string_view method = info->method() != nullptr ? info->method() : "unknown";
    if (method.starts_with("/")) method.remove_prefix(1);
    return new RpcTimer(metrics_, std::string(method));
  }

 private:
  Metrics* const metrics_;
};

}  // namespace

Metrics::Metrics() : impl_(std::make_shared<Impl>()) { impl_->SetCheckpoint(0); }

Metrics::~Metrics() {
  std::unique_ptr<prometheus::Exposer> exposer;
  std::string listen;
  {
    absl::MutexLock lock(&impl_->mu);
    exposer = std::move(impl_->exposer);
    listen = impl_->listen;
    impl_->ledger = nullptr;
  }
  if (exposer == nullptr) return;
  // Stops serving (joins the exposer's threads, which may be waiting for mu in a scrape).
  // civetweb's listener polls in 2 s quanta and sees the stop only between two: connections
  // made meanwhile wake it, so that a server stops at once rather than 2 s later.
  const std::vector<int> ports = exposer->GetListeningPorts();
  std::atomic<bool> stopped{false};
  std::thread waker([&] {
    for (int i = 0; i < 400 && !stopped.load() && !ports.empty(); ++i) {
      Poke(listen, ports.front());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  exposer.reset();
  stopped = true;
  waker.join();
}

absl::Status Metrics::Serve(const std::string& listen) {
  absl::MutexLock lock(&impl_->mu);
  if (impl_->exposer != nullptr) return absl::FailedPreconditionError("metrics already served");
  try {
    impl_->exposer = std::make_unique<prometheus::Exposer>(listen, /*num_threads=*/2);
    impl_->listen = listen;
  } catch (const std::exception& e) {
    return absl::UnavailableError(StrCat("cannot serve metrics on ", listen,
                                         " (is another server using that port?): ", e.what()));
  }
  impl_->exposer->RegisterCollectable(std::weak_ptr<prometheus::Collectable>(impl_));
  return absl::OkStatus();
}

int Metrics::port() const {
  absl::MutexLock lock(&impl_->mu);
  if (impl_->exposer == nullptr) return 0;
  const std::vector<int> ports = impl_->exposer->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

std::string Metrics::Render() const {
  return prometheus::TextSerializer().Serialize(impl_->Collect());
}

void Metrics::OnBatch(const BatchObservation& batch) {
  Impl& m = *impl_;
  if (batch.submissions > 0) m.batch_submissions.Observe(static_cast<double>(batch.submissions));
  if (batch.sync) m.sync_seconds.Observe(Seconds(*batch.sync));
  // Counted by label first: a batch holds up to thousands of entries, and each Family::Add
  // takes the family's lock.
  std::map<std::string_view, double> by_kind;
  for (PayloadKind kind : batch.committed) by_kind[PayloadKindLabel(kind)] += 1;
  for (const auto& [kind, n] : by_kind) m.committed.Add({{"kind", std::string(kind)}}).Increment(n);
  for (auto latency : batch.commit_latencies) m.commit_seconds.Observe(Seconds(latency));
  std::map<veta::v1::Refusal, double> by_code;
  for (veta::v1::Refusal code : batch.refusals) by_code[code] += 1;
  for (const auto& [code, n] : by_code) {
    m.refusals.Add({{"code", veta::v1::Refusal_Name(code)}}).Increment(n);
  }
  for (absl::StatusCode code : batch.failures) OnTurnedAway(code);
  if (batch.checkpoint_size) m.SetCheckpoint(*batch.checkpoint_size);
  m.log_entries.Set(static_cast<double>(batch.tree_size));
}

void Metrics::OnTurnedAway(absl::StatusCode code) {
  impl_->errors.Add({{"code", absl::StatusCodeToString(code)}}).Increment();
}

void Metrics::WatchLedger(const Ledger* ledger) {
  if (ledger != nullptr) {
    impl_->SetCheckpoint(ledger->LatestCheckpoint().tree_size());
    impl_->log_entries.Set(static_cast<double>(ledger->size()));
  }
  absl::MutexLock lock(&impl_->mu);
  impl_->ledger = ledger;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
Metrics::NewInterceptorFactory() {
  return std::make_unique<RpcTimerFactory>(this);
}

void Metrics::ObserveRpc(std::string_view method, std::string_view code, double seconds) {
  const std::string name(method);
  impl_->rpc_seconds.Add({{"method", name}}, SecondsBuckets()).Observe(seconds);
  impl_->rpc_responses.Add({{"method", name}, {"code", std::string(code)}}).Increment();
}

void Metrics::SetWitnessLag(std::string_view witness, uint64_t entries_behind,
                            double seconds_behind) {
  const std::string name(witness);
  impl_->witness_entries.Add({{"witness", name}}).Set(static_cast<double>(entries_behind));
  impl_->witness_seconds.Add({{"witness", name}}).Set(seconds_behind);
}

void Metrics::SetFollowerLag(uint64_t entries_behind, double seconds_behind) {
  impl_->follower_entries.Add({}).Set(static_cast<double>(entries_behind));
  impl_->follower_seconds.Add({}).Set(seconds_behind);
}

void Metrics::ObserveBackup(bool ok) {
  impl_->backups.Add({{"result", ok ? "ok" : "failed"}}).Increment();
  if (ok) impl_->backup_time.Add({}).Set(UnixNow());
}

absl::Status Metrics::ServeFor(const Ledger* ledger, const std::string& listen,
                               const std::string& port_file, std::string_view program) {
  WatchLedger(ledger);
  RETURN_IF_ERROR(Serve(listen));
  if (!port_file.empty()) {
    RETURN_IF_ERROR(WriteFileAtomic(port_file, std::to_string(port()) + "\n"));
  }
  std::fprintf(stderr, "%s: metrics on http://%s/metrics (port %d)\n", std::string(program).c_str(),
               listen.c_str(), port());
  return absl::OkStatus();
}

}  // namespace veta::server
