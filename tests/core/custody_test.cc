// Lots and their custody: splits and remainders, processing with mass balance, capacity and
// blending, gold sales, exports and corrections. Each rule accepted and refused with its code.
#include <cmath>
#include <functional>
#include <future>
#include <memory>

#include "core/read/audit.h"
#include "core/rules/registry.h"
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

  // A unit's fine mg in the lot as created (over original_fine_mg).
  int64_t FineOf(const veta::v1::Lot& lot, const std::string& unit) {
    for (const auto& s : OriginOf(lot)) {
      if (s.unit_code() == unit) return s.fine_mg();
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
  Extract("L1", "UA", 1000_kg, 8_gpt);
  Sell("L1", miner_a_, plant_, "P1", 400_kg);
  Reopen();  // the split survives a restart
  EXPECT_EQ(Lot("L1").remaining_ore_g(), 600_kg);
  EXPECT_EQ(Lot("L1").original_ore_g(), 1000_kg);
  const veta::v1::Lot p1 = Lot("P1");
  EXPECT_EQ(p1.holder_id(), plant_);
  EXPECT_EQ(p1.remaining_ore_g(), 400_kg);
  EXPECT_EQ(p1.parent_lot_id(), "L1");
  EXPECT_EQ(p1.source(), veta::v1::BOUGHT);
  EXPECT_EQ(p1.unit_code(), "UA");
  EXPECT_EQ(p1.grade_ppb(), 8_gpt);
  Sell("L1", miner_a_, trader_, "T1", 600_kg);
  EXPECT_EQ(Lot("L1").remaining_ore_g(), 0_kg);
  ExpectAuditClean();
}

TEST_F(CustodyTest, NothingIsSoldTwiceOrBeyondWhatRemains) {
  Extract("L1", "UA", 1000_kg, 8_gpt);
  ExpectRefused(SellEnvelope("L1", miner_a_, plant_, "P1", 1000.5_kg),
                veta::v1::QUANTITY_EXCEEDS_LOT,
                "lot L1 has 1000.000 kg left; the sale asks for 1000.500 kg");
  Sell("L1", miner_a_, plant_, "P1", 1000_kg);
  ExpectRefused(SellEnvelope("L1", miner_a_, trader_, "T1", 1000_kg),
                veta::v1::QUANTITY_EXCEEDS_LOT,
                "lot L1 has 0.000 kg left; the sale asks for 1000.000 kg");
  // The buyer's lot is the plant's now, not the miner's.
  ExpectRefused(SellEnvelope("P1", miner_a_, trader_, "T1", 1_kg),
                veta::v1::SELLER_DOES_NOT_HOLD_LOT);
  EXPECT_FALSE(Find("T1").has_value());
  EXPECT_EQ(Lot("P1").remaining_ore_g(), 1000_kg);
}

TEST_F(CustodyTest, MassBalanceAcceptsAtTheBoundaryAndRefusesPastIt) {
  // 1,000 kg at 8 g/t hold 8 g of gold; at most 8 x 0.95 recovery x 1.02 tolerance = 7.752 g
  // of fine gold may come out.
  Extract("L1", "UA", 1000_kg, 8_gpt);
  Extract("L2", "UA", 1000_kg, 8_gpt);
  Sell("L1", miner_a_, plant_, "P1", 1000_kg);
  Sell("L2", miner_a_, plant_, "P2", 1000_kg);
  // Counted in milligrams: one more than the limit is refused.
  ExpectRefused(ProcessEnvelope({{"P1", 1000_kg}}, {{"G1", 7.753_g, 1000_permille}}),
                veta::v1::MASS_BALANCE_EXCEEDED,
                "the outputs hold 7.753 g of fine gold; the inputs allow at most 7.752 g");
  EXPECT_FALSE(Find("G1").has_value());
  EXPECT_EQ(Lot("P1").remaining_ore_g(), 1000_kg) << "a refused processing consumed its input";
  Process({{"P1", 1000_kg}}, {{"G1", 7.752_g, 1000_permille}});
  // Fineness counts: 8.7 g of doré at 900 is 7.83 g fine, past the limit.
  ExpectRefused(ProcessEnvelope({{"P2", 1000_kg}}, {{"G2", 8.7_g, 900_permille}}),
                veta::v1::MASS_BALANCE_EXCEEDED);
  Process({{"P2", 1000_kg}}, {{"G2", 8.6_g, 900_permille}});
  const veta::v1::Lot g1 = Lot("G1");
  EXPECT_EQ(g1.kind(), veta::v1::GOLD);
  EXPECT_EQ(g1.source(), veta::v1::PROCESSED);
  EXPECT_EQ(g1.remaining_gold_mg(), 7.752_g);
  EXPECT_EQ(Lot("P1").remaining_ore_g(), 0_kg);
  ASSERT_EQ(g1.inputs_size(), 1);
  EXPECT_EQ(g1.inputs(0).fine_mg(), 8_g);
}

TEST_F(CustodyTest, ReMeltingGoldAddsNoGold) {
  // The assay tolerance applies to ore only: gold in, at most the same fine gold out.
  Extract("L1", "UA", 1000_kg, 8_gpt);
  Sell("L1", miner_a_, plant_, "P1", 1000_kg);
  Process({{"P1", 1000_kg}}, {{"G1", 7.5_g, 1000_permille}});
  ExpectRefused(ProcessEnvelope({{"G1", 0_kg, 7.5_g}}, {{"G2", 7.501_g, 1000_permille}}),
                veta::v1::MASS_BALANCE_EXCEEDED, "the inputs allow at most 7.500 g");
  Process({{"G1", 0_kg, 7.5_g}}, {{"G2", 7.5_g, 1000_permille}});
  EXPECT_EQ(Lot("G1").remaining_gold_mg(), 0_g);
}

TEST_F(CustodyTest, ParametersBoundTheToleranceAndTheWindow) {
  veta::v1::RegistryRecord r = payloads::ParametersRecord();
  auto* p = r.mutable_parameters();
  p->set_mass_balance_tolerance_ppm(50_pct);
  ExpectRefused(Registry(r), veta::v1::REGISTRY_RECORD_INVALID, "tolerance");
  p->set_mass_balance_tolerance_ppm(1_pct);
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
  x.set_ore_g(10_kg);
  x.set_grade_ppb(8_gpt);
  ExpectRefused(Sign(kExtractionType, x, {key_a_}), veta::v1::TIME_TOO_OLD, "within 2 days");
  Extract("L1", "UA", 1000_kg, 8_gpt);
  Sell("L1", miner_a_, plant_, "P1", 1000_kg);
  veta::v1::Processing old = ProcessingOf({{"P1", 100_kg}}, {{"G1", 0.5_g, 900_permille}});
  old.mutable_time()->set_seconds(Now().seconds() - 3 * 86400);
  ExpectRefused(Sign(kProcessingType, old, {plant_key_}), veta::v1::TIME_TOO_OLD);
  // A sale dated back (before a suspension, say) is refused the same way.
  veta::v1::Sale back = SaleOf("P1", plant_, trader_, "T1", 10_kg);
  back.mutable_time()->set_seconds(Now().seconds() - 3 * 86400);
  ExpectRefused(Sign(kSaleType, back, {plant_key_, trader_key_}), veta::v1::TIME_TOO_OLD);
  // With 1% tolerance: 1,000 kg at 8 g/t allow 8 x 0.95 x 1.01 = 7.676 g fine.
  ExpectRefused(ProcessEnvelope({{"P1", 1000_kg}}, {{"G1", 7.7_g, 1000_permille}}),
                veta::v1::MASS_BALANCE_EXCEEDED, "at most 7.676 g");
}

TEST_F(CustodyTest, LotIdsAndPricesAreChecked) {
  ExpectRefused(Extraction("A B", miner_a_, "UA", kLonA, kLatA, 10_kg, key_a_),
                veta::v1::LOT_ID_INVALID, "'A B' is not a lot id");
  ExpectRefused(Extraction(std::string("A\0X", 3), miner_a_, "UA", kLonA, kLatA, 10_kg, key_a_),
                veta::v1::LOT_ID_INVALID);
  Extract("L1", "UA", 1000_kg, 8_gpt);
  ExpectRefused(SellEnvelope("L1", miner_a_, plant_, "P\"1", 10_kg), veta::v1::LOT_ID_INVALID);
  // A price is a whole number of céntimos: a negative one is refused (a NaN cannot be written).
  veta::v1::Sale negative = SaleOf("L1", miner_a_, plant_, "P1", 10_kg);
  negative.set_payment(veta::v1::CASH);
  negative.set_price_cents(-1);
  ExpectRefused(Sign(kSaleType, negative, {key_a_, plant_key_}), veta::v1::PRICE_INVALID,
                "céntimos, 0 or more, not -1");
  Sell("L1", miner_a_, plant_, "P1", 1000_kg);
  ExpectRefused(ProcessEnvelope({{"P1", 100_kg}}, {{"G 1", 0.5_g, 900_permille}}),
                veta::v1::LOT_ID_INVALID);
  veta::v1::Sale none = SaleOf("P1", plant_, trader_, "T1", 0_kg);
  ExpectRefused(Sign(kSaleType, none, {plant_key_, trader_key_}), veta::v1::QUANTITY_NOT_POSITIVE,
                "milligrams of gold: quantity_mg");
}

TEST_F(CustodyTest, OneLotIsNotSpentTwiceWithinABatch) {
  Extract("L1", "UA", 1000_kg, 8_gpt);
  // Many sales of the whole lot in flight at once: the sequencer judges each against the
  // batch's earlier ones, so exactly one is accepted.
  std::vector<std::future<SubmitResult>> answers;
  for (int i = 0; i < 8; ++i) {
    auto done = std::make_shared<std::promise<SubmitResult>>();
    answers.push_back(done->get_future());
    ledger_->Submit(SellEnvelope("L1", miner_a_, i % 2 ? plant_ : trader_, StrCat("B", i), 1000_kg),
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
  EXPECT_EQ(Lot("L1").remaining_ore_g(), 0_kg);
  // A correction sent with the entry it corrects: judged once the entry is on disk.
  Extract("L2", "UA", 1000_kg, 8_gpt);
  const uint64_t next = ledger_->size();
  auto sold = std::make_shared<std::promise<SubmitResult>>();
  auto fixed = std::make_shared<std::promise<SubmitResult>>();
  ledger_->Submit(SellEnvelope("L2", miner_a_, plant_, "P2", 400_kg),
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
  EXPECT_EQ(Lot("L2").remaining_ore_g(), 1000_kg);
  EXPECT_NE(Lot("P2").voided_at(), 0u);
  ExpectAuditClean();
}

// Tampers with the RocksDB files themselves.
class CustodyOnDiskTest : public CustodyTest {
 protected:
  CustodyOnDiskTest() { on_disk_ = true; }
};

TEST_F(CustodyOnDiskTest, AuditNamesAForgedLineageEdgeOrARewrittenOrigin) {
  Extract("LA", "UA", 1000_kg, 7_gpt);
  Extract("LB", "UB", 1000_kg, 3_gpt);
  Sell("LA", miner_a_, plant_, "PA", 1000_kg);
  Sell("LB", miner_b_, plant_, "PB", 1000_kg);
  Process({{"PA", 1000_kg}, {"PB", 1000_kg}}, {{"G1", 10_g, 900_permille}});
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
    // 9 g fine: 6.3 g UA, 2.7 g UB -> 8.1 g UA, 0.9 g UB (still summing to the whole).
    lot.mutable_origin(0)->set_fine_mg(8.1_g);
    lot.mutable_origin(1)->set_fine_mg(0.9_g);
    ASSERT_TRUE(PutRow(s, Family::kState, LotKey("G1"), lot.SerializeAsString()).ok());
  });
}

TEST_F(CustodyTest, BlendingCarriesEachUnitsShareOfTheFineGold) {
  // Two units, 70/30 by gold content (not by ore mass: 1,000 kg each).
  Extract("LA", "UA", 1000_kg, 7_gpt);
  Extract("LB", "UB", 1000_kg, 3_gpt);
  Sell("LA", miner_a_, plant_, "PA", 1000_kg);
  Sell("LB", miner_b_, plant_, "PB", 1000_kg);
  Process({{"PA", 1000_kg}, {"PB", 1000_kg}}, {{"G1", 10_g, 900_permille}});
  // The ore brings 7 g (UA) and 3 g (UB); G1 holds 9 g fine: 6.3 g from UA, 2.7 g from UB.
  veta::v1::Lot g1 = Lot("G1");
  EXPECT_EQ(g1.original_fine_mg(), 9_g);
  EXPECT_EQ(FineOf(g1, "UA"), 6.3_g);
  EXPECT_EQ(FineOf(g1, "UB"), 2.7_g);
  EXPECT_EQ(g1.unit_code(), "UA") << "the main unit";
  // Split: half the gold to the trader; the part keeps the mix.
  Sell("G1", plant_, trader_, "T1", 5_g, /*gold=*/true);
  EXPECT_EQ(FineOf(Lot("T1"), "UA"), 3.15_g);  // 4.5 g fine, 70%
  EXPECT_EQ(FineOf(Lot("T1"), "UB"), 1.35_g);
  EXPECT_EQ(Lot("G1").remaining_gold_mg(), 5_g);
  // Re-blend the plant's remaining 5 g (4.5 g fine) with ore from UC holding 4.5 g of gold.
  Extract("LC", "UC", 1000_kg, 4.5_gpt);
  Sell("LC", miner_b_, plant_, "PC", 1000_kg);
  Process({{"G1", 0_kg, 5_g}, {"PC", 1000_kg}}, {{"G2", 8_g, 990_permille}});
  // G2: 8 g at 990 is 7.92 g fine, 35% UA, 15% UB, 50% UC (4.5 g from G1, 4.5 g from UC).
  const veta::v1::Lot g2 = Lot("G2");
  EXPECT_EQ(g2.original_fine_mg(), 7.92_g);
  EXPECT_EQ(FineOf(g2, "UA"), 2.772_g);
  EXPECT_EQ(FineOf(g2, "UB"), 1.188_g);
  EXPECT_EQ(FineOf(g2, "UC"), 3.96_g);
  int64_t sum = 0;
  for (const auto& s : g2.origin()) sum += s.fine_mg();
  EXPECT_EQ(sum, g2.original_fine_mg());
  EXPECT_EQ(Lot("G1").remaining_gold_mg(), 0_g);
  ExpectAuditClean();
}

TEST_F(CustodyTest, PlantDailyTonnageStaysWithinItsCapacity) {
  auto small = PartyRecord(plant_, veta::v1::PLANT, plant_key_);
  small.mutable_party()->set_processing_capacity_ore_g_per_day(1_tpd);  // 1,000 kg a day
  small.set_note("capacity reassessed");
  ExpectAccepted(Registry(small));
  Extract("L1", "UA", 1500_kg, 8_gpt);
  Sell("L1", miner_a_, plant_, "P1", 1500_kg);
  Process({{"P1", 600_kg}}, {{"G1", 1_g, 900_permille}});
  ExpectRefused(ProcessEnvelope({{"P1", 500_kg}}, {{"G2", 1_g, 900_permille}}),
                veta::v1::PLANT_CAPACITY_EXCEEDED, "plant " + plant_ + " would reach 1100.000 kg");
  Process({{"P1", 400_kg}}, {{"G2", 1_g, 900_permille}});
}

TEST_F(CustodyTest, ProcessingRefusals) {
  Extract("L1", "UA", 1000_kg, 8_gpt);
  Sell("L1", miner_a_, plant_, "P1", 600_kg);
  Sell("L1", miner_a_, trader_, "T1", 100_kg);
  auto as = [&](const std::string& ruc, const PrivateKey& key, const std::vector<In>& in,
                const std::vector<Out>& out) {
    veta::v1::Processing p = ProcessingOf(in, out);
    p.set_plant_ruc(ruc);
    return Sign(kProcessingType, p, {key});
  };
  ExpectRefused(
      as(testing::Ruc("2099999999"), plant_key_, {{"P1", 10_kg}}, {{"G", 0.01_g, 900_permille}}),
      veta::v1::PLANT_UNKNOWN);
  ExpectRefused(as(plant_, trader_key_, {{"P1", 10_kg}}, {{"G", 0.01_g, 900_permille}}),
                veta::v1::SIGNER_NOT_PARTY);
  ExpectRefused(as(trader_, trader_key_, {{"T1", 10_kg}}, {{"G", 0.01_g, 900_permille}}),
                veta::v1::NOT_A_PLANT);
  ExpectRefused(ProcessEnvelope({}, {{"G", 1_g, 900_permille}}), veta::v1::PROCESSING_INVALID);
  ExpectRefused(ProcessEnvelope({{"P1", 10_kg}}, {}), veta::v1::PROCESSING_INVALID);
  ExpectRefused(ProcessEnvelope({{"P1", 10_kg}, {"P1", 10_kg}}, {{"G", 0.01_g, 900_permille}}),
                veta::v1::PROCESSING_INVALID, "appears twice");
  ExpectRefused(ProcessEnvelope({{"P1", 10_kg}}, {{"G", 0.01_g, 1001_permille}}),
                veta::v1::PROCESSING_INVALID, "fineness");
  ExpectRefused(ProcessEnvelope({{"P1", 10_kg}}, {{"G", 0_g, 900_permille}}),
                veta::v1::QUANTITY_NOT_POSITIVE);
  ExpectRefused(ProcessEnvelope({{"P1", 10_kg}}, {{"L1", 0.01_g, 900_permille}}),
                veta::v1::LOT_ID_TAKEN);
  ExpectRefused(ProcessEnvelope({{"NOPE", 10_kg}}, {{"G", 0.01_g, 900_permille}}),
                veta::v1::LOT_UNKNOWN);
  ExpectRefused(ProcessEnvelope({{"T1", 10_kg}}, {{"G", 0.01_g, 900_permille}}),
                veta::v1::PLANT_DOES_NOT_HOLD_LOT);
  ExpectRefused(ProcessEnvelope({{"P1", 0_kg, 10_g}}, {{"G", 0.01_g, 900_permille}}),
                veta::v1::LOT_KIND_MISMATCH, "is an ore lot");
  ExpectRefused(ProcessEnvelope({{"P1", 600.5_kg}}, {{"G", 0.01_g, 900_permille}}),
                veta::v1::QUANTITY_EXCEEDS_LOT, "lot P1 has 600.000 kg left; the processing asks");
  EXPECT_FALSE(Find("G").has_value());
  EXPECT_EQ(Lot("P1").remaining_ore_g(), 600_kg);
}

TEST_F(CustodyTest, GoldIsSoldByTheGramExportedOnceAndNeverMovesAgain) {
  Extract("L1", "UA", 1000_kg, 8_gpt);
  Sell("L1", miner_a_, plant_, "P1", 1000_kg);
  Process({{"P1", 1000_kg}}, {{"G1", 8_g, 900_permille}});
  ExpectRefused(SellEnvelope("G1", plant_, exporter_, "E1", 4_kg), veta::v1::LOT_KIND_MISMATCH,
                "is a gold lot: give milligrams");
  ExpectRefused(SellEnvelope("L1", miner_a_, plant_, "X", 1_g, /*gold=*/true),
                veta::v1::LOT_KIND_MISMATCH, "is an ore lot");
  ExpectRefused(SellEnvelope("G1", plant_, exporter_, "E1", 8.5_g, true),
                veta::v1::QUANTITY_EXCEEDS_LOT,
                "lot G1 has 8.000 g left; the sale asks for 8.500 g");
  Sell("G1", plant_, exporter_, "E1", 6_g, true);  // an exporter buys gold, not ore
  ExpectRefused(SellEnvelope("L1", miner_a_, exporter_, "X", 1_kg),
                veta::v1::BUYER_MAY_NOT_BUY_ORE);
  ExpectRefused(ExportEnvelope("G1"), veta::v1::EXPORTER_DOES_NOT_HOLD_LOT);
  ExpectRefused(ExportEnvelope("E1", "PE"), veta::v1::EXPORT_INVALID, "other than PE");
  ExpectRefused(ExportEnvelope("E1", "CH", ""), veta::v1::EXPORT_INVALID, "customs declaration");
  ExpectRefused(ExportEnvelope("NOPE"), veta::v1::LOT_UNKNOWN);
  const SubmitResult exported = ExpectAccepted(ExportEnvelope("E1"));
  const veta::v1::Lot e1 = Lot("E1");
  EXPECT_EQ(e1.exported_at(), exported.sequence);
  EXPECT_EQ(e1.exported_gold_mg(), 6_g);
  EXPECT_EQ(e1.remaining_gold_mg(), 0_g);
  EXPECT_EQ(e1.export_destination(), "CH");
  ExpectRefused(ExportEnvelope("E1", "US", "DAM-2"), veta::v1::LOT_EXPORTED);
  ExpectRefused(SellEnvelope("E1", exporter_, trader_, "T1", 1_g, true), veta::v1::LOT_EXPORTED,
                "was exported to CH by entry " + std::to_string(exported.sequence));
  ExpectAuditClean();
}

TEST_F(CustodyTest, ExportRefusalsForOreAndNonExporters) {
  Extract("L1", "UA", 1000_kg, 8_gpt);
  Sell("L1", miner_a_, trader_, "T1", 10_kg);
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
  Extract("L1", "UA", 1000_kg, 8_gpt);
  const uint64_t sale = Sell("L1", miner_a_, plant_, "P1", 400_kg).sequence;
  // Neither the miner alone nor an unknown key may void a sale both parties signed.
  ExpectRefused(CorrectionEnvelope(sale, {key_a_}), veta::v1::CORRECTION_NOT_AUTHORIZED);
  const uint64_t fix = ExpectAccepted(CorrectionEnvelope(sale, {registrar_})).sequence;
  EXPECT_EQ(Lot("L1").remaining_ore_g(), 1000_kg);
  EXPECT_EQ(Lot("P1").voided_at(), fix);
  ExpectRefused(SellEnvelope("P1", plant_, trader_, "T1", 1_kg), veta::v1::LOT_VOIDED,
                "voided by correction entry " + std::to_string(fix));
  ExpectRefused(CorrectionEnvelope(sale, {registrar_}, "again"),
                veta::v1::CORRECTION_TARGET_INVALID,
                "already voided by entry " + std::to_string(fix));
  // The two parties may correct their own sale.
  const uint64_t sale2 = Sell("L1", miner_a_, plant_, "P2", 300_kg).sequence;
  ExpectAccepted(CorrectionEnvelope(sale2, {key_a_, plant_key_}));
  EXPECT_EQ(Lot("L1").remaining_ore_g(), 1000_kg);
  ExpectAuditClean();
}

TEST_F(CustodyTest, CorrectionRefusals) {
  ExpectRefused(CorrectionEnvelope(1, {registrar_}), veta::v1::CORRECTION_TARGET_INVALID,
                "is not a transaction");
  ExpectRefused(CorrectionEnvelope(100000, {registrar_}), veta::v1::CORRECTION_TARGET_INVALID,
                "is not in the ledger");
  const uint64_t extraction = Extract("L1", "UA", 1000_kg, 8_gpt).sequence;
  ExpectRefused(CorrectionEnvelope(extraction, {registrar_}, ""),
                veta::v1::CORRECTION_TARGET_INVALID, "states its reason");
  const uint64_t sale = Sell("L1", miner_a_, plant_, "P1", 400_kg).sequence;
  ExpectRefused(CorrectionEnvelope(extraction, {registrar_}), veta::v1::CORRECTION_BLOCKED,
                "lot P1 (entry " + std::to_string(sale) + ") came from it");
  EXPECT_EQ(Lot("L1").voided_at(), 0u);
  // Downstream first, then upstream.
  ExpectAccepted(CorrectionEnvelope(sale, {registrar_}));
  ExpectAccepted(CorrectionEnvelope(extraction, {key_a_}));
  EXPECT_NE(Lot("L1").voided_at(), 0u);
}

TEST_F(CustodyTest, CorrectingAnExtractionFreesTheUnitsDailyCapacity) {
  const uint64_t first = Extract("L1", "UA", 10000_kg, 8_gpt).sequence;  // UA: 10 t/day
  ExpectRefused(Extraction("L2", miner_a_, "UA", kLonA, kLatA, 1_kg, key_a_),
                veta::v1::UNIT_CAPACITY_EXCEEDED);
  ExpectAccepted(CorrectionEnvelope(first, {registrar_}, "weighed twice"));
  Extract("L2", "UA", 10000_kg, 8_gpt);
  ExpectAuditClean();
}

TEST_F(CustodyTest, ACorrectionDoesNotRestoreGoldToALotThatLeftTheCountry) {
  Extract("L1", "UA", 1000_kg, 8_gpt);
  Sell("L1", miner_a_, plant_, "P1", 1000_kg);
  Process({{"P1", 1000_kg}}, {{"G1", 8_g, 900_permille}});
  Sell("G1", plant_, exporter_, "X1", 8_g, true);
  const uint64_t sale = Sell("X1", exporter_, trader_, "T1", 3_g, true).sequence;
  ExpectAccepted(ExportEnvelope("X1"));  // the remaining 5 g leave
  ExpectRefused(CorrectionEnvelope(sale, {registrar_}), veta::v1::CORRECTION_BLOCKED,
                "took from lot X1, which cannot take it back");
  EXPECT_EQ(Lot("X1").remaining_gold_mg(), 0_g);
  EXPECT_EQ(Lot("T1").voided_at(), 0u);
}

TEST_F(CustodyTest, CorrectingProcessingAndExportRestoresWhatTheyConsumed) {
  Extract("L1", "UA", 1000_kg, 8_gpt);
  Sell("L1", miner_a_, plant_, "P1", 1000_kg);
  const uint64_t processing = Process({{"P1", 1000_kg}}, {{"G1", 8_g, 900_permille}}).sequence;
  Sell("G1", plant_, exporter_, "E1", 8_g, true);
  const uint64_t exported = ExpectAccepted(ExportEnvelope("E1")).sequence;
  ExpectRefused(CorrectionEnvelope(exported, {exporter_key_}), veta::v1::CORRECTION_NOT_AUTHORIZED,
                "is an export: only an active registrar voids it");
  const uint64_t fix = ExpectAccepted(CorrectionEnvelope(exported, {registrar_})).sequence;
  veta::v1::Lot e1 = Lot("E1");
  EXPECT_EQ(e1.export_voided_at(), fix);
  EXPECT_EQ(e1.remaining_gold_mg(), 8_g);
  ExpectAccepted(ExportEnvelope("E1", "AE", "DAM-2"));  // it may leave again, declared right
  ExpectRefused(CorrectionEnvelope(processing, {plant_key_}), veta::v1::CORRECTION_BLOCKED);
  Extract("L2", "UA", 1000_kg, 8_gpt);
  Sell("L2", miner_a_, plant_, "P2", 1000_kg);
  const uint64_t p2 = Process({{"P2", 1000_kg}}, {{"G2", 8_g, 900_permille}}).sequence;
  ExpectAccepted(CorrectionEnvelope(p2, {plant_key_}));
  EXPECT_EQ(Lot("P2").remaining_ore_g(), 1000_kg);
  EXPECT_NE(Lot("G2").voided_at(), 0u);
  Process({{"P2", 1000_kg}}, {{"G3", 8_g, 900_permille}});
  ExpectAuditClean();
}

}  // namespace
}  // namespace veta
