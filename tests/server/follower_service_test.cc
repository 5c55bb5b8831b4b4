// veta-follower's parts on real servers: a primary on a loopback port with entries of every
// kind, a follower on disk fed over gRPC (server/follower_source.h), itself serving the read
// RPCs: the same answers as the primary's, writes and attempts refused naming the primary.
#include <grpcpp/grpcpp.h>

#include <thread>

#include "absl/synchronization/mutex.h"
#include "core/verify/x509.h"

#include "core/log/follower.h"
#include "core/verify/certificate_verify.h"
#include "gtest/gtest.h"
#include "server/follower_source.h"
#include "server/server.h"
#include "tests/core/custody_fixture.h"

namespace veta::testing {
namespace {

class FollowerServiceTest : public CustodyFixture {
 protected:
  void SetUp() override {
    CustodyFixture::SetUp();
    BlendTwoUnits();
    ExpectAccepted(ExportEnvelope("E1"));
    for (int i = 0; i < 30; ++i) {
      const std::string n = std::to_string(i);
      const bool a = i % 2 == 0;
      const uint64_t x = Extract("X" + n, a ? "UA" : "UB", 100_kg, 8_gpt).sequence;
      if (i % 10 == 9) {
        ExpectAccepted(CorrectionEnvelope(x, {a ? key_a_ : key_b_}));
        continue;
      }
      Sell("X" + n, a ? miner_a_ : miner_b_, plant_, "P" + n, 60_kg);
      Process({{"P" + n, 60_kg}}, {{"GX" + n, 300, 900_permille}});
    }
    // A refused attempt: evidence the primary keeps beside its log.
    EXPECT_FALSE(
        ledger_->SubmitAndWait(SellEnvelope("X0", miner_a_, plant_, "Q0", 500_kg)).status.ok());

    server::ServerOptions options;
    options.listen = "127.0.0.1:0";
    auto running = server::StartServer(ledger_.get(), options);
    ASSERT_TRUE(running.ok()) << running.status();
    primary_ = std::move(*running);
    primary_address_ = "127.0.0.1:" + std::to_string(primary_.port);
    primary_stub_ = Stub(primary_.port);

    ASSERT_TRUE(Ledger::CreateReplica(replica_dir_.path()).ok());
    OpenFollower();
  }

  void OpenFollower() {
    LedgerOptions options;
    options.data_dir = replica_dir_.path();
    options.primary = primary_address_;
    auto replica = Ledger::OpenReplica(options);
    ASSERT_TRUE(replica.ok()) << replica.status();
    replica_ = std::move(*replica);
    source_ = std::make_unique<server::GrpcPrimarySource>(Stub(primary_.port), primary_address_);
    FollowerOptions follower_options;
    follower_options.verifier_key = ledger_->verifier_key();
    follower_options.page_entries_max = 50;
    follower_options.poll_interval = std::chrono::milliseconds(5);
    follower_ = std::make_unique<Follower>(replica_.get(), source_.get(), follower_options);
  }

  void ServeFollower() {
    server::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.certificate_source = [this](const std::string& lot_id, server::CertificateDone done) {
      source_->Certificate(lot_id, std::move(done));
    };  // as veta-follower does
    auto running = server::StartServer(replica_.get(), options);
    ASSERT_TRUE(running.ok()) << running.status();
    follower_server_ = std::move(*running);
    follower_stub_ = Stub(follower_server_.port);
  }

  void TearDown() override {
    if (follower_server_.server) follower_server_.server->Shutdown();
    primary_.server->Shutdown();
  }

  static std::unique_ptr<veta::v1::Ledger::Stub> Stub(int port) {
    return veta::v1::Ledger::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                         grpc::InsecureChannelCredentials()));
  }

  // The same call on both servers: the same status and the same answer.
  template <typename Request, typename Response>
  void ExpectSameAnswer(grpc::Status (veta::v1::Ledger::Stub::*method)(grpc::ClientContext*,
                                                                       const Request&, Response*),
                        const Request& request, const std::string& what) {
    grpc::ClientContext c1, c2;
    Response r1, r2;
    const grpc::Status s1 = (primary_stub_.get()->*method)(&c1, request, &r1);
    const grpc::Status s2 = (follower_stub_.get()->*method)(&c2, request, &r2);
    EXPECT_TRUE(s1.ok()) << what << ": " << s1.error_message();
    EXPECT_EQ(s1.error_code(), s2.error_code()) << what << ": " << s2.error_message();
    EXPECT_EQ(r1.SerializeAsString(), r2.SerializeAsString()) << what;
  }

  TempDir replica_dir_;
  server::RunningServer primary_, follower_server_;
  std::string primary_address_;
  std::unique_ptr<veta::v1::Ledger::Stub> primary_stub_, follower_stub_;
  std::unique_ptr<Ledger> replica_;
  std::unique_ptr<server::GrpcPrimarySource> source_;
  std::unique_ptr<Follower> follower_;
};

TEST_F(FollowerServiceTest, ServesTheSameReadsAsThePrimary) {
  ASSERT_TRUE(follower_->SyncOnce().ok()) << follower_->StatusLine();
  ASSERT_EQ(replica_->size(), ledger_->size());
  ServeFollower();

  using S = veta::v1::Ledger::Stub;
  veta::v1::GetLineageRequest lineage;
  lineage.set_lot_id("G1");
  ExpectSameAnswer(&S::GetLineage, lineage, "backward lineage of G1");
  lineage.set_lot_id("E1");
  ExpectSameAnswer(&S::GetLineage, lineage, "backward lineage of E1");
  veta::v1::GetLineageRequest forward;
  forward.set_unit_code("UA");
  forward.set_forward(true);
  ExpectSameAnswer(&S::GetLineage, forward, "forward lineage of UA");
  forward.mutable_as_of()->set_sequence(20);
  ExpectSameAnswer(&S::GetLineage, forward, "forward lineage of UA as of entry 20");
  veta::v1::GetRecordRequest record;
  record.set_kind("miner");
  record.set_id(miner_a_);
  ExpectSameAnswer(&S::GetRecord, record, "miner record");
  veta::v1::ListRecordsRequest units;
  units.set_kind("unit");
  ExpectSameAnswer(&S::ListRecords, units, "units");
  for (const char* lot : {"G1", "X3", "P4", "GX4", "X9"}) {
    veta::v1::GetLotRequest get;
    get.set_lot_id(lot);
    ExpectSameAnswer(&S::GetLot, get, std::string("lot ") + lot);
  }
  ExpectSameAnswer(&S::GetCheckpoint, veta::v1::GetCheckpointRequest(), "checkpoint");
  veta::v1::GetEntryRequest entry;
  entry.set_sequence(17);
  ExpectSameAnswer(&S::GetEntry, entry, "entry 17");
  veta::v1::ListEntriesRequest page;
  page.set_start(3);
  page.set_limit(40);
  ExpectSameAnswer(&S::ListEntries, page, "entries 3-42");
  veta::v1::GetInclusionProofRequest inclusion;
  inclusion.set_sequence(17);
  ExpectSameAnswer(&S::GetInclusionProof, inclusion, "inclusion proof");
  veta::v1::GetConsistencyProofRequest consistency;
  consistency.set_first_size(9);
  ExpectSameAnswer(&S::GetConsistencyProof, consistency, "consistency proof");
  ExpectSameAnswer(&S::ListFlags, veta::v1::ListFlagsRequest(), "flags");
  // The indicators, but for the refusals by code: attempts are not in the log.
  grpc::ClientContext c1, c2;
  veta::v1::Indicators primary_indicators, follower_indicators;
  ASSERT_TRUE(primary_stub_->GetIndicators(&c1, {}, &primary_indicators).ok());
  ASSERT_TRUE(follower_stub_->GetIndicators(&c2, {}, &follower_indicators).ok());
  EXPECT_GT(primary_indicators.refusals_size(), 0);
  EXPECT_EQ(follower_indicators.refusals_size(), 0);
  primary_indicators.clear_refusals();
  EXPECT_EQ(primary_indicators.SerializeAsString(), follower_indicators.SerializeAsString());
}

TEST_F(FollowerServiceTest, RefusesWritesAndAttemptsNamingThePrimary) {
  ASSERT_TRUE(follower_->SyncOnce().ok()) << follower_->StatusLine();
  ServeFollower();
  const uint64_t size = replica_->size();
  const std::string envelope = Extraction("NEW", miner_a_, "UA", kLonA, kLatA, 1_kg, key_a_);
  veta::v1::SubmitRequest submit;
  submit.set_envelope(envelope);
  for (bool check : {false, true}) {
    grpc::ClientContext ctx;
    veta::v1::SubmitResponse response;
    const grpc::Status s = check ? follower_stub_->Check(&ctx, submit, &response)
                                 : follower_stub_->Submit(&ctx, submit, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
    EXPECT_NE(s.error_message().find(primary_address_), std::string::npos) << s.error_message();
  }
  grpc::ClientContext ctx;
  veta::v1::ListAttemptsResponse attempts;
  const grpc::Status s = follower_stub_->ListAttempts(&ctx, {}, &attempts);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_NE(s.error_message().find(primary_address_), std::string::npos) << s.error_message();
  grpc::ClientContext pctx;
  ASSERT_TRUE(primary_stub_->ListAttempts(&pctx, {}, &attempts).ok());
  EXPECT_GT(attempts.attempts_size(), 0);
  // A certificate is signed with the authority's key, which only the primary holds: the
  // follower relays the request, and what it returns verifies offline as the primary's does.
  veta::v1::GetCertificateRequest certificate;
  certificate.set_lot_id("E1");
  grpc::ClientContext c1, c2;
  veta::v1::Certificate issued, relayed;
  const grpc::Status at_primary = primary_stub_->GetCertificate(&c1, certificate, &issued);
  EXPECT_TRUE(at_primary.ok()) << at_primary.error_message();
  const grpc::Status at_follower = follower_stub_->GetCertificate(&c2, certificate, &relayed);
  ASSERT_TRUE(at_follower.ok()) << at_follower.error_message();
  auto claims = VerifyCertificate(relayed, authority_.public_key());
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->lot_id, "E1");
  // A refusal comes back as the primary gave it, naming the primary.
  certificate.set_lot_id("NO-SUCH-LOT");
  grpc::ClientContext c3;
  const grpc::Status unknown = follower_stub_->GetCertificate(&c3, certificate, &relayed);
  EXPECT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error_message().find(primary_address_), std::string::npos)
      << unknown.error_message();
  EXPECT_EQ(replica_->size(), size);
  // The same envelope at the primary is accepted: the refusal was the follower's role.
  grpc::ClientContext sctx;
  veta::v1::SubmitResponse accepted;
  EXPECT_TRUE(primary_stub_->Submit(&sctx, submit, &accepted).ok());
}

// Over TLS with roles: the follower relays GetCertificate to a TLS primary as a regulator
// (veta-follower's set-up beyond loopback). A party gets the certificate of a lot it holds, and
// is refused one it does not hold exactly as the primary refuses it; a certificate the primary
// returns for another holder (a follower that lags) is not handed to the party.
class FollowerTlsTest : public FollowerServiceTest {
 protected:
  void SetUp() override {
    FollowerServiceTest::SetUp();
    if (HasFatalFailure()) return;
    // A regulator's key, registered by the authority: the follower's identity at the primary.
    veta::v1::KeyRegistration regulator;
    *regulator.mutable_key() = regulator_key_.public_key().ToProto();
    regulator.set_holder("regulator:SUNAT");
    ExpectAccepted(Sign(kKeyRegistrationType, regulator, {authority_}));
    ASSERT_TRUE(follower_->SyncOnce().ok()) << follower_->StatusLine();
    ASSERT_EQ(replica_->size(), ledger_->size());
    // The primary again, now over TLS with roles.
    primary_.server->Shutdown();
    const PrivateKey server_key = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
    server_cert_ = *SelfSignedCertificate(server_key, "veta-test", {"localhost", "127.0.0.1"});
    server::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.tls_cert_pem = server_cert_;
    options.tls_key_pem = server_key.ToPem();
    auto running = server::StartServer(ledger_.get(), options);
    ASSERT_TRUE(running.ok()) << running.status();
    primary_ = std::move(*running);
    relay_ = std::make_unique<server::GrpcPrimarySource>(
        TlsStub(primary_.port, &regulator_key_), "127.0.0.1:" + std::to_string(primary_.port));
  }

  // The follower over TLS with roles, relaying to the primary through `source`.
  void ServeFollowerTls(server::CertificateSource source) {
    server::ServerOptions options;
    options.listen = "127.0.0.1:0";
    follower_cert_ =
        *SelfSignedCertificate(follower_server_key_, "veta-test", {"localhost", "127.0.0.1"});
    options.tls_cert_pem = follower_cert_;
    options.tls_key_pem = follower_server_key_.ToPem();
    options.certificate_source = std::move(source);
    auto running = server::StartServer(replica_.get(), options);
    ASSERT_TRUE(running.ok()) << running.status();
    follower_server_ = std::move(*running);
  }

  server::CertificateSource Relay() {
    return [this](const std::string& lot_id, server::CertificateDone done) {
      relay_->Certificate(lot_id, std::move(done));
    };
  }

  std::unique_ptr<veta::v1::Ledger::Stub> TlsStub(int port, const PrivateKey* client_key) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = port == primary_.port ? server_cert_ : follower_cert_;
    if (client_key != nullptr) {
      ssl.pem_cert_chain = *SelfSignedCertificate(*client_key, "client", {});
      ssl.pem_private_key = client_key->ToPem();
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return veta::v1::Ledger::NewStub(grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                                               grpc::SslCredentials(ssl), args));
  }

  static grpc::Status GetCertificate(veta::v1::Ledger::Stub* stub, const std::string& lot,
                                     veta::v1::Certificate* out) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    veta::v1::GetCertificateRequest request;
    request.set_lot_id(lot);
    return stub->GetCertificate(&ctx, request, out);
  }

  const PrivateKey regulator_key_ = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
  const PrivateKey follower_server_key_ = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
  std::string server_cert_, follower_cert_;
  std::unique_ptr<server::GrpcPrimarySource> relay_;
};

TEST_F(FollowerTlsTest, RelaysCertificatesOnlyToTheHolderAsThePrimaryDoes) {
  ServeFollowerTls(Relay());
  // E1 is the exporter's (gold bought from the plant's G1); G1 the plant's.
  for (const auto& [lot, holder, other] :
       {std::tuple{"E1", exporter_, plant_}, std::tuple{"G1", plant_, exporter_}}) {
    auto holder_at_follower = TlsStub(follower_server_.port, &KeyOf(holder));
    veta::v1::Certificate relayed;
    const grpc::Status got = GetCertificate(holder_at_follower.get(), lot, &relayed);
    ASSERT_TRUE(got.ok()) << lot << ": " << got.error_message();
    auto claims = VerifyCertificate(relayed, authority_.public_key());
    ASSERT_TRUE(claims.ok()) << claims.status();
    EXPECT_EQ(claims->lot_id, lot);
    EXPECT_EQ(claims->holder, holder);
    // Another party: refused at the follower exactly as at the primary, nothing returned.
    veta::v1::Certificate at_primary, at_follower;
    const grpc::Status p =
        GetCertificate(TlsStub(primary_.port, &KeyOf(other)).get(), lot, &at_primary);
    const grpc::Status f =
        GetCertificate(TlsStub(follower_server_.port, &KeyOf(other)).get(), lot, &at_follower);
    EXPECT_EQ(p.error_code(), grpc::StatusCode::PERMISSION_DENIED) << p.error_message();
    EXPECT_EQ(f.error_code(), p.error_code()) << f.error_message();
    EXPECT_EQ(f.error_message(), p.error_message());
    EXPECT_EQ(at_follower.ByteSizeLong(), 0u);
    // The public (no client certificate) may not ask, at either.
    const grpc::Status anonymous =
        GetCertificate(TlsStub(follower_server_.port, nullptr).get(), lot, &at_follower);
    EXPECT_EQ(anonymous.error_code(),
              GetCertificate(TlsStub(primary_.port, nullptr).get(), lot, &at_primary).error_code());
    EXPECT_FALSE(anonymous.ok());
  }
  // A regulator gets any lot's, through the relay.
  veta::v1::Certificate relayed;
  EXPECT_TRUE(
      GetCertificate(TlsStub(follower_server_.port, &regulator_key_).get(), "E1", &relayed).ok());
}

TEST_F(FollowerTlsTest, AParticipantNeverGetsACertificateOfAnotherHolderFromThePrimary) {
  // The primary's answer names another holder than the follower's (lagging) view: here the
  // relay asks for G1 (the plant's) whatever lot is asked. The exporter holds E1 at the
  // follower, so it passes the follower's own check, and is refused on the primary's answer.
  ServeFollowerTls([this](const std::string&, server::CertificateDone done) {
    relay_->Certificate("G1", std::move(done));
  });
  veta::v1::Certificate relayed;
  const grpc::Status s =
      GetCertificate(TlsStub(follower_server_.port, &KeyOf(exporter_)).get(), "E1", &relayed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_NE(s.error_message().find("at the primary"), std::string::npos) << s.error_message();
  EXPECT_EQ(relayed.ByteSizeLong(), 0u);
}

TEST_F(FollowerTlsTest, ARelayWaitingForThePrimaryHoldsNoServerThread) {
  // The primary answers only when the test lets it: many certificate calls wait at the
  // follower meanwhile (more than gRPC's callback threads), and other calls are still served.
  absl::Mutex mu;
  std::vector<std::pair<std::string, server::CertificateDone>> waiting;
  ServeFollowerTls([&](const std::string& lot_id, server::CertificateDone done) {
    absl::MutexLock lock(&mu);
    waiting.emplace_back(lot_id, std::move(done));
  });
  constexpr int kCalls = 64;
  auto stub = TlsStub(follower_server_.port, &KeyOf(exporter_));
  struct Pending {
    grpc::ClientContext ctx;
    veta::v1::GetCertificateRequest request;
    veta::v1::Certificate certificate;
    grpc::Status status;
    bool done = false;
  };
  std::vector<std::unique_ptr<Pending>> calls;
  absl::Mutex calls_mu;
  for (int i = 0; i < kCalls; ++i) {
    auto& p = *calls.emplace_back(std::make_unique<Pending>());
    p.request.set_lot_id("E1");
    p.ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    stub->async()->GetCertificate(&p.ctx, &p.request, &p.certificate,
                                  [&p, &calls_mu](grpc::Status s) {
                                    absl::MutexLock lock(&calls_mu);
                                    p.status = std::move(s);
                                    p.done = true;
                                  });
  }
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](std::vector<std::pair<std::string, server::CertificateDone>>* w) {
          return w->size() == static_cast<size_t>(kCalls);
        },
        &waiting));
  }
  // Every relay is waiting for the primary: the follower still answers.
  grpc::ClientContext ctx;
  veta::v1::GetLotRequest get;
  get.set_lot_id("E1");
  veta::v1::Lot lot;
  const grpc::Status s = stub->GetLot(&ctx, get, &lot);
  EXPECT_TRUE(s.ok()) << s.error_message();  // not ASSERT: the waiting calls must end below
  EXPECT_EQ(lot.holder_id(), exporter_);
  // The primary answers: every call gets its certificate.
  std::vector<std::pair<std::string, server::CertificateDone>> answers;
  {
    absl::MutexLock lock(&mu);
    answers.swap(waiting);
  }
  for (auto& [lot_id, done] : answers) relay_->Certificate(lot_id, std::move(done));
  absl::MutexLock lock(&calls_mu);
  calls_mu.Await(absl::Condition(
      +[](std::vector<std::unique_ptr<Pending>>* c) {
        for (const auto& p : *c) {
          if (!p->done) return false;
        }
        return true;
      },
      &calls));
  for (const auto& p : calls) {
    ASSERT_TRUE(p->status.ok()) << p->status.error_message();
    EXPECT_TRUE(VerifyCertificate(p->certificate, authority_.public_key()).ok());
  }
}

TEST_F(FollowerServiceTest, ResumesFromItsFolderAndFollowsLive) {
  // The log so far, then the follower process ends (a SIGKILL is tests/e2e/follower_test.sh's),
  // the primary goes on, and a new one opens the same folder and follows live.
  ASSERT_TRUE(follower_->SyncOnce().ok());
  const uint64_t first = replica_->size();
  follower_.reset();
  replica_.reset();
  for (int i = 0; i < 20; ++i) Extract("LIVE" + std::to_string(i), "UB", 1_kg, 8_gpt);
  OpenFollower();
  EXPECT_EQ(replica_->size(), first);
  std::thread runner([this] { EXPECT_TRUE(follower_->Run().ok()); });
  for (int i = 0; i < 20; ++i) Extract("MORE" + std::to_string(i), "UA", 1_kg, 8_gpt);
  // Until it has caught up (bounded by the test's timeout, no clock here).
  while (replica_->size() < ledger_->size() || follower_->LagEntries() != 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  follower_->Stop();
  runner.join();
  EXPECT_EQ(replica_->size(), ledger_->size());
  EXPECT_EQ(follower_->LagSeconds(), 0);
  for (uint64_t i = 0; i < ledger_->size(); ++i) {
    ASSERT_EQ(*replica_->GetEntry(i), *ledger_->GetEntry(i)) << "entry " << i;
  }
  replica_->Close();
  const AuditReport audit = AuditLedger(replica_dir_.path());
  EXPECT_TRUE(audit.status.ok()) << audit.status;
  EXPECT_EQ(audit.entries, ledger_->size());
}

}  // namespace
}  // namespace veta::testing
