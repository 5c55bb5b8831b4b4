#include "server/http_server.h"

#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>

#include "core/base/strings.h"
#include "core/log/tiles.h"
#include "core/verify/keys.h"
#include "core/verify/x509.h"
#include "server/server.h"
#include "server/web_files.h"

namespace veta::server {

struct HttpServer::Impl {
  std::unique_ptr<httplib::Server> server;
  bool tls = false;
  std::atomic<bool> finished{false};  // listen_after_bind returned
};

namespace {

// The largest file served: a full entry bundle of 256 entries of 65,535 bytes and their lengths.
constexpr size_t kFileBytesMax = tiles::kTileWidth * (tiles::kEntryBytesMax + 2);

constexpr char kCheckpointType[] = "text/plain; charset=utf-8";
constexpr char kTileType[] = "application/octet-stream";

// Without TLS the listener is bound to loopback and every caller is the local operator. A
// request must then name a loopback host too: otherwise a web page of any site the operator's
// browser opens, its name re-pointed at 127.0.0.1 (DNS rebinding), would be "same origin" and
// read the whole ledger through the JSON API as the operator. No Host (HTTP/1.0): no browser.
bool IsLoopbackHost(std::string_view host) {
  if (host.empty()) return true;
  if (host.front() == '[') return host.substr(0, 5) == "[::1]";
  std::string name(host.substr(0, host.find(':')));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name == "localhost") return true;
  if (name.rfind("127.", 0) != 0) return false;
  return name.find_first_not_of("0123456789.") == std::string::npos;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

// Loads the PEM certificate (and any chain after it) and key into the context; requests a
// client certificate without checking it against a CA (the key ring decides who it is).
bool SetUpTls(SSL_CTX& ctx, const std::string& cert_pem, const std::string& key_pem) {
  std::unique_ptr<BIO, BioFree> cert_bio(
      BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  std::unique_ptr<X509, X509Free> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr || SSL_CTX_use_certificate(&ctx, cert.get()) != 1) return false;
  while (X509* extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add_extra_chain_cert(&ctx, extra) != 1) {  // takes ownership on success
      X509_free(extra);
      return false;
    }
  }
  std::unique_ptr<BIO, BioFree> key_bio(
      BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr || SSL_CTX_use_PrivateKey(&ctx, key.get()) != 1 ||
      SSL_CTX_check_private_key(&ctx) != 1) {
    return false;
  }
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  static constexpr unsigned char kSessionContext[] = "veta-http";
  SSL_CTX_set_session_id_context(&ctx, kSessionContext, sizeof(kSessionContext) - 1);
  return true;
}

// The PEM of the client certificate of a TLS connection; empty when it presented none.
std::string PeerCertificatePem(const SSL* ssl) {
  if (ssl == nullptr) return "";
  std::unique_ptr<X509, X509Free> cert(SSL_get1_peer_certificate(ssl));
  if (cert == nullptr) return "";
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(bio.get(), cert.get()) != 1) return "";
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : "";
}

HttpResponse Text(int status, std::string message) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(message) + "\n";
  r.headers.emplace("Cache-Control", "no-store");
  return r;
}

}  // namespace

HttpServer::HttpServer(veta::Ledger* ledger, HttpOptions options)
    : ledger_(ledger), options_(std::move(options)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(std::string method, std::string pattern, HttpHandler handler) {
  routes_.push_back({std::move(method), std::move(pattern), std::move(handler)});
}

absl::Status HttpServer::Start() {
  const bool tls = !options_.tls_cert_pem.empty();
  if (!tls && !IsLoopback(options_.listen)) {
    return absl::FailedPreconditionError(
        StrCat("refusing to serve HTTP on ", options_.listen,
               " without TLS: give --tls-cert and --tls-key (or listen on 127.0.0.1)"));
  }
  if (tls != !options_.tls_key_pem.empty()) {
    return absl::InvalidArgumentError("TLS needs both a certificate and its private key");
  }
  const size_t colon = options_.listen.rfind(':');
  uint64_t port = 0;
  if (colon == std::string::npos ||
      !ParseU64(std::string_view(options_.listen).substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError(
        StrCat("--http-listen wants host:port, not \"", options_.listen, "\""));
  }
  std::string host = options_.listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }

  impl_ = std::make_unique<Impl>();
  impl_->tls = tls;
  // Idle or slow clients cannot hold the worker threads (server/http_guard.h).
  HttpLimits limits = options_.limits;
  limits.threads = std::max(1, options_.threads);
  std::function<bool(SSL_CTX&)> tls_setup;
  if (tls) {
    tls_setup = [cert = options_.tls_cert_pem, key = options_.tls_key_pem](SSL_CTX& ctx) {
      return SetUpTls(ctx, cert, key);
    };
  }
  auto bounded = NewBoundedHttpServer(limits, std::move(tls_setup));
  if (!bounded.ok()) {
    impl_.reset();
    return absl::InvalidArgumentError(
        "the TLS certificate or key for HTTP cannot be loaded (PEM certificate and its key)");
  }
  impl_->server = std::move(*bounded);
  httplib::Server& server = *impl_->server;
  server.set_payload_max_length(options_.request_bytes_max);

  std::vector<PendingRoute> routes;
  if (!options_.tiles_dir.empty()) {
    auto tiles = [this](const HttpRequest& r) { return ServeTile(r); };
    routes.push_back({"GET", "/checkpoint", tiles});
    routes.push_back({"GET", "/tile/.+", tiles});
  }
  routes.insert(routes.end(), routes_.begin(), routes_.end());
  if (!options_.web_dir.empty()) {  // last: every GET path the routes above do not take
    routes.push_back({"GET", "/.*", [dir = options_.web_dir](const HttpRequest& r) {
                        return ServeWebFile(dir, r.path);
                      }});
  }
  // httplib inflates a gzip or br body as it reads it, and bounds only the bytes on the wire
  // (set_payload_max_length): 600 KB of gzip inflated to 2.5 GB in memory. So every method
  // that takes a body (POST, PUT, PATCH, DELETE) reads it here, on every path (one no route
  // takes too): kept up to request_bytes_max inflated bytes (beyond: 413), read on and dropped
  // up to kDrainFactor times that, so that the answer reaches the client, and past that the
  // connection is closed. Any other method with a compressed body is refused before reading.
  server.set_pre_routing_handler([tls](const httplib::Request& req, httplib::Response& res) {
    if (!tls && !IsLoopbackHost(req.get_header_value("Host"))) {
      res.status = 421;  // Misdirected Request
      res.set_header("Connection", "close");
      res.set_content(
          "this listener has no TLS: it answers only requests for 127.0.0.1 or "
          "localhost\n",
          kCheckpointType);
      return httplib::Server::HandlerResponse::Handled;
    }
    const std::string encoding = req.get_header_value("Content-Encoding");
    const std::string& m = req.method;
    if (encoding.empty() || encoding == "identity" || m == "GET" || m == "HEAD" || m == "POST" ||
        m == "PUT" || m == "PATCH" || m == "DELETE") {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    res.status = 415;
    res.set_header("Connection", "close");
    res.set_content("a compressed body (Content-Encoding) is not taken by " + m + "\n",
                    kCheckpointType);
    return httplib::Server::HandlerResponse::Handled;
  });
  const size_t body_max = options_.request_bytes_max;
  // The body into `body` (nullptr: dropped); false with the answer set when it is refused.
  const auto read_body = [body_max](const httplib::Request& req, httplib::Response& res,
                                    const httplib::ContentReader& reader, std::string* body) {
    constexpr size_t kDrainFactor = 64;
    if (req.is_multipart_form_data()) {
      res.status = 415;
      res.set_header("Connection", "close");
      res.set_content("multipart bodies are not taken here\n", kCheckpointType);
      return false;
    }
    size_t inflated = 0;
    bool too_big = false;
    const bool ok = reader([&](const char* data, size_t n) {
      inflated += n;
      if (inflated > body_max) {
        too_big = true;
        if (body != nullptr) body->clear();
        return inflated <= body_max * kDrainFactor;
      }
      if (body != nullptr) body->append(data, n);
      return true;
    });
    if (ok && !too_big) return true;
    res.status = too_big || res.status == 413 ? 413 : 400;
    if (!ok) res.set_header("Connection", "close");
    res.set_content(res.status == 413 ? StrCat("the request body is larger than ", body_max,
                                               " bytes (once decompressed)\n")
                                      : std::string("the request body cannot be read\n"),
                    kCheckpointType);
    return false;
  };
  using ContentHandler = httplib::Server::HandlerWithContentReader;
  for (PendingRoute& route : routes) {
    auto serve = [this, handler = std::move(route.handler)](
                     const httplib::Request& req, httplib::Response& res, std::string body) {
      HttpRequest r;
      r.method = req.method;
      r.path = req.path;
      for (const auto& m : req.matches) r.matches.push_back(m.str());
      for (const auto& [name, value] : req.headers) r.headers.emplace(name, value);
      r.body = std::move(body);
      if (impl_->tls) {
        const std::string pem = PeerCertificatePem(req.ssl);
        auto key = pem.empty() ? absl::StatusOr<PublicKey>(absl::NotFoundError("none"))
                               : CertificatePublicKey(pem);
        if (key.ok()) {
          auto info = ledger_->keys().Find(key->keyid());
          r.caller = CallerForKey(info.get(), ledger_->store(), ledger_->size());
          if (info != nullptr) r.caller_keyid = key->keyid();
        }
      } else {
        r.caller = Caller{Role::kOperator, ""};
      }
      HttpResponse out = handler(r);
      res.status = out.status;
      for (const auto& [name, value] : out.headers) res.set_header(name, value);
      res.set_content(std::move(out.body), out.content_type);
    };
    httplib::Server::Handler h = [serve](const httplib::Request& req, httplib::Response& res) {
      serve(req, res, req.body);
    };
    ContentHandler with_body = [serve, read_body](const httplib::Request& req,
                                                  httplib::Response& res,
                                                  const httplib::ContentReader& reader) {
      std::string body;
      if (read_body(req, res, reader, &body)) serve(req, res, std::move(body));
    };
    if (route.method == "GET") {
      server.Get(route.pattern, h);
    } else if (route.method == "POST") {
      server.Post(route.pattern, with_body);
    } else if (route.method == "PUT") {
      server.Put(route.pattern, with_body);
    } else if (route.method == "PATCH") {
      server.Patch(route.pattern, with_body);
    } else if (route.method == "DELETE") {
      server.Delete(route.pattern, with_body);
      server.Delete(route.pattern, h);  // without Content-Length, httplib reads no body
    } else if (route.method == "OPTIONS") {
      server.Options(route.pattern, h);
    } else {
      impl_.reset();
      return absl::InvalidArgumentError(StrCat("no HTTP method ", route.method));
    }
  }
  // Last: a body no route takes is read (bounded as above) and dropped, then refused.
  ContentHandler no_route = [read_body](const httplib::Request& req, httplib::Response& res,
                                        const httplib::ContentReader& reader) {
    if (!read_body(req, res, reader, nullptr)) return;
    res.status = 404;
    res.set_content("not found\n", kCheckpointType);
  };
  server.Post(".*", no_route);
  server.Put(".*", no_route);
  server.Patch(".*", no_route);
  server.Delete(".*", no_route);
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty() && res.status == 404) res.set_content("not found\n", kCheckpointType);
  });

  port_ = port == 0
              ? server.bind_to_any_port(host)
              : (server.bind_to_port(host, static_cast<int>(port)) ? static_cast<int>(port) : -1);
  if (port_ <= 0) {
    impl_.reset();
    port_ = 0;
    return absl::UnavailableError(
        StrCat("cannot listen for HTTP on ", options_.listen, " (is another server using it?)"));
  }
  Impl* impl = impl_.get();
  thread_ = std::thread([impl] {
    impl->server->listen_after_bind();
    impl->finished = true;
  });
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (impl_ == nullptr) return;
  // httplib's stop() does nothing until the listening loop runs: wait for it to start.
  while (!impl_->server->is_running() && !impl_->finished) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->server->stop();
  if (thread_.joinable()) thread_.join();
  impl_.reset();
}

HttpResponse HttpServer::ServeTile(const HttpRequest& request) const {
  if (options_.tiles_refused) {
    if (absl::Status refused = options_.tiles_refused(); !refused.ok()) {
      return Text(503, StrCat("the tiles are not published: ", refused.message()));
    }
  }
  std::string file;
  HttpResponse r;
  if (request.path == "/checkpoint") {
    file = options_.tiles_dir + "/checkpoint";
    r.content_type = kCheckpointType;
    r.headers.emplace("Cache-Control", "no-cache");
  } else {
    auto tile = tiles::ParseTilePath(std::string_view(request.path).substr(1));
    if (!tile.ok()) return Text(404, std::string(tile.status().message()));
    r.content_type = kTileType;
    if (tile->entries) {
      if (!MayCall(request.caller.role, Rpc::kListEntries)) {
        return Text(403,
                    "entry bundles carry every entry, transactions included, and only a role "
                    "that may read every entry (a regulator's client certificate) may fetch "
                    "them; hash tiles and checkpoints are public");
      }
      if (options_.bundles_dir.empty()) return Text(404, "this server publishes no entry bundles");
      file = StrCat(options_.bundles_dir, "/", tiles::TilePath(*tile));
      r.headers.emplace("Cache-Control", tile->full() ? "private, max-age=31536000, immutable"
                                                      : "private, max-age=60");
    } else {
      file = StrCat(options_.tiles_dir, "/", tiles::TilePath(*tile));
      r.headers.emplace("Cache-Control", tile->full() ? "public, max-age=31536000, immutable"
                                                      : "public, max-age=60");
    }
  }
  auto bytes = ReadFile(file, kFileBytesMax);
  if (absl::IsNotFound(bytes.status())) return Text(404, "not found");
  if (!bytes.ok()) return Text(500, std::string(bytes.status().message()));
  r.body = std::move(*bytes);
  return r;
}

}  // namespace veta::server
