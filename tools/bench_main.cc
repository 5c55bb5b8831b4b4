// Microbenchmarks of the write and proof paths (Google Benchmark). Figures go in the issue
// notes; nothing here is a pass/fail test.
#include <benchmark/benchmark.h>
#include <google/protobuf/util/time_util.h>
#include <openssl/evp.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "core/base/strings.h"
#include "core/base/units.h"
#include "core/rules/geo.h"
#include "core/rules/registry.h"
#include "core/storage/rocks_store.h"
#include "core/storage/schema.h"
#include "core/storage/store.h"
#include "core/verify/envelope.h"
#include "core/verify/keys.h"
#include "core/verify/merkle.h"
#include "tests/support/payloads.h"

namespace {

using google::protobuf::util::TimeUtil;

std::string Message() { return veta::Pae(veta::kMemoType, std::string(120, 'm')); }

void BM_LeafHash(benchmark::State& state) {
  const std::string entry(static_cast<size_t>(state.range(0)), 'e');
  for (auto _ : state) benchmark::DoNotOptimize(veta::merkle::HashLeaf(entry));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * entry.size()));
}
BENCHMARK(BM_LeafHash)->Arg(64)->Arg(400);

void BM_Ed25519VerifyLibsodium(benchmark::State& state) {
  auto key = *veta::PrivateKey::Generate(veta::KeyAlgorithm::kEd25519);
  const std::string msg = Message(), sig = *key.Sign(msg);
  const veta::PublicKey& pub = key.public_key();
  for (auto _ : state) {
    if (!pub.Verify(msg, sig).ok()) state.SkipWithError("verify failed");
  }
}
BENCHMARK(BM_Ed25519VerifyLibsodium);

// The same verification through OpenSSL 3.0's EVP, with the parsed key reused: the
// alternative the issue asks to compare against.
void BM_Ed25519VerifyOpenSSL(benchmark::State& state) {
  auto key = *veta::PrivateKey::Generate(veta::KeyAlgorithm::kEd25519);
  const std::string msg = Message(), sig = *key.Sign(msg);
  const std::string& raw = key.public_key().ed25519_raw();
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  for (auto _ : state) {
    EVP_DigestVerifyInit_ex(ctx, nullptr, nullptr, nullptr, nullptr, pkey, nullptr);
    if (EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                         reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) != 1) {
      state.SkipWithError("verify failed");
    }
  }
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
}
BENCHMARK(BM_Ed25519VerifyOpenSSL);

void BM_EcdsaP256Verify(benchmark::State& state) {
  auto key = *veta::PrivateKey::Generate(veta::KeyAlgorithm::kEcdsaP256);
  const std::string msg = Message(), sig = *key.Sign(msg);
  for (auto _ : state) {
    if (!key.public_key().Verify(msg, sig).ok()) state.SkipWithError("verify failed");
  }
}
BENCHMARK(BM_EcdsaP256Verify);

void BM_Ed25519Sign(benchmark::State& state) {
  auto key = *veta::PrivateKey::Generate(veta::KeyAlgorithm::kEd25519);
  const std::string msg = Message();
  for (auto _ : state) benchmark::DoNotOptimize(key.Sign(msg));
}
BENCHMARK(BM_Ed25519Sign);

void BM_DecodeEnvelope(benchmark::State& state) {
  auto key = *veta::PrivateKey::Generate(veta::KeyAlgorithm::kEd25519);
  veta::v1::Memo memo;
  memo.set_text(std::string(120, 't'));
  const std::string bytes =
      veta::SignEnvelope(veta::kMemoType, memo.SerializeAsString(), {key})->SerializeAsString();
  for (auto _ : state) benchmark::DoNotOptimize(veta::DecodeEnvelope(bytes, {}));
}
BENCHMARK(BM_DecodeEnvelope);

// A RocksDB tree of `kLeaves` leaves, built once (not timed), as the ledger stores it.
constexpr uint64_t kLeaves = 1 << 20;  // 1,048,576

const veta::Store& TreeStore() {
  static const veta::Store* store = [] {
    const std::string dir = (std::filesystem::temp_directory_path() / "veta-bench-tree").string();
    std::filesystem::remove_all(dir);
    auto opened = veta::RocksStore::Open(dir, veta::RocksStore::Mode::kCreate);
    if (!opened.ok()) std::abort();
    veta::merkle::CompactTree tree;
    auto wb = (*opened)->NewBatch();
    for (uint64_t i = 0; i < kLeaves; ++i) {
      tree.Append(veta::merkle::HashLeaf(std::to_string(i)),
                  [&](uint32_t level, uint64_t index, const veta::Hash& h) {
                    wb->Put(veta::Family::kTree, veta::NodeKey(level, index), veta::AsBytes(h));
                  });
      if (wb->Count() > 100000) {
        if (!(*opened)->Write(*wb, false).ok()) std::abort();
        wb = (*opened)->NewBatch();
      }
    }
    if (!(*opened)->Write(*wb, false).ok() || !(*opened)->FlushAll().ok()) std::abort();
    return opened->release();
  }();
  return *store;
}

// A hostile registry record's cost on the verification pool (issue 9: a unit whose geometry is
// thousands of nested lists took 4-44 s in the sequencer). Arg: bytes of nesting, up to the
// 256 KiB envelope limit; and a MultiPolygon just past the polygon limit.
void BM_PrevalidateHostileGeometry(benchmark::State& state) {
  const size_t half = static_cast<size_t>(state.range(0)) / 2;
  veta::v1::RegistryRecord r;
  auto* u = r.mutable_unit();
  u->set_concession_code("UX");
  u->set_name("hostile");
  u->set_holder_ruc("20600000005");
  u->set_ubigeo("170101");
  u->set_activity(veta::v1::EXTRACTION);
  u->set_capacity_ore_g_per_day(1000000);  // 1 t/day
  u->mutable_status()->set_status(veta::v1::VIGENTE);
  u->set_geometry_geojson(std::string(half, '[') + std::string(half, ']'));
  for (auto _ : state) {
    veta::DecodedEnvelope d;
    d.kind = veta::PayloadKind::kRegistry;
    d.registry = r;
    veta::PrevalidateRecord(&d);
    if (d.record_status.ok()) state.SkipWithError("a hostile geometry was accepted");
  }
}
BENCHMARK(BM_PrevalidateHostileGeometry)->Arg(28000)->Arg(250000)->Unit(benchmark::kMicrosecond);

void BM_InclusionProof1M(benchmark::State& state) {
  const veta::StoreNodeReader reader(TreeStore());
  std::mt19937_64 rng(42);
  const uint64_t size = kLeaves - 12345;  // not a power of two: the right edge is folded
  for (auto _ : state) {
    auto proof = veta::merkle::InclusionProof(reader, rng() % size, size);
    if (!proof.ok()) state.SkipWithError("proof failed");
  }
}
BENCHMARK(BM_InclusionProof1M)->Unit(benchmark::kMicrosecond);

void BM_ConsistencyProof1M(benchmark::State& state) {
  const veta::StoreNodeReader reader(TreeStore());
  std::mt19937_64 rng(43);
  const uint64_t size = kLeaves - 12345;
  for (auto _ : state) {
    auto proof = veta::merkle::ConsistencyProof(reader, 1 + rng() % (size - 1), size);
    if (!proof.ok()) state.SkipWithError("proof failed");
  }
}
BENCHMARK(BM_ConsistencyProof1M)->Unit(benchmark::kMicrosecond);

// --- The origin rules: a unit of 1,000 vertices and 100 prohibited zones nearby ---

struct RulesWorld {
  std::unique_ptr<veta::Store> store;
  std::unique_ptr<veta::Registry> registry;
  veta::KeyRing keys;
  veta::DecodedEnvelope extraction, sale;
};

std::string Circle(double lon, double lat, double r, int n) {
  std::string out = "{\"type\":\"Polygon\",\"coordinates\":[[";
  for (int i = 0; i <= n; ++i) {
    const double a = 2 * M_PI * (i % n) / n;
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%s[%.7f,%.7f]", i ? "," : "", lon + r * std::cos(a),
                  lat + r * std::sin(a));
    out += buf;
  }
  return out + "]]}";
}

void Put(RulesWorld* w, veta::v1::RegistryRecord record, uint64_t seq) {
  veta::Verdict v;
  auto state = std::make_shared<veta::RecordState>();
  if (record.has_unit())
    state->geometry = std::make_shared<const veta::geo::Geometry>(
        *veta::geo::Geometry::FromGeoJson(record.unit().geometry_geojson()));
  if (record.has_zone())
    state->geometry = std::make_shared<const veta::geo::Geometry>(
        *veta::geo::Geometry::FromGeoJson(record.zone().geometry_geojson()));
  state->record = std::move(record);
  state->sequence = seq;
  v.effects.records.push_back(state);
  veta::Delta delta;
  auto wb = w->store->NewBatch();
  w->registry->Stage(v, seq, &delta, wb.get());
  if (!w->store->Write(*wb, false).ok()) std::abort();
  w->registry->Commit(std::move(delta), &w->keys);
}

RulesWorld& World() {
  static RulesWorld* world = [] {
    auto* w = new RulesWorld;
    const std::string dir = (std::filesystem::temp_directory_path() / "veta-bench-rules").string();
    std::filesystem::remove_all(dir);
    w->store = std::move(*veta::RocksStore::Open(dir, veta::RocksStore::Mode::kCreate));
    w->registry = std::make_unique<veta::Registry>(w->store.get());
    const double lon = -70.59, lat = -13.04;
    auto miner_key = *veta::PrivateKey::Generate(veta::KeyAlgorithm::kEd25519);
    auto plant_key = *veta::PrivateKey::Generate(veta::KeyAlgorithm::kEd25519);
    namespace pl = veta::payloads;
    const std::string miner = pl::Ruc("1045678901");
    const std::string plant = pl::Ruc("2061234567");
    // Records valid 2025-2030; the unit a polygon of 1,000 positions, installed for 350 t/day.
    Put(w, pl::Miner(miner, miner_key.public_key(), veta::v1::VIGENTE, veta::v1::SMALL), 1);
    Put(w, pl::PartyRecord(plant, veta::v1::PLANT, plant_key.public_key()), 2);
    veta::v1::RegistryRecord u =
        pl::Unit("CM-1", miner, lon, lat, 350 * veta::units::kGramsPerTonne);
    u.mutable_unit()->set_geometry_geojson(Circle(lon, lat, 0.02, 999));
    Put(w, u, 3);
    for (int i = 0; i < 100; ++i) {  // zones all around, within a degree, none over the point
      Put(w,
          pl::ZoneRecord(
              veta::StrCat("Z", i), veta::v1::PROHIBITED_INDIGENOUS_TERRITORY,
              Circle(lon + 0.05 + 0.01 * (i % 10), lat + 0.05 + 0.01 * (i / 10), 0.004, 63)),
          4 + static_cast<uint64_t>(i));
    }
    // 1,000 kg at 8 g/t.
    veta::v1::Extraction x =
        pl::ExtractionOf("LOT-1", miner, "CM-1", lon + 0.003, lat - 0.002, 1000000, 8000);
    *x.mutable_time() = TimeUtil::SecondsToTimestamp(1790000000);
    w->extraction = *veta::DecodeEnvelope(pl::Sign(veta::kExtractionType, x, {miner_key}), {});
    // Record the lot, so that a sale can be judged.
    veta::Delta delta;
    veta::Verdict v =
        w->registry->Evaluate(w->extraction, 200, 1790000000000000, w->keys, delta, false);
    if (!v.ok()) std::abort();
    auto wb = w->store->NewBatch();
    w->registry->Stage(v, 200, &delta, wb.get());
    if (!w->store->Write(*wb, false).ok()) std::abort();
    w->registry->Commit(std::move(delta), &w->keys);
    veta::v1::Sale s = pl::SaleOf("LOT-1", miner, plant, "P-1", 500000);  // 500 kg, S/ 10,000
    *s.mutable_time() = TimeUtil::SecondsToTimestamp(1790000100);
    w->sale = *veta::DecodeEnvelope(pl::Sign(veta::kSaleType, s, {miner_key, plant_key}), {});
    return w;
  }();
  return *world;
}

void BM_RulesExtraction(benchmark::State& state) {
  RulesWorld& w = World();
  veta::v1::Extraction x;
  veta::Delta delta;
  w.extraction.extraction.set_lot_id("LOT-NEW");  // a fresh lot id every time (a miss)
  for (auto _ : state) {
    veta::Verdict v =
        w.registry->Evaluate(w.extraction, 300, 1790000000000000, w.keys, delta, false);
    if (!v.ok()) state.SkipWithError(v.message.c_str());
  }
}
BENCHMARK(BM_RulesExtraction)->Unit(benchmark::kMicrosecond);

void BM_RulesSale(benchmark::State& state) {
  RulesWorld& w = World();
  veta::Delta delta;
  for (auto _ : state) {
    veta::Verdict v = w.registry->Evaluate(w.sale, 300, 1790000200000000, w.keys, delta, false);
    if (!v.ok()) state.SkipWithError(v.message.c_str());
  }
}
BENCHMARK(BM_RulesSale)->Unit(benchmark::kMicrosecond);

void BM_PointInPolygon1000(benchmark::State& state) {
  auto g = *veta::geo::Geometry::FromGeoJson(Circle(-70.59, -13.04, 0.02, 999));
  const veta::geo::Point p{-70.587, -13.042};
  for (auto _ : state) benchmark::DoNotOptimize(g.Contains(p));
}
BENCHMARK(BM_PointInPolygon1000);

}  // namespace

BENCHMARK_MAIN();
