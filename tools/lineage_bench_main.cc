// veta-lineage-bench: the custody read path at scale, on a real ledger (RocksDB in a
// temporary folder, every entry signed and judged by the rules).
//
// 1. Fills the ledger with --entries entries: one large ore lot, then sales of a few grams of
//    it each to a trader (every sale is a new lot: the state holds ~N lots), timing the
//    pre-purchase check of one more sale from that lot as the number of earlier sales grows:
//    the remaining-mass check is one read, whatever came before.
// 2. Builds a gold lot with --upstream lots upstream over 6 levels: extractions at many units
//    -> sales to a trader -> sales to a plant -> processing in tens -> one blend -> a sale to
//    an exporter, and times its backward lineage (--queries runs): p50, p99, max.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>

#include <unistd.h>

#include "absl/synchronization/mutex.h"
#include "core/base/flags.h"
#include "core/base/strings.h"
#include "core/base/units.h"
#include "core/log/ledger.h"
#include "core/read/lineage.h"
#include "core/storage/rocks_store.h"
#include "core/verify/envelope.h"
#include "tests/support/payloads.h"

namespace {

using Clock = std::chrono::steady_clock;
using veta::StrCat;
namespace pl = veta::payloads;

std::string Ruc(uint64_t n) {
  char digits[16];
  std::snprintf(digits, sizeof(digits), "20%08llu", static_cast<unsigned long long>(n));
  return veta::payloads::Ruc(digits);
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Bench {
  std::unique_ptr<veta::Ledger> ledger;
  veta::PrivateKey registrar = *veta::PrivateKey::Generate(veta::KeyAlgorithm::kEd25519);
  uint64_t nonce = 0;

  std::string Envelope(std::string_view type, const google::protobuf::Message& m,
                       const std::vector<veta::PrivateKey>& keys) {
    return pl::Sign(type, m, keys);
  }

  void MustAccept(const std::string& envelope, std::string_view what) {
    veta::SubmitResult r = ledger->SubmitAndWait(envelope);
    if (!r.status.ok()) {
      std::fprintf(stderr, "veta-lineage-bench: %s refused: %s\n", std::string(what).c_str(),
                   std::string(r.status.message()).c_str());
      std::exit(1);
    }
  }

  // Submits many envelopes at once (group commit) and waits for all; exits on a refusal.
  void SubmitAll(std::vector<std::string> envelopes) {
    std::mutex mu;
    std::condition_variable cv;
    size_t done = 0;
    std::string error;
    const size_t n = envelopes.size();
    for (auto& e : envelopes) {
      ledger->Submit(std::move(e), [&](veta::SubmitResult r) {
        std::lock_guard lock(mu);
        if (!r.status.ok() && error.empty()) error = std::string(r.status.message());
        if (++done == n) cv.notify_all();
      });
    }
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done == n; });
    if (!error.empty()) {
      std::fprintf(stderr, "veta-lineage-bench: refused: %s\n", error.c_str());
      std::exit(1);
    }
  }

  // The builders of tests/support/payloads.h; records valid until 2035, units and the plant of
  // 350 t/day (the most a unit may be installed for: its miner is a small producer).
  static void ValidUntil2035(google::protobuf::Timestamp* until) {
    *until = pl::Time("2035-01-01T00:00:00Z");
  }

  veta::v1::RegistryRecord Party(const std::string& ruc, veta::v1::PartyKind kind,
                                 const veta::PrivateKey& key) {
    veta::v1::RegistryRecord r = pl::PartyRecord(ruc, kind, key.public_key());
    ValidUntil2035(r.mutable_party()->mutable_valid_until());
    if (kind == veta::v1::PLANT)
      r.mutable_party()->set_processing_capacity_ore_g_per_day(kUnitCapacity);
    return r;
  }

  // A miner (company RUC) with its own unit, a small square at (lon, lat).
  std::vector<veta::v1::RegistryRecord> MinerAndUnit(const std::string& ruc,
                                                     const std::string& unit, double lon,
                                                     double lat, const veta::PrivateKey& key) {
    veta::v1::RegistryRecord m =
        pl::Miner(ruc, key.public_key(), veta::v1::VIGENTE, veta::v1::SMALL);
    ValidUntil2035(m.mutable_miner()->mutable_valid_until());
    return {m, pl::Unit(unit, ruc, lon, lat, kUnitCapacity, 0.001)};
  }

  veta::v1::Sale Sale(const std::string& lot, const std::string& seller, const std::string& buyer,
                      const std::string& buyer_lot, int64_t ore_g) {
    return pl::SaleOf(lot, seller, buyer, buyer_lot, ore_g, ++nonce);
  }

  veta::v1::Extraction Extraction(const std::string& lot, const std::string& miner,
                                  const std::string& unit, double lon, double lat, int64_t kg) {
    return pl::ExtractionOf(lot, miner, unit, lon, lat, kg * 1000, 8000, ++nonce);  // 8 g/t
  }

  static constexpr int64_t kUnitCapacity = 350 * veta::units::kGramsPerTonne;
};

void Percentiles(const char* what, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[static_cast<size_t>(q * static_cast<double>(ms.size() - 1))];
  };
  std::printf("%s: n=%zu p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", what, ms.size(), at(0.5),
              at(0.99), ms.back());
}

// Times the backward lineage of lot ROOT over the first `as_of` entries.
int TimeLineage(const veta::Reader& store, uint64_t as_of, uint64_t queries) {
  veta::LineageQuery q;
  q.id = "ROOT";
  q.as_of = as_of;
  q.page_nodes = veta::kLineagePageMax;
  std::vector<double> ms;
  size_t nodes = 0;
  for (uint64_t i = 0; i < queries; ++i) {
    const auto t0 = Clock::now();
    auto l = veta::QueryLineage(store, q);
    ms.push_back(Ms(Clock::now() - t0));
    if (!l.ok()) {
      std::fprintf(stderr, "lineage: %s\n", std::string(l.status().message()).c_str());
      return 1;
    }
    nodes = static_cast<size_t>(l->nodes_size());
  }
  std::printf("backward lineage of a gold lot: %zu lots over 6 levels, at %llu entries\n", nodes,
              static_cast<unsigned long long>(as_of));
  Percentiles("  lineage query", ms);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows as it happens
  // As veta-server: no lock-order checks on every absl::Mutex lock (Debian's debug abseil).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  uint64_t entries = 1000000, upstream = 1000, queries = 1000;
  std::string dir;
  veta::Flags flags(
      "veta-lineage-bench [--entries N] [--upstream N] [--queries N] [--dir DIR]",
      "Times the custody read path on a real ledger of N entries: the remaining-mass\n"
      "check of a sale as earlier sales of the lot accumulate, and the backward lineage\n"
      "of a gold lot with --upstream lots over 6 levels. Needs a few minutes and\n"
      "about 1 GB of disk at the default 1,000,000 entries.");
  flags.Uint("entries", &entries, "Entries to fill the ledger with.");
  flags.Uint("upstream", &upstream, "Lots upstream of the gold lot whose lineage is timed.");
  flags.Uint("queries", &queries, "Lineage queries to time.");
  flags.String("dir", &dir, "Ledger folder (default: a new temporary one, removed at the end).");
  bool lineage_only = false, keep = false;
  flags.Bool("keep", &keep, "Keep the ledger folder (to time it again with --lineage-only).");
  flags.Bool("lineage-only", &lineage_only,
             "Only time the lineage, on the ledger a run with --dir DIR --keep left in DIR.");
  if (auto s = flags.Parse(argc, argv); !s.ok() || flags.help_requested()) {
    std::fputs(flags.Help().c_str(), s.ok() ? stdout : stderr);
    return s.ok() ? 0 : 2;
  }
  if (lineage_only) {
    auto store = veta::RocksStore::Open(veta::DatabasePath(dir), veta::RocksStore::Mode::kReadOnly);
    if (!store.ok()) {
      std::fprintf(stderr, "veta-lineage-bench: %s\n",
                   std::string(store.status().message()).c_str());
      return 1;
    }
    return TimeLineage(**store, *(*store)->EntryCount(), queries);
  }
  const bool temporary = dir.empty() || !keep;
  if (dir.empty())
    dir =
        (std::filesystem::temp_directory_path() / StrCat("veta-lineage-bench-", getpid())).string();
  const auto authority = *veta::PrivateKey::Generate(veta::KeyAlgorithm::kEd25519);
  if (auto s = veta::Ledger::Create(dir, "veta.bench/lineage", authority, "", false); !s.ok()) {
    std::fprintf(stderr, "veta-lineage-bench: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  Bench b;
  veta::LedgerOptions options;
  options.data_dir = dir;
  b.ledger = std::move(*veta::Ledger::Open(options, authority));
  {
    b.MustAccept(
        b.Envelope(veta::kRegistryType,
                   pl::RegistrarRecord("DGFM", b.registrar.public_key(), "DGFM"), {authority}),
        "registrar");
  }
  const auto key = [](std::string_view) {
    return *veta::PrivateKey::Generate(veta::KeyAlgorithm::kEd25519);
  };
  const veta::PrivateKey trader = key("trader"), plant = key("plant"), exporter = key("exporter");
  const std::string trader_ruc = Ruc(1), plant_ruc = Ruc(2), exporter_ruc = Ruc(3);
  std::vector<std::string> setup;
  for (const auto& r :
       {b.Party(trader_ruc, veta::v1::TRADER, trader), b.Party(plant_ruc, veta::v1::PLANT, plant),
        b.Party(exporter_ruc, veta::v1::EXPORTER, exporter)}) {
    setup.push_back(b.Envelope(veta::kRegistryType, r, {b.registrar}));
  }
  // The lineage's leaves come from as many units as lots: one extraction each.
  const uint64_t leaves = std::max<uint64_t>(10, (upstream - 2) / 3 / 10 * 10);
  const uint64_t groups = leaves / 10;
  std::vector<veta::PrivateKey> miner_keys;
  for (uint64_t i = 0; i < leaves + 1; ++i) miner_keys.push_back(key("miner"));
  for (uint64_t i = 0; i < leaves + 1; ++i) {
    const double lon = -70.0 + static_cast<double>(i % 100) * 0.01;
    const double lat = -13.0 + static_cast<double>(i / 100) * 0.01;
    for (const auto& r : b.MinerAndUnit(Ruc(100 + i), StrCat("U", i), lon, lat, miner_keys[i])) {
      setup.push_back(b.Envelope(veta::kRegistryType, r, {b.registrar}));
    }
  }
  b.SubmitAll(std::move(setup));

  // 1. Fill: sales of 10 g of ore each from one large lot (unit U<leaves>).
  const double big_lon = -70.0 + static_cast<double>(leaves % 100) * 0.01;
  const double big_lat = -13.0 + static_cast<double>(leaves / 100) * 0.01;
  const std::string big_miner = Ruc(100 + leaves), big_unit = StrCat("U", leaves);
  b.MustAccept(b.Envelope(veta::kExtractionType,
                          b.Extraction("BIG", big_miner, big_unit, big_lon, big_lat, 300000),
                          {miner_keys[leaves]}),
               "the large extraction");
  const uint64_t fill = entries > b.ledger->size() + 2000 ? entries - b.ledger->size() - 2000 : 0;
  std::printf("filling %llu sales from one lot...\n", static_cast<unsigned long long>(fill));
  auto check_sale = [&]() {
    std::vector<double> ms;
    for (int i = 0; i < 200; ++i) {
      const std::string env = b.Envelope(
          veta::kSaleType, b.Sale("BIG", big_miner, trader_ruc, StrCat("CHK", i), 10), {trader});
      const auto t0 = Clock::now();
      veta::SubmitResult r = b.ledger->CheckAndWait(env);
      ms.push_back(Ms(Clock::now() - t0));
      if (!r.status.ok())
        std::fprintf(stderr, "check refused: %s\n", std::string(r.status.message()).c_str());
    }
    std::sort(ms.begin(), ms.end());
    return std::pair(ms[ms.size() / 2], ms[ms.size() * 99 / 100]);
  };
  const auto fill_start = Clock::now();
  uint64_t sold = 0;
  std::vector<std::pair<uint64_t, std::pair<double, double>>> checks;
  checks.emplace_back(0, check_sale());
  for (uint64_t next_report = 1000; sold < fill;) {
    const uint64_t chunk = std::min<uint64_t>(20000, fill - sold);
    std::vector<std::string> batch;
    batch.reserve(chunk);
    for (uint64_t i = 0; i < chunk; ++i) {
      batch.push_back(b.Envelope(veta::kSaleType,
                                 b.Sale("BIG", big_miner, trader_ruc, StrCat("F", sold + i), 10),
                                 {miner_keys[leaves], trader}));
    }
    b.SubmitAll(std::move(batch));
    sold += chunk;
    if (sold >= next_report || sold == fill) {
      checks.emplace_back(sold, check_sale());
      next_report *= 10;
    }
  }
  std::printf("filled in %.1f s; the ledger holds %llu entries\n",
              Ms(Clock::now() - fill_start) / 1000,
              static_cast<unsigned long long>(b.ledger->size()));
  for (const auto& [n, pq] : checks) {
    std::printf("sale check after %8llu earlier sales of the lot: p50 %.3f ms, p99 %.3f ms\n",
                static_cast<unsigned long long>(n), pq.first, pq.second);
  }

  // 2. The lineage: leaves extractions -> trader -> plant -> processing by tens -> blend -> sale.
  std::vector<std::string> level;
  for (uint64_t i = 0; i < leaves; ++i) {
    const double lon = -70.0 + static_cast<double>(i % 100) * 0.01;
    const double lat = -13.0 + static_cast<double>(i / 100) * 0.01;
    level.push_back(
        b.Envelope(veta::kExtractionType,
                   b.Extraction(StrCat("E", i), Ruc(100 + i), StrCat("U", i), lon, lat, 100),
                   {miner_keys[i]}));
  }
  b.SubmitAll(std::move(level));
  level.clear();
  for (uint64_t i = 0; i < leaves; ++i) {
    level.push_back(b.Envelope(
        veta::kSaleType, b.Sale(StrCat("E", i), Ruc(100 + i), trader_ruc, StrCat("T", i), 100000),
        {miner_keys[i], trader}));
  }
  b.SubmitAll(std::move(level));
  level.clear();
  for (uint64_t i = 0; i < leaves; ++i) {
    level.push_back(b.Envelope(
        veta::kSaleType, b.Sale(StrCat("T", i), trader_ruc, plant_ruc, StrCat("P", i), 100000),
        {trader, plant}));
  }
  b.SubmitAll(std::move(level));
  level.clear();
  for (uint64_t g = 0; g < groups; ++g) {
    std::vector<pl::ProcessingIn> inputs;
    for (uint64_t i = g * 10; i < g * 10 + 10; ++i) inputs.push_back({StrCat("P", i), 100000});
    // 1,000 kg at 8 g/t: 8 g of gold in the ore, 7.2 g fine out.
    level.push_back(b.Envelope(
        veta::kProcessingType,
        pl::ProcessingOf(plant_ruc, inputs, {{StrCat("G", g), 8000, 900000000}}, ++b.nonce),
        {plant}));
  }
  b.SubmitAll(std::move(level));
  {
    std::vector<pl::ProcessingIn> inputs;
    for (uint64_t g = 0; g < groups; ++g) inputs.push_back({StrCat("G", g), 0, 8000});
    const int64_t blend_mg = 7000 * static_cast<int64_t>(groups);
    b.MustAccept(
        b.Envelope(veta::kProcessingType,
                   pl::ProcessingOf(plant_ruc, inputs, {{"BLEND", blend_mg, 990000000}}, ++b.nonce),
                   {plant}),
        "the blend");
    b.MustAccept(
        b.Envelope(veta::kSaleType,
                   pl::GoldSaleOf("BLEND", plant_ruc, exporter_ruc, "ROOT", blend_mg, ++b.nonce),
                   {plant, exporter}),
        "the gold sale");
  }
  if (int rc = TimeLineage(b.ledger->store(), b.ledger->size(), queries); rc != 0) return rc;
  b.ledger->Close();
  b.ledger.reset();
  if (temporary) std::filesystem::remove_all(dir);
  return 0;
}
