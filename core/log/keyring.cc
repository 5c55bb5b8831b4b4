#include "core/log/keyring.h"

#include "core/base/status_macros.h"
#include "core/base/strings.h"

namespace veta {

std::shared_ptr<const KeyInfo> KeyRing::Find(std::string_view keyid) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = keys_.find(std::string(keyid));
  return it == keys_.end() ? nullptr : it->second;
}

void KeyRing::Add(std::shared_ptr<const KeyInfo> info) {
  absl::WriterMutexLock lock(&mu_);
  const std::string keyid = info->key.keyid();
  auto [it, added] = keys_.insert_or_assign(keyid, std::move(info));
  if (added) by_point_[it->second->key.point_id()].push_back(keyid);
}

std::vector<std::shared_ptr<const KeyInfo>> KeyRing::FindByPoint(std::string_view point_id) const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<std::shared_ptr<const KeyInfo>> out;
  auto it = by_point_.find(std::string(point_id));
  if (it == by_point_.end()) return out;
  for (const auto& keyid : it->second) out.push_back(keys_.at(keyid));
  return out;
}

size_t KeyRing::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return keys_.size();
}

absl::Status VerifySignatures(const DecodedEnvelope& d, const KeyRing& keys) {
  const std::string pae = Pae(d.envelope.payload_type(), d.envelope.payload());
  for (int i = 0; i < d.envelope.signatures_size(); ++i) {
    const auto& sig = d.envelope.signatures(i);
    std::shared_ptr<const KeyInfo> signer = keys.Find(sig.keyid());
    if (signer == nullptr && d.kind == PayloadKind::kGenesis) {
      for (const auto& proto : d.genesis.authority_keys()) {
        if (proto.keyid() != sig.keyid()) continue;
        ASSIGN_OR_RETURN(PublicKey key, PublicKey::FromProto(proto));
        signer = std::make_shared<const KeyInfo>(KeyInfo{key, "authority", true, 0});
      }
    }
    if (signer == nullptr) {
      return absl::FailedPreconditionError(
          StrCat("signature ", i, ": key ", sig.keyid(), " is not registered in this ledger"));
    }
    absl::Status s = signer->key.Verify(pae, sig.sig());
    if (!s.ok()) {
      return absl::UnauthenticatedError(StrCat("signature ", i, " by key ", sig.keyid(), " (",
                                               signer->holder,
                                               ") does not verify over this payload"));
    }
  }
  return absl::OkStatus();
}

std::string EncodeKeyRow(const KeyInfo& info) {
  veta::v1::KeyRecord row;
  *row.mutable_key() = info.key.ToProto();
  row.set_holder(info.holder);
  row.set_authority(info.authority);
  row.set_registered_at(info.registered_at);
  row.set_revoked_at(info.revoked_at);
  return row.SerializeAsString();
}

absl::StatusOr<std::shared_ptr<const KeyInfo>> DecodeKeyRow(std::string_view keyid,
                                                            std::string_view bytes) {
  veta::v1::KeyRecord row;
  if (!row.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      row.key().keyid() != keyid) {
    return absl::DataLossError(StrCat("the stored row of key ", keyid, " is malformed"));
  }
  auto key = PublicKey::FromProto(row.key());
  if (!key.ok()) {
    return absl::DataLossError(
        StrCat("the stored key ", keyid, " is not a valid key: ", key.status().message()));
  }
  return std::make_shared<const KeyInfo>(
      KeyInfo{*key, row.holder(), row.authority(), row.registered_at(), row.revoked_at()});
}

}  // namespace veta
