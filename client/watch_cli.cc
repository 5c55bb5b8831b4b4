// veta watch: follows, as they are committed, the entries and refused attempts matching a
// filter, within the caller's role (rpc Watch).
#include <google/protobuf/util/time_util.h>

#include <cstdio>

#include "client/cli.h"
#include "client/json.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"

namespace veta::client {

absl::Status WatchCmd(int argc, char** argv) {
  Common c;
  std::string party, unit, refusal, flag;
  uint64_t from = 0, from_attempt = 0, max_events = 0;
  bool from_now = false;
  Flags flags(
      "veta watch [--party ID] [--unit CODE] [--refusal CODE | --flag CODE] [--from N "
      "--from-attempt N | --from-now] [--max-events N] [--json]",
      "¿Quién vende a mi nombre? Follows, as they are committed, the accepted entries and the\n"
      "refused attempts that match every filter given, within what the caller may read: a\n"
      "miner sees the entries and attempts naming it or one of its units (a seller using its\n"
      "name, someone extracting on its concession), a regulator everything. Each line ends\n"
      "with where to resume (--from, --from-attempt). Runs until interrupted or --max-events.");
  AddConnectionFlags(flags, &c);
  flags.String("party", &party, "A RUC or DNI the entry or attempt names.");
  flags.String("unit", &unit, "A concession code the entry or attempt names.");
  flags.String("refusal", &refusal, "Refused attempts with this code only.");
  flags.String("flag", &flag, "Accepted entries that raised this red flag only.");
  flags.Uint("from", &from, "First entry to consider.");
  flags.Uint("from-attempt", &from_attempt, "First attempt to consider.");
  flags.Bool("from-now", &from_now, "Only what is committed from now on.");
  flags.Uint("max-events", &max_events, "Stop after this many matches (0: never).");
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  veta::v1::WatchRequest request;
  request.set_party(party);
  request.set_unit(unit);
  request.set_refusal(refusal);
  request.set_flag(flag);
  request.set_from_sequence(from);
  request.set_from_attempt(from_attempt);
  request.set_from_now(from_now);
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  grpc::ClientContext ctx;  // no deadline: a watch runs until stopped
  auto reader = stub->Watch(&ctx, request);
  veta::v1::WatchEvent event;
  uint64_t seen = 0;
  while (reader->Read(&event)) {
    const std::string resume = StrCat("(resume: --from ", event.next_sequence(), " --from-attempt ",
                                      event.next_attempt(), ")");
    if (c.json) {
      ASSIGN_OR_RETURN(std::string json, MessageToJson(event));
      std::printf("%s\n", json.c_str());
    } else if (event.has_entry()) {
      std::string flags_text;
      for (int f : event.flags()) {
        flags_text += StrCat(" ", veta::v1::RedFlag_Name(static_cast<veta::v1::RedFlag>(f)));
      }
      std::printf("entry %llu%s%s %s\n  %s\n",
                  static_cast<unsigned long long>(event.entry().entry().sequence()),
                  flags_text.empty() ? "" : " flags:", flags_text.c_str(), resume.c_str(),
                  EntryToJson(event.entry().entry_bytes()).c_str());
    } else if (event.has_attempt()) {
      const auto& a = event.attempt();
      std::string parties;
      for (const auto& p : a.parties()) parties += (parties.empty() ? "" : ",") + p;
      std::printf("attempt #%llu [%s] parties=%s unit=%s %s\n  %s\n",
                  static_cast<unsigned long long>(a.number()),
                  veta::v1::Refusal_Name(a.refusal()).c_str(), parties.c_str(),
                  a.unit_code().c_str(), resume.c_str(), a.message().c_str());
    } else {
      continue;  // a heartbeat: where the watch stands
    }
    std::fflush(stdout);
    if (max_events > 0 && ++seen >= max_events) {
      ctx.TryCancel();
      break;
    }
  }
  grpc::Status s = reader->Finish();
  if (max_events > 0 && seen >= max_events) return absl::OkStatus();
  return FromGrpc(s, c.server);
}

}  // namespace veta::client
