// Integer units: what every quantity is counted in, how the decimals people type become those
// integers (exactly, never through a double), and how integers are shown (one function each).
//
//   ore mass                grams (int64)                     `ore_g`
//   gold (doré, bullion)    milligrams (int64)                `gold_mg`
//   fine gold               milligrams (int64)                `fine_mg`
//   ore grade               parts per billion by mass (ppb)   `grade_ppb`: 1 g/t = 1,000 ppb
//   fineness of gold        parts per billion by mass (ppb)   `fineness_ppb`: 999.9 per mille
//                                                             = 999,900,000 ppb
//   prices, cash            céntimos of a sol (int64)         `price_cents`
//   capacities, limits      grams of ore per day              `..._ore_g_per_day`, `..._g`
//   ratios in parameters    parts per million (ppm) or percent
//
// Fine gold of ore: ore_g * grade_ppb / 1e6 mg; of gold: gold_mg * fineness_ppb / 1e9 mg, both
// rounded down, computed with 128-bit intermediates (no overflow for any int64 inputs).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace veta {
namespace units {

inline constexpr int64_t kPpbPerGramPerTonne = 1000;  // 1 g/t
inline constexpr int64_t kPpbPerPerMille = 1000000;   // 1 part per thousand
inline constexpr int64_t kPpbWhole = 1000000000;      // pure gold
inline constexpr int64_t kPpmWhole = 1000000;         // a ratio of 1
inline constexpr int64_t kGramsPerTonne = 1000000;    // of ore
inline constexpr int64_t kMilligramsPerGram = 1000;

// Scale digits of the human units: kg (of ore, 3 digits: grams), g (of gold, 3 digits: mg),
// g/t (3 digits: ppb), per mille (6 digits: ppb), soles (2 digits: céntimos), tonnes a day (6
// digits: grams), percent (4 digits: ppm).
inline constexpr int kKgDigits = 3;
inline constexpr int kGramDigits = 3;
inline constexpr int kGradeDigits = 3;
inline constexpr int kPerMilleDigits = 6;
inline constexpr int kSolDigits = 2;
inline constexpr int kTonneDigits = 6;
inline constexpr int kPercentDigits = 4;

// A decimal as typed ("12.5", "0.001", "7") into an integer of 10^-scale units: ParseDecimal(
// "12.5", 3) is 12500. Digits with at most one '.' and at most `scale` digits after it; no
// sign, exponent, spaces or thousands separators. InvalidArgument naming `what` (e.g. "ore
// kg") for an empty text, a negative number, too many decimals, anything not a decimal, or a
// value past int64.
absl::StatusOr<int64_t> ParseDecimal(std::string_view text, int scale,
                                     std::string_view what = "quantity");

// The integer `value` of 10^-scale units as a decimal with exactly `scale` digits after the
// point: FormatDecimal(12500, 3) is "12.500", FormatDecimal(-5, 2) is "-0.05".
std::string FormatDecimal(int64_t value, int scale);

// How quantities are shown, everywhere (messages, CLI, certificates' readers):
std::string OreKg(int64_t ore_g);             // 1500000 -> "1500.000 kg"
std::string GoldGrams(int64_t mg);            // 3250 -> "3.250 g" (gold and fine gold)
std::string GradeGramsPerTonne(int64_t ppb);  // 8500 -> "8.500 g/t"
std::string FinenessPerMille(int64_t ppb);    // 999900000 -> "999.900000 per mille"
std::string Soles(int64_t cents);             // 3000000 -> "S/ 30000.00"
std::string TonnesPerDay(int64_t g_per_day);  // 25000000 -> "25.000000 t/day"
std::string PercentOfPpm(int64_t ppm);        // 950000 -> "95.0000%"
// numerator / denominator as a percent to 4 decimals, rounded half up ("37.5000%"); the
// rounding is for display only. "n/a" for a denominator of 0.
std::string SharePercent(int64_t numerator, int64_t denominator);

// floor(a * b / c) for a, b >= 0 and c > 0, with a 128-bit product; the result saturates at
// INT64_MAX (callers bound their inputs so that it never does).
int64_t MulDiv(int64_t a, int64_t b, int64_t c);
// Fine milligrams of `ore_g` at `grade_ppb`, and of `gold_mg` at `fineness_ppb`.
int64_t FineOfOre(int64_t ore_g, int64_t grade_ppb);
int64_t FineOfGold(int64_t gold_mg, int64_t fineness_ppb);

// The largest-remainder method: `total` (>= 0) divided in proportion to `weights` (each >= 0,
// sum > 0 unless total is 0): each part gets floor(total * w / sum), then the parts with the
// largest remainders get one more, ties to the lower index. The parts sum to `total` exactly,
// and when total <= sum, no part exceeds its weight.
std::vector<int64_t> Apportion(int64_t total, const std::vector<int64_t>& weights);

}  // namespace units
}  // namespace veta
