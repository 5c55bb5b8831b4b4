// rpc Watch over real TLS on a loopback port, each caller known by its client certificate:
// a miner follows, as they are committed, a sale naming its RUC and a refused attempt on its
// unit by someone else, and nothing of another miner's sales or refusals; a watch resumes
// where an event says; a regulator follows refusals by code; the public sees registry entries
// only; a bad filter is refused.
#include <grpcpp/grpcpp.h>

#include "core/verify/x509.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/core/custody_fixture.h"
#include "veta/v1/service.grpc.pb.h"

namespace veta::server {
namespace {

class WatchTest : public testing::CustodyFixture {
 protected:
  void SetUp() override {
    CustodyFixture::SetUp();
    veta::v1::KeyRegistration regulator;  // a regulator's key, registered by the authority
    *regulator.mutable_key() = regulator_key_.public_key().ToProto();
    regulator.set_holder("regulator:SUNAT");
    ExpectAccepted(Sign(kKeyRegistrationType, regulator, {authority_}));
    Extract("LA", "UA", 1000_kg, 7_gpt);  // miner A's lot
    Extract("LB", "UB", 1000_kg, 3_gpt);  // miner B's lot
    const PrivateKey server_key = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
    server_cert_ = *SelfSignedCertificate(server_key, "veta-test", {"localhost", "127.0.0.1"});
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.tls_cert_pem = server_cert_;
    options.tls_key_pem = server_key.ToPem();
    auto running = StartServer(ledger_.get(), options);
    ASSERT_TRUE(running.ok()) << running.status();
    running_ = std::move(*running);
  }

  void TearDown() override {
    if (running_.server) {
      running_.service->StopWatches();
      running_.server->Shutdown();
    }
    ledger_->Close();
  }

  // A stub presenting `key`'s certificate (none: the public).
  std::unique_ptr<veta::v1::Ledger::Stub> StubFor(const PrivateKey* key) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = server_cert_;
    if (key != nullptr) {
      ssl.pem_cert_chain = *SelfSignedCertificate(*key, "caller", {});
      ssl.pem_private_key = key->ToPem();
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return veta::v1::Ledger::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(running_.port), grpc::SslCredentials(ssl), args));
  }

  // A watch open on its own channel; Next() reads one event (deadline: 20 s for the watch).
  struct Watch {
    std::unique_ptr<veta::v1::Ledger::Stub> stub;
    std::unique_ptr<grpc::ClientContext> ctx = std::make_unique<grpc::ClientContext>();
    std::unique_ptr<grpc::ClientReader<veta::v1::WatchEvent>> reader;
    // The next event that is not a heartbeat; false when the stream ended.
    bool Next(veta::v1::WatchEvent* event) {
      while (reader->Read(event)) {
        if (event->has_entry() || event->has_attempt()) return true;
      }
      return false;
    }
    grpc::Status Cancel() {
      ctx->TryCancel();
      veta::v1::WatchEvent ignored;
      while (reader->Read(&ignored)) {
      }
      return reader->Finish();
    }
  };
  Watch Open(const PrivateKey* key, const veta::v1::WatchRequest& request) {
    Watch w;
    w.stub = StubFor(key);
    w.ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    w.reader = w.stub->Watch(w.ctx.get(), request);
    return w;
  }

  static veta::v1::WatchRequest FromNow() {
    veta::v1::WatchRequest r;
    r.set_from_now(true);
    return r;
  }

  // Miner B's sale, B's refused extraction on its own unit, then miner A's sale and B's refused
  // extraction on A's unit: in that order, so that A's watch would meet B's events first.
  void Play() {
    Sell("LB", miner_b_, plant_, "PB", 500_kg);
    ExpectRefused(Extraction("LB2", miner_b_, "UB", kLonA, kLatA, 100_kg, key_b_),
                  veta::v1::POINT_OUTSIDE_UNIT);
    sale_a_ = Sell("LA", miner_a_, plant_, "PA", 500_kg).sequence;
    ExpectRefused(Extraction("LX", miner_b_, "UA", kLonA, kLatA, 100_kg, key_b_),
                  veta::v1::EXTRACTOR_NOT_ALLOWED_ON_UNIT);
  }

  PrivateKey regulator_key_ = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
  std::string server_cert_;
  RunningServer running_;
  uint64_t sale_a_ = 0;
};

TEST_F(WatchTest, AMinerSeesItsSaleAndAnAttemptOnItsUnitAndNothingOfOthers) {
  Watch a = Open(&key_a_, FromNow());
  // The server sends the stream's metadata once the watch has begun (its "now" fixed).
  a.reader->WaitForInitialMetadata();
  Play();
  veta::v1::WatchEvent first, second;
  ASSERT_TRUE(a.Next(&first));
  ASSERT_TRUE(first.has_entry());
  EXPECT_EQ(first.entry().entry().sequence(), sale_a_);  // not B's sale, sequenced before it
  EXPECT_EQ(first.next_sequence(), sale_a_ + 1);
  ASSERT_TRUE(a.Next(&second));
  ASSERT_TRUE(second.has_attempt());
  EXPECT_EQ(second.attempt().refusal(), veta::v1::EXTRACTOR_NOT_ALLOWED_ON_UNIT);  // not B's own
  EXPECT_EQ(second.attempt().unit_code(), "UA");
  EXPECT_EQ(second.attempt().parties(0), miner_b_);  // someone else, on A's concession
  EXPECT_EQ(a.Cancel().error_code(), grpc::StatusCode::CANCELLED);

  // Resumed after the first event: the attempt again, not the sale.
  veta::v1::WatchRequest resume;
  resume.set_from_sequence(first.next_sequence());
  resume.set_from_attempt(first.next_attempt());
  Watch again = Open(&key_a_, resume);
  veta::v1::WatchEvent event;
  ASSERT_TRUE(again.Next(&event));
  ASSERT_TRUE(event.has_attempt());
  EXPECT_EQ(event.attempt().number(), second.attempt().number());
  again.Cancel();

  // Miner B, filtering on A's unit, sees its own refused attempt there, and not A's sale.
  veta::v1::WatchRequest on_ua;
  on_ua.set_unit("UA");
  on_ua.set_from_sequence(sale_a_);
  on_ua.set_from_attempt(0);
  Watch b = Open(&key_b_, on_ua);
  ASSERT_TRUE(b.Next(&event));
  ASSERT_TRUE(event.has_attempt()) << event.DebugString();
  EXPECT_EQ(event.attempt().unit_code(), "UA");
  b.Cancel();
}

TEST_F(WatchTest, ARegulatorFollowsRefusalsByCodeAndThePublicOnlyTheRegistry) {
  veta::v1::WatchRequest refusals = FromNow();
  refusals.set_refusal("POINT_OUTSIDE_UNIT");
  Watch regulator = Open(&regulator_key_, refusals);
  Watch everyone = Open(nullptr, FromNow());
  regulator.reader->WaitForInitialMetadata();
  everyone.reader->WaitForInitialMetadata();
  Play();
  const uint64_t zone =
      ExpectAccepted(Registry(ZoneRecord("Z1", veta::v1::PROHIBITED_PROTECTED_AREA,
                                         testing::Square(-70.5, -12.0, 0.01))))
          .sequence;
  veta::v1::WatchEvent event;
  ASSERT_TRUE(regulator.Next(&event));
  ASSERT_TRUE(event.has_attempt());
  EXPECT_EQ(event.attempt().refusal(), veta::v1::POINT_OUTSIDE_UNIT);
  EXPECT_EQ(event.attempt().parties(0), miner_b_);
  regulator.Cancel();
  // The public's first event is the zone's record: the sales and attempts before it were
  // skipped.
  ASSERT_TRUE(everyone.Next(&event));
  ASSERT_TRUE(event.has_entry());
  EXPECT_EQ(event.entry().entry().sequence(), zone);
  everyone.Cancel();
}

TEST_F(WatchTest, ABadFilterIsRefusedAndShutdownEndsWatches) {
  veta::v1::WatchRequest bad;
  bad.set_refusal("NOT_A_CODE");
  Watch w = Open(&key_a_, bad);
  veta::v1::WatchEvent event;
  EXPECT_FALSE(w.Next(&event));
  grpc::Status s = w.reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("unknown refusal code 'NOT_A_CODE'"), std::string::npos);

  Watch open = Open(&key_a_, FromNow());
  open.reader->WaitForInitialMetadata();
  EXPECT_EQ(running_.service->open_watches(), 1u);
  running_.service->StopWatches();
  EXPECT_FALSE(open.Next(&event));
  s = open.reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

}  // namespace
}  // namespace veta::server
