// Rules v3, twin and misplaced units (issue 11, item 3): a unit's ground is registered once
// (UNIT_OVERLAPS unless shared with explicit shares, and then the ground's capacity holds
// across the units sharing it), a unit lies in the district its ubigeo names
// (UNIT_DISTRICT_MISMATCH), and belongs to an active miner (UNIT_HOLDER_INVALID). Under rules
// v2 the twins that got through still do (old ledgers replay unchanged).
#include <string>
#include <vector>

#include <future>
#include <memory>

#include "core/read/import.h"
#include "core/verify/keys.h"
#include "tests/core/registry_fixture.h"

namespace veta::testing {
namespace {

// Districts as boxes: Tambopata and Inambari side by side at -69.5, Lima far away.
std::string Rect(double lon0, double lat0, double lon1, double lat1) {
  return StrCat("{\"type\":\"Polygon\",\"coordinates\":[[[", lon0, ",", lat0, "],[", lon1, ",",
                lat0, "],[", lon1, ",", lat1, "],[", lon0, ",", lat1, "],[", lon0, ",", lat0,
                "]]]}");
}

class UnitOverlapTest : public RegistryFixture {
 protected:
  static constexpr double kLon = -69.90, kLat = -12.60;  // unit U1, in Tambopata

  void SetUp() override {
    RegistryFixture::SetUp();
    ExpectAccepted(Registry(Miner(miner_a_, key_a_)));
    ExpectAccepted(Registry(Miner(miner_b_, key_b_)));
  }

  static veta::v1::RegistryRecord District(const std::string& ubigeo, const std::string& name,
                                           const std::string& geojson) {
    auto r = ZoneRecord(ubigeo, veta::v1::ADMINISTRATIVE_DISTRICT, geojson);
    r.mutable_zone()->set_name(name);
    return r;
  }
  void RegisterDistricts() {
    ExpectAccepted(Registry(District("170101", "TAMBOPATA", Rect(-70.0, -13.0, -69.5, -12.0))));
    ExpectAccepted(Registry(District("170102", "INAMBARI", Rect(-69.5, -13.0, -69.0, -12.0))));
    ExpectAccepted(Registry(District("150101", "LIMA", Rect(-77.1, -12.1, -77.0, -12.0))));
  }
  void RulesV3() { ExpectAccepted(Registry(payloads::ParametersRecordV3())); }
  // Districts, rules v3, and U1 (miner A's, 0.02 degrees square: 480.51 ha).
  void SetUpV3() {
    RegisterDistricts();
    RulesV3();
    ExpectAccepted(Registry(Unit("U1", miner_a_, kLon, kLat)));
  }
  static veta::v1::RegistryRecord Shared(veta::v1::RegistryRecord r, const std::string& ground,
                                         int64_t share_ppm) {
    auto* s = r.mutable_unit()->add_shared();
    s->set_concession_code(ground);
    s->set_share_ppm(share_ppm);
    return r;
  }
  static veta::v1::RegistryRecord WithStatus(veta::v1::RegistryRecord r,
                                             veta::v1::RegistryStatus status) {
    r.mutable_unit()->mutable_status()->set_status(status);
    r.mutable_unit()->mutable_status()->set_reason("resolución de prueba");
    return r;
  }

  const std::string miner_a_ = Ruc("1040000011"), miner_b_ = Ruc("2060000012");
  PrivateKey key_a_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey key_b_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
};

TEST_F(UnitOverlapTest, UnderV2TwinsAreStillAccepted) {
  // What got through, and still does under the rules an old ledger was written with.
  ExpectAccepted(Registry(Unit("U1", miner_a_, kLon, kLat)));
  ExpectAccepted(Registry(Unit("U2", miner_b_, kLon, kLat)));
  ExpectAccepted(Registry(Unit("U3", miner_a_, kLon, kLat)));
  auto lima = Unit("U4", miner_a_, kLon + 0.1, kLat);
  lima.mutable_unit()->set_ubigeo("150101");
  ExpectAccepted(Registry(lima));
  ExpectAccepted(Registry(Unit("U5", Ruc("1040000099"), kLon + 0.2, kLat)));
  ExpectAccepted(Extraction("L2", miner_b_, "U2", kLon, kLat, 10_tpd, key_b_));
  ExpectAccepted(Extraction("L3", miner_a_, "U3", kLon, kLat, 10_tpd, key_a_));
  // Rules v3 come in: the twins stand (nothing is judged again), may be suspended where they
  // are, but not renewed in force on U1's ground.
  RegisterDistricts();
  RulesV3();
  ExpectAccepted(Registry(WithStatus(Unit("U2", miner_b_, kLon, kLat), veta::v1::SUSPENDIDO)));
  ExpectRefused(Registry(Unit("U3", miner_a_, kLon, kLat, 5_tpd)), veta::v1::UNIT_OVERLAPS,
                "unit U3's polygon overlaps unit U1");
  EXPECT_TRUE(Audit().status.ok());
}

TEST_F(UnitOverlapTest, TwinForAnotherMinerOrTheSameIsRefused) {
  SetUpV3();
  ExpectRefused(Registry(Unit("U2", miner_b_, kLon, kLat)), veta::v1::UNIT_OVERLAPS,
                StrCat("unit U2's polygon overlaps unit U1 (Concesion U1, holder ", miner_a_,
                       ", VIGENTE, entry "));
  ExpectRefused(Registry(Unit("U2", miner_b_, kLon, kLat)), veta::v1::UNIT_OVERLAPS,
                ") by 480.51 ha: a ground is registered once");
  // The same miner's second 10 t/day on the same ground.
  ExpectRefused(Registry(Unit("U1-BIS", miner_a_, kLon, kLat)), veta::v1::UNIT_OVERLAPS,
                "overlaps unit U1");
  // Shifted by half its side: half of it.
  ExpectRefused(Registry(Unit("U2", miner_b_, kLon + 0.01, kLat)), veta::v1::UNIT_OVERLAPS,
                "by 240.25 ha");
  // A MultiPolygon whose second part (40 m across, inside U1) hides on U1's ground.
  auto multi = Unit("U2", miner_b_, kLon + 0.1, kLat);
  multi.mutable_unit()->set_geometry_geojson(
      StrCat("{\"type\":\"MultiPolygon\",\"coordinates\":[[[[-69.81,-12.61],[-69.79,-12.61],"
             "[-69.79,-12.59],[-69.81,-12.59],[-69.81,-12.61]]],[[[-69.9002,-12.6002],[-69.8998,"
             "-12.6002],[-69.8998,-12.5998],[-69.9002,-12.5998],[-69.9002,-12.6002]]]]}"));
  ExpectRefused(Registry(multi), veta::v1::UNIT_OVERLAPS, "overlaps unit U1");
  // A MultiPolygon with a sliver at the other end of the world: no unit spans that.
  multi.mutable_unit()->set_geometry_geojson(
      "{\"type\":\"MultiPolygon\",\"coordinates\":[[[[-69.81,-12.61],[-69.79,-12.61],"
      "[-69.79,-12.59],[-69.81,-12.59],[-69.81,-12.61]]],[[[179,89],[179.0001,89],"
      "[179.0001,89.0001],[179,89.0001],[179,89]]]]}");
  ExpectRefused(Registry(multi), veta::v1::REGISTRY_RECORD_INVALID,
                "a unit spans at most 2 degrees each way");
  // A bowtie whose lobes wind opposite ways (its area there would count negative): refused
  // whole, wherever it lies.
  auto bowtie = Unit("U2", miner_b_, kLon, kLat);
  bowtie.mutable_unit()->set_geometry_geojson(
      "{\"type\":\"Polygon\",\"coordinates\":[[[-69.91,-12.61],[-69.7,-12.5],[-69.7,-12.61],"
      "[-69.91,-12.59],[-69.91,-12.61]]]}");
  ExpectRefused(Registry(bowtie), veta::v1::REGISTRY_RECORD_INVALID,
                "unit U2: its rings cross at (");
  // A unit inside U1, and one around it.
  ExpectRefused(Registry(payloads::Unit("U2", miner_b_, kLon, kLat, 10_tpd, 0.001)),
                veta::v1::UNIT_OVERLAPS, "by 4.81 ha");
  ExpectRefused(Registry(payloads::Unit("U2", miner_b_, kLon, kLat, 10_tpd, 0.05)),
                veta::v1::UNIT_OVERLAPS, "by 480.51 ha");
  // A neighbour sharing U1's east edge overlaps nothing; nor does a renewal of U1 itself.
  ExpectAccepted(Registry(Unit("U2", miner_b_, kLon + 0.02, kLat)));
  auto renewal = Unit("U1", miner_a_, kLon, kLat, 12_tpd);
  ExpectAccepted(Registry(renewal));
  // A new version cannot move a unit onto another's ground.
  ExpectRefused(Registry(Unit("U2", miner_b_, kLon + 0.01, kLat)), veta::v1::UNIT_OVERLAPS,
                "unit U2's polygon overlaps unit U1");
  EXPECT_TRUE(Audit().status.ok());
}

// Two twins submitted back to back (in one batch when the sequencer takes them together: the
// second sees the first staged): the first is registered, the second refused.
TEST_F(UnitOverlapTest, TwinsSubmittedTogether) {
  SetUpV3();
  auto first = std::make_shared<std::promise<SubmitResult>>();
  auto second = std::make_shared<std::promise<SubmitResult>>();
  ledger_->Submit(Registry(Unit("U2", miner_b_, kLon + 0.1, kLat)),
                  [first](SubmitResult r) { first->set_value(std::move(r)); });
  ledger_->Submit(Registry(Unit("U3", miner_a_, kLon + 0.1, kLat)),
                  [second](SubmitResult r) { second->set_value(std::move(r)); });
  EXPECT_TRUE(first->get_future().get().status.ok());
  const SubmitResult r = second->get_future().get();
  EXPECT_EQ(r.refusal, veta::v1::UNIT_OVERLAPS) << r.status;
  EXPECT_NE(r.status.message().find("unit U3's polygon overlaps unit U2"), std::string::npos)
      << r.status;
}

TEST_F(UnitOverlapTest, ASuspendedUnitHoldsItsGroundAnExcludedOneFreesIt) {
  SetUpV3();
  ExpectAccepted(Registry(WithStatus(Unit("U1", miner_a_, kLon, kLat), veta::v1::SUSPENDIDO)));
  ExpectRefused(Registry(Unit("U2", miner_b_, kLon, kLat)), veta::v1::UNIT_OVERLAPS,
                "overlaps unit U1 (Concesion U1, holder " + miner_a_ + ", SUSPENDIDO");
  // A twin registered suspended still takes ground: refused as well.
  ExpectRefused(Registry(WithStatus(Unit("U2", miner_b_, kLon, kLat), veta::v1::SUSPENDIDO)),
                veta::v1::UNIT_OVERLAPS, "overlaps unit U1");
  ExpectAccepted(Registry(WithStatus(Unit("U1", miner_a_, kLon, kLat), veta::v1::EXCLUIDO)));
  ExpectAccepted(Registry(Unit("U2", miner_b_, kLon, kLat)));
  ExpectAccepted(Extraction("L2", miner_b_, "U2", kLon, kLat, 1000_kg, key_b_));
  // U1 cannot come back on U2's ground.
  ExpectRefused(Registry(Unit("U1", miner_a_, kLon, kLat)), veta::v1::UNIT_OVERLAPS,
                "unit U1's polygon overlaps unit U2");
}

TEST_F(UnitOverlapTest, ASharedConcessionHasExplicitSharesAndOneCapacity) {
  SetUpV3();
  // U1 (10 t/day) shared with miner B's U2 (10 t/day on paper), half of it each.
  ExpectAccepted(Registry(Shared(Unit("U2", miner_b_, kLon, kLat), "U1", 500000)));
  // A third identity cannot claim the ground beyond the whole.
  ExpectRefused(
      Registry(Shared(Shared(Unit("U3", miner_a_, kLon, kLat), "U1", 600000), "U2", 100000)),
      veta::v1::UNIT_OVERLAPS,
      "the shares of unit U1's ground would sum to 110.0000% (unit U3 60.0000%, unit "
      "U2 50.0000%): more than the whole");
  // Named shares are checked: the ground exists, a share in (0, 1,000,000] ppm.
  ExpectRefused(Registry(Shared(Unit("U3", miner_a_, kLon, kLat), "NOPE", 100000)),
                veta::v1::REGISTRY_RECORD_INVALID, "not a registered unit in force");
  ExpectRefused(Registry(Shared(Unit("U3", miner_a_, kLon, kLat), "U1", 0)),
                veta::v1::REGISTRY_RECORD_INVALID, "a share in (0, 1,000,000]");
  // Naming U1 only, U3 still overlaps U2's registration.
  ExpectRefused(Registry(Shared(Unit("U3", miner_a_, kLon, kLat), "U1", 100000)),
                veta::v1::UNIT_OVERLAPS, "overlaps unit U2");

  // The ground's 10 t a day holds across both units; U2 works at most its half.
  ExpectRefused(Extraction("L2a", miner_b_, "U2", kLon, kLat, 6000_kg, key_b_),
                veta::v1::UNIT_CAPACITY_EXCEEDED, "unit U2's share (50.0000%) of unit U1's ground");
  const SubmitResult five =
      ExpectAccepted(Extraction("L2b", miner_b_, "U2", kLon, kLat, 5000_kg, key_b_));
  ExpectRefused(Extraction("L1a", miner_a_, "U1", kLon, kLat, 6000_kg, key_a_),
                veta::v1::UNIT_CAPACITY_EXCEEDED, "unit U1 would reach 11000.000 kg");
  ExpectAccepted(Extraction("L1b", miner_a_, "U1", kLon, kLat, 5000_kg, key_a_));
  ExpectRefused(Extraction("L2c", miner_b_, "U2", kLon, kLat, 1_kg, key_b_),
                veta::v1::UNIT_CAPACITY_EXCEEDED, "the ground of unit U1 (shared with unit U2)");
  // Voiding U2's declaration gives its 5 t back to the ground (and to U2's share).
  ExpectAccepted(
      Sign(kCorrectionType, payloads::CorrectionOf(five.sequence, "error", ++nonce_), {key_b_}));
  ExpectAccepted(Extraction("L1c", miner_a_, "U1", kLon, kLat, 3000_kg, key_a_));
  ExpectAccepted(Extraction("L2d", miner_b_, "U2", kLon, kLat, 2000_kg, key_b_));
  ExpectRefused(Extraction("L2e", miner_b_, "U2", kLon, kLat, 1_kg, key_b_),
                veta::v1::UNIT_CAPACITY_EXCEEDED, "the ground of unit U1");
  // U1's renewal need not name U2: U2 names it.
  ExpectAccepted(Registry(Unit("U1", miner_a_, kLon, kLat)));
  // The audit replays the shared counters and their correction identically.
  EXPECT_TRUE(Audit().status.ok());
}

TEST_F(UnitOverlapTest, TheUbigeoNamesTheDistrictHoldingThePolygon) {
  // Under v3 with no district registered: refused, saying how to register them.
  RulesV3();
  ExpectRefused(Registry(Unit("U1", miner_a_, kLon, kLat)), veta::v1::UNIT_DISTRICT_MISMATCH,
                "no district is registered: under rules v3 a unit lies in the registered "
                "district its ubigeo names. Register Peru's districts first: veta import zones "
                "--key REGISTRAR.pem --kind ADMINISTRATIVE_DISTRICT --id-property IDDIST "
                "--name-property NOMBDIST data/peru_districts.geojson");
  RegisterDistricts();
  // A Lima ubigeo on a Madre de Dios polygon.
  auto lima = Unit("U1", miner_a_, kLon, kLat);
  lima.mutable_unit()->set_ubigeo("150101");
  ExpectRefused(Registry(lima), veta::v1::UNIT_DISTRICT_MISMATCH,
                "unit U1 names ubigeo 150101 (LIMA), which holds 0.00 ha of its 480.51 ha; most "
                "of it lies in district 170101 (TAMBOPATA, 480.51 ha): that is its ubigeo");
  // A district nobody registered.
  auto nowhere = Unit("U1", miner_a_, kLon, kLat);
  nowhere.mutable_unit()->set_ubigeo("170103");
  ExpectRefused(Registry(nowhere), veta::v1::UNIT_DISTRICT_MISMATCH,
                "names ubigeo 170103, which is not a registered district in force");
  // A unit straddling the border belongs to the district with most of it: 120.13 ha in
  // Tambopata, 360.38 ha in Inambari.
  ExpectRefused(Registry(Unit("U1", miner_a_, -69.495, kLat)), veta::v1::UNIT_DISTRICT_MISMATCH,
                "(TAMBOPATA), which holds 120.13 ha of its 480.51 ha; most of it lies in district "
                "170102 (INAMBARI, 360.38 ha)");
  auto inambari = Unit("U1", miner_a_, -69.495, kLat);
  inambari.mutable_unit()->set_ubigeo("170102");
  ExpectAccepted(Registry(inambari));
  // Outside every district.
  ExpectRefused(Registry(Unit("U2", miner_a_, -60.0, kLat)), veta::v1::UNIT_DISTRICT_MISMATCH,
                "registered districts hold 0.00 ha of it: a unit lies in Peru's districts");
  // Over three districts, the named one holding the most of it but not half: in none.
  ExpectAccepted(Registry(District("170104", "LABERINTO", Rect(-69.0, -13.0, -68.5, -12.0))));
  auto wide = Unit("U2", miner_a_, kLon, kLat);
  wide.mutable_unit()->set_ubigeo("170102");
  wide.mutable_unit()->set_geometry_geojson(Rect(-69.85, -12.7, -68.75, -12.69));
  ExpectRefused(Registry(wide), veta::v1::UNIT_DISTRICT_MISMATCH, "no district holds most of it (");
  ExpectRefused(Registry(wide), veta::v1::UNIT_DISTRICT_MISMATCH,
                " in 170102): a unit lies in one district");
  // A withdrawn district holds nothing.
  auto withdrawn = District("170101", "TAMBOPATA", Rect(-70.0, -13.0, -69.5, -12.0));
  withdrawn.mutable_zone()->set_in_force(false);
  ExpectAccepted(Registry(withdrawn));
  ExpectRefused(Registry(Unit("U2", miner_a_, kLon, kLat)), veta::v1::UNIT_DISTRICT_MISMATCH,
                "names ubigeo 170101, which is not a registered district in force");
}

TEST_F(UnitOverlapTest, TheHolderIsARegisteredActiveMiner) {
  SetUpV3();
  ExpectRefused(
      Registry(Unit("U2", Ruc("1040000099"), kLon + 0.1, kLat)), veta::v1::UNIT_HOLDER_INVALID,
      StrCat("unit U2: its holder ", Ruc("1040000099"), " is not a registered miner (REINFO)"));
  const std::string suspended = Ruc("1040000077");
  PrivateKey key = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  ExpectAccepted(Registry(Miner(suspended, key, veta::v1::SUSPENDIDO)));
  ExpectRefused(Registry(Unit("U2", suspended, kLon + 0.1, kLat)), veta::v1::UNIT_HOLDER_INVALID,
                StrCat("unit U2's holder: miner ", suspended, " is SUSPENDIDO since"));
  // U1's holder suspended: U1 cannot be renewed in force, but can be suspended.
  ExpectAccepted(Registry(Miner(miner_a_, key_a_, veta::v1::SUSPENDIDO)));
  ExpectRefused(Registry(Unit("U1", miner_a_, kLon, kLat, 12_tpd)), veta::v1::UNIT_HOLDER_INVALID,
                "is SUSPENDIDO");
  ExpectAccepted(Registry(WithStatus(Unit("U1", miner_a_, kLon, kLat), veta::v1::SUSPENDIDO)));
  EXPECT_TRUE(Audit().status.ok());
}

// Peru's districts as shipped (core/read/import.h, as `veta import zones --kind
// ADMINISTRATIVE_DISTRICT --id-property IDDIST --name-property NOMBDIST` plans them), then v3:
// a unit near Puerto Maldonado is Tambopata's (170101), not Lima's.
TEST_F(UnitOverlapTest, TheRealDistricts) {
  auto text = ReadFile(StrCat(VETA_SHARED_DATA, "/peru_districts.geojson"), 8 << 20);
  ASSERT_TRUE(text.ok()) << text.status();
  ZoneImportOptions options;
  options.kind = veta::v1::ADMINISTRATIVE_DISTRICT;
  options.id_property = "IDDIST";
  options.name_property = "NOMBDIST";
  ImportPlan plan = PlanZoneImport(*text, options);
  ASSERT_TRUE(plan.errors.empty());
  // About 1.6 s here (RelWithDebInfo): each registration rebuilds the zone index. Speed is
  // measured by tools, not asserted by tests.
  for (const auto& r : plan.records) ExpectAccepted(Registry(r));
  RulesV3();
  auto lima = Unit("PM-1", miner_a_, -69.20, -12.60);
  lima.mutable_unit()->set_ubigeo("150101");
  ExpectRefused(Registry(lima), veta::v1::UNIT_DISTRICT_MISMATCH,
                "unit PM-1 names ubigeo 150101 (LIMA), which holds 0.00 ha of its 480.51 ha; "
                "most of it lies in district 170101 (TAMBOPATA, 480.51 ha)");
  ExpectAccepted(Registry(Unit("PM-1", miner_a_, -69.20, -12.60)));
  EXPECT_TRUE(Audit().status.ok());
}

}  // namespace
}  // namespace veta::testing
