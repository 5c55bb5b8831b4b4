#include "core/read/capacity.h"

#include <algorithm>
#include <ctime>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/timestamp.h"
#include "core/base/units.h"
#include "core/read/queries.h"
#include "core/storage/schema.h"

namespace veta {
namespace {

constexpr int64_t kPeruUtcOffsetMicros = -5 * 3600 * 1000000LL;  // as the rules' PeruDay

// The counter the rules keep under `name` (0 when none was ever added).
absl::StatusOr<int64_t> ReadCounter(const Reader& store, const std::string& name) {
  auto bytes = store.Get(Family::kState, CounterKey(name));
  if (absl::IsNotFound(bytes.status())) return 0;
  RETURN_IF_ERROR(Annotate(bytes.status(), "read a daily counter"));
  return DecodeI64(*bytes, "a stored daily counter");
}

struct Counting {
  std::string day, today;
  bool v3 = false;
};

// One limit: `day_counter` is the counter's name for the declared day, the same counter for
// today names the day of submission (rules v3). As RuleDailyLimit and RuleSubmissionDayLimit.
absl::StatusOr<veta::v1::CapacityUse> Use(const Reader& store, const Counting& c, int64_t capacity,
                                          const std::string& declared_counter,
                                          const std::string& today_counter, bool accepting) {
  veta::v1::CapacityUse u;
  u.set_capacity_ore_g(capacity);
  ASSIGN_OR_RETURN(int64_t declared, ReadCounter(store, declared_counter));
  u.set_used_declared_ore_g(declared);
  int64_t used = declared;
  if (c.v3) {
    ASSIGN_OR_RETURN(int64_t submitted, ReadCounter(store, SubmittedDayCounter(today_counter)));
    u.set_used_submitted_ore_g(submitted);
    used = std::max(used, submitted);
  }
  u.set_left_ore_g(accepting ? std::max<int64_t>(0, capacity - used) : 0);
  return u;
}

// As the rules' RuleActive at `t`: not VIGENTE since a time before `t`, or outside its
// validity period, is not active.
bool ActiveAt(const veta::v1::StatusInfo& st, const google::protobuf::Timestamp& from,
              const google::protobuf::Timestamp& until, int64_t t) {
  if (st.status() != veta::v1::VIGENTE && TimestampMicros(st.since()) <= t) return false;
  return t >= TimestampMicros(from) && t < TimestampMicros(until);
}

bool UnitInForce(const veta::v1::MiningUnit& u) {
  return u.status().status() == veta::v1::VIGENTE || u.status().status() == veta::v1::SUSPENDIDO;
}

absl::StatusOr<veta::v1::UnitCapacity> UnitCapacityOf(const Reader& store, const Counting& c,
                                                      const veta::v1::MiningUnit& u,
                                                      uint64_t visible) {
  veta::v1::UnitCapacity out;
  out.set_concession_code(u.concession_code());
  out.set_name(u.name());
  out.set_holder_ruc(u.holder_ruc());
  out.set_status(u.status().status());
  out.set_activity(u.activity());
  // As EvaluateExtraction: UNIT_NOT_ACTIVE unless VIGENTE for EXTRACTION.
  const bool accepting =
      u.status().status() == veta::v1::VIGENTE && u.activity() == veta::v1::EXTRACTION;
  out.set_accepting(accepting);
  const std::string& code = u.concession_code();
  ASSIGN_OR_RETURN(*out.mutable_use(),
                   Use(store, c, u.capacity_ore_g_per_day(), UnitDayCounter(code, c.day),
                       UnitDayCounter(code, c.today), accepting));
  if (!c.v3) return out;  // shared grounds count from rules v3 (RuleSharedGrounds)
  for (const auto& s : u.shared()) {
    auto ground = GetRecordAsOf(store, RecordKind::kUnit, s.concession_code(), visible);
    if (absl::IsNotFound(ground.status())) continue;
    RETURN_IF_ERROR(ground.status());
    const auto& gu = ground->record.unit();
    if (!UnitInForce(gu)) continue;  // its ground is no longer held: nothing counted there
    veta::v1::SharedGroundCapacity* g = out.add_shared();
    g->set_ground(gu.concession_code());
    g->set_share_ppm(s.share_ppm());
    __extension__ typedef __int128 int128;
    const int64_t share_g = static_cast<int64_t>(static_cast<int128>(gu.capacity_ore_g_per_day()) *
                                                 s.share_ppm() / units::kPpmWhole);
    ASSIGN_OR_RETURN(
        *g->mutable_ground_use(),
        Use(store, c, gu.capacity_ore_g_per_day(), UnitDayCounter(gu.concession_code(), c.day),
            UnitDayCounter(gu.concession_code(), c.today), accepting));
    ASSIGN_OR_RETURN(
        *g->mutable_share_use(),
        Use(store, c, share_g, SharedGroundDayCounter(gu.concession_code(), code, c.day),
            SharedGroundDayCounter(gu.concession_code(), code, c.today), accepting));
    g->set_left_ore_g(std::min(
        {out.use().left_ore_g(), g->ground_use().left_ore_g(), g->share_use().left_ore_g()}));
  }
  return out;
}

bool ValidDay(std::string_view day) {
  if (day.size() != 8 ||
      !std::all_of(day.begin(), day.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return false;
  }
  std::tm tm{};
  tm.tm_year = std::stoi(std::string(day.substr(0, 4))) - 1900;
  tm.tm_mon = std::stoi(std::string(day.substr(4, 2))) - 1;
  tm.tm_mday = std::stoi(std::string(day.substr(6, 2)));
  const int year = tm.tm_year, mon = tm.tm_mon, mday = tm.tm_mday;
  const time_t t = timegm(&tm);
  return t != static_cast<time_t>(-1) && tm.tm_year == year && tm.tm_mon == mon &&
         tm.tm_mday == mday;
}

}  // namespace

std::string PeruDayOf(int64_t micros) {
  const time_t secs = static_cast<time_t>((micros + kPeruUtcOffsetMicros) / 1000000 -
                                          ((micros + kPeruUtcOffsetMicros) % 1000000 < 0));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y%m%d", &tm);
  return buf;
}

absl::StatusOr<veta::v1::DailyCapacity> GetDailyCapacity(const Reader& store, std::string_view id,
                                                         std::string_view day, int64_t now_micros,
                                                         uint64_t visible) {
  Counting c;
  c.today = PeruDayOf(now_micros);
  c.day = day.empty() ? c.today : std::string(day);
  if (!ValidDay(c.day)) {
    return absl::InvalidArgumentError(
        StrCat("day '", day, "' is not a date written YYYYMMDD (e.g. ", c.today, ")"));
  }
  if (c.day > c.today) {
    return absl::InvalidArgumentError(StrCat("day ", c.day, " is after today (", c.today,
                                             " in Peru): nothing is declared of a future day"));
  }
  if (id.empty()) {
    return absl::InvalidArgumentError(
        "name a seller (a miner's or party's RUC, a selector's DNI) or a unit's concession code");
  }
  auto params = GetRecordAsOf(store, RecordKind::kParameters, "", visible);
  if (!params.ok() && !absl::IsNotFound(params.status())) return params.status();
  if (params.ok()) {
    const uint32_t version = params->record.parameters().rules_version();
    c.v3 = (version == 0 ? 1 : version) >= 3;
  }
  veta::v1::DailyCapacity out;
  out.set_id(std::string(id));
  out.set_day(c.day);
  out.set_today(c.today);
  out.set_counts_submission_day(c.v3);
  out.set_as_of_sequence(visible);
  auto find = [&](RecordKind kind) -> absl::StatusOr<std::optional<RecordVersion>> {
    auto v = GetRecordAsOf(store, kind, id, visible);
    if (absl::IsNotFound(v.status())) return std::nullopt;
    RETURN_IF_ERROR(v.status());
    return std::move(*v);
  };
  ASSIGN_OR_RETURN(auto miner, find(RecordKind::kMiner));
  ASSIGN_OR_RETURN(auto party, find(RecordKind::kParty));
  ASSIGN_OR_RETURN(auto selector, find(RecordKind::kSelector));
  ASSIGN_OR_RETURN(auto unit, find(RecordKind::kUnit));
  auto add_unit = [&](const veta::v1::MiningUnit& u) -> absl::Status {
    if (static_cast<size_t>(out.units_size()) >= kCapacityUnitsMax) {
      out.set_units_truncated(true);
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(*out.add_units(), UnitCapacityOf(store, c, u, visible));
    return absl::OkStatus();
  };
  if (miner.has_value()) {
    const auto& m = miner->record.miner();
    out.set_kind("miner");
    out.set_name(m.name());
    out.set_status(m.status().status());
    out.set_active(ActiveAt(m.status(), m.valid_from(), m.valid_until(), now_micros));
    // Its units: those it holds or may work (RuleExtractorOnUnit), walked in code order.
    std::string after;
    for (;;) {
      ASSIGN_OR_RETURN(auto page, ListRecords(store, RecordKind::kUnit, RecordFilter{}, after,
                                              kPageMax, visible));
      for (const auto& v : page) {
        const auto& u = v.record.unit();
        const bool works = u.holder_ruc() == id ||
                           std::find(u.allowed_miners().begin(), u.allowed_miners().end(), id) !=
                               u.allowed_miners().end();
        if (works) RETURN_IF_ERROR(add_unit(u));
      }
      if (page.size() < kPageMax || out.units_truncated()) break;
      after = RecordKey(page.back().record).second;
    }
  }
  if (party.has_value()) {
    const auto& p = party->record.party();
    if (!miner.has_value()) {
      out.set_kind("party");
      out.set_name(p.name());
      out.set_status(p.status().status());
      out.set_active(ActiveAt(p.status(), p.valid_from(), p.valid_until(), now_micros));
    }
    out.set_party_kind(p.kind());
    if (p.kind() == veta::v1::PLANT) {
      const bool active = ActiveAt(p.status(), p.valid_from(), p.valid_until(), now_micros);
      ASSIGN_OR_RETURN(
          *out.mutable_processing(),
          Use(store, c, p.processing_capacity_ore_g_per_day(), PlantDayCounter(p.ruc(), c.day),
              PlantDayCounter(p.ruc(), c.today), active));
    }
  }
  if (!miner.has_value() && !party.has_value() && selector.has_value()) {
    const auto& s = selector->record.selector();
    out.set_kind("selector");
    out.set_name(s.name());
    out.set_status(s.status().status());
    const bool active = ActiveAt(s.status(), s.valid_from(), s.valid_until(), now_micros);
    out.set_active(active);
    const int64_t limit = params.ok() ? params->record.parameters().selector_daily_limit_g() : 0;
    ASSIGN_OR_RETURN(*out.mutable_selector(),
                     Use(store, c, limit, SelectorDayCounter(s.dni(), c.day),
                         SelectorDayCounter(s.dni(), c.today), active));
    std::vector<std::string> codes(s.allowed_units().begin(), s.allowed_units().end());
    std::sort(codes.begin(), codes.end());
    codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
    for (const auto& code : codes) {
      auto v = GetRecordAsOf(store, RecordKind::kUnit, code, visible);
      if (absl::IsNotFound(v.status())) continue;
      RETURN_IF_ERROR(v.status());
      RETURN_IF_ERROR(add_unit(v->record.unit()));
    }
  }
  if (out.kind().empty() && unit.has_value()) {
    const auto& u = unit->record.unit();
    out.set_kind("unit");
    out.set_name(u.name());
    out.set_status(u.status().status());
    out.set_active(u.status().status() == veta::v1::VIGENTE &&
                   u.activity() == veta::v1::EXTRACTION);
    RETURN_IF_ERROR(add_unit(u));
  }
  if (out.kind().empty()) {
    return absl::NotFoundError(
        StrCat(id, " is no registered miner, party, selector or unit",
               visible > 0 ? StrCat(" as of entry ", visible - 1) : std::string()));
  }
  return out;
}

}  // namespace veta
