// JSON forms of the ledger's records, for people and scripts (protobuf's JSON mapping).
// Payloads are written as JSON by people and signed as binary protobuf.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/verify/envelope.h"
#include "veta/v1/ledger.pb.h"

namespace veta::client {

// The short names the CLI accepts for payload types (veta sign --type), each with its type and
// a one-line description: the one list `veta sign --help` shows.
struct PayloadTypeName {
  std::string_view name, type, description;
};
const std::vector<PayloadTypeName>& PayloadTypeNames();
// A short name's payload type (a full type string is taken as it is).
absl::StatusOr<std::string_view> PayloadTypeFromName(std::string_view name);

// Payload JSON -> binary protobuf of the message `payload_type` carries. Unknown fields and
// malformed JSON are errors that name the problem. Quantities may be typed in human units
// (HumanUnitsToIntegers).

absl::StatusOr<std::string> PayloadFromJson(std::string_view payload_type, std::string_view json);
// Binary payload -> JSON (or a note that it does not parse).
std::string PayloadToJson(std::string_view payload_type, std::string_view payload);

// People type decimals in human units; the payload holds integers. Rewrites each member
// named in a human unit into the integer field, exactly (core/base/units.h ParseDecimal, never a
// double), its value a JSON number or string:
//   oreKg, quantityKg (kg of ore)    -> oreG, quantityOreG (grams)
//   goldG, quantityG (g of gold)     -> goldMg, quantityMg (milligrams)
//   gradeGPerT (g/t)                 -> gradePpb          fineness (per mille) -> finenessPpb
//   pricePen (soles)                 -> priceCents
//   capacityTonnesPerDay, processingCapacityTonnesPerDay (t/day) -> ...OreGPerDay
//   selectorDailyLimitKg             -> selectorDailyLimitG
//   cashFlagThresholdPen             -> cashFlagThresholdCents
// (and their snake_case forms). Everything else is copied as it is. InvalidArgument naming
// the member for a value that is not such a decimal, has too many decimals or is too large.
absl::StatusOr<std::string> HumanUnitsToIntegers(std::string_view json);

absl::StatusOr<std::string> MessageToJson(const google::protobuf::Message& message);
[[nodiscard]] absl::Status MessageFromJson(std::string_view json,
                                           google::protobuf::Message* message);

// An entry with its envelope and payload decoded, and its leaf hash, as one JSON object.
std::string EntryToJson(std::string_view entry_bytes);

}  // namespace veta::client
