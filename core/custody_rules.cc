// The custody rules: processing (mass balance, plant capacity, blending), exports and
// corrections. Registry records, extractions and sales are judged in registry.cc.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "core/ids.h"
#include "core/rules_internal.h"
#include "core/strings.h"
#include "core/units.h"

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
  // The lots' arithmetic (core/lots.h): what each input gives, the blend's origin by unit.
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
  }
  for (auto& lot : consumed) v.effects.lots.push_back(std::move(lot));
  const std::string main_unit = made.front().unit_code();
  for (auto& lot : made) {
    lot.set_holder_id(x.plant_ruc());
    lot.set_created_at(sequence);
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

// The parties a transaction needed, for a correction signed by them rather than a registrar.
std::vector<std::string> RuleContext::NeededParties(const DecodedEnvelope& e) const {
  switch (e.kind) {
    case PayloadKind::kExtraction:
      return {e.extraction.extractor_id()};
    case PayloadKind::kSale:
      return {e.sale.seller_id(), e.sale.buyer_ruc()};
    case PayloadKind::kProcessing:
      return {e.processing.plant_ruc()};
    case PayloadKind::kExport:
      return {e.export_.exporter_ruc()};
    default:
      return {};
  }
}

// Who may void it without a registrar: the parties it needed, except for an export (gold
// declared as gone abroad is brought back only by a registrar, on customs' word).
bool RuleContext::PartiesMayCorrect(const DecodedEnvelope& e) {
  return e.kind != PayloadKind::kExport;
}

// A lot the corrected entry created has not moved on: nothing consumed, not exported.
std::optional<Verdict> RuleContext::RuleUntouched(const veta::v1::Lot& lot, uint64_t target) const {
  const bool exported = lot.exported_at() != 0 && lot.export_voided_at() == 0;
  if (Original(lot) == Remaining(lot) && !exported) return std::nullopt;
  if (RuleRegistrarSigned(false)) {
    // Signed by the entry's parties: what became of the lot since is its holder's business.
    return Refuse(veta::v1::CORRECTION_BLOCKED,
                  StrCat("entry ", target, " created lot ", lot.lot_id(), ", which has moved on ",
                         "since: correct what came after it first (a registrar sees what)"));
  }
  std::string next;
  if (exported) {
    next = StrCat("it was exported by entry ", lot.exported_at());
  } else {
    next = StrCat("only ", Amount(lot, Remaining(lot)), " of ", Amount(lot, Original(lot)),
                  " is left");
    std::unique_ptr<Cursor> it = registry.store_->NewCursor(Family::kState);
    const std::string prefix = ChildEdgeKey(lot.lot_id(), "");
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      const std::string child = std::string(it->key()).substr(prefix.size());
      auto c = registry.FindLot(child, delta);
      if (!c.ok() || !c->has_value() || (*c)->voided_at() != 0) continue;
      next += StrCat(": lot ", child, " (entry ", (*c)->created_at(), ") came from it");
      break;
    }
  }
  return Refuse(veta::v1::CORRECTION_BLOCKED,
                StrCat("entry ", target, " created lot ", lot.lot_id(), ", which has moved on (",
                       next, "): correct what came after it first"));
}

Verdict RuleContext::EvaluateCorrection() const {
  const auto& x = d.correction;
  const int64_t t = Micros(x.time());
  if (auto v = RuleTimeNotInFuture(t, now)) return *v;
  const uint64_t target = x.corrected_sequence();
  if (x.reason().empty() || x.reason().size() > 1000) {
    return Refuse(veta::v1::CORRECTION_TARGET_INVALID,
                  "a correction states its reason (1-1000 bytes)");
  }
  auto bytes = registry.store_->Get(Family::kEntries, EncodeU64(target));
  if (target >= sequence) {
    return Refuse(veta::v1::CORRECTION_TARGET_INVALID,
                  StrCat("entry ", target, " is not in the ledger"));
  }
  if (absl::IsNotFound(bytes.status())) {
    // An earlier entry of the same batch is not on disk yet: not a verdict, retry. Below the
    // committed size, a missing entry is a damaged store.
    auto committed = registry.store_->EntryCount();
    if (!committed.ok()) return Failure(committed.status());
    if (target < *committed) {
      return Failure(absl::DataLossError(StrCat("entry ", target, " is missing from the store")));
    }
    return Failure(absl::UnavailableError(
        StrCat("entry ", target, " is being written in the same batch: retry the correction")));
  }
  if (!bytes.ok()) return Failure(bytes.status());
  veta::v1::Entry entry;
  if (!entry.ParseFromString(*bytes)) {
    return Failure(absl::DataLossError(StrCat("entry ", target, " is malformed")));
  }
  auto decoded = DecodeEnvelope(entry.envelope(), EnvelopeLimits{});
  if (!decoded.ok()) return Failure(decoded.status());
  const DecodedEnvelope& e = *decoded;
  const std::vector<std::string> parties = NeededParties(e);
  // Who signed, before anything about the entry is told: a registrar, or a party the entry
  // names (who may read it). Anyone else learns nothing of it (its kind, parties, state).
  const bool by_registrar = !RuleRegistrarSigned(false).has_value();
  bool by_a_party = false;
  for (const auto& id : parties) {
    auto person = FindPerson(id);
    by_a_party = by_a_party || (person != nullptr &&
                                !RuleSignedBy(*StandingOf(*person), d, veta::v1::SIGNER_NOT_PARTY));
  }
  if (!by_registrar && !by_a_party) {
    return Refuse(veta::v1::CORRECTION_NOT_AUTHORIZED,
                  StrCat("a correction of entry ", target, " is signed by an active registrar ",
                         "or by the parties of that entry"));
  }
  if (parties.empty()) {
    return Refuse(
        veta::v1::CORRECTION_TARGET_INVALID,
        StrCat("entry ", target, " is not a transaction (extraction, sale, ",
               "processing or export): a registry record is corrected by a new ", "version"));
  }
  auto voided = registry.FindState(VoidedEntryKey(target), delta);
  if (!voided.ok()) return Failure(voided.status());
  if (voided->has_value()) {
    auto by = DecodeSequence(**voided, "a voided-entry row");
    if (!by.ok()) return Failure(by.status());
    return Refuse(veta::v1::CORRECTION_TARGET_INVALID,
                  StrCat("entry ", target, " was already voided by entry ", *by));
  }
  bool by_parties = PartiesMayCorrect(e);
  for (const auto& id : parties) {
    auto person = FindPerson(id);
    if (person == nullptr || RuleSignedBy(*StandingOf(*person), d, veta::v1::SIGNER_NOT_PARTY)) {
      by_parties = false;
    }
  }
  if (!by_parties && !by_registrar) {
    return Refuse(
        veta::v1::CORRECTION_NOT_AUTHORIZED,
        PartiesMayCorrect(e)
            ? StrCat("a correction of entry ", target, " is signed by an active ",
                     "registrar or by every party of that entry (", StrJoin(parties, ", "), ")")
            : StrCat("entry ", target, " is an export: only an active registrar ", "voids it"));
  }
  Verdict v;
  v.parties = parties;
  auto lot_of = [&](const std::string& id) -> absl::StatusOr<veta::v1::Lot> {
    for (const auto& l : v.effects.lots) {
      if (l.lot_id() == id) return l;
    }
    auto found = registry.FindLot(id, delta);
    if (!found.ok()) return found.status();
    if (!found->has_value()) return absl::DataLossError(StrCat("lot ", id, " is missing"));
    return **found;
  };
  // Voids a lot the entry created; restores `quantity` to a lot it consumed.
  auto void_lot = [&](const std::string& id) -> std::optional<Verdict> {
    auto lot = lot_of(id);
    if (!lot.ok()) return Failure(lot.status());
    if (auto r = RuleUntouched(*lot, target)) return r;
    lot->set_voided_at(sequence);
    if (v.unit_code.empty()) v.unit_code = lot->unit_code();
    v.effects.lots.push_back(std::move(*lot));
    return std::nullopt;
  };
  auto restore = [&](const std::string& id, const Taken& taken) -> std::optional<Verdict> {
    auto lot = lot_of(id);
    if (!lot.ok()) return Failure(lot.status());
    // What it consumed goes back only to a lot that can still hold it.
    if (auto r = RuleLotMovable(*lot)) {
      return Refuse(veta::v1::CORRECTION_BLOCKED,
                    StrCat("entry ", target, " took from lot ", id, ", which cannot take it ",
                           "back: ", r->message, ": correct that first"));
    }
    GiveBack(&*lot, taken);
    std::erase_if(v.effects.lots, [&](const veta::v1::Lot& l) { return l.lot_id() == id; });
    v.effects.lots.push_back(std::move(*lot));
    return std::nullopt;
  };
  switch (e.kind) {
    case PayloadKind::kExtraction: {
      const auto& ex = e.extraction;
      if (auto r = void_lot(ex.lot_id())) return *r;
      const std::string day = PeruDay(Micros(ex.time()));
      v.effects.counter_adds.emplace_back(UnitDayCounter(ex.unit_code(), day), -ex.ore_g());
      if (LooksLikeDni(ex.extractor_id())) {
        v.effects.counter_adds.emplace_back(SelectorDayCounter(ex.extractor_id(), day),
                                            -ex.ore_g());
      }
      break;
    }
    case PayloadKind::kSale: {
      const auto& s = e.sale;
      // What the sale took is the buyer's lot as created (untouched since, or refused).
      auto bought = lot_of(s.buyer_lot_id());
      if (!bought.ok()) return Failure(bought.status());
      const Taken taken{Original(*bought), bought->original_fine_mg(), OriginOf(*bought)};
      if (auto r = void_lot(s.buyer_lot_id())) return *r;
      const bool gold = s.quantity_mg() != 0;
      const int64_t q = gold ? s.quantity_mg() : s.quantity_ore_g();
      if (auto r = restore(s.lot_id(), taken)) return *r;
      const std::string key = SellerStatsName(s.seller_id(), gold);
      SellerStats stats = registry.Stats(key, delta);
      stats.sales = stats.sales > 0 ? stats.sales - 1 : 0;
      stats.quantity = std::max<int64_t>(0, stats.quantity - q);
      v.effects.seller_stats.emplace_back(key, stats);
      break;
    }
    case PayloadKind::kProcessing: {
      const auto& pr = e.processing;
      // What each input took is kept on the first output (core/lots.h).
      auto first = lot_of(pr.outputs(0).lot_id());
      if (!first.ok()) return Failure(first.status());
      const veta::v1::Lot recorded = *first;
      for (const auto& out : pr.outputs()) {
        if (auto r = void_lot(out.lot_id())) return *r;
      }
      int64_t ore_g = 0;
      for (const auto& in : recorded.inputs()) {
        if (auto r = restore(in.lot_id(), TakenBy(in))) return *r;
        ore_g += in.ore_g();
      }
      if (ore_g > 0) {
        v.effects.counter_adds.emplace_back(
            PlantDayCounter(pr.plant_ruc(), PeruDay(Micros(pr.time()))), -ore_g);
      }
      break;
    }
    case PayloadKind::kExport: {
      auto lot = lot_of(e.export_.lot_id());
      if (!lot.ok()) return Failure(lot.status());
      lot->set_export_voided_at(sequence);
      UnexportAll(&*lot);
      v.unit_code = lot->unit_code();
      v.effects.lots.push_back(std::move(*lot));
      break;
    }
    default:
      break;
  }
  v.effects.state_puts.emplace_back(VoidedEntryKey(target), EncodeU64(sequence));
  return v;
}

}  // namespace veta
