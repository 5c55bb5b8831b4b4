// Corrections: an earlier transaction voided, and what it consumed restored.
#include <algorithm>
#include <map>
#include <set>

#include "core/base/ids.h"
#include "core/base/strings.h"
#include "core/base/units.h"
#include "core/rules/rules_internal.h"

namespace veta {

using namespace rules;  // NOLINT: the rule helpers, private to the rules

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
  // Rules v3: a flagged entry is not washed away by its own parties.
  if (auto r = RuleFlaggedNeedsRegistrar(target, e, by_registrar)) return *r;
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
      if (auto r = UndoSharedGrounds(target, ex.ore_g(), &v.effects)) return *r;
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
      // Rules v3: the cash the sale added to the structuring counters (sales.cc) goes back.
      auto cash = registry.FindState(CashCountedKey(target), delta);
      if (!cash.ok()) return Failure(cash.status());
      if (cash->has_value()) {
        auto cents = DecodeI64(**cash, "a cash-counted row");
        if (!cents.ok()) return Failure(cents.status());
        const std::string day = PeruDay(Micros(s.time()));
        v.effects.counter_adds.emplace_back(CashPairDayCounter(s.seller_id(), s.buyer_ruc(), day),
                                            -*cents);
        v.effects.counter_adds.emplace_back(CashSellerDayCounter(s.seller_id(), day), -*cents);
      }
      break;
    }
    case PayloadKind::kProcessing: {
      const auto& pr = e.processing;
      // What each input took is kept on the first output (core/verify/lots.h).
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
  UndoV3Counters(e, Micros(entry.time()), &v.effects);  // rules v3: per submission day, grades
  v.effects.state_puts.emplace_back(VoidedEntryKey(target), EncodeU64(sequence));
  return v;
}

}  // namespace veta
