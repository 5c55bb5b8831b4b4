#include "core/registry.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <ctime>
#include <set>

#include "core/ids.h"
#include "core/status_macros.h"
#include "core/strings.h"
#include "core/timestamp.h"

namespace veta {
namespace {

using veta::v1::Refusal;

constexpr int64_t kClockSkewMicros = 5 * 60 * 1000000LL;  // how far ahead a declared time may be
constexpr int64_t kPeruUtcOffsetMicros = -5 * 3600 * 1000000LL;  // days are Peru's (UTC-5)
constexpr double kArtisanalTpdMax = 25;  // installed capacity of an artisanal producer's unit
constexpr double kSmallTpdMax = 350;     // installed capacity of any unit, t/day
constexpr size_t kNameBytesMax = 300, kIdBytesMax = 64;

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

std::string Kg(double kg) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f kg", kg);
  return buf;
}

std::string Grams(double g) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f g", g);
  return buf;
}

// Fine gold to 0.1 mg, so that a refusal at the boundary shows the difference.
std::string Fine(double g) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4f g", g);
  return buf;
}

std::string Num(double d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", d);
  return buf;
}

// Seller statistics are kept per seller and per kind of lot sold.
std::string StatsKey(std::string_view seller, bool gold) {
  return gold ? StrCat("g:", seller) : std::string(seller);
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

std::optional<Verdict> RuleQuantityPositive(double q, std::string_view what,
                                            std::string_view unit = "kg") {
  if (!(q > 0) || !std::isfinite(q)) {
    return Refuse(veta::v1::QUANTITY_NOT_POSITIVE,
                  StrCat(what, " must be a positive number of ", unit, ", not ", Num(q)));
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

std::optional<Verdict> RuleGrade(double grade, const veta::v1::Parameters& params,
                                 const std::string& department) {
  auto it = params.grade_by_department().find(department);
  const veta::v1::Bounds& b =
      it != params.grade_by_department().end() ? it->second : params.grade_default();
  if (grade >= b.min() && grade <= b.max()) return std::nullopt;
  return Refuse(veta::v1::GRADE_OUT_OF_BOUNDS,
                StrCat("declared grade ", Num(grade), " g/t is outside ", Num(b.min()), "-",
                       Num(b.max()), " g/t for department ", department));
}

std::optional<Verdict> RuleDailyLimit(double so_far_kg, double add_kg, double limit_kg,
                                      Refusal code, const std::string& what,
                                      const std::string& day) {
  if (so_far_kg + add_kg <= limit_kg + 1e-9) return std::nullopt;
  return Refuse(
      code, StrCat(what, " would reach ", Kg(so_far_kg + add_kg), " on ", day, " (", Kg(so_far_kg),
                   " already), above its limit of ", Kg(limit_kg), " per day"));
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

// `who` holds the lot, and it has at least `quantity` (in its unit) left for `what`.
std::optional<Verdict> RuleLotHeldWithEnough(const veta::v1::Lot& lot, std::string_view who,
                                             double quantity,
                                             Refusal not_held = veta::v1::SELLER_DOES_NOT_HOLD_LOT,
                                             std::string_view what = "the sale") {
  if (lot.holder_id() != who) {
    return Refuse(not_held,
                  StrCat("lot ", lot.lot_id(), " is held by ", lot.holder_id(), ", not by ", who));
  }
  if (quantity > Remaining(lot) + 1e-9) {
    return Refuse(veta::v1::QUANTITY_EXCEEDS_LOT,
                  StrCat("lot ", lot.lot_id(), " has ", Amount(lot, Remaining(lot)), " left; ",
                         what, " asks for ", Amount(lot, quantity)));
  }
  return std::nullopt;
}

// The quantity is in the lot's own unit: kg of ore, grams of gold.
std::optional<Verdict> RuleQuantityInLotUnit(const veta::v1::Lot& lot, bool by_gram,
                                             std::string_view field_kg, std::string_view field_g) {
  if (IsGold(lot) == by_gram) return std::nullopt;
  return Refuse(
      veta::v1::LOT_KIND_MISMATCH,
      IsGold(lot)
          ? StrCat("lot ", lot.lot_id(), " is a gold lot: give grams (", field_g, "), not kg")
          : StrCat("lot ", lot.lot_id(), " is an ore lot: give kg (", field_kg, "), not grams"));
}

// Fine gold out within what the inputs can hold: the ore's gold content times the highest
// recovery, plus the fine gold of gold inputs, plus the assay tolerance.
std::optional<Verdict> RuleMassBalance(double fine_out, double ore_fine, double gold_fine,
                                       const veta::v1::Parameters& params) {
  const double tolerance =
      params.mass_balance_tolerance() > 0 ? params.mass_balance_tolerance() : 0.02;
  // The tolerance covers the ore's assay only: re-melting gold adds no gold.
  const double limit = ore_fine * params.recovery().max() * (1 + tolerance) + gold_fine;
  if (fine_out <= limit + 1e-9) return std::nullopt;
  return Refuse(
      veta::v1::MASS_BALANCE_EXCEEDED,
      StrCat("the outputs hold ", Fine(fine_out), " of fine gold; the inputs allow at most ",
             Fine(limit), " (ore ", Grams(ore_fine), " x recovery ", Num(params.recovery().max()),
             " +", Num(tolerance * 100), "% assay tolerance, + gold ", Grams(gold_fine), ")"));
}

}  // namespace

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

std::string RecordVersionKey(RecordKind kind, std::string_view id, uint64_t sequence) {
  std::string key = MapKey(kind, id);
  key.push_back('\0');
  key += EncodeU64(sequence);
  return key;
}

std::string LotKey(std::string_view lot_id) { return StrCat("L", lot_id); }

std::string ChildEdgeKey(std::string_view parent_lot, std::string_view child_lot) {
  return StrCat("D", parent_lot, std::string(1, '\0'), child_lot);
}

std::string UnitLotKey(std::string_view unit_code, std::string_view lot_id) {
  return StrCat("N", unit_code, std::string(1, '\0'), lot_id);
}

std::string HolderLotKey(std::string_view holder_id, std::string_view lot_id) {
  return StrCat("H", holder_id, std::string(1, '\0'), lot_id);
}

std::string VoidedEntryKey(uint64_t sequence) { return StrCat("V", EncodeU64(sequence)); }

bool IsGold(const veta::v1::Lot& lot) { return lot.kind() == veta::v1::GOLD; }

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

double Remaining(const veta::v1::Lot& lot) {
  return IsGold(lot) ? lot.remaining_g() : lot.remaining_kg();
}

double Original(const veta::v1::Lot& lot) {
  return IsGold(lot) ? lot.original_g() : lot.original_kg();
}

double FinePerUnit(const veta::v1::Lot& lot) {
  return IsGold(lot) ? lot.fineness() / 1000 : lot.grade_g_per_t() / 1000;
}

std::string Amount(const veta::v1::Lot& lot, double quantity) {
  return IsGold(lot) ? Grams(quantity) : Kg(quantity);
}

std::vector<veta::v1::OriginShare> OriginOf(const veta::v1::Lot& lot) {
  if (lot.origin_size() > 0) return {lot.origin().begin(), lot.origin().end()};
  veta::v1::OriginShare one;
  one.set_unit_code(lot.unit_code());
  one.set_share(1);
  return {one};
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

absl::Status CheckGeometry(std::string_view what, const std::string& geojson) {
  auto g = geo::Geometry::FromGeoJson(geojson);
  if (!g.ok()) return absl::InvalidArgumentError(StrCat(what, " geometry: ", g.status().message()));
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRecord(const veta::v1::RegistryRecord& r) {
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
      RETURN_IF_ERROR(CheckGeometry(what, x.geometry_geojson()));
      if (x.activity() == veta::v1::UNIT_ACTIVITY_UNSPECIFIED) {
        return absl::InvalidArgumentError(StrCat(what, " needs an activity"));
      }
      if (!(x.capacity_tonnes_per_day() > 0) || x.capacity_tonnes_per_day() > kSmallTpdMax) {
        return absl::InvalidArgumentError(
            StrCat(what, ": installed capacity must be in (0, 350] t/day"));
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
      if (x.kind() == veta::v1::PLANT && !(x.processing_capacity_tonnes_per_day() > 0)) {
        return absl::InvalidArgumentError(StrCat(what, ": a plant needs its processing capacity"));
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
      if (x.kind() == veta::v1::ZONE_KIND_UNSPECIFIED) {
        return absl::InvalidArgumentError(StrCat("zone ", x.zone_id(), " needs a kind"));
      }
      return CheckGeometry(StrCat("zone ", x.zone_id()), x.geometry_geojson());
    }
    case veta::v1::RegistryRecord::kParameters: {
      const auto& x = r.parameters();
      auto bad = [](const veta::v1::Bounds& b) { return !(b.min() >= 0 && b.max() > b.min()); };
      if (bad(x.grade_default()) || bad(x.recovery()) || x.recovery().max() > 1) {
        return absl::InvalidArgumentError(
            "parameters need grade and recovery bounds (0 <= min < max)");
      }
      for (const auto& [dept, b] : x.grade_by_department()) {
        if (bad(b))
          return absl::InvalidArgumentError(StrCat("grade bounds of ", dept, " are invalid"));
      }
      if (!(x.mass_balance_tolerance() >= 0 && x.mass_balance_tolerance() <= 0.2) ||
          x.declaration_window_days() > 3650) {
        return absl::InvalidArgumentError(
            "parameters: the mass-balance tolerance is a fraction in [0, 0.2]; the declaration "
            "window at most 3650 days");
      }
      if (!(x.selector_daily_limit_kg() > 0) || !(x.cash_flag_threshold_pen() > 0) ||
          !(x.volume_jump_factor() > 1)) {
        return absl::InvalidArgumentError(
            "parameters need a selector limit > 0, a cash threshold > 0 and a volume factor > 1");
      }
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError("empty registry record");
  }
}

absl::Status RefusalStatus(const Verdict& v) {
  return absl::FailedPreconditionError(
      StrCat("[", veta::v1::Refusal_Name(v.refusal), "] ", v.message));
}

// --- State ---

absl::Status Registry::Load() {
  records_.clear();
  std::unique_ptr<rocksdb::Iterator> it(
      store_->db()->NewIterator(rocksdb::ReadOptions(), store_->registry()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto state = std::make_shared<RecordState>();
    const std::string_view key = it->key().ToStringView();
    if (key.size() < 10 || !DecodeU64(key.substr(key.size() - 8), &state->sequence) ||
        !state->record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("registry column family holds a malformed record");
    }
    if (state->record.has_unit()) {
      ASSIGN_OR_RETURN(state->geometry,
                       geo::Geometry::FromGeoJson(state->record.unit().geometry_geojson()));
    } else if (state->record.has_zone()) {
      ASSIGN_OR_RETURN(state->geometry,
                       geo::Geometry::FromGeoJson(state->record.zone().geometry_geojson()));
    }
    records_[std::string(key.substr(0, key.size() - 9))] = std::move(state);
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "load the registry"));
  std::unique_ptr<rocksdb::Iterator> st(
      store_->db()->NewIterator(rocksdb::ReadOptions(), store_->state()));
  for (st->Seek("C"); st->Valid() && st->key().starts_with("C"); st->Next()) {
    double kg = 0;
    if (st->value().size() != sizeof(kg)) return absl::DataLossError("malformed counter");
    std::memcpy(&kg, st->value().data(), sizeof(kg));
    counters_[st->key().ToString().substr(1)] = kg;
  }
  for (st->Seek("T"); st->Valid() && st->key().starts_with("T"); st->Next()) {
    SellerStats s;
    if (st->value().size() != sizeof(s)) return absl::DataLossError("malformed seller stats");
    std::memcpy(&s, st->value().data(), sizeof(s));
    seller_stats_[st->key().ToString().substr(1)] = s;
  }
  RETURN_IF_ERROR(FromRocks(st->status(), "load the registry state"));
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
  auto bytes = store_->Get(store_->state(), LotKey(lot_id));
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
    p->mutable_grade_default()->set_min(0.5);
    p->mutable_grade_default()->set_max(60);
    p->mutable_recovery()->set_min(0.3);
    p->mutable_recovery()->set_max(0.95);
    p->set_selector_daily_limit_kg(200);
    p->set_cash_flag_threshold_pen(30000);
    p->set_volume_jump_factor(5);
    p->set_volume_history_min(3);
    return p;
  }();
  auto found = Find(RecordKind::kParameters, "", delta);
  return found ? found->record.parameters() : *defaults;
}

absl::StatusOr<std::optional<std::string>> Registry::FindState(const std::string& key,
                                                               const Delta& delta) const {
  if (auto it = delta.state.find(key); it != delta.state.end()) return it->second;
  auto bytes = store_->Get(store_->state(), key);
  if (absl::IsNotFound(bytes.status())) return std::nullopt;
  if (!bytes.ok()) return bytes.status();
  return std::move(*bytes);
}

double Registry::Counter(const std::string& key, const Delta& delta) const {
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

struct RuleContext {
  const Registry& registry;
  const DecodedEnvelope& d;
  uint64_t sequence;
  int64_t now;
  const KeyRing& keys;
  const Delta& delta;
  bool dry_run;

  // Zones in force containing p, of the prohibited kinds or of scars, committed or staged.
  std::vector<std::shared_ptr<const RecordState>> ZonesAt(geo::Point p, bool scars) const {
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

  std::shared_ptr<const RecordState> FindPerson(const std::string& id) const {
    if (LooksLikeDni(id)) return registry.Find(RecordKind::kSelector, id, delta);
    if (auto miner = registry.Find(RecordKind::kMiner, id, delta)) return miner;
    return registry.Find(RecordKind::kParty, id, delta);
  }

  // A registrar (or, for registrar records, the authority) signed.
  std::optional<Verdict> RuleRegistrarSigned(bool authority_needed) const {
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

  Verdict EvaluateRecord() const {
    const auto& r = d.registry;
    if (auto v = RuleRegistrarSigned(r.has_registrar())) return *v;
    if (absl::Status s = ValidateRecord(r); !s.ok()) {
      return Refuse(veta::v1::REGISTRY_RECORD_INVALID, std::string(s.message()));
    }
    if (r.has_unit()) {
      // A unit worked by an artisanal producer cannot be installed beyond 25 t/day.
      auto holder = registry.Find(RecordKind::kMiner, r.unit().holder_ruc(), delta);
      if (holder != nullptr && holder->record.miner().size_class() == veta::v1::ARTISANAL &&
          r.unit().capacity_tonnes_per_day() > kArtisanalTpdMax) {
        return Refuse(veta::v1::REGISTRY_RECORD_INVALID,
                      StrCat("unit ", r.unit().concession_code(), ": ",
                             Num(r.unit().capacity_tonnes_per_day()), " t/day is above the 25 ",
                             "an artisanal producer (", r.unit().holder_ruc(), ") may install"));
      }
    }
    auto state = std::make_shared<RecordState>();
    state->record = r;
    state->sequence = sequence;
    if (r.has_unit()) state->geometry = *geo::Geometry::FromGeoJson(r.unit().geometry_geojson());
    if (r.has_zone()) state->geometry = *geo::Geometry::FromGeoJson(r.zone().geometry_geojson());
    Verdict v;
    v.effects.records.push_back(std::move(state));
    return v;
  }

  Verdict EvaluateExtraction() const {
    const auto& x = d.extraction;
    const veta::v1::Parameters& params = registry.parameters(delta);
    const int64_t t = Micros(x.time());
    if (auto v = RuleTimeNotInFuture(t, now)) return *v;
    if (auto v = RuleTimeNotTooOld(t, now, params)) return *v;
    if (auto v = RuleQuantityPositive(x.ore_kg(), "the extracted ore")) return *v;
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
    if (auto v = RuleGrade(x.grade_g_per_t(), params, u.ubigeo().substr(0, 2))) return *v;
    const std::string day = PeruDay(t);  // YYYYMMDD, in keys
    const std::string shown_day =
        StrCat(day.substr(0, 4), "-", day.substr(4, 2), "-", day.substr(6));
    const std::string unit_counter = StrCat("U", u.concession_code(), "/", day);
    if (auto v = RuleDailyLimit(
            registry.Counter(unit_counter, delta), x.ore_kg(), u.capacity_tonnes_per_day() * 1000,
            veta::v1::UNIT_CAPACITY_EXCEEDED, StrCat("unit ", u.concession_code()), shown_day)) {
      return *v;
    }
    Verdict v;
    v.parties = {x.extractor_id()};
    v.unit_code = u.concession_code();
    if (extractor->record.has_selector()) {
      const std::string sel_counter = StrCat("S", x.extractor_id(), "/", day);
      if (auto r =
              RuleDailyLimit(registry.Counter(sel_counter, delta), x.ore_kg(),
                             params.selector_daily_limit_kg(), veta::v1::SELECTOR_LIMIT_EXCEEDED,
                             StrCat("selector ", x.extractor_id()), shown_day)) {
        return *r;
      }
      v.effects.counter_adds.emplace_back(sel_counter, x.ore_kg());
    }
    v.effects.counter_adds.emplace_back(unit_counter, x.ore_kg());
    veta::v1::Lot lot;
    lot.set_lot_id(x.lot_id());
    lot.set_holder_id(x.extractor_id());
    lot.set_original_kg(x.ore_kg());
    lot.set_remaining_kg(x.ore_kg());
    lot.set_unit_code(u.concession_code());
    lot.set_created_at(sequence);
    lot.set_grade_g_per_t(x.grade_g_per_t());
    lot.set_department(u.ubigeo().substr(0, 2));
    v.effects.lots.push_back(std::move(lot));
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

  Verdict EvaluateSale() const {
    const auto& x = d.sale;
    const veta::v1::Parameters& params = registry.parameters(delta);
    const int64_t t = Micros(x.time());
    if (auto v = RuleTimeNotInFuture(t, now)) return *v;
    const bool by_gram = x.quantity_g() != 0;
    if (by_gram && x.quantity_kg() != 0) {
      return Refuse(veta::v1::LOT_KIND_MISMATCH,
                    "a sale gives kg (an ore lot) or grams (a gold lot), not both");
    }
    const double quantity = by_gram ? x.quantity_g() : x.quantity_kg();
    if (auto v = RuleQuantityPositive(
            quantity, "the quantity sold",
            by_gram ? "grams (quantity_g)" : "kg (quantity_kg; grams of gold: quantity_g)")) {
      return *v;
    }
    if (!(x.price_pen() >= 0) || !std::isfinite(x.price_pen())) {
      return Refuse(veta::v1::PRICE_INVALID,
                    StrCat("the price is a number of soles, 0 or more, not ", Num(x.price_pen())));
    }
    auto found = registry.FindLot(x.lot_id(), delta);
    if (!found.ok()) return Failure(found.status());
    const std::optional<veta::v1::Lot>& lot = *found;
    if (!lot) return Refuse(veta::v1::LOT_UNKNOWN, StrCat("lot ", x.lot_id(), " does not exist"));
    if (auto v = RuleQuantityInLotUnit(*lot, by_gram, "quantity_kg", "quantity_g")) return *v;
    auto buyer_lot = registry.FindLot(x.buyer_lot_id(), delta);
    if (!buyer_lot.ok()) return Failure(buyer_lot.status());
    if (auto v = RuleLotIdValid(x.buyer_lot_id(), "the buyer's lot id")) return *v;
    if (buyer_lot->has_value()) {
      return Refuse(veta::v1::LOT_ID_TAKEN,
                    StrCat("the buyer's lot id '", x.buyer_lot_id(), "' is in use"));
    }
    auto seller = FindPerson(x.seller_id());
    if (seller == nullptr) {
      return Refuse(veta::v1::SELLER_UNKNOWN,
                    StrCat("seller ", x.seller_id(), " is not registered"));
    }
    const Standing s = *StandingOf(*seller);
    auto buyer = registry.Find(RecordKind::kParty, x.buyer_ruc(), delta);
    if (buyer == nullptr) {
      return Refuse(veta::v1::BUYER_UNKNOWN,
                    StrCat("buyer ", x.buyer_ruc(), " is not registered in REPCO"));
    }
    const Standing b = *StandingOf(*buyer);
    // In a dry run (a pre-purchase check) one of the two may not have signed yet.
    if (auto v = RuleSignedBy(s, d, veta::v1::SIGNER_NOT_PARTY); v && !dry_run) return *v;
    if (auto v = RuleSignedBy(b, d, veta::v1::SIGNER_NOT_PARTY); v && !dry_run) return *v;
    if (auto v = RuleActive(s, t, veta::v1::SELLER_NOT_ACTIVE, veta::v1::SELLER_NOT_ACTIVE)) {
      return *v;
    }
    if (auto v = RuleActive(b, t, veta::v1::BUYER_NOT_ACTIVE, veta::v1::BUYER_NOT_ACTIVE))
      return *v;
    if (!IsGold(*lot)) {
      if (auto v = RuleBuyerMayBuyOre(buyer->record.party())) return *v;
    }
    if (auto v = RuleLotMovable(*lot)) return *v;
    if (auto v = RuleLotHeldWithEnough(*lot, x.seller_id(), quantity)) return *v;

    Verdict v;
    v.parties = {x.seller_id(), x.buyer_ruc()};
    v.unit_code = lot->unit_code();
    veta::v1::Lot remaining = *lot;
    veta::v1::Lot bought;
    bought.set_lot_id(x.buyer_lot_id());
    bought.set_holder_id(x.buyer_ruc());
    bought.set_kind(lot->kind());
    if (IsGold(*lot)) {
      remaining.set_remaining_g(lot->remaining_g() - quantity);
      bought.set_original_g(quantity);
      bought.set_remaining_g(quantity);
      bought.set_fineness(lot->fineness());
    } else {
      remaining.set_remaining_kg(lot->remaining_kg() - quantity);
      bought.set_original_kg(quantity);
      bought.set_remaining_kg(quantity);
      bought.set_grade_g_per_t(lot->grade_g_per_t());
    }
    v.effects.lots.push_back(remaining);
    bought.set_unit_code(lot->unit_code());
    bought.set_created_at(sequence);
    bought.set_parent_lot_id(lot->lot_id());
    bought.set_source(veta::v1::BOUGHT);
    bought.set_department(lot->department());
    *bought.mutable_origin() = lot->origin();
    v.effects.lots.push_back(std::move(bought));
    v.effects.state_puts.emplace_back(ChildEdgeKey(x.lot_id(), x.buyer_lot_id()),
                                      EncodeU64(sequence));
    v.effects.state_puts.emplace_back(HolderLotKey(x.buyer_ruc(), x.buyer_lot_id()),
                                      EncodeU64(sequence));
    // Sales of gold are counted apart from sales of ore: an average mixes no units.
    const std::string stats_key = StatsKey(x.seller_id(), IsGold(*lot));
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
    if (x.payment() == veta::v1::CASH && x.price_pen() > params.cash_flag_threshold_pen()) {
      flag(veta::v1::CASH_ABOVE_THRESHOLD,
           StrCat("paid in cash: S/ ", Num(x.price_pen()), ", above the threshold of S/ ",
                  Num(params.cash_flag_threshold_pen())));
    }
    if (stats.sales >= params.volume_history_min()) {
      const double average = stats.total_kg / static_cast<double>(stats.sales);
      if (quantity > params.volume_jump_factor() * average) {
        flag(veta::v1::VOLUME_JUMP,
             StrCat("seller ", x.seller_id(), " sells ", Amount(*lot, quantity), ", over ",
                    Num(params.volume_jump_factor()), "x its average of ", Amount(*lot, average),
                    " in ", stats.sales, " earlier sales"));
      }
    }
    stats.sales += 1;
    stats.total_kg += quantity;
    v.effects.seller_stats.emplace_back(stats_key, stats);
    return v;
  }

  Verdict EvaluateProcessing() const {
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
    double fine_out = 0;
    for (const auto& out : x.outputs()) {
      if (auto v = RuleLotIdValid(out.lot_id(), "output lot id")) return *v;
      if (!ids.insert(out.lot_id()).second) {
        return Refuse(veta::v1::PROCESSING_INVALID,
                      StrCat("output lot id '", out.lot_id(), "' is repeated"));
      }
      auto taken = registry.FindLot(out.lot_id(), delta);
      if (!taken.ok()) return Failure(taken.status());
      if (taken->has_value()) {
        return Refuse(veta::v1::LOT_ID_TAKEN,
                      StrCat("lot id ", out.lot_id(), " is already in use"));
      }
      if (auto v = RuleQuantityPositive(out.gold_g(), StrCat("output ", out.lot_id()), "grams")) {
        return *v;
      }
      if (!(out.fineness() > 0 && out.fineness() <= 1000)) {
        return Refuse(veta::v1::PROCESSING_INVALID,
                      StrCat("output ", out.lot_id(), ": fineness is in parts per thousand, in ",
                             "(0, 1000], not ", Num(out.fineness())));
      }
      fine_out += out.gold_g() * out.fineness() / 1000;
    }
    Verdict v;
    double ore_kg = 0, ore_fine = 0, gold_fine = 0;
    std::map<std::string, double> mix;  // unit -> fine grams
    std::vector<veta::v1::LotInput> inputs;
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
      const bool by_gram = in.gold_g() != 0;
      if (by_gram && in.ore_kg() != 0) {
        return Refuse(veta::v1::LOT_KIND_MISMATCH,
                      StrCat("input ", in.lot_id(), " gives kg and grams: one only"));
      }
      const double q = by_gram ? in.gold_g() : in.ore_kg();
      if (auto r =
              RuleQuantityPositive(q, StrCat("input ", in.lot_id()), by_gram ? "grams" : "kg")) {
        return *r;
      }
      if (auto r = RuleQuantityInLotUnit(lot, by_gram, "ore_kg", "gold_g")) return *r;
      if (auto r = RuleLotMovable(lot)) return *r;
      if (auto r = RuleLotHeldWithEnough(lot, x.plant_ruc(), q, veta::v1::PLANT_DOES_NOT_HOLD_LOT,
                                         "the processing")) {
        return *r;
      }
      const double fine = q * FinePerUnit(lot);
      (IsGold(lot) ? gold_fine : ore_fine) += fine;
      if (!IsGold(lot)) ore_kg += q;
      for (const auto& share : OriginOf(lot)) mix[share.unit_code()] += fine * share.share();
      veta::v1::LotInput li;
      li.set_lot_id(lot.lot_id());
      (IsGold(lot) ? li.set_gold_g(q) : li.set_ore_kg(q));
      li.set_fine_g(fine);
      inputs.push_back(std::move(li));
      veta::v1::Lot consumed = lot;
      (IsGold(lot) ? consumed.set_remaining_g(lot.remaining_g() - q)
                   : consumed.set_remaining_kg(lot.remaining_kg() - q));
      v.effects.lots.push_back(std::move(consumed));
    }
    if (mix.size() > kOriginUnitsMax) {
      return Refuse(veta::v1::PROCESSING_INVALID,
                    StrCat("the inputs come from ", mix.size(), " units; a lot's origin names at ",
                           "most ", kOriginUnitsMax));
    }
    if (auto r = RuleMassBalance(fine_out, ore_fine, gold_fine, params)) return *r;
    const std::string day = PeruDay(t);
    const std::string plant_counter = StrCat("P", x.plant_ruc(), "/", day);
    if (ore_kg > 0) {
      if (auto r =
              RuleDailyLimit(registry.Counter(plant_counter, delta), ore_kg,
                             plant->record.party().processing_capacity_tonnes_per_day() * 1000,
                             veta::v1::PLANT_CAPACITY_EXCEEDED, StrCat("plant ", x.plant_ruc()),
                             StrCat(day.substr(0, 4), "-", day.substr(4, 2), "-", day.substr(6)))) {
        return *r;
      }
      v.effects.counter_adds.emplace_back(plant_counter, ore_kg);
    }
    // The origin mix: each unit's share of the fine gold the inputs bring.
    const double fine_in = ore_fine + gold_fine;
    std::vector<veta::v1::OriginShare> origin;
    std::string main_unit;
    double main_share = -1;
    for (const auto& [unit, fine] : mix) {
      veta::v1::OriginShare s;
      s.set_unit_code(unit);
      s.set_share(fine / fine_in);
      if (s.share() > main_share) main_share = s.share(), main_unit = unit;
      origin.push_back(std::move(s));
    }
    for (const auto& out : x.outputs()) {
      veta::v1::Lot lot;
      lot.set_lot_id(out.lot_id());
      lot.set_holder_id(x.plant_ruc());
      lot.set_kind(veta::v1::GOLD);
      lot.set_original_g(out.gold_g());
      lot.set_remaining_g(out.gold_g());
      lot.set_fineness(out.fineness());
      lot.set_unit_code(main_unit);
      lot.set_created_at(sequence);
      lot.set_source(veta::v1::PROCESSED);
      for (const auto& in : inputs) *lot.add_inputs() = in;
      for (const auto& s : origin) *lot.add_origin() = s;
      v.effects.lots.push_back(std::move(lot));
      for (const auto& in : inputs) {
        v.effects.state_puts.emplace_back(ChildEdgeKey(in.lot_id(), out.lot_id()),
                                          EncodeU64(sequence));
      }
      v.effects.state_puts.emplace_back(HolderLotKey(x.plant_ruc(), out.lot_id()),
                                        EncodeU64(sequence));
    }
    v.parties = {x.plant_ruc()};
    v.unit_code = main_unit;
    return v;
  }

  Verdict EvaluateExport() const {
    const auto& x = d.export_;
    const int64_t t = Micros(x.time());
    if (auto v = RuleTimeNotInFuture(t, now)) return *v;
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
    if (!IsGold(lot)) {
      return Refuse(veta::v1::EXPORT_INVALID,
                    StrCat("lot ", lot.lot_id(), " is ore: only gold lots are exported"));
    }
    if (auto v = RuleLotMovable(lot)) return *v;
    if (auto v = RuleLotHeldWithEnough(lot, x.exporter_ruc(), 0,
                                       veta::v1::EXPORTER_DOES_NOT_HOLD_LOT, "the export")) {
      return *v;
    }
    if (!(lot.remaining_g() > 0)) {
      return Refuse(veta::v1::EXPORT_INVALID, StrCat("lot ", lot.lot_id(), " has nothing left"));
    }
    Verdict v;
    veta::v1::Lot exported = lot;
    exported.set_exported_at(sequence);
    exported.set_export_voided_at(0);
    exported.set_exported_g(lot.remaining_g());
    exported.set_export_destination(c);
    exported.set_remaining_g(0);
    v.effects.lots.push_back(std::move(exported));
    v.parties = {x.exporter_ruc()};
    v.unit_code = lot.unit_code();
    return v;
  }

  // The parties a transaction needed, for a correction signed by them rather than a registrar.
  std::vector<std::string> NeededParties(const DecodedEnvelope& e) const {
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
  static bool PartiesMayCorrect(const DecodedEnvelope& e) { return e.kind != PayloadKind::kExport; }

  // A lot the corrected entry created has not moved on: nothing consumed, not exported.
  std::optional<Verdict> RuleUntouched(const veta::v1::Lot& lot, uint64_t target) const {
    const bool exported = lot.exported_at() != 0 && lot.export_voided_at() == 0;
    if (Original(lot) - Remaining(lot) <= 1e-9 && !exported) return std::nullopt;
    std::string next;
    if (exported) {
      next = StrCat("it was exported by entry ", lot.exported_at());
    } else {
      next = StrCat("only ", Amount(lot, Remaining(lot)), " of ", Amount(lot, Original(lot)),
                    " is left");
      std::unique_ptr<rocksdb::Iterator> it(
          registry.store_->db()->NewIterator(rocksdb::ReadOptions(), registry.store_->state()));
      const std::string prefix = ChildEdgeKey(lot.lot_id(), "");
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        const std::string child = it->key().ToString().substr(prefix.size());
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

  Verdict EvaluateCorrection() const {
    const auto& x = d.correction;
    const int64_t t = Micros(x.time());
    if (auto v = RuleTimeNotInFuture(t, now)) return *v;
    const uint64_t target = x.corrected_sequence();
    if (x.reason().empty() || x.reason().size() > 1000) {
      return Refuse(veta::v1::CORRECTION_TARGET_INVALID,
                    "a correction states its reason (1-1000 bytes)");
    }
    auto bytes = registry.store_->Get(registry.store_->entries(), EncodeU64(target));
    if (target >= sequence) {
      return Refuse(veta::v1::CORRECTION_TARGET_INVALID,
                    StrCat("entry ", target, " is not in the ledger"));
    }
    if (absl::IsNotFound(bytes.status())) {
      // An earlier entry of the same batch: not on disk yet. Not a verdict: retry.
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
    if (parties.empty()) {
      return Refuse(
          veta::v1::CORRECTION_TARGET_INVALID,
          StrCat("entry ", target, " is not a transaction (extraction, sale, ",
                 "processing or export): a registry record is corrected by a new ", "version"));
    }
    auto voided = registry.FindState(VoidedEntryKey(target), delta);
    if (!voided.ok()) return Failure(voided.status());
    if (voided->has_value()) {
      uint64_t by = 0;
      DecodeU64(**voided, &by);
      return Refuse(veta::v1::CORRECTION_TARGET_INVALID,
                    StrCat("entry ", target, " was already voided by entry ", by));
    }
    bool by_parties = PartiesMayCorrect(e);
    for (const auto& id : parties) {
      auto person = FindPerson(id);
      if (person == nullptr || RuleSignedBy(*StandingOf(*person), d, veta::v1::SIGNER_NOT_PARTY)) {
        by_parties = false;
      }
    }
    if (!by_parties && RuleRegistrarSigned(false)) {
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
    auto restore = [&](const std::string& id, double quantity) -> std::optional<Verdict> {
      auto lot = lot_of(id);
      if (!lot.ok()) return Failure(lot.status());
      // What it consumed goes back only to a lot that can still hold it.
      if (auto r = RuleLotMovable(*lot)) {
        return Refuse(veta::v1::CORRECTION_BLOCKED,
                      StrCat("entry ", target, " took from lot ", id, ", which cannot take it ",
                             "back: ", r->message, ": correct that first"));
      }
      (IsGold(*lot) ? lot->set_remaining_g(lot->remaining_g() + quantity)
                    : lot->set_remaining_kg(lot->remaining_kg() + quantity));
      std::erase_if(v.effects.lots, [&](const veta::v1::Lot& l) { return l.lot_id() == id; });
      v.effects.lots.push_back(std::move(*lot));
      return std::nullopt;
    };
    switch (e.kind) {
      case PayloadKind::kExtraction: {
        const auto& ex = e.extraction;
        if (auto r = void_lot(ex.lot_id())) return *r;
        const std::string day = PeruDay(Micros(ex.time()));
        v.effects.counter_adds.emplace_back(StrCat("U", ex.unit_code(), "/", day), -ex.ore_kg());
        if (LooksLikeDni(ex.extractor_id())) {
          v.effects.counter_adds.emplace_back(StrCat("S", ex.extractor_id(), "/", day),
                                              -ex.ore_kg());
        }
        break;
      }
      case PayloadKind::kSale: {
        const auto& s = e.sale;
        if (auto r = void_lot(s.buyer_lot_id())) return *r;
        const bool gold = s.quantity_g() != 0;
        const double q = gold ? s.quantity_g() : s.quantity_kg();
        if (auto r = restore(s.lot_id(), q)) return *r;
        const std::string key = StatsKey(s.seller_id(), gold);
        SellerStats stats = registry.Stats(key, delta);
        stats.sales = stats.sales > 0 ? stats.sales - 1 : 0;
        stats.total_kg = std::max(0.0, stats.total_kg - q);
        v.effects.seller_stats.emplace_back(key, stats);
        break;
      }
      case PayloadKind::kProcessing: {
        const auto& pr = e.processing;
        for (const auto& out : pr.outputs()) {
          if (auto r = void_lot(out.lot_id())) return *r;
        }
        double ore_kg = 0;
        for (const auto& in : pr.inputs()) {
          if (auto r = restore(in.lot_id(), in.gold_g() != 0 ? in.gold_g() : in.ore_kg())) {
            return *r;
          }
          ore_kg += in.ore_kg();
        }
        if (ore_kg > 0) {
          v.effects.counter_adds.emplace_back(
              StrCat("P", pr.plant_ruc(), "/", PeruDay(Micros(pr.time()))), -ore_kg);
        }
        break;
      }
      case PayloadKind::kExport: {
        auto lot = lot_of(e.export_.lot_id());
        if (!lot.ok()) return Failure(lot.status());
        lot->set_export_voided_at(sequence);
        lot->set_remaining_g(lot->exported_g());
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
};

Verdict Registry::Evaluate(const DecodedEnvelope& d, uint64_t sequence, int64_t now_micros,
                           const KeyRing& keys, const Delta& delta, bool dry_run) const {
  RuleContext ctx{*this, d, sequence, now_micros, keys, delta, dry_run};
  Verdict v;
  switch (d.kind) {
    case PayloadKind::kRegistry:
      v = ctx.EvaluateRecord();
      if (v.refusal != veta::v1::REFUSAL_UNSPECIFIED) v.parties = {RecordKey(d.registry).second};
      break;
    case PayloadKind::kExtraction:
      v = ctx.EvaluateExtraction();
      if (v.refusal != veta::v1::REFUSAL_UNSPECIFIED) {
        v.parties = {d.extraction.extractor_id()};
        v.unit_code = d.extraction.unit_code();
      }
      break;
    case PayloadKind::kSale:
      v = ctx.EvaluateSale();
      if (v.refusal != veta::v1::REFUSAL_UNSPECIFIED) {
        v.parties = {d.sale.seller_id(), d.sale.buyer_ruc()};
        if (auto lot = FindLot(d.sale.lot_id(), delta); lot.ok() && lot->has_value()) {
          v.unit_code = (*lot)->unit_code();
        }
      }
      break;
    case PayloadKind::kProcessing:
      v = ctx.EvaluateProcessing();
      if (v.refusal != veta::v1::REFUSAL_UNSPECIFIED) v.parties = {d.processing.plant_ruc()};
      break;
    case PayloadKind::kExport:
      v = ctx.EvaluateExport();
      if (v.refusal != veta::v1::REFUSAL_UNSPECIFIED) {
        v.parties = {d.export_.exporter_ruc()};
        if (auto lot = FindLot(d.export_.lot_id(), delta); lot.ok() && lot->has_value()) {
          v.unit_code = (*lot)->unit_code();
        }
      }
      break;
    case PayloadKind::kCorrection:
      v = ctx.EvaluateCorrection();
      break;
    default:
      break;
  }
  return v;
}

void Registry::Stage(const Verdict& v, uint64_t sequence, Delta* delta,
                     rocksdb::WriteBatch* batch) const {
  for (const auto& state : v.effects.records) {
    const auto [kind, id] = RecordKey(state->record);
    batch->Put(store_->registry(), RecordVersionKey(kind, id, sequence),
               state->record.SerializeAsString());
    delta->records[MapKey(kind, id)] = state;
    if (kind == RecordKind::kZone) delta->zones_changed = true;
    const std::string holder = StrCat(RecordKindName(kind), ":", id);
    for (const auto& k : RecordKeys(state->record)) {
      auto key = PublicKey::FromProto(k);
      if (!key.ok()) continue;  // validated before: cannot happen
      batch->Put(store_->keys(), k.keyid(), EncodeU64(sequence));
      delta->keys.push_back(
          std::make_shared<const KeyInfo>(KeyInfo{*key, holder, false, sequence}));
    }
  }
  for (const auto& lot : v.effects.lots) {
    batch->Put(store_->state(), LotKey(lot.lot_id()), lot.SerializeAsString());
    delta->lots[lot.lot_id()] = lot;
  }
  for (const auto& [key, value] : v.effects.state_puts) {
    batch->Put(store_->state(), key, value);
    delta->state[key] = value;
  }
  for (const auto& [key, kg] : v.effects.counter_adds) {
    const double total = Counter(key, *delta) + kg;
    delta->counters[key] = total;
    batch->Put(store_->state(), StrCat("C", key),
               std::string(reinterpret_cast<const char*>(&total), sizeof(total)));
  }
  for (const auto& [seller, stats] : v.effects.seller_stats) {
    delta->seller_stats[seller] = stats;
    batch->Put(store_->state(), StrCat("T", seller),
               std::string(reinterpret_cast<const char*>(&stats), sizeof(stats)));
  }
  for (size_t i = 0; i < v.effects.flags.size(); ++i) {
    const auto& f = v.effects.flags[i];
    const std::string id = EncodeU64(sequence) + static_cast<char>(i);
    batch->Put(store_->evidence(), "f" + id, f.SerializeAsString());
    for (const auto& party : f.parties()) {
      batch->Put(store_->evidence(), StrCat("Fp", party, std::string(1, '\0'), id), "");
    }
    if (!f.unit_code().empty()) {
      batch->Put(store_->evidence(), StrCat("Fu", f.unit_code(), std::string(1, '\0'), id), "");
    }
  }
}

void Registry::Commit(Delta delta, KeyRing* keys) {
  for (auto& [key, state] : delta.records) records_[key] = std::move(state);
  for (auto& [key, kg] : delta.counters) counters_[key] = kg;
  for (auto& [seller, stats] : delta.seller_stats) seller_stats_[seller] = stats;
  for (auto& k : delta.keys) {
    if (keys->Find(k->key.keyid()) == nullptr) keys->Add(k);
  }
  if (delta.zones_changed) RebuildZoneIndex();
}

}  // namespace veta
