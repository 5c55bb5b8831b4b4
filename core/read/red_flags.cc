#include "core/read/red_flags.h"

#include "core/read/explain.h"

namespace veta {

const std::vector<RedFlagMeaning>& RedFlagMeanings() {
  static const std::vector<RedFlagMeaning> meanings = [] {
    std::vector<RedFlagMeaning> m = {
        {veta::v1::CASH_ABOVE_THRESHOLD, "CASH_ABOVE_THRESHOLD", "1", "",
         "Money laundering (Annex II, paragraph 16): large cash payments are how the proceeds of "
         "illegal mining are turned into gold of apparently formal origin."},
        {veta::v1::VOLUME_JUMP, "VOLUME_JUMP", "1", "",
         "Fraudulent misrepresentation of origin (paragraph 15): a registered seller whose volume "
         "jumps may be selling other people's gold in its name (a \"facturador\")."},
        {veta::v1::POINT_IN_DETECTED_SCAR, "POINT_IN_DETECTED_SCAR", "1", "",
         "Fraudulent misrepresentation of origin (paragraph 15): ore from unregistered ground "
         "declared as the unit's."},
        {veta::v1::LATE_DECLARATION, "LATE_DECLARATION", "3", "",
         "Fraudulent misrepresentation of origin (paragraph 15): a declaration made after the "
         "fact, without its papers, can be fitted to gold of any origin."},
        {veta::v1::CASH_STRUCTURING, "CASH_STRUCTURING", "3", "",
         "Money laundering (paragraph 16) and taxes due (paragraph 17): splitting payments to stay "
         "under the reporting and banking thresholds."},
        {veta::v1::PRICE_OUT_OF_BAND, "PRICE_OUT_OF_BAND", "3", "",
         "Money laundering (paragraph 16): a price far above the fix moves money, not gold; far "
         "below, gold sold by someone who cannot sell it openly."},
        {veta::v1::CIRCULAR_TRADE, "CIRCULAR_TRADE", "3", "",
         "Money laundering (paragraph 16): wash trades build a paper history and a price for gold, "
         "and hide where it came from (paragraph 15)."},
        {veta::v1::GRADE_JUMP, "GRADE_JUMP", "3", "",
         "Fraudulent misrepresentation of origin (paragraph 15): a grade on paper gives a small "
         "unit's formal papers to much more gold than it can produce."},
    };
    // The plain sentence is core/read/explain.cc's (one table for people): its English text.
    for (auto& meaning : m) {
      const Explanation* e = ExplainCode(meaning.code);
      meaning.plain = e == nullptr ? std::string_view() : e->text_en;
    }
    return m;
  }();
  return meanings;
}

const RedFlagMeaning* MeaningOf(veta::v1::RedFlag flag) {
  for (const auto& m : RedFlagMeanings()) {
    if (m.flag == flag) return &m;
  }
  return nullptr;
}

}  // namespace veta
