#include "core/log/follower.h"

#include <cstdio>
#include <deque>
#include <future>

#include "core/base/check.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/verify/envelope.h"

namespace veta {
namespace {

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The verifier key a genesis entry names.
absl::StatusOr<std::string> GenesisVerifierKey(const std::string& entry_bytes) {
  veta::v1::Entry entry;
  if (!entry.ParseFromString(entry_bytes) || entry.sequence() != 0) {
    return absl::FailedPreconditionError("the primary's entry 0 is not an entry");
  }
  ASSIGN_OR_RETURN(DecodedEnvelope d, DecodeEnvelope(entry.envelope(), {}));
  if (d.kind != PayloadKind::kGenesis) {
    return absl::FailedPreconditionError("the primary's entry 0 is not a genesis entry");
  }
  return d.genesis.checkpoint_verifier_key();
}

ReplicaAppend Retry(absl::Status status) {
  ReplicaAppend r;
  r.status = std::move(status);
  return r;
}

ReplicaAppend DivergedAt(uint64_t sequence, std::string message) {
  ReplicaAppend r;
  r.diverged = true;
  r.sequence = sequence;
  r.status = absl::FailedPreconditionError(std::move(message));
  return r;
}

}  // namespace

Follower::Follower(Ledger* replica, PrimarySource* source, FollowerOptions options)
    : replica_(replica),
      source_(source),
      options_(std::move(options)),
      verifier_key_(options_.verifier_key) {
  caught_up_at_ns_.store(SteadyNanos(), std::memory_order_release);
}

absl::Status Follower::Diverge(uint64_t sequence, veta::v1::Refusal refusal, std::string message) {
  absl::MutexLock lock(&mu_);
  diverged_ = true;
  divergence_ = Divergence{sequence, refusal, message};
  return absl::FailedPreconditionError(std::move(message));
}

bool Follower::diverged() const {
  absl::MutexLock lock(&mu_);
  return diverged_;
}

Divergence Follower::divergence() const {
  absl::MutexLock lock(&mu_);
  return divergence_;
}

void Follower::Stop() {
  absl::MutexLock lock(&mu_);
  stop_ = true;
}

uint64_t Follower::LagEntries() const {
  const uint64_t primary = primary_size_.load(std::memory_order_acquire);
  const uint64_t mine = replica_->size();
  return primary > mine ? primary - mine : 0;
}

double Follower::LagSeconds() const {
  if (LagEntries() == 0) return 0;
  return static_cast<double>(SteadyNanos() - caught_up_at_ns_.load(std::memory_order_acquire)) /
         1e9;
}

std::string Follower::StatusLine() const {
  {
    absl::MutexLock lock(&mu_);
    if (diverged_) return StrCat("diverged: ", divergence_.message);
  }
  char lag[32];
  std::snprintf(lag, sizeof lag, "%.1f", LagSeconds());
  return StrCat("entries ", replica_->size(), ", checkpoint ",
                replica_->LatestCheckpoint().tree_size(), ", primary checkpoint ", PrimarySize(),
                ", lag ", LagEntries(), " entries ", lag, " s");
}

absl::Status Follower::CheckAgainstAccepted(const note::Checkpoint& cp) {
  const veta::v1::Checkpoint accepted = replica_->LatestCheckpoint();
  const uint64_t m = accepted.tree_size();
  if (m == 0) return absl::OkStatus();
  Hash accepted_root{};
  if (!HashFromBytes(accepted.root_hash(), &accepted_root)) {
    return absl::DataLossError("the follower's latest checkpoint has a malformed root");
  }
  if (cp.size < m) {
    return Diverge(cp.size, veta::v1::REFUSAL_UNSPECIFIED,
                   StrCat("the primary's latest checkpoint (size ", cp.size,
                          ") is older than the one of size ", m,
                          " the follower accepted: the primary's log was rolled back"));
  }
  if (cp.size == m) {
    if (cp.root == accepted_root) return absl::OkStatus();
    return Diverge(m, veta::v1::REFUSAL_UNSPECIFIED,
                   StrCat("the primary signed two different trees of size ", m,
                          ": a past entry was changed or the log forked (accepted: ",
                          ToHex(accepted_root), ", now: ", ToHex(cp.root), ")"));
  }
  ASSIGN_OR_RETURN(std::vector<Hash> proof, source_->ConsistencyProof(m, cp.size));
  if (absl::Status s = merkle::VerifyConsistency(m, cp.size, accepted_root, cp.root, proof);
      !s.ok()) {
    return Diverge(m, veta::v1::REFUSAL_UNSPECIFIED,
                   StrCat("the primary's checkpoint of size ", cp.size,
                          " is not consistent with its checkpoint of size ", m,
                          " the follower accepted: an entry before ", m,
                          " was changed or the log forked (", s.message(), ")"));
  }
  return absl::OkStatus();
}

ReplicaAppend Follower::CheckPage(uint64_t first, const std::vector<Hash>& leaves, const Hash& root,
                                  const note::Checkpoint& cp, const std::vector<Hash>* proof) {
  const uint64_t end = first + leaves.size();
  const bool held = end == cp.size
                        ? root == cp.root
                        : merkle::VerifyConsistency(end, cp.size, root, cp.root, *proof).ok();
  if (held) return ReplicaAppend{};
  // Name the first entry of the page the signed tree does not hold.
  for (size_t i = 0; i < leaves.size(); ++i) {
    auto path = source_->InclusionProof(first + i, cp.size);
    if (!path.ok()) return Retry(path.status());
    if (!merkle::VerifyInclusion(first + i, cp.size, leaves[i], *path, cp.root).ok()) {
      return DivergedAt(
          first + i,
          StrCat("entry ", first + i, " as the primary serves it is not the entry ", first + i,
                 " its signed checkpoint of size ", cp.size, " holds: the primary changed it"));
    }
  }
  return DivergedAt(first, StrCat("the follower's tree of size ", end,
                                  " is not a prefix of the primary's signed tree of size ", cp.size,
                                  ": an entry before ", first, " differs"));
}

absl::Status Follower::SyncOnce() {
  if (diverged()) return absl::FailedPreconditionError(divergence().message);
  ASSIGN_OR_RETURN(const std::string note_text, source_->LatestCheckpointNote());
  // The key: given, else the genesis the replica holds, else the primary's genesis (pinned
  // from then on, as the replica keeps it).
  if (verifier_key_.empty()) verifier_key_ = replica_->verifier_key();
  if (verifier_key_.empty()) {
    ASSIGN_OR_RETURN(std::vector<std::string> first, source_->Entries(0, 1));
    if (first.empty()) return absl::UnavailableError("the primary sent no genesis entry");
    ASSIGN_OR_RETURN(verifier_key_, GenesisVerifierKey(first[0]));
  }
  if (!replica_->verifier_key().empty() && replica_->verifier_key() != verifier_key_) {
    return Diverge(0, veta::v1::REFUSAL_UNSPECIFIED,
                   StrCat("the follower's genesis names checkpoint key ", replica_->verifier_key(),
                          ", not the key given (", verifier_key_, ")"));
  }
  auto text = note::Open(note_text, verifier_key_);
  if (!text.ok()) {
    return Diverge(replica_->size(), veta::v1::REFUSAL_UNSPECIFIED,
                   StrCat("the primary's checkpoint does not verify with key ", verifier_key_, ": ",
                          text.status().message()));
  }
  auto parsed = note::ParseCheckpointText(*text);
  if (!parsed.ok()) {
    return Diverge(replica_->size(), veta::v1::REFUSAL_UNSPECIFIED,
                   StrCat("the primary's checkpoint is malformed: ", parsed.status().message()));
  }
  const note::Checkpoint cp = std::move(*parsed);
  primary_size_.store(cp.size, std::memory_order_release);
  RETURN_IF_ERROR(CheckAgainstAccepted(cp));
  if (replica_->size() > cp.size) {
    return Diverge(cp.size, veta::v1::REFUSAL_UNSPECIFIED,
                   StrCat("the primary's latest checkpoint covers ", cp.size,
                          " entries, fewer than the follower holds (", replica_->size(),
                          "): the primary's log was rolled back"));
  }
  // A page is fetched (with the proof that ties its end to the checkpoint) and its signatures
  // verified while the one before it is applied: the primary's reads, the signatures and the
  // rules overlap.
  auto fetch = [this, &cp](uint64_t start) -> absl::StatusOr<Page> {
    Page page;
    page.start = start;
    const uint64_t want = std::min<uint64_t>(options_.page_entries_max, cp.size - start);
    ASSIGN_OR_RETURN(page.entries, source_->Entries(start, static_cast<uint32_t>(want)));
    if (page.entries.empty()) {
      return absl::UnavailableError(StrCat("the primary sent no entry from ", start,
                                           " though its checkpoint covers ", cp.size));
    }
    if (page.entries.size() > want) page.entries.resize(want);
    const uint64_t end = start + page.entries.size();
    if (end < cp.size) {
      ASSIGN_OR_RETURN(page.proof, source_->ConsistencyProof(end, cp.size));
    }
    page.verified = replica_->VerifyReplicated(page.entries);
    return page;
  };
  // Up to kPagesAhead pages in flight, each asked from where the one before it should end; a
  // page the primary cut short (its page bound in bytes) drops those after it.
  constexpr size_t kPagesAhead = 2;
  std::deque<std::future<absl::StatusOr<Page>>> ahead;
  uint64_t ask_from = replica_->size();
  while (replica_->size() < cp.size) {
    while (ahead.size() < kPagesAhead && ask_from < cp.size) {
      ahead.push_back(std::async(std::launch::async, fetch, ask_from));
      ask_from += std::min<uint64_t>(options_.page_entries_max, cp.size - ask_from);
    }
    ASSIGN_OR_RETURN(Page page, ahead.front().get());
    ahead.pop_front();
    const uint64_t end = page.start + page.entries.size();
    if (page.start != replica_->size()) {  // after a short page: ask again from where it ended
      ahead.clear();
      ask_from = replica_->size();
      continue;
    }
    if (end < page.start + std::min<uint64_t>(options_.page_entries_max, cp.size - page.start)) {
      ahead.clear();  // a short page: those asked after it start too far
      ask_from = end;
    }
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return absl::OkStatus();
    }
    auto check = [&](uint64_t first, const std::vector<Hash>& leaves, const Hash& root) {
      return CheckPage(first, leaves, root, cp, &page.proof);
    };
    ReplicaAppend r = replica_->AppendReplicated(
        page.entries, check, end == cp.size ? note_text : "", std::move(page.verified));
    if (!r.status.ok()) {
      if (r.diverged) return Diverge(r.sequence, r.refusal, std::string(r.status.message()));
      return r.status;
    }
  }
  if (replica_->LatestCheckpoint().tree_size() != cp.size) {
    // The entries were already held (a restart between them and their checkpoint).
    ReplicaAppend r = replica_->AppendReplicated({}, nullptr, note_text);
    if (!r.status.ok()) {
      if (r.diverged) return Diverge(r.sequence, r.refusal, std::string(r.status.message()));
      return r.status;
    }
  }
  caught_up_at_ns_.store(SteadyNanos(), std::memory_order_release);
  return absl::OkStatus();
}

absl::Status Follower::Run() {
  std::string last_error;
  while (true) {
    const uint64_t before = replica_->size();
    absl::Status s = SyncOnce();
    if (diverged()) return s;
    if (!s.ok() && s.message() != last_error) {
      std::fprintf(stderr, "veta-follower: %s (retrying)\n", std::string(s.message()).c_str());
    }
    last_error = s.ok() ? "" : std::string(s.message());
    absl::MutexLock lock(&mu_);
    if (stop_) return absl::OkStatus();
    if (s.ok() && replica_->size() > before) continue;  // more may have come meanwhile
    mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::FromChrono(options_.poll_interval));
    if (stop_) return absl::OkStatus();
  }
}

}  // namespace veta
