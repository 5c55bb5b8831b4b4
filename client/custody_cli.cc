// The custody commands of the veta tool: lineage (a readable tree, JSON, Graphviz DOT or SVG),
// certificates (issue, verify offline), the EPCIS export and the regulators' indicators.
#include <unistd.h>

#include <google/protobuf/util/time_util.h>
#include <chrono>

#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "client/cli.h"
#include "client/config.h"
#include "client/json.h"
#include "client/qr.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/timestamp.h"
#include "core/base/units.h"
#include "core/read/lineage.h"
#include "core/rules/registry.h"
#include "core/verify/certificate_verify.h"
#include "core/verify/envelope.h"

namespace veta::client {
namespace {

// A lot's original quantity, and what moved along an edge, in human units.
std::string Quantity(const veta::v1::LineageNode& n) {
  return n.kind() == veta::v1::GOLD ? units::GoldGrams(n.gold_mg()) : units::OreKg(n.ore_g());
}
std::string Quantity(const veta::v1::LineageEdge& e) {
  return e.gold_mg() != 0 ? units::GoldGrams(e.gold_mg()) : units::OreKg(e.ore_g());
}

// A word in the chosen language: Spanish first.
std::string_view Say(Lang lang, std::string_view es, std::string_view en) {
  return lang == Lang::kEs ? es : en;
}

void PrintLine(const std::string& text) { std::printf("%s\n", text.c_str()); }

std::string_view SourceName(veta::v1::LotSource source, Lang lang) {
  if (lang == Lang::kEn) return LotSourceName(source);
  switch (source) {
    case veta::v1::EXTRACTED:
      return "extracción";
    case veta::v1::BOUGHT:
      return "venta";
    case veta::v1::PROCESSED:
      return "procesamiento";
    default:
      return "entrada";
  }
}

// One line about a lot: what it is, who holds it, the entry that made it, what became of it.
std::string Describe(const veta::v1::LineageNode& n, const veta::v1::Lineage& l, Lang lang) {
  const bool forward = l.forward();
  const bool gold = n.kind() == veta::v1::GOLD;
  std::string s =
      StrCat(Say(lang, "lote ", "lot "), n.lot_id(), "  ",
             gold ? Say(lang, "oro ", "gold ") : Say(lang, "mineral ", "ore "), Quantity(n), " (",
             units::GoldGrams(n.fine_mg()), Say(lang, " de oro fino)", " fine)"),
             Say(lang, "  de ", "  held by "), n.holder_id(), Say(lang, "  [entrada ", "  [entry "),
             n.sequence(), ", ", SourceName(n.source(), lang));
  if (n.source() == veta::v1::EXTRACTED) {
    s += StrCat(Say(lang, " en la unidad ", " at unit "), n.unit_code(),
                n.department().empty() ? "" : Say(lang, " dpto. ", " dept "), n.department());
    if (!DepartmentName(n.department()).empty()) s += StrCat(" ", DepartmentName(n.department()));
  }
  s += "]";
  if (!forward) s += StrCat("  ", units::SharePercent(n.root_fine_mg(), l.fine_mg()));
  if (n.voided_at() != 0)
    s += StrCat(Say(lang, "  ANULADO por la entrada ", "  VOIDED by entry "), n.voided_at());
  if (n.exported_at() != 0) {
    s += StrCat(Say(lang, "  EXPORTADO a ", "  EXPORTED to "), n.export_destination(),
                Say(lang, " (entrada ", " (entry "), n.exported_at(), ")");
  }
  if (n.truncated())
    s += Say(lang, "  (no se sigue más: límite)", "  (not followed further: limit)");
  return s;
}

void PrintTree(const veta::v1::Lineage& l, Lang lang) {
  std::map<std::string, const veta::v1::LineageNode*> by_id;
  for (const auto& n : l.nodes()) by_id[n.lot_id()] = &n;
  std::set<std::string> printed;
  std::function<void(const veta::v1::LineageNode&, const std::string&)> walk =
      [&](const veta::v1::LineageNode& n, const std::string& indent) {
        printed.insert(n.lot_id());
        for (int i = 0; i < n.edges_size(); ++i) {
          const auto& e = n.edges(i);
          const bool last = i + 1 == n.edges_size();
          auto it = by_id.find(e.lot_id());
          std::string line = StrCat(indent, last ? "└─ " : "├─ ");
          const std::string moved = Quantity(e);
          line += StrCat(moved,
                         l.forward() ? Say(lang, " al ", " into ") : Say(lang, " del ", " from "));
          if (it == by_id.end()) {
            std::printf("%s%s\n", line.c_str(),
                        StrCat(Say(lang, "lote ", "lot "), e.lot_id(),
                               Say(lang, " (no se sigue: límite)", " (not followed: limit)"))
                            .c_str());
          } else if (printed.count(e.lot_id()) > 0) {
            std::printf("%s%s\n", line.c_str(),
                        StrCat(Say(lang, "lote ", "lot "), e.lot_id(),
                               Say(lang, " (ya mostrado arriba)", " (shown above)"))
                            .c_str());
          } else {
            std::printf("%s%s\n", line.c_str(), Describe(*it->second, l, lang).c_str());
            walk(*it->second, indent + (last ? "   " : "│  "));
          }
        }
      };
  for (const auto& n : l.nodes()) {
    if (n.depth() != 0) continue;
    std::printf("%s\n", Describe(n, l, lang).c_str());
    walk(n, "");
  }
  if (!l.forward() && l.units_size() > 0) {
    std::printf("\n%s (%s):\n",
                std::string(Say(lang, "origen del oro fino", "origin of the fine gold")).c_str(),
                units::GoldGrams(l.fine_mg()).c_str());
    const std::string unit_word(Say(lang, "unidad", "unit"));
    const std::string dept_word(Say(lang, "dpto.", "dept"));
    const std::string department_word(Say(lang, "departamento", "department"));
    for (const auto& u : l.units()) {
      std::printf("  %s %-20s %s %-3s %-15s %9s  %s\n", unit_word.c_str(), u.unit_code().c_str(),
                  dept_word.c_str(), u.department().c_str(),
                  std::string(DepartmentName(u.department())).c_str(),
                  units::SharePercent(u.fine_mg(), l.fine_mg()).c_str(),
                  units::GoldGrams(u.fine_mg()).c_str());
    }
    for (const auto& d : l.departments()) {
      std::printf("  %s %-3s %-15s %9s  %s\n", department_word.c_str(), d.department().c_str(),
                  std::string(DepartmentName(d.department())).c_str(),
                  units::SharePercent(d.fine_mg(), l.fine_mg()).c_str(),
                  units::GoldGrams(d.fine_mg()).c_str());
    }
  }
  if (l.forward()) {
    std::printf("\n%s: %s\n",
                std::string(Say(lang, "titulares alcanzados", "holders reached")).c_str(),
                StrJoin({l.holders().begin(), l.holders().end()}, ", ").c_str());
  }
  std::printf("%s\n", StrCat(Say(lang, "(a la entrada ", "(as of entry "),
                             l.as_of() == 0 ? 0 : l.as_of() - 1, ": ", l.total_nodes(),
                             Say(lang, " lotes)", " lots)"))
                          .c_str());
  if (l.truncated()) {
    std::printf("%s: %s\n", std::string(Say(lang, "TRUNCADO", "TRUNCATED")).c_str(),
                l.truncated_reason().c_str());
  }
}

std::string DotQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Text inside a DOT label: quotes and backslashes escaped (line breaks are added as \n).
std::string DotText(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out;
}

std::string Dot(const veta::v1::Lineage& l) {
  std::string out =
      // Left to right, as the gold moves: mining units first, exports last.
      StrCat("digraph lineage {\n  rankdir=LR",
             ";\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n"
             "  edge [fontname=\"Helvetica\", fontsize=9];\n  label=",
             DotQuote(StrCat(l.forward() ? "forward" : "backward", " lineage of ", l.root(),
                             " as of entry ", l.as_of() == 0 ? 0 : l.as_of() - 1)),
             ";\n");
  std::map<std::string, const veta::v1::LineageNode*> by_id;
  for (const auto& n : l.nodes()) by_id[n.lot_id()] = &n;
  for (const auto& n : l.nodes()) {
    std::string label =
        StrCat(DotText(n.lot_id()), "\\n", n.kind() == veta::v1::GOLD ? "gold " : "ore ",
               Quantity(n), "\\nheld by ", DotText(n.holder_id()), "\\nentry ", n.sequence(), " (",
               LotSourceName(n.source()), ")");
    if (n.source() == veta::v1::EXTRACTED) label += StrCat("\\nunit ", DotText(n.unit_code()));
    if (!l.forward()) {
      label += StrCat("\\nshare ", units::SharePercent(n.root_fine_mg(), l.fine_mg()));
    }
    std::string style = n.kind() == veta::v1::GOLD ? "filled\", fillcolor=\"gold" : "rounded";
    if (n.voided_at() != 0) {
      label += StrCat("\\nVOIDED (entry ", n.voided_at(), ")");
      style = "dashed";
    }
    if (n.exported_at() != 0) {
      label += StrCat("\\nexported to ", DotText(n.export_destination()));
    }
    out += StrCat("  ", DotQuote(n.lot_id()), " [label=\"", label, "\", style=\"", style, "\"];\n");
    for (const auto& e : n.edges()) {
      if (by_id.count(e.lot_id()) == 0) continue;
      const auto& from = l.forward() ? n : *by_id[e.lot_id()];
      out += StrCat("  ", DotQuote(from.lot_id()), " -> ",
                    DotQuote(l.forward() ? e.lot_id() : n.lot_id()), " [label=\"", Quantity(e),
                    "\\nentry ", e.sequence(), "\"];\n");
    }
  }
  return out + "}\n";
}

// Runs Graphviz's dot on the DOT text.
absl::StatusOr<std::string> Svg(const std::string& dot) {
  char tmpl[] = "/tmp/veta-lineage-XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd < 0) return absl::InternalError("cannot create a temporary file");
  close(fd);
  RETURN_IF_ERROR(WriteOutput(tmpl, dot));
  const std::string cmd = StrCat("dot -Tsvg '", tmpl, "' 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  std::string svg;
  if (p != nullptr) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) svg.append(buf, n);
  }
  const int rc = p == nullptr ? -1 : pclose(p);
  unlink(tmpl);
  if (rc != 0 || svg.find("<svg") == std::string::npos) {
    return absl::FailedPreconditionError(StrCat(
        "--format svg needs Graphviz's dot (apt-get install graphviz): ", svg.substr(0, 200)));
  }
  return svg;
}

}  // namespace

absl::Status LineageCmd(int argc, char** argv) {
  Common c;
  std::string unit, miner, format = "tree", out, as_of_time;
  bool forward = false;
  uint64_t as_of = UINT64_MAX, depth = 0, fanout = 0, lots = 0;
  Flags flags("veta lineage LOT | --unit CODE | --miner ID  [--forward] [--format F]",
              "Where a lot's gold came from: every sale, processing and extraction back to the\n"
              "mining units, with each unit's share of the fine gold (backward, the default);\n"
              "or, with --forward, where a lot's, a unit's or a miner's gold went: every lot,\n"
              "holder and export downstream. Each step names its entry: `veta prove N` proves it.\n"
              "Formats: tree (readable), json, dot (Graphviz), svg (needs graphviz).");
  AddConnectionFlags(flags, &c);
  flags.String("unit", &unit, "Forward from a mining unit (concession code).");
  flags.String("miner", &miner, "Forward from a miner's (RUC) or selector's (DNI) lots.");
  flags.Bool("forward", &forward, "Downstream instead of upstream.");
  flags.String("format", &format, "tree, json, dot or svg.");
  flags.String("out", &out, "Write to this file instead of standard output.");
  flags.Uint("as-of", &as_of, "As of this entry (its sequence number).");
  flags.String("as-of-time", &as_of_time, "As of this time (RFC 3339).");
  flags.Uint("depth", &depth, "Steps to follow (0: the server's default, 64; at most 256).");
  flags.Uint("fanout", &fanout, "Lots followed from one lot (0: 1,000).");
  flags.Uint("lots", &lots, "Lots in all (0: 20,000; at most 100,000).");
  std::string lang_flag;
  AddLangFlag(flags, &lang_flag);
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  ASSIGN_OR_RETURN(const Lang lang, ChosenLang(lang_flag));
  veta::v1::GetLineageRequest request;
  const size_t roots = flags.positional().size() + !unit.empty() + !miner.empty();
  if (roots != 1) return absl::InvalidArgumentError("give one root: LOT, --unit or --miner");
  if (!unit.empty()) {
    request.set_unit_code(unit);
    forward = true;
  } else if (!miner.empty()) {
    request.set_miner_id(miner);
    forward = true;
  } else {
    request.set_lot_id(flags.positional()[0]);
  }
  if (format != "tree" && format != "json" && format != "dot" && format != "svg") {
    return absl::InvalidArgumentError("--format is tree, json, dot or svg");
  }
  request.set_forward(forward);
  RETURN_IF_ERROR(SetAsOf(as_of, as_of_time, request.mutable_as_of()));
  request.set_depth_max(static_cast<uint32_t>(std::min<uint64_t>(depth, UINT32_MAX)));
  request.set_fanout_max(static_cast<uint32_t>(std::min<uint64_t>(fanout, UINT32_MAX)));
  request.set_nodes_max(static_cast<uint32_t>(std::min<uint64_t>(lots, UINT32_MAX)));
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  // Every page, into one lineage.
  veta::v1::Lineage all;
  for (;;) {
    veta::v1::Lineage page;
    auto ctx = Context();
    RETURN_IF_ERROR(FromGrpc(stub->GetLineage(ctx.get(), request, &page), c.server));
    if (all.nodes_size() == 0) {
      all = page;
    } else {
      for (auto& n : *page.mutable_nodes()) *all.add_nodes() = std::move(n);
    }
    // The token carries the first page's as-of: later pages read the same log.
    if (page.next_page_token().empty() || page.nodes_size() == 0) break;
    if (all.nodes_size() > static_cast<int>(kLineageNodesMax)) {
      return absl::DataLossError("the server sent more pages than a lineage can hold");
    }
    request.set_page_token(page.next_page_token());
  }
  all.clear_next_page_token();
  if (format == "tree") {
    if (out.empty() || out == "-") {
      PrintTree(all, lang);
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError("--out takes json, dot or svg; the tree prints");
  }
  std::string text;
  if (format == "json") {
    ASSIGN_OR_RETURN(text, MessageToJson(all));
    text += "\n";
  } else if (format == "dot") {
    text = Dot(all);
  } else {
    ASSIGN_OR_RETURN(text, Svg(Dot(all)));
  }
  return WriteOutput(out, text);
}

absl::Status CertificateCmd(int argc, char** argv) {
  Common c;
  std::string out;
  std::string web_url, qr_svg;
  bool qr = false;
  Flags flags("veta certificate LOT --out FILE [--qr] [--qr-svg QR.svg] [--web-url URL]",
              "Asks for an \"Oro formal\" certificate of a gold lot: issued only when its whole\n"
              "backward lineage is accepted, unflagged and uncorrected (otherwise the answer\n"
              "names the entry that is the problem). The file holds the signed statement, the\n"
              "checkpoint and every entry it rests on with its inclusion proof: anyone checks it\n"
              "offline with `veta verify-certificate --authority KEY FILE`.\n\n"
              "With --qr (or --qr-svg), also the certificate's QR code: the URL of the web app's\n"
              "\"Verificar oro\" page for this certificate,\n"
              "  WEB_URL/#/verificar?lote=LOT&nota=SHA-256 (hex) of the certificate's note,\n"
              "printed, and drawn in the terminal (--qr) or written as SVG (--qr-svg).\n\n"
              "Example: veta certificate DORE-1 --out dore-1.json --qr --qr-svg dore-1.svg");
  AddConnectionFlags(flags, &c);
  flags.String("out", &out, "Where to save the certificate (JSON); '-' for standard output.");
  flags.Bool("qr", &qr, "Print the verification URL and its QR code.");
  flags.String("qr-svg", &qr_svg, "Write the QR code as SVG to this file (prints the URL too).");
  web_url = SettingOrExit("web_url");
  flags.String("web-url", &web_url,
               "The web app's base URL, for the QR code. Environment: VETA_WEB_URL; config: "
               "web_url.");
  std::string lang_flag;
  AddLangFlag(flags, &lang_flag);
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  ASSIGN_OR_RETURN(const Lang lang, ChosenLang(lang_flag));
  if (flags.positional().size() != 1) return absl::InvalidArgumentError("give LOT");
  if (out.empty()) return absl::InvalidArgumentError("--out FILE is required");
  if ((qr || !qr_svg.empty()) && out == "-") {
    return absl::InvalidArgumentError("--qr and --qr-svg need --out FILE (not standard output)");
  }
  veta::v1::GetCertificateRequest request;
  request.set_lot_id(flags.positional()[0]);
  veta::v1::Certificate cert;
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  // A lot newer than the latest checkpoint is UNAVAILABLE until the next one is signed.
  for (int attempt = 0;; ++attempt) {
    auto ctx = Context();
    grpc::Status s = stub->GetCertificate(ctx.get(), request, &cert);
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE || attempt == 20) {
      RETURN_IF_ERROR(FromGrpc(s, c.server));
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ASSIGN_OR_RETURN(std::string json, MessageToJson(cert));
  RETURN_IF_ERROR(WriteOutput(out, json + "\n"));
  if (out != "-") {
    std::fprintf(
        stderr, "%s\n",
        StrCat(Say(lang, "certificado del lote ", "certificate of lot "), request.lot_id(),
               Say(lang, " guardado en ", " saved to "), out, " (", cert.entries_size(),
               Say(lang, " entradas, checkpoint de tamaño ", " entries, checkpoint of size "),
               cert.checkpoint().tree_size(), ")")
            .c_str());
  }
  if (qr || !qr_svg.empty()) {
    const std::string url = CertificateUrl(web_url, request.lot_id(), cert.note());
    ASSIGN_OR_RETURN(QrCode code, EncodeQr(url));
    if (!qr_svg.empty()) RETURN_IF_ERROR(WriteOutput(qr_svg, QrToSvg(code)));
    std::printf("%s\n", url.c_str());
    if (qr) std::printf("%s", QrToTerminal(code).c_str());
  }
  return absl::OkStatus();
}

absl::Status VerifyCertificateCmd(int argc, char** argv) {
  std::string authority, origin;
  bool json = false;
  Flags flags("veta verify-certificate --authority PUBLIC_KEY.pem FILE",
              "Checks a certificate offline, trusting only the authority's public key: the\n"
              "statement's and the checkpoint's signatures, every entry's inclusion proof, and\n"
              "the fine milligrams and origin by unit recomputed from the entries themselves,\n"
              "exactly.");
  flags.String("authority", &authority, "The registry authority's public key (PEM).");
  flags.String("origin", &origin, "The log it must come from (e.g. veta.gob.pe/ledger).");
  flags.Bool("json", &json, "Print the verified claims as JSON.");
  std::string witness_policy;
  flags.String("witness-policy", &witness_policy,
               "A tlog-policy file: also require the certificate's checkpoint to be cosigned by "
               "the witnesses' quorum.");
  std::string lang_flag;
  AddLangFlag(flags, &lang_flag);
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  ASSIGN_OR_RETURN(const Lang lang, ChosenLang(lang_flag));
  if (flags.positional().size() != 1) return absl::InvalidArgumentError("give FILE");
  ASSIGN_OR_RETURN(PublicKey key, LoadAuthority(authority));
  ASSIGN_OR_RETURN(std::string text, ReadInput(flags.positional()[0]));
  veta::v1::Certificate cert;
  RETURN_IF_ERROR(MessageFromJson(text, &cert));
  auto claims = VerifyCertificate(cert, key, origin);
  if (claims.ok() && !witness_policy.empty()) {
    auto witnessed = CheckWitnessPolicy(witness_policy, cert.checkpoint().note(), key);
    if (!witnessed.ok()) claims = witnessed.status();
  }
  if (!claims.ok()) {
    if (json)
      std::printf("{\"verified\":false,\"error\":%s}\n",
                  JsonQuote(FromAbsl(claims.status().message())).c_str());
    return absl::Status(claims.status().code(),
                        StrCat("NOT VERIFIED: ", claims.status().message()));
  }
  if (json) {
    std::string units;
    for (const auto& u : claims->units) {
      units +=
          StrCat(units.empty() ? "" : ",", "{\"unit\":", JsonQuote(u.unit_code()),
                 ",\"department\":", JsonQuote(u.department()), ",\"fine_mg\":", u.fine_mg(), "}");
    }
    std::printf(
        "{\"verified\":true,\"lot\":%s,\"holder\":%s,\"fine_mg\":%s,\"units\":[%s],"
        "\"checkpoint_size\":%llu,\"entries\":%zu}\n",
        JsonQuote(claims->lot_id).c_str(), JsonQuote(claims->holder).c_str(),
        std::to_string(claims->fine_mg).c_str(), units.c_str(),
        static_cast<unsigned long long>(claims->checkpoint.size), claims->entries.size());
    return absl::OkStatus();
  }
  PrintLine(StrCat(Say(lang, "verificado: certificado de «oro formal» del lote ",
                       "verified: Oro formal certificate of lot "),
                   claims->lot_id, Say(lang, " (de ", " (held by "), claims->holder, ")"));
  PrintLine(
      StrCat("  ", units::GoldGrams(claims->fine_mg), Say(lang, " de oro fino", " of fine gold")));
  for (const auto& u : claims->units) {
    PrintLine(StrCat("  ", units::SharePercent(u.fine_mg(), claims->fine_mg), " (",
                     units::GoldGrams(u.fine_mg()), Say(lang, ") de la unidad ", ") from unit "),
                     u.unit_code(), Say(lang, " (departamento ", " (department "), u.department(),
                     "), ", DepartmentName(u.department())));
  }
  if (!claims->exported_to.empty()) {
    PrintLine(StrCat(Say(lang, "  exportado a ", "  exported to "), claims->exported_to,
                     Say(lang, " por la entrada ", " by entry "), claims->exported_at, " (",
                     units::GoldGrams(claims->remaining_mg), ")"));
  } else {
    PrintLine(StrCat("  ", units::GoldGrams(claims->remaining_mg),
                     Say(lang, " del lote seguían con su titular cuando se emitió",
                         " of the lot remained with its holder when it was issued")));
  }
  PrintLine(StrCat(Say(lang, "  probado contra el checkpoint ", "  proven against checkpoint "),
                   claims->checkpoint.size, Say(lang, " de ", " of "), claims->checkpoint.origin,
                   Say(lang, ", sobre ", ", resting on "), claims->entries.size(),
                   Say(lang, " entradas", " entries")));
  return absl::OkStatus();
}

namespace {

// A random nonce: a second statement within the same clock tick (a retry of a correction, a
// clearance again) is a new statement, answered on its merits ("already voided", "already
// cleared"), not a replay of the first.
uint64_t RandomNonce() {
  std::random_device random;
  return (static_cast<uint64_t>(random()) << 32) ^ random();
}

// Signs `payload` with the keys at `key_paths`, submits it, and returns its entry's sequence.
absl::StatusOr<uint64_t> SignAndSubmit(const Common& c, std::string_view type,
                                       const google::protobuf::Message& payload,
                                       const std::vector<std::string>& key_paths) {
  std::vector<PrivateKey> signers;
  for (const auto& k : key_paths) {
    ASSIGN_OR_RETURN(PrivateKey key, LoadPrivateKey(k));
    signers.push_back(std::move(key));
  }
  ASSIGN_OR_RETURN(veta::v1::Envelope envelope,
                   SignEnvelope(type, payload.SerializeAsString(), signers));
  veta::v1::SubmitRequest request;
  request.set_envelope(envelope.SerializeAsString());
  veta::v1::SubmitResponse response;
  auto ctx = Context();
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  RETURN_IF_ERROR(FromGrpc(stub->Submit(ctx.get(), request, &response), c.server));
  return response.sequence();
}

}  // namespace

absl::Status CorrectCmd(int argc, char** argv) {
  Common c;
  std::string reason;
  std::vector<std::string> keys;
  Flags flags("veta correct ENTRY --reason TEXT --key KEY.pem [--key KEY.pem]",
              "Voids an extraction, sale, processing or export for a stated reason, and restores\n"
              "what it consumed. Signed by an active registrar, or by every party the entry\n"
              "needed (the seller and the buyer of a sale; an export: a registrar only). An entry\n"
              "whose lots have moved on is refused: correct what came after it first. Under\n"
              "rules v3 an entry that raised a red flag no registrar cleared (`veta flags`) is\n"
              "voided by a registrar only (CORRECTION_NEEDS_REGISTRAR).");
  AddConnectionFlags(flags, &c);
  flags.String("reason", &reason, "Why the entry is void (recorded with the correction).");
  flags.Strings("key", &keys, "Private key to sign with (repeatable).");
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  uint64_t entry = 0;
  if (flags.positional().size() != 1 || !ParseU64(flags.positional()[0], &entry)) {
    return absl::InvalidArgumentError("give the ENTRY to correct (its sequence number)");
  }
  if (reason.empty()) return absl::InvalidArgumentError("--reason is required");
  if (keys.empty()) return absl::InvalidArgumentError("--key is required");
  veta::v1::Correction correction;
  correction.set_corrected_sequence(entry);
  correction.set_reason(reason);
  *correction.mutable_time() = NowTimestamp();
  correction.set_nonce(RandomNonce());
  ASSIGN_OR_RETURN(uint64_t sequence, SignAndSubmit(c, kCorrectionType, correction, keys));
  std::printf("entry %llu voided by correction entry %llu\n",
              static_cast<unsigned long long>(entry), static_cast<unsigned long long>(sequence));
  return absl::OkStatus();
}

absl::Status ClearFlagCmd(int argc, char** argv) {
  Common c;
  std::string flag, reason;
  std::vector<std::string> keys;
  Flags flags(
      "veta clear-flag ENTRY --flag CODE --reason TEXT --key REGISTRAR.pem",
      "A registrar, having looked into a red flag, clears it (under any rules version): the entry "
      "and\n"
      "its flag stay in the ledger and in `veta flags` (with \"clearedBy\": this entry), but\n"
      "the flag no longer keeps a certificate from the lots whose history holds it. Under\n"
      "rules v3 a flagged entry is voided only by a registrar (`veta correct`), and a\n"
      "certificate is refused while the lot's history holds an uncleared flag, even on a\n"
      "voided entry.\n"
      "ENTRY is the flagged entry's sequence and CODE its flag, as `veta flags` shows them\n"
      "(e.g. CASH_ABOVE_THRESHOLD); each flag of an entry is cleared by its own clearance.\n"
      "Signed by an active registrar only. Example:\n"
      "  veta clear-flag 1234 --flag CASH_ABOVE_THRESHOLD --key dgfm.pem \\\n"
      "    --reason \"SUNAT confirmed the payment was deposited (bank op 00123456)\"");
  AddConnectionFlags(flags, &c);
  flags.String("flag", &flag, "The red flag's code (CASH_ABOVE_THRESHOLD, VOLUME_JUMP, ...).");
  flags.String("reason", &reason, "What was checked, and by whom (1-2,000 bytes; recorded).");
  flags.Strings("key", &keys, "The registrar's private key (repeatable).");
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  uint64_t entry = 0;
  if (flags.positional().size() != 1 || !ParseU64(flags.positional()[0], &entry)) {
    return absl::InvalidArgumentError("give the ENTRY that raised the flag (its sequence number)");
  }
  veta::v1::RedFlag code = veta::v1::RED_FLAG_UNSPECIFIED;
  if (!veta::v1::RedFlag_Parse(flag, &code) || code == veta::v1::RED_FLAG_UNSPECIFIED) {
    return absl::InvalidArgumentError(StrCat(
        "--flag names a red flag's code, e.g. CASH_ABOVE_THRESHOLD (`veta flags` lists them); "
        "got '",
        flag, "'"));
  }
  if (reason.empty()) return absl::InvalidArgumentError("--reason is required");
  if (keys.empty()) return absl::InvalidArgumentError("--key is required");
  veta::v1::FlagClearance clearance;
  clearance.set_flagged_sequence(entry);
  clearance.set_flag(code);
  clearance.set_reason(reason);
  *clearance.mutable_time() = NowTimestamp();
  clearance.set_nonce(RandomNonce());
  ASSIGN_OR_RETURN(uint64_t sequence, SignAndSubmit(c, kFlagClearanceType, clearance, keys));
  std::printf("red flag %s of entry %llu cleared by entry %llu\n", flag.c_str(),
              static_cast<unsigned long long>(entry), static_cast<unsigned long long>(sequence));
  return absl::OkStatus();
}

absl::Status ExportCmd(int argc, char** argv) {
  Common c;
  std::string out, lot;
  uint64_t start = 0;
  Flags flags("veta export epcis [--out FILE] [--lot ID] [--start N]",
              "Writes the custody events as an EPCIS 2.0 JSON-LD document (GS1): extractions\n"
              "(commissioning), sales (shipping and receiving), processing (transformation),\n"
              "exports (departing), corrections (error declarations). Pages of up to 10,000\n"
              "entries: the next page starts where this one says (stderr).");
  AddConnectionFlags(flags, &c);
  flags.String("out", &out, "Output file ('-' or empty: standard output).");
  flags.String("lot", &lot, "Only the events that create, consume or export this lot.");
  flags.Uint("start", &start, "First entry to read.");
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  if (flags.positional().size() != 1 || flags.positional()[0] != "epcis") {
    return absl::InvalidArgumentError("the export format is epcis: veta export epcis");
  }
  veta::v1::ExportEpcisRequest request;
  request.set_start(start);
  request.set_lot_id(lot);
  veta::v1::ExportEpcisResponse response;
  auto ctx = Context(120);
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  RETURN_IF_ERROR(FromGrpc(stub->ExportEpcis(ctx.get(), request, &response), c.server));
  RETURN_IF_ERROR(WriteOutput(out, response.document() + "\n"));
  std::fprintf(stderr, "%u events; next page: --start %llu\n", response.events(),
               static_cast<unsigned long long>(response.next_start()));
  return absl::OkStatus();
}

absl::Status ReportCmd(int argc, char** argv) {
  Common c;
  uint64_t as_of = UINT64_MAX;
  std::string as_of_time;
  Flags flags("veta report indicators [--as-of N] [--json]",
              "The national ASGM policy's traceability indicators, for regulators: the share of\n"
              "exported fine gold whose lineage reaches registered units in full (accepted,\n"
              "unflagged, uncorrected), volumes by department, refusals and red flags by code.");
  AddConnectionFlags(flags, &c);
  flags.Bool("json", &c.json, "Print JSON.");
  flags.Uint("as-of", &as_of, "As of this entry.");
  flags.String("as-of-time", &as_of_time, "As of this time (RFC 3339).");
  std::string lang_flag;
  AddLangFlag(flags, &lang_flag);
  bool help;
  RETURN_IF_ERROR(ParseOrHelp(flags, argc, argv, &help));
  if (help) return absl::OkStatus();
  ASSIGN_OR_RETURN(const Lang lang, ChosenLang(lang_flag));
  if (flags.positional().size() != 1 || flags.positional()[0] != "indicators") {
    return absl::InvalidArgumentError("the report is indicators: veta report indicators");
  }
  veta::v1::GetIndicatorsRequest request;
  RETURN_IF_ERROR(SetAsOf(as_of, as_of_time, request.mutable_as_of()));
  veta::v1::Indicators r;
  auto ctx = Context(120);
  ASSIGN_OR_RETURN(auto stub, Connect(c));
  RETURN_IF_ERROR(FromGrpc(stub->GetIndicators(ctx.get(), request, &r), c.server));
  if (c.json) {
    ASSIGN_OR_RETURN(std::string json, MessageToJson(r));
    std::printf("%s\n", json.c_str());
    return absl::OkStatus();
  }
  PrintLine(StrCat(Say(lang, "Indicadores de trazabilidad a la entrada ",
                       "Traceability indicators as of entry "),
                   r.as_of() == 0 ? 0 : r.as_of() - 1, "\n"));
  PrintLine(StrCat(Say(lang, "  exportaciones: ", "  exports: "), r.exports(), ", ",
                   units::GoldGrams(r.exported_fine_mg()),
                   Say(lang, " de oro fino", " of fine gold")));
  PrintLine(StrCat(Say(lang, "  trazado por completo hasta unidades registradas: ",
                       "  traced in full to registered units: "),
                   units::GoldGrams(r.exported_fine_mg_traced()), " = ",
                   units::SharePercent(r.exported_fine_mg_traced(), r.exported_fine_mg()),
                   Say(lang, " (meta de la política al 2030: 35%)", " (policy target 2030: 35%)")));
  PrintLine(StrCat(Say(lang, "  lotes: ", "  lots: "), r.lots(),
                   Say(lang, ", correcciones: ", ", corrections: "), r.corrections(), "\n"));
  std::printf("  %-18s %20s %20s %20s\n",
              std::string(Say(lang, "departamento", "department")).c_str(),
              std::string(Say(lang, "mineral extraído", "ore extracted")).c_str(),
              std::string(Say(lang, "oro en el mineral", "gold in ore")).c_str(),
              std::string(Say(lang, "oro fino exportado", "exported fine gold")).c_str());
  for (const auto& d : r.departments()) {
    std::printf("  %-2s %-15s %20s %20s %20s\n", d.department().c_str(),
                std::string(DepartmentName(d.department())).c_str(),
                units::OreKg(d.extracted_ore_g()).c_str(),
                units::GoldGrams(d.extracted_fine_mg()).c_str(),
                units::GoldGrams(d.exported_fine_mg()).c_str());
  }
  PrintLine(
      StrCat("\n", Say(lang, "  intentos rechazados por código:", "  refused attempts by code:")));
  for (const auto& x : r.refusals()) {
    std::printf("    %-32s %llu\n", x.code().c_str(), static_cast<unsigned long long>(x.count()));
  }
  PrintLine(std::string(Say(lang, "  alertas por tipo:", "  red flags by kind:")));
  for (const auto& x : r.flags()) {
    std::printf("    %-32s %llu\n", x.code().c_str(), static_cast<unsigned long long>(x.count()));
  }
  return absl::OkStatus();
}

}  // namespace veta::client
