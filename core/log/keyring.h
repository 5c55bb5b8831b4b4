// The signing keys the ledger knows: the authority keys of the genesis entry and every key
// registered since. State derived from the log (rebuilt from the `keys` column family at
// start-up). Thread-safe: readers (signature verification, on many threads) take a shared
// lock; the sequencer adds keys after their entry is durable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/verify/envelope.h"
#include "core/verify/keys.h"

namespace veta {

struct KeyInfo {
  PublicKey key;
  std::string holder;
  bool authority = false;
  uint64_t registered_at = 0;  // sequence of the genesis or registration entry
  uint64_t revoked_at = 0;     // the key registration that revoked it (0: in force)
};

// The `keys` family's row of a key (veta.v1.KeyRecord), and back: what start-up loads. DataLoss
// naming the key when malformed.
std::string EncodeKeyRow(const KeyInfo& info);
[[nodiscard]] absl::StatusOr<std::shared_ptr<const KeyInfo>> DecodeKeyRow(std::string_view keyid,
                                                                          std::string_view row);

class KeyRing {
 public:
  std::shared_ptr<const KeyInfo> Find(std::string_view keyid) const ABSL_LOCKS_EXCLUDED(mu_);
  void Add(std::shared_ptr<const KeyInfo> info) ABSL_LOCKS_EXCLUDED(mu_);
  // Every key id under which this key (PublicKey::point_id) is known: one, unless a P-256 key
  // was also written in another encoding.
  std::vector<std::shared_ptr<const KeyInfo>> FindByPoint(std::string_view point_id) const
      ABSL_LOCKS_EXCLUDED(mu_);
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;  // readers share it
  std::unordered_map<std::string, std::shared_ptr<const KeyInfo>> keys_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::string, std::vector<std::string>> by_point_ ABSL_GUARDED_BY(mu_);
};

// Stage 1 of the write path, run in parallel: every signature is by a key the ledger knows
// (FailedPrecondition naming the key id otherwise) and verifies over PAE(type, payload)
// (Unauthenticated otherwise). A genesis envelope is checked against the keys it names.
[[nodiscard]] absl::Status VerifySignatures(const DecodedEnvelope& envelope, const KeyRing& keys);

}  // namespace veta
