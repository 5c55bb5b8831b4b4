// veta-server's HTTP listener (server/http_server.h) over real TLS on a loopback port: the
// checkpoint and hash tiles for anyone, with the spec's content types and caching; 404 for
// what is not a tile or not written; entry bundles for a regulator's client certificate only
// (the public and a miner get 403); the local operator without TLS; a route added beside the
// tiles; plain HTTP refused beyond loopback.
#include "server/http_server.h"

#include <httplib.h>
#include <openssl/pem.h>

#include <filesystem>

#include "core/log/tiles.h"
#include "core/verify/x509.h"
#include "gtest/gtest.h"
#include "tests/core/registry_fixture.h"
#include "tests/tiles/tiles_test_util.h"

namespace veta::server {
namespace {

using testing::Ruc;
using testing::TempDir;

class HttpServerTest : public testing::RegistryFixture {
 protected:
  void SetUp() override {
    RegistryFixture::SetUp();
    ExpectAccepted(Registry(Miner(miner_ruc_, miner_)));
    veta::v1::KeyRegistration regulator;  // a regulator's key, registered by the authority
    *regulator.mutable_key() = regulator_.public_key().ToProto();
    regulator.set_holder("regulator:SUNAT");
    ExpectAccepted(Sign(kKeyRegistrationType, regulator, {authority_}));
    for (int i = 0; ledger_->size() < 300; ++i) {
      ExpectAccepted(
          Sign(kMemoType, payloads::MemoOf(StrCat("venta ", i), "", i + 1), {registrar_}));
    }
    tiles::TileWriterOptions options;
    options.dir = dir_.Sub("tiles");
    options.bundles_dir = dir_.Sub("bundles");
    tiles::TileWriter writer(options);
    StoreNodeReader nodes(ledger_->store());
    tiles::TileSource source;
    source.nodes = &nodes;
    source.entries = [this](uint64_t start, uint32_t count) {
      return ledger_->ListEntries(start, count);
    };
    source.checkpoint_note = [this]() -> absl::StatusOr<std::string> {
      return ledger_->LatestCheckpoint().note();
    };
    ASSERT_TRUE(writer.PublishOnce(source).ok());

    const PrivateKey server_key = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
    server_cert_ = *SelfSignedCertificate(server_key, "veta-test", {"localhost", "127.0.0.1"});
    ASSERT_TRUE(WriteFileAtomic(dir_.Sub("server.crt"), server_cert_).ok());
    HttpOptions http;
    http.listen = "127.0.0.1:0";
    http.tls_cert_pem = server_cert_;
    http.tls_key_pem = server_key.ToPem();
    http.tiles_dir = options.dir;
    http.bundles_dir = options.bundles_dir;
    server_ = std::make_unique<HttpServer>(ledger_.get(), http);
    server_->Route("GET", "/hello/(\\w+)", [](const HttpRequest& r) {
      HttpResponse out;
      out.body = StrCat("hola ", r.matches.at(1), " (", RoleName(r.caller.role), ")");
      return out;
    });
    ASSERT_TRUE(server_->Start().ok());
  }

  void TearDown() override {
    server_.reset();
    ledger_->Close();
  }

  // A client over TLS that checks the server's certificate; with `key`, it presents a client
  // certificate carrying it.
  std::unique_ptr<httplib::SSLClient> Client(const PrivateKey* key) {
    std::unique_ptr<httplib::SSLClient> client;
    if (key == nullptr) {
      client = std::make_unique<httplib::SSLClient>("127.0.0.1", server_->port());
    } else {
      const std::string cert_pem = *SelfSignedCertificate(*key, "client", {});
      const std::string key_pem = key->ToPem();
      BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
      X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
      BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
      EVP_PKEY* pkey = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
      client = std::make_unique<httplib::SSLClient>("127.0.0.1", server_->port(), cert, pkey);
      X509_free(cert);
      EVP_PKEY_free(pkey);
      BIO_free(cb);
      BIO_free(kb);
    }
    client->set_ca_cert_path(dir_.Sub("server.crt").c_str());
    client->enable_server_certificate_verification(true);
    return client;
  }

  std::string File(std::string_view rel) {
    return *ReadFile(StrCat(dir_.path(), "/", rel), 64 << 20);
  }

  const std::string miner_ruc_ = Ruc("2060000001");
  PrivateKey miner_ = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
  PrivateKey regulator_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  TempDir dir_;
  std::string server_cert_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ThePublicGetsCheckpointAndHashTiles) {
  auto client = Client(nullptr);
  auto cp = client->Get("/checkpoint");
  ASSERT_TRUE(cp) << httplib::to_string(cp.error());
  EXPECT_EQ(cp->status, 200);
  EXPECT_EQ(cp->get_header_value("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(cp->get_header_value("Cache-Control"), "no-cache");
  EXPECT_EQ(cp->body, ledger_->LatestCheckpoint().note());

  auto full = client->Get("/tile/0/000");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 200);
  EXPECT_EQ(full->get_header_value("Content-Type"), "application/octet-stream");
  EXPECT_EQ(full->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(full->body, File("tiles/tile/0/000"));
  EXPECT_EQ(full->body.size(), 8192u);

  const std::string partial = StrCat("/tile/0/001.p/", ledger_->size() - 256);
  auto p = client->Get(partial.c_str());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 200);
  EXPECT_EQ(p->get_header_value("Cache-Control"), "public, max-age=60");
  EXPECT_EQ(p->body.size(), (ledger_->size() - 256) * 32);

  for (const char* missing : {"/tile/0/002", "/tile/0/001.p/3", "/tile/01/000", "/tile/0/0",
                              "/tile/0/../../bundles/tile/entries/000", "/tile/", "/nothing"}) {
    auto r = client->Get(missing);
    ASSERT_TRUE(r) << missing;
    EXPECT_EQ(r->status, 404) << missing;
  }
}

// A folder the tile writer refused (ahead of the ledger, another log's) is not served as this
// log's: every tile route answers 503 with the writer's reason.
TEST_F(HttpServerTest, NoTilesServedFromAFolderTheWriterRefused) {
  HttpOptions plain;
  plain.listen = "127.0.0.1:0";
  plain.tiles_dir = dir_.Sub("tiles");
  plain.bundles_dir = dir_.Sub("bundles");
  plain.tiles_refused = [] {
    return absl::FailedPreconditionError("the folder covers 800 entries, the ledger 600");
  };
  HttpServer refusing(ledger_.get(), plain);
  ASSERT_TRUE(refusing.Start().ok());
  httplib::Client client("127.0.0.1", refusing.port());
  for (const char* path : {"/checkpoint", "/tile/0/000", "/tile/entries/000"}) {
    auto r = client.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 503) << path;
    EXPECT_NE(r->body.find("covers 800"), std::string::npos) << r->body;
  }
  refusing.Stop();
}

TEST_F(HttpServerTest, EntryBundlesOnlyToARoleThatReadsEveryEntry) {
  const std::string partial = StrCat("/tile/entries/001.p/", ledger_->size() - 256);
  for (const PrivateKey* key : std::vector<const PrivateKey*>{nullptr, &miner_}) {
    auto client = Client(key);
    for (const std::string& path : {std::string("/tile/entries/000"), partial}) {
      auto r = client->Get(path.c_str());
      ASSERT_TRUE(r) << path;
      EXPECT_EQ(r->status, 403) << path << (key ? " (miner)" : " (public)");
      EXPECT_EQ(r->body.find(File("bundles/tile/entries/000").substr(2, 40)), std::string::npos);
    }
  }
  auto regulator = Client(&regulator_);
  auto full = regulator->Get("/tile/entries/000");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 200);
  EXPECT_EQ(full->body, File("bundles/tile/entries/000"));
  EXPECT_EQ(full->get_header_value("Content-Type"), "application/octet-stream");
  EXPECT_EQ(full->get_header_value("Cache-Control"), "private, max-age=31536000, immutable");
  auto entries = tiles::ParseEntryBundle(full->body);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->at(3), *ledger_->GetEntry(3));
  auto part = regulator->Get(partial.c_str());
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 200);
  EXPECT_EQ(part->get_header_value("Cache-Control"), "private, max-age=60");
  auto missing = regulator->Get("/tile/entries/005");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(HttpServerTest, RoutesAddedBesideTheTilesKnowTheCaller) {
  auto r = Client(&regulator_)->Get("/hello/mundo");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hola mundo (regulator)");
  auto pub = Client(nullptr)->Get("/hello/mundo");
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->body, "hola mundo (public)");
}

TEST_F(HttpServerTest, WithoutTlsOnlyLoopbackAndTheLocalOperator) {
  HttpOptions plain;
  plain.listen = "0.0.0.0:0";
  plain.tiles_dir = dir_.Sub("tiles");
  HttpServer refused(ledger_.get(), plain);
  absl::Status s = refused.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;

  plain.listen = "127.0.0.1:0";
  plain.bundles_dir = dir_.Sub("bundles");
  HttpServer local(ledger_.get(), plain);
  ASSERT_TRUE(local.Start().ok());
  httplib::Client client("127.0.0.1", local.port());
  auto r = client.Get("/tile/entries/000");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);  // the local operator may read everything, as over gRPC
  EXPECT_EQ(r->body, File("bundles/tile/entries/000"));
  local.Stop();
  local.Stop();  // idempotent
}

}  // namespace
}  // namespace veta::server
