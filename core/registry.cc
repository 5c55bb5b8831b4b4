#include "core/registry.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <ctime>
#include <set>

#include "core/ids.h"
#include "core/rules_internal.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "core/timestamp.h"
#include "core/units.h"

namespace veta {
namespace rules {

constexpr int64_t kClockSkewMicros = 5 * 60 * 1000000LL;  // how far ahead a declared time may be
constexpr int64_t kPeruUtcOffsetMicros = -5 * 3600 * 1000000LL;  // days are Peru's (UTC-5)
// Installed capacities, grams of ore a day.
constexpr int64_t kArtisanalGPerDayMax =
    25 * units::kGramsPerTonne;                                    // an artisanal producer's unit
constexpr int64_t kSmallGPerDayMax = 350 * units::kGramsPerTonne;  // any unit
constexpr int64_t kPlantGPerDayMax =
    100000 * units::kGramsPerTonne;  // a plant: far above any in Peru
// Parameters' ceilings: a selector's daily limit (a unit's), a cash threshold (S/ 1e12).
constexpr int64_t kSelectorGPerDayMax = kSmallGPerDayMax;
constexpr int64_t kCentsMax = 100000000000000;
constexpr int64_t kMassBalanceTolerancePpmDefault = 20000;  // 2%
constexpr size_t kNameBytesMax = 300;
constexpr size_t kTextBytesMax = 2000;  // a note or a status reason: a paragraph
constexpr int kListMax = 1000;          // allowed miners of a unit, allowed units of a selector

int64_t Micros(const google::protobuf::Timestamp& t) { return TimestampMicros(t); }

std::string Date(int64_t micros) {
  const std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

std::string PeruDay(int64_t micros) {
  std::string d = Date(micros + kPeruUtcOffsetMicros);
  d.erase(std::remove(d.begin(), d.end(), '-'), d.end());
  return d;
}

std::string Num(double d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", d);
  return buf;
}

std::string MapKey(RecordKind kind, std::string_view id) {
  std::string key(1, static_cast<char>(kind));
  key.append(id);
  return key;
}

Verdict Failure(absl::Status error) {
  Verdict v;
  v.error = std::move(error);
  return v;
}

Verdict Refuse(Refusal code, std::string message) {
  Verdict v;
  v.refusal = code;
  v.message = std::move(message);
  return v;
}

const char* PartyKindName(veta::v1::PartyKind kind) {
  switch (kind) {
    case veta::v1::TRADER:
      return "trader";
    case veta::v1::PLANT:
      return "processing plant";
    case veta::v1::EXPORTER:
      return "exporter";
    default:
      return "party";
  }
}

std::optional<Standing> StandingOf(const RecordState& s) {
  const auto& r = s.record;
  if (r.has_miner()) {
    return Standing{"miner",
                    r.miner().ruc(),
                    &r.miner().status(),
                    &r.miner().valid_from(),
                    &r.miner().valid_until(),
                    &r.miner().keys(),
                    s.sequence};
  }
  if (r.has_selector()) {
    return Standing{"selector",
                    r.selector().dni(),
                    &r.selector().status(),
                    &r.selector().valid_from(),
                    &r.selector().valid_until(),
                    &r.selector().keys(),
                    s.sequence};
  }
  if (r.has_party()) {
    return Standing{PartyKindName(r.party().kind()),
                    r.party().ruc(),
                    &r.party().status(),
                    &r.party().valid_from(),
                    &r.party().valid_until(),
                    &r.party().keys(),
                    s.sequence};
  }
  return std::nullopt;
}

// --- Rules, one small function each. Each returns the refusal, or nullopt to pass. ---

// The party signed the envelope with one of its registered keys.
std::optional<Verdict> RuleSignedBy(const Standing& p, const DecodedEnvelope& d, Refusal code) {
  for (const auto& sig : d.envelope.signatures()) {
    for (const auto& key : *p.keys) {
      if (key.keyid() == sig.keyid()) return std::nullopt;
    }
  }
  return Refuse(code, StrCat(p.what, " ", p.id, " did not sign this envelope with a key of its ",
                             "registration (entry ", p.sequence, ")"));
}

// Vigente at `t`, and within its validity period.
std::optional<Verdict> RuleActive(const Standing& p, int64_t t, Refusal not_active,
                                  Refusal expired) {
  const auto& st = *p.status;
  if (st.status() != veta::v1::VIGENTE && Micros(st.since()) <= t) {
    return Refuse(not_active,
                  StrCat(p.what, " ", p.id, " is ", veta::v1::RegistryStatus_Name(st.status()),
                         " since ", Date(Micros(st.since())), " (entry ", p.sequence, ")",
                         st.reason().empty() ? "" : ": ", st.reason()));
  }
  if (t < Micros(*p.valid_from) || t >= Micros(*p.valid_until)) {
    return Refuse(
        expired,
        StrCat(p.what, " ", p.id, " is registered from ", Date(Micros(*p.valid_from)), " until ",
               Date(Micros(*p.valid_until)), " (entry ", p.sequence, "), not on ", Date(t)));
  }
  return std::nullopt;
}

std::optional<Verdict> RuleTimeNotInFuture(int64_t t, int64_t now) {
  if (t > now + kClockSkewMicros) {
    return Refuse(veta::v1::TIME_IN_FUTURE,
                  StrCat("the declared time ", Date(t), " is ahead of the registry's clock (",
                         Date(now), ")"));
  }
  return std::nullopt;
}

// How far back a declared time may be: parameters.declaration_window_days (default 30).
std::optional<Verdict> RuleTimeNotTooOld(int64_t t, int64_t now,
                                         const veta::v1::Parameters& params) {
  const int64_t days = params.declaration_window_days() > 0 ? params.declaration_window_days() : 30;
  if (t >= now - days * 86400 * 1000000LL) return std::nullopt;
  return Refuse(veta::v1::TIME_TOO_OLD,
                StrCat("the declared time ", Date(t), " is more than ", days,
                       " days before the registry's clock (", Date(now), "): declare work ",
                       "within ", days, " days"));
}

// A new lot's id: 1-64 bytes of letters, digits and . _ : / # - (ids travel in signed notes,
// index keys and drawings, where spaces, quotes or control bytes would be ambiguous).
std::optional<Verdict> RuleLotIdValid(std::string_view id, std::string_view what) {
  bool ok = !id.empty() && id.size() <= kIdBytesMax;
  for (char c : id) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) ||
                std::string_view("._:/#-").find(c) != std::string_view::npos);
  }
  if (ok) return std::nullopt;
  return Refuse(veta::v1::LOT_ID_INVALID,
                StrCat(what, " '", id.substr(0, kIdBytesMax), "' is not a lot id: 1-64 of ",
                       "A-Z a-z 0-9 . _ : / # -"));
}

std::optional<Verdict> RuleQuantityPositive(int64_t q, std::string_view what,
                                            std::string_view unit) {
  if (q <= 0) {
    return Refuse(veta::v1::QUANTITY_NOT_POSITIVE,
                  StrCat(what, " must be a positive number of ", unit, ", not ", q));
  }
  return std::nullopt;
}

std::optional<Verdict> RuleExtractorOnUnit(const RecordState& extractor,
                                           const veta::v1::MiningUnit& unit) {
  const auto& r = extractor.record;
  if (r.has_miner()) {
    if (unit.holder_ruc() == r.miner().ruc()) return std::nullopt;
    for (const auto& m : unit.allowed_miners()) {
      if (m == r.miner().ruc()) return std::nullopt;
    }
    return Refuse(veta::v1::EXTRACTOR_NOT_ALLOWED_ON_UNIT,
                  StrCat("miner ", r.miner().ruc(), " is neither the holder of unit ",
                         unit.concession_code(), " nor among the miners allowed to work it"));
  }
  for (const auto& u : r.selector().allowed_units()) {
    if (u == unit.concession_code()) return std::nullopt;
  }
  return Refuse(veta::v1::EXTRACTOR_NOT_ALLOWED_ON_UNIT,
                StrCat("selector ", r.selector().dni(), " may not select ore at unit ",
                       unit.concession_code()));
}

std::optional<Verdict> RulePointInUnit(geo::Point p, const RecordState& unit) {
  if (unit.geometry->Contains(p)) return std::nullopt;
  return Refuse(veta::v1::POINT_OUTSIDE_UNIT,
                StrCat("extraction point (", Num(p.lon), ", ", Num(p.lat), ") lies outside unit ",
                       unit.record.unit().concession_code(), " (entry ", unit.sequence, ")"));
}

std::optional<Verdict> RuleGrade(int64_t grade_ppb, const veta::v1::Parameters& params,
                                 const std::string& department) {
  auto it = params.grade_ppb_by_department().find(department);
  const veta::v1::Bounds& b =
      it != params.grade_ppb_by_department().end() ? it->second : params.grade_ppb_default();
  if (grade_ppb >= b.min() && grade_ppb <= b.max()) return std::nullopt;
  return Refuse(veta::v1::GRADE_OUT_OF_BOUNDS,
                StrCat("declared grade ", units::GradeGramsPerTonne(grade_ppb), " is outside ",
                       units::GradeGramsPerTonne(b.min()), " to ",
                       units::GradeGramsPerTonne(b.max()), " for department ", department));
}

std::optional<Verdict> RuleDailyLimit(int64_t so_far_g, int64_t add_g, int64_t limit_g,
                                      Refusal code, const std::string& what,
                                      const std::string& day) {
  // so_far_g is at most a limit (accepted sums only); add_g any positive int64: no overflow
  // when compared as a difference.
  if (add_g <= limit_g - so_far_g) return std::nullopt;
  const int64_t total = add_g > INT64_MAX - so_far_g ? INT64_MAX : so_far_g + add_g;
  return Refuse(code, StrCat(what, " would reach ", units::OreKg(total), " on ", day, " (",
                             units::OreKg(so_far_g), " already), above its limit of ",
                             units::OreKg(limit_g), " per day"));
}

std::optional<Verdict> RuleBuyerMayBuyOre(const veta::v1::Party& buyer) {
  if (buyer.kind() == veta::v1::PLANT || buyer.kind() == veta::v1::TRADER) return std::nullopt;
  return Refuse(veta::v1::BUYER_MAY_NOT_BUY_ORE,
                StrCat(PartyKindName(buyer.kind()), " ", buyer.ruc(),
                       " may not buy ore: only processing plants and traders do"));
}

// Neither voided by a correction nor exported: the lot may still move.
std::optional<Verdict> RuleLotMovable(const veta::v1::Lot& lot) {
  if (lot.voided_at() != 0) {
    return Refuse(veta::v1::LOT_VOIDED, StrCat("lot ", lot.lot_id(), " was voided by correction ",
                                               "entry ", lot.voided_at()));
  }
  if (lot.exported_at() != 0 && lot.export_voided_at() == 0) {
    return Refuse(veta::v1::LOT_EXPORTED,
                  StrCat("lot ", lot.lot_id(), " was exported to ", lot.export_destination(),
                         " by entry ", lot.exported_at(), " and cannot move again"));
  }
  return std::nullopt;
}

// `who` holds the lot. The refusal does not name the holder: whoever asks learns only that
// `who` does not hold it (a lot's holder is for the holder and regulators to read).
std::optional<Verdict> RuleLotHeldBy(const veta::v1::Lot& lot, std::string_view who,
                                     Refusal not_held) {
  if (lot.holder_id() == who) return std::nullopt;
  return Refuse(not_held, StrCat("lot ", lot.lot_id(), " is not held by ", who));
}

// `who` holds the lot, and it has at least `quantity` (in its unit) left for `what`. What
// remains is told only when `show_remaining` (the holder signed the envelope).
std::optional<Verdict> RuleLotHeldWithEnough(const veta::v1::Lot& lot, std::string_view who,
                                             int64_t quantity, Refusal not_held,
                                             std::string_view what, bool show_remaining) {
  if (auto v = RuleLotHeldBy(lot, who, not_held)) return v;
  if (quantity > Remaining(lot)) {
    return Refuse(veta::v1::QUANTITY_EXCEEDS_LOT,
                  show_remaining
                      ? StrCat("lot ", lot.lot_id(), " has ", Amount(lot, Remaining(lot)),
                               " left; ", what, " asks for ", Amount(lot, quantity))
                      : StrCat("lot ", lot.lot_id(), " has less left than the ",
                               Amount(lot, quantity), " ", what, " asks for"));
  }
  return std::nullopt;
}

// The quantity is in the lot's own unit: grams of ore, milligrams of gold.
std::optional<Verdict> RuleQuantityInLotUnit(const veta::v1::Lot& lot, bool by_mg,
                                             std::string_view field_ore_g,
                                             std::string_view field_gold_mg) {
  if (IsGold(lot) == by_mg) return std::nullopt;
  return Refuse(veta::v1::LOT_KIND_MISMATCH,
                IsGold(lot) ? StrCat("lot ", lot.lot_id(), " is a gold lot: give milligrams (",
                                     field_gold_mg, "), not grams of ore")
                            : StrCat("lot ", lot.lot_id(), " is an ore lot: give grams (",
                                     field_ore_g, "), not milligrams of gold"));
}

// Fine gold out within what the inputs can hold: the ore's gold content times the highest
// recovery, plus the assay tolerance, plus the fine gold of gold inputs; in milligrams,
// rounded down: floor(ore_fine * recovery_ppm * (1e6 + tolerance_ppm) / 1e12) + gold_fine.
std::optional<Verdict> RuleMassBalance(int64_t fine_out, int64_t ore_fine, int64_t gold_fine,
                                       const veta::v1::Parameters& params) {
  __extension__ typedef __int128 int128;
  const int64_t tolerance_ppm = params.mass_balance_tolerance_ppm() > 0
                                    ? params.mass_balance_tolerance_ppm()
                                    : kMassBalanceTolerancePpmDefault;
  // The tolerance covers the ore's assay only: re-melting gold adds no gold.
  const int128 limit = static_cast<int128>(ore_fine) * params.recovery_ppm().max() *
                           (units::kPpmWhole + tolerance_ppm) /
                           (static_cast<int128>(units::kPpmWhole) * units::kPpmWhole) +
                       gold_fine;
  if (fine_out <= limit) return std::nullopt;
  return Refuse(
      veta::v1::MASS_BALANCE_EXCEEDED,
      StrCat("the outputs hold ", units::GoldGrams(fine_out),
             " of fine gold; the inputs allow at most ",
             units::GoldGrams(static_cast<int64_t>(limit)), " (ore ", units::GoldGrams(ore_fine),
             " x recovery ", units::PercentOfPpm(params.recovery_ppm().max()), " +",
             units::PercentOfPpm(tolerance_ppm), " assay tolerance, + gold ",
             units::GoldGrams(gold_fine), ")"));
}

}  // namespace rules

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
      return CheckGeometry(StrCat("zone ", x.zone_id()), x.geometry_geojson(), geometry);
    }
    case veta::v1::RegistryRecord::kParameters: {
      const auto& x = r.parameters();
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

void PrevalidateRecord(DecodedEnvelope* d) {
  if (d->kind != PayloadKind::kRegistry || d->prevalidated) return;
  std::optional<geo::Geometry> geometry;
  d->record_status = ValidateRecord(d->registry, &geometry);
  if (d->record_status.ok() && geometry) {
    d->record_geometry = std::make_shared<const geo::Geometry>(std::move(*geometry));
  }
  d->prevalidated = true;
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
    records_[std::string(key.substr(0, key.size() - 9))] = std::move(state);
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
  return absl::OkStatus();
}

void Registry::RebuildZoneIndex() {
  prohibited_ = geo::GeometryIndex();
  scars_ = geo::GeometryIndex();
  indexed_zones_.clear();
  for (const auto& [key, state] : records_) {
    if (!state->record.has_zone() || !state->record.zone().in_force()) continue;
    const uint64_t id = indexed_zones_.size();
    indexed_zones_.push_back(state);
    const auto kind = state->record.zone().kind();
    if (kind == veta::v1::DETECTED_MINING_SCAR) {
      scars_.Add(id, &*state->geometry);
    } else if (kind != veta::v1::PERMITTED_MINING_CORRIDOR) {
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

// --- Verdicts ---

// Zones in force containing p, of the prohibited kinds or of scars, committed or staged.
std::vector<std::shared_ptr<const RecordState>> RuleContext::ZonesAt(geo::Point p,
                                                                     bool scars) const {
  std::vector<std::shared_ptr<const RecordState>> out;
  const geo::GeometryIndex& index = scars ? registry.scars_ : registry.prohibited_;
  for (uint64_t id : index.Containing(p)) {
    const auto& zone = registry.indexed_zones_[id];
    if (delta.records.count(MapKey(RecordKind::kZone, zone->record.zone().zone_id())) == 0) {
      out.push_back(zone);
    }
  }
  for (const auto& [key, state] : delta.records) {
    if (!state->record.has_zone() || !state->record.zone().in_force()) continue;
    const auto kind = state->record.zone().kind();
    const bool is_scar = kind == veta::v1::DETECTED_MINING_SCAR;
    if (is_scar != scars || kind == veta::v1::PERMITTED_MINING_CORRIDOR) continue;
    if (state->geometry->Contains(p)) out.push_back(state);
  }
  return out;
}

std::shared_ptr<const RecordState> RuleContext::FindPerson(const std::string& id) const {
  if (LooksLikeDni(id)) return registry.Find(RecordKind::kSelector, id, delta);
  if (auto miner = registry.Find(RecordKind::kMiner, id, delta)) return miner;
  return registry.Find(RecordKind::kParty, id, delta);
}

// A registrar (or, for registrar records, the authority) signed.
std::optional<Verdict> RuleContext::RuleRegistrarSigned(bool authority_needed) const {
  for (const auto& sig : d.envelope.signatures()) {
    auto info = keys.Find(sig.keyid());
    if (info == nullptr) continue;
    if (authority_needed) {
      if (info->authority) return std::nullopt;
      continue;
    }
    if (info->holder.rfind("registrar:", 0) != 0) continue;
    auto registrar = registry.Find(RecordKind::kRegistrar, info->holder.substr(10), delta);
    if (registrar == nullptr || registrar->record.registrar().status() != veta::v1::VIGENTE) {
      continue;
    }
    for (const auto& k : registrar->record.registrar().keys()) {
      if (k.keyid() == sig.keyid()) return std::nullopt;
    }
  }
  return Refuse(veta::v1::NOT_A_REGISTRAR,
                authority_needed
                    ? "a registrar is registered by the authority: sign with an authority key"
                    : "a registry change must be signed by an active registrar's key");
}

std::optional<Verdict> RuleContext::RuleSignersInForce() const {
  for (const auto& sig : d.envelope.signatures()) {
    // A revocation earlier in the batch is staged, not yet in the key ring.
    auto info = delta.StagedKey(sig.keyid());
    if (info == nullptr) info = keys.Find(sig.keyid());
    if (info == nullptr || info->authority) continue;
    if (info->revoked_at != 0) {
      return Refuse(veta::v1::KEY_NOT_IN_FORCE,
                    StrCat("key ", sig.keyid().substr(0, 16), "... of ", info->holder,
                           " was revoked by entry ", info->revoked_at, ": it signs nothing more"));
    }
    const size_t colon = info->holder.find(':');
    auto kind = ParseRecordKind(info->holder.substr(0, colon));
    // Keys registered by a key registration (regulators) have no record to rotate them.
    if (colon == std::string::npos || !kind.ok()) continue;
    auto record = registry.Find(*kind, info->holder.substr(colon + 1), delta);
    if (record != nullptr) {
      for (const auto& k : RecordKeys(record->record)) {
        if (k.keyid() == sig.keyid()) return std::nullopt;
      }
    }
    return Refuse(
        veta::v1::KEY_NOT_IN_FORCE,
        StrCat("key ", sig.keyid().substr(0, 16), "... no longer signs for ", info->holder,
               ": its record's current version (entry ", record != nullptr ? record->sequence : 0,
               ") does not list it; sign with a current key"));
  }
  return std::nullopt;
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
  return std::nullopt;
}

Verdict RuleContext::EvaluateRecord() const {
  const auto& r = d.registry;
  if (auto v = RuleRegistrarSigned(r.has_registrar())) return *v;
  // Normally done on the verification pool; here for callers that judge an envelope directly.
  std::optional<geo::Geometry> geometry;
  const absl::Status valid = d.prevalidated ? d.record_status : ValidateRecord(r, &geometry);
  if (!valid.ok()) return Refuse(veta::v1::REGISTRY_RECORD_INVALID, std::string(valid.message()));
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
  if (d.record_geometry != nullptr) {
    state->geometry = d.record_geometry;
  } else if (geometry) {
    state->geometry = std::make_shared<const geo::Geometry>(std::move(*geometry));
  }
  Verdict v;
  v.effects.records.push_back(std::move(state));
  return v;
}

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
  if (auto v = RuleGrade(x.grade_ppb(), params, u.ubigeo().substr(0, 2))) return *v;
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
  // Red flag: the point lies in a satellite-detected scar that reaches outside the unit,
  // i.e. workings next to the concession that no registration covers.
  for (const auto& scar : ZonesAt(p, true)) {
    const geo::BBox& b = scar->geometry->bbox();
    const bool inside = unit->geometry->Contains({b.min_lon, b.min_lat}) &&
                        unit->geometry->Contains({b.max_lon, b.max_lat}) &&
                        unit->geometry->Contains({b.min_lon, b.max_lat}) &&
                        unit->geometry->Contains({b.max_lon, b.min_lat});
    if (inside) continue;
    veta::v1::Flag f;
    f.set_sequence(sequence);
    f.set_flag(veta::v1::POINT_IN_DETECTED_SCAR);
    f.set_message(StrCat("extraction point lies in detected mining scar '",
                         scar->record.zone().name(), "', which reaches outside unit ",
                         u.concession_code()));
    f.add_parties(x.extractor_id());
    f.set_unit_code(u.concession_code());
    v.effects.flags.push_back(std::move(f));
    break;
  }
  return v;
}

Verdict RuleContext::EvaluateSale() const {
  const auto& x = d.sale;
  const veta::v1::Parameters& params = registry.parameters(delta);
  const int64_t t = Micros(x.time());
  if (auto v = RuleTimeNotInFuture(t, now)) return *v;
  if (auto v = RuleTimeNotTooOld(t, now, params)) return *v;
  const bool by_mg = x.quantity_mg() != 0;
  if (by_mg && x.quantity_ore_g() != 0) {
    return Refuse(veta::v1::LOT_KIND_MISMATCH,
                  "a sale gives grams of ore (an ore lot) or milligrams (a gold lot), not both");
  }
  const int64_t quantity = by_mg ? x.quantity_mg() : x.quantity_ore_g();
  if (auto v = RuleQuantityPositive(quantity, "the quantity sold",
                                    by_mg ? "milligrams (quantity_mg)"
                                          : "grams (quantity_ore_g; milligrams of gold: "
                                            "quantity_mg)")) {
    return *v;
  }
  if (x.price_cents() < 0) {
    return Refuse(veta::v1::PRICE_INVALID,
                  StrCat("the price is a number of céntimos, 0 or more, not ", x.price_cents()));
  }
  // The parties and their signatures before anything about the lot: what a refusal says of a
  // lot goes only to an envelope its seller or its buyer signed.
  auto seller = FindPerson(x.seller_id());
  if (seller == nullptr) {
    return Refuse(veta::v1::SELLER_UNKNOWN, StrCat("seller ", x.seller_id(), " is not registered"));
  }
  const Standing s = *StandingOf(*seller);
  auto buyer = registry.Find(RecordKind::kParty, x.buyer_ruc(), delta);
  if (buyer == nullptr) {
    return Refuse(veta::v1::BUYER_UNKNOWN,
                  StrCat("buyer ", x.buyer_ruc(), " is not registered in REPCO"));
  }
  const Standing b = *StandingOf(*buyer);
  // In a dry run (a pre-purchase check) one of the two may not have signed yet; one has.
  auto seller_unsigned = RuleSignedBy(s, d, veta::v1::SIGNER_NOT_PARTY);
  auto buyer_unsigned = RuleSignedBy(b, d, veta::v1::SIGNER_NOT_PARTY);
  if (seller_unsigned && (!dry_run || buyer_unsigned)) return *seller_unsigned;
  if (buyer_unsigned && !dry_run) return *buyer_unsigned;
  auto found = registry.FindLot(x.lot_id(), delta);
  if (!found.ok()) return Failure(found.status());
  const std::optional<veta::v1::Lot>& lot = *found;
  if (!lot) return Refuse(veta::v1::LOT_UNKNOWN, StrCat("lot ", x.lot_id(), " does not exist"));
  if (auto v = RuleLotHeldBy(*lot, x.seller_id(), veta::v1::SELLER_DOES_NOT_HOLD_LOT)) return *v;
  if (auto v = RuleQuantityInLotUnit(*lot, by_mg, "quantity_ore_g", "quantity_mg")) return *v;
  auto buyer_lot = registry.FindLot(x.buyer_lot_id(), delta);
  if (!buyer_lot.ok()) return Failure(buyer_lot.status());
  if (auto v = RuleLotIdValid(x.buyer_lot_id(), "the buyer's lot id")) return *v;
  if (buyer_lot->has_value()) {
    return Refuse(veta::v1::LOT_ID_TAKEN,
                  StrCat("the buyer's lot id '", x.buyer_lot_id(), "' is in use"));
  }
  if (auto v = RuleActive(s, t, veta::v1::SELLER_NOT_ACTIVE, veta::v1::SELLER_NOT_ACTIVE)) {
    return *v;
  }
  if (auto v = RuleActive(b, t, veta::v1::BUYER_NOT_ACTIVE, veta::v1::BUYER_NOT_ACTIVE)) return *v;
  if (!IsGold(*lot)) {
    if (auto v = RuleBuyerMayBuyOre(buyer->record.party())) return *v;
  }
  if (auto v = RuleLotMovable(*lot)) return *v;
  if (auto v = RuleLotHeldWithEnough(*lot, x.seller_id(), quantity,
                                     veta::v1::SELLER_DOES_NOT_HOLD_LOT, "the sale",
                                     /*show_remaining=*/!seller_unsigned)) {
    return *v;
  }

  Verdict v;
  v.parties = {x.seller_id(), x.buyer_ruc()};
  v.unit_code = lot->unit_code();
  veta::v1::Lot remaining = *lot;
  veta::v1::Lot bought = SplitOff(&remaining, quantity);
  bought.set_lot_id(x.buyer_lot_id());
  bought.set_holder_id(x.buyer_ruc());
  bought.set_created_at(sequence);
  v.effects.lots.push_back(std::move(remaining));
  v.effects.lots.push_back(std::move(bought));
  v.effects.state_puts.emplace_back(ChildEdgeKey(x.lot_id(), x.buyer_lot_id()),
                                    EncodeU64(sequence));
  v.effects.state_puts.emplace_back(HolderLotKey(x.buyer_ruc(), x.buyer_lot_id()),
                                    EncodeU64(sequence));
  // Sales of gold are counted apart from sales of ore: an average mixes no units.
  const std::string stats_key = SellerStatsName(x.seller_id(), IsGold(*lot));
  SellerStats stats = registry.Stats(stats_key, delta);
  auto flag = [&](veta::v1::RedFlag kind, std::string message) {
    veta::v1::Flag f;
    f.set_sequence(sequence);
    f.set_flag(kind);
    f.set_message(std::move(message));
    f.add_parties(x.seller_id());
    f.add_parties(x.buyer_ruc());
    f.set_unit_code(lot->unit_code());
    v.effects.flags.push_back(std::move(f));
  };
  if (x.payment() == veta::v1::CASH && x.price_cents() > params.cash_flag_threshold_cents()) {
    flag(veta::v1::CASH_ABOVE_THRESHOLD,
         StrCat("paid in cash: ", units::Soles(x.price_cents()), ", above the threshold of ",
                units::Soles(params.cash_flag_threshold_cents())));
  }
  if (stats.sales > 0 && stats.sales >= static_cast<int64_t>(params.volume_history_min())) {
    // quantity > percent/100 x total/sales, compared as quantity x sales x 100 > percent x
    // total (128-bit: no rounding, no overflow).
    __extension__ typedef __int128 int128;
    if (static_cast<int128>(quantity) * stats.sales * 100 >
        static_cast<int128>(params.volume_jump_percent()) * stats.quantity) {
      // The seller's history is the seller's: a buyer's own check is told the flag, not it.
      const std::string times = StrCat(units::FormatDecimal(params.volume_jump_percent(), 2), "x");
      flag(veta::v1::VOLUME_JUMP,
           seller_unsigned
               ? StrCat("seller ", x.seller_id(), " sells ", Amount(*lot, quantity), ", over ",
                        times, " its average sale")
               : StrCat("seller ", x.seller_id(), " sells ", Amount(*lot, quantity), ", over ",
                        times, " its average of ", Amount(*lot, stats.quantity / stats.sales),
                        " in ", stats.sales, " earlier sales"));
    }
  }
  stats.sales += 1;
  // Saturates rather than wraps (a seller's total past 9e18 g or mg is not a real one).
  stats.quantity = quantity > INT64_MAX - stats.quantity ? INT64_MAX : stats.quantity + quantity;
  v.effects.seller_stats.emplace_back(stats_key, stats);
  return v;
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
      default:
        break;
    }
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
  for (size_t i = 0; i < v.effects.flags.size(); ++i) {
    const auto& f = v.effects.flags[i];
    const std::string id = FlagId(sequence, i);
    batch->Put(Family::kEvidence, FlagKey(id), f.SerializeAsString());
    for (const auto& key : FlagIndexKeys(f, id)) batch->Put(Family::kEvidence, key, "");
  }
}

void Registry::Commit(Delta delta, KeyRing* keys) {
  for (auto& [key, state] : delta.records) records_[key] = std::move(state);
  for (auto& [key, grams] : delta.counters) counters_[key] = grams;
  for (auto& [seller, stats] : delta.seller_stats) seller_stats_[seller] = stats;
  for (auto& [keyid, k] : delta.keys) keys->Add(k);
  if (delta.zones_changed) RebuildZoneIndex();
}

}  // namespace veta
