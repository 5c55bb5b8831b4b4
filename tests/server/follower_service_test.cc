// veta-follower's parts on real servers: a primary on a loopback port with entries of every
// kind, a follower on disk fed over gRPC (server/follower_source.h), itself serving the read
// RPCs: the same answers as the primary's, writes and attempts refused naming the primary.
#include <grpcpp/grpcpp.h>

#include <thread>

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
    options.certificate_source = [this](const std::string& lot_id) {
      return source_->Certificate(lot_id);
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
