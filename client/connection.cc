#include "client/connection.h"

#include <cstdlib>

#include "client/config.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/verify/keys.h"

namespace veta::client {
namespace {

// The setting's value (environment, config file) when `*value` is empty.
void DefaultFromSetting(std::string_view key, std::string* value) {
  if (value->empty()) *value = SettingOrExit(key);
}

absl::StatusOr<std::string> ReadPem(std::string_view flag, const std::string& path) {
  auto pem = ReadFile(path);
  if (!pem.ok()) {
    return absl::Status(pem.status().code(), StrCat("--", flag, ": ", pem.status().message()));
  }
  return pem;
}

}  // namespace

void AddConnectionFlags(Flags& flags, ConnectionOptions* options) {
  // Flag > environment > config file > default: what is in *options already stays.
  if (options->server.empty() || options->server == kDefaultServer) {
    options->server = SettingOrExit("server");
  }
  DefaultFromSetting("tls_ca", &options->ca_file);
  DefaultFromSetting("tls_cert", &options->cert_file);
  DefaultFromSetting("tls_key", &options->key_file);
  flags.String("server", &options->server,
               "Server address (host:port). Environment: VETA_SERVER; config: server.");
  flags.String("tls-ca", &options->ca_file,
               "Use TLS, trusting this certificate (PEM: the server's or its CA's); without it, "
               "plaintext (loopback only). Environment: VETA_TLS_CA; config: tls_ca.");
  flags.String("tls-cert", &options->cert_file,
               "Present this client certificate (PEM, with --tls-key): the server knows the "
               "caller by its key. Environment: VETA_TLS_CERT; config: tls_cert.");
  flags.String(
      "tls-key", &options->key_file,
      "The client certificate's private key (PEM). Environment: VETA_TLS_KEY; config: tls_key.");
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(
    const ConnectionOptions& options) {
  const bool has_cert = !options.cert_file.empty(), has_key = !options.key_file.empty();
  if (has_cert != has_key) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key (VETA_TLS_CERT, VETA_TLS_KEY) go together");
  }
  if (options.ca_file.empty()) {
    if (has_cert) {
      return absl::InvalidArgumentError(
          "a client certificate needs TLS: give --tls-ca (VETA_TLS_CA), the server's "
          "certificate or its CA");
    }
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;
  ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem("tls-ca", options.ca_file));
  if (has_cert) {
    ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadPem("tls-cert", options.cert_file));
    ASSIGN_OR_RETURN(ssl.pem_private_key, ReadPem("tls-key", options.key_file));
  }
  return grpc::SslCredentials(ssl);
}

std::shared_ptr<grpc::Channel> OpenChannel(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    grpc::ChannelArguments args, std::chrono::milliseconds connect_wait) {
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  auto channel = grpc::CreateCustomChannel(target, credentials, args);
  // Not connected by then: the caller's RPC reports the server unreachable.
  channel->WaitForConnected(std::chrono::system_clock::now() + connect_wait);
  return channel;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const ConnectionOptions& options,
                                                           grpc::ChannelArguments args) {
  ASSIGN_OR_RETURN(auto credentials, Credentials(options));
  return OpenChannel(options.server, credentials, std::move(args));
}

absl::StatusOr<std::unique_ptr<veta::v1::Ledger::Stub>> Connect(const ConnectionOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  ASSIGN_OR_RETURN(auto channel, OpenChannel(options, std::move(args)));
  return veta::v1::Ledger::NewStub(channel);
}

absl::Status FromGrpc(const grpc::Status& s, std::string_view server) {
  if (s.ok()) return absl::OkStatus();
  // gRPC's own UNAVAILABLE (no connection) has no message of ours; the server's carry one.
  const bool unreachable = s.error_message().find("connect") != std::string::npos ||
                           s.error_message().find("DNS") != std::string::npos ||
                           s.error_message().find("Socket") != std::string::npos;
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE && unreachable) {
    return absl::UnavailableError(StrCat("cannot reach the server at ", server, ": ",
                                         s.error_message(), " (is veta-server running?)"));
  }
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

}  // namespace veta::client
