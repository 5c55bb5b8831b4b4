// veta-witness: a C2SP tlog-witness that any institution can run beside a Veta registry (or
// any log whose checkpoints are C2SP signed notes with Ed25519 keys).
#include <signal.h>

#include <cstdio>
#include <string>

#include "core/base/flags.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/verify/cosignature.h"
#include "core/verify/keys.h"
#include "tools/witness/witness.h"

namespace {

using veta::StrCat;

constexpr char kOverview[] =
    "A witness keeps, for every log it follows, the latest checkpoint it cosigned, and cosigns\n"
    "a new one (C2SP tlog-cosignature, cosignature/v1, Ed25519) only when the log proves it\n"
    "extends that one: a log that shows two different trees to two parties cannot get both\n"
    "cosigned. Logs call it over HTTP (C2SP tlog-witness):\n"
    "  POST PREFIX/add-checkpoint        200 cosignature, 409 size held (text/x.tlog.size),\n"
    "                                    422 bad proof or fork, 403 not signed by the log,\n"
    "                                    404 unknown log, 400 malformed\n"
    "  GET  PREFIX/<sha256(origin) hex>/checkpoint   the latest cosigned checkpoint\n"
    "Set up:\n"
    "  veta-witness keygen --name witness.example.gob.pe/w1 --key /etc/veta-witness/key.pem\n"
    "    (prints the verifier key to give to the log's operator and to clients' policies)\n"
    "  a logs file with one line per log: `log <the log's checkpoint verifier key>`\n"
    "    (`veta init` printed it for a Veta registry; the key's name is the log's origin)\n"
    "  veta-witness serve --name ... --key ... --logs FILE --state-dir DIR --listen HOST:PORT\n"
    "The state folder holds one small file per log (written with fsync and rename before any\n"
    "answer): back it up; a witness that loses it could be led to cosign a fork. A refused\n"
    "checkpoint that the log did sign (a fork) is kept in STATE/evidence/ and logged: it is\n"
    "proof, signed by the log's own key, that the log showed two different trees.";

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "veta-witness: %s\n", std::string(s.message()).c_str());
  return 1;
}

absl::Status Keygen(int argc, char** argv) {
  std::string name, key_path;
  veta::Flags flags("veta-witness keygen --name NAME --key KEY.pem",
                    "Makes the witness's Ed25519 key (mode 0600) and prints its cosignature/v1\n"
                    "verifier key (NAME+id+base64(0x04 || key)).");
  flags.String("name", &name, "The witness's name, e.g. witness.sunat.gob.pe/w1.");
  flags.String("key", &key_path, "Where to write the private key (PEM); must not exist.");
  RETURN_IF_ERROR(flags.Parse(argc, argv, 2));
  if (flags.help_requested()) {
    std::printf("%s", flags.Help().c_str());
    return absl::OkStatus();
  }
  if (name.empty() || key_path.empty()) return absl::InvalidArgumentError("need --name and --key");
  if (veta::ReadFile(key_path).ok()) {
    return absl::AlreadyExistsError(StrCat(key_path, " exists: not overwriting a key"));
  }
  ASSIGN_OR_RETURN(veta::PrivateKey key, veta::PrivateKey::Generate(veta::KeyAlgorithm::kEd25519));
  ASSIGN_OR_RETURN(std::string vkey, veta::cosig::VerifierKey(name, key.public_key()));
  RETURN_IF_ERROR(veta::WriteFileAtomic(key_path, key.ToPem(), 0600));
  std::printf("%s\n", vkey.c_str());
  return absl::OkStatus();
}

absl::Status Vkey(int argc, char** argv) {
  std::string name, key_path;
  veta::Flags flags("veta-witness vkey --name NAME --key KEY.pem",
                    "Prints the cosignature/v1 verifier key of an Ed25519 key (e.g. one made by\n"
                    "`veta keygen`) under NAME.");
  flags.String("name", &name, "The witness's name.");
  flags.String("key", &key_path, "The private key (PEM).");
  RETURN_IF_ERROR(flags.Parse(argc, argv, 2));
  if (flags.help_requested()) {
    std::printf("%s", flags.Help().c_str());
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::string pem, veta::ReadFile(key_path));
  ASSIGN_OR_RETURN(veta::PrivateKey key, veta::PrivateKey::FromPem(pem));
  ASSIGN_OR_RETURN(std::string vkey, veta::cosig::VerifierKey(name, key.public_key()));
  std::printf("%s\n", vkey.c_str());
  return absl::OkStatus();
}

absl::Status Serve(int argc, char** argv) {
  std::string name, key_path, logs_path, state_dir, listen = "127.0.0.1:7380", prefix, port_file;
  veta::Flags flags("veta-witness serve --name NAME --key KEY.pem --logs FILE --state-dir DIR",
                    kOverview);
  flags.String("name", &name, "The witness's name (its cosignature key name).");
  flags.String("key", &key_path, "The witness's Ed25519 private key (PEM).");
  flags.String("logs", &logs_path, "The logs it witnesses: lines `log <checkpoint vkey> [url]`.");
  flags.String("state-dir", &state_dir, "Folder of the durable state (latest checkpoint per log).");
  flags.String("listen", &listen,
               "HOST:PORT to serve HTTP on (port 0 picks one). Put TLS in "
               "front (nginx) beyond loopback.");
  flags.String("prefix", &prefix, "URL prefix of the endpoints (the submission prefix), e.g. /w1.");
  flags.String("port-file", &port_file, "Write the port actually bound to this file.");
  RETURN_IF_ERROR(flags.Parse(argc, argv, 2));
  if (flags.help_requested()) {
    std::printf("%s", flags.Help().c_str());
    return absl::OkStatus();
  }
  if (name.empty() || key_path.empty() || logs_path.empty() || state_dir.empty()) {
    return absl::InvalidArgumentError("need --name, --key, --logs and --state-dir (see --help)");
  }
  ASSIGN_OR_RETURN(std::string pem, veta::ReadFile(key_path));
  ASSIGN_OR_RETURN(veta::PrivateKey key, veta::PrivateKey::FromPem(pem));
  ASSIGN_OR_RETURN(std::string logs_text, veta::ReadFile(logs_path));
  ASSIGN_OR_RETURN(auto logs, veta::witness::ParseLogsFile(logs_text));
  veta::witness::Options options;
  options.name = name;
  options.state_dir = state_dir;
  ASSIGN_OR_RETURN(auto witness, veta::witness::Witness::Open(options, key, std::move(logs)));
  const size_t colon = listen.rfind(':');
  uint64_t port = 0;
  if (colon == std::string::npos ||
      !veta::ParseU64(std::string_view(listen).substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError(StrCat("--listen wants HOST:PORT, not ", listen));
  }
  // Signals are waited for by this thread only.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ASSIGN_OR_RETURN(auto server, veta::witness::Server::Start(witness.get(), listen.substr(0, colon),
                                                             static_cast<int>(port), prefix));
  if (!port_file.empty()) {
    RETURN_IF_ERROR(veta::WriteFileAtomic(port_file, StrCat(server->port(), "\n")));
  }
  std::fprintf(stderr, "veta-witness: %s serving on %s:%d%s (verifier key %s)\n", name.c_str(),
               listen.substr(0, colon).c_str(), server->port(), prefix.c_str(),
               witness->verifier_key().c_str());
  int sig = 0;
  sigwait(&signals, &sig);
  server->Stop();
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  absl::Status s;
  if (cmd == "keygen") {
    s = Keygen(argc, argv);
  } else if (cmd == "vkey") {
    s = Vkey(argc, argv);
  } else if (cmd == "serve") {
    s = Serve(argc, argv);
  } else {
    std::printf(
        "usage: veta-witness keygen|vkey|serve [--help]\n\n%s\n\n"
        "  keygen   make the witness key and print its verifier key\n"
        "  vkey     print the verifier key of an existing key\n"
        "  serve    run the witness\n",
        kOverview);
    return cmd == "--help" || cmd == "-h" || cmd == "help" ? 0 : 2;
  }
  return s.ok() ? 0 : Fail(s);
}
