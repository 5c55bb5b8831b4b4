#include "core/base/check.h"

#include <cstdio>
#include <cstdlib>

namespace veta {

void CheckFailed(const char* file, int line, const char* condition, std::string_view what) {
  std::fprintf(stderr, "veta: invariant broken at %s:%d: %s (%.*s)\n", file, line, condition,
               static_cast<int>(what.size()), what.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace veta
