// Browser sessions for the HTTP JSON API (veta.v1.Session, docs/HTTP_API.md): no passwords.
// The browser asks for a challenge (32 random bytes, single use, short-lived), signs it as a
// DSSE envelope with a key the ledger's key ring holds (a party's or a regulator's: the same
// keys a TLS client certificate carries), and trades it for a bearer token. A token names a
// key id only: who that key's holder is, and what the holder may do, is decided afresh on
// every call (LedgerService::Authorize), so a key dropped by a rotation stops working at once.
//
// Everything is in memory and bounded (challenges_max, sessions_max); a restart signs
// everyone out. Tokens are kept as their SHA-256, never in the clear. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/log/ledger.h"
#include "veta/v1/envelope.pb.h"

namespace veta::server {

// The payload_type of a signed challenge.
inline constexpr std::string_view kSessionChallengeType = "application/vnd.veta.session-challenge";

struct SessionOptions {
  absl::Duration challenge_ttl = absl::Minutes(2);
  absl::Duration session_ttl = absl::Minutes(15);
  // Most challenges and sessions held at once; past either, expired ones are dropped and, if
  // still full, the oldest challenge is dropped (a new session is refused, ResourceExhausted).
  size_t challenges_max = 10'000;
  size_t sessions_max = 10'000;
  // Most sessions one key holds at once; signing in past it ends that key's oldest session
  // (so one holder signing in over and over cannot fill sessions_max for everyone).
  size_t sessions_per_key_max = 8;
  // The clock (tests move it instead of waiting).
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

class Sessions {
 public:
  // `ledger` (its key ring and registry) must outlive this.
  Sessions(const veta::Ledger* ledger, SessionOptions options)
      : ledger_(ledger), options_(std::move(options)) {}

  struct Challenge {
    std::string bytes;  // 32 random bytes
    absl::Time expires_at;
  };
  // With challenges_max challenges outstanding, the oldest is dropped for the new one.
  [[nodiscard]] absl::StatusOr<Challenge> NewChallenge() ABSL_LOCKS_EXCLUDED(mu_);

  struct Session {
    std::string token;  // only in SignIn's answer
    std::string keyid;
    absl::Time expires_at;
  };
  // Checks the envelope: payload_type kSessionChallengeType, payload an outstanding challenge
  // (used up by this call, whatever its outcome), exactly one signature, by a key the key ring
  // holds and has not revoked, belonging to a registered holder (not the public), verifying over
  // PAE(payload_type, payload). InvalidArgument for a malformed envelope, Unauthenticated for
  // an unknown, expired or used challenge, an unknown key or a bad signature;
  // ResourceExhausted when sessions_max sessions are open.
  [[nodiscard]] absl::StatusOr<Session> SignIn(const veta::v1::Envelope& envelope)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The session of a token; Unauthenticated when unknown or expired.
  [[nodiscard]] absl::StatusOr<Session> Find(std::string_view token) const ABSL_LOCKS_EXCLUDED(mu_);
  // Ends a session (nothing when there is none).
  void SignOut(std::string_view token) ABSL_LOCKS_EXCLUDED(mu_);

  size_t challenges() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t sessions() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void DropExpiredLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const veta::Ledger* const ledger_;
  const SessionOptions options_;
  mutable absl::Mutex mu_;
  struct Issued {
    absl::Time expires_at;
    uint64_t serial;  // issue order: the lowest is the oldest
  };
  std::map<std::string, Issued> challenges_ ABSL_GUARDED_BY(mu_);  // bytes -> it
  uint64_t challenges_issued_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, Session> sessions_ ABSL_GUARDED_BY(mu_);  // SHA-256(token) -> it
};

}  // namespace veta::server
