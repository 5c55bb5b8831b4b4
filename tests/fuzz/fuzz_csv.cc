// CSV parsing and the REINFO / REPCO import plans on arbitrary text. ParseCsv: refusals are
// InvalidArgument, rows start on increasing lines, the row limit holds, and writing the rows
// back with every field quoted parses to the same fields. The plans: never crash; every
// record they keep passes the server's validation; errors name a line and a reason.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/base/csv.h"
#include "core/read/import.h"
#include "core/rules/registry.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

// Every field quoted (quotes doubled); rows end in LF and CRLF alternately.
std::string Quoted(const std::vector<veta::CsvRow>& rows) {
  std::string out;
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t i = 0; i < rows[r].fields.size(); ++i) {
      if (i > 0) out += ',';
      out += '"';
      for (char c : rows[r].fields[i]) {
        if (c == '"') out += '"';
        out += c;
      }
      out += '"';
    }
    out += r % 2 ? "\r\n" : "\n";
  }
  return out;
}

bool SameFields(const std::vector<veta::CsvRow>& a, const std::vector<veta::CsvRow>& b) {
  return std::equal(
      a.begin(), a.end(), b.begin(), b.end(),
      [](const veta::CsvRow& x, const veta::CsvRow& y) { return x.fields == y.fields; });
}

void CheckPlan(const veta::ImportPlan& plan, size_t lines, bool csv_ok, size_t csv_rows) {
  for (const auto& record : plan.records) {
    const absl::Status s = veta::ValidateRecord(record);
    VETA_FUZZ_CHECK_MSG(s.ok(), s.ToString());
  }
  for (const auto& e : plan.errors) {
    VETA_FUZZ_CHECK(!e.reason.empty());
    VETA_FUZZ_CHECK(e.line <= lines);
  }
  if (!csv_ok) {
    // The CSV does not parse: one error, at line 0, and nothing else.
    VETA_FUZZ_CHECK(plan.errors.size() == 1 && plan.errors[0].line == 0);
    VETA_FUZZ_CHECK(plan.records.empty() && plan.rows == 0);
    return;
  }
  VETA_FUZZ_CHECK(plan.rows + 1 <= std::max<size_t>(csv_rows, 1));
  // A row gives at most a miner and a unit (REINFO) or a party (REPCO), or an error.
  VETA_FUZZ_CHECK(plan.records.size() <= 2 * plan.rows);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view text = veta::fuzz::AsText(data, size);
  const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;

  auto rows = veta::ParseCsv(text);
  if (rows.ok()) {
    size_t previous = 0;
    for (const auto& row : *rows) {
      VETA_FUZZ_CHECK(row.line > previous && row.line <= lines);
      VETA_FUZZ_CHECK(!row.fields.empty());
      previous = row.line;
    }
    const std::string quoted = Quoted(*rows);
    auto again = veta::ParseCsv(quoted);
    VETA_FUZZ_CHECK_MSG(again.ok(), again.status().ToString());
    VETA_FUZZ_CHECK(SameFields(*rows, *again));
  } else {
    VETA_FUZZ_CHECK_MSG(rows.status().code() == absl::StatusCode::kInvalidArgument,
                        rows.status().ToString());
  }

  // The row limit: a prefix of the same rows, or a refusal when there are more.
  constexpr size_t kLimit = 3;
  auto limited = veta::ParseCsv(text, kLimit);
  if (rows.ok() && rows->size() <= kLimit) {
    VETA_FUZZ_CHECK(limited.ok() && SameFields(*limited, *rows));
  } else if (rows.ok()) {
    VETA_FUZZ_CHECK(!limited.ok());
  }
  if (limited.ok()) VETA_FUZZ_CHECK(rows.ok() && limited->size() <= kLimit);

  const size_t csv_rows = rows.ok() ? rows->size() : 0;
  CheckPlan(veta::PlanReinfoImport(text), lines, rows.ok(), csv_rows);
  CheckPlan(veta::PlanRepcoImport(text), lines, rows.ok(), csv_rows);
  return 0;
}
