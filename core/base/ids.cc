#include "core/base/ids.h"

#include <algorithm>

#include "core/base/strings.h"

namespace veta {
namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// SUNAT's modulo-11 check digit over the first 10 digits.
int CheckDigit(std::string_view first10) {
  static constexpr int kWeights[10] = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
  int sum = 0;
  for (int i = 0; i < 10; ++i) sum += (first10[static_cast<size_t>(i)] - '0') * kWeights[i];
  int check = 11 - sum % 11;
  if (check == 10) check = 0;
  if (check == 11) check = 1;
  return check;
}

}  // namespace

std::string RucWithCheckDigit(std::string_view first10) {
  return StrCat(first10, CheckDigit(first10));
}

bool LooksLikeRuc(std::string_view id) { return id.size() == 11 && AllDigits(id); }
bool LooksLikeDni(std::string_view id) { return id.size() == 8 && AllDigits(id); }

absl::Status CheckRuc(std::string_view ruc) {
  if (!LooksLikeRuc(ruc)) {
    return absl::InvalidArgumentError(StrCat("RUC '", ruc, "' must be 11 digits"));
  }
  const std::string_view prefix = ruc.substr(0, 2);
  if (prefix != "10" && prefix != "15" && prefix != "16" && prefix != "17" && prefix != "20") {
    return absl::InvalidArgumentError(
        StrCat("RUC ", ruc, " starts with ", prefix, "; RUCs start with 10, 15, 16, 17 or 20"));
  }
  const int check = CheckDigit(ruc.substr(0, 10));
  if (ruc[10] - '0' != check) {
    return absl::InvalidArgumentError(
        StrCat("RUC ", ruc, " has check digit ", ruc[10] - '0', "; it should be ", check));
  }
  return absl::OkStatus();
}

absl::Status CheckDni(std::string_view dni) {
  if (!LooksLikeDni(dni)) {
    return absl::InvalidArgumentError(StrCat("DNI '", dni, "' must be 8 digits"));
  }
  return absl::OkStatus();
}

absl::Status CheckUbigeo(std::string_view ubigeo) {
  if (ubigeo.size() != 6 || !AllDigits(ubigeo)) {
    return absl::InvalidArgumentError(StrCat("ubigeo '", ubigeo, "' must be 6 digits"));
  }
  const int department = (ubigeo[0] - '0') * 10 + (ubigeo[1] - '0');
  if (department < 1 || department > 25) {
    return absl::InvalidArgumentError(
        StrCat("ubigeo ", ubigeo, " names department ", department, "; Peru's are 01 to 25"));
  }
  return absl::OkStatus();
}

}  // namespace veta
