// Issue 11, item 7: grades on paper. Under rules v3 a unit may have its own grade bounds
// (Parameters.grade_ppb_by_unit, over its department's and the default), and an extraction
// whose grade jumps far above its unit's own history raises GRADE_JUMP.
#include "tests/core/dating_fixture.h"

namespace veta::testing {
namespace {

using GradeTest = DatingFixture;

veta::v1::RegistryRecord WithUnitBounds(veta::v1::RegistryRecord p, const std::string& unit,
                                        int64_t min_ppb, int64_t max_ppb) {
  veta::v1::Bounds b;
  b.set_min(min_ppb);
  b.set_max(max_ppb);
  (*p.mutable_parameters()->mutable_grade_ppb_by_unit())[unit] = b;
  return p;
}

// Any grade up to 60 g/t went through for any unit: ~1.5 kg of fine gold a day on an
// artisanal unit's paper. A unit's own bounds now refuse it, whatever its department allows.
TEST_F(GradeTest, UnitBoundsComeBeforeTheDepartments) {
  auto p = WithUnitBounds(payloads::ParametersRecordV3(), "UA", 1_gpt, 10_gpt);
  veta::v1::Bounds madre_de_dios;
  madre_de_dios.set_min(500);
  madre_de_dios.set_max(40_gpt);
  (*p.mutable_parameters()->mutable_grade_ppb_by_department())["17"] = madre_de_dios;
  ExpectAccepted(Registry(p));
  ExpectRefused(ExtractAt("G1", miner_a_, "UA", 1000_kg, RealNow(), {}, 25_gpt),
                veta::v1::GRADE_OUT_OF_BOUNDS,
                "declared grade 25.000 g/t is outside 1.000 g/t to 10.000 g/t for unit UA (its "
                "own bounds)");
  ExpectRefused(ExtractAt("G2", miner_a_, "UA", 1000_kg, RealNow(), {}, 500),
                veta::v1::GRADE_OUT_OF_BOUNDS, "for unit UA");
  ExpectAccepted(ExtractAt("G3", miner_a_, "UA", 1000_kg, RealNow(), {}, 10_gpt));
  // Unit UB, in the same department, keeps the department's bounds.
  ExpectAccepted(ExtractAt("G4", miner_b_, "UB", 1000_kg, RealNow(), {}, 25_gpt));
  ExpectRefused(ExtractAt("G5", miner_b_, "UB", 1000_kg, RealNow(), {}, 45_gpt),
                veta::v1::GRADE_OUT_OF_BOUNDS, "for department 17");
}

// Under rules v2 a unit's bounds do not apply (they are a v3 parameter).
TEST_F(GradeTest, UnitBoundsAreRulesV3Only) {
  ExpectAccepted(Registry(WithUnitBounds(payloads::ParametersRecord(), "UA", 1_gpt, 10_gpt)));
  SubmitResult r1 = ExpectAccepted(ExtractAt("H1", miner_a_, "UA", 1000_kg, RealNow(), {}, 8_gpt));
  ExpectAccepted(ExtractAt("H2", miner_a_, "UA", 1000_kg, RealNow(), {}, 8_gpt));
  ExpectAccepted(ExtractAt("H3", miner_a_, "UA", 1000_kg, RealNow(), {}, 8_gpt));
  SubmitResult jump =
      ExpectAccepted(ExtractAt("H4", miner_a_, "UA", 1000_kg, RealNow(), {}, 25_gpt));
  EXPECT_TRUE(jump.flags.empty());
  EXPECT_TRUE(r1.flags.empty());
}

// GRADE_JUMP: above 300% of the unit's own average, after 3 extractions.
TEST_F(GradeTest, GradeJumpAfterHistory) {
  V3();
  for (int i = 0; i < 2; ++i) {
    ExpectAccepted(ExtractAt(StrCat("J", i), miner_a_, "UA", 1000_kg, RealNow(), {}, 8_gpt));
  }
  // Two extractions are not yet a history.
  SubmitResult early =
      ExpectAccepted(ExtractAt("J2", miner_a_, "UA", 100_kg, RealNow(), {}, 50_gpt));
  EXPECT_FALSE(HasFlag(early, veta::v1::GRADE_JUMP));
  // Average now (8 + 8 + 5) g / 2.1 t = 10 g/t: 30 g/t is not above three times that.
  SubmitResult near =
      ExpectAccepted(ExtractAt("J3", miner_a_, "UA", 1000_kg, RealNow(), {}, 30_gpt));
  EXPECT_FALSE(HasFlag(near, veta::v1::GRADE_JUMP));
  // Average (21 + 30) g / 3.1 t = 16.452 g/t: 50 g/t is above 49.355 g/t.
  SubmitResult jump =
      ExpectAccepted(ExtractAt("J4", miner_a_, "UA", 100_kg, RealNow(), {}, 50_gpt));
  ASSERT_TRUE(HasFlag(jump, veta::v1::GRADE_JUMP));
  EXPECT_EQ(FlagMessage(jump, veta::v1::GRADE_JUMP),
            "declared grade 50.000 g/t is over 3.00x unit UA's own average of 16.451 g/t over 4 "
            "extractions (fine gold declared over ore)");
  for (const auto& f : jump.flags) {
    if (f.flag() == veta::v1::GRADE_JUMP) {
      EXPECT_EQ(f.unit_code(), "UA");
    }
  }
  // Another unit's history is its own.
  for (int i = 0; i < 3; ++i) {
    ExpectAccepted(ExtractAt(StrCat("K", i), miner_b_, "UB", 1000_kg, RealNow(), {}, 40_gpt));
  }
  SubmitResult rich =
      ExpectAccepted(ExtractAt("K3", miner_b_, "UB", 1000_kg, RealNow(), {}, 50_gpt));
  EXPECT_FALSE(HasFlag(rich, veta::v1::GRADE_JUMP));
}

// The average is weighed by ore: a small rich extraction does not lift the history a large
// rich one is compared with (a plain mean of grades would be 20 g/t here, and 20 g/t pass).
TEST_F(GradeTest, GradeHistoryIsWeighedByOre) {
  V3();
  ExpectAccepted(ExtractAt("W0", miner_a_, "UA", 10_kg, RealNow(), {}, 50_gpt));
  ExpectAccepted(ExtractAt("W1", miner_a_, "UA", 2000_kg, RealNow(), {}, 5_gpt));
  ExpectAccepted(ExtractAt("W2", miner_a_, "UA", 2000_kg, RealNow(), {}, 5_gpt));
  SubmitResult jump =
      ExpectAccepted(ExtractAt("W3", miner_a_, "UA", 1000_kg, RealNow(), {}, 20_gpt));
  EXPECT_TRUE(HasFlag(jump, veta::v1::GRADE_JUMP));
}

// Void and re-declare: a correction takes its extraction out of the unit's history, so the
// history is what stands (and a voided rich declaration does not raise the average either).
TEST_F(GradeTest, CorrectionsUndoTheGradeHistory) {
  V3();
  std::vector<uint64_t> seqs;
  for (int i = 0; i < 3; ++i) {
    seqs.push_back(
        ExpectAccepted(ExtractAt(StrCat("C", i), miner_a_, "UA", 1000_kg, RealNow(), {}, 8_gpt))
            .sequence);
  }
  ExpectAccepted(CorrectionEnvelope(seqs[2], {key_a_}));
  // Two left: no history yet, no flag.
  SubmitResult r = ExpectAccepted(ExtractAt("C3", miner_a_, "UA", 1000_kg, RealNow(), {}, 30_gpt));
  EXPECT_FALSE(HasFlag(r, veta::v1::GRADE_JUMP));
  // Void the rich one and re-declare it: compared with the 8 g/t history, it is flagged.
  ExpectAccepted(CorrectionEnvelope(r.sequence, {key_a_}));
  ExpectAccepted(ExtractAt("C4", miner_a_, "UA", 1000_kg, RealNow(), {}, 8_gpt));
  SubmitResult again =
      ExpectAccepted(ExtractAt("C5", miner_a_, "UA", 1000_kg, RealNow(), {}, 30_gpt));
  EXPECT_TRUE(HasFlag(again, veta::v1::GRADE_JUMP));
  EXPECT_NE(FlagMessage(again, veta::v1::GRADE_JUMP).find("own average of 8.000 g/t over 3"),
            std::string::npos);
  AuditReport report = Audit();
  EXPECT_TRUE(report.status.ok()) << report.status;
}

}  // namespace
}  // namespace veta::testing
