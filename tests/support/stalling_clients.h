// Clients that try to stall an HTTP server (server/http_guard.h's tests): connections that
// send nothing, and connections that send a request's headers (or its body) a few bytes at a
// time and never finish them. Loopback only; everything is closed when the object goes.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace veta::testing {

class StallingClients {
 public:
  explicit StallingClients(int port) : port_(port) {}
  ~StallingClients() {
    stop_ = true;
    for (std::thread& t : tricklers_) t.join();
    for (int fd : fds_) close(fd);
  }

  // A connection to 127.0.0.1:port that sends nothing; -1 if it cannot connect.
  int Idle() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd);
      return -1;
    }
    fds_.push_back(fd);
    return fd;
  }

  // A connection that starts a request and then sends one more header line every 100 ms,
  // never ending the headers, until the server closes it or the object goes. With `then`, it
  // sends that every 100 ms instead (a byte of a body whose head `first` announced).
  void Slow(const std::string& first = "GET / HTTP/1.1\r\n",
            const std::string& then = "X-Slow: a\r\n") {
    const int fd = Idle();
    if (fd < 0) return;
    ++trickling_;
    tricklers_.emplace_back([this, fd, first, then] {
      std::string bytes = first;
      while (!stop_) {
        if (send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) <= 0) {  // cut: done
          --trickling_;
          return;
        }
        bytes = then;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
  }

  // The slow connections still sending (not cut by the server).
  int Trickling() const { return trickling_; }

  // Closes one of the connections made (an idle one: a trickling one closes itself).
  void Close(int fd) {
    for (auto it = fds_.begin(); it != fds_.end(); ++it) {
      if (*it == fd) {
        close(fd);
        fds_.erase(it);
        return;
      }
    }
  }

  // What a connection receives until the server closes it (or `max` bytes).
  static std::string ReadAll(int fd, size_t max = 4096) {
    std::string out;
    char buf[512];
    while (out.size() < max) {
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  const int port_;
  std::atomic<bool> stop_{false};
  std::atomic<int> trickling_{0};
  std::vector<int> fds_;
  std::vector<std::thread> tricklers_;
};

}  // namespace veta::testing
