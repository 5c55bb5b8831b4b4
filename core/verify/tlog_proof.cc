#include "core/verify/tlog_proof.h"

#include "core/base/strings.h"

namespace veta::tlogproof {

std::string Format(const TlogProof& proof) {
  std::string out = StrCat(kHeader, "\n");
  if (!proof.extra.empty()) out += StrCat("extra ", Base64Encode(proof.extra), "\n");
  out += StrCat("index ", proof.index, "\n");
  for (const Hash& h : proof.inclusion) out += StrCat(Base64Encode(AsBytes(h)), "\n");
  return StrCat(out, "\n", proof.checkpoint_note);
}

absl::StatusOr<TlogProof> Parse(std::string_view text) {
  if (text.size() > kProofBytesMax) return absl::InvalidArgumentError("tlog-proof is too large");
  TlogProof proof;
  size_t pos = 0;
  const auto next_line = [&](std::string_view* line) {
    const size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) return false;
    *line = text.substr(pos, eol - pos);
    pos = eol + 1;
    return true;
  };
  std::string_view line;
  if (!next_line(&line) || line != kHeader) {
    return absl::InvalidArgumentError(StrCat("not a tlog-proof: first line must be ", kHeader));
  }
  if (!next_line(&line)) return absl::InvalidArgumentError("tlog-proof ends early");
  if (line.substr(0, 6) == "extra ") {
    if (!Base64Decode(line.substr(6), &proof.extra) || proof.extra.empty()) {
      return absl::InvalidArgumentError("tlog-proof extra line is not base64");
    }
    if (!next_line(&line)) return absl::InvalidArgumentError("tlog-proof ends early");
  }
  if (line.substr(0, 6) != "index " || !ParseU64(line.substr(6), &proof.index)) {
    return absl::InvalidArgumentError("tlog-proof needs 'index <decimal>'");
  }
  while (true) {
    if (!next_line(&line)) return absl::InvalidArgumentError("tlog-proof has no checkpoint");
    if (line.empty()) break;
    std::string bytes;
    Hash h{};
    if (proof.inclusion.size() >= 64 || !Base64Decode(line, &bytes) || !HashFromBytes(bytes, &h)) {
      return absl::InvalidArgumentError("tlog-proof inclusion line is not base64 of 32 bytes");
    }
    proof.inclusion.push_back(h);
  }
  proof.checkpoint_note = std::string(text.substr(pos));
  return proof;
}

}  // namespace veta::tlogproof
