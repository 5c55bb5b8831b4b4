// What a seller or a unit may still extract or process on a day (the trader's desk, issue 12):
// the daily limits the rules check (core/rules/extractions.cc, processing.cc, dating.cc,
// units.cc), read from the same counters, so that `left` is what Submit would still accept:
// the unit's capacity per declared day and, under rules v3, per day of submission, a shared
// ground's and a unit's share of it, a selector's daily limit, a plant's processing capacity.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/storage/store.h"
#include "veta/v1/custody.pb.h"

namespace veta {

// Units listed in one answer (a miner's, a selector's), in concession-code order.
inline constexpr size_t kCapacityUnitsMax = 200;

// The daily capacity of `id` (a miner's or party's RUC, a selector's DNI or a unit's concession
// code) for declarations dated `day` (YYYYMMDD in Peru; empty: the day of `now_micros`),
// submitted at `now_micros` (the ledger's clock), with the registry as of the first `visible`
// entries. NotFound when `id` is nothing registered; InvalidArgument for a malformed day or one
// after today.
absl::StatusOr<veta::v1::DailyCapacity> GetDailyCapacity(const Reader& store, std::string_view id,
                                                         std::string_view day, int64_t now_micros,
                                                         uint64_t visible);

// YYYYMMDD of the day in Peru (UTC-5) at `micros`: the day the daily counters are kept by.
std::string PeruDayOf(int64_t micros);

}  // namespace veta
