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
    ASSIGN_OR_RETURN(auto flag, FlagOn(flags.get(), node.sequence()));
    if (flag && flag->sequence() < lineage.as_of()) {
      return CertificateRefused(
          StrCat("lot ", lot_id, " rests on ", step, ", which raised red flag ",
                 veta::v1::RedFlag_Name(flag->flag()), ": ", flag->message()));
    }
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
