// veta-server: the registry's gRPC server on an embedded RocksDB ledger.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "client/address.h"
#include "core/base/flags.h"
#include "core/base/strings.h"
#include "core/log/ledger.h"
#include "core/log/tiles.h"
#include "core/storage/backup.h"
#include "core/storage/rocks_store.h"
#include "core/verify/keys.h"
#include "server/connect_api.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/server.h"
#include "server/witnessing.h"

namespace {

std::string DefaultDataDir() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg != nullptr && *xdg != '\0') return veta::StrCat(xdg, "/veta");
  const char* home = std::getenv("HOME");
  return veta::StrCat(home != nullptr ? home : ".", "/.local/share/veta");
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "veta-server: %s\n", std::string(s.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's abseil is built without NDEBUG, so absl::Mutex checks lock order on every Lock
  // (a process-wide spinlock) and aborts on a cycle: the tests keep that check, a server does
  // not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::string data_dir = DefaultDataDir();
  std::string listen = veta::kDefaultServer;
  std::string key_path;
  std::string port_file, tls_cert, tls_key;
  uint64_t verify_threads = 0, batch_max = 2048, checkpoint_ms = 250, queue_max = 100000;
  const veta::server::ServiceLimits defaults;
  uint64_t stream_inflight_max = defaults.stream_inflight_max;
  uint64_t stream_held_bytes_max = defaults.stream_held_bytes_max;
  uint64_t streams_max = defaults.streams_max;
  uint64_t streams_per_caller_max = defaults.streams_per_caller_max;
  uint64_t held_bytes_max = defaults.held_bytes_max;
  uint64_t page_bytes_max = defaults.page_bytes_max;
  uint64_t grpc_memory_max = veta::server::ServerOptions().grpc_memory_max;
  bool bdp_probe = veta::server::ServerOptions().bdp_probe;
  std::string metrics_listen, metrics_port_file, backup_dir;
  std::string http_listen, http_port_file, tiles_dir, bundles_dir;
  veta::Flags flags("veta-server [options]",
                    "Serves a Veta ledger over gRPC (veta.v1.Ledger, grpc.health.v1, reflection).\n"
                    "Create the ledger first with `veta init`. SIGTERM or Ctrl-C drains queued\n"
                    "submissions, signs a final checkpoint, syncs and exits.");
  flags.String("data-dir", &data_dir, "Ledger folder (holds db/ and authority-key.pem).");
  flags.String("listen", &listen, "Address to serve on; port 0 picks a free port.");
  flags.String("authority-key", &key_path,
               "Ed25519 key that signs checkpoints (default: DATA_DIR/authority-key.pem).");
  flags.String("port-file", &port_file, "Write the port actually bound to this file.");
  flags.String("tls-cert", &tls_cert,
               "Server certificate (PEM). With TLS, clients are identified by their certificate's "
               "key and roles apply; required to listen beyond loopback.");
  flags.String("tls-key", &tls_key, "The server certificate's private key (PEM).");
  flags.Uint("verify-threads", &verify_threads,
             "Signature verification threads (0: one per core).");
  flags.Uint("batch-max", &batch_max, "Most entries per synced write batch.");
  flags.Uint("queue-max", &queue_max, "Most submissions waiting before RESOURCE_EXHAUSTED.");
  flags.Uint("checkpoint-interval-ms", &checkpoint_ms,
             "Sign a checkpoint once new entries are this old (0: after every batch).");
  flags.Uint("stream-inflight-max", &stream_inflight_max,
             "Most envelopes one SubmitStream holds, from the read of their batch to the write "
             "of their answers; past it the stream stops reading until its answers are written "
             "(a caller that does not read its answers only stalls itself).");
  flags.Uint("stream-held-bytes-max", &stream_held_bytes_max,
             "Most bytes one SubmitStream holds (envelopes in the ledger, answers not yet "
             "written) before it stops reading.");
  flags.Uint("streams-max", &streams_max,
             "Most SubmitStreams open at once on the server; past it RESOURCE_EXHAUSTED.");
  flags.Uint("streams-per-caller-max", &streams_per_caller_max,
             "Most SubmitStreams one caller (its key with TLS, its address without) has open.");
  flags.Uint("held-bytes-max", &held_bytes_max,
             "Most bytes the server holds for all calls together (envelopes in the ledger, "
             "answers and responses not yet delivered); past it streams wait before reading "
             "and new calls get RESOURCE_EXHAUSTED.");
  flags.Uint("page-bytes-max", &page_bytes_max,
             "Bytes after which a ListEntries, ListRecords or ListAttempts page stops early.");
  flags.Uint("grpc-memory-max", &grpc_memory_max,
             "gRPC's own buffers, as a ResourceQuota in bytes (0: none): under pressure gRPC "
             "shrinks its flow-control windows, near it new calls are refused.");
  flags.Bool("bdp-probe", &bdp_probe,
             "Widen HTTP/2 windows to the link's bandwidth-delay product (faster on long, fast "
             "links) instead of keeping them at 64 KiB per stream; a caller that does not read "
             "can then park that much in the server's buffers per stream.");
  std::string witness_policy_path;
  uint64_t witness_timeout_ms = 2000;
  bool witness_verbose = false;
  flags.String("witness-policy", &witness_policy_path,
               "A C2SP tlog-policy file (`witness NAME VKEY URL` lines, groups, `quorum NAME`): "
               "each new checkpoint is sent to every witness (tlog-witness add-checkpoint) and "
               "the checkpoint published (GetCheckpoint, proofs, certificates) is the newest one "
               "the quorum cosigned, with their cosignatures.");
  flags.Uint("witness-timeout-ms", &witness_timeout_ms,
             "Most milliseconds one add-checkpoint request to a witness may take.");
  flags.Bool("witness-verbose", &witness_verbose,
             "Log every cosigning round (size, cosigners, milliseconds) to stderr.");
  flags.String("metrics-listen", &metrics_listen,
               "Serve Prometheus metrics at http://ADDR/metrics (host:port; port 0 picks a free "
               "port; empty: no metrics). Plain HTTP: counts and timings only, no party or "
               "entry; bind it to loopback or a private network.");
  flags.String("metrics-port-file", &metrics_port_file,
               "Write the metrics port actually bound to this file.");
  flags.String("backup-dir", &backup_dir,
               "On SIGUSR1, back up the live database into this folder (RocksDB BackupEngine, "
               "incremental; `veta-backup list/restore` read it). Writes go on meanwhile.");
  flags.String("http-listen", &http_listen,
               "HTTP address (host:port; port 0 picks one) for the C2SP tlog-tiles: /checkpoint "
               "and /tile/... (public), /tile/entries/... (entry bundles: regulators only). "
               "TLS with --tls-cert/--tls-key as gRPC, required beyond loopback. Empty: no HTTP.");
  flags.String("http-port-file", &http_port_file, "Write the HTTP port actually bound here.");
  std::string web_dir;
  uint64_t session_minutes = 15;
  flags.String("web-dir", &web_dir,
               "Serve the built web app in this folder at / on --http-listen (e.g. web/dist). "
               "The JSON API (POST /veta.v1.Ledger/<Method>, /veta.v1.Session/<Method>, the "
               "Connect protocol; docs/HTTP_API.md) is served on --http-listen regardless.");
  flags.Uint("session-minutes", &session_minutes,
             "How long a browser session (Session/SignIn's bearer token) lasts.");
  flags.String("tiles-dir", &tiles_dir,
               "Folder the log is published to as C2SP tlog-tiles (checkpoint, hash tiles: "
               "public; serve it with any web server). Empty: DATA_DIR/tiles; none: off.");
  flags.String("tile-bundles-dir", &bundles_dir,
               "Folder for the tiles' entry bundles, kept apart from --tiles-dir because they "
               "carry transactions the public may not read. Empty: DATA_DIR/tile-bundles; none: "
               "off.");
  uint64_t tiles_interval_ms = veta::tiles::TileWriterOptions().round_interval.count();
  flags.Uint("tiles-interval-ms", &tiles_interval_ms,
             "Least time between two rounds of the tile writer (checkpoints signed meanwhile are "
             "published together).");
  if (absl::Status s = flags.Parse(argc, argv); !s.ok()) return Fail(s);
  if (flags.help_requested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return 0;
  }
  if (!flags.positional().empty()) {
    return Fail(absl::InvalidArgumentError("unexpected argument " + flags.positional()[0]));
  }
  for (auto [name, value] :
       {std::pair{"stream-inflight-max", stream_inflight_max},
        std::pair{"stream-held-bytes-max", stream_held_bytes_max},
        std::pair{"streams-max", streams_max},
        std::pair{"streams-per-caller-max", streams_per_caller_max},
        std::pair{"held-bytes-max", held_bytes_max}, std::pair{"page-bytes-max", page_bytes_max}}) {
    if (value == 0) {
      return Fail(absl::InvalidArgumentError(veta::StrCat("--", name, " must be at least 1")));
    }
  }
  if (key_path.empty()) key_path = veta::AuthorityKeyPath(data_dir);
  if (tls_cert.empty() && !veta::server::IsLoopback(listen)) {  // before touching the ledger
    return Fail(absl::FailedPreconditionError(veta::StrCat(
        "refusing to listen on ", listen, " without TLS: give --tls-cert and --tls-key")));
  }

  // Signals are taken by one thread with sigwait: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);  // a backup (--backup-dir)
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::optional<veta::cosig::Policy> witness_policy;
  if (!witness_policy_path.empty()) {
    auto text = veta::ReadFile(witness_policy_path);
    if (!text.ok()) return Fail(text.status());
    auto policy = veta::cosig::Policy::Parse(*text);
    if (!policy.ok()) return Fail(policy.status());
    witness_policy = std::move(*policy);
  }

  auto pem = veta::ReadFile(key_path);
  if (!pem.ok()) {
    if (std::filesystem::exists(veta::DatabasePath(data_dir))) {  // restored, or a follower's
      return Fail(absl::FailedPreconditionError(
          veta::StrCat(pem.status().message(),
                       "\na ledger is here but not its authority key (a backup or "
                       "a follower's folder holds none): give it with --authority-key KEY.pem")));
    }
    return Fail(absl::FailedPreconditionError(veta::StrCat(
        pem.status().message(), "\nno ledger here? create one: veta init --data-dir ", data_dir)));
  }
  auto key = veta::PrivateKey::FromPem(*pem);
  if (!key.ok()) return Fail(key.status());

  veta::LedgerOptions options;
  options.data_dir = data_dir;
  options.verify_threads = static_cast<int>(verify_threads);
  options.batch_entries_max = batch_max;
  options.queue_entries_max = queue_max;
  options.checkpoint_interval = std::chrono::milliseconds(checkpoint_ms);
  options.witnessed = witness_policy.has_value();
  std::shared_ptr<veta::server::Metrics> metrics;
  if (!metrics_listen.empty()) {
    metrics = std::make_shared<veta::server::Metrics>();
    options.observer = metrics;
  }
  // A live backup needs the database's handle: the store is opened here and given to the
  // ledger.
  std::shared_ptr<veta::RocksStore> rocks;
  if (!backup_dir.empty()) {
    auto opened =
        veta::RocksStore::Open(veta::DatabasePath(data_dir), veta::RocksStore::Mode::kReadWrite);
    if (!opened.ok()) return Fail(opened.status());
    rocks = std::move(*opened);
    options.store = rocks;
  }
  // The tile writer follows the checkpoints on its own thread (core/log/tiles.h).
  if (tiles_dir.empty()) tiles_dir = data_dir + "/tiles";
  if (tiles_dir == "none") tiles_dir.clear();
  if (bundles_dir.empty()) bundles_dir = data_dir + "/tile-bundles";
  if (bundles_dir == "none" || tiles_dir.empty()) bundles_dir.clear();
  veta::tiles::TileWriterOptions tile_options;
  tile_options.dir = tiles_dir;
  tile_options.bundles_dir = bundles_dir;
  tile_options.round_interval = std::chrono::milliseconds(tiles_interval_ms);
  veta::tiles::TileWriter tile_writer(tile_options);
  if (!tiles_dir.empty())
    options.on_checkpoint = [&tile_writer](uint64_t) { tile_writer.Notify(); };
  const auto open_start = std::chrono::steady_clock::now();
  auto ledger = veta::Ledger::Open(options, *key);
  if (!ledger.ok()) return Fail(ledger.status());
  // On every return from here the metrics stop reading the ledger before it goes away.
  struct DetachMetrics {
    veta::server::Metrics* metrics;
    ~DetachMetrics() {
      if (metrics != nullptr) metrics->WatchLedger(nullptr);
    }
  } detach_metrics{metrics.get()};
  const auto open_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - open_start)
                           .count();

  std::unique_ptr<veta::StoreNodeReader> tile_nodes;
  if (!tiles_dir.empty()) {
    tile_nodes = std::make_unique<veta::StoreNodeReader>((*ledger)->store());
    veta::tiles::TileSource source;
    source.nodes = tile_nodes.get();
    source.entries = [l = ledger->get()](uint64_t start, uint32_t count) {
      return l->ListEntries(start, count);
    };
    // What is published: the ledger's published checkpoint (under a witness policy, the
    // newest one the quorum cosigned, with their cosignatures).
    source.checkpoint_note = [l = ledger->get()]() -> absl::StatusOr<std::string> {
      return l->PublishedCheckpointNote();
    };
    tile_writer.Start(std::move(source));
  }
  // On every return from here, the writer stops before the ledger closes (Close releases the
  // store the writer reads) and before tile_nodes goes away.
  struct StopTiles {
    veta::tiles::TileWriter* writer;
    ~StopTiles() { writer->Stop(); }
  } stop_tiles{&tile_writer};

  veta::server::ServerOptions server_options;
  server_options.listen = listen;
  server_options.limits.stream_inflight_max = stream_inflight_max;
  server_options.limits.stream_held_bytes_max = stream_held_bytes_max;
  server_options.limits.streams_max = streams_max;
  server_options.limits.streams_per_caller_max = streams_per_caller_max;
  server_options.limits.held_bytes_max = held_bytes_max;
  server_options.limits.page_bytes_max = page_bytes_max;
  server_options.grpc_memory_max = grpc_memory_max;
  server_options.bdp_probe = bdp_probe;
  server_options.metrics = metrics;
  if (metrics != nullptr) {
    if (absl::Status s =
            metrics->ServeFor(ledger->get(), metrics_listen, metrics_port_file, "veta-server");
        !s.ok()) {
      return Fail(s);
    }
  }
  if (absl::Status s = veta::server::ReadTlsFiles(tls_cert, tls_key, &server_options); !s.ok()) {
    return Fail(s);
  }
  auto running = veta::server::StartServer(ledger->get(), server_options);
  if (!running.ok()) return Fail(running.status());
  std::unique_ptr<veta::server::ConnectApi> connect_api;  // outlives `http`, its routes' owner
  std::unique_ptr<veta::server::HttpServer> http;
  if (!http_listen.empty()) {
    veta::server::HttpOptions http_options;
    http_options.listen = http_listen;
    http_options.tls_cert_pem = server_options.tls_cert_pem;
    http_options.tls_key_pem = server_options.tls_key_pem;
    http_options.tiles_dir = tiles_dir;
    http_options.bundles_dir = bundles_dir;
    http_options.web_dir = web_dir;
    if (!tiles_dir.empty()) {
      http_options.tiles_refused = [&tile_writer] { return tile_writer.refused(); };
    }
    http = std::make_unique<veta::server::HttpServer>(ledger->get(), http_options);
    if (session_minutes == 0 || session_minutes > 24 * 60) {
      return Fail(absl::InvalidArgumentError("--session-minutes wants 1 to 1440 minutes"));
    }
    veta::server::ConnectOptions connect_options;
    connect_options.sessions.session_ttl = absl::Minutes(static_cast<int64_t>(session_minutes));
    connect_api = std::make_unique<veta::server::ConnectApi>(
        ledger->get(), running->server.get(), running->service.get(),
        /*roles=*/!server_options.tls_cert_pem.empty(), connect_options);
    connect_api->AddRoutes(http.get());
    if (absl::Status s = http->Start(); !s.ok()) return Fail(s);
    if (!http_port_file.empty()) {
      auto s = veta::WriteFileAtomic(http_port_file, std::to_string(http->port()) + "\n");
      if (!s.ok()) return Fail(s);
    }
    std::fprintf(stderr, "veta-server: HTTP on %s (port %d)%s\n", http_listen.c_str(), http->port(),
                 tiles_dir.empty() ? "" : ": /checkpoint, /tile/...");
    const std::string http_url =
        veta::StrCat(server_options.tls_cert_pem.empty() ? "http://" : "https://",
                     http_listen.substr(0, http_listen.rfind(':')), ":", http->port(), "/");
    std::fprintf(stderr, "veta-server: JSON API at %sveta.v1.Ledger/<Method>%s%s\n",
                 http_url.c_str(), web_dir.empty() ? "" : "; web app at ",
                 web_dir.empty() ? "" : http_url.c_str());
  }
  if (!port_file.empty()) {
    auto s = veta::WriteFileAtomic(port_file, std::to_string(running->port) + "\n");
    if (!s.ok()) return Fail(s);
  }
  std::fprintf(stderr,
               "veta-server: ledger %s (%s) opened in %lld ms: %llu entries, checkpoint at %llu\n"
               "veta-server: listening on %s (port %d)%s\n",
               data_dir.c_str(), (*ledger)->origin().c_str(), static_cast<long long>(open_ms),
               static_cast<unsigned long long>((*ledger)->size()),
               static_cast<unsigned long long>((*ledger)->LatestCheckpoint().tree_size()),
               listen.c_str(), running->port,
               tls_cert.empty() ? ", loopback without TLS: the local operator may do everything"
                                : ", TLS: roles from client certificates");

  std::unique_ptr<veta::server::WitnessCoordinator> witnessing;
  if (witness_policy) {
    veta::server::WitnessingOptions witness_options;
    witness_options.request_timeout = std::chrono::milliseconds(witness_timeout_ms);
    witness_options.verbose = witness_verbose;
    std::fprintf(stderr, "veta-server: witness policy %s (%s)\n", witness_policy_path.c_str(),
                 witness_policy->Describe().c_str());
    auto started =
        veta::server::WitnessCoordinator::Start(ledger->get(), *witness_policy, witness_options);
    if (!started.ok()) return Fail(started.status());
    witnessing = std::move(*started);
  }

  // Under a witness policy: the tiles publish each newly cosigned checkpoint, and the metrics
  // show the witnesses' lag (how far the newest checkpoint the quorum cosigned is behind the
  // ledger's newest, and how long the last cosigning took).
  std::atomic<bool> stopping{false};
  std::thread witness_lag;
  if (witnessing != nullptr) {
    witness_lag = std::thread([&] {
      uint64_t published = 0;
      while (!stopping.load()) {
        const veta::server::WitnessingStats stats = witnessing->stats();
        if (stats.published_size != published) {
          published = stats.published_size;
          tile_writer.Notify();
        }
        if (metrics != nullptr) {
          const uint64_t latest = (*ledger)->LatestCheckpoint().tree_size();
          metrics->SetWitnessLag("quorum",
                                 latest > stats.published_size ? latest - stats.published_size : 0,
                                 static_cast<double>(stats.last_cosign_ms) / 1000.0);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }

  int signal_number = 0;
  uint64_t backup_attempts = 0;
  while (sigwait(&signals, &signal_number) == 0 && signal_number == SIGUSR1) {
    // Each attempt's result, for `veta-backup live` (deploy/veta-backup.service) to wait on.
    const auto report_backup = [&](const absl::StatusOr<veta::BackupInfo>& result) {
      const std::string tag = veta::StrCat("attempt=", ++backup_attempts, " pid=", getpid());
      const std::string line =
          result.ok() ? veta::StrCat("ok ", result->id, " ", tag, "\n")
                      : veta::StrCat("failed ", tag, ": ", result.status().message(), "\n");
      if (absl::Status s = veta::WriteFileAtomic(veta::LiveBackupStatusPath(data_dir), line, 0600);
          !s.ok()) {
        std::fprintf(stderr, "veta-server: cannot write the backup's result: %s\n",
                     std::string(s.message()).c_str());
      }
    };
    if (rocks == nullptr) {
      std::fprintf(stderr, "veta-server: SIGUSR1 received, but no --backup-dir: no backup\n");
      report_backup(absl::FailedPreconditionError(
          "veta-server runs without --backup-dir: it makes no backups"));
      continue;
    }
    auto made = veta::CreateBackup(*rocks, backup_dir);
    report_backup(made);
    if (metrics != nullptr) metrics->ObserveBackup(made.ok());
    if (made.ok()) {
      std::fprintf(stderr, "veta-server: backup %u made in %s (%llu entries or more)\n", made->id,
                   backup_dir.c_str(), static_cast<unsigned long long>(made->entries_at_least));
    } else {
      std::fprintf(stderr, "veta-server: backup failed: %s\n",
                   std::string(made.status().message()).c_str());
    }
  }
  std::fprintf(stderr, "veta-server: %s received, draining\n",
               signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  if (http) http->Stop();
  running->service->StopWatches();  // watches never end by themselves: Shutdown would wait
  running->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  stopping.store(true);
  if (witness_lag.joinable()) witness_lag.join();
  if (witnessing) witnessing->Stop();
  if (metrics != nullptr) metrics->WatchLedger(nullptr);
  // Publishes the latest checkpoint, and stops before Close releases the store the writer
  // reads; the checkpoint Close signs is published at the next start.
  tile_writer.Notify();
  tile_writer.Stop();
  (*ledger)->Close();
  std::fprintf(stderr, "veta-server: stopped cleanly at %llu entries\n",
               static_cast<unsigned long long>((*ledger)->size()));
  return 0;
}
