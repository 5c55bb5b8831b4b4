#include "client/cli.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <google/protobuf/util/time_util.h>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/verify/cosignature.h"
#include "core/verify/note.h"

namespace veta::client {

std::string DefaultDataDir() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg != nullptr && *xdg != '\0') return StrCat(xdg, "/veta");
  const char* home = std::getenv("HOME");
  return StrCat(home != nullptr ? home : ".", "/.local/share/veta");
}

std::unique_ptr<grpc::ClientContext> Context(int seconds) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return ctx;
}

absl::StatusOr<std::string> ReadInput(const std::string& path) {
  if (path == "-") {
    std::string out;
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), stdin)) > 0) out.append(buf, n);
    return out;
  }
  return ReadFile(path, 16 << 20);
}

absl::Status WriteOutput(const std::string& path, std::string_view data, int mode) {
  if (path.empty() || path == "-") {
    std::fwrite(data.data(), 1, data.size(), stdout);
    return absl::OkStatus();
  }
  return WriteFileAtomic(path, data, mode);
}

absl::StatusOr<PrivateKey> LoadPrivateKey(const std::string& path) {
  ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  auto key = PrivateKey::FromPem(pem);
  if (!key.ok()) return absl::InvalidArgumentError(StrCat(path, ": ", key.status().message()));
  return key;
}

absl::Status ParseOrHelp(Flags& flags, int argc, char** argv, bool* help) {
  RETURN_IF_ERROR(flags.Parse(argc, argv, 2));
  *help = flags.help_requested();
  if (*help) std::fputs(flags.Help().c_str(), stdout);
  return absl::OkStatus();
}

absl::Status SetAsOf(uint64_t sequence, const std::string& time, veta::v1::AsOf* as_of) {
  if (sequence != UINT64_MAX) as_of->set_sequence(sequence);
  if (!time.empty()) {
    if (sequence != UINT64_MAX) {
      return absl::InvalidArgumentError("give --as-of or --as-of-time, not both");
    }
    if (!google::protobuf::util::TimeUtil::FromString(time, as_of->mutable_time())) {
      return absl::InvalidArgumentError(
          StrCat("--as-of-time '", time, "' is not RFC 3339 (e.g. 2026-03-01T12:00:00Z)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<PublicKey> LoadAuthority(const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError(
        "--authority PUBLIC_KEY.pem is required: the only thing a verifier trusts");
  }
  ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  if (auto pub = PublicKey::FromPem(pem); pub.ok()) return pub;
  auto priv = PrivateKey::FromPem(pem);
  if (!priv.ok()) return absl::InvalidArgumentError(StrCat(path, ": not a PEM key"));
  return priv->public_key();
}

absl::StatusOr<std::string> CheckWitnessPolicy(const std::string& policy_path,
                                               const std::string& checkpoint_note,
                                               const PublicKey& authority) {
  if (policy_path.empty()) return std::string();
  ASSIGN_OR_RETURN(std::string text, ReadFile(policy_path));
  ASSIGN_OR_RETURN(cosig::Policy policy, cosig::Policy::Parse(text));
  const std::string origin = checkpoint_note.substr(0, checkpoint_note.find('\n'));
  ASSIGN_OR_RETURN(std::string log_key, note::VerifierKey(origin, authority));
  if (!policy.log_keys().empty() && std::find(policy.log_keys().begin(), policy.log_keys().end(),
                                              log_key) == policy.log_keys().end()) {
    return absl::FailedPreconditionError(
        StrCat("witness policy ", policy_path, " does not list the log ", log_key,
               " (the --authority key under the checkpoint's origin)"));
  }
  auto verified = policy.Verify(checkpoint_note, log_key);
  if (!verified.ok()) {
    return absl::Status(verified.status().code(),
                        StrCat("witness policy ", policy_path, ": ", verified.status().message()));
  }
  return StrCat("cosigned by ", verified->cosigned_by.size(), " witnesses of the policy (",
                StrJoin(verified->cosigned_by, ", "), "): ", policy.Describe(), " met");
}

absl::StatusOr<veta::v1::SubmitResponse> SubmitOne(veta::v1::Ledger::Stub* stub,
                                                   const std::string& envelope,
                                                   std::string_view server) {
  veta::v1::SubmitRequest request;
  request.set_envelope(envelope);
  auto ctx = Context();
  veta::v1::SubmitResponse response;
  grpc::Status s = stub->Submit(ctx.get(), request, &response);
  if (!s.ok()) {
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE) return FromGrpc(s, server);
    response.set_code(s.error_code());
    response.set_message(s.error_message());
    const auto& trailers = ctx->GetServerTrailingMetadata();
    if (auto it = trailers.find(kRefusalMetadata); it != trailers.end()) {
      response.set_refusal(std::string(it->second.data(), it->second.size()));
    }
  }
  return response;
}

std::string AnswerJson(std::string_view file, const veta::v1::SubmitResponse& r) {
  std::string flagged;
  for (const auto& f : r.flags()) {
    flagged += StrCat(flagged.empty() ? "" : ",", JsonQuote(veta::v1::RedFlag_Name(f.flag())));
  }
  return StrCat("{\"file\":", JsonQuote(file), ",\"code\":", r.code(),
                ",\"refusal\":", JsonQuote(r.refusal()), ",\"message\":", JsonQuote(r.message()),
                ",\"sequence\":", r.sequence(), ",\"leafHash\":", JsonQuote(ToHex(r.leaf_hash())),
                ",\"flags\":[", flagged, "]}");
}

}  // namespace veta::client
