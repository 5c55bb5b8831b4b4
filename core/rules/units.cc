// Rules v3 for mining units: twin and misplaced units. A unit's ground is registered once (a
// polygon overlapping a unit in force is refused unless the two share it, with explicit
// shares), lies in the district its ubigeo names, and belongs to an active miner; ore taken
// from a shared ground counts against that ground's capacity whichever unit declares it.
#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "core/base/strings.h"
#include "core/base/units.h"
#include "core/rules/rules_internal.h"

namespace veta {

using namespace rules;  // NOLINT: the rule helpers, private to the rules

namespace {

// An overlap up to this is none: 100 m2 (0.01 ha), far below any ground worth working, far
// above the slivers that coordinates rounded to 1e-7 degrees (about 1 cm) leave along
// kilometres of a boundary two neighbours share.
constexpr double kOverlapToleranceM2 = 100;

// A unit's ground is held while the unit is VIGENTE or SUSPENDIDO (EXCLUIDO frees it).
bool UnitInForce(const veta::v1::MiningUnit& u) {
  return u.status().status() == veta::v1::VIGENTE || u.status().status() == veta::v1::SUSPENDIDO;
}

bool DistrictInForce(const veta::v1::Zone& z) {
  return z.in_force() && z.kind() == veta::v1::ADMINISTRATIVE_DISTRICT;
}

std::string Hectares(double m2) {
  return StrCat(units::FormatDecimal(std::llround(m2 / 100), 2), " ha");
}

bool Names(const veta::v1::MiningUnit& u, const std::string& code) {
  for (const auto& s : u.shared()) {
    if (s.concession_code() == code) return true;
  }
  return false;
}

constexpr char kImportDistricts[] =
    "veta import zones --key REGISTRAR.pem --kind ADMINISTRATIVE_DISTRICT --id-property IDDIST "
    "--name-property NOMBDIST data/peru_districts.geojson";

}  // namespace

void Registry::IndexUnit(const std::shared_ptr<const RecordState>& state) {
  const std::string& code = state->record.unit().concession_code();
  auto [it, fresh] = unit_slots_.emplace(code, indexed_units_.size());
  if (fresh) indexed_units_.push_back(nullptr);
  // Out of the index while the previous version (whose box the index holds) is still alive.
  units_.Remove(it->second);
  indexed_units_[it->second] = nullptr;
  if (UnitInForce(state->record.unit()) && state->geometry != nullptr) {
    indexed_units_[it->second] = state;
    units_.Add(it->second, &*state->geometry);
  }
}

std::vector<std::shared_ptr<const RecordState>> RuleContext::UnitsNear(const geo::BBox& b) const {
  std::vector<std::shared_ptr<const RecordState>> out;
  for (uint64_t slot : registry.units_.Intersecting(b)) {
    const auto& unit = registry.indexed_units_[slot];
    if (delta.records.count(MapKey(RecordKind::kUnit, unit->record.unit().concession_code())) ==
        0) {
      out.push_back(unit);
    }
  }
  for (const auto& [key, state] : delta.records) {
    if (state->record.has_unit() && UnitInForce(state->record.unit()) &&
        state->geometry != nullptr && state->geometry->bbox().Intersects(b)) {
      out.push_back(state);
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    return x->record.unit().concession_code() < y->record.unit().concession_code();
  });
  return out;
}

std::vector<std::shared_ptr<const RecordState>> RuleContext::DistrictsNear(
    const geo::BBox& b) const {
  std::vector<std::shared_ptr<const RecordState>> out;
  for (uint64_t id : registry.districts_.Intersecting(b)) {
    const auto& zone = registry.indexed_zones_[id];
    if (delta.records.count(MapKey(RecordKind::kZone, zone->record.zone().zone_id())) == 0) {
      out.push_back(zone);
    }
  }
  for (const auto& [key, state] : delta.records) {
    if (state->record.has_zone() && DistrictInForce(state->record.zone()) &&
        state->geometry->bbox().Intersects(b)) {
      out.push_back(state);
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    return x->record.zone().zone_id() < y->record.zone().zone_id();
  });
  return out;
}

std::optional<Verdict> RuleContext::RuleUnitV3(const RecordState& unit) const {
  if (!V3(registry.parameters(delta))) return std::nullopt;
  const auto& u = unit.record.unit();
  const std::string& code = u.concession_code();
  const std::string what = StrCat("unit ", code);
  // Excluding a unit is never blocked, nor suspending one where it stands (its holder may be
  // why, and a unit registered before v3 on another's ground must be suspendable); a suspended
  // version that moves it, or a first one, still holds ground, and is checked as such.
  if (u.status().status() == veta::v1::EXCLUIDO || unit.geometry == nullptr) return std::nullopt;
  const bool vigente = u.status().status() == veta::v1::VIGENTE;
  if (!vigente) {
    auto current = registry.Find(RecordKind::kUnit, code, delta);
    if (current != nullptr) {
      const auto& c = current->record.unit();
      bool same = c.geometry_geojson() == u.geometry_geojson() && c.ubigeo() == u.ubigeo() &&
                  c.shared_size() == u.shared_size();
      for (int i = 0; same && i < u.shared_size(); ++i) {
        same = c.shared(i).concession_code() == u.shared(i).concession_code() &&
               c.shared(i).share_ppm() == u.shared(i).share_ppm();
      }
      if (same) return std::nullopt;
    }
  }

  // A concession is at most a few thousand hectares (a few kilometres across): a unit whose
  // polygons spread over more than two degrees (some 220 km) is no unit, and its parts far
  // apart would each claim ground (and cost every overlap test that reaches them).
  const geo::BBox& box = unit.geometry->bbox();
  if (box.max_lon - box.min_lon > kUnitSpanDegreesMax ||
      box.max_lat - box.min_lat > kUnitSpanDegreesMax) {
    return Refuse(veta::v1::REGISTRY_RECORD_INVALID,
                  StrCat(what, ": its polygons spread over ", Num(box.max_lon - box.min_lon),
                         " by ", Num(box.max_lat - box.min_lat), " degrees; a unit spans at most ",
                         Num(kUnitSpanDegreesMax), " degrees each way (about 220 km)"));
  }

  // The holder: a registered miner, active now (for a unit in force, not one suspended).
  if (vigente) {
    auto holder = registry.Find(RecordKind::kMiner, u.holder_ruc(), delta);
    if (holder == nullptr) {
      return Refuse(veta::v1::UNIT_HOLDER_INVALID,
                    StrCat(what, ": its holder ", u.holder_ruc(),
                           " is not a registered miner (REINFO): register the miner first"));
    }
    if (auto r = RuleActive(*StandingOf(*holder), now, veta::v1::UNIT_HOLDER_INVALID,
                            veta::v1::UNIT_HOLDER_INVALID)) {
      r->message = StrCat(what, "'s holder: ", r->message, "; a unit belongs to an active miner");
      return r;
    }
  }

  // Its rings as areas take them (no bowtie winding part of it the wrong way).
  if (absl::Status s = geo::CheckSimple(*unit.geometry); !s.ok()) {
    return Refuse(veta::v1::REGISTRY_RECORD_INVALID,
                  StrCat(what, ": ", s.message(),
                         ": under rules v3 a unit's rings neither cross themselves nor each "
                         "other, and its holes lie inside it"));
  }

  // The grounds it shares: other units in force, each named once, shares within the whole.
  if (u.shared_size() > kListMax) {
    return Refuse(veta::v1::REGISTRY_RECORD_INVALID,
                  StrCat(what, ": at most ", kListMax, " shared concessions"));
  }
  std::set<std::string> named;
  // The units in force that could name the same grounds: all of them (a scan, only for a unit
  // that shares a ground).
  const auto in_force =
      u.shared().empty() ? decltype(UnitsNear({})){} : UnitsNear(geo::BBox{-180, -90, 180, 90});
  for (const auto& s : u.shared()) {
    const std::string& ground = s.concession_code();
    if (ground == code || !named.insert(ground).second || s.share_ppm() <= 0 ||
        s.share_ppm() > units::kPpmWhole) {
      return Refuse(veta::v1::REGISTRY_RECORD_INVALID,
                    StrCat(what,
                           ": a shared concession names another unit, once, with a share "
                           "in (0, 1,000,000] parts per million (unit '",
                           ground, "', ", s.share_ppm(), ")"));
    }
    auto other = registry.Find(RecordKind::kUnit, ground, delta);
    if (other == nullptr || !UnitInForce(other->record.unit())) {
      return Refuse(veta::v1::REGISTRY_RECORD_INVALID,
                    StrCat(what, " shares the ground of unit ", ground,
                           ", which is not a registered unit in force"));
    }
    // Every unit in force naming that ground, this one's new share in place of its old.
    int64_t total = s.share_ppm();
    std::string parts = StrCat(what, " ", units::PercentOfPpm(s.share_ppm()));
    for (const auto& near : in_force) {
      const auto& n = near->record.unit();
      if (n.concession_code() == code) continue;
      for (const auto& ns : n.shared()) {
        if (ns.concession_code() != ground) continue;
        total += ns.share_ppm();
        parts += StrCat(", unit ", n.concession_code(), " ", units::PercentOfPpm(ns.share_ppm()));
      }
    }
    if (total > units::kPpmWhole) {
      return Refuse(veta::v1::UNIT_OVERLAPS,
                    StrCat("the shares of unit ", ground, "'s ground would sum to ",
                           units::PercentOfPpm(total), " (", parts,
                           "): more than the whole; a ground is worked once"));
    }
  }

  // The district: the zone its ubigeo names holds more than half of the part of it that lies in
  // registered districts, and that part is more than half of it. (Half of the whole in the
  // district would leave a unit on a border of the shipped, simplified boundaries, whose gaps
  // hold a little of it, in none; a unit over several districts is in none of them.)
  const geo::Geometry& g = *unit.geometry;
  const double area = geo::AreaM2(g);
  auto named_district = registry.Find(RecordKind::kZone, u.ubigeo(), delta);
  const bool named_ok = named_district != nullptr && DistrictInForce(named_district->record.zone());
  const auto districts = DistrictsNear(g.bbox());
  if (!named_ok && districts.empty() && registry.districts_.size() == 0) {
    bool any_staged = false;
    for (const auto& [key, state] : delta.records) {
      any_staged =
          any_staged || (state->record.has_zone() && DistrictInForce(state->record.zone()));
    }
    if (!any_staged) {
      return Refuse(veta::v1::UNIT_DISTRICT_MISMATCH,
                    StrCat(what, " names ubigeo ", u.ubigeo(),
                           ", but no district is registered: under rules v3 a unit lies in the "
                           "registered district its ubigeo names. Register Peru's districts "
                           "first: ",
                           kImportDistricts));
    }
  }
  double in_named = 0, best = 0, covered = 0;
  std::shared_ptr<const RecordState> best_district;
  for (const auto& z : districts) {
    const double a = geo::OverlapAreaM2(g, *z->geometry);
    covered += a;
    if (z->record.zone().zone_id() == u.ubigeo()) in_named = a;
    if (a > best) {
      best = a;
      best_district = z;
    }
  }
  if (!(named_ok && 2 * in_named > covered && 2 * covered > area)) {
    std::string where =
        named_ok ? StrCat(" (", named_district->record.zone().name(), "), which holds ",
                          Hectares(in_named), " of its ", Hectares(area))
                 : StrCat(", which is not a registered district in force (", kImportDistricts, ")");
    std::string most;
    if (best_district == nullptr || 2 * covered <= area) {
      most = StrCat("; registered districts hold ", Hectares(covered),
                    " of it: a unit lies in Peru's districts");
    } else if (best_district->record.zone().zone_id() != u.ubigeo() && 2 * best > covered) {
      most = StrCat("; most of it lies in district ", best_district->record.zone().zone_id(), " (",
                    best_district->record.zone().name(), ", ", Hectares(best),
                    "): that is its ubigeo");
    } else {
      most = StrCat("; no district holds most of it (", Hectares(best), " at most, in ",
                    best_district->record.zone().zone_id(), "): a unit lies in one district");
    }
    return Refuse(veta::v1::UNIT_DISTRICT_MISMATCH,
                  StrCat(what, " names ubigeo ", u.ubigeo(), where, most));
  }

  // Its ground: no other unit's in force, unless one of the two names the other as shared.
  for (const auto& other : UnitsNear(g.bbox())) {
    const auto& o = other->record.unit();
    if (o.concession_code() == code) continue;  // its own previous version
    const double overlap = geo::OverlapAreaM2(g, *other->geometry);
    if (overlap <= kOverlapToleranceM2) continue;
    if (Names(u, o.concession_code()) || Names(o, code)) continue;
    return Refuse(
        veta::v1::UNIT_OVERLAPS,
        StrCat(what, "'s polygon overlaps unit ", o.concession_code(), " (", o.name(), ", holder ",
               o.holder_ruc(), ", ", veta::v1::RegistryStatus_Name(o.status().status()), ", entry ",
               other->sequence, ") by ", Hectares(overlap),
               ": a ground is registered once (a concession worked by several "
               "registrants names the other unit as shared, with its share)"));
  }
  return std::nullopt;
}

std::optional<Verdict> RuleContext::RuleSharedGrounds(const RecordState& unit, geo::Point p,
                                                      int64_t ore_g, const std::string& day,
                                                      Effects* effects) const {
  const auto& u = unit.record.unit();
  if (u.shared().empty() || !V3(registry.parameters(delta))) return std::nullopt;
  const std::string shown_day = StrCat(day.substr(0, 4), "-", day.substr(4, 2), "-", day.substr(6));
  std::string row;
  auto add = [&](const std::string& counter) {
    row += static_cast<char>(counter.size());
    row += counter;
    effects->counter_adds.emplace_back(counter, ore_g);
  };
  for (const auto& s : u.shared()) {
    auto ground = registry.Find(RecordKind::kUnit, s.concession_code(), delta);
    if (ground == nullptr || !UnitInForce(ground->record.unit()) || ground->geometry == nullptr ||
        !ground->geometry->Contains(p)) {
      continue;  // not taken from that ground
    }
    const auto& gu = ground->record.unit();
    const std::string whole = UnitDayCounter(gu.concession_code(), day);
    if (auto r = RuleDailyLimit(registry.Counter(whole, delta), ore_g, gu.capacity_ore_g_per_day(),
                                veta::v1::UNIT_CAPACITY_EXCEEDED,
                                StrCat("the ground of unit ", gu.concession_code(),
                                       " (shared with unit ", u.concession_code(), ")"),
                                shown_day)) {
      return r;
    }
    __extension__ typedef __int128 int128;
    const int64_t share_g = static_cast<int64_t>(static_cast<int128>(gu.capacity_ore_g_per_day()) *
                                                 s.share_ppm() / units::kPpmWhole);
    const std::string mine = SharedGroundDayCounter(gu.concession_code(), u.concession_code(), day);
    if (auto r = RuleDailyLimit(
            registry.Counter(mine, delta), ore_g, share_g, veta::v1::UNIT_CAPACITY_EXCEEDED,
            StrCat("unit ", u.concession_code(), "'s share (", units::PercentOfPpm(s.share_ppm()),
                   ") of unit ", gu.concession_code(), "'s ground"),
            shown_day)) {
      return r;
    }
    add(whole);
    add(mine);
    // And per day of submission, as a unit's own capacity is (back-dated declarations on a
    // sharing unit would otherwise pile onto the ground's real day).
    const std::string today = PeruDay(now);
    const std::string ground_what = StrCat("the ground of unit ", gu.concession_code(),
                                           " (shared with unit ", u.concession_code(), ")");
    for (const auto& [counter, limit, what] :
         {std::tuple{UnitDayCounter(gu.concession_code(), today), gu.capacity_ore_g_per_day(),
                     ground_what},
          std::tuple{SharedGroundDayCounter(gu.concession_code(), u.concession_code(), today),
                     share_g,
                     StrCat("unit ", u.concession_code(), "'s share of unit ", gu.concession_code(),
                            "'s ground")}}) {
      if (auto r = RuleSubmissionDayLimit(counter, ore_g, limit, veta::v1::UNIT_CAPACITY_EXCEEDED,
                                          what, effects)) {
        return r;
      }
      const std::string key = SubmittedDayCounter(counter);
      row += static_cast<char>(key.size());
      row += key;
    }
  }
  if (!row.empty()) effects->state_puts.emplace_back(SharedGroundCountersKey(sequence), row);
  return std::nullopt;
}

std::optional<Verdict> RuleContext::UndoSharedGrounds(uint64_t target, int64_t ore_g,
                                                      Effects* effects) const {
  auto row = registry.FindState(SharedGroundCountersKey(target), delta);
  if (!row.ok()) return Failure(row.status());
  if (!row->has_value()) return std::nullopt;
  const std::string& names = **row;
  for (size_t i = 0; i < names.size();) {
    const size_t n = static_cast<unsigned char>(names[i]);
    if (i + 1 + n > names.size()) {
      return Failure(absl::DataLossError(
          StrCat("the shared-ground counters of entry ", target, " are malformed")));
    }
    effects->counter_adds.emplace_back(names.substr(i + 1, n), -ore_g);
    i += 1 + n;
  }
  return std::nullopt;
}

}  // namespace veta
