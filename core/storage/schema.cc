#include "core/storage/schema.h"

#include "core/base/check.h"
#include "core/base/strings.h"

namespace veta {
namespace {

const std::string& Zero() {
  static const std::string zero(1, '\0');
  return zero;
}

}  // namespace

std::string EncodeU64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

bool DecodeU64(std::string_view bytes, uint64_t* v) {
  if (bytes.size() != 8) return false;
  uint64_t out = 0;
  for (unsigned char c : bytes) out = (out << 8) | c;
  *v = out;
  return true;
}

absl::StatusOr<uint64_t> DecodeSequence(std::string_view bytes, std::string_view what) {
  uint64_t v = 0;
  if (!DecodeU64(bytes, &v)) {
    return absl::DataLossError(
        StrCat(what, " holds ", bytes.size(), " bytes where a sequence (8 bytes) belongs"));
  }
  return v;
}

std::string EncodeI64(int64_t v) { return EncodeU64(static_cast<uint64_t>(v)); }

absl::StatusOr<int64_t> DecodeI64(std::string_view bytes, std::string_view what) {
  uint64_t u = 0;
  if (!DecodeU64(bytes, &u)) {
    return absl::DataLossError(
        StrCat(what, " is ", bytes.size(), " bytes, not 8 (a big-endian signed integer)"));
  }
  return static_cast<int64_t>(u);
}

std::string EncodeSellerStats(int64_t sales, int64_t quantity) {
  return EncodeI64(sales) + EncodeI64(quantity);
}

absl::Status DecodeSellerStats(std::string_view bytes, int64_t* sales, int64_t* quantity) {
  if (bytes.size() != 16) {
    return absl::DataLossError(
        StrCat("seller statistics are ", bytes.size(), " bytes, not 16 (two 8-byte integers)"));
  }
  *sales = static_cast<int64_t>(*DecodeI64(bytes.substr(0, 8)));
  *quantity = static_cast<int64_t>(*DecodeI64(bytes.substr(8)));
  return absl::OkStatus();
}

std::string LeafKey(uint64_t sequence, std::string_view leaf_hash) {
  const uint64_t bucket = sequence >> kLeafBucketBits;
  VETA_CHECK(bucket >> (8 * kLeafBucketBytes) == 0, "a leaf bucket fits in kLeafBucketBytes");
  std::string key = EncodeU64(bucket).substr(8 - kLeafBucketBytes);
  key.append(leaf_hash);
  return key;
}

bool DecodeLeafKey(std::string_view key, uint64_t* bucket, std::string_view* leaf) {
  if (key.size() != kLeafBucketBytes + 32) return false;
  if (!DecodeU64(StrCat(std::string(8 - kLeafBucketBytes, '\0'), key.substr(0, kLeafBucketBytes)),
                 bucket)) {
    return false;
  }
  *leaf = key.substr(kLeafBucketBytes);
  return true;
}

std::string NodeKey(uint32_t level, uint64_t index) {
  // Keyed by the end of the node's leaf range, then level: every node an append creates has
  // the same end (the new tree size), so keys arrive in ascending order and RocksDB's
  // memtable inserts them at its cached position instead of searching the skiplist.
  std::string key = EncodeU64((index + 1) << level);
  key.push_back(static_cast<char>(level));
  return key;
}

std::string RecordVersionPrefix(char kind, std::string_view id) {
  std::string key(1, kind);
  key.append(id);
  key.push_back('\0');
  return key;
}

std::string RecordVersionKey(char kind, std::string_view id, uint64_t sequence) {
  return RecordVersionPrefix(kind, id) + EncodeU64(sequence);
}

std::string LotKey(std::string_view lot_id) { return StrCat(kLotPrefix, lot_id); }

std::string ChildEdgeKey(std::string_view parent_lot, std::string_view child_lot) {
  return StrCat("D", parent_lot, Zero(), child_lot);
}

std::string UnitLotKey(std::string_view unit_code, std::string_view lot_id) {
  return StrCat("N", unit_code, Zero(), lot_id);
}

std::string HolderLotKey(std::string_view holder_id, std::string_view lot_id) {
  return StrCat("H", holder_id, Zero(), lot_id);
}

std::string VoidedEntryKey(uint64_t sequence) { return StrCat(kVoidedPrefix, EncodeU64(sequence)); }

std::string FlagClearedKey(uint64_t sequence, veta::v1::RedFlag flag) {
  return StrCat("FC", EncodeU64(sequence), EncodeU64(static_cast<uint64_t>(flag)));
}

std::string UnitDayCounter(std::string_view unit_code, std::string_view day) {
  return StrCat("U", unit_code, "/", day);
}

std::string SelectorDayCounter(std::string_view dni, std::string_view day) {
  return StrCat("S", dni, "/", day);
}

std::string PlantDayCounter(std::string_view ruc, std::string_view day) {
  return StrCat("P", ruc, "/", day);
}

std::string CashPairDayCounter(std::string_view seller, std::string_view buyer,
                               std::string_view day) {
  return StrCat("cash/p/", seller, "/", buyer, "/", day);
}

std::string CashSellerDayCounter(std::string_view seller, std::string_view day) {
  return StrCat("cash/s/", seller, "/", day);
}

std::string CashCountedKey(uint64_t sale_sequence) { return StrCat("Q", EncodeU64(sale_sequence)); }

std::string SubmittedDayCounter(std::string_view day_counter_name) {
  return StrCat("R", day_counter_name);
}

std::string UnitGradeCounter(std::string_view unit_code, char field) {
  return StrCat("G", std::string(1, field), unit_code);
}

std::string SharedGroundDayCounter(std::string_view ground, std::string_view unit,
                                   std::string_view day) {
  return StrCat("W", ground, "/", unit, "/", day);
}

std::string SharedGroundCountersKey(uint64_t extraction_sequence) {
  return StrCat("g", EncodeU64(extraction_sequence));
}

std::string CounterKey(std::string_view counter_name) {
  return StrCat(kCounterPrefix, counter_name);
}

std::string SellerStatsName(std::string_view seller, bool gold) {
  return gold ? StrCat("g:", seller) : std::string(seller);
}

std::string SellerStatsKey(std::string_view stats_name) {
  return StrCat(kSellerStatsPrefix, stats_name);
}

std::vector<std::string> AttemptIndexKeys(const veta::v1::Attempt& attempt) {
  const std::string number = EncodeU64(attempt.number());
  std::vector<std::string> keys;
  for (const auto& party : attempt.parties()) keys.push_back(AttemptsByPartyPrefix(party) + number);
  if (!attempt.unit_code().empty()) {
    keys.push_back(AttemptsByUnitPrefix(attempt.unit_code()) + number);
  }
  keys.push_back(AttemptsByRefusalPrefix(veta::v1::Refusal_Name(attempt.refusal())) + number);
  return keys;
}

std::string AttemptsByPartyPrefix(std::string_view party) { return StrCat("Ap", party, Zero()); }
std::string AttemptsByUnitPrefix(std::string_view unit) { return StrCat("Au", unit, Zero()); }
std::string AttemptsByRefusalPrefix(std::string_view refusal_name) {
  return StrCat("Ar", refusal_name, Zero());
}

std::string FlagId(uint64_t sequence, size_t index) {
  std::string id = EncodeU64(sequence);
  id.push_back(static_cast<char>(index));
  return id;
}

std::string FlagKey(std::string_view flag_id) { return StrCat(kFlagPrefix, flag_id); }

std::string FlagsOfEntryPrefix(uint64_t sequence) {
  return StrCat(kFlagPrefix, EncodeU64(sequence));
}

std::string FlagsByPartyPrefix(std::string_view party) { return StrCat("Fp", party, Zero()); }
std::string FlagsByUnitPrefix(std::string_view unit) { return StrCat("Fu", unit, Zero()); }

std::vector<std::string> FlagIndexKeys(const veta::v1::Flag& flag, std::string_view flag_id) {
  std::vector<std::string> keys;
  for (const auto& party : flag.parties())
    keys.push_back(StrCat(FlagsByPartyPrefix(party), flag_id));
  if (!flag.unit_code().empty())
    keys.push_back(StrCat(FlagsByUnitPrefix(flag.unit_code()), flag_id));
  return keys;
}

}  // namespace veta
