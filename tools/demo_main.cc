// veta-demo: builds a realistic registry from Peru's real public geodata and plays the story
// a newcomer should see: a legal sale accepted, a sale of ore from an indigenous territory
// refused, an over-capacity extraction refused, an excluded miner refused, a twin unit refused,
// cash above Ley 28194's threshold refused and cash split under it flagged, the flagged sale's
// washing by its parties refused, the pre-purchase check, and the attempts log. Rules v3.
//
// Registry records are signed with keys derived from fixed seeds, so running the demo again
// re-submits identical records (refused as duplicates: nothing changes) and plays the story
// again with new lot ids.
//
// Told in Spanish (--lang en, VETA_LANG=en or an English locale: in English), for a trader or a
// regulator: parties by name and role, quantities in Peru's number format (see Grouped),
// departments by name, every refusal of the run with its plain explanation
// (core/read/explain.h). With --out-dir it leaves the story for the web app: the exported
// gold's certificate, its verification URL, and demo.json (lots, certificate, refusals).
// Bold titles only on a terminal, and never with NO_COLOR.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include "client/connection.h"
#include "client/json.h"
#include "client/records.h"
#include "core/base/flags.h"
#include "core/base/ids.h"
#include "core/base/strings.h"
#include "core/base/timestamp.h"
#include "core/base/units.h"
#include "core/read/explain.h"
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

// The story's language and whether titles are bold (a terminal, and no NO_COLOR).
veta::Lang lang = veta::Lang::kEs;
bool bold = false;

std::string_view T(std::string_view es, std::string_view en) {
  return lang == veta::Lang::kEs ? es : en;
}

// Peru's number format as SUNAT's invoices, the BCRP and most of the INEI write it: a comma
// between thousands, a point before decimals ("1,234.5"); English reads it the same way.
// Decimals are trimmed of trailing zeros: "15.2 g" of gold, not "15.200 g".
std::string Grouped(int64_t whole) {
  std::string digits = std::to_string(whole < 0 ? -whole : whole), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (whole < 0 ? "-" : "") + out;
}
std::string Decimal(int64_t value, int64_t scale) {
  std::string out = Grouped(value / scale);
  int64_t fraction = value % scale;
  if (fraction == 0) return out;
  std::string digits;
  for (int64_t s = scale / 10; s > 0; s /= 10) digits += static_cast<char>('0' + fraction / s % 10);
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  return StrCat(out, ".", digits);
}
std::string Kg(int64_t kg) { return StrCat(Grouped(kg), " kg"); }
std::string Grams(int64_t mg) { return StrCat(Decimal(mg, 1000), " g"); }
std::string Soles(int64_t cents) {
  return StrCat("S/ ", Grouped(cents / 100), ".", cents % 100 < 10 ? "0" : "", cents % 100);
}
std::string PaymentName(veta::v1::PaymentMethod p) {
  switch (p) {
    case veta::v1::CASH:
      return std::string(T("en efectivo", "in cash"));
    case veta::v1::BANK_TRANSFER:
      return std::string(T("por transferencia bancaria", "by bank transfer"));
    case veta::v1::CHECK:
      return std::string(T("con cheque", "by cheque"));
    default:
      return "";
  }
}

void Say(const std::string& title) {
  if (bold) {
    std::printf("\n\033[1m== %s\033[0m\n", title.c_str());
  } else {
    std::printf("\n== %s\n", title.c_str());
  }
}

// One answer, after `what` it was: recorded (with each red flag and what it means), or refused
// with its code, the server's message and the explanation.
void Show(const veta::v1::SubmitResponse& r, const std::string& what, bool check = false) {
  if (r.code() == 0 && check) {
    std::printf("  %s: %s\n", std::string(T("SE ACEPTARÍA", "would be ACCEPTED")).c_str(),
                what.c_str());
  } else if (r.code() == 0) {
    std::printf("  %s %llu: %s\n",
                std::string(T("REGISTRADO, entrada", "ACCEPTED as entry")).c_str(),
                static_cast<unsigned long long>(r.sequence()), what.c_str());
    for (const auto& f : r.flags()) {
      const std::string code = veta::v1::RedFlag_Name(f.flag());
      std::printf("  %s %s: %s\n%s", std::string(T("ALERTA", "RED FLAG")).c_str(), code.c_str(),
                  f.message().c_str(), veta::ExplainedText(code, lang, "    ").c_str());
    }
  } else {
    const std::string_view code =
        r.refusal().empty() ? veta::RefusalCodeOf(r.message()) : std::string_view(r.refusal());
    std::printf("  %s: %s\n    %s\n%s", std::string(T("RECHAZADO", "REFUSED")).c_str(),
                what.c_str(), r.message().c_str(), veta::ExplainedText(code, lang, "    ").c_str());
  }
}

// "Inambari" from "INAMBARI": district and province names as the INEI writes them, capitalized.
std::string Capitalized(std::string_view upper) {
  std::string out(upper);
  bool start = true;
  for (char& c : out) {
    if (start) {
      start = false;
    } else if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (c == ' ' || c == '-') start = true;
  }
  return out;
}

struct Site {
  veta::geo::Point point;
  std::string region;
  std::string ubigeo;
  std::string territory;  // the indigenous territory it lies in, if any
  std::string district, province;

  // "distrito de Inambari (Tambopata, Madre de Dios)"
  std::string Place() const {
    return StrCat(T("distrito de ", ""), district, T("", " district"), " (", province, ", ",
                  veta::DepartmentName(ubigeo), ")");
  }
};

// The veta CLI to name in hints: --veta, else the one built beside veta-demo (build/client/
// veta next to build/tools/veta-demo), else `veta` on PATH; "" when none is found.
std::string VetaCli(const std::string& flag) {
  if (!flag.empty()) return flag;
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    const auto beside = self.parent_path().parent_path() / "client" / "veta";
    if (std::filesystem::exists(beside, error)) return beside.string();
  }
  if (const char* path = std::getenv("PATH")) {
    for (std::string_view rest = path; !rest.empty();) {
      const size_t colon = rest.find(':');
      const auto dir = std::string(rest.substr(0, colon));
      rest = colon == std::string_view::npos ? "" : rest.substr(colon + 1);
      if (!dir.empty() && access((dir + "/veta").c_str(), X_OK) == 0) return "veta";
    }
  }
  return "";
}

// RFC 3986 percent-encoding of a query value (unreserved characters kept).
std::string UrlEncoded(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof(hex), "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  veta::client::ConnectionOptions connection;
  std::string authority_path, data = "data";
  uint64_t miners_max = 60;
  veta::Flags flags(
      "veta-demo --authority-key KEY.pem [--geodata DIR] [--lang es|en] [--out-dir DIR]",
      "Builds a registry from Peru's public geodata (gold-mining sites, districts,\n"
      "indigenous territories, satellite-detected mining scars) and plays a story of\n"
      "accepted, refused and flagged transactions, in Spanish unless English is asked for\n"
      "(--lang en, VETA_LANG=en or an English locale). Safe to run again.");
  veta::client::AddConnectionFlags(flags, &connection);
  flags.String("authority-key", &authority_path, "The ledger's authority private key.");
  flags.String("geodata", &data, "Folder of the GeoJSON files (the repository's data/).");
  flags.Uint("miners", &miners_max, "How many miners and units to register.");
  std::string lots_file, lang_flag, out_dir, web_url, veta_flag;
  flags.String("lots-file", &lots_file,
               "Write the story's exported gold lot and its flagged gold lot here (two lines).");
  flags.String("lang", &lang_flag,
               "es (español) or en (English). Default: VETA_LANG, else "
               "English for an en* locale, else Spanish.");
  flags.String("out-dir", &out_dir,
               "Leave the story here for the web app: certificado.json (the exported gold's "
               "certificate) and demo.json (lots, certificate, verification URL, refusals).");
  flags.String("web-url", &web_url,
               "The web app's base URL (e.g. http://127.0.0.1:8080/), for the certificate's "
               "verification URL.");
  flags.String("veta", &veta_flag,
               "The veta CLI to name in the hints (default: the one built beside veta-demo).");
  if (auto s = flags.Parse(argc, argv);
      !s.ok() || flags.help_requested() || authority_path.empty()) {
    std::fputs(flags.Help().c_str(), s.ok() && flags.help_requested() ? stdout : stderr);
    return flags.help_requested() ? 0 : 2;
  }
  {
    auto chosen = lang_flag.empty() ? veta::LangFromEnvironment() : veta::ParseLang(lang_flag);
    if (!chosen.ok()) {
      std::fprintf(stderr, "veta-demo: %s\n", std::string(chosen.status().message()).c_str());
      return 2;
    }
    lang = *chosen;
    const char* no_color = std::getenv("NO_COLOR");
    bold = isatty(STDOUT_FILENO) && (no_color == nullptr || *no_color == '\0');
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
  // Who is who, for the story's lines: a RUC's name and role.
  std::map<std::string, std::string> who;
  auto Who = [&](const std::string& ruc) {
    auto it = who.find(ruc);
    if (it != who.end()) return it->second;
    const bool digits = !ruc.empty() && std::all_of(ruc.begin(), ruc.end(),
                                                    [](char ch) { return ch >= '0' && ch <= '9'; });
    return digits ? StrCat("RUC ", ruc) : ruc;  // a unit's code, say
  };
  // The same, short: "Comercializadora Tambopata SAC (comercializador)".
  std::map<std::string, std::string> short_names;
  auto Name = [&](const std::string& ruc) {
    auto it = short_names.find(ruc);
    return it == short_names.end() ? Who(ruc) : it->second;
  };

  Say(std::string(
      T("Carga de los datos geográficos públicos del Perú", "Loading Peru's public geodata")));
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
    Site s{*f.point, f.properties.count("Region") ? f.properties.at("Region") : "", "", "", "", ""};
    auto d = district_index.Containing(s.point);
    if (d.empty()) continue;
    const auto& district = districts[d[0]].properties;
    s.ubigeo = district.at("IDDIST");
    s.district = Capitalized(district.count("NOMBDIST") ? district.at("NOMBDIST") : "");
    s.province = Capitalized(district.count("NOMBPROV") ? district.at("NOMBPROV") : "");
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
      "  %s\n",
      StrCat(Grouped(static_cast<int64_t>(sites_raw.size())),
             T(" sitios conocidos de minería de oro: ", " known gold-mining sites: "),
             Grouped(static_cast<int64_t>(legal.size())),
             T(" dentro de un distrito y fuera de territorios indígenas, ",
               " in a district and outside indigenous territories, "),
             inside.size(), T(" dentro de uno de los ", " inside one of "), territories.size(),
             T(" territorios indígenas con minería", " indigenous territories with mining"))
          .c_str());
  if (legal.size() < 4 || inside.empty()) {
    std::fprintf(stderr, "veta-demo: the geodata does not have the sites the story needs\n");
    return 1;
  }

  Say(
      std::string(T("La autoridad registra como registrador a la Dirección General de "
                    "Formalización Minera (DGFM)",
                    "The authority registers the formalization directorate (DGFM) as registrar")));
  const veta::PrivateKey registrar = DemoKey("registrar/DGFM");
  {
    const auto r = pl::RegistrarRecord("DGFM", registrar.public_key(),
                                       "Direccion General de Formalizacion Minera (MINEM)");
    std::printf("  %zu %s\n", demo.Register({r}, *authority),
                std::string(T("nuevo", "new")).c_str());
  }

  Say(
      std::string(T("La DGFM registra los distritos del Perú (INEI) y los parámetros de las "
                    "reglas, versión 3",
                    "DGFM registers Peru's districts (INEI), and the parameters of rules "
                    "version 3")));
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
    const size_t added = demo.Register(zones, registrar);
    std::printf("  %s\n", StrCat(Grouped(static_cast<int64_t>(zones.size())),
                                 T(" distritos, ", " districts, "),
                                 Grouped(static_cast<int64_t>(added)), T(" nuevos", " new"))
                              .c_str());
    // The rules of version 3 (registry.proto): a reference price of fine gold, and the
    // defaults (banking threshold S/ 2,000, late declarations after 72 h, price band 25-150%).
    veta::v1::RegistryRecord p = pl::ParametersRecord();
    auto* x = p.mutable_parameters();
    x->set_rules_version(3);
    x->set_reference_price_cents_per_fine_g(kReferenceCentsPerFineG);
    TimeUtil::FromString("2026-12-01T17:00:00Z", x->mutable_reference_price_date());
    x->set_reference_price_source("demo: gold at about US$ 4,200 an ounce, in soles");
    const size_t parameters = demo.Register({p}, registrar);
    std::printf("  %s\n", StrCat(T("parámetros: reglas versión 3, precio de referencia ",
                                   "parameters: rules version 3, reference price "),
                                 Soles(kReferenceCentsPerFineG),
                                 T(" el gramo de oro fino; ", " a gram of fine gold; "), parameters,
                                 T(" nuevo", " new"))
                              .c_str());
  }

  Say(
      std::string(T("La DGFM registra zonas: territorios indígenas (minería prohibida) y "
                    "cicatrices mineras detectadas por satélite",
                    "DGFM registers zones: indigenous territories (prohibited) and detected "
                    "mining scars")));
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
    const size_t added = demo.Register(zones, registrar);
    std::printf("  %s\n",
                StrCat(Grouped(static_cast<int64_t>(zones.size())), T(" zonas, ", " zones, "),
                       Grouped(static_cast<int64_t>(added)), T(" nuevas", " new"))
                    .c_str());
  }

  Say(
      std::string(T("La DGFM registra mineros del REINFO con sus unidades, alrededor de sitios "
                    "reales de minería de oro",
                    "DGFM registers REINFO miners with their units around real gold-mining "
                    "sites")));
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
    std::string ruc, unit, name, unit_name;
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
      Miner m{veta::RucWithCheckDigit(digits),
              StrCat("REINFO-", chosen[i].ubigeo, "-", i),
              StrCat("Productor minero artesanal ", i + 1, " (",
                     veta::DepartmentName(chosen[i].ubigeo), ")"),
              StrCat("Concesion ", i + 1),
              DemoKey(StrCat("miner/", i)),
              chosen[i]};
      records.push_back(miner(m.ruc, m.key, veta::v1::VIGENTE, from, m.name));
      veta::v1::RegistryRecord u =
          pl::Unit(m.unit, m.ruc, chosen[i].point.lon, chosen[i].point.lat,
                   (i == 1 ? 5 : 25) * veta::units::kGramsPerTonne, kUnitHalfSide);
      u.mutable_unit()->set_name(m.unit_name);
      u.mutable_unit()->set_ubigeo(chosen[i].ubigeo);
      records.push_back(u);
      who[m.ruc] = StrCat(m.name, ", ", T("minero del REINFO, RUC ", "REINFO miner, RUC "), m.ruc);
      short_names[m.ruc] = StrCat(m.name, T(", minero", ", miner"));
      miners.push_back(std::move(m));
    }
    const size_t added = demo.Register(records, registrar);
    std::printf("  %s\n",
                StrCat(miners.size(), T(" mineros y sus unidades, ", " miners and units, "), added,
                       T(" registros nuevos", " new records"))
                    .c_str());
  }

  Say(
      std::string(T("La DGFM registra una planta de beneficio, un comercializador y un "
                    "exportador (REPCO)",
                    "DGFM registers a processing plant, a trader and an exporter (REPCO)")));
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
  const std::string plant_name = "Planta de Beneficio Inambari SAC",
                    trader_name = "Comercializadora Tambopata SAC",
                    exporter_name = "Exportadora del Sur SAC";
  who[plant_ruc] =
      StrCat(plant_name, ", ", T("planta de beneficio, RUC ", "processing plant, RUC "), plant_ruc);
  who[trader_ruc] =
      StrCat(trader_name, ", ", T("comercializador, RUC ", "trader, RUC "), trader_ruc);
  who[exporter_ruc] =
      StrCat(exporter_name, ", ", T("exportador, RUC ", "exporter, RUC "), exporter_ruc);
  short_names[plant_ruc] = StrCat(plant_name, T(" (planta)", " (plant)"));
  short_names[trader_ruc] = StrCat(trader_name, T(" (comercializador)", " (trader)"));
  short_names[exporter_ruc] = StrCat(exporter_name, T(" (exportador)", " (exporter)"));
  {
    const size_t added =
        demo.Register({party(plant_ruc, veta::v1::PLANT, plant_name, plant),
                       party(trader_ruc, veta::v1::TRADER, trader_name, trader),
                       party(exporter_ruc, veta::v1::EXPORTER, exporter_name, exporter)},
                      registrar);
    std::printf("  %zu %s\n", added, std::string(T("nuevos", "new")).c_str());
  }
  std::printf("  %s\n",
              std::string(T("Los personajes de la historia:", "The story's parties:")).c_str());
  for (const std::string* ruc : std::initializer_list<const std::string*>{
           &miners[0].ruc, &miners[1].ruc, &miners[2].ruc, &miners[3].ruc, &plant_ruc, &trader_ruc,
           &exporter_ruc}) {
    std::printf("    %s\n", Who(*ruc).c_str());
  }

  // Where the story's attempts begin in the attempts log (earlier runs' stay before).
  uint64_t attempts_before = 0;
  {
    veta::v1::ListAttemptsRequest request;
    request.set_limit(1000);
    for (int page = 0; page < 1000; ++page) {
      veta::v1::ListAttemptsResponse response;
      grpc::ClientContext ctx;
      if (!demo.stub()->ListAttempts(&ctx, request, &response).ok()) break;
      for (const auto& at : response.attempts()) attempts_before = at.number() + 1;
      if (response.next_start() == 0) break;
      request.set_start(response.next_start());
    }
  }

  // Each run's lots are new: named by the run's start, to the microsecond (two runs may start
  // within a second).
  const std::string run = StrCat(now.seconds(), ".", now.nanos() / 1000);
  auto extraction = [&](const Miner& m, const std::string& lot, veta::geo::Point p, int64_t kg) {
    return pl::ExtractionOf(lot, m.ruc, m.unit, p.lon, p.lat, kg * 1000, kGradePpb);
  };
  // "extracción de 1,200 kg de mineral a 9.5 g/t (oro contenido en el mineral: 11.4 g) en ..."
  auto extraction_text = [&](const Miner& m, const std::string& lot, int64_t kg) {
    const int64_t gold_mg = kg * kGradePpb / 1000;  // kg x g/t = g; x 1000 mg / 1000 ppb
    return StrCat(T("extracción de ", "extraction of "), Kg(kg), T(" de mineral a ", " of ore at "),
                  Decimal(kGradePpb, 1000), " g/t (",
                  T("oro contenido en el mineral: ", "gold contained in the ore: "), Grams(gold_mg),
                  T(") por ", ") by "), m.name, T(" en la ", " at "), m.unit_name, ", ",
                  m.site.Place(), T(", lote ", ", lot "), lot);
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
  // "venta de 1,000 kg de mineral del lote X: A a B, S/ 3,933.00 por transferencia bancaria"
  auto sale_text = [&](const veta::v1::Sale& s) {
    const bool ore = s.quantity_ore_g() > 0;
    return StrCat(
        T("venta de ", "sale of "), ore ? Kg(s.quantity_ore_g() / 1000) : Grams(s.quantity_mg()),
        ore ? T(" de mineral", " of ore") : T(" de oro", " of gold"), T(" del lote ", " from lot "),
        s.lot_id(), ": ", Name(s.seller_id()), T(", a ", ", to "), Name(s.buyer_ruc()), ", ",
        Soles(s.price_cents()), " ", PaymentName(s.payment()));
  };

  const Miner& a = miners[0];
  Say(StrCat(T("1. Una venta legal: ", "1. A legal sale: "), a.name,
             T(" extrae en la ", " extracts at "), a.unit_name, " (", a.site.Place(),
             T(") y vende a la planta", ") and sells to the plant")));
  const std::string lot_a = StrCat("LOT-", run, "-A");
  Show(demo.Submit(veta::kExtractionType, extraction(a, lot_a, a.site.point, 1200), {a.key}),
       extraction_text(a, lot_a, 1200));
  std::printf("  %s\n", std::string(T("la planta consulta antes de pagar (consulta previa a la "
                                      "compra: no se registra nada):",
                                      "the plant checks before paying (pre-purchase check, "
                                      "nothing written):"))
                            .c_str());
  {
    const auto s = sale(lot_a, a.ruc, plant_ruc, lot_a + "-P", 1000, veta::v1::BANK_TRANSFER);
    Show(demo.Check(s, plant), sale_text(s), true);
  }
  {
    const auto s = sale(lot_a, a.ruc, plant_ruc, lot_a + "-P", 1000, veta::v1::BANK_TRANSFER);
    Show(demo.Submit(veta::kSaleType, s, {a.key, plant}), sale_text(s));
  }

  const Miner& bad = miners.back();
  Say(StrCat(T("2. Mineral de dentro del territorio indígena «",
               "2. Ore from inside the "
               "indigenous territory '"),
             bad.site.territory, T("»: la ", "': "), bad.unit_name,
             T(" está registrada, pero el punto está en una zona prohibida",
               " is registered, but the point is in a prohibited zone")));
  {
    const std::string lot = StrCat("LOT-", run, "-IT");
    Show(demo.Submit(veta::kExtractionType, extraction(bad, lot, bad.site.point, 800), {bad.key}),
         extraction_text(bad, lot, 800));
  }

  const Miner& small = miners[1];
  Say(StrCat(T("3. Sobre la capacidad: la ", "3. Over capacity: "), small.unit_name,
             T(" tiene capacidad instalada de 5 t por día; se declaran 6,000 kg",
               " is installed for 5 t a day; 6,000 kg declared")));
  {
    const std::string lot = StrCat("LOT-", run, "-CAP");
    Show(demo.Submit(veta::kExtractionType, extraction(small, lot, small.site.point, 6000),
                     {small.key}),
         extraction_text(small, lot, 6000));
  }

  Say(StrCat(
      T("3b. Una unidad gemela: la DGFM registra, para ", "3b. A twin unit: DGFM registers, for "),
      small.name,
      T(", una segunda unidad exactamente sobre el terreno de la ",
        ", a second unit on exactly the ground of "),
      a.unit_name));
  {
    veta::v1::RegistryRecord twin =
        pl::Unit(StrCat("TWIN-", a.unit), miners[1].ruc, a.site.point.lon, a.site.point.lat,
                 25 * veta::units::kGramsPerTonne, kUnitHalfSide);
    twin.mutable_unit()->set_ubigeo(a.site.ubigeo);
    Show(demo.Submit(veta::kRegistryType, twin, {registrar}),
         StrCat(T("registro de la unidad ", "registration of unit "),
                twin.unit().concession_code()));
  }

  const Miner& excluded = miners[2];
  Say(StrCat(T("4. La DGFM excluye del REINFO a ", "4. DGFM excludes "), excluded.name,
             T("; luego el minero intenta declarar mineral",
               " from REINFO; then the miner tries to declare ore")));
  {
    veta::v1::RegistryRecord r =
        miner(excluded.ruc, excluded.key, veta::v1::EXCLUIDO, excluded_since, excluded.name);
    r.mutable_miner()->mutable_status()->set_reason(
        "excluded from REINFO: no progress in formalization");
    demo.Register({r}, registrar);
  }
  {
    const std::string lot = StrCat("LOT-", run, "-EX");
    Show(demo.Submit(veta::kExtractionType, extraction(excluded, lot, excluded.site.point, 300),
                     {excluded.key}),
         extraction_text(excluded, lot, 300));
  }

  const Miner& c = miners[3];
  Say(StrCat(T("5. Efectivo: se rechaza pagar unos S/ 7,900 en efectivo a ",
               "5. Cash: about S/ 7,900 in cash to "),
             c.name,
             T(" (Ley 28194: desde S/ 2,000 se paga por el sistema financiero)",
               " is refused (Ley 28194: from S/ 2,000 a payment goes through a bank)")));
  const std::string lot_c = StrCat("LOT-", run, "-C");
  Show(demo.Submit(veta::kExtractionType, extraction(c, lot_c, c.site.point, 2000), {c.key}),
       extraction_text(c, lot_c, 2000));
  {
    const auto s = sale(lot_c, c.ruc, trader_ruc, lot_c + "-T", 2000, veta::v1::CASH);
    Show(demo.Submit(veta::kSaleType, s, {c.key, trader}), sale_text(s));
  }
  std::printf("  %s\n",
              std::string(T("entonces el comercializador paga en tres partes de 250 kg en "
                            "efectivo, el mismo día:",
                            "so the trader pays in three cash parts of 250 kg each, the same day:"))
                  .c_str());
  uint64_t structured = 0;
  for (int i = 1; i <= 3; ++i) {
    const auto s = sale(lot_c, c.ruc, trader_ruc, StrCat(lot_c, "-T", i), 250, veta::v1::CASH);
    const auto r = demo.Submit(veta::kSaleType, s, {c.key, trader});
    Show(r, sale_text(s));
    if (r.code() == 0 && r.flags_size() > 0) structured = r.sequence();
  }
  Say(
      std::string(T("5b. Lavar la alerta: las dos partes anulan la venta marcada, para "
                    "declararla de nuevo limpia",
                    "5b. Washing the flag: the two parties void the flagged sale, to declare it "
                    "again clean")));
  {
    veta::v1::Correction wash;
    wash.set_corrected_sequence(structured);
    wash.set_reason("declared in error; it was a bank transfer");
    *wash.mutable_time() = veta::NowTimestamp();
    wash.set_nonce(static_cast<uint64_t>(now.seconds()) * 1000000 +
                   static_cast<uint64_t>(now.nanos() / 1000));
    Show(demo.Submit(veta::kCorrectionType, wash, {c.key, trader}),
         StrCat(T("corrección que anula la entrada ", "correction voiding entry "), structured,
                T(", firmada por ", ", signed by "), c.name, T(" y ", " and "), trader_name));
  }

  Say(std::string(T("6. Un exportador no puede comprar mineral directamente a un minero",
                    "6. An exporter may not buy ore straight from a miner")));
  {
    const auto s = sale(lot_a, a.ruc, exporter_ruc, lot_a + "-E", 100, veta::v1::BANK_TRANSFER);
    Show(demo.Submit(veta::kSaleType, s, {a.key, exporter}), sale_text(s));
  }

  // A second legal unit, in another region when the data has one.
  const Miner* second = &miners[4];
  for (size_t i = 4; i + 1 < miners.size(); ++i) {
    if (miners[i].site.region != a.site.region) {
      second = &miners[i];
      break;
    }
  }
  const Miner& d = *second;
  Say(StrCat(T("7. La planta mezcla mineral de dos unidades (",
               "7. The plant blends ore from two units ("),
             veta::DepartmentName(a.site.ubigeo), ", ", veta::DepartmentName(d.site.ubigeo),
             T(") en doré: se verifican el balance de masa y la capacidad de la planta",
               ") into doré: the mass balance and the plant's capacity are checked")));
  const std::string lot_d = StrCat("LOT-", run, "-D");
  Show(demo.Submit(veta::kExtractionType, extraction(d, lot_d, d.site.point, 600), {d.key}),
       extraction_text(d, lot_d, 600));
  {
    const auto s = sale(lot_d, d.ruc, plant_ruc, lot_d + "-P", 600, veta::v1::BANK_TRANSFER);
    Show(demo.Submit(veta::kSaleType, s, {d.key, plant}), sale_text(s));
  }
  auto processing = [&](std::vector<std::pair<std::string, int64_t>> inputs, const std::string& out,
                        int64_t grams) {
    std::vector<pl::ProcessingIn> ore;
    for (const auto& [lot, kg] : inputs) ore.push_back({lot, kg * 1000});
    return pl::ProcessingOf(plant_ruc, ore,
                            {{out, grams * 1000, 900 * veta::units::kPpbPerPerMille}});
  };
  // 1,600 kg at 9.5 g/t hold 15.2 g of gold: at most 15.2 x 0.95 (+2%) = 14.73 g fine out.
  auto processing_text = [&](int64_t dore_g) {
    return StrCat(T("procesamiento: ", "processing: "), Kg(1600),
                  T(" de mineral (oro contenido: ", " of ore (gold contained: "), Grams(15200),
                  T(") en ", ") into "), Grams(dore_g * 1000),
                  T(" de doré de ley 900 (", " of doré at 900 ("), Grams(dore_g * 900),
                  T(" de oro fino), lote ", " fine gold), lot "), lot_a, "-AU");
  };
  Show(demo.Submit(veta::kProcessingType,
                   processing({{lot_a + "-P", 1000}, {lot_d + "-P", 600}}, lot_a + "-AU", 17),
                   {plant}),
       processing_text(17));
  Show(demo.Submit(veta::kProcessingType,
                   processing({{lot_a + "-P", 1000}, {lot_d + "-P", 600}}, lot_a + "-AU", 16),
                   {plant}),
       processing_text(16));
  Say(std::string(T("8. La planta vende el oro al exportador, que lo exporta a Suiza",
                    "8. The plant sells the gold to the exporter, who exports it to Switzerland")));
  // 16 g of dore at 900: 14.4 g fine, at 95% of the reference price.
  veta::v1::Sale gold = pl::GoldSaleOf(lot_a + "-AU", plant_ruc, exporter_ruc, lot_a + "-X", 16000);
  gold.set_price_cents(14400 * kReferenceCentsPerFineG * 95 / 100 / 1000);
  gold.set_payment_reference(StrCat("OP-", run, "-", ++operation));
  Show(demo.Submit(veta::kSaleType, gold, {plant, exporter}), sale_text(gold));
  Show(demo.Submit(veta::kExportType,
                   pl::ExportOf(lot_a + "-X", exporter_ruc, "CH", StrCat("DAM-", run)), {exporter}),
       StrCat(T("exportación a Suiza del lote ", "export to Switzerland of lot "), lot_a, "-X (",
              Grams(16000),
              T(" de doré), declaración aduanera DAM-", " of doré), customs declaration DAM-"),
              run));
  std::printf("  %s\n", std::string(T("una vez exportado, el lote no puede moverse otra vez:",
                                      "once exported, the lot cannot move again:"))
                            .c_str());
  gold = pl::GoldSaleOf(lot_a + "-X", exporter_ruc, trader_ruc, lot_a + "-Y", 1000);
  gold.set_price_cents(400 * 100);
  Show(demo.Submit(veta::kSaleType, gold, {exporter, trader}), sale_text(gold));

  Say(
      std::string(T("9. El mineral marcado (la venta en efectivo fraccionada) también se procesa: "
                    "su oro no recibirá certificado",
                    "9. The flagged ore (the structured cash sale) is processed too: its gold "
                    "will get no certificate")));
  {
    const auto s =
        sale(lot_c + "-T3", trader_ruc, plant_ruc, lot_c + "-P", 250, veta::v1::BANK_TRANSFER);
    Show(demo.Submit(veta::kSaleType, s, {trader, plant}), sale_text(s));
  }
  // 250 kg at 9.5 g/t hold 2.375 g: 2.2 g of dore at 900 is 1.98 g fine (83%).
  Show(demo.Submit(veta::kProcessingType,
                   pl::ProcessingOf(plant_ruc, {{lot_c + "-P", 250 * 1000}},
                                    {{lot_c + "-AU", 2200, 900 * veta::units::kPpbPerPerMille}}),
                   {plant}),
       StrCat(T("procesamiento: ", "processing: "), Kg(250),
              T(" de mineral (oro contenido: ", " of ore (gold contained: "), Grams(2375),
              T(") en ", ") into "), Grams(2200),
              T(" de doré de ley 900, lote ", " of doré at 900, lot "), lot_c, "-AU"));
  if (!lots_file.empty()) {
    if (FILE* f = std::fopen(lots_file.c_str(), "w")) {
      std::fprintf(f, "%s-X\n%s-AU\n", lot_a.c_str(), lot_c.c_str());
      std::fclose(f);
    }
  }

  // The certificates: the exported gold's, saved where the web app can open it; the flagged
  // gold's, refused. A lot newer than the latest checkpoint waits for the next one.
  Say(
      std::string(T("10. El certificado de «oro formal» del oro exportado; el oro de la venta "
                    "marcada no lo recibe",
                    "10. The \"oro formal\" certificate of the exported gold; the flagged sale's "
                    "gold gets none")));
  auto certificate = [&](const std::string& lot, veta::v1::Certificate* cert) {
    veta::v1::GetCertificateRequest request;
    request.set_lot_id(lot);
    for (int attempt = 0;; ++attempt) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      grpc::Status s = demo.stub()->GetCertificate(&ctx, request, cert);
      if (s.error_code() != grpc::StatusCode::UNAVAILABLE || attempt == 40) return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  };
  const std::string exported = lot_a + "-X", tainted = lot_c + "-AU";
  std::string certificate_path, verification_url;
  {
    veta::v1::Certificate cert;
    grpc::Status s = certificate(exported, &cert);
    if (!s.ok()) {
      std::printf("  %s %s: %s\n",
                  std::string(T("sin certificado para", "no certificate for")).c_str(),
                  exported.c_str(), s.error_message().c_str());
    } else {
      const std::string nota = veta::ToHex(veta::Sha256Of(cert.note()));
      const std::string fragment =
          StrCat("#/verificar?lote=", UrlEncoded(exported), "&nota=", nota);
      verification_url =
          web_url.empty() ? fragment : StrCat(web_url, web_url.back() == '/' ? "" : "/", fragment);
      std::printf("  %s\n", StrCat(T("certificado del lote ", "certificate of lot "), exported,
                                   " (", cert.entries_size(),
                                   T(" entradas, firmado en el checkpoint de tamaño ",
                                     " entries, signed at the checkpoint of size "),
                                   cert.checkpoint().tree_size(), ")")
                                .c_str());
      if (!out_dir.empty()) {
        auto json = veta::client::MessageToJson(cert);
        std::error_code error;
        std::filesystem::create_directories(out_dir, error);
        certificate_path =
            std::filesystem::absolute(std::filesystem::path(out_dir) / "certificado.json", error)
                .string();
        if (json.ok()) {
          if (FILE* f = std::fopen(certificate_path.c_str(), "w")) {
            std::fprintf(f, "%s\n", json->c_str());
            std::fclose(f);
          } else {
            certificate_path.clear();
          }
        }
        if (!certificate_path.empty()) {
          std::printf("  %s %s\n", std::string(T("guardado en", "saved to")).c_str(),
                      certificate_path.c_str());
        }
      }
      std::printf("  %s %s%s\n",
                  std::string(T("para verificarlo en la app web (Verificar oro):",
                                "to verify it in the web app (Verificar oro):"))
                      .c_str(),
                  verification_url.c_str(),
                  web_url.empty() ? std::string(T("  (tras la dirección de la app web)",
                                                  "  (after the web app's address)"))
                                        .c_str()
                                  : "");
    }
  }
  {
    veta::v1::Certificate cert;
    grpc::Status s = certificate(tainted, &cert);
    if (s.ok()) {
      std::printf("  %s %s\n",
                  std::string(T("¡certificado emitido para", "a certificate for")).c_str(),
                  tainted.c_str());
    } else {
      std::printf("  %s %s: %s\n",
                  std::string(T("SIN CERTIFICADO para el lote", "NO CERTIFICATE for lot")).c_str(),
                  tainted.c_str(), s.error_message().c_str());
      for (const auto& e : veta::FlagExplanations()) {
        if (s.error_message().find(std::string(e.code)) != std::string::npos) {
          std::fputs(veta::ExplainedText(e.code, lang, "    ").c_str(), stdout);
        }
      }
    }
  }

  // Every refusal of this run, each with its parties by name and what it means.
  Say(
      std::string(T("El registro de intentos: cada rechazo se guarda con su sobre firmado, en su "
                    "propia cadena de hashes",
                    "The attempts log: every refusal, kept with its envelope, in its own hash "
                    "chain")));
  std::vector<std::pair<uint64_t, std::string>> refusals;  // for demo.json
  uint64_t attempts_total = attempts_before;
  {
    veta::v1::ListAttemptsRequest request;
    request.set_start(attempts_before);
    request.set_limit(1000);
    for (int page = 0; page < 1000; ++page) {
      veta::v1::ListAttemptsResponse response;
      grpc::ClientContext ctx;
      if (!demo.stub()->ListAttempts(&ctx, request, &response).ok()) break;
      for (const auto& at : response.attempts()) {
        attempts_total = at.number() + 1;
        const std::string code = veta::v1::Refusal_Name(at.refusal());
        refusals.emplace_back(at.number(), code);
        std::string parties;
        for (const auto& p : at.parties()) parties += StrCat(parties.empty() ? "" : "; ", Who(p));
        const veta::Explanation* e = veta::Explain(at.refusal());
        std::printf("  #%llu [%s] %s\n", static_cast<unsigned long long>(at.number()), code.c_str(),
                    e == nullptr ? "" : std::string(e->Title(lang)).c_str());
        if (!parties.empty()) {
          std::printf("      %s%s\n", std::string(T("partes: ", "parties: ")).c_str(),
                      parties.c_str());
        }
      }
      if (response.next_start() == 0) break;
      request.set_start(response.next_start());
    }
    std::printf(
        "  %s\n",
        StrCat(refusals.size(), T(" rechazos en este recorrido; ", " refusals in this run; "),
               attempts_total,
               T(" intentos en total en el registro", " attempts in all in the log"))
            .c_str());
  }

  if (!out_dir.empty()) {
    std::string json = StrCat(
        "{\"lang\": ", veta::JsonQuote(lang == veta::Lang::kEs ? "es" : "en"),
        ",\n \"lots\": {\"extraction\": ", veta::JsonQuote(lot_a),
        ", \"sale\": ", veta::JsonQuote(lot_a + "-P"),
        ", \"gold\": ", veta::JsonQuote(lot_a + "-AU"),
        ", \"exported\": ", veta::JsonQuote(exported), ", \"flagged\": ", veta::JsonQuote(tainted),
        "},\n \"certificate\": ", veta::JsonQuote(certificate_path),
        ",\n \"verificationUrl\": ", veta::JsonQuote(verification_url), ",\n \"refusals\": [");
    for (size_t i = 0; i < refusals.size(); ++i) {
      json += StrCat(i == 0 ? "" : ", ", "{\"attempt\": ", refusals[i].first,
                     ", \"code\": ", veta::JsonQuote(refusals[i].second), "}");
    }
    json += "]}\n";
    std::error_code error;
    const std::string path =
        std::filesystem::absolute(std::filesystem::path(out_dir) / "demo.json", error).string();
    if (FILE* f = std::fopen(path.c_str(), "w")) {
      std::fputs(json.c_str(), f);
      std::fclose(f);
      std::printf(
          "\n%s %s\n",
          std::string(T("La historia, para la app web:", "The story, for the web app:")).c_str(),
          path.c_str());
    }
  }

  // The story's parties' keys (demo data only, derived from public seeds: never real keys),
  // so that the web app's desks can be tried as the plant, the trader or the exporter.
  if (!out_dir.empty()) {
    const std::filesystem::path dir = std::filesystem::path(out_dir) / "llaves";
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    int written = 0;
    for (const auto& [ruc, key] :
         {std::pair<std::string, const veta::PrivateKey*>{plant_ruc, &plant},
          {trader_ruc, &trader},
          {exporter_ruc, &exporter}}) {
      written +=
          veta::WriteFileAtomic((dir / StrCat(ruc, ".pem")).string(), key->ToPem(), 0600).ok();
    }
    std::printf("%s %s (%d)\n",
                std::string(T("Llaves de demostración de la planta, el comercializador y el "
                              "exportador (solo datos de demostración):",
                              "Demo keys of the plant, the trader and the exporter (demo data "
                              "only):"))
                    .c_str(),
                std::filesystem::absolute(dir, error).string().c_str(), written);
  }

  // Hints that work as printed: the CLI's full path and the server's address.
  const std::string veta_cli = VetaCli(veta_flag);
  const std::string cli = veta_cli.empty() ? "veta" : veta_cli;
  const std::string server = StrCat(" --server ", connection.server);
  const std::string department = a.site.ubigeo.substr(0, 2);
  std::printf("\n%s\n", std::string(T("Para seguir explorando:", "To explore further:")).c_str());
  std::printf("  %s records unit --department %s --limit 3%s   # %s %s\n", cli.c_str(),
              department.c_str(), server.c_str(), std::string(T("unidades de", "units of")).c_str(),
              std::string(veta::DepartmentName(department)).c_str());
  std::printf("  %s lineage %s%s   # %s\n", cli.c_str(), exported.c_str(), server.c_str(),
              std::string(T("de dónde viene el oro exportado", "where the exported gold came from"))
                  .c_str());
  std::printf("  %s attempts --refusal POINT_IN_PROHIBITED_ZONE%s\n", cli.c_str(), server.c_str());
  std::printf("  %s flags%s\n", cli.c_str(), server.c_str());
  std::printf("  %s explain CASH_STRUCTURING   # %s\n", cli.c_str(),
              std::string(T("qué significa un código", "what a code means")).c_str());
  if (veta_cli.empty()) {
    std::printf("  (%s)\n", std::string(T("veta no está en el PATH: use la ruta del binario "
                                          "compilado, p. ej. build-release/client/veta",
                                          "veta is not on PATH: use the built binary's path, "
                                          "e.g. build-release/client/veta"))
                                .c_str());
  }
  return 0;
}
