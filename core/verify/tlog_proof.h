// C2SP tlog-proof (c2sp.org/tlog-proof@v1): an offline proof that an entry is in the log, as
// text, with the (cosigned) checkpoint verbatim:
//
//   c2sp.org/tlog-proof@v1
//   extra <base64 of the entry's bytes>          Veta always sends the entry itself
//   index <leaf index>
//   <base64 hash>*                               RFC 6962 inclusion proof, leaf side first
//   <empty line>
//   <checkpoint note, with its signature and cosignature lines>
//
// The extra data is not trusted: a verifier hashes it (RFC 6962 leaf hash) and checks the
// inclusion proof to the checkpoint's root, so it proves itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/verify/sha256.h"

namespace veta::tlogproof {

inline constexpr std::string_view kHeader = "c2sp.org/tlog-proof@v1";
inline constexpr size_t kProofBytesMax = 4 << 20;

struct TlogProof {
  std::string extra;  // decoded; empty when the line is absent
  uint64_t index = 0;
  std::vector<Hash> inclusion;
  std::string checkpoint_note;
};

std::string Format(const TlogProof& proof);
// InvalidArgument naming what is malformed.
absl::StatusOr<TlogProof> Parse(std::string_view text);

}  // namespace veta::tlogproof
