// Exports: a gold lot leaves the country, once.
#include <algorithm>
#include <map>
#include <set>

#include "core/base/ids.h"
#include "core/base/strings.h"
#include "core/base/units.h"
#include "core/rules/rules_internal.h"

namespace veta {

using namespace rules;  // NOLINT: the rule helpers, private to the rules

Verdict RuleContext::EvaluateExport() const {
  const auto& x = d.export_;
  const int64_t t = Micros(x.time());
  if (auto v = RuleTimeNotInFuture(t, now)) return *v;
  if (auto v = RuleTimeNotTooOld(t, now, registry.parameters(delta))) return *v;
  auto found = registry.FindLot(x.lot_id(), delta);
  if (!found.ok()) return Failure(found.status());
  if (!found->has_value()) {
    return Refuse(veta::v1::LOT_UNKNOWN, StrCat("lot ", x.lot_id(), " does not exist"));
  }
  const veta::v1::Lot& lot = **found;
  auto exporter = registry.Find(RecordKind::kParty, x.exporter_ruc(), delta);
  if (exporter == nullptr) {
    return Refuse(veta::v1::EXPORTER_UNKNOWN,
                  StrCat("exporter ", x.exporter_ruc(), " is not registered in REPCO"));
  }
  const Standing who = *StandingOf(*exporter);
  if (auto v = RuleSignedBy(who, d, veta::v1::SIGNER_NOT_PARTY)) return *v;
  if (exporter->record.party().kind() != veta::v1::EXPORTER) {
    return Refuse(veta::v1::NOT_AN_EXPORTER,
                  StrCat(who.what, " ", x.exporter_ruc(), " is not an exporter in REPCO"));
  }
  if (auto v = RuleActive(who, t, veta::v1::EXPORTER_NOT_ACTIVE, veta::v1::EXPORTER_NOT_ACTIVE)) {
    return *v;
  }
  const std::string& c = x.destination_country();
  if (c.size() != 2 || !std::isupper(static_cast<unsigned char>(c[0])) ||
      !std::isupper(static_cast<unsigned char>(c[1])) || c == "PE") {
    return Refuse(veta::v1::EXPORT_INVALID,
                  StrCat("the destination is an ISO 3166 country code other than PE, not '",
                         c.substr(0, 8), "'"));
  }
  if (x.customs_declaration().empty() || x.customs_declaration().size() > kIdBytesMax) {
    return Refuse(veta::v1::EXPORT_INVALID,
                  "an export names its customs declaration (DAM number, 1-64 bytes)");
  }
  if (auto v = RuleLotHeldBy(lot, x.exporter_ruc(), veta::v1::EXPORTER_DOES_NOT_HOLD_LOT)) {
    return *v;
  }
  if (auto v = RuleDatedAfter(t, "the export", {{exporter.get(), veta::v1::EXPORTER_NOT_ACTIVE}},
                              {lot})) {
    return *v;
  }
  if (!IsGold(lot)) {
    return Refuse(veta::v1::EXPORT_INVALID,
                  StrCat("lot ", lot.lot_id(), " is ore: only gold lots are exported"));
  }
  if (auto v = RuleLotMovable(lot)) return *v;
  if (auto v = RuleLotHeldWithEnough(lot, x.exporter_ruc(), 0, veta::v1::EXPORTER_DOES_NOT_HOLD_LOT,
                                     "the export")) {
    return *v;
  }
  if (!(lot.remaining_gold_mg() > 0)) {
    return Refuse(veta::v1::EXPORT_INVALID, StrCat("lot ", lot.lot_id(), " has nothing left"));
  }
  Verdict v;
  veta::v1::Lot exported = lot;
  exported.set_exported_at(sequence);
  exported.set_export_voided_at(0);
  ExportAll(&exported);
  exported.set_export_destination(c);
  v.effects.lots.push_back(std::move(exported));
  v.parties = {x.exporter_ruc()};
  v.unit_code = lot.unit_code();
  return v;
}

}  // namespace veta
