// veta_client's connection (client/connection.h) against a real server on a loopback port
// serving TLS: a CA alone makes the caller the public; a client certificate (mutual TLS) makes
// it the key's holder; the flags every binary shares; half-given TLS options refused. Keys and
// certificates are made at test time, in a temporary folder.
#include "client/connection.h"

#include <grpcpp/grpcpp.h>

#include <cstdlib>

#include "client/config.h"
#include "core/log/ledger.h"
#include "core/verify/keys.h"
#include "core/verify/x509.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/core/test_util.h"

namespace veta::client {
namespace {

using veta::testing::TempDir;

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Ledger::Create(dir_.path(), "veta.test/connection", authority_, "").ok());
    LedgerOptions options;
    options.data_dir = dir_.path();
    ledger_ = std::move(*Ledger::Open(options, authority_));
    // The server's certificate, and one for the authority's key: the authority reads as a
    // regulator, who may list entries (the public may not).
    const PrivateKey server_key = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
    const std::string server_cert =
        *SelfSignedCertificate(server_key, "veta-test", {"localhost", "127.0.0.1"});
    ASSERT_TRUE(WriteFileAtomic(dir_.Sub("server.crt"), server_cert).ok());
    ASSERT_TRUE(WriteFileAtomic(dir_.Sub("authority.crt"),
                                *SelfSignedCertificate(authority_, "authority", {}))
                    .ok());
    ASSERT_TRUE(WriteFileAtomic(dir_.Sub("authority.pem"), authority_.ToPem(), 0600).ok());
    server::ServerOptions server_options;
    server_options.listen = "127.0.0.1:0";
    server_options.tls_cert_pem = server_cert;
    server_options.tls_key_pem = server_key.ToPem();
    auto running = server::StartServer(ledger_.get(), server_options);
    ASSERT_TRUE(running.ok()) << running.status();
    running_ = std::move(*running);
  }

  void TearDown() override {
    if (running_.server) running_.server->Shutdown();
    ledger_->Close();
  }

  ConnectionOptions Tls() const {
    ConnectionOptions o;
    o.server = "localhost:" + std::to_string(running_.port);
    o.ca_file = dir_.Sub("server.crt");
    return o;
  }

  static grpc::Status ListEntries(veta::v1::Ledger::Stub* stub) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    veta::v1::ListEntriesRequest request;
    request.set_limit(1);
    veta::v1::ListEntriesResponse response;
    return stub->ListEntries(&ctx, request, &response);
  }

  TempDir dir_;
  PrivateKey authority_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  std::unique_ptr<Ledger> ledger_;
  server::RunningServer running_;
};

TEST_F(ConnectionTest, TlsWithTheServersCertificateIsThePublic) {
  auto stub = Connect(Tls());
  ASSERT_TRUE(stub.ok()) << stub.status();
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  veta::v1::Checkpoint cp;
  grpc::Status s = (*stub)->GetCheckpoint(&ctx, {}, &cp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(cp.tree_size(), 1u);  // the genesis
  s = ListEntries(stub->get());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
}

TEST_F(ConnectionTest, ClientCertificateIdentifiesTheCaller) {
  ConnectionOptions o = Tls();
  o.cert_file = dir_.Sub("authority.crt");
  o.key_file = dir_.Sub("authority.pem");
  auto stub = Connect(o);
  ASSERT_TRUE(stub.ok()) << stub.status();
  grpc::Status s = ListEntries(stub->get());
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(ConnectionTest, FlagsGiveTheSameConnection) {
  const std::string server = "localhost:" + std::to_string(running_.port);
  const std::string ca = dir_.Sub("server.crt"), cert = dir_.Sub("authority.crt"),
                    key = dir_.Sub("authority.pem");
  std::vector<std::string> args = {"tool",       "--server", server,      "--tls-ca", ca,
                                   "--tls-cert", cert,       "--tls-key", key};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  Flags flags("tool", "A tool.");
  ConnectionOptions o;
  AddConnectionFlags(flags, &o);
  ASSERT_TRUE(flags.Parse(static_cast<int>(argv.size()), argv.data()).ok());
  EXPECT_EQ(o.server, server);
  EXPECT_EQ(o.ca_file, ca);
  EXPECT_EQ(o.cert_file, cert);
  EXPECT_EQ(o.key_file, key);
  auto stub = Connect(o);
  ASSERT_TRUE(stub.ok()) << stub.status();
  grpc::Status s = ListEntries(stub->get());
  EXPECT_TRUE(s.ok()) << s.error_message();
}

// No config file of the user running the tests (client/config.h reads it once per process).
const bool kNoUserConfig = ::setenv("VETA_CONFIG", "/nonexistent/veta/config", 1) == 0;

TEST(ConfigTest, LinesCommentsQuotesAndErrorsNamingTheLine) {
  ASSERT_TRUE(kNoUserConfig);
  auto lines = ParseConfig(
      "# Veta\n\n  server = ledger.example.pe:7480  \r\nkey=\"my key.pem\"\nweb_url = \n", "cfg");
  ASSERT_TRUE(lines.ok()) << lines.status();
  ASSERT_EQ(lines->size(), 3u);
  EXPECT_EQ((*lines)[0].key, "server");
  EXPECT_EQ((*lines)[0].value, "ledger.example.pe:7480");
  EXPECT_EQ((*lines)[0].line, 3u);
  EXPECT_EQ((*lines)[1].value, "my key.pem");
  EXPECT_EQ((*lines)[2].value, "");
  EXPECT_EQ(ParseConfig("server = a\nservr = b\n", "cfg").status().message(),
            "cfg:2: unknown key 'servr' (known: server, tls_ca, tls_cert, tls_key, key, web_url)");
  EXPECT_EQ(ParseConfig("key = a\nkey = b\n", "cfg").status().message(),
            "cfg:2: 'key' is already set on line 1");
  EXPECT_EQ(ParseConfig("server\n", "cfg").status().message(),
            "cfg:1: expected `key = value`, got 'server'");
}

// Environment over default; a flag over both; without a config file.
TEST(ConfigTest, FlagOverEnvironmentOverDefault) {
  ASSERT_EQ(::setenv("VETA_SERVER", "127.0.0.1:9", 1), 0);
  auto s = LookupSetting("server");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->value, "127.0.0.1:9");
  EXPECT_EQ(s->source, "environment VETA_SERVER");
  Flags flags("tool", "A tool.");
  ConnectionOptions o;
  AddConnectionFlags(flags, &o);
  EXPECT_EQ(o.server, "127.0.0.1:9");
  std::vector<std::string> args = {"tool", "--server", "127.0.0.1:10"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  ASSERT_TRUE(flags.Parse(static_cast<int>(argv.size()), argv.data()).ok());
  EXPECT_EQ(o.server, "127.0.0.1:10");
  ::unsetenv("VETA_SERVER");
  s = LookupSetting("server");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->value, kDefaultServer);
  EXPECT_EQ(s->source, "default");
  EXPECT_EQ(LookupSetting("web_url")->value, "http://127.0.0.1:7488");
  EXPECT_FALSE(LookupSetting("password").ok());
}

TEST(ConnectionOptionsTest, FlagsDefaultToTheEnvironmentAndTheDefaultServer) {
  ASSERT_EQ(::setenv("VETA_TLS_CA", "/etc/veta/ca.crt", 1), 0);
  ASSERT_EQ(::unsetenv("VETA_TLS_CERT"), 0);
  ASSERT_EQ(::unsetenv("VETA_TLS_KEY"), 0);
  Flags flags("tool", "A tool.");
  ConnectionOptions o;
  o.key_file = "given.pem";  // a value already set is kept
  AddConnectionFlags(flags, &o);
  ::unsetenv("VETA_TLS_CA");
  EXPECT_EQ(o.server, kDefaultServer);
  EXPECT_EQ(o.ca_file, "/etc/veta/ca.crt");
  EXPECT_EQ(o.cert_file, "");
  EXPECT_EQ(o.key_file, "given.pem");
  const std::string help = flags.Help();
  for (const char* flag : {"--server", "--tls-ca", "--tls-cert", "--tls-key"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(help.find(kDefaultServer), std::string::npos);
}

TEST(ConnectionOptionsTest, HalfGivenTlsIsRefused) {
  ConnectionOptions o;
  o.ca_file = "ca.crt";
  o.cert_file = "client.crt";  // no key
  auto c = Credentials(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("go together"), std::string::npos) << c.status();

  o.ca_file.clear();
  o.key_file = "client.pem";  // a client certificate without TLS
  c = Credentials(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("--tls-ca"), std::string::npos) << c.status();

  TempDir dir;
  o = ConnectionOptions{};
  o.ca_file = dir.Sub("missing.crt");
  c = Credentials(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("--tls-ca: "), std::string::npos) << c.status();
  EXPECT_FALSE(Connect(o).ok());

  EXPECT_TRUE(Credentials(ConnectionOptions{}).ok());  // plaintext
}

}  // namespace
}  // namespace veta::client
