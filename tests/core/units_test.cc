// Integer units: the decimal parser and the formatters (core/base/units.h), the largest-remainder
// method, the lots' exact arithmetic (core/verify/lots.h), and the counter codecs
// (core/storage/schema.h).
#include "core/base/units.h"

#include <limits>

#include "core/storage/schema.h"
#include "core/storage/store.h"
#include "core/verify/lots.h"
#include "gtest/gtest.h"
#include "tests/core/test_units.h"

namespace veta {
namespace {

using units::FormatDecimal;
using units::ParseDecimal;

void ExpectParseError(std::string_view text, int scale, std::string_view words) {
  auto v = ParseDecimal(text, scale, "ore kg");
  ASSERT_FALSE(v.ok()) << text << " read as " << *v;
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(v.status().message());
  EXPECT_EQ(message.rfind("ore kg: ", 0), 0u) << message;
  EXPECT_NE(message.find(words), std::string::npos) << message;
}

TEST(UnitsTest, ParseDecimalReadsExactly) {
  EXPECT_EQ(*ParseDecimal("12.5", 3), 12500);
  EXPECT_EQ(*ParseDecimal("0.001", 3), 1);
  EXPECT_EQ(*ParseDecimal("7", 3), 7000);
  EXPECT_EQ(*ParseDecimal("0", 3), 0);
  EXPECT_EQ(*ParseDecimal("007.50", 2), 750);
  EXPECT_EQ(*ParseDecimal(".5", 3), 500);
  EXPECT_EQ(*ParseDecimal("999.9", 6), 999900000);  // per mille -> ppb
  EXPECT_EQ(*ParseDecimal("1500", 0), 1500);
  // 0.1 + 0.2 is not 0.3 in binary floating point; here it is.
  EXPECT_EQ(*ParseDecimal("0.1", 3) + *ParseDecimal("0.2", 3), *ParseDecimal("0.3", 3));
  // The largest int64, and one past it.
  EXPECT_EQ(*ParseDecimal("9223372036854775807", 0), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(*ParseDecimal("9223372036854775.807", 3), std::numeric_limits<int64_t>::max());
  ExpectParseError("9223372036854775808", 0, "too large");
  ExpectParseError("9223372036854775.808", 3, "too large");
  ExpectParseError("99999999999999999999999999", 3, "too large");
}

TEST(UnitsTest, ParseDecimalRefusesWhatIsNotADecimalOfTheUnit) {
  ExpectParseError("", 3, "empty");
  ExpectParseError("-1", 3, "negative");
  ExpectParseError("-0.001", 3, "negative");
  ExpectParseError("0.0001", 3, "has 4 decimals; at most 3 are counted");
  ExpectParseError("1.5", 0, "has 1 decimals; at most 0");
  ExpectParseError("1e3", 3, "not a decimal number");
  ExpectParseError("1E3", 3, "not a decimal number");
  ExpectParseError("+1", 3, "not a decimal number");
  ExpectParseError(" 1", 3, "not a decimal number");
  ExpectParseError("1 ", 3, "not a decimal number");
  ExpectParseError("1,5", 3, "not a decimal number");
  ExpectParseError("1.2.3", 3, "not a decimal number");
  ExpectParseError(".", 3, "not a decimal number");
  ExpectParseError("1.", 3, "not a decimal number");
  ExpectParseError("nan", 3, "not a decimal number");
  ExpectParseError("inf", 3, "not a decimal number");
  ExpectParseError("0x10", 3, "not a decimal number");
}

TEST(UnitsTest, FormatDecimalAndTheHumanUnits) {
  EXPECT_EQ(FormatDecimal(12500, 3), "12.500");
  EXPECT_EQ(FormatDecimal(1, 3), "0.001");
  EXPECT_EQ(FormatDecimal(0, 3), "0.000");
  EXPECT_EQ(FormatDecimal(-5, 2), "-0.05");
  EXPECT_EQ(FormatDecimal(42, 0), "42");
  EXPECT_EQ(FormatDecimal(std::numeric_limits<int64_t>::min(), 3), "-9223372036854775.808");
  EXPECT_EQ(units::GoldGrams(3250), "3.250 g");
  EXPECT_EQ(units::OreKg(1500000), "1500.000 kg");
  EXPECT_EQ(units::GradeGramsPerTonne(8500), "8.500 g/t");
  EXPECT_EQ(units::FinenessPerMille(999900000), "999.900000 per mille");
  EXPECT_EQ(units::Soles(3000000), "S/ 30000.00");
  EXPECT_EQ(units::TonnesPerDay(25000000), "25.000000 t/day");
  EXPECT_EQ(units::PercentOfPpm(950000), "95.0000%");
  EXPECT_EQ(units::SharePercent(1, 3), "33.3333%");
  EXPECT_EQ(units::SharePercent(2, 3), "66.6667%");  // rounded for display only
  EXPECT_EQ(units::SharePercent(7, 7), "100.0000%");
  EXPECT_EQ(units::SharePercent(1, 0), "n/a");
  // Whatever a decimal reads as, it prints back.
  for (const char* text : {"0.001", "12.500", "1500.000", "9223372036854775.807"}) {
    EXPECT_EQ(FormatDecimal(*ParseDecimal(text, 3), 3), text);
  }
  // The test literals are the same parser at compile time.
  static_assert(1000.5_kg == 1000500 && 8_gpt == 8000 && 7.2_g == 7200);
  static_assert(900_permille == 900000000 && 21000_soles == 2100000 && 10_tpd == 10000000);
}

TEST(UnitsTest, FineGoldNeverOverflows) {
  EXPECT_EQ(units::FineOfOre(1000_kg, 8_gpt), 8_g);   // 1 t at 8 g/t
  EXPECT_EQ(units::FineOfOre(1_kg, 0.5_gpt), 0.0_g);  // 0.5 mg: rounded down
  EXPECT_EQ(units::FineOfGold(10_g, 900_permille), 9_g);
  EXPECT_EQ(units::FineOfGold(1, 999999999), 0);
  const int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(units::FineOfGold(max, units::kPpbWhole), max);
  EXPECT_EQ(units::FineOfGold(max, units::kPpbWhole / 2), max / 2);
  EXPECT_EQ(units::MulDiv(max, max, max), max);
  EXPECT_EQ(units::MulDiv(max, 3, 2), max) << "saturates";
}

TEST(UnitsTest, LargestRemainderSumsToTheWholeAndBreaksTiesByOrder) {
  EXPECT_EQ(units::Apportion(10, {1, 1, 1}), (std::vector<int64_t>{4, 3, 3}));
  EXPECT_EQ(units::Apportion(2, {1, 1, 1}), (std::vector<int64_t>{1, 1, 0}));
  EXPECT_EQ(units::Apportion(100, {7, 3}), (std::vector<int64_t>{70, 30}));
  EXPECT_EQ(units::Apportion(1, {1, 2}), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(units::Apportion(0, {5, 5}), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(units::Apportion(5, {0, 0}), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(units::Apportion(7, {0, 3, 0}), (std::vector<int64_t>{0, 7, 0}));
  const int64_t max = std::numeric_limits<int64_t>::max();
  auto big = units::Apportion(max, {max, max, 1});
  EXPECT_EQ(big[0] + big[1] + big[2], max);  // non-negative parts of max: no overflow
  for (int64_t total = 0; total < 50; ++total) {
    const std::vector<int64_t> w = {13, 0, 29, 7, 1};
    const auto parts = units::Apportion(total, w);
    int64_t sum = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      sum += parts[i];
      EXPECT_LE(parts[i], w[i] + 1);
    }
    EXPECT_EQ(sum, total);
  }
}

veta::v1::OriginShare Share(const std::string& unit, int64_t mg) {
  veta::v1::OriginShare s;
  s.set_unit_code(unit);
  s.set_fine_mg(mg);
  return s;
}

TEST(UnitsTest, SplittingALotConservesEveryMilligramOfEveryUnit) {
  // A gold lot of 10 g holding 9 g fine from three units, 1:1:1 (3 g each).
  veta::v1::Lot lot;
  lot.set_lot_id("G");
  lot.set_kind(veta::v1::GOLD);
  lot.set_original_gold_mg(10_g);
  lot.set_remaining_gold_mg(10_g);
  SetFine(&lot, 9_g, {Share("UA", 3_g), Share("UB", 3_g), Share("UC", 3_g)});
  EXPECT_EQ(lot.unit_code(), "UA") << "the main unit, ties to the lower code";
  // Three parts of 1 mg: 0.9 mg fine each, rounded down; the remainders go by unit code.
  std::vector<Taken> taken;
  for (int i = 0; i < 3; ++i) taken.push_back(TakeFrom(&lot, 1));
  EXPECT_EQ(taken[0].fine_mg, 0);  // floor(9000 * 1 / 10000)
  EXPECT_EQ(taken[1].fine_mg, 0);
  // The last part takes all that remains, fine gold included.
  Taken rest = TakeFrom(&lot, Remaining(lot));
  EXPECT_EQ(rest.fine_mg, 9_g);
  EXPECT_EQ(lot.remaining_fine_mg(), 0);
  int64_t ua = 0;
  for (const auto& s : rest.origin) ua += s.unit_code() == "UA" ? s.fine_mg() : 0;
  EXPECT_EQ(ua, 3_g);
  // Giving back restores exactly.
  GiveBack(&lot, rest);
  for (auto it = taken.rbegin(); it != taken.rend(); ++it) GiveBack(&lot, *it);
  EXPECT_EQ(lot.remaining_gold_mg(), 10_g);
  EXPECT_EQ(lot.remaining_fine_mg(), 9_g);
  for (const auto& s : lot.remaining_origin()) EXPECT_EQ(s.fine_mg(), 3_g) << s.unit_code();
  // Uneven parts: 3 mg fine over 1:1:1 gives 1 each; 2 mg gives UA and UB one each.
  veta::v1::Lot part = SplitOff(&lot, 10_g / 3);  // 3333 mg: 2999 mg fine (floor of 2999.7)
  EXPECT_EQ(part.original_fine_mg(), 2999);
  int64_t sum = 0;
  for (const auto& s : part.origin()) sum += s.fine_mg();
  EXPECT_EQ(sum, 2999);
  EXPECT_EQ(part.origin(0).fine_mg(), 1000);  // UA: 999.67 -> 1000 (largest remainder, first)
  EXPECT_EQ(part.origin(1).fine_mg(), 1000);  // UB
  EXPECT_EQ(part.origin(2).fine_mg(), 999);   // UC
  int64_t left = 0;
  for (const auto& s : lot.remaining_origin()) left += s.fine_mg();
  EXPECT_EQ(left, lot.remaining_fine_mg());
  EXPECT_EQ(left + sum, 9_g);
}

TEST(UnitsTest, ABlendDividesThePoolAmongItsOutputsExactly) {
  veta::v1::Lot a, b;
  a.set_lot_id("A");
  a.set_kind(veta::v1::ORE);
  a.set_original_ore_g(1000_kg);
  a.set_remaining_ore_g(1000_kg);
  a.set_unit_code("UA");
  a.set_department("17");
  a.set_original_fine_mg(7_g);
  a.set_remaining_fine_mg(7_g);
  b = a;
  b.set_lot_id("B");
  b.set_unit_code("UB");
  b.set_original_fine_mg(3.001_g);
  b.set_remaining_fine_mg(3.001_g);
  std::vector<veta::v1::LotInput> inputs;
  // Outputs holding all of the 10.001 g the inputs bring (pure gold): every mg accounted for.
  auto out = Blend({&a, &b}, {1000_kg, 1000_kg},
                   {{"G1", 3.333_g, units::kPpbWhole}, {"G2", 6.668_g, units::kPpbWhole}}, &inputs);
  ASSERT_EQ(out.size(), 2u);
  int64_t ua = 0, ub = 0;
  for (const auto& lot : out) {
    int64_t sum = 0;
    for (const auto& s : lot.origin()) {
      sum += s.fine_mg();
      (s.unit_code() == "UA" ? ua : ub) += s.fine_mg();
    }
    EXPECT_EQ(sum, lot.original_fine_mg()) << lot.lot_id();
  }
  EXPECT_EQ(ua, 7_g);
  EXPECT_EQ(ub, 3.001_g);
  EXPECT_EQ(a.remaining_fine_mg(), 0);
  // What each input took is kept on the first output only, and gives back exactly.
  EXPECT_EQ(out[0].inputs(0).took_size(), 1);
  EXPECT_EQ(out[1].inputs(0).took_size(), 0);
  GiveBack(&a, TakenBy(out[0].inputs(0)));
  EXPECT_EQ(a.remaining_fine_mg(), 7_g);
  EXPECT_EQ(a.remaining_ore_g(), 1000_kg);
}

TEST(UnitsTest, CountersHaveAFixedByteOrderAndAWrongSizeIsDataLoss) {
  EXPECT_EQ(EncodeI64(1), std::string("\0\0\0\0\0\0\0\1", 8));
  EXPECT_EQ(EncodeI64(-1), std::string(8, '\xff'));
  EXPECT_EQ(EncodeI64(0x0102030405060708), "\x01\x02\x03\x04\x05\x06\x07\x08");
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1500000}, std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(*DecodeI64(EncodeI64(v)), v);
  }
  for (std::string_view bad :
       {std::string_view(""), std::string_view("1234567"), std::string_view("123456789")}) {
    auto v = DecodeI64(bad, "a stored daily counter");
    EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss) << bad.size();
    EXPECT_NE(std::string(v.status().message()).find("a stored daily counter is"),
              std::string::npos);
  }
  int64_t sales = 0, quantity = 0;
  ASSERT_TRUE(DecodeSellerStats(EncodeSellerStats(3, 300_kg), &sales, &quantity).ok());
  EXPECT_EQ(sales, 3);
  EXPECT_EQ(quantity, 300_kg);
  EXPECT_EQ(DecodeSellerStats(std::string(12, '\0'), &sales, &quantity).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeSellerStats(EncodeI64(3), &sales, &quantity).code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace veta
