#include "core/read/watch.h"

#include <algorithm>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/read/queries.h"
#include "core/rules/registry.h"
#include "core/storage/schema.h"
#include "core/verify/envelope.h"
#include "core/verify/merkle.h"

namespace veta {

absl::StatusOr<WatchFilter> MakeWatchFilter(const Caller& caller, std::string party,
                                            std::string unit, std::string_view refusal,
                                            std::string_view red_flag) {
  WatchFilter f;
  if (!refusal.empty() && !veta::v1::Refusal_Parse(std::string(refusal), &f.refusal)) {
    return absl::InvalidArgumentError(StrCat("unknown refusal code '", refusal, "'"));
  }
  if (!red_flag.empty() && !veta::v1::RedFlag_Parse(std::string(red_flag), &f.red_flag)) {
    return absl::InvalidArgumentError(
        StrCat("unknown red flag '", red_flag, "' (veta flags --codes lists them)"));
  }
  if (f.refusal != veta::v1::REFUSAL_UNSPECIFIED && f.red_flag != veta::v1::RED_FLAG_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        "a refusal names attempts and a red flag names entries: watch one or the other");
  }
  const bool all = caller.role == Role::kOperator || caller.role == Role::kRegulator;
  if (!all && !party.empty() && party != caller.party_id) {
    return absl::PermissionDeniedError(
        StrCat("a ", RoleName(caller.role), " watches only what names itself",
               caller.party_id.empty() ? std::string() : StrCat(" (", caller.party_id, ")"),
               " or its units; a regulator watches any party"));
  }
  f.party = std::move(party);
  f.unit = std::move(unit);
  return f;
}

bool Watcher::SeesAll() const {
  return caller_.role == Role::kOperator || caller_.role == Role::kRegulator;
}

absl::StatusOr<bool> Watcher::Holds(const std::string& unit, uint64_t visible) {
  if (unit.empty() || caller_.party_id.empty()) return false;
  if (visible != holds_visible_) {  // a unit may have changed hands since: read again
    holds_.clear();
    holds_visible_ = visible;
  }
  if (auto it = holds_.find(unit); it != holds_.end()) return it->second;
  bool holds = false;
  auto record = GetRecordAsOf(store_, RecordKind::kUnit, unit, visible);
  if (record.ok()) {
    holds = record->record.unit().holder_ruc() == caller_.party_id;
  } else if (!absl::IsNotFound(record.status())) {
    return record.status();
  }
  holds_.emplace(unit, holds);
  return holds;
}

absl::StatusOr<bool> Watcher::EntryMatches(uint64_t sequence, const veta::v1::Entry& entry,
                                           std::vector<veta::v1::Flag>* flags) {
  if (filter_.refusal != veta::v1::REFUSAL_UNSPECIFIED) return false;  // attempts only
  auto decoded = DecodeEnvelope(entry.envelope(), EnvelopeLimits{});
  if (!decoded.ok()) {
    return absl::DataLossError(
        StrCat("entry ", sequence,
               " holds an envelope that does not decode: ", decoded.status().message()));
  }
  const EntryParties parties = PartiesOf(*decoded);
  // Whom and which unit the entry names: its parties; a registry record names its holder (a
  // unit's record, the unit and its holder).
  std::vector<std::string> named = parties.parties;
  std::string unit;
  if (decoded->kind == PayloadKind::kExtraction) unit = decoded->extraction.unit_code();
  if (decoded->kind == PayloadKind::kRegistry) {
    if (decoded->registry.has_unit()) {
      unit = RecordKey(decoded->registry).second;
      named.push_back(decoded->registry.unit().holder_ruc());
    } else {
      named.push_back(RecordKey(decoded->registry).second);
    }
  }
  const auto names = [&](const std::string& party) {
    return !party.empty() && std::find(named.begin(), named.end(), party) != named.end();
  };
  if (!SeesAll()) {
    if (IsPartyRole(caller_.role)) {
      if (!names(caller_.party_id)) {
        // The unit's holder when the entry was sequenced: a unit's new holder does not read
        // what its previous holders did there (GetEntry would not show it either).
        ASSIGN_OR_RETURN(bool holds, Holds(unit, sequence + 1));
        if (!holds) return false;
      }
    } else if (!parties.is_public) {
      return false;  // the public and registrars: the registry's entries
    }
  }
  if (!filter_.party.empty() && !names(filter_.party)) return false;
  if (!filter_.unit.empty() && unit != filter_.unit) return false;
  ASSIGN_OR_RETURN(*flags, ListFlags(store_, EvidenceFilter{}, sequence, 64, sequence + 1));
  if (!SeesAll()) {  // as ListFlags serves them: a party, the flags naming it; others, none
    std::erase_if(*flags, [&](const veta::v1::Flag& f) {
      return !IsPartyRole(caller_.role) || std::find(f.parties().begin(), f.parties().end(),
                                                     caller_.party_id) == f.parties().end();
    });
  }
  if (filter_.red_flag != veta::v1::RED_FLAG_UNSPECIFIED &&
      std::none_of(flags->begin(), flags->end(),
                   [&](const veta::v1::Flag& f) { return f.flag() == filter_.red_flag; })) {
    return false;
  }
  return true;
}

absl::StatusOr<bool> Watcher::AttemptMatches(const veta::v1::Attempt& a, uint64_t visible) {
  if (filter_.red_flag != veta::v1::RED_FLAG_UNSPECIFIED) return false;  // entries only
  const bool names_caller =
      std::find(a.parties().begin(), a.parties().end(), caller_.party_id) != a.parties().end();
  if (!SeesAll()) {
    if (!IsPartyRole(caller_.role)) return false;  // the public: no attempts
    if (!names_caller) {
      // The unit's holder when the attempt was judged (against the first ledger_size entries).
      ASSIGN_OR_RETURN(bool holds, Holds(a.unit_code(), std::min(a.ledger_size(), visible)));
      if (!holds) return false;
    }
  }
  if (!filter_.party.empty() &&
      std::find(a.parties().begin(), a.parties().end(), filter_.party) == a.parties().end()) {
    return false;
  }
  if (!filter_.unit.empty() && a.unit_code() != filter_.unit) return false;
  if (filter_.refusal != veta::v1::REFUSAL_UNSPECIFIED && a.refusal() != filter_.refusal) {
    return false;
  }
  return true;
}

absl::StatusOr<std::vector<WatchItem>> Watcher::Read(WatchPosition* position, uint64_t entries,
                                                     uint64_t attempts, size_t max_items,
                                                     size_t max_scan) {
  std::vector<WatchItem> out;
  size_t scanned = 0;
  while (position->next_sequence < entries && out.size() < max_items && scanned < max_scan) {
    const uint64_t seq = position->next_sequence;
    ASSIGN_OR_RETURN(std::string bytes, store_.Get(Family::kEntries, EncodeU64(seq)));
    ++scanned;
    ++position->next_sequence;
    WatchItem item;
    if (!item.entry.ParseFromString(bytes)) {
      return absl::DataLossError(StrCat("entry ", seq, " does not parse"));
    }
    ASSIGN_OR_RETURN(bool match, EntryMatches(seq, item.entry, &item.flags));
    if (!match) continue;
    item.sequence = seq;
    item.leaf_hash = merkle::HashLeaf(bytes);
    item.entry_bytes = std::move(bytes);
    item.after = *position;
    out.push_back(std::move(item));
  }
  scanned = 0;
  while (position->next_attempt < attempts && out.size() < max_items && scanned < max_scan) {
    const uint64_t number = position->next_attempt;
    ASSIGN_OR_RETURN(std::string bytes, store_.Get(Family::kAttempts, EncodeU64(number)));
    ++scanned;
    ++position->next_attempt;
    veta::v1::Attempt a;
    if (!a.ParseFromString(bytes)) {
      return absl::DataLossError(StrCat("attempt ", number, " does not parse"));
    }
    ASSIGN_OR_RETURN(bool match, AttemptMatches(a, entries));
    if (!match) continue;
    WatchItem item;
    item.attempt = std::move(a);
    item.after = *position;
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace veta
