#include "core/read/import.h"

#include <google/protobuf/util/time_util.h>

#include <cctype>
#include <map>

#include "absl/strings/numbers.h"
#include "core/base/csv.h"
#include "core/base/strings.h"
#include "core/base/units.h"
#include "core/rules/geo.h"
#include "core/rules/registry.h"
#include "core/verify/keys.h"

namespace veta {
namespace {

constexpr size_t kRowsMax = 1000000;

// Column lookup by header name for one row.
class Row {
 public:
  Row(const std::map<std::string, size_t>& columns, const CsvRow& row)
      : columns_(columns), row_(row) {}
  std::string Get(const std::string& name) const {
    auto it = columns_.find(name);
    if (it == columns_.end() || it->second >= row_.fields.size()) return "";
    return row_.fields[it->second];
  }

 private:
  const std::map<std::string, size_t>& columns_;
  const CsvRow& row_;
};

// YYYY-MM-DD, or DD/MM/YYYY as Peru's published lists write dates.
bool ParseDate(const std::string& date, google::protobuf::Timestamp* out) {
  if (date.size() != 10) return false;
  std::string iso = date;
  if (date[2] == '/' && date[5] == '/') {
    iso = StrCat(date.substr(6, 4), "-", date.substr(3, 2), "-", date.substr(0, 2));
  }
  return google::protobuf::util::TimeUtil::FromString(iso + "T00:00:00Z", out);
}

// Parses the file; a malformed one is reported as the plan's only error.
bool ReadCsv(std::string_view csv, std::vector<CsvRow>* rows, ImportPlan* plan) {
  auto parsed = ParseCsv(csv, kRowsMax);
  if (!parsed.ok()) {
    plan->errors.push_back({0, std::string(parsed.status().message())});
    return false;
  }
  *rows = std::move(*parsed);
  return true;
}

// Parses the header, each name matched case- and accent-insensitively against the columns'
// names and aliases (ImportColumns); reports missing required columns, and two headers that
// mean the same column. Headers that match no column are ignored (published lists carry more).
bool Header(const std::vector<CsvRow>& rows, const std::vector<ImportColumn>& known,
            std::map<std::string, size_t>* columns, ImportPlan* plan) {
  if (rows.empty()) {
    plan->errors.push_back({1, "the file is empty: a header row is required"});
    return false;
  }
  std::map<std::string, std::string> by_alias;  // normalized header -> column
  for (const ImportColumn& c : known) {
    by_alias[NormalizeHeader(c.name)] = std::string(c.name);
    for (std::string_view a : c.aliases) by_alias[NormalizeHeader(a)] = std::string(c.name);
  }
  std::map<std::string, std::string> header_of;  // column -> the header that named it
  for (size_t i = 0; i < rows[0].fields.size(); ++i) {
    const std::string& header = rows[0].fields[i];
    auto it = by_alias.find(NormalizeHeader(header));
    if (it == by_alias.end()) continue;
    if (auto [was, fresh] = header_of.emplace(it->second, header); !fresh) {
      plan->errors.push_back({rows[0].line, StrCat("columns '", was->second, "' and '", header,
                                                   "' both mean ", it->second)});
      return false;
    }
    (*columns)[it->second] = i;
  }
  std::string missing;
  for (const ImportColumn& c : known) {
    if (c.required && columns->count(std::string(c.name)) == 0) {
      missing += StrCat(missing.empty() ? "" : ", ", c.name);
    }
  }
  if (!missing.empty()) {
    plan->errors.push_back(
        {rows[0].line, StrCat("missing columns: ", missing, " (`veta import --help` lists them)")});
    return false;
  }
  return true;
}

// Spanish values of published lists, and their abbreviations, as the enum names they mean.
const std::map<std::string, std::string>& ValueAliases() {
  static const auto* aliases = new std::map<std::string, std::string>{
      {"PMA", "ARTISANAL"},
      {"ARTESANAL", "ARTISANAL"},
      {"PRODUCTOR_MINERO_ARTESANAL", "ARTISANAL"},
      {"PPM", "SMALL"},
      {"PEQUENO_PRODUCTOR", "SMALL"},
      {"PEQUENO_PRODUCTOR_MINERO", "SMALL"},
      {"EXPLOTACION", "EXTRACTION"},
      {"EXTRACCION", "EXTRACTION"},
      {"BENEFICIO", "PROCESSING"},
      {"COMERCIALIZADOR", "TRADER"},
      {"COMERCIALIZACION", "TRADER"},
      {"ACOPIADOR", "TRADER"},
      {"PROCESADOR", "PLANT"},
      {"PLANTA", "PLANT"},
      {"PLANTA_DE_BENEFICIO", "PLANT"},
      {"EXPORTADOR", "EXPORTER"},
      {"ACTIVO", "VIGENTE"},
      {"SUSPENDIDA", "SUSPENDIDO"},
      {"EXCLUIDA", "EXCLUIDO"},
  };
  return *aliases;
}

// An enum value as typed in any case, with accents or spaces, or as a Spanish alias.
template <typename Enum>
bool ParseEnum(bool (*parse)(const std::string&, Enum*), const std::string& text, Enum* out) {
  std::string name = NormalizeHeader(text);
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (auto it = ValueAliases().find(name); it != ValueAliases().end()) name = it->second;
  return parse(name, out) && static_cast<int>(*out) != 0;
}

// Fills status, validity and key from the shared columns; returns the first problem.
std::string Standing(const Row& r, veta::v1::StatusInfo* status, google::protobuf::Timestamp* from,
                     google::protobuf::Timestamp* until, veta::v1::PublicKey* key) {
  veta::v1::RegistryStatus st;
  if (!ParseEnum(veta::v1::RegistryStatus_Parse, r.Get("status"), &st)) {
    return StrCat("status '", r.Get("status"), "' is not VIGENTE, SUSPENDIDO or EXCLUIDO");
  }
  status->set_status(st);
  status->set_reason(r.Get("status_reason"));
  if (!r.Get("status_since").empty() &&
      !ParseDate(r.Get("status_since"), status->mutable_since())) {
    return StrCat("status_since '", r.Get("status_since"), "' is not a YYYY-MM-DD date");
  }
  if (!ParseDate(r.Get("valid_from"), from)) {
    return StrCat("valid_from '", r.Get("valid_from"), "' is not a YYYY-MM-DD date");
  }
  if (!ParseDate(r.Get("valid_until"), until)) {
    return StrCat("valid_until '", r.Get("valid_until"), "' is not a YYYY-MM-DD date");
  }
  std::string der;
  if (!Base64Decode(r.Get("public_key"), &der)) {
    return "public_key is not base64 (of a SubjectPublicKeyInfo, as `veta keygen` prints)";
  }
  auto parsed = PublicKey::FromSpkiDer(der);
  if (!parsed.ok()) return StrCat("public_key: ", parsed.status().message());
  *key = parsed->ToProto();
  return "";
}

// Validates a record as the server will; false (and the reason, once per row) if it fails.
bool Check(const veta::v1::RegistryRecord& record, size_t line, ImportPlan* plan) {
  if (absl::Status s = ValidateRecord(record); !s.ok()) {
    plan->errors.push_back({line, std::string(s.message())});
    return false;
  }
  plan->records.push_back(record);
  plan->record_lines.push_back(line);
  return true;
}

// One row per record, one holder per key: what the ledger would refuse halfway through the
// import (RECORD_VERSION_STALE for a second version signed against the same current one,
// REGISTRY_KEY_TAKEN), reported with the file's other errors before anything is sent.
ImportPlan Finish(ImportPlan plan) {
  std::map<std::string, size_t> ids;                              // kind || id -> line
  std::map<std::string, std::pair<std::string, size_t>> holders;  // keyid -> (holder, line)
  for (size_t i = 0; i < plan.records.size(); ++i) {
    const auto [kind, id] = RecordKey(plan.records[i]);
    const size_t line = plan.record_lines[i];
    const std::string name = StrCat(RecordKindName(kind), " ", id);
    if (auto [it, fresh] = ids.emplace(name, line); !fresh) {
      plan.errors.push_back(
          {line, StrCat(name, " is also on line ", it->second, ": one row per record")});
    }
    for (const auto& k : RecordKeys(plan.records[i])) {
      auto [it, fresh] = holders.emplace(k.keyid(), std::make_pair(name, line));
      if (!fresh && it->second.first != name) {
        plan.errors.push_back(
            {line, StrCat("the public key of ", name, " is also ", it->second.first, "'s (line ",
                          it->second.second, "): a key identifies one holder")});
      }
    }
  }
  return plan;
}

}  // namespace

std::string NormalizeHeader(std::string_view text) {
  // UTF-8 Latin letters with accents (U+00C0-U+00FF, two bytes 0xC3 0x80-0xBF) as ASCII.
  static constexpr char kLatin1[] =
      "AAAAAAACEEEEIIII"   // C0-CF
      "DNOOOOO_OUUUUYTs"   // D0-DF
      "aaaaaaaceeeeiiii"   // E0-EF
      "dnooooo_ouuuuyty";  // F0-FF
  std::string out;
  bool gap = false;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == 0xC3 && i + 1 < text.size()) {
      const unsigned char next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0xBF) {
        c = static_cast<unsigned char>(kLatin1[next - 0x80]);
        ++i;
      }
    } else if (c >= 0x80) {  // a byte order mark, a degree sign (N°): dropped
      continue;
    }
    if (std::isalnum(c)) {
      if (gap && !out.empty()) out += '_';
      out += static_cast<char>(std::tolower(c));
      gap = false;
    } else {
      gap = true;
    }
  }
  return out;
}

const std::vector<ImportColumn>& ReinfoColumns() {
  static const auto* columns = new std::vector<ImportColumn>{
      {"ruc", true, "the miner's RUC (11 digits)", {"numero_ruc", "nro_ruc", "n_ruc"}},
      {"name",
       true,
       "the miner's name",
       {"nombre", "minero_informal", "nombre_o_razon_social", "razon_social", "nombre_razon_social",
        "nombre_del_minero"}},
      {"size_class",
       true,
       "ARTISANAL (PMA) or SMALL (PPM)",
       {"tamano", "estrato", "condicion_de_productor", "tipo_de_productor"}},
      {"category", true, "formalization category I, II, III or IV", {"categoria"}},
      {"status", true, "VIGENTE, SUSPENDIDO or EXCLUIDO", {"estado", "estado_reinfo", "situacion"}},
      {"status_since",
       true,
       "date of the status (YYYY-MM-DD or DD/MM/YYYY)",
       {"fecha_estado", "fecha_de_estado", "estado_desde", "fecha_de_suspension"}},
      {"status_reason",
       true,
       "why (may be empty)",
       {"motivo", "motivo_estado", "motivo_de_suspension", "observacion"}},
      {"valid_from",
       true,
       "registration valid from (date)",
       {"fecha_inscripcion", "fecha_de_inscripcion", "vigencia_desde", "fecha_inicio"}},
      {"valid_until",
       true,
       "registration valid until (date)",
       {"fecha_vencimiento", "fecha_de_vencimiento", "vigencia_hasta", "fecha_fin"}},
      {"public_key",
       true,
       "the miner's key: base64 SubjectPublicKeyInfo, as `veta keygen` prints",
       {"clave_publica", "llave_publica"}},
      {"concession_code",
       true,
       "the mining unit's code (the mining right's unique code in INGEMMET's cadaster)",
       {"codigo_unico", "codigo_derecho_minero", "codigo_de_derecho_minero", "codigou",
        "codigo_concesion", "codigo_unico_del_derecho_minero"}},
      {"unit_name",
       true,
       "the mining unit's (mining right's) name",
       {"derecho_minero", "nombre_derecho_minero", "nombre_del_derecho_minero", "concesion",
        "nombre_de_la_concesion"}},
      {"ubigeo", true, "the unit's district, 6 digits", {"cod_ubigeo", "codigo_ubigeo"}},
      {"geometry",
       true,
       "the unit's polygon: GeoJSON Polygon or MultiPolygon, WGS84",
       {"geometria", "poligono", "geojson"}},
      {"activity",
       true,
       "EXTRACTION (explotacion) or PROCESSING (beneficio)",
       {"actividad", "actividad_minera", "tipo_de_actividad"}},
      {"capacity_tpd",
       true,
       "installed capacity, tonnes of ore a day",
       {"capacidad_tmd", "capacidad_instalada", "capacidad_instalada_tmd", "tmd"}},
      {"allowed_miners",
       false,
       "RUCs allowed to work the unit, separated by ';'",
       {"mineros_autorizados"}},
      {"shared",
       false,
       "rules v3: units whose ground this one shares, CODE:share_ppm separated by ';'",
       {"compartida", "concesiones_compartidas"}},
  };
  return *columns;
}

const std::vector<ImportColumn>& RepcoColumns() {
  static const auto* columns = new std::vector<ImportColumn>{
      {"ruc", true, "the party's RUC (11 digits)", {"numero_ruc", "nro_ruc", "n_ruc"}},
      {"name",
       true,
       "the party's name",
       {"nombre", "razon_social", "nombre_o_razon_social", "nombre_razon_social"}},
      {"kind",
       true,
       "TRADER (comercializador), PLANT (procesador) or EXPORTER (exportador)",
       {"tipo", "actividad", "tipo_de_actividad", "tipo_de_operador", "condicion"}},
      {"status", true, "VIGENTE, SUSPENDIDO or EXCLUIDO", {"estado", "situacion"}},
      {"status_since",
       true,
       "date of the status (YYYY-MM-DD or DD/MM/YYYY)",
       {"fecha_estado", "fecha_de_estado", "estado_desde"}},
      {"status_reason", true, "why (may be empty)", {"motivo", "motivo_estado", "observacion"}},
      {"valid_from",
       true,
       "registration valid from (date)",
       {"fecha_inscripcion", "fecha_de_inscripcion", "vigencia_desde", "fecha_inicio"}},
      {"valid_until",
       true,
       "registration valid until (date)",
       {"fecha_vencimiento", "fecha_de_vencimiento", "vigencia_hasta", "fecha_fin"}},
      {"public_key",
       true,
       "the party's key: base64 SubjectPublicKeyInfo, as `veta keygen` prints",
       {"clave_publica", "llave_publica"}},
      {"processing_capacity_tpd",
       false,
       "plants: tonnes of ore processed a day",
       {"capacidad_de_procesamiento", "capacidad_de_procesamiento_tmd", "capacidad_tmd",
        "capacidad_instalada_tmd"}},
  };
  return *columns;
}

std::string DescribeColumns(const std::vector<ImportColumn>& columns) {
  std::string out;
  for (const ImportColumn& c : columns) {
    out += StrCat("  ", c.name, c.required ? "" : " (optional)", ": ", c.meaning, "\n");
    if (!c.aliases.empty()) {
      std::string names;
      for (std::string_view a : c.aliases) names += StrCat(names.empty() ? "" : ", ", a);
      out += StrCat("      also: ", names, "\n");
    }
  }
  return out;
}

ImportPlan PlanReinfoImport(std::string_view csv) {
  ImportPlan plan;
  std::vector<CsvRow> rows;
  std::map<std::string, size_t> columns;
  if (!ReadCsv(csv, &rows, &plan) || !Header(rows, ReinfoColumns(), &columns, &plan)) {
    return plan;
  }
  std::map<std::string, std::pair<std::string, size_t>> miners;  // ruc -> (bytes, line)
  for (size_t i = 1; i < rows.size(); ++i) {
    const CsvRow& csv_row = rows[i];
    const Row r(columns, csv_row);
    ++plan.rows;
    veta::v1::RegistryRecord miner_record;
    auto* m = miner_record.mutable_miner();
    m->set_ruc(r.Get("ruc"));
    m->set_name(r.Get("name"));
    m->set_person_type(r.Get("ruc").rfind("20", 0) == 0 ? veta::v1::COMPANY
                                                        : veta::v1::NATURAL_PERSON);
    veta::v1::SizeClass size;
    if (!ParseEnum(veta::v1::SizeClass_Parse, r.Get("size_class"), &size)) {
      plan.errors.push_back({csv_row.line, StrCat("size_class '", r.Get("size_class"),
                                                  "' is not ARTISANAL or SMALL")});
      continue;
    }
    m->set_size_class(size);
    veta::v1::FormalizationCategory category;
    if (!ParseEnum(veta::v1::FormalizationCategory_Parse,
                   "CATEGORY_" + NormalizeHeader(r.Get("category")), &category)) {
      plan.errors.push_back(
          {csv_row.line, StrCat("category '", r.Get("category"), "' is not I, II, III or IV")});
      continue;
    }
    m->set_category(category);
    if (std::string problem = Standing(r, m->mutable_status(), m->mutable_valid_from(),
                                       m->mutable_valid_until(), m->add_keys());
        !problem.empty()) {
      plan.errors.push_back({csv_row.line, problem});
      continue;
    }
    veta::v1::RegistryRecord unit_record;
    auto* u = unit_record.mutable_unit();
    u->set_concession_code(r.Get("concession_code"));
    u->set_name(r.Get("unit_name"));
    u->set_holder_ruc(r.Get("ruc"));
    u->set_ubigeo(r.Get("ubigeo"));
    u->set_geometry_geojson(r.Get("geometry"));
    veta::v1::UnitActivity activity;
    if (!ParseEnum(veta::v1::UnitActivity_Parse, r.Get("activity"), &activity)) {
      plan.errors.push_back({csv_row.line, StrCat("activity '", r.Get("activity"),
                                                  "' is not EXTRACTION or PROCESSING")});
      continue;
    }
    u->set_activity(activity);
    // Tonnes a day as typed (up to 6 decimals: grams), held in grams of ore a day.
    auto capacity = units::ParseDecimal(r.Get("capacity_tpd"), units::kTonneDigits, "capacity_tpd");
    if (!capacity.ok()) {
      plan.errors.push_back({csv_row.line, std::string(capacity.status().message())});
      continue;
    }
    u->set_capacity_ore_g_per_day(*capacity);
    if (size == veta::v1::ARTISANAL && *capacity > 25 * units::kGramsPerTonne) {
      plan.errors.push_back(
          {csv_row.line, StrCat("unit ", u->concession_code(), ": ", units::TonnesPerDay(*capacity),
                                " is above an artisanal producer's 25")});
      continue;
    }
    const std::string allowed_miners = r.Get("allowed_miners");  // Split's views point into it
    for (std::string_view allowed : Split(allowed_miners, ';')) {
      if (!allowed.empty()) u->add_allowed_miners(std::string(allowed));
    }
    // Rules v3: the units whose ground this one shares, "CODE:share_ppm" separated by ';'.
    const std::string shared = r.Get("shared");
    bool shared_ok = true;
    for (std::string_view item : Split(shared, ';')) {
      if (item.empty()) continue;
      const size_t colon = item.rfind(':');
      int64_t ppm = 0;
      if (colon == std::string_view::npos || colon == 0 ||
          !absl::SimpleAtoi(std::string(item.substr(colon + 1)), &ppm)) {
        plan.errors.push_back(
            {csv_row.line, StrCat("shared '", item, "' is not CONCESSION_CODE:share_ppm")});
        shared_ok = false;
        break;
      }
      auto* s = u->add_shared();
      s->set_concession_code(std::string(item.substr(0, colon)));
      s->set_share_ppm(ppm);
    }
    if (!shared_ok) continue;
    u->mutable_status()->set_status(veta::v1::VIGENTE);
    // A miner with several units appears on several rows, identically.
    const std::string bytes = miner_record.SerializeAsString();
    auto [it, fresh] = miners.emplace(m->ruc(), std::make_pair(bytes, csv_row.line));
    if (!fresh && it->second.first != bytes) {
      plan.errors.push_back(
          {csv_row.line, StrCat("miner ", m->ruc(), " differs from line ", it->second.second)});
      continue;
    }
    if (fresh && !Check(miner_record, csv_row.line, &plan)) continue;
    Check(unit_record, csv_row.line, &plan);
  }
  return Finish(std::move(plan));
}

ImportPlan PlanRepcoImport(std::string_view csv) {
  ImportPlan plan;
  std::vector<CsvRow> rows;
  std::map<std::string, size_t> columns;
  if (!ReadCsv(csv, &rows, &plan) || !Header(rows, RepcoColumns(), &columns, &plan)) {
    return plan;
  }
  for (size_t i = 1; i < rows.size(); ++i) {
    const CsvRow& csv_row = rows[i];
    const Row r(columns, csv_row);
    ++plan.rows;
    veta::v1::RegistryRecord record;
    auto* p = record.mutable_party();
    p->set_ruc(r.Get("ruc"));
    p->set_name(r.Get("name"));
    veta::v1::PartyKind kind;
    if (!ParseEnum(veta::v1::PartyKind_Parse, r.Get("kind"), &kind)) {
      plan.errors.push_back(
          {csv_row.line, StrCat("kind '", r.Get("kind"), "' is not TRADER, PLANT or EXPORTER")});
      continue;
    }
    p->set_kind(kind);
    if (!r.Get("processing_capacity_tpd").empty()) {
      auto capacity = units::ParseDecimal(r.Get("processing_capacity_tpd"), units::kTonneDigits,
                                          "processing_capacity_tpd");
      if (!capacity.ok()) {
        plan.errors.push_back({csv_row.line, std::string(capacity.status().message())});
        continue;
      }
      p->set_processing_capacity_ore_g_per_day(*capacity);
    }
    if (std::string problem = Standing(r, p->mutable_status(), p->mutable_valid_from(),
                                       p->mutable_valid_until(), p->add_keys());
        !problem.empty()) {
      plan.errors.push_back({csv_row.line, problem});
      continue;
    }
    Check(record, csv_row.line, &plan);
  }
  return Finish(std::move(plan));
}

ImportPlan PlanZoneImport(std::string_view geojson, const ZoneImportOptions& options) {
  ImportPlan plan;
  auto features = geo::ParseFeatureCollection(geojson);
  if (!features.ok()) {
    plan.errors.push_back({0, std::string(features.status().message())});
    return plan;
  }
  for (size_t i = 0; i < features->size(); ++i) {
    const geo::Feature& f = (*features)[i];
    ++plan.rows;
    if (!f.geometry && options.kind == veta::v1::ADMINISTRATIVE_DISTRICT) {
      plan.skipped.push_back({i + 1, "district with no geometry: skipped (no unit can lie in it)"});
      continue;
    }
    if (!f.geometry) {
      plan.errors.push_back({i + 1, "feature has no Polygon or MultiPolygon geometry"});
      continue;
    }
    auto id = f.properties.find(options.id_property);
    auto name = f.properties.find(options.name_property);
    if (id == f.properties.end() || name == f.properties.end()) {
      plan.errors.push_back({i + 1, StrCat("feature lacks the properties '", options.id_property,
                                           "' and '", options.name_property, "'")});
      continue;
    }
    veta::v1::RegistryRecord record;
    auto* z = record.mutable_zone();
    z->set_zone_id(options.id_prefix + id->second);
    z->set_kind(options.kind);
    z->set_name(name->second);
    z->set_legal_reference(options.legal_reference);
    z->set_geometry_geojson(f.geometry->ToGeoJson());
    z->set_in_force(true);
    Check(record, i + 1, &plan);
  }
  return Finish(std::move(plan));
}

}  // namespace veta
