#include "server/witnessing.h"

#include <cstdio>
#include <future>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/verify/note.h"
#include "httplib.h"

namespace veta::server {

struct WitnessCoordinator::Peer {
  cosig::Cosigner cosigner;
  std::unique_ptr<httplib::Client> http;
  std::string path;        // the submission prefix's path + "/add-checkpoint"
  uint64_t held_size = 0;  // what the witness holds, as far as we know (only its round thread)
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
      last =
          absl::UnavailableError(StrCat(peer.cosigner.name, ": ", httplib::to_string(res.error())));
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
  c->thread_ = std::thread([p = c.get()] { p->Loop(); });
  return c;
}

WitnessCoordinator::~WitnessCoordinator() { Stop(); }

void WitnessCoordinator::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

WitnessingStats WitnessCoordinator::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void WitnessCoordinator::Loop() {
  uint64_t sent_size = 0;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      const auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
      mu_.AwaitWithTimeout(absl::Condition(&stopping),
                           absl::Milliseconds(options_.poll_interval.count()));
      if (stopping_) return;
    }
    const veta::v1::Checkpoint cp = ledger_->LatestCheckpoint();
    if (cp.tree_size() <= sent_size) continue;
    sent_size = cp.tree_size();
    Round(cp);
  }
}

void WitnessCoordinator::Round(const veta::v1::Checkpoint& cp) {
  const auto start = steady_clock::now();
  auto parts = cosig::SplitNote(cp.note());
  if (!parts.ok()) return;
  std::vector<std::future<absl::StatusOr<std::string>>> answers;
  for (auto& peer : peers_) {
    answers.push_back(std::async(std::launch::async, [this, &peer, &cp, &parts] {
      return AskOne(*ledger_, *peer, cp, parts->text, options_.attempts_max);
    }));
  }
  std::vector<std::string> lines, names, refusals;
  for (size_t i = 0; i < answers.size(); ++i) {
    absl::StatusOr<std::string> line = answers[i].get();
    if (line.ok()) {
      lines.push_back(*line);
      names.push_back(peers_[i]->cosigner.name_in_policy);
    } else {
      refusals.push_back(std::string(FromAbsl(line.status().message())));
    }
  }
  const uint64_t ms =
      static_cast<uint64_t>(duration_cast<milliseconds>(steady_clock::now() - start).count());
  bool published = false;
  if (policy_.QuorumMet(names)) {
    auto note = cosig::AddSignatureLines(cp.note(), lines);
    absl::Status s = note.ok() ? ledger_->PublishCosignedCheckpoint(*note) : note.status();
    published = s.ok();
    if (!s.ok()) refusals.push_back(StrCat("publishing: ", FromAbsl(s.message())));
  }
  {
    absl::MutexLock lock(&mu_);
    ++stats_.rounds;
    if (published) {
      stats_.published_size = cp.tree_size();
      stats_.last_cosign_ms = ms;
    }
  }
  if (options_.verbose || !refusals.empty()) {
    std::fprintf(stderr,
                 "veta-server: checkpoint %llu cosigned by %zu of %zu witnesses in %llu ms%s%s%s\n",
                 static_cast<unsigned long long>(cp.tree_size()), lines.size(), peers_.size(),
                 static_cast<unsigned long long>(ms),
                 published ? ", published" : ", NOT published (no quorum)",
                 refusals.empty() ? "" : "; ", StrJoin(refusals, "; ").c_str());
  }
}

}  // namespace veta::server
