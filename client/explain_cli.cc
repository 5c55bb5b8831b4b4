// veta explain: the plain-language table of refusal codes and red flags (core/read/explain.h),
// and the helpers the other commands use to print an explanation after a code.
#include <cstdio>

#include "client/cli.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"

namespace veta::client {

void AddLangFlag(Flags& flags, std::string* lang) {
  flags.String("lang", lang,
               "Language of explanations: es (español) or en (English). Default: VETA_LANG, "
               "else English when the locale (LC_ALL, LC_MESSAGES, LANG) is en*, else Spanish.");
}

absl::StatusOr<Lang> ChosenLang(const std::string& flag) {
  if (!flag.empty()) return ParseLang(flag);
  return LangFromEnvironment();
}

std::string Explained(std::string_view code, Lang lang, std::string_view indent) {
  return ExplainedText(code, lang, indent);
}

absl::Status ExplainCmd(int argc, char** argv) {
  std::string lang_flag;
  bool json = false;
  Flags flags("veta explain [CODE] [--lang es|en] [--json]",
              "Explains refusal codes and red flags in plain words: what happened and what to\n"
              "do. With a CODE (e.g. POINT_IN_PROHIBITED_ZONE, CASH_STRUCTURING), that one;\n"
              "without, all of them. --json without a CODE prints the whole table in both\n"
              "languages with the departments' names by ubigeo (the web app's copy is made by\n"
              "this command); with a CODE, that code's entry in the chosen language.");
  AddLangFlag(flags, &lang_flag);
  flags.Bool("json", &json, "Print JSON.");
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  ASSIGN_OR_RETURN(Lang lang, ChosenLang(lang_flag));
  if (flags.positional().size() > 1) return absl::InvalidArgumentError("name at most one CODE");
  if (flags.positional().empty()) {
    if (json) {
      std::fputs(ExplanationsJson().c_str(), stdout);
      return absl::OkStatus();
    }
    for (const auto* table : {&RefusalExplanations(), &FlagExplanations()}) {
      std::printf("%s\n\n", table == &RefusalExplanations()
                                ? (lang == Lang::kEs ? "RECHAZOS" : "REFUSALS")
                                : (lang == Lang::kEs ? "ALERTAS (red flags)" : "RED FLAGS"));
      for (const auto& e : *table) {
        std::printf("%s\n%s\n", std::string(e.code).c_str(), Explained(e.code, lang, "  ").c_str());
      }
    }
    return absl::OkStatus();
  }
  const std::string& code = flags.positional()[0];
  const Explanation* e = ExplainCode(code);
  if (e == nullptr) {
    return absl::NotFoundError(
        StrCat("no refusal code or red flag named '", code, "' (veta explain lists them all)"));
  }
  if (json) {
    bool refusal = false;
    for (const auto& r : RefusalExplanations()) refusal = refusal || &r == e;
    std::printf("%s\n", StrCat("{\"code\": ", JsonQuote(e->code),
                               ", \"kind\": ", JsonQuote(refusal ? "refusal" : "flag"),
                               ", \"lang\": ", JsonQuote(lang == Lang::kEs ? "es" : "en"),
                               ", \"title\": ", JsonQuote(e->Title(lang)),
                               ", \"text\": ", JsonQuote(e->Text(lang)), "}")
                            .c_str());
    return absl::OkStatus();
  }
  std::printf("%s\n%s", std::string(e->code).c_str(), Explained(e->code, lang, "  ").c_str());
  return absl::OkStatus();
}

}  // namespace veta::client
