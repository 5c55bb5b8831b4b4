// veta capacity: the trader's desk (issue 12). What a seller (a miner's or plant's RUC, a
// selector's DNI) or a unit may still extract or process on a day, as the rules count it
// (Ledger.GetDailyCapacity, core/read/capacity.h), in plain words or as JSON.
#include <google/protobuf/util/json_util.h>

#include <cstdio>

#include "client/cli.h"
#include "client/json.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/units.h"

namespace veta::client {
namespace {

std::string Day(const std::string& d) {
  return d.size() == 8 ? StrCat(d.substr(0, 4), "-", d.substr(4, 2), "-", d.substr(6)) : d;
}

std::string KindName(const std::string& kind, veta::v1::PartyKind party, Lang lang) {
  const bool es = lang == Lang::kEs;
  if (kind == "miner") return es ? "minero" : "miner";
  if (kind == "selector") return es ? "pallaquera (selectora)" : "selector";
  if (kind == "unit") return es ? "unidad minera" : "mining unit";
  switch (party) {
    case veta::v1::TRADER:
      return es ? "comercializador" : "trader";
    case veta::v1::PLANT:
      return es ? "planta" : "plant";
    case veta::v1::EXPORTER:
      return es ? "exportador" : "exporter";
    default:
      return es ? "parte" : "party";
  }
}

// "capacity X/day; declared that day Y; submitted today Z; left W".
std::string UseLine(const veta::v1::CapacityUse& u, bool v3, Lang lang) {
  const bool es = lang == Lang::kEs;
  std::string s =
      StrCat(es ? "capacidad " : "capacity ", units::OreKg(u.capacity_ore_g()),
             es ? " por día; declarado para ese día " : " a day; declared for that day ",
             units::OreKg(u.used_declared_ore_g()));
  if (v3) {
    s += StrCat(es ? "; presentado hoy " : "; submitted today ",
                units::OreKg(u.used_submitted_ore_g()));
  }
  return StrCat(s, es ? "; QUEDA " : "; LEFT ", units::OreKg(u.left_ore_g()));
}

void PrintPlain(const veta::v1::DailyCapacity& c, Lang lang) {
  const bool es = lang == Lang::kEs;
  const bool v3 = c.counts_submission_day();
  std::printf("%s %s (%s%s%s): %s, %s\n", es ? "Registro" : "Record", c.id().c_str(),
              KindName(c.kind(), c.party_kind(), lang).c_str(), c.name().empty() ? "" : ", ",
              c.name().c_str(), veta::v1::RegistryStatus_Name(c.status()).c_str(),
              c.active()
                  ? (es ? "activo" : "active")
                  : (es ? "NO ACTIVO: no se le acepta nada" : "NOT ACTIVE: nothing is accepted"));
  std::printf("%s %s (%s %s)%s\n", es ? "Día declarado" : "Declared day", Day(c.day()).c_str(),
              es ? "hoy en Perú:" : "today in Peru:", Day(c.today()).c_str(),
              v3 ? (es ? "; cuenta ese día y también lo presentado hoy, sea cual sea su fecha"
                       : "; counts that day and also what was submitted today, whatever its date")
                 : "");
  for (const auto& u : c.units()) {
    std::printf("%s %s%s%s (%s %s, %s): %s\n", es ? "Unidad" : "Unit", u.concession_code().c_str(),
                u.name().empty() ? "" : " ", u.name().c_str(), es ? "titular" : "holder",
                u.holder_ruc().c_str(), veta::v1::RegistryStatus_Name(u.status()).c_str(),
                u.accepting() ? (es ? "acepta extracciones" : "accepts extractions")
                              : (es ? "NO acepta extracciones" : "accepts NO extractions"));
    std::printf("  %s\n", UseLine(u.use(), v3, lang).c_str());
    for (const auto& g : u.shared()) {
      std::printf("  %s %s (%s %s): %s %s (%s %s, %s %s)\n",
                  es ? "En el terreno compartido de" : "On the shared ground of",
                  g.ground().c_str(), es ? "cuota" : "share",
                  units::PercentOfPpm(g.share_ppm()).c_str(), es ? "queda" : "left",
                  units::OreKg(g.left_ore_g()).c_str(), es ? "terreno" : "ground",
                  units::OreKg(g.ground_use().left_ore_g()).c_str(), es ? "cuota" : "share",
                  units::OreKg(g.share_use().left_ore_g()).c_str());
    }
  }
  if (c.units_truncated()) {
    std::printf("%s\n", es ? "(hay más unidades: pregunte por cada una por su código)"
                           : "(more units: ask about each by its code)");
  }
  if (c.has_processing()) {
    std::printf("%s\n  %s\n", es ? "Procesamiento de la planta:" : "Plant processing:",
                UseLine(c.processing(), v3, lang).c_str());
  }
  if (c.has_selector()) {
    std::printf("%s\n  %s\n", es ? "Límite diario de la selectora:" : "Selector's daily limit:",
                UseLine(c.selector(), v3, lang).c_str());
  }
  if (c.kind() == "party" && !c.has_processing()) {
    std::printf("%s\n", es ? "No extrae ni procesa: no tiene capacidad diaria propia."
                           : "Neither extracts nor processes: no daily capacity of its own.");
  }
}

}  // namespace

absl::Status CapacityCmd(int argc, char** argv) {
  Common c;
  std::string day, lang_flag;
  bool json = false;
  Flags flags("veta capacity RUC|DNI|UNIT [--day YYYYMMDD] [--json] [--lang es|en]",
              "The trader's desk: what a seller (a miner's or plant's RUC, a selector's DNI) or a\n"
              "unit may still extract or process on a day, from the same daily counters the\n"
              "rules check: LEFT is what the registry would still accept (grams of ore, shown\n"
              "in kg). A registered party, registrar or regulator may ask (not the public).");
  AddConnectionFlags(flags, &c);
  flags.String("day", &day, "The declared day, YYYYMMDD in Peru. Default: today.");
  flags.Bool("json", &json,
             "Print the answer as JSON (veta.v1.DailyCapacity, every field, zeros included).");
  AddLangFlag(flags, &lang_flag);
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  ASSIGN_OR_RETURN(const Lang lang, ChosenLang(lang_flag));
  if (flags.positional().size() != 1) {
    return absl::InvalidArgumentError("give one RUC, DNI or unit code");
  }
  veta::v1::GetDailyCapacityRequest request;
  request.set_id(flags.positional()[0]);
  request.set_day(day);
  veta::v1::DailyCapacity answer;
  auto ctx = Context();
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  RETURN_IF_ERROR(FromGrpc(stub->GetDailyCapacity(ctx.get(), request, &answer), c.server));
  if (json) {
    // Every field, zeros included (a `leftOreG` of 0 is the answer), as the HTTP API prints it.
    std::string text;
    google::protobuf::util::JsonPrintOptions options;
    options.always_print_primitive_fields = true;
    if (auto s = google::protobuf::util::MessageToJsonString(answer, &text, options); !s.ok()) {
      return absl::InternalError(StrCat("cannot print JSON: ", s.ToString()));
    }
    std::printf("%s\n", text.c_str());
    return absl::OkStatus();
  }
  PrintPlain(answer, lang);
  return absl::OkStatus();
}

}  // namespace veta::client
