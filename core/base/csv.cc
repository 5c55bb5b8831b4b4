#include "core/base/csv.h"

#include "core/base/strings.h"

namespace veta {

absl::StatusOr<std::vector<CsvRow>> ParseCsv(std::string_view text, size_t rows_max) {
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  size_t line = 1;
  row.line = 1;
  bool in_quotes = false, quoted = false, row_has_content = false;
  auto end_field = [&] {
    row.fields.push_back(std::move(field));
    field.clear();
    quoted = false;
  };
  auto end_row = [&]() -> absl::Status {
    end_field();
    if (row_has_content || row.fields.size() > 1 || !row.fields[0].empty()) {
      if (rows.size() == rows_max) {
        return absl::InvalidArgumentError(StrCat("more than ", rows_max, " rows"));
      }
      rows.push_back(std::move(row));
    }
    row = CsvRow();
    row.line = line;
    row_has_content = false;
    return absl::OkStatus();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    switch (c) {
      case '"':
        if (!field.empty() || quoted) {
          return absl::InvalidArgumentError(
              StrCat("line ", line, ": a quote inside an unquoted field"));
        }
        in_quotes = quoted = row_has_content = true;
        break;
      case ',':
        end_field();
        row_has_content = true;
        break;
      case '\r':
        break;
      case '\n': {
        ++line;
        if (absl::Status s = end_row(); !s.ok()) return s;
        break;
      }
      default:
        if (quoted) {
          return absl::InvalidArgumentError(
              StrCat("line ", line, ": text after the closing quote of a field"));
        }
        field.push_back(c);
        row_has_content = true;
    }
  }
  if (in_quotes) {
    return absl::InvalidArgumentError(StrCat("line ", row.line, ": a quoted field never ends"));
  }
  if (absl::Status s = end_row(); !s.ok()) return s;
  return rows;
}

}  // namespace veta
