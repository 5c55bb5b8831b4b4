#include "core/read/queries.h"

#include "core/base/status_macros.h"
#include "core/base/strings.h"

namespace veta {
namespace {

// Caps the keys one query may walk past (filtered-out versions included).
constexpr size_t kScanMax = 200000;

absl::Status CheckLimit(size_t limit) {
  if (limit > kPageMax) {
    return absl::InvalidArgumentError(
        StrCat("a page holds at most ", kPageMax, " items; ", limit, " were asked for"));
  }
  return absl::OkStatus();
}

const veta::v1::StatusInfo* StatusOf(const veta::v1::RegistryRecord& r) {
  if (r.has_miner()) return &r.miner().status();
  if (r.has_unit()) return &r.unit().status();
  if (r.has_party()) return &r.party().status();
  if (r.has_selector()) return &r.selector().status();
  return nullptr;
}

bool Matches(const veta::v1::RegistryRecord& r, const RecordFilter& f) {
  if (f.status != veta::v1::REGISTRY_STATUS_UNSPECIFIED) {
    const auto* st = StatusOf(r);
    if (st == nullptr || st->status() != f.status) return false;
  }
  if (!f.department.empty() && (!r.has_unit() || r.unit().ubigeo().rfind(f.department, 0) != 0)) {
    return false;
  }
  if (f.party_kind != veta::v1::PARTY_KIND_UNSPECIFIED &&
      (!r.has_party() || r.party().kind() != f.party_kind)) {
    return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<RecordVersion> GetRecordAsOf(const Reader& store, RecordKind kind,
                                            std::string_view id, uint64_t as_of) {
  const std::string not_found = StrCat(RecordKindName(kind), " ", id, " is not registered",
                                       as_of > 0 ? StrCat(" as of entry ", as_of - 1) : "");
  if (as_of == 0) return absl::NotFoundError(not_found);
  const std::string target = RecordVersionKey(kind, id, as_of - 1);
  const std::string_view prefix(target.data(), target.size() - 8);
  std::unique_ptr<Cursor> it = store.NewCursor(Family::kRegistry);
  it->SeekForPrev(target);
  RETURN_IF_ERROR(Annotate(it->status(), "read the registry"));
  if (!it->Valid() || !it->key().starts_with(prefix) || it->key().size() != target.size()) {
    return absl::NotFoundError(not_found);
  }
  RecordVersion v;
  if (!DecodeU64(it->key().substr(prefix.size()), &v.sequence)) {
    return absl::DataLossError(StrCat("registry record ", id, " has a malformed key"));
  }
  if (!v.record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
    return absl::DataLossError(StrCat("registry record ", id, " is malformed"));
  }
  return v;
}

absl::StatusOr<std::vector<RecordVersion>> ListRecords(const Reader& store, RecordKind kind,
                                                       const RecordFilter& filter,
                                                       std::string_view after_id, size_t limit,
                                                       uint64_t as_of) {
  RETURN_IF_ERROR(CheckLimit(limit));
  if (limit == 0) limit = 100;
  std::vector<RecordVersion> out;
  const std::string kind_prefix(1, static_cast<char>(kind));
  std::string start = kind_prefix;
  if (!after_id.empty()) {
    start.append(after_id);
    start.push_back('\x01');  // past every version of after_id (its keys continue with 0x00)
  }
  std::unique_ptr<Cursor> it = store.NewCursor(Family::kRegistry);
  std::string current_id;
  std::optional<RecordVersion> best;  // latest visible version of current_id
  auto flush = [&] {
    if (best && Matches(best->record, filter)) out.push_back(std::move(*best));
    best.reset();
  };
  size_t scanned = 0;
  for (it->Seek(start); it->Valid() && it->key().starts_with(kind_prefix) && out.size() < limit;
       it->Next()) {
    if (++scanned > kScanMax) {
      return absl::ResourceExhaustedError(
          StrCat("the listing walked ", kScanMax, " versions; narrow it or page from the last id"));
    }
    const std::string_view key = it->key();
    if (key.size() < 10) return absl::DataLossError("malformed registry key");
    const std::string_view id = key.substr(1, key.size() - 10);
    uint64_t seq = 0;
    if (!DecodeU64(key.substr(key.size() - 8), &seq))
      return absl::DataLossError("malformed registry key");
    if (id != current_id) {
      flush();
      current_id = std::string(id);
    }
    if (seq >= as_of) continue;
    RecordVersion v;
    v.sequence = seq;
    if (!v.record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("malformed registry record");
    }
    best = std::move(v);
  }
  RETURN_IF_ERROR(Annotate(it->status(), "list the registry"));
  if (out.size() < limit) flush();
  return out;
}

absl::StatusOr<veta::v1::Lot> GetLot(const Reader& store, std::string_view lot_id) {
  auto bytes = store.Get(Family::kState, LotKey(lot_id));
  if (absl::IsNotFound(bytes.status())) {
    return absl::NotFoundError(StrCat("lot ", lot_id, " does not exist"));
  }
  RETURN_IF_ERROR(bytes.status());
  veta::v1::Lot lot;
  if (!lot.ParseFromString(*bytes)) return absl::DataLossError("malformed lot record");
  return lot;
}

const std::string& UnitDepartments::Of(const std::string& unit) {
  auto [it, added] = cache_.try_emplace(unit);
  if (added) {
    auto v = GetRecordAsOf(store_, RecordKind::kUnit, unit, as_of_);
    if (v.ok()) it->second = v->record.unit().ubigeo().substr(0, 2);
  }
  return it->second;
}

absl::StatusOr<std::vector<veta::v1::Attempt>> ListAttempts(const Reader& store,
                                                            const EvidenceFilter& filter,
                                                            uint64_t start, size_t limit) {
  RETURN_IF_ERROR(CheckLimit(limit));
  if (limit == 0) limit = 100;
  std::vector<veta::v1::Attempt> out;
  auto load = [&](uint64_t number) -> absl::Status {
    auto bytes = store.Get(Family::kAttempts, EncodeU64(number));
    RETURN_IF_ERROR(bytes.status());
    veta::v1::Attempt a;
    if (!a.ParseFromString(*bytes)) return absl::DataLossError("malformed attempt");
    out.push_back(std::move(a));
    return absl::OkStatus();
  };
  std::string prefix;
  if (!filter.party.empty()) prefix = AttemptsByPartyPrefix(filter.party);
  if (!filter.unit.empty()) prefix = AttemptsByUnitPrefix(filter.unit);
  if (!filter.refusal.empty()) prefix = AttemptsByRefusalPrefix(filter.refusal);
  if (prefix.empty()) {
    std::unique_ptr<Cursor> it = store.NewCursor(Family::kAttempts);
    for (it->Seek(EncodeU64(start)); it->Valid() && out.size() < limit; it->Next()) {
      veta::v1::Attempt a;
      if (!a.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError("malformed attempt");
      }
      out.push_back(std::move(a));
    }
    RETURN_IF_ERROR(Annotate(it->status(), "list attempts"));
    return out;
  }
  std::unique_ptr<Cursor> it = store.NewCursor(Family::kEvidence);
  for (it->Seek(prefix + EncodeU64(start));
       it->Valid() && it->key().starts_with(prefix) && out.size() < limit; it->Next()) {
    uint64_t number = 0;
    if (!DecodeU64(it->key().substr(prefix.size()), &number)) {
      return absl::DataLossError("malformed attempt index");
    }
    RETURN_IF_ERROR(load(number));
  }
  RETURN_IF_ERROR(Annotate(it->status(), "list attempts"));
  return out;
}

absl::StatusOr<std::vector<veta::v1::Flag>> ListFlags(const Reader& store,
                                                      const EvidenceFilter& filter,
                                                      uint64_t start_sequence, size_t limit,
                                                      uint64_t visible) {
  RETURN_IF_ERROR(CheckLimit(limit));
  if (limit == 0) limit = 100;
  std::vector<veta::v1::Flag> out;
  std::string prefix(kFlagPrefix);
  if (!filter.party.empty()) prefix = FlagsByPartyPrefix(filter.party);
  if (!filter.unit.empty()) prefix = FlagsByUnitPrefix(filter.unit);
  std::unique_ptr<Cursor> it = store.NewCursor(Family::kEvidence);
  for (it->Seek(prefix + EncodeU64(start_sequence));
       it->Valid() && it->key().starts_with(prefix) && out.size() < limit; it->Next()) {
    const std::string_view id = it->key().substr(prefix.size());
    uint64_t seq = 0;
    if (id.size() != 9 || !DecodeU64(id.substr(0, 8), &seq)) {
      return absl::DataLossError("malformed flag key");
    }
    if (seq >= visible) break;
    std::string bytes;
    if (prefix == kFlagPrefix) {
      bytes = std::string(it->value());
    } else {
      ASSIGN_OR_RETURN(bytes, store.Get(Family::kEvidence, FlagKey(id)));
    }
    veta::v1::Flag flag;
    if (!flag.ParseFromString(bytes)) return absl::DataLossError("malformed flag");
    // Cleared by a registrar (rules v3) within what the caller sees: shown, not hidden.
    auto cleared = store.Get(Family::kState, FlagClearedKey(seq, flag.flag()));
    if (cleared.ok()) {
      ASSIGN_OR_RETURN(uint64_t by, DecodeSequence(*cleared, "a flag-cleared row"));
      if (by < visible) flag.set_cleared_by(by);
    } else if (!absl::IsNotFound(cleared.status())) {
      return cleared.status();
    }
    out.push_back(std::move(flag));
  }
  RETURN_IF_ERROR(Annotate(it->status(), "list flags"));
  return out;
}

}  // namespace veta
