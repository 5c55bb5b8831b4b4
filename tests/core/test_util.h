// Helpers shared by the core tests: temporary folders and a ledger with known keys.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/strings.h"
#include "gtest/gtest.h"

namespace veta::testing {

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
