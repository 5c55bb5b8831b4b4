// C2SP tlog-tiles (core/log/tiles.h): paths and their encoding as the spec writes them, which
// tiles a tree of a given size has (the spec's own examples), the bytes of hash tiles against
// core/verify/merkle.h (level-1 and level-2 tiles from a synthetic tree of 70,000 leaves, without
// 70,000 real entries), entry bundles, and the writer: every file in its place, checkpoint last,
// bundles apart from the public folder, resumption and repair after a restart, another log's
// folder refused, an entry too long for a bundle skipped.
#include "core/log/tiles.h"

#include <cstring>
#include <filesystem>
#include <map>

#include "core/verify/keys.h"
#include "core/verify/note.h"
#include "gtest/gtest.h"
#include "tests/core/registry_fixture.h"

namespace veta::tiles {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// A tree built in memory from synthetic entries ("entry <i>", some made longer).
class SyntheticTree final : public merkle::NodeReader {
 public:
  explicit SyntheticTree(uint64_t size, std::map<uint64_t, size_t> long_entries = {})
      : long_entries_(std::move(long_entries)) {
    Grow(size);
  }
  void Grow(uint64_t size) {
    while (tree_.size() < size) {
      tree_.Append(merkle::HashLeaf(Entry(tree_.size())),
                   [&](uint32_t level, uint64_t index, const Hash& h) {
                     nodes_[{level, index}] = h;
                   });
    }
  }
  absl::StatusOr<Hash> GetNode(uint32_t level, uint64_t index) const override {
    auto it = nodes_.find({level, index});
    if (it == nodes_.end()) return absl::NotFoundError(StrCat("no node ", level, "/", index));
    return it->second;
  }
  std::string Entry(uint64_t i) const {
    std::string e = StrCat("entry ", i);
    if (auto it = long_entries_.find(i); it != long_entries_.end()) e.resize(it->second, 'x');
    return e;
  }
  uint64_t size() const { return tree_.size(); }
  Hash Root() const { return tree_.Root(); }

 private:
  merkle::CompactTree tree_;
  std::map<std::pair<uint32_t, uint64_t>, Hash> nodes_;
  std::map<uint64_t, size_t> long_entries_;
};

std::string Read(const std::string& path) {
  auto bytes = ReadFile(path, 64 << 20);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : "";
}

TEST(TilePaths, IndexEncodingAsTheSpecWritesIt) {
  EXPECT_EQ(EncodeIndex(1234067), "x001/x234/067");  // the spec's example
  EXPECT_EQ(EncodeIndex(0), "000");
  EXPECT_EQ(EncodeIndex(7), "007");
  EXPECT_EQ(EncodeIndex(999), "999");
  EXPECT_EQ(EncodeIndex(1000), "x001/000");
  EXPECT_EQ(EncodeIndex(UINT64_MAX), "x018/x446/x744/x073/x709/x551/615");
  EXPECT_EQ(TilePath({false, 0, 1234067, 256}), "tile/0/x001/x234/067");
  EXPECT_EQ(TilePath({false, 2, 5, 17}), "tile/2/005.p/17");
  EXPECT_EQ(TilePath({true, 0, 1000, 256}), "tile/entries/x001/000");
  EXPECT_EQ(TilePath({true, 0, 3, 1}), "tile/entries/003.p/1");
}

TEST(TilePaths, ParseIsTheInverseAndStrict) {
  for (const TileRef& t : {TileRef{false, 0, 1234067, 256}, TileRef{false, 63, 0, 1},
                           TileRef{true, 0, 999, 255}, TileRef{false, 1, UINT64_MAX, 3}}) {
    auto parsed = ParseTilePath(TilePath(t));
    ASSERT_TRUE(parsed.ok()) << TilePath(t) << ": " << parsed.status();
    EXPECT_EQ(*parsed, t) << TilePath(t);
  }
  for (std::string_view bad : {"tile/01/000",
                               "tile/64/000",
                               "tile/-1/000",
                               "tile/0/00",
                               "tile/0/0000",
                               "tile/0/x000",
                               "tile/0/x000/",
                               "tile/0/001/002",
                               "tile/0/000.p/0",
                               "tile/0/000.p/256",
                               "tile/0/000.p/01",
                               "tile/0/000.p/",
                               "tile/0/000.p",
                               "tile/0/000.x/5",
                               "tile/0/../000",
                               "tile/entries/abc",
                               "tile/data/000",
                               "tile/0/000/",
                               "tiles/0/000",
                               "tile/0",
                               "tile/8/0/000",
                               "checkpoint",
                               "tile/0/x018/x446/x744/x073/x709/x551/616",
                               "tile/0/x001/x002/x003/x004/x005/x006/x007/008"}) {
    EXPECT_FALSE(ParseTilePath(bad).ok()) << bad;
  }
}

TEST(TileSets, TheSpecsExamples) {
  // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0
  // tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one
  // partial level 2 tile of width 1."
  const std::vector<TileRef> full = NewFullTiles(0, 70000);
  size_t level0 = 0, level1 = 0, bundles = 0;
  for (const TileRef& t : full) {
    EXPECT_TRUE(t.full());
    if (t.entries) {
      ++bundles;
    } else if (t.level == 0) {
      ++level0;
    } else if (t.level == 1) {
      ++level1;
    } else {
      ADD_FAILURE() << TilePath(t);
    }
  }
  EXPECT_EQ(level0, 273u);
  EXPECT_EQ(bundles, 273u);
  EXPECT_EQ(level1, 1u);
  EXPECT_EQ(PartialTiles(70000),
            (std::vector<TileRef>{
                {false, 0, 273, 112}, {true, 0, 273, 112}, {false, 1, 1, 17}, {false, 2, 0, 1}}));
  // "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile
  // of width 1."
  EXPECT_EQ(NewFullTiles(0, 256), (std::vector<TileRef>{{false, 0, 0, 256}, {true, 0, 0, 256}}));
  EXPECT_EQ(PartialTiles(256), (std::vector<TileRef>{{false, 1, 0, 1}}));
  EXPECT_TRUE(PartialTiles(0).empty());
  EXPECT_EQ(PartialTiles(1), (std::vector<TileRef>{{false, 0, 0, 1}, {true, 0, 0, 1}}));
  // Growing: only what became full.
  EXPECT_EQ(NewFullTiles(300, 520), (std::vector<TileRef>{{false, 0, 1, 256}, {true, 0, 1, 256}}));
  EXPECT_TRUE(NewFullTiles(300, 500).empty());
  EXPECT_TRUE(NewFullTiles(500, 300).empty());
  EXPECT_EQ(NewFullTiles(65535, 65536),
            (std::vector<TileRef>{{false, 0, 255, 256}, {true, 0, 255, 256}, {false, 1, 0, 256}}));
}

TEST(HashTiles, EqualTheTreesNodes) {
  SyntheticTree tree(70000);
  // Level 0: the leaf hashes.
  auto t0 = HashTile(tree, {false, 0, 1, 256});
  ASSERT_TRUE(t0.ok()) << t0.status();
  ASSERT_EQ(t0->size(), 8192u);
  EXPECT_EQ(t0->substr(0, 32), AsBytes(merkle::HashLeaf(tree.Entry(256))));
  EXPECT_EQ(t0->substr(255 * 32), AsBytes(merkle::HashLeaf(tree.Entry(511))));
  auto p0 = HashTile(tree, {false, 0, 273, 112});
  ASSERT_TRUE(p0.ok());
  EXPECT_EQ(p0->size(), 112u * 32);
  EXPECT_EQ(p0->substr(111 * 32), AsBytes(merkle::HashLeaf(tree.Entry(69999))));
  // Level 1: hash i is MTH of leaves [i*256, (i+1)*256), i.e. of level-0 tile i.
  auto t1 = HashTile(tree, {false, 1, 0, 256});
  ASSERT_TRUE(t1.ok());
  for (uint64_t i : {0, 1, 200, 255}) {
    auto mth = merkle::SubtreeRoot(tree, i * 256, (i + 1) * 256);
    ASSERT_TRUE(mth.ok());
    EXPECT_EQ(t1->substr(i * 32, 32), AsBytes(*mth)) << i;
  }
  auto p1 = HashTile(tree, {false, 1, 1, 17});
  ASSERT_TRUE(p1.ok());
  EXPECT_EQ(p1->substr(16 * 32), AsBytes(*merkle::SubtreeRoot(tree, 272 * 256, 273 * 256)));
  // Level 2: MTH of the first 65,536 leaves.
  auto p2 = HashTile(tree, {false, 2, 0, 1});
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(*p2, AsBytes(*merkle::SubtreeRoot(tree, 0, 65536)));
  // The root from the tiles alone, as a tile reader computes it: the level-2 hash, the 17
  // level-1 hashes of the partial level-1 tile and the 112 of the partial level-0 tile.
  std::vector<Hash> level1, level0;
  for (size_t i = 0; i < 17; ++i) {
    Hash h;
    std::memcpy(h.data(), p1->data() + i * 32, 32);
    level1.push_back(h);
  }
  for (size_t i = 0; i < 112; ++i) {
    Hash h;
    std::memcpy(h.data(), p0->data() + i * 32, 32);
    level0.push_back(h);
  }
  // 70,000 = 65,536 + 16 * 256 + 112: the subtree [65536, 65536 + 4096) is the fold of level-1
  // hashes 0..15, and [69632, 70000) is MTH(level-1 hash 16, MTH(level-0 hashes 0..111)).
  auto mth = [](auto&& self, const std::vector<Hash>& hs, size_t begin, size_t end) -> Hash {
    if (end - begin == 1) return hs[begin];
    size_t k = 1;
    while (k * 2 < end - begin) k *= 2;
    return merkle::HashChildren(self(self, hs, begin, begin + k), self(self, hs, begin + k, end));
  };
  const Hash right_small = merkle::HashChildren(level1[16], mth(mth, level0, 0, 112));
  const Hash right = merkle::HashChildren(mth(mth, level1, 0, 16), right_small);
  Hash level2;
  std::memcpy(level2.data(), p2->data(), 32);
  EXPECT_EQ(merkle::HashChildren(level2, right), tree.Root());
  // A missing node is an error, not a zero hash.
  EXPECT_FALSE(HashTile(tree, {false, 0, 274, 256}).ok());
}

TEST(EntryBundles, LengthPrefixedBigEndian) {
  const std::string big(65535, 'b');
  auto bundle = EntryBundle({"ab", "", big});
  ASSERT_TRUE(bundle.ok());
  EXPECT_EQ(bundle->substr(0, 4), std::string("\x00\x02"
                                              "ab",
                                              4));
  EXPECT_EQ(bundle->substr(4, 2), std::string("\x00\x00", 2));
  EXPECT_EQ(bundle->substr(6, 2), "\xff\xff");
  EXPECT_EQ(bundle->size(), 4u + 2 + 2 + 65535);
  auto parsed = ParseEntryBundle(*bundle);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, (std::vector<std::string>{"ab", "", big}));
  auto too_long = EntryBundle({"a", std::string(65536, 'c')});
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("entry 1"), std::string_view::npos);
  EXPECT_FALSE(ParseEntryBundle(std::string("\x00\x05"
                                            "abc",
                                            5))
                   .ok());
  EXPECT_FALSE(ParseEntryBundle(std::string("\x00", 1)).ok());
}

// A writer over a synthetic tree, with notes signed by a real key.
class WriterTest : public ::testing::Test {
 protected:
  TileSource Source(const SyntheticTree& tree, std::string origin = "veta.test/tiles") {
    TileSource source;
    source.nodes = &tree;
    source.entries = [&tree](uint64_t start, uint32_t count) {
      std::vector<std::string> out;
      for (uint64_t i = start; i < start + count && i < tree.size(); ++i)
        out.push_back(tree.Entry(i));
      return absl::StatusOr<std::vector<std::string>>(out);
    };
    source.checkpoint_note = [this, &tree, origin]() -> absl::StatusOr<std::string> {
      return note::Sign(note::CheckpointText({origin, tree.size(), tree.Root()}), origin, key_);
    };
    return source;
  }
  TileWriterOptions Options() const {
    TileWriterOptions o;
    o.dir = dir_.Sub("tiles");
    o.bundles_dir = dir_.Sub("bundles");
    o.partial_grace = std::chrono::milliseconds(0);
    return o;
  }
  std::string Public(std::string_view rel) const { return StrCat(dir_.Sub("tiles"), "/", rel); }
  std::string Bundle(std::string_view rel) const { return StrCat(dir_.Sub("bundles"), "/", rel); }

  TempDir dir_;
  PrivateKey key_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
};

TEST_F(WriterTest, WritesEveryTileThenTheCheckpoint) {
  SyntheticTree tree(300);
  TileWriter writer(Options());
  ASSERT_TRUE(writer.PublishOnce(Source(tree)).ok());
  EXPECT_EQ(writer.published_size(), 300u);
  EXPECT_EQ(Read(Public("tile/0/000")), *HashTile(tree, {false, 0, 0, 256}));
  EXPECT_EQ(Read(Public("tile/0/001.p/44")), *HashTile(tree, {false, 0, 1, 44}));
  EXPECT_EQ(Read(Public("tile/1/000.p/1")), *HashTile(tree, {false, 1, 0, 1}));
  EXPECT_EQ(Read(Public("checkpoint")), *Source(tree).checkpoint_note());
  // Bundles only in their own folder; each entry is the leaf data.
  EXPECT_FALSE(fs::exists(Public("tile/entries")));
  auto bundle = ParseEntryBundle(Read(Bundle("tile/entries/001.p/44")));
  ASSERT_TRUE(bundle.ok());
  ASSERT_EQ(bundle->size(), 44u);
  EXPECT_EQ(merkle::HashLeaf((*bundle)[43]), *tree.GetNode(0, 299));
  EXPECT_EQ(ParseEntryBundle(Read(Bundle("tile/entries/000")))->size(), 256u);

  // Growing to 70,000: new full tiles, the level-1 tile, partials of the new size; the
  // partials whose full tile now exists are gone (grace 0), the newer partial stays.
  tree.Grow(70000);
  ASSERT_TRUE(writer.PublishOnce(Source(tree)).ok());
  EXPECT_EQ(Read(Public("tile/0/001")), *HashTile(tree, {false, 0, 1, 256}));
  EXPECT_FALSE(fs::exists(Public("tile/0/001.p")));
  EXPECT_FALSE(fs::exists(Bundle("tile/entries/001.p")));
  EXPECT_EQ(Read(Public("tile/0/272")), *HashTile(tree, {false, 0, 272, 256}));
  EXPECT_EQ(Read(Public("tile/0/273.p/112")), *HashTile(tree, {false, 0, 273, 112}));
  EXPECT_EQ(Read(Public("tile/1/000")), *HashTile(tree, {false, 1, 0, 256}));
  EXPECT_EQ(Read(Public("tile/1/001.p/17")), *HashTile(tree, {false, 1, 1, 17}));
  EXPECT_EQ(Read(Public("tile/2/000.p/1")), *HashTile(tree, {false, 2, 0, 1}));
  EXPECT_FALSE(fs::exists(Public("tile/1/000.p")));
  auto text = note::Open(Read(Public("checkpoint")),
                         *note::VerifierKey("veta.test/tiles", key_.public_key()));
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(note::ParseCheckpointText(*text)->size, 70000u);
  // No temporary file is left behind.
  for (auto& f : fs::recursive_directory_iterator(dir_.path())) {
    EXPECT_EQ(f.path().string().find(".tmp"), std::string::npos) << f.path();
  }
}

TEST_F(WriterTest, ResumesAndRebuildsWhatIsMissing) {
  SyntheticTree tree(1000);
  {
    TileWriter writer(Options());
    ASSERT_TRUE(writer.PublishOnce(Source(tree)).ok());
  }
  // A full tile lost, a bundle corrupted to the wrong length: a new writer puts them back.
  ASSERT_TRUE(fs::remove(Public("tile/0/001")));
  fs::resize_file(Public("tile/0/002"), 100);
  tree.Grow(1100);
  TileWriter writer(Options());
  ASSERT_TRUE(writer.PublishOnce(Source(tree)).ok());
  EXPECT_EQ(Read(Public("tile/0/001")), *HashTile(tree, {false, 0, 1, 256}));
  EXPECT_EQ(Read(Public("tile/0/002")), *HashTile(tree, {false, 0, 2, 256}));
  EXPECT_EQ(Read(Public("tile/0/004.p/76")), *HashTile(tree, {false, 0, 4, 76}));
  // The partial of size 1000 (003.p/232) had its full tile written: gone after the grace.
  EXPECT_FALSE(fs::exists(Public("tile/0/003.p")));
  EXPECT_EQ(note::ParseCheckpointText(
                *note::Open(Read(Public("checkpoint")),
                            *note::VerifierKey("veta.test/tiles", key_.public_key())))
                ->size,
            1100u);
}

TEST_F(WriterTest, KeepsPartialsForTheirGrace) {
  SyntheticTree tree(300);
  TileWriterOptions options = Options();
  options.partial_grace = std::chrono::hours(1);
  TileWriter writer(options);
  ASSERT_TRUE(writer.PublishOnce(Source(tree)).ok());
  tree.Grow(600);
  ASSERT_TRUE(writer.PublishOnce(Source(tree)).ok());
  // A client that read checkpoint 300 a moment ago still finds its partial tile.
  EXPECT_EQ(Read(Public("tile/0/001.p/44")), *HashTile(tree, {false, 0, 1, 44}));
  EXPECT_TRUE(fs::exists(Public("tile/0/001")));
}

TEST_F(WriterTest, RefusesAnotherLogsFolderAndALargerTree) {
  SyntheticTree tree(500);
  {
    TileWriter writer(Options());
    ASSERT_TRUE(writer.PublishOnce(Source(tree, "veta.test/other")).ok());
  }
  const std::string before = Read(Public("checkpoint"));
  {
    TileWriter writer(Options());
    absl::Status s = writer.PublishOnce(Source(tree));
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_NE(s.message().find("another log"), std::string_view::npos) << s;
  }
  EXPECT_EQ(Read(Public("checkpoint")), before);  // nothing changed

  TempDir other;
  TileWriterOptions options = Options();
  options.dir = other.Sub("tiles");
  {
    TileWriter writer(options);
    ASSERT_TRUE(writer.PublishOnce(Source(tree)).ok());
  }
  SyntheticTree smaller(400);
  TileWriter writer(options);
  absl::Status s = writer.PublishOnce(Source(smaller));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("covers 500"), std::string_view::npos) << s;
}

// Every file under `root`, by path relative to it, with its bytes.
std::map<std::string, std::string> Files(const std::string& root) {
  std::map<std::string, std::string> out;
  if (!fs::exists(root)) return out;
  for (auto& f : fs::recursive_directory_iterator(root)) {
    if (f.is_regular_file()) out[fs::relative(f.path(), root).string()] = Read(f.path().string());
  }
  return out;
}

// The tiles and bundles of `tree` at its size, as a writer that checked them would leave them.
void ExpectTilesOf(const SyntheticTree& tree, const std::string& tiles,
                   const std::string& bundles) {
  for (const TileRef& t : NewFullTiles(0, tree.size())) {
    if (t.entries) {
      auto entries = ParseEntryBundle(Read(StrCat(bundles, "/", TilePath(t))));
      ASSERT_TRUE(entries.ok()) << TilePath(t);
      for (uint32_t i = 0; i < t.width; ++i) {
        EXPECT_EQ((*entries)[i], tree.Entry(t.index * kTileWidth + i)) << TilePath(t);
      }
    } else {
      EXPECT_EQ(Read(StrCat(tiles, "/", TilePath(t))), *HashTile(tree, t)) << TilePath(t);
    }
  }
  for (const TileRef& t : PartialTiles(tree.size())) {
    if (!t.entries) {
      EXPECT_EQ(Read(StrCat(tiles, "/", TilePath(t))), *HashTile(tree, t)) << TilePath(t);
    }
  }
}

// A folder whose tiles do not match the ledger (a hash tile altered on disk, a bundle
// altered, another ledger's tiles under the same origin and key) is moved aside, kept for
// inspection, and the tiles are rebuilt from the ledger: nothing of the other tree is left
// where it is served.
TEST_F(WriterTest, AnAlteredTileOnTheRightEdgeMovesTheFolderAside) {
  for (const std::string altered : {"tiles/tile/0/002", "tiles/tile/0/003.p/232",
                                    "tiles/tile/1/000.p/3", "bundles/tile/entries/003.p/232"}) {
    SCOPED_TRACE(altered);
    TempDir dir;
    TileWriterOptions options = Options();
    options.dir = dir.Sub("tiles");
    options.bundles_dir = dir.Sub("bundles");
    SyntheticTree tree(1000);
    {
      TileWriter writer(options);
      ASSERT_TRUE(writer.PublishOnce(Source(tree)).ok());
    }
    // One byte changed, the length kept (a length that is wrong is repaired in place).
    std::string bytes = Read(dir.Sub(altered));
    bytes[bytes.size() - 1] ^= 1;
    ASSERT_TRUE(WriteFileAtomic(dir.Sub(altered), bytes).ok());
    const auto before_tiles = Files(options.dir);
    const auto before_bundles = Files(options.bundles_dir);

    TileWriter writer(options);
    ASSERT_TRUE(writer.PublishOnce(Source(tree)).ok());
    const std::vector<std::string> aside = writer.moved_aside();
    ASSERT_EQ(aside.size(), 2u);
    EXPECT_TRUE(aside[0].starts_with(options.dir + ".mismatch-")) << aside[0];
    EXPECT_TRUE(aside[1].starts_with(options.bundles_dir + ".mismatch-")) << aside[1];
    // Kept as they were; rebuilt where they are served.
    EXPECT_EQ(Files(aside[0]), before_tiles);
    EXPECT_EQ(Files(aside[1]), before_bundles);
    ExpectTilesOf(tree, options.dir, options.bundles_dir);
    EXPECT_EQ(Read(options.dir + "/checkpoint"), *Source(tree).checkpoint_note());
  }
}

TEST_F(WriterTest, AnotherLedgersFolderWithTheSameOriginAndKeyIsMovedAside) {
  // The same origin, the same key, the same size: entry 7 differs (a fork of the log, or
  // another copy of it restored over this one).
  SyntheticTree other(700, {{7, 20}});
  {
    TileWriter writer(Options());
    ASSERT_TRUE(writer.PublishOnce(Source(other)).ok());
  }
  const std::string theirs = Read(Public("checkpoint"));
  SyntheticTree tree(700);
  ASSERT_NE(other.Root(), tree.Root());
  TileWriter writer(Options());
  ASSERT_TRUE(writer.PublishOnce(Source(tree)).ok());
  ASSERT_EQ(writer.moved_aside().size(), 2u);
  EXPECT_EQ(Read(writer.moved_aside()[0] + "/checkpoint"), theirs);
  ExpectTilesOf(tree, Options().dir, Options().bundles_dir);
  EXPECT_EQ(Read(Public("checkpoint")), *Source(tree).checkpoint_note());

  // A folder whose tree is a prefix of the ledger's (this ledger's own, older) is kept.
  tree.Grow(900);
  TileWriter next(Options());
  ASSERT_TRUE(next.PublishOnce(Source(tree)).ok());
  EXPECT_TRUE(next.moved_aside().empty());
  ExpectTilesOf(tree, Options().dir, Options().bundles_dir);
}

TEST_F(WriterTest, AFolderAheadOfTheLedgerIsRefusedUntouched) {
  SyntheticTree ahead(800);
  {
    TileWriter writer(Options());
    ASSERT_TRUE(writer.PublishOnce(Source(ahead)).ok());
  }
  const auto before_tiles = Files(Options().dir);
  const auto before_bundles = Files(Options().bundles_dir);
  SyntheticTree tree(600);
  TileWriter writer(Options());
  writer.Start(Source(tree));
  absl::Status s = writer.WaitForSize(600, std::chrono::minutes(1));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  writer.Stop();
  // Refused, and said so to whoever serves the folder (veta-server's HTTP listener: 503).
  EXPECT_EQ(writer.refused().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(writer.refused().message().find("covers 800"), std::string_view::npos)
      << writer.refused();
  EXPECT_TRUE(writer.moved_aside().empty());
  EXPECT_EQ(Files(Options().dir), before_tiles);
  EXPECT_EQ(Files(Options().bundles_dir), before_bundles);
}

TEST_F(WriterTest, ItsThreadStopsOnAnotherLogsFolder) {
  SyntheticTree tree(300);
  {
    TileWriter writer(Options());
    ASSERT_TRUE(writer.PublishOnce(Source(tree, "veta.test/other")).ok());
  }
  TileWriter writer(Options());
  writer.Start(Source(tree));
  absl::Status s = writer.WaitForSize(300, std::chrono::minutes(1));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  writer.Notify();
  writer.Stop();  // returns: the thread has ended, not retrying forever
  EXPECT_EQ(writer.published_size(), 0u);
  EXPECT_EQ(writer.refused().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(WriterTest, AnEntryTooLongForABundleSkipsOnlyItsBundle) {
  SyntheticTree tree(600, {{300, 70000}});
  TileWriter writer(Options());
  ASSERT_TRUE(writer.PublishOnce(Source(tree)).ok());
  EXPECT_EQ(writer.skipped_bundles(), std::vector<uint64_t>{1});
  EXPECT_TRUE(fs::exists(Bundle("tile/entries/000")));
  EXPECT_FALSE(fs::exists(Bundle("tile/entries/001")));
  EXPECT_TRUE(fs::exists(Bundle("tile/entries/002.p/88")));
  EXPECT_EQ(Read(Public("tile/0/001")), *HashTile(tree, {false, 0, 1, 256}));
  EXPECT_EQ(writer.published_size(), 600u);
}

// The level-0 hash tile and the bundle come from one read of the entries, checked against the
// tree (a full tile's leaves against the node above them, a partial tile's one by one): an
// entry that does not hash to its leaf publishes neither, nor the checkpoint.
TEST_F(WriterTest, AnEntryThatDoesNotHashToItsLeafIsNeverPublished) {
  for (const uint64_t bad : {300u, 550u}) {  // in full tile 1; in partial tile 2 (width 88)
    SCOPED_TRACE(bad);
    TempDir dir;
    TileWriterOptions options = Options();
    options.dir = dir.Sub("tiles");
    options.bundles_dir = dir.Sub("bundles");
    SyntheticTree tree(600);
    TileSource source = Source(tree);
    source.entries = [&tree, bad](uint64_t start, uint32_t count) {
      std::vector<std::string> out;
      for (uint64_t i = start; i < start + count; ++i) {
        out.push_back(i == bad ? "another entry" : tree.Entry(i));
      }
      return absl::StatusOr<std::vector<std::string>>(out);
    };
    TileWriter writer(options);
    absl::Status s = writer.PublishOnce(source);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_NE(s.message().find(StrCat("entry ", bad, " does not hash")), std::string_view::npos)
        << s;
    EXPECT_FALSE(fs::exists(options.dir + "/checkpoint"));
    const TileRef tile = bad == 300 ? TileRef{false, 0, 1, 256} : TileRef{false, 0, 2, 88};
    EXPECT_FALSE(fs::exists(StrCat(options.dir, "/", TilePath(tile))));
    EXPECT_FALSE(fs::exists(StrCat(options.bundles_dir, "/", TilePath({true, 0, 1, 256}))));
    EXPECT_EQ(writer.published_size(), 0u);
  }
}

TEST_F(WriterTest, NoBundlesWhenTheirFolderIsNotGiven) {
  SyntheticTree tree(300);
  TileWriterOptions options = Options();
  options.bundles_dir.clear();
  TileWriter writer(options);
  ASSERT_TRUE(writer.PublishOnce(Source(tree)).ok());
  EXPECT_TRUE(fs::exists(Public("tile/0/000")));
  EXPECT_FALSE(fs::exists(Bundle("tile")));
  EXPECT_FALSE(fs::exists(Public("tile/entries")));
}

// A real ledger feeding the writer's thread through on_checkpoint: the bundles hold the very
// bytes the ledger's leaves hash, and the published checkpoint is the ledger's.
class LedgerTilesTest : public testing::RegistryFixture {};

TEST_F(LedgerTilesTest, FollowsTheLedgersCheckpoints) {
  TempDir dir;
  TileWriterOptions options;
  options.dir = dir.Sub("tiles");
  options.bundles_dir = dir.Sub("bundles");
  TileWriter writer(options);
  ledger_.reset();
  LedgerOptions lo = BaseOptions();
  lo.checkpoint_interval = std::chrono::milliseconds(0);
  lo.on_checkpoint = [&writer](uint64_t) { writer.Notify(); };
  auto opened = Ledger::Open(lo, authority_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ledger_ = std::move(*opened);
  StoreNodeReader nodes(ledger_->store());
  TileSource source;
  source.nodes = &nodes;
  source.entries = [this](uint64_t start, uint32_t count) {
    return ledger_->ListEntries(start, count);
  };
  source.checkpoint_note = [this]() -> absl::StatusOr<std::string> {
    return ledger_->LatestCheckpoint().note();
  };
  writer.Start(source);
  for (int i = 0; i < 300; ++i) {
    ExpectAccepted(Sign(kMemoType, payloads::MemoOf(StrCat("memo ", i), "", i + 1), {registrar_}));
  }
  const uint64_t size = ledger_->size();
  ASSERT_TRUE(writer.WaitForSize(size, std::chrono::minutes(1)).ok());
  writer.Stop();
  EXPECT_EQ(Read(options.dir + "/checkpoint"), ledger_->LatestCheckpoint().note());
  auto bundle = ParseEntryBundle(Read(options.bundles_dir + "/tile/entries/000"));
  ASSERT_TRUE(bundle.ok());
  ASSERT_EQ(bundle->size(), 256u);
  for (uint64_t i : {0, 1, 255}) EXPECT_EQ((*bundle)[i], *ledger_->GetEntry(i)) << i;
  const uint32_t width = static_cast<uint32_t>(size % 256);
  auto partial = ParseEntryBundle(Read(StrCat(options.bundles_dir, "/tile/entries/001.p/", width)));
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->back(), *ledger_->GetEntry(size - 1));
  EXPECT_EQ(Read(StrCat(options.dir, "/tile/0/001.p/", width)),
            *HashTile(nodes, {false, 0, 1, width}));
}

}  // namespace
}  // namespace veta::tiles
