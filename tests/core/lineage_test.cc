// Lineage on a multi-level chain: backward to every extraction with each unit's share of the
// fine gold, forward from a unit, a miner and a lot; "as of" before and after a correction;
// the limits and paging.
#include "core/read/lineage.h"

#include <map>

#include "core/rules/registry.h"
#include "tests/core/custody_fixture.h"

namespace veta {
namespace {

class LineageTest : public testing::CustodyFixture {
 protected:
  // LA (UA, 7 g of gold) -> plant PA, and LB (UB, 3 g) -> trader TB -> plant PB, both
  // processed into G1 (10 g at 900), of which 5 g are sold to the exporter (E1) and exported.
  void SetUp() override {
    CustodyFixture::SetUp();
    Extract("LA", "UA", 1000_kg, 7_gpt);
    Extract("LB", "UB", 1000_kg, 3_gpt);
    Sell("LA", miner_a_, plant_, "PA", 1000_kg);
    Sell("LB", miner_b_, trader_, "TB", 1000_kg);
    Sell("TB", trader_, plant_, "PB", 1000_kg);
    processing_ =
        Process({{"PA", 1000_kg}, {"PB", 1000_kg}}, {{"G1", 10_g, 900_permille}}).sequence;
    sale_ = Sell("G1", plant_, exporter_, "E1", 5_g, true).sequence;
    export_ = ExpectAccepted(ExportEnvelope("E1")).sequence;
  }

  veta::v1::Lineage Query(LineageQuery q) {
    if (q.as_of == 0) q.as_of = ledger_->size();
    auto r = QueryLineage(ledger_->store(), q);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.value_or(veta::v1::Lineage());
  }

  static LineageQuery Backward(const std::string& lot) {
    LineageQuery q;
    q.id = lot;
    return q;
  }
  static LineageQuery Forward(LineageQuery::Root root, const std::string& id) {
    LineageQuery q;
    q.root = root;
    q.id = id;
    q.forward = true;
    return q;
  }

  static std::map<std::string, veta::v1::LineageNode> ById(const veta::v1::Lineage& l) {
    std::map<std::string, veta::v1::LineageNode> m;
    for (const auto& n : l.nodes()) m[n.lot_id()] = n;
    return m;
  }

  uint64_t processing_ = 0, sale_ = 0, export_ = 0;
};

TEST_F(LineageTest, BackwardReachesEveryExtractionWithItsShare) {
  const veta::v1::Lineage l = Query(Backward("E1"));
  EXPECT_FALSE(l.truncated());
  ASSERT_EQ(l.nodes_size(), 7);
  EXPECT_EQ(l.nodes(0).lot_id(), "E1");
  auto n = ById(l);
  EXPECT_EQ(n["E1"].exported_at(), export_);
  EXPECT_EQ(n["E1"].export_destination(), "CH");
  EXPECT_EQ(n["E1"].sequence(), sale_);
  EXPECT_EQ(n["G1"].sequence(), processing_);
  EXPECT_EQ(n["G1"].depth(), 1u);
  EXPECT_EQ(n["LB"].depth(), 4u);
  EXPECT_EQ(n["LA"].source(), veta::v1::EXTRACTED);
  EXPECT_EQ(n["LA"].unit_code(), "UA");
  EXPECT_EQ(n["LA"].department(), "17");
  // Shares are fine mg of the root's 4.5 g: all of it through G1, 70/30 through the inputs.
  EXPECT_EQ(l.fine_mg(), 4.5_g);
  EXPECT_EQ(n["G1"].root_fine_mg(), 4.5_g);
  EXPECT_EQ(n["PA"].root_fine_mg(), 3.15_g);
  EXPECT_EQ(n["TB"].root_fine_mg(), 1.35_g);
  EXPECT_EQ(n["LB"].root_fine_mg(), 1.35_g);
  // Each step names the entry that moved the gold, with what moved.
  ASSERT_EQ(n["G1"].edges_size(), 2);
  EXPECT_EQ(n["G1"].edges(0).lot_id(), "PA");
  EXPECT_EQ(n["G1"].edges(0).ore_g(), 1000_kg);
  EXPECT_EQ(n["G1"].edges(0).sequence(), processing_);
  ASSERT_EQ(n["E1"].edges_size(), 1);
  EXPECT_EQ(n["E1"].edges(0).gold_mg(), 5_g);
  EXPECT_EQ(n["E1"].fine_mg(), 4.5_g);
  ASSERT_EQ(l.units_size(), 2);
  EXPECT_EQ(l.units(0).unit_code(), "UA");
  EXPECT_EQ(l.units(0).fine_mg(), 3.15_g);  // 70% of 4.5 g
  EXPECT_EQ(l.units(1).fine_mg(), 1.35_g);  // 30%
  ASSERT_EQ(l.departments_size(), 1);
  EXPECT_EQ(l.departments(0).department(), "17");
  EXPECT_EQ(l.departments(0).fine_mg(), 4.5_g);
}

TEST_F(LineageTest, BackwardSharesEqualTheOriginStoredWithTheLot) {
  // A second blend: G1's remaining 5 g with ore from UC (Cusco), then a split.
  Extract("LC", "UC", 1000_kg, 4.5_gpt);
  Sell("LC", miner_b_, plant_, "PC", 1000_kg);
  Process({{"G1", 0_kg, 5_g}, {"PC", 1000_kg}}, {{"G2", 8_g, 990_permille}});
  Sell("G2", plant_, trader_, "T2", 2_g, true);
  const veta::v1::Lineage l = Query(Backward("T2"));
  // T2: 2 g of G2's 8 g at 990 is 1.98 g fine: 35% UA, 15% UB, 50% UC, exactly.
  EXPECT_EQ(l.fine_mg(), 1.98_g);
  std::map<std::string, int64_t> units;
  for (const auto& u : l.units()) units[u.unit_code()] = u.fine_mg();
  EXPECT_EQ(units["UA"], 0.693_g);
  EXPECT_EQ(units["UB"], 0.297_g);
  EXPECT_EQ(units["UC"], 0.99_g);
  auto lot = Find("T2");
  ASSERT_TRUE(lot.has_value());
  for (const auto& s : OriginOf(*lot)) EXPECT_EQ(units[s.unit_code()], s.fine_mg());
  std::map<std::string, int64_t> departments;
  for (const auto& d : l.departments()) departments[d.department()] = d.fine_mg();
  EXPECT_EQ(departments["17"], 0.99_g);
  EXPECT_EQ(departments["08"], 0.99_g);
}

TEST_F(LineageTest, ForwardFromAUnitAMinerAndALot) {
  const veta::v1::Lineage u = Query(Forward(LineageQuery::Root::kUnit, "UB"));
  auto n = ById(u);
  ASSERT_EQ(u.nodes_size(), 5);  // LB, TB, PB, G1, E1
  EXPECT_EQ(u.nodes(0).lot_id(), "LB");
  EXPECT_EQ(n["E1"].exported_at(), export_);
  ASSERT_EQ(n["PB"].edges_size(), 1);
  EXPECT_EQ(n["PB"].edges(0).lot_id(), "G1");
  EXPECT_EQ(n["PB"].edges(0).sequence(), processing_);
  EXPECT_EQ(n["PB"].edges(0).ore_g(), 1000_kg);
  std::vector<std::string> holders(u.holders().begin(), u.holders().end());
  EXPECT_EQ(holders.size(), 4u);  // miner B, trader, plant, exporter
  const veta::v1::Lineage m = Query(Forward(LineageQuery::Root::kMiner, miner_a_));
  EXPECT_EQ(m.nodes(0).lot_id(), "LA");
  EXPECT_EQ(ById(m).count("E1"), 1u);
  EXPECT_EQ(ById(m).count("LB"), 0u);
  const veta::v1::Lineage g = Query(Forward(LineageQuery::Root::kLot, "G1"));
  ASSERT_EQ(g.nodes_size(), 2);
  EXPECT_EQ(g.nodes(1).lot_id(), "E1");
}

TEST_F(LineageTest, AsOfBeforeAndAfterACorrection) {
  Extract("LC", "UC", 1000_kg, 4.5_gpt);
  const uint64_t sale = Sell("LC", miner_b_, trader_, "TC", 400_kg).sequence;
  const uint64_t fix = ExpectAccepted(CorrectionEnvelope(sale, {registrar_})).sequence;
  LineageQuery q = Forward(LineageQuery::Root::kUnit, "UC");
  q.as_of = sale;  // before the sale
  EXPECT_EQ(Query(q).nodes_size(), 1);
  q.as_of = fix;  // after the sale, before its correction
  auto before = ById(Query(q));
  ASSERT_EQ(before.count("TC"), 1u);
  EXPECT_EQ(before["TC"].voided_at(), 0u);
  q.as_of = fix + 1;  // after: both are shown, the sale's lot voided by the correction
  auto after = ById(Query(q));
  ASSERT_EQ(after.count("TC"), 1u);
  EXPECT_EQ(after["TC"].voided_at(), fix);
  EXPECT_EQ(after["TC"].sequence(), sale);
  LineageQuery b = Backward("TC");
  EXPECT_EQ(Query(b).nodes(0).voided_at(), fix);
  b.as_of = fix;
  EXPECT_EQ(Query(b).nodes(0).voided_at(), 0u);
  b.as_of = sale;
  EXPECT_EQ(QueryLineage(ledger_->store(), b).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(LineageTest, LimitsTruncateWithAReasonAndPagesCoverEverything) {
  LineageQuery q = Backward("E1");
  q.depth_max = 2;
  veta::v1::Lineage l = Query(q);
  EXPECT_TRUE(l.truncated());
  EXPECT_NE(l.truncated_reason().find("depth limit"), std::string::npos) << l.truncated_reason();
  EXPECT_EQ(l.nodes_size(), 4);  // E1, G1, PA, PB
  q = Backward("E1");
  q.nodes_max = 3;
  l = Query(q);
  EXPECT_TRUE(l.truncated());
  EXPECT_NE(l.truncated_reason().find("size limit"), std::string::npos);
  EXPECT_EQ(l.nodes_size(), 3);
  q = Forward(LineageQuery::Root::kMiner, miner_b_);
  q.fanout_max = 1;
  l = Query(q);
  EXPECT_FALSE(l.truncated()) << "miner B holds one lot";
  // Paging: three pages of 3, 3 and 1 lots, in order, together the whole lineage.
  q = Backward("E1");
  q.page_nodes = 3;
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    l = Query(q);
    EXPECT_EQ(l.total_nodes(), 7u);
    for (const auto& n : l.nodes()) seen.push_back(n.lot_id());
    if (l.next_page_token().empty()) break;
    q.page_start = static_cast<uint32_t>(std::stoul(l.next_page_token()));
  }
  ASSERT_EQ(seen.size(), 7u);
  EXPECT_EQ(seen.front(), "E1");
  q.page_start = 7;
  q.as_of = ledger_->size();
  EXPECT_EQ(QueryLineage(ledger_->store(), q).status().code(), absl::StatusCode::kOutOfRange);
}

TEST_F(LineageTest, BadQueriesAreRefusedClearly) {
  LineageQuery q = Forward(LineageQuery::Root::kUnit, "UA");
  q.forward = false;
  q.as_of = ledger_->size();
  EXPECT_EQ(QueryLineage(ledger_->store(), q).status().code(), absl::StatusCode::kInvalidArgument);
  q = Backward("E1");
  q.as_of = ledger_->size();
  q.depth_max = kLineageDepthMax + 1;
  EXPECT_EQ(QueryLineage(ledger_->store(), q).status().code(), absl::StatusCode::kInvalidArgument);
  q = Backward("NOPE");
  q.as_of = ledger_->size();
  auto r = QueryLineage(ledger_->store(), q);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(r.status().message()).find("lot NOPE does not exist"), std::string::npos);
}

}  // namespace
}  // namespace veta
