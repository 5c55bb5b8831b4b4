// Watch ("¿quién vende a mi nombre?"): the accepted entries and refused attempts matching a
// filter, within what the caller may read, scanned from a position in both logs. The service
// (server/ledger_service.cc, rpc Watch) calls ScanWatch as the logs grow.
//
// What a caller sees (core/read/access.h):
//   - the operator and regulators: everything;
//   - a party (miner, selector, trader, plant, exporter): the entries it may read (naming it,
//     and the public registry's) and those naming a unit it holds (an extraction on it, its
//     record), and the attempts naming it or a unit it holds: a seller using its name, someone
//     extracting on its concession, a stolen key;
//   - the public and registrars: the registry's entries; no attempts.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/read/access.h"
#include "core/storage/store.h"
#include "veta/v1/ledger.pb.h"
#include "veta/v1/registry.pb.h"

namespace veta {

struct WatchFilter {
  std::string party;    // named by the entry or attempt
  std::string unit;     // named by the entry or attempt
  std::string refusal;  // a veta.v1.Refusal name: attempts only
  std::string flag;     // a veta.v1.RedFlag name: entries only
};

struct WatchPosition {
  uint64_t next_sequence = 0;  // the next entry to consider
  uint64_t next_attempt = 0;   // the next attempt to consider
};

struct WatchMatch {
  bool is_entry = false;
  uint64_t sequence = 0;  // an entry's
  std::string entry_bytes;
  std::vector<veta::v1::RedFlag> flags;
  veta::v1::Attempt attempt;  // an attempt's
};

// The end of both logs: where a watch "from now" starts.
[[nodiscard]] absl::StatusOr<WatchPosition> WatchEnd(const Reader& store, uint64_t entries_end);

// InvalidArgument for an unknown refusal or flag code.
[[nodiscard]] absl::Status CheckWatchFilter(const WatchFilter& filter);

// Scans entries [pos.next_sequence, entries_end) and the attempts from pos.next_attempt, at
// most `scan_max` of each, appending to `out` those that match and the caller may read, in
// order (entries first, then attempts), and advances `pos` past what it scanned. `unit_holders`
// caches who holds each unit (kept by the caller across scans).
[[nodiscard]] absl::Status ScanWatch(const Reader& store, const Caller& caller,
                                     const WatchFilter& filter, uint64_t entries_end,
                                     size_t scan_max, WatchPosition* pos,
                                     std::map<std::string, std::string>* unit_holders,
                                     std::vector<WatchMatch>* out);

}  // namespace veta
