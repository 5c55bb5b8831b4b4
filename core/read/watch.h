// Watching the ledger: the accepted entries and refused attempts after a position that match a
// filter and that a caller may see ("¿quién vende a mi nombre?"). The server streams what this
// returns (LedgerService::Watch); this module decides what matches and what may be seen.
//
// Who sees what (core/read/access.h's matrix, for a stream):
//   regulator, local operator  every entry and every attempt
//   party (miner, selector,    the entries naming it (PartiesOf) or a unit it holds (the
//   trader, plant, exporter)   extraction's unit, the unit's registry record), and the
//                              attempts naming it or one of its units: a seller using its
//                              name, an extraction declared on its concession, a stolen key
//   public, registrar          the registry's entries (records are public), no attempts
// A unit is the caller's when the unit's registry record named it as holder when the entry was
// sequenced (or the attempt judged): a new holder does not read its predecessors' history. A
// party sees the red flags of an entry that name it (as ListFlags serves them).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/read/access.h"
#include "core/storage/store.h"
#include "core/verify/sha256.h"
#include "veta/v1/ledger.pb.h"
#include "veta/v1/registry.pb.h"

namespace veta {

struct WatchFilter {
  std::string party;                                            // a RUC or DNI named
  std::string unit;                                             // a unit code named
  veta::v1::Refusal refusal = veta::v1::REFUSAL_UNSPECIFIED;    // set: attempts refused so only
  veta::v1::RedFlag red_flag = veta::v1::RED_FLAG_UNSPECIFIED;  // set: entries raising it only
};

// Checks the names in a request and that the caller's role lets it watch that filter: a
// party may not filter on another party (it would learn nothing, but the request shows a
// misunderstanding worth a clear error). InvalidArgument / PermissionDenied.
absl::StatusOr<WatchFilter> MakeWatchFilter(const Caller& caller, std::string party,
                                            std::string unit, std::string_view refusal,
                                            std::string_view red_flag);

struct WatchPosition {
  uint64_t next_sequence = 0;  // the first entry not yet looked at
  uint64_t next_attempt = 0;   // the first attempt not yet looked at
};

// One event: an accepted entry (with the flags it raised) or a refused attempt.
struct WatchItem {
  std::optional<uint64_t> sequence;  // set for an entry
  std::string entry_bytes;           // the stored entry (veta.v1.Entry)
  Hash leaf_hash{};
  veta::v1::Entry entry;
  std::vector<veta::v1::Flag> flags;
  std::optional<veta::v1::Attempt> attempt;  // set for an attempt
  WatchPosition after;                       // where to resume after this item
};

// Reads forward from `*position`, up to the first `entries` entries and `attempts` attempts
// (what is durable), and returns at most `max_items` items the caller may see that match,
// entries first then attempts, each in order; `*position` moves past everything looked at.
// Reads at most `max_scan` entries and `max_scan` attempts per call, so a narrow filter on a
// busy ledger returns (perhaps nothing) in bounded time. Thread-safe: reads only `store`.
class Watcher {
 public:
  Watcher(const Reader& store, Caller caller, WatchFilter filter)
      : store_(store), caller_(std::move(caller)), filter_(std::move(filter)) {}

  absl::StatusOr<std::vector<WatchItem>> Read(WatchPosition* position, uint64_t entries,
                                              uint64_t attempts, size_t max_items,
                                              size_t max_scan = 4096);

 private:
  bool SeesAll() const;
  // Whether the caller holds the unit, as the registry stands after `visible` entries.
  absl::StatusOr<bool> Holds(const std::string& unit, uint64_t visible);
  absl::StatusOr<bool> EntryMatches(uint64_t sequence, const veta::v1::Entry& entry,
                                    std::vector<veta::v1::Flag>* flags);
  absl::StatusOr<bool> AttemptMatches(const veta::v1::Attempt& attempt, uint64_t visible);

  const Reader& store_;
  const Caller caller_;
  const WatchFilter filter_;
  std::map<std::string, bool> holds_;  // unit -> the caller holds it (cache)
  uint64_t holds_visible_ = 0;         // the registry size the cache was read at
};

}  // namespace veta
