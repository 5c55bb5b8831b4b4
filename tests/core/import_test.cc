// CSV parsing and the REINFO/REPCO/zones import plans: good rows become records, every bad
// row is reported with its line number and reason.
#include "core/read/import.h"

#include "core/base/csv.h"
#include "core/base/strings.h"
#include "tests/core/registry_fixture.h"

namespace veta {
namespace {

using testing::Ruc;

TEST(CsvTest, QuotesCommasAndLinesInsideFields) {
  auto rows = ParseCsv("a,b,c\r\n1,\"x, \"\"y\"\"\",\"two\nlines\"\n\n3,,\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[1].fields, (std::vector<std::string>{"1", "x, \"y\"", "two\nlines"}));
  EXPECT_EQ((*rows)[1].line, 2u);
  EXPECT_EQ((*rows)[2].line, 5u);  // after the blank line 4
  EXPECT_EQ((*rows)[2].fields, (std::vector<std::string>{"3", "", ""}));
}

TEST(CsvTest, MalformedQuotingNamesTheLine) {
  auto unterminated = ParseCsv("a,b\n1,\"open\n");
  EXPECT_EQ(unterminated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(unterminated.status().message()).find("line 2"), std::string::npos);
  auto stray = ParseCsv("a,b\n1,ab\"c\n");
  EXPECT_NE(std::string(stray.status().message()).find("line 2"), std::string::npos);
  EXPECT_FALSE(ParseCsv("a\n1\n2\n3\n", 2).ok());  // a bound on rows
}

// A CSV field in quotes, its quotes doubled (RFC 4180).
std::string CsvQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string Key() {
  auto key = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  return Base64Encode(key.public_key().spki_der());
}

std::string ReinfoRow(const std::string& ruc, const std::string& unit, const std::string& key,
                      const std::string& tpd = "10") {
  return StrCat(ruc, ",Minero ", ruc, ",ARTISANAL,II,VIGENTE,2025-01-01,,2025-01-01,2030-01-01,",
                key, ",", unit, ",Concesion ", unit, ",170101,",
                CsvQuote(testing::Square(-69.9, -12.6, 0.01)), ",EXTRACTION,", tpd, "\n");
}

constexpr char kReinfoHeader[] =
    "ruc,name,size_class,category,status,status_since,status_reason,valid_from,valid_until,"
    "public_key,concession_code,unit_name,ubigeo,geometry,activity,capacity_tpd\n";

TEST(ImportTest, ReinfoRowsBecomeMinersAndUnits) {
  const std::string key = Key();
  const std::string csv = StrCat(kReinfoHeader, ReinfoRow(Ruc("2060000001"), "U1", key),
                                 ReinfoRow(Ruc("2060000001"), "U2", key));  // same miner twice
  ImportPlan plan = PlanReinfoImport(csv);
  ASSERT_TRUE(plan.errors.empty()) << plan.errors[0].line << ": " << plan.errors[0].reason;
  EXPECT_EQ(plan.rows, 2u);
  ASSERT_EQ(plan.records.size(), 3u);  // the miner once, two units
  EXPECT_TRUE(plan.records[0].has_miner());
  EXPECT_EQ(plan.records[2].unit().concession_code(), "U2");
}

TEST(ImportTest, AllowedMinersAreKept) {
  const std::string key = Key();
  const std::string a = Ruc("1040000011"), b = Ruc("1040000012");
  std::string header = kReinfoHeader;
  header.pop_back();  // the newline
  std::string row = ReinfoRow(Ruc("2060000001"), "U1", key);
  row.pop_back();
  ImportPlan plan =
      PlanReinfoImport(StrCat(header, ",allowed_miners\n", row, ",", a, ";", b, "\n"));
  ASSERT_TRUE(plan.errors.empty()) << plan.errors[0].reason;
  ASSERT_EQ(plan.records.size(), 2u);
  const auto& allowed = plan.records[1].unit().allowed_miners();
  ASSERT_EQ(allowed.size(), 2);
  EXPECT_EQ(allowed[0], a);
  EXPECT_EQ(allowed[1], b);
}

// Rules v3: a unit sharing other units' ground names them with its share.
TEST(ImportTest, SharedConcessionsAreKept) {
  const std::string key = Key();
  std::string header = kReinfoHeader;
  header.pop_back();
  std::string row = ReinfoRow(Ruc("2060000001"), "U2", key);
  row.pop_back();
  ImportPlan plan = PlanReinfoImport(StrCat(header, ",shared\n", row, ",U1:500000;U0:250000\n"));
  ASSERT_TRUE(plan.errors.empty()) << plan.errors[0].reason;
  ASSERT_EQ(plan.records.size(), 2u);
  const auto& shared = plan.records[1].unit().shared();
  ASSERT_EQ(shared.size(), 2);
  EXPECT_EQ(shared[0].concession_code(), "U1");
  EXPECT_EQ(shared[0].share_ppm(), 500000);
  EXPECT_EQ(shared[1].concession_code(), "U0");
  EXPECT_EQ(shared[1].share_ppm(), 250000);
  plan = PlanReinfoImport(StrCat(header, ",shared\n", row, ",U1=half\n"));
  ASSERT_EQ(plan.errors.size(), 1u);
  EXPECT_NE(plan.errors[0].reason.find("shared 'U1=half' is not CONCESSION_CODE:share_ppm"),
            std::string::npos)
      << plan.errors[0].reason;
}

TEST(ImportTest, EveryBadRowIsReportedWithItsLine) {
  const std::string key = Key();
  std::string bad_ruc = Ruc("2060000001");
  bad_ruc.back() = bad_ruc.back() == '9' ? '0' : static_cast<char>(bad_ruc.back() + 1);
  std::string csv =
      StrCat(kReinfoHeader, "20600000019,Minero,HUGE,II,VIGENTE,,,2025-01-01,2030-01-01,", key,
             ",U1,C,170101,x,EXTRACTION,1\n",  // line 2: size class
             StrCat(bad_ruc, ",Minero,ARTISANAL,II,VIGENTE,,,2025-01-01,2030-01-01,", key,
                    ",U2,C,170101,x,EXTRACTION,1\n"),  // line 3: RUC
             StrCat(Ruc("2060000002"), ",M,ARTISANAL,II,VIGENTE,,,2025-01-01,", "2030-13-45,", key,
                    ",U3,C,170101,x,EXTRACTION,1\n"));  // date
  ImportPlan plan = PlanReinfoImport(csv);
  ASSERT_EQ(plan.errors.size(), 3u);
  EXPECT_EQ(plan.errors[0].line, 2u);
  EXPECT_NE(plan.errors[0].reason.find("size_class 'HUGE'"), std::string::npos);
  EXPECT_EQ(plan.errors[1].line, 3u);
  EXPECT_NE(plan.errors[1].reason.find("check digit"), std::string::npos) << plan.errors[1].reason;
  EXPECT_EQ(plan.errors[2].line, 4u);
  EXPECT_NE(plan.errors[2].reason.find("valid_until"), std::string::npos);

  ImportPlan missing = PlanReinfoImport("ruc,name\n");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_NE(missing.errors[0].reason.find("missing columns: size_class"), std::string::npos);
}

// What the ledger would refuse halfway through (a second version of a record, a key of two
// holders) is reported with the file's other errors, before anything is sent.
TEST(ImportTest, ARecordTwiceOrAKeyOfTwoHoldersIsReported) {
  const std::string key = Key();
  ImportPlan plan = PlanReinfoImport(StrCat(kReinfoHeader, ReinfoRow(Ruc("2060000001"), "U1", key),
                                            ReinfoRow(Ruc("2060000002"), "U1", Key()),
                                            ReinfoRow(Ruc("2060000003"), "U3", key)));
  ASSERT_EQ(plan.errors.size(), 2u);
  EXPECT_EQ(plan.errors[0].line, 3u);
  EXPECT_EQ(plan.errors[0].reason, "unit U1 is also on line 2: one row per record");
  EXPECT_EQ(plan.errors[1].line, 4u);
  EXPECT_NE(plan.errors[1].reason.find(StrCat("is also miner ", Ruc("2060000001"))),
            std::string::npos)
      << plan.errors[1].reason;
}

TEST(ImportTest, RepcoAndArtisanalCapacity) {
  const std::string key = Key();
  ImportPlan plan = PlanRepcoImport(
      StrCat("ruc,name,kind,status,status_since,status_reason,valid_from,valid_until,public_key,"
             "processing_capacity_tpd\n",
             Ruc("2070000003"), ",Planta,PLANT,VIGENTE,,,2025-01-01,2030-01-01,", key, ",120\n",
             Ruc("2070000004"), ",Planta sin capacidad,PLANT,VIGENTE,,,2025-01-01,2030-01-01,", key,
             ",\n"));
  ASSERT_EQ(plan.errors.size(), 1u);
  EXPECT_EQ(plan.errors[0].line, 3u);
  EXPECT_NE(plan.errors[0].reason.find("processing capacity"), std::string::npos);
  EXPECT_EQ(plan.records.size(), 1u);
}

// The headers of MINEM's REINFO and SUNAT's REPCO lists (Spanish, capitals, accents, "N°"),
// in another order, with columns Veta does not read, and Spanish values and DD/MM/YYYY dates:
// the same records as Veta's own headers give.
TEST(ImportTest, PublishedListHeadersAreTakenAsVetasOwn) {
  const std::string key = Key(), ruc = Ruc("1045678901");
  const std::string geometry = CsvQuote(testing::Square(-69.9, -12.6, 0.01));
  ImportPlan own = PlanReinfoImport(StrCat(
      kReinfoHeader, ruc, ",Juana Mamani,ARTISANAL,II,SUSPENDIDO,2025-03-01,IGAFOM,2025-01-01,",
      "2030-01-01,", key, ",010012345,Concesion Huaypetue,170301,", geometry, ",EXTRACTION,20\n"));
  ASSERT_TRUE(own.errors.empty()) << own.errors[0].reason;
  const std::string published =
      StrCat("N°,Número RUC,MINERO INFORMAL,Código Único,Derecho Minero,DEPARTAMENTO,PROVINCIA,",
             "DISTRITO,Ubigeo,Estado,Fecha de Estado,Motivo,Tipo de Productor,Categoría,",
             "Actividad Minera,Capacidad Instalada (TMD),Fecha de Inscripción,",
             "Fecha de Vencimiento,Clave Pública,Geometría\n", "1,", ruc,
             ",Juana Mamani,010012345,Concesion Huaypetue,MADRE DE DIOS,MANU,",
             "HUEPETUHE,170301,suspendido,01/03/2025,IGAFOM,Productor Minero Artesanal,II,",
             "Explotación,20,01/01/2025,01/01/2030,", key, ",", geometry, "\n");
  ImportPlan plan = PlanReinfoImport(published);
  ASSERT_TRUE(plan.errors.empty()) << plan.errors[0].line << ": " << plan.errors[0].reason;
  ASSERT_EQ(plan.records.size(), own.records.size());
  for (size_t i = 0; i < plan.records.size(); ++i) {
    EXPECT_EQ(plan.records[i].SerializeAsString(), own.records[i].SerializeAsString()) << i;
  }
  EXPECT_EQ(plan.records[0].miner().status().status(), veta::v1::SUSPENDIDO);
  EXPECT_EQ(plan.records[1].unit().activity(), veta::v1::EXTRACTION);

  // REPCO: "Razón Social", "Tipo" = Planta de Beneficio, a capacity in TMD.
  ImportPlan repco = PlanRepcoImport(StrCat(
      "RUC,RAZÓN SOCIAL,TIPO,ESTADO,FECHA DE ESTADO,MOTIVO,FECHA DE INSCRIPCIÓN,",
      "FECHA DE VENCIMIENTO,CLAVE PÚBLICA,CAPACIDAD DE PROCESAMIENTO (TMD)\n", Ruc("2061234567"),
      ",Planta Huaypetue SAC,Planta de Beneficio,VIGENTE,,,02/01/2025,01/01/2030,", key, ",120\n",
      Ruc("2061234568"), ",Exportadora SAC,exportador,Vigente,,,02/01/2025,01/01/2030,", Key(),
      ",\n"));
  ASSERT_TRUE(repco.errors.empty()) << repco.errors[0].reason;
  ASSERT_EQ(repco.records.size(), 2u);
  EXPECT_EQ(repco.records[0].party().kind(), veta::v1::PLANT);
  EXPECT_EQ(repco.records[0].party().processing_capacity_ore_g_per_day(),
            120 * units::kGramsPerTonne);
  EXPECT_EQ(repco.records[1].party().kind(), veta::v1::EXPORTER);
  EXPECT_EQ(repco.records[1].party().status().status(), veta::v1::VIGENTE);
}

TEST(ImportTest, HeadersNormalizeAndTwoHeadersForOneColumnAreAnError) {
  EXPECT_EQ(NormalizeHeader("Código Único"), "codigo_unico");
  EXPECT_EQ(NormalizeHeader("\xEF\xBB\xBF"
                            "N° RUC"),
            "n_ruc");  // a byte order mark, "N°"
  EXPECT_EQ(NormalizeHeader("  CAPACIDAD INSTALADA (TMD) "), "capacidad_instalada_tmd");
  EXPECT_EQ(NormalizeHeader("Razón_Social"), "razon_social");
  ImportPlan plan = PlanRepcoImport("ruc,RUC,name\n");
  ASSERT_EQ(plan.errors.size(), 1u);
  EXPECT_EQ(plan.errors[0].reason, "columns 'ruc' and 'RUC' both mean ruc");
  EXPECT_TRUE(plan.records.empty());
  // A value no alias names is still an error naming it.
  ImportPlan bad = PlanRepcoImport(
      StrCat("ruc,nombre,tipo,estado,fecha_estado,motivo,valid_from,valid_until,clave_publica\n",
             Ruc("2061234567"), ",X,Minero,VIGENTE,,,2025-01-01,2030-01-01,", Key(), "\n"));
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_NE(bad.errors[0].reason.find("kind 'Minero'"), std::string::npos) << bad.errors[0].reason;
}

TEST(ImportTest, ZonesFromTheRealIndigenousTerritories) {
  auto text =
      ReadFile(StrCat(VETA_SHARED_DATA, "/peru_indigenous_territories_mining.geojson"), 8 << 20);
  ASSERT_TRUE(text.ok()) << text.status();
  ZoneImportOptions options;
  options.id_property = "id";
  options.name_property = "name_field";
  options.id_prefix = "IT-";
  options.legal_reference = "Ley 28736";
  ImportPlan plan = PlanZoneImport(*text, options);
  EXPECT_TRUE(plan.errors.empty());
  ASSERT_EQ(plan.records.size(), 21u);
  EXPECT_EQ(plan.records[0].zone().zone_id().rfind("IT-PE", 0), 0u);
  options.name_property = "no_such_property";
  EXPECT_EQ(PlanZoneImport(*text, options).errors.size(), 21u);
}

// Peru's districts as shipped, for rules v3 (a unit's ubigeo names a registered district):
// every district with a geometry becomes an ADMINISTRATIVE_DISTRICT zone whose id is its ubigeo;
// the 8 with none are skipped, not errors (else the file could not be imported at all).
TEST(ImportTest, DistrictsFromTheRealFile) {
  auto text = ReadFile(StrCat(VETA_SHARED_DATA, "/peru_districts.geojson"), 8 << 20);
  ASSERT_TRUE(text.ok()) << text.status();
  ZoneImportOptions options;
  options.kind = veta::v1::ADMINISTRATIVE_DISTRICT;
  options.id_property = "IDDIST";
  options.name_property = "NOMBDIST";
  ImportPlan plan = PlanZoneImport(*text, options);
  EXPECT_TRUE(plan.errors.empty()) << plan.errors[0].reason;
  EXPECT_EQ(plan.rows, 1834u);
  EXPECT_EQ(plan.skipped.size(), 8u);
  ASSERT_EQ(plan.records.size(), 1826u);
  bool tambopata = false;
  for (const auto& r : plan.records) {
    EXPECT_EQ(r.zone().kind(), veta::v1::ADMINISTRATIVE_DISTRICT);
    tambopata = tambopata || (r.zone().zone_id() == "170101" && r.zone().name() == "TAMBOPATA");
  }
  EXPECT_TRUE(tambopata);
  // Other zone kinds still refuse a feature with no geometry.
  options.kind = veta::v1::PROHIBITED_PROTECTED_AREA;
  EXPECT_EQ(PlanZoneImport(*text, options).errors.size(), 8u);
}

}  // namespace
}  // namespace veta
