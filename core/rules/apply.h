// The one way an entry changes the ledger's state. The sequencer (Ledger::ProcessBatch), the
// start-up replay of entries the state has not applied yet (Ledger::Load), veta-audit's
// replay of the whole log and any follower call ApplyEntry, so that what a replay rebuilds is
// what the sequencer wrote: there is no second copy of the rules to keep in step.
#pragma once

#include <cstdint>

#include "core/log/keyring.h"
#include "core/rules/key_registrations.h"
#include "core/rules/registry.h"
#include "core/storage/store.h"
#include "core/verify/envelope.h"

namespace veta {

// Judges `envelope` as entry `sequence` at entry time `time_micros`, against the committed
// state (`registry`, `keys`) plus what earlier entries of the same batch changed (`delta`).
// Accepted, with `batch` given: its effects are staged in `delta` and every row of the state
// it derives (keys, registry versions, lots, indexes, counters, red flags) put in `batch`;
// Registry::Commit(delta) makes them the committed state once the batch is durable. The log's
// own rows (entry, leaf, statement, tree) are the sequencer's. `batch` null: a dry run, which
// judges and changes nothing (a sale may then miss its counterpart's signature).
//
// The verdict is a refusal (a stable code, logged as an attempt by the sequencer), an
// `invalid` status (an entry no rule can judge: a second genesis; not logged), a storage
// `error` (no verdict; retry), or an acceptance with its effects.
[[nodiscard]] Verdict ApplyEntry(const DecodedEnvelope& envelope, uint64_t sequence,
                                 int64_t time_micros, const Registry& registry, const KeyRing& keys,
                                 Delta* delta, Batch* batch);

}  // namespace veta
