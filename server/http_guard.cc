#include "server/http_guard.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"

namespace veta::server {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 16 * 1024;
constexpr char kRefusal[] =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Length: 48\r\n"
    "Retry-After: 1\r\n"
    "Connection: close\r\n"
    "\r\n"
    "too many open connections: retry in a moment\r\n\r\n";

// An accepted connection, owned by the poller (idle) or by one worker (serving).
struct Connection {
  int fd = -1;
  SSL* ssl = nullptr;
  bool handshaken = false;
  bool started = false;  // TLS: the handshake's first bytes have come (its time runs)
  std::string address;   // the client's IP address
  bool counted = false;  // in the per-address count
  int requests = 0;
  Clock::time_point idle_deadline;
  std::string buffer;  // bytes read and not consumed yet
  size_t consumed = 0;
};

int MillisLeft(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, INT_MAX));
}

// Waits until `fd` is ready for `events`; false when the deadline passes first.
bool WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, MillisLeft(deadline));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

void AddressOf(int fd, bool local, std::string* ip, int* port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ip->clear();
  *port = 0;
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  if ((local ? getsockname(fd, sa, &len) : getpeername(fd, sa, &len)) != 0) return;
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    *port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* in = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in->sin6_addr, text, sizeof text);
    *port = ntohs(in->sin6_port);
  }
  *ip = text;
}

bool IsLoopbackAddress(const std::string& ip) {
  return ip.rfind("127.", 0) == 0 || ip == "::1" || ip.rfind("::ffff:127.", 0) == 0;
}

// Most bytes of a request the poller gathers before handing the connection to a worker: its
// head, and its body when the whole request fits (Veta's JSON calls and a witness's
// add-checkpoint do, by far). A longer head goes to a worker anyway (httplib refuses it); a
// longer body is read by the worker. Bounds the poller's memory: this much per connection.
constexpr size_t kGatherBytesMax = 64 * 1024;

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The value of the first header `name` (any case) in a request head, trimmed; none if absent.
std::optional<std::string_view> HeaderValue(std::string_view head, std::string_view name) {
  size_t line = head.find("\r\n");  // past the request line
  while (line != std::string_view::npos && line + 2 < head.size()) {
    const size_t start = line + 2;
    line = head.find("\r\n", start);
    const std::string_view text =
        head.substr(start, (line == std::string_view::npos ? head.size() : line) - start);
    const size_t colon = text.find(':');
    if (colon == std::string_view::npos || !EqualsIgnoringCase(text.substr(0, colon), name)) {
      continue;
    }
    std::string_view value = text.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    return value;
  }
  return std::nullopt;
}

// Whether the unread part of `c`'s buffer holds a whole request head (line and headers).
bool HasRequestHead(const Connection& c) {
  return c.buffer.find("\r\n\r\n", c.consumed) != std::string::npos;
}

// Whether `buffer` holds the end of a chunked body that starts at `body`: its last chunk (a
// size of one or more "0", maybe with extensions) and the empty line after its trailers.
bool HasLastChunk(const std::string& buffer, size_t body) {
  for (size_t at = body - 2; (at = buffer.find("\r\n0", at)) != std::string::npos; at += 2) {
    size_t i = at + 2;
    while (i < buffer.size() && buffer[i] == '0') ++i;
    while (i < buffer.size() && (buffer[i] == ' ' || buffer[i] == '\t')) ++i;
    if (i >= buffer.size() || (buffer[i] != '\r' && buffer[i] != ';')) continue;
    return buffer.find("\r\n\r\n", i) != std::string::npos;
  }
  return false;
}

// Whether a worker may take connection `c` now without waiting on its client: the unread part
// of its buffer holds a whole request head and, when the head announces a body that fits in
// kGatherBytesMax, the whole body too. As httplib reads them: a body only for POST, PUT,
// PATCH, PRI and DELETE; chunked, or of its Content-Length, or else (not DELETE) up to the end
// of the connection. A head that asks for "100-continue" goes at once (its client waits for the
// answer before sending its body), and so does one with a body too long to gather, or a length
// or coding httplib refuses.
bool HasWholeRequest(const Connection& c) {
  const size_t end = c.buffer.find("\r\n\r\n", c.consumed);
  if (end == std::string::npos) return false;
  const size_t body = end + 4;
  const std::string_view head(c.buffer.data() + c.consumed, body - c.consumed);
  const std::string_view method = head.substr(0, head.find(' '));
  const bool may_have_body = method == "POST" || method == "PUT" || method == "PATCH" ||
                             method == "PRI" || method == "DELETE";
  if (!may_have_body) return true;
  if (const auto expect = HeaderValue(head, "Expect");
      expect.has_value() && EqualsIgnoringCase(*expect, "100-continue")) {
    return true;
  }
  if (head.size() >= kGatherBytesMax) return true;
  if (const auto coding = HeaderValue(head, "Transfer-Encoding")) {
    if (!EqualsIgnoringCase(*coding, "chunked")) return true;
    return HasLastChunk(c.buffer, body) || c.buffer.size() - c.consumed >= kGatherBytesMax;
  }
  const auto length = HeaderValue(head, "Content-Length");
  // No length: httplib reads a body up to the end of the connection (GatherRequest hands the
  // connection over when it ends), except for DELETE.
  if (!length.has_value()) return method == "DELETE";
  uint64_t bytes = 0;
  if (!absl::SimpleAtoi(absl::string_view(length->data(), length->size()), &bytes)) return true;
  return c.buffer.size() - body >= bytes || bytes > kGatherBytesMax - head.size();
}

// One request's reads and writes on a connection: reads end at the request's deadline, each
// write at its own.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(Connection* c, Clock::time_point read_deadline,
                   std::chrono::milliseconds write_timeout)
      : c_(c), read_deadline_(read_deadline), write_timeout_(write_timeout) {}

  bool is_readable() const override {
    return c_->consumed < c_->buffer.size() || WaitFor(c_->fd, POLLIN, read_deadline_);
  }
  bool is_writable() const override {
    return WaitFor(c_->fd, POLLOUT, Clock::now() + write_timeout_);
  }

  ssize_t read(char* ptr, size_t size) override {
    if (c_->consumed >= c_->buffer.size()) {
      const ssize_t n = Fill();
      if (n <= 0) return n;
    }
    const size_t n = std::min(size, c_->buffer.size() - c_->consumed);
    std::copy_n(c_->buffer.data() + c_->consumed, n, ptr);
    c_->consumed += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    const Clock::time_point deadline = Clock::now() + write_timeout_;
    size_t done = 0;
    while (done < size) {
      const size_t chunk = std::min<size_t>(size - done, INT_MAX);
      if (c_->ssl != nullptr) {
        ERR_clear_error();
        const int r = SSL_write(c_->ssl, ptr + done, static_cast<int>(chunk));
        if (r > 0) {
          done += static_cast<size_t>(r);
          continue;
        }
        const int e = SSL_get_error(c_->ssl, r);
        if ((e == SSL_ERROR_WANT_WRITE && WaitFor(c_->fd, POLLOUT, deadline)) ||
            (e == SSL_ERROR_WANT_READ && WaitFor(c_->fd, POLLIN, deadline))) {
          continue;
        }
        return -1;
      }
      const ssize_t r = send(c_->fd, ptr + done, chunk, MSG_NOSIGNAL);
      if (r > 0) {
        done += static_cast<size_t>(r);
      } else if (r < 0 && errno == EINTR) {
        continue;
      } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
                 WaitFor(c_->fd, POLLOUT, deadline)) {
        continue;
      } else {
        return -1;
      }
    }
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    AddressOf(c_->fd, false, &ip, &port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    AddressOf(c_->fd, true, &ip, &port);
  }
  socket_t socket() const override { return c_->fd; }

 private:
  // Reads what has arrived into the buffer: bytes read, 0 at the end, -1 on an error or when
  // the request's deadline passes.
  ssize_t Fill() {
    c_->buffer.resize(kReadChunk);
    c_->consumed = 0;
    for (;;) {
      if (c_->ssl != nullptr) {
        ERR_clear_error();
        const int r = SSL_read(c_->ssl, c_->buffer.data(), static_cast<int>(kReadChunk));
        if (r > 0) {
          c_->buffer.resize(static_cast<size_t>(r));
          return r;
        }
        const int e = SSL_get_error(c_->ssl, r);
        if (e == SSL_ERROR_ZERO_RETURN) {
          c_->buffer.clear();
          return 0;
        }
        if ((e == SSL_ERROR_WANT_READ && WaitFor(c_->fd, POLLIN, read_deadline_)) ||
            (e == SSL_ERROR_WANT_WRITE && WaitFor(c_->fd, POLLOUT, read_deadline_))) {
          continue;
        }
        break;
      }
      const ssize_t r = recv(c_->fd, c_->buffer.data(), kReadChunk, 0);
      if (r > 0) {
        c_->buffer.resize(static_cast<size_t>(r));
        return r;
      }
      if (r == 0) {
        c_->buffer.clear();
        return 0;
      }
      if (errno == EINTR) continue;
      if ((errno == EAGAIN || errno == EWOULDBLOCK) && WaitFor(c_->fd, POLLIN, read_deadline_)) {
        continue;
      }
      break;
    }
    c_->buffer.clear();
    return -1;
  }

  Connection* const c_;
  const Clock::time_point read_deadline_;
  const std::chrono::milliseconds write_timeout_;
};

// httplib's server with its connections handled here: httplib accepts, parses requests and
// routes them; the guard decides which connection gets a thread, and for how long.
class BoundedServer final : public httplib::Server {
 public:
  BoundedServer(const HttpLimits& limits, SSL_CTX* ctx) : limits_(limits), ctx_(ctx) {
    new_task_queue = [this] { return new Queue(this); };
    set_keep_alive_max_count(static_cast<size_t>(std::max(1, limits_.keep_alive_requests)));
    set_keep_alive_timeout(std::max<time_t>(
        1, std::chrono::duration_cast<std::chrono::seconds>(limits_.idle_timeout).count()));
  }
  ~BoundedServer() override {
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  }

 private:
  // httplib's listening loop hands every accepted socket to its task queue: this one admits
  // it on the spot (on the accepting thread), and its shutdown ends the guard's threads.
  class Queue final : public httplib::TaskQueue {
   public:
    explicit Queue(BoundedServer* server) : server_(server) { server_->StartThreads(); }
    void enqueue(std::function<void()> fn) override { fn(); }  // process_and_close_socket
    void shutdown() override { server_->StopThreads(); }

   private:
    BoundedServer* const server_;
  };

  // Called by the queue's enqueue on httplib's accepting thread: admits or refuses `sock`.
  bool process_and_close_socket(socket_t sock) override {
    Admit(sock);
    return true;
  }

  void StartThreads() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = false;
    }
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    poller_ = std::thread([this] { PollLoop(); });
    for (int i = 0; i < std::max(1, limits_.threads); ++i) {
      workers_.emplace_back([this] { WorkLoop(); });
    }
  }

  void StopThreads() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    Wake();
    if (poller_.joinable()) poller_.join();
    for (std::thread& t : workers_) t.join();  // each ends its request (bounded by timeouts)
    workers_.clear();
    if (wake_fd_ >= 0) close(wake_fd_);
    wake_fd_ = -1;
  }

  void Wake() const {
    const uint64_t one = 1;
    if (wake_fd_ >= 0) {
      [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
    }
  }

  void Admit(int fd) ABSL_LOCKS_EXCLUDED(mu_) {
    const int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
      close(fd);
      return;
    }
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    int port = 0;
    AddressOf(fd, false, &c->address, &port);
    c->counted = limits_.connections_per_address > 0 &&
                 !(limits_.loopback_exempt && IsLoopbackAddress(c->address));
    bool admitted = false;
    {
      absl::MutexLock lock(&mu_);
      auto it = per_address_.find(c->address);
      const int from_address = it == per_address_.end() ? 0 : it->second;
      admitted = !stopping_ && open_ < static_cast<size_t>(std::max(1, limits_.connections_max)) &&
                 !(c->counted && from_address >= limits_.connections_per_address);
      if (admitted) {
        ++open_;
        if (c->counted) ++per_address_[c->address];
      }
    }
    if (!admitted) {
      if (ctx_ == nullptr) {
        [[maybe_unused]] const ssize_t n =
            send(fd, kRefusal, sizeof kRefusal - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
      }
      close(fd);
      return;
    }
    if (ctx_ != nullptr) {
      c->ssl = SSL_new(ctx_);
      if (c->ssl == nullptr || SSL_set_fd(c->ssl, fd) != 1) {
        Close(c.release());
        return;
      }
    }
    ToIdle(c.release());
  }

  // The connection waits, without a thread, for its next request.
  void ToIdle(Connection* c) ABSL_LOCKS_EXCLUDED(mu_) {
    if (c->consumed >= c->buffer.size()) {  // an idle connection keeps no buffer
      std::string().swap(c->buffer);
      c->consumed = 0;
    }
    // Waiting for a request; the rest of one begun within the request's time.
    c->idle_deadline = Clock::now() + (c->consumed < c->buffer.size() ? limits_.request_timeout
                                                                      : limits_.idle_timeout);
    {
      absl::MutexLock lock(&mu_);
      if (!stopping_) {
        idle_.push_back(c);
        c = nullptr;
      }
    }
    if (c != nullptr) return Close(c);  // the poller is gone
    Wake();
  }

  void Close(Connection* c) ABSL_LOCKS_EXCLUDED(mu_) {
    if (c->ssl != nullptr) {
      if (c->handshaken) SSL_shutdown(c->ssl);  // one try: the socket does not block
      SSL_free(c->ssl);
    }
    close(c->fd);
    {
      absl::MutexLock lock(&mu_);
      --open_;
      if (c->counted) {
        auto it = per_address_.find(c->address);
        if (it != per_address_.end() && --it->second <= 0) per_address_.erase(it);
      }
    }
    delete c;
  }

  // Reads what has arrived on connection `c` (not blocking) into its buffer: over TLS, the
  // handshake's next step first, then the decrypted bytes. True when it goes to a worker: a
  // whole request is there (HasWholeRequest), kGatherBytesMax of one, or the connection ended
  // or failed (the worker serves what is whole and closes it). The first byte of a request (or of
  // the handshake) starts its request_timeout.
  bool GatherRequest(Connection* c, Clock::time_point now) {
    if (c->consumed > 0) {
      c->buffer.erase(0, c->consumed);
      c->consumed = 0;
    }
    const bool handshaking = c->ssl != nullptr && !c->handshaken;
    const bool started = !c->buffer.empty() || (handshaking && c->started);
    if (handshaking) c->started = true;
    if (!started) c->idle_deadline = now + limits_.request_timeout;
    if (c->ssl != nullptr && !c->handshaken) {
      ERR_clear_error();
      const int r = SSL_accept(c->ssl);
      if (r != 1) {
        // Waiting for the client's next handshake bytes: no thread meanwhile. Anything else
        // (an error, or a write that would block) goes to a worker, which finishes or fails.
        return SSL_get_error(c->ssl, r) != SSL_ERROR_WANT_READ;
      }
      c->handshaken = true;
    }
    char chunk[4096];
    for (;;) {
      ssize_t r = 0;
      if (c->ssl != nullptr) {
        ERR_clear_error();
        const int n = SSL_read(c->ssl, chunk, static_cast<int>(sizeof chunk));
        if (n <= 0) {
          if (SSL_get_error(c->ssl, n) == SSL_ERROR_WANT_READ) break;
          return true;  // the end, or an error: the worker finds out
        }
        r = n;
      } else {
        r = recv(c->fd, chunk, sizeof chunk, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (r <= 0) return true;  // the end, or an error: the worker finds out
      }
      c->buffer.append(chunk, static_cast<size_t>(r));
      if (c->buffer.size() >= kGatherBytesMax) return true;
    }
    return HasWholeRequest(*c);
  }

  // Watches the idle connections: a readable one goes to the workers, an expired one is closed.
  void PollLoop() ABSL_LOCKS_EXCLUDED(mu_) {
    std::vector<pollfd> fds;
    std::vector<Connection*> watched, ready, expired;
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) {
          expired.clear();
          expired.swap(idle_);
          ready.assign(ready_.begin(), ready_.end());
          ready_.clear();
          break;
        }
        watched = idle_;
      }
      fds.assign(1, pollfd{wake_fd_, POLLIN, 0});
      Clock::time_point next = Clock::now() + std::chrono::hours(1);
      for (Connection* c : watched) {
        fds.push_back(pollfd{c->fd, POLLIN, 0});
        next = std::min(next, c->idle_deadline);
      }
      const int n = poll(fds.data(), fds.size(), MillisLeft(next));
      if (n < 0 && errno != EINTR) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      uint64_t drained = 0;
      [[maybe_unused]] const ssize_t r = ::read(wake_fd_, &drained, sizeof drained);
      const Clock::time_point now = Clock::now();
      ready.clear();
      expired.clear();
      for (size_t i = 0; i < watched.size(); ++i) {
        Connection* c = watched[i];
        if (n > 0 && fds[i + 1].revents != 0) {
          // The request (and the TLS handshake) is gathered here, without a thread, so that a
          // client sending its head or its body a byte at a time holds no worker.
          if (GatherRequest(c, now)) {
            ready.push_back(c);
          } else if (c->idle_deadline <= now) {
            expired.push_back(c);
          }
        } else if (c->idle_deadline <= now) {
          expired.push_back(c);
        }
      }
      if (!ready.empty() || !expired.empty()) {
        absl::MutexLock lock(&mu_);
        idle_.erase(
            std::remove_if(idle_.begin(), idle_.end(),
                           [&](Connection* c) {
                             return std::find(ready.begin(), ready.end(), c) != ready.end() ||
                                    std::find(expired.begin(), expired.end(), c) != expired.end();
                           }),
            idle_.end());
        ready_.insert(ready_.end(), ready.begin(), ready.end());
      }
      for (Connection* c : expired) Close(c);
    }
    // Stopping: nothing waiting is served.
    for (Connection* c : expired) Close(c);
    for (Connection* c : ready) Close(c);
  }

  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !ready_.empty(); }

  void WorkLoop() ABSL_LOCKS_EXCLUDED(mu_) {
    for (;;) {
      Connection* c = nullptr;
      {
        absl::MutexLock lock(&mu_, absl::Condition(this, &BoundedServer::HasWork));
        if (ready_.empty()) return;  // stopping
        c = ready_.front();
        ready_.pop_front();
      }
      Serve(c);
    }
  }

  bool Handshake(Connection* c, Clock::time_point deadline) {
    for (;;) {
      ERR_clear_error();
      const int r = SSL_accept(c->ssl);
      if (r == 1) return true;
      const int e = SSL_get_error(c->ssl, r);
      if ((e == SSL_ERROR_WANT_READ && WaitFor(c->fd, POLLIN, deadline)) ||
          (e == SSL_ERROR_WANT_WRITE && WaitFor(c->fd, POLLOUT, deadline))) {
        continue;
      }
      return false;
    }
  }

  // Serves the requests that have arrived on `c`, then gives it back to the poller.
  void Serve(Connection* c) ABSL_LOCKS_EXCLUDED(mu_) {
    for (bool first = true;; first = false) {
      Clock::time_point deadline = Clock::now() + limits_.request_timeout;
      // A request begun in the poller has what is left of its time from its first byte.
      if (first && c->consumed < c->buffer.size()) deadline = std::min(deadline, c->idle_deadline);
      if (c->ssl != nullptr && !c->handshaken) {
        if (!Handshake(c, deadline)) return Close(c);
        c->handshaken = true;
      }
      bool stopping = false;
      {
        absl::MutexLock lock(&mu_);
        stopping = stopping_;
      }
      ConnectionStream stream(c, deadline, limits_.write_timeout);
      const bool close_connection = stopping || c->requests + 1 >= limits_.keep_alive_requests;
      bool connection_closed = false;
      const bool ok = process_request(stream, close_connection, connection_closed,
                                      [c](httplib::Request& req) { req.ssl = c->ssl; });
      ++c->requests;
      if (!ok || connection_closed || close_connection) return Close(c);
      if (HasWholeRequest(*c)) continue;  // the next request has arrived already
      if (c->ssl != nullptr && SSL_pending(c->ssl) > 0) {
        // Decrypted bytes the poller would not be woken for: gather them now (not blocking).
        if (GatherRequest(c, Clock::now())) {
          if (HasRequestHead(*c)) continue;
          return Close(c);  // ended, failed or too long before a whole head
        }
      }
      return ToIdle(c);
    }
  }

  const HttpLimits limits_;
  SSL_CTX* const ctx_;  // owned; null for plain HTTP
  int wake_fd_ = -1;    // an eventfd: wakes the poller
  std::thread poller_;
  std::vector<std::thread> workers_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Connection*> idle_ ABSL_GUARDED_BY(mu_);  // watched by the poller
  std::deque<Connection*> ready_ ABSL_GUARDED_BY(mu_);  // readable, waiting for a worker
  size_t open_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> per_address_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<httplib::Server>> NewBoundedHttpServer(
    const HttpLimits& limits, std::function<bool(SSL_CTX&)> tls_setup) {
  SSL_CTX* ctx = nullptr;
  if (tls_setup) {
    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx != nullptr) SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION);
    if (ctx == nullptr || !tls_setup(*ctx)) {
      if (ctx != nullptr) SSL_CTX_free(ctx);
      return absl::InvalidArgumentError(
          "the TLS certificate or key cannot be loaded (PEM certificate and its key)");
    }
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  }
  return std::unique_ptr<httplib::Server>(new BoundedServer(limits, ctx));
}

}  // namespace veta::server
