// Read-side queries over the registry, lots, attempts and flags. They read RocksDB directly
// (safe from any thread) and see only what the first `visible` entries wrote, so a reader
// never observes a batch whose write has not been answered yet.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/rules/registry.h"
#include "core/storage/schema.h"
#include "core/storage/store.h"

namespace veta {

struct RecordVersion {
  veta::v1::RegistryRecord record;
  uint64_t sequence = 0;  // the entry that wrote this version
};

// The version of record (kind, id) in force after the first `as_of` entries. NotFound when it
// did not exist then.
absl::StatusOr<RecordVersion> GetRecordAsOf(const Reader& store, RecordKind kind,
                                            std::string_view id, uint64_t as_of);

struct RecordFilter {
  veta::v1::RegistryStatus status = veta::v1::REGISTRY_STATUS_UNSPECIFIED;  // any
  std::string department;  // 2-digit ubigeo prefix (units)
  veta::v1::PartyKind party_kind = veta::v1::PARTY_KIND_UNSPECIFIED;  // any
};

inline constexpr size_t kPageMax = 1000;

// Up to `limit` records of a kind, as of `as_of`, with ids after `after_id`, in id order.
absl::StatusOr<std::vector<RecordVersion>> ListRecords(const Reader& store, RecordKind kind,
                                                       const RecordFilter& filter,
                                                       std::string_view after_id, size_t limit,
                                                       uint64_t as_of);

absl::StatusOr<veta::v1::Lot> GetLot(const Reader& store, std::string_view lot_id);

// The department (2-digit ubigeo) of units, from their registry versions as of the first
// `as_of` entries, each read once; "" for a unit not registered then.
class UnitDepartments {
 public:
  UnitDepartments(const Reader& store, uint64_t as_of) : store_(store), as_of_(as_of) {}
  const std::string& Of(const std::string& unit);

 private:
  const Reader& store_;
  const uint64_t as_of_;
  std::map<std::string, std::string> cache_;
};

struct EvidenceFilter {
  std::string party;    // RUC or DNI
  std::string unit;     // concession code
  std::string refusal;  // a veta.v1.Refusal name (attempts only)
};

// Refused attempts from number `start`, at most `limit`, matching one filter (or all).
absl::StatusOr<std::vector<veta::v1::Attempt>> ListAttempts(const Reader& store,
                                                            const EvidenceFilter& filter,
                                                            uint64_t start, size_t limit);

// Red flags raised on entries from `start_sequence`, at most `limit`, matching the filter.
// A flag a registrar cleared (rules v3) is listed still, with cleared_by set to the clearance.
absl::StatusOr<std::vector<veta::v1::Flag>> ListFlags(const Reader& store,
                                                      const EvidenceFilter& filter,
                                                      uint64_t start_sequence, size_t limit,
                                                      uint64_t visible);

}  // namespace veta
