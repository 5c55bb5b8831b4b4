// veta_client: how the CLI and every tool reach a veta server. One set of flags (--server,
// --tls-ca, --tls-cert, --tls-key, with the VETA_TLS_* variables as their defaults), one way
// to build the channel's credentials (plaintext, TLS, or mutual TLS), and one way to open the
// channel. Functions here keep no state and may be called from any thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "client/address.h"
#include "core/base/flags.h"
#include "veta/v1/service.grpc.pb.h"

namespace veta::client {

struct ConnectionOptions {
  // host:port.
  std::string server = kDefaultServer;
  // TLS when ca_file names the server's certificate or its CA (PEM); plaintext without it
  // (a server serves plaintext on loopback only). With cert_file and key_file (PEM, both or
  // neither) the client presents a certificate: the server knows the caller by its key.
  std::string ca_file, cert_file, key_file;
};

// Registers --server, --tls-ca, --tls-cert and --tls-key on `flags`, bound to *options. TLS
// files left empty in *options are first taken from $VETA_TLS_CA, $VETA_TLS_CERT and
// $VETA_TLS_KEY; the values then in *options are the defaults --help shows.
void AddConnectionFlags(Flags& flags, ConnectionOptions* options);

// The channel credentials the options ask for. InvalidArgument when a certificate comes
// without its key (or the other way round) or without --tls-ca; the file's error when one
// cannot be read.
[[nodiscard]] absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(
    const ConnectionOptions& options);

// Creates the channel with a short reconnect backoff and waits up to `connect_wait` for it to
// connect. Why: Debian's gRPC 1.51 reads connect()'s errno late (fixed upstream in
// grpc/grpc#35064), and any call in between that sets errno (absl probing a /sys file the first
// time a lock is contended) makes a connection in progress look failed ("No such file or
// directory"); a single fail-fast RPC then fails although the server is up. A second attempt
// 100 ms later succeeds. A server that is really down still gets its RPCs refused after the
// wait, with gRPC's UNAVAILABLE.
std::shared_ptr<grpc::Channel> OpenChannel(
    const std::string& target, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    grpc::ChannelArguments args = {},
    std::chrono::milliseconds connect_wait = std::chrono::seconds(3));

// OpenChannel to options.server with Credentials(options). An error only when the credentials
// cannot be made: an unreachable server is reported by the first RPC.
[[nodiscard]] absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(
    const ConnectionOptions& options, grpc::ChannelArguments args = {});

// A Ledger stub on OpenChannel(options), receiving messages up to 64 MiB (a page of entries,
// an EPCIS document).
[[nodiscard]] absl::StatusOr<std::unique_ptr<veta::v1::Ledger::Stub>> Connect(
    const ConnectionOptions& options);

// A gRPC status as an absl::Status; UNAVAILABLE says which server could not be reached.
[[nodiscard]] absl::Status FromGrpc(const grpc::Status& s, std::string_view server);

}  // namespace veta::client
