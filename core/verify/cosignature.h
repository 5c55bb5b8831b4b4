// Witness cosignatures (C2SP tlog-cosignature, cosignature/v1, Ed25519) and witness policies
// (C2SP tlog-policy): what a client checks to know that independent witnesses saw the same
// checkpoint it holds (no split view).
//
//   cosignature line = "— " name " " base64(key_id[4] || timestamp[8, big-endian] || sig[64])
//   key_id           = SHA-256(name || "\n" || 0x04 || ed25519_public_key[32])[0:4]
//   signed message   = "cosignature/v1\n" "time " decimal(timestamp) "\n" checkpoint text
//   verifier key     = name "+" hex(key_id) "+" base64(0x04 || ed25519_public_key)
// where the checkpoint text is the whole note body (origin, size, root and any extension
// lines, with the final newline, no signature lines).
//
// Policy file (tlog-policy; '#' comments and blank lines ignored, fields split by spaces/tabs):
//   log <vkey> [<url>]                      a log's checkpoint key (signature type 0x01)
//   witness <name> <vkey> [<url>]           a witness (cosignature/v1 key, type 0x04)
//   group <name> all|any|<k> <member>...    k of the members (witnesses or earlier groups)
//   quorum <name>|none                      exactly once: what must cosign
// A witness's URL is its tlog-witness submission prefix (the log posts to URL/add-checkpoint).
//
// Thread-safety: the functions are pure; a Policy is immutable after Parse.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/verify/keys.h"
#include "core/verify/note.h"

namespace veta::cosig {

// The Ed25519 cosignature/v1 signature type byte of tlog-cosignature.
inline constexpr uint8_t kSignatureType = 0x04;
// Most witnesses, groups and logs a policy may name (tlog-policy recommends supporting 32).
inline constexpr size_t kPolicyItemsMax = 64;

// A cosigner as a verifier knows it: its name, its key and the key id that name and key give.
struct Cosigner {
  std::string name;
  std::string ed25519_raw;  // 32 bytes
  std::array<uint8_t, 4> key_id{};
  std::string url;             // optional: the witness's submission prefix
  std::string name_in_policy;  // the policy's name for it ("witness <name> ..."), if any
  std::string verifier_key;
};

// The cosignature/v1 verifier key of `key` (Ed25519) under `name`.
absl::StatusOr<std::string> VerifierKey(std::string_view name, const PublicKey& key);
// Parses a cosignature/v1 verifier key; InvalidArgument when it is malformed, its type byte is
// not 0x04 or its key id does not match name and key.
absl::StatusOr<Cosigner> ParseVerifierKey(std::string_view verifier_key);

// OK when `verifier_key` is a well-formed checkpoint (signed-note, type 0x01) verifier key.
[[nodiscard]] absl::Status CheckNoteVerifierKey(std::string_view verifier_key);

// "cosignature/v1\ntime <timestamp>\n" + checkpoint_text: the bytes a cosigner signs.
std::string SignedMessage(uint64_t timestamp, std::string_view checkpoint_text);

// The cosignature line (with its final "\n") of `key` under `name` over `checkpoint_text`
// (a note body ending in "\n") at `timestamp` (seconds since the epoch, 1..2^63-1).
absl::StatusOr<std::string> Sign(std::string_view checkpoint_text, std::string_view name,
                                 const PrivateKey& key, uint64_t timestamp);

// Checks one signature line (with or without its "\n") against a cosigner. Returns the
// timestamp. NotFound when the line is not the cosigner's (other name or key id: to be
// ignored), Unauthenticated when it is but does not verify, InvalidArgument when malformed.
absl::StatusOr<uint64_t> Verify(std::string_view checkpoint_text, std::string_view line,
                                const Cosigner& cosigner);

// A signed note split into its text (ending in "\n") and its signature lines (each with "\n").
struct NoteParts {
  std::string text;
  std::vector<std::string> signature_lines;
};
absl::StatusOr<NoteParts> SplitNote(std::string_view note);

// The note with the cosignature lines appended (lines already there are not repeated).
absl::StatusOr<std::string> AddSignatureLines(std::string_view note,
                                              const std::vector<std::string>& lines);

struct VerifiedCheckpoint {
  note::Checkpoint checkpoint;
  std::string text;
  // The policy's witnesses whose cosignature on this checkpoint verified, in policy order.
  std::vector<std::string> cosigned_by;
};

class Policy {
 public:
  // Parses a tlog-policy file; InvalidArgument with the line number when it is malformed.
  static absl::StatusOr<Policy> Parse(std::string_view text);

  const std::vector<std::string>& log_keys() const { return log_keys_; }
  const std::vector<Cosigner>& witnesses() const { return witnesses_; }
  // "none", or the threshold of the quorum's group ("2 of 3 witnesses"), for messages.
  std::string Describe() const;

  // Checks a checkpoint note: signed by `log_key` (a checkpoint verifier key; when empty, by
  // one of the policy's logs), and cosigned by the quorum. Cosignatures by unknown keys are
  // ignored; one that is the policy witness's but does not verify is an error
  // (Unauthenticated), as signed-note says. FailedPrecondition when the quorum is not met,
  // naming who cosigned.
  absl::StatusOr<VerifiedCheckpoint> Verify(std::string_view note,
                                            std::string_view log_key = "") const;

  // Whether the witnesses named (by policy name) satisfy the quorum.
  bool QuorumMet(const std::vector<std::string>& names) const;

 private:
  struct Group {
    std::string name;
    size_t threshold = 0;
    std::vector<std::string> members;
  };
  bool Satisfied(std::string_view name, const std::vector<std::string>& cosigned, int depth) const;

  std::vector<std::string> log_keys_;
  std::vector<Cosigner> witnesses_;
  std::vector<Group> groups_;
  std::string quorum_;  // "none", a witness or a group
};

}  // namespace veta::cosig
