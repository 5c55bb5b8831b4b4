// Interoperability of the tiles: tests/go/tilesread, built on golang.org/x/mod/sumdb alone,
// reads the tiles of a real ledger (700, then 1,100 entries: full tiles, partial tiles at
// levels 0 and 1) as a real nginx serves them, verifies the checkpoint's signature, proves
// inclusion of chosen leaves and of every entry of every bundle (served from the bundles'
// folder, as a regulator's trusted mirror would), and the consistency of the two checkpoints.
// A tile altered on disk, or the wrong key, is refused.
#include <filesystem>
#include <fstream>

#include "core/log/tiles.h"
#include "core/verify/note.h"
#include "gtest/gtest.h"
#include "tests/core/registry_fixture.h"
#include "tests/tiles/tiles_test_util.h"

#ifndef VETA_GO_TILES
#define VETA_GO_TILES ""
#endif

namespace veta::testing {
namespace {

class TilesInteropTest : public RegistryFixture {
 protected:
  void AddMemos(int n) {
    for (int i = 0; i < n; ++i) {
      ++memos_;
      ExpectAccepted(Sign(kMemoType, payloads::MemoOf(StrCat("hoja de lote ", memos_), "", memos_),
                          {registrar_}));
    }
  }
  absl::Status Publish(tiles::TileWriter& writer) {
    StoreNodeReader nodes(ledger_->store());
    tiles::TileSource source;
    source.nodes = &nodes;
    source.entries = [this](uint64_t start, uint32_t count) {
      return ledger_->ListEntries(start, count);
    };
    source.checkpoint_note = [this]() -> absl::StatusOr<std::string> {
      return ledger_->LatestCheckpoint().note();
    };
    return writer.PublishOnce(source);
  }
  std::string Leaf(uint64_t index) {
    return StrCat(index, ":", ToHex(merkle::HashLeaf(*ledger_->GetEntry(index))));
  }

  uint64_t memos_ = 0;
};

TEST_F(TilesInteropTest, GoReadsTheTilesNginxServes) {
  const std::string go = VETA_GO_TILES;
  ASSERT_FALSE(go.empty()) << "built without tests/go/tilesread (go_tiles.cmake)";
  TempDir dir;
  tiles::TileWriterOptions options;
  options.dir = dir.Sub("tiles");
  options.bundles_dir = dir.Sub("bundles");
  tiles::TileWriter writer(options);
  AddMemos(700 - static_cast<int>(ledger_->size()));
  ASSERT_EQ(ledger_->size(), 700u);
  ASSERT_TRUE(Publish(writer).ok());
  ASSERT_TRUE(std::filesystem::exists(options.dir + "/tile/0/002.p/188"));
  ASSERT_TRUE(std::filesystem::exists(options.dir + "/tile/1/000.p/2"));

  const int port = FreePort(), mirror = FreePort();
  std::filesystem::create_directories(dir.Sub("nginx"));
  Nginx nginx(VETA_NGINX, dir.Sub("nginx"), {{port, options.dir}, {mirror, options.bundles_dir}});
  ASSERT_TRUE(nginx.ready());
  const std::string url = StrCat("http://127.0.0.1:", port);
  const std::string bundles = StrCat("http://127.0.0.1:", mirror);
  const std::string key = ledger_->verifier_key();

  // The checkpoint at 700, inclusion of leaves in a full tile, the partial one and the last,
  // and of every entry of every bundle.
  RunResult first = RunProgram({go, "-url", url, "-key", key, "-bundles", bundles, "-save",
                                dir.Sub("old-checkpoint"), "-leaf", Leaf(0), "-leaf", Leaf(300),
                                "-leaf", Leaf(699)});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("size 700; 3 leaves and 700 bundle entries proved"),
            std::string::npos)
      << first.output;

  // The log grows to 1,100: the new checkpoint extends the saved one.
  AddMemos(400);
  ASSERT_TRUE(Publish(writer).ok());
  RunResult second = RunProgram({go, "-url", url, "-key", key, "-bundles", bundles, "-old",
                                 dir.Sub("old-checkpoint"), "-leaf", Leaf(1099), "-leaf", Leaf(5)});
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("size 1100; 2 leaves and 1100 bundle entries proved; consistency "
                               "with old: true"),
            std::string::npos)
      << second.output;

  // A leaf that is not there, the wrong key, an altered tile: refused.
  RunResult wrong_leaf = RunProgram({go, "-url", url, "-key", key, "-leaf",
                                     StrCat("7:", ToHex(merkle::HashLeaf("not an entry")))});
  EXPECT_EQ(wrong_leaf.exit_code, 1) << wrong_leaf.output;
  const PrivateKey other = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  RunResult wrong_key = RunProgram(
      {go, "-url", url, "-key", *note::VerifierKey(ledger_->origin(), other.public_key())});
  EXPECT_EQ(wrong_key.exit_code, 1) << wrong_key.output;
  EXPECT_NE(wrong_key.output.find("does not verify"), std::string::npos) << wrong_key.output;

  const std::string tile = options.dir + "/tile/0/001";
  std::string bytes = *ReadFile(tile);
  bytes[5 * 32] ^= 1;  // the hash of leaf 261
  ASSERT_TRUE(WriteFileAtomic(tile, bytes).ok());
  // Leaf 260's proof starts with leaf 261's hash, leaf 300's uses a subtree hash over it: both
  // are refused. Leaf 261's own proof does not read its own (altered) hash, and still holds.
  for (uint64_t leaf : {260, 300}) {
    RunResult altered = RunProgram({go, "-url", url, "-key", key, "-leaf", Leaf(leaf)});
    EXPECT_EQ(altered.exit_code, 1) << leaf << ": " << altered.output;
    EXPECT_NE(altered.output.find("not in the signed tree"), std::string::npos) << altered.output;
  }
  RunResult own = RunProgram({go, "-url", url, "-key", key, "-leaf", Leaf(261)});
  EXPECT_EQ(own.exit_code, 0) << own.output;
}

}  // namespace
}  // namespace veta::testing
