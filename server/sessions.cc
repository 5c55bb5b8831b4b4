#include "server/sessions.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdlib>

#include "core/base/strings.h"
#include "core/read/access.h"
#include "core/verify/envelope.h"
#include "core/verify/sha256.h"

namespace veta::server {
namespace {

constexpr size_t kRandomBytes = 32;

std::string RandomBytes() {
  std::string out(kRandomBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), kRandomBytes) != 1) {
    std::abort();  // no randomness: a guessable token would be worse than no server
  }
  return out;
}

// base64url without padding (RFC 4648 section 5): safe in a header and a URL.
std::string Base64Url(std::string_view bytes) {
  std::string s = Base64Encode(bytes);
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::string TokenKey(std::string_view token) { return std::string(AsBytes(Sha256Of(token))); }

}  // namespace

absl::StatusOr<Sessions::Challenge> Sessions::NewChallenge() {
  const absl::Time now = options_.clock();
  absl::MutexLock lock(&mu_);
  if (challenges_.size() >= options_.challenges_max) DropExpiredLocked(now);
  // Still full: the oldest challenges go. Anyone may ask for challenges, so refusing new ones
  // would let one client that asks ~100 times a second keep everyone from signing in; this
  // way a flood must outpace a person's own challenge-and-sign round trip.
  while (!challenges_.empty() &&
         challenges_.size() >= std::max<size_t>(1, options_.challenges_max)) {
    auto oldest = challenges_.begin();
    for (auto it = challenges_.begin(); it != challenges_.end(); ++it) {
      if (it->second.serial < oldest->second.serial) oldest = it;
    }
    challenges_.erase(oldest);
  }
  Challenge c{RandomBytes(), now + options_.challenge_ttl};
  challenges_.emplace(c.bytes, Issued{c.expires_at, challenges_issued_++});
  return c;
}

absl::StatusOr<Sessions::Session> Sessions::SignIn(const veta::v1::Envelope& envelope) {
  if (envelope.payload_type() != kSessionChallengeType) {
    return absl::InvalidArgumentError(StrCat("a sign-in envelope has payload_type \"",
                                             kSessionChallengeType, "\", not \"",
                                             envelope.payload_type(), "\""));
  }
  if (envelope.signatures_size() != 1) {
    return absl::InvalidArgumentError(StrCat(
        "a sign-in envelope carries exactly one signature, not ", envelope.signatures_size()));
  }
  const absl::Time now = options_.clock();
  {
    absl::MutexLock lock(&mu_);
    auto it = challenges_.find(envelope.payload());
    if (it == challenges_.end()) {
      return absl::UnauthenticatedError(
          "the signed challenge is not one this server issued, or was already used: ask for a "
          "new one (Session/Challenge)");
    }
    const absl::Time expires = it->second.expires_at;
    challenges_.erase(it);  // single use, whatever comes next
    if (now >= expires) {
      return absl::UnauthenticatedError(
          "the signed challenge has expired: ask for a new one (Session/Challenge)");
    }
  }
  const veta::v1::Signature& sig = envelope.signatures(0);
  std::shared_ptr<const KeyInfo> info = ledger_->keys().Find(sig.keyid());
  if (info == nullptr || info->revoked_at != 0) {
    return absl::UnauthenticatedError(
        StrCat("the key ", sig.keyid(), " is not registered in this ledger (or was revoked)"));
  }
  if (absl::Status s =
          info->key.Verify(Pae(envelope.payload_type(), envelope.payload()), sig.sig());
      !s.ok()) {
    return absl::UnauthenticatedError(StrCat("the signature of key ", sig.keyid(),
                                             " does not verify over the challenge: ", s.message()));
  }
  const Caller caller = CallerForKey(info.get(), ledger_->store(), ledger_->size());
  if (caller.role == Role::kPublic) {
    return absl::UnauthenticatedError(StrCat("the key ", sig.keyid(),
                                             " belongs to no registered party, registrar or "
                                             "regulator in force"));
  }
  Session session{Base64Url(RandomBytes()), sig.keyid(), now + options_.session_ttl};
  absl::MutexLock lock(&mu_);
  // The key's own bound first: its oldest sessions end to make room for this one.
  for (;;) {
    auto oldest = sessions_.end();
    size_t held = 0;
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.keyid != session.keyid) continue;
      ++held;
      if (oldest == sessions_.end() || it->second.expires_at < oldest->second.expires_at) {
        oldest = it;
      }
    }
    if (held < std::max<size_t>(1, options_.sessions_per_key_max)) break;
    sessions_.erase(oldest);
  }
  if (sessions_.size() >= options_.sessions_max) DropExpiredLocked(now);
  if (sessions_.size() >= options_.sessions_max) {
    return absl::ResourceExhaustedError(
        StrCat("the server has ", sessions_.size(), " sessions open, its limit: retry later"));
  }
  Session stored = session;
  stored.token.clear();
  sessions_.emplace(TokenKey(session.token), std::move(stored));
  return session;
}

absl::StatusOr<Sessions::Session> Sessions::Find(std::string_view token) const {
  const absl::Time now = options_.clock();
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(TokenKey(token));
  if (it == sessions_.end() || now >= it->second.expires_at) {
    return absl::UnauthenticatedError(
        "the session token is unknown or has expired: sign in again (Session/Challenge, "
        "Session/SignIn)");
  }
  return it->second;
}

void Sessions::SignOut(std::string_view token) {
  absl::MutexLock lock(&mu_);
  sessions_.erase(TokenKey(token));
}

size_t Sessions::challenges() const {
  absl::MutexLock lock(&mu_);
  return challenges_.size();
}

size_t Sessions::sessions() const {
  absl::MutexLock lock(&mu_);
  return sessions_.size();
}

void Sessions::DropExpiredLocked(absl::Time now) {
  std::erase_if(challenges_, [now](const auto& c) { return now >= c.second.expires_at; });
  std::erase_if(sessions_, [now](const auto& s) { return now >= s.second.expires_at; });
}

}  // namespace veta::server
