// Helpers shared by the core tests: temporary folders and a ledger with known keys.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "core/base/strings.h"
#include "core/storage/schema.h"
#include "core/storage/store.h"
#include "gtest/gtest.h"

namespace veta::testing {

// Bytes from hexadecimal (test vectors); a malformed string fails the test.
inline std::string Unhex(std::string_view hex) {
  std::string out;
  EXPECT_EQ(hex.size() % 2, 0u) << hex;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    ADD_FAILURE() << "bad hex digit " << c;
    return 0;
  };
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

// A fresh folder under the test's temporary directory, removed at destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "veta-test-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Sub(std::string_view name) const { return StrCat(path_, "/", name); }

 private:
  std::string path_;
};

}  // namespace veta::testing

namespace veta {

// One row written or deleted, as someone with disk access would (the tamper tests).
inline absl::Status PutRow(Store& store, Family family, std::string_view key,
                           std::string_view value) {
  auto batch = store.NewBatch();
  batch->Put(family, key, value);
  return store.Write(*batch, /*sync=*/true);
}
inline absl::Status DeleteRow(Store& store, Family family, std::string_view key) {
  auto batch = store.NewBatch();
  batch->Delete(family, key);
  return store.Write(*batch, /*sync=*/true);
}

// Every row ApplyEntry derives from the log, by family ("state/<key>"...).
inline std::map<std::string, std::string> DerivedRows(const Store& store) {
  std::map<std::string, std::string> rows;
  for (Family f : {Family::kKeys, Family::kRegistry, Family::kState, Family::kEvidence}) {
    auto it = store.NewCursor(f);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (f == Family::kEvidence && !it->key().starts_with("f") && !it->key().starts_with("F")) {
        continue;  // the attempts' indexes come from the attempts log, not from the entries
      }
      rows[StrCat(FamilyName(f), "/", it->key())] = std::string(it->value());
    }
  }
  return rows;
}

// Deletes every derived row and the applied marker (of a closed ledger's store): the next
// start-up applies every entry again (Ledger::ApplyPending), as a follower's first start does.
inline absl::Status WipeDerivedRows(Store& store) {
  auto wipe = store.NewBatch();
  for (const auto& [name, value] : DerivedRows(store)) {
    const size_t slash = name.find('/');
    const std::string family = name.substr(0, slash);
    for (Family f : {Family::kKeys, Family::kRegistry, Family::kState, Family::kEvidence}) {
      if (FamilyName(f) == family) wipe->Delete(f, name.substr(slash + 1));
    }
  }
  wipe->Put(Family::kMeta, kAppliedKey, EncodeU64(0));
  return store.Write(*wipe, true);
}

}  // namespace veta
