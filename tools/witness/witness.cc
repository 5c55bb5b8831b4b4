#include "tools/witness/witness.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "core/base/files.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/verify/cosignature.h"
#include "core/verify/merkle.h"
#include "core/verify/note.h"
#include "httplib.h"

namespace veta::witness {
namespace {

Response Answer(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  if (r.body.empty() || r.body.back() != '\n') r.body += "\n";
  return r;
}

std::string OriginHash(std::string_view origin) { return ToHex(Sha256().Update(origin).Finish()); }

// fsync of a folder, so that a rename inside it survives a power cut.
absl::Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError(StrCat("cannot open ", dir));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return absl::UnavailableError(StrCat("cannot sync ", dir));
  return absl::OkStatus();
}

// The request: "old N\n", proof lines, "\n", then the note.
struct Request {
  uint64_t old_size = 0;
  std::vector<Hash> proof;
  std::string_view note;
};

absl::StatusOr<Request> ParseRequest(std::string_view body) {
  if (body.size() > kRequestBytesMax) {
    return absl::InvalidArgumentError(StrCat("request body over ", kRequestBytesMax, " bytes"));
  }
  Request req;
  size_t eol = body.find('\n');
  if (eol == std::string_view::npos || body.substr(0, 4) != "old " ||
      !ParseU64(body.substr(4, eol - 4), &req.old_size)) {
    return absl::InvalidArgumentError("first line must be 'old <size>' (decimal, no leading 0)");
  }
  size_t pos = eol + 1;
  while (true) {
    eol = body.find('\n', pos);
    if (eol == std::string_view::npos) {
      return absl::InvalidArgumentError("no empty line before the checkpoint");
    }
    const std::string_view line = body.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty()) break;
    if (req.proof.size() == kProofLinesMax) {
      return absl::InvalidArgumentError(StrCat("more than ", kProofLinesMax, " proof lines"));
    }
    std::string bytes;
    Hash h{};
    if (!Base64Decode(line, &bytes) || !HashFromBytes(bytes, &h)) {
      return absl::InvalidArgumentError("a proof line is not base64 of 32 bytes");
    }
    req.proof.push_back(h);
  }
  req.note = body.substr(pos);
  return req;
}

}  // namespace

absl::StatusOr<std::map<std::string, std::vector<std::string>>> ParseLogsFile(
    std::string_view text) {
  std::map<std::string, std::vector<std::string>> logs;
  const std::vector<std::string_view> lines = Split(text, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    std::vector<std::string_view> f;
    for (std::string_view part : Split(lines[i], ' ')) {
      for (std::string_view p : Split(part, '\t')) {
        if (!p.empty()) f.push_back(p);
      }
    }
    if (f.empty() || f[0][0] == '#') continue;
    const auto fail = [&](std::string_view why) {
      return absl::InvalidArgumentError(StrCat("logs file line ", i + 1, ": ", why));
    };
    if (f[0] != "log" || f.size() < 2 || f.size() > 3) {
      return fail("want: log <checkpoint verifier key> [<url>]");
    }
    absl::Status key_ok = cosig::CheckNoteVerifierKey(f[1]);
    if (!key_ok.ok()) return fail(StrCat("bad verifier key: ", FromAbsl(key_ok.message())));
    const std::string origin(f[1].substr(0, f[1].find('+')));
    logs[origin].emplace_back(f[1]);
    if (logs.size() > kLogsMax) return fail(StrCat("more than ", kLogsMax, " logs"));
  }
  if (logs.empty()) return absl::InvalidArgumentError("the logs file names no log");
  return logs;
}

Witness::Witness(const Options& options, PrivateKey key)
    : options_(options), key_(std::move(key)) {}

uint64_t Witness::Now() const {
  if (options_.clock) return options_.clock();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

absl::StatusOr<std::unique_ptr<Witness>> Witness::Open(
    const Options& options, PrivateKey key, std::map<std::string, std::vector<std::string>> logs) {
  if (options.state_dir.empty()) return absl::InvalidArgumentError("no state folder given");
  std::unique_ptr<Witness> w(new Witness(options, std::move(key)));
  ASSIGN_OR_RETURN(w->verifier_key_, cosig::VerifierKey(options.name, w->key_.public_key()));
  ASSIGN_OR_RETURN(cosig::Cosigner self, cosig::ParseVerifierKey(w->verifier_key_));
  RETURN_IF_ERROR(CreateDirectoriesSynced(options.state_dir));
  for (auto& [origin, keys] : logs) {
    auto log = std::make_unique<Log>();
    log->origin = origin;
    log->verifier_keys = keys;
    log->path = StrCat(options.state_dir, "/", OriginHash(origin));
    absl::MutexLock lock(&log->mu);
    auto stored = ReadFile(log->path, kRequestBytesMax);
    if (stored.ok()) {
      // The state must be a checkpoint of this log that this witness cosigned.
      absl::Status opened = absl::NotFoundError("no key");
      std::string text;
      for (const std::string& k : keys) {
        auto t = note::Open(*stored, k);
        opened = t.status();
        if (t.ok()) {
          text = *t;
          break;
        }
      }
      if (!opened.ok()) {
        return absl::DataLossError(StrCat("witness state ", log->path, " for ", origin,
                                          " does not verify: ", FromAbsl(opened.message())));
      }
      ASSIGN_OR_RETURN(cosig::NoteParts parts, cosig::SplitNote(*stored));
      bool mine = false;
      for (const std::string& line : parts.signature_lines) {
        mine = mine || cosig::Verify(text, line, self).ok();
      }
      ASSIGN_OR_RETURN(note::Checkpoint cp, note::ParseCheckpointText(text));
      if (!mine || cp.origin != origin) {
        return absl::DataLossError(StrCat("witness state ", log->path, " is not a checkpoint of ",
                                          origin, " cosigned by this witness's key"));
      }
      log->size = cp.size;
      log->root = cp.root;
      log->note = *stored;
    } else if (stored.status().code() != absl::StatusCode::kNotFound) {
      return stored.status();
    }
    w->logs_.emplace(origin, std::move(log));
  }
  return w;
}

uint64_t Witness::HeldSize(const std::string& origin) const {
  auto it = logs_.find(origin);
  if (it == logs_.end()) return 0;
  absl::MutexLock lock(&it->second->mu);
  return it->second->size;
}

Response Witness::AddCheckpoint(std::string_view body) {
  auto req = ParseRequest(body);
  if (!req.ok()) return Answer(400, std::string(FromAbsl(req.status().message())));
  auto parts = cosig::SplitNote(req->note);
  if (!parts.ok()) return Answer(400, std::string(FromAbsl(parts.status().message())));
  auto cp = note::ParseCheckpointText(parts->text);
  if (!cp.ok()) return Answer(400, std::string(FromAbsl(cp.status().message())));
  auto it = logs_.find(cp->origin);
  if (it == logs_.end()) return Answer(404, StrCat("unknown log origin '", cp->origin, "'"));
  Log& log = *it->second;

  // A signature by a trusted key must verify; one whose name and id match a trusted key but
  // that fails makes the note malformed (signed-note): 403 either way.
  bool signed_ok = false;
  std::string why = "no signature by a key this witness trusts for the origin";
  for (const std::string& k : log.verifier_keys) {
    auto t = note::Open(req->note, k);
    if (t.ok()) {
      signed_ok = true;
    } else if (t.status().message().find("does not verify") != absl::string_view::npos) {
      signed_ok = false;
      why = std::string(FromAbsl(t.status().message()));
      break;
    } else if (t.status().code() == absl::StatusCode::kInvalidArgument) {
      return Answer(400, std::string(FromAbsl(t.status().message())));
    }
  }
  if (!signed_ok) return Answer(403, why);
  if (req->old_size > cp->size) {
    return Answer(400, StrCat("old size ", req->old_size, " is past the checkpoint's ", cp->size));
  }

  absl::MutexLock lock(&log.mu);
  if (req->old_size != log.size) {
    Response r = Answer(409, StrCat(log.size));
    r.content_type = "text/x.tlog.size";
    return r;
  }
  if (cp->size == 0 && cp->root != merkle::EmptyRoot()) {
    return Answer(422, "a checkpoint of size 0 must have the empty tree's root");
  }
  if (req->old_size == 0) {
    if (!req->proof.empty()) return Answer(422, "old size 0 needs an empty consistency proof");
  } else if (req->old_size == cp->size) {
    if (cp->root != log.root) {
      KeepEvidence(*cp, req->note);
      return Answer(422, StrCat("fork: the witness holds another root for size ", cp->size));
    }
    if (!req->proof.empty()) return Answer(422, "equal sizes need an empty consistency proof");
  } else {
    absl::Status consistent =
        merkle::VerifyConsistency(req->old_size, cp->size, log.root, cp->root, req->proof);
    if (!consistent.ok()) {
      KeepEvidence(*cp, req->note);
      return Answer(422, StrCat("the consistency proof from ", req->old_size, " to ", cp->size,
                                " does not verify: ", FromAbsl(consistent.message())));
    }
  }

  auto line = cosig::Sign(parts->text, options_.name, key_, Now());
  if (!line.ok()) return Answer(500, std::string(FromAbsl(line.status().message())));
  // What is kept: the checkpoint with the log's signatures the witness checked and its own.
  std::string kept = StrCat(parts->text, "\n");
  for (const std::string& l : parts->signature_lines) {
    for (const std::string& k : log.verifier_keys) {
      if (note::Open(StrCat(kept.substr(0, parts->text.size() + 1), l), k).ok()) {
        kept += l;
        break;
      }
    }
  }
  kept += *line;
  absl::Status saved = WriteFileAtomic(log.path, kept, 0644);
  if (saved.ok()) saved = SyncDir(options_.state_dir);
  if (!saved.ok()) {
    return Answer(503, StrCat("cannot record the checkpoint: ", FromAbsl(saved.message())));
  }
  log.size = cp->size;
  log.root = cp->root;
  log.note = std::move(kept);
  return Answer(200, *line);
}

void Witness::KeepEvidence(const note::Checkpoint& cp, std::string_view note) {
  // A checkpoint the log signed that does not extend what it showed before: proof of a fork.
  if (evidence_kept_.fetch_add(1) >= kEvidenceFilesMax) return;
  const std::string dir = StrCat(options_.state_dir, "/evidence");
  absl::Status made = CreateDirectoriesSynced(dir);
  const std::string path = StrCat(dir, "/", OriginHash(cp.origin).substr(0, 16), "-", cp.size, "-",
                                  ToHex(cp.root).substr(0, 16), ".note");
  absl::Status s = made.ok() ? WriteFileAtomic(path, note, 0644) : made;
  std::fprintf(stderr,
               "veta-witness: REFUSED checkpoint %llu of %s (root %s), inconsistent with "
               "the one cosigned: kept as evidence in %s%s\n",
               static_cast<unsigned long long>(cp.size), cp.origin.c_str(), ToHex(cp.root).c_str(),
               path.c_str(), s.ok() ? "" : " (could not write it)");
}

Response Witness::Latest(std::string_view origin_hash_hex) const {
  for (const auto& [origin, log] : logs_) {
    if (OriginHash(origin) != origin_hash_hex) continue;
    absl::MutexLock lock(&log->mu);
    if (log->note.empty()) break;
    Response r = Answer(200, log->note);
    return r;
  }
  return Answer(404, "no checkpoint cosigned for that log");
}

struct Server::Impl {
  std::unique_ptr<httplib::Server> server;
};

absl::StatusOr<std::unique_ptr<Server>> Server::Start(Witness* witness, const std::string& host,
                                                      int port, const std::string& prefix,
                                                      const server::HttpLimits& limits) {
  std::unique_ptr<Server> s(new Server());
  s->impl_ = std::make_unique<Impl>();
  // Idle connections hold no thread, a request must arrive whole in time, and connections
  // beyond the bounds are refused (server/http_guard.h): a few clients that connect and send
  // nothing cannot keep a log's add-checkpoint from being answered.
  ASSIGN_OR_RETURN(s->impl_->server, server::NewBoundedHttpServer(limits));
  httplib::Server& http = *s->impl_->server;
  http.set_payload_max_length(kRequestBytesMax);
  http.set_tcp_nodelay(true);  // small answers: no Nagle delay waiting for a delayed ACK
  // httplib inflates a gzip or br body while reading it, bounding only the bytes on the wire:
  // a few hundred KB of gzip would become gigabytes in memory. tlog-witness bodies are small
  // and plain: a compressed one is refused before it is read.
  http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    const std::string encoding = req.get_header_value("Content-Encoding");
    if (encoding.empty() || encoding == "identity") {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    res.status = 415;
    res.set_header("Connection", "close");
    res.set_content("compressed bodies (Content-Encoding) are not taken\n", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  });
  const auto reply = [](httplib::Response& res, const Response& r) {
    res.status = r.status;
    res.set_content(r.body, r.content_type.c_str());
  };
  http.Post(prefix + "/add-checkpoint",
            [witness, reply](const httplib::Request& req, httplib::Response& res) {
              reply(res, witness->AddCheckpoint(req.body));
            });
  http.Get(prefix + R"(/([0-9a-f]{64})/checkpoint)",
           [witness, reply](const httplib::Request& req, httplib::Response& res) {
             reply(res, witness->Latest(req.matches[1].str()));
           });
  s->port_ = port == 0 ? http.bind_to_any_port(host) : (http.bind_to_port(host, port) ? port : -1);
  if (s->port_ <= 0) {
    return absl::UnavailableError(StrCat("cannot listen on ", host, ":", port));
  }
  s->thread_ = std::thread([s = s.get()] { s->impl_->server->listen_after_bind(); });
  // stop() is a no-op until the accept loop runs: wait for it (bounded), so Stop never hangs.
  for (int i = 0; i < 5000 && !s->impl_->server->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return s;
}

void Server::Stop() {
  if (impl_) impl_->server->stop();
  if (thread_.joinable()) thread_.join();
}

Server::~Server() { Stop(); }

}  // namespace veta::witness
