#include "client/json.h"

#include <google/protobuf/util/json_util.h>

#include "core/epcis.h"
#include "core/merkle.h"
#include "core/strings.h"

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
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::string_view> PayloadTypeFromName(std::string_view name) {
  if (name == "genesis") return kGenesisType;
  if (name == "key-registration") return kKeyRegistrationType;
  if (name == "memo") return kMemoType;
  if (name == "registry") return kRegistryType;
  if (name == "extraction") return kExtractionType;
  if (name == "sale") return kSaleType;
  if (name == "processing") return kProcessingType;
  if (name == "export") return kExportType;
  if (name == "correction") return kCorrectionType;
  if (PayloadKindOf(name).ok()) return name;
  return absl::InvalidArgumentError(
      StrCat("unknown payload type '", name,
             "': use memo, registry, extraction, sale, processing, export, correction, "
             "key-registration or genesis"));
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
  if (absl::Status s = MessageFromJson(json, message.get()); !s.ok()) return s;
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
