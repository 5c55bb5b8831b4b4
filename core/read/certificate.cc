#include "core/read/certificate.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/units.h"
#include "core/log/ledger.h"
#include "core/read/lineage.h"
#include "core/read/queries.h"
#include "core/rules/registry.h"
#include "core/verify/envelope.h"
#include "core/verify/merkle.h"

namespace veta {
namespace {

// The red flags raised on entry `seq` that no registrar had cleared (rules v3: a
// FlagClearance, core/rules/flag_clearances.cc) as of the first `as_of` entries; `it` is an
// iterator over the evidence family, reused for every entry of a lineage. A flag stays in the
// evidence once cleared: the state's flag-cleared row says it no longer blocks.
absl::StatusOr<std::vector<veta::v1::Flag>> UnclearedFlagsOn(const Reader& store, Cursor* it,
                                                             uint64_t seq, uint64_t as_of) {
  std::vector<veta::v1::Flag> out;
  const std::string prefix = FlagsOfEntryPrefix(seq);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    veta::v1::Flag f;
    if (!f.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(StrCat("the red flag on entry ", seq, " is malformed"));
    }
    if (f.sequence() >= as_of) continue;
    auto cleared = store.Get(Family::kState, FlagClearedKey(seq, f.flag()));
    if (cleared.ok()) {
      ASSIGN_OR_RETURN(uint64_t by, DecodeSequence(*cleared, "a flag-cleared row"));
      if (by < as_of) continue;
    } else if (!absl::IsNotFound(cleared.status())) {
      return Annotate(cleared.status(), "read the flag clearances");
    }
    out.push_back(std::move(f));
  }
  RETURN_IF_ERROR(Annotate(it->status(), "read the red flags"));
  return out;
}

// "which raised red flag CODE: message; no registrar has cleared it (...)".
// `with_message`: the flag's own words, for an entry of the lineage; an entry beside it (a
// voided take from a lineage lot, between other parties) is named by its code only, since a
// lot's holder may ask for its certificate and need not read others' payments.
std::string FlagRefusal(uint64_t seq, const veta::v1::Flag& flag, bool with_message = true) {
  const std::string code = veta::v1::RedFlag_Name(flag.flag());
  return StrCat("which raised red flag ", code, with_message ? StrCat(": ", flag.message()) : "",
                "; no registrar has cleared it (a registrar's flag clearance lifts it: veta ",
                "clear-flag ", seq, " --flag ", code, ")");
}

}  // namespace

absl::Status LineageIsClean(const Reader& store, const veta::v1::Lineage& lineage,
                            std::string_view lot_id) {
  std::unique_ptr<Cursor> flags = store.NewCursor(Family::kEvidence);
  for (const auto& node : lineage.nodes()) {
    const std::string step = StrCat("entry ", node.sequence(), " (", LotSourceName(node.source()),
                                    " creating lot ", node.lot_id(), ")");
    if (node.voided_at() != 0) {
      return CertificateRefused(StrCat("lot ", lot_id, " rests on ", step,
                                       ", which correction entry ", node.voided_at(), " voided"));
    }
    ASSIGN_OR_RETURN(auto uncleared,
                     UnclearedFlagsOn(store, flags.get(), node.sequence(), lineage.as_of()));
    if (!uncleared.empty()) {
      return CertificateRefused(StrCat("lot ", lot_id, " rests on ", step, ", ",
                                       FlagRefusal(node.sequence(), uncleared.front())));
    }
  }
  // A flagged entry voided and declared again is still the lot's history (the flag-washing
  // route: a flagged cash sale from lot A voided, A restored, A sold again by bank transfer).
  // For each lot of the lineage, the entries that took from it and were voided before the
  // lineage took from it (before the lineage's point, for the lot itself): one that raised a
  // flag no registrar cleared taints what the lineage took.
  std::map<std::string, uint64_t> before;  // lot -> the lineage's latest take from it
  for (const auto& node : lineage.nodes()) {
    for (const auto& e : node.edges()) {
      uint64_t& at = before[e.lot_id()];
      at = std::max(at, node.sequence());
    }
  }
  std::unique_ptr<Cursor> edges = store.NewCursor(Family::kState);
  std::map<uint64_t, std::vector<veta::v1::Flag>> flagged;  // entry -> its uncleared flags
  for (const auto& node : lineage.nodes()) {
    auto b = before.find(node.lot_id());
    const uint64_t until = b == before.end() ? lineage.as_of() : b->second;
    const std::string prefix = ChildEdgeKey(node.lot_id(), "");
    for (edges->Seek(prefix); edges->Valid() && edges->key().starts_with(prefix); edges->Next()) {
      uint64_t seq = 0;
      if (!DecodeU64(edges->value(), &seq)) {
        return absl::DataLossError(StrCat("a malformed lineage edge of lot ", node.lot_id()));
      }
      if (seq >= until) continue;
      auto found = flagged.find(seq);
      if (found == flagged.end()) {
        ASSIGN_OR_RETURN(auto uncleared,
                         UnclearedFlagsOn(store, flags.get(), seq, lineage.as_of()));
        found = flagged.emplace(seq, std::move(uncleared)).first;
      }
      // Flags are rare: the child lot is read only for a flagged entry.
      const std::vector<veta::v1::Flag>& uncleared = found->second;
      if (uncleared.empty()) continue;
      const std::string child_id(edges->key().substr(prefix.size()));
      ASSIGN_OR_RETURN(veta::v1::Lot child, GetLot(store, child_id));
      if (child.voided_at() == 0 || child.voided_at() >= until) continue;
      return CertificateRefused(
          StrCat("lot ", lot_id, " rests on lot ", node.lot_id(), ", whose history holds entry ",
                 seq, " (", LotSourceName(child.source()), " creating lot ", child_id,
                 " from it, voided by ", "correction entry ", child.voided_at(), "), ",
                 FlagRefusal(seq, uncleared.front(), /*with_message=*/false)));
    }
    RETURN_IF_ERROR(Annotate(edges->status(), "read the lineage edges"));
  }
  return absl::OkStatus();
}

namespace {

// The entries a lineage's apportionment rests on besides its own: for each lot the lineage
// takes from, every earlier take from that lot (its other children, sales or processing,
// created before the lineage's take) and the corrections that voided one of those before it.
absl::Status AddEarlierTakes(const Reader& store, const veta::v1::Lineage& lineage,
                             std::set<uint64_t>* entries) {
  std::map<std::string, uint64_t> taken_at;  // lot -> the lineage's latest take from it
  for (const auto& node : lineage.nodes()) {
    for (const auto& e : node.edges()) {
      uint64_t& at = taken_at[e.lot_id()];
      at = std::max(at, node.sequence());
    }
  }
  std::unique_ptr<Cursor> it = store.NewCursor(Family::kState);
  for (const auto& [parent, before] : taken_at) {
    const std::string prefix = ChildEdgeKey(parent, "");
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      uint64_t seq = 0;
      if (!DecodeU64(it->value(), &seq)) {
        return absl::DataLossError(StrCat("a malformed lineage edge of lot ", parent));
      }
      if (seq >= before) continue;
      entries->insert(seq);
      ASSIGN_OR_RETURN(veta::v1::Lot child, GetLot(store, it->key().substr(prefix.size())));
      if (child.voided_at() != 0 && child.voided_at() < before) entries->insert(child.voided_at());
    }
    RETURN_IF_ERROR(Annotate(it->status(), "read the lineage edges"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<veta::v1::Certificate> IssueCertificate(const Ledger& ledger,
                                                       std::string_view lot_id) {
  const veta::v1::Checkpoint cp = ledger.PublishedCheckpoint();
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
    return CertificateRefused(
        StrCat("lot ", lot_id, " is ore: certificates are issued for gold lots"));
  }
  if (lot.exported_at() >= n || lot.voided_at() >= n || lot.export_voided_at() >= n) {
    return absl::UnavailableError(
        StrCat("lot ", lot_id, " changed after the latest checkpoint (", n,
               " entries): ", "retry once the next checkpoint is signed"));
  }
  const bool exported = ExportedAsOf(lot, n);
  if (!exported && !(lot.remaining_gold_mg() > 0)) {
    return CertificateRefused(StrCat("lot ", lot_id, " has nothing left: its gold was sold on or ",
                                     "processed (veta lineage --forward ", lot_id,
                                     "); ask for the ",
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
    return CertificateRefused(StrCat("the lineage of lot ", lot_id,
                                     " is too large to certify: ", lineage.truncated_reason()));
  }
  RETURN_IF_ERROR(LineageIsClean(store, lineage, lot_id));
  std::set<uint64_t> entries;
  for (const auto& node : lineage.nodes()) entries.insert(node.sequence());
  RETURN_IF_ERROR(AddEarlierTakes(store, lineage, &entries));
  std::string text = StrCat(ledger.origin(), "\n", kCertificateTitle, "\nlot ", lot_id, "\nholder ",
                            lot.holder_id(), "\nfine-mg ", lineage.fine_mg(), "\nremaining-mg ",
                            exported ? lot.exported_gold_mg() : lot.remaining_gold_mg(), "\n");
  if (exported) text += StrCat("exported ", lot.export_destination(), " ", lot.exported_at(), "\n");
  for (const auto& u : lineage.units()) {
    if (u.department().empty() || u.unit_code().find(' ') != std::string::npos) {
      return CertificateRefused(StrCat("unit ", u.unit_code(), " has no department on record"));
    }
    auto version = GetRecordAsOf(store, RecordKind::kUnit, u.unit_code(), n);
    RETURN_IF_ERROR(version.status());
    entries.insert(version->sequence);
    text += StrCat("unit ", u.unit_code(), " ", u.department(), " ", u.fine_mg(), "\n");
  }
  for (const auto& d : lineage.departments()) {
    text += StrCat("department ", d.department(), " ", d.fine_mg(), "\n");
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
      return CertificateRefused(StrCat("the entries lot ", lot_id, " rests on exceed ",
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

}  // namespace veta
