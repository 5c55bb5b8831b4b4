// Assembles the gRPC server around an open ledger: the Ledger service, the standard health
// service (grpc.health.v1) and server reflection.
#pragma once

#include <grpcpp/server.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "client/address.h"
#include "core/log/ledger.h"
#include "server/ledger_service.h"
#include "server/metrics.h"

namespace veta::server {

struct ServerOptions {
  // host:port; port 0 picks a free one.
  std::string listen = kDefaultServer;
  ServiceLimits limits;
  // gRPC's own bound on one message (a SubmitBatch of many envelopes, or one large one).
  int max_receive_bytes = 4 * 1024 * 1024;
  // gRPC's own memory (its transport buffers: messages received and not yet read, or
  // written and not yet sent, within HTTP/2 flow-control windows), as a gRPC ResourceQuota:
  // under pressure gRPC shrinks its windows and, near the bound, refuses new calls. 0: none.
  size_t grpc_memory_max = 128 << 20;
  // HTTP/2 BDP probing lets gRPC widen each stream's window to its estimate of the link's
  // bandwidth-delay product (megabytes on a fast link), all of which a caller that does not
  // read can leave in the server's buffers. Off, a stream's window stays at HTTP/2's 64 KiB:
  // what one stream can park in the server is bounded, at the cost of throughput on long,
  // fast links.
  bool bdp_probe = false;
  // TLS (PEM). With TLS, callers are identified by their client certificate's key and the
  // role matrix of core/read/access.h applies; without it, only loopback is served, and the local
  // operator may do everything.
  std::string tls_cert_pem, tls_key_pem;
  // When set, every RPC is timed into it (veta_rpc_duration_seconds); it must outlive the
  // server.
  std::shared_ptr<Metrics> metrics;
  // A follower: where GetCertificate is relayed (the primary), after the follower's own role
  // and holder checks. Unset: certificates are issued by this server's ledger.
  CertificateSource certificate_source;
};

struct RunningServer {
  std::unique_ptr<LedgerService> service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

// Reads the PEM files named by --tls-cert and --tls-key (either may be empty: none) into
// options.tls_cert_pem / tls_key_pem.
[[nodiscard]] absl::Status ReadTlsFiles(const std::string& cert_path, const std::string& key_path,
                                        ServerOptions* options);

// True for 127.0.0.0/8, ::1 and localhost.
bool IsLoopback(const std::string& listen);

// Starts serving. Refuses a non-loopback address without TLS: the registry never listens
// unencrypted on a network.
absl::StatusOr<RunningServer> StartServer(veta::Ledger* ledger, const ServerOptions& options);

}  // namespace veta::server
