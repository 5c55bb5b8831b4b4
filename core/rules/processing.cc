// Processing: a plant turns lots it holds into gold lots; blends carry every unit's share.
#include <algorithm>
#include <map>
#include <set>

#include "core/base/ids.h"
#include "core/base/strings.h"
#include "core/base/units.h"
#include "core/rules/rules_internal.h"

namespace veta {

using namespace rules;  // NOLINT: the rule helpers, private to the rules

Verdict RuleContext::EvaluateProcessing() const {
  const auto& x = d.processing;
  const veta::v1::Parameters& params = registry.parameters(delta);
  const int64_t t = Micros(x.time());
  if (auto v = RuleTimeNotInFuture(t, now)) return *v;
  if (auto v = RuleTimeNotTooOld(t, now, params)) return *v;
  if (x.inputs().empty() || x.inputs_size() > static_cast<int>(kProcessingInputsMax) ||
      x.outputs().empty() || x.outputs_size() > static_cast<int>(kProcessingOutputsMax)) {
    return Refuse(veta::v1::PROCESSING_INVALID,
                  StrCat("a processing has 1 to ", kProcessingInputsMax, " inputs and 1 to ",
                         kProcessingOutputsMax, " outputs, not ", x.inputs_size(), " and ",
                         x.outputs_size()));
  }
  auto plant = registry.Find(RecordKind::kParty, x.plant_ruc(), delta);
  if (plant == nullptr) {
    return Refuse(veta::v1::PLANT_UNKNOWN,
                  StrCat("plant ", x.plant_ruc(), " is not registered in REPCO"));
  }
  const Standing who = *StandingOf(*plant);
  if (auto v = RuleSignedBy(who, d, veta::v1::SIGNER_NOT_PARTY)) return *v;
  if (plant->record.party().kind() != veta::v1::PLANT) {
    return Refuse(veta::v1::NOT_A_PLANT,
                  StrCat(who.what, " ", x.plant_ruc(), " is not a processing plant in REPCO"));
  }
  if (auto v = RuleActive(who, t, veta::v1::PLANT_NOT_ACTIVE, veta::v1::PLANT_NOT_ACTIVE)) {
    return *v;
  }
  std::set<std::string> ids;
  std::vector<BlendOutput> outputs;
  for (const auto& out : x.outputs()) {
    if (auto v = RuleLotIdValid(out.lot_id(), "output lot id")) return *v;
    if (!ids.insert(out.lot_id()).second) {
      return Refuse(veta::v1::PROCESSING_INVALID,
                    StrCat("output lot id '", out.lot_id(), "' is repeated"));
    }
    auto taken = registry.FindLot(out.lot_id(), delta);
    if (!taken.ok()) return Failure(taken.status());
    if (taken->has_value()) {
      return Refuse(veta::v1::LOT_ID_TAKEN, StrCat("lot id ", out.lot_id(), " is already in use"));
    }
    if (auto v = RuleQuantityPositive(out.gold_mg(), StrCat("output ", out.lot_id()),
                                      "milligrams (gold_mg)")) {
      return *v;
    }
    if (out.gold_mg() > kGoldMgMax) {
      return Refuse(veta::v1::PROCESSING_INVALID,
                    StrCat("output ", out.lot_id(), ": at most ", units::GoldGrams(kGoldMgMax),
                           " of gold in one lot, not ", units::GoldGrams(out.gold_mg())));
    }
    if (!(out.fineness_ppb() > 0 && out.fineness_ppb() <= units::kPpbWhole)) {
      return Refuse(veta::v1::PROCESSING_INVALID,
                    StrCat("output ", out.lot_id(), ": fineness is in parts per billion, in ",
                           "(0, 1000000000], not ", out.fineness_ppb()));
    }
    outputs.push_back({out.lot_id(), out.gold_mg(), out.fineness_ppb()});
  }
  Verdict v;
  int64_t ore_g = 0;
  std::vector<veta::v1::Lot> consumed;
  std::vector<int64_t> quantities;
  consumed.reserve(static_cast<size_t>(x.inputs_size()));
  for (const auto& in : x.inputs()) {
    if (!ids.insert(in.lot_id()).second) {
      return Refuse(veta::v1::PROCESSING_INVALID,
                    StrCat("lot ", in.lot_id(), " appears twice among inputs and outputs"));
    }
    auto found = registry.FindLot(in.lot_id(), delta);
    if (!found.ok()) return Failure(found.status());
    if (!found->has_value()) {
      return Refuse(veta::v1::LOT_UNKNOWN, StrCat("input lot ", in.lot_id(), " does not exist"));
    }
    const veta::v1::Lot& lot = **found;
    const bool by_mg = in.gold_mg() != 0;
    if (by_mg && in.ore_g() != 0) {
      return Refuse(veta::v1::LOT_KIND_MISMATCH,
                    StrCat("input ", in.lot_id(), " gives grams of ore and milligrams: one only"));
    }
    const int64_t q = by_mg ? in.gold_mg() : in.ore_g();
    if (auto r = RuleQuantityPositive(q, StrCat("input ", in.lot_id()),
                                      by_mg ? "milligrams" : "grams")) {
      return *r;
    }
    if (auto r = RuleLotHeldBy(lot, x.plant_ruc(), veta::v1::PLANT_DOES_NOT_HOLD_LOT)) return *r;
    if (auto r = RuleQuantityInLotUnit(lot, by_mg, "ore_g", "gold_mg")) return *r;
    if (auto r = RuleLotMovable(lot)) return *r;
    if (auto r = RuleLotHeldWithEnough(lot, x.plant_ruc(), q, veta::v1::PLANT_DOES_NOT_HOLD_LOT,
                                       "the processing")) {
      return *r;
    }
    if (!IsGold(lot)) ore_g += q;  // each at most its lot's grams: no overflow in 1,000
    consumed.push_back(lot);
    quantities.push_back(q);
  }
  if (auto r = RuleDatedAfter(t, "the processing", {{plant.get(), veta::v1::PLANT_NOT_ACTIVE}},
                              consumed)) {
    return *r;
  }
  // The lots' arithmetic (core/verify/lots.h): what each input gives, the blend's origin by unit.
  std::vector<veta::v1::Lot*> input_lots;
  for (auto& lot : consumed) input_lots.push_back(&lot);
  std::vector<veta::v1::LotInput> inputs;
  std::vector<veta::v1::Lot> made = Blend(input_lots, quantities, outputs, &inputs);
  int64_t ore_fine = 0, gold_fine = 0, fine_out = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    (IsGold(consumed[i]) ? gold_fine : ore_fine) += inputs[i].fine_mg();
  }
  for (const auto& lot : made) fine_out += lot.original_fine_mg();
  const size_t mix_units = made.front().origin_size();
  if (mix_units > kOriginUnitsMax) {
    return Refuse(veta::v1::PROCESSING_INVALID,
                  StrCat("the inputs come from ", mix_units, " units; a lot's origin names at ",
                         "most ", kOriginUnitsMax));
  }
  if (auto r = RuleMassBalance(fine_out, ore_fine, gold_fine, params)) return *r;
  const std::string day = PeruDay(t);
  const std::string plant_counter = PlantDayCounter(x.plant_ruc(), day);
  if (ore_g > 0) {
    if (auto r =
            RuleDailyLimit(registry.Counter(plant_counter, delta), ore_g,
                           plant->record.party().processing_capacity_ore_g_per_day(),
                           veta::v1::PLANT_CAPACITY_EXCEEDED, StrCat("plant ", x.plant_ruc()),
                           StrCat(day.substr(0, 4), "-", day.substr(4, 2), "-", day.substr(6)))) {
      return *r;
    }
    v.effects.counter_adds.emplace_back(plant_counter, ore_g);
    if (auto r = RuleSubmissionDayLimit(PlantDayCounter(x.plant_ruc(), PeruDay(now)), ore_g,
                                        plant->record.party().processing_capacity_ore_g_per_day(),
                                        veta::v1::PLANT_CAPACITY_EXCEEDED,
                                        StrCat("plant ", x.plant_ruc()), &v.effects)) {
      return *r;
    }
  }
  // Who held the inputs' gold before (rules v3), before they are moved into the effects.
  veta::v1::Lot upstream;
  if (V3(params)) {
    std::vector<const veta::v1::Lot*> from;
    for (const auto& in : consumed) from.push_back(&in);
    SetUpstream(from, &upstream);
  }
  for (auto& lot : consumed) v.effects.lots.push_back(std::move(lot));
  const std::string main_unit = made.front().unit_code();
  for (auto& lot : made) {
    lot.set_holder_id(x.plant_ruc());
    lot.set_created_at(sequence);
    if (V3(params)) {
      *lot.mutable_declared_time() = x.time();
      *lot.mutable_upstream_holders() = upstream.upstream_holders();
      lot.set_upstream_known(upstream.upstream_known());
      lot.set_upstream_truncated(upstream.upstream_truncated());
    }
    for (const auto& in : inputs) {
      v.effects.state_puts.emplace_back(ChildEdgeKey(in.lot_id(), lot.lot_id()),
                                        EncodeU64(sequence));
    }
    v.effects.state_puts.emplace_back(HolderLotKey(x.plant_ruc(), lot.lot_id()),
                                      EncodeU64(sequence));
    v.effects.lots.push_back(std::move(lot));
  }
  v.parties = {x.plant_ruc()};
  v.unit_code = main_unit;
  return v;
}

}  // namespace veta
