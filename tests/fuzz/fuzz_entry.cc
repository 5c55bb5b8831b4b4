// A stored log entry, as a reader (audit, proofs, the Go verifier's counterpart) meets it:
// arbitrary bytes hashed as a leaf, parsed as veta.v1.Entry, and its envelope decoded.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/verify/envelope.h"
#include "core/verify/merkle.h"
#include "core/verify/sha256.h"
#include "tests/fuzz/fuzz_util.h"
#include "veta/v1/ledger.pb.h"

using veta::fuzz::AsText;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 300 * 1024) return 0;
  const std::string_view bytes = AsText(data, size);

  // The leaf hash, incrementally, is SHA-256(0x00 || bytes) in one piece.
  const veta::Hash leaf = veta::merkle::HashLeaf(bytes);
  std::string prefixed(1, '\0');
  prefixed.append(bytes);
  VETA_FUZZ_CHECK(leaf == veta::Sha256Of(prefixed));
  VETA_FUZZ_CHECK(leaf != veta::merkle::HashChildren(leaf, leaf));

  veta::v1::Entry entry;
  if (!entry.ParseFromArray(data, static_cast<int>(size))) return 0;
  // Serialization of what parsed parses back to the same message.
  const std::string canonical = entry.SerializeAsString();
  veta::v1::Entry reparsed;
  VETA_FUZZ_CHECK(reparsed.ParseFromString(canonical));
  VETA_FUZZ_CHECK(reparsed.SerializeAsString() == canonical);

  veta::Hash previous{};
  VETA_FUZZ_CHECK(veta::HashFromBytes(entry.previous_hash(), &previous) ==
                  (entry.previous_hash().size() == 32));

  const veta::EnvelopeLimits limits;
  auto decoded = veta::DecodeEnvelope(entry.envelope(), limits);
  if (!decoded.ok()) {
    VETA_FUZZ_CHECK_MSG(decoded.status().code() == absl::StatusCode::kInvalidArgument,
                        decoded.status().ToString());
    return 0;
  }
  VETA_FUZZ_CHECK(decoded->bytes == entry.envelope());
  return 0;
}
