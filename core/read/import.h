// Bulk registration: REINFO and REPCO CSV files and GeoJSON zones become registry records.
// Every row is checked (the same ValidateRecord the server runs, one row per record, one
// holder per key) before anything is sent, so a file with a bad row is reported whole and
// imported not at all. Submitting the records is idempotent: each is signed as a new version
// of its current one, and a record already in the registry unchanged is skipped (veta import),
// so an interrupted import is resumed by running it again.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "veta/v1/registry.pb.h"

namespace veta {

struct ImportError {
  size_t line = 0;  // CSV line, or GeoJSON feature index + 1
  std::string reason;
};

struct ImportPlan {
  std::vector<veta::v1::RegistryRecord> records;
  std::vector<size_t> record_lines;  // the line of each record
  std::vector<ImportError> errors;
  // Rows left out, not in error: a district with no geometry (Peru's districts file has 8, a
  // district no unit can lie in).
  std::vector<ImportError> skipped;
  size_t rows = 0;
};

// A CSV column: its name, whether a file must have it, what it holds, and the other header
// names taken for it: the headers of MINEM's REINFO and SUNAT's REPCO published lists, in
// Spanish. Headers match case-, accent- and punctuation-insensitively (NormalizeHeader), and
// enum values too ("artesanal", "PMA" = ARTISANAL; "Explotación" = EXTRACTION; "Planta" =
// PLANT); dates are YYYY-MM-DD or DD/MM/YYYY. Other columns are ignored.
struct ImportColumn {
  std::string_view name;
  bool required;
  std::string_view meaning;
  std::vector<std::string_view> aliases;
};
const std::vector<ImportColumn>& ReinfoColumns();
const std::vector<ImportColumn>& RepcoColumns();
// The columns as `veta import --help` lists them, one or two lines each.
std::string DescribeColumns(const std::vector<ImportColumn>& columns);
// A header (or value) as compared: lowercase ASCII, accents dropped, runs of anything but
// letters and digits as one '_', none at the ends: "Código Único" -> "codigo_unico".
std::string NormalizeHeader(std::string_view text);

// REINFO: one row per miner and mining unit. Columns (header names, any order):
//   ruc, name, size_class (ARTISANAL|SMALL), category (I|II|III|IV), status
//   (VIGENTE|SUSPENDIDO|EXCLUIDO), status_since (YYYY-MM-DD), status_reason, valid_from,
//   valid_until, public_key (base64 SubjectPublicKeyInfo DER), concession_code, unit_name,
//   ubigeo, geometry (GeoJSON Polygon/MultiPolygon), activity (EXTRACTION|PROCESSING),
//   capacity_tpd; optional: allowed_miners (RUCs separated by ';'), shared (rules v3: the units
//   whose ground this one shares, "CONCESSION_CODE:share_ppm" separated by ';').
ImportPlan PlanReinfoImport(std::string_view csv);

// REPCO: one row per trader, plant or exporter. Columns:
//   ruc, name, kind (TRADER|PLANT|EXPORTER), status, status_since, status_reason, valid_from,
//   valid_until, public_key; optional: processing_capacity_tpd (plants).
ImportPlan PlanRepcoImport(std::string_view csv);

struct ZoneImportOptions {
  veta::v1::ZoneKind kind = veta::v1::PROHIBITED_INDIGENOUS_TERRITORY;
  std::string id_property = "id";
  std::string name_property = "name";
  std::string id_prefix;  // prepended to each id
  std::string legal_reference;
};

// Zones from a GeoJSON FeatureCollection of Polygons and MultiPolygons. For districts
// (ADMINISTRATIVE_DISTRICT), a feature with no geometry is skipped rather than an error.
ImportPlan PlanZoneImport(std::string_view geojson, const ZoneImportOptions& options);

}  // namespace veta
