// Lineage: where a lot's gold came from (backward, to every extraction and mining unit, with
// each unit's share of the fine gold carried through blending) and where a unit's, a miner's
// or a lot's gold went (forward, to every downstream lot, holder and export), as of any entry.
//
// The edges are written with the entries (store.h: "D" parent/child rows, each lot's inputs),
// so a query walks them without replaying anything. Every traversal is bounded: depth,
// fan-out and total lots have named limits; past one, the answer says so (truncated, with
// the reason) rather than growing without bound. Reads use one RocksDB snapshot.
//
// Thread-safety: stateless; safe from any thread (the store is).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/storage/schema.h"
#include "core/storage/store.h"
#include "veta/v1/custody.pb.h"

namespace veta {

// Hard ceilings on what a query may ask for.
inline constexpr uint32_t kLineageDepthMax = 256;
inline constexpr uint32_t kLineageFanoutMax = 10000;
inline constexpr uint32_t kLineageNodesMax = 100000;
inline constexpr uint32_t kLineagePageMax = 10000;

struct LineageQuery {
  enum class Root { kLot, kUnit, kMiner };
  Root root = Root::kLot;
  std::string id;
  bool forward = false;
  // The entries to read: [0, as_of).
  uint64_t as_of = 0;
  // Steps followed from the root.
  uint32_t depth_max = 64;
  // Lots followed from one lot (forward), or roots from a unit or miner.
  uint32_t fanout_max = 1000;
  // Lots in the whole traversal.
  uint32_t nodes_max = 20000;
  // Lots per answer, from `page_start` in breadth-first order.
  uint32_t page_nodes = 1000;
  uint32_t page_start = 0;
};

// InvalidArgument for limits past the ceilings or a backward query from a unit or miner;
// NotFound when the root did not exist as of `as_of`.
absl::StatusOr<veta::v1::Lineage> QueryLineage(const Reader& store, const LineageQuery& query);

// "root" for error messages and answers: "lot:ID", "unit:CODE", "miner:ID".
std::string LineageRootName(const LineageQuery& query);

}  // namespace veta
