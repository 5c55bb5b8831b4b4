// Helpers shared by the veta command-line tool's commands.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "client/connection.h"
#include "core/base/flags.h"
#include "core/read/explain.h"
#include "core/verify/keys.h"
#include "veta/v1/service.grpc.pb.h"

namespace veta::client {

// $XDG_DATA_HOME/veta, else ~/.local/share/veta.
std::string DefaultDataDir();
// A client context with a deadline.
std::unique_ptr<grpc::ClientContext> Context(int seconds = 30);
// A file's contents, or standard input for "-".
absl::StatusOr<std::string> ReadInput(const std::string& path);
// To a file (atomically), or to standard output for "" and "-".
[[nodiscard]] absl::Status WriteOutput(const std::string& path, std::string_view data,
                                       int mode = 0644);
absl::StatusOr<PrivateKey> LoadPrivateKey(const std::string& path);
// Parses a command's flags (from argv[2]); prints --help and sets *help when asked.
[[nodiscard]] absl::Status ParseOrHelp(Flags& flags, int argc, char** argv, bool* help);

// Sets an AsOf from --as-of (UINT64_MAX: not given) or --as-of-time (RFC 3339).
[[nodiscard]] absl::Status SetAsOf(uint64_t sequence, const std::string& time,
                                   veta::v1::AsOf* as_of);
// The authority's public key from a PEM file (a private key's public half is taken too).
absl::StatusOr<PublicKey> LoadAuthority(const std::string& path);
// With a witness policy file (C2SP tlog-policy, see core/verify/cosignature.h): checks that
// the checkpoint note, signed by `authority` under its origin, is cosigned by the policy's
// quorum; returns a sentence naming who cosigned. Without one (empty path): OK, "".
absl::StatusOr<std::string> CheckWitnessPolicy(const std::string& policy_path,
                                               const std::string& checkpoint_note,
                                               const PublicKey& authority);

// What a command that calls the server takes: the connection (AddConnectionFlags) and --json.
struct Common : ConnectionOptions {
  bool json = false;
};

// Submits one serialized envelope by a unary call. A refusal is an answer (its code, message and
// refusal name set), not an error; an error only when the server cannot be reached.
[[nodiscard]] absl::StatusOr<veta::v1::SubmitResponse> SubmitOne(veta::v1::Ledger::Stub* stub,
                                                                 const std::string& envelope,
                                                                 std::string_view server);
// An answer as one JSON object (every string quoted and escaped): file (what was submitted),
// code, refusal, message, sequence, leafHash, flags.
std::string AnswerJson(std::string_view file, const veta::v1::SubmitResponse& r);

using Command = std::function<absl::Status(int argc, char** argv)>;

// Registry commands (registry_cli.cc).
[[nodiscard]] absl::Status RecordCmd(int argc, char** argv);
[[nodiscard]] absl::Status RecordsCmd(int argc, char** argv);
[[nodiscard]] absl::Status LotCmd(int argc, char** argv);
[[nodiscard]] absl::Status AttemptsCmd(int argc, char** argv);
[[nodiscard]] absl::Status FlagsCmd(int argc, char** argv);
[[nodiscard]] absl::Status WatchCmd(int argc, char** argv);
[[nodiscard]] absl::Status CheckCmd(int argc, char** argv);
[[nodiscard]] absl::Status ImportCmd(int argc, char** argv);

// Onboarding and settings commands (onboard_cli.cc).
[[nodiscard]] absl::Status ConfigCmd(int argc, char** argv);
[[nodiscard]] absl::Status RegistrarCmd(int argc, char** argv);
[[nodiscard]] absl::Status RotateKeyCmd(int argc, char** argv);
[[nodiscard]] absl::Status SuspendCmd(int argc, char** argv);
[[nodiscard]] absl::Status ReinstateCmd(int argc, char** argv);

// Custody commands (custody_cli.cc).
[[nodiscard]] absl::Status LineageCmd(int argc, char** argv);
[[nodiscard]] absl::Status CertificateCmd(int argc, char** argv);
[[nodiscard]] absl::Status VerifyCertificateCmd(int argc, char** argv);
[[nodiscard]] absl::Status CorrectCmd(int argc, char** argv);
[[nodiscard]] absl::Status ClearFlagCmd(int argc, char** argv);
[[nodiscard]] absl::Status ExportCmd(int argc, char** argv);
[[nodiscard]] absl::Status ReportCmd(int argc, char** argv);

// Plain-language explanations (explain_cli.cc, the table in core/read/explain.h).
[[nodiscard]] absl::Status ExplainCmd(int argc, char** argv);
// The trader's desk: what a seller or unit may still extract or process (capacity_cli.cc).
[[nodiscard]] absl::Status CapacityCmd(int argc, char** argv);
// --lang es|en; without it VETA_LANG, then the locale (English for en*), else Spanish.
void AddLangFlag(Flags& flags, std::string* lang);
absl::StatusOr<Lang> ChosenLang(const std::string& flag);
// A refusal's or flag's explanation, "<indent>Title. Text" wrapped at 92 columns with a
// newline; "" for an unknown code.
std::string Explained(std::string_view code, Lang lang, std::string_view indent = "  ");

}  // namespace veta::client
