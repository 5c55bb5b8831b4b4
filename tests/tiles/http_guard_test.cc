// The bounds of the HTTP listeners (server/http_guard.h) on real servers on loopback ports:
// connections that send nothing, and requests that never finish, do not keep a real request
// from its answer (more of them than worker threads; over plain HTTP and TLS); connections
// beyond the bounds are refused with 503 at once, in total and per address.
#include "server/http_guard.h"

#include <httplib.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <thread>

#include "core/verify/x509.h"
#include "gtest/gtest.h"
#include "server/http_server.h"
#include "tests/core/registry_fixture.h"
#include "tests/support/stalling_clients.h"

namespace veta::server {
namespace {

using testing::StallingClients;
using testing::TempDir;

class HttpGuardTest : public testing::RegistryFixture {
 protected:
  // An HTTP listener with two worker threads, a short request time and `limits`.
  void Start(HttpLimits limits, bool tls = false,
             std::chrono::milliseconds request_timeout = std::chrono::milliseconds(500)) {
    HttpOptions http;
    http.listen = "127.0.0.1:0";
    http.threads = 2;
    limits.request_timeout = request_timeout;
    http.limits = limits;
    if (tls) {
      const PrivateKey key = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
      http.tls_cert_pem = *SelfSignedCertificate(key, "veta-test", {"localhost", "127.0.0.1"});
      http.tls_key_pem = key.ToPem();
      ASSERT_TRUE(WriteFileAtomic(files_.Sub("server.crt"), http.tls_cert_pem).ok());
    }
    server_ = std::make_unique<HttpServer>(ledger_.get(), http);
    server_->Route("GET", "/ping", [](const HttpRequest&) {
      HttpResponse out;
      out.body = "pong";
      return out;
    });
    server_->Route("POST", "/echo", [](const HttpRequest& request) {
      HttpResponse out;
      out.body = request.body;
      return out;
    });
    ASSERT_TRUE(server_->Start().ok());
  }

  void TearDown() override {
    server_.reset();
    ledger_->Close();
  }

  // A real request, with generous time: true when it is answered 200.
  bool Ping(bool tls = false) {
    const auto answered = [](const httplib::Result& res) {
      return res && res->status == 200 && res->body == "pong";
    };
    if (tls) {
      httplib::SSLClient client("127.0.0.1", server_->port());
      client.set_ca_cert_path(files_.Sub("server.crt").c_str());
      client.enable_server_certificate_verification(true);
      client.set_read_timeout(60);
      return answered(client.Get("/ping"));
    }
    httplib::Client client("127.0.0.1", server_->port());
    client.set_read_timeout(60);
    return answered(client.Get("/ping"));
  }

  TempDir files_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpGuardTest, IdleAndSlowConnectionsDoNotStallARealRequest) {
  Start({});
  StallingClients stalling(server_->port());
  for (int i = 0; i < 8; ++i) ASSERT_GE(stalling.Idle(), 0);            // 4x the worker threads
  for (int i = 0; i < 3; ++i) stalling.Slow("GET /ping HTTP/1.1\r\n");  // more than the workers
  EXPECT_TRUE(Ping());
  EXPECT_TRUE(Ping());  // and again, while they go on
}

// Plain HTTP: request heads that arrive a line at a time and never end hold no worker thread
// while they trickle (the poller gathers them), even with a long request time: a real request
// is answered while all of them, three times the workers, are still being sent.
TEST_F(HttpGuardTest, TricklingRequestHeadsHoldNoWorker) {
  Start(HttpLimits{}, /*tls=*/false, std::chrono::minutes(10));
  if (HasFatalFailure()) return;
  StallingClients stalling(server_->port());
  for (int i = 0; i < 6; ++i) stalling.Slow("GET /ping HTTP/1.1\r\n");
  // Let every trickler be readable first, so that without the poller's gathering they take
  // the workers before the real request comes.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(Ping());
  EXPECT_EQ(stalling.Trickling(), 6) << "answered only once the slow ones were cut";
  // A request whose head arrives whole is served, also when pipelined after another.
  httplib::Client client("127.0.0.1", server_->port());
  auto r = client.Get("/ping");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "pong");
}

// Request bodies that trickle hold no worker thread either (the poller gathers a request
// whose whole fits in 64 KiB): of a stated length, chunked, or up to the connection's end; a
// body of the same kind that arrives whole is served.
TEST_F(HttpGuardTest, TricklingRequestBodiesHoldNoWorker) {
  Start(HttpLimits{}, /*tls=*/false, std::chrono::minutes(10));
  if (HasFatalFailure()) return;
  StallingClients stalling(server_->port());
  for (int i = 0; i < 3; ++i) {
    stalling.Slow("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 30000\r\n\r\n", "a");
    stalling.Slow(
        "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n",
        "1\r\na\r\n");
    stalling.Slow("PUT /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "a");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // see TricklingRequestHeads...
  EXPECT_TRUE(Ping());
  EXPECT_EQ(stalling.Trickling(), 9) << "answered only once the slow ones were cut";
  httplib::Client client("127.0.0.1", server_->port());
  auto r = client.Post("/echo", std::string(20000, 'b'), "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, std::string(20000, 'b'));
  // Over the gathered size, a body is read by a worker as before.
  r = client.Post("/echo", std::string(100000, 'c'), "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, std::string(100000, 'c'));
}

// Sends `request` on a new loopback connection and returns what comes back until the server
// closes it (or 30 s pass). `then` is sent after the server's first answer (a 100 Continue)
// when `after_answer`, else 200 ms later; `end_writes` shuts the sending side at the end.
std::string Exchange(int port, const std::string& request, const std::string& then = "",
                     bool after_answer = false, bool end_writes = false) {
  StallingClients clients(port);
  const int fd = clients.Idle();
  if (fd < 0) return "(no connection)";
  timeval wait{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  std::string out;
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0) return "(not sent)";
  if (!then.empty()) {
    if (after_answer) {
      char buf[256];
      while (out.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return out;
        out.append(buf, static_cast<size_t>(n));
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (send(fd, then.data(), then.size(), MSG_NOSIGNAL) < 0) return out + "(not sent)";
  }
  if (end_writes) shutdown(fd, SHUT_WR);
  return out + StallingClients::ReadAll(fd);
}

// What the poller gathers, a worker serves as httplib reads it: no request whose bytes have all
// come waits for the (10-minute) request time. Chunked bodies ending in "00" or with an
// extension, a GET whose Content-Length httplib ignores, "Expect: 100-continue", a body up to
// the connection's end, a DELETE without one, and a second request pipelined behind a first
// whose body is still coming.
TEST_F(HttpGuardTest, GatheredRequestsAreServedAsHttplibReadsThem) {
  Start(HttpLimits{}, /*tls=*/false, std::chrono::minutes(10));
  if (HasFatalFailure()) return;
  const int port = server_->port();
  const std::string post = "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  const auto body_of = [](const std::string& response) {
    const size_t at = response.rfind("\r\n\r\n");
    return at == std::string::npos ? "(no response: " + response + ")" : response.substr(at + 4);
  };
  const std::string chunked = post + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n";
  EXPECT_EQ(body_of(Exchange(port, chunked + "00\r\n\r\n")), "abc");
  EXPECT_EQ(body_of(Exchange(port, chunked + "0 ;x=1\r\n\r\n")), "abc");
  EXPECT_EQ(body_of(Exchange(port, chunked, "0\r\n\r\n")), "abc");
  EXPECT_EQ(body_of(Exchange(port,
                             "GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                             "Content-Length: 10\r\n\r\n")),
            "pong");
  const std::string continued =
      Exchange(port, post + "Expect: 100-continue\r\nContent-Length: 3\r\n\r\n", "xyz",
               /*after_answer=*/true);
  EXPECT_EQ(continued.rfind("HTTP/1.1 100 Continue\r\n", 0), 0u) << continued;
  EXPECT_EQ(body_of(continued), "xyz");
  EXPECT_EQ(body_of(Exchange(port, post + "\r\nto the end", "", false, /*end_writes=*/true)),
            "to the end");
  EXPECT_EQ(Exchange(port, "DELETE /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .rfind("HTTP/1.1 404", 0),
            0u);
  const std::string pipelined =
      Exchange(port,
               "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nabc" + post +
                   "Content-Length: 3\r\n\r\nde",
               "f");
  EXPECT_NE(pipelined.find("\r\n\r\nabcHTTP/1.1 200"), std::string::npos) << pipelined;
  EXPECT_EQ(body_of(pipelined), "def");
}

// TLS: handshakes that arrive a few bytes at a time hold no worker thread either (the poller
// drives them), even with a long request time.
TEST_F(HttpGuardTest, TricklingTlsHandshakesHoldNoWorker) {
  Start(HttpLimits{}, /*tls=*/true, std::chrono::minutes(10));
  if (HasFatalFailure()) return;
  StallingClients stalling(server_->port());
  // A handshake record of 16 KiB, its bytes trickled in for minutes.
  for (int i = 0; i < 6; ++i) stalling.Slow(std::string("\x16\x03\x01\x40\x00", 5));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // see TricklingRequestHeads...
  EXPECT_TRUE(Ping(/*tls=*/true));
  EXPECT_EQ(stalling.Trickling(), 6) << "answered only once the slow ones were cut";
  EXPECT_TRUE(Ping(/*tls=*/true));
}

TEST_F(HttpGuardTest, IdleAndSlowConnectionsDoNotStallARealRequestOverTls) {
  Start({}, /*tls=*/true);
  StallingClients stalling(server_->port());
  for (int i = 0; i < 24; ++i) ASSERT_GE(stalling.Idle(), 0);  // no TLS handshake either
  for (int i = 0; i < 3; ++i)
    stalling.Slow(std::string("\x16\x03\x01\x02\x00", 5));  // a ClientHello, slowly
  EXPECT_TRUE(Ping(/*tls=*/true));
  EXPECT_TRUE(Ping(/*tls=*/true));
}

TEST_F(HttpGuardTest, ConnectionsBeyondTheBoundAreRefusedAtOnce) {
  HttpLimits limits;
  limits.connections_max = 3;
  Start(limits);
  StallingClients stalling(server_->port());
  std::vector<int> idle;
  for (int i = 0; i < 3; ++i) idle.push_back(stalling.Idle());
  const int refused = stalling.Idle();
  ASSERT_GE(refused, 0);
  const std::string answer = StallingClients::ReadAll(refused);
  EXPECT_EQ(answer.rfind("HTTP/1.1 503 ", 0), 0u) << answer;
  EXPECT_NE(answer.find("Retry-After: 1"), std::string::npos) << answer;
  // One gone, a request gets through again (once the server has seen it go).
  stalling.Close(idle[0]);
  while (!Ping()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

TEST_F(HttpGuardTest, ConnectionsPerAddressAreBounded) {
  HttpLimits limits;
  limits.connections_per_address = 2;
  limits.loopback_exempt = false;  // the test's clients are all on loopback
  Start(limits);
  StallingClients stalling(server_->port());
  const int first = stalling.Idle();
  stalling.Idle();
  const int refused = stalling.Idle();
  const std::string answer = StallingClients::ReadAll(refused);
  EXPECT_EQ(answer.rfind("HTTP/1.1 503 ", 0), 0u) << answer;
  stalling.Close(first);
  while (!Ping()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

TEST_F(HttpGuardTest, LoopbackIsExemptFromThePerAddressBoundByDefault) {
  HttpLimits limits;
  limits.connections_per_address = 2;
  Start(limits);
  StallingClients stalling(server_->port());
  for (int i = 0; i < 4; ++i) ASSERT_GE(stalling.Idle(), 0);
  EXPECT_TRUE(Ping());
}

}  // namespace
}  // namespace veta::server
