// RFC 4180 CSV: comma-separated, fields optionally in double quotes (a quote inside is
// doubled; a quoted field may span lines), CRLF or LF line ends, a header row first.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace veta {

struct CsvRow {
  size_t line = 0;  // 1-based line where the row starts
  std::vector<std::string> fields;
};

// Parses the whole text. InvalidArgument with the line number on an unterminated quote or
// a stray quote inside an unquoted field; more than `rows_max` rows is an error too.
absl::StatusOr<std::vector<CsvRow>> ParseCsv(std::string_view text, size_t rows_max = 1000000);

}  // namespace veta
