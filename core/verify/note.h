// C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, and the tlog-checkpoint body
// (c2sp.org/tlog-checkpoint) they carry. Compatible with golang.org/x/mod/sumdb/note.
//
//   note  = text "\n" signature-line+      text ends in "\n" and has no blank line inside
//   line  = "— " name " " base64(key_hash[4] || ed25519_signature[64]) "\n"
//   key_hash = SHA-256(name || "\n" || 0x01 || public_key[32])[0:4]
//   verifier key = name "+" hex(key_hash) "+" base64(0x01 || public_key)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/verify/keys.h"
#include "core/verify/sha256.h"

namespace veta::note {

// The verifier key string for an Ed25519 public key under `name`.
absl::StatusOr<std::string> VerifierKey(std::string_view name, const PublicKey& key);

// Signs `text` (must end in "\n", no blank line) with an Ed25519 key under `name`.
absl::StatusOr<std::string> Sign(std::string_view text, std::string_view name,
                                 const PrivateKey& key);

// Checks the note's signature by the verifier key; returns the text. Unauthenticated when no
// signature by that key verifies; InvalidArgument when the note is malformed.
absl::StatusOr<std::string> Open(std::string_view note, std::string_view verifier_key);

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
};

// "<origin>\n<size>\n<base64 root>\n".
std::string CheckpointText(const Checkpoint& checkpoint);
// Parses a checkpoint text (the first three lines; further extension lines are allowed).
absl::StatusOr<Checkpoint> ParseCheckpointText(std::string_view text);

}  // namespace veta::note
