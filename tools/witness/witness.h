// A transparency-log witness (C2SP tlog-witness): it keeps, per log, the latest checkpoint it
// cosigned, and cosigns (C2SP tlog-cosignature, cosignature/v1 Ed25519) a new checkpoint only
// when a consistency proof shows it extends that one. Two different trees shown to two
// parties (a split view) cannot both be cosigned by an honest witness.
//
// HTTP (tlog-witness):
//   POST <prefix>/add-checkpoint   body: "old <size>\n" proof-line* "\n" checkpoint-note
//     200  one cosignature line ("— <name> base64(...)\n"), text/plain; charset=utf-8
//     400  malformed body, old size > checkpoint size
//     403  the note carries no valid signature by a key the witness trusts for its origin
//     404  unknown origin
//     409  old size is not the size it holds: body "<size held>\n", text/x.tlog.size
//     422  bad consistency proof, fork (same size, other root), size 0 with a non-empty root
//   GET <prefix>/<hex sha256(origin)>/checkpoint   the latest cosigned checkpoint (404: none)
//
// A refused checkpoint that the log did sign (a fork, or an extension with a bad proof) is
// kept in state_dir/evidence/ (the spec's "MAY log": a signed fork is proof of misbehaviour).
//
// Durable state: one file per log in the state folder, named by hex SHA-256 of the origin,
// holding the latest cosigned note (the log's signature and the witness's cosignature). It is
// written with fsync + rename + fsync of the folder BEFORE the 200 answer, so a witness killed
// at any point restarts holding either the old or the new checkpoint, and never cosigns
// something it has not recorded. Requests for one log are serialized by that log's mutex
// (check-then-persist is atomic, as the spec requires); different logs run in parallel.
//
// Thread-safety: AddCheckpoint and Latest may be called from any number of threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/verify/keys.h"
#include "core/verify/note.h"
#include "core/verify/sha256.h"
#include "server/http_guard.h"

namespace veta::witness {

// Most bytes of an add-checkpoint body (63 proof lines and a note with many signatures fit).
inline constexpr size_t kRequestBytesMax = 64 << 10;
// The spec's limit on consistency proof lines.
inline constexpr size_t kProofLinesMax = 63;
// Most logs one witness follows.
inline constexpr size_t kLogsMax = 1000;
// Most evidence files (refused forks, state_dir/evidence/) one run writes.
inline constexpr size_t kEvidenceFilesMax = 1000;

struct Options {
  // The witness's name (its cosignature key name, e.g. "witness.sunat.gob.pe/w1").
  std::string name;
  // Folder of the durable state (created if missing).
  std::string state_dir;
  // Seconds since the epoch for cosignature timestamps; null means the system clock.
  std::function<uint64_t()> clock;
};

// The logs a witness follows: lines "log <checkpoint verifier key> [<url>]" (the key's name is
// the log's origin, as in tlog-policy), '#' comments and blank lines ignored. Several keys
// may share one origin (a key rotation). InvalidArgument with the line number when malformed.
absl::StatusOr<std::map<std::string, std::vector<std::string>>> ParseLogsFile(
    std::string_view text);

struct Response {
  int status = 500;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class Witness {
 public:
  // Loads the state of every log in `logs` (origin -> verifier keys). DataLoss when a state
  // file does not verify (it is never overwritten then).
  static absl::StatusOr<std::unique_ptr<Witness>> Open(
      const Options& options, PrivateKey key, std::map<std::string, std::vector<std::string>> logs);

  // The whole add-checkpoint exchange: the request body in, the HTTP answer out.
  Response AddCheckpoint(std::string_view body);
  // The latest cosigned note of the log whose origin hashes to `origin_hash_hex` (404 if none).
  Response Latest(std::string_view origin_hash_hex) const;

  // The cosignature/v1 verifier key of this witness.
  const std::string& verifier_key() const { return verifier_key_; }
  // The size it holds for `origin` (0 if none or unknown).
  uint64_t HeldSize(const std::string& origin) const;

 private:
  struct Log {
    std::string origin;
    std::vector<std::string> verifier_keys;
    std::string path;
    mutable absl::Mutex mu;
    uint64_t size ABSL_GUARDED_BY(mu) = 0;
    Hash root ABSL_GUARDED_BY(mu){};
    std::string note ABSL_GUARDED_BY(mu);  // empty until the first cosignature
  };
  Witness(const Options& options, PrivateKey key);
  uint64_t Now() const;
  // Keeps a signed checkpoint that forks from the one held in state_dir/evidence/.
  void KeepEvidence(const note::Checkpoint& checkpoint, std::string_view note);

  const Options options_;
  const PrivateKey key_;
  std::string verifier_key_;
  std::map<std::string, std::unique_ptr<Log>> logs_;  // by origin; fixed after Open
  std::atomic<size_t> evidence_kept_{0};
};

// An HTTP listener (cpp-httplib) for a Witness, on its own threads.
class Server {
 public:
  // Binds host:port (port 0 picks one) under the URL prefix (e.g. "" or "/witness") and
  // starts serving. The witness must outlive the server.
  // Idle or slow clients cannot hold its threads (server/http_guard.h: `limits`).
  static absl::StatusOr<std::unique_ptr<Server>> Start(Witness* witness, const std::string& host,
                                                       int port, const std::string& prefix = "",
                                                       const server::HttpLimits& limits = {});
  ~Server();
  int port() const { return port_; }
  void Stop();

  struct Impl;

 private:
  Server() = default;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace veta::witness
