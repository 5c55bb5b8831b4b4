#include "core/read/indicators.h"

#include <map>
#include <memory>
#include <string>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/read/certificate.h"
#include "core/read/lineage.h"
#include "core/read/queries.h"
#include "core/read/red_flags.h"
#include "core/rules/registry.h"

namespace veta {
namespace {

absl::Status TooMany(std::string_view what) {
  return absl::ResourceExhaustedError(
      StrCat("the report would read more than ", kIndicatorRowsMax, " ", what));
}

}  // namespace

absl::StatusOr<veta::v1::Indicators> ComputeIndicators(const Reader& store, uint64_t as_of) {
  veta::v1::Indicators out;
  out.set_as_of(as_of);
  UnitDepartments units(store, as_of);
  auto department = [&](const std::string& unit) {
    const std::string& d = units.Of(unit);
    return d.empty() ? std::string("??") : d;
  };
  std::map<std::string, veta::v1::DepartmentVolume> by_dept;
  auto dept = [&](const std::string& code) -> veta::v1::DepartmentVolume& {
    auto& d = by_dept[code];
    d.set_department(code);
    return d;
  };

  std::unique_ptr<Cursor> it = store.NewCursor(Family::kState);
  uint64_t rows = 0, lineage_lots = 0;
  for (it->Seek(kLotPrefix); it->Valid() && it->key().starts_with(kLotPrefix); it->Next()) {
    if (++rows > kIndicatorRowsMax) return TooMany("lots");
    veta::v1::Lot lot;
    if (!lot.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("a stored lot is malformed");
    }
    if (lot.created_at() >= as_of) continue;
    out.set_lots(out.lots() + 1);
    if (VoidedAsOf(lot, as_of)) continue;
    if (lot.source() == veta::v1::EXTRACTED) {
      auto& d = dept(department(lot.unit_code()));
      d.set_extracted_ore_g(d.extracted_ore_g() + lot.original_ore_g());
      d.set_extracted_fine_mg(d.extracted_fine_mg() + lot.original_fine_mg());
    }
    if (!ExportedAsOf(lot, as_of)) continue;
    // What the export took, by unit of origin (exactly: core/verify/lots.h).
    const int64_t fine = lot.exported_fine_mg();
    out.set_exports(out.exports() + 1);
    out.set_exported_fine_mg(out.exported_fine_mg() + fine);
    if (lot.exported_origin_size() == 0) {
      auto& d = dept(department(lot.unit_code()));
      d.set_exported_fine_mg(d.exported_fine_mg() + fine);
    }
    for (const auto& share : lot.exported_origin()) {
      auto& d = dept(department(share.unit_code()));
      d.set_exported_fine_mg(d.exported_fine_mg() + share.fine_mg());
    }
    LineageQuery q;
    q.id = lot.lot_id();
    q.as_of = as_of;
    q.depth_max = kLineageDepthMax;
    q.nodes_max = kCertificateLotsMax;
    q.page_nodes = kCertificateLotsMax;
    ASSIGN_OR_RETURN(veta::v1::Lineage lineage, QueryLineage(store, q));
    lineage_lots += static_cast<uint64_t>(lineage.nodes_size());
    if (lineage_lots > kIndicatorLineageLotsMax) return TooMany("lots of export lineages");
    int64_t reached = 0;
    for (const auto& u : lineage.units()) reached += u.fine_mg();
    if (!lineage.truncated() && reached == lineage.fine_mg() &&
        LineageIsClean(store, lineage, lot.lot_id()).ok()) {
      out.set_exported_fine_mg_traced(out.exported_fine_mg_traced() + fine);
    }
  }
  RETURN_IF_ERROR(Annotate(it->status(), "scan lots"));
  uint64_t corrections = 0;
  for (it->Seek(kVoidedPrefix); it->Valid() && it->key().starts_with(kVoidedPrefix); it->Next()) {
    uint64_t by = 0;
    if (DecodeU64(it->value(), &by) && by < as_of) ++corrections;
  }
  RETURN_IF_ERROR(Annotate(it->status(), "scan corrections"));
  out.set_corrections(corrections);
  for (auto& [code, d] : by_dept) *out.add_departments() = std::move(d);

  std::map<std::string, uint64_t> refusals, flags;
  std::unique_ptr<Cursor> a = store.NewCursor(Family::kAttempts);
  rows = 0;
  for (a->SeekToFirst(); a->Valid(); a->Next()) {
    if (++rows > kIndicatorRowsMax) return TooMany("attempts");
    veta::v1::Attempt attempt;
    if (!attempt.ParseFromArray(a->value().data(), static_cast<int>(a->value().size()))) {
      return absl::DataLossError("a stored attempt is malformed");
    }
    if (attempt.ledger_size() > as_of) break;  // attempts are in ledger order
    ++refusals[veta::v1::Refusal_Name(attempt.refusal())];
  }
  RETURN_IF_ERROR(Annotate(a->status(), "scan attempts"));
  std::unique_ptr<Cursor> f = store.NewCursor(Family::kEvidence);
  rows = 0;
  for (f->Seek(kFlagPrefix); f->Valid() && f->key().starts_with(kFlagPrefix); f->Next()) {
    if (++rows > kIndicatorRowsMax) return TooMany("flags");
    veta::v1::Flag flag;
    if (!flag.ParseFromArray(f->value().data(), static_cast<int>(f->value().size()))) {
      return absl::DataLossError("a stored flag is malformed");
    }
    if (flag.sequence() >= as_of) break;  // flags are keyed by entry
    ++flags[veta::v1::RedFlag_Name(flag.flag())];
  }
  RETURN_IF_ERROR(Annotate(f->status(), "scan flags"));
  for (const auto& [code, n] : refusals) {
    auto* c = out.add_refusals();
    c->set_code(code);
    c->set_count(n);
  }
  for (const auto& [code, n] : flags) {
    auto* c = out.add_flags();
    c->set_code(code);
    c->set_count(n);
    veta::v1::RedFlag flag;
    if (!veta::v1::RedFlag_Parse(code, &flag)) continue;
    if (const RedFlagMeaning* m = MeaningOf(flag)) {
      c->set_meaning(std::string(m->plain));
      c->set_oecd_annex_ii(std::string(m->annex2));
    }
  }
  return out;
}

}  // namespace veta
