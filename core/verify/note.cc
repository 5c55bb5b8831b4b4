#include "core/verify/note.h"

#include <cstring>
#include <vector>

#include "core/base/status_macros.h"
#include "core/base/strings.h"

namespace veta::note {
namespace {

constexpr std::string_view kSignaturePrefix = "\u2014 ";  // em dash, space
constexpr uint8_t kAlgEd25519 = 0x01;
constexpr size_t kNoteBytesMax = 1 << 16;
constexpr size_t kSignaturesMax = 100;

// Names must be non-empty, with no Unicode spaces and no plus sign (signed-note spec).
absl::Status CheckName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("note key name is empty");
  for (unsigned char c : name) {
    if (c <= ' ' || c == '+') {
      return absl::InvalidArgumentError(StrCat("note key name '", name, "' has a space or a '+'"));
    }
  }
  return absl::OkStatus();
}

std::array<uint8_t, 4> KeyHash(std::string_view name, std::string_view raw_key) {
  const Hash h = Sha256()
                     .Update(name)
                     .Update(std::string_view("\n"))
                     .Update(kAlgEd25519)
                     .Update(raw_key)
                     .Finish();
  return {h[0], h[1], h[2], h[3]};
}

absl::Status CheckText(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError("note text must end with a newline");
  }
  if (text.find("\n\n") != std::string_view::npos) {
    return absl::InvalidArgumentError("note text must not contain a blank line");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> VerifierKey(std::string_view name, const PublicKey& key) {
  RETURN_IF_ERROR(CheckName(name));
  if (key.algorithm() != KeyAlgorithm::kEd25519) {
    return absl::InvalidArgumentError("signed notes use Ed25519 keys");
  }
  const auto hash = KeyHash(name, key.ed25519_raw());
  std::string prefixed(1, static_cast<char>(kAlgEd25519));
  prefixed += key.ed25519_raw();
  return StrCat(name, "+", ToHex(std::string_view(reinterpret_cast<const char*>(hash.data()), 4)),
                "+", Base64Encode(prefixed));
}

absl::StatusOr<std::string> Sign(std::string_view text, std::string_view name,
                                 const PrivateKey& key) {
  RETURN_IF_ERROR(CheckName(name));
  RETURN_IF_ERROR(CheckText(text));
  if (key.algorithm() != KeyAlgorithm::kEd25519) {
    return absl::InvalidArgumentError("signed notes use Ed25519 keys");
  }
  ASSIGN_OR_RETURN(std::string sig, key.Sign(text));
  const auto hash = KeyHash(name, key.public_key().ed25519_raw());
  std::string blob(reinterpret_cast<const char*>(hash.data()), 4);
  blob += sig;
  return StrCat(text, "\n", kSignaturePrefix, name, " ", Base64Encode(blob), "\n");
}

absl::StatusOr<std::string> Open(std::string_view note, std::string_view verifier_key) {
  // Parse the verifier key: name+hash+base64(0x01 || key). The base64 may hold '+' too.
  const size_t plus1 = verifier_key.find('+');
  const size_t plus2 = plus1 == std::string_view::npos ? plus1 : verifier_key.find('+', plus1 + 1);
  if (plus2 == std::string_view::npos || plus2 - plus1 != 9) {
    return absl::InvalidArgumentError("malformed verifier key: want name+hash+key");
  }
  const std::string_view parts[3] = {verifier_key.substr(0, plus1),
                                     verifier_key.substr(plus1 + 1, 8),
                                     verifier_key.substr(plus2 + 1)};
  std::string prefixed;
  if (!Base64Decode(parts[2], &prefixed) || prefixed.size() != 33 ||
      static_cast<uint8_t>(prefixed[0]) != kAlgEd25519) {
    return absl::InvalidArgumentError("malformed verifier key: want an Ed25519 key");
  }
  const std::string_view name = parts[0];
  const std::string_view raw = std::string_view(prefixed).substr(1);
  RETURN_IF_ERROR(CheckName(name));
  const auto hash = KeyHash(name, raw);
  if (ToHex(std::string_view(reinterpret_cast<const char*>(hash.data()), 4)) != parts[1]) {
    return absl::InvalidArgumentError("malformed verifier key: hash does not match the key");
  }
  ASSIGN_OR_RETURN(PublicKey key, PublicKey::FromEd25519Raw(raw));

  if (note.size() > kNoteBytesMax) return absl::InvalidArgumentError("note is too large");
  const size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) {
    return absl::InvalidArgumentError("malformed note: no blank line before the signatures");
  }
  const std::string_view text = note.substr(0, split + 1);
  RETURN_IF_ERROR(CheckText(text));
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') {
    return absl::InvalidArgumentError("malformed note: signature block must end with a newline");
  }
  sigs.remove_suffix(1);
  std::vector<std::string_view> lines = Split(sigs, '\n');
  if (lines.size() > kSignaturesMax) return absl::InvalidArgumentError("too many signatures");
  for (std::string_view line : lines) {
    if (line.substr(0, kSignaturePrefix.size()) != kSignaturePrefix) {
      return absl::InvalidArgumentError("malformed note: signature line without em dash");
    }
    line.remove_prefix(kSignaturePrefix.size());
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) {
      return absl::InvalidArgumentError("malformed note: signature line without a space");
    }
    std::string blob;
    if (!Base64Decode(line.substr(space + 1), &blob) || blob.size() < 5) {
      return absl::InvalidArgumentError("malformed note: bad signature encoding");
    }
    if (line.substr(0, space) != name || std::memcmp(blob.data(), hash.data(), 4) != 0) continue;
    if (key.Verify(text, std::string_view(blob).substr(4)).ok()) return std::string(text);
    return absl::UnauthenticatedError(
        StrCat("note signature by ", name, " does not verify: the note was altered"));
  }
  return absl::UnauthenticatedError(StrCat("note has no signature by ", name));
}

std::string CheckpointText(const Checkpoint& checkpoint) {
  return StrCat(checkpoint.origin, "\n", checkpoint.size, "\n",
                Base64Encode(AsBytes(checkpoint.root)), "\n");
}

absl::StatusOr<Checkpoint> ParseCheckpointText(std::string_view text) {
  std::vector<std::string_view> lines = Split(text, '\n');
  if (lines.size() < 4 || !lines.back().empty()) {
    return absl::InvalidArgumentError("checkpoint needs origin, size and root lines");
  }
  Checkpoint cp;
  cp.origin = std::string(lines[0]);
  if (cp.origin.empty()) return absl::InvalidArgumentError("checkpoint origin is empty");
  if (!ParseU64(lines[1], &cp.size)) {
    return absl::InvalidArgumentError(StrCat("bad checkpoint size '", lines[1], "'"));
  }
  std::string root;
  if (!Base64Decode(lines[2], &root) || !HashFromBytes(root, &cp.root)) {
    return absl::InvalidArgumentError("bad checkpoint root hash: want base64 of 32 bytes");
  }
  return cp;
}

}  // namespace veta::note
