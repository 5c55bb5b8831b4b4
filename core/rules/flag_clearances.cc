// Rules v3: red flags that only a registrar lifts. A correction of an entry that raised a flag
// no registrar cleared needs a registrar's signature; a registrar clears a flag by a signed
// FlagClearance, after which the flag (which stays in the evidence) no longer blocks a
// certificate (core/read/certificate.cc) nor a correction by the entry's parties.
#include <map>

#include "core/base/strings.h"
#include "core/rules/rules_internal.h"

namespace veta {

using namespace rules;  // NOLINT: the rule helpers, private to the rules

absl::StatusOr<std::vector<veta::v1::Flag>> RuleContext::FlagsOf(uint64_t target) const {
  // Staged by the batch: all of the entry's flags are (an entry is staged whole).
  if (auto staged = delta.flags.find(target); staged != delta.flags.end()) return staged->second;
  std::vector<veta::v1::Flag> out;
  const std::string prefix = FlagsOfEntryPrefix(target);
  std::unique_ptr<Cursor> it = registry.store_->NewCursor(Family::kEvidence);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    veta::v1::Flag f;
    if (!f.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(StrCat("a red flag of entry ", target, " is malformed"));
    }
    out.push_back(std::move(f));
  }
  if (!it->status().ok()) return it->status();
  return out;
}

absl::StatusOr<uint64_t> RuleContext::FlagClearedBy(uint64_t target, veta::v1::RedFlag flag) const {
  auto row = registry.FindState(FlagClearedKey(target, flag), delta);
  if (!row.ok()) return row.status();
  if (!row->has_value()) return 0;
  return DecodeSequence(**row, "a flag-cleared row");
}

std::optional<Verdict> RuleContext::RuleFlaggedNeedsRegistrar(uint64_t target,
                                                              const DecodedEnvelope& e,
                                                              bool by_registrar) const {
  if (by_registrar || !V3(registry.parameters(delta))) return std::nullopt;
  // The first flag of `seq` no registrar cleared, if any.
  auto uncleared = [&](uint64_t seq) -> absl::StatusOr<std::optional<veta::v1::Flag>> {
    auto flags = FlagsOf(seq);
    if (!flags.ok()) return flags.status();
    for (auto& f : *flags) {
      auto cleared = FlagClearedBy(seq, f.flag());
      if (!cleared.ok()) return cleared.status();
      if (*cleared == 0) return std::move(f);
    }
    return std::nullopt;
  };
  const std::string how = StrCat(
      "which no registrar has cleared: a correction of entry ", target, " is signed by an active ",
      "registrar, who sees what replaces it (or a registrar clears the flag first, by a flag ",
      "clearance: veta clear-flag)");
  auto flag = uncleared(target);
  if (!flag.ok()) return Failure(flag.status());
  if (flag->has_value()) {
    const veta::v1::Flag& f = **flag;
    return Refuse(veta::v1::CORRECTION_NEEDS_REGISTRAR,
                  StrCat("entry ", target, " raised red flag ", veta::v1::RedFlag_Name(f.flag()),
                         " (", f.message(), "), ", how));
  }
  // A flag on an entry that took from a lot this one created and was voided since is the lot's
  // history too: voiding the lot and declaring its gold again would shed it.
  std::vector<std::string> created;
  switch (e.kind) {
    case PayloadKind::kExtraction:
      created = {e.extraction.lot_id()};
      break;
    case PayloadKind::kSale:
      created = {e.sale.buyer_lot_id()};
      break;
    case PayloadKind::kProcessing:
      for (const auto& out : e.processing.outputs()) created.push_back(out.lot_id());
      break;
    default:
      break;
  }
  std::unique_ptr<Cursor> it = registry.store_->NewCursor(Family::kState);
  for (const auto& lot : created) {
    const std::string prefix = ChildEdgeKey(lot, "");
    // The lot's lineage edges: committed, and staged by the batch (a replay applies many
    // entries under one delta).
    std::map<std::string, std::string> edges;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      edges.emplace(std::string(it->key()), std::string(it->value()));
    }
    if (!it->status().ok()) return Failure(it->status());
    for (auto row = delta.state.lower_bound(prefix);
         row != delta.state.end() && row->first.starts_with(prefix); ++row) {
      edges[row->first] = row->second;
    }
    for (const auto& [key, value] : edges) {
      auto seq = DecodeSequence(value, "a lineage edge");
      if (!seq.ok()) return Failure(seq.status());
      auto child_flag = uncleared(*seq);
      if (!child_flag.ok()) return Failure(child_flag.status());
      if (!child_flag->has_value()) continue;
      // A live child: the lot has moved on, which RuleUntouched answers.
      auto child = registry.FindLot(key.substr(prefix.size()), delta);
      if (!child.ok()) return Failure(child.status());
      if (!child->has_value() || (*child)->voided_at() == 0) continue;
      const veta::v1::Flag& f = **child_flag;
      return Refuse(veta::v1::CORRECTION_NEEDS_REGISTRAR,
                    StrCat("entry ", target, " created lot ", lot, ", from which entry ", *seq,
                           " took (voided since), raising red flag ",
                           veta::v1::RedFlag_Name(f.flag()), " (", f.message(), "), ", how));
    }
  }
  return std::nullopt;
}

Verdict RuleContext::EvaluateFlagClearance() const {
  const auto& x = d.flag_clearance;
  if (RuleRegistrarSigned(false)) {
    return Refuse(veta::v1::NOT_A_REGISTRAR,
                  "a red flag is cleared by an active registrar: sign the flag clearance with a "
                  "registrar's key");
  }
  // Under any rules version: a new payload kind, which no ledger written before it holds (so
  // no replay changes), and certificates read the whole history of every ledger (a washed flag
  // on a v2 ledger keeps its gold's certificate back until a registrar clears it).
  const uint64_t target = x.flagged_sequence();
  const std::string flag_name = veta::v1::RedFlag_Name(x.flag());
  if (x.reason().empty() || x.reason().size() > kTextBytesMax) {
    return Refuse(veta::v1::FLAG_CLEARANCE_INVALID,
                  StrCat("a flag clearance states its reason, what was checked and by whom ",
                         "(1-2,000 bytes; this one has ", x.reason().size(), ")"));
  }
  if (auto v = RuleTimeNotInFuture(Micros(x.time()), now)) return *v;
  if (x.flag() == veta::v1::RED_FLAG_UNSPECIFIED || flag_name.empty()) {
    return Refuse(veta::v1::FLAG_CLEARANCE_INVALID,
                  StrCat("a flag clearance names the red flag it clears (e.g. ",
                         "CASH_ABOVE_THRESHOLD), as entry ", target, " raised it"));
  }
  if (target >= sequence) {
    return Refuse(veta::v1::FLAG_CLEARANCE_INVALID,
                  StrCat("entry ", target, " is not in the ledger"));
  }
  // The flags of an entry are written with it: an entry of the same batch has none on disk
  // yet. Not a verdict: retry.
  auto committed = registry.store_->EntryCount();
  if (!committed.ok()) return Failure(committed.status());
  if (target >= *committed) {
    return Failure(absl::UnavailableError(
        StrCat("entry ", target, " is being written in the same batch: retry the clearance")));
  }
  auto flags = FlagsOf(target);
  if (!flags.ok()) return Failure(flags.status());
  const veta::v1::Flag* raised = nullptr;
  std::vector<std::string> names;
  for (const auto& f : *flags) {
    names.push_back(veta::v1::RedFlag_Name(f.flag()));
    if (f.flag() == x.flag() && raised == nullptr) raised = &f;
  }
  if (raised == nullptr) {
    return Refuse(veta::v1::FLAG_CLEARANCE_INVALID,
                  StrCat("entry ", target, " raised no red flag ", flag_name,
                         names.empty() ? StrCat(" (it raised none)")
                                       : StrCat(" (it raised ", StrJoin(names, ", "), ")")));
  }
  auto cleared = FlagClearedBy(target, x.flag());
  if (!cleared.ok()) return Failure(cleared.status());
  if (*cleared != 0) {
    return Refuse(veta::v1::FLAG_CLEARANCE_INVALID,
                  StrCat("red flag ", flag_name, " of entry ", target,
                         " was already cleared by entry ", *cleared));
  }
  Verdict v;
  v.parties.assign(raised->parties().begin(), raised->parties().end());
  v.unit_code = raised->unit_code();
  v.effects.state_puts.emplace_back(FlagClearedKey(target, x.flag()), EncodeU64(sequence));
  return v;
}

}  // namespace veta
