// The registry commands of the veta tool: records, lots, attempts, flags, the pre-purchase
// check and bulk import.
#include <google/protobuf/util/time_util.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "client/cli.h"
#include "client/config.h"
#include "client/json.h"
#include "client/records.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/read/import.h"
#include "core/read/red_flags.h"
#include "core/rules/registry.h"
#include "core/verify/envelope.h"

namespace veta::client {
namespace {

void PrintJson(const google::protobuf::Message& m) {
  auto json = MessageToJson(m);
  std::printf("%s\n", json.ok() ? json->c_str() : "{}");
}

// Submits records signed by `key` on one stream, in batches; reports progress on stderr. Each
// is signed as a new version of the record's current version on the server; a record whose
// current version already says the same is skipped: imports resume.
absl::Status SubmitRecords(const std::vector<veta::v1::RegistryRecord>& all, const PrivateKey& key,
                           const ConnectionOptions& connection) {
  ASSIGN_OR_RETURN(auto stub, Connect(connection));
  ASSIGN_OR_RETURN(auto versioned, AgainstCurrentVersions(stub.get(), all));
  std::vector<veta::v1::RegistryRecord> records;
  size_t unchanged = 0;
  for (auto& v : versioned) {
    if (v.unchanged) {
      ++unchanged;
    } else {
      records.push_back(std::move(v.record));
    }
  }
  grpc::ClientContext ctx;
  auto stream = stub->SubmitStream(&ctx);
  constexpr size_t kBatch = 256;
  std::thread writer([&] {
    for (size_t i = 0; i < records.size(); i += kBatch) {
      veta::v1::SubmitBatch batch;
      for (size_t j = i; j < std::min(records.size(), i + kBatch); ++j) {
        auto env = SignEnvelope(kRegistryType, records[j].SerializeAsString(), {key});
        batch.add_envelopes(env->SerializeAsString());
      }
      if (!stream->Write(batch)) break;
    }
    stream->WritesDone();
  });
  const bool tty = isatty(STDERR_FILENO) != 0;
  size_t done = 0, added = 0, present = 0;
  std::vector<std::string> refused;
  veta::v1::SubmitBatchResponse response;
  while (stream->Read(&response)) {
    for (const auto& a : response.answers()) {
      const size_t i = done++;
      if (a.code() == 0) {
        ++added;
      } else if (a.code() == static_cast<int>(absl::StatusCode::kAlreadyExists)) {
        ++present;
      } else {
        const auto [kind, id] = RecordKey(records[i]);
        refused.push_back(StrCat(RecordKindName(kind), " ", id, ": ", a.message()));
      }
    }
    if (tty) {
      const size_t width = 30, filled = width * done / std::max<size_t>(records.size(), 1);
      std::fprintf(stderr, "\r[%s%s] %zu/%zu", std::string(filled, '#').c_str(),
                   std::string(width - filled, ' ').c_str(), done, records.size());
    }
  }
  writer.join();
  if (tty) std::fprintf(stderr, "\n");
  RETURN_IF_ERROR(FromGrpc(stream->Finish(), connection.server));
  std::printf("%zu records: %zu registered, %zu already registered unchanged, %zu refused\n",
              all.size(), added, present + unchanged, refused.size());
  for (const auto& r : refused) std::printf("  refused %s\n", r.c_str());
  if (done != records.size()) {
    return absl::UnavailableError(StrCat("the stream ended after ", done, " of ", records.size(),
                                         " answers; run the import again to resume"));
  }
  if (!refused.empty()) {
    return absl::FailedPreconditionError(StrCat(refused.size(), " records were refused"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RecordCmd(int argc, char** argv) {
  Common c;
  uint64_t as_of = UINT64_MAX;
  std::string as_of_time;
  Flags flags("veta record KIND ID [--as-of SEQUENCE | --as-of-time RFC3339]",
              "Shows a registry record (registrar, miner, unit, party, selector, zone or\n"
              "parameters) as it is now, or as it was after an entry or at a time, with the\n"
              "entry that wrote that version. For parameters, ID is \"\".");
  AddConnectionFlags(flags, &c);
  flags.Uint("as-of", &as_of, "Read the registry as it was right after this entry.");
  flags.String("as-of-time", &as_of_time, "Read the registry as it was at this time.");
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  if (flags.positional().empty() || flags.positional().size() > 2) {
    return absl::InvalidArgumentError("give KIND and ID");
  }
  veta::v1::GetRecordRequest request;
  request.set_kind(flags.positional()[0]);
  if (flags.positional().size() == 2) request.set_id(flags.positional()[1]);
  RETURN_IF_ERROR(SetAsOf(as_of, as_of_time, request.mutable_as_of()));
  veta::v1::RecordVersion response;
  auto ctx = Context();
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  RETURN_IF_ERROR(FromGrpc(stub->GetRecord(ctx.get(), request, &response), c.server));
  PrintJson(response);
  return absl::OkStatus();
}

absl::Status RecordsCmd(int argc, char** argv) {
  Common c;
  std::string status, department, party_kind, after;
  uint64_t limit = 100, as_of = UINT64_MAX;
  Flags flags("veta records KIND [--status S] [--department DD] [--party-kind K] [--after ID]",
              "Lists registry records of a kind in id order, one JSON object per line, with\n"
              "filters; page with --after (the last id printed).");
  AddConnectionFlags(flags, &c);
  flags.String("status", &status, "VIGENTE, SUSPENDIDO or EXCLUIDO.");
  flags.String("department", &department, "2-digit ubigeo department (units).");
  flags.String("party-kind", &party_kind, "TRADER, PLANT or EXPORTER (parties).");
  flags.String("after", &after, "Start after this id.");
  flags.Uint("limit", &limit, "Records per page (at most 1000).");
  flags.Uint("as-of", &as_of, "Read the registry as it was right after this entry.");
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  if (flags.positional().size() != 1) return absl::InvalidArgumentError("give KIND");
  veta::v1::ListRecordsRequest request;
  request.set_kind(flags.positional()[0]);
  if (!status.empty()) {
    veta::v1::RegistryStatus st;
    if (!veta::v1::RegistryStatus_Parse(status, &st)) {
      return absl::InvalidArgumentError("--status is VIGENTE, SUSPENDIDO or EXCLUIDO");
    }
    request.set_status(st);
  }
  if (!party_kind.empty()) {
    veta::v1::PartyKind k;
    if (!veta::v1::PartyKind_Parse(party_kind, &k)) {
      return absl::InvalidArgumentError("--party-kind is TRADER, PLANT or EXPORTER");
    }
    request.set_party_kind(k);
  }
  request.set_department(department);
  request.set_after_id(after);
  request.set_limit(static_cast<uint32_t>(std::min<uint64_t>(limit, UINT32_MAX)));
  RETURN_IF_ERROR(SetAsOf(as_of, "", request.mutable_as_of()));
  veta::v1::ListRecordsResponse response;
  auto ctx = Context();
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  RETURN_IF_ERROR(FromGrpc(stub->ListRecords(ctx.get(), request, &response), c.server));
  for (const auto& r : response.records()) PrintJson(r);
  if (!response.next_after_id().empty()) {
    std::fprintf(stderr, "more: --after %s\n", response.next_after_id().c_str());
  }
  return absl::OkStatus();
}

absl::Status LotCmd(int argc, char** argv) {
  Common c;
  Flags flags("veta lot LOT_ID", "Shows a lot: holder, remaining kg, unit of origin, parent.");
  AddConnectionFlags(flags, &c);
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  if (flags.positional().size() != 1) return absl::InvalidArgumentError("give LOT_ID");
  veta::v1::GetLotRequest request;
  request.set_lot_id(flags.positional()[0]);
  veta::v1::Lot lot;
  auto ctx = Context();
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  RETURN_IF_ERROR(FromGrpc(stub->GetLot(ctx.get(), request, &lot), c.server));
  PrintJson(lot);
  return absl::OkStatus();
}

absl::Status AttemptsCmd(int argc, char** argv) {
  Common c;
  std::string party, unit, refusal;
  uint64_t start = 0, limit = 100;
  Flags flags("veta attempts [--party ID | --unit CODE | --refusal CODE] [--start N]",
              "Lists refused submissions (the attempts log: evidence for investigators), each\n"
              "with its refusal code, message, parties and the envelope's payload.");
  AddConnectionFlags(flags, &c);
  flags.String("party", &party, "A RUC or DNI.");
  flags.String("unit", &unit, "A concession code.");
  flags.String("refusal", &refusal, "A refusal code, e.g. POINT_IN_PROHIBITED_ZONE.");
  flags.Uint("start", &start, "First attempt number.");
  flags.Uint("limit", &limit, "At most this many (1000 at most).");
  std::string lang_flag;
  AddLangFlag(flags, &lang_flag);
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  ASSIGN_OR_RETURN(const Lang lang, ChosenLang(lang_flag));
  veta::v1::ListAttemptsRequest request;
  request.set_party(party);
  request.set_unit(unit);
  request.set_refusal(refusal);
  request.set_start(start);
  request.set_limit(static_cast<uint32_t>(std::min<uint64_t>(limit, UINT32_MAX)));
  veta::v1::ListAttemptsResponse response;
  auto ctx = Context();
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  RETURN_IF_ERROR(FromGrpc(stub->ListAttempts(ctx.get(), request, &response), c.server));
  for (const auto& a : response.attempts()) {
    veta::v1::Envelope env;
    env.ParseFromString(a.envelope());
    std::string parties;
    for (const auto& p : a.parties()) parties += (parties.empty() ? "" : ",") + p;
    std::printf("#%llu %s %s [%s] parties=%s unit=%s\n  %s\n  payload: %s\n",
                static_cast<unsigned long long>(a.number()),
                google::protobuf::util::TimeUtil::ToString(a.time()).c_str(),
                env.payload_type().c_str(), veta::v1::Refusal_Name(a.refusal()).c_str(),
                parties.c_str(), a.unit_code().c_str(), a.message().c_str(),
                PayloadToJson(env.payload_type(), env.payload()).c_str());
    std::fputs(Explained(veta::v1::Refusal_Name(a.refusal()), lang, "  ").c_str(), stdout);
  }
  if (response.next_start() != 0) {
    std::printf("(more: --start %llu)\n", static_cast<unsigned long long>(response.next_start()));
  }
  return absl::OkStatus();
}

absl::Status WatchCmd(int argc, char** argv) {
  Common c;
  std::string party, unit, refusal, red_flag, from_sequence, from_attempt;
  Flags flags(
      "veta watch [--party ID] [--unit CODE] [--refusal CODE | --red-flag CODE]\n"
      "           [--from-sequence N] [--from-attempt N] [--json]",
      "Follows, as they happen, the accepted entries and refused attempts that match: who is\n"
      "selling in my name? A miner, selector, trader, plant or exporter (its client\n"
      "certificate) sees what names it or a unit it holds, a refused attempt included (a sale\n"
      "in its name, an extraction declared on its concession, a stolen key); a regulator sees\n"
      "everything; the public, the registry's entries. Runs until interrupted; starts with\n"
      "what comes next, or from an entry / attempt number (resume where a watch stopped).\n"
      "--json prints one JSON object per line (WatchEvent), heartbeats included: each says\n"
      "where to resume (nextSequence, nextAttempt).");
  AddConnectionFlags(flags, &c);
  flags.String("party", &party, "Only what names this RUC or DNI.");
  flags.String("unit", &unit, "Only what names this mining unit (concession code).");
  flags.String("refusal", &refusal, "Only attempts refused with this code, e.g. SELF_SALE.");
  flags.String("red-flag", &red_flag,
               "Only entries that raised this red flag, e.g. CASH_STRUCTURING "
               "(veta flags --codes lists them).");
  flags.String("from-sequence", &from_sequence, "Start at this entry (default: the next one).");
  flags.String("from-attempt", &from_attempt, "Start at this attempt (default: the next one).");
  flags.Bool("json", &c.json, "One JSON object per line.");
  std::string lang_flag;
  AddLangFlag(flags, &lang_flag);
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  ASSIGN_OR_RETURN(const Lang lang, ChosenLang(lang_flag));
  veta::v1::WatchRequest request;
  request.set_party(party);
  request.set_unit(unit);
  request.set_refusal(refusal);
  request.set_red_flag(red_flag);
  for (auto [text, setter, name] :
       {std::tuple{&from_sequence, &veta::v1::WatchRequest::set_from_sequence, "--from-sequence"},
        std::tuple{&from_attempt, &veta::v1::WatchRequest::set_from_attempt, "--from-attempt"}}) {
    if (text->empty()) continue;
    uint64_t n = 0;
    if (!ParseU64(*text, &n)) {
      return absl::InvalidArgumentError(StrCat(name, " takes a number, not '", *text, "'"));
    }
    (request.*setter)(n);
  }
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  grpc::ClientContext ctx;  // no deadline: a watch runs until interrupted
  auto reader = stub->Watch(&ctx, request);
  veta::v1::WatchEvent event;
  uint64_t next_sequence = 0, next_attempt = 0;
  while (reader->Read(&event)) {
    next_sequence = event.next_sequence();
    next_attempt = event.next_attempt();
    if (c.json) {
      PrintJson(event);
    } else if (event.has_entry()) {
      const auto& e = event.entry().entry();
      veta::v1::Envelope env;
      env.ParseFromString(e.envelope());
      std::string flagged;
      for (const auto& f : event.flags()) {
        flagged +=
            StrCat(flagged.empty() ? "  red flags: " : ", ", veta::v1::RedFlag_Name(f.flag()));
      }
      std::printf(
          "entry #%llu %s %s%s\n  payload: %s\n", static_cast<unsigned long long>(e.sequence()),
          google::protobuf::util::TimeUtil::ToString(e.time()).c_str(), env.payload_type().c_str(),
          flagged.c_str(), PayloadToJson(env.payload_type(), env.payload()).c_str());
    } else if (event.has_attempt()) {
      const auto& a = event.attempt();
      veta::v1::Envelope env;
      env.ParseFromString(a.envelope());
      std::string parties;
      for (const auto& p : a.parties()) parties += (parties.empty() ? "" : ",") + p;
      std::printf("attempt #%llu %s %s REFUSED [%s] parties=%s unit=%s\n  %s\n",
                  static_cast<unsigned long long>(a.number()),
                  google::protobuf::util::TimeUtil::ToString(a.time()).c_str(),
                  env.payload_type().c_str(), veta::v1::Refusal_Name(a.refusal()).c_str(),
                  parties.c_str(), a.unit_code().c_str(), a.message().c_str());
      std::fputs(Explained(veta::v1::Refusal_Name(a.refusal()), lang, "  ").c_str(), stdout);
    }
    std::fflush(stdout);
  }
  grpc::Status status = reader->Finish();
  if (!status.ok() && next_sequence + next_attempt > 0) {
    std::fprintf(stderr,
                 "veta: the watch stopped; resume with --from-sequence %llu --from-attempt %llu\n",
                 static_cast<unsigned long long>(next_sequence),
                 static_cast<unsigned long long>(next_attempt));
  }
  return FromGrpc(status, c.server);
}

absl::Status FlagsCmd(int argc, char** argv) {
  Common c;
  std::string party, unit;
  uint64_t start = 0, limit = 100;
  bool codes = false;
  Flags flags("veta flags [--party ID | --unit CODE] [--start SEQUENCE] | --codes",
              "Lists red flags raised on accepted entries (cash above the threshold or split\n"
              "under it, volume and grade jumps, extraction in a satellite-detected mining scar,\n"
              "late declarations, prices out of band, circular trades). --codes explains each\n"
              "code and the OECD Annex II risk it is evidence of, without a server.");
  AddConnectionFlags(flags, &c);
  flags.Bool("codes", &codes, "Explain every red flag code (offline) and exit.");
  flags.String("party", &party, "A RUC or DNI.");
  flags.String("unit", &unit, "A concession code.");
  flags.Uint("start", &start, "First entry sequence.");
  flags.Uint("limit", &limit, "At most this many.");
  std::string lang_flag;
  AddLangFlag(flags, &lang_flag);
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  if (codes) {
    ASSIGN_OR_RETURN(const Lang lang, ChosenLang(lang_flag));
    for (const auto& m : RedFlagMeanings()) {
      std::printf("%s (rules v%s)\n%s  OECD Annex II: %s\n\n", std::string(m.code).c_str(),
                  std::string(m.rules).c_str(), Explained(m.code, lang, "  ").c_str(),
                  std::string(m.annex2).c_str());
    }
    return absl::OkStatus();
  }
  veta::v1::ListFlagsRequest request;
  request.set_party(party);
  request.set_unit(unit);
  request.set_start_sequence(start);
  request.set_limit(static_cast<uint32_t>(std::min<uint64_t>(limit, UINT32_MAX)));
  veta::v1::ListFlagsResponse response;
  auto ctx = Context();
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  RETURN_IF_ERROR(FromGrpc(stub->ListFlags(ctx.get(), request, &response), c.server));
  for (const auto& f : response.flags()) PrintJson(f);
  return absl::OkStatus();
}

absl::Status CheckCmd(int argc, char** argv) {
  Common c;
  Flags flags("veta check ENVELOPE.json",
              "The pre-purchase check: would this envelope (a sale signed by the buyer alone is\n"
              "enough) be accepted now? Runs the same rules as submit; writes nothing. Exits 0\n"
              "when it would be accepted, 1 with the refusal code and the facts otherwise.");
  AddConnectionFlags(flags, &c);
  flags.Bool("json", &c.json, "Print the answer as JSON.");
  std::string lang_flag;
  AddLangFlag(flags, &lang_flag);
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  ASSIGN_OR_RETURN(const Lang lang, ChosenLang(lang_flag));
  if (flags.positional().size() != 1) return absl::InvalidArgumentError("name one ENVELOPE.json");
  ASSIGN_OR_RETURN(std::string json, ReadInput(flags.positional()[0]));
  veta::v1::Envelope envelope;
  RETURN_IF_ERROR(MessageFromJson(json, &envelope));
  veta::v1::SubmitRequest request;
  request.set_envelope(envelope.SerializeAsString());
  veta::v1::SubmitResponse response;
  auto ctx = Context();
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  RETURN_IF_ERROR(FromGrpc(stub->Check(ctx.get(), request, &response), c.server));
  if (c.json) {
    PrintJson(response);
  } else if (response.code() == 0) {
    std::printf("would be accepted now%s\n", response.flags().empty() ? "" : ", with red flags:");
    for (const auto& f : response.flags()) {
      const std::string code = veta::v1::RedFlag_Name(f.flag());
      std::printf("  %s\n%s", f.message().c_str(), Explained(code, lang, "    ").c_str());
    }
  } else {
    std::printf("would be REFUSED: %s\n", response.message().c_str());
    std::fputs(Explained(response.refusal().empty() ? RefusalCodeOf(response.message())
                                                    : response.refusal(),
                         lang, "  ")
                   .c_str(),
               stdout);
  }
  if (response.code() != 0) return absl::FailedPreconditionError("the check refused it");
  return absl::OkStatus();
}

absl::Status ImportCmd(int argc, char** argv) {
  Common c;
  std::string key_path, kind = "PROHIBITED_INDIGENOUS_TERRITORY";
  ZoneImportOptions zone;
  bool dry_run = false;
  Flags flags(
      "veta import reinfo|repco FILE.csv --key REGISTRAR.pem\n"
      "       veta import zones FILE.geojson --key REGISTRAR.pem [--kind K] [--id-property P]",
      "Registers a REINFO (miners and units) or REPCO (traders, plants, exporters) CSV file,\n"
      "or the zones of a GeoJSON file, signed by a registrar key. Every row is checked first;\n"
      "a file with any bad row is reported (line and reason) and nothing is imported. Running\n"
      "an import again is safe: unchanged records are skipped, so an interrupted import\n"
      "resumes.\n\n"
      "CSV columns (a header row names them, in any order; the headers of MINEM's REINFO\n"
      "and SUNAT's REPCO lists are taken too, in any case and with or without accents;\n"
      "other columns are ignored). `reinfo`, one row per miner and mining unit:\n" +
          DescribeColumns(ReinfoColumns()) + "`repco`, one row per trader, plant or exporter:\n" +
          DescribeColumns(RepcoColumns()) +
          "\nExample: veta import reinfo reinfo.csv --key dgfm.pem --dry-run\n"
          "The registrar's key comes from `veta keygen` and `veta registrar add` (or VETA_KEY,\n"
          "config key).");
  AddConnectionFlags(flags, &c);
  flags.String("key", &key_path, "The registrar's private key.");
  flags.Bool("dry-run", &dry_run, "Check the file only.");
  flags.String("kind", &kind,
               "Zones: PROHIBITED_INDIGENOUS_TERRITORY, PROHIBITED_PROTECTED_AREA, "
               "PROHIBITED_WATER_BODY, PERMITTED_MINING_CORRIDOR, DETECTED_MINING_SCAR, "
               "ADMINISTRATIVE_DISTRICT (Peru's districts: --id-property IDDIST, the ubigeo).");
  flags.String("id-property", &zone.id_property, "Zones: the feature property holding the id.");
  flags.String("name-property", &zone.name_property, "Zones: the property holding the name.");
  flags.String("id-prefix", &zone.id_prefix, "Zones: prefix for every id.");
  flags.String("legal-reference", &zone.legal_reference, "Zones: the legal reference.");
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  if (flags.positional().size() != 2) {
    return absl::InvalidArgumentError("give what to import (reinfo, repco or zones) and the file");
  }
  const std::string& what = flags.positional()[0];
  ASSIGN_OR_RETURN(std::string text, ReadFile(flags.positional()[1], 256 << 20));
  ImportPlan plan;
  if (what == "reinfo") {
    plan = PlanReinfoImport(text);
  } else if (what == "repco") {
    plan = PlanRepcoImport(text);
  } else if (what == "zones") {
    if (!veta::v1::ZoneKind_Parse(kind, &zone.kind) ||
        zone.kind == veta::v1::ZONE_KIND_UNSPECIFIED) {
      return absl::InvalidArgumentError(StrCat("unknown zone kind '", kind, "'"));
    }
    plan = PlanZoneImport(text, zone);
  } else {
    return absl::InvalidArgumentError(StrCat("cannot import '", what, "': reinfo, repco or zones"));
  }
  for (const auto& e : plan.errors) {
    std::printf("%s:%zu: %s\n", flags.positional()[1].c_str(), e.line, e.reason.c_str());
  }
  if (!plan.errors.empty()) {
    return absl::InvalidArgumentError(
        StrCat(plan.errors.size(), " bad rows of ", plan.rows, "; nothing was imported"));
  }
  for (const auto& e : plan.skipped) {
    std::printf("%s:%zu: %s\n", flags.positional()[1].c_str(), e.line, e.reason.c_str());
  }
  std::printf("%zu rows checked: %zu records to register\n", plan.rows, plan.records.size());
  if (dry_run) return absl::OkStatus();
  if (key_path.empty()) key_path = SettingOrExit("key");
  if (key_path.empty()) {
    return absl::InvalidArgumentError("--key REGISTRAR.pem is required (or VETA_KEY, config key)");
  }
  ASSIGN_OR_RETURN(PrivateKey key, LoadPrivateKey(key_path));
  return SubmitRecords(plan.records, key, c);
}

}  // namespace veta::client
