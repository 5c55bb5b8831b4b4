// Timestamps as microseconds since the epoch. A Timestamp in a payload is whatever its signer
// wrote: the seconds are clamped to the range google.protobuf.Timestamp allows (years 1 to
// 9999), so the conversion never overflows; a time past either end is then simply refused by
// the rules (in the future, or outside any validity period).
#pragma once

#include <google/protobuf/timestamp.pb.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace veta {

inline int64_t TimestampMicros(const google::protobuf::Timestamp& t) {
  constexpr int64_t kMinSeconds = -62135596800, kMaxSeconds = 253402300799;
  return std::clamp<int64_t>(t.seconds(), kMinSeconds, kMaxSeconds) * 1000000 + t.nanos() / 1000;
}

// The system clock now, to the microsecond. (protobuf's TimeUtil::GetCurrentTime gives whole
// seconds on Debian 12's build: a declaration stamped with it would look older than an entry
// recorded a moment before it.)
inline google::protobuf::Timestamp NowTimestamp() {
  const int64_t micros = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  google::protobuf::Timestamp t;
  t.set_seconds(micros / 1000000);
  t.set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  return t;
}

}  // namespace veta
