// veta: the command-line client of a Veta ledger.
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <thread>

#include "client/cli.h"
#include "client/config.h"
#include "client/json.h"
#include "core/base/flags.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/log/ledger.h"
#include "core/verify/certificate_verify.h"
#include "core/verify/cosignature.h"
#include "core/verify/envelope.h"
#include "core/verify/merkle.h"
#include "core/verify/note.h"
#include "core/verify/tlog_proof.h"
#include "core/verify/x509.h"
#include "veta/v1/service.grpc.pb.h"

namespace veta::client {
namespace {

// Checks a proof bundle offline: the checkpoint's signature by the authority, the entry's
// leaf hash, and its inclusion proof against the checkpoint's root.
// A proof bundle as a C2SP tlog-proof (the entry's bytes as the extra data), and back.
std::string ToTlogProof(const veta::v1::ProofBundle& bundle) {
  tlogproof::TlogProof p;
  p.extra = bundle.entry();
  p.index = bundle.inclusion().leaf_index();
  for (const std::string& h : bundle.inclusion().hashes()) {
    Hash x{};
    if (HashFromBytes(h, &x)) p.inclusion.push_back(x);
  }
  p.checkpoint_note = bundle.checkpoint().note();
  return tlogproof::Format(p);
}

absl::StatusOr<veta::v1::ProofBundle> FromTlogProof(std::string_view text) {
  ASSIGN_OR_RETURN(tlogproof::TlogProof p, tlogproof::Parse(text));
  if (p.extra.empty()) {
    return absl::InvalidArgumentError("this tlog-proof carries no entry (no extra line)");
  }
  ASSIGN_OR_RETURN(cosig::NoteParts parts, cosig::SplitNote(p.checkpoint_note));
  ASSIGN_OR_RETURN(note::Checkpoint cp, note::ParseCheckpointText(parts.text));
  veta::v1::ProofBundle bundle;
  bundle.set_entry(p.extra);
  bundle.mutable_inclusion()->set_leaf_index(p.index);
  bundle.mutable_inclusion()->set_tree_size(cp.size);
  bundle.mutable_inclusion()->set_leaf_hash(std::string(AsBytes(merkle::HashLeaf(p.extra))));
  for (const Hash& h : p.inclusion) bundle.mutable_inclusion()->add_hashes(std::string(AsBytes(h)));
  bundle.mutable_checkpoint()->set_origin(cp.origin);
  bundle.mutable_checkpoint()->set_tree_size(cp.size);
  bundle.mutable_checkpoint()->set_root_hash(std::string(AsBytes(cp.root)));
  bundle.mutable_checkpoint()->set_note(p.checkpoint_note);
  return bundle;
}

absl::StatusOr<note::Checkpoint> VerifyBundle(const veta::v1::ProofBundle& bundle,
                                              const PublicKey& authority) {
  ASSIGN_OR_RETURN(note::Checkpoint cp, OpenCheckpointNote(bundle.checkpoint().note(), authority));
  RETURN_IF_ERROR(VerifyInclusionBundle(bundle, cp));
  return cp;
}

absl::Status Keygen(int argc, char** argv) {
  std::string algorithm = "ed25519", out;
  Flags flags("veta keygen --out NAME [--algorithm ed25519|ecdsa-p256]",
              "Generates a signing key: NAME.pem (private, mode 0600), NAME.pub.pem (public),\n"
              "NAME.pubkey.json (the key as registry records name it) and\n"
              "NAME.registration.json (a key-registration payload for the authority to sign).\n"
              "Prints the key id and the base64 SubjectPublicKeyInfo (the public_key column of\n"
              "REINFO/REPCO imports).");
  flags.String("out", &out, "File name prefix.");
  flags.String("algorithm", &algorithm, "ed25519 or ecdsa-p256.");
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  if (out.empty() && !flags.positional().empty()) out = flags.positional()[0];
  if (out.empty()) return absl::InvalidArgumentError("--out NAME is required");
  ASSIGN_OR_RETURN(KeyAlgorithm alg, ParseAlgorithmName(algorithm));
  ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::Generate(alg));
  RETURN_IF_ERROR(WriteFileAtomic(out + ".pem", key.ToPem(), 0600));
  RETURN_IF_ERROR(WriteFileAtomic(out + ".pub.pem", key.public_key().ToPem()));
  veta::v1::KeyRegistration reg;
  *reg.mutable_key() = key.public_key().ToProto();
  reg.set_holder(out);
  ASSIGN_OR_RETURN(std::string reg_json, MessageToJson(reg));
  RETURN_IF_ERROR(WriteFileAtomic(out + ".registration.json", reg_json + "\n"));
  ASSIGN_OR_RETURN(std::string key_json, MessageToJson(key.public_key().ToProto()));
  RETURN_IF_ERROR(WriteFileAtomic(out + ".pubkey.json", key_json + "\n"));
  std::printf(
      "%s key %s\n  private: %s.pem\n  public:  %s.pub.pem (record form: %s.pubkey.json)\n"
      "  registration payload: %s.registration.json\n  base64 SPKI: %s\n",
      std::string(AlgorithmName(alg)).c_str(), key.public_key().keyid().c_str(), out.c_str(),
      out.c_str(), out.c_str(), out.c_str(), Base64Encode(key.public_key().spki_der()).c_str());
  return absl::OkStatus();
}

absl::Status Certgen(int argc, char** argv) {
  std::string key_path, out, name = "veta";
  std::vector<std::string> alt_names;
  Flags flags("veta certgen --key KEY.pem --out CERT.pem [--name CN] [--alt-name localhost]",
              "Makes a self-signed TLS certificate for a key. For a client, use the party's\n"
              "registered signing key: the server knows the caller by that key (no CA needed).\n"
              "For the server, give --alt-name for each host name or IP clients connect to.\n"
              "Clients use TLS with --tls-ca SERVER.crt (or VETA_TLS_CA), and present their\n"
              "certificate with --tls-cert CERT.pem --tls-key KEY.pem (or VETA_TLS_CERT,\n"
              "VETA_TLS_KEY).");
  flags.String("key", &key_path, "The private key (PEM).");
  flags.String("out", &out, "Where to write the certificate.");
  flags.String("name", &name, "Common name.");
  flags.Strings("alt-name", &alt_names, "Subject alternative name: DNS name or IP (repeatable).");
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  if (key_path.empty() || out.empty())
    return absl::InvalidArgumentError("--key and --out are required");
  ASSIGN_OR_RETURN(PrivateKey key, LoadPrivateKey(key_path));
  ASSIGN_OR_RETURN(std::string pem, SelfSignedCertificate(key, name, alt_names));
  RETURN_IF_ERROR(WriteFileAtomic(out, pem));
  std::printf("certificate for key %s written to %s\n", key.public_key().keyid().c_str(),
              out.c_str());
  return absl::OkStatus();
}

absl::Status Init(int argc, char** argv) {
  std::string data_dir = DefaultDataDir(), origin = "veta.example/ledger",
              description = "Veta gold traceability ledger";
  bool if_missing = false;
  Flags flags("veta init [--data-dir DIR] [--origin NAME]",
              "Creates a new ledger: an Ed25519 authority key (DATA_DIR/authority-key.pem, mode\n"
              "0600; its public half in DATA_DIR/authority.pub.pem) and the genesis entry naming\n"
              "it, with the first signed checkpoint.");
  flags.String("data-dir", &data_dir, "Folder for the new ledger.");
  flags.String("origin", &origin, "The log's name in its checkpoints (no spaces or '+').");
  flags.String("description", &description, "Free text recorded in the genesis.");
  flags.Bool("if-missing", &if_missing, "Do nothing (and succeed) when a ledger exists.");
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  struct stat st;
  if (if_missing && ::stat(DatabasePath(data_dir).c_str(), &st) == 0) {
    std::printf("ledger exists in %s\n", data_dir.c_str());
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(PrivateKey authority, PrivateKey::Generate(KeyAlgorithm::kEd25519));
  RETURN_IF_ERROR(Ledger::Create(data_dir, origin, authority, description));
  RETURN_IF_ERROR(WriteFileAtomic(data_dir + "/authority.pub.pem", authority.public_key().ToPem()));
  ASSIGN_OR_RETURN(std::string verifier, note::VerifierKey(origin, authority.public_key()));
  std::printf(
      "created ledger %s in %s\n  authority key %s\n  private: %s\n  public:  %s\n"
      "  checkpoint verifier key: %s\n",
      origin.c_str(), data_dir.c_str(), authority.public_key().keyid().c_str(),
      AuthorityKeyPath(data_dir).c_str(), (data_dir + "/authority.pub.pem").c_str(),
      verifier.c_str());
  return absl::OkStatus();
}

absl::Status Sign(int argc, char** argv) {
  std::string type = "memo", out, add_to;
  std::vector<std::string> keys;
  std::string types = "\n\nPayload types (--type):";
  for (const auto& t : PayloadTypeNames()) {
    types += StrCat("\n  ", t.name, std::string(t.name.size() < 17 ? 17 - t.name.size() : 1, ' '),
                    t.description);
  }
  Flags flags("veta sign --key KEY.pem [--key KEY2.pem] [--type TYPE] PAYLOAD.json",
              "Turns a payload written as JSON into its binary form and signs it: prints a\n"
              "signed envelope (DSSE JSON) to submit. With --add-to ENVELOPE.json, adds\n"
              "signatures to an existing envelope instead (a sale needs seller and buyer).\n"
              "A registry record names the version it replaces: \"replaces\": the entry of the\n"
              "record's current version (`veta record KIND ID` shows it), or 0 for a new record;\n"
              "anything else is refused as RECORD_VERSION_STALE, so that an old version can\n"
              "never be submitted again.\n"
              "Quantities are integers (grams of ore: oreG, quantityOreG; milligrams of gold:\n"
              "goldMg, quantityMg; ppb: gradePpb, finenessPpb; priceCents); they may be typed\n"
              "in human units instead, read exactly: oreKg, quantityKg (kg, 3 decimals),\n"
              "goldG, quantityG (g, 3), gradeGPerT (g/t, 3), fineness (per mille, 6),\n"
              "pricePen (soles, 2), e.g. {\"oreKg\": 1250.5, \"gradeGPerT\": \"8.5\"}." +
                  types +
                  "\n\nExample: veta sign --type memo --key plant.pem memo.json >memo.env.json\n"
                  "Keys come from `veta keygen` (or VETA_KEY / the config file's `key` when no\n"
                  "--key is given).");
  flags.Strings("key", &keys, "Private key to sign with (repeatable).");
  flags.String("type", &type, "Payload type: one of the list above.");
  flags.String("add-to", &add_to, "Envelope JSON to add signatures to.");
  flags.String("out", &out, "Write the envelope here instead of standard output.");
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  if (keys.empty()) {
    if (std::string k = SettingOrExit("key"); !k.empty()) keys.push_back(k);
  }
  if (keys.empty()) {
    return absl::InvalidArgumentError("at least one --key is required (or VETA_KEY, config key)");
  }
  veta::v1::Envelope envelope;
  if (!add_to.empty()) {
    ASSIGN_OR_RETURN(std::string json, ReadInput(add_to));
    RETURN_IF_ERROR(MessageFromJson(json, &envelope));
  } else {
    if (flags.positional().size() != 1) {
      return absl::InvalidArgumentError("name one PAYLOAD.json file (or - for standard input)");
    }
    ASSIGN_OR_RETURN(std::string_view payload_type, PayloadTypeFromName(type));
    ASSIGN_OR_RETURN(std::string json, ReadInput(flags.positional()[0]));
    ASSIGN_OR_RETURN(std::string payload, PayloadFromJson(payload_type, json));
    envelope.set_payload_type(std::string(payload_type));
    envelope.set_payload(std::move(payload));
  }
  for (const auto& path : keys) {
    ASSIGN_OR_RETURN(PrivateKey key, LoadPrivateKey(path));
    RETURN_IF_ERROR(AddSignature(&envelope, key));
  }
  ASSIGN_OR_RETURN(std::string json, MessageToJson(envelope));
  return WriteOutput(out, json + "\n");
}

absl::Status Submit(int argc, char** argv) {
  Common c;
  Flags flags("veta submit [--server HOST:PORT] ENVELOPE.json...",
              "Submits signed envelopes. One file goes by a unary call, several by one stream;\n"
              "each answer (sequence number and leaf hash, or the refusal) means the entry is on\n"
              "disk. Exits non-zero if any envelope was refused.");
  AddConnectionFlags(flags, &c);
  flags.Bool("json", &c.json, "Print one JSON object per answer.");
  std::string lang_flag;
  AddLangFlag(flags, &lang_flag);
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  ASSIGN_OR_RETURN(const Lang lang, ChosenLang(lang_flag));
  if (flags.positional().empty()) return absl::InvalidArgumentError("name ENVELOPE.json files");
  std::vector<veta::v1::SubmitRequest> requests;
  for (const auto& path : flags.positional()) {
    ASSIGN_OR_RETURN(std::string json, ReadInput(path));
    veta::v1::Envelope envelope;
    auto parsed = MessageFromJson(json, &envelope);
    if (!parsed.ok()) return absl::InvalidArgumentError(StrCat(path, ": ", parsed.message()));
    requests.emplace_back().set_envelope(envelope.SerializeAsString());
  }
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  std::vector<veta::v1::SubmitResponse> responses;
  if (requests.size() == 1) {
    ASSIGN_OR_RETURN(auto response, SubmitOne(stub.get(), requests[0].envelope(), c.server));
    responses.push_back(response);
  } else {
    auto ctx = Context(300);
    auto stream = stub->SubmitStream(ctx.get());
    constexpr size_t kBatch = 256;  // envelopes per SubmitBatch message
    std::thread writer([&] {
      for (size_t i = 0; i < requests.size(); i += kBatch) {
        veta::v1::SubmitBatch batch;
        for (size_t j = i; j < std::min(requests.size(), i + kBatch); ++j) {
          batch.add_envelopes(requests[j].envelope());
        }
        if (!stream->Write(batch)) break;
      }
      stream->WritesDone();
    });
    veta::v1::SubmitBatchResponse response;
    while (stream->Read(&response)) {
      for (const auto& a : response.answers()) responses.push_back(a);
    }
    writer.join();
    RETURN_IF_ERROR(FromGrpc(stream->Finish(), c.server));
  }
  int refused = 0;
  for (size_t i = 0; i < responses.size(); ++i) {
    const auto& r = responses[i];
    const std::string& path = flags.positional()[i];
    if (r.code() != 0) ++refused;
    if (c.json) {  // one object a line; every string quoted and escaped
      std::printf("%s\n", AnswerJson(path, r).c_str());
    } else if (r.code() == 0) {
      std::printf("%s: recorded as entry %llu, leaf hash %s\n", path.c_str(),
                  static_cast<unsigned long long>(r.sequence()), ToHex(r.leaf_hash()).c_str());
      for (const auto& f : r.flags()) {  // each red flag, then what it means
        const std::string code = veta::v1::RedFlag_Name(f.flag());
        std::printf("  red flag %s: %s\n%s", code.c_str(), f.message().c_str(),
                    Explained(code, lang, "  ").c_str());
      }
    } else {
      std::printf("%s: refused (%s): %s\n", path.c_str(),
                  absl::StatusCodeToString(static_cast<absl::StatusCode>(r.code())).c_str(),
                  r.message().c_str());
      std::fputs(
          Explained(r.refusal().empty() ? RefusalCodeOf(r.message()) : r.refusal(), lang, "  ")
              .c_str(),
          stdout);
    }
  }
  if (refused > 0) {
    return absl::FailedPreconditionError(
        StrCat(refused, " of ", responses.size(), " envelopes were refused"));
  }
  return absl::OkStatus();
}

absl::Status Get(int argc, char** argv) {
  Common c;
  Flags flags("veta get [--server HOST:PORT] SEQUENCE",
              "Prints one entry as JSON: its envelope, payload, signatures and hashes.");
  AddConnectionFlags(flags, &c);
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  uint64_t seq = 0;
  if (flags.positional().size() != 1 || !ParseU64(flags.positional()[0], &seq)) {
    return absl::InvalidArgumentError("give one SEQUENCE number");
  }
  veta::v1::GetEntryRequest request;
  request.set_sequence(seq);
  veta::v1::GetEntryResponse response;
  auto ctx = Context();
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  RETURN_IF_ERROR(FromGrpc(stub->GetEntry(ctx.get(), request, &response), c.server));
  std::printf("%s\n", EntryToJson(response.entry_bytes()).c_str());
  return absl::OkStatus();
}

absl::Status List(int argc, char** argv) {
  Common c;
  uint64_t start = 0, limit = 20;
  Flags flags("veta list [--start N] [--limit N]", "Prints entries as JSON, one per line.");
  AddConnectionFlags(flags, &c);
  flags.Uint("start", &start, "First sequence number.");
  flags.Uint("limit", &limit, "How many (the server caps a page).");
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  veta::v1::ListEntriesRequest request;
  request.set_start(start);
  request.set_limit(static_cast<uint32_t>(std::min<uint64_t>(limit, UINT32_MAX)));
  veta::v1::ListEntriesResponse response;
  auto ctx = Context();
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  RETURN_IF_ERROR(FromGrpc(stub->ListEntries(ctx.get(), request, &response), c.server));
  for (const auto& e : response.entries())
    std::printf("%s\n", EntryToJson(e.entry_bytes()).c_str());
  return absl::OkStatus();
}

absl::Status CheckpointCmd(int argc, char** argv) {
  Common c;
  std::string authority_path, out;
  Flags flags("veta checkpoint [--authority AUTHORITY.pub.pem] [--out FILE]",
              "Prints the latest signed checkpoint (C2SP tlog-checkpoint note). With --authority,\n"
              "verifies its signature first.");
  AddConnectionFlags(flags, &c);
  flags.String("authority", &authority_path, "The authority's public key.");
  flags.String("out", &out, "Also save the note to this file.");
  flags.Bool("json", &c.json, "Print size, root and note as JSON.");
  std::string witness_policy;
  flags.String("witness-policy", &witness_policy,
               "A tlog-policy file: also require the witnesses' quorum (needs --authority).");
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  if (!witness_policy.empty() && authority_path.empty()) {
    return absl::InvalidArgumentError("--witness-policy needs --authority");
  }
  veta::v1::Checkpoint cp;
  auto ctx = Context();
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  RETURN_IF_ERROR(
      FromGrpc(stub->GetCheckpoint(ctx.get(), veta::v1::GetCheckpointRequest(), &cp), c.server));
  if (!authority_path.empty()) {
    ASSIGN_OR_RETURN(PublicKey authority, LoadAuthority(authority_path));
    ASSIGN_OR_RETURN(note::Checkpoint parsed, OpenCheckpointNote(cp.note(), authority));
    if (parsed.size != cp.tree_size()) return absl::DataLossError("checkpoint fields disagree");
    ASSIGN_OR_RETURN(std::string witnessed,
                     CheckWitnessPolicy(witness_policy, cp.note(), authority));
    if (!witnessed.empty() && !c.json) std::fprintf(stderr, "%s\n", witnessed.c_str());
  }
  if (!out.empty()) RETURN_IF_ERROR(WriteFileAtomic(out, cp.note()));
  if (c.json) {
    ASSIGN_OR_RETURN(std::string json, MessageToJson(cp));
    std::printf("%s\n", json.c_str());
  } else {
    std::fputs(cp.note().c_str(), stdout);
    if (!authority_path.empty())
      std::printf("(signature verified with %s)\n", authority_path.c_str());
  }
  return absl::OkStatus();
}

absl::Status Prove(int argc, char** argv) {
  Common c;
  std::string authority_path, out;
  uint64_t wait_ms = 5000;
  Flags flags("veta prove --authority AUTHORITY.pub.pem [--out BUNDLE.json] SEQUENCE",
              "Fetches the latest checkpoint, the entry and its inclusion proof, and checks them\n"
              "trusting only the authority's public key. Waits for a checkpoint that covers the\n"
              "entry. --out saves entry, proof and checkpoint for `veta verify` (offline).");
  AddConnectionFlags(flags, &c);
  flags.String("authority", &authority_path, "The authority's public key.");
  flags.String("out", &out, "Save the proof bundle (JSON) here.");
  flags.Uint("wait-ms", &wait_ms, "How long to wait for a checkpoint covering the entry.");
  flags.Bool("json", &c.json, "Print the result as JSON.");
  std::string witness_policy, format = "json";
  flags.String("witness-policy", &witness_policy,
               "A tlog-policy file: also require the witnesses' quorum on the checkpoint.");
  flags.String("format", &format,
               "Format of --out: json (a ProofBundle) or tlog-proof (C2SP tlog-proof@v1, the "
               "entry's bytes as its extra data).");
  std::string lang_flag;
  AddLangFlag(flags, &lang_flag);
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  ASSIGN_OR_RETURN(const Lang lang, ChosenLang(lang_flag));
  uint64_t seq = 0;
  if (flags.positional().size() != 1 || !ParseU64(flags.positional()[0], &seq)) {
    return absl::InvalidArgumentError("give one SEQUENCE number");
  }
  ASSIGN_OR_RETURN(PublicKey authority, LoadAuthority(authority_path));
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  veta::v1::ProofBundle bundle;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (true) {
    auto ctx = Context();
    RETURN_IF_ERROR(FromGrpc(stub->GetCheckpoint(ctx.get(), veta::v1::GetCheckpointRequest(),
                                                 bundle.mutable_checkpoint()),
                             c.server));
    // With a policy, wait for a checkpoint the witnesses cosigned, too.
    if (bundle.checkpoint().tree_size() > seq &&
        (witness_policy.empty() ||
         CheckWitnessPolicy(witness_policy, bundle.checkpoint().note(), authority).ok())) {
      break;
    }
    if (std::chrono::steady_clock::now() > give_up && bundle.checkpoint().tree_size() > seq) {
      // It covers the entry, but the witnesses' quorum has not cosigned it.
      return CheckWitnessPolicy(witness_policy, bundle.checkpoint().note(), authority).status();
    }
    if (std::chrono::steady_clock::now() > give_up) {
      return absl::FailedPreconditionError(
          StrCat("no checkpoint covers entry ", seq, " yet (latest is of size ",
                 bundle.checkpoint().tree_size(), "); does the entry exist?"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  veta::v1::GetInclusionProofRequest request;
  request.set_sequence(seq);
  request.set_tree_size(bundle.checkpoint().tree_size());
  auto ctx = Context();
  RETURN_IF_ERROR(
      FromGrpc(stub->GetInclusionProof(ctx.get(), request, bundle.mutable_inclusion()), c.server));
  veta::v1::GetEntryRequest entry_request;
  entry_request.set_sequence(seq);
  veta::v1::GetEntryResponse entry;
  auto ctx2 = Context();
  RETURN_IF_ERROR(FromGrpc(stub->GetEntry(ctx2.get(), entry_request, &entry), c.server));
  bundle.set_entry(entry.entry_bytes());
  auto verified = VerifyBundle(bundle, authority);
  if (!verified.ok()) {
    return absl::DataLossError(
        StrCat("the server's proof does not verify: ", verified.status().message()));
  }
  ASSIGN_OR_RETURN(std::string witnessed,
                   CheckWitnessPolicy(witness_policy, bundle.checkpoint().note(), authority));
  if (format != "json" && format != "tlog-proof") {
    return absl::InvalidArgumentError("--format is json or tlog-proof");
  }
  if (!out.empty() && format == "tlog-proof") {
    RETURN_IF_ERROR(WriteFileAtomic(out, ToTlogProof(bundle)));
  } else if (!out.empty()) {
    ASSIGN_OR_RETURN(std::string json, MessageToJson(bundle));
    RETURN_IF_ERROR(WriteFileAtomic(out, json + "\n"));
  }
  if (!witnessed.empty() && !c.json) std::printf("%s\n", witnessed.c_str());
  if (c.json) {
    std::printf("{\"verified\":true,\"sequence\":%llu,\"treeSize\":%llu,\"rootHash\":\"%s\"}\n",
                static_cast<unsigned long long>(seq),
                static_cast<unsigned long long>(verified->size), ToHex(verified->root).c_str());
    return absl::OkStatus();
  }
  std::printf("%s\n",
              (lang == Lang::kEs
                   ? StrCat("la entrada ", seq, " está en el registro: prueba de inclusión de ",
                            bundle.inclusion().hashes_size(),
                            " hashes verificada contra el checkpoint de tamaño ", verified->size,
                            " firmado por la autoridad")
                   : StrCat("entry ", seq, " is in the log: inclusion proof of ",
                            bundle.inclusion().hashes_size(),
                            " hashes verified against the checkpoint of size ", verified->size,
                            " signed by the authority"))
                  .c_str());
  return absl::OkStatus();
}

absl::Status Verify(int argc, char** argv) {
  std::string authority_path;
  Flags flags("veta verify --authority AUTHORITY.pub.pem BUNDLE.json",
              "Checks a proof bundle offline (no server): the checkpoint's signature, the entry's\n"
              "leaf hash and its inclusion proof. Exits non-zero if anything does not verify.");
  flags.String("authority", &authority_path, "The authority's public key.");
  bool as_json = false;
  flags.Bool("json", &as_json, "Print the result as JSON.");
  std::string witness_policy;
  flags.String("witness-policy", &witness_policy,
               "A tlog-policy file (log, witness, group and quorum lines): also require the "
               "checkpoint to be cosigned by the witnesses' quorum.");
  std::string lang_flag;
  AddLangFlag(flags, &lang_flag);
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  ASSIGN_OR_RETURN(const Lang lang, ChosenLang(lang_flag));
  if (flags.positional().size() != 1) return absl::InvalidArgumentError("name one BUNDLE.json");
  ASSIGN_OR_RETURN(PublicKey authority, LoadAuthority(authority_path));
  ASSIGN_OR_RETURN(std::string json, ReadInput(flags.positional()[0]));
  veta::v1::ProofBundle bundle;
  if (json.substr(0, tlogproof::kHeader.size()) == tlogproof::kHeader) {
    ASSIGN_OR_RETURN(bundle, FromTlogProof(json));
  } else {
    RETURN_IF_ERROR(MessageFromJson(json, &bundle));
  }
  auto cp = VerifyBundle(bundle, authority);
  if (!cp.ok()) {
    return absl::Status(cp.status().code(), StrCat("verification FAILED: ", cp.status().message()));
  }
  auto witnessed = CheckWitnessPolicy(witness_policy, bundle.checkpoint().note(), authority);
  if (!witnessed.ok()) {
    return absl::Status(witnessed.status().code(),
                        StrCat("verification FAILED: ", witnessed.status().message()));
  }
  if (!witnessed->empty() && !as_json) std::printf("%s\n", witnessed->c_str());
  if (as_json) {
    std::printf(
        "{\"verified\":true,\"origin\":\"%s\",\"treeSize\":%llu,\"rootHash\":\"%s\","
        "\"entry\":%s}\n",
        cp->origin.c_str(), static_cast<unsigned long long>(cp->size), ToHex(cp->root).c_str(),
        EntryToJson(bundle.entry()).c_str());
    return absl::OkStatus();
  }
  std::printf("%s\n%s\n",
              (lang == Lang::kEs
                   ? StrCat("verificado: la entrada ", bundle.inclusion().leaf_index(),
                            " está en el registro ", cp->origin, " de tamaño ", cp->size, " (raíz ",
                            ToHex(cp->root), ")")
                   : StrCat("verified: entry ", bundle.inclusion().leaf_index(), " is in the log ",
                            cp->origin, " of size ", cp->size, " (root ", ToHex(cp->root), ")"))
                  .c_str(),
              EntryToJson(bundle.entry()).c_str());
  return absl::OkStatus();
}

const std::map<std::string, std::pair<Command, std::string>>& Commands() {
  static const auto* commands = new std::map<std::string, std::pair<Command, std::string>>{
      {"keygen", {Keygen, "generate an Ed25519 or ECDSA P-256 signing key"}},
      {"init", {Init, "create a new ledger (authority key and genesis)"}},
      {"certgen", {Certgen, "make a self-signed TLS certificate for a key"}},
      {"sign", {Sign, "sign a JSON payload into an envelope"}},
      {"submit", {Submit, "submit signed envelopes"}},
      {"get", {Get, "show an entry as JSON"}},
      {"list", {List, "list entries"}},
      {"checkpoint", {CheckpointCmd, "show (and verify) the latest checkpoint"}},
      {"prove", {Prove, "fetch and check an entry's inclusion proof"}},
      {"verify", {Verify, "check a saved proof bundle offline"}},
      {"record", {RecordCmd, "show a registry record, now or as of an entry or time"}},
      {"records", {RecordsCmd, "list registry records with filters"}},
      {"lot", {LotCmd, "show a lot: holder, remaining kg, origin"}},
      {"attempts", {AttemptsCmd, "list refused submissions (evidence)"}},
      {"flags", {FlagsCmd, "list red flags on accepted entries"}},
      {"watch", {WatchCmd, "follow new entries and refused attempts naming you, live"}},
      {"check", {CheckCmd, "pre-purchase check: would this be accepted now?"}},
      {"import", {ImportCmd, "register a REINFO/REPCO CSV or GeoJSON zones"}},
      {"lineage", {LineageCmd, "a lot's origin, or where a unit's gold went (tree, dot, svg)"}},
      {"certificate", {CertificateCmd, "ask for an Oro formal certificate of a gold lot"}},
      {"verify-certificate", {VerifyCertificateCmd, "check a certificate offline"}},
      {"correct", {CorrectCmd, "void an entry for a stated reason, restoring what it took"}},
      {"clear-flag", {ClearFlagCmd, "a registrar clears a red flag after looking into it"}},
      {"export", {ExportCmd, "custody events as an EPCIS 2.0 document"}},
      {"report", {ReportCmd, "traceability indicators for regulators"}},
      {"explain", {ExplainCmd, "what a refusal code or red flag means, and what to do"}},
      {"capacity", {CapacityCmd, "what a seller or unit may still extract or process today"}},
      {"config", {ConfigCmd, "show the settings (server, TLS files, key) and their source"}},
      {"registrar", {RegistrarCmd, "the authority adds, re-keys, suspends a registrar"}},
      {"rotate-key", {RotateKeyCmd, "give a registrar, miner, party or selector a new key"}},
      {"suspend", {SuspendCmd, "suspend a registrar, miner, unit, party or selector"}},
      {"reinstate", {ReinstateCmd, "lift a suspension"}},
  };
  return *commands;
}

void Usage(FILE* out) {
  std::fprintf(out,
               "veta: client of a Veta gold traceability ledger.\n\nUsage: veta COMMAND [options]"
               "\n\nCommands:\n");
  for (const auto& [name, command] : Commands()) {
    std::fprintf(out, "  %-19s %s\n", name.c_str(), command.second.c_str());
  }
  std::fprintf(out,
               "\n`veta COMMAND --help` tells more. The server defaults to %s.\n"
               "Over TLS: --tls-ca, --tls-cert, --tls-key (or VETA_TLS_CA, VETA_TLS_CERT,\n"
               "VETA_TLS_KEY).\n"
               "Settings (server, TLS files, signing key, web address) may also come from the\n"
               "environment (VETA_SERVER, VETA_KEY, ...) or a config file (%s):\n"
               "`veta config --help`. New ledger: `veta init`, then `veta registrar add`.\n",
               kDefaultServer, ConfigPath().c_str());
}

}  // namespace
}  // namespace veta::client

int main(int argc, char** argv) {
  using namespace veta::client;
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
      std::string(argv[1]) == "help") {
    Usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  auto it = Commands().find(argv[1]);
  if (it == Commands().end()) {
    std::fprintf(stderr, "veta: unknown command '%s'\n\n", argv[1]);
    Usage(stderr);
    return 2;
  }
  absl::Status s = it->second.first(argc, argv);
  std::fflush(stdout);  // answers first, then the summary error
  if (!s.ok()) {
    std::fprintf(stderr, "veta %s: %s\n", argv[1], std::string(s.message()).c_str());
    return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}
