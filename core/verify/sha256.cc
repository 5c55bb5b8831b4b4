#include "core/verify/sha256.h"

#include <openssl/evp.h>

#include <cassert>
#include <cstdlib>
#include <cstring>

namespace veta {
namespace {

const EVP_MD* Sha256Md() {
  static const EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr) std::abort();  // OpenSSL without SHA-256 cannot run a ledger.
    return fetched;
  }();
  return md;
}

// One context per thread, reused by every Sha256 on that thread. Sha256 objects on one
// thread must not interleave; they never do (each is started and finished in one call chain).
EVP_MD_CTX* ThreadContext() {
  struct Holder {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Holder() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Holder holder;
  if (holder.ctx == nullptr) std::abort();
  return holder.ctx;
}

}  // namespace

Sha256::Sha256() {
  if (EVP_DigestInit_ex2(ThreadContext(), Sha256Md(), nullptr) != 1) std::abort();
}

Sha256& Sha256::Update(std::string_view data) {
  assert(!finished_);
  if (EVP_DigestUpdate(ThreadContext(), data.data(), data.size()) != 1) std::abort();
  return *this;
}

Sha256& Sha256::Update(const Hash& data) { return Update(AsBytes(data)); }

Sha256& Sha256::Update(uint8_t byte) {
  const char c = static_cast<char>(byte);
  return Update(std::string_view(&c, 1));
}

Hash Sha256::Finish() {
  assert(!finished_);
  finished_ = true;
  Hash out;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ThreadContext(), out.data(), &len) != 1 || len != out.size()) {
    std::abort();
  }
  return out;
}

Hash Sha256Of(std::string_view data) { return Sha256().Update(data).Finish(); }

std::string_view AsBytes(const Hash& hash) {
  return std::string_view(reinterpret_cast<const char*>(hash.data()), hash.size());
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

bool HashFromHex(std::string_view hex, Hash* out) {
  if (hex.size() != 64) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

bool HashFromBytes(std::string_view bytes, Hash* out) {
  if (bytes.size() != out->size()) return false;
  std::memcpy(out->data(), bytes.data(), bytes.size());
  return true;
}

}  // namespace veta
