// VETA_CHECK: an invariant of our own code that stays checked in release builds. A ledger that
// goes on after one of these fails would write what it believes is impossible, and a follower
// or an audit would only find it later; stopping keeps the damage out of the log (everything
// written so far is durable and consistent). Not for bad input or storage errors: those are
// statuses, answered to whoever caused them.
#pragma once

#include <string_view>

#include "absl/base/optimization.h"

namespace veta {

// Prints "veta: invariant broken at FILE:LINE: CONDITION (WHAT)" to stderr and aborts.
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              std::string_view what);

}  // namespace veta

#define VETA_CHECK(condition, what)                                \
  do {                                                             \
    if (ABSL_PREDICT_FALSE(!(condition))) {                        \
      ::veta::CheckFailed(__FILE__, __LINE__, #condition, (what)); \
    }                                                              \
  } while (false)
