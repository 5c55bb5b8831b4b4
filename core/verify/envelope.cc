#include "core/verify/envelope.h"

#include <set>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/timestamp.pb.h>

#include "core/base/status_macros.h"
#include "core/base/strings.h"

namespace veta {
namespace {

constexpr size_t kKeyIdHexChars = 64;
constexpr size_t kSignatureBytesMax = 512;

// google.protobuf.Timestamp's own range (0001-01-01 to 9999-12-31, nanos in [0, 1e9)): a
// value outside it is not a time, and no reader could print the entry.
constexpr int64_t kTimestampSecondsMin = -62135596800;
constexpr int64_t kTimestampSecondsMax = 253402300799;

// Where a message lies in the payload: a field, and its index when repeated (else -1).
struct Step {
  const google::protobuf::FieldDescriptor* field;
  int index;
};

// One walk of a message, every message in it at any depth: true if one has fields the schema does
// not define (bytes no reader would show, which a signer could be induced to sign without
// seeing); the first Timestamp out of its range is described in *bad_time. The path is spelled
// only for that one (this runs for every submission).
bool WalkHasUnknownFields(const google::protobuf::Message& m, std::string_view root,
                          std::vector<Step>* path, std::string* bad_time) {
  const auto* reflection = m.GetReflection();
  if (!reflection->GetUnknownFields(m).empty()) return true;
  if (m.GetDescriptor() == google::protobuf::Timestamp::descriptor()) {
    const auto& t = static_cast<const google::protobuf::Timestamp&>(m);
    if (bad_time->empty() &&
        (t.seconds() < kTimestampSecondsMin || t.seconds() > kTimestampSecondsMax ||
         t.nanos() < 0 || t.nanos() > 999999999)) {
      std::string where(root);
      for (const Step& step : *path) {
        where = step.index < 0 ? StrCat(where, ".", step.field->name())
                               : StrCat(where, ".", step.field->name(), "[", step.index, "]");
      }
      *bad_time = StrCat(where, " is not a time: seconds ", t.seconds(), ", nanos ", t.nanos(),
                         " (seconds within years 1-9999, nanos 0 to 999999999)");
    }
    return false;
  }
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(m, &fields);
  for (const auto* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const int n = f->is_repeated() ? reflection->FieldSize(m, f) : 1;
    for (int i = 0; i < n; ++i) {
      path->push_back({f, f->is_repeated() ? i : -1});
      const auto& child =
          f->is_repeated() ? reflection->GetRepeatedMessage(m, f, i) : reflection->GetMessage(m, f);
      if (WalkHasUnknownFields(child, root, path, bad_time)) return true;
      path->pop_back();
    }
  }
  return false;
}

// The envelope's check: unknown fields only (it holds no Timestamp).
bool HasUnknownFields(const google::protobuf::Message& m) {
  std::vector<Step> path;
  std::string bad_time;
  return WalkHasUnknownFields(m, "", &path, &bad_time);
}

absl::Status ParsePayload(DecodedEnvelope* d) {
  google::protobuf::Message* message = nullptr;
  switch (d->kind) {
    case PayloadKind::kGenesis:
      message = &d->genesis;
      break;
    case PayloadKind::kKeyRegistration:
      message = &d->key_registration;
      break;
    case PayloadKind::kMemo:
      message = &d->memo;
      break;
    case PayloadKind::kRegistry:
      message = &d->registry;
      break;
    case PayloadKind::kExtraction:
      message = &d->extraction;
      break;
    case PayloadKind::kSale:
      message = &d->sale;
      break;
    case PayloadKind::kProcessing:
      message = &d->processing;
      break;
    case PayloadKind::kExport:
      message = &d->export_;
      break;
    case PayloadKind::kCorrection:
      message = &d->correction;
      break;
    case PayloadKind::kFlagClearance:
      message = &d->flag_clearance;
      break;
  }
  if (!message->ParseFromString(d->envelope.payload())) {
    return absl::InvalidArgumentError(StrCat(
        "payload does not parse as ", d->envelope.payload_type(), " (binary protobuf expected)"));
  }
  std::vector<Step> path;
  std::string bad_time;
  if (WalkHasUnknownFields(*message, message->GetDescriptor()->name(), &path, &bad_time)) {
    return absl::InvalidArgumentError(StrCat(
        "payload has fields that ", message->GetDescriptor()->full_name(), " does not define"));
  }
  if (!bad_time.empty()) return absl::InvalidArgumentError(bad_time);
  return absl::OkStatus();
}

}  // namespace

std::string Pae(std::string_view payload_type, std::string_view payload) {
  return StrCat("DSSEv1 ", payload_type.size(), " ", payload_type, " ", payload.size(), " ",
                payload);
}

absl::StatusOr<PayloadKind> PayloadKindOf(std::string_view payload_type) {
  if (payload_type == kGenesisType) return PayloadKind::kGenesis;
  if (payload_type == kKeyRegistrationType) return PayloadKind::kKeyRegistration;
  if (payload_type == kMemoType) return PayloadKind::kMemo;
  if (payload_type == kRegistryType) return PayloadKind::kRegistry;
  if (payload_type == kExtractionType) return PayloadKind::kExtraction;
  if (payload_type == kSaleType) return PayloadKind::kSale;
  if (payload_type == kProcessingType) return PayloadKind::kProcessing;
  if (payload_type == kExportType) return PayloadKind::kExport;
  if (payload_type == kCorrectionType) return PayloadKind::kCorrection;
  if (payload_type == kFlagClearanceType) return PayloadKind::kFlagClearance;
  return absl::InvalidArgumentError(
      StrCat("unknown payload type '", payload_type.substr(0, 100), "'; accepted: ", kGenesisType,
             ", ", kKeyRegistrationType, ", ", kMemoType, ", ", kRegistryType, ", ",
             kExtractionType, ", ", kSaleType, ", ", kProcessingType, ", ", kExportType, ", ",
             kCorrectionType, ", ", kFlagClearanceType));
}

absl::StatusOr<DecodedEnvelope> DecodeEnvelope(std::string bytes, const EnvelopeLimits& limits) {
  DecodedEnvelope d;
  RETURN_IF_ERROR(DecodeEnvelopeInto(std::move(bytes), limits, &d));
  return d;
}

absl::Status DecodeEnvelopeInto(std::string bytes, const EnvelopeLimits& limits,
                                DecodedEnvelope* out) {
  if (bytes.empty()) return absl::InvalidArgumentError("envelope is empty");
  if (bytes.size() > limits.envelope_bytes_max) {
    return absl::InvalidArgumentError(
        StrCat("envelope is ", bytes.size(), " bytes; the limit is ", limits.envelope_bytes_max));
  }
  DecodedEnvelope& d = *out;
  d.bytes = std::move(bytes);
  if (!d.envelope.ParseFromString(d.bytes)) {
    return absl::InvalidArgumentError("envelope is not a serialized veta.v1.Envelope");
  }
  if (HasUnknownFields(d.envelope)) {
    return absl::InvalidArgumentError("envelope has fields that veta.v1.Envelope does not define");
  }
  const auto& env = d.envelope;
  if (env.payload().empty()) return absl::InvalidArgumentError("envelope payload is empty");
  ASSIGN_OR_RETURN(d.kind, PayloadKindOf(env.payload_type()));
  if (env.signatures().empty()) return absl::InvalidArgumentError("envelope is not signed");
  if (static_cast<size_t>(env.signatures_size()) > limits.signatures_max) {
    return absl::InvalidArgumentError(StrCat("envelope has ", env.signatures_size(),
                                             " signatures; the limit is ", limits.signatures_max));
  }
  std::set<std::string_view> seen;
  for (int i = 0; i < env.signatures_size(); ++i) {
    const auto& sig = env.signatures(i);
    if (sig.keyid().size() != kKeyIdHexChars) {
      return absl::InvalidArgumentError(
          StrCat("signature ", i, ": key id must be 64 hex digits (SHA-256 of the key)"));
    }
    if (sig.sig().empty() || sig.sig().size() > kSignatureBytesMax) {
      return absl::InvalidArgumentError(
          StrCat("signature ", i, ": ", sig.sig().size(), " bytes is not a signature"));
    }
    if (!seen.insert(sig.keyid()).second) {
      return absl::InvalidArgumentError(
          StrCat("signature ", i, ": key ", sig.keyid(), " signed twice"));
    }
  }
  RETURN_IF_ERROR(ParsePayload(&d));
  // SHA-256 of the PAE, fed in its pieces (no copy of the payload).
  d.statement_hash = Sha256()
                         .Update("DSSEv1 ")
                         .Update(StrCat(env.payload_type().size(), " "))
                         .Update(env.payload_type())
                         .Update(StrCat(" ", env.payload().size(), " "))
                         .Update(env.payload())
                         .Finish();
  return absl::OkStatus();
}

absl::Status AddSignature(veta::v1::Envelope* envelope, const PrivateKey& key) {
  ASSIGN_OR_RETURN(std::string sig, key.Sign(Pae(envelope->payload_type(), envelope->payload())));
  auto* s = envelope->add_signatures();
  s->set_sig(std::move(sig));
  s->set_keyid(key.public_key().keyid());
  return absl::OkStatus();
}

absl::StatusOr<veta::v1::Envelope> SignEnvelope(std::string_view payload_type, std::string payload,
                                                const std::vector<PrivateKey>& keys) {
  veta::v1::Envelope envelope;
  envelope.set_payload_type(std::string(payload_type));
  envelope.set_payload(std::move(payload));
  for (const PrivateKey& key : keys) RETURN_IF_ERROR(AddSignature(&envelope, key));
  return envelope;
}

}  // namespace veta
