// core/base/files.h: folders made with their parents synced, and the errors a person reads.
// (That the syncs reach the disk cannot be seen without a crash; what is tested is that every
// folder is made, that existing ones are left alone, and that nothing is made on an error.)
#include "core/base/files.h"

#include <filesystem>

#include "core/verify/keys.h"
#include "gtest/gtest.h"
#include "tests/core/test_util.h"

namespace veta {
namespace {

namespace fs = std::filesystem;

TEST(CreateDirectoriesSynced, MakesEveryMissingFolder) {
  testing::TempDir dir;
  const std::string deep = dir.Sub("a/b/c/");
  ASSERT_TRUE(CreateDirectoriesSynced(deep).ok());
  EXPECT_TRUE(fs::is_directory(dir.Sub("a/b/c")));
  // Again: nothing to do, no error; a file written in it is read back.
  ASSERT_TRUE(CreateDirectoriesSynced(dir.Sub("a/b/c")).ok());
  ASSERT_TRUE(WriteFileAtomic(dir.Sub("a/b/c/f"), "hola").ok());
  EXPECT_EQ(*ReadFile(dir.Sub("a/b/c/f")), "hola");
  ASSERT_TRUE(SyncDirectory(dir.Sub("a/b")).ok());
}

TEST(CreateDirectoriesSynced, AFileInTheWayIsAClearErrorAndMakesNothing) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.Sub("file"), "x").ok());
  absl::Status s = CreateDirectoriesSynced(dir.Sub("file/sub/deeper"));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("is not a folder"), std::string_view::npos) << s;
  EXPECT_EQ(*ReadFile(dir.Sub("file")), "x");
  EXPECT_FALSE(CreateDirectoriesSynced("").ok());
  EXPECT_EQ(SyncDirectory(dir.Sub("missing")).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace veta
