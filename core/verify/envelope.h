// Signed envelopes (DSSE) and the payload types the ledger accepts.
//
// Decoding is bounded (sizes, counts) and strict: an envelope either decodes into something
// the rest of the write path can trust the shape of, or is refused with InvalidArgument and a
// message that names what is wrong.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/verify/keys.h"
#include "core/verify/sha256.h"
#include "veta/v1/envelope.pb.h"
#include "veta/v1/ledger.pb.h"
#include "veta/v1/registry.pb.h"

namespace veta {

namespace geo {
class Geometry;
}

inline constexpr std::string_view kGenesisType = "application/vnd.veta.genesis+protobuf";
inline constexpr std::string_view kKeyRegistrationType =
    "application/vnd.veta.key-registration+protobuf";
inline constexpr std::string_view kMemoType = "application/vnd.veta.memo+protobuf";
inline constexpr std::string_view kRegistryType = "application/vnd.veta.registry+protobuf";
inline constexpr std::string_view kExtractionType = "application/vnd.veta.extraction+protobuf";
inline constexpr std::string_view kSaleType = "application/vnd.veta.sale+protobuf";
inline constexpr std::string_view kProcessingType = "application/vnd.veta.processing+protobuf";
inline constexpr std::string_view kExportType = "application/vnd.veta.export+protobuf";
inline constexpr std::string_view kCorrectionType = "application/vnd.veta.correction+protobuf";
// Rules v3: a registrar clears a red flag (veta.v1.FlagClearance).
inline constexpr std::string_view kFlagClearanceType =
    "application/vnd.veta.flag-clearance+protobuf";

enum class PayloadKind {
  kGenesis,
  kKeyRegistration,
  kMemo,
  kRegistry,
  kExtraction,
  kSale,
  kProcessing,
  kExport,
  kCorrection,
  kFlagClearance,
};

struct EnvelopeLimits {
  size_t envelope_bytes_max = 256 * 1024;
  size_t signatures_max = 8;
};

// PAE(type, payload) = "DSSEv1" SP LEN(type) SP type SP LEN(payload) SP payload.
std::string Pae(std::string_view payload_type, std::string_view payload);

// An envelope that passed the stateless checks. Owns its bytes.
struct DecodedEnvelope {
  std::string bytes;  // as received
  veta::v1::Envelope envelope;
  PayloadKind kind = PayloadKind::kMemo;
  // SHA-256(PAE(type, payload)): what was signed, whoever signed it. Two envelopes with the
  // same statement are the same entry even when their signatures differ (ECDSA signatures are
  // randomized; a replayer may add a signature of its own), so a replay is always refused.
  Hash statement_hash{};
  // The parsed payload; exactly one is set, by kind.
  veta::v1::Genesis genesis;
  veta::v1::KeyRegistration key_registration;
  veta::v1::Memo memo;
  veta::v1::RegistryRecord registry;
  veta::v1::Extraction extraction;
  veta::v1::Sale sale;
  veta::v1::Processing processing;
  veta::v1::Export export_;
  veta::v1::Correction correction;
  veta::v1::FlagClearance flag_clearance;
  // Registry records: their stateless validation, done on the verification pool
  // (PrevalidateRecord in registry.h), and a unit's or zone's geometry parsed there.
  bool prevalidated = false;
  absl::Status record_status;
  std::shared_ptr<const geo::Geometry> record_geometry;
};

// Size, shape, payload type and payload parsing, and every Timestamp in the payload within
// its range. InvalidArgument on any defect.
absl::StatusOr<DecodedEnvelope> DecodeEnvelope(std::string bytes, const EnvelopeLimits& limits);
// The same, into a DecodedEnvelope made by the caller (a fresh one): the write path decodes
// each submission where it will stay, instead of moving its ten payload messages twice.
[[nodiscard]] absl::Status DecodeEnvelopeInto(std::string bytes, const EnvelopeLimits& limits,
                                              DecodedEnvelope* out);

// Builds an envelope for a payload and signs it with each key (in order).
absl::StatusOr<veta::v1::Envelope> SignEnvelope(std::string_view payload_type, std::string payload,
                                                const std::vector<PrivateKey>& keys);
// Adds one more signature to an envelope.
[[nodiscard]] absl::Status AddSignature(veta::v1::Envelope* envelope, const PrivateKey& key);

// The message type that a payload type carries, for JSON conversion in tools.
absl::StatusOr<PayloadKind> PayloadKindOf(std::string_view payload_type);

}  // namespace veta
