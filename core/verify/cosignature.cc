#include "core/verify/cosignature.h"

#include <algorithm>
#include <cstring>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/verify/sha256.h"

namespace veta::cosig {
namespace {

constexpr std::string_view kSignaturePrefix = "\u2014 ";  // em dash, space
constexpr size_t kNoteBytesMax = 1 << 16;
constexpr size_t kSignaturesMax = 100;
constexpr size_t kBlobBytes = 4 + 8 + 64;
constexpr int kGroupDepthMax = 64;

std::array<uint8_t, 4> KeyId(std::string_view name, std::string_view raw) {
  const Hash h = Sha256()
                     .Update(name)
                     .Update(std::string_view("\n"))
                     .Update(kSignatureType)
                     .Update(raw)
                     .Finish();
  return {h[0], h[1], h[2], h[3]};
}

std::string_view IdBytes(const std::array<uint8_t, 4>& id) {
  return std::string_view(reinterpret_cast<const char*>(id.data()), id.size());
}

absl::Status CheckName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("cosigner name is empty");
  for (unsigned char c : name) {
    if (c <= ' ' || c == '+') {
      return absl::InvalidArgumentError(StrCat("cosigner name '", name, "' has a space or a '+'"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckText(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError("checkpoint text must end with a newline");
  }
  if (text.find("\n\n") != std::string_view::npos) {
    return absl::InvalidArgumentError("checkpoint text must not contain a blank line");
  }
  return absl::OkStatus();
}

// Fields separated by runs of spaces and tabs (tlog-policy's whitespace).
std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> VerifierKey(std::string_view name, const PublicKey& key) {
  RETURN_IF_ERROR(CheckName(name));
  if (key.algorithm() != KeyAlgorithm::kEd25519) {
    return absl::InvalidArgumentError("cosignature/v1 keys are Ed25519");
  }
  std::string typed(1, static_cast<char>(kSignatureType));
  typed += key.ed25519_raw();
  return StrCat(name, "+", ToHex(IdBytes(KeyId(name, key.ed25519_raw()))), "+",
                Base64Encode(typed));
}

absl::StatusOr<Cosigner> ParseVerifierKey(std::string_view verifier_key) {
  const size_t plus1 = verifier_key.find('+');
  const size_t plus2 = plus1 == std::string_view::npos ? plus1 : verifier_key.find('+', plus1 + 1);
  if (plus2 == std::string_view::npos || plus2 - plus1 != 9) {
    return absl::InvalidArgumentError(
        StrCat("malformed witness verifier key '", verifier_key, "': want name+hash+key"));
  }
  Cosigner c;
  c.name = std::string(verifier_key.substr(0, plus1));
  RETURN_IF_ERROR(CheckName(c.name));
  std::string typed;
  if (!Base64Decode(verifier_key.substr(plus2 + 1), &typed) || typed.size() != 33) {
    return absl::InvalidArgumentError(
        StrCat("malformed witness verifier key for ", c.name, ": want base64 of 33 bytes"));
  }
  if (static_cast<uint8_t>(typed[0]) != kSignatureType) {
    return absl::InvalidArgumentError(
        StrCat("witness verifier key for ", c.name, " has signature type ",
               static_cast<int>(static_cast<uint8_t>(typed[0])),
               ", not 4 (cosignature/v1 Ed25519); a log's checkpoint key is type 1"));
  }
  c.ed25519_raw = typed.substr(1);
  c.key_id = KeyId(c.name, c.ed25519_raw);
  if (ToHex(IdBytes(c.key_id)) != verifier_key.substr(plus1 + 1, 8)) {
    return absl::InvalidArgumentError(
        StrCat("witness verifier key for ", c.name, ": key id does not match name and key"));
  }
  // Refuses keys that are not points (libsodium checks again at each verify).
  RETURN_IF_ERROR(PublicKey::FromEd25519Raw(c.ed25519_raw).status());
  c.verifier_key = std::string(verifier_key);
  return c;
}

absl::Status CheckNoteVerifierKey(std::string_view verifier_key) {
  // note::Open parses the key before the note; a well-formed note with a stranger's line
  // then fails with "no signature", so any InvalidArgument is the key's.
  const auto probe = note::Open("x\n\n\u2014 probe YWJjZGU=\n", verifier_key);
  if (probe.status().code() == absl::StatusCode::kInvalidArgument) return probe.status();
  return absl::OkStatus();
}

std::string SignedMessage(uint64_t timestamp, std::string_view checkpoint_text) {
  return StrCat("cosignature/v1\ntime ", timestamp, "\n", checkpoint_text);
}

absl::StatusOr<std::string> Sign(std::string_view checkpoint_text, std::string_view name,
                                 const PrivateKey& key, uint64_t timestamp) {
  RETURN_IF_ERROR(CheckName(name));
  RETURN_IF_ERROR(CheckText(checkpoint_text));
  if (key.algorithm() != KeyAlgorithm::kEd25519) {
    return absl::InvalidArgumentError("cosignature/v1 keys are Ed25519");
  }
  if (timestamp == 0 || timestamp > (uint64_t{1} << 63) - 1) {
    return absl::InvalidArgumentError("cosignature timestamp must be in 1..2^63-1");
  }
  ASSIGN_OR_RETURN(std::string sig, key.Sign(SignedMessage(timestamp, checkpoint_text)));
  std::string blob(IdBytes(KeyId(name, key.public_key().ed25519_raw())));
  for (int shift = 56; shift >= 0; shift -= 8) {
    blob.push_back(static_cast<char>((timestamp >> shift) & 0xff));
  }
  blob += sig;
  return StrCat(kSignaturePrefix, name, " ", Base64Encode(blob), "\n");
}

absl::StatusOr<uint64_t> Verify(std::string_view checkpoint_text, std::string_view line,
                                const Cosigner& cosigner) {
  RETURN_IF_ERROR(CheckText(checkpoint_text));
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (line.substr(0, kSignaturePrefix.size()) != kSignaturePrefix) {
    return absl::InvalidArgumentError("malformed signature line: no em dash");
  }
  line.remove_prefix(kSignaturePrefix.size());
  const size_t space = line.find(' ');
  if (space == std::string_view::npos) {
    return absl::InvalidArgumentError("malformed signature line: no space after the name");
  }
  std::string blob;
  if (!Base64Decode(line.substr(space + 1), &blob) || blob.size() < 4) {
    return absl::InvalidArgumentError("malformed signature line: bad base64");
  }
  if (line.substr(0, space) != cosigner.name || blob.substr(0, 4) != IdBytes(cosigner.key_id)) {
    return absl::NotFoundError(StrCat("not a cosignature by ", cosigner.name));
  }
  if (blob.size() != kBlobBytes) {
    return absl::UnauthenticatedError(
        StrCat("cosignature by ", cosigner.name, " has ", blob.size(), " bytes, not 76"));
  }
  uint64_t timestamp = 0;
  for (int i = 4; i < 12; ++i) timestamp = (timestamp << 8) | static_cast<uint8_t>(blob[i]);
  if (timestamp > (uint64_t{1} << 63) - 1) {
    return absl::UnauthenticatedError(
        StrCat("cosignature by ", cosigner.name, " has a timestamp past 2^63-1"));
  }
  ASSIGN_OR_RETURN(PublicKey key, PublicKey::FromEd25519Raw(cosigner.ed25519_raw));
  absl::Status ok = key.Verify(SignedMessage(timestamp, checkpoint_text), blob.substr(12));
  if (!ok.ok()) {
    return absl::UnauthenticatedError(
        StrCat("cosignature by ", cosigner.name, " does not verify over this checkpoint"));
  }
  return timestamp;
}

absl::StatusOr<NoteParts> SplitNote(std::string_view note) {
  if (note.size() > kNoteBytesMax) return absl::InvalidArgumentError("note is too large");
  const size_t split = note.find("\n\n");
  if (split == std::string_view::npos) {
    return absl::InvalidArgumentError("malformed note: no blank line before the signatures");
  }
  NoteParts parts;
  parts.text = std::string(note.substr(0, split + 1));
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') {
    return absl::InvalidArgumentError("malformed note: signature block must end with a newline");
  }
  sigs.remove_suffix(1);
  for (std::string_view line : Split(sigs, '\n')) {
    if (line.substr(0, kSignaturePrefix.size()) != kSignaturePrefix) {
      return absl::InvalidArgumentError("malformed note: signature line without em dash");
    }
    parts.signature_lines.push_back(StrCat(line, "\n"));
  }
  if (parts.signature_lines.size() > kSignaturesMax) {
    return absl::InvalidArgumentError("note has too many signatures");
  }
  return parts;
}

absl::StatusOr<std::string> AddSignatureLines(std::string_view note,
                                              const std::vector<std::string>& lines) {
  ASSIGN_OR_RETURN(NoteParts parts, SplitNote(note));
  std::string out(note);
  for (const std::string& line : lines) {
    if (line.empty() || line.back() != '\n' || line.find('\n') != line.size() - 1 ||
        line.substr(0, kSignaturePrefix.size()) != kSignaturePrefix) {
      return absl::InvalidArgumentError("a signature line must be one em-dash line");
    }
    if (std::find(parts.signature_lines.begin(), parts.signature_lines.end(), line) !=
        parts.signature_lines.end()) {
      continue;
    }
    parts.signature_lines.push_back(line);
    out += line;
  }
  if (parts.signature_lines.size() > kSignaturesMax) {
    return absl::InvalidArgumentError("note would have too many signatures");
  }
  return out;
}

absl::StatusOr<Policy> Policy::Parse(std::string_view text) {
  Policy p;
  bool have_quorum = false;
  std::vector<std::string> names;  // witnesses and groups share one namespace
  const auto defined = [&](std::string_view n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  const std::vector<std::string_view> lines = Split(text, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const auto fail = [&](std::string_view why) {
      return absl::InvalidArgumentError(StrCat("witness policy line ", i + 1, ": ", why));
    };
    for (unsigned char c : line) {
      if (c < 0x20 && c != '\t') return fail("control character");
      if (c == 0x7f) return fail("control character");
    }
    const std::vector<std::string_view> f = Fields(line);
    if (f.empty() || f[0][0] == '#') continue;
    if (p.log_keys_.size() + p.witnesses_.size() + p.groups_.size() >= kPolicyItemsMax) {
      return fail(StrCat("more than ", kPolicyItemsMax, " logs, witnesses and groups"));
    }
    if (have_quorum) return fail("nothing may follow the quorum line");
    if (f[0] == "log") {
      if (f.size() < 2 || f.size() > 3) return fail("want: log <vkey> [<url>]");
      absl::Status key_ok = CheckNoteVerifierKey(f[1]);
      if (!key_ok.ok()) return fail(FromAbsl(key_ok.message()));
      for (const std::string& k : p.log_keys_) {
        if (k == f[1]) return fail("duplicate log");
      }
      p.log_keys_.emplace_back(f[1]);
    } else if (f[0] == "witness") {
      if (f.size() < 3 || f.size() > 4) return fail("want: witness <name> <vkey> [<url>]");
      if (f[1] == "none" || defined(f[1])) return fail(StrCat("name '", f[1], "' already used"));
      auto c = ParseVerifierKey(f[2]);
      if (!c.ok()) return fail(FromAbsl(c.status().message()));
      for (const Cosigner& w : p.witnesses_) {
        if (w.ed25519_raw == c->ed25519_raw) return fail("duplicate witness key");
      }
      c->name_in_policy = std::string(f[1]);
      if (f.size() == 4) c->url = std::string(f[3]);
      p.witnesses_.push_back(std::move(*c));
      names.emplace_back(f[1]);
    } else if (f[0] == "group") {
      if (f.size() < 4) return fail("want: group <name> all|any|<k> <member>...");
      if (f[1] == "none" || defined(f[1])) return fail(StrCat("name '", f[1], "' already used"));
      Group g;
      g.name = std::string(f[1]);
      for (size_t m = 3; m < f.size(); ++m) {
        if (!defined(f[m])) return fail(StrCat("member '", f[m], "' is not defined above"));
        if (std::find(g.members.begin(), g.members.end(), f[m]) != g.members.end()) {
          return fail(StrCat("member '", f[m], "' listed twice"));
        }
        g.members.emplace_back(f[m]);
      }
      uint64_t k = 0;
      if (f[2] == "all") {
        k = g.members.size();
      } else if (f[2] == "any") {
        k = 1;
      } else if (!ParseU64(f[2], &k) || k < 1 || k > g.members.size()) {
        return fail(StrCat("threshold '", f[2], "' must be all, any or 1..", g.members.size()));
      }
      g.threshold = k;
      p.groups_.push_back(std::move(g));
      names.emplace_back(f[1]);
    } else if (f[0] == "quorum") {
      if (f.size() != 2) return fail("want: quorum <name>|none");
      if (f[1] != "none" && !defined(f[1])) {
        return fail(StrCat("quorum '", f[1], "' is not a witness or group defined above"));
      }
      p.quorum_ = std::string(f[1]);
      have_quorum = true;
    } else {
      return fail(StrCat("unknown keyword '", f[0], "' (want log, witness, group or quorum)"));
    }
  }
  if (!have_quorum) return absl::InvalidArgumentError("witness policy has no quorum line");
  return p;
}

std::string Policy::Describe() const {
  if (quorum_ == "none") return "no witnesses required";
  for (const Group& g : groups_) {
    if (g.name == quorum_) {
      return StrCat("group ", g.name, ": ", g.threshold, " of ", g.members.size());
    }
  }
  return StrCat("witness ", quorum_);
}

bool Policy::Satisfied(std::string_view name, const std::vector<std::string>& cosigned,
                       int depth) const {
  if (depth > kGroupDepthMax) return false;
  for (const Group& g : groups_) {
    if (g.name != name) continue;
    size_t n = 0;
    for (const std::string& m : g.members) n += Satisfied(m, cosigned, depth + 1) ? 1 : 0;
    return n >= g.threshold;
  }
  return std::find(cosigned.begin(), cosigned.end(), name) != cosigned.end();
}

bool Policy::QuorumMet(const std::vector<std::string>& names) const {
  return quorum_ == "none" || Satisfied(quorum_, names, 0);
}

absl::StatusOr<VerifiedCheckpoint> Policy::Verify(std::string_view note,
                                                  std::string_view log_key) const {
  VerifiedCheckpoint out;
  absl::Status last = absl::FailedPreconditionError("the witness policy names no log");
  std::vector<std::string_view> keys;
  if (!log_key.empty()) {
    keys.push_back(log_key);
  } else {
    for (const std::string& k : log_keys_) keys.push_back(k);
  }
  bool opened = false;
  for (std::string_view k : keys) {
    auto text = note::Open(note, k);
    if (text.ok()) {
      out.text = std::move(*text);
      opened = true;
      break;
    }
    last = text.status();
  }
  if (!opened) return last;
  ASSIGN_OR_RETURN(out.checkpoint, note::ParseCheckpointText(out.text));
  ASSIGN_OR_RETURN(NoteParts parts, SplitNote(note));
  std::vector<std::string> names;
  for (const Cosigner& w : witnesses_) {
    for (const std::string& line : parts.signature_lines) {
      auto ts = cosig::Verify(out.text, line, w);
      if (ts.status().code() == absl::StatusCode::kNotFound) continue;
      if (!ts.ok()) return ts.status();
      names.push_back(w.name_in_policy);
      break;
    }
  }
  out.cosigned_by = names;
  if (!QuorumMet(names)) {
    return absl::FailedPreconditionError(StrCat(
        "checkpoint of size ", out.checkpoint.size, " lacks the witness quorum (", Describe(),
        "): cosigned by ", names.size(), " of the policy's ", witnesses_.size(), " witnesses",
        names.empty() ? std::string() : StrCat(" (", StrJoin(names, ", "), ")")));
  }
  return out;
}

}  // namespace veta::cosig
