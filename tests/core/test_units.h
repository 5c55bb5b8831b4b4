// Test literals in human units, read exactly at compile time into the ledger's integer units
// (core/base/units.h): 1000.5_kg is 1,000,500 grams of ore, 8_gpt 8,000 ppb, 7.2_g 7,200 mg of
// gold, 900_permille 900,000,000 ppb, 21000_soles 2,100,000 céntimos, 10_tpd 10,000,000 grams a
// day, 2_pct 20,000 ppm. A literal with more decimals than the unit counts does not compile.
#pragma once

#include <cstdint>

namespace veta {
namespace test_units_internal {

template <char... C>
consteval int64_t Scaled(int scale) {
  const char text[] = {C...};
  int64_t v = 0;
  int decimals = -1;  // -1: before the point
  for (char c : text) {
    if (c == '\'') continue;
    if (c == '.') {
      if (decimals >= 0) throw "two decimal points";
      decimals = 0;
      continue;
    }
    if (c < '0' || c > '9') throw "not a decimal literal";
    if (decimals >= 0 && ++decimals > scale) throw "more decimals than the unit counts";
    v = v * 10 + (c - '0');
  }
  for (int i = decimals < 0 ? 0 : decimals; i < scale; ++i) v *= 10;
  return v;
}

}  // namespace test_units_internal

// In namespace veta (inline), so that every test sees them.
inline namespace test_unit_literals {
// Grams of ore, from kg.
template <char... C>
consteval int64_t operator""_kg() {
  return test_units_internal::Scaled<C...>(3);
}
// Milligrams of gold (or fine gold), from g.
template <char... C>
consteval int64_t operator""_g() {
  return test_units_internal::Scaled<C...>(3);
}
// Grade in ppb, from g/t.
template <char... C>
consteval int64_t operator""_gpt() {
  return test_units_internal::Scaled<C...>(3);
}
// Fineness in ppb, from parts per thousand.
template <char... C>
consteval int64_t operator""_permille() {
  return test_units_internal::Scaled<C...>(6);
}
// Céntimos, from soles.
template <char... C>
consteval int64_t operator""_soles() {
  return test_units_internal::Scaled<C...>(2);
}
// Grams of ore a day, from tonnes a day.
template <char... C>
consteval int64_t operator""_tpd() {
  return test_units_internal::Scaled<C...>(6);
}
// Parts per million, from percent.
template <char... C>
consteval int64_t operator""_pct() {
  return test_units_internal::Scaled<C...>(4);
}
}  // namespace test_unit_literals

}  // namespace veta
