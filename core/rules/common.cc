// The helpers every rule is built from, and the checks every kind of entry shares (signers
// in force, registrars, zones).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <set>

#include "core/base/ids.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/timestamp.h"
#include "core/base/units.h"
#include "core/rules/rules_internal.h"

namespace veta {
namespace rules {

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

void SetUpstream(const std::vector<const veta::v1::Lot*>& from, veta::v1::Lot* made) {
  std::set<std::string> holders;
  bool known = true, truncated = false;
  for (const veta::v1::Lot* lot : from) {
    known = known && lot->upstream_known();
    truncated = truncated || lot->upstream_truncated();
    holders.insert(lot->holder_id());
    holders.insert(lot->upstream_holders().begin(), lot->upstream_holders().end());
  }
  made->clear_upstream_holders();
  for (const auto& h : holders) {
    if (made->upstream_holders_size() == kUpstreamHoldersMax) {
      truncated = true;
      break;
    }
    made->add_upstream_holders(h);
  }
  made->set_upstream_known(known);
  made->set_upstream_truncated(truncated);
}

void RaiseFlag(Effects* effects, uint64_t sequence, veta::v1::RedFlag kind, std::string message,
               const std::vector<std::string>& parties, const std::string& unit_code) {
  veta::v1::Flag f;
  f.set_sequence(sequence);
  f.set_flag(kind);
  f.set_message(std::move(message));
  for (const auto& p : parties) f.add_parties(p);
  f.set_unit_code(unit_code);
  effects->flags.push_back(std::move(f));
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

// How far back a declared time may be: DeclarationWindowDays.
std::optional<Verdict> RuleTimeNotTooOld(int64_t t, int64_t now,
                                         const veta::v1::Parameters& params) {
  const int64_t days = DeclarationWindowDays(params);
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
                                 const std::string& department, const std::string& unit_code) {
  auto it = params.grade_ppb_by_department().find(department);
  const veta::v1::Bounds* b =
      it != params.grade_ppb_by_department().end() ? &it->second : &params.grade_ppb_default();
  auto own = params.grade_ppb_by_unit().find(unit_code);
  const bool by_unit = V3(params) && own != params.grade_ppb_by_unit().end();
  if (by_unit) b = &own->second;
  if (grade_ppb >= b->min() && grade_ppb <= b->max()) return std::nullopt;
  return Refuse(
      veta::v1::GRADE_OUT_OF_BOUNDS,
      StrCat("declared grade ", units::GradeGramsPerTonne(grade_ppb), " is outside ",
             units::GradeGramsPerTonne(b->min()), " to ", units::GradeGramsPerTonne(b->max()),
             by_unit ? StrCat(" for unit ", unit_code, " (its own bounds)")
                     : StrCat(" for department ", department)));
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

using namespace rules;  // NOLINT

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
    if (is_scar != scars || kind == veta::v1::PERMITTED_MINING_CORRIDOR ||
        kind == veta::v1::ADMINISTRATIVE_DISTRICT) {
      continue;
    }
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

}  // namespace veta
