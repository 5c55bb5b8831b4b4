#include "server/connect_api.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "absl/synchronization/notification.h"
#include "client/address.h"
#include "core/base/strings.h"
#include "core/read/access.h"
#include "veta/v1/service.grpc.pb.h"
#include "veta/v1/session.pb.h"

namespace veta::server {

namespace {

using google::protobuf::Message;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

constexpr char kLedgerService[] = "veta.v1.Ledger";
constexpr char kSessionService[] = "veta.v1.Session";

// Connect's name and HTTP status for each gRPC code (https://connectrpc.com/docs/protocol,
// "Error Codes").
struct CodeInfo {
  std::string_view name;
  int http_status;
};
CodeInfo ConnectCode(int code) {
  static constexpr CodeInfo kCodes[] = {
      {"ok", 200},
      {"canceled", 499},
      {"unknown", 500},
      {"invalid_argument", 400},
      {"deadline_exceeded", 504},
      {"not_found", 404},
      {"already_exists", 409},
      {"permission_denied", 403},
      {"resource_exhausted", 429},
      {"failed_precondition", 400},
      {"aborted", 409},
      {"out_of_range", 400},
      {"unimplemented", 501},
      {"internal", 500},
      {"unavailable", 503},
      {"data_loss", 500},
      {"unauthenticated", 401},
  };
  if (code < 0 || code >= static_cast<int>(std::size(kCodes))) return kCodes[2];
  return kCodes[code];
}

// A Connect error (JSON whatever the request's codec, as the protocol says).
HttpResponse ConnectError(int code, std::string_view message, int http_status = 0) {
  const CodeInfo info = ConnectCode(code);
  HttpResponse r;
  r.status = http_status != 0 ? http_status : info.http_status;
  r.content_type = "application/json";
  r.body = StrCat("{\"code\":", JsonQuote(info.name), ",\"message\":", JsonQuote(message), "}");
  r.headers.emplace("Cache-Control", "no-store");
  return r;
}
HttpResponse ConnectError(const absl::Status& s) {
  return ConnectError(static_cast<int>(s.code()), FromAbsl(s.message()));
}

std::optional<std::string> Header(const HttpRequest& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n.size() == name.size() && strncasecmp(n.data(), name.data(), name.size()) == 0) return v;
  }
  return std::nullopt;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

enum class Codec { kJson, kProto };

// The request's codec, or the error to answer (415 for a content type we do not speak).
absl::StatusOr<Codec> CodecOf(const HttpRequest& r, HttpResponse* error) {
  const std::string type = Lower(Trim(Header(r, "Content-Type").value_or("")));
  const std::string_view base = Trim(std::string_view(type).substr(0, type.find(';')));
  std::optional<Codec> codec;
  if (base == "application/json") codec = Codec::kJson;
  if (base == "application/proto") codec = Codec::kProto;
  if (!codec) {
    *error = ConnectError(
        static_cast<int>(absl::StatusCode::kInvalidArgument),
        StrCat("Content-Type \"", type,
               "\" is not served: the Connect protocol's unary calls take application/json "
               "(protobuf's JSON mapping) or application/proto"),
        415);
    return absl::InvalidArgumentError("content type");
  }
  const std::string encoding = Lower(Trim(Header(r, "Content-Encoding").value_or("identity")));
  // The HTTP server (cpp-httplib) has already decoded gzip and br bodies.
  if (encoding != "identity" && encoding != "gzip" && encoding != "br") {
    *error =
        ConnectError(static_cast<int>(absl::StatusCode::kUnimplemented),
                     StrCat("Content-Encoding \"", encoding,
                            "\" is not supported; the supported encodings: identity, gzip, br"));
    return absl::InvalidArgumentError("encoding");
  }
  if (auto v = Header(r, "Connect-Protocol-Version"); v && Trim(*v) != "1") {
    *error = ConnectError(static_cast<int>(absl::StatusCode::kInvalidArgument),
                          StrCat("Connect-Protocol-Version \"", *v, "\" is not served: only 1"));
    return absl::InvalidArgumentError("version");
  }
  return *codec;
}

absl::Status Decode(Codec codec, const std::string& body, Message* message) {
  if (codec == Codec::kProto) {
    if (!message->ParseFromString(body)) {
      return absl::InvalidArgumentError(
          StrCat("the body is not a binary ", message->GetTypeName(), " (application/proto)"));
    }
    return absl::OkStatus();
  }
  if (Trim(body).empty()) return absl::OkStatus();  // the empty message
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto s = google::protobuf::util::JsonStringToMessage(body, message, options);
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        StrCat("the body is not a ", message->GetTypeName(),
               " in protobuf's JSON mapping: ", std::string(s.message())));
  }
  return absl::OkStatus();
}

HttpResponse Encode(Codec codec, const Message& message) {
  HttpResponse r;
  r.headers.emplace("Cache-Control", "no-store");
  if (codec == Codec::kProto) {
    r.content_type = "application/proto";
    r.body = message.SerializeAsString();
    return r;
  }
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = false;  // lowerCamelCase, as protobuf's JSON mapping
  r.content_type = "application/json";
  auto s = google::protobuf::util::MessageToJsonString(message, &r.body, options);
  if (!s.ok()) {
    return ConnectError(static_cast<int>(absl::StatusCode::kInternal),
                        StrCat("cannot write the answer as JSON: ", std::string(s.message())));
  }
  return r;
}

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(t);
  out->set_seconds(micros / 1'000'000);
  out->set_nanos(static_cast<int32_t>(micros % 1'000'000) * 1000);
}

// Connect's header for a trailing metadata entry: "trailer-<name>", binary values in base64.
void AddTrailer(std::string_view name, std::string_view value, HttpResponse* r) {
  if (name.empty() || name.substr(0, 5) == "grpc-" || name[0] == ':') return;
  const bool binary = name.size() > 4 && name.substr(name.size() - 4) == "-bin";
  r->headers.emplace(StrCat("Trailer-", name), binary ? Base64Encode(value) : std::string(value));
}

const MethodDescriptor* FindMethod(const char* service, const std::string& name) {
  const ServiceDescriptor* s =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
  return s == nullptr ? nullptr : s->FindMethodByName(name);
}

HttpResponse NoSuchMethod(const char* service, const std::string& name) {
  std::vector<std::string> names;
  const ServiceDescriptor* s =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
  for (int i = 0; s != nullptr && i < s->method_count(); ++i) names.push_back(s->method(i)->name());
  return ConnectError(
      static_cast<int>(absl::StatusCode::kUnimplemented),
      StrCat(service, " has no method \"", name, "\"; its methods: ", StrJoin(names, ", ")), 404);
}

}  // namespace

// Who the HTTP caller is, for the service: a key id (empty: the public, or no key).
struct ConnectApi::Call {
  std::string keyid;
  std::optional<absl::Time> expires_at;  // a session's
  bool bearer = false;
};

ConnectApi::ConnectApi(const veta::Ledger* ledger, grpc::Server* server,
                       const LedgerService* service, bool roles, ConnectOptions options)
    : ledger_(ledger),
      service_(service),
      roles_(roles),
      options_(std::move(options)),
      channel_(server->InProcessChannel(grpc::ChannelArguments())),
      sessions_(ledger, options_.sessions) {}

ConnectApi::~ConnectApi() = default;

void ConnectApi::AddRoutes(HttpServer* http) {
  http->Route("POST", "/veta\\.v1\\.Ledger/([A-Za-z0-9_]+)",
              [this](const HttpRequest& r) { return HandleLedger(r); });
  http->Route("POST", "/veta\\.v1\\.Session/([A-Za-z0-9_]+)",
              [this](const HttpRequest& r) { return HandleSession(r); });
}

// The caller of a request: its bearer token's key, else its TLS client certificate's.
static absl::StatusOr<ConnectApi::Call> CallerOf(const HttpRequest& r, const Sessions& sessions) {
  ConnectApi::Call call;
  const std::optional<std::string> auth = Header(r, "Authorization");
  if (!auth) {
    call.keyid = r.caller_keyid;
    return call;
  }
  const std::string_view value = Trim(*auth);
  constexpr std::string_view kBearer = "bearer ";
  if (value.size() <= kBearer.size() || Lower(value.substr(0, kBearer.size())) != kBearer) {
    return absl::UnauthenticatedError(
        "the Authorization header takes \"Bearer <token>\", the token from Session/SignIn");
  }
  auto session = sessions.Find(Trim(value.substr(kBearer.size())));
  if (!session.ok()) return session.status();
  call.keyid = session->keyid;
  call.expires_at = session->expires_at;
  call.bearer = true;
  return call;
}

HttpResponse ConnectApi::HandleLedger(const HttpRequest& r) {
  const std::string& name = r.matches.at(1);
  const MethodDescriptor* method = FindMethod(kLedgerService, name);
  if (method == nullptr) return NoSuchMethod(kLedgerService, name);
  HttpResponse error;
  auto codec = CodecOf(r, &error);
  if (!codec.ok()) return error;
  if (method->client_streaming() || method->server_streaming()) {
    return ConnectError(static_cast<int>(absl::StatusCode::kUnimplemented),
                        StrCat(kLedgerService, "/", name,
                               " is a streaming method, not served over HTTP: call it over gRPC "
                               "(veta-server --listen)"));
  }
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  std::unique_ptr<Message> in(factory->GetPrototype(method->input_type())->New());
  std::unique_ptr<Message> out(factory->GetPrototype(method->output_type())->New());
  if (absl::Status s = Decode(*codec, r.body, in.get()); !s.ok()) return ConnectError(s);
  auto caller = CallerOf(r, sessions_);
  if (!caller.ok()) return ConnectError(caller.status());

  grpc::ClientContext ctx;
  ctx.AddMetadata(LedgerService::kHttpCallerMetadata, service_->HttpCallerValue(caller->keyid));
  absl::Duration timeout = options_.call_timeout_max;
  if (auto ms = Header(r, "Connect-Timeout-Ms")) {
    uint64_t n = 0;
    if (Trim(*ms).size() > 10 || !ParseU64(Trim(*ms), &n) || n == 0) {
      return ConnectError(static_cast<int>(absl::StatusCode::kInvalidArgument),
                          StrCat("Connect-Timeout-Ms wants a positive number of milliseconds "
                                 "(at most 10 digits), not \"",
                                 *ms, "\""));
    }
    timeout = std::min(timeout, absl::Milliseconds(static_cast<int64_t>(n)));
  }
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  const std::string bytes = in->SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::GenericStub stub(channel_);
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&ctx, StrCat("/", kLedgerService, "/", name), grpc::StubOptions(), &request,
                 &response, [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();

  HttpResponse answer;
  std::string refusal;
  if (status.ok()) {
    std::vector<grpc::Slice> slices;
    std::string out_bytes;
    if (response.Dump(&slices).ok()) {
      for (const auto& s : slices) {
        out_bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
    if (!out->ParseFromString(out_bytes)) {
      return ConnectError(static_cast<int>(absl::StatusCode::kInternal),
                          StrCat("the service's answer is not a ", out->GetTypeName()));
    }
    answer = Encode(*codec, *out);
  } else {
    answer = ConnectError(static_cast<int>(status.error_code()), status.error_message());
  }
  for (const auto& [k, v] : ctx.GetServerTrailingMetadata()) {
    const std::string_view key(k.data(), k.size()), value(v.data(), v.size());
    AddTrailer(key, value, &answer);
    if (key == kRefusalMetadata) refusal = std::string(value);
  }
  if (!status.ok() && !refusal.empty()) {  // the refusal code, for programs, beside the message
    answer.body.pop_back();                // the closing brace
    answer.body += StrCat(",\"refusal\":", JsonQuote(refusal), "}");
  }
  return answer;
}

HttpResponse ConnectApi::HandleSession(const HttpRequest& r) {
  const std::string& name = r.matches.at(1);
  const MethodDescriptor* method = FindMethod(kSessionService, name);
  if (method == nullptr) return NoSuchMethod(kSessionService, name);
  HttpResponse error;
  auto codec = CodecOf(r, &error);
  if (!codec.ok()) return error;
  auto* factory = google::protobuf::MessageFactory::generated_factory();
  std::unique_ptr<Message> in(factory->GetPrototype(method->input_type())->New());
  if (absl::Status s = Decode(*codec, r.body, in.get()); !s.ok()) return ConnectError(s);

  if (name == "Challenge") {
    auto c = sessions_.NewChallenge();
    if (!c.ok()) return ConnectError(c.status());
    veta::v1::ChallengeResponse out;
    out.set_challenge(c->bytes);
    out.set_payload_type(std::string(kSessionChallengeType));
    SetTimestamp(c->expires_at, out.mutable_expires_at());
    return Encode(*codec, out);
  }
  if (name == "SignIn") {
    const auto& request = static_cast<const veta::v1::SignInRequest&>(*in);
    auto session = sessions_.SignIn(request.envelope());
    if (!session.ok()) return ConnectError(session.status());
    const Caller caller =
        CallerForKey(ledger_->keys().Find(session->keyid).get(), ledger_->store(), ledger_->size());
    veta::v1::SignInResponse out;
    out.set_token(session->token);
    SetTimestamp(session->expires_at, out.mutable_expires_at());
    out.set_role(std::string(RoleName(caller.role)));
    out.set_party_id(caller.party_id);
    out.set_keyid(session->keyid);
    return Encode(*codec, out);
  }
  if (name == "SignOut") {
    if (auto auth = Header(r, "Authorization")) {
      const std::string_view value = Trim(*auth);
      if (value.size() > 7 && Lower(value.substr(0, 7)) == "bearer ") {
        sessions_.SignOut(Trim(value.substr(7)));
      }
    }
    return Encode(*codec, veta::v1::SignOutResponse());
  }
  if (name == "WhoAmI") {
    auto call = CallerOf(r, sessions_);
    if (!call.ok()) return ConnectError(call.status());
    // As the service will see it: without TLS, everyone is the local operator.
    Caller caller{Role::kOperator, ""};
    if (roles_) {
      caller = call->keyid.empty() ? Caller{}
                                   : CallerForKey(ledger_->keys().Find(call->keyid).get(),
                                                  ledger_->store(), ledger_->size());
    }
    veta::v1::WhoAmIResponse out;
    out.set_role(std::string(RoleName(caller.role)));
    out.set_party_id(caller.party_id);
    out.set_keyid(call->keyid);
    if (call->expires_at) SetTimestamp(*call->expires_at, out.mutable_expires_at());
    return Encode(*codec, out);
  }
  return ConnectError(static_cast<int>(absl::StatusCode::kUnimplemented),
                      StrCat(kSessionService, "/", name, " is not served yet"));
}

}  // namespace veta::server
