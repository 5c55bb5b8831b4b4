// The audit against tampering with what the ledger derives and with the bytes it stores: one
// row of each derived family edited consistently (a valid value, checksums intact, written
// through RocksDB on a stopped ledger), and single bytes flipped in places RocksDB itself
// never reads back (Bloom filters, footer padding, a MANIFEST record's length, OPTIONS,
// IDENTITY). Every test starts from a copy of one ledger with every kind of content.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "core/log/ledger.h"
#include "core/read/audit.h"
#include "core/rules/registry.h"
#include "core/storage/rocks_store.h"
#include "core/storage/store.h"
#include "core/verify/keys.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "tests/core/custody_fixture.h"
#include "tests/core/test_util.h"

namespace veta {
namespace {

namespace fs = std::filesystem;
using veta::testing::TempDir;

// Builds the ledger once: registry records, keys, extractions (one flagged by a scar), sales
// (one flagged as cash), a blend processed into gold, a gold sale, an export, a correction,
// refused attempts naming parties and units; then stops it.
class GoldenLedger : public veta::testing::CustodyFixture {
 public:
  GoldenLedger() { on_disk_ = true; }  // copied as files, then edited through RocksDB
  void TestBody() override {}

  void Build(const std::string& to) {
    SetUp();
    ExpectAccepted(
        Registry(ZoneRecord("CN-1", veta::v1::PROHIBITED_INDIGENOUS_TERRITORY,
                            veta::testing::Square(kLonB + 0.008, kLatB + 0.008, 0.004))));
    ExpectAccepted(Registry(ZoneRecord("SCAR-1", veta::v1::DETECTED_MINING_SCAR,
                                       veta::testing::Square(kLonA - 0.01, kLatA - 0.01, 0.003))));
    BlendTwoUnits();
    ExpectAccepted(Extraction("LS", miner_a_, "UA", kLonA - 0.009, kLatA - 0.009, 10_kg, key_a_));
    Extract("LC", "UC", 500_kg, 5_gpt);
    veta::v1::Sale cash = SaleOf("LC", miner_b_, trader_, "TC", 400_kg);
    cash.set_payment(veta::v1::CASH);
    cash.set_price_cents(45000_soles);
    SubmitResult flagged = ExpectAccepted(Sign(kSaleType, cash, {key_b_, trader_key_}));
    EXPECT_EQ(flagged.flags.size(), 1u);
    ExpectAccepted(ExportEnvelope("E1"));
    SubmitResult voided = Extract("LX", "UB", 50_kg, 3_gpt);
    ExpectAccepted(CorrectionEnvelope(voided.sequence, {registrar_}));
    ExpectRefused(Extraction("X1", miner_b_, "UB", kLonB + 0.008, kLatB + 0.008, 10_kg, key_b_),
                  veta::v1::POINT_IN_PROHIBITED_ZONE);
    ExpectRefused(SellEnvelope("LC", miner_b_, trader_, "TD", 1000_kg),
                  veta::v1::QUANTITY_EXCEEDS_LOT);
    ExpectRefused(Extraction("X2", miner_a_, "UA", kLonA, kLatA, 50000_kg, key_a_),
                  veta::v1::UNIT_CAPACITY_EXCEEDED);
    ledger_.reset();  // a clean stop: every family flushed to table files
    fs::copy(dir_.path(), to, fs::copy_options::recursive);
  }
};

class AuditStorageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    golden_ = new TempDir();
    GoldenLedger builder;
    builder.Build(golden_->Sub("data"));
  }
  static void TearDownTestSuite() {
    delete golden_;
    golden_ = nullptr;
  }

  void SetUp() override {
    ASSERT_FALSE(HasFatalFailure());
    fs::copy(golden_->Sub("data"), data(), fs::copy_options::recursive);
  }

  std::string data() const { return dir_.Sub("data"); }
  std::string db() const { return DatabasePath(data()); }

  // Edits the stopped ledger through RocksDB (checksums stay valid).
  void Edit(const std::function<void(RocksStore&)>& edit) {
    auto store = RocksStore::Open(db(), RocksStore::Mode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status();
    edit(**store);
  }

  // The rows of a family whose key starts with `prefix`.
  std::vector<std::pair<std::string, std::string>> Rows(const RocksStore& store,
                                                        rocksdb::ColumnFamilyHandle* cf,
                                                        const std::string& prefix = "") {
    std::vector<std::pair<std::string, std::string>> rows;
    std::unique_ptr<rocksdb::Iterator> it(store.db()->NewIterator(rocksdb::ReadOptions(), cf));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      rows.emplace_back(it->key().ToString(), it->value().ToString());
    }
    EXPECT_TRUE(it->status().ok());
    return rows;
  }

  void ExpectCaught(const std::vector<std::string>& words) {
    AuditReport report = AuditLedger(data());
    EXPECT_EQ(report.status.code(), absl::StatusCode::kDataLoss) << report.status;
    for (const auto& w : words) {
      EXPECT_NE(std::string(report.status.message()).find(w), std::string::npos)
          << "'" << w << "' not in: " << report.status.message();
    }
  }

  // A table file of `family` (the largest).
  std::string TableOf(const std::string& family) {
    auto store = RocksStore::Open(db(), RocksStore::Mode::kReadOnly);
    EXPECT_TRUE(store.ok()) << store.status();
    std::vector<rocksdb::LiveFileMetaData> files;
    (*store)->db()->GetLiveFilesMetaData(&files);
    std::string best;
    uint64_t best_size = 0;
    for (const auto& f : files) {
      if (f.column_family_name == family && f.size > best_size) {
        best = f.db_path + "/" + f.relative_filename;
        best_size = f.size;
      }
    }
    EXPECT_FALSE(best.empty()) << "no table file for " << family;
    return best;
  }

  static std::string ReadAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  static void Flip(const std::string& path, uint64_t offset, unsigned char mask) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f) << path;
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    ASSERT_TRUE(f.get(c));
    f.seekp(static_cast<std::streamoff>(offset));
    f.put(static_cast<char>(static_cast<unsigned char>(c) ^ mask));
    ASSERT_TRUE(f.flush());
  }

  static inline TempDir* golden_ = nullptr;
  TempDir dir_;
};

// ---------------------------------------------------------------------------------------------
// A block-based table's layout (format_version 5): a 53-byte footer (checksum type, metaindex
// and index handles in 40 bytes padded with zeros, format version, magic), and a metaindex
// block naming the filter and properties blocks.

uint64_t Varint(std::string_view s, size_t* pos) {
  uint64_t v = 0;
  for (int shift = 0; *pos < s.size() && shift < 64; shift += 7) {
    const auto b = static_cast<unsigned char>(s[(*pos)++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
  }
  return v;
}

struct TableLayout {
  uint64_t footer_padding_begin = 0, footer_padding_end = 0;
  std::map<std::string, std::pair<uint64_t, uint64_t>> meta_blocks;  // name -> offset, size
};

TableLayout ParseTable(const std::string& bytes) {
  TableLayout t;
  const size_t footer = bytes.size() - 53;
  size_t pos = footer + 1;
  const uint64_t meta_offset = Varint(bytes, &pos);
  const uint64_t meta_size = Varint(bytes, &pos);
  Varint(bytes, &pos);  // index handle
  Varint(bytes, &pos);
  t.footer_padding_begin = pos;
  t.footer_padding_end = footer + 41;
  const std::string_view block = std::string_view(bytes).substr(meta_offset, meta_size);
  uint32_t restarts = 0;
  std::memcpy(&restarts, block.data() + block.size() - 4, 4);
  const size_t end = block.size() - 4 - 4 * static_cast<size_t>(restarts);
  std::string key;
  for (size_t p = 0; p < end;) {
    const uint64_t shared = Varint(block, &p);
    const uint64_t unshared = Varint(block, &p);
    const uint64_t value_size = Varint(block, &p);
    key = key.substr(0, shared) + std::string(block.substr(p, unshared));
    p += unshared;
    size_t v = p;
    const uint64_t offset = Varint(block, &v);
    const uint64_t size = Varint(block, &v);
    t.meta_blocks[key] = {offset, size};
    p += value_size;
  }
  return t;
}

// ---------------------------------------------------------------------------------------------

TEST_F(AuditStorageTest, TheUntouchedLedgerIsCleanAndEveryByteWasRead) {
  AuditReport report = AuditLedger(data());
  ASSERT_TRUE(report.status.ok()) << report.status;
  EXPECT_GT(report.attempts, 0u);
  EXPECT_GT(report.storage.table_files, 8u);
  EXPECT_EQ(report.storage.table_files_whole_checksum, report.storage.table_files);
  EXPECT_EQ(report.storage.table_files_prechecked, report.storage.table_files);
  EXPECT_EQ(report.storage.table_files_not_prechecked, 0u);
  EXPECT_GE(report.storage.log_files, 2u);       // a MANIFEST and a WAL
  EXPECT_GE(report.storage.digested_files, 2u);  // OPTIONS and IDENTITY
  EXPECT_EQ(report.storage.torn_tails, 0u);
  EXPECT_GT(report.derived_rows, 3 * report.entries);
}

TEST_F(AuditStorageTest, AttemptIndexKeysAreTheRowsTheLedgerWrote) {
  auto store = RocksStore::Open(db(), RocksStore::Mode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.status();
  std::set<std::string> derived;
  size_t attempts = 0;
  for (const auto& [key, value] : Rows(**store, (*store)->handle(Family::kAttempts))) {
    veta::v1::Attempt a;
    ASSERT_TRUE(a.ParseFromString(value));
    for (auto& k : AttemptIndexKeys(a)) derived.insert(std::move(k));
    ++attempts;
  }
  std::set<std::string> stored;
  for (const auto& [key, value] : Rows(**store, (*store)->handle(Family::kEvidence), "A")) {
    EXPECT_EQ(value, "");
    stored.insert(key);
  }
  EXPECT_EQ(attempts, 3u);
  EXPECT_EQ(stored, derived);
  EXPECT_GE(stored.size(), 3u * 3);  // party, unit and refusal rows
}

// --- one row of each derived family, edited consistently ---------------------------------------

TEST_F(AuditStorageTest, AKeyPointedAtAnotherEntryIsCaught) {
  Edit([&](RocksStore& s) {
    auto rows = Rows(s, s.handle(Family::kKeys));
    ASSERT_GT(rows.size(), 3u);
    veta::v1::KeyRecord key;
    ASSERT_TRUE(key.ParseFromString(rows[2].second));
    key.set_registered_at(key.registered_at() + 1);
    ASSERT_TRUE(PutRow(s, Family::kKeys, rows[2].first, key.SerializeAsString()).ok());
  });
  ExpectCaught({"keys family", "differs from the one the log makes"});
}

TEST_F(AuditStorageTest, AMissingKeyIsCaught) {
  Edit([&](RocksStore& s) {
    auto rows = Rows(s, s.handle(Family::kKeys));
    ASSERT_TRUE(s.db()->Delete({}, s.handle(Family::kKeys), rows.back().first).ok());
  });
  ExpectCaught({"keys family", "is missing"});
}

TEST_F(AuditStorageTest, AnExtraKeyIsCaught) {
  Edit([&](RocksStore& s) {
    const std::string keyid =
        PrivateKey::Generate(KeyAlgorithm::kEd25519)->public_key().ToProto().keyid();
    ASSERT_TRUE(s.db()->Put({}, s.handle(Family::kKeys), keyid, EncodeU64(1)).ok());
  });
  ExpectCaught({"keys family", "nothing in the log makes it"});
}

TEST_F(AuditStorageTest, AnExtraLeafIsCaught) {
  Edit([&](RocksStore& s) {
    ASSERT_TRUE(
        s.db()->Put({}, s.handle(Family::kLeaves), std::string(32, '\x5a'), EncodeU64(3)).ok());
  });
  ExpectCaught({"leaves family", "nothing in the log makes it"});
}

TEST_F(AuditStorageTest, AMissingStatementIsCaught) {
  Edit([&](RocksStore& s) {
    auto rows = Rows(s, s.handle(Family::kStatements));
    ASSERT_TRUE(
        s.db()->Delete({}, s.handle(Family::kStatements), rows[rows.size() / 2].first).ok());
  });
  ExpectCaught({"statements family", "is missing"});
}

TEST_F(AuditStorageTest, AnExtraTreeNodeIsCaught) {
  uint64_t size = 0;
  Edit([&](RocksStore& s) {
    size = *s.EntryCount();
    // A node past the end of the tree: nothing reads it, only the audit.
    ASSERT_TRUE(
        s.db()
            ->Put({}, s.handle(Family::kTree), NodeKey(0, size + 5), std::string(32, '\x11'))
            .ok());
  });
  ExpectCaught({"tree family", "nothing in the log makes it"});
}

TEST_F(AuditStorageTest, AChangedRegistryVersionIsCaught) {
  Edit([&](RocksStore& s) {
    auto rows = Rows(s, s.handle(Family::kRegistry), "U");
    ASSERT_FALSE(rows.empty());
    veta::v1::RegistryRecord r;
    ASSERT_TRUE(r.ParseFromString(rows[0].second));
    r.mutable_unit()->set_capacity_ore_g_per_day(r.unit().capacity_ore_g_per_day() * 10);
    ASSERT_TRUE(PutRow(s, Family::kRegistry, rows[0].first, r.SerializeAsString()).ok());
  });
  ExpectCaught({"registry family", "differs from the one the log makes"});
}

TEST_F(AuditStorageTest, AChangedLotIsCaught) {
  Edit([&](RocksStore& s) {
    const std::string key = LotKey("G1");
    veta::v1::Lot lot;
    ASSERT_TRUE(lot.ParseFromString(*s.Get(Family::kState, key)));
    lot.set_remaining_gold_mg(lot.remaining_gold_mg() + 1);
    ASSERT_TRUE(PutRow(s, Family::kState, key, lot.SerializeAsString()).ok());
  });
  ExpectCaught({"state family", "LG1", "differs"});
}

TEST_F(AuditStorageTest, AChangedCounterIsCaught) {
  Edit([&](RocksStore& s) {
    auto rows = Rows(s, s.handle(Family::kState), "C");
    ASSERT_FALSE(rows.empty());
    auto grams = DecodeI64(rows[0].second);
    ASSERT_TRUE(grams.ok()) << grams.status();
    ASSERT_TRUE(PutRow(s, Family::kState, rows[0].first, EncodeI64(*grams - 100_kg)).ok());
  });
  ExpectCaught({"state family", "differs"});
}

TEST_F(AuditStorageTest, AnExtraLineageEdgeIsCaught) {
  Edit([&](RocksStore& s) {
    ASSERT_TRUE(
        s.db()->Put({}, s.handle(Family::kState), ChildEdgeKey("LC", "G1"), EncodeU64(20)).ok());
  });
  ExpectCaught({"state family", "nothing in the log makes it"});
}

TEST_F(AuditStorageTest, AMissingHolderIndexRowIsCaught) {
  Edit([&](RocksStore& s) {
    auto rows = Rows(s, s.handle(Family::kState), "H");
    ASSERT_FALSE(rows.empty());
    ASSERT_TRUE(s.db()->Delete({}, s.handle(Family::kState), rows[0].first).ok());
  });
  ExpectCaught({"state family", "is missing"});
}

TEST_F(AuditStorageTest, AMissingAttemptIndexRowIsCaught) {
  Edit([&](RocksStore& s) {
    auto rows = Rows(s, s.handle(Family::kEvidence), "Ap");
    ASSERT_FALSE(rows.empty());
    ASSERT_TRUE(s.db()->Delete({}, s.handle(Family::kEvidence), rows[0].first).ok());
  });
  ExpectCaught({"evidence family", "Ap", "is missing"});
}

TEST_F(AuditStorageTest, AnAttemptIndexedUnderAnotherPartyIsCaught) {
  // A consistent edit: the row moves from one party to another, so that ListAttempts by party
  // answers without an error, and wrongly.
  Edit([&](RocksStore& s) {
    auto rows = Rows(s, s.handle(Family::kEvidence), "Ap");
    ASSERT_FALSE(rows.empty());
    const std::string& key = rows[0].first;
    const std::string moved = "Ap" + veta::testing::Ruc("2070000099") + key.substr(key.find('\0'));
    rocksdb::WriteBatch wb;
    ASSERT_TRUE(wb.Delete(s.handle(Family::kEvidence), key).ok());
    ASSERT_TRUE(wb.Put(s.handle(Family::kEvidence), moved, "").ok());
    ASSERT_TRUE(s.db()->Write({}, &wb).ok());
  });
  ExpectCaught({"evidence family", "Ap"});
}

TEST_F(AuditStorageTest, AChangedRefusalIndexRowIsCaught) {
  Edit([&](RocksStore& s) {
    auto rows = Rows(s, s.handle(Family::kEvidence), "Ar");
    ASSERT_FALSE(rows.empty());
    ASSERT_TRUE(s.db()->Put({}, s.handle(Family::kEvidence), rows[0].first, "x").ok());
  });
  ExpectCaught({"evidence family", "Ar", "differs"});
}

TEST_F(AuditStorageTest, AChangedFlagIsCaught) {
  Edit([&](RocksStore& s) {
    auto rows = Rows(s, s.handle(Family::kEvidence), "f");
    ASSERT_EQ(rows.size(), 2u);  // the scar and the cash sale
    veta::v1::Flag flag;
    ASSERT_TRUE(flag.ParseFromString(rows[0].second));
    flag.set_message("nothing to see");
    ASSERT_TRUE(
        s.db()->Put({}, s.handle(Family::kEvidence), rows[0].first, flag.SerializeAsString()).ok());
  });
  ExpectCaught({"evidence family", "differs"});
}

TEST_F(AuditStorageTest, AFlagRemovedWithItsIndexRowsIsCaught) {
  Edit([&](RocksStore& s) {
    rocksdb::WriteBatch wb;
    for (const auto& prefix : {"f", "Fp", "Fu"}) {
      for (const auto& [key, value] : Rows(s, s.handle(Family::kEvidence), prefix)) {
        ASSERT_TRUE(wb.Delete(s.handle(Family::kEvidence), key).ok());
      }
    }
    ASSERT_TRUE(s.db()->Write({}, &wb).ok());
  });
  ExpectCaught({"evidence family", "is missing"});
}

TEST_F(AuditStorageTest, AnExtraMetaRowIsCaught) {
  Edit([&](RocksStore& s) {
    ASSERT_TRUE(s.db()->Put({}, s.handle(Family::kMeta), "owner", "someone").ok());
  });
  ExpectCaught({"default family", "nothing in the log makes it"});
}

TEST_F(AuditStorageTest, TheLatestCheckpointDeletedFromTheStoreIsCaught) {
  Edit([&](RocksStore& s) {
    auto rows = Rows(s, s.handle(Family::kCheckpoints));
    ASSERT_TRUE(s.db()->Delete({}, s.handle(Family::kCheckpoints), rows.back().first).ok());
  });
  ExpectCaught({"latest checkpoint beside the database", "not in the store"});
}

TEST_F(AuditStorageTest, AnotherAuthorityKeyBesideTheDatabaseIsCaught) {
  ASSERT_TRUE(WriteFileAtomic(AuthorityKeyPath(data()),
                              PrivateKey::Generate(KeyAlgorithm::kEd25519)->ToPem(), 0600)
                  .ok());
  ExpectCaught({"authority-key.pem", "not the authority key"});
}

// --- single bytes flipped where RocksDB does not look ------------------------------------------

TEST_F(AuditStorageTest, AByteFlippedInATreeBloomFilterIsCaught) {
  const std::string table = TableOf("tree");
  const TableLayout layout = ParseTable(ReadAll(table));
  std::pair<uint64_t, uint64_t> filter{0, 0};
  for (const auto& [name, handle] : layout.meta_blocks) {
    if (name.rfind("fullfilter.", 0) == 0 || name.rfind("filter.", 0) == 0) filter = handle;
  }
  ASSERT_GT(filter.second, 8u) << "no filter block in " << table;
  // The server opens this store (a filter bit may only make a lookup read a block it could
  // have skipped): only the audit notices.
  Flip(table, filter.first + filter.second / 2, 0x10);
  ExpectCaught({"fullfilter.rocksdb.BuiltinBloomFilter block", "fails its checksum"});
}

TEST_F(AuditStorageTest, EveryByteOfAPropertiesBlockIsCheckedBeforeRocksDbReadsIt) {
  // RocksDB parses a table's properties block before it checks its checksum, and stops the
  // process on some corruptions of it: the audit checks the block first.
  const std::string table = TableOf("keys");
  const TableLayout layout = ParseTable(ReadAll(table));
  ASSERT_EQ(layout.meta_blocks.count("rocksdb.properties"), 1u);
  const auto [offset, size] = layout.meta_blocks.at("rocksdb.properties");
  ASSERT_GT(size, 100u);
  for (uint64_t i = offset; i < offset + size; ++i) {
    const auto mask = static_cast<unsigned char>(1u << (i % 8));
    Flip(table, i, mask);
    AuditReport report = AuditLedger(data());
    Flip(table, i, mask);
    ASSERT_EQ(report.status.code(), absl::StatusCode::kDataLoss) << "byte " << i;
    ASSERT_NE(std::string(report.status.message()).find("rocksdb.properties block"),
              std::string::npos)
        << report.status;
  }
  EXPECT_TRUE(AuditLedger(data()).status.ok());
}

TEST_F(AuditStorageTest, AByteFlippedInAnEvidenceTableIsCaught) {
  const std::string table = TableOf("evidence");
  Flip(table, 20, 0x01);  // inside the first data block
  ExpectCaught({"checksum", ".sst"});
}

TEST_F(AuditStorageTest, AByteFlippedInAFooterPaddingIsCaught) {
  const std::string table = TableOf("entries");
  const TableLayout layout = ParseTable(ReadAll(table));
  ASSERT_LT(layout.footer_padding_begin, layout.footer_padding_end);
  Flip(table, layout.footer_padding_end - 1, 0x40);  // RocksDB ignores the padding
  ExpectCaught({".sst", "footer's padding is not zero"});
}

TEST_F(AuditStorageTest, AFooterFormatVersionFlipIsCaughtByTheWholeFileChecksum) {
  // Version 5 read as version 4: every block still passes its checksum, and RocksDB reads
  // the table (its blocks describe themselves); only the whole-file crc32c differs.
  const std::string table = TableOf("entries");
  const uint64_t size = fs::file_size(table);
  ASSERT_EQ(ReadAll(table)[size - 12], '\x05');
  Flip(table, size - 12, 0x01);
  ExpectCaught({"file checksum mismatch"});
}

TEST_F(AuditStorageTest, AFooterNamingNoChecksumIsCaught) {
  const std::string table = TableOf("state");
  const uint64_t size = fs::file_size(table);
  ASSERT_EQ(ReadAll(table)[size - 53], '\x01');  // crc32c
  Flip(table, size - 53, 0x01);                  // kNoChecksum: RocksDB would check nothing
  ExpectCaught({".sst", "names no block checksum"});
}

TEST_F(AuditStorageTest, AManifestRecordLengthRocksDbWouldDropIsCaught) {
  std::string manifest;
  for (const auto& e : fs::directory_iterator(db())) {
    if (e.path().filename().string().rfind("MANIFEST-", 0) == 0) manifest = e.path().string();
  }
  const std::string bytes = ReadAll(manifest);
  ASSERT_LT(bytes.size(), 32768u - 300);  // one block
  size_t last = 0;
  for (size_t pos = 0; pos + 7 <= bytes.size();) {
    last = pos;
    pos += 7 + (static_cast<unsigned char>(bytes[pos + 4]) |
                static_cast<size_t>(static_cast<unsigned char>(bytes[pos + 5])) << 8);
  }
  // The last record's length, one bit larger: it runs past the end of the file, which RocksDB
  // takes for a write cut by a crash and drops silently.
  const auto low = static_cast<unsigned char>(bytes[last + 4]);
  unsigned char bit = 1;
  while ((low & bit) != 0) bit = static_cast<unsigned char>(bit << 1);
  ASSERT_NE(bit, 0);
  Flip(manifest, last + 4, bit);
  ExpectCaught({"MANIFEST", "length was altered"});
}

TEST_F(AuditStorageTest, AByteFlippedInAManifestRecordIsCaught) {
  std::string manifest;
  for (const auto& e : fs::directory_iterator(db())) {
    if (e.path().filename().string().rfind("MANIFEST-", 0) == 0) manifest = e.path().string();
  }
  Flip(manifest, fs::file_size(manifest) - 3, 0x02);
  AuditReport report = AuditLedger(data());
  EXPECT_EQ(report.status.code(), absl::StatusCode::kDataLoss) << report.status;
}

TEST_F(AuditStorageTest, AByteFlippedInAnOptionsCommentIsCaught) {
  std::string options;
  for (const auto& e : fs::directory_iterator(db())) {
    if (e.path().filename().string().rfind("OPTIONS-", 0) == 0) options = e.path().string();
  }
  ASSERT_EQ(ReadAll(options).substr(0, 2), "# ");
  Flip(options, 5, 0x20);  // "# This" -> "# ThiS": RocksDB never reads it back
  ExpectCaught({"OPTIONS-", "differs from the file RocksDB wrote"});
}

TEST_F(AuditStorageTest, AByteFlippedInIdentityIsCaught) {
  Flip(db() + "/IDENTITY", 3, 0x01);
  ExpectCaught({"IDENTITY", "differs"});
}

TEST_F(AuditStorageTest, AByteFlippedInTheLatestCheckpointFileIsCaught) {
  const std::string path = LatestCheckpointPath(data());
  Flip(path, fs::file_size(path) - 10, 0x04);
  AuditReport report = AuditLedger(data());
  EXPECT_EQ(report.status.code(), absl::StatusCode::kDataLoss) << report.status;
}

}  // namespace
}  // namespace veta
