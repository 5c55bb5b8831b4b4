// veta explain: the plain-language table of refusal codes and red flags (core/read/explain.h),
// and the helpers the other commands use to print an explanation after a code.
#include <cstdio>

#include "client/cli.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"

namespace veta::client {
namespace {

constexpr size_t kColumns = 92;

// Characters, not bytes: accents are two bytes in UTF-8.
size_t Width(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// `first` then `text`, in lines of at most kColumns; the next lines start with `indent` and
// two spaces.
std::string Wrap(std::string_view text, std::string_view first, std::string_view indent) {
  std::string out(first);
  size_t width = Width(first);
  while (!text.empty()) {
    const size_t space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? "" : text.substr(space + 1);
    if (width + 1 + Width(word) > kColumns) {
      out += StrCat("\n", indent, "  ");
      width = Width(indent) + 2;
    } else {
      out += ' ';
      ++width;
    }
    out += std::string(word);
    width += Width(word);
  }
  return out + "\n";
}

}  // namespace

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
  const Explanation* e = ExplainCode(code);
  if (e == nullptr) return "";
  return Wrap(e->Text(lang), StrCat(indent, e->Title(lang), "."), indent);
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
