// The rules of the log's own entries: the genesis, and key registrations (keys of regulators
// and others who hold no registry record; a record's keys are listed in the record).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "absl/status/status.h"
#include "core/log/keyring.h"
#include "core/verify/envelope.h"

namespace veta {

// Stage 2, in the sequencer, against the state as it stands after every earlier entry:
// whether `envelope` may become entry `sequence`. `pending` holds the keys registered by
// earlier entries of the same batch (not yet in `keys`). On success, a key registration's
// new key is returned in `*new_key`.
[[nodiscard]] absl::Status CheckRules(const DecodedEnvelope& envelope, uint64_t sequence,
                                      const KeyRing& keys,
                                      const std::unordered_map<std::string, uint64_t>& pending,
                                      std::shared_ptr<const KeyInfo>* new_key);

struct Delta;
// Rules v3: a key registered by a key registration is no key held under another key id (the
// same P-256 key in another encoding), by any holder, committed or staged by `delta`.
// AlreadyExists naming the holder otherwise.
[[nodiscard]] absl::Status CheckKeyUnheld(const KeyInfo& key, const KeyRing& keys,
                                          const Delta& delta);

}  // namespace veta
