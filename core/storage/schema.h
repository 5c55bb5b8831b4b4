// The ledger's schema: every key and value of every family, in one place. Nothing else spells
// a key by hand. Numbers are big-endian, so that byte order is numeric order; a value of the
// wrong size decodes to an error, never to a silent zero.
//
//   family       key                              value
//   default      "format"                         kFormatValue (the schema's version)
//                "applied"                        entries the state has applied (8)
//                "file/" name                     SHA-256 of a file RocksDB keeps no checksum
//                                                 of (OPTIONS-*, IDENTITY), as RocksDB left it
//                                                 at the last read-write open
//   entries      sequence (8)                     the entry bytes (veta.v1.Entry)
//   leaves       bucket (4) || leaf hash (32)     sequence (8): the entry of a leaf; bucket =
//                                                 sequence >> kLeafBucketBits (v4)
//   statements   SHA-256(PAE) (32)                sequence (8): refuses a replayed envelope
//   tree         end leaf (8) || level (1)        node hash (32); end = (index+1) << level
//   checkpoints  tree size (8)                    the signed note
//   keys         key id (64 hex chars)            the key, its holder and the entries that
//                                                 registered and revoked it (KeyRecord)
//   registry     kind (1) || id || 0 || seq (8)   a registry record version (RegistryRecord)
//   state        "L" lot id                       the lot as it stands (Lot), with its inputs
//                "C" counter name                 grams of ore that day (EncodeI64): U unit,
//                                                 S selector, P plant (ore processed); R and
//                                                 one of those: by day of submission; G: a
//                                                 unit's grade history (count, g, mg); W a
//                                                 unit's take of a shared ground (v3)
//                "T" seller ("g:" for gold)       the seller's sale count and quantity sold
//                                                 (g of ore, mg of gold): EncodeSellerStats
//                "D" parent lot 0 child lot       creating entry (8): lineage edges
//                "N" unit 0 lot                   extraction entry (8): the lots of a unit
//                "H" holder 0 lot                 creating entry (8): the lots of a party
//                "V" corrected entry (8)          the correction (8) that voided it
//                "Ccash/p/" seller / buyer / day  rules v3: céntimos paid in cash by a buyer
//                                                 to a seller that day (EncodeI64)
//                "Ccash/s/" seller / day          rules v3: céntimos a seller was paid in
//                                                 cash that day, by anyone (EncodeI64)
//                "Q" sale entry (8)               rules v3: the céntimos that cash sale added
//                                                 to the cash counters (EncodeI64): what a
//                                                 correction voiding it takes back
//                "FC" entry (8) flag (8)          the clearance (8) that cleared a red
//                                                 flag (RedFlag) of that entry (rules v3)
//                "g" extraction entry (8)         rules v3: the counters an extraction on a
//                                                 shared ground added to besides its unit's
//                                                 (names, each after its length, 1 byte), so
//                                                 that a correction takes the ore back out
//   attempts     attempt number (8)               a refused submission (Attempt), hash-chained
//   evidence     "A" p|u|r key 0 number (8)       indexes of attempts by party, unit, refusal
//                                                 (empty values)
//                "f" seq (8) || i (1)             a red flag raised on entry seq (Flag)
//                "F" p|u key 0 seq (8) || i (1)   indexes of flags by party and unit (empty)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "veta/v1/ledger.pb.h"
#include "veta/v1/registry.pb.h"

namespace veta {

// --- The schema's version ---
inline constexpr std::string_view kFormatKey = "format";
// v2: statements keyed by SHA-256(PAE) alone; registry records name the version they replace.
// v3: integer units (grams of ore, milligrams of gold, ppb grades, céntimos); counters in a
// fixed byte order; keys as KeyRecord rows; the applied-entries marker.
// v4: leaf index rows keyed by the bucket of their sequence first (LeafKey).
inline constexpr std::string_view kFormatValue = "veta-ledger-v4";
// The number of entries whose effects the state holds (8 bytes): written with every batch, so
// equal to the log's size except while start-up applies entries to a state rebuilt.
inline constexpr std::string_view kAppliedKey = "applied";
// Rows of the default family that hold file digests ("file/" name).
inline constexpr std::string_view kFileDigestPrefix = "file/";

// --- Numbers ---
std::string EncodeU64(uint64_t v);
// False unless exactly 8 bytes.
[[nodiscard]] bool DecodeU64(std::string_view bytes, uint64_t* v);
// A sequence stored as a value; DataLoss naming `what` unless exactly 8 bytes.
[[nodiscard]] absl::StatusOr<uint64_t> DecodeSequence(std::string_view bytes,
                                                      std::string_view what);

// A signed counter: 8 bytes, big-endian two's complement.
std::string EncodeI64(int64_t v);
// DataLoss unless exactly 8 bytes; `what` names the value in the message.
[[nodiscard]] absl::StatusOr<int64_t> DecodeI64(std::string_view bytes,
                                                std::string_view what = "a counter");
// A seller's statistics: the number of sales and the quantity sold, two EncodeI64 (16 bytes).
std::string EncodeSellerStats(int64_t sales, int64_t quantity);
// DataLoss unless exactly 16 bytes.
[[nodiscard]] absl::Status DecodeSellerStats(std::string_view bytes, int64_t* sales,
                                             int64_t* quantity);

// --- leaves ---
// A leaf's row is keyed by the bucket of 2^kLeafBucketBits entries it belongs to, then its hash:
// the random hashes of one bucket sort together, after every earlier bucket's, so RocksDB
// merges a new row only with rows of its own bucket, and moves older buckets down the levels
// untouched (one random key per entry merged level after level cost the ingest 10-20% at 10M
// entries). A lookup by hash alone asks each bucket in turn (LeafBuckets), newest first.
inline constexpr int kLeafBucketBits = 16;
inline constexpr size_t kLeafBucketBytes = 4;  // the bucket's bytes in a key: up to 2^48 entries
std::string LeafKey(uint64_t sequence, std::string_view leaf_hash);
// The bucket of a leaf row's key and its hash (a view into `key`); false unless 4 + 32 bytes.
[[nodiscard]] bool DecodeLeafKey(std::string_view key, uint64_t* bucket, std::string_view* leaf);
// Buckets holding the leaves of a log of `size` entries.
inline uint64_t LeafBuckets(uint64_t size) {
  return size == 0 ? 0 : ((size - 1) >> kLeafBucketBits) + 1;
}

// --- tree ---
std::string NodeKey(uint32_t level, uint64_t index);

// --- registry ---
// kind (one byte, RecordKind's value) || id || 0x00 || sequence.
std::string RecordVersionKey(char kind, std::string_view id, uint64_t sequence);
// kind || id || 0x00: every version of one record.
std::string RecordVersionPrefix(char kind, std::string_view id);

// --- state ---
std::string LotKey(std::string_view lot_id);
inline constexpr std::string_view kLotPrefix = "L";
std::string ChildEdgeKey(std::string_view parent_lot, std::string_view child_lot);
std::string UnitLotKey(std::string_view unit_code, std::string_view lot_id);
std::string HolderLotKey(std::string_view holder_id, std::string_view lot_id);
std::string VoidedEntryKey(uint64_t sequence);
inline constexpr std::string_view kVoidedPrefix = "V";
// Rules v3: red flag `flag` (a veta.v1.RedFlag) raised on entry `sequence` was cleared by a
// registrar's FlagClearance; the value is the clearance's sequence (EncodeU64). Evidence is
// never deleted: the flag's own row stays, this row says it no longer blocks a certificate.
std::string FlagClearedKey(uint64_t sequence, veta::v1::RedFlag flag);
std::string SharedGroundCountersKey(uint64_t extraction_sequence);
// Daily counters, by name: the ore a unit, a selector or a plant moved on a day (YYYYMMDD in
// Peru). The name is what the rules and corrections share; CounterKey is its row.
std::string UnitDayCounter(std::string_view unit_code, std::string_view day);
std::string SelectorDayCounter(std::string_view dni, std::string_view day);
std::string PlantDayCounter(std::string_view ruc, std::string_view day);
// Rules v3: the same limits per Peru day of submission (the entry's sequencing time), so that
// back-dated declarations do not each find a fresh day: "R" || a daily counter's name above,
// with the day of submission as its day.
std::string SubmittedDayCounter(std::string_view day_counter_name);
// Rules v3: a unit's grade history, for GRADE_JUMP: "Gn" || unit (extractions counted), "Go"
// || unit (grams of ore), "Gf" || unit (milligrams of fine gold they declared).
std::string UnitGradeCounter(std::string_view unit_code, char field);
// Rules v3: the ore a unit sharing another's ground (MiningUnit.shared) took from that ground on
// a day, against its share: "W" ground "/" unit "/" day.
std::string SharedGroundDayCounter(std::string_view ground, std::string_view unit,
                                   std::string_view day);
std::string CounterKey(std::string_view counter_name);
inline constexpr std::string_view kCounterPrefix = "C";
// Rules v3: cash paid by `buyer` to `seller` on a day, and cash paid to `seller` on a day by
// anyone (céntimos; a week is the sum of seven days): what CASH_STRUCTURING adds up.
std::string CashPairDayCounter(std::string_view seller, std::string_view buyer,
                               std::string_view day);
std::string CashSellerDayCounter(std::string_view seller, std::string_view day);
// Rules v3: the row of a cash sale counted by the counters above (its price, EncodeI64), so
// that a correction takes back exactly what the sale added (a sale judged before v3 added
// nothing, and has no row).
std::string CashCountedKey(uint64_t sale_sequence);
// Seller statistics are kept per seller and per kind of lot sold.
std::string SellerStatsName(std::string_view seller, bool gold);
std::string SellerStatsKey(std::string_view stats_name);
inline constexpr std::string_view kSellerStatsPrefix = "T";

// --- evidence ---
// The rows that index a refused attempt (empty values): "Ap" party 0 number for each party,
// "Au" unit 0 number when it names a unit, "Ar" refusal name 0 number. A key may repeat when
// a party is named twice.
std::vector<std::string> AttemptIndexKeys(const veta::v1::Attempt& attempt);
// The prefixes a listing of attempts by party, unit or refusal code scans.
std::string AttemptsByPartyPrefix(std::string_view party);
std::string AttemptsByUnitPrefix(std::string_view unit);
std::string AttemptsByRefusalPrefix(std::string_view refusal_name);
// A red flag's id: the entry's sequence and the flag's place among the entry's flags.
std::string FlagId(uint64_t sequence, size_t index);
std::string FlagKey(std::string_view flag_id);
// Every flag of entry `sequence` starts with this.
std::string FlagsOfEntryPrefix(uint64_t sequence);
inline constexpr std::string_view kFlagPrefix = "f";
std::string FlagsByPartyPrefix(std::string_view party);
std::string FlagsByUnitPrefix(std::string_view unit);
// The rows a flag writes: its own row and its index rows (empty values).
std::vector<std::string> FlagIndexKeys(const veta::v1::Flag& flag, std::string_view flag_id);

}  // namespace veta
