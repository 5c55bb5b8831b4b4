// The JSON API for browsers on veta-server's HTTP listener: the Connect protocol's unary calls
// (https://connectrpc.com/docs/protocol), generated from the protos. docs/HTTP_API.md is the
// user's guide.
//
//   POST /veta.v1.Ledger/<Method>   every unary method of veta.v1.Ledger, found in its
//                                   descriptor (a new unary rpc is served without a change
//                                   here), run by the real gRPC service over its in-process
//                                   channel: the same authorization, limits and refusal codes.
//   POST /veta.v1.Session/<Method>  sign-in for browsers (server/sessions.h), HTTP only.
//
// Request: Content-Type application/json (protobuf's JSON mapping) or application/proto
// (binary); Content-Encoding identity, gzip or br; Connect-Timeout-Ms honoured up to a bound.
// Answer: 200 with the response in the request's codec (JSON: lowerCamelCase names, every
// primitive field printed, defaults included; int64 as strings, bytes as base64, enums by
// name), or a Connect error: {"code":"permission_denied","message":"..."} with Connect's HTTP
// status for the code. A refused submission's error keeps its "[CODE] ..." message and also
// carries the code as "refusal" in the JSON and as the header Trailer-Veta-Refusal (Connect's
// form of the gRPC trailing metadata veta-refusal).
//
// The caller: `Authorization: Bearer <token>` from Session/SignIn when present (an unknown or
// expired token is `unauthenticated`), else the TLS client certificate's key, else the
// public; without TLS, the local operator (as on gRPC). It reaches the service as
// LedgerService::kHttpCallerMetadata, which only in-process calls can make it trust.
//
// Thread-safety: AddRoutes before the HTTP server starts; handlers run concurrently.
#pragma once

#include <grpcpp/server.h>

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "core/log/ledger.h"
#include "server/http_server.h"
#include "server/ledger_service.h"
#include "server/sessions.h"

namespace veta::server {

struct ConnectOptions {
  SessionOptions sessions;
  // Longest a call runs; a Connect-Timeout-Ms beyond it is clamped to it.
  absl::Duration call_timeout_max = absl::Seconds(60);
};

class ConnectApi {
 public:
  // `server` serves `service`, built over `ledger` (with `roles` as the service's: TLS);
  // all must outlive this object.
  ConnectApi(const veta::Ledger* ledger, grpc::Server* server, const LedgerService* service,
             bool roles, ConnectOptions options);
  ~ConnectApi();

  // Adds the routes above to `http`. Before http->Start().
  void AddRoutes(HttpServer* http);

  Sessions& sessions() { return sessions_; }

  // The handlers (public for tests that skip the network).
  HttpResponse HandleLedger(const HttpRequest& request);
  HttpResponse HandleSession(const HttpRequest& request);

  struct Call;  // who an HTTP caller is, for the service

 private:
  const veta::Ledger* const ledger_;
  const LedgerService* const service_;
  const bool roles_;
  const ConnectOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  Sessions sessions_;
};

}  // namespace veta::server
