// Peruvian identifiers the registries use.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace veta {

// RUC (Registro Único de Contribuyentes): 11 digits, a known prefix (10 natural person,
// 15/16/17 other natural-person cases, 20 company) and SUNAT's modulo-11 check digit.
[[nodiscard]] absl::Status CheckRuc(std::string_view ruc);
// DNI: 8 digits.
[[nodiscard]] absl::Status CheckDni(std::string_view dni);
// Ubigeo: 6 digits (department, province, district), department 01..25.
[[nodiscard]] absl::Status CheckUbigeo(std::string_view ubigeo);

bool LooksLikeRuc(std::string_view id);  // 11 digits
// The RUC whose first 10 digits are given, with its check digit appended.
std::string RucWithCheckDigit(std::string_view first10);
bool LooksLikeDni(std::string_view id);  // 8 digits

}  // namespace veta
