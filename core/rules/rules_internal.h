// Private to the rules (registry.cc: registry records, extractions, sales; custody_rules.cc:
// processing, exports, corrections): the helpers each rule is built from, and the context a
// verdict is reached in. Not part of core's interface: include registry.h instead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/units.h"
#include "core/rules/registry.h"

namespace veta {
namespace rules {

using veta::v1::Refusal;

inline constexpr size_t kIdBytesMax = 64;
// The newest rules this server has (Parameters.rules_version: what each version adds).
inline constexpr uint32_t kRulesVersionLatest = 3;
// The rules version the parameters put in force (0 means 1).
inline uint32_t RulesVersion(const veta::v1::Parameters& p) {
  return p.rules_version() == 0 ? 1 : p.rules_version();
}
// Rules v3 and later: the laundering routes closed (registry.proto lists what it adds).
inline bool V3(const veta::v1::Parameters& p) { return RulesVersion(p) >= 3; }

// The parameters' values with their defaults (0 or unset means the default; registry.proto
// says why each default is what it is).
// How far back a declaration may be dated: 30 days before rules v3, 7 from v3 (with
// LATE_DECLARATION after 72 h, a week covers a camp's trip to a town with a network; a
// later declaration needs a registrar's co-signature).
inline int64_t DeclarationWindowDays(const veta::v1::Parameters& p) {
  if (p.declaration_window_days() > 0) return p.declaration_window_days();
  return V3(p) ? 7 : 30;
}
inline int64_t LateDeclarationHours(const veta::v1::Parameters& p) {
  return p.late_declaration_hours() > 0 ? p.late_declaration_hours() : 72;
}
inline int64_t BankingThresholdCents(const veta::v1::Parameters& p) {
  return p.banking_threshold_cents() > 0 ? p.banking_threshold_cents() : 200000;
}
inline veta::v1::Bounds PriceBandPpm(const veta::v1::Parameters& p) {
  if (p.has_price_band_ppm()) return p.price_band_ppm();
  veta::v1::Bounds b;
  b.set_min(250000);
  b.set_max(1500000);
  return b;
}
// A price per fine gram above this many times the reference is refused, not flagged.
inline constexpr int64_t kPriceAbsurdTimes = 100;
inline int64_t GradeJumpPercent(const veta::v1::Parameters& p) {
  return p.grade_jump_percent() > 0 ? p.grade_jump_percent() : 300;
}
inline int64_t GradeHistoryMin(const veta::v1::Parameters& p) {
  return p.grade_history_min() > 0 ? p.grade_history_min() : 3;
}
inline constexpr int64_t kClockSkewMicros =
    5 * 60 * 1000000LL;  // how far ahead a declared time may be
inline constexpr int64_t kPeruUtcOffsetMicros = -5 * 3600 * 1000000LL;  // days are Peru's (UTC-5)
// Installed capacities, grams of ore a day.
inline constexpr int64_t kArtisanalGPerDayMax =
    25 * units::kGramsPerTonne;  // an artisanal producer's unit
inline constexpr int64_t kSmallGPerDayMax = 350 * units::kGramsPerTonne;  // any unit
inline constexpr int64_t kPlantGPerDayMax =
    100000 * units::kGramsPerTonne;  // a plant: far above any in Peru
// Parameters' ceilings: a selector's daily limit (a unit's), a cash threshold (S/ 1e12).
inline constexpr int64_t kSelectorGPerDayMax = kSmallGPerDayMax;
inline constexpr int64_t kCentsMax = 100000000000000;
inline constexpr int64_t kMassBalanceTolerancePpmDefault = 20000;  // 2%
inline constexpr size_t kNameBytesMax = 300;
inline constexpr size_t kTextBytesMax = 2000;     // a note or a status reason: a paragraph
inline constexpr double kUnitSpanDegreesMax = 2;  // rules v3: a unit's extent each way
inline constexpr int kListMax = 1000;  // allowed miners of a unit, allowed units of a selector

// Registry map key: kind || id.
std::string MapKey(RecordKind kind, std::string_view id);

int64_t Micros(const google::protobuf::Timestamp& t);
// YYYYMMDD of the day in Peru (UTC-5): the key of daily counters.
std::string PeruDay(int64_t micros);
// A coordinate, for messages (quantities are shown by core/base/units.h).
std::string Num(double d);

// A verdict that could not be reached (the store could not be read), and a refusal.
Verdict Failure(absl::Status error);
// Rules v3: a new lot's upstream holders (Lot.upstream_holders), from the lots it is made of
// (none: an extraction's, known and empty).
inline constexpr int kUpstreamHoldersMax = 64;
void SetUpstream(const std::vector<const veta::v1::Lot*>& from, veta::v1::Lot* made);
// Adds a red flag raised by entry `sequence` to `effects`, filed under its parties and unit.
void RaiseFlag(Effects* effects, uint64_t sequence, veta::v1::RedFlag kind, std::string message,
               const std::vector<std::string>& parties, const std::string& unit_code);
Verdict Refuse(Refusal code, std::string message);

// The registration facts every active-check needs, whatever the record kind.
struct Standing {
  const char* what;  // "miner", "selector", "trader"...
  std::string id;
  const veta::v1::StatusInfo* status;
  const google::protobuf::Timestamp* valid_from;
  const google::protobuf::Timestamp* valid_until;
  const google::protobuf::RepeatedPtrField<veta::v1::PublicKey>* keys;
  uint64_t sequence;
};
std::optional<Standing> StandingOf(const RecordState& s);

// Each rule returns the refusal, or nullopt to pass.
std::optional<Verdict> RuleSignedBy(const Standing& p, const DecodedEnvelope& d, Refusal code);
std::optional<Verdict> RuleActive(const Standing& p, int64_t t, Refusal not_active,
                                  Refusal expired);
std::optional<Verdict> RuleTimeNotInFuture(int64_t t, int64_t now);
std::optional<Verdict> RuleTimeNotTooOld(int64_t t, int64_t now,
                                         const veta::v1::Parameters& params);
std::optional<Verdict> RuleLotIdValid(std::string_view id, std::string_view what);
std::optional<Verdict> RuleQuantityPositive(int64_t q, std::string_view what,
                                            std::string_view unit = "grams of ore");
// Grams of ore in a day: so far plus this, against the limit.
std::optional<Verdict> RuleDailyLimit(int64_t so_far_g, int64_t add_g, int64_t limit_g,
                                      Refusal code, const std::string& what,
                                      const std::string& day);
std::optional<Verdict> RuleLotMovable(const veta::v1::Lot& lot);
std::optional<Verdict> RuleLotHeldBy(const veta::v1::Lot& lot, std::string_view who,
                                     Refusal not_held);
std::optional<Verdict> RuleLotHeldWithEnough(const veta::v1::Lot& lot, std::string_view who,
                                             int64_t quantity,
                                             Refusal not_held = veta::v1::SELLER_DOES_NOT_HOLD_LOT,
                                             std::string_view what = "the sale",
                                             bool show_remaining = true);
std::optional<Verdict> RuleQuantityInLotUnit(const veta::v1::Lot& lot, bool by_mg,
                                             std::string_view field_ore_g,
                                             std::string_view field_gold_mg);
// Fine milligrams out against what the inputs allow.
// "2026-03-01" (Peru's date of an instant), and a party kind in words.
std::string Date(int64_t micros);
const char* PartyKindName(veta::v1::PartyKind kind);
std::optional<Verdict> RuleExtractorOnUnit(const RecordState& extractor,
                                           const veta::v1::MiningUnit& unit);
std::optional<Verdict> RulePointInUnit(geo::Point p, const RecordState& unit);
// Rules v3: a unit's own bounds (Parameters.grade_ppb_by_unit) come before its department's.
std::optional<Verdict> RuleGrade(int64_t grade_ppb, const veta::v1::Parameters& params,
                                 const std::string& department, const std::string& unit_code = "");
std::optional<Verdict> RuleBuyerMayBuyOre(const veta::v1::Party& buyer);
std::optional<Verdict> RuleMassBalance(int64_t fine_out, int64_t ore_fine, int64_t gold_fine,
                                       const veta::v1::Parameters& params);

}  // namespace rules

// One entry being judged: the registry, the envelope, where it would go, the batch's delta.
struct RuleContext {
  const Registry& registry;
  const DecodedEnvelope& d;
  uint64_t sequence;
  int64_t now;
  const KeyRing& keys;
  const Delta& delta;
  bool dry_run;

  // Zones in force containing p, of the prohibited kinds or of scars, committed or staged.
  std::vector<std::shared_ptr<const RecordState>> ZonesAt(geo::Point p, bool scars) const;
  std::shared_ptr<const RecordState> FindPerson(const std::string& id) const;
  // A registrar (or, for registrar records, the authority) signed.
  std::optional<Verdict> RuleRegistrarSigned(bool authority_needed) const;
  // Every signing key is in force: a key held through a registry record is one that the
  // record's current version lists (a key dropped in a rotation signs nothing more).
  std::optional<Verdict> RuleSignersInForce() const;
  // --- Rules v3 on dates, suspensions, limits per day of submission and grades (dating.cc) ---
  // A party's record, with the refusal its suspension or exclusion gets (EXTRACTOR_NOT_ACTIVE...).
  struct Named {
    const RecordState* record;
    veta::v1::Refusal not_active;
  };
  // `what` ("the sale"), dated `t`, is dated after the registration of every record it names and
  // the declared time of every lot it moves (DATED_BEFORE_REGISTRATION); a party whose status
  // is currently not VIGENTE submits nothing, whatever the date, unless a registrar co-signed a
  // declaration dated before that status began. Passes before rules v3.
  std::optional<Verdict> RuleDatedAfter(int64_t t, std::string_view what,
                                        const std::vector<Named>& records,
                                        const std::vector<veta::v1::Lot>& lots = {}) const;
  // The declaration window; from rules v3 a registrar's co-signature lifts it. Hides
  // rules::RuleTimeNotTooOld in the evaluators, which call it unqualified.
  std::optional<Verdict> RuleTimeNotTooOld(int64_t t, int64_t now,
                                           const veta::v1::Parameters& params) const;
  // Rules v3: `counter` (a daily counter's name, for the day of submission) plus `add_g` within
  // `limit_g`; the grams are added to `effects`. Passes, adding nothing, before rules v3.
  std::optional<Verdict> RuleSubmissionDayLimit(const std::string& counter, int64_t add_g,
                                                int64_t limit_g, veta::v1::Refusal code,
                                                const std::string& what, Effects* effects) const;
  // Rules v3, an accepted extraction: the limits per day of submission, the unit's grade
  // history and GRADE_JUMP, the lot's declared time.
  std::optional<Verdict> RuleExtractionV3(const veta::v1::MiningUnit& unit, bool by_selector,
                                          Verdict* v) const;
  // Rules v3: LATE_DECLARATION on an accepted transaction declared too long after its time.
  void FlagLateDeclaration(Verdict* v) const;
  // What a correction undoes of the rules v3 effects of the entry `e` it voids (sequenced at
  // `entry_micros`), from the lots in `effects` (the lots it voided or restored).
  void UndoV3Counters(const DecodedEnvelope& e, int64_t entry_micros, Effects* effects) const;
  // A registry record replaces the record's current version, which it names.
  std::optional<Verdict> RuleRecordVersion() const;
  // The keys a record lists are not another holder's.
  std::optional<Verdict> RuleRecordKeysFree() const;
  Verdict EvaluateRecord() const;
  Verdict EvaluateExtraction() const;
  Verdict EvaluateSale() const;
  // Rules v3 (sales.cc): seller and buyer are two parties with no key in common; then, on a
  // sale otherwise accepted (v holds its effects), the price against the reference, cash
  // structuring and circular trade (flags and counters added to v, or a refusal).
  std::optional<Verdict> RuleNotSelfSale(const RecordState& seller, const RecordState& buyer) const;
  std::optional<Verdict> RuleSaleV3(const veta::v1::Lot& lot, int64_t fine_mg, Verdict* v) const;
  Verdict EvaluateProcessing() const;
  Verdict EvaluateExport() const;
  // The parties a transaction needed, for a correction signed by them rather than a registrar.
  std::vector<std::string> NeededParties(const DecodedEnvelope& e) const;
  // Who may void it without a registrar: the parties it needed, except for an export (gold
  // declared as gone abroad is brought back only by a registrar, on customs' word).
  static bool PartiesMayCorrect(const DecodedEnvelope& e);
  // A lot the corrected entry created has not moved on: nothing consumed, not exported.
  std::optional<Verdict> RuleUntouched(const veta::v1::Lot& lot, uint64_t target) const;
  Verdict EvaluateCorrection() const;
  // Rules v3 (flag_clearances.cc). The red flags entry `target` raised (committed entries).
  absl::StatusOr<std::vector<veta::v1::Flag>> FlagsOf(uint64_t target) const;
  // The flag clearance that cleared red flag `flag` of entry `target`; 0 when none did.
  absl::StatusOr<uint64_t> FlagClearedBy(uint64_t target, veta::v1::RedFlag flag) const;
  // Under rules v3, a correction of entry `target` (decoded: `e`) with a red flag no registrar
  // cleared, or that created a lot an entry with such a flag took from, is signed by a
  // registrar (CORRECTION_NEEDS_REGISTRAR).
  std::optional<Verdict> RuleFlaggedNeedsRegistrar(uint64_t target, const DecodedEnvelope& e,
                                                   bool by_registrar) const;
  // A registrar clears a red flag (FlagClearance).
  Verdict EvaluateFlagClearance() const;

  // Rules v3 for units (core/rules/units.cc). Units in force (VIGENTE or SUSPENDIDO) and
  // districts in force whose bounding box meets b, committed or staged, by id.
  std::vector<std::shared_ptr<const RecordState>> UnitsNear(const geo::BBox& b) const;
  std::vector<std::shared_ptr<const RecordState>> DistrictsNear(const geo::BBox& b) const;
  // A unit's version in force: its holder an active miner (UNIT_HOLDER_INVALID), its ubigeo's
  // district holding it (UNIT_DISTRICT_MISMATCH), its ground no other unit's unless shared
  // (UNIT_OVERLAPS). Passes under rules before v3 and for a version not VIGENTE.
  std::optional<Verdict> RuleUnitV3(const RecordState& unit) const;
  // An extraction at p on a unit that shares other units' grounds: the ore counts against each
  // ground (holding p) and the unit's share of it, that day; the counters go into `effects`.
  std::optional<Verdict> RuleSharedGrounds(const RecordState& unit, geo::Point p, int64_t ore_g,
                                           const std::string& day, Effects* effects) const;
  // A correction voiding extraction `target`: takes its ore back out of the grounds it counted.
  std::optional<Verdict> UndoSharedGrounds(uint64_t target, int64_t ore_g, Effects* effects) const;
};

}  // namespace veta
