// The registries and the origin rules: state derived from the log, and the decisions taken
// against it.
//
// The sequencer owns a Registry. For each entry of a batch it asks Evaluate() for a Verdict
// against a View (the committed state plus what earlier entries of the same batch changed);
// an accepted verdict's effects go into the batch's Delta and into the same RocksDB
// WriteBatch as the entry; after the synced write, Commit(delta) makes them the committed
// state. A refused verdict names a stable code (veta.v1.Refusal) and the facts.
//
// Each rule is a small function of its own (registry.cc: records, extractions, sales;
// custody_rules.cc: processing, exports, corrections), so that each can be read and
// tested alone. Thread-safety: none; the sequencer thread is the only user.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "core/log/keyring.h"
#include "core/rules/geo.h"
#include "core/storage/schema.h"
#include "core/storage/store.h"
#include "core/verify/envelope.h"
#include "core/verify/lots.h"
#include "veta/v1/registry.pb.h"

namespace veta {

enum class RecordKind : char {
  kRegistrar = 'R',
  kMiner = 'M',
  kUnit = 'U',
  kParty = 'P',
  kSelector = 'S',
  kZone = 'Z',
  kParameters = 'K',
};

// "registrar", "miner", "unit", "party", "selector", "zone", "parameters".
std::string_view RecordKindName(RecordKind kind);
absl::StatusOr<RecordKind> ParseRecordKind(std::string_view name);
// The kind and id of a record ("" for parameters, which are one record).
std::pair<RecordKind, std::string> RecordKey(const veta::v1::RegistryRecord& record);
// Key of a record version in the `registry` family (schema.h).
inline std::string RecordVersionKey(RecordKind kind, std::string_view id, uint64_t sequence) {
  return RecordVersionKey(static_cast<char>(kind), id, sequence);
}

// A record as the registry holds it: the version and the entry that wrote it, with its
// geometry parsed once.
struct RecordState {
  veta::v1::RegistryRecord record;
  uint64_t sequence = 0;
  // When the record was registered: the entry time of its first version (later versions keep
  // it). Rules v3 accept nothing dated before it (DATED_BEFORE_REGISTRATION).
  int64_t registered_micros = 0;
  // Rules v3: the periods [since, until) in which an earlier version of the record was not
  // VIGENTE (a suspension's `since` to the reinstating version's), so that work dated inside a
  // suspension is refused after a reinstatement too. Derived from the versions, never stored.
  std::vector<std::pair<int64_t, int64_t>> inactive;
  // Shared with the envelope that carried it (parsed once, on the verification pool).
  std::shared_ptr<const geo::Geometry> geometry;
};

// The status of a registration (miner, unit, party, selector); nullptr for other records.
const veta::v1::StatusInfo* RecordStatus(const veta::v1::RegistryRecord& record);
// Carries what a record's versions accumulate (registration time, periods not in force) from
// its previous version (nullptr for a first one) to `next`, entered at `entry_micros`.
void FoldVersion(const RecordState* previous, int64_t entry_micros, RecordState* next);

// Checks a record's fields: identifiers, geometry, capacities, dates. InvalidArgument
// naming the field. `geometry` (may be null) receives a unit's or zone's parsed geometry.
[[nodiscard]] absl::Status ValidateRecord(const veta::v1::RegistryRecord& record,
                                          std::optional<geo::Geometry>* geometry = nullptr);

// The stateless part of judging a registry record (ValidateRecord, the geometry parsed once),
// done on the verification pool before the sequencer, so that a hostile record (thousands of
// nested lists, hundreds of thousands of positions) costs the sequencer nothing. The verdict's
// refusal keeps its place among the rules (after the registrar's signature is checked).
// Idempotent; a no-op for other payloads.
void PrevalidateRecord(DecodedEnvelope* envelope);

// A seller's sales of one kind of lot: how many, and the quantity (grams of ore or
// milligrams of gold). Stored as EncodeSellerStats.
struct SellerStats {
  int64_t sales = 0;
  int64_t quantity = 0;
};

// Limits of custody transactions.
inline constexpr size_t kProcessingInputsMax = 1000;
inline constexpr size_t kProcessingOutputsMax = 16;
// Most gold in one processing output: 1,000 t, in milligrams (so that sums of 16 outputs'
// fine gold stay far inside int64).
inline constexpr int64_t kGoldMgMax = 1000000000000;
// Most distinct units in a lot's origin mix.
inline constexpr size_t kOriginUnitsMax = 4096;

// "extraction", "sale" or "processing": the kind of entry that creates such a lot.
const char* LotSourceName(veta::v1::LotSource source);

// A lot's quantities, fine gold and origin: core/verify/lots.h.
// Voided, or exported, as of the first `as_of` entries (as_of past the end: now).
bool VoidedAsOf(const veta::v1::Lot& lot, uint64_t as_of);
bool ExportedAsOf(const veta::v1::Lot& lot, uint64_t as_of);

// What an accepted entry changes.
struct Effects {
  std::vector<std::shared_ptr<const RecordState>> records;
  std::vector<veta::v1::Lot> lots;
  // Index rows of the `state` column family (lineage edges, lot indexes, voided entries).
  std::vector<std::pair<std::string, std::string>> state_puts;
  std::vector<std::pair<std::string, int64_t>> counter_adds;  // daily grams of ore
  std::vector<std::pair<std::string, SellerStats>> seller_stats;
  std::vector<veta::v1::Flag> flags;
};

struct Verdict {
  veta::v1::Refusal refusal = veta::v1::REFUSAL_UNSPECIFIED;
  std::string message;
  std::vector<std::string> parties;
  std::string unit_code;
  Effects effects;
  // Set when the entry could not be judged (the store could not be read): no verdict, no
  // attempt logged; the submitter gets this status and may retry.
  absl::Status error;
  // Set when no rule can judge the entry (a second genesis): refused with this status, not
  // logged as an attempt.
  absl::Status invalid;
  // The status code a refusal is answered with (a refused key registration keeps its check's).
  absl::StatusCode status_code = absl::StatusCode::kFailedPrecondition;
  bool ok() const { return refusal == veta::v1::REFUSAL_UNSPECIFIED && error.ok() && invalid.ok(); }
};

// Changes made by the entries of one batch, not yet committed.
struct Delta {
  std::map<std::string, std::shared_ptr<const RecordState>> records;  // by kind || id
  std::map<std::string, veta::v1::Lot> lots;
  std::map<std::string, std::string> state;  // index rows staged by the batch
  // Red flags raised by the batch's entries, by entry: rules that read an entry's flags
  // (core/rules/flag_clearances.cc) see them before they are written, as a replay applying
  // many entries under one delta (Ledger::ApplyPending) needs.
  std::map<uint64_t, std::vector<veta::v1::Flag>> flags;
  std::map<std::string, int64_t> counters;
  std::map<std::string, SellerStats> seller_stats;
  // Keys staged by the batch (registrations, revocations, records' keys), latest by key id:
  // looked up per signature and per listed key, so indexed.
  std::unordered_map<std::string, std::shared_ptr<const KeyInfo>> keys;
  void StageKey(std::shared_ptr<const KeyInfo> info) {
    const std::string keyid = info->key.keyid();
    keys[keyid] = std::move(info);
  }
  std::shared_ptr<const KeyInfo> StagedKey(const std::string& keyid) const {
    auto it = keys.find(keyid);
    return it == keys.end() ? nullptr : it->second;
  }
  // Keys taken by the batch (registered, revoked, or listed by a record), by key id: the
  // entry that took them. One key, one holder, within a batch as across batches.
  std::unordered_map<std::string, uint64_t> pending_keys;
  bool zones_changed = false;
};

class Registry {
 public:
  explicit Registry(const Reader* store) : store_(store) {}

  // Rebuilds the committed state from the store (latest version of every record, counters).
  [[nodiscard]] absl::Status Load();

  // The verdict on an entry at `sequence`, at entry time `now_micros`. Registry records,
  // extractions and sales are judged; other payloads pass. `dry_run` waives the signature of
  // the counterpart (a buyer checking a seller before paying).
  Verdict Evaluate(const DecodedEnvelope& envelope, uint64_t sequence, int64_t now_micros,
                   const KeyRing& keys, const Delta& delta, bool dry_run) const;

  // Records an accepted verdict's effects in the delta and in the write batch.
  void Stage(const Verdict& verdict, uint64_t sequence, Delta* delta, Batch* batch) const;
  // Makes a batch's delta the committed state, after its write is durable.
  void Commit(Delta delta, KeyRing* keys);

  // Lookups through a delta (committed state when the delta is empty).
  std::shared_ptr<const RecordState> Find(RecordKind kind, std::string_view id,
                                          const Delta& delta) const;
  // nullopt when there is no such lot; an error when the store cannot be read (never taken
  // for "no such lot": that would let a new lot overwrite an existing one).
  absl::StatusOr<std::optional<veta::v1::Lot>> FindLot(std::string_view lot_id,
                                                       const Delta& delta) const;
  const veta::v1::Parameters& parameters(const Delta& delta) const;
  // The parties (RUCs, DNIs, record ids) and unit an entry names: what a refused attempt is
  // filed under. A lot's unit only when the named seller or exporter holds the lot.
  struct Involved {
    std::vector<std::string> parties;
    std::string unit_code;
  };
  Involved InvolvedIn(const DecodedEnvelope& envelope, const Delta& delta) const;
  // An index row of the `state` family through the delta; nullopt when absent.
  absl::StatusOr<std::optional<std::string>> FindState(const std::string& key,
                                                       const Delta& delta) const;

 private:
  friend struct RuleContext;
  int64_t Counter(const std::string& key, const Delta& delta) const;
  SellerStats Stats(const std::string& seller, const Delta& delta) const;
  void RebuildZoneIndex();
  // Rules v3: puts a unit's latest version in the index of units in force (or takes it out).
  void IndexUnit(const std::shared_ptr<const RecordState>& state);

  const Reader* store_;
  std::unordered_map<std::string, std::shared_ptr<const RecordState>> records_;  // kind || id
  std::unordered_map<std::string, int64_t> counters_;
  std::unordered_map<std::string, SellerStats> seller_stats_;
  geo::GeometryIndex prohibited_;
  geo::GeometryIndex scars_;
  std::vector<std::shared_ptr<const RecordState>> indexed_zones_;  // ids are positions
  geo::GeometryIndex districts_;  // ADMINISTRATIVE_DISTRICT zones in force (ids as above)
  // Units in force (VIGENTE or SUSPENDIDO), by slot: a unit keeps its slot across versions
  // (null while it is not in force). Kept up to date by each commit, not rebuilt.
  geo::GeometryIndex units_{0.1};
  std::vector<std::shared_ptr<const RecordState>> indexed_units_;
  std::unordered_map<std::string, uint64_t> unit_slots_;
};

// The keys a registry record names (miners', parties', selectors', registrars').
std::vector<veta::v1::PublicKey> RecordKeys(const veta::v1::RegistryRecord& record);

// "[POINT_IN_PROHIBITED_ZONE] message": how a refusal travels as a status message.
[[nodiscard]] absl::Status RefusalStatus(const Verdict& verdict);

}  // namespace veta
