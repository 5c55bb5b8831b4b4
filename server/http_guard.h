// Bounds for Veta's cpp-httplib servers (veta-server's HTTP listener, veta-witness), so that
// clients that open connections and send nothing, or send a request slowly, cannot take every
// worker thread (cpp-httplib 0.11.4 gives each connection a thread for its whole life).
//
// What it does instead: an accepted connection holds no thread until its bytes arrive (one
// poller thread watches every idle connection, closed after `idle_timeout`); a worker serves
// one request at a time, which must arrive whole within `request_timeout` of its first byte,
// then gives the connection back to the poller (keep-alive, at most `keep_alive_requests`).
// The poller also does the TLS handshake and gathers each request (its line and headers, and
// its body when the whole request fits in 64 KiB, as every JSON call does; within
// `request_timeout` of its first byte) before a worker takes it, so a client trickling its
// handshake, its headers or its body holds no thread (a longer body is read by the worker).
// Beyond `connections_max` open connections, or `connections_per_address` from one address,
// a new connection is refused at once (plain HTTP: 503 with Retry-After; TLS: closed).
//
// This header does not include httplib.h (heavy).
#pragma once

#include <openssl/types.h>

#include <chrono>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace veta::server {

struct HttpLimits {
  // Threads serving requests (each one request at a time; idle connections need none).
  int threads = 8;
  // Open connections at most, idle ones included; beyond, new ones are refused.
  int connections_max = 1024;
  // Open connections from one client address at most (0: no such limit).
  int connections_per_address = 64;
  // Loopback clients are not counted per address (a local proxy such as nginx).
  bool loopback_exempt = true;
  // A connection waiting for a request (new, or kept alive) is closed after this.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(5);
  // A request (line, headers and body; the TLS handshake of a new connection) must arrive
  // within this from its first byte, or the connection is closed.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(10);
  // Each write of a response must be taken by the client within this.
  std::chrono::milliseconds write_timeout = std::chrono::seconds(10);
  // Requests on one connection at most (then the response says Connection: close).
  int keep_alive_requests = 100;
};

// A cpp-httplib server with these bounds: add routes, bind and listen_after_bind as usual
// (its new_task_queue is the guard's own: do not replace it). `tls_setup`, when set, makes it
// serve TLS with an SSL_CTX it sets up (false: InvalidArgument); requests then carry
// Request::ssl as httplib::SSLServer's do.
[[nodiscard]] absl::StatusOr<std::unique_ptr<httplib::Server>> NewBoundedHttpServer(
    const HttpLimits& limits, std::function<bool(SSL_CTX&)> tls_setup = nullptr);

}  // namespace veta::server
