// Rules v3 on time and on grades: nothing dated before a registration or before the lot it
// moves, nothing from a party whose suspension or exclusion is in force whatever date it
// declares, limits per day of submission as well as per declared day, late declarations, and
// a unit's declared grades against its own history. Every effect on state here is a counter
// that a correction undoes (UndoV3Counters).
#include <algorithm>
#include <ctime>

#include "core/base/ids.h"
#include "core/base/strings.h"
#include "core/base/units.h"
#include "core/rules/rules_internal.h"

namespace veta {

using namespace rules;  // NOLINT: the rule helpers, private to the rules

namespace {

constexpr int64_t kMicrosPerHour = 3600 * 1000000LL;

// "2026-12-04 17:50:02 UTC": dates alone do not tell a registration from a declaration of the same
// day.
std::string Instant(int64_t micros) {
  const std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

// "miner 20600000121", "unit UA": a record as the messages name it.
std::string NameOf(const RecordState& s) {
  if (auto st = StandingOf(s)) return StrCat(st->what, " ", st->id);
  const auto [kind, id] = RecordKey(s.record);
  return StrCat(RecordKindName(kind), " ", id);
}

// When a record was registered: its first version's entry time, or the start of its validity
// when that is later.
int64_t RegisteredMicros(const RecordState& s) {
  int64_t t = s.registered_micros;
  if (auto st = StandingOf(s)) t = std::max(t, Micros(*st->valid_from));
  return t;
}

// The time a transaction declares, and what it is called; nullopt for other entries.
std::optional<std::pair<int64_t, const char*>> Declared(const DecodedEnvelope& d) {
  switch (d.kind) {
    case PayloadKind::kExtraction:
      return std::make_pair(Micros(d.extraction.time()), "extraction");
    case PayloadKind::kSale:
      return std::make_pair(Micros(d.sale.time()), "sale");
    case PayloadKind::kProcessing:
      return std::make_pair(Micros(d.processing.time()), "processing");
    case PayloadKind::kExport:
      return std::make_pair(Micros(d.export_.time()), "export");
    default:
      return std::nullopt;
  }
}

veta::v1::Lot* LotIn(Effects* effects, const std::string& id) {
  for (auto& lot : effects->lots) {
    if (lot.lot_id() == id) return &lot;
  }
  return nullptr;
}

}  // namespace

std::optional<Verdict> RuleContext::RuleDatedAfter(int64_t t, std::string_view what,
                                                   const std::vector<Named>& records,
                                                   const std::vector<veta::v1::Lot>& lots) const {
  if (!V3(registry.parameters(delta))) return std::nullopt;
  const bool cosigned = !RuleRegistrarSigned(false).has_value();
  for (const auto& [record, not_active] : records) {
    if (record == nullptr) continue;
    // A suspension or exclusion in force refuses whatever the declared time: RuleActive
    // judged the status at that time, which the party chooses.
    if (auto st = StandingOf(*record); st && st->status->status() != veta::v1::VIGENTE) {
      const int64_t since = Micros(st->status->since());
      if (since <= now && !(cosigned && t < since)) {
        return Refuse(
            not_active,
            StrCat(st->what, " ", st->id, " is ",
                   veta::v1::RegistryStatus_Name(st->status->status()), " since ", Date(since),
                   " (entry ", st->sequence, "), and that status is current: it declares nothing ",
                   "more, whatever date a declaration carries (back-dating does not help); work ",
                   "done before ", Date(since), " is declared late with a registrar's ",
                   "co-signature"));
      }
    }
    // Work dated inside a past suspension (the record reinstated since) is refused too,
    // co-signed or not: it was done while the registration was not in force.
    for (const auto& [from, until] : record->inactive) {
      if (t >= from && t < until) {
        return Refuse(not_active,
                      StrCat(NameOf(*record), " was not in force from ", Instant(from), " to ",
                             Instant(until), " (suspended or excluded, then reinstated): ", what,
                             " is dated ", Instant(t), ", inside that period"));
      }
    }
    // A signer's clock may run behind the registry's by as much as it may run ahead
    // (kClockSkewMicros): five minutes of a registration's day are no capacity to speak of.
    const int64_t registered = RegisteredMicros(*record);
    if (t < registered - kClockSkewMicros) {
      return Refuse(
          veta::v1::DATED_BEFORE_REGISTRATION,
          StrCat(what, " is dated ", Instant(t), ", before ", NameOf(*record), " was registered (",
                 Instant(registered), "): nothing is declared of a time before a registration"));
    }
  }
  for (const auto& lot : lots) {
    if (!lot.has_declared_time()) continue;  // made before rules v3
    const int64_t made = Micros(lot.declared_time());
    if (t < made) {
      return Refuse(veta::v1::DATED_BEFORE_REGISTRATION,
                    StrCat(what, " is dated ", Instant(t), ", before lot ", lot.lot_id(),
                           " existed: the ", LotSourceName(lot.source()), " that made it (entry ",
                           lot.created_at(), ") is dated ", Instant(made)));
    }
  }
  return std::nullopt;
}

std::optional<Verdict> RuleContext::RuleTimeNotTooOld(int64_t t, int64_t now_micros,
                                                      const veta::v1::Parameters& params) const {
  if (!V3(params)) return rules::RuleTimeNotTooOld(t, now_micros, params);
  if (!RuleRegistrarSigned(false)) return std::nullopt;  // a late declaration, co-signed
  auto v = rules::RuleTimeNotTooOld(t, now_micros, params);
  if (v) v->message += "; an older declaration needs a registrar's co-signature";
  return v;
}

std::optional<Verdict> RuleContext::RuleSubmissionDayLimit(const std::string& counter,
                                                           int64_t add_g, int64_t limit_g,
                                                           veta::v1::Refusal code,
                                                           const std::string& what,
                                                           Effects* effects) const {
  if (!V3(registry.parameters(delta))) return std::nullopt;
  const std::string key = SubmittedDayCounter(counter);
  const std::string day = PeruDay(now);
  if (auto v = RuleDailyLimit(
          registry.Counter(key, delta), add_g, limit_g, code,
          StrCat(what, ", counting what was submitted that day whatever day it declares,"),
          StrCat(day.substr(0, 4), "-", day.substr(4, 2), "-", day.substr(6)))) {
    return v;
  }
  effects->counter_adds.emplace_back(key, add_g);
  return std::nullopt;
}

std::optional<Verdict> RuleContext::RuleExtractionV3(const veta::v1::MiningUnit& u,
                                                     bool by_selector, Verdict* v) const {
  const auto& x = d.extraction;
  const veta::v1::Parameters& params = registry.parameters(delta);
  if (!V3(params)) return std::nullopt;
  const std::string& code = u.concession_code();
  const std::string today = PeruDay(now);
  if (auto r = RuleSubmissionDayLimit(UnitDayCounter(code, today), x.ore_g(),
                                      u.capacity_ore_g_per_day(), veta::v1::UNIT_CAPACITY_EXCEEDED,
                                      StrCat("unit ", code), &v->effects)) {
    return r;
  }
  if (by_selector) {
    if (auto r = RuleSubmissionDayLimit(SelectorDayCounter(x.extractor_id(), today), x.ore_g(),
                                        params.selector_daily_limit_g(),
                                        veta::v1::SELECTOR_LIMIT_EXCEEDED,
                                        StrCat("selector ", x.extractor_id()), &v->effects)) {
      return r;
    }
  }
  veta::v1::Lot* lot = LotIn(&v->effects, x.lot_id());
  if (lot == nullptr) return Failure(absl::InternalError("the extraction made no lot"));
  *lot->mutable_declared_time() = x.time();
  lot->set_upstream_known(true);  // no one held it before its extractor
  // The unit's history: how many extractions, their ore and the fine gold they declared.
  const std::string n_key = UnitGradeCounter(code, 'n'), ore_key = UnitGradeCounter(code, 'o'),
                    fine_key = UnitGradeCounter(code, 'f');
  const int64_t n = registry.Counter(n_key, delta), ore = registry.Counter(ore_key, delta),
                fine = registry.Counter(fine_key, delta);
  // Above percent/100 of the average fine_mg * 1e6 / ore_g (ppb), compared multiplied out.
  __extension__ typedef __int128 int128;
  if (n >= GradeHistoryMin(params) && ore > 0 &&
      static_cast<int128>(x.grade_ppb()) * 100 * ore >
          static_cast<int128>(GradeJumpPercent(params)) * fine * units::kPpmWhole) {
    const int64_t average =
        static_cast<int64_t>(static_cast<int128>(fine) * units::kPpmWhole / ore);
    RaiseFlag(&v->effects, sequence, veta::v1::GRADE_JUMP,
              StrCat("declared grade ", units::GradeGramsPerTonne(x.grade_ppb()), " is over ",
                     units::FormatDecimal(GradeJumpPercent(params), 2), "x unit ", code,
                     "'s own average of ", units::GradeGramsPerTonne(average), " over ", n,
                     " extractions (fine gold declared over ore)"),
              {x.extractor_id()}, code);
  }
  v->effects.counter_adds.emplace_back(n_key, 1);
  v->effects.counter_adds.emplace_back(ore_key, x.ore_g());
  v->effects.counter_adds.emplace_back(fine_key, lot->original_fine_mg());
  return std::nullopt;
}

void RuleContext::FlagLateDeclaration(Verdict* v) const {
  const veta::v1::Parameters& params = registry.parameters(delta);
  const auto declared = Declared(d);
  if (!v->ok() || !V3(params) || !declared) return;
  // A registrar co-signed: a late declaration looked into, not a flag to clear again.
  if (!RuleRegistrarSigned(false)) return;
  const auto [t, kind] = *declared;
  const int64_t hours = LateDeclarationHours(params);
  if (now - t <= hours * kMicrosPerHour) return;
  RaiseFlag(&v->effects, sequence, veta::v1::LATE_DECLARATION,
            StrCat("the ", kind, " dated ", Instant(t), " was declared ",
                   (now - t) / kMicrosPerHour, " hours later (", Instant(now), "), after the ",
                   hours, " hours within which its papers (invoice, transport guide) are issued"),
            v->parties, v->unit_code);
}

void RuleContext::UndoV3Counters(const DecodedEnvelope& e, int64_t entry_micros,
                                 Effects* effects) const {
  // A lot with a declared time was made under rules v3: its entry added these counters.
  const std::string day = PeruDay(entry_micros);
  if (e.kind == PayloadKind::kExtraction) {
    const auto& ex = e.extraction;
    const veta::v1::Lot* lot = LotIn(effects, ex.lot_id());
    if (lot == nullptr || !lot->has_declared_time()) return;
    auto& adds = effects->counter_adds;
    adds.emplace_back(SubmittedDayCounter(UnitDayCounter(ex.unit_code(), day)), -ex.ore_g());
    if (LooksLikeDni(ex.extractor_id())) {
      adds.emplace_back(SubmittedDayCounter(SelectorDayCounter(ex.extractor_id(), day)),
                        -ex.ore_g());
    }
    adds.emplace_back(UnitGradeCounter(ex.unit_code(), 'n'), -1);
    adds.emplace_back(UnitGradeCounter(ex.unit_code(), 'o'), -ex.ore_g());
    adds.emplace_back(UnitGradeCounter(ex.unit_code(), 'f'), -lot->original_fine_mg());
  } else if (e.kind == PayloadKind::kProcessing) {
    const auto& pr = e.processing;
    const veta::v1::Lot* first = LotIn(effects, pr.outputs(0).lot_id());
    if (first == nullptr || !first->has_declared_time()) return;
    int64_t ore_g = 0;
    for (const auto& in : first->inputs()) ore_g += in.ore_g();
    if (ore_g > 0) {
      effects->counter_adds.emplace_back(SubmittedDayCounter(PlantDayCounter(pr.plant_ruc(), day)),
                                         -ore_g);
    }
  }
}

}  // namespace veta
