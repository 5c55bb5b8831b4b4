#include "core/rules/apply.h"

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/rules/rules_internal.h"
#include "core/storage/schema.h"

namespace veta {
namespace {

void PutKey(const std::shared_ptr<const KeyInfo>& info, uint64_t sequence, Delta* delta,
            Batch* batch) {
  batch->Put(Family::kKeys, info->key.keyid(), EncodeKeyRow(*info));
  delta->pending_keys[info->key.keyid()] = sequence;
  delta->StageKey(info);
}

}  // namespace

Verdict ApplyEntry(const DecodedEnvelope& d, uint64_t sequence, int64_t time_micros,
                   const Registry& registry, const KeyRing& keys, Delta* delta, Batch* batch) {
  std::shared_ptr<const KeyInfo> new_key;
  if (absl::Status s = CheckRules(d, sequence, keys, delta->pending_keys, &new_key); !s.ok()) {
    Verdict v;
    if (d.kind == PayloadKind::kKeyRegistration) {
      // Signed by registered keys, refused: evidence like any other refusal, with the code of
      // the check that refused it.
      v.refusal = veta::v1::KEY_REGISTRATION_REFUSED;
      v.message = std::string(s.message());
      v.status_code = s.code();
    } else {
      v.invalid = s;
    }
    return v;
  }
  // Rules v3: a key registered anew is not another holder's key in another encoding.
  if (new_key != nullptr && new_key->revoked_at == 0 && rules::V3(registry.parameters(*delta))) {
    if (absl::Status s = CheckKeyUnheld(*new_key, keys, *delta); !s.ok()) {
      Verdict v;
      v.refusal = veta::v1::KEY_REGISTRATION_REFUSED;
      v.message = std::string(s.message());
      v.status_code = s.code();
      return v;
    }
  }
  Verdict verdict =
      registry.Evaluate(d, sequence, time_micros, keys, *delta, /*dry_run=*/batch == nullptr);
  if (!verdict.ok() || batch == nullptr) return verdict;
  if (d.kind == PayloadKind::kGenesis) {
    for (const auto& proto : d.genesis.authority_keys()) {
      auto key = PublicKey::FromProto(proto);
      if (!key.ok()) {
        verdict.invalid = key.status();
        return verdict;
      }
      PutKey(std::make_shared<const KeyInfo>(KeyInfo{*key, "authority", true, sequence}), sequence,
             delta, batch);
    }
  }
  if (new_key != nullptr) PutKey(new_key, sequence, delta, batch);
  registry.Stage(verdict, sequence, delta, batch);
  return verdict;
}

}  // namespace veta
