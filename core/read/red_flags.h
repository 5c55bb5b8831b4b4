// What each red flag means, for the people who read them: a plain-language explanation, and
// the risk of the OECD Due Diligence Guidance's Annex II (the model supply-chain policy for
// minerals from conflict-affected and high-risk areas) that it is evidence of. Shown by
// `veta flags --codes`, the indicators report and the README's table.
#pragma once

#include <string_view>
#include <vector>

#include "veta/v1/registry.pb.h"

namespace veta {

struct RedFlagMeaning {
  veta::v1::RedFlag flag;
  std::string_view code;    // "CASH_STRUCTURING"
  std::string_view rules;   // the rules version that raises it: "1", "3"
  std::string_view plain;   // what happened: core/read/explain.h's English text
  std::string_view annex2;  // the OECD Annex II risk it is evidence of
};

// Every red flag, in code order. Never empty; a code added to the proto without a meaning
// here fails tests/core/red_flags_test.cc.
const std::vector<RedFlagMeaning>& RedFlagMeanings();
// The meaning of one flag; nullptr for an unknown code.
const RedFlagMeaning* MeaningOf(veta::v1::RedFlag flag);

}  // namespace veta
