// The custody RPCs on a real server on a loopback port: lineage paging (pages read the log as
// the first page did, even while it grows), clear status codes for bad requests, certificates
// that verify offline, EPCIS and indicators limits.
#include <grpcpp/grpcpp.h>

#include "core/read/certificate.h"
#include "server/server.h"
#include "tests/core/custody_fixture.h"
#include "veta/v1/service.grpc.pb.h"

namespace veta::server {
namespace {

using Code = grpc::StatusCode;

class CustodyServiceTest : public testing::CustodyFixture {
 protected:
  void SetUp() override {
    CustodyFixture::SetUp();
    BlendTwoUnits();
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    auto running = StartServer(ledger_.get(), options);
    ASSERT_TRUE(running.ok()) << running.status();
    running_ = std::move(*running);
    stub_ = veta::v1::Ledger::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(running_.port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (running_.server) running_.server->Shutdown();
    ledger_->Close();
  }

  grpc::Status Lineage(const veta::v1::GetLineageRequest& r, veta::v1::Lineage* out) {
    grpc::ClientContext ctx;
    return stub_->GetLineage(&ctx, r, out);
  }

  RunningServer running_;
  std::unique_ptr<veta::v1::Ledger::Stub> stub_;
};

TEST_F(CustodyServiceTest, PagesReadTheLogAsTheFirstPageDidWhileItGrows) {
  veta::v1::GetLineageRequest r;
  r.set_unit_code("UA");
  r.set_forward(true);
  r.set_page_size(2);
  veta::v1::Lineage first;
  ASSERT_TRUE(Lineage(r, &first).ok());
  EXPECT_EQ(first.total_nodes(), 4u);  // LA, PA, G1, E1
  ASSERT_FALSE(first.next_page_token().empty());
  // The log grows between pages: G1 moves on. The next page still reads the first page's log.
  Sell("G1", plant_, trader_, "T1", 6, true);
  std::vector<std::string> seen;
  for (const auto& n : first.nodes()) seen.push_back(n.lot_id());
  r.set_page_token(first.next_page_token());
  veta::v1::Lineage second;
  ASSERT_TRUE(Lineage(r, &second).ok());
  EXPECT_EQ(second.as_of(), first.as_of());
  EXPECT_EQ(second.total_nodes(), 4u);
  for (const auto& n : second.nodes()) seen.push_back(n.lot_id());
  EXPECT_TRUE(second.next_page_token().empty());
  EXPECT_EQ(seen, (std::vector<std::string>{"LA", "PA", "G1", "E1"}));
  // A fresh query sees the new lot.
  r.clear_page_token();
  r.set_page_size(0);
  veta::v1::Lineage now;
  ASSERT_TRUE(Lineage(r, &now).ok());
  EXPECT_EQ(now.total_nodes(), 5u);
}

TEST_F(CustodyServiceTest, BadLineageRequestsGetClearStatuses) {
  veta::v1::GetLineageRequest r;
  veta::v1::Lineage l;
  grpc::Status s = Lineage(r, &l);
  EXPECT_EQ(s.error_code(), Code::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("lineage needs a root"), std::string::npos) << s.error_message();
  r.set_unit_code("UA");  // backward from a unit
  EXPECT_EQ(Lineage(r, &l).error_code(), Code::INVALID_ARGUMENT);
  r.set_lot_id("E1");
  r.set_page_token("junk");
  s = Lineage(r, &l);
  EXPECT_EQ(s.error_code(), Code::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("page_token"), std::string::npos);
  r.set_page_token(StrCat("1@", ledger_->size() + 5));  // a log this server has not got
  EXPECT_EQ(Lineage(r, &l).error_code(), Code::INVALID_ARGUMENT);
  r.clear_page_token();
  r.set_depth_max(1000);
  EXPECT_EQ(Lineage(r, &l).error_code(), Code::INVALID_ARGUMENT);
  r.set_depth_max(0);
  r.mutable_as_of()->set_sequence(ledger_->size() + 10);
  EXPECT_EQ(Lineage(r, &l).error_code(), Code::OUT_OF_RANGE);
  r.clear_as_of();
  r.set_lot_id("NOPE");
  s = Lineage(r, &l);
  EXPECT_EQ(s.error_code(), Code::NOT_FOUND);
  EXPECT_NE(s.error_message().find("lot NOPE does not exist"), std::string::npos);
}

TEST_F(CustodyServiceTest, CertificatesOverTheWireVerifyOffline) {
  veta::v1::GetCertificateRequest r;
  veta::v1::Certificate cert;
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(stub_->GetCertificate(&ctx, r, &cert).error_code(), Code::INVALID_ARGUMENT);
  }
  r.set_lot_id("NOPE");
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(stub_->GetCertificate(&ctx, r, &cert).error_code(), Code::NOT_FOUND);
  }
  r.set_lot_id("PA");
  {
    grpc::ClientContext ctx;
    grpc::Status s = stub_->GetCertificate(&ctx, r, &cert);
    EXPECT_EQ(s.error_code(), Code::FAILED_PRECONDITION);
    EXPECT_EQ(s.error_message().rfind("[CERTIFICATE_REFUSED] lot PA is ore", 0), 0u)
        << s.error_message();
  }
  r.set_lot_id("E1");
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->GetCertificate(&ctx, r, &cert).ok());
  }
  auto claims = VerifyCertificate(cert, authority_.public_key(), ledger_->origin());
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->lot_id, "E1");
}

TEST_F(CustodyServiceTest, EpcisAndIndicatorsBoundTheirRequests) {
  veta::v1::ExportEpcisRequest e;
  veta::v1::ExportEpcisResponse doc;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->ExportEpcis(&ctx, e, &doc).ok());
  }
  EXPECT_NE(doc.document().find("\"EPCISDocument\""), std::string::npos);
  EXPECT_GT(doc.events(), 5u);
  EXPECT_EQ(doc.next_start(), ledger_->size());
  e.set_limit(1000000);
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(stub_->ExportEpcis(&ctx, e, &doc).error_code(), Code::INVALID_ARGUMENT);
  }
  veta::v1::GetIndicatorsRequest i;
  veta::v1::Indicators out;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->GetIndicators(&ctx, i, &out).ok());
  }
  EXPECT_EQ(out.lots(), 6u);  // LA, LB, PA, PB, G1, E1
  i.mutable_as_of()->set_sequence(ledger_->size() + 1);
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(stub_->GetIndicators(&ctx, i, &out).error_code(), Code::OUT_OF_RANGE);
  }
}

// Rules v3 over the wire: a washed cash sale keeps the certificate refused until a registrar's
// flag clearance, submitted like any entry; ListFlags still lists the flag, marked cleared.
TEST_F(CustodyServiceTest, AWashedFlagRefusesTheCertificateUntilARegistrarClearsIt) {
  veta::v1::RegistryRecord v3 = payloads::ParametersRecordV3();
  v3.mutable_parameters()->set_banking_threshold_cents(100000_soles);
  ExpectAccepted(Registry(v3));
  Extract("LC", "UC", 5000_kg, 20_gpt);
  veta::v1::Sale cash = SaleOf("LC", miner_b_, plant_, "PC", 5000_kg);
  cash.set_payment(veta::v1::CASH);
  cash.set_price_cents(FairPrice("LC", 5000_kg));  // S/ 36,000
  const uint64_t flagged = ExpectAccepted(Sign(kSaleType, cash, {key_b_, plant_key_})).sequence;
  ExpectAccepted(CorrectionEnvelope(flagged, {registrar_}));
  Sell("LC", miner_b_, plant_, "PC2", 5000_kg);
  Process({{"PC2", 5000_kg}}, {{"GC", 90_g, 900_permille}});
  veta::v1::GetCertificateRequest r;
  r.set_lot_id("GC");
  veta::v1::Certificate cert;
  {
    grpc::ClientContext ctx;
    grpc::Status s = stub_->GetCertificate(&ctx, r, &cert);
    EXPECT_EQ(s.error_code(), Code::FAILED_PRECONDITION);
    EXPECT_NE(s.error_message().find(StrCat("rests on lot LC, whose history holds entry ", flagged,
                                            " (sale creating lot PC from it, voided by")),
              std::string::npos)
        << s.error_message();
  }
  veta::v1::FlagClearance c;
  c.set_flagged_sequence(flagged);
  c.set_flag(veta::v1::CASH_ABOVE_THRESHOLD);
  c.set_reason("SUNAT confirmed the deposit");
  *c.mutable_time() = payloads::Now();
  veta::v1::SubmitRequest submit;
  submit.set_envelope(Sign(kFlagClearanceType, c, {registrar_}));
  veta::v1::SubmitResponse submitted;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->Submit(&ctx, submit, &submitted).ok());
  }
  {
    grpc::ClientContext ctx;
    veta::v1::ListFlagsRequest lr;
    lr.set_start_sequence(flagged);
    veta::v1::ListFlagsResponse flags;
    ASSERT_TRUE(stub_->ListFlags(&ctx, lr, &flags).ok());
    ASSERT_GE(flags.flags_size(), 1);
    EXPECT_EQ(flags.flags(0).sequence(), flagged);
    EXPECT_EQ(flags.flags(0).cleared_by(), submitted.sequence());
  }
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->GetCertificate(&ctx, r, &cert).ok());
  }
  EXPECT_TRUE(VerifyCertificate(cert, authority_.public_key(), ledger_->origin()).ok());
}

}  // namespace
}  // namespace veta::server
