#include "core/read/lineage.h"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/units.h"
#include "core/read/queries.h"
#include "core/rules/registry.h"

namespace veta {
namespace {

using veta::v1::Lot;

constexpr size_t kScanRowsMax = 1000000;

// Reads lots and edges from one snapshot, seeing only what the first `as_of` entries wrote.
class LotReader {
 public:
  LotReader(const Reader& store, uint64_t as_of)
      : snapshot_(SnapshotOf(store)),
        store_(snapshot_ ? *snapshot_ : store),
        as_of_(as_of),
        departments_(store_, as_of) {}
  LotReader(const LotReader&) = delete;
  LotReader& operator=(const LotReader&) = delete;

  // nullopt when the lot did not exist as of the query.
  absl::StatusOr<std::optional<Lot>> Get(std::string_view lot_id) const {
    auto bytes = store_.Get(Family::kState, LotKey(lot_id));
    if (absl::IsNotFound(bytes.status())) return std::nullopt;
    RETURN_IF_ERROR(Annotate(bytes.status(), "read a lot"));
    Lot lot;
    if (!lot.ParseFromString(*bytes)) {
      return absl::DataLossError(StrCat("the stored state of lot ", lot_id, " is malformed"));
    }
    if (lot.created_at() >= as_of_) return std::nullopt;
    // Lots written before `source` existed: a lot with a parent was bought.
    if (lot.source() == veta::v1::EXTRACTED && !lot.parent_lot_id().empty()) {
      lot.set_source(veta::v1::BOUGHT);
    }
    return lot;
  }

  // Ids after `prefix` of the index rows under it, at most `max + 1` (to tell "more"). Rows
  // written after the point queried are skipped, but counted: past kScanRowsMax rows the scan
  // stops, and the caller sees "more" (a query far in the past of a busy lot is bounded too).
  struct Ids {
    std::vector<std::string> ids;
    bool more = false;  // past `max`, or the scan was cut
    bool cut = false;   // stopped at kScanRowsMax rows (most written after the point queried)
  };
  absl::StatusOr<Ids> Scan(const std::string& prefix, size_t max) const {
    Ids out;
    std::vector<std::string>& ids = out.ids;
    std::unique_ptr<Cursor> it = store_.NewCursor(Family::kState);
    size_t rows = 0;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (++rows > kScanRowsMax) {
        out.more = out.cut = true;
        break;
      }
      uint64_t seq = 0;
      if (!DecodeU64(it->value(), &seq)) {
        return absl::DataLossError(StrCat("a malformed index row under ", prefix.substr(0, 1)));
      }
      if (seq >= as_of_) continue;  // written after the point queried
      if (ids.size() == max) {
        out.more = true;
        break;
      }
      ids.push_back(std::string(it->key()).substr(prefix.size()));
    }
    RETURN_IF_ERROR(Annotate(it->status(), "scan a lineage index"));
    return out;
  }

  // The department of a unit (lots written before they kept their own).
  const std::string& Department(const std::string& unit) { return departments_.Of(unit); }

 private:
  // A snapshot of the store when it is one, so that the whole traversal reads one state.
  static std::unique_ptr<Reader> SnapshotOf(const Reader& store) {
    const auto* whole = dynamic_cast<const Store*>(&store);
    return whole != nullptr ? whole->Snapshot() : nullptr;
  }
  std::unique_ptr<Reader> snapshot_;
  const Reader& store_;
  const uint64_t as_of_;
  UnitDepartments departments_;
};

veta::v1::LineageNode NodeOf(const Lot& lot, uint32_t depth, uint64_t as_of) {
  veta::v1::LineageNode n;
  n.set_lot_id(lot.lot_id());
  n.set_kind(lot.kind());
  n.set_holder_id(lot.holder_id());
  n.set_source(lot.source());
  n.set_sequence(lot.created_at());
  (IsGold(lot) ? n.set_gold_mg(Original(lot)) : n.set_ore_g(Original(lot)));
  n.set_fine_mg(lot.original_fine_mg());
  n.set_unit_code(lot.unit_code());
  n.set_depth(depth);
  if (VoidedAsOf(lot, as_of)) n.set_voided_at(lot.voided_at());
  if (ExportedAsOf(lot, as_of)) {
    n.set_exported_at(lot.exported_at());
    n.set_export_destination(lot.export_destination());
  }
  return n;
}

// The edges towards the lots a lot was made from.
void BackwardEdges(const Lot& lot, veta::v1::LineageNode* n) {
  if (lot.source() == veta::v1::BOUGHT) {
    auto* e = n->add_edges();
    e->set_lot_id(lot.parent_lot_id());
    (IsGold(lot) ? e->set_gold_mg(Original(lot)) : e->set_ore_g(Original(lot)));
    e->set_sequence(lot.created_at());
  } else if (lot.source() == veta::v1::PROCESSED) {
    for (const auto& in : lot.inputs()) {
      auto* e = n->add_edges();
      e->set_lot_id(in.lot_id());
      e->set_ore_g(in.ore_g());
      e->set_gold_mg(in.gold_mg());
      e->set_sequence(lot.created_at());
    }
  }
}

// What moved from `parent` into `child`, in the parent's unit, onto the edge.
void QuantityFrom(const Lot& child, std::string_view parent, veta::v1::LineageEdge* e) {
  if (child.source() == veta::v1::BOUGHT) {
    (IsGold(child) ? e->set_gold_mg(Original(child)) : e->set_ore_g(Original(child)));
    return;
  }
  for (const auto& in : child.inputs()) {
    if (in.lot_id() == parent) {
      e->set_ore_g(in.ore_g());
      e->set_gold_mg(in.gold_mg());
      return;
    }
  }
}

absl::Status CheckQuery(const LineageQuery& q) {
  if (q.depth_max == 0 || q.depth_max > kLineageDepthMax || q.fanout_max == 0 ||
      q.fanout_max > kLineageFanoutMax || q.nodes_max == 0 || q.nodes_max > kLineageNodesMax ||
      q.page_nodes == 0 || q.page_nodes > kLineagePageMax) {
    return absl::InvalidArgumentError(StrCat("lineage limits: depth 1-", kLineageDepthMax,
                                             ", fan-out 1-", kLineageFanoutMax, ", lots 1-",
                                             kLineageNodesMax, ", page 1-", kLineagePageMax));
  }
  if (!q.forward && q.root != LineageQuery::Root::kLot) {
    return absl::InvalidArgumentError(
        "backward lineage starts from a lot; from a unit or a miner, lineage goes forward");
  }
  if (q.id.empty()) return absl::InvalidArgumentError("lineage needs a lot, unit or miner id");
  return absl::OkStatus();
}

// Backward: the root's origin by unit and department, exactly as the ledger keeps it (the
// root lot's origin in fine mg, core/verify/lots.h), and each node's part of the root's fine mg,
// carried down the edges in creation order (a lot is always created after the lots it comes
// from): all of it to a bought lot's parent, and along a processing's inputs by the fine mg
// each brought (largest remainder, in the inputs' order).
void ComputeShares(veta::v1::Lineage* out, const std::unordered_map<std::string, size_t>& index,
                   const std::vector<Lot>& lots, LotReader* reader) {
  const size_t n = lots.size();
  std::vector<int64_t> part(n, 0);
  part[0] = lots[0].original_fine_mg();
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return lots[a].created_at() > lots[b].created_at(); });
  for (size_t i : order) {
    const Lot& lot = lots[i];
    if (lot.source() == veta::v1::BOUGHT) {
      if (auto it = index.find(lot.parent_lot_id()); it != index.end()) {
        part[it->second] += part[i];
      }
    } else if (lot.source() == veta::v1::PROCESSED) {
      std::vector<int64_t> weights;
      for (const auto& in : lot.inputs()) weights.push_back(in.fine_mg());
      const std::vector<int64_t> parts = units::Apportion(part[i], weights);
      for (int k = 0; k < lot.inputs_size(); ++k) {
        auto it = index.find(lot.inputs(k).lot_id());
        if (it != index.end()) part[it->second] += parts[static_cast<size_t>(k)];
      }
    }
  }
  for (size_t i = 0; i < n; ++i) out->mutable_nodes(static_cast<int>(i))->set_root_fine_mg(part[i]);
  out->set_fine_mg(lots[0].original_fine_mg());
  std::map<std::string, int64_t> by_department;
  for (const auto& share : OriginOf(lots[0])) {
    auto* u = out->add_units();
    u->set_unit_code(share.unit_code());
    u->set_department(share.department().empty() ? reader->Department(share.unit_code())
                                                 : share.department());
    u->set_fine_mg(share.fine_mg());
    by_department[u->department()] += share.fine_mg();
  }
  for (const auto& [dept, mg] : by_department) {
    auto* d = out->add_departments();
    d->set_department(dept);
    d->set_fine_mg(mg);
  }
}

}  // namespace

std::string LineageRootName(const LineageQuery& q) {
  switch (q.root) {
    case LineageQuery::Root::kLot:
      return StrCat("lot:", q.id);
    case LineageQuery::Root::kUnit:
      return StrCat("unit:", q.id);
    case LineageQuery::Root::kMiner:
      return StrCat("miner:", q.id);
  }
  return q.id;
}

absl::StatusOr<veta::v1::Lineage> QueryLineage(const Reader& store, const LineageQuery& q) {
  RETURN_IF_ERROR(CheckQuery(q));
  LotReader reader(store, q.as_of);
  veta::v1::Lineage all;
  all.set_root(LineageRootName(q));
  all.set_forward(q.forward);
  all.set_as_of(q.as_of);
  auto truncate = [&](std::string reason) {
    if (!all.truncated()) all.set_truncated_reason(std::move(reason));
    all.set_truncated(true);
  };

  std::vector<std::string> roots;
  if (q.root == LineageQuery::Root::kLot) {
    roots.push_back(q.id);
  } else {
    const std::string prefix =
        q.root == LineageQuery::Root::kUnit ? UnitLotKey(q.id, "") : HolderLotKey(q.id, "");
    ASSIGN_OR_RETURN(auto scanned, reader.Scan(prefix, q.fanout_max));
    roots = std::move(scanned.ids);
    if (scanned.more) {
      truncate(scanned.cut
                   ? StrCat("the index of ", all.root(), " holds over ", kScanRowsMax,
                            " rows: narrow the query (scan limit)")
                   : StrCat(all.root(), " has more than ", q.fanout_max, " lots (fan-out limit)"));
    }
  }

  std::vector<Lot> lots;
  std::unordered_map<std::string, size_t> index;  // lot id -> position in `lots`
  std::deque<std::pair<std::string, uint32_t>> queue;
  for (const auto& r : roots) {
    if (index.emplace(r, index.size()).second) queue.emplace_back(r, 0);
  }
  std::set<std::string> holders;
  while (!queue.empty()) {
    auto [id, depth] = queue.front();
    queue.pop_front();
    ASSIGN_OR_RETURN(std::optional<Lot> lot, reader.Get(id));
    if (!lot) {
      if (lots.empty() && q.root == LineageQuery::Root::kLot) {
        return absl::NotFoundError(
            StrCat("lot ", id, " does not exist as of entry ", q.as_of == 0 ? 0 : q.as_of - 1));
      }
      return absl::DataLossError(StrCat("lot ", id, " is named by an edge but missing"));
    }
    veta::v1::LineageNode* node = all.add_nodes();
    *node = NodeOf(*lot, depth, q.as_of);
    if (lot->source() == veta::v1::EXTRACTED) {
      node->set_department(lot->department().empty() ? reader.Department(lot->unit_code())
                                                     : lot->department());
    }
    holders.insert(lot->holder_id());
    if (q.forward) {
      ASSIGN_OR_RETURN(auto scanned, reader.Scan(ChildEdgeKey(id, ""), q.fanout_max));
      const std::vector<std::string>& children = scanned.ids;
      if (scanned.more) {
        node->set_truncated(true);
        truncate(scanned.cut ? StrCat("the index of lot ", id, " holds over ", kScanRowsMax,
                                      " rows: narrow the query (scan limit)")
                             : StrCat("lot ", id, " has more than ", q.fanout_max,
                                      " lots made from it (fan-out limit)"));
      }
      for (const auto& c : children) {
        ASSIGN_OR_RETURN(std::optional<Lot> child, reader.Get(c));
        if (!child) continue;
        auto* e = node->add_edges();
        e->set_lot_id(c);
        QuantityFrom(*child, id, e);
        e->set_sequence(child->created_at());
      }
    } else {
      BackwardEdges(*lot, node);
    }
    const bool deep = depth + 1 > q.depth_max;
    if (deep && node->edges_size() > 0) {
      node->set_truncated(true);
      truncate(StrCat("lineage goes deeper than ", q.depth_max, " steps (depth limit)"));
    }
    lots.push_back(std::move(*lot));
    if (deep) continue;
    for (const auto& e : node->edges()) {
      if (index.count(e.lot_id()) > 0) continue;
      if (index.size() >= q.nodes_max) {
        node->set_truncated(true);
        truncate(StrCat("lineage reaches more than ", q.nodes_max, " lots (size limit)"));
        break;
      }
      index.emplace(e.lot_id(), index.size());
      queue.emplace_back(e.lot_id(), depth + 1);
    }
  }
  if (!q.forward && !lots.empty()) ComputeShares(&all, index, lots, &reader);
  if (q.forward) {
    for (const auto& h : holders) all.add_holders(h);
  }

  // The page.
  const uint32_t total = static_cast<uint32_t>(all.nodes_size());
  all.set_total_nodes(total);
  if (q.page_start > 0 || total > q.page_nodes) {
    if (q.page_start >= total && total > 0) {
      return absl::OutOfRangeError(
          StrCat("page starts at lot ", q.page_start, "; the lineage has ", total));
    }
    const uint32_t end = std::min(total, q.page_start + q.page_nodes);
    google::protobuf::RepeatedPtrField<veta::v1::LineageNode> nodes;
    nodes.Swap(all.mutable_nodes());
    for (uint32_t i = q.page_start; i < end; ++i) {
      *all.add_nodes() = std::move(*nodes.Mutable(static_cast<int>(i)));
    }
    if (end < total) all.set_next_page_token(std::to_string(end));
  }
  return all;
}

}  // namespace veta
