// Registry records: what a record may say (ValidateRecord), and who may write which version.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "core/base/ids.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/timestamp.h"
#include "core/base/units.h"
#include "core/rules/rules_internal.h"

namespace veta {

using namespace rules;  // NOLINT: the rule helpers, private to the rules

std::string_view RecordKindName(RecordKind kind) {
  switch (kind) {
    case RecordKind::kRegistrar:
      return "registrar";
    case RecordKind::kMiner:
      return "miner";
    case RecordKind::kUnit:
      return "unit";
    case RecordKind::kParty:
      return "party";
    case RecordKind::kSelector:
      return "selector";
    case RecordKind::kZone:
      return "zone";
    case RecordKind::kParameters:
      return "parameters";
  }
  return "?";
}

absl::StatusOr<RecordKind> ParseRecordKind(std::string_view name) {
  for (RecordKind k :
       {RecordKind::kRegistrar, RecordKind::kMiner, RecordKind::kUnit, RecordKind::kParty,
        RecordKind::kSelector, RecordKind::kZone, RecordKind::kParameters}) {
    if (RecordKindName(k) == name) return k;
  }
  return absl::InvalidArgumentError(
      StrCat("unknown record kind '", name,
             "': use registrar, miner, unit, party, selector, zone or parameters"));
}

std::pair<RecordKind, std::string> RecordKey(const veta::v1::RegistryRecord& r) {
  switch (r.record_case()) {
    case veta::v1::RegistryRecord::kRegistrar:
      return {RecordKind::kRegistrar, r.registrar().registrar_id()};
    case veta::v1::RegistryRecord::kMiner:
      return {RecordKind::kMiner, r.miner().ruc()};
    case veta::v1::RegistryRecord::kUnit:
      return {RecordKind::kUnit, r.unit().concession_code()};
    case veta::v1::RegistryRecord::kParty:
      return {RecordKind::kParty, r.party().ruc()};
    case veta::v1::RegistryRecord::kSelector:
      return {RecordKind::kSelector, r.selector().dni()};
    case veta::v1::RegistryRecord::kZone:
      return {RecordKind::kZone, r.zone().zone_id()};
    default:
      return {RecordKind::kParameters, ""};
  }
}

std::vector<veta::v1::PublicKey> RecordKeys(const veta::v1::RegistryRecord& r) {
  const google::protobuf::RepeatedPtrField<veta::v1::PublicKey>* keys = nullptr;
  if (r.has_registrar()) keys = &r.registrar().keys();
  if (r.has_miner()) keys = &r.miner().keys();
  if (r.has_party()) keys = &r.party().keys();
  if (r.has_selector()) keys = &r.selector().keys();
  if (keys == nullptr) return {};
  return {keys->begin(), keys->end()};
}

namespace {

absl::Status CheckName(std::string_view what, const std::string& name) {
  if (name.empty() || name.size() > kNameBytesMax) {
    return absl::InvalidArgumentError(StrCat(what, " needs a name (1-300 bytes)"));
  }
  return absl::OkStatus();
}

absl::Status CheckKeys(std::string_view what,
                       const google::protobuf::RepeatedPtrField<veta::v1::PublicKey>& keys) {
  if (keys.empty() || keys.size() > 8) {
    return absl::InvalidArgumentError(StrCat(what, " needs 1 to 8 public keys"));
  }
  for (const auto& k : keys) {
    if (auto key = PublicKey::FromProto(k); !key.ok()) {
      return absl::InvalidArgumentError(StrCat(what, ": ", key.status().message()));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckStatusAndValidity(std::string_view what, const veta::v1::StatusInfo& status,
                                    const google::protobuf::Timestamp& from,
                                    const google::protobuf::Timestamp& until, bool expires) {
  if (status.status() == veta::v1::REGISTRY_STATUS_UNSPECIFIED) {
    return absl::InvalidArgumentError(
        StrCat(what, " needs a status (VIGENTE, SUSPENDIDO, EXCLUIDO)"));
  }
  if (status.reason().size() > kTextBytesMax) {
    return absl::InvalidArgumentError(StrCat(what, ": the status reason is ",
                                             status.reason().size(), " bytes; the limit is ",
                                             kTextBytesMax));
  }
  if (status.status() != veta::v1::VIGENTE && status.reason().empty()) {
    return absl::InvalidArgumentError(StrCat(
        what, " is ", veta::v1::RegistryStatus_Name(status.status()), ": the reason is required"));
  }
  if (expires && Micros(until) <= Micros(from)) {
    return absl::InvalidArgumentError(StrCat(
        what, " needs a validity period: valid_until after valid_from (registrations expire)"));
  }
  return absl::OkStatus();
}

absl::Status CheckGeometry(std::string_view what, const std::string& geojson,
                           std::optional<geo::Geometry>* out) {
  auto g = geo::Geometry::FromGeoJson(geojson);
  if (!g.ok()) return absl::InvalidArgumentError(StrCat(what, " geometry: ", g.status().message()));
  if (out != nullptr) *out = std::move(*g);
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRecord(const veta::v1::RegistryRecord& r,
                            std::optional<geo::Geometry>* geometry) {
  if (r.note().size() > kTextBytesMax) {
    return absl::InvalidArgumentError(
        StrCat("the note is ", r.note().size(), " bytes; the limit is ", kTextBytesMax));
  }
  switch (r.record_case()) {
    case veta::v1::RegistryRecord::kRegistrar: {
      const auto& x = r.registrar();
      if (x.registrar_id().empty() || x.registrar_id().size() > kIdBytesMax) {
        return absl::InvalidArgumentError("registrar needs an id (1-64 bytes)");
      }
      RETURN_IF_ERROR(CheckName("registrar", x.name()));
      if (x.status() == veta::v1::REGISTRY_STATUS_UNSPECIFIED) {
        return absl::InvalidArgumentError("registrar needs a status");
      }
      return CheckKeys("registrar", x.keys());
    }
    case veta::v1::RegistryRecord::kMiner: {
      const auto& x = r.miner();
      RETURN_IF_ERROR(CheckRuc(x.ruc()));
      const std::string what = StrCat("miner ", x.ruc());
      RETURN_IF_ERROR(CheckName(what, x.name()));
      const bool company = x.ruc().substr(0, 2) == "20";
      if (x.person_type() != (company ? veta::v1::COMPANY : veta::v1::NATURAL_PERSON)) {
        return absl::InvalidArgumentError(StrCat(what, ": a RUC starting with ",
                                                 x.ruc().substr(0, 2), " is a ",
                                                 company ? "COMPANY" : "NATURAL_PERSON"));
      }
      if (x.size_class() == veta::v1::SIZE_CLASS_UNSPECIFIED ||
          x.category() == veta::v1::CATEGORY_UNSPECIFIED) {
        return absl::InvalidArgumentError(StrCat(what, " needs a size class and a category"));
      }
      RETURN_IF_ERROR(
          CheckStatusAndValidity(what, x.status(), x.valid_from(), x.valid_until(), true));
      return CheckKeys(what, x.keys());
    }
    case veta::v1::RegistryRecord::kUnit: {
      const auto& x = r.unit();
      if (x.concession_code().empty() || x.concession_code().size() > kIdBytesMax) {
        return absl::InvalidArgumentError("unit needs a concession code (1-64 bytes)");
      }
      const std::string what = StrCat("unit ", x.concession_code());
      RETURN_IF_ERROR(CheckName(what, x.name()));
      RETURN_IF_ERROR(CheckRuc(x.holder_ruc()));
      RETURN_IF_ERROR(CheckUbigeo(x.ubigeo()));
      RETURN_IF_ERROR(CheckGeometry(what, x.geometry_geojson(), geometry));
      if (x.activity() == veta::v1::UNIT_ACTIVITY_UNSPECIFIED) {
        return absl::InvalidArgumentError(StrCat(what, " needs an activity"));
      }
      if (!(x.capacity_ore_g_per_day() > 0) || x.capacity_ore_g_per_day() > kSmallGPerDayMax) {
        return absl::InvalidArgumentError(StrCat(
            what, ": installed capacity must be in (0, 350,000,000] grams of ore a day (350 t)"));
      }
      if (x.allowed_miners_size() > kListMax) {
        return absl::InvalidArgumentError(StrCat(what, ": at most ", kListMax, " allowed miners"));
      }
      for (const auto& m : x.allowed_miners()) RETURN_IF_ERROR(CheckRuc(m));
      return CheckStatusAndValidity(what, x.status(), {}, {}, false);
    }
    case veta::v1::RegistryRecord::kParty: {
      const auto& x = r.party();
      RETURN_IF_ERROR(CheckRuc(x.ruc()));
      const std::string what = StrCat("party ", x.ruc());
      RETURN_IF_ERROR(CheckName(what, x.name()));
      if (x.kind() == veta::v1::PARTY_KIND_UNSPECIFIED) {
        return absl::InvalidArgumentError(StrCat(what, " needs a kind (TRADER, PLANT, EXPORTER)"));
      }
      if (x.kind() == veta::v1::PLANT &&
          !(x.processing_capacity_ore_g_per_day() > 0 &&
            x.processing_capacity_ore_g_per_day() <= kPlantGPerDayMax)) {
        return absl::InvalidArgumentError(
            StrCat(what, ": a plant needs its processing capacity, in (0, 100,000,000,000] ",
                   "grams of ore a day (100,000 t)"));
      }
      RETURN_IF_ERROR(
          CheckStatusAndValidity(what, x.status(), x.valid_from(), x.valid_until(), true));
      return CheckKeys(what, x.keys());
    }
    case veta::v1::RegistryRecord::kSelector: {
      const auto& x = r.selector();
      RETURN_IF_ERROR(CheckDni(x.dni()));
      const std::string what = StrCat("selector ", x.dni());
      RETURN_IF_ERROR(CheckName(what, x.name()));
      if (x.allowed_units_size() > kListMax) {
        return absl::InvalidArgumentError(StrCat(what, ": at most ", kListMax, " allowed units"));
      }
      if (x.allowed_units().empty()) {
        return absl::InvalidArgumentError(
            StrCat(what, " needs the units where she may select ore"));
      }
      RETURN_IF_ERROR(
          CheckStatusAndValidity(what, x.status(), x.valid_from(), x.valid_until(), true));
      return CheckKeys(what, x.keys());
    }
    case veta::v1::RegistryRecord::kZone: {
      const auto& x = r.zone();
      if (x.zone_id().empty() || x.zone_id().size() > kIdBytesMax) {
        return absl::InvalidArgumentError("zone needs an id (1-64 bytes)");
      }
      RETURN_IF_ERROR(CheckName(StrCat("zone ", x.zone_id()), x.name()));
      if (x.legal_reference().size() > kNameBytesMax) {
        return absl::InvalidArgumentError(
            StrCat("zone ", x.zone_id(), ": the legal reference is at most 300 bytes"));
      }
      if (x.kind() == veta::v1::ZONE_KIND_UNSPECIFIED) {
        return absl::InvalidArgumentError(StrCat("zone ", x.zone_id(), " needs a kind"));
      }
      if (x.kind() == veta::v1::ADMINISTRATIVE_DISTRICT) {
        if (absl::Status s = CheckUbigeo(x.zone_id()); !s.ok()) {
          return absl::InvalidArgumentError(
              StrCat("a district zone's id is its ubigeo: ", s.message()));
        }
      }
      return CheckGeometry(StrCat("zone ", x.zone_id()), x.geometry_geojson(), geometry);
    }
    case veta::v1::RegistryRecord::kParameters: {
      const auto& x = r.parameters();
      if (x.rules_version() > kRulesVersionLatest) {
        return absl::InvalidArgumentError(
            StrCat("the parameters put rules version ", x.rules_version(),
                   " in force, but this server "
                   "has the rules up to version ",
                   kRulesVersionLatest,
                   ": it cannot judge entries by rules it does not have (upgrade it first)"));
      }
      // Grades and recovery are ppb and ppm of a whole: at most the whole.
      auto bad = [](const veta::v1::Bounds& b, int64_t whole) {
        return !(b.min() >= 0 && b.max() > b.min() && b.max() <= whole);
      };
      if (bad(x.grade_ppb_default(), units::kPpbWhole) || bad(x.recovery_ppm(), units::kPpmWhole)) {
        return absl::InvalidArgumentError(
            "parameters need grade bounds in ppb (0 <= min < max <= 1,000,000,000) and recovery "
            "bounds in ppm (0 <= min < max <= 1,000,000)");
      }
      for (const auto& [dept, b] : x.grade_ppb_by_department()) {
        if (bad(b, units::kPpbWhole))
          return absl::InvalidArgumentError(StrCat("grade bounds of ", dept, " are invalid"));
      }
      if (!(x.mass_balance_tolerance_ppm() >= 0 && x.mass_balance_tolerance_ppm() <= 200000) ||
          x.declaration_window_days() > 3650) {
        return absl::InvalidArgumentError(
            "parameters: the mass-balance tolerance is in [0, 200,000] ppm (20%); the "
            "declaration window at most 3650 days");
      }
      for (const auto& [unit, b] : x.grade_ppb_by_unit()) {
        if (bad(b, units::kPpbWhole) || unit.empty() || unit.size() > kIdBytesMax) {
          return absl::InvalidArgumentError(
              StrCat("grade bounds of unit '", unit, "' are invalid"));
        }
      }
      if (x.late_declaration_hours() > 24 * 3650 || x.banking_threshold_cents() < 0 ||
          x.banking_threshold_cents() > kCentsMax || x.grade_jump_percent() < 0 ||
          x.grade_jump_percent() > 1000000 || x.grade_history_min() > 1000000) {
        return absl::InvalidArgumentError(
            "parameters: late declarations after at most 87,600 hours (10 years), a banking "
            "threshold in [0, 1e14] céntimos, a grade jump in [0, 1,000,000] percent");
      }
      if (x.has_price_band_ppm() &&
          !(x.price_band_ppm().min() >= 0 && x.price_band_ppm().max() > x.price_band_ppm().min() &&
            x.price_band_ppm().max() <= kPriceAbsurdTimes * 1000000)) {
        return absl::InvalidArgumentError(
            "parameters: the price band is parts per million of the reference price, 0 <= min "
            "< max <= 100,000,000 (100 times)");
      }
      if (x.reference_price_cents_per_fine_g() < 0 ||
          x.reference_price_cents_per_fine_g() > kCentsMax ||
          x.reference_price_source().size() > kNameBytesMax) {
        return absl::InvalidArgumentError(
            "parameters: the reference price is céntimos per fine gram in [0, 1e14], its source "
            "at most 300 bytes");
      }
      if (RulesVersion(x) >= 3 &&
          (x.reference_price_cents_per_fine_g() <= 0 || !x.has_reference_price_date() ||
           x.reference_price_source().empty())) {
        return absl::InvalidArgumentError(
            "parameters of rules version 3 state a reference price of fine gold "
            "(reference_price_cents_per_fine_g > 0), its date and its source (e.g. \"BCRP, "
            "precio del oro, 2026-12-04\")");
      }
      if (!(x.selector_daily_limit_g() > 0 && x.selector_daily_limit_g() <= kSelectorGPerDayMax) ||
          !(x.cash_flag_threshold_cents() > 0 && x.cash_flag_threshold_cents() <= kCentsMax) ||
          !(x.volume_jump_percent() > 100 && x.volume_jump_percent() <= 1000000)) {
        return absl::InvalidArgumentError(
            "parameters need a selector limit in (0, 350,000,000] grams a day, a cash threshold "
            "in (0, 1e14] céntimos and a volume jump in (100, 1,000,000] percent");
      }
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError("empty registry record");
  }
}

const veta::v1::StatusInfo* RecordStatus(const veta::v1::RegistryRecord& r) {
  if (r.has_miner()) return &r.miner().status();
  if (r.has_unit()) return &r.unit().status();
  if (r.has_party()) return &r.party().status();
  if (r.has_selector()) return &r.selector().status();
  return nullptr;
}

void FoldVersion(const RecordState* previous, int64_t entry_micros, RecordState* next) {
  if (previous == nullptr) {
    next->registered_micros = entry_micros;
    return;
  }
  next->registered_micros = previous->registered_micros;
  next->inactive = previous->inactive;
  const veta::v1::StatusInfo* was = RecordStatus(previous->record);
  const veta::v1::StatusInfo* is = RecordStatus(next->record);
  if (was == nullptr || is == nullptr || was->status() == veta::v1::VIGENTE ||
      is->status() != veta::v1::VIGENTE) {
    return;
  }
  // Reinstated: the suspension ran from its `since` to this version's (or, unstated or
  // earlier, to this entry).
  const int64_t from = Micros(was->since());
  int64_t until = Micros(is->since());
  if (until <= from) until = std::max(from, entry_micros);
  next->inactive.emplace_back(from, until);
}

void PrevalidateRecord(DecodedEnvelope* d) {
  if (d->kind != PayloadKind::kRegistry || d->prevalidated) return;
  std::optional<geo::Geometry> geometry;
  d->record_status = ValidateRecord(d->registry, &geometry);
  if (d->record_status.ok() && geometry) {
    d->record_geometry = std::make_shared<const geo::Geometry>(std::move(*geometry));
  }
  d->prevalidated = true;
}

std::optional<Verdict> RuleContext::RuleRecordVersion() const {
  const auto [kind, id] = RecordKey(d.registry);
  auto current = registry.Find(kind, id, delta);
  const uint64_t current_sequence = current != nullptr ? current->sequence : 0;
  const uint64_t replaces = d.registry.replaces();
  if (replaces == current_sequence) return std::nullopt;
  const std::string what =
      kind == RecordKind::kParameters ? "the parameters" : StrCat(RecordKindName(kind), " ", id);
  if (current == nullptr) {
    return Refuse(
        veta::v1::RECORD_VERSION_STALE,
        StrCat(what, " has no version yet: a first version replaces 0, not entry ", replaces));
  }
  return Refuse(
      veta::v1::RECORD_VERSION_STALE,
      StrCat(what, "'s current version is entry ", current_sequence, "; this version replaces ",
             replaces == 0 ? std::string("nothing (a first registration)")
                           : StrCat("entry ", replaces),
             ": a version follows only the one it names (sign it again with replaces ",
             current_sequence, ")"));
}

std::optional<Verdict> RuleContext::RuleRecordKeysFree() const {
  const auto [kind, id] = RecordKey(d.registry);
  const std::string holder = StrCat(RecordKindName(kind), ":", id);
  for (const auto& k : RecordKeys(d.registry)) {
    std::string other;
    if (auto staged = delta.StagedKey(k.keyid())) {
      other = staged->holder;
    } else if (auto info = keys.Find(k.keyid())) {
      other = info->holder;
    }
    if (!other.empty() && other != holder) {
      return Refuse(veta::v1::REGISTRY_KEY_TAKEN,
                    StrCat("key ", k.keyid().substr(0, 16), "... is already registered to ", other,
                           ": a key identifies one holder"));
    }
  }
  // Rules v3: one key is one key whatever its encoding (a P-256 point compressed or not has two
  // key ids, and both verify the same private key's signatures): no other holder has held it
  // under any key id, in force or not.
  if (!V3(registry.parameters(delta))) return std::nullopt;
  for (const auto& k : RecordKeys(d.registry)) {
    auto key = PublicKey::FromProto(k);
    if (!key.ok()) continue;  // validated before: cannot happen
    std::vector<std::shared_ptr<const KeyInfo>> same = keys.FindByPoint(key->point_id());
    for (const auto& [keyid, staged] : delta.keys) {
      if (staged->key.point_id() == key->point_id()) same.push_back(staged);
    }
    for (const auto& info : same) {
      if (info->holder == holder) continue;
      return Refuse(
          veta::v1::REGISTRY_KEY_TAKEN,
          StrCat("key ", k.keyid().substr(0, 16), "... is key ", info->key.keyid().substr(0, 16),
                 "... in another encoding, already "
                 "registered to ",
                 info->holder, ": a key identifies one holder"));
    }
  }
  return std::nullopt;
}

Verdict RuleContext::EvaluateRecord() const {
  const auto& r = d.registry;
  if (auto v = RuleRegistrarSigned(r.has_registrar())) return *v;
  // Normally done on the verification pool; here for callers that judge an envelope directly.
  std::optional<geo::Geometry> geometry;
  const absl::Status valid = d.prevalidated ? d.record_status : ValidateRecord(r, &geometry);
  if (!valid.ok()) {
    const bool version = r.has_parameters() && r.parameters().rules_version() > kRulesVersionLatest;
    return Refuse(version ? veta::v1::RULES_VERSION_INVALID : veta::v1::REGISTRY_RECORD_INVALID,
                  std::string(valid.message()));
  }
  if (r.has_parameters()) {
    const uint32_t now_in_force = RulesVersion(registry.parameters(delta));
    if (RulesVersion(r.parameters()) < now_in_force) {
      return Refuse(veta::v1::RULES_VERSION_INVALID,
                    StrCat("rules version ", now_in_force,
                           " is in force; parameters may keep or "
                           "raise it, never lower it (they name version ",
                           RulesVersion(r.parameters()), ")"));
    }
  }
  if (auto v = RuleRecordVersion()) return *v;
  if (auto v = RuleRecordKeysFree()) return *v;
  if (r.has_unit()) {
    // A unit worked by an artisanal producer cannot be installed beyond 25 t/day.
    auto holder = registry.Find(RecordKind::kMiner, r.unit().holder_ruc(), delta);
    if (holder != nullptr && holder->record.miner().size_class() == veta::v1::ARTISANAL &&
        r.unit().capacity_ore_g_per_day() > kArtisanalGPerDayMax) {
      return Refuse(veta::v1::REGISTRY_RECORD_INVALID,
                    StrCat("unit ", r.unit().concession_code(), ": ",
                           units::TonnesPerDay(r.unit().capacity_ore_g_per_day()),
                           " is above the 25 t/day an artisanal producer (", r.unit().holder_ruc(),
                           ") may install"));
    }
  }
  auto state = std::make_shared<RecordState>();
  state->record = r;
  state->sequence = sequence;
  FoldVersion(registry.Find(RecordKey(r).first, RecordKey(r).second, delta).get(), now,
              state.get());
  if (d.record_geometry != nullptr) {
    state->geometry = d.record_geometry;
  } else if (geometry) {
    state->geometry = std::make_shared<const geo::Geometry>(std::move(*geometry));
  }
  if (r.has_unit()) {
    if (auto v3 = RuleUnitV3(*state)) return *v3;  // rules v3: twin and misplaced units
  }
  Verdict v;
  v.effects.records.push_back(std::move(state));
  return v;
}

}  // namespace veta
