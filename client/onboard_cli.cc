// Onboarding verbs: the authority registers a registrar; a record's keys are rotated; a
// registrar, miner, unit, party or selector is suspended and reinstated. Each reads the
// record's current version from the server, writes the next version (replacing it), signs it
// with the given key and submits it, so that nobody writes record JSON by hand. And `veta
// config`, the effective settings.
#include <google/protobuf/util/time_util.h>

#include <cstdio>

#include "client/cli.h"
#include "client/config.h"
#include "client/json.h"
#include "client/records.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/rules/registry.h"
#include "core/verify/envelope.h"

namespace veta::client {
namespace {

constexpr char kKeyHelp[] =
    "The signer's private key (PEM, from `veta keygen`; the authority's is DATA_DIR/"
    "authority-key.pem, written by `veta init`). Environment: VETA_KEY; config: key.";

// The signing key: --key, else VETA_KEY or the config file's `key`.
absl::StatusOr<PrivateKey> SigningKey(const std::string& flag) {
  std::string path = flag.empty() ? SettingOrExit("key") : flag;
  if (path.empty()) {
    return absl::InvalidArgumentError("give --key SIGNER.pem (or set VETA_KEY, or config key)");
  }
  return LoadPrivateKey(path);
}

// The record's current version, or NotFound naming it.
absl::StatusOr<veta::v1::RecordVersion> CurrentVersion(veta::v1::Ledger::Stub* stub,
                                                       const Common& c, std::string_view kind,
                                                       std::string_view id) {
  veta::v1::GetRecordRequest request;
  request.set_kind(std::string(kind));
  request.set_id(std::string(id));
  veta::v1::RecordVersion current;
  auto ctx = Context();
  grpc::Status s = stub->GetRecord(ctx.get(), request, &current);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
    return absl::NotFoundError(StrCat(kind, " ", id, " is not registered"));
  }
  RETURN_IF_ERROR(FromGrpc(s, c.server));
  return current;
}

// Signs `record` (its `replaces` set) with `key`, submits it and prints the answer: one plain
// line saying `done` (or the refusal), or --json's object. An error when refused.
absl::Status SignAndSubmit(veta::v1::Ledger::Stub* stub, const Common& c,
                           const veta::v1::RegistryRecord& record, const PrivateKey& key,
                           std::string_view done) {
  ASSIGN_OR_RETURN(veta::v1::Envelope envelope,
                   SignEnvelope(kRegistryType, record.SerializeAsString(), {key}));
  ASSIGN_OR_RETURN(veta::v1::SubmitResponse r,
                   SubmitOne(stub, envelope.SerializeAsString(), c.server));
  const auto [kind, id] = RecordKey(record);
  const std::string what = StrCat(RecordKindName(kind), " ", id);
  if (c.json) {
    std::printf("%s\n", AnswerJson(what, r).c_str());
  } else if (r.code() == 0) {
    std::printf("%s %s (entry %llu)\n", what.c_str(), std::string(done).c_str(),
                static_cast<unsigned long long>(r.sequence()));
  } else {
    std::printf("%s: REFUSED: %s\n", what.c_str(), r.message().c_str());
  }
  if (r.code() != 0) {
    return absl::FailedPreconditionError(
        StrCat(what, " was refused", r.refusal().empty() ? "" : StrCat(" (", r.refusal(), ")")));
  }
  return absl::OkStatus();
}

// A key registration (or revocation) of `key` to `holder`, signed by the authority's `signer`.
absl::Status SubmitKeyRegistration(veta::v1::Ledger::Stub* stub, const Common& c,
                                   const PublicKey& key, const std::string& holder, bool revoke,
                                   const PrivateKey& signer) {
  veta::v1::KeyRegistration reg;
  *reg.mutable_key() = key.ToProto();
  reg.set_holder(holder);
  reg.set_revoke(revoke);
  ASSIGN_OR_RETURN(veta::v1::Envelope envelope,
                   SignEnvelope(kKeyRegistrationType, reg.SerializeAsString(), {signer}));
  ASSIGN_OR_RETURN(veta::v1::SubmitResponse r,
                   SubmitOne(stub, envelope.SerializeAsString(), c.server));
  const std::string what = StrCat("key ", key.keyid().substr(0, 16), "... of ", holder);
  if (c.json) {
    std::printf("%s\n", AnswerJson(what, r).c_str());
  } else if (r.code() == 0) {
    std::printf("%s %s (entry %llu)\n", what.c_str(), revoke ? "revoked" : "registered",
                static_cast<unsigned long long>(r.sequence()));
  } else {
    std::printf("%s: REFUSED: %s\n", what.c_str(), r.message().c_str());
  }
  if (r.code() != 0) {
    return absl::FailedPreconditionError(
        StrCat(what, " was refused", r.refusal().empty() ? "" : StrCat(" (", r.refusal(), ")")));
  }
  return absl::OkStatus();
}

// The keys a record lists, for the record kinds that list keys.
google::protobuf::RepeatedPtrField<veta::v1::PublicKey>* MutableKeys(veta::v1::RegistryRecord* r) {
  if (r->has_registrar()) return r->mutable_registrar()->mutable_keys();
  if (r->has_miner()) return r->mutable_miner()->mutable_keys();
  if (r->has_party()) return r->mutable_party()->mutable_keys();
  if (r->has_selector()) return r->mutable_selector()->mutable_keys();
  return nullptr;
}

// Sets a record's status (SUSPENDIDO, VIGENTE): a registrar's alone, the others' with since
// (now) and the reason. False for records without a status (zones, parameters).
bool SetStatus(veta::v1::RegistryRecord* r, veta::v1::RegistryStatus status,
               const std::string& reason) {
  if (r->has_registrar()) {
    r->mutable_registrar()->set_status(status);
    return true;
  }
  veta::v1::StatusInfo* info = nullptr;
  if (r->has_miner()) info = r->mutable_miner()->mutable_status();
  if (r->has_unit()) info = r->mutable_unit()->mutable_status();
  if (r->has_party()) info = r->mutable_party()->mutable_status();
  if (r->has_selector()) info = r->mutable_selector()->mutable_status();
  if (info == nullptr) return false;
  info->set_status(status);
  *info->mutable_since() = google::protobuf::util::TimeUtil::GetCurrentTime();
  info->set_reason(reason);
  return true;
}

absl::Status Positional(const Flags& flags, size_t n, std::string_view what) {
  if (flags.positional().size() != n) return absl::InvalidArgumentError(StrCat("give ", what));
  return absl::OkStatus();
}

// Parses the flags of a verb on one record (rotate-key, suspend, reinstate): KIND and ID when
// `any_kind` (`veta rotate-key KIND ID`), else ID (`veta registrar rotate-key ID`); the help
// printed when asked (then `*help`).
absl::Status ParseKindAndId(Flags& flags, int argc, char** argv, bool any_kind, std::string* kind,
                            std::string* id, bool* help) {
  RETURN_IF_ERROR(flags.Parse(argc, argv, any_kind ? 2 : 3));
  *help = flags.help_requested();
  if (*help) {
    std::fputs(flags.Help().c_str(), stdout);
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(Positional(flags, any_kind ? 2 : 1, any_kind ? "KIND and ID" : "the ID"));
  if (any_kind) *kind = flags.positional()[0];
  *id = flags.positional().back();
  return absl::OkStatus();
}

// Rotate-key, suspend and reinstate, for `kind` (or KIND from the command line when empty);
// argv[first] is the first argument after the verb.
absl::Status RotateKey(int argc, char** argv, std::string kind) {
  Common c;
  std::string key_path, new_key_path, drop_key_path;
  bool keep_old = false;
  const bool any_kind = kind.empty();
  const std::string usage =
      any_kind ? "veta rotate-key KIND ID --new-key NEW.pub.pem [--keep-old] --key SIGNER.pem"
               : "veta registrar rotate-key ID --new-key NEW.pub.pem [--keep-old] --key "
                 "AUTHORITY.pem";
  Flags flags(usage,
              "Gives a registry record a new key: writes the record's next version listing the\n"
              "new public key (instead of the old ones; with --keep-old, beside them; with\n"
              "--drop-key, dropping that one only), signs it and submits it. From that entry on\n"
              "a dropped key signs nothing for the holder; what it signed before still verifies.\n"
              "KIND: registrar (signed by the authority), miner, party or selector (signed by a\n"
              "registrar). The new key comes from `veta keygen --out NEW` (NEW.pub.pem).\n"
              "KIND holder: a key registered by a key registration (a regulator's, a witness's),\n"
              "ID the holder's name: the authority registers the new key and, with --drop-key,\n"
              "revokes the old one (two entries).\n\n"
              "Example: veta keygen --out juana2 && veta rotate-key miner 10456789019 \\\n"
              "           --new-key juana2.pub.pem --key dgfm.pem");
  AddConnectionFlags(flags, &c);
  flags.String("key", &key_path, kKeyHelp);
  flags.String("new-key", &new_key_path, "The new public key (PEM; a private key's public half).");
  flags.Bool("keep-old", &keep_old, "Keep the record's other keys.");
  flags.String("drop-key", &drop_key_path, "Drop only this key (PEM), keeping the others.");
  flags.Bool("json", &c.json, "Print the answer as JSON.");
  bool help = false;
  std::string id;
  RETURN_IF_ERROR(ParseKindAndId(flags, argc, argv, any_kind, &kind, &id, &help));
  if (help) return absl::OkStatus();
  if (new_key_path.empty()) return absl::InvalidArgumentError("--new-key NEW.pub.pem is required");
  ASSIGN_OR_RETURN(PublicKey new_key, LoadAuthority(new_key_path));
  ASSIGN_OR_RETURN(PrivateKey signer, SigningKey(key_path));
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  if (kind == "holder") {
    if (keep_old) return absl::InvalidArgumentError("a holder keeps its keys unless --drop-key");
    RETURN_IF_ERROR(SubmitKeyRegistration(stub.get(), c, new_key, id, false, signer));
    if (drop_key_path.empty()) return absl::OkStatus();
    ASSIGN_OR_RETURN(PublicKey drop, LoadAuthority(drop_key_path));
    return SubmitKeyRegistration(stub.get(), c, drop, id, true, signer);
  }
  ASSIGN_OR_RETURN(veta::v1::RecordVersion current, CurrentVersion(stub.get(), c, kind, id));
  veta::v1::RegistryRecord next = current.record();
  next.set_replaces(current.sequence());
  auto* keys = MutableKeys(&next);
  if (keys == nullptr) {
    return absl::InvalidArgumentError(
        StrCat(kind,
               " records list no keys: rotate-key takes registrar, miner, party or "
               "selector"));
  }
  for (const auto& k : *keys) {
    if (k.keyid() == new_key.keyid()) {
      return absl::AlreadyExistsError(
          StrCat(kind, " ", id, " already lists key ", new_key.keyid().substr(0, 16), "..."));
    }
  }
  if (!drop_key_path.empty()) {
    ASSIGN_OR_RETURN(PublicKey drop, LoadAuthority(drop_key_path));
    auto it = std::find_if(keys->begin(), keys->end(),
                           [&](const veta::v1::PublicKey& k) { return k.keyid() == drop.keyid(); });
    if (it == keys->end()) {
      return absl::NotFoundError(
          StrCat(kind, " ", id, " does not list the key in ", drop_key_path));
    }
    keys->erase(it);
  } else if (!keep_old) {
    keys->Clear();
  }
  *keys->Add() = new_key.ToProto();
  return SignAndSubmit(stub.get(), c, next, signer,
                       StrCat("now has key ", new_key.keyid().substr(0, 16), "... (", keys->size(),
                              keys->size() == 1 ? " key)" : " keys)"));
}

absl::Status SetStatusCmd(int argc, char** argv, std::string kind,
                          veta::v1::RegistryStatus status) {
  Common c;
  std::string key_path, reason;
  const bool any_kind = kind.empty();
  const bool suspend = status != veta::v1::VIGENTE;
  const std::string verb = suspend ? "suspend" : "reinstate";
  const std::string usage = any_kind
                                ? StrCat("veta ", verb, " KIND ID --reason TEXT --key SIGNER.pem")
                                : StrCat("veta registrar ", verb, " ID --key AUTHORITY.pem");
  Flags flags(
      usage,
      suspend
          ? "Suspends a registration: writes the record's next version with status SUSPENDIDO\n"
            "(since now, for the reason given), signs it and submits it. A suspended miner,\n"
            "unit, party or selector may not extract, sell or buy; a suspended registrar signs\n"
            "no records. `veta reinstate` lifts it. KIND: registrar (signed by the authority),\n"
            "miner, unit, party or selector (signed by a registrar).\n\n"
            "Example: veta suspend party 20612345679 --reason \"RUC no habido\" --key dgfm.pem"
          : "Lifts a suspension: writes the record's next version with status VIGENTE (since\n"
            "now), signs it and submits it. Work dated inside the suspension stays refused.\n"
            "KIND: registrar (signed by the authority), miner, unit, party or selector (signed\n"
            "by a registrar).\n\n"
            "Example: veta reinstate party 20612345679 --key dgfm.pem");
  AddConnectionFlags(flags, &c);
  flags.String("key", &key_path, kKeyHelp);
  flags.String("reason", &reason, "Why (recorded in the record's status).");
  flags.Bool("json", &c.json, "Print the answer as JSON.");
  bool help = false;
  std::string id;
  RETURN_IF_ERROR(ParseKindAndId(flags, argc, argv, any_kind, &kind, &id, &help));
  if (help) return absl::OkStatus();
  if (suspend && reason.empty() && kind != "registrar") {
    return absl::InvalidArgumentError("--reason is required: say why");
  }
  ASSIGN_OR_RETURN(PrivateKey signer, SigningKey(key_path));
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  ASSIGN_OR_RETURN(veta::v1::RecordVersion current, CurrentVersion(stub.get(), c, kind, id));
  veta::v1::RegistryRecord next = current.record();
  next.set_replaces(current.sequence());
  if (!SetStatus(&next, status, reason)) {
    return absl::InvalidArgumentError(StrCat(kind, " records have no status: ", verb,
                                             " takes registrar, miner, unit, party or selector"));
  }
  return SignAndSubmit(stub.get(), c, next, signer, suspend ? "is SUSPENDIDO" : "is VIGENTE again");
}

absl::Status RegistrarAdd(int argc, char** argv) {
  Common c;
  std::string key_path, public_key_path, name;
  Flags flags(
      "veta registrar add ID --name NAME --public-key REGISTRAR.pub.pem --key AUTHORITY.pem",
      "The authority registers a registrar: an institution whose key signs registry records\n"
      "(miners, units, parties, selectors, zones, parameters), e.g. DGFM, a regional DREM.\n"
      "Writes the registrar record (status VIGENTE, listing its public key), signs it with the\n"
      "authority key and submits it. The registrar makes its key with `veta keygen --out NAME`\n"
      "and hands over NAME.pub.pem; the authority's key is DATA_DIR/authority-key.pem (`veta\n"
      "init`). Adding a registrar that exists writes a new version of it.\n\n"
      "Example: veta registrar add DGFM --name \"Direccion General de Formalizacion Minera\" \\\n"
      "           --public-key dgfm.pub.pem --key data/authority-key.pem");
  AddConnectionFlags(flags, &c);
  flags.String("key", &key_path, kKeyHelp);
  flags.String("public-key", &public_key_path, "The registrar's public key (PEM).");
  flags.String("name", &name, "The registrar's name.");
  flags.Bool("json", &c.json, "Print the answer as JSON.");
  RETURN_IF_ERROR(flags.Parse(argc, argv, 3));
  if (flags.help_requested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(Positional(flags, 1, "the registrar's ID (e.g. DGFM)"));
  if (public_key_path.empty() || name.empty()) {
    return absl::InvalidArgumentError("--name and --public-key are required");
  }
  ASSIGN_OR_RETURN(PublicKey registrar_key, LoadAuthority(public_key_path));
  ASSIGN_OR_RETURN(PrivateKey signer, SigningKey(key_path));
  veta::v1::RegistryRecord record;
  auto* g = record.mutable_registrar();
  g->set_registrar_id(flags.positional()[0]);
  g->set_name(name);
  *g->add_keys() = registrar_key.ToProto();
  g->set_status(veta::v1::VIGENTE);
  RETURN_IF_ERROR(ValidateRecord(record));
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  ASSIGN_OR_RETURN(auto versioned, AgainstCurrentVersions(stub.get(), {record}));
  if (versioned[0].unchanged) {
    std::printf("registrar %s is already registered as it is: nothing to do\n",
                flags.positional()[0].c_str());
    return absl::OkStatus();
  }
  return SignAndSubmit(stub.get(), c, versioned[0].record, signer,
                       versioned[0].record.replaces() == 0 ? "registered" : "updated");
}

}  // namespace

absl::Status RotateKeyCmd(int argc, char** argv) { return RotateKey(argc, argv, ""); }
absl::Status SuspendCmd(int argc, char** argv) {
  return SetStatusCmd(argc, argv, "", veta::v1::SUSPENDIDO);
}
absl::Status ReinstateCmd(int argc, char** argv) {
  return SetStatusCmd(argc, argv, "", veta::v1::VIGENTE);
}

absl::Status RegistrarCmd(int argc, char** argv) {
  constexpr char kUsage[] =
      "Usage: veta registrar add|rotate-key|suspend|reinstate ID [options]\n\n"
      "The authority's verbs for registrars (signed with the authority key, DATA_DIR/\n"
      "authority-key.pem):\n"
      "  add ID --name NAME --public-key KEY.pub.pem   register a registrar\n"
      "  rotate-key ID --new-key NEW.pub.pem             give it a new key\n"
      "  suspend ID                                      it signs no records meanwhile\n"
      "  reinstate ID                                    lift the suspension\n"
      "`veta registrar VERB --help` tells more.\n";
  if (argc < 3 || std::string_view(argv[2]) == "--help" || std::string_view(argv[2]) == "-h") {
    std::fputs(kUsage, argc < 3 ? stderr : stdout);
    return argc < 3 ? absl::InvalidArgumentError("name a verb") : absl::OkStatus();
  }
  const std::string_view verb = argv[2];
  if (verb == "add") return RegistrarAdd(argc, argv);
  if (verb == "rotate-key") return RotateKey(argc, argv, "registrar");
  if (verb == "suspend") return SetStatusCmd(argc, argv, "registrar", veta::v1::SUSPENDIDO);
  if (verb == "reinstate") return SetStatusCmd(argc, argv, "registrar", veta::v1::VIGENTE);
  std::fputs(kUsage, stderr);
  return absl::InvalidArgumentError(StrCat("unknown verb '", verb, "'"));
}

absl::Status ConfigCmd(int argc, char** argv) {
  Common c;
  std::string key_path, web_url;
  Flags flags("veta config [--json] [--server ...]",
              "Shows the settings the CLI and the tools use, and where each comes from: a flag,\n"
              "the environment (VETA_SERVER, VETA_TLS_CA, VETA_TLS_CERT, VETA_TLS_KEY, VETA_KEY,\n"
              "VETA_WEB_URL), the config file, or the default (first found wins, in that order).\n"
              "The config file is $VETA_CONFIG, else $XDG_CONFIG_HOME/veta/config, else\n"
              "~/.config/veta/config: `key = value` lines, # comments; keys: server, tls_ca,\n"
              "tls_cert, tls_key, key, web_url; relative file names are read from its folder.\n\n"
              "Example config:\n"
              "  server = ledger.example.pe:7480\n"
              "  tls_ca = server.crt\n"
              "  key = dgfm.pem\n"
              "  web_url = https://ledger.example.pe");
  AddConnectionFlags(flags, &c);
  flags.String("key", &key_path, "The signing key.");
  flags.String("web-url", &web_url, "The web app's base URL.");
  flags.Bool("json", &c.json, "Print the settings as one JSON object.");
  // The values before flags: environment, config file or default.
  std::vector<Setting> settings;
  for (std::string_view k : SettingKeys()) {
    ASSIGN_OR_RETURN(Setting s, LookupSetting(k));
    settings.push_back(std::move(s));
  }
  const ConnectionOptions before = c;
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  const std::map<std::string, std::pair<std::string, std::string>> given = {
      {"server", {c.server, before.server}},
      {"tls_ca", {c.ca_file, before.ca_file}},
      {"tls_cert", {c.cert_file, before.cert_file}},
      {"tls_key", {c.key_file, before.key_file}},
      {"key", {key_path, ""}},
      {"web_url", {web_url, ""}},
  };
  for (Setting& s : settings) {
    auto it = given.find(s.key);
    if (it == given.end()) continue;
    const auto& [now, was] = it->second;
    if (!now.empty() && now != was) {
      s.value = now;
      s.source = StrCat("flag --", s.key == "tls_ca"     ? "tls-ca"
                                   : s.key == "tls_cert" ? "tls-cert"
                                   : s.key == "tls_key"  ? "tls-key"
                                   : s.key == "web_url"  ? "web-url"
                                                         : s.key);
    }
  }
  if (c.json) {
    std::string out = StrCat("{\"configFile\":", JsonQuote(ConfigPath()));
    for (const Setting& s : settings) {
      out += StrCat(",", JsonQuote(s.key), ":{\"value\":", JsonQuote(s.value),
                    ",\"source\":", JsonQuote(s.source), "}");
    }
    std::printf("%s}\n", out.c_str());
    return absl::OkStatus();
  }
  std::printf("config file: %s\n", ConfigPath().c_str());
  for (const Setting& s : settings) {
    std::printf("%-9s = %-40s (%s)\n", s.key.c_str(), s.value.empty() ? "\"\"" : s.value.c_str(),
                s.source.c_str());
  }
  return absl::OkStatus();
}

}  // namespace veta::client
