// Sales: part or all of a lot changes hands between registered parties.
#include <algorithm>
#include <deque>
#include <set>

#include "core/base/ids.h"
#include "core/base/strings.h"
#include "core/base/units.h"
#include "core/rules/rules_internal.h"

namespace veta {

using namespace rules;  // NOLINT: the rule helpers, private to the rules

namespace {

__extension__ typedef __int128 int128;

// Céntimos per gram of fine gold, rounded down (saturated: a price past int64 is absurd anyway).
int64_t CentsPerFineGram(int64_t price_cents, int64_t fine_mg) {
  const int128 per_g = static_cast<int128>(price_cents) * 1000 / fine_mg;
  return per_g > INT64_MAX ? INT64_MAX : static_cast<int64_t>(per_g);
}

// "S/ 400.00 a fine gram (set for 2026-12-04, source: BCRP)": the parameters' reference.
std::string Reference(const veta::v1::Parameters& params) {
  return StrCat(units::Soles(params.reference_price_cents_per_fine_g()), " a fine gram (set for ",
                Date(Micros(params.reference_price_date())),
                ", source: ", params.reference_price_source(), ")");
}

// Rules v3: a cash sale above the banking threshold, and a payment through a bank above it
// without the operation's or the cheque's number (x's own fields: says nothing of any lot).
std::optional<Verdict> RuleBanked(const veta::v1::Sale& x, const veta::v1::Parameters& params) {
  const int64_t limit = BankingThresholdCents(params);
  const std::string& ref = x.payment_reference();
  const bool printable =
      std::all_of(ref.begin(), ref.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  if (!printable || ref.size() > 64) {
    return Refuse(veta::v1::PAYMENT_REFERENCE_MISSING,
                  "a payment reference is the bank's operation number or the cheque's number: "
                  "1-64 printable ASCII characters");
  }
  if (x.price_cents() <= limit) return std::nullopt;
  if (x.payment() == veta::v1::CASH) {
    return Refuse(veta::v1::CASH_ABOVE_BANKING_LIMIT,
                  StrCat("a payment of ", units::Soles(x.price_cents()), " in cash is above ",
                         units::Soles(limit),
                         ": under Ley 28194 (bancarización) a payment above it goes through the "
                         "financial system; pay by bank transfer (or cheque) and state its "
                         "operation number in payment_reference"));
  }
  if (ref.empty()) {
    return Refuse(veta::v1::PAYMENT_REFERENCE_MISSING,
                  StrCat("a payment of ", units::Soles(x.price_cents()), " by ",
                         x.payment() == veta::v1::CHECK ? "cheque" : "bank transfer",
                         " is above the banking threshold of ", units::Soles(limit),
                         ": state the bank's operation number or the cheque's number in "
                         "payment_reference, so that the payment can be checked with the bank"));
  }
  return std::nullopt;
}

}  // namespace

std::optional<Verdict> RuleContext::RuleNotSelfSale(const RecordState& seller,
                                                    const RecordState& buyer) const {
  const auto& x = d.sale;
  if (x.seller_id() == x.buyer_ruc()) {
    return Refuse(veta::v1::SELF_SALE,
                  StrCat("seller and buyer are the same party (", x.seller_id(),
                         "): a sale to oneself moves no gold, it only lengthens its history"));
  }
  // One key in both registrations (one signature counting for both), under one key id or
  // two (a P-256 key in two encodings): one party under two names. A record listing another
  // holder's key is refused (REGISTRY_KEY_TAKEN; from v3 in any encoding), so this guards a
  // ledger registered before, and keeps the sale rule whole by itself.
  auto point = [&](const veta::v1::PublicKey& k) {
    auto info = delta.StagedKey(k.keyid());
    if (info == nullptr) info = keys.Find(k.keyid());
    return info != nullptr ? info->key.point_id() : k.keyid();
  };
  for (const auto& ks : *StandingOf(seller)->keys) {
    const std::string seller_point = point(ks);
    for (const auto& kb : *StandingOf(buyer)->keys) {
      if (ks.keyid() != kb.keyid() && seller_point != point(kb)) continue;
      return Refuse(veta::v1::SELF_SALE,
                    StrCat("seller ", x.seller_id(), " and buyer ", x.buyer_ruc(),
                           " are registered with one key (", ks.keyid().substr(0, 16),
                           "...): one party under two names cannot sell to itself"));
    }
  }
  return std::nullopt;
}

// How many lots the search for a buyer upstream visits at most: a lot's history is rarely
// more than a few dozen lots (extraction, a few sales, a blend); a blend of hundreds of lots is
// searched in part, nearest lots first, and a flag says how many lots were searched.
inline constexpr size_t kUpstreamLotsMax = 256;

std::optional<Verdict> RuleContext::RuleSaleV3(const veta::v1::Lot& lot, int64_t fine_mg,
                                               Verdict* v) const {
  const auto& x = d.sale;
  const veta::v1::Parameters& params = registry.parameters(delta);
  const int64_t t = Micros(x.time());
  auto flag = [&](veta::v1::RedFlag kind, std::string message) {
    RaiseFlag(&v->effects, sequence, kind, std::move(message), {x.seller_id(), x.buyer_ruc()},
              lot.unit_code());
  };

  // The price per fine gram against the reference. The fine gold is the bought lot's (an ore
  // lot's at its declared grade). A sale moving less than a milligram of fine gold (a grade or
  // fineness of 0, or a quantity too small to hold a milligram) is priced as if it moved one:
  // a price on dust is still a price, and S/ 10^12 for it is as absurd as for a gram.
  const int64_t ref = params.reference_price_cents_per_fine_g();
  if (ref > 0) {
    fine_mg = std::max<int64_t>(fine_mg, 1);
    // price / (fine_mg / 1000) against ref x ppm / 1e6, as price x 1000 x 1e6 against
    // ref x ppm x fine_mg (128-bit: no rounding, no overflow).
    const int128 paid = static_cast<int128>(x.price_cents()) * 1000 * 1000000;
    const int128 at_ref = static_cast<int128>(ref) * fine_mg;
    const std::string per_g =
        StrCat(units::Soles(CentsPerFineGram(x.price_cents(), fine_mg)), " a fine gram (",
               units::Soles(x.price_cents()), " for ", units::GoldGrams(fine_mg), " of fine gold)");
    if (paid > at_ref * kPriceAbsurdTimes * 1000000) {
      return Refuse(veta::v1::PRICE_INVALID,
                    StrCat("the price is ", per_g, ", more than ", kPriceAbsurdTimes,
                           " times the reference of ", Reference(params),
                           ": no one pays that for gold; check the price (céntimos) and quantity"));
    }
    // As absurd the other way: under a hundredth of the reference is not a sale of gold.
    if (paid * kPriceAbsurdTimes < at_ref * 1000000) {
      return Refuse(veta::v1::PRICE_INVALID,
                    StrCat("the price is ", per_g, ", less than 1/", kPriceAbsurdTimes,
                           " of the reference of ", Reference(params),
                           ": that is not a price for gold; check the price (céntimos) and "
                           "quantity"));
    }
    const veta::v1::Bounds band = PriceBandPpm(params);
    if (paid < at_ref * band.min() || paid > at_ref * band.max()) {
      flag(veta::v1::PRICE_OUT_OF_BAND,
           StrCat("the price is ", per_g, ", outside ", units::PercentOfPpm(band.min()), " to ",
                  units::PercentOfPpm(band.max()), " of the reference of ", Reference(params)));
    }
  }

  // Cash structuring: cash under the banking threshold (above it is refused) summed per
  // seller-buyer pair per declared day, and per seller per day and per week (the 7 days ending
  // on the declared day, by anyone). Every cash sale that leaves a sum above its threshold is
  // flagged, not only the first: each is part of the pattern, and the parties cannot make the
  // later ones clean by having been flagged once. A correction voiding a cash sale takes its
  // price back from the counters (corrections.cc), so that voiding and declaring again neither
  // resets a sum nor counts a payment twice.
  if (x.payment() == veta::v1::CASH) {
    const int64_t price = x.price_cents();
    const std::string day = PeruDay(t);
    const std::string pair_counter = CashPairDayCounter(x.seller_id(), x.buyer_ruc(), day);
    const std::string seller_counter = CashSellerDayCounter(x.seller_id(), day);
    const int64_t pair_before = registry.Counter(pair_counter, delta);
    const int64_t seller_day_before = registry.Counter(seller_counter, delta);
    // The seller's cash on the 13 days around the declared one: every 7-day window holding it
    // is summed, so that declaring the later days first (each window then ending before the
    // days already counted) does not hide a week. A pair's week is inside its seller's.
    constexpr int64_t kDayMicros = 86400 * 1000000LL;
    int64_t around[13];
    for (int k = -6; k <= 6; ++k) {
      around[k + 6] =
          registry.Counter(CashSellerDayCounter(x.seller_id(), PeruDay(t + k * kDayMicros)), delta);
    }
    int64_t week_before = -1;
    int week_start = 0;  // days from the declared one
    for (int first = -6; first <= 0; ++first) {
      int64_t w = 0;
      for (int k = first; k < first + 7; ++k) w += around[k + 6];
      if (w > week_before) {
        week_before = w;
        week_start = first;
      }
    }
    const int64_t banking = BankingThresholdCents(params);
    const int64_t cash_limit = params.cash_flag_threshold_cents();
    const std::string today = Date(t + kPeruUtcOffsetMicros);
    const std::string week_from = Date(t + week_start * kDayMicros + kPeruUtcOffsetMicros);
    const std::string week_to = Date(t + (week_start + 6) * kDayMicros + kPeruUtcOffsetMicros);
    auto sum = [&](int64_t before) {
      return StrCat(units::Soles(before + price), " (", units::Soles(before),
                    " before this sale's ", units::Soles(price), ")");
    };
    std::vector<std::string> why;
    if (pair_before + price > banking) {
      why.push_back(StrCat("cash from buyer ", x.buyer_ruc(), " to seller ", x.seller_id(), " on ",
                           today, " sums ", sum(pair_before), ", above the banking threshold of ",
                           units::Soles(banking),
                           " (Ley 28194 counts the partial payments of one obligation together)"));
    }
    if (price <= cash_limit) {  // above it, CASH_ABOVE_THRESHOLD says it
      // What others paid the seller is the seller's: the flag (which the buyer reads, and a
      // buyer's own check is told) says the seller's sum is above the threshold, not the
      // amounts; a regulator sums them from the ledger.
      if (seller_day_before + price > cash_limit) {
        why.push_back(StrCat("cash paid to seller ", x.seller_id(), " on ", today,
                             " is above the cash threshold of ", units::Soles(cash_limit)));
      } else if (week_before + price > cash_limit) {
        why.push_back(StrCat("cash paid to seller ", x.seller_id(), " from ", week_from, " to ",
                             week_to, " is above the cash threshold of ",
                             units::Soles(cash_limit)));
      }
    }
    if (!why.empty()) {
      flag(veta::v1::CASH_STRUCTURING,
           StrCat("cash split under the thresholds: ", StrJoin(why, "; ")));
    }
    v->effects.counter_adds.emplace_back(pair_counter, price);
    v->effects.counter_adds.emplace_back(seller_counter, price);
    v->effects.state_puts.emplace_back(CashCountedKey(sequence), EncodeI64(price));
  }

  // Circular trade: the buyer held a lot this one comes from (bought lots' parents,
  // processed lots' inputs), so the gold comes back to it: a wash trade that only lengthens
  // the history. At most kUpstreamLotsMax lots are visited, nearest first (a parent before
  // its parent): past that the search is cut without a flag, and a flag says how many lots
  // were searched.
  // A lot made under v3 knows who held its gold before (Lot.upstream_holders): a buyer not
  // among them, the set complete, is no circle, with no walk; one among them is named by the
  // walk (nearest lot first) when it reaches it, and flagged in any case.
  const bool listed = std::binary_search(lot.upstream_holders().begin(),
                                         lot.upstream_holders().end(), x.buyer_ruc());
  if (lot.upstream_known() && !lot.upstream_truncated() && !listed) return std::nullopt;
  std::deque<std::string> queue = {lot.lot_id()};
  std::set<std::string> seen = {lot.lot_id()};
  size_t visited = 0;
  while (!queue.empty() && visited < kUpstreamLotsMax) {
    const std::string id = queue.front();
    queue.pop_front();
    ++visited;
    auto found = registry.FindLot(id, delta);
    if (!found.ok()) return Failure(found.status());
    if (!found->has_value()) continue;
    const veta::v1::Lot& up = **found;
    if (up.holder_id() == x.buyer_ruc()) {
      flag(veta::v1::CIRCULAR_TRADE,
           StrCat("buyer ", x.buyer_ruc(), " already held lot ", up.lot_id(), " (entry ",
                  up.created_at(), "), upstream of lot ", x.lot_id(),
                  ": the gold comes back to it (", visited, " upstream lots searched, at most ",
                  kUpstreamLotsMax, ")"));
      break;
    }
    auto push = [&](const std::string& next) {
      if (!next.empty() && seen.insert(next).second) queue.push_back(next);
    };
    push(up.parent_lot_id());
    for (const auto& in : up.inputs()) push(in.lot_id());
  }
  if (listed &&
      (v->effects.flags.empty() || v->effects.flags.back().flag() != veta::v1::CIRCULAR_TRADE)) {
    flag(veta::v1::CIRCULAR_TRADE,
         StrCat("buyer ", x.buyer_ruc(), " already held gold upstream of lot ", x.lot_id(),
                ", further back than the ", kUpstreamLotsMax,
                " nearest lots: the gold comes back to it"));
  }
  return std::nullopt;
}

Verdict RuleContext::EvaluateSale() const {
  const auto& x = d.sale;
  const veta::v1::Parameters& params = registry.parameters(delta);
  const int64_t t = Micros(x.time());
  if (auto v = RuleTimeNotInFuture(t, now)) return *v;
  if (auto v = RuleTimeNotTooOld(t, now, params)) return *v;
  const bool by_mg = x.quantity_mg() != 0;
  if (by_mg && x.quantity_ore_g() != 0) {
    return Refuse(veta::v1::LOT_KIND_MISMATCH,
                  "a sale gives grams of ore (an ore lot) or milligrams (a gold lot), not both");
  }
  const int64_t quantity = by_mg ? x.quantity_mg() : x.quantity_ore_g();
  if (auto v = RuleQuantityPositive(quantity, "the quantity sold",
                                    by_mg ? "milligrams (quantity_mg)"
                                          : "grams (quantity_ore_g; milligrams of gold: "
                                            "quantity_mg)")) {
    return *v;
  }
  if (x.price_cents() < 0) {
    return Refuse(veta::v1::PRICE_INVALID,
                  StrCat("the price is a number of céntimos, 0 or more, not ", x.price_cents()));
  }
  // Rules v2: how it was paid is part of the sale (cash above the threshold is a red flag).
  if (RulesVersion(params) >= 2 && x.payment() == veta::v1::PAYMENT_METHOD_UNSPECIFIED) {
    return Refuse(veta::v1::PAYMENT_METHOD_MISSING,
                  "under rules version 2 a sale states its payment method (BANK_TRANSFER, CASH "
                  "or CHECK)");
  }
  // Rules v3: no free gold, and Ley 28194's threshold (sales.cc's RuleBanked).
  if (V3(params) && x.price_cents() == 0) {
    return Refuse(veta::v1::PRICE_INVALID,
                  "under rules version 3 a sale states the price paid: 0 is no price (gold "
                  "given away leaves no trace of who paid for it)");
  }
  if (V3(params)) {
    if (auto v = RuleBanked(x, params)) return *v;
  }
  // The parties and their signatures before anything about the lot: what a refusal says of a
  // lot goes only to an envelope its seller or its buyer signed.
  auto seller = FindPerson(x.seller_id());
  if (seller == nullptr) {
    return Refuse(veta::v1::SELLER_UNKNOWN, StrCat("seller ", x.seller_id(), " is not registered"));
  }
  const Standing s = *StandingOf(*seller);
  auto buyer = registry.Find(RecordKind::kParty, x.buyer_ruc(), delta);
  if (buyer == nullptr) {
    return Refuse(veta::v1::BUYER_UNKNOWN,
                  StrCat("buyer ", x.buyer_ruc(), " is not registered in REPCO"));
  }
  const Standing b = *StandingOf(*buyer);
  // In a dry run (a pre-purchase check) one of the two may not have signed yet; one has.
  auto seller_unsigned = RuleSignedBy(s, d, veta::v1::SIGNER_NOT_PARTY);
  auto buyer_unsigned = RuleSignedBy(b, d, veta::v1::SIGNER_NOT_PARTY);
  if (seller_unsigned && (!dry_run || buyer_unsigned)) return *seller_unsigned;
  if (buyer_unsigned && !dry_run) return *buyer_unsigned;
  if (V3(params)) {
    if (auto v = RuleNotSelfSale(*seller, *buyer)) return *v;
  }
  auto found = registry.FindLot(x.lot_id(), delta);
  if (!found.ok()) return Failure(found.status());
  const std::optional<veta::v1::Lot>& lot = *found;
  if (!lot) return Refuse(veta::v1::LOT_UNKNOWN, StrCat("lot ", x.lot_id(), " does not exist"));
  if (auto v = RuleLotHeldBy(*lot, x.seller_id(), veta::v1::SELLER_DOES_NOT_HOLD_LOT)) return *v;
  if (auto v = RuleQuantityInLotUnit(*lot, by_mg, "quantity_ore_g", "quantity_mg")) return *v;
  auto buyer_lot = registry.FindLot(x.buyer_lot_id(), delta);
  if (!buyer_lot.ok()) return Failure(buyer_lot.status());
  if (auto v = RuleLotIdValid(x.buyer_lot_id(), "the buyer's lot id")) return *v;
  if (buyer_lot->has_value()) {
    return Refuse(veta::v1::LOT_ID_TAKEN,
                  StrCat("the buyer's lot id '", x.buyer_lot_id(), "' is in use"));
  }
  if (auto v = RuleActive(s, t, veta::v1::SELLER_NOT_ACTIVE, veta::v1::SELLER_NOT_ACTIVE)) {
    return *v;
  }
  if (auto v = RuleActive(b, t, veta::v1::BUYER_NOT_ACTIVE, veta::v1::BUYER_NOT_ACTIVE)) return *v;
  if (auto v = RuleDatedAfter(
          t, "the sale",
          {{seller.get(), veta::v1::SELLER_NOT_ACTIVE}, {buyer.get(), veta::v1::BUYER_NOT_ACTIVE}},
          {*lot})) {
    return *v;
  }
  if (!IsGold(*lot)) {
    if (auto v = RuleBuyerMayBuyOre(buyer->record.party())) return *v;
  }
  if (auto v = RuleLotMovable(*lot)) return *v;
  if (auto v = RuleLotHeldWithEnough(*lot, x.seller_id(), quantity,
                                     veta::v1::SELLER_DOES_NOT_HOLD_LOT, "the sale",
                                     /*show_remaining=*/!seller_unsigned)) {
    return *v;
  }

  Verdict v;
  v.parties = {x.seller_id(), x.buyer_ruc()};
  v.unit_code = lot->unit_code();
  veta::v1::Lot remaining = *lot;
  veta::v1::Lot bought = SplitOff(&remaining, quantity);
  bought.set_lot_id(x.buyer_lot_id());
  bought.set_holder_id(x.buyer_ruc());
  bought.set_created_at(sequence);
  const int64_t bought_fine_mg = bought.original_fine_mg();
  if (V3(params)) {
    *bought.mutable_declared_time() = x.time();
    SetUpstream({&*lot}, &bought);
  }
  v.effects.lots.push_back(std::move(remaining));
  v.effects.lots.push_back(std::move(bought));
  v.effects.state_puts.emplace_back(ChildEdgeKey(x.lot_id(), x.buyer_lot_id()),
                                    EncodeU64(sequence));
  v.effects.state_puts.emplace_back(HolderLotKey(x.buyer_ruc(), x.buyer_lot_id()),
                                    EncodeU64(sequence));
  // Sales of gold are counted apart from sales of ore: an average mixes no units.
  const std::string stats_key = SellerStatsName(x.seller_id(), IsGold(*lot));
  SellerStats stats = registry.Stats(stats_key, delta);
  auto flag = [&](veta::v1::RedFlag kind, std::string message) {
    RaiseFlag(&v.effects, sequence, kind, std::move(message), {x.seller_id(), x.buyer_ruc()},
              lot->unit_code());
  };
  if (x.payment() == veta::v1::CASH && x.price_cents() > params.cash_flag_threshold_cents()) {
    flag(veta::v1::CASH_ABOVE_THRESHOLD,
         StrCat("paid in cash: ", units::Soles(x.price_cents()), ", above the threshold of ",
                units::Soles(params.cash_flag_threshold_cents())));
  }
  if (stats.sales > 0 && stats.sales >= static_cast<int64_t>(params.volume_history_min())) {
    // quantity > percent/100 x total/sales, compared as quantity x sales x 100 > percent x
    // total (128-bit: no rounding, no overflow).
    if (static_cast<int128>(quantity) * stats.sales * 100 >
        static_cast<int128>(params.volume_jump_percent()) * stats.quantity) {
      // The seller's history is the seller's: a buyer's own check is told the flag, not it.
      const std::string times = StrCat(units::FormatDecimal(params.volume_jump_percent(), 2), "x");
      flag(veta::v1::VOLUME_JUMP,
           seller_unsigned
               ? StrCat("seller ", x.seller_id(), " sells ", Amount(*lot, quantity), ", over ",
                        times, " its average sale")
               : StrCat("seller ", x.seller_id(), " sells ", Amount(*lot, quantity), ", over ",
                        times, " its average of ", Amount(*lot, stats.quantity / stats.sales),
                        " in ", stats.sales, " earlier sales"));
    }
  }
  if (V3(params)) {
    if (auto r = RuleSaleV3(*lot, bought_fine_mg, &v)) return *r;
  }
  stats.sales += 1;
  // Saturates rather than wraps (a seller's total past 9e18 g or mg is not a real one).
  stats.quantity = quantity > INT64_MAX - stats.quantity ? INT64_MAX : stats.quantity + quantity;
  v.effects.seller_stats.emplace_back(stats_key, stats);
  return v;
}

}  // namespace veta
