#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/server_interceptor.h>

#include "core/base/strings.h"

namespace veta::server {

absl::Status ReadTlsFiles(const std::string& cert_path, const std::string& key_path,
                          ServerOptions* options) {
  for (auto [path, target] : {std::pair{&cert_path, &options->tls_cert_pem},
                              std::pair{&key_path, &options->tls_key_pem}}) {
    if (path->empty()) continue;
    auto file = ReadFile(*path);
    if (!file.ok()) return file.status();
    *target = std::move(*file);
  }
  return absl::OkStatus();
}

bool IsLoopback(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

absl::StatusOr<RunningServer> StartServer(veta::Ledger* ledger, const ServerOptions& options) {
  const bool tls = !options.tls_cert_pem.empty();
  if (!tls && !IsLoopback(options.listen)) {
    return absl::FailedPreconditionError(
        StrCat("refusing to listen on ", options.listen,
               " without TLS: give --tls-cert and --tls-key (or listen on 127.0.0.1)"));
  }
  if (tls != !options.tls_key_pem.empty()) {
    return absl::InvalidArgumentError("TLS needs both a certificate and its private key");
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  RunningServer running;
  running.service = std::make_unique<LedgerService>(ledger, options.limits, /*roles=*/tls);
  if (options.certificate_source) running.service->SetCertificateSource(options.certificate_source);
  grpc::ServerBuilder builder;
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (tls) {
    grpc::SslServerCredentialsOptions ssl(
        // Client certificates are optional and checked against the key ring, not a CA: the
        // registry is the trust anchor (core/read/access.h, core/verify/x509.h).
        GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
    ssl.pem_key_cert_pairs.push_back({options.tls_key_pem, options.tls_cert_pem});
    credentials = grpc::SslServerCredentials(ssl);
  }
  builder.AddListeningPort(options.listen, credentials, &running.port);
  builder.RegisterService(running.service.get());
  builder.SetMaxReceiveMessageSize(options.max_receive_bytes);
  if (options.grpc_memory_max > 0) {
    grpc::ResourceQuota quota("veta-server");
    quota.Resize(options.grpc_memory_max);
    builder.SetResourceQuota(quota);
  }
  if (!options.bdp_probe) builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  if (options.metrics != nullptr) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> timers;
    timers.push_back(options.metrics->NewInterceptorFactory());
    builder.experimental().SetInterceptorCreators(std::move(timers));
  }
  running.server = builder.BuildAndStart();
  if (running.server == nullptr || running.port == 0) {
    return absl::UnavailableError(
        StrCat("cannot listen on ", options.listen, " (is another server using that port?)"));
  }
  running.server->GetHealthCheckService()->SetServingStatus("veta.v1.Ledger", true);
  return running;
}

}  // namespace veta::server
