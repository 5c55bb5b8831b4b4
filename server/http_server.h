// veta-server's HTTP listener, beside gRPC: the C2SP tlog-tiles files (core/log/tiles.h), the
// JSON API for browsers (routes added by server/connect_api.h) and the web app's static files
// (HttpOptions::web_dir, server/web_files.h).
// This header does not include httplib.h (heavy): routes see HttpRequest and HttpResponse.
//
// Built-in routes, when tiles_dir is set:
//   GET /checkpoint                  text/plain; charset=utf-8, Cache-Control: no-cache
//   GET /tile/<L>/<N>                application/octet-stream, public, immutable (a year)
//   GET /tile/<L>/<N>.p/<W>          application/octet-stream, public, a minute
//   GET /tile/entries/<N>[.p/<W>]    from bundles_dir, only to callers that may read every
//                                    entry (Rpc::kListEntries: regulators, and the local
//                                    operator without TLS); others get 403. Cache-Control:
//                                    private (a shared cache must not hand them to the public).
// A path that is not the spec's, or a file not (yet) written, is 404.
//
// Callers are identified as on the gRPC side: with TLS, by the key of their client
// certificate (requested, not required, and checked against the ledger's key ring, not a CA);
// without TLS (loopback only), every caller is the local operator.
//
// Thread-safety: Route before Start; Start and Stop from one thread. Handlers run on the
// listener's worker threads, concurrently.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "core/log/ledger.h"
#include "core/read/access.h"
#include "server/http_guard.h"

namespace veta::server {

struct HttpOptions {
  // host:port; port 0 picks a free one. Beyond loopback, TLS is required.
  std::string listen;
  // TLS (PEM), the same certificate and key as gRPC's; empty: plain HTTP on loopback.
  std::string tls_cert_pem, tls_key_pem;
  // The tile writer's folders (TileWriterOptions::dir, ::bundles_dir); empty: not served.
  std::string tiles_dir, bundles_dir;
  // When set and not OK (the tile writer refused the folder: TileWriter::refused), the tile
  // routes answer 503 with its message instead of serving a folder the ledger does not back.
  std::function<absl::Status()> tiles_refused;
  // Worker threads (each serves one request at a time; idle connections hold none).
  int threads = 8;
  // Bounds on connections and slow clients (server/http_guard.h); its `threads` is the above.
  HttpLimits limits;
  // Most bytes of a request body.
  size_t request_bytes_max = 1 << 20;
  // The web app's built files (server/web_files.h), served at / for GET paths no other route
  // takes; empty: not served.
  std::string web_dir;
};

struct HttpRequest {
  std::string method, path;
  // Regular-expression groups of the route's pattern (matches[0] is the whole path).
  std::vector<std::string> matches;
  std::multimap<std::string, std::string> headers;  // names as sent
  std::string body;
  Caller caller;  // who is calling (see above)
  // The key id of the TLS client certificate when the key ring knows it; empty otherwise.
  std::string caller_keyid;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::multimap<std::string, std::string> headers;  // Cache-Control and the like
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  // `ledger` identifies callers (its key ring); it must outlive the server.
  HttpServer(veta::Ledger* ledger, HttpOptions options);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Adds a route: `method` ("GET", "POST"), `pattern` an ECMAScript regular expression that
  // must match the whole path. Before Start.
  void Route(std::string method, std::string pattern, HttpHandler handler);

  // Listens (the tile routes added first when tiles_dir is set) and serves on a thread.
  // FailedPrecondition beyond loopback without TLS; Unavailable when the address is taken.
  [[nodiscard]] absl::Status Start();
  int port() const { return port_; }
  // Stops listening and waits for the requests in progress. Idempotent.
  void Stop();

  struct Impl;  // httplib's server, in http_server.cc

 private:
  HttpResponse ServeTile(const HttpRequest& request) const;

  veta::Ledger* const ledger_;
  const HttpOptions options_;
  struct PendingRoute {
    std::string method, pattern;
    HttpHandler handler;
  };
  std::vector<PendingRoute> routes_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace veta::server
