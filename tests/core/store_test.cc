// The storage layer's contract, held by both stores: what the rules and the read side rely on
// (order, prefixes, atomic batches, snapshots), on RocksDB and in memory alike.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/base/check.h"
#include "core/storage/memory_store.h"
#include "core/storage/rocks_store.h"
#include "core/storage/schema.h"
#include "core/verify/sha256.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/file_checksum.h"
#include "tests/core/test_util.h"

namespace veta {
namespace {

class StoreContractTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      auto opened = RocksStore::Open(dir_.Sub("db"), RocksStore::Mode::kCreate);
      ASSERT_TRUE(opened.ok()) << opened.status();
      store_ = std::move(*opened);
    } else {
      store_ = std::make_unique<MemoryStore>();
    }
  }

  std::vector<std::string> Keys(const Reader& r, Family f) {
    std::vector<std::string> out;
    auto it = r.NewCursor(f);
    for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace_back(it->key());
    EXPECT_TRUE(it->status().ok());
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreContractTest, ABatchIsAppliedWholeAndFamiliesAreApart) {
  auto batch = store_->NewBatch();
  batch->Put(Family::kState, "b", "2");
  batch->Put(Family::kState, "a", "1");
  batch->Put(Family::kEvidence, "a", "other family");
  EXPECT_EQ(batch->Count(), 3u);
  EXPECT_TRUE(absl::IsNotFound(store_->Get(Family::kState, "a").status()));  // not yet written
  ASSERT_TRUE(store_->Write(*batch, true).ok());
  EXPECT_EQ(*store_->Get(Family::kState, "a"), "1");
  EXPECT_EQ(*store_->Get(Family::kEvidence, "a"), "other family");
  EXPECT_TRUE(absl::IsNotFound(store_->Get(Family::kEntries, "a").status()));
  EXPECT_EQ(Keys(*store_, Family::kState), (std::vector<std::string>{"a", "b"}));
}

// A batch's rows of one key are applied in the order they were staged, whatever the store does
// with the order of the others (RocksStore hands them to RocksDB sorted by family and key).
TEST_P(StoreContractTest, ABatchAppliesRowsOfOneKeyInTheOrderStaged) {
  ASSERT_TRUE(PutRow(*store_, Family::kState, "gone", "before").ok());
  auto batch = store_->NewBatch();
  batch->Put(Family::kState, "z", "first");
  batch->Put(Family::kEvidence, "z", "other family");
  batch->Put(Family::kState, "a", "1");
  batch->Put(Family::kState, "z", "second");
  batch->Delete(Family::kState, "gone");
  batch->Put(Family::kState, "back", "deleted");
  batch->Delete(Family::kState, "back");
  batch->Put(Family::kState, "back", "put again");
  batch->Put(Family::kState, "z", "last");
  batch->Delete(Family::kState, "never");
  EXPECT_EQ(batch->Count(), 10u);
  ASSERT_TRUE(store_->Write(*batch, true).ok());
  EXPECT_EQ(*store_->Get(Family::kState, "z"), "last");
  EXPECT_EQ(*store_->Get(Family::kEvidence, "z"), "other family");
  EXPECT_EQ(*store_->Get(Family::kState, "back"), "put again");
  EXPECT_TRUE(absl::IsNotFound(store_->Get(Family::kState, "gone").status()));
  EXPECT_EQ(Keys(*store_, Family::kState), (std::vector<std::string>{"a", "back", "z"}));
}

// MultiGet answers each key as Get does, in the keys' order: rows in table files and in the
// memtable, absent keys, a key asked twice, and no keys at all.
TEST_P(StoreContractTest, MultiGetAnswersEachKeyAsGetDoes) {
  ASSERT_TRUE(PutRow(*store_, Family::kStatements, "flushed", "1").ok());
  ASSERT_TRUE(PutRow(*store_, Family::kStatements, "deleted", "gone").ok());
  ASSERT_TRUE(store_->FlushAll().ok());  // RocksDB: these two are in a table file now
  ASSERT_TRUE(PutRow(*store_, Family::kStatements, "recent", "2").ok());
  ASSERT_TRUE(DeleteRow(*store_, Family::kStatements, "deleted").ok());
  ASSERT_TRUE(PutRow(*store_, Family::kState, "other family", "3").ok());
  const std::vector<std::string_view> keys = {"recent",  "absent",       "flushed",
                                              "deleted", "other family", "recent"};
  auto values = store_->MultiGet(Family::kStatements, keys);
  ASSERT_EQ(values.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    auto one = store_->Get(Family::kStatements, keys[i]);
    EXPECT_EQ(values[i].status().code(), one.status().code()) << keys[i];
    if (one.ok() && values[i].ok()) {
      EXPECT_EQ(*values[i], *one) << keys[i];
    }
  }
  EXPECT_EQ(*values[0], "2");
  EXPECT_TRUE(absl::IsNotFound(values[1].status()));
  EXPECT_EQ(*values[2], "1");
  EXPECT_TRUE(absl::IsNotFound(values[3].status()));
  EXPECT_TRUE(absl::IsNotFound(values[4].status()));
  EXPECT_EQ(*values[5], "2");
  EXPECT_TRUE(store_->MultiGet(Family::kStatements, {}).empty());
}

TEST_P(StoreContractTest, CursorsSeekInByteOrderBothWays) {
  auto batch = store_->NewBatch();
  for (uint64_t v : {5u, 1u, 300u, 42u}) batch->Put(Family::kEntries, EncodeU64(v), "x");
  ASSERT_TRUE(store_->Write(*batch, false).ok());
  auto it = store_->NewCursor(Family::kEntries);
  uint64_t v = 0;
  it->Seek(EncodeU64(6));
  ASSERT_TRUE(it->Valid() && DecodeU64(it->key(), &v));
  EXPECT_EQ(v, 42u);  // big-endian keys: byte order is numeric order
  it->SeekForPrev(EncodeU64(41));
  ASSERT_TRUE(it->Valid() && DecodeU64(it->key(), &v));
  EXPECT_EQ(v, 5u);
  it->Prev();
  ASSERT_TRUE(it->Valid() && DecodeU64(it->key(), &v));
  EXPECT_EQ(v, 1u);
  it->Prev();
  EXPECT_FALSE(it->Valid());
  it->SeekToLast();
  ASSERT_TRUE(it->Valid() && DecodeU64(it->key(), &v));
  EXPECT_EQ(v, 300u);
  it->Next();
  EXPECT_FALSE(it->Valid());
  it->Seek(EncodeU64(301));
  EXPECT_FALSE(it->Valid());
  EXPECT_EQ(*store_->EntryCount(), 301u);
}

TEST_P(StoreContractTest, ASnapshotDoesNotSeeLaterWrites) {
  ASSERT_TRUE(PutRow(*store_, Family::kState, "L1", "old").ok());
  auto snapshot = store_->Snapshot();
  ASSERT_TRUE(PutRow(*store_, Family::kState, "L1", "new").ok());
  ASSERT_TRUE(PutRow(*store_, Family::kState, "L2", "later").ok());
  ASSERT_TRUE(DeleteRow(*store_, Family::kState, "L1").ok());
  EXPECT_EQ(*snapshot->Get(Family::kState, "L1"), "old");
  EXPECT_TRUE(absl::IsNotFound(snapshot->Get(Family::kState, "L2").status()));
  EXPECT_EQ(Keys(*snapshot, Family::kState), (std::vector<std::string>{"L1"}));
  EXPECT_TRUE(absl::IsNotFound(store_->Get(Family::kState, "L1").status()));
  EXPECT_EQ(Keys(*store_, Family::kState), (std::vector<std::string>{"L2"}));
}

TEST_P(StoreContractTest, ACursorOutlivesWritesAroundIt) {
  ASSERT_TRUE(PutRow(*store_, Family::kState, "a", "1").ok());
  ASSERT_TRUE(PutRow(*store_, Family::kState, "c", "3").ok());
  auto it = store_->NewCursor(Family::kState);
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "a");
  ASSERT_TRUE(PutRow(*store_, Family::kState, "b", "2").ok());
  it->Next();  // either order is a consistent read; it must not crash or skip "c"
  ASSERT_TRUE(it->Valid());
  if (it->key() == "b") it->Next();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "c");
  EXPECT_EQ(it->value(), "3");
}

TEST_P(StoreContractTest, ABatchOfAnotherStoreIsRefused) {
  MemoryStore other;
  auto foreign = other.NewBatch();
  foreign->Put(Family::kState, "a", "1");
  EXPECT_EQ(store_->Write(*foreign, false).code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(absl::IsNotFound(store_->Get(Family::kState, "a").status()));
}

// A leaf is found by its hash alone in whichever bucket holds it, only among the entries of
// the log's size; a row in another bucket than its entry's is data loss, not an answer.
TEST_P(StoreContractTest, ALeafIsFoundByItsHashInAnyBucket) {
  auto leaf = [](uint64_t seq) { return std::string(AsBytes(Sha256Of(StrCat("entry ", seq)))); };
  const uint64_t seqs[] = {0, 3, (1u << kLeafBucketBits) - 1, 1u << kLeafBucketBits, 200000};
  auto batch = store_->NewBatch();
  for (uint64_t seq : seqs) batch->Put(Family::kLeaves, LeafKey(seq, leaf(seq)), EncodeU64(seq));
  ASSERT_TRUE(store_->Write(*batch, true).ok());
  EXPECT_EQ(LeafBuckets(0), 0u);
  EXPECT_EQ(LeafBuckets(1u << kLeafBucketBits), 1u);
  EXPECT_EQ(LeafBuckets(200001), 4u);
  for (uint64_t seq : seqs) {
    auto found = store_->FindLeaf(leaf(seq), 200001);
    ASSERT_TRUE(found.ok()) << seq << ": " << found.status();
    EXPECT_EQ(*found, seq);
  }
  // Beyond the log's size: not an entry yet.
  EXPECT_TRUE(absl::IsNotFound(
      store_->FindLeaf(leaf(1u << kLeafBucketBits), 1u << kLeafBucketBits).status()));
  EXPECT_TRUE(absl::IsNotFound(store_->FindLeaf(leaf(200000), 200000).status()));
  EXPECT_TRUE(absl::IsNotFound(store_->FindLeaf(leaf(7), 200001).status()));
  // The keys of a later bucket sort after an earlier bucket's, whatever their hashes.
  EXPECT_LT(LeafKey((1u << kLeafBucketBits) - 1, std::string(32, '\xff')),
            LeafKey(1u << kLeafBucketBits, std::string(32, '\0')));
  uint64_t bucket = 0;
  std::string_view hash;
  const std::string key = LeafKey(200000, leaf(200000));
  ASSERT_TRUE(DecodeLeafKey(key, &bucket, &hash));
  EXPECT_EQ(bucket, 200000u >> kLeafBucketBits);
  EXPECT_EQ(hash, leaf(200000));
  EXPECT_FALSE(DecodeLeafKey(leaf(1), &bucket, &hash));
  // A row that names an entry of another bucket.
  ASSERT_TRUE(PutRow(*store_, Family::kLeaves, LeafKey(5, leaf(99)), EncodeU64(70000)).ok());
  EXPECT_EQ(store_->FindLeaf(leaf(99), 200001).status().code(), absl::StatusCode::kDataLoss);
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreContractTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "RocksDB" : "Memory";
                         });

TEST(SchemaTest, ASequenceOfTheWrongSizeIsDataLoss) {
  EXPECT_EQ(*DecodeSequence(EncodeU64(7), "a row"), 7u);
  auto bad = DecodeSequence("1234567", "the statement row");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(bad.status().message()).find("the statement row holds 7 bytes"),
            std::string::npos);
}

TEST(SchemaTest, IndexPrefixesDoNotCaptureLongerNames) {
  // A party "2012" must not list the attempts of party "20123".
  veta::v1::Attempt a;
  a.set_number(3);
  a.add_parties("20123");
  for (const auto& key : AttemptIndexKeys(a)) {
    EXPECT_FALSE(key.starts_with(AttemptsByPartyPrefix("2012"))) << key;
  }
  EXPECT_TRUE(AttemptIndexKeys(a)[0].starts_with(AttemptsByPartyPrefix("20123")));
}

// The statement index is compacted by runs of like size (universal compaction): an entry's
// random key is rewritten a few times, not once per level (tools/scale-bench.sh measures what
// it buys). A folder whose index families were compacted by levels, as RocksDB does by
// default, opens with today's options: its rows read back, and new rows join them.
TEST(RocksStoreTest, IndexesWrittenByLevelsOpenAndGrowByRuns) {
  testing::TempDir dir;
  const std::string path = dir.Sub("db");
  constexpr Family kIndexes[] = {Family::kLeaves, Family::kStatements};
  auto key = [](int i) { return std::string(AsBytes(Sha256Of(StrCat("statement ", i)))); };
  {  // A folder as earlier versions wrote it: RocksDB's defaults, level compaction.
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    options.file_checksum_gen_factory = rocksdb::GetFileChecksumGenCrc32cFactory();
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (size_t f = 0; f < kFamilyCount; ++f) {
      families.emplace_back(std::string(FamilyName(static_cast<Family>(f))),
                            rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, path, families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    auto h = [&](Family f) { return handles[static_cast<size_t>(f)]; };
    ASSERT_TRUE(
        db->Put({}, h(Family::kMeta), std::string(kFormatKey), std::string(kFormatValue)).ok());
    for (int i = 0; i < 300; ++i) {
      for (Family f : kIndexes) {
        ASSERT_TRUE(db->Put({}, h(f), key(i), EncodeU64(i)).ok());
      }
      if (i % 100 == 99) {
        ASSERT_TRUE(db->Flush({}, handles).ok());
      }
    }
    for (Family f : kIndexes) {
      ASSERT_TRUE(db->CompactRange({}, h(f), nullptr, nullptr).ok());
      std::string level0;
      ASSERT_TRUE(db->GetProperty(h(f), "rocksdb.num-files-at-level0", &level0));
      EXPECT_EQ(level0, "0") << "the rows are in a deeper level, as level compaction leaves them";
    }
    for (auto* handle : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  for (int round = 0; round < 2; ++round) {
    auto opened = RocksStore::Open(path, RocksStore::Mode::kReadWrite);
    ASSERT_TRUE(opened.ok()) << opened.status();
    RocksStore& store = **opened;
    for (Family f : kIndexes) {
      EXPECT_EQ(store.db()->GetOptions(store.handle(f)).compaction_style,
                f == Family::kStatements ? rocksdb::kCompactionStyleUniversal
                                         : rocksdb::kCompactionStyleLevel)
          << FamilyName(f);
      for (int i = 0; i < 300 + 100 * round; ++i) {
        auto row = store.Get(f, key(i));
        ASSERT_TRUE(row.ok()) << FamilyName(f) << " row " << i << ": " << row.status();
        EXPECT_EQ(*row, EncodeU64(i));
      }
    }
    auto batch = store.NewBatch();
    for (int i = 300 + 100 * round; i < 400 + 100 * round; ++i) {
      for (Family f : kIndexes) batch->Put(f, key(i), EncodeU64(i));
    }
    ASSERT_TRUE(store.Write(*batch, true).ok());
    ASSERT_TRUE(store.FlushAll().ok());
  }
  auto reopened = RocksStore::Open(path, RocksStore::Mode::kReadOnly);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  StorageReport report;
  EXPECT_TRUE((*reopened)->VerifyStorage(&report).ok());
  for (Family f : kIndexes) EXPECT_EQ(*(*reopened)->Get(f, key(499)), EncodeU64(499));
}

// The leaves family's table files are cut at each bucket: a compaction never writes a file
// that spans two buckets, so the files of older buckets are never merged again.
TEST(RocksStoreTest, LeafTableFilesHoldOneBucketEach) {
  testing::TempDir dir;
  auto opened = RocksStore::Open(dir.Sub("db"), RocksStore::Mode::kCreate);
  ASSERT_TRUE(opened.ok()) << opened.status();
  RocksStore& store = **opened;
  constexpr uint64_t kBucket = uint64_t{1} << kLeafBucketBits;
  for (uint64_t bucket = 0; bucket < 4; ++bucket) {
    auto batch = store.NewBatch();
    for (uint64_t i = 0; i < 50; ++i) {
      const uint64_t seq = bucket * kBucket + i * 1000;
      batch->Put(Family::kLeaves, LeafKey(seq, AsBytes(Sha256Of(StrCat(seq)))), EncodeU64(seq));
    }
    ASSERT_TRUE(store.Write(*batch, false).ok());
  }
  ASSERT_TRUE(store.FlushAll().ok());
  ASSERT_TRUE(store.db()->CompactRange({}, store.handle(Family::kLeaves), nullptr, nullptr).ok());
  std::vector<rocksdb::LiveFileMetaData> files;
  store.db()->GetLiveFilesMetaData(&files);
  std::set<uint64_t> buckets;
  for (const auto& file : files) {
    if (file.column_family_name != "leaves") continue;
    uint64_t first = 0, last = 0;
    std::string_view hash;
    ASSERT_TRUE(DecodeLeafKey(file.smallestkey, &first, &hash));
    ASSERT_TRUE(DecodeLeafKey(file.largestkey, &last, &hash));
    EXPECT_EQ(first, last) << file.name << " spans buckets " << first << " to " << last;
    buckets.insert(first);
  }
  EXPECT_EQ(buckets, (std::set<uint64_t>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace veta

namespace veta {
namespace {

// An invariant stays checked in a release build, and says where and what.
TEST(CheckDeathTest, ABrokenInvariantStopsTheProcessAndSaysWhy) {
  const int written = 2;
  EXPECT_DEATH(VETA_CHECK(written == 1, "one entry per sequence"),
               "invariant broken at .*store_test.cc:[0-9]+: written == 1 \\(one entry per "
               "sequence\\)");
  VETA_CHECK(written == 2, "not reached");  // holds: nothing happens
}

}  // namespace
}  // namespace veta
