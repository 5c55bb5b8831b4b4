// DecodeEnvelope on arbitrary bytes: never crashes; refuses with InvalidArgument only; what it
// accepts re-serializes (canonically) to bytes that decode to the same statement, and the
// statement does not depend on the order of the signatures.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/verify/envelope.h"
#include "tests/fuzz/fuzz_util.h"

using veta::fuzz::AsText;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A little over the default limit (256 KiB), so that the size check is reached too.
  if (size > 300 * 1024) return 0;
  const veta::EnvelopeLimits limits;
  const std::string input(AsText(data, size));
  auto decoded = veta::DecodeEnvelope(input, limits);
  if (!decoded.ok()) {
    VETA_FUZZ_CHECK_MSG(decoded.status().code() == absl::StatusCode::kInvalidArgument,
                        decoded.status().ToString());
    VETA_FUZZ_CHECK(!decoded.status().message().empty());
    return 0;
  }
  const veta::DecodedEnvelope& d = *decoded;
  VETA_FUZZ_CHECK(d.bytes == input);
  VETA_FUZZ_CHECK(!d.envelope.payload().empty());
  VETA_FUZZ_CHECK(d.envelope.signatures_size() >= 1);
  VETA_FUZZ_CHECK(static_cast<size_t>(d.envelope.signatures_size()) <= limits.signatures_max);

  // Canonical re-serialization: decodes, to the same statement and kind, and is a fixed point.
  const std::string again = d.envelope.SerializeAsString();
  VETA_FUZZ_CHECK(again.size() <= input.size());
  auto redecoded = veta::DecodeEnvelope(again, limits);
  VETA_FUZZ_CHECK_MSG(redecoded.ok(), redecoded.status().ToString());
  VETA_FUZZ_CHECK(redecoded->statement_hash == d.statement_hash);
  VETA_FUZZ_CHECK(redecoded->kind == d.kind);
  VETA_FUZZ_CHECK(redecoded->envelope.SerializeAsString() == again);

  // The statement is over the sorted signer key ids: reversing the signatures keeps it.
  veta::v1::Envelope reversed = d.envelope;
  std::reverse(reversed.mutable_signatures()->begin(), reversed.mutable_signatures()->end());
  auto reordered = veta::DecodeEnvelope(reversed.SerializeAsString(), limits);
  VETA_FUZZ_CHECK_MSG(reordered.ok(), reordered.status().ToString());
  VETA_FUZZ_CHECK(reordered->statement_hash == d.statement_hash);

  // ...and does not cover the signature bytes (randomized for ECDSA).
  veta::v1::Envelope resigned = d.envelope;
  for (auto& sig : *resigned.mutable_signatures()) sig.set_sig(std::string(64, '\x5a'));
  auto other_sigs = veta::DecodeEnvelope(resigned.SerializeAsString(), limits);
  VETA_FUZZ_CHECK_MSG(other_sigs.ok(), other_sigs.status().ToString());
  VETA_FUZZ_CHECK(other_sigs->statement_hash == d.statement_hash);

  // A different payload type or payload is a different statement.
  if (d.envelope.payload().size() < limits.envelope_bytes_max / 2) {
    veta::v1::Envelope longer = d.envelope;
    longer.mutable_payload()->push_back('\0');
    auto changed = veta::DecodeEnvelope(longer.SerializeAsString(), limits);
    if (changed.ok()) VETA_FUZZ_CHECK(changed->statement_hash != d.statement_hash);
  }
  return 0;
}
