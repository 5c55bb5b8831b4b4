// veta-demo: builds a realistic registry from Peru's real public geodata and plays the story
// a newcomer should see: a legal sale accepted, a sale of ore from an indigenous territory
// refused, an over-capacity extraction refused, an excluded miner refused, a twin unit refused,
// cash above Ley 28194's threshold refused and cash split under it flagged, the flagged sale's
// washing by its parties refused, the pre-purchase check, and the attempts log. Rules v3.
//
// Registry records are signed with keys derived from fixed seeds, so running the demo again
// re-submits identical records (refused as duplicates: nothing changes) and plays the story
// again with new lot ids.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "client/connection.h"
#include "client/records.h"
#include "core/base/flags.h"
#include "core/base/ids.h"
#include "core/base/strings.h"
#include "core/base/timestamp.h"
#include "core/base/units.h"
#include "core/rules/geo.h"
#include "core/verify/envelope.h"
#include "core/verify/keys.h"
#include "core/verify/sha256.h"
#include "tests/support/payloads.h"
#include "veta/v1/service.grpc.pb.h"

namespace {

using google::protobuf::util::TimeUtil;
using veta::StrCat;
namespace pl = veta::payloads;

constexpr double kUnitHalfSide = 0.004;             // degrees: units of about 0.9 x 0.9 km (~80 ha)
constexpr int64_t kReferenceCentsPerFineG = 46000;  // S/ 460 a gram of fine gold
constexpr int64_t kGradePpb = 9500;                 // 9.5 g/t: every lot of the story

veta::PrivateKey DemoKey(const std::string& who) {
  const veta::Hash seed = veta::Sha256Of("veta-demo/" + who);
  return *veta::PrivateKey::FromEd25519Seed(veta::AsBytes(seed));
}

class Demo {
 public:
  Demo(std::shared_ptr<grpc::Channel> channel, veta::PrivateKey authority)
      : stub_(veta::v1::Ledger::NewStub(channel)), authority_(std::move(authority)) {}

  // Submits one envelope; returns the answer (code 0: recorded).
  veta::v1::SubmitResponse Submit(std::string_view type, const google::protobuf::Message& payload,
                                  const std::vector<veta::PrivateKey>& keys) {
    veta::v1::SubmitRequest request;
    request.set_envelope(
        veta::SignEnvelope(type, payload.SerializeAsString(), keys)->SerializeAsString());
    veta::v1::SubmitResponse response;
    grpc::ClientContext ctx;
    grpc::Status s = stub_->Submit(&ctx, request, &response);
    if (!s.ok()) {
      response.set_code(s.error_code());
      response.set_message(s.error_message());
    }
    return response;
  }

  // Registry records by stream: duplicates of earlier runs are expected and fine.
  size_t Register(const std::vector<veta::v1::RegistryRecord>& records,
                  const veta::PrivateKey& key) {
    grpc::ClientContext ctx;
    // Each a new version of the record's current version (records of earlier runs stay).
    auto versioned = veta::client::AgainstCurrentVersions(stub_.get(), records);
    if (!versioned.ok()) {
      std::printf("  ! %s\n", std::string(versioned.status().message()).c_str());
      return 0;
    }
    auto stream = stub_->SubmitStream(&ctx);
    veta::v1::SubmitBatch batch;
    for (const auto& v : *versioned) {
      if (v.unchanged) continue;
      const auto& r = v.record;
      batch.add_envelopes(veta::SignEnvelope(veta::kRegistryType, r.SerializeAsString(), {key})
                              ->SerializeAsString());
      if (batch.envelopes_size() == 256) {
        stream->Write(batch);
        batch.Clear();
      }
    }
    if (batch.envelopes_size() > 0) stream->Write(batch);
    stream->WritesDone();
    size_t added = 0;
    veta::v1::SubmitBatchResponse response;
    while (stream->Read(&response)) {
      for (const auto& a : response.answers()) {
        if (a.code() == 0) {
          ++added;
        } else if (a.code() != static_cast<int>(grpc::StatusCode::ALREADY_EXISTS)) {
          std::printf("  ! refused: %s\n", a.message().c_str());
        }
      }
    }
    stream->Finish().IgnoreError();
    return added;
  }

  veta::v1::SubmitResponse Check(const google::protobuf::Message& sale,
                                 const veta::PrivateKey& buyer) {
    veta::v1::SubmitRequest request;
    request.set_envelope(veta::SignEnvelope(veta::kSaleType, sale.SerializeAsString(), {buyer})
                             ->SerializeAsString());
    veta::v1::SubmitResponse response;
    grpc::ClientContext ctx;
    stub_->Check(&ctx, request, &response).IgnoreError();
    return response;
  }

  veta::v1::Ledger::Stub* stub() { return stub_.get(); }
  const veta::PrivateKey& authority() const { return authority_; }

 private:
  std::unique_ptr<veta::v1::Ledger::Stub> stub_;
  veta::PrivateKey authority_;
};

void Say(const std::string& title) { std::printf("\n\033[1m== %s\033[0m\n", title.c_str()); }

void Show(const veta::v1::SubmitResponse& r, bool check = false) {
  if (r.code() == 0 && check) {
    std::printf("  would be ACCEPTED\n");
  } else if (r.code() == 0) {
    std::printf("  ACCEPTED as entry %llu\n", static_cast<unsigned long long>(r.sequence()));
    for (const auto& f : r.flags())
      std::printf("  RED FLAG %s: %s\n", veta::v1::RedFlag_Name(f.flag()).c_str(),
                  f.message().c_str());
  } else {
    std::printf("  REFUSED: %s\n", r.message().c_str());
  }
}

struct Site {
  veta::geo::Point point;
  std::string region;
  std::string ubigeo;
  std::string territory;  // the indigenous territory it lies in, if any
};

}  // namespace

int main(int argc, char** argv) {
  veta::client::ConnectionOptions connection;
  std::string authority_path, data = "data";
  uint64_t miners_max = 60;
  veta::Flags flags(
      "veta-demo --authority-key KEY.pem [--geodata DIR]",
      "Builds a registry from Peru's public geodata (gold-mining sites, districts,\n"
      "indigenous territories, satellite-detected mining scars) and plays a story of\n"
      "accepted, refused and flagged transactions. Safe to run again.");
  veta::client::AddConnectionFlags(flags, &connection);
  flags.String("authority-key", &authority_path, "The ledger's authority private key.");
  flags.String("geodata", &data, "Folder of the GeoJSON files (the repository's data/).");
  flags.Uint("miners", &miners_max, "How many miners and units to register.");
  std::string lots_file;
  flags.String("lots-file", &lots_file,
               "Write the story's exported gold lot and its flagged gold lot here (two lines).");
  if (auto s = flags.Parse(argc, argv);
      !s.ok() || flags.help_requested() || authority_path.empty()) {
    std::fputs(flags.Help().c_str(), s.ok() && flags.help_requested() ? stdout : stderr);
    return flags.help_requested() ? 0 : 2;
  }
  auto read = [&](const std::string& name) -> std::vector<veta::geo::Feature> {
    auto text = veta::ReadFile(data + "/" + name, 8 << 20);
    if (!text.ok()) {
      std::fprintf(stderr, "veta-demo: %s\n", std::string(text.status().message()).c_str());
      std::exit(1);
    }
    auto features = veta::geo::ParseFeatureCollection(*text);
    if (!features.ok()) {
      std::fprintf(stderr, "veta-demo: %s: %s\n", name.c_str(),
                   std::string(features.status().message()).c_str());
      std::exit(1);
    }
    return std::move(*features);
  };
  auto authority = veta::PrivateKey::FromPem(*veta::ReadFile(authority_path));
  if (!authority.ok()) {
    std::fprintf(stderr, "veta-demo: %s\n", std::string(authority.status().message()).c_str());
    return 1;
  }
  auto channel = veta::client::OpenChannel(connection);
  if (!channel.ok()) {
    std::fprintf(stderr, "veta-demo: %s\n", std::string(channel.status().message()).c_str());
    return channel.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  Demo demo(*channel, *authority);

  Say("Loading Peru's public geodata");
  const auto territories = read("peru_indigenous_territories_mining.geojson");
  const auto scars = read("peru_detected_mining_2025q4.geojson");
  const auto sites_raw = read("peru_gold_mining_sites.geojson");
  const auto districts = read("peru_districts.geojson");
  veta::geo::GeometryIndex territory_index, district_index;
  for (size_t i = 0; i < territories.size(); ++i) territory_index.Add(i, &*territories[i].geometry);
  for (size_t i = 0; i < districts.size(); ++i) {
    if (districts[i].geometry) district_index.Add(i, &*districts[i].geometry);
  }
  std::vector<Site> legal, inside;
  for (const auto& f : sites_raw) {
    if (!f.point) continue;
    Site s{*f.point, f.properties.count("Region") ? f.properties.at("Region") : "", "", ""};
    auto d = district_index.Containing(s.point);
    if (d.empty()) continue;
    s.ubigeo = districts[d[0]].properties.at("IDDIST");
    // A unit's square lies wholly in its ubigeo's district (rules v3 check that the district
    // holds the unit), and apart from the other units' (v3 refuses overlapping units).
    bool one_district = true;
    for (double dx : {-kUnitHalfSide, kUnitHalfSide}) {
      for (double dy : {-kUnitHalfSide, kUnitHalfSide}) {
        auto corner = district_index.Containing({s.point.lon + dx, s.point.lat + dy});
        one_district = one_district && corner.size() == 1 && corner[0] == d[0];
      }
    }
    if (!one_district) continue;
    bool apart = true;
    for (const auto* list : {&legal, &inside}) {
      for (const Site& o : *list) {
        apart = apart && (std::abs(o.point.lon - s.point.lon) > 3 * kUnitHalfSide ||
                          std::abs(o.point.lat - s.point.lat) > 3 * kUnitHalfSide);
      }
    }
    if (!apart) continue;
    auto t = territory_index.Containing(s.point);
    if (!t.empty()) {
      s.territory = territories[t[0]].properties.at("name_field");
      inside.push_back(s);
    } else {
      legal.push_back(s);
    }
  }
  std::printf(
      "  %zu known gold-mining sites: %zu in a district and outside indigenous "
      "territories, %zu inside one of %zu territories with mining\n",
      sites_raw.size(), legal.size(), inside.size(), territories.size());
  if (legal.size() < 4 || inside.empty()) {
    std::fprintf(stderr, "veta-demo: the geodata does not have the sites the story needs\n");
    return 1;
  }

  Say("The authority registers the formalization directorate (DGFM) as registrar");
  const veta::PrivateKey registrar = DemoKey("registrar/DGFM");
  {
    const auto r = pl::RegistrarRecord("DGFM", registrar.public_key(),
                                       "Direccion General de Formalizacion Minera (MINEM)");
    std::printf("  %zu new\n", demo.Register({r}, *authority));
  }

  Say("DGFM registers Peru's districts (INEI), and the parameters of rules version 3");
  {
    std::vector<veta::v1::RegistryRecord> zones;
    for (const auto& f : districts) {
      if (!f.geometry) continue;
      veta::v1::RegistryRecord r;
      auto* z = r.mutable_zone();
      z->set_kind(veta::v1::ADMINISTRATIVE_DISTRICT);
      auto property = [&](const char* name) {
        auto it = f.properties.find(name);
        return it == f.properties.end() ? std::string() : it->second;
      };
      if (property("IDDIST").empty()) continue;
      z->set_zone_id(property("IDDIST"));
      z->set_name(
          StrCat(property("NOMBDIST"), " (", property("NOMBPROV"), ", ", property("NOMBDEP"), ")"));
      z->set_legal_reference(StrCat("INEI ubigeo; ", property("DCTO"), " ", property("LEY")));
      z->set_geometry_geojson(f.geometry->ToGeoJson());
      z->set_in_force(true);
      zones.push_back(std::move(r));
    }
    std::printf("  %zu districts, %zu new\n", zones.size(), demo.Register(zones, registrar));
    // The rules of version 3 (registry.proto): a reference price of fine gold, and the
    // defaults (banking threshold S/ 2,000, late declarations after 72 h, price band 25-150%).
    veta::v1::RegistryRecord p = pl::ParametersRecord();
    auto* x = p.mutable_parameters();
    x->set_rules_version(3);
    x->set_reference_price_cents_per_fine_g(kReferenceCentsPerFineG);
    TimeUtil::FromString("2026-12-01T17:00:00Z", x->mutable_reference_price_date());
    x->set_reference_price_source("demo: gold at about US$ 4,200 an ounce, in soles");
    std::printf("  parameters: rules version 3, reference price %s a fine gram, %zu new\n",
                veta::units::Soles(kReferenceCentsPerFineG).c_str(), demo.Register({p}, registrar));
  }

  Say("DGFM registers zones: indigenous territories (prohibited) and detected mining scars");
  {
    std::vector<veta::v1::RegistryRecord> zones;
    for (const auto& t : territories) {
      veta::v1::RegistryRecord r;
      auto* z = r.mutable_zone();
      z->set_zone_id("IT-" + t.properties.at("id"));
      z->set_kind(veta::v1::PROHIBITED_INDIGENOUS_TERRITORY);
      z->set_name(t.properties.at("name_field"));
      z->set_legal_reference("Convenio 169 OIT; Ley 28736");
      z->set_geometry_geojson(t.geometry->ToGeoJson());
      z->set_in_force(true);
      zones.push_back(std::move(r));
    }
    for (size_t i = 0; i < scars.size(); ++i) {
      if (!scars[i].geometry) continue;
      veta::v1::RegistryRecord r;
      auto* z = r.mutable_zone();
      z->set_zone_id(StrCat("SCAR-2025Q4-", i));
      z->set_kind(veta::v1::DETECTED_MINING_SCAR);
      z->set_name(StrCat("Detected mining scar 2025Q4 #", i));
      z->set_legal_reference("Amazon Mining Watch, 2025 Q4");
      z->set_geometry_geojson(scars[i].geometry->ToGeoJson());
      z->set_in_force(true);
      zones.push_back(std::move(r));
    }
    std::printf("  %zu zones, %zu new\n", zones.size(), demo.Register(zones, registrar));
  }

  Say("DGFM registers REINFO miners with their units around real gold-mining sites");
  const auto now = veta::NowTimestamp();
  // Fixed dates, so that a second run signs byte-identical records (duplicates, skipped).
  google::protobuf::Timestamp from, until, excluded_since;
  TimeUtil::FromString("2025-01-01T05:00:00Z", &from);
  TimeUtil::FromString("2030-01-01T05:00:00Z", &until);
  TimeUtil::FromString("2026-03-01T05:00:00Z", &excluded_since);
  // The shared builders (tests/support/payloads.h), with the data's names and the fixed dates.
  auto miner = [&](const std::string& ruc, const veta::PrivateKey& key,
                   veta::v1::RegistryStatus status, const google::protobuf::Timestamp& since,
                   const std::string& name) {
    veta::v1::RegistryRecord r = pl::Miner(ruc, key.public_key(), status);
    auto* x = r.mutable_miner();
    x->set_name(name);
    *x->mutable_status()->mutable_since() = since;
    *x->mutable_valid_from() = from;
    *x->mutable_valid_until() = until;
    return r;
  };
  struct Miner {
    std::string ruc, unit;
    veta::PrivateKey key;
    Site site;
  };
  std::vector<Miner> miners;
  {
    std::vector<veta::v1::RegistryRecord> records;
    std::vector<Site> chosen(legal.begin(), legal.begin() + static_cast<long>(std::min<size_t>(
                                                                miners_max, legal.size())));
    chosen.push_back(inside.front());  // REINFO also lists units inside territories: the defect
    for (size_t i = 0; i < chosen.size(); ++i) {
      char digits[16];
      std::snprintf(digits, sizeof(digits), "10%08zu", 40000000 + i);
      Miner m{veta::RucWithCheckDigit(digits), StrCat("REINFO-", chosen[i].ubigeo, "-", i),
              DemoKey(StrCat("miner/", i)), chosen[i]};
      records.push_back(
          miner(m.ruc, m.key, veta::v1::VIGENTE, from,
                StrCat("Productor minero artesanal ", i + 1, " (", chosen[i].region, ")")));
      veta::v1::RegistryRecord u =
          pl::Unit(m.unit, m.ruc, chosen[i].point.lon, chosen[i].point.lat,
                   (i == 1 ? 5 : 25) * veta::units::kGramsPerTonne, kUnitHalfSide);
      u.mutable_unit()->set_name(StrCat("Concesion ", i + 1));
      u.mutable_unit()->set_ubigeo(chosen[i].ubigeo);
      records.push_back(u);
      miners.push_back(std::move(m));
    }
    std::printf("  %zu miners and units, %zu new records\n", miners.size(),
                demo.Register(records, registrar));
  }

  Say("DGFM registers a processing plant, a trader and an exporter (REPCO)");
  auto party = [&](const std::string& ruc, veta::v1::PartyKind kind, const std::string& name,
                   const veta::PrivateKey& key) {
    veta::v1::RegistryRecord r = pl::PartyRecord(ruc, kind, key.public_key());
    auto* p = r.mutable_party();
    p->set_name(name);
    *p->mutable_valid_from() = from;
    *p->mutable_valid_until() = until;
    if (kind == veta::v1::PLANT) {
      p->set_processing_capacity_ore_g_per_day(150 * veta::units::kGramsPerTonne);
    }
    return r;
  };
  const std::string plant_ruc = veta::RucWithCheckDigit("2060000017");
  const std::string trader_ruc = veta::RucWithCheckDigit("2060000025");
  const std::string exporter_ruc = veta::RucWithCheckDigit("2060000033");
  const veta::PrivateKey plant = DemoKey("plant"), trader = DemoKey("trader"),
                         exporter = DemoKey("exporter");
  std::printf(
      "  %zu new\n",
      demo.Register({party(plant_ruc, veta::v1::PLANT, "Planta de Beneficio Inambari SAC", plant),
                     party(trader_ruc, veta::v1::TRADER, "Comercializadora Tambopata SAC", trader),
                     party(exporter_ruc, veta::v1::EXPORTER, "Exportadora del Sur SAC", exporter)},
                    registrar));

  // Each run's lots are new: named by the run's start, to the microsecond (two runs may start
  // within a second).
  const std::string run = StrCat(now.seconds(), ".", now.nanos() / 1000);
  auto extraction = [&](const Miner& m, const std::string& lot, veta::geo::Point p, int64_t kg) {
    return pl::ExtractionOf(lot, m.ruc, m.unit, p.lon, p.lat, kg * 1000, kGradePpb);
  };
  // Ore at 90% of the reference price of the fine gold it holds, unless `soles` is given; a
  // payment through a bank names its operation number.
  int64_t operation = 0;
  auto sale = [&](const std::string& lot, const std::string& seller, const std::string& buyer,
                  const std::string& buyer_lot, int64_t kg, veta::v1::PaymentMethod payment,
                  int64_t soles = 0) {
    veta::v1::Sale s = pl::SaleOf(lot, seller, buyer, buyer_lot, kg * 1000);
    const int64_t fine_mg = kg * kGradePpb / 1000;  // kg x g/t = g; x 1000 mg / 1000 ppb
    s.set_price_cents(soles > 0 ? soles * 100 : fine_mg * kReferenceCentsPerFineG * 9 / 10 / 1000);
    s.set_payment(payment);
    if (payment != veta::v1::CASH) s.set_payment_reference(StrCat("OP-", run, "-", ++operation));
    return s;
  };

  const Miner& a = miners[0];
  Say(StrCat("1. A legal sale: miner ", a.ruc, " extracts at unit ", a.unit, " (", a.site.region,
             ", ubigeo ", a.site.ubigeo, ") and sells to the plant"));
  const std::string lot_a = StrCat("LOT-", run, "-A");
  Show(demo.Submit(veta::kExtractionType, extraction(a, lot_a, a.site.point, 1200), {a.key}));
  std::printf("  the plant checks before paying (pre-purchase check, nothing written):\n");
  Show(
      demo.Check(sale(lot_a, a.ruc, plant_ruc, lot_a + "-P", 1000, veta::v1::BANK_TRANSFER), plant),
      true);
  Show(demo.Submit(veta::kSaleType,
                   sale(lot_a, a.ruc, plant_ruc, lot_a + "-P", 1000, veta::v1::BANK_TRANSFER),
                   {a.key, plant}));

  const Miner& bad = miners.back();
  Say(StrCat("2. Ore from inside the indigenous territory '", bad.site.territory, "': unit ",
             bad.unit, " is registered, but the point is in a prohibited zone"));
  Show(demo.Submit(veta::kExtractionType,
                   extraction(bad, StrCat("LOT-", run, "-IT"), bad.site.point, 800), {bad.key}));

  const Miner& small = miners[1];
  Say(StrCat("3. Over capacity: unit ", small.unit,
             " is installed for 5 t/day; 6,000 kg declared"));
  Show(demo.Submit(veta::kExtractionType,
                   extraction(small, StrCat("LOT-", run, "-CAP"), small.site.point, 6000),
                   {small.key}));

  Say(StrCat("3b. A twin unit: DGFM registers, for miner ", miners[1].ruc,
             ", a second unit on exactly the ground of unit ", a.unit));
  {
    veta::v1::RegistryRecord twin =
        pl::Unit(StrCat("TWIN-", a.unit), miners[1].ruc, a.site.point.lon, a.site.point.lat,
                 25 * veta::units::kGramsPerTonne, kUnitHalfSide);
    twin.mutable_unit()->set_ubigeo(a.site.ubigeo);
    Show(demo.Submit(veta::kRegistryType, twin, {registrar}));
  }

  const Miner& excluded = miners[2];
  Say(StrCat("4. DGFM excludes miner ", excluded.ruc, "; then the miner tries to declare ore"));
  {
    veta::v1::RegistryRecord r =
        miner(excluded.ruc, excluded.key, veta::v1::EXCLUIDO, excluded_since,
              "Productor minero artesanal 3 (" + excluded.site.region + ")");
    r.mutable_miner()->mutable_status()->set_reason(
        "excluded from REINFO: no progress in formalization");
    demo.Register({r}, registrar);
  }
  Show(demo.Submit(veta::kExtractionType,
                   extraction(excluded, StrCat("LOT-", run, "-EX"), excluded.site.point, 300),
                   {excluded.key}));

  const Miner& c = miners[3];
  Say(StrCat("5. Cash: about S/ 7,900 in cash to miner ", c.ruc,
             " is refused (Ley 28194: above S/ 2,000 a payment goes through a bank)"));
  const std::string lot_c = StrCat("LOT-", run, "-C");
  Show(demo.Submit(veta::kExtractionType, extraction(c, lot_c, c.site.point, 2000), {c.key}));
  Show(demo.Submit(veta::kSaleType,
                   sale(lot_c, c.ruc, trader_ruc, lot_c + "-T", 2000, veta::v1::CASH),
                   {c.key, trader}));
  std::printf("  so the trader pays in three cash parts of 250 kg each, the same day:\n");
  uint64_t structured = 0;
  for (int i = 1; i <= 3; ++i) {
    const auto r =
        demo.Submit(veta::kSaleType,
                    sale(lot_c, c.ruc, trader_ruc, StrCat(lot_c, "-T", i), 250, veta::v1::CASH),
                    {c.key, trader});
    Show(r);
    if (r.code() == 0 && r.flags_size() > 0) structured = r.sequence();
  }
  Say("5b. Washing the flag: the two parties void the flagged sale, to declare it again clean");
  {
    veta::v1::Correction wash;
    wash.set_corrected_sequence(structured);
    wash.set_reason("declared in error; it was a bank transfer");
    *wash.mutable_time() = veta::NowTimestamp();
    wash.set_nonce(static_cast<uint64_t>(now.seconds()) * 1000000 +
                   static_cast<uint64_t>(now.nanos() / 1000));
    Show(demo.Submit(veta::kCorrectionType, wash, {c.key, trader}));
  }

  Say("6. An exporter may not buy ore straight from a miner");
  Show(demo.Submit(veta::kSaleType,
                   sale(lot_a, a.ruc, exporter_ruc, lot_a + "-E", 100, veta::v1::BANK_TRANSFER),
                   {a.key, exporter}));

  // A second legal unit, in another region when the data has one.
  const Miner* second = &miners[4];
  for (size_t i = 4; i + 1 < miners.size(); ++i) {
    if (miners[i].site.region != a.site.region) {
      second = &miners[i];
      break;
    }
  }
  const Miner& d = *second;
  Say(StrCat("7. The plant blends ore from two units (", a.site.region, ", ", d.site.region,
             ") into dore: the mass balance and the plant's capacity are checked"));
  const std::string lot_d = StrCat("LOT-", run, "-D");
  Show(demo.Submit(veta::kExtractionType, extraction(d, lot_d, d.site.point, 600), {d.key}));
  Show(demo.Submit(veta::kSaleType,
                   sale(lot_d, d.ruc, plant_ruc, lot_d + "-P", 600, veta::v1::BANK_TRANSFER),
                   {d.key, plant}));
  auto processing = [&](std::vector<std::pair<std::string, int64_t>> inputs, const std::string& out,
                        int64_t grams) {
    std::vector<pl::ProcessingIn> ore;
    for (const auto& [lot, kg] : inputs) ore.push_back({lot, kg * 1000});
    return pl::ProcessingOf(plant_ruc, ore,
                            {{out, grams * 1000, 900 * veta::units::kPpbPerPerMille}});
  };
  // 1,600 kg at 9.5 g/t hold 15.2 g of gold: at most 15.2 x 0.95 (+2%) = 14.73 g fine out.
  std::printf("  declaring 17 g of dore at 900 (15.3 g fine) from that ore:\n");
  Show(demo.Submit(veta::kProcessingType,
                   processing({{lot_a + "-P", 1000}, {lot_d + "-P", 600}}, lot_a + "-AU", 17),
                   {plant}));
  std::printf("  declaring 16 g of dore at 900 (14.4 g fine):\n");
  Show(demo.Submit(veta::kProcessingType,
                   processing({{lot_a + "-P", 1000}, {lot_d + "-P", 600}}, lot_a + "-AU", 16),
                   {plant}));
  Say("8. The plant sells the gold to the exporter, who exports it to Switzerland");
  // 16 g of dore at 900: 14.4 g fine, at 95% of the reference price.
  veta::v1::Sale gold = pl::GoldSaleOf(lot_a + "-AU", plant_ruc, exporter_ruc, lot_a + "-X", 16000);
  gold.set_price_cents(14400 * kReferenceCentsPerFineG * 95 / 100 / 1000);
  gold.set_payment_reference(StrCat("OP-", run, "-", ++operation));
  Show(demo.Submit(veta::kSaleType, gold, {plant, exporter}));
  {
    Show(demo.Submit(veta::kExportType,
                     pl::ExportOf(lot_a + "-X", exporter_ruc, "CH", StrCat("DAM-", run)),
                     {exporter}));
  }
  std::printf("  once exported, the lot cannot move again:\n");
  gold = pl::GoldSaleOf(lot_a + "-X", exporter_ruc, trader_ruc, lot_a + "-Y", 1000);
  gold.set_price_cents(400 * 100);
  Show(demo.Submit(veta::kSaleType, gold, {exporter, trader}));

  Say("9. The flagged ore (the structured cash sale) is processed too: its gold will get no "
      "certificate");
  Show(demo.Submit(
      veta::kSaleType,
      sale(lot_c + "-T3", trader_ruc, plant_ruc, lot_c + "-P", 250, veta::v1::BANK_TRANSFER),
      {trader, plant}));
  // 250 kg at 9.5 g/t hold 2.375 g: 2.2 g of dore at 900 is 1.98 g fine (83%).
  Show(demo.Submit(veta::kProcessingType,
                   pl::ProcessingOf(plant_ruc, {{lot_c + "-P", 250 * 1000}},
                                    {{lot_c + "-AU", 2200, 900 * veta::units::kPpbPerPerMille}}),
                   {plant}));
  if (!lots_file.empty()) {
    if (FILE* f = std::fopen(lots_file.c_str(), "w")) {
      std::fprintf(f, "%s-X\n%s-AU\n", lot_a.c_str(), lot_c.c_str());
      std::fclose(f);
    }
  }

  Say("The attempts log: every refusal, kept with its envelope, in its own hash chain");
  {
    veta::v1::ListAttemptsRequest request;
    request.set_limit(1000);
    veta::v1::ListAttemptsResponse response;
    grpc::ClientContext ctx;
    demo.stub()->ListAttempts(&ctx, request, &response).IgnoreError();
    const int n = response.attempts_size();
    for (int i = std::max(0, n - 4); i < n; ++i) {
      const auto& at = response.attempts(i);
      std::printf("  #%llu %-28s %s\n", static_cast<unsigned long long>(at.number()),
                  veta::v1::Refusal_Name(at.refusal()).c_str(), at.message().c_str());
    }
    std::printf(
        "  (%d attempts in all; `veta attempts --refusal POINT_IN_PROHIBITED_ZONE` filters)\n", n);
  }
  std::printf(
      "\nTry: veta records unit --department %s --limit 3; veta lot %s; veta flags; "
      "veta flags --codes\n",
      a.site.ubigeo.substr(0, 2).c_str(), lot_a.c_str());
  return 0;
}
