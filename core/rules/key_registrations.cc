// Genesis and key registrations: who may add or revoke a signing key. A refusal here is
// KEY_REGISTRATION_REFUSED (ApplyEntry), logged as an attempt with the check's status code.
#include "core/rules/key_registrations.h"

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/rules/registry.h"

namespace veta {

namespace {

absl::Status CheckKeyRegistration(const DecodedEnvelope& d, uint64_t sequence, const KeyRing& keys,
                                  const std::unordered_map<std::string, uint64_t>& pending,
                                  std::shared_ptr<const KeyInfo>* new_key) {
  bool by_authority = false;
  for (const auto& sig : d.envelope.signatures()) {
    auto signer = keys.Find(sig.keyid());
    by_authority = by_authority || (signer != nullptr && signer->authority);
  }
  if (!by_authority) {
    return absl::PermissionDeniedError("a key registration must be signed by an authority key");
  }
  const auto& reg = d.key_registration;
  if (reg.holder().empty() || reg.holder().size() > 200) {
    return absl::InvalidArgumentError("a key registration needs a holder name (1-200 bytes)");
  }
  auto key = PublicKey::FromProto(reg.key());
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        StrCat("registered key is invalid: ", key.status().message()));
  }
  // "miner:RUC", "party:RUC"...: the holders of registry records' keys, whose keys are listed
  // (and dropped) in the record itself.
  if (const size_t colon = reg.holder().find(':');
      colon != std::string::npos && ParseRecordKind(reg.holder().substr(0, colon)).ok()) {
    return absl::InvalidArgumentError(
        StrCat("'", reg.holder(), "' names a registry record: its keys are listed in the ",
               "record (a new version adds or drops them), not registered apart"));
  }
  if (reg.revoke()) {
    auto existing = keys.Find(key->keyid());
    if (existing == nullptr || existing->authority || existing->holder != reg.holder() ||
        pending.count(key->keyid()) != 0) {
      return absl::FailedPreconditionError(
          StrCat("key ", key->keyid(), " is not a key registered to ", reg.holder(),
                 " by a key registration (a record's keys are dropped by a new version)"));
    }
    if (existing->revoked_at != 0) {
      return absl::FailedPreconditionError(
          StrCat("key ", key->keyid(), " was already revoked by entry ", existing->revoked_at));
    }
    *new_key = std::make_shared<const KeyInfo>(
        KeyInfo{*key, reg.holder(), false, existing->registered_at, sequence});
    return absl::OkStatus();
  }
  if (auto existing = keys.Find(key->keyid()); existing != nullptr) {
    return absl::AlreadyExistsError(StrCat("key ", key->keyid(), " is already registered (entry ",
                                           existing->registered_at, ")"));
  }
  if (auto it = pending.find(key->keyid()); it != pending.end()) {
    return absl::AlreadyExistsError(
        StrCat("key ", key->keyid(), " is already registered (entry ", it->second, ")"));
  }
  *new_key = std::make_shared<const KeyInfo>(KeyInfo{*key, reg.holder(), false, sequence});
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckKeyUnheld(const KeyInfo& key, const KeyRing& keys, const Delta& delta) {
  std::vector<std::shared_ptr<const KeyInfo>> same = keys.FindByPoint(key.key.point_id());
  for (const auto& [keyid, staged] : delta.keys) {
    if (staged->key.point_id() == key.key.point_id()) same.push_back(staged);
  }
  for (const auto& info : same) {
    if (info->key.keyid() == key.key.keyid()) continue;
    return absl::AlreadyExistsError(StrCat("key ", key.key.keyid(), " is key ", info->key.keyid(),
                                           " in another encoding, already registered to ",
                                           info->holder, ": a key identifies one holder"));
  }
  return absl::OkStatus();
}

absl::Status CheckRules(const DecodedEnvelope& d, uint64_t sequence, const KeyRing& keys,
                        const std::unordered_map<std::string, uint64_t>& pending,
                        std::shared_ptr<const KeyInfo>* new_key) {
  switch (d.kind) {
    case PayloadKind::kGenesis:
      if (sequence != 0) {
        return absl::FailedPreconditionError(
            "this ledger already has its genesis entry (entry 0); a genesis cannot be added");
      }
      if (d.genesis.authority_keys().empty() || d.genesis.origin().empty()) {
        return absl::InvalidArgumentError("a genesis names an origin and authority keys");
      }
      if (d.envelope.signatures_size() != d.genesis.authority_keys_size()) {
        return absl::InvalidArgumentError("a genesis is signed by every authority key it names");
      }
      return absl::OkStatus();
    case PayloadKind::kKeyRegistration:
      return CheckKeyRegistration(d, sequence, keys, pending, new_key);
    case PayloadKind::kMemo:
    case PayloadKind::kRegistry:
    case PayloadKind::kExtraction:
    case PayloadKind::kSale:
    case PayloadKind::kProcessing:
    case PayloadKind::kExport:
    case PayloadKind::kCorrection:
    case PayloadKind::kFlagClearance:
      // The registry's origin rules (registry.h) judge all but memos.
      if (sequence == 0) return absl::FailedPreconditionError("entry 0 must be the genesis");
      return absl::OkStatus();
  }
  return absl::InternalError("unknown payload kind");
}

}  // namespace veta
