// The role matrix of core/read/access.h, cell by cell, over real TLS on a loopback port: each role
// is a client certificate carrying a key the registry knows (the public presents none).
#include <grpcpp/grpcpp.h>

#include <map>

#include "core/log/ledger.h"
#include "core/verify/x509.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/server/roles_fixture.h"
#include "veta/v1/service.grpc.pb.h"

namespace veta::server {
namespace {

using testing::Ruc;
using Code = grpc::StatusCode;
using AccessTest = RolesFixture;

// One RPC call as a role: returns its status code.
using Call = std::function<Code(veta::v1::Ledger::Stub*)>;

struct Cell {
  std::string name;
  Call call;
  // Expected code per role, in kRoles order.
  std::vector<Code> expected;
};

constexpr Code OK = Code::OK, DENIED = Code::PERMISSION_DENIED, UNAUTH = Code::UNAUTHENTICATED,
               BAD = Code::INVALID_ARGUMENT;

TEST_F(AccessTest, EveryCellOfTheMatrix) {
  const uint64_t size = ledger_->size();
  std::vector<Cell> cells = {
      // A garbage envelope: an allowed caller reaches the ledger, which says INVALID_ARGUMENT.
      {"Submit",
       [](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::SubmitRequest r;
         r.set_envelope("junk");
         veta::v1::SubmitResponse a;
         return s->Submit(&ctx, r, &a).error_code();
       },
       {UNAUTH, BAD, BAD, BAD, BAD, BAD, BAD, DENIED}},
      {"SubmitStream",
       [](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         auto stream = s->SubmitStream(&ctx);
         stream->WritesDone();
         veta::v1::SubmitBatchResponse a;
         while (stream->Read(&a)) {
         }
         return stream->Finish().error_code();
       },
       {UNAUTH, OK, OK, OK, OK, OK, OK, DENIED}},
      {"Check",
       [](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::SubmitRequest r;
         r.set_envelope("junk");
         veta::v1::SubmitResponse a;
         return s->Check(&ctx, r, &a).error_code();
       },
       {UNAUTH, OK, OK, OK, OK, OK, OK, OK}},
      {"GetCheckpoint",
       [](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::Checkpoint cp;
         return s->GetCheckpoint(&ctx, {}, &cp).error_code();
       },
       {OK, OK, OK, OK, OK, OK, OK, OK}},
      {"GetInclusionProof",
       [](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::GetInclusionProofRequest r;
         r.set_sequence(0);
         veta::v1::InclusionProof p;
         return s->GetInclusionProof(&ctx, r, &p).error_code();
       },
       {OK, OK, OK, OK, OK, OK, OK, OK}},
      {"GetConsistencyProof",
       [](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::GetConsistencyProofRequest r;
         r.set_first_size(1);
         veta::v1::ConsistencyProof p;
         return s->GetConsistencyProof(&ctx, r, &p).error_code();
       },
       {OK, OK, OK, OK, OK, OK, OK, OK}},
      {"GetRecord",
       [this](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::GetRecordRequest r;
         r.set_kind("miner");
         r.set_id(miner_ruc_);
         veta::v1::RecordVersion v;
         return s->GetRecord(&ctx, r, &v).error_code();
       },
       {OK, OK, OK, OK, OK, OK, OK, OK}},
      {"ListRecords",
       [](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::ListRecordsRequest r;
         r.set_kind("party");
         veta::v1::ListRecordsResponse v;
         return s->ListRecords(&ctx, r, &v).error_code();
       },
       {OK, OK, OK, OK, OK, OK, OK, OK}},
      {"GetEntry(registry record)",
       [this](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::GetEntryRequest r;
         r.set_sequence(registry_entry_);
         veta::v1::GetEntryResponse e;
         return s->GetEntry(&ctx, r, &e).error_code();
       },
       {OK, OK, OK, OK, OK, OK, OK, OK}},
      {"GetEntry(the miner's extraction)",
       [this](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::GetEntryRequest r;
         r.set_sequence(extraction_entry_);
         veta::v1::GetEntryResponse e;
         return s->GetEntry(&ctx, r, &e).error_code();
       },
       {DENIED, DENIED, OK, DENIED, DENIED, DENIED, DENIED, OK}},
      {"ListEntries",
       [](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::ListEntriesRequest r;
         veta::v1::ListEntriesResponse e;
         return s->ListEntries(&ctx, r, &e).error_code();
       },
       {UNAUTH, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK}},
      {"GetLot(the miner's)",
       [](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::GetLotRequest r;
         r.set_lot_id("L1");
         veta::v1::Lot lot;
         return s->GetLot(&ctx, r, &lot).error_code();
       },
       {UNAUTH, DENIED, OK, DENIED, DENIED, DENIED, DENIED, OK}},
      {"ListAttempts(the miner's)",
       [this](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::ListAttemptsRequest r;
         r.set_party(miner_ruc_);
         veta::v1::ListAttemptsResponse a;
         return s->ListAttempts(&ctx, r, &a).error_code();
       },
       {UNAUTH, DENIED, OK, DENIED, DENIED, DENIED, DENIED, OK}},
      {"ListAttempts(all)",
       [](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::ListAttemptsRequest r;
         veta::v1::ListAttemptsResponse a;
         return s->ListAttempts(&ctx, r, &a).error_code();
       },
       {UNAUTH, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK}},
      {"ListFlags(the miner's)",
       [this](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::ListFlagsRequest r;
         r.set_party(miner_ruc_);
         veta::v1::ListFlagsResponse f;
         return s->ListFlags(&ctx, r, &f).error_code();
       },
       {UNAUTH, DENIED, OK, DENIED, DENIED, DENIED, DENIED, OK}},
      {"ListFlags(all)",
       [](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::ListFlagsRequest r;
         veta::v1::ListFlagsResponse f;
         return s->ListFlags(&ctx, r, &f).error_code();
       },
       {UNAUTH, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK}},
      {"GetLineage(the miner's lot)",
       [](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::GetLineageRequest r;
         r.set_lot_id("L1");
         veta::v1::Lineage l;
         return s->GetLineage(&ctx, r, &l).error_code();
       },
       {UNAUTH, DENIED, OK, DENIED, DENIED, DENIED, DENIED, OK}},
      {"GetLineage(forward from the miner's unit)",
       [](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::GetLineageRequest r;
         r.set_unit_code("U1");
         r.set_forward(true);
         veta::v1::Lineage l;
         return s->GetLineage(&ctx, r, &l).error_code();
       },
       {UNAUTH, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK}},
      // A party's own lots: forward from its own id (only the lots it holds, see below).
      {"GetLineage(forward from the miner's own id)",
       [this](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::GetLineageRequest r;
         r.set_miner_id(miner_ruc_);
         r.set_forward(true);
         veta::v1::Lineage l;
         return s->GetLineage(&ctx, r, &l).error_code();
       },
       {UNAUTH, DENIED, OK, DENIED, DENIED, DENIED, DENIED, OK}},
      // L1 is ore: a caller who may ask is told why there is no certificate.
      {"GetCertificate(the miner's ore lot)",
       [](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::GetCertificateRequest r;
         r.set_lot_id("L1");
         veta::v1::Certificate c;
         return s->GetCertificate(&ctx, r, &c).error_code();
       },
       {UNAUTH, DENIED, Code::FAILED_PRECONDITION, DENIED, DENIED, DENIED, DENIED,
        Code::FAILED_PRECONDITION}},
      {"GetIndicators",
       [](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::GetIndicatorsRequest r;
         veta::v1::Indicators i;
         return s->GetIndicators(&ctx, r, &i).error_code();
       },
       {UNAUTH, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK}},
      {"ExportEpcis",
       [](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::ExportEpcisRequest r;
         veta::v1::ExportEpcisResponse e;
         return s->ExportEpcis(&ctx, r, &e).error_code();
       },
       {UNAUTH, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK}},
      // Any registered party checks any seller (a trader before paying); not the public.
      {"GetDailyCapacity(the miner)",
       [this](veta::v1::Ledger::Stub* s) {
         grpc::ClientContext ctx;
         veta::v1::GetDailyCapacityRequest r;
         r.set_id(miner_ruc_);
         veta::v1::DailyCapacity c;
         return s->GetDailyCapacity(&ctx, r, &c).error_code();
       },
       {UNAUTH, OK, OK, OK, OK, OK, OK, OK}},
  };
  for (size_t r = 0; r < kRoles.size(); ++r) {
    auto stub = StubFor(kRoles[r]);
    for (const Cell& cell : cells) {
      ASSERT_EQ(cell.expected.size(), kRoles.size()) << cell.name;
      EXPECT_EQ(cell.call(stub.get()), cell.expected[r]) << kRoles[r] << " x " << cell.name;
    }
  }
  EXPECT_EQ(ledger_->size(), size) << "a denied call changed the ledger";
}

// The trader's desk over TLS: the trader asks what the miner may still sell today (its unit U1,
// 10 t a day, 100 kg declared today), and about a RUC no one registered.
TEST_F(AccessTest, ATraderChecksWhatASellerMayStillSellToday) {
  auto stub = StubFor("trader");
  grpc::ClientContext ctx;
  veta::v1::GetDailyCapacityRequest r;
  r.set_id(miner_ruc_);
  veta::v1::DailyCapacity c;
  const grpc::Status s = stub->GetDailyCapacity(&ctx, r, &c);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(c.kind(), "miner");
  EXPECT_TRUE(c.active());
  ASSERT_EQ(c.units_size(), 1);
  EXPECT_EQ(c.units(0).concession_code(), "U1");
  EXPECT_EQ(c.units(0).use().capacity_ore_g(), 10_tpd);
  EXPECT_EQ(c.units(0).use().used_declared_ore_g(), 100_kg);
  EXPECT_EQ(c.units(0).use().left_ore_g(), 10_tpd - 100_kg);

  grpc::ClientContext ctx2;
  r.set_id(Ruc("2099999999"));
  const grpc::Status missing = stub->GetDailyCapacity(&ctx2, r, &c);
  EXPECT_EQ(missing.error_code(), Code::NOT_FOUND);
  EXPECT_NE(missing.error_message().find("is no registered miner, party, selector or unit"),
            std::string::npos)
      << missing.error_message();
}

TEST_F(AccessTest, AKeyTheRegistryDoesNotKnowIsThePublic) {
  keys_.emplace("stranger", *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256));
  auto stub = StubFor("stranger");
  grpc::ClientContext ctx;
  veta::v1::SubmitRequest r;
  veta::v1::SubmitResponse a;
  grpc::Status s = stub->Submit(&ctx, r, &a);
  EXPECT_EQ(s.error_code(), UNAUTH);
  EXPECT_NE(s.error_message().find("client certificate whose key the registry knows"),
            std::string::npos);
}

TEST(TlsTest, NonLoopbackNeedsTlsAndBothHalves) {
  ServerOptions options;
  options.listen = "0.0.0.0:0";
  EXPECT_EQ(StartServer(nullptr, options).status().code(), absl::StatusCode::kFailedPrecondition);
  options.listen = "127.0.0.1:0";
  options.tls_cert_pem = "x";
  EXPECT_EQ(StartServer(nullptr, options).status().code(), absl::StatusCode::kInvalidArgument);
}

// A key dropped in a rotation no longer identifies its holder over TLS: the old certificate is
// the public's (GetLot: UNAUTHENTICATED); the new key reads the miner's lot.
TEST_F(AccessTest, AKeyDroppedInARotationIsThePublics) {
  auto get_lot = [](veta::v1::Ledger::Stub* s) {
    grpc::ClientContext ctx;
    veta::v1::GetLotRequest r;
    r.set_lot_id("L1");
    veta::v1::Lot lot;
    return s->GetLot(&ctx, r, &lot).error_code();
  };
  EXPECT_EQ(get_lot(StubFor("miner").get()), OK);
  const PrivateKey rotated = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
  ExpectAccepted(Registry(Miner(miner_ruc_, rotated)));
  EXPECT_EQ(get_lot(StubFor("miner").get()), UNAUTH);
  keys_.insert_or_assign("miner", rotated);
  EXPECT_EQ(get_lot(StubFor("miner").get()), OK);
}

// A party lists the lots it holds (forward lineage from its own id) and sees nothing of where
// they went: after the miner sells part of L1 to the trader, the miner's listing is L1 alone,
// without the edge to the trader's lot nor the trader as a holder; the trader's is its lot; a
// regulator's forward lineage from the miner still reaches the trader.
TEST_F(AccessTest, APartyListsItsOwnLotsAndNotWhereTheyWent) {
  const std::string trader_ruc = Ruc("2070000003");
  ExpectAccepted(Sign(kSaleType, payloads::SaleOf("L1", miner_ruc_, trader_ruc, "T1", 30_kg),
                      {keys_.at("miner"), keys_.at("trader")}));
  auto own = [](veta::v1::Ledger::Stub* s, const std::string& id, veta::v1::Lineage* l) {
    grpc::ClientContext ctx;
    veta::v1::GetLineageRequest r;
    r.set_miner_id(id);
    r.set_forward(true);
    return s->GetLineage(&ctx, r, l).error_code();
  };
  veta::v1::Lineage mine;
  ASSERT_EQ(own(StubFor("miner").get(), miner_ruc_, &mine), OK);
  ASSERT_EQ(mine.nodes_size(), 1);
  EXPECT_EQ(mine.nodes(0).lot_id(), "L1");
  EXPECT_EQ(mine.nodes(0).edges_size(), 0);
  EXPECT_EQ(mine.total_nodes(), 1u);
  ASSERT_EQ(mine.holders_size(), 1);
  EXPECT_EQ(mine.holders(0), miner_ruc_);
  veta::v1::Lineage traders;
  ASSERT_EQ(own(StubFor("trader").get(), trader_ruc, &traders), OK);
  ASSERT_EQ(traders.nodes_size(), 1);
  EXPECT_EQ(traders.nodes(0).lot_id(), "T1");
  // Another party's lots stay closed to the trader.
  EXPECT_EQ(own(StubFor("trader").get(), miner_ruc_, &traders), DENIED);
  veta::v1::Lineage all;
  ASSERT_EQ(own(StubFor("regulator").get(), miner_ruc_, &all), OK);
  ASSERT_EQ(all.nodes_size(), 2);
  EXPECT_EQ(all.nodes(0).edges_size(), 1);
}

}  // namespace
}  // namespace veta::server
