// Signed notes and checkpoints from arbitrary text, with a fixed verifier key.
//
// Input: a note, then optionally a NUL byte and a verifier key to open it with as well. Open
// refuses with InvalidArgument or Unauthenticated; what it accepts is the note's own text and
// no other key opens it. A text that Sign takes opens back to itself, and not once altered. A
// checkpoint text that parses prints back to itself.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/verify/keys.h"
#include "core/verify/note.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

struct Signer {
  veta::PrivateKey key;
  std::string verifier;
};

// The fixed key (seed notes are signed by it) and another one, generated once.
const Signer& Fixed() {
  static const Signer* signer = [] {
    auto key = veta::PrivateKey::FromEd25519Seed(veta::fuzz::kNoteKeySeed);
    VETA_FUZZ_CHECK(key.ok());
    auto verifier = veta::note::VerifierKey(veta::fuzz::kNoteKeyName, key->public_key());
    VETA_FUZZ_CHECK(verifier.ok());
    return new Signer{*key, *verifier};
  }();
  return *signer;
}

const Signer& Other() {
  static const Signer* signer = [] {
    auto key = veta::PrivateKey::Generate(veta::KeyAlgorithm::kEd25519);
    VETA_FUZZ_CHECK(key.ok());
    auto verifier = veta::note::VerifierKey("veta.fuzz/other", key->public_key());
    VETA_FUZZ_CHECK(verifier.ok());
    return new Signer{*key, *verifier};
  }();
  return *signer;
}

bool IsRefusal(const absl::Status& s) {
  return s.code() == absl::StatusCode::kInvalidArgument ||
         s.code() == absl::StatusCode::kUnauthenticated;
}

void CheckCheckpoint(std::string_view text) {
  auto cp = veta::note::ParseCheckpointText(text);
  if (!cp.ok()) {
    VETA_FUZZ_CHECK(cp.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  VETA_FUZZ_CHECK(!cp->origin.empty() && cp->origin.find('\n') == std::string::npos);
  const std::string printed = veta::note::CheckpointText(*cp);
  VETA_FUZZ_CHECK(text.substr(0, printed.size()) == printed);  // the first three lines
  auto again = veta::note::ParseCheckpointText(printed);
  VETA_FUZZ_CHECK(again.ok() && again->origin == cp->origin && again->size == cp->size &&
                  again->root == cp->root);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16 * 1024) return 0;
  std::string_view note = veta::fuzz::AsText(data, size);
  std::string_view verifier;
  const bool has_verifier = note.find('\0') != std::string_view::npos;
  if (has_verifier) {
    verifier = note.substr(note.find('\0') + 1);
    note = note.substr(0, note.find('\0'));
  }
  const Signer& fixed = Fixed();
  const Signer& other = Other();

  if (has_verifier) {
    auto opened = veta::note::Open(note, verifier);
    if (opened.ok()) {
      VETA_FUZZ_CHECK(note.substr(0, opened->size()) == *opened);
    } else {
      VETA_FUZZ_CHECK_MSG(IsRefusal(opened.status()), opened.status().ToString());
    }
  }

  auto opened = veta::note::Open(note, fixed.verifier);
  if (opened.ok()) {
    VETA_FUZZ_CHECK(!opened->empty() && opened->back() == '\n');
    VETA_FUZZ_CHECK(note.substr(0, opened->size()) == *opened);
    VETA_FUZZ_CHECK(note.substr(opened->size(), 1) == "\n");
    CheckCheckpoint(*opened);
  } else {
    VETA_FUZZ_CHECK_MSG(IsRefusal(opened.status()), opened.status().ToString());
  }
  // No one else's key opens it.
  auto by_other = veta::note::Open(note, other.verifier);
  VETA_FUZZ_CHECK(!by_other.ok() && IsRefusal(by_other.status()));

  CheckCheckpoint(note);

  // The input as a note's text: what Sign takes, Open gives back, and not once altered.
  auto signed_note = veta::note::Sign(note, veta::fuzz::kNoteKeyName, fixed.key);
  if (!signed_note.ok()) {
    VETA_FUZZ_CHECK(signed_note.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  auto reopened = veta::note::Open(*signed_note, fixed.verifier);
  VETA_FUZZ_CHECK_MSG(reopened.ok(), reopened.status().ToString());
  VETA_FUZZ_CHECK(*reopened == note);
  VETA_FUZZ_CHECK(!veta::note::Open(*signed_note, other.verifier).ok());
  std::string altered = *signed_note;
  const size_t at = note.size() / 2;  // inside the text
  altered[at] = static_cast<char>(altered[at] ^ 1);
  VETA_FUZZ_CHECK(!veta::note::Open(altered, fixed.verifier).ok());
  return 0;
}
