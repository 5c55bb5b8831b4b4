#include "server/witnessing.h"

#include <algorithm>
#include <cstdio>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/verify/note.h"
#include "httplib.h"

namespace veta::server {

struct WitnessCoordinator::Peer {
  cosig::Cosigner cosigner;
  std::unique_ptr<httplib::Client> http;
  std::string path;        // the submission prefix's path + "/add-checkpoint"
  uint64_t held_size = 0;  // what the witness holds, as far as we know (its thread only)
  std::thread thread;
};

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// "http://host:port/prefix" -> ("http://host:port", "/prefix").
absl::StatusOr<std::pair<std::string, std::string>> SplitUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos ||
      (url.substr(0, scheme) != "http" && url.substr(0, scheme) != "https")) {
    return absl::InvalidArgumentError(
        StrCat("witness URL '", url, "' must be http:// or https://"));
  }
  const size_t slash = url.find('/', scheme + 3);
  if (slash == std::string::npos) return std::pair{url, std::string()};
  std::string prefix = url.substr(slash);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return std::pair{url.substr(0, slash), prefix};
}

std::string Body(uint64_t old_size, const std::vector<Hash>& proof, const std::string& note) {
  std::string body = StrCat("old ", old_size, "\n");
  for (const Hash& h : proof) body += StrCat(Base64Encode(AsBytes(h)), "\n");
  return StrCat(body, "\n", note);
}

// One witness's part of a round: the cosignature line, or why there is none.
absl::StatusOr<std::string> AskOne(Ledger& ledger, WitnessCoordinator::Peer& peer,
                                   const veta::v1::Checkpoint& cp, const std::string& text,
                                   int attempts_max) {
  absl::Status last = absl::UnavailableError("no attempt");
  for (int attempt = 0; attempt < attempts_max; ++attempt) {
    if (peer.held_size > cp.tree_size()) {
      return absl::FailedPreconditionError(
          StrCat(peer.cosigner.name, " holds size ", peer.held_size, ", past checkpoint ",
                 cp.tree_size(), ": it saw a larger tree of this log"));
    }
    std::vector<Hash> proof;
    if (peer.held_size > 0 && peer.held_size < cp.tree_size()) {
      ASSIGN_OR_RETURN(proof, ledger.ConsistencyProof(peer.held_size, cp.tree_size()));
    }
    auto res = peer.http->Post(peer.path, Body(peer.held_size, proof, cp.note()), "text/plain");
    if (!res) {
      last = absl::UnavailableError(
          StrCat(peer.cosigner.name, ": no answer (", httplib::to_string(res.error()), ")"));
      continue;
    }
    if (res->status == 409) {
      uint64_t held = 0;
      std::string_view b = res->body;
      if (!b.empty() && b.back() == '\n') b.remove_suffix(1);
      if (!ParseU64(b, &held)) {
        return absl::InvalidArgumentError(StrCat(peer.cosigner.name, ": bad 409 body"));
      }
      peer.held_size = held;
      last = absl::AbortedError(StrCat(peer.cosigner.name, " holds size ", held));
      continue;
    }
    if (res->status != 200) {
      return absl::FailedPreconditionError(
          StrCat(peer.cosigner.name, " answered ", res->status, ": ", res->body));
    }
    // The answer may hold several lines; keep the one of the policy's key, if it verifies.
    for (std::string_view line : Split(res->body, '\n')) {
      if (line.empty()) continue;
      if (cosig::Verify(text, line, peer.cosigner).ok()) {
        peer.held_size = cp.tree_size();
        return StrCat(line, "\n");
      }
    }
    return absl::UnauthenticatedError(
        StrCat(peer.cosigner.name, " answered 200 without a valid cosignature by its key"));
  }
  return last;
}

}  // namespace

WitnessCoordinator::WitnessCoordinator(Ledger* ledger, cosig::Policy policy,
                                       const WitnessingOptions& options)
    : ledger_(ledger), policy_(std::move(policy)), options_(options) {}

absl::StatusOr<std::unique_ptr<WitnessCoordinator>> WitnessCoordinator::Start(
    Ledger* ledger, cosig::Policy policy, const WitnessingOptions& options) {
  std::unique_ptr<WitnessCoordinator> c(new WitnessCoordinator(ledger, std::move(policy), options));
  const auto secs = options.request_timeout.count() / 1000;
  const auto usecs = (options.request_timeout.count() % 1000) * 1000;
  for (const cosig::Cosigner& w : c->policy_.witnesses()) {
    if (w.url.empty()) {
      return absl::InvalidArgumentError(
          StrCat("witness ", w.name_in_policy,
                 " has no URL in the policy: the server must "
                 "know where to send checkpoints (`witness NAME VKEY URL`)"));
    }
    ASSIGN_OR_RETURN(auto parts, SplitUrl(w.url));
    auto peer = std::make_unique<Peer>();
    peer->cosigner = w;
    peer->http = std::make_unique<httplib::Client>(parts.first);
    peer->http->set_keep_alive(true);
    peer->http->set_tcp_nodelay(true);
    peer->http->set_connection_timeout(secs, usecs);
    peer->http->set_read_timeout(secs, usecs);
    peer->http->set_write_timeout(secs, usecs);
    peer->path = parts.second + "/add-checkpoint";
    c->peers_.push_back(std::move(peer));
  }
  for (auto& peer : c->peers_) {
    peer->thread = std::thread([p = c.get(), peer = peer.get()] { p->PeerLoop(peer); });
  }
  return c;
}

WitnessCoordinator::~WitnessCoordinator() { Stop(); }

void WitnessCoordinator::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (auto& peer : peers_) {
    if (peer->thread.joinable()) peer->thread.join();
  }
}

WitnessingStats WitnessCoordinator::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void WitnessCoordinator::PeerLoop(Peer* peer) {
  uint64_t cosigned_size = 0;
  auto wait = options_.poll_interval;
  const auto backoff_min = std::chrono::milliseconds(50);
  auto backoff = backoff_min;
  std::string last_error;
  // When each checkpoint was first seen by this thread (for the lag figure).
  uint64_t seen_size = 0;
  auto seen_at = steady_clock::now();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      const auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
      mu_.AwaitWithTimeout(absl::Condition(&stopping), absl::Milliseconds(wait.count()));
      if (stopping_) return;
    }
    wait = options_.poll_interval;
    const veta::v1::Checkpoint cp = ledger_->LatestCheckpoint();
    if (cp.tree_size() <= cosigned_size) continue;
    if (cp.tree_size() != seen_size) {
      seen_size = cp.tree_size();
      seen_at = steady_clock::now();
    }
    auto parts = cosig::SplitNote(cp.note());
    if (!parts.ok()) continue;
    absl::StatusOr<std::string> line =
        AskOne(*ledger_, *peer, cp, parts->text, options_.attempts_max);
    {
      absl::MutexLock lock(&mu_);
      ++stats_.exchanges;
      if (line.ok()) ++stats_.cosignatures;
    }
    if (line.ok()) {
      cosigned_size = cp.tree_size();
      backoff = backoff_min;
      if (!last_error.empty()) {
        std::fprintf(stderr, "veta-server: witness %s cosigns again (checkpoint %llu)\n",
                     peer->cosigner.name_in_policy.c_str(),
                     static_cast<unsigned long long>(cp.tree_size()));
        last_error.clear();
      }
      Record(cp, *line, peer->cosigner.name_in_policy, seen_at);
      continue;
    }
    const std::string why(FromAbsl(line.status().message()));
    if (why != last_error || options_.verbose) {
      std::fprintf(stderr, "veta-server: witness %s did not cosign checkpoint %llu: %s\n",
                   peer->cosigner.name_in_policy.c_str(),
                   static_cast<unsigned long long>(cp.tree_size()), why.c_str());
      last_error = why;
    }
    wait = backoff;
    backoff = std::min(backoff * 2, options_.retry_backoff_max);
  }
}

void WitnessCoordinator::Record(const veta::v1::Checkpoint& cp, const std::string& line,
                                const std::string& name, steady_clock::time_point seen) {
  absl::MutexLock publish(&publish_mu_);
  std::string note;
  size_t lines = 0;
  steady_clock::time_point first_seen = seen;
  {
    absl::MutexLock lock(&mu_);
    // Room first, and never for a size older than every size kept: evicting after the insert
    // could erase the entry `g` refers to (a slow witness's answer on an old checkpoint).
    if (!gathered_.empty() && gathered_.size() >= options_.sizes_kept_max &&
        !gathered_.contains(cp.tree_size())) {
      if (cp.tree_size() < gathered_.begin()->first) return;
      gathered_.erase(gathered_.begin());
    }
    Gathered& g = gathered_[cp.tree_size()];
    if (g.note.empty()) {
      g.note = cp.note();
      g.first_seen = seen;
    }
    g.first_seen = std::min(g.first_seen, seen);
    if (std::find(g.names.begin(), g.names.end(), name) == g.names.end()) {
      g.lines.push_back(line);
      g.names.push_back(name);
    }
    if (!policy_.QuorumMet(g.names)) return;
    if (cp.tree_size() < published_size_ ||
        (cp.tree_size() == published_size_ && g.lines.size() <= published_lines_)) {
      return;
    }
    auto with = cosig::AddSignatureLines(g.note, g.lines);
    if (!with.ok()) return;
    note = std::move(*with);
    lines = g.lines.size();
    first_seen = g.first_seen;
  }
  absl::Status s = ledger_->PublishCosignedCheckpoint(note);
  if (!s.ok()) {
    std::fprintf(stderr, "veta-server: cannot publish cosigned checkpoint %llu: %s\n",
                 static_cast<unsigned long long>(cp.tree_size()),
                 std::string(FromAbsl(s.message())).c_str());
    return;
  }
  const uint64_t ms =
      static_cast<uint64_t>(duration_cast<milliseconds>(steady_clock::now() - first_seen).count());
  published_size_ = cp.tree_size();
  published_lines_ = lines;
  absl::MutexLock lock(&mu_);
  // Cosignatures on older checkpoints can no longer be published.
  gathered_.erase(gathered_.begin(), gathered_.lower_bound(cp.tree_size()));
  stats_.published_size = cp.tree_size();
  stats_.last_cosign_ms = ms;
  if (options_.verbose) {
    std::fprintf(stderr, "veta-server: checkpoint %llu published with %zu cosignatures, %llu ms\n",
                 static_cast<unsigned long long>(cp.tree_size()), lines,
                 static_cast<unsigned long long>(ms));
  }
}

}  // namespace veta::server
