#include "core/rules/registry.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <ctime>
#include <set>

#include "core/base/ids.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/timestamp.h"
#include "core/base/units.h"
#include "core/rules/rules_internal.h"

// The registry's state (the latest version of every record, lots, counters, zones) and the
// dispatch of an entry to the rules of its kind (core/rules/).
namespace veta {

using namespace rules;  // NOLINT: the rule helpers, private to the rules

const char* LotSourceName(veta::v1::LotSource s) {
  switch (s) {
    case veta::v1::EXTRACTED:
      return "extraction";
    case veta::v1::BOUGHT:
      return "sale";
    case veta::v1::PROCESSED:
      return "processing";
    default:
      return "entry";
  }
}

bool VoidedAsOf(const veta::v1::Lot& lot, uint64_t as_of) {
  return lot.voided_at() != 0 && lot.voided_at() < as_of;
}

bool ExportedAsOf(const veta::v1::Lot& lot, uint64_t as_of) {
  return lot.exported_at() != 0 && lot.exported_at() < as_of &&
         (lot.export_voided_at() == 0 || lot.export_voided_at() >= as_of);
}

absl::Status RefusalStatus(const Verdict& v) {
  return absl::Status(v.status_code,
                      StrCat("[", veta::v1::Refusal_Name(v.refusal), "] ", v.message));
}

// --- State ---

absl::Status Registry::Load() {
  records_.clear();
  std::unique_ptr<Cursor> it = store_->NewCursor(Family::kRegistry);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto state = std::make_shared<RecordState>();
    const std::string_view key = it->key();
    if (key.size() < 10 || !DecodeU64(key.substr(key.size() - 8), &state->sequence) ||
        !state->record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("registry column family holds a malformed record");
    }
    if (state->record.has_unit() || state->record.has_zone()) {
      ASSIGN_OR_RETURN(geo::Geometry g,
                       geo::Geometry::FromGeoJson(state->record.has_unit()
                                                      ? state->record.unit().geometry_geojson()
                                                      : state->record.zone().geometry_geojson()));
      state->geometry = std::make_shared<const geo::Geometry>(std::move(g));
    }
    std::string map_key(key.substr(0, key.size() - 9));
    // Versions come in sequence order: each is folded onto the one before it (the first one's
    // entry time is the registration's; a reinstatement closes a period not in force, ending
    // at its entry when its `since` does not say).
    const RecordState* previous = nullptr;
    if (auto p = records_.find(map_key); p != records_.end()) previous = p->second.get();
    int64_t entry_micros = 0;
    const veta::v1::StatusInfo* was =
        previous != nullptr ? RecordStatus(previous->record) : nullptr;
    const veta::v1::StatusInfo* is = RecordStatus(state->record);
    if (previous == nullptr ||
        (was != nullptr && is != nullptr && was->status() != veta::v1::VIGENTE &&
         is->status() == veta::v1::VIGENTE)) {
      ASSIGN_OR_RETURN(std::string bytes,
                       store_->Get(Family::kEntries, EncodeU64(state->sequence)));
      veta::v1::Entry entry;
      if (!entry.ParseFromString(bytes)) {
        return absl::DataLossError(StrCat("entry ", state->sequence, " is malformed"));
      }
      entry_micros = Micros(entry.time());
    }
    FoldVersion(previous, entry_micros, state.get());
    records_[std::move(map_key)] = std::move(state);
  }
  RETURN_IF_ERROR(Annotate(it->status(), "load the registry"));
  std::unique_ptr<Cursor> st = store_->NewCursor(Family::kState);
  for (st->Seek(kCounterPrefix); st->Valid() && st->key().starts_with(kCounterPrefix); st->Next()) {
    ASSIGN_OR_RETURN(counters_[std::string(st->key().substr(1))],
                     DecodeI64(st->value(), "a stored daily counter"));
  }
  for (st->Seek(kSellerStatsPrefix); st->Valid() && st->key().starts_with(kSellerStatsPrefix);
       st->Next()) {
    SellerStats s;
    RETURN_IF_ERROR(DecodeSellerStats(st->value(), &s.sales, &s.quantity));
    seller_stats_[std::string(st->key().substr(1))] = s;
  }
  RETURN_IF_ERROR(Annotate(st->status(), "load the registry state"));
  RebuildZoneIndex();
  for (const auto& [key, state] : records_) {
    if (state->record.has_unit()) IndexUnit(state);
  }
  return absl::OkStatus();
}

void Registry::RebuildZoneIndex() {
  prohibited_ = geo::GeometryIndex();
  scars_ = geo::GeometryIndex();
  districts_ = geo::GeometryIndex();
  indexed_zones_.clear();
  for (const auto& [key, state] : records_) {
    if (!state->record.has_zone() || !state->record.zone().in_force()) continue;
    const uint64_t id = indexed_zones_.size();
    indexed_zones_.push_back(state);
    const auto kind = state->record.zone().kind();
    if (kind == veta::v1::DETECTED_MINING_SCAR) {
      scars_.Add(id, &*state->geometry);
    } else if (kind == veta::v1::ADMINISTRATIVE_DISTRICT) {
      districts_.Add(id, &*state->geometry);
    } else if (kind != veta::v1::PERMITTED_MINING_CORRIDOR &&
               kind != veta::v1::ADMINISTRATIVE_DISTRICT) {
      prohibited_.Add(id, &*state->geometry);
    }
  }
}

std::shared_ptr<const RecordState> Registry::Find(RecordKind kind, std::string_view id,
                                                  const Delta& delta) const {
  const std::string key = MapKey(kind, id);
  if (auto it = delta.records.find(key); it != delta.records.end()) return it->second;
  auto it = records_.find(key);
  return it == records_.end() ? nullptr : it->second;
}

absl::StatusOr<std::optional<veta::v1::Lot>> Registry::FindLot(std::string_view lot_id,
                                                               const Delta& delta) const {
  if (auto it = delta.lots.find(std::string(lot_id)); it != delta.lots.end()) return it->second;
  auto bytes = store_->Get(Family::kState, LotKey(lot_id));
  if (absl::IsNotFound(bytes.status())) return std::nullopt;
  if (!bytes.ok()) return bytes.status();
  veta::v1::Lot lot;
  if (!lot.ParseFromString(*bytes)) {
    return absl::DataLossError(StrCat("the stored state of lot ", lot_id, " is malformed"));
  }
  return lot;
}

const veta::v1::Parameters& Registry::parameters(const Delta& delta) const {
  static const veta::v1::Parameters* defaults = [] {
    auto* p = new veta::v1::Parameters();
    p->mutable_grade_ppb_default()->set_min(500);    // 0.5 g/t
    p->mutable_grade_ppb_default()->set_max(60000);  // 60 g/t
    p->mutable_recovery_ppm()->set_min(300000);      // 30%
    p->mutable_recovery_ppm()->set_max(950000);      // 95%
    p->set_selector_daily_limit_g(200000);           // 200 kg
    p->set_cash_flag_threshold_cents(3000000);       // S/ 30,000
    p->set_volume_jump_percent(500);                 // five times the average
    p->set_volume_history_min(3);
    return p;
  }();
  auto found = Find(RecordKind::kParameters, "", delta);
  return found ? found->record.parameters() : *defaults;
}

absl::StatusOr<std::optional<std::string>> Registry::FindState(const std::string& key,
                                                               const Delta& delta) const {
  if (auto it = delta.state.find(key); it != delta.state.end()) return it->second;
  auto bytes = store_->Get(Family::kState, key);
  if (absl::IsNotFound(bytes.status())) return std::nullopt;
  if (!bytes.ok()) return bytes.status();
  return std::move(*bytes);
}

int64_t Registry::Counter(const std::string& key, const Delta& delta) const {
  if (auto it = delta.counters.find(key); it != delta.counters.end()) return it->second;
  auto it = counters_.find(key);
  return it == counters_.end() ? 0 : it->second;
}

SellerStats Registry::Stats(const std::string& seller, const Delta& delta) const {
  if (auto it = delta.seller_stats.find(seller); it != delta.seller_stats.end()) return it->second;
  auto it = seller_stats_.find(seller);
  return it == seller_stats_.end() ? SellerStats{} : it->second;
}

Verdict Registry::Evaluate(const DecodedEnvelope& d, uint64_t sequence, int64_t now_micros,
                           const KeyRing& keys, const Delta& delta, bool dry_run) const {
  RuleContext ctx{*this, d, sequence, now_micros, keys, delta, dry_run};
  Verdict v;
  if (auto refused = ctx.RuleSignersInForce()) {
    v = std::move(*refused);
  } else {
    switch (d.kind) {
      case PayloadKind::kRegistry:
        v = ctx.EvaluateRecord();
        break;
      case PayloadKind::kExtraction:
        v = ctx.EvaluateExtraction();
        break;
      case PayloadKind::kSale:
        v = ctx.EvaluateSale();
        break;
      case PayloadKind::kProcessing:
        v = ctx.EvaluateProcessing();
        break;
      case PayloadKind::kExport:
        v = ctx.EvaluateExport();
        break;
      case PayloadKind::kCorrection:
        v = ctx.EvaluateCorrection();
        break;
      case PayloadKind::kFlagClearance:
        v = ctx.EvaluateFlagClearance();
        break;
      default:
        break;
    }
    ctx.FlagLateDeclaration(&v);  // rules v3
  }
  if (v.refusal != veta::v1::REFUSAL_UNSPECIFIED && v.parties.empty()) {
    Involved involved = InvolvedIn(d, delta);
    v.parties = std::move(involved.parties);
    if (v.unit_code.empty()) v.unit_code = std::move(involved.unit_code);
  }
  return v;
}

Registry::Involved Registry::InvolvedIn(const DecodedEnvelope& d, const Delta& delta) const {
  Involved out;
  // A lot's unit, named in the attempt only when the lot is the named party's: an attempt on
  // someone else's lot must not tell its submitter where that lot came from.
  auto unit_of_lot = [&](const std::string& lot_id, const std::string& party) {
    auto lot = FindLot(lot_id, delta);
    if (lot.ok() && lot->has_value() && (*lot)->holder_id() == party) {
      out.unit_code = (*lot)->unit_code();
    }
  };
  switch (d.kind) {
    case PayloadKind::kRegistry:
      out.parties = {RecordKey(d.registry).second};
      break;
    case PayloadKind::kExtraction:
      out.parties = {d.extraction.extractor_id()};
      out.unit_code = d.extraction.unit_code();
      break;
    case PayloadKind::kSale:
      out.parties = {d.sale.seller_id(), d.sale.buyer_ruc()};
      unit_of_lot(d.sale.lot_id(), d.sale.seller_id());
      break;
    case PayloadKind::kProcessing:
      out.parties = {d.processing.plant_ruc()};
      break;
    case PayloadKind::kExport:
      out.parties = {d.export_.exporter_ruc()};
      unit_of_lot(d.export_.lot_id(), d.export_.exporter_ruc());
      break;
    default:
      break;
  }
  out.parties.erase(std::remove(out.parties.begin(), out.parties.end(), std::string()),
                    out.parties.end());
  return out;
}

void Registry::Stage(const Verdict& v, uint64_t sequence, Delta* delta, Batch* batch) const {
  for (const auto& state : v.effects.records) {
    const auto [kind, id] = RecordKey(state->record);
    batch->Put(Family::kRegistry, RecordVersionKey(kind, id, sequence),
               state->record.SerializeAsString());
    delta->records[MapKey(kind, id)] = state;
    if (kind == RecordKind::kZone) delta->zones_changed = true;
    const std::string holder = StrCat(RecordKindName(kind), ":", id);
    for (const auto& k : RecordKeys(state->record)) {
      auto key = PublicKey::FromProto(k);
      if (!key.ok()) continue;  // validated before: cannot happen
      auto info = std::make_shared<const KeyInfo>(KeyInfo{*key, holder, false, sequence});
      batch->Put(Family::kKeys, k.keyid(), EncodeKeyRow(*info));
      delta->StageKey(std::move(info));
      delta->pending_keys.emplace(k.keyid(), sequence);
    }
  }
  for (const auto& lot : v.effects.lots) {
    batch->Put(Family::kState, LotKey(lot.lot_id()), lot.SerializeAsString());
    delta->lots[lot.lot_id()] = lot;
  }
  for (const auto& [key, value] : v.effects.state_puts) {
    batch->Put(Family::kState, key, value);
    delta->state[key] = value;
  }
  for (const auto& [key, grams] : v.effects.counter_adds) {
    const int64_t total = Counter(key, *delta) + grams;
    delta->counters[key] = total;
    batch->Put(Family::kState, CounterKey(key), EncodeI64(total));
  }
  for (const auto& [seller, stats] : v.effects.seller_stats) {
    delta->seller_stats[seller] = stats;
    batch->Put(Family::kState, SellerStatsKey(seller),
               EncodeSellerStats(stats.sales, stats.quantity));
  }
  if (!v.effects.flags.empty()) delta->flags[sequence] = v.effects.flags;
  for (size_t i = 0; i < v.effects.flags.size(); ++i) {
    const auto& f = v.effects.flags[i];
    const std::string id = FlagId(sequence, i);
    batch->Put(Family::kEvidence, FlagKey(id), f.SerializeAsString());
    for (const auto& key : FlagIndexKeys(f, id)) batch->Put(Family::kEvidence, key, "");
  }
}

void Registry::Commit(Delta delta, KeyRing* keys) {
  for (auto& [key, state] : delta.records) {
    if (state->record.has_unit()) IndexUnit(state);
    records_[key] = std::move(state);
  }
  for (auto& [key, grams] : delta.counters) counters_[key] = grams;
  for (auto& [seller, stats] : delta.seller_stats) seller_stats_[seller] = stats;
  for (auto& [keyid, k] : delta.keys) keys->Add(k);
  if (delta.zones_changed) RebuildZoneIndex();
}

}  // namespace veta
