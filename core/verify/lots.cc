#include "core/verify/lots.h"

#include <algorithm>
#include <map>

#include "core/base/units.h"

namespace veta {
namespace {

std::vector<int64_t> Weights(const Origin& o) {
  std::vector<int64_t> w;
  w.reserve(o.size());
  for (const auto& s : o) w.push_back(s.fine_mg());
  return w;
}

// Takes `fine` of the milligrams of `from` (summing to at least `fine`), by largest remainder;
// returns what was taken, units with nothing taken left out.
Origin TakeShares(Origin* from, int64_t fine) {
  const std::vector<int64_t> parts = units::Apportion(fine, Weights(*from));
  Origin taken;
  for (size_t i = 0; i < from->size(); ++i) {
    if (parts[i] == 0) continue;
    auto& s = (*from)[i];
    s.set_fine_mg(s.fine_mg() - parts[i]);
    veta::v1::OriginShare t = s;
    t.set_fine_mg(parts[i]);
    taken.push_back(std::move(t));
  }
  return taken;
}

void SetRemaining(veta::v1::Lot* lot, int64_t q) {
  IsGold(*lot) ? lot->set_remaining_gold_mg(q) : lot->set_remaining_ore_g(q);
}

}  // namespace

bool IsGold(const veta::v1::Lot& lot) { return lot.kind() == veta::v1::GOLD; }

int64_t Remaining(const veta::v1::Lot& lot) {
  return IsGold(lot) ? lot.remaining_gold_mg() : lot.remaining_ore_g();
}

int64_t Original(const veta::v1::Lot& lot) {
  return IsGold(lot) ? lot.original_gold_mg() : lot.original_ore_g();
}

std::string Amount(const veta::v1::Lot& lot, int64_t quantity) {
  return IsGold(lot) ? units::GoldGrams(quantity) : units::OreKg(quantity);
}

namespace {
Origin Implicit(const veta::v1::Lot& lot, int64_t fine) {
  if (fine == 0) return {};
  veta::v1::OriginShare one;
  one.set_unit_code(lot.unit_code());
  one.set_department(lot.department());
  one.set_fine_mg(fine);
  return {one};
}
}  // namespace

Origin OriginOf(const veta::v1::Lot& lot) {
  if (lot.origin_size() > 0) return {lot.origin().begin(), lot.origin().end()};
  return Implicit(lot, lot.original_fine_mg());
}

Origin RemainingOriginOf(const veta::v1::Lot& lot) {
  if (lot.origin_size() > 0) return {lot.remaining_origin().begin(), lot.remaining_origin().end()};
  return Implicit(lot, lot.remaining_fine_mg());
}

std::string MainUnit(const Origin& origin) {
  std::string main;
  int64_t most = -1;
  for (const auto& s : origin) {
    if (s.fine_mg() > most) most = s.fine_mg(), main = s.unit_code();
  }
  return main;
}

void AddOrigin(Origin* into, const Origin& add) {
  std::map<std::string, veta::v1::OriginShare> by_unit;
  for (auto& s : *into) by_unit[s.unit_code()] = std::move(s);
  for (const auto& s : add) {
    auto [it, fresh] = by_unit.emplace(s.unit_code(), s);
    if (!fresh) it->second.set_fine_mg(it->second.fine_mg() + s.fine_mg());
  }
  into->clear();
  for (auto& [unit, s] : by_unit) into->push_back(std::move(s));
}

Taken TakeFrom(veta::v1::Lot* lot, int64_t quantity) {
  Taken t;
  const int64_t left = Remaining(*lot);
  quantity = std::clamp<int64_t>(quantity, 0, left);
  t.quantity = quantity;
  const int64_t fine = lot->remaining_fine_mg();
  t.fine_mg = quantity == left ? fine : units::MulDiv(fine, quantity, left);
  SetRemaining(lot, left - quantity);
  lot->set_remaining_fine_mg(fine - t.fine_mg);
  if (lot->origin_size() == 0) {
    t.origin = Implicit(*lot, t.fine_mg);
    return t;
  }
  Origin remaining(lot->remaining_origin().begin(), lot->remaining_origin().end());
  t.origin = TakeShares(&remaining, t.fine_mg);
  for (int i = 0; i < lot->remaining_origin_size(); ++i) {
    lot->mutable_remaining_origin(i)->set_fine_mg(remaining[static_cast<size_t>(i)].fine_mg());
  }
  return t;
}

void GiveBack(veta::v1::Lot* lot, const Taken& taken) {
  SetRemaining(lot, Remaining(*lot) + taken.quantity);
  lot->set_remaining_fine_mg(lot->remaining_fine_mg() + taken.fine_mg);
  if (lot->origin_size() == 0) return;  // one unit: the fine mg say it all
  for (const auto& s : taken.origin) {
    for (auto& r : *lot->mutable_remaining_origin()) {
      if (r.unit_code() == s.unit_code()) {
        r.set_fine_mg(r.fine_mg() + s.fine_mg());
        break;
      }
    }
  }
}

Taken TakenBy(const veta::v1::LotInput& input) {
  Taken t;
  t.quantity = input.gold_mg() != 0 ? input.gold_mg() : input.ore_g();
  t.fine_mg = input.fine_mg();
  t.origin.assign(input.took().begin(), input.took().end());
  return t;
}

void SetFine(veta::v1::Lot* lot, int64_t fine_mg, const Origin& origin) {
  lot->set_original_fine_mg(fine_mg);
  lot->set_remaining_fine_mg(fine_mg);
  lot->clear_origin();
  lot->clear_remaining_origin();
  if (origin.size() >= 2) {
    for (const auto& s : origin) {
      *lot->add_origin() = s;
      *lot->add_remaining_origin() = s;
    }
    lot->set_unit_code(MainUnit(origin));
    lot->clear_department();
  } else if (origin.size() == 1) {
    lot->set_unit_code(origin[0].unit_code());
    lot->set_department(origin[0].department());
  }
}

veta::v1::Lot NewOreLot(const std::string& lot_id, const std::string& holder,
                        const std::string& unit_code, const std::string& department, int64_t ore_g,
                        int64_t grade_ppb, uint64_t sequence) {
  veta::v1::Lot lot;
  lot.set_lot_id(lot_id);
  lot.set_holder_id(holder);
  lot.set_kind(veta::v1::ORE);
  lot.set_original_ore_g(ore_g);
  lot.set_remaining_ore_g(ore_g);
  lot.set_grade_ppb(grade_ppb);
  lot.set_unit_code(unit_code);
  lot.set_department(department);
  lot.set_created_at(sequence);
  lot.set_source(veta::v1::EXTRACTED);
  const int64_t fine = units::FineOfOre(ore_g, grade_ppb);
  lot.set_original_fine_mg(fine);
  lot.set_remaining_fine_mg(fine);
  return lot;
}

veta::v1::Lot SplitOff(veta::v1::Lot* from, int64_t quantity) {
  const Taken t = TakeFrom(from, quantity);
  veta::v1::Lot part;
  part.set_kind(from->kind());
  if (IsGold(*from)) {
    part.set_original_gold_mg(t.quantity);
    part.set_remaining_gold_mg(t.quantity);
    part.set_fineness_ppb(from->fineness_ppb());
  } else {
    part.set_original_ore_g(t.quantity);
    part.set_remaining_ore_g(t.quantity);
    part.set_grade_ppb(from->grade_ppb());
  }
  part.set_unit_code(from->unit_code());
  part.set_department(from->department());
  part.set_parent_lot_id(from->lot_id());
  part.set_source(veta::v1::BOUGHT);
  SetFine(&part, t.fine_mg, t.origin);
  return part;
}

std::vector<veta::v1::Lot> Blend(const std::vector<veta::v1::Lot*>& inputs,
                                 const std::vector<int64_t>& quantities,
                                 const std::vector<BlendOutput>& outputs,
                                 std::vector<veta::v1::LotInput>* taken) {
  std::vector<veta::v1::LotInput> records;
  Origin pool;
  for (size_t i = 0; i < inputs.size(); ++i) {
    veta::v1::Lot* lot = inputs[i];
    const Taken t = TakeFrom(lot, quantities[i]);
    veta::v1::LotInput li;
    li.set_lot_id(lot->lot_id());
    IsGold(*lot) ? li.set_gold_mg(t.quantity) : li.set_ore_g(t.quantity);
    li.set_fine_mg(t.fine_mg);
    for (const auto& s : t.origin) *li.add_took() = s;
    AddOrigin(&pool, t.origin);
    records.push_back(std::move(li));
  }
  // The pool, scaled to the fine gold the outputs hold, then taken output by output (the
  // last takes all that is left).
  std::vector<int64_t> fines;
  int64_t fine_out = 0;
  for (const auto& out : outputs) {
    fines.push_back(units::FineOfGold(out.gold_mg, out.fineness_ppb));
    fine_out += fines.back();
  }
  const std::vector<int64_t> scaled = units::Apportion(fine_out, Weights(pool));
  for (size_t i = 0; i < pool.size(); ++i) pool[i].set_fine_mg(scaled[i]);
  const std::string main = MainUnit(pool);
  std::vector<veta::v1::Lot> lots;
  for (size_t k = 0; k < outputs.size(); ++k) {
    veta::v1::Lot lot;
    lot.set_lot_id(outputs[k].lot_id);
    lot.set_kind(veta::v1::GOLD);
    lot.set_original_gold_mg(outputs[k].gold_mg);
    lot.set_remaining_gold_mg(outputs[k].gold_mg);
    lot.set_fineness_ppb(outputs[k].fineness_ppb);
    lot.set_source(veta::v1::PROCESSED);
    lot.set_unit_code(main);
    if (pool.size() == 1) lot.set_department(pool[0].department());
    for (const auto& li : records) {
      veta::v1::LotInput* in = lot.add_inputs();
      *in = li;
      if (k > 0) in->clear_took();  // kept once, on the first output
    }
    SetFine(&lot, fines[k], TakeShares(&pool, fines[k]));
    lots.push_back(std::move(lot));
  }
  if (taken != nullptr) *taken = std::move(records);
  return lots;
}

void ExportAll(veta::v1::Lot* lot) {
  lot->set_exported_gold_mg(Remaining(*lot));
  lot->set_exported_fine_mg(lot->remaining_fine_mg());
  lot->clear_exported_origin();
  for (auto& s : *lot->mutable_remaining_origin()) {
    *lot->add_exported_origin() = s;
    s.set_fine_mg(0);
  }
  SetRemaining(lot, 0);
  lot->set_remaining_fine_mg(0);
}

void UnexportAll(veta::v1::Lot* lot) {
  SetRemaining(lot, lot->exported_gold_mg());
  lot->set_remaining_fine_mg(lot->exported_fine_mg());
  for (int i = 0; i < lot->remaining_origin_size() && i < lot->exported_origin_size(); ++i) {
    lot->mutable_remaining_origin(i)->set_fine_mg(lot->exported_origin(i).fine_mg());
  }
}

}  // namespace veta
