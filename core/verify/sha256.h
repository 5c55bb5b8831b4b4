// SHA-256 through OpenSSL's EVP interface. The EVP_MD is fetched once per process and each
// thread reuses one digest context, which is about 3x faster than OpenSSL's one-shot SHA256()
// on the small inputs a Merkle tree hashes. Thread-safe: all state is per thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace veta {

using Hash = std::array<uint8_t, 32>;

// Incremental hashing of several pieces; not thread-safe, cheap to construct.
class Sha256 {
 public:
  Sha256();
  Sha256& Update(std::string_view data);
  Sha256& Update(const Hash& data);
  Sha256& Update(uint8_t byte);
  Hash Finish();

 private:
  bool finished_ = false;
};

// One-shot digest.
Hash Sha256Of(std::string_view data);

std::string_view AsBytes(const Hash& hash);
std::string ToHex(std::string_view bytes);
inline std::string ToHex(const Hash& hash) { return ToHex(AsBytes(hash)); }
// Parses 64 hex digits; false on anything else.
[[nodiscard]] bool HashFromHex(std::string_view hex, Hash* out);
// Copies exactly 32 bytes; false on any other length.
[[nodiscard]] bool HashFromBytes(std::string_view bytes, Hash* out);

}  // namespace veta
