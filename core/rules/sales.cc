// Sales: part or all of a lot changes hands between registered parties.
#include "core/base/ids.h"
#include "core/base/strings.h"
#include "core/base/units.h"
#include "core/rules/rules_internal.h"

namespace veta {

using namespace rules;  // NOLINT: the rule helpers, private to the rules

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
  if (V3(params)) *bought.mutable_declared_time() = x.time();
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
    veta::v1::Flag f;
    f.set_sequence(sequence);
    f.set_flag(kind);
    f.set_message(std::move(message));
    f.add_parties(x.seller_id());
    f.add_parties(x.buyer_ruc());
    f.set_unit_code(lot->unit_code());
    v.effects.flags.push_back(std::move(f));
  };
  if (x.payment() == veta::v1::CASH && x.price_cents() > params.cash_flag_threshold_cents()) {
    flag(veta::v1::CASH_ABOVE_THRESHOLD,
         StrCat("paid in cash: ", units::Soles(x.price_cents()), ", above the threshold of ",
                units::Soles(params.cash_flag_threshold_cents())));
  }
  if (stats.sales > 0 && stats.sales >= static_cast<int64_t>(params.volume_history_min())) {
    // quantity > percent/100 x total/sales, compared as quantity x sales x 100 > percent x
    // total (128-bit: no rounding, no overflow).
    __extension__ typedef __int128 int128;
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
  stats.sales += 1;
  // Saturates rather than wraps (a seller's total past 9e18 g or mg is not a real one).
  stats.quantity = quantity > INT64_MAX - stats.quantity ? INT64_MAX : stats.quantity + quantity;
  v.effects.seller_stats.emplace_back(stats_key, stats);
  return v;
}

}  // namespace veta
