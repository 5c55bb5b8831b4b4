// veta-follower: replicates a primary's log into its own RocksDB, re-judging every entry
// through the same rules (core/log/follower.h), and serves the read RPCs from its own state.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "client/connection.h"
#include "core/base/flags.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/log/follower.h"
#include "core/verify/keys.h"
#include "core/verify/note.h"
#include "server/follower_source.h"
#include "server/metrics.h"
#include "server/server.h"

namespace {

constexpr int kExitDiverged = 2;

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "veta-follower: %s\n", std::string(s.message()).c_str());
  return 1;
}

// The checkpoints' verifier key from the authority's public key (PEM): its name is the
// primary's origin, which its checkpoint's first line gives.
absl::StatusOr<std::string> VerifierFromAuthority(const std::string& pem_path,
                                                  veta::PrimarySource& source) {
  ASSIGN_OR_RETURN(std::string pem, veta::ReadFile(pem_path));
  ASSIGN_OR_RETURN(veta::PublicKey key, veta::PublicKey::FromPem(pem));
  ASSIGN_OR_RETURN(std::string note_text, source.LatestCheckpointNote());
  const std::string origin = note_text.substr(0, note_text.find('\n'));
  return veta::note::VerifierKey(origin, key);
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);  // as veta-server
  std::string data_dir, listen = "127.0.0.1:0", port_file, status_file;
  std::string verifier_key, authority_pem, tls_cert, tls_key, metrics_listen, metrics_port_file;
  veta::client::ConnectionOptions primary;
  primary.server.clear();
  uint64_t page_entries = 1000, poll_ms = 200, status_interval_ms = 10000;
  bool once = false;
  veta::Flags flags(
      "veta-follower --primary HOST:PORT --data-dir DIR [options]",
      "Replicates a Veta primary's log into DIR (created if absent) and re-judges it: every\n"
      "checkpoint's signature, its consistency with the last one accepted, every entry's chain,\n"
      "signatures and bytes, the Merkle root, and the rules (the same ApplyEntry as the\n"
      "primary's sequencer, at each entry's own time). Serves the read RPCs of veta.v1.Ledger\n"
      "from its own state, with the same roles; writes are refused (FAILED_PRECONDITION naming\n"
      "the primary). It resumes from DIR after any stop. If the primary's log is not what the\n"
      "rules and hashes make, it stops, names the entry and the reason, and exits 2.\n"
      "Over TLS the primary lists entries to regulators only: present a regulator's client\n"
      "certificate (--primary-tls-cert/--primary-tls-key).");
  flags.String("primary", &primary.server, "The primary's address (host:port).");
  flags.String("primary-tls-ca", &primary.ca_file,
               "Reach the primary over TLS, trusting this certificate (PEM).");
  flags.String("primary-tls-cert", &primary.cert_file,
               "Client certificate presented to the primary (PEM; a regulator's key).");
  flags.String("primary-tls-key", &primary.key_file, "Its private key (PEM).");
  flags.String("data-dir", &data_dir, "The follower's folder (its own RocksDB).");
  flags.String("verifier-key", &verifier_key,
               "The checkpoints' signed-note verifier key (name+hash+base64). Without it or "
               "--authority, the primary's genesis is trusted on first use and pinned.");
  flags.String("authority", &authority_pem,
               "The authority's Ed25519 public key (PEM), instead of --verifier-key.");
  flags.String("listen", &listen, "Address to serve reads on; port 0 picks a free port.");
  flags.String("port-file", &port_file, "Write the port actually bound to this file.");
  flags.String("tls-cert", &tls_cert, "Serve TLS with this certificate (PEM): roles apply.");
  flags.String("tls-key", &tls_key, "The serving certificate's private key (PEM).");
  flags.String("metrics-listen", &metrics_listen,
               "Serve Prometheus metrics at http://ADDR/metrics (host:port; port 0 picks one; "
               "empty: none): the follower's lag (veta_follower_lag_entries, "
               "veta_follower_lag_seconds), its log and checkpoint, its RPCs. Plain HTTP: keep "
               "it on loopback or a private network.");
  flags.String("metrics-port-file", &metrics_port_file,
               "Write the metrics port actually bound to this file.");
  flags.Uint("page-entries", &page_entries, "Entries asked of the primary per page.");
  flags.Uint("poll-ms", &poll_ms, "Wait between rounds once caught up.");
  flags.String("status-file", &status_file,
               "Rewrite this file with the status line (entries, lag) every status interval.");
  flags.Uint("status-interval-ms", &status_interval_ms,
             "Print the status line to stderr (and the status file) this often (0: never).");
  flags.Bool("once", &once,
             "Catch up with the primary's latest checkpoint, print the status line and exit "
             "(no serving).");
  if (absl::Status s = flags.Parse(argc, argv); !s.ok()) return Fail(s);
  if (flags.help_requested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return 0;
  }
  if (!flags.positional().empty()) {
    return Fail(absl::InvalidArgumentError("unexpected argument " + flags.positional()[0]));
  }
  if (primary.server.empty() || data_dir.empty()) {
    return Fail(absl::InvalidArgumentError("give --primary and --data-dir (see --help)"));
  }
  if (page_entries == 0 || page_entries > 100000) {
    return Fail(absl::InvalidArgumentError("--page-entries must be 1 to 100000"));
  }
  if (!verifier_key.empty() && !authority_pem.empty()) {
    return Fail(absl::InvalidArgumentError("give --verifier-key or --authority, not both"));
  }
  if (tls_cert.empty() && !once && !veta::server::IsLoopback(listen)) {
    return Fail(absl::FailedPreconditionError(veta::StrCat(
        "refusing to listen on ", listen, " without TLS: give --tls-cert and --tls-key")));
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (!std::filesystem::exists(veta::DatabasePath(data_dir))) {
    if (absl::Status s = veta::Ledger::CreateReplica(data_dir); !s.ok()) return Fail(s);
  }
  veta::LedgerOptions options;
  options.data_dir = data_dir;
  options.primary = primary.server;
  const auto open_start = std::chrono::steady_clock::now();
  auto replica = veta::Ledger::OpenReplica(options);
  if (!replica.ok()) return Fail(replica.status());
  const auto open_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - open_start)
                           .count();

  auto stub = veta::client::Connect(primary);
  if (!stub.ok()) return Fail(stub.status());
  veta::server::GrpcPrimarySource source(std::move(*stub), primary.server);
  if (!authority_pem.empty()) {
    auto key = VerifierFromAuthority(authority_pem, source);
    if (!key.ok()) return Fail(key.status());
    verifier_key = std::move(*key);
  }
  veta::FollowerOptions follower_options;
  follower_options.verifier_key = verifier_key;
  follower_options.page_entries_max = static_cast<uint32_t>(page_entries);
  follower_options.poll_interval = std::chrono::milliseconds(poll_ms);
  veta::Follower follower(replica->get(), &source, follower_options);
  std::fprintf(stderr, "veta-follower: %s opened in %lld ms: %llu entries; following %s\n",
               data_dir.c_str(), static_cast<long long>(open_ms),
               static_cast<unsigned long long>((*replica)->size()), primary.server.c_str());

  if (once) {
    const auto start = std::chrono::steady_clock::now();
    const uint64_t before = (*replica)->size();
    absl::Status s = follower.SyncOnce();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const uint64_t applied = (*replica)->size() - before;
    std::fprintf(stderr, "veta-follower: %s; %llu entries applied in %.2f s (%.0f/s)\n",
                 follower.StatusLine().c_str(), static_cast<unsigned long long>(applied), seconds,
                 seconds > 0 ? static_cast<double>(applied) / seconds : 0.0);
    if (!s.ok()) {
      Fail(s);
      return follower.diverged() ? kExitDiverged : 1;
    }
    (*replica)->Close();
    return 0;
  }

  veta::server::ServerOptions server_options;
  server_options.listen = listen;
  server_options.certificate_source = [&source](const std::string& lot_id,
                                                veta::server::CertificateDone done) {
    source.Certificate(lot_id, std::move(done));
  };
  std::shared_ptr<veta::server::Metrics> metrics;
  if (!metrics_listen.empty()) {
    metrics = std::make_shared<veta::server::Metrics>();
    if (absl::Status s =
            metrics->ServeFor(replica->get(), metrics_listen, metrics_port_file, "veta-follower");
        !s.ok()) {
      return Fail(s);
    }
    server_options.metrics = metrics;
  }
  if (absl::Status s = veta::server::ReadTlsFiles(tls_cert, tls_key, &server_options); !s.ok()) {
    return Fail(s);
  }
  auto running = veta::server::StartServer(replica->get(), server_options);
  if (!running.ok()) return Fail(running.status());
  if (!port_file.empty()) {
    if (auto s = veta::WriteFileAtomic(port_file, std::to_string(running->port) + "\n"); !s.ok()) {
      return Fail(s);
    }
  }
  std::fprintf(stderr, "veta-follower: serving reads on %s (port %d)\n", listen.c_str(),
               running->port);

  absl::Status result;
  std::atomic<bool> done{false};
  std::thread runner([&] {
    result = follower.Run();
    done.store(true);
    kill(getpid(), SIGTERM);  // wakes the main thread's sigwait
  });
  absl::Mutex status_mu;
  bool status_stop = false;
  std::thread lag_reporter([&] {  // the lag, as the metrics show it, every second
    if (metrics == nullptr) return;
    absl::MutexLock lock(&status_mu);
    do {
      metrics->SetFollowerLag(follower.LagEntries(), follower.LagSeconds());
    } while (!status_mu.AwaitWithTimeout(absl::Condition(&status_stop), absl::Seconds(1)));
  });
  std::thread reporter([&] {
    if (status_interval_ms == 0) return;
    absl::MutexLock lock(&status_mu);
    while (
        !status_mu.AwaitWithTimeout(absl::Condition(&status_stop),
                                    absl::Milliseconds(static_cast<int64_t>(status_interval_ms)))) {
      const std::string line = follower.StatusLine();
      std::fprintf(stderr, "veta-follower: %s\n", line.c_str());
      if (!status_file.empty()) (void)veta::WriteFileAtomic(status_file, line + "\n");
    }
  });

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  follower.Stop();
  runner.join();
  {
    absl::MutexLock lock(&status_mu);
    status_stop = true;
  }
  reporter.join();
  lag_reporter.join();
  running->service->StopWatches();  // watches never end by themselves: Shutdown would wait
  running->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  const std::string line = follower.StatusLine();
  if (!status_file.empty()) (void)veta::WriteFileAtomic(status_file, line + "\n");
  if (metrics != nullptr) metrics->WatchLedger(nullptr);
  (*replica)->Close();
  if (follower.diverged()) {
    const veta::Divergence d = follower.divergence();
    std::fprintf(
        stderr, "veta-follower: STOPPED at entry %llu%s%s: %s\n",
        static_cast<unsigned long long>(d.sequence),
        d.refusal != veta::v1::REFUSAL_UNSPECIFIED ? " refusal " : "",
        d.refusal != veta::v1::REFUSAL_UNSPECIFIED ? veta::v1::Refusal_Name(d.refusal).c_str() : "",
        d.message.c_str());
    return kExitDiverged;
  }
  if (!done.load() || result.ok()) {
    std::fprintf(stderr, "veta-follower: stopped cleanly: %s\n", line.c_str());
    return 0;
  }
  return Fail(result);
}
