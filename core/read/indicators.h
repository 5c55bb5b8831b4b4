// The national ASGM policy's traceability indicators, computed from the ledger as of an entry:
// the share of exported fine gold whose lineage reaches registered units in full (accepted,
// unflagged, uncorrected: what a certificate requires), volumes by department, and refused
// and flagged operations by reason.
//
// A full scan of lots, attempts and flags, bounded by named limits: meant for a regulator's
// periodic report, not for a hot path. Thread-safety: stateless.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "core/storage/schema.h"
#include "core/storage/store.h"
#include "veta/v1/custody.pb.h"

namespace veta {

// Most lots, attempts or flags one report reads; past it: ResourceExhausted.
inline constexpr uint64_t kIndicatorRowsMax = 10'000'000;
// Most lots read, in all, through the lineages of the exported lots.
inline constexpr uint64_t kIndicatorLineageLotsMax = 5'000'000;

absl::StatusOr<veta::v1::Indicators> ComputeIndicators(const Reader& store, uint64_t as_of);

}  // namespace veta
