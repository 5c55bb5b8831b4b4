// Plain-language explanations of every refusal code and red flag, in Spanish and English: what
// happened and what to do, for a trader, a plant or a regulator rather than a programmer. One
// table, shared by the CLI (`veta explain`, and the lines that follow a refusal or a flag in
// `veta submit`, `veta check`, `veta attempts`, `veta flags`), veta-demo and the web app (which
// ships `veta explain --json`). Also the names of Peru's departments by ubigeo code.
//
// The codes are the proto enums' names (veta.v1.Refusal, veta.v1.RedFlag); a code added to the
// proto without an explanation here fails tests/core/explain_test.cc. Thread-safe: the tables
// are immutable.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "veta/v1/registry.pb.h"

namespace veta {

enum class Lang { kEs, kEn };

struct Explanation {
  std::string_view code;  // "POINT_IN_PROHIBITED_ZONE", the proto enum's name
  std::string_view title_es;
  std::string_view text_es;  // what happened, what to do
  std::string_view title_en;
  std::string_view text_en;

  std::string_view Title(Lang lang) const { return lang == Lang::kEs ? title_es : title_en; }
  std::string_view Text(Lang lang) const { return lang == Lang::kEs ? text_es : text_en; }
};

// Every refusal (every red flag), in code order, without the UNSPECIFIED values.
const std::vector<Explanation>& RefusalExplanations();
const std::vector<Explanation>& FlagExplanations();
// The explanation of a code; nullptr for an unknown one.
const Explanation* Explain(veta::v1::Refusal refusal);
const Explanation* Explain(veta::v1::RedFlag flag);
// A refusal's or a flag's name ("SELF_SALE", "CASH_STRUCTURING"); case-insensitive.
const Explanation* ExplainCode(std::string_view code);
// The code of a refusal message "[CODE] text" as the server writes it ("" if none).
std::string_view RefusalCodeOf(std::string_view message);

// A refusal's or flag's explanation for a terminal: "<indent>Title. Text", wrapped at
// `columns` characters (the next lines indented two more), ending in a newline; "" for an
// unknown code.
std::string ExplainedText(std::string_view code, Lang lang, std::string_view indent = "  ",
                          size_t columns = 92);

// "es"/"spanish"/"es_PE.UTF-8" and "en"/"english"/"en_US.UTF-8"; anything else is an error.
[[nodiscard]] absl::StatusOr<Lang> ParseLang(std::string_view text);
// The language when no --lang is given: VETA_LANG if set (an error if not es or en), else
// English when the locale (LC_ALL, LC_MESSAGES, LANG, the first set) starts with "en", else
// Spanish: Veta is Peru's registry, and a fresh Debian has LANG unset or C.UTF-8.
[[nodiscard]] absl::StatusOr<Lang> LangFromEnvironment();

// All explanations as JSON, the web app's table:
// {"refusals":{"CODE":{"es":{"title":..,"text":..},"en":{..}},..},"flags":{..},
//  "departments":{"01":"Amazonas",..}}
std::string ExplanationsJson();

// Peru's 25 departments (INEI ubigeo's first two digits; Lima Metropolitana and Lima
// Provincias share 15), in code order, as data/peru_departments.geojson lists them
// (NOMBDEP/FIRST_IDDP), with their written accents.
struct Department {
  std::string_view code;  // "17"
  std::string_view name;  // "Madre de Dios"
};
const std::vector<Department>& Departments();
// The department of a ubigeo ("170101" or "17"); "" when unknown.
std::string_view DepartmentName(std::string_view ubigeo);

}  // namespace veta
