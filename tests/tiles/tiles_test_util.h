// Helpers of the tiles tests: a free loopback port, a real nginx serving folders (started and
// stopped by the test, by its pid), and running a program for its exit code and output.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/base/strings.h"
#include "core/verify/keys.h"
#include "gtest/gtest.h"

namespace veta::testing {

// A port free on 127.0.0.1 now (the kernel's pick; a race with other processes is unlikely).
inline int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

inline bool Connects(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

inline std::string ShellQuote(std::string_view arg) {
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

inline RunResult RunProgram(const std::vector<std::string>& argv) {
  std::string command;
  for (const auto& a : argv) command += ShellQuote(a) + " ";
  command += "2>&1";
  RunResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  if (status != -1 && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

// nginx (non-root paths: pid, logs and temporary files in `dir`) serving each (port, root)
// pair as a static site, as deploy/nginx-tiles.conf does: checkpoint as text/plain, tiles as
// application/octet-stream with the same Cache-Control and the same location patterns.
class Nginx {
 public:
  Nginx(const std::string& binary, const std::string& dir,
        const std::vector<std::pair<int, std::string>>& sites) {
    std::string servers;
    for (const auto& [port, root] : sites) {
      servers += StrCat(R"(
    server {
      listen 127.0.0.1:)",
                        port, R"(;
      root )",
                        root, R"(;
      location = /checkpoint {
        default_type "text/plain; charset=utf-8";
        add_header Cache-Control "no-cache" always;
      }
      location ~ "^/tile/([0-9]+|entries)/(x[0-9]{3}/)*[0-9]{3}\.p/[0-9]+$" {
        default_type application/octet-stream;
        add_header Cache-Control "public, max-age=60" always;
      }
      location ~ "^/tile/([0-9]+|entries)/(x[0-9]{3}/)*[0-9]{3}$" {
        default_type application/octet-stream;
        add_header Cache-Control "public, max-age=31536000, immutable" always;
      }
      location / {
        return 404;
      }
    })");
    }
    // `user root root` only matters when the test runs as root (workers would otherwise become
    // nobody, who cannot enter the 0700 temporary folder); others ignore it with a notice.
    const std::string conf = StrCat(R"(
worker_processes 1;
user root root;
pid )",
                                    dir, R"(/nginx.pid;
error_log )",
                                    dir, R"(/error.log;
events { worker_connections 64; }
http {
  access_log off;
  types { }
  client_body_temp_path )",
                                    dir, R"(/client;
  proxy_temp_path )",
                                    dir, R"(/proxy;
  fastcgi_temp_path )",
                                    dir, R"(/fastcgi;
  uwsgi_temp_path )",
                                    dir, R"(/uwsgi;
  scgi_temp_path )",
                                    dir, R"(/scgi;
)",
                                    servers, "\n}\n");
    EXPECT_TRUE(WriteFileAtomic(dir + "/nginx.conf", conf).ok());
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string conf_path = dir + "/nginx.conf";
      ::execl(binary.c_str(), binary.c_str(), "-p", dir.c_str(), "-c", conf_path.c_str(), "-g",
              "daemon off;", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Until every port answers, or nginx has exited (bounded: no time is asserted).
    for (int i = 0; i < 1000; ++i) {
      bool all = true;
      for (const auto& site : sites) all = all && Connects(site.first);
      if (all) {
        ready_ = true;
        break;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!ready_) {
      auto log = ReadFile(dir + "/error.log");
      ADD_FAILURE() << "nginx did not start: " << (log.ok() ? *log : "no error log");
    }
  }
  ~Nginx() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);  // fast shutdown
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  bool ready() const { return ready_; }

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
};

}  // namespace veta::testing
