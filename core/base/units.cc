#include "core/base/units.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "core/base/strings.h"

namespace veta {
namespace units {
namespace {

__extension__ typedef __int128 int128;  // -Wpedantic: a GCC/Clang extension

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

int64_t Saturate(int128 v) {
  if (v > kInt64Max) return kInt64Max;
  if (v < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

}  // namespace

absl::StatusOr<int64_t> ParseDecimal(std::string_view text, int scale, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(StrCat(what, ": '", text.substr(0, 40), "' ", why));
  };
  if (scale < 0 || scale > 18) return bad("cannot be read (bad scale)");
  if (text.empty()) return bad("is empty: give a number such as 12.5");
  if (text[0] == '-') return bad("is negative: give 0 or more");
  const size_t point = text.find('.');
  const std::string_view whole = text.substr(0, point);
  const std::string_view frac =
      point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(whole) || !digits(frac) || (whole.empty() && frac.empty()) ||
      (point != std::string_view::npos && frac.empty())) {
    return bad("is not a decimal number (digits, at most one '.', no sign or exponent)");
  }
  if (frac.size() > static_cast<size_t>(scale)) {
    return bad(StrCat("has ", frac.size(), " decimals; at most ", scale, " are counted"));
  }
  int128 v = 0;
  const int128 limit = kInt64Max;
  for (char c : whole) {
    v = v * 10 + (c - '0');
    if (v > limit) return bad("is too large");
  }
  for (int i = 0; i < scale; ++i) {
    v = v * 10 + (static_cast<size_t>(i) < frac.size() ? frac[static_cast<size_t>(i)] - '0' : 0);
    if (v > limit) return bad("is too large");
  }
  return static_cast<int64_t>(v);
}

std::string FormatDecimal(int64_t value, int scale) {
  const bool negative = value < 0;
  // The magnitude as unsigned: INT64_MIN has no positive int64.
  uint64_t m = negative ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  std::string digits = std::to_string(m);
  // Built by appending (not std::string::insert, on which GCC 12 at -O3 warns -Wrestrict
  // wrongly): sign, integer part (at least "0"), point, `scale` fraction digits.
  const size_t frac = scale > 0 ? static_cast<size_t>(scale) : 0;
  if (digits.size() <= frac) digits = std::string(frac + 1 - digits.size(), '0') + digits;
  std::string out = negative ? "-" : "";
  out.append(digits, 0, digits.size() - frac);
  if (frac > 0) out.append(".").append(digits, digits.size() - frac, frac);
  return out;
}

std::string OreKg(int64_t ore_g) { return FormatDecimal(ore_g, kKgDigits) + " kg"; }
std::string GoldGrams(int64_t mg) { return FormatDecimal(mg, kGramDigits) + " g"; }
std::string GradeGramsPerTonne(int64_t ppb) { return FormatDecimal(ppb, kGradeDigits) + " g/t"; }
std::string FinenessPerMille(int64_t ppb) {
  return FormatDecimal(ppb, kPerMilleDigits) + " per mille";
}
std::string Soles(int64_t cents) { return "S/ " + FormatDecimal(cents, kSolDigits); }
std::string TonnesPerDay(int64_t g_per_day) {
  return FormatDecimal(g_per_day, kTonneDigits) + " t/day";
}
std::string PercentOfPpm(int64_t ppm) { return FormatDecimal(ppm, kPercentDigits) + "%"; }

std::string SharePercent(int64_t numerator, int64_t denominator) {
  if (denominator <= 0) return "n/a";
  // In units of 1e-4 percent (1e-6 of the whole), rounded half up.
  const int128 scaled =
      (static_cast<int128>(numerator) * 2000000 + denominator) / (2 * denominator);
  return FormatDecimal(Saturate(scaled), kPercentDigits) + "%";
}

int64_t MulDiv(int64_t a, int64_t b, int64_t c) {
  if (a <= 0 || b <= 0 || c <= 0) return 0;
  return Saturate(static_cast<int128>(a) * b / c);
}

int64_t FineOfOre(int64_t ore_g, int64_t grade_ppb) {
  // ore_g g * grade_ppb 1e-9 = ore_g * grade_ppb 1e-9 g = ore_g * grade_ppb / 1e6 mg.
  return MulDiv(ore_g, grade_ppb, 1000000);
}

int64_t FineOfGold(int64_t gold_mg, int64_t fineness_ppb) {
  return MulDiv(gold_mg, fineness_ppb, kPpbWhole);
}

std::vector<int64_t> Apportion(int64_t total, const std::vector<int64_t>& weights) {
  std::vector<int64_t> parts(weights.size(), 0);
  int128 sum = 0;
  for (int64_t w : weights) sum += std::max<int64_t>(w, 0);
  if (total <= 0 || sum == 0) return parts;
  std::vector<int128> remainder(weights.size(), 0);
  int128 given = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    const int128 exact = static_cast<int128>(total) * std::max<int64_t>(weights[i], 0);
    parts[i] = static_cast<int64_t>(exact / sum);
    remainder[i] = exact % sum;
    given += parts[i];
  }
  int128 left = total - given;  // < number of weights with a remainder
  if (left > 0) {
    std::vector<size_t> order(weights.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return remainder[a] > remainder[b]; });
    for (size_t i = 0; i < order.size() && left > 0; ++i, --left) ++parts[order[i]];
  }
  return parts;
}

}  // namespace units
}  // namespace veta
