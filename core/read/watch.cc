#include "core/read/watch.h"

#include <algorithm>

#include "core/base/check.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/read/queries.h"
#include "core/rules/registry.h"
#include "core/storage/schema.h"
#include "core/verify/envelope.h"

namespace veta {
namespace {

bool SeesAll(const Caller& caller) {
  return caller.role == Role::kOperator || caller.role == Role::kRegulator;
}

bool IsParty(const Caller& caller) {
  return caller.role == Role::kMiner || caller.role == Role::kSelector ||
         caller.role == Role::kTrader || caller.role == Role::kPlant ||
         caller.role == Role::kExporter;
}

// The holder of `unit` as of the first `visible` entries ("" when none), cached.
std::string HolderOf(const Reader& store, const std::string& unit, uint64_t visible,
                     std::map<std::string, std::string>* cache) {
  if (unit.empty()) return "";
  if (auto it = cache->find(unit); it != cache->end()) return it->second;
  auto record = GetRecordAsOf(store, RecordKind::kUnit, unit, visible);
  std::string holder = record.ok() ? record->record.unit().holder_ruc() : "";
  // A unit may change hands: cached until the cache is cleared (per scan of new entries).
  cache->emplace(unit, holder);
  return holder;
}

// The unit an entry names: an extraction's, a unit record's.
std::string UnitOf(const DecodedEnvelope& d) {
  if (d.kind == PayloadKind::kExtraction) return d.extraction.unit_code();
  if (d.kind == PayloadKind::kRegistry) {
    auto [kind, id] = RecordKey(d.registry);
    if (kind == RecordKind::kUnit) return id;
  }
  return "";
}

}  // namespace

absl::StatusOr<WatchPosition> WatchEnd(const Reader& store, uint64_t entries_end) {
  WatchPosition end;
  end.next_sequence = entries_end;
  std::unique_ptr<Cursor> last = store.NewCursor(Family::kAttempts);
  last->SeekToLast();
  RETURN_IF_ERROR(Annotate(last->status(), "find the attempts log's end"));
  if (last->Valid()) {
    if (!DecodeU64(last->key(), &end.next_attempt)) {
      return absl::DataLossError("malformed attempt key");
    }
    ++end.next_attempt;
  }
  return end;
}

absl::Status CheckWatchFilter(const WatchFilter& filter) {
  veta::v1::Refusal refusal;
  if (!filter.refusal.empty() && !veta::v1::Refusal_Parse(filter.refusal, &refusal)) {
    return absl::InvalidArgumentError(StrCat("unknown refusal code '", filter.refusal, "'"));
  }
  veta::v1::RedFlag flag;
  if (!filter.flag.empty() && !veta::v1::RedFlag_Parse(filter.flag, &flag)) {
    return absl::InvalidArgumentError(StrCat("unknown red flag '", filter.flag, "'"));
  }
  if (!filter.refusal.empty() && !filter.flag.empty()) {
    return absl::InvalidArgumentError(
        "a refusal code filters attempts and a red flag entries: give one or the other");
  }
  return absl::OkStatus();
}

absl::Status ScanWatch(const Reader& store, const Caller& caller, const WatchFilter& filter,
                       uint64_t entries_end, size_t scan_max, WatchPosition* pos,
                       std::map<std::string, std::string>* unit_holders,
                       std::vector<WatchMatch>* out) {
  VETA_CHECK(scan_max > 0, "a scan reads something");
  unit_holders->clear();  // holders as of the entries now visible
  const bool party = IsParty(caller);
  // Entries.
  if (filter.refusal.empty() && pos->next_sequence < entries_end) {
    const uint64_t end = std::min<uint64_t>(entries_end, pos->next_sequence + scan_max);
    std::unique_ptr<Cursor> it = store.NewCursor(Family::kEntries);
    uint64_t seq = pos->next_sequence;
    for (it->Seek(EncodeU64(seq)); it->Valid() && seq < end; it->Next(), ++seq) {
      uint64_t key = 0;
      if (!DecodeU64(it->key(), &key) || key != seq) {
        return absl::DataLossError(StrCat("entry ", seq, " is missing from the store"));
      }
      veta::v1::Entry entry;
      if (!entry.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError(StrCat("entry ", seq, " is malformed"));
      }
      auto d = DecodeEnvelope(entry.envelope(), {});
      if (!d.ok()) return absl::DataLossError(StrCat("entry ", seq, ": ", d.status().message()));
      const EntryParties parties = PartiesOf(*d);
      const std::string unit = UnitOf(*d);
      const auto names = [&](const std::string& p) {
        return std::find(parties.parties.begin(), parties.parties.end(), p) !=
               parties.parties.end();
      };
      bool visible = SeesAll(caller) || MayReadEntry(caller, parties) ||
                     (party && !unit.empty() &&
                      HolderOf(store, unit, entries_end, unit_holders) == caller.party_id);
      if (!visible) continue;
      if (!filter.party.empty() && !names(filter.party)) continue;
      if (!filter.unit.empty() && unit != filter.unit) continue;
      WatchMatch m;
      ASSIGN_OR_RETURN(auto flags, ListFlags(store, {}, seq, 64, seq + 1));
      for (const auto& f : flags) m.flags.push_back(f.flag());
      if (!filter.flag.empty() &&
          std::none_of(m.flags.begin(), m.flags.end(), [&](veta::v1::RedFlag f) {
            return veta::v1::RedFlag_Name(f) == filter.flag;
          })) {
        continue;
      }
      m.is_entry = true;
      m.sequence = seq;
      m.entry_bytes = std::string(it->value());
      out->push_back(std::move(m));
    }
    RETURN_IF_ERROR(Annotate(it->status(), "watch entries"));
    pos->next_sequence = seq;
  } else if (!filter.refusal.empty()) {
    pos->next_sequence = std::max(pos->next_sequence, entries_end);  // entries never match
  }
  // Attempts: the public and registrars read none.
  if (!filter.flag.empty() || !(SeesAll(caller) || party)) {
    // Nothing to scan; the position follows the attempts log's end.
    ASSIGN_OR_RETURN(const WatchPosition end, WatchEnd(store, entries_end));
    pos->next_attempt = std::max(pos->next_attempt, end.next_attempt);
    return absl::OkStatus();
  }
  std::unique_ptr<Cursor> it = store.NewCursor(Family::kAttempts);
  size_t scanned = 0;
  for (it->Seek(EncodeU64(pos->next_attempt)); it->Valid() && scanned < scan_max;
       it->Next(), ++scanned) {
    uint64_t number = 0;
    if (!DecodeU64(it->key(), &number)) return absl::DataLossError("malformed attempt key");
    veta::v1::Attempt a;
    if (!a.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(StrCat("attempt ", number, " is malformed"));
    }
    pos->next_attempt = number + 1;
    const auto names = [&](const std::string& p) {
      return std::find(a.parties().begin(), a.parties().end(), p) != a.parties().end();
    };
    const bool visible = SeesAll(caller) || names(caller.party_id) ||
                         (!a.unit_code().empty() && HolderOf(store, a.unit_code(), entries_end,
                                                             unit_holders) == caller.party_id);
    if (!visible) continue;
    if (!filter.party.empty() && !names(filter.party)) continue;
    if (!filter.unit.empty() && a.unit_code() != filter.unit) continue;
    if (!filter.refusal.empty() && veta::v1::Refusal_Name(a.refusal()) != filter.refusal) continue;
    WatchMatch m;
    m.attempt = std::move(a);
    out->push_back(std::move(m));
  }
  return Annotate(it->status(), "watch attempts");
}

}  // namespace veta
