#include "client/json.h"

#include <google/protobuf/util/json_util.h>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/units.h"
#include "core/verify/merkle.h"

namespace veta::client {
namespace {

std::unique_ptr<google::protobuf::Message> NewPayload(std::string_view payload_type) {
  auto kind = PayloadKindOf(payload_type);
  if (!kind.ok()) return nullptr;
  switch (*kind) {
    case PayloadKind::kGenesis:
      return std::make_unique<veta::v1::Genesis>();
    case PayloadKind::kKeyRegistration:
      return std::make_unique<veta::v1::KeyRegistration>();
    case PayloadKind::kMemo:
      return std::make_unique<veta::v1::Memo>();
    case PayloadKind::kRegistry:
      return std::make_unique<veta::v1::RegistryRecord>();
    case PayloadKind::kExtraction:
      return std::make_unique<veta::v1::Extraction>();
    case PayloadKind::kSale:
      return std::make_unique<veta::v1::Sale>();
    case PayloadKind::kProcessing:
      return std::make_unique<veta::v1::Processing>();
    case PayloadKind::kExport:
      return std::make_unique<veta::v1::Export>();
    case PayloadKind::kCorrection:
      return std::make_unique<veta::v1::Correction>();
    case PayloadKind::kFlagClearance:
      return std::make_unique<veta::v1::FlagClearance>();
  }
  return nullptr;
}

struct HumanUnit {
  std::string_view human;
  std::string_view integer;
  int scale;
};

constexpr HumanUnit kHumanUnits[] = {
    {"oreKg", "oreG", units::kKgDigits},
    {"quantityKg", "quantityOreG", units::kKgDigits},
    {"goldG", "goldMg", units::kGramDigits},
    {"quantityG", "quantityMg", units::kGramDigits},
    {"gradeGPerT", "gradePpb", units::kGradeDigits},
    {"fineness", "finenessPpb", units::kPerMilleDigits},
    {"pricePen", "priceCents", units::kSolDigits},
    {"capacityTonnesPerDay", "capacityOreGPerDay", units::kTonneDigits},
    {"processingCapacityTonnesPerDay", "processingCapacityOreGPerDay", units::kTonneDigits},
    {"selectorDailyLimitKg", "selectorDailyLimitG", units::kKgDigits},
    {"cashFlagThresholdPen", "cashFlagThresholdCents", units::kSolDigits},
    {"ore_kg", "ore_g", units::kKgDigits},
    {"quantity_kg", "quantity_ore_g", units::kKgDigits},
    {"gold_g", "gold_mg", units::kGramDigits},
    {"quantity_g", "quantity_mg", units::kGramDigits},
    {"grade_g_per_t", "grade_ppb", units::kGradeDigits},
    {"price_pen", "price_cents", units::kSolDigits},
    {"capacity_tonnes_per_day", "capacity_ore_g_per_day", units::kTonneDigits},
    {"processing_capacity_tonnes_per_day", "processing_capacity_ore_g_per_day",
     units::kTonneDigits},
    {"selector_daily_limit_kg", "selector_daily_limit_g", units::kKgDigits},
    {"cash_flag_threshold_pen", "cash_flag_threshold_cents", units::kSolDigits},
};

// The end of the JSON string starting at `i` (a '"'): the index past its closing quote.
size_t StringEnd(std::string_view json, size_t i) {
  for (++i; i < json.size(); ++i) {
    if (json[i] == '\\') {
      ++i;
    } else if (json[i] == '"') {
      return i + 1;
    }
  }
  return json.size();
}

}  // namespace

absl::StatusOr<std::string> HumanUnitsToIntegers(std::string_view json) {
  auto space = [&](size_t i) {
    while (i < json.size() &&
           (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r')) {
      ++i;
    }
    return i;
  };
  std::string out;
  size_t i = 0;
  while (i < json.size()) {
    if (json[i] != '"') {
      out += json[i++];
      continue;
    }
    const size_t end = StringEnd(json, i);
    const std::string_view token = json.substr(i, end - i);
    const size_t colon = space(end);
    const HumanUnit* unit = nullptr;
    if (colon < json.size() && json[colon] == ':' && token.size() >= 2) {
      const std::string_view name = token.substr(1, token.size() - 2);
      for (const auto& u : kHumanUnits) {
        if (u.human == name) unit = &u;
      }
    }
    if (unit == nullptr) {
      out.append(token);
      i = end;
      continue;
    }
    // The member's value: a number token, or a string without escapes.
    size_t v = space(colon + 1), v_end = v;
    std::string_view text;
    if (v < json.size() && json[v] == '"') {
      v_end = StringEnd(json, v);
      text = json.substr(v + 1, v_end - v - 2);
    } else {
      while (v_end < json.size() &&
             std::string_view("0123456789.-+eE").find(json[v_end]) != std::string_view::npos) {
        ++v_end;
      }
      text = json.substr(v, v_end - v);
    }
    auto value = units::ParseDecimal(text, unit->scale, unit->human);
    if (!value.ok()) return value.status();
    out += StrCat("\"", unit->integer, "\":\"", *value, "\"");
    i = v_end;
  }
  return out;
}

const std::vector<PayloadTypeName>& PayloadTypeNames() {
  static const auto* names = new std::vector<PayloadTypeName>{
      {"registry", kRegistryType,
       "a registry record (registrar, miner, unit, party, selector, zone, parameters)"},
      {"extraction", kExtractionType, "ore extracted at a unit into a new lot (the miner signs)"},
      {"sale", kSaleType, "part or all of a lot sold to a buyer (seller and buyer sign)"},
      {"processing", kProcessingType, "a plant turns input lots into gold lots (the plant signs)"},
      {"export", kExportType, "a gold lot leaves Peru (the exporter signs)"},
      {"correction", kCorrectionType, "voids an entry for a stated reason (its signers sign)"},
      {"flag-clearance", kFlagClearanceType, "a registrar clears a red flag after review"},
      {"memo", kMemoType, "a signed statement recorded as it is (any registered key)"},
      {"key-registration", kKeyRegistrationType,
       "registers or revokes a key of a regulator or other holder (the authority signs)"},
      {"genesis", kGenesisType, "the ledger's first entry (veta init writes it)"},
  };
  return *names;
}

absl::StatusOr<std::string_view> PayloadTypeFromName(std::string_view name) {
  for (const auto& t : PayloadTypeNames()) {
    if (t.name == name) return t.type;
  }
  if (PayloadKindOf(name).ok()) return name;
  std::string names;
  for (const auto& t : PayloadTypeNames()) names += StrCat(names.empty() ? "" : ", ", t.name);
  return absl::InvalidArgumentError(
      StrCat("unknown payload type '", name, "': use one of ", names));
}

absl::StatusOr<std::string> MessageToJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = false;
  auto s = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!s.ok()) return absl::InternalError(StrCat("cannot print JSON: ", s.ToString()));
  return out;
}

absl::Status MessageFromJson(std::string_view json, google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto s = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), message, options);
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        StrCat("not a valid ", message->GetDescriptor()->full_name(),
               " in JSON: ", std::string(s.message().data(), s.message().size())));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> PayloadFromJson(std::string_view payload_type, std::string_view json) {
  auto message = NewPayload(payload_type);
  if (message == nullptr) return PayloadKindOf(payload_type).status();
  ASSIGN_OR_RETURN(const std::string integers, HumanUnitsToIntegers(json));
  if (absl::Status s = MessageFromJson(integers, message.get()); !s.ok()) return s;
  return message->SerializeAsString();
}

std::string PayloadToJson(std::string_view payload_type, std::string_view payload) {
  auto message = NewPayload(payload_type);
  if (message == nullptr ||
      !message->ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return JsonQuote(StrCat("(", payload.size(), " bytes that are not a known payload)"));
  }
  auto json = MessageToJson(*message);
  return json.ok() ? *json : JsonQuote("(unprintable payload)");
}

std::string EntryToJson(std::string_view entry_bytes) {
  veta::v1::Entry entry;
  if (!entry.ParseFromArray(entry_bytes.data(), static_cast<int>(entry_bytes.size()))) {
    return JsonQuote("(not an entry)");
  }
  veta::v1::Envelope envelope;
  std::string envelope_json = JsonQuote("(envelope does not parse)");
  if (envelope.ParseFromString(entry.envelope())) {
    envelope_json =
        StrCat("{\"payloadType\":", JsonQuote(envelope.payload_type()),
               ",\"payload\":", PayloadToJson(envelope.payload_type(), envelope.payload()),
               ",\"signatures\":[");
    for (int i = 0; i < envelope.signatures_size(); ++i) {
      const auto& sig = envelope.signatures(i);
      envelope_json += StrCat(i ? "," : "", "{\"keyid\":", JsonQuote(sig.keyid()),
                              ",\"sig\":", JsonQuote(Base64Encode(sig.sig())), "}");
    }
    envelope_json += "]}";
  }
  std::string time = "null";
  if (auto t = MessageToJson(entry.time()); t.ok()) time = *t;
  return StrCat("{\"sequence\":", entry.sequence(), ",\"time\":", time,
                ",\"leafHash\":", JsonQuote(ToHex(merkle::HashLeaf(entry_bytes))),
                ",\"previousHash\":", JsonQuote(ToHex(entry.previous_hash())),
                ",\"envelope\":", envelope_json, "}");
}

}  // namespace veta::client
