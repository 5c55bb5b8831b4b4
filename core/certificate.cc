#include "core/certificate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "core/envelope.h"
#include "core/ledger.h"
#include "core/lineage.h"
#include "core/merkle.h"
#include "core/queries.h"
#include "core/registry.h"
#include "core/status_macros.h"
#include "core/strings.h"

namespace veta {
namespace {

constexpr std::string_view kTitle = "oro-formal certificate v1";
constexpr double kShareTolerance = 1e-9;

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

absl::Status Refused(std::string message) {
  return absl::FailedPreconditionError(StrCat("[CERTIFICATE_REFUSED] ", message));
}

std::vector<Hash> ToHashes(const google::protobuf::RepeatedPtrField<std::string>& in) {
  std::vector<Hash> out;
  for (const auto& s : in) {
    Hash h{};
    if (!HashFromBytes(s, &h)) h.fill(0);  // a wrong-length hash then fails verification
    out.push_back(h);
  }
  return out;
}

// The first red flag raised on entry `seq`, if any; `it` is an iterator over the evidence
// family, reused for every lot of a lineage.
absl::StatusOr<std::optional<veta::v1::Flag>> FlagOn(Cursor* it, uint64_t seq) {
  const std::string prefix = FlagsOfEntryPrefix(seq);
  it->Seek(prefix);
  RETURN_IF_ERROR(Annotate(it->status(), "read the red flags"));
  if (!it->Valid() || !it->key().starts_with(prefix)) return std::nullopt;
  veta::v1::Flag f;
  if (!f.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
    return absl::DataLossError(StrCat("the red flag on entry ", seq, " is malformed"));
  }
  return f;
}

// --- Recomputing the claims from the entries' payloads ---

struct LotFacts {
  std::string holder;
  double original = 0;       // kg or g
  double fine_per_unit = 0;  // fine grams per kg or per g
  std::map<std::string, double> origin;
};

class Recomputer {
 public:
  absl::Status Add(uint64_t seq, const DecodedEnvelope& d) {
    switch (d.kind) {
      case PayloadKind::kExtraction: {
        LotFacts f;
        f.holder = d.extraction.extractor_id();
        f.original = d.extraction.ore_kg();
        f.fine_per_unit = d.extraction.grade_g_per_t() / 1000;
        f.origin[d.extraction.unit_code()] = 1;
        return Put(seq, d.extraction.lot_id(), std::move(f));
      }
      case PayloadKind::kSale: {
        ASSIGN_OR_RETURN(const LotFacts* parent, Get(seq, d.sale.lot_id()));
        LotFacts f = *parent;
        f.holder = d.sale.buyer_ruc();
        f.original = d.sale.quantity_g() != 0 ? d.sale.quantity_g() : d.sale.quantity_kg();
        return Put(seq, d.sale.buyer_lot_id(), std::move(f));
      }
      case PayloadKind::kProcessing: {
        std::map<std::string, double> mix;
        double total = 0;
        for (const auto& in : d.processing.inputs()) {
          ASSIGN_OR_RETURN(const LotFacts* parent, Get(seq, in.lot_id()));
          const double q = in.gold_g() != 0 ? in.gold_g() : in.ore_kg();
          const double fine = q * parent->fine_per_unit;
          total += fine;
          for (const auto& [unit, share] : parent->origin) mix[unit] += fine * share;
        }
        if (!(total > 0)) return absl::DataLossError(StrCat("entry ", seq, " brings no gold"));
        for (auto& [unit, fine] : mix) fine /= total;
        for (const auto& out : d.processing.outputs()) {
          LotFacts f;
          f.holder = d.processing.plant_ruc();
          f.original = out.gold_g();
          f.fine_per_unit = out.fineness() / 1000;
          f.origin = mix;
          RETURN_IF_ERROR(Put(seq, out.lot_id(), std::move(f)));
        }
        return absl::OkStatus();
      }
      case PayloadKind::kRegistry:
        if (d.registry.has_unit()) {
          departments_[d.registry.unit().concession_code()] =
              d.registry.unit().ubigeo().substr(0, 2);
        }
        return absl::OkStatus();
      default:
        return absl::OkStatus();  // exports and others move no gold between lots
    }
  }

  absl::StatusOr<const LotFacts*> Lot(const std::string& id) const {
    auto it = lots_.find(id);
    if (it == lots_.end()) {
      return absl::DataLossError(StrCat("no entry of the certificate creates lot ", id));
    }
    return &it->second;
  }
  absl::StatusOr<std::string> Department(const std::string& unit) const {
    auto it = departments_.find(unit);
    if (it == departments_.end()) {
      return absl::DataLossError(StrCat("the certificate holds no registry record of unit ", unit));
    }
    return it->second;
  }

 private:
  absl::Status Put(uint64_t seq, const std::string& id, LotFacts f) {
    if (!lots_.emplace(id, std::move(f)).second) {
      return absl::DataLossError(StrCat("entry ", seq, " creates lot ", id, " a second time"));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<const LotFacts*> Get(uint64_t seq, const std::string& id) const {
    auto it = lots_.find(id);
    if (it == lots_.end()) {
      return absl::DataLossError(StrCat("entry ", seq, " takes from lot ", id,
                                        ", whose creating entry is not in the certificate"));
    }
    return &it->second;
  }

  std::map<std::string, LotFacts> lots_;
  std::map<std::string, std::string> departments_;
};

// A finite decimal number, the whole field.
bool ParseNumber(std::string_view s, double* out) {
  const std::string text(s);
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size() && std::isfinite(*out);
}

absl::StatusOr<CertificateClaims> ParseClaims(std::string_view text) {
  CertificateClaims c;
  const std::vector<std::string_view> lines = Split(text, '\n');
  auto bad = [](std::string_view line) {
    return absl::InvalidArgumentError(
        StrCat("certificate: malformed line '", std::string(line.substr(0, 80)), "'"));
  };
  if (lines.size() < 4 || lines[1] != kTitle) {
    return absl::InvalidArgumentError("not an oro-formal certificate v1");
  }
  c.origin = std::string(lines[0]);
  for (size_t i = 2; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    const std::vector<std::string_view> f = Split(lines[i], ' ');
    const std::string_view key = f[0];
    if (key == "lot" && f.size() == 2) {
      c.lot_id = std::string(f[1]);
    } else if (key == "holder" && f.size() == 2) {
      c.holder = std::string(f[1]);
    } else if (key == "fine-g" && f.size() == 2) {
      if (!ParseNumber(f[1], &c.fine_g)) return bad(lines[i]);
    } else if (key == "remaining-g" && f.size() == 2) {
      if (!ParseNumber(f[1], &c.remaining_g)) return bad(lines[i]);
    } else if (key == "exported" && f.size() == 3) {
      c.exported_to = std::string(f[1]);
      if (!ParseU64(f[2], &c.exported_at)) return bad(lines[i]);
    } else if (key == "unit" && f.size() == 4) {
      veta::v1::UnitShare u;
      double share = 0;
      if (!ParseNumber(f[3], &share)) return bad(lines[i]);
      u.set_unit_code(std::string(f[1]));
      u.set_department(std::string(f[2]));
      u.set_share(share);
      c.units.push_back(std::move(u));
    } else if (key == "department" && f.size() == 3) {
      veta::v1::DepartmentShare d;
      double share = 0;
      if (!ParseNumber(f[2], &share)) return bad(lines[i]);
      d.set_department(std::string(f[1]));
      d.set_share(share);
      c.departments.push_back(std::move(d));
    } else if (key == "checkpoint" && f.size() == 3) {
      std::string root;
      if (!ParseU64(f[1], &c.checkpoint.size) || !Base64Decode(f[2], &root) ||
          !HashFromBytes(root, &c.checkpoint.root)) {
        return bad(lines[i]);
      }
      c.checkpoint.origin = c.origin;
    } else if (key == "entries") {
      for (size_t j = 1; j < f.size(); ++j) {
        uint64_t seq = 0;
        if (!ParseU64(f[j], &seq)) return bad(lines[i]);
        c.entries.push_back(seq);
      }
    } else {
      return bad(lines[i]);
    }
  }
  if (c.lot_id.empty() || c.units.empty() || c.entries.empty()) {
    return absl::InvalidArgumentError("certificate: lot, units and entries are required");
  }
  return c;
}

}  // namespace

absl::StatusOr<note::Checkpoint> OpenCheckpointNote(const std::string& note_text,
                                                    const PublicKey& authority) {
  const std::string origin = note_text.substr(0, note_text.find('\n'));
  ASSIGN_OR_RETURN(std::string verifier, note::VerifierKey(origin, authority));
  ASSIGN_OR_RETURN(std::string text, note::Open(note_text, verifier));
  return note::ParseCheckpointText(text);
}

absl::Status VerifyInclusionBundle(const veta::v1::ProofBundle& bundle,
                                   const note::Checkpoint& cp) {
  const auto& proof = bundle.inclusion();
  if (proof.tree_size() != cp.size) {
    return absl::InvalidArgumentError(StrCat("the proof is for tree size ", proof.tree_size(),
                                             " but the checkpoint is of size ", cp.size));
  }
  const Hash leaf = merkle::HashLeaf(bundle.entry());
  if (std::string(AsBytes(leaf)) != proof.leaf_hash()) {
    return absl::InvalidArgumentError("the entry does not hash to the proof's leaf hash");
  }
  veta::v1::Entry entry;
  if (!entry.ParseFromString(bundle.entry()) || entry.sequence() != proof.leaf_index()) {
    return absl::InvalidArgumentError("the entry's sequence is not the proof's leaf index");
  }
  return merkle::VerifyInclusion(proof.leaf_index(), cp.size, leaf, ToHashes(proof.hashes()),
                                 cp.root);
}

absl::Status LineageIsClean(const Reader& store, const veta::v1::Lineage& lineage,
                            std::string_view lot_id) {
  std::unique_ptr<Cursor> flags = store.NewCursor(Family::kEvidence);
  for (const auto& node : lineage.nodes()) {
    const std::string step = StrCat("entry ", node.sequence(), " (", LotSourceName(node.source()),
                                    " creating lot ", node.lot_id(), ")");
    if (node.voided_at() != 0) {
      return Refused(StrCat("lot ", lot_id, " rests on ", step, ", which correction entry ",
                            node.voided_at(), " voided"));
    }
    ASSIGN_OR_RETURN(auto flag, FlagOn(flags.get(), node.sequence()));
    if (flag && flag->sequence() < lineage.as_of()) {
      return Refused(StrCat("lot ", lot_id, " rests on ", step, ", which raised red flag ",
                            veta::v1::RedFlag_Name(flag->flag()), ": ", flag->message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<veta::v1::Certificate> IssueCertificate(const Ledger& ledger,
                                                       std::string_view lot_id) {
  const veta::v1::Checkpoint cp = ledger.LatestCheckpoint();
  const uint64_t n = cp.tree_size();
  const Reader& store = ledger.store();
  ASSIGN_OR_RETURN(const veta::v1::Lot lot, GetLot(store, lot_id));
  if (lot.created_at() >= n) {
    return absl::UnavailableError(StrCat("lot ", lot_id, " was created by entry ", lot.created_at(),
                                         ", after the latest checkpoint (", n,
                                         " entries): retry once the next ",
                                         "checkpoint is signed"));
  }
  if (!IsGold(lot)) {
    return Refused(StrCat("lot ", lot_id, " is ore: certificates are issued for gold lots"));
  }
  if (lot.exported_at() >= n || lot.voided_at() >= n || lot.export_voided_at() >= n) {
    return absl::UnavailableError(
        StrCat("lot ", lot_id, " changed after the latest checkpoint (", n,
               " entries): ", "retry once the next checkpoint is signed"));
  }
  const bool exported = ExportedAsOf(lot, n);
  if (!exported && !(lot.remaining_g() > 0)) {
    return Refused(StrCat("lot ", lot_id, " has nothing left: its gold was sold on or ",
                          "processed (veta lineage --forward ", lot_id, "); ask for the ",
                          "certificate of the lot that holds it now"));
  }
  LineageQuery q;
  q.id = std::string(lot_id);
  q.as_of = n;
  q.depth_max = kLineageDepthMax;
  q.nodes_max = kCertificateLotsMax;
  q.page_nodes = kCertificateLotsMax;
  ASSIGN_OR_RETURN(veta::v1::Lineage lineage, QueryLineage(store, q));
  if (lineage.truncated()) {
    return Refused(StrCat("the lineage of lot ", lot_id,
                          " is too large to certify: ", lineage.truncated_reason()));
  }
  RETURN_IF_ERROR(LineageIsClean(store, lineage, lot_id));
  std::set<uint64_t> entries;
  for (const auto& node : lineage.nodes()) entries.insert(node.sequence());
  std::string text =
      StrCat(ledger.origin(), "\n", kTitle, "\nlot ", lot_id, "\nholder ", lot.holder_id(),
             "\nfine-g ", Fixed(lineage.nodes(0).fine_g(), 6), "\nremaining-g ",
             Fixed(exported ? lot.exported_g() : lot.remaining_g(), 6), "\n");
  if (exported) text += StrCat("exported ", lot.export_destination(), " ", lot.exported_at(), "\n");
  for (const auto& u : lineage.units()) {
    if (u.department().empty() || u.unit_code().find(' ') != std::string::npos) {
      return Refused(StrCat("unit ", u.unit_code(), " has no department on record"));
    }
    auto version = GetRecordAsOf(store, RecordKind::kUnit, u.unit_code(), n);
    RETURN_IF_ERROR(version.status());
    entries.insert(version->sequence);
    text += StrCat("unit ", u.unit_code(), " ", u.department(), " ", Fixed(u.share(), 9), "\n");
  }
  for (const auto& d : lineage.departments()) {
    text += StrCat("department ", d.department(), " ", Fixed(d.share(), 9), "\n");
  }
  text += StrCat("checkpoint ", n, " ", Base64Encode(cp.root_hash()), "\nentries");
  for (uint64_t seq : entries) text += StrCat(" ", seq);
  text += "\n";

  veta::v1::Certificate cert;
  ASSIGN_OR_RETURN(*cert.mutable_note(), ledger.SignNote(text));
  size_t bytes = 0;
  *cert.mutable_checkpoint() = cp;
  for (uint64_t seq : entries) {
    auto* b = cert.add_entries();
    ASSIGN_OR_RETURN(*b->mutable_entry(), ledger.GetEntry(seq));
    bytes += b->entry().size();
    if (bytes > kCertificateBytesMax) {
      return Refused(StrCat("the entries lot ", lot_id, " rests on exceed ",
                            kCertificateBytesMax >> 20, " MiB: too large to certify"));
    }
    ASSIGN_OR_RETURN(std::vector<Hash> proof, ledger.InclusionProof(seq, n));
    auto* inc = b->mutable_inclusion();
    inc->set_leaf_index(seq);
    inc->set_tree_size(n);
    inc->set_leaf_hash(std::string(AsBytes(merkle::HashLeaf(b->entry()))));
    for (const Hash& h : proof) inc->add_hashes(std::string(AsBytes(h)));
  }
  return cert;
}

absl::StatusOr<CertificateClaims> VerifyCertificate(const veta::v1::Certificate& cert,
                                                    const PublicKey& authority,
                                                    std::string_view expected_origin) {
  ASSIGN_OR_RETURN(note::Checkpoint cp, OpenCheckpointNote(cert.checkpoint().note(), authority));
  if (!expected_origin.empty() && cp.origin != expected_origin) {
    return absl::InvalidArgumentError(
        StrCat("the certificate is from log '", cp.origin, "', not '", expected_origin, "'"));
  }
  if (cert.checkpoint().origin() != cp.origin || cert.checkpoint().tree_size() != cp.size ||
      cert.checkpoint().root_hash() != AsBytes(cp.root)) {
    return absl::InvalidArgumentError("the checkpoint's fields differ from its signed note");
  }
  ASSIGN_OR_RETURN(std::string verifier, note::VerifierKey(cp.origin, authority));
  ASSIGN_OR_RETURN(std::string text, note::Open(cert.note(), verifier));
  ASSIGN_OR_RETURN(CertificateClaims claims, ParseClaims(text));
  if (claims.origin != cp.origin || claims.checkpoint.size != cp.size ||
      claims.checkpoint.root != cp.root) {
    return absl::InvalidArgumentError(
        "the certificate names another checkpoint than the one it carries");
  }
  // Every entry it names is there, proven against the checkpoint; replayed in log order.
  std::map<uint64_t, DecodedEnvelope> decoded;
  for (const auto& bundle : cert.entries()) {
    RETURN_IF_ERROR(VerifyInclusionBundle(bundle, cp));
    veta::v1::Entry entry;
    entry.ParseFromString(bundle.entry());
    ASSIGN_OR_RETURN(DecodedEnvelope d, DecodeEnvelope(entry.envelope(), EnvelopeLimits{}));
    decoded.emplace(entry.sequence(), std::move(d));
  }
  for (uint64_t seq : claims.entries) {
    if (decoded.count(seq) == 0) {
      return absl::InvalidArgumentError(
          StrCat("the certificate rests on entry ", seq, " but does not carry it"));
    }
  }
  if (decoded.size() != claims.entries.size()) {
    return absl::InvalidArgumentError("the certificate carries entries it does not name");
  }
  Recomputer r;
  for (const auto& [seq, d] : decoded) RETURN_IF_ERROR(r.Add(seq, d));
  ASSIGN_OR_RETURN(const LotFacts* lot, r.Lot(claims.lot_id));
  const double fine = lot->original * lot->fine_per_unit;
  if (std::fabs(fine - claims.fine_g) > 1e-6 * std::max(1.0, fine)) {
    return absl::DataLossError(StrCat("the certificate claims ", Fixed(claims.fine_g, 6),
                                      " fine grams; its entries show ", Fixed(fine, 6)));
  }
  if (lot->holder != claims.holder) {
    return absl::DataLossError(
        StrCat("the certificate names holder ", claims.holder, "; its entries show ", lot->holder));
  }
  if (claims.units.size() != lot->origin.size()) {
    return absl::DataLossError(StrCat("the certificate names ", claims.units.size(),
                                      " units of origin; its entries show ", lot->origin.size()));
  }
  std::map<std::string, double> by_department;
  std::set<std::string> named;
  for (const auto& u : claims.units) {
    if (!named.insert(u.unit_code()).second) {
      return absl::InvalidArgumentError(
          StrCat("the certificate names unit ", u.unit_code(), " twice"));
    }
    auto it = lot->origin.find(u.unit_code());
    if (it == lot->origin.end() || std::fabs(it->second - u.share()) > kShareTolerance) {
      return absl::DataLossError(StrCat("the certificate gives unit ", u.unit_code(), " a share ",
                                        "of ", Fixed(u.share(), 9), "; its entries show ",
                                        Fixed(it == lot->origin.end() ? 0 : it->second, 9)));
    }
    ASSIGN_OR_RETURN(std::string dept, r.Department(u.unit_code()));
    if (dept != u.department()) {
      return absl::DataLossError(
          StrCat("unit ", u.unit_code(), " is in department ", dept, ", not ", u.department()));
    }
    by_department[dept] += it->second;
  }
  std::set<std::string> departments;
  for (const auto& d : claims.departments) departments.insert(d.department());
  if (claims.departments.size() != by_department.size() ||
      departments.size() != by_department.size()) {
    return absl::DataLossError("the certificate's departments are not those of its units");
  }
  for (const auto& d : claims.departments) {
    auto it = by_department.find(d.department());
    if (it == by_department.end() || std::fabs(it->second - d.share()) > kShareTolerance) {
      return absl::DataLossError(
          StrCat("the share of department ", d.department(), " does not add up"));
    }
  }
  claims.checkpoint = cp;
  return claims;
}

}  // namespace veta
