// The HTTP JSON API (server/connect_api.h, docs/HTTP_API.md) over real TLS on a loopback port,
// beside a real gRPC server with one party of each role (tests/server/roles_fixture.h): every
// unary method of veta.v1.Ledger, found in its descriptor, answers each role over HTTP with
// the code gRPC gives it; submissions over HTTP are judged as over gRPC (accepted into the
// ledger, or refused with their code); browser sign-in with a registered key, and every way it
// is refused; the identity metadata cannot be forged from the network; bad input changes
// nothing; the web app's files are served and nothing outside their folder is.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <openssl/pem.h>

#include <filesystem>
#include <fstream>

#include "absl/synchronization/notification.h"
#include "core/base/strings.h"
#include "core/verify/envelope.h"
#include "gtest/gtest.h"
#include "server/connect_api.h"
#include "server/http_server.h"
#include "server/web_files.h"
#include "tests/core/test_util.h"
#include "tests/server/roles_fixture.h"
#include "veta/v1/session.pb.h"

namespace veta::server {
namespace {

using google::protobuf::Message;
using google::protobuf::MethodDescriptor;
using testing::TempDir;

constexpr char kJson[] = "application/json";

std::string JsonOf(const Message& m) {
  std::string out;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &out).ok());
  return out;
}

class HttpApiTest : public RolesFixture {
 protected:
  void SetUp() override {
    options_.limits.page_bytes_max = 1 << 20;
    RolesFixture::SetUp();
    if (HasFatalFailure()) return;
    const PrivateKey http_key = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
    http_cert_ = *SelfSignedCertificate(http_key, "veta-http", {"localhost", "127.0.0.1"});
    ASSERT_TRUE(WriteFileAtomic(dir_.Sub("http.crt"), http_cert_).ok());
    HttpOptions http;
    http.listen = "127.0.0.1:0";
    http.tls_cert_pem = http_cert_;
    http.tls_key_pem = http_key.ToPem();
    http.request_bytes_max = 64 << 10;
    http_ = std::make_unique<HttpServer>(ledger_.get(), http);
    ConnectOptions connect;
    connect.sessions.clock = [this] { return now_; };
    connect.sessions.challenges_max = 4;
    api_ = std::make_unique<ConnectApi>(ledger_.get(), running_.server.get(),
                                        running_.service.get(), /*roles=*/true, connect);
    api_->AddRoutes(http_.get());
    ASSERT_TRUE(http_->Start().ok());
  }

  void TearDown() override {
    http_.reset();
    api_.reset();
    RolesFixture::TearDown();
  }

  // An HTTPS client presenting `role`'s key in a client certificate (none for "public").
  std::unique_ptr<httplib::SSLClient> Client(const std::string& role) {
    std::unique_ptr<httplib::SSLClient> client;
    if (role == "public") {
      client = std::make_unique<httplib::SSLClient>("127.0.0.1", http_->port());
    } else {
      const PrivateKey& key = keys_.at(role);
      const std::string cert_pem = *SelfSignedCertificate(key, role, {});
      const std::string key_pem = key.ToPem();
      BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
      X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
      BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
      EVP_PKEY* pkey = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
      client = std::make_unique<httplib::SSLClient>("127.0.0.1", http_->port(), cert, pkey);
      X509_free(cert);
      EVP_PKEY_free(pkey);
      BIO_free(cb);
      BIO_free(kb);
    }
    client->set_ca_cert_path(dir_.Sub("http.crt").c_str());
    client->enable_server_certificate_verification(true);
    return client;
  }

  httplib::Result Post(const std::string& role, const std::string& path, const std::string& body,
                       const std::string& token = "") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return Client(role)->Post(path, headers, body, kJson);
  }

  // A gRPC channel presenting `role`'s key (as RolesFixture::StubFor).
  std::shared_ptr<grpc::Channel> ChannelFor(const std::string& role) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = server_cert_;
    if (role != "public") {
      const PrivateKey& key = keys_.at(role);
      ssl.pem_cert_chain = *SelfSignedCertificate(key, role, {});
      ssl.pem_private_key = key.ToPem();
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(running_.port),
                                     grpc::SslCredentials(ssl), args);
  }

  // A unary call over gRPC with raw bytes; its status.
  static grpc::Status GrpcCall(const std::shared_ptr<grpc::Channel>& channel,
                               const std::string& method, const Message& request,
                               std::vector<std::pair<std::string, std::string>> metadata = {}) {
    grpc::GenericStub stub(channel);
    grpc::ClientContext ctx;
    for (const auto& [k, v] : metadata) ctx.AddMetadata(k, v);
    const std::string bytes = request.SerializeAsString();
    grpc::Slice slice(bytes);
    grpc::ByteBuffer in(&slice, 1), out;
    absl::Notification done;
    grpc::Status status;
    stub.UnaryCall(&ctx, method, grpc::StubOptions(), &in, &out, [&](grpc::Status s) {
      status = std::move(s);
      done.Notify();
    });
    done.WaitForNotification();
    return status;
  }

  // The answer's JSON "code" ("" when it has none: a success).
  static std::string CodeOf(const httplib::Result& r) {
    const std::string key = "\"code\":\"";
    const size_t at = r->body.find(key);
    if (r->status == 200 || at == std::string::npos) return "";
    return r->body.substr(at + key.size(), r->body.find('"', at + key.size()) - at - key.size());
  }

  // A challenge from the server, signed by `key` (the browser's part of sign-in).
  std::string SignedChallenge(const PrivateKey& key, std::string* challenge = nullptr) {
    auto r = Post("public", "/veta.v1.Session/Challenge", "{}");
    EXPECT_EQ(r->status, 200) << r->body;
    veta::v1::ChallengeResponse c;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r->body, &c).ok()) << r->body;
    EXPECT_EQ(c.payload_type(), kSessionChallengeType);
    EXPECT_EQ(c.challenge().size(), 32u);
    if (challenge != nullptr) *challenge = c.challenge();
    veta::v1::SignInRequest in;
    *in.mutable_envelope() = *SignEnvelope(c.payload_type(), c.challenge(), {key});
    return JsonOf(in);
  }

  std::string SignIn(const std::string& role) {
    auto r = Post("public", "/veta.v1.Session/SignIn", SignedChallenge(keys_.at(role)));
    EXPECT_EQ(r->status, 200) << r->body;
    veta::v1::SignInResponse out;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r->body, &out).ok()) << r->body;
    return out.token();
  }

  TempDir dir_;
  std::string http_cert_;
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<ConnectApi> api_;
};

const std::map<std::string, int> kGrpcCodeByName = {{"", 0},
                                                    {"canceled", 1},
                                                    {"unknown", 2},
                                                    {"invalid_argument", 3},
                                                    {"deadline_exceeded", 4},
                                                    {"not_found", 5},
                                                    {"already_exists", 6},
                                                    {"permission_denied", 7},
                                                    {"resource_exhausted", 8},
                                                    {"failed_precondition", 9},
                                                    {"aborted", 10},
                                                    {"out_of_range", 11},
                                                    {"unimplemented", 12},
                                                    {"internal", 13},
                                                    {"unavailable", 14},
                                                    {"data_loss", 15},
                                                    {"unauthenticated", 16}};

// Every unary method of the service's descriptor (a new rpc is covered without a change here),
// for every role, with an empty request and, where one is given below, a meaningful one: the
// HTTP answer's Connect code is the gRPC call's code, whether the role is a TLS client
// certificate or a session token; a success's JSON reads as the method's response type.
// Streaming methods answer `unimplemented` over HTTP.
TEST_F(HttpApiTest, EveryUnaryMethodAnswersEveryRoleAsGrpcDoes) {
  const std::map<std::string, std::vector<std::string>> samples = {
      {"GetLot", {R"({"lotId":"L1"})"}},
      {"GetLineage", {R"({"lotId":"L1"})"}},
      {"GetCertificate", {R"({"lotId":"L1"})"}},
      {"GetEntry", {StrCat(R"({"sequence":")", extraction_entry_, R"("})")}},
      {"ListEntries", {R"({"start":"0","limit":3})"}},
      {"GetDailyCapacity", {StrCat(R"({"id":")", miner_ruc_, R"("})")}},
  };
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName("veta.v1.Ledger");
  ASSERT_NE(service, nullptr);
  const uint64_t size = ledger_->size();
  int unary = 0, compared = 0;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels;
  std::map<std::string, std::string> tokens;  // each role signed in from a browser
  for (const auto& role : kRoles) {
    channels[role] = ChannelFor(role);
    if (role != "public") tokens[role] = SignIn(role);
  }
  for (int i = 0; i < service->method_count(); ++i) {
    const MethodDescriptor* m = service->method(i);
    const std::string path = StrCat("/veta.v1.Ledger/", m->name());
    if (m->client_streaming() || m->server_streaming()) {
      auto r = Post("regulator", path, "{}");
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 501) << m->name();
      EXPECT_EQ(CodeOf(r), "unimplemented") << m->name();
      EXPECT_NE(r->body.find("gRPC"), std::string::npos) << r->body;
      continue;
    }
    ++unary;
    std::vector<std::string> bodies = {"{}"};
    if (auto it = samples.find(m->name()); it != samples.end()) {
      bodies.insert(bodies.end(), it->second.begin(), it->second.end());
    }
    auto* factory = google::protobuf::MessageFactory::generated_factory();
    for (const std::string& body : bodies) {
      std::unique_ptr<Message> request(factory->GetPrototype(m->input_type())->New());
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(body, request.get()).ok()) << body;
      for (const auto& role : kRoles) {
        const grpc::Status g = GrpcCall(channels[role], path, *request);
        auto h = Post(role, path, body);
        ASSERT_TRUE(h) << httplib::to_string(h.error());
        const std::string code = CodeOf(h);
        ASSERT_TRUE(kGrpcCodeByName.contains(code)) << h->body;
        EXPECT_EQ(kGrpcCodeByName.at(code), static_cast<int>(g.error_code()))
            << m->name() << " " << body << " as " << role << ": HTTP " << h->status << " "
            << h->body << "; gRPC: " << g.error_message();
        if (g.ok() && h->status == 200) {
          std::unique_ptr<Message> out(factory->GetPrototype(m->output_type())->New());
          EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(h->body, out.get()).ok())
              << h->body;
          EXPECT_EQ(h->get_header_value("Content-Type"), kJson);
        } else {
          EXPECT_EQ(g.error_message(),
                    h->body.substr(h->body.find("\"message\":\"") + 11, g.error_message().size()))
              << h->body;
        }
        ++compared;
        if (role == "public") continue;
        // The same role signed in with a session token, from a client without a certificate.
        auto b = Post("public", path, body, tokens[role]);
        ASSERT_TRUE(b) << httplib::to_string(b.error());
        EXPECT_EQ(CodeOf(b), code) << m->name() << " " << body << " as " << role
                                   << " with a token: HTTP " << b->status << " " << b->body;
      }
    }
  }
  EXPECT_GE(unary, 15);
  EXPECT_GE(compared, unary * static_cast<int>(kRoles.size()));
  EXPECT_EQ(ledger_->size(), size);  // empty requests changed nothing
}

TEST_F(HttpApiTest, ASubmissionAcceptedOverHttpIsInTheLedger) {
  const uint64_t size = ledger_->size();
  const std::string envelope =
      Extraction("L7", miner_ruc_, "U1", -69.9, -12.6, 5_kg, keys_.at("miner"));
  auto r = Post("miner", "/veta.v1.Ledger/Submit",
                StrCat(R"({"envelope":")", Base64Encode(envelope), R"("})"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  veta::v1::SubmitResponse answer;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r->body, &answer).ok()) << r->body;
  EXPECT_EQ(answer.sequence(), size);
  EXPECT_NE(r->body.find(StrCat(R"("sequence":")", size, R"(")")), std::string::npos)
      << "int64 as a string: " << r->body;
  ASSERT_EQ(ledger_->size(), size + 1);
  auto entries = ledger_->ListEntries(size, 1);
  ASSERT_TRUE(entries.ok());
  veta::v1::Entry entry;
  ASSERT_TRUE(entry.ParseFromString(entries->at(0)));
  EXPECT_EQ(entry.envelope(), envelope);
}

TEST_F(HttpApiTest, ARefusedSubmissionCarriesItsRefusalCode) {
  const uint64_t size = ledger_->size();
  const std::string envelope =
      Extraction("L8", miner_ruc_, "U9", -69.9, -12.6, 5_kg, keys_.at("miner"));
  auto r = Post("miner", "/veta.v1.Ledger/Submit",
                StrCat(R"({"envelope":")", Base64Encode(envelope), R"("})"));
  ASSERT_TRUE(r);
  EXPECT_NE(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), kJson);
  EXPECT_NE(r->body.find(R"("message":"[UNIT_UNKNOWN])"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find(R"("refusal":"UNIT_UNKNOWN")"), std::string::npos) << r->body;
  EXPECT_EQ(r->get_header_value("Trailer-Veta-Refusal"), "UNIT_UNKNOWN");
  EXPECT_EQ(ledger_->size(), size);
}

TEST_F(HttpApiTest, SignInWithARegisteredKeyActsAsItsHolder) {
  const std::string token = SignIn("regulator");
  ASSERT_FALSE(token.empty());
  // The public may not list entries; the same client with the regulator's token may.
  auto denied = Post("public", "/veta.v1.Ledger/ListEntries", R"({"limit":1})");
  EXPECT_EQ(denied->status, 401) << denied->body;
  auto allowed = Post("public", "/veta.v1.Ledger/ListEntries", R"({"limit":1})", token);
  EXPECT_EQ(allowed->status, 200) << allowed->body;
  auto who = Post("public", "/veta.v1.Session/WhoAmI", "{}", token);
  EXPECT_NE(who->body.find(R"("role":"regulator")"), std::string::npos) << who->body;
  EXPECT_NE(who->body.find(R"("partyId":"SUNAT")"), std::string::npos) << who->body;

  // An Ed25519 key (the registrar's) signs in as well as a P-256 one.
  const std::string registrar = SignIn("registrar");
  who = Post("public", "/veta.v1.Session/WhoAmI", "{}", registrar);
  EXPECT_NE(who->body.find(R"("role":"registrar")"), std::string::npos) << who->body;

  // A trader's token: its role's cells of the matrix (no ListEntries), and a submission.
  const std::string trader = SignIn("trader");
  EXPECT_EQ(Post("public", "/veta.v1.Ledger/ListEntries", "{}", trader)->status, 403);
  auto check = Post("public", "/veta.v1.Ledger/Check", R"({"envelope":"AAAA"})", trader);
  EXPECT_EQ(check->status, 200) << check->body;

  // Signed out, the token is no more; so is one past its expiry.
  EXPECT_EQ(Post("public", "/veta.v1.Session/SignOut", "{}", token)->status, 200);
  auto gone = Post("public", "/veta.v1.Ledger/ListEntries", "{}", token);
  EXPECT_EQ(gone->status, 401);
  EXPECT_NE(gone->body.find("sign in again"), std::string::npos) << gone->body;
  now_ += absl::Minutes(16);
  EXPECT_EQ(Post("public", "/veta.v1.Ledger/Check", "{}", trader)->status, 401);
  EXPECT_EQ(Post("public", "/veta.v1.Ledger/GetCheckpoint", "{}", "garbage")->status, 401);
}

TEST_F(HttpApiTest, SignInIsRefusedWithoutAFreshChallengeSignedByARegisteredKey) {
  const auto refused = [&](const std::string& body, int status, const std::string& words) {
    auto r = Post("public", "/veta.v1.Session/SignIn", body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_NE(r->body.find(words), std::string::npos) << r->body;
  };
  // A key the ledger does not know.
  const PrivateKey stranger = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  refused(SignedChallenge(stranger), 401, "not registered");
  // A registered key's signature over other bytes.
  {
    std::string challenge;
    SignedChallenge(keys_.at("trader"), &challenge);
    veta::v1::SignInRequest in;
    *in.mutable_envelope() =
        *SignEnvelope(kSessionChallengeType, "other bytes", {keys_.at("trader")});
    in.mutable_envelope()->set_payload(challenge);
    refused(JsonOf(in), 401, "does not verify");
  }
  // A challenge used twice.
  const std::string once = SignedChallenge(keys_.at("trader"));
  EXPECT_EQ(Post("public", "/veta.v1.Session/SignIn", once)->status, 200);
  refused(once, 401, "already used");
  // An expired challenge.
  const std::string late = SignedChallenge(keys_.at("trader"));
  now_ += absl::Minutes(3);
  refused(late, 401, "expired");
  // The wrong payload type, and a challenge the server never issued.
  {
    veta::v1::SignInRequest in;
    *in.mutable_envelope() = *SignEnvelope(kMemoType, std::string(32, 'x'), {keys_.at("trader")});
    refused(JsonOf(in), 400, "payload_type");
    *in.mutable_envelope() =
        *SignEnvelope(kSessionChallengeType, std::string(32, 'x'), {keys_.at("trader")});
    refused(JsonOf(in), 401, "not one this server issued");
  }
  // Challenges are bounded (4 here): past the bound the oldest go, so a client that floods
  // Session/Challenge cannot keep others from signing in (it used to get everyone 429).
  const std::string early = SignedChallenge(keys_.at("trader"));
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Post("public", "/veta.v1.Session/Challenge", "{}")->status, 200);
  }
  EXPECT_EQ(api_->sessions().challenges(), 4u);
  refused(early, 401, "already used");  // flooded out: ask again
  EXPECT_EQ(Post("public", "/veta.v1.Session/SignIn", SignedChallenge(keys_.at("trader")))->status,
            200);
  EXPECT_EQ(api_->sessions().sessions(), 2u);  // the two good sign-ins
}

// One registered key signing in over and over (a script, a hostile party) holds at most
// sessions_per_key_max sessions, its oldest ended first: it cannot fill the server's table and
// lock every other holder out of signing in.
TEST_F(HttpApiTest, OneKeySigningInOverAndOverCannotFillTheSessions) {
  SessionOptions options;
  options.sessions_max = 4;
  options.sessions_per_key_max = 2;
  Sessions sessions(ledger_.get(), options);
  const auto sign_in = [&](const std::string& role) {
    auto c = sessions.NewChallenge();
    EXPECT_TRUE(c.ok()) << c.status();
    auto envelope = SignEnvelope(kSessionChallengeType, c->bytes, {keys_.at(role)});
    EXPECT_TRUE(envelope.ok()) << envelope.status();
    return sessions.SignIn(*envelope);
  };
  std::vector<std::string> tokens;
  for (int i = 0; i < 10; ++i) {
    auto s = sign_in("trader");
    ASSERT_TRUE(s.ok()) << "sign-in " << i << ": " << s.status();
    tokens.push_back(s->token);
  }
  EXPECT_EQ(sessions.sessions(), 2u);
  EXPECT_FALSE(sessions.Find(tokens[0]).ok());  // the oldest ended
  EXPECT_TRUE(sessions.Find(tokens[8]).ok());
  EXPECT_TRUE(sessions.Find(tokens[9]).ok());
  // Everyone else still signs in.
  auto regulator = sign_in("regulator");
  ASSERT_TRUE(regulator.ok()) << regulator.status();
  EXPECT_TRUE(sign_in("registrar").ok());
  EXPECT_EQ(sessions.sessions(), 4u);
}

// The identity metadata the HTTP listener forwards in-process, sent by a network client: even
// with the process's real secret and a regulator's key id, the caller stays who its TLS
// certificate says (the public, or a miner).
TEST_F(HttpApiTest, AForgedHttpCallerFromTheNetworkIsIgnored) {
  const std::string regulator = keys_.at("regulator").public_key().keyid();
  const std::vector<std::pair<std::string, std::string>> forged = {
      {LedgerService::kHttpCallerMetadata, running_.service->HttpCallerValue(regulator)}};
  veta::v1::ListEntriesRequest request;
  request.set_limit(1);
  EXPECT_EQ(
      GrpcCall(ChannelFor("public"), "/veta.v1.Ledger/ListEntries", request, forged).error_code(),
      grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(
      GrpcCall(ChannelFor("miner"), "/veta.v1.Ledger/ListEntries", request, forged).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  // Over HTTP, a header of that name is not metadata the service sees either.
  httplib::Headers headers = {{"veta-http-caller", running_.service->HttpCallerValue(regulator)}};
  auto r = Client("public")->Post("/veta.v1.Ledger/ListEntries", headers, "{}", kJson);
  EXPECT_EQ(r->status, 401) << r->body;
}

TEST_F(HttpApiTest, BadRequestsGetClearErrorsAndChangeNothing) {
  const uint64_t size = ledger_->size();
  auto r = Post("miner", "/veta.v1.Ledger/Submit", R"({"envelope": )");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(CodeOf(r), "invalid_argument");
  EXPECT_NE(r->body.find("protobuf's JSON mapping"), std::string::npos) << r->body;
  r = Post("miner", "/veta.v1.Ledger/Submit", R"({"envelop":"AAAA"})");
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(r->body.find("envelop"), std::string::npos) << r->body;
  r = Post("miner", "/veta.v1.Ledger/Submit", R"({"envelope":"not base64!"})");
  EXPECT_EQ(r->status, 400) << r->body;
  r = Client("miner")->Post("/veta.v1.Ledger/Submit", "{}", "text/plain");
  EXPECT_EQ(r->status, 415) << r->body;
  r = Post("miner", "/veta.v1.Ledger/NoSuchMethod", "{}");
  EXPECT_EQ(r->status, 404) << r->body;
  EXPECT_NE(r->body.find("GetCheckpoint"), std::string::npos) << "lists the methods: " << r->body;
  r = Post("miner", "/veta.v1.Session/Nope", "{}");
  EXPECT_EQ(r->status, 404) << r->body;
  r = Post("miner", "/veta.v1.Ledger/Submit",
           StrCat(R"({"envelope":")", Base64Encode(std::string(100 << 10, 'x')), R"("})"));
  EXPECT_EQ(r->status, 413);
  httplib::Headers zstd = {{"Content-Encoding", "zstd"}};
  r = Client("miner")->Post("/veta.v1.Ledger/GetCheckpoint", zstd, "{}", kJson);
  EXPECT_EQ(CodeOf(r), "unimplemented") << r->body;
  httplib::Headers bad_version = {{"Connect-Protocol-Version", "2"}};
  r = Client("miner")->Post("/veta.v1.Ledger/GetCheckpoint", bad_version, "{}", kJson);
  EXPECT_EQ(r->status, 400) << r->body;
  // The binary codec works as well as JSON.
  r = Client("public")->Post("/veta.v1.Ledger/GetCheckpoint", "", "application/proto");
  ASSERT_EQ(r->status, 200) << r->body;
  veta::v1::Checkpoint cp;
  EXPECT_TRUE(cp.ParseFromString(r->body));
  EXPECT_FALSE(cp.note().empty());
  EXPECT_EQ(ledger_->size(), size);
}

// A gzip body is bounded once inflated, not only on the wire: 1 MiB of zeros gzips to about
// 1 KB, far under request_bytes_max (64 KiB here), and was inflated whole into memory (600 KB
// of gzip made a veta-server hold 2.5 GB). Refused with 413 on API routes, on a path no route
// takes and on another method that takes a body; a small compressed body is still served.
// Nothing changes.
TEST_F(HttpApiTest, ACompressedBodyIsBoundedOnceInflated) {
  const uint64_t size = ledger_->size();
  const std::string big = StrCat(R"({"lotId":")", std::string(1 << 20, '0'), R"("})");
  const auto send = [&](const std::string& method, const std::string& path, const std::string& body,
                        const std::string& role = "miner") {
    auto client = Client(role);
    client->set_compress(true);  // gzip, Content-Encoding: gzip
    return method == "PUT" ? client->Put(path, body, kJson) : client->Post(path, body, kJson);
  };
  auto r = send("POST", "/veta.v1.Ledger/GetLot", big);
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 413) << r->body.substr(0, 200);
  EXPECT_NE(r->body.find("decompressed"), std::string::npos) << r->body.substr(0, 200);
  r = send("POST", "/veta.v1.Ledger/Submit",
           StrCat(R"({"envelope":")", std::string(1 << 20, 'A'), R"("})"));
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 413) << r->body.substr(0, 200);
  r = send("POST", "/veta.v1.Session/Challenge", big, "public");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 413) << r->body.substr(0, 200);
  r = send("POST", "/no/such/route", big);
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 413) << r->body.substr(0, 200);
  r = send("PUT", "/veta.v1.Ledger/GetLot", big);
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 413) << r->body.substr(0, 200);
  // Within the bound, a compressed request is served as before.
  r = send("POST", "/veta.v1.Ledger/GetCheckpoint", "{}", "public");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200) << r->body.substr(0, 200);
  r = send("POST", "/no/such/route", "{}");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 404) << r->body.substr(0, 200);
  EXPECT_EQ(api_->sessions().challenges(), 0u);
  EXPECT_EQ(ledger_->size(), size);
}

// The web app's files: index.html for / and client-side routes, types and caching by path,
// 404 for missing files, API and tile paths, and for anything outside the folder.
class WebFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    namespace fs = std::filesystem;
    fs::create_directories(dir_.Sub("web/assets"));
    Write("web/index.html", "<!doctype html><title>Veta</title>");
    Write("web/assets/index-abc123.js", "console.log('hola')");
    Write("web/assets/style.css", "body{}");
    Write("web/mapa.svg", "<svg/>");
    Write("secret.txt", "not for the web");
    fs::create_symlink(dir_.Sub("secret.txt"), dir_.Sub("web/escape.txt"));
    fs::create_directory_symlink(dir_.path(), dir_.Sub("web/up"));
  }
  void Write(const std::string& rel, const std::string& text) {
    std::ofstream(dir_.Sub(rel)) << text;
  }
  std::string web() const { return dir_.Sub("web"); }
  TempDir dir_;
};

TEST_F(WebFilesTest, ServesTheAppAndNothingElse) {
  auto index = ServeWebFile(web(), "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index.headers.find("Cache-Control")->second, "no-cache");
  EXPECT_EQ(ServeWebFile(web(), "/verificar").body, index.body);
  EXPECT_EQ(ServeWebFile(web(), "/regulador/mapa").body, index.body);
  auto js = ServeWebFile(web(), "/assets/index-abc123.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(js.headers.find("Cache-Control")->second, "public, max-age=31536000, immutable");
  EXPECT_EQ(ServeWebFile(web(), "/assets/style.css").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(ServeWebFile(web(), "/mapa.svg").content_type, "image/svg+xml");
  EXPECT_EQ(WebContentType("a.woff2"), "font/woff2");
  EXPECT_EQ(WebContentType("a.wasm"), "application/wasm");
  EXPECT_EQ(WebContentType("a.js.map"), "application/json");
  EXPECT_EQ(WebContentType("a.png"), "image/png");
  EXPECT_EQ(ServeWebFile(web(), "/missing.js").status, 404);
  EXPECT_EQ(ServeWebFile(web(), "/veta.v1.Ledger/GetCheckpoint").status, 404);
  EXPECT_EQ(ServeWebFile(web(), "/tile/0/000").status, 404);
  EXPECT_EQ(ServeWebFile(web(), "/checkpoint").status, 404);
  for (const char* path : {"/../secret.txt", "/assets/../../secret.txt", "/escape.txt",
                           "/up/secret.txt", "/..", "/a\\..\\secret.txt"}) {
    const HttpResponse r = ServeWebFile(web(), path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body.find("not for the web"), std::string::npos) << path;
  }
  // No index.html: client-side routes say the app is not built.
  EXPECT_NE(ServeWebFile(dir_.Sub("web/assets"), "/").body.find("not built"), std::string::npos);
}

// Over a real listener (plain HTTP on loopback): the catch-all comes after the other routes, and
// encoded traversal is refused too.
TEST_F(WebFilesTest, TheListenerServesWebDirAfterItsOtherRoutes) {
  HttpOptions options;
  options.listen = "127.0.0.1:0";
  options.web_dir = web();
  HttpServer server(/*ledger=*/nullptr, options);  // no TLS: the ledger is not consulted
  server.Route("GET", "/hello", [](const HttpRequest&) {
    HttpResponse r;
    r.body = "hola";
    return r;
  });
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("127.0.0.1", server.port());
  auto hello = client.Get("/hello");
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->body, "hola");
  auto route = client.Get("/verificar?lote=L1&nota=ab");
  ASSERT_TRUE(route);
  EXPECT_EQ(route->status, 200);
  EXPECT_EQ(route->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(route->get_header_value("Cache-Control"), "no-cache");
  // Not to be framed by another site (clickjacking of the signing pages).
  EXPECT_EQ(route->get_header_value("X-Frame-Options"), "DENY");
  EXPECT_EQ(route->get_header_value("Content-Security-Policy"), "frame-ancestors 'none'");
  auto js = client.Get("/assets/index-abc123.js");
  EXPECT_EQ(js->body, "console.log('hola')");
  for (const char* path : {"/%2e%2e/secret.txt", "/assets/%2E%2E/%2e%2e/secret.txt", "/escape.txt",
                           "/up/secret.txt", "/nada.png"}) {
    auto r = client.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_NE(r->status, 200) << path;
    EXPECT_EQ(r->body.find("not for the web"), std::string::npos) << path;
  }
  server.Stop();
}

// Without TLS every caller is the local operator, so the listener answers only requests that
// name a loopback host: a page of another site whose name was re-pointed at 127.0.0.1 (DNS
// rebinding) sends its own name as Host, and gets nothing (421) from any route.
TEST_F(WebFilesTest, WithoutTlsOnlyLoopbackHostsAreAnswered) {
  HttpOptions options;
  options.listen = "127.0.0.1:0";
  options.web_dir = web();
  HttpServer server(/*ledger=*/nullptr, options);
  server.Route("POST", "/veta\\.v1\\.Ledger/ListEntries", [](const HttpRequest& r) {
    HttpResponse out;
    out.body = std::string(RoleName(r.caller.role));
    return out;
  });
  ASSERT_TRUE(server.Start().ok());
  const std::string port = std::to_string(server.port());
  for (const std::string& host : {"evil.example:" + port, std::string("evil.example"),
                                  "127.0.0.1.nip.io:" + port, "[::2]:" + port}) {
    httplib::Client client("127.0.0.1", server.port());
    httplib::Headers headers = {{"Host", host}};
    auto r = client.Post("/veta.v1.Ledger/ListEntries", headers, "{}", "application/json");
    ASSERT_TRUE(r) << host;
    EXPECT_EQ(r->status, 421) << host;
    EXPECT_EQ(r->body.find("operator"), std::string::npos) << host;
    r = client.Get("/", headers);
    ASSERT_TRUE(r) << host;
    EXPECT_EQ(r->status, 421) << host;
  }
  for (const std::string& host :
       {"127.0.0.1:" + port, "localhost:" + port, std::string("LOCALHOST"), "[::1]:" + port}) {
    httplib::Client client("127.0.0.1", server.port());
    httplib::Headers headers = {{"Host", host}};
    auto r = client.Post("/veta.v1.Ledger/ListEntries", headers, "{}", "application/json");
    ASSERT_TRUE(r) << host;
    EXPECT_EQ(r->status, 200) << host;
    EXPECT_EQ(r->body, "operator") << host;
  }
  server.Stop();
}

}  // namespace
}  // namespace veta::server
