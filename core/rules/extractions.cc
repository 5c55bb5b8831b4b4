// Extractions: ore taken from a registered unit by a registered miner or selector.
#include "core/base/ids.h"
#include "core/base/strings.h"
#include "core/base/units.h"
#include "core/rules/rules_internal.h"

namespace veta {

using namespace rules;  // NOLINT: the rule helpers, private to the rules

Verdict RuleContext::EvaluateExtraction() const {
  const auto& x = d.extraction;
  const veta::v1::Parameters& params = registry.parameters(delta);
  const int64_t t = Micros(x.time());
  if (auto v = RuleTimeNotInFuture(t, now)) return *v;
  if (auto v = RuleTimeNotTooOld(t, now, params)) return *v;
  if (auto v = RuleQuantityPositive(x.ore_g(), "the extracted ore", "grams (ore_g)")) return *v;
  if (auto v = RuleLotIdValid(x.lot_id(), "the new lot id")) return *v;
  auto taken = registry.FindLot(x.lot_id(), delta);
  if (!taken.ok()) return Failure(taken.status());
  if (taken->has_value()) {
    return Refuse(veta::v1::LOT_ID_TAKEN, StrCat("lot id ", x.lot_id(), " is already in use"));
  }
  auto extractor = LooksLikeDni(x.extractor_id())
                       ? registry.Find(RecordKind::kSelector, x.extractor_id(), delta)
                       : registry.Find(RecordKind::kMiner, x.extractor_id(), delta);
  if (extractor == nullptr) {
    return Refuse(veta::v1::EXTRACTOR_UNKNOWN,
                  StrCat("extractor ", x.extractor_id(),
                         " is not registered (REINFO miner RUC or selector DNI)"));
  }
  const Standing who = *StandingOf(*extractor);
  if (auto v = RuleSignedBy(who, d, veta::v1::SIGNER_NOT_PARTY)) return *v;
  if (auto v = RuleActive(who, t, veta::v1::EXTRACTOR_NOT_ACTIVE, veta::v1::EXTRACTOR_EXPIRED)) {
    return *v;
  }
  auto unit = registry.Find(RecordKind::kUnit, x.unit_code(), delta);
  if (unit == nullptr) {
    return Refuse(veta::v1::UNIT_UNKNOWN, StrCat("unit ", x.unit_code(), " is not registered"));
  }
  const auto& u = unit->record.unit();
  if (u.status().status() != veta::v1::VIGENTE || u.activity() != veta::v1::EXTRACTION) {
    return Refuse(
        veta::v1::UNIT_NOT_ACTIVE,
        StrCat("unit ", u.concession_code(), " is ",
               veta::v1::RegistryStatus_Name(u.status().status()), " for ",
               veta::v1::UnitActivity_Name(u.activity()), " (entry ", unit->sequence, ")"));
  }
  if (auto v = RuleExtractorOnUnit(*extractor, u)) return *v;
  if (auto v = RuleDatedAfter(t, "the extraction",
                              {{unit.get(), veta::v1::UNIT_NOT_ACTIVE},
                               {extractor.get(), veta::v1::EXTRACTOR_NOT_ACTIVE}})) {
    return *v;
  }
  const geo::Point p{x.point().longitude(), x.point().latitude()};
  if (absl::Status s = geo::CheckPoint(p); !s.ok()) {
    return Refuse(veta::v1::POINT_INVALID, StrCat("extraction point: ", s.message()));
  }
  if (auto v = RulePointInUnit(p, *unit)) return *v;
  if (auto zones = ZonesAt(p, false); !zones.empty()) {
    const auto& z = zones.front();
    return Refuse(
        veta::v1::POINT_IN_PROHIBITED_ZONE,
        StrCat("extraction point (", Num(p.lon), ", ", Num(p.lat), ") lies in prohibited zone '",
               z->record.zone().name(), "' (", veta::v1::ZoneKind_Name(z->record.zone().kind()),
               ", ", z->record.zone().legal_reference(), "; entry ", z->sequence, ")"));
  }
  if (auto v = RuleGrade(x.grade_ppb(), params, u.ubigeo().substr(0, 2), u.concession_code()))
    return *v;
  const std::string day = PeruDay(t);  // YYYYMMDD, in keys
  const std::string shown_day = StrCat(day.substr(0, 4), "-", day.substr(4, 2), "-", day.substr(6));
  const std::string unit_counter = UnitDayCounter(u.concession_code(), day);
  if (auto v = RuleDailyLimit(registry.Counter(unit_counter, delta), x.ore_g(),
                              u.capacity_ore_g_per_day(), veta::v1::UNIT_CAPACITY_EXCEEDED,
                              StrCat("unit ", u.concession_code()), shown_day)) {
    return *v;
  }
  Verdict v;
  v.parties = {x.extractor_id()};
  v.unit_code = u.concession_code();
  if (auto r = RuleSharedGrounds(*unit, p, x.ore_g(), day, &v.effects)) return *r;  // rules v3
  if (extractor->record.has_selector()) {
    const std::string sel_counter = SelectorDayCounter(x.extractor_id(), day);
    if (auto r = RuleDailyLimit(registry.Counter(sel_counter, delta), x.ore_g(),
                                params.selector_daily_limit_g(), veta::v1::SELECTOR_LIMIT_EXCEEDED,
                                StrCat("selector ", x.extractor_id()), shown_day)) {
      return *r;
    }
    v.effects.counter_adds.emplace_back(sel_counter, x.ore_g());
  }
  v.effects.counter_adds.emplace_back(unit_counter, x.ore_g());
  v.effects.lots.push_back(NewOreLot(x.lot_id(), x.extractor_id(), u.concession_code(),
                                     u.ubigeo().substr(0, 2), x.ore_g(), x.grade_ppb(), sequence));
  v.effects.state_puts.emplace_back(UnitLotKey(u.concession_code(), x.lot_id()),
                                    EncodeU64(sequence));
  v.effects.state_puts.emplace_back(HolderLotKey(x.extractor_id(), x.lot_id()),
                                    EncodeU64(sequence));
  if (auto r = RuleExtractionV3(u, extractor->record.has_selector(), &v)) return *r;
  // Red flag: the point lies in a satellite-detected scar that reaches outside the unit,
  // i.e. workings next to the concession that no registration covers.
  for (const auto& scar : ZonesAt(p, true)) {
    const geo::BBox& b = scar->geometry->bbox();
    const bool inside = unit->geometry->Contains({b.min_lon, b.min_lat}) &&
                        unit->geometry->Contains({b.max_lon, b.max_lat}) &&
                        unit->geometry->Contains({b.min_lon, b.max_lat}) &&
                        unit->geometry->Contains({b.max_lon, b.min_lat});
    if (inside) continue;
    RaiseFlag(&v.effects, sequence, veta::v1::POINT_IN_DETECTED_SCAR,
              StrCat("extraction point lies in detected mining scar '", scar->record.zone().name(),
                     "', which reaches outside unit ", u.concession_code()),
              {x.extractor_id()}, u.concession_code());
    break;
  }
  return v;
}

}  // namespace veta
