#include "core/verify/certificate_verify.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/units.h"
#include "core/verify/envelope.h"
#include "core/verify/lots.h"
#include "core/verify/merkle.h"

namespace veta {

absl::Status CertificateRefused(std::string message) {
  return absl::FailedPreconditionError(StrCat("[CERTIFICATE_REFUSED] ", message));
}

namespace {

std::vector<Hash> ToHashes(const google::protobuf::RepeatedPtrField<std::string>& in) {
  std::vector<Hash> out;
  for (const auto& s : in) {
    Hash h{};
    if (!HashFromBytes(s, &h)) h.fill(0);  // a wrong-length hash then fails verification
    out.push_back(h);
  }
  return out;
}

// --- Recomputing the claims from the entries' payloads ---

// Replays the lots' arithmetic (core/verify/lots.h, the rules' own) over the certificate's entries,
// in log order: the lineage's extractions, sales and processing, and the earlier takes from
// the same lots with their corrections, which decide how a later part was apportioned.
class Recomputer {
 public:
  absl::Status Add(uint64_t seq, const DecodedEnvelope& d) {
    switch (d.kind) {
      case PayloadKind::kExtraction: {
        const auto& x = d.extraction;
        return Put(seq, NewOreLot(x.lot_id(), x.extractor_id(), x.unit_code(), "", x.ore_g(),
                                  x.grade_ppb(), seq));
      }
      case PayloadKind::kSale: {
        const auto& x = d.sale;
        ASSIGN_OR_RETURN(veta::v1::Lot * parent, Get(seq, x.lot_id()));
        const int64_t q = x.quantity_mg() != 0 ? x.quantity_mg() : x.quantity_ore_g();
        RETURN_IF_ERROR(CheckEnough(seq, *parent, q));
        veta::v1::Lot part = SplitOff(parent, q);
        part.set_lot_id(x.buyer_lot_id());
        part.set_holder_id(x.buyer_ruc());
        part.set_created_at(seq);
        takes_[seq].emplace_back(x.lot_id(), Taken{q, part.original_fine_mg(), OriginOf(part)});
        return Put(seq, std::move(part));
      }
      case PayloadKind::kProcessing: {
        const auto& x = d.processing;
        std::vector<veta::v1::Lot*> inputs;
        std::vector<int64_t> quantities;
        for (const auto& in : x.inputs()) {
          auto it = lots_.find(in.lot_id());
          const int64_t q = in.gold_mg() != 0 ? in.gold_mg() : in.ore_g();
          if (it == lots_.end()) continue;  // an earlier take from a lot we follow: only ours
          RETURN_IF_ERROR(CheckEnough(seq, it->second, q));
          inputs.push_back(&it->second);
          quantities.push_back(q);
        }
        if (inputs.empty()) {
          return absl::DataLossError(StrCat(
              "entry ", seq, " takes from no lot whose creating entry the certificate holds"));
        }
        if (inputs.size() < static_cast<size_t>(x.inputs_size())) {
          for (size_t i = 0; i < inputs.size(); ++i) {
            takes_[seq].emplace_back(inputs[i]->lot_id(), TakeFrom(inputs[i], quantities[i]));
          }
          return absl::OkStatus();
        }
        std::vector<BlendOutput> outputs;
        for (const auto& out : x.outputs()) {
          outputs.push_back({out.lot_id(), out.gold_mg(), out.fineness_ppb()});
        }
        std::vector<veta::v1::LotInput> taken;
        std::vector<veta::v1::Lot> made = Blend(inputs, quantities, outputs, &taken);
        for (const auto& in : taken) takes_[seq].emplace_back(in.lot_id(), TakenBy(in));
        for (auto& lot : made) {
          lot.set_holder_id(x.plant_ruc());
          lot.set_created_at(seq);
          RETURN_IF_ERROR(Put(seq, std::move(lot)));
        }
        return absl::OkStatus();
      }
      case PayloadKind::kCorrection: {
        // A correction of an earlier take gives back exactly what it took.
        auto it = takes_.find(d.correction.corrected_sequence());
        if (it == takes_.end()) {
          return absl::DataLossError(StrCat("correction entry ", seq, " voids entry ",
                                            d.correction.corrected_sequence(),
                                            ", which the certificate does not carry"));
        }
        for (const auto& [id, taken] : it->second) GiveBack(&lots_.at(id), taken);
        takes_.erase(it);
        return absl::OkStatus();
      }
      case PayloadKind::kRegistry:
        if (d.registry.has_unit()) {
          departments_[d.registry.unit().concession_code()] =
              d.registry.unit().ubigeo().substr(0, 2);
        }
        return absl::OkStatus();
      default:
        return absl::OkStatus();  // an export gives back all it took when voided: no change
    }
  }

  absl::StatusOr<const veta::v1::Lot*> Lot(const std::string& id) const {
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
  absl::Status Put(uint64_t seq, veta::v1::Lot lot) {
    const std::string id = lot.lot_id();
    if (!lots_.emplace(id, std::move(lot)).second) {
      return absl::DataLossError(StrCat("entry ", seq, " creates lot ", id, " a second time"));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<veta::v1::Lot*> Get(uint64_t seq, const std::string& id) {
    auto it = lots_.find(id);
    if (it == lots_.end()) {
      return absl::DataLossError(StrCat("entry ", seq, " takes from lot ", id,
                                        ", whose creating entry is not in the certificate"));
    }
    return &it->second;
  }
  static absl::Status CheckEnough(uint64_t seq, const veta::v1::Lot& lot, int64_t q) {
    if (q > 0 && q <= Remaining(lot)) return absl::OkStatus();
    return absl::DataLossError(StrCat("entry ", seq, " takes ", Amount(lot, q), " of lot ",
                                      lot.lot_id(), ", which has ", Amount(lot, Remaining(lot)),
                                      " left by the certificate's entries"));
  }

  std::map<std::string, veta::v1::Lot> lots_;
  // What each entry took, by lot: what its correction gives back.
  std::map<uint64_t, std::vector<std::pair<std::string, Taken>>> takes_;
  std::map<std::string, std::string> departments_;
};

// A milligram count, the whole field.
bool ParseMg(std::string_view s, int64_t* out) {
  auto v = units::ParseDecimal(s, 0);
  if (!v.ok()) return false;
  *out = *v;
  return true;
}

absl::StatusOr<CertificateClaims> ParseClaims(std::string_view text) {
  CertificateClaims c;
  const std::vector<std::string_view> lines = Split(text, '\n');
  auto bad = [](std::string_view line) {
    return absl::InvalidArgumentError(
        StrCat("certificate: malformed line '", std::string(line.substr(0, 80)), "'"));
  };
  if (lines.size() < 4 || lines[1] != kCertificateTitle) {
    return absl::InvalidArgumentError("not an oro-formal certificate v2");
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
    } else if (key == "fine-mg" && f.size() == 2) {
      if (!ParseMg(f[1], &c.fine_mg)) return bad(lines[i]);
    } else if (key == "remaining-mg" && f.size() == 2) {
      if (!ParseMg(f[1], &c.remaining_mg)) return bad(lines[i]);
    } else if (key == "exported" && f.size() == 3) {
      c.exported_to = std::string(f[1]);
      if (!ParseU64(f[2], &c.exported_at)) return bad(lines[i]);
    } else if (key == "unit" && f.size() == 4) {
      veta::v1::UnitShare u;
      int64_t mg = 0;
      if (!ParseMg(f[3], &mg)) return bad(lines[i]);
      u.set_unit_code(std::string(f[1]));
      u.set_department(std::string(f[2]));
      u.set_fine_mg(mg);
      c.units.push_back(std::move(u));
    } else if (key == "department" && f.size() == 3) {
      veta::v1::DepartmentShare d;
      int64_t mg = 0;
      if (!ParseMg(f[2], &mg)) return bad(lines[i]);
      d.set_department(std::string(f[1]));
      d.set_fine_mg(mg);
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
  ASSIGN_OR_RETURN(const veta::v1::Lot* lot, r.Lot(claims.lot_id));
  if (lot->original_fine_mg() != claims.fine_mg) {
    return absl::DataLossError(StrCat("the certificate claims ", claims.fine_mg,
                                      " fine mg; its entries show ", lot->original_fine_mg()));
  }
  if (lot->holder_id() != claims.holder) {
    return absl::DataLossError(StrCat("the certificate names holder ", claims.holder,
                                      "; its entries show ", lot->holder_id()));
  }
  std::map<std::string, int64_t> origin;
  for (const auto& s : OriginOf(*lot)) origin[s.unit_code()] = s.fine_mg();
  if (claims.units.size() != origin.size()) {
    return absl::DataLossError(StrCat("the certificate names ", claims.units.size(),
                                      " units of origin; its entries show ", origin.size()));
  }
  std::map<std::string, int64_t> by_department;
  std::set<std::string> named;
  for (const auto& u : claims.units) {
    if (!named.insert(u.unit_code()).second) {
      return absl::InvalidArgumentError(
          StrCat("the certificate names unit ", u.unit_code(), " twice"));
    }
    auto it = origin.find(u.unit_code());
    if (it == origin.end() || it->second != u.fine_mg()) {
      return absl::DataLossError(StrCat("the certificate gives unit ", u.unit_code(), " ",
                                        u.fine_mg(), " fine mg; its entries show ",
                                        it == origin.end() ? 0 : it->second));
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
    if (it == by_department.end() || it->second != d.fine_mg()) {
      return absl::DataLossError(
          StrCat("the share of department ", d.department(), " does not add up"));
    }
  }
  claims.checkpoint = cp;
  return claims;
}

}  // namespace veta
