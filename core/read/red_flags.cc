#include "core/read/red_flags.h"

namespace veta {

const std::vector<RedFlagMeaning>& RedFlagMeanings() {
  static const std::vector<RedFlagMeaning> meanings = {
      {veta::v1::CASH_ABOVE_THRESHOLD, "CASH_ABOVE_THRESHOLD", "1",
       "A sale paid in cash above the parameters' threshold (S/ 30,000 by default): the money "
       "leaves no trace in the financial system.",
       "Money laundering (Annex II, paragraph 16): large cash payments are how the proceeds "
       "of illegal mining are turned into gold of apparently formal origin."},
      {veta::v1::VOLUME_JUMP, "VOLUME_JUMP", "1",
       "A seller sells far more than its own average sale (five times by default).",
       "Fraudulent misrepresentation of origin (paragraph 15): a registered seller whose "
       "volume jumps may be selling other people's gold in its name (a \"facturador\")."},
      {veta::v1::POINT_IN_DETECTED_SCAR, "POINT_IN_DETECTED_SCAR", "1",
       "The extraction point lies in a satellite-detected mining scar that reaches outside the "
       "unit: workings next to the concession that no registration covers.",
       "Fraudulent misrepresentation of origin (paragraph 15): ore from unregistered ground "
       "declared as the unit's."},
      {veta::v1::LATE_DECLARATION, "LATE_DECLARATION", "3",
       "Declared more than 72 hours (by default) after the time it states: after the invoice "
       "and the transport guide should have been issued.",
       "Fraudulent misrepresentation of origin (paragraph 15): a declaration made after the "
       "fact, without its papers, can be fitted to gold of any origin."},
      {veta::v1::CASH_STRUCTURING, "CASH_STRUCTURING", "3",
       "Cash payments each under the threshold, above it when summed: between the same seller "
       "and buyer in a day (against Ley 28194's banking threshold), or by one seller in a day "
       "or a week (against the cash threshold).",
       "Money laundering (paragraph 16) and taxes due (paragraph 17): splitting payments to "
       "stay under the reporting and banking thresholds."},
      {veta::v1::PRICE_OUT_OF_BAND, "PRICE_OUT_OF_BAND", "3",
       "The price per gram of fine gold is outside the band around the registrar's reference "
       "price (25% to 150% by default).",
       "Money laundering (paragraph 16): a price far above the fix moves money, not gold; far "
       "below, gold sold by someone who cannot sell it openly."},
      {veta::v1::CIRCULAR_TRADE, "CIRCULAR_TRADE", "3",
       "The buyer already held this gold earlier in the lot's own history: gold going round "
       "in a circle of trades.",
       "Money laundering (paragraph 16): wash trades build a paper history and a price for "
       "gold, and hide where it came from (paragraph 15)."},
      {veta::v1::GRADE_JUMP, "GRADE_JUMP", "3",
       "A unit declares ore far richer than its own history (three times its average grade by "
       "default).",
       "Fraudulent misrepresentation of origin (paragraph 15): a grade on paper gives a small "
       "unit's formal papers to much more gold than it can produce."},
  };
  return meanings;
}

const RedFlagMeaning* MeaningOf(veta::v1::RedFlag flag) {
  for (const auto& m : RedFlagMeanings()) {
    if (m.flag == flag) return &m;
  }
  return nullptr;
}

}  // namespace veta
