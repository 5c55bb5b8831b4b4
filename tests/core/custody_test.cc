// Lots and their custody: splits and remainders, processing with mass balance, capacity and
// blending, gold sales, exports and corrections. Each rule accepted and refused with its code.
#include <cmath>
#include <functional>
#include <future>
#include <memory>

#include "core/audit.h"
#include "core/registry.h"
#include "core/storage/rocks_store.h"
#include "tests/core/custody_fixture.h"

namespace veta {
namespace {

using testing::Now;

class CustodyTest : public testing::CustodyFixture {
 protected:
  veta::v1::Lot Lot(const std::string& id) {
    auto lot = Find(id);
    EXPECT_TRUE(lot.has_value()) << id;
    return lot.value_or(veta::v1::Lot());
  }

  double Share(const veta::v1::Lot& lot, const std::string& unit) {
    for (const auto& s : OriginOf(lot)) {
      if (s.unit_code() == unit) return s.share();
    }
    return 0;
  }

  // The ledger replays to the same state (lots, edges, counters) and decisions.
  void ExpectAuditClean() {
    AuditReport report = Audit();
    EXPECT_TRUE(report.status.ok()) << report.status;
    Reopen();
  }
};

TEST_F(CustodyTest, PartialSaleSplitsTheLotAndTheRemainderStays) {
  Extract("L1", "UA", 1000, 8);
  Sell("L1", miner_a_, plant_, "P1", 400);
  Reopen();  // the split survives a restart
  EXPECT_DOUBLE_EQ(Lot("L1").remaining_kg(), 600);
  EXPECT_DOUBLE_EQ(Lot("L1").original_kg(), 1000);
  const veta::v1::Lot p1 = Lot("P1");
  EXPECT_EQ(p1.holder_id(), plant_);
  EXPECT_DOUBLE_EQ(p1.remaining_kg(), 400);
  EXPECT_EQ(p1.parent_lot_id(), "L1");
  EXPECT_EQ(p1.source(), veta::v1::BOUGHT);
  EXPECT_EQ(p1.unit_code(), "UA");
  EXPECT_DOUBLE_EQ(p1.grade_g_per_t(), 8);
  Sell("L1", miner_a_, trader_, "T1", 600);
  EXPECT_DOUBLE_EQ(Lot("L1").remaining_kg(), 0);
  ExpectAuditClean();
}

TEST_F(CustodyTest, NothingIsSoldTwiceOrBeyondWhatRemains) {
  Extract("L1", "UA", 1000, 8);
  ExpectRefused(SellEnvelope("L1", miner_a_, plant_, "P1", 1000.5), veta::v1::QUANTITY_EXCEEDS_LOT,
                "lot L1 has 1000.0 kg left; the sale asks for 1000.5 kg");
  Sell("L1", miner_a_, plant_, "P1", 1000);
  ExpectRefused(SellEnvelope("L1", miner_a_, trader_, "T1", 1000), veta::v1::QUANTITY_EXCEEDS_LOT,
                "lot L1 has 0.0 kg left; the sale asks for 1000.0 kg");
  // The buyer's lot is the plant's now, not the miner's.
  ExpectRefused(SellEnvelope("P1", miner_a_, trader_, "T1", 1), veta::v1::SELLER_DOES_NOT_HOLD_LOT);
  EXPECT_FALSE(Find("T1").has_value());
  EXPECT_DOUBLE_EQ(Lot("P1").remaining_kg(), 1000);
}

TEST_F(CustodyTest, MassBalanceAcceptsAtTheBoundaryAndRefusesPastIt) {
  // 1,000 kg at 8 g/t hold 8 g of gold; at most 8 x 0.95 recovery x 1.02 tolerance = 7.752 g
  // of fine gold may come out.
  Extract("L1", "UA", 1000, 8);
  Extract("L2", "UA", 1000, 8);
  Sell("L1", miner_a_, plant_, "P1", 1000);
  Sell("L2", miner_a_, plant_, "P2", 1000);
  ExpectRefused(ProcessEnvelope({{"P1", 1000}}, {{"G1", 7.7521, 1000}}),
                veta::v1::MASS_BALANCE_EXCEEDED,
                "the outputs hold 7.7521 g of fine gold; the inputs allow at most 7.7520 g");
  EXPECT_FALSE(Find("G1").has_value());
  EXPECT_DOUBLE_EQ(Lot("P1").remaining_kg(), 1000) << "a refused processing consumed its input";
  Process({{"P1", 1000}}, {{"G1", 7.752, 1000}});
  // Fineness counts: 8.7 g of doré at 900 is 7.83 g fine, past the limit.
  ExpectRefused(ProcessEnvelope({{"P2", 1000}}, {{"G2", 8.7, 900}}),
                veta::v1::MASS_BALANCE_EXCEEDED);
  Process({{"P2", 1000}}, {{"G2", 8.6, 900}});
  const veta::v1::Lot g1 = Lot("G1");
  EXPECT_EQ(g1.kind(), veta::v1::GOLD);
  EXPECT_EQ(g1.source(), veta::v1::PROCESSED);
  EXPECT_DOUBLE_EQ(g1.remaining_g(), 7.752);
  EXPECT_DOUBLE_EQ(Lot("P1").remaining_kg(), 0);
  ASSERT_EQ(g1.inputs_size(), 1);
  EXPECT_DOUBLE_EQ(g1.inputs(0).fine_g(), 8);
}

TEST_F(CustodyTest, ReMeltingGoldAddsNoGold) {
  // The assay tolerance applies to ore only: gold in, at most the same fine gold out.
  Extract("L1", "UA", 1000, 8);
  Sell("L1", miner_a_, plant_, "P1", 1000);
  Process({{"P1", 1000}}, {{"G1", 7.5, 1000}});
  ExpectRefused(ProcessEnvelope({{"G1", 0, 7.5}}, {{"G2", 7.5001, 1000}}),
                veta::v1::MASS_BALANCE_EXCEEDED, "the inputs allow at most 7.5000 g");
  Process({{"G1", 0, 7.5}}, {{"G2", 7.5, 1000}});
  EXPECT_DOUBLE_EQ(Lot("G1").remaining_g(), 0);
}

TEST_F(CustodyTest, ParametersBoundTheToleranceAndTheWindow) {
  veta::v1::RegistryRecord r;
  auto* p = r.mutable_parameters();
  p->mutable_grade_default()->set_min(0.5);
  p->mutable_grade_default()->set_max(60);
  p->mutable_recovery()->set_min(0.3);
  p->mutable_recovery()->set_max(0.95);
  p->set_selector_daily_limit_kg(200);
  p->set_cash_flag_threshold_pen(30000);
  p->set_volume_jump_factor(5);
  p->set_mass_balance_tolerance(0.5);
  ExpectRefused(Registry(r), veta::v1::REGISTRY_RECORD_INVALID, "tolerance");
  p->set_mass_balance_tolerance(0.01);
  p->set_declaration_window_days(5000);
  ExpectRefused(Registry(r), veta::v1::REGISTRY_RECORD_INVALID, "window");
  p->set_declaration_window_days(2);
  ExpectAccepted(Registry(r));
  // Work dated before the window is refused: daily limits cannot be dodged by back-dating.
  veta::v1::Extraction x;
  x.set_lot_id("OLD");
  x.set_extractor_id(miner_a_);
  x.set_unit_code("UA");
  x.mutable_point()->set_longitude(kLonA);
  x.mutable_point()->set_latitude(kLatA);
  x.mutable_time()->set_seconds(Now().seconds() - 3 * 86400);
  x.set_ore_kg(10);
  x.set_grade_g_per_t(8);
  ExpectRefused(Sign(kExtractionType, x, {key_a_}), veta::v1::TIME_TOO_OLD, "within 2 days");
  Extract("L1", "UA", 1000, 8);
  Sell("L1", miner_a_, plant_, "P1", 1000);
  veta::v1::Processing old = ProcessingOf({{"P1", 100}}, {{"G1", 0.5, 900}});
  old.mutable_time()->set_seconds(Now().seconds() - 3 * 86400);
  ExpectRefused(Sign(kProcessingType, old, {plant_key_}), veta::v1::TIME_TOO_OLD);
  // A sale dated back (before a suspension, say) is refused the same way.
  veta::v1::Sale back = SaleOf("P1", plant_, trader_, "T1", 10);
  back.mutable_time()->set_seconds(Now().seconds() - 3 * 86400);
  ExpectRefused(Sign(kSaleType, back, {plant_key_, trader_key_}), veta::v1::TIME_TOO_OLD);
  // With 1% tolerance: 1,000 kg at 8 g/t allow 8 x 0.95 x 1.01 = 7.676 g fine.
  ExpectRefused(ProcessEnvelope({{"P1", 1000}}, {{"G1", 7.7, 1000}}),
                veta::v1::MASS_BALANCE_EXCEEDED, "at most 7.6760 g");
}

TEST_F(CustodyTest, LotIdsAndPricesAreChecked) {
  ExpectRefused(Extraction("A B", miner_a_, "UA", kLonA, kLatA, 10, key_a_),
                veta::v1::LOT_ID_INVALID, "'A B' is not a lot id");
  ExpectRefused(Extraction(std::string("A\0X", 3), miner_a_, "UA", kLonA, kLatA, 10, key_a_),
                veta::v1::LOT_ID_INVALID);
  Extract("L1", "UA", 1000, 8);
  ExpectRefused(SellEnvelope("L1", miner_a_, plant_, "P\"1", 10), veta::v1::LOT_ID_INVALID);
  veta::v1::Sale nan = SaleOf("L1", miner_a_, plant_, "P1", 10);
  nan.set_price_pen(std::nan(""));
  nan.set_payment(veta::v1::CASH);
  ExpectRefused(Sign(kSaleType, nan, {key_a_, plant_key_}), veta::v1::PRICE_INVALID);
  nan.set_price_pen(-1);
  ExpectRefused(Sign(kSaleType, nan, {key_a_, plant_key_}), veta::v1::PRICE_INVALID);
  Sell("L1", miner_a_, plant_, "P1", 1000);
  ExpectRefused(ProcessEnvelope({{"P1", 100}}, {{"G 1", 0.5, 900}}), veta::v1::LOT_ID_INVALID);
  veta::v1::Sale none = SaleOf("P1", plant_, trader_, "T1", 0);
  ExpectRefused(Sign(kSaleType, none, {plant_key_, trader_key_}), veta::v1::QUANTITY_NOT_POSITIVE,
                "grams of gold: quantity_g");
}

TEST_F(CustodyTest, OneLotIsNotSpentTwiceWithinABatch) {
  Extract("L1", "UA", 1000, 8);
  // Many sales of the whole lot in flight at once: the sequencer judges each against the
  // batch's earlier ones, so exactly one is accepted.
  std::vector<std::future<SubmitResult>> answers;
  for (int i = 0; i < 8; ++i) {
    auto done = std::make_shared<std::promise<SubmitResult>>();
    answers.push_back(done->get_future());
    ledger_->Submit(SellEnvelope("L1", miner_a_, i % 2 ? plant_ : trader_, StrCat("B", i), 1000),
                    [done](SubmitResult r) { done->set_value(std::move(r)); });
  }
  int accepted = 0;
  for (auto& a : answers) {
    SubmitResult r = a.get();
    if (r.status.ok()) {
      ++accepted;
    } else {
      EXPECT_EQ(r.refusal, veta::v1::QUANTITY_EXCEEDS_LOT) << r.status;
    }
  }
  EXPECT_EQ(accepted, 1);
  EXPECT_DOUBLE_EQ(Lot("L1").remaining_kg(), 0);
  // A correction sent with the entry it corrects: judged once the entry is on disk.
  Extract("L2", "UA", 1000, 8);
  const uint64_t next = ledger_->size();
  auto sold = std::make_shared<std::promise<SubmitResult>>();
  auto fixed = std::make_shared<std::promise<SubmitResult>>();
  ledger_->Submit(SellEnvelope("L2", miner_a_, plant_, "P2", 400),
                  [sold](SubmitResult r) { sold->set_value(std::move(r)); });
  const std::string correction = CorrectionEnvelope(next, {registrar_});
  ledger_->Submit(correction, [fixed](SubmitResult r) { fixed->set_value(std::move(r)); });
  ASSERT_TRUE(sold->get_future().get().status.ok());
  SubmitResult f = fixed->get_future().get();
  if (!f.status.ok()) {
    EXPECT_EQ(f.status.code(), absl::StatusCode::kUnavailable) << f.status;
    f = ledger_->SubmitAndWait(correction);  // retried: now judged
  }
  EXPECT_TRUE(f.status.ok()) << f.status;
  EXPECT_DOUBLE_EQ(Lot("L2").remaining_kg(), 1000);
  EXPECT_NE(Lot("P2").voided_at(), 0u);
  ExpectAuditClean();
}

// Tampers with the RocksDB files themselves.
class CustodyOnDiskTest : public CustodyTest {
 protected:
  CustodyOnDiskTest() { on_disk_ = true; }
};

TEST_F(CustodyOnDiskTest, AuditNamesAForgedLineageEdgeOrARewrittenOrigin) {
  Extract("LA", "UA", 1000, 7);
  Extract("LB", "UB", 1000, 3);
  Sell("LA", miner_a_, plant_, "PA", 1000);
  Sell("LB", miner_b_, plant_, "PB", 1000);
  Process({{"PA", 1000}, {"PB", 1000}}, {{"G1", 10, 900}});
  ledger_.reset();
  ASSERT_TRUE(AuditLedger(dir_.path()).status.ok());
  auto tamper = [&](const std::function<void(Store&)>& edit) {
    {
      auto store = *RocksStore::Open(DatabasePath(dir_.path()), RocksStore::Mode::kReadWrite);
      edit(*store);
    }
    AuditReport r = AuditLedger(dir_.path());
    EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(std::string(r.status.message()).find("differ"), std::string::npos) << r.status;
  };
  // Someone with disk access makes ore of another unit look like G1's input...
  tamper([](Store& s) {
    ASSERT_TRUE(PutRow(s, Family::kState, ChildEdgeKey("LB", "G1"), EncodeU64(1)).ok());
  });
  {
    auto s = *RocksStore::Open(DatabasePath(dir_.path()), RocksStore::Mode::kReadWrite);
    ASSERT_TRUE(DeleteRow(*s, Family::kState, ChildEdgeKey("LB", "G1")).ok());
  }
  ASSERT_TRUE(AuditLedger(dir_.path()).status.ok());
  // ... or rewrites the blend's origin in UA's favour.
  tamper([](Store& s) {
    veta::v1::Lot lot;
    ASSERT_TRUE(lot.ParseFromString(*s.Get(Family::kState, LotKey("G1"))));
    lot.mutable_origin(0)->set_share(0.9);
    lot.mutable_origin(1)->set_share(0.1);
    ASSERT_TRUE(PutRow(s, Family::kState, LotKey("G1"), lot.SerializeAsString()).ok());
  });
}

TEST_F(CustodyTest, BlendingCarriesEachUnitsShareOfTheFineGold) {
  // Two units, 70/30 by gold content (not by ore mass: 1,000 kg each).
  Extract("LA", "UA", 1000, 7);
  Extract("LB", "UB", 1000, 3);
  Sell("LA", miner_a_, plant_, "PA", 1000);
  Sell("LB", miner_b_, plant_, "PB", 1000);
  Process({{"PA", 1000}, {"PB", 1000}}, {{"G1", 10, 900}});
  veta::v1::Lot g1 = Lot("G1");
  EXPECT_NEAR(Share(g1, "UA"), 0.7, 1e-12);
  EXPECT_NEAR(Share(g1, "UB"), 0.3, 1e-12);
  EXPECT_EQ(g1.unit_code(), "UA") << "the main unit";
  // Split: half the gold to the trader; the part keeps the mix.
  Sell("G1", plant_, trader_, "T1", 5, /*grams=*/true);
  EXPECT_NEAR(Share(Lot("T1"), "UA"), 0.7, 1e-12);
  EXPECT_DOUBLE_EQ(Lot("G1").remaining_g(), 5);
  // Re-blend the plant's remaining 5 g (4.5 g fine) with ore from UC holding 4.5 g of gold.
  Extract("LC", "UC", 1000, 4.5);
  Sell("LC", miner_b_, plant_, "PC", 1000);
  Process({{"G1", 0, 5}, {"PC", 1000}}, {{"G2", 8, 990}});
  const veta::v1::Lot g2 = Lot("G2");
  EXPECT_NEAR(Share(g2, "UA"), 0.35, 1e-12);
  EXPECT_NEAR(Share(g2, "UB"), 0.15, 1e-12);
  EXPECT_NEAR(Share(g2, "UC"), 0.5, 1e-12);
  double sum = 0;
  for (const auto& s : g2.origin()) sum += s.share();
  EXPECT_NEAR(sum, 1, 1e-12);
  EXPECT_DOUBLE_EQ(Lot("G1").remaining_g(), 0);
  ExpectAuditClean();
}

TEST_F(CustodyTest, PlantDailyTonnageStaysWithinItsCapacity) {
  auto small = PartyRecord(plant_, veta::v1::PLANT, plant_key_);
  small.mutable_party()->set_processing_capacity_tonnes_per_day(1);  // 1,000 kg a day
  small.set_note("capacity reassessed");
  ExpectAccepted(Registry(small));
  Extract("L1", "UA", 1500, 8);
  Sell("L1", miner_a_, plant_, "P1", 1500);
  Process({{"P1", 600}}, {{"G1", 1, 900}});
  ExpectRefused(ProcessEnvelope({{"P1", 500}}, {{"G2", 1, 900}}), veta::v1::PLANT_CAPACITY_EXCEEDED,
                "plant " + plant_ + " would reach 1100.0 kg");
  Process({{"P1", 400}}, {{"G2", 1, 900}});
}

TEST_F(CustodyTest, ProcessingRefusals) {
  Extract("L1", "UA", 1000, 8);
  Sell("L1", miner_a_, plant_, "P1", 600);
  Sell("L1", miner_a_, trader_, "T1", 100);
  auto as = [&](const std::string& ruc, const PrivateKey& key, const std::vector<In>& in,
                const std::vector<Out>& out) {
    veta::v1::Processing p = ProcessingOf(in, out);
    p.set_plant_ruc(ruc);
    return Sign(kProcessingType, p, {key});
  };
  ExpectRefused(as(testing::Ruc("2099999999"), plant_key_, {{"P1", 10}}, {{"G", 0.01, 900}}),
                veta::v1::PLANT_UNKNOWN);
  ExpectRefused(as(plant_, trader_key_, {{"P1", 10}}, {{"G", 0.01, 900}}),
                veta::v1::SIGNER_NOT_PARTY);
  ExpectRefused(as(trader_, trader_key_, {{"T1", 10}}, {{"G", 0.01, 900}}), veta::v1::NOT_A_PLANT);
  ExpectRefused(ProcessEnvelope({}, {{"G", 1, 900}}), veta::v1::PROCESSING_INVALID);
  ExpectRefused(ProcessEnvelope({{"P1", 10}}, {}), veta::v1::PROCESSING_INVALID);
  ExpectRefused(ProcessEnvelope({{"P1", 10}, {"P1", 10}}, {{"G", 0.01, 900}}),
                veta::v1::PROCESSING_INVALID, "appears twice");
  ExpectRefused(ProcessEnvelope({{"P1", 10}}, {{"G", 0.01, 1001}}), veta::v1::PROCESSING_INVALID,
                "fineness");
  ExpectRefused(ProcessEnvelope({{"P1", 10}}, {{"G", 0, 900}}), veta::v1::QUANTITY_NOT_POSITIVE);
  ExpectRefused(ProcessEnvelope({{"P1", 10}}, {{"L1", 0.01, 900}}), veta::v1::LOT_ID_TAKEN);
  ExpectRefused(ProcessEnvelope({{"NOPE", 10}}, {{"G", 0.01, 900}}), veta::v1::LOT_UNKNOWN);
  ExpectRefused(ProcessEnvelope({{"T1", 10}}, {{"G", 0.01, 900}}),
                veta::v1::PLANT_DOES_NOT_HOLD_LOT);
  ExpectRefused(ProcessEnvelope({{"P1", 0, 10}}, {{"G", 0.01, 900}}), veta::v1::LOT_KIND_MISMATCH,
                "is an ore lot");
  ExpectRefused(ProcessEnvelope({{"P1", 600.5}}, {{"G", 0.01, 900}}),
                veta::v1::QUANTITY_EXCEEDS_LOT, "lot P1 has 600.0 kg left; the processing asks");
  EXPECT_FALSE(Find("G").has_value());
  EXPECT_DOUBLE_EQ(Lot("P1").remaining_kg(), 600);
}

TEST_F(CustodyTest, GoldIsSoldByTheGramExportedOnceAndNeverMovesAgain) {
  Extract("L1", "UA", 1000, 8);
  Sell("L1", miner_a_, plant_, "P1", 1000);
  Process({{"P1", 1000}}, {{"G1", 8, 900}});
  ExpectRefused(SellEnvelope("G1", plant_, exporter_, "E1", 4), veta::v1::LOT_KIND_MISMATCH,
                "is a gold lot: give grams");
  ExpectRefused(SellEnvelope("L1", miner_a_, plant_, "X", 1, /*grams=*/true),
                veta::v1::LOT_KIND_MISMATCH, "is an ore lot");
  ExpectRefused(SellEnvelope("G1", plant_, exporter_, "E1", 8.5, true),
                veta::v1::QUANTITY_EXCEEDS_LOT,
                "lot G1 has 8.000 g left; the sale asks for 8.500 g");
  Sell("G1", plant_, exporter_, "E1", 6, true);  // an exporter buys gold, not ore
  ExpectRefused(SellEnvelope("L1", miner_a_, exporter_, "X", 1), veta::v1::BUYER_MAY_NOT_BUY_ORE);
  ExpectRefused(ExportEnvelope("G1"), veta::v1::EXPORTER_DOES_NOT_HOLD_LOT);
  ExpectRefused(ExportEnvelope("E1", "PE"), veta::v1::EXPORT_INVALID, "other than PE");
  ExpectRefused(ExportEnvelope("E1", "CH", ""), veta::v1::EXPORT_INVALID, "customs declaration");
  ExpectRefused(ExportEnvelope("NOPE"), veta::v1::LOT_UNKNOWN);
  const SubmitResult exported = ExpectAccepted(ExportEnvelope("E1"));
  const veta::v1::Lot e1 = Lot("E1");
  EXPECT_EQ(e1.exported_at(), exported.sequence);
  EXPECT_DOUBLE_EQ(e1.exported_g(), 6);
  EXPECT_DOUBLE_EQ(e1.remaining_g(), 0);
  EXPECT_EQ(e1.export_destination(), "CH");
  ExpectRefused(ExportEnvelope("E1", "US", "DAM-2"), veta::v1::LOT_EXPORTED);
  ExpectRefused(SellEnvelope("E1", exporter_, trader_, "T1", 1, true), veta::v1::LOT_EXPORTED,
                "was exported to CH by entry " + std::to_string(exported.sequence));
  ExpectAuditClean();
}

TEST_F(CustodyTest, ExportRefusalsForOreAndNonExporters) {
  Extract("L1", "UA", 1000, 8);
  Sell("L1", miner_a_, trader_, "T1", 10);
  veta::v1::Export e;
  e.set_lot_id("T1");
  e.set_exporter_ruc(trader_);
  e.set_destination_country("CH");
  e.set_customs_declaration("DAM-1");
  *e.mutable_time() = Now();
  ExpectRefused(Sign(kExportType, e, {trader_key_}), veta::v1::NOT_AN_EXPORTER);
  e.set_exporter_ruc(testing::Ruc("2099999999"));
  ExpectRefused(Sign(kExportType, e, {trader_key_}), veta::v1::EXPORTER_UNKNOWN);
  e.set_exporter_ruc(exporter_);
  ExpectRefused(Sign(kExportType, e, {trader_key_}), veta::v1::SIGNER_NOT_PARTY);
  // An exporter never holds ore (it may not buy it); of a lot it does not hold it learns
  // neither the holder nor the kind.
  const SubmitResult r = ledger_->SubmitAndWait(Sign(kExportType, e, {exporter_key_}));
  EXPECT_EQ(r.refusal, veta::v1::EXPORTER_DOES_NOT_HOLD_LOT) << r.status;
  EXPECT_EQ(r.status.message(),
            StrCat("[EXPORTER_DOES_NOT_HOLD_LOT] lot T1 is not held by ", exporter_));
}

TEST_F(CustodyTest, CorrectionVoidsASaleAndRestoresTheSellersLot) {
  Extract("L1", "UA", 1000, 8);
  const uint64_t sale = Sell("L1", miner_a_, plant_, "P1", 400).sequence;
  // Neither the miner alone nor an unknown key may void a sale both parties signed.
  ExpectRefused(CorrectionEnvelope(sale, {key_a_}), veta::v1::CORRECTION_NOT_AUTHORIZED);
  const uint64_t fix = ExpectAccepted(CorrectionEnvelope(sale, {registrar_})).sequence;
  EXPECT_DOUBLE_EQ(Lot("L1").remaining_kg(), 1000);
  EXPECT_EQ(Lot("P1").voided_at(), fix);
  ExpectRefused(SellEnvelope("P1", plant_, trader_, "T1", 1), veta::v1::LOT_VOIDED,
                "voided by correction entry " + std::to_string(fix));
  ExpectRefused(CorrectionEnvelope(sale, {registrar_}, "again"),
                veta::v1::CORRECTION_TARGET_INVALID,
                "already voided by entry " + std::to_string(fix));
  // The two parties may correct their own sale.
  const uint64_t sale2 = Sell("L1", miner_a_, plant_, "P2", 300).sequence;
  ExpectAccepted(CorrectionEnvelope(sale2, {key_a_, plant_key_}));
  EXPECT_DOUBLE_EQ(Lot("L1").remaining_kg(), 1000);
  ExpectAuditClean();
}

TEST_F(CustodyTest, CorrectionRefusals) {
  ExpectRefused(CorrectionEnvelope(1, {registrar_}), veta::v1::CORRECTION_TARGET_INVALID,
                "is not a transaction");
  ExpectRefused(CorrectionEnvelope(100000, {registrar_}), veta::v1::CORRECTION_TARGET_INVALID,
                "is not in the ledger");
  const uint64_t extraction = Extract("L1", "UA", 1000, 8).sequence;
  ExpectRefused(CorrectionEnvelope(extraction, {registrar_}, ""),
                veta::v1::CORRECTION_TARGET_INVALID, "states its reason");
  const uint64_t sale = Sell("L1", miner_a_, plant_, "P1", 400).sequence;
  ExpectRefused(CorrectionEnvelope(extraction, {registrar_}), veta::v1::CORRECTION_BLOCKED,
                "lot P1 (entry " + std::to_string(sale) + ") came from it");
  EXPECT_EQ(Lot("L1").voided_at(), 0u);
  // Downstream first, then upstream.
  ExpectAccepted(CorrectionEnvelope(sale, {registrar_}));
  ExpectAccepted(CorrectionEnvelope(extraction, {key_a_}));
  EXPECT_NE(Lot("L1").voided_at(), 0u);
}

TEST_F(CustodyTest, CorrectingAnExtractionFreesTheUnitsDailyCapacity) {
  const uint64_t first = Extract("L1", "UA", 10000, 8).sequence;  // UA: 10 t/day
  ExpectRefused(Extraction("L2", miner_a_, "UA", kLonA, kLatA, 1, key_a_),
                veta::v1::UNIT_CAPACITY_EXCEEDED);
  ExpectAccepted(CorrectionEnvelope(first, {registrar_}, "weighed twice"));
  Extract("L2", "UA", 10000, 8);
  ExpectAuditClean();
}

TEST_F(CustodyTest, ACorrectionDoesNotRestoreGoldToALotThatLeftTheCountry) {
  Extract("L1", "UA", 1000, 8);
  Sell("L1", miner_a_, plant_, "P1", 1000);
  Process({{"P1", 1000}}, {{"G1", 8, 900}});
  Sell("G1", plant_, exporter_, "X1", 8, true);
  const uint64_t sale = Sell("X1", exporter_, trader_, "T1", 3, true).sequence;
  ExpectAccepted(ExportEnvelope("X1"));  // the remaining 5 g leave
  ExpectRefused(CorrectionEnvelope(sale, {registrar_}), veta::v1::CORRECTION_BLOCKED,
                "took from lot X1, which cannot take it back");
  EXPECT_DOUBLE_EQ(Lot("X1").remaining_g(), 0);
  EXPECT_EQ(Lot("T1").voided_at(), 0u);
}

TEST_F(CustodyTest, CorrectingProcessingAndExportRestoresWhatTheyConsumed) {
  Extract("L1", "UA", 1000, 8);
  Sell("L1", miner_a_, plant_, "P1", 1000);
  const uint64_t processing = Process({{"P1", 1000}}, {{"G1", 8, 900}}).sequence;
  Sell("G1", plant_, exporter_, "E1", 8, true);
  const uint64_t exported = ExpectAccepted(ExportEnvelope("E1")).sequence;
  ExpectRefused(CorrectionEnvelope(exported, {exporter_key_}), veta::v1::CORRECTION_NOT_AUTHORIZED,
                "is an export: only an active registrar voids it");
  const uint64_t fix = ExpectAccepted(CorrectionEnvelope(exported, {registrar_})).sequence;
  veta::v1::Lot e1 = Lot("E1");
  EXPECT_EQ(e1.export_voided_at(), fix);
  EXPECT_DOUBLE_EQ(e1.remaining_g(), 8);
  ExpectAccepted(ExportEnvelope("E1", "AE", "DAM-2"));  // it may leave again, declared right
  ExpectRefused(CorrectionEnvelope(processing, {plant_key_}), veta::v1::CORRECTION_BLOCKED);
  Extract("L2", "UA", 1000, 8);
  Sell("L2", miner_a_, plant_, "P2", 1000);
  const uint64_t p2 = Process({{"P2", 1000}}, {{"G2", 8, 900}}).sequence;
  ExpectAccepted(CorrectionEnvelope(p2, {plant_key_}));
  EXPECT_DOUBLE_EQ(Lot("P2").remaining_kg(), 1000);
  EXPECT_NE(Lot("G2").voided_at(), 0u);
  Process({{"P2", 1000}}, {{"G3", 8, 900}});
  ExpectAuditClean();
}

}  // namespace
}  // namespace veta
