#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "core/strings.h"

namespace veta::server {

bool IsLoopback(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

absl::StatusOr<RunningServer> StartServer(veta::Ledger* ledger, const ServerOptions& options) {
  if (!IsLoopback(options.listen)) {
    return absl::FailedPreconditionError(
        StrCat("refusing to listen on ", options.listen,
               " without TLS; listen on 127.0.0.1 and put a TLS-terminating proxy in front"));
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  RunningServer running;
  running.service = std::make_unique<LedgerService>(ledger, options.limits);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &running.port);
  builder.RegisterService(running.service.get());
  builder.SetMaxReceiveMessageSize(options.max_receive_bytes);
  running.server = builder.BuildAndStart();
  if (running.server == nullptr || running.port == 0) {
    return absl::UnavailableError(
        StrCat("cannot listen on ", options.listen, " (is another server using that port?)"));
  }
  running.server->GetHealthCheckService()->SetServingStatus("veta.v1.Ledger", true);
  return running;
}

}  // namespace veta::server
