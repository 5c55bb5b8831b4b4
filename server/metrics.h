// Prometheus metrics of a Veta process (veta-server; the follower and witness binaries may
// embed one too), served at /metrics by prometheus-cpp's pull exposer, in the text exposition
// format. The Prometheus headers stay in metrics.cc: this header is light.
//
// What is measured (names per Prometheus conventions: veta_ prefix, base units, _total on
// counters):
//   veta_entries_committed_total{kind}           entries written, by payload kind
//   veta_refusals_total{code}                    submissions refused by a rule (Refusal name)
//   veta_submission_errors_total{code}           submissions answered with another error
//                                                (gRPC/absl code name: INVALID_ARGUMENT...)
//   veta_sequencer_batch_submissions             histogram: submissions per sequencer batch
//   veta_storage_sync_seconds                    histogram: each batch's synced write
//   veta_commit_latency_seconds                  histogram: Submit to durable, per entry
//   veta_queue_submissions                       gauge: submissions queued now
//   veta_log_entries                             gauge: the tree size
//   veta_checkpoint_entries                      gauge: the latest checkpoint's tree size
//   veta_checkpoint_timestamp_seconds            gauge: when it was signed (Unix time; the
//                                                start-up time for the one found at start)
//   veta_checkpoint_age_seconds                  gauge: now minus that, at the scrape
//   veta_rpc_duration_seconds{method}            histogram: each RPC, start to status (a
//                                                stream: its whole life)
//   veta_rpc_responses_total{method,code}        RPCs answered, by gRPC status code name
//   veta_witness_lag_entries{witness}            set by the witness client: entries the
//   veta_witness_lag_seconds{witness}            witness's newest cosignature is behind
//   veta_follower_lag_entries                    set by a follower: entries / seconds behind
//   veta_follower_lag_seconds                    its primary
//   veta_backups_total{result}                   backups made (result: ok, failed)
//   veta_backup_last_success_timestamp_seconds   gauge
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "core/log/observer.h"

namespace grpc::experimental {
class ServerInterceptorFactoryInterface;
}  // namespace grpc::experimental

namespace veta {
class Ledger;
}  // namespace veta

namespace veta::server {

class Metrics final : public LedgerObserver {
 public:
  Metrics();
  ~Metrics() override;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Serves GET /metrics on `listen` (host:port; port 0 picks a free port). Once only.
  // Unavailable when the address cannot be bound.
  [[nodiscard]] absl::Status Serve(const std::string& listen);
  // What veta-server and veta-follower do with --metrics-listen: watches `ledger`, serves on
  // `listen`, writes the port bound to `port_file` (when not empty) and says so on stderr
  // under `program`'s name.
  [[nodiscard]] absl::Status ServeFor(const Ledger* ledger, const std::string& listen,
                                      const std::string& port_file, std::string_view program);
  // The port bound by Serve (0 before).
  int port() const;
  // Every metric now, in the text exposition format (what /metrics answers).
  std::string Render() const;

  // The ledger's write path (LedgerObserver).
  void OnBatch(const BatchObservation& batch) override;
  void OnTurnedAway(absl::StatusCode code) override;
  // Gauges read from `ledger` at each scrape (tree size, queue, checkpoint). The ledger must
  // outlive the Metrics, or be detached first with WatchLedger(nullptr).
  void WatchLedger(const Ledger* ledger);

  // RPCs: the interceptor to give grpc::ServerBuilder (server.cc does), and what it records.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewInterceptorFactory();
  void ObserveRpc(std::string_view method, std::string_view code, double seconds);

  // Hooks for the witness client (server side of a witness policy): how far `witness`'s
  // newest cosignature is behind the newest checkpoint, in entries and in seconds. Call it
  // each time a cosignature arrives or a checkpoint is signed.
  void SetWitnessLag(std::string_view witness, uint64_t entries_behind, double seconds_behind);
  // Hook for a follower: how far its applied log is behind its primary's newest checkpoint.
  void SetFollowerLag(uint64_t entries_behind, double seconds_behind);
  // A backup made (ok) or failed.
  void ObserveBackup(bool ok);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace veta::server
