// The exact arithmetic of lots: how a lot's quantity, fine gold and origin by unit move when a
// part of it is sold, when lots are blended by a processing, and when a correction gives back
// what an entry took. Shared by the rules (registry.cc, custody_rules.cc) and by the offline
// check of certificates (certificate.cc), which replays it from the entries' payloads, so
// both compute the same milligrams.
//
// A lot holds a quantity (grams of ore, or milligrams of gold), its fine gold in milligrams,
// and its origin: fine milligrams per unit of origin (numerators over the lot's fine mg, kept
// as `origin` for the lot as created and `remaining_origin` for what is left; both empty when
// the lot comes from one unit, its `unit_code`). Every step conserves every milligram:
//   - taking q of a lot with R left holding F fine mg takes floor(F * q / R) mg, all of F when
//     q == R; the part's milligrams per unit are apportioned from the lot's remaining ones by
//     the largest-remainder method (ties to the lower unit code) and subtracted from them;
//   - a blend sums what its inputs took, per unit, and divides that among its outputs in
//     proportion to each output's fine mg, by the same method (when the outputs hold less or
//     more fine gold than the inputs brought, the pool is first scaled to what they hold);
//   - giving back adds exactly what was taken.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "veta/v1/registry.pb.h"

namespace veta {

// Fine mg by unit, sorted by unit code, each unit once.
using Origin = std::vector<veta::v1::OriginShare>;

bool IsGold(const veta::v1::Lot& lot);
// A lot's quantity in its own unit: grams of ore, milligrams of gold.
int64_t Remaining(const veta::v1::Lot& lot);
int64_t Original(const veta::v1::Lot& lot);
// "12.500 kg" (ore) or "3.250 g" (gold), of a quantity in the lot's unit.
std::string Amount(const veta::v1::Lot& lot, int64_t quantity);
// The lot's origin as created, and what is left of it: one entry for a lot of one unit (none
// when it holds no fine gold).
Origin OriginOf(const veta::v1::Lot& lot);
Origin RemainingOriginOf(const veta::v1::Lot& lot);
// The unit with the most fine mg (ties: the lower code); "" for an empty origin.
std::string MainUnit(const Origin& origin);
// Adds `add` into `into`, unit by unit (both sorted; the result too).
void AddOrigin(Origin* into, const Origin& add);

// What a part took of a lot: its quantity (in the lot's unit), fine mg, and fine mg by unit.
struct Taken {
  int64_t quantity = 0;
  int64_t fine_mg = 0;
  Origin origin;
};

// Takes `quantity` (0 < quantity <= Remaining(*lot)) from the lot, as described above.
Taken TakeFrom(veta::v1::Lot* lot, int64_t quantity);
// Gives back exactly what a take of this lot took.
void GiveBack(veta::v1::Lot* lot, const Taken& taken);
// What a processing input took, as recorded in a LotInput of the processing's first output.
Taken TakenBy(const veta::v1::LotInput& input);

// Sets a new lot's fine gold and origin (as created and remaining): `origin` of two units or
// more is kept explicit, with the main unit as unit_code; of one, the lot is that unit's
// (unit_code and department); of none (no fine gold), `unit_code` and `department` are kept.
void SetFine(veta::v1::Lot* lot, int64_t fine_mg, const Origin& origin);

// An extracted lot.
veta::v1::Lot NewOreLot(const std::string& lot_id, const std::string& holder,
                        const std::string& unit_code, const std::string& department, int64_t ore_g,
                        int64_t grade_ppb, uint64_t sequence);

// A sale: takes `quantity` of `from` and returns the buyer's lot (kind, quantities, grade or
// fineness, fine gold, origin, parent, source); the caller sets its id, holder and entry.
veta::v1::Lot SplitOff(veta::v1::Lot* from, int64_t quantity);

// A processing's outputs, as declared.
struct BlendOutput {
  std::string lot_id;
  int64_t gold_mg = 0;
  int64_t fineness_ppb = 0;
};
// A processing: takes quantities[i] of each *inputs[i] and returns the output gold lots (kind,
// quantities, fineness, fine gold, origin, inputs with what each took on the first, source);
// the caller sets holder and entry. `taken` (may be null) receives each input's LotInput.
std::vector<veta::v1::Lot> Blend(const std::vector<veta::v1::Lot*>& inputs,
                                 const std::vector<int64_t>& quantities,
                                 const std::vector<BlendOutput>& outputs,
                                 std::vector<veta::v1::LotInput>* taken = nullptr);

// An export takes all that remains (kept as exported_*); a voided export gives it back.
void ExportAll(veta::v1::Lot* lot);
void UnexportAll(veta::v1::Lot* lot);

}  // namespace veta
