// The exact arithmetic of lots, a line-by-line port of core/verify/lots.cc (read its header
// for the rules): integers only (bigint), largest-remainder apportionment with ties to the
// lower unit code, so that the browser recomputes the same milligrams as the C++ verifier.
import { compareBytes, kInt64Max } from "./bytes.js";

export interface Share {
  unit: string;
  department: string;
  fineMg: bigint;
}
export type Origin = Share[];

export interface Lot {
  lotId: string;
  holder: string;
  gold: boolean; // milligrams of gold; else grams of ore
  original: bigint;
  remaining: bigint;
  unitCode: string;
  department: string;
  originalFineMg: bigint;
  remainingFineMg: bigint;
  // Explicit origin (two units or more), as created and what is left; empty for one unit.
  origin: Origin;
  remainingOrigin: Origin;
}

export interface Taken {
  quantity: bigint;
  fineMg: bigint;
  origin: Origin;
}

// floor(a * b / c) for a, b >= 0 and c > 0; 0 when any is not positive; saturates at int64.
export function mulDiv(a: bigint, b: bigint, c: bigint): bigint {
  if (a <= 0n || b <= 0n || c <= 0n) return 0n;
  const v = (a * b) / c;
  return v > kInt64Max ? kInt64Max : v;
}
export const fineOfOre = (oreG: bigint, gradePpb: bigint) => mulDiv(oreG, gradePpb, 1000000n);
export const fineOfGold = (goldMg: bigint, finenessPpb: bigint) =>
  mulDiv(goldMg, finenessPpb, 1000000000n);

// The largest-remainder method (units::Apportion).
export function apportion(total: bigint, weights: bigint[]): bigint[] {
  const parts = weights.map(() => 0n);
  let sum = 0n;
  for (const w of weights) sum += w > 0n ? w : 0n;
  if (total <= 0n || sum === 0n) return parts;
  const remainder: bigint[] = [];
  let given = 0n;
  weights.forEach((w, i) => {
    const exact = total * (w > 0n ? w : 0n);
    parts[i] = exact / sum;
    remainder.push(exact % sum);
    given += parts[i];
  });
  let left = total - given;
  if (left > 0n) {
    const order = weights.map((_, i) => i);
    // Array.prototype.sort is stable (ES2019), as std::stable_sort.
    order.sort((a, b) => (remainder[a] > remainder[b] ? -1 : remainder[a] < remainder[b] ? 1 : 0));
    for (let i = 0; i < order.length && left > 0n; i++, left--) parts[order[i]]++;
  }
  return parts;
}

const copy = (s: Share): Share => ({ ...s });

function takeShares(from: Origin, fine: bigint): Origin {
  const parts = apportion(fine, from.map((s) => s.fineMg));
  const taken: Origin = [];
  from.forEach((s, i) => {
    if (parts[i] === 0n) return;
    s.fineMg -= parts[i];
    taken.push({ ...s, fineMg: parts[i] });
  });
  return taken;
}

function implicit(lot: Lot, fine: bigint): Origin {
  if (fine === 0n) return [];
  return [{ unit: lot.unitCode, department: lot.department, fineMg: fine }];
}

export function originOf(lot: Lot): Origin {
  if (lot.origin.length > 0) return lot.origin.map(copy);
  return implicit(lot, lot.originalFineMg);
}

export function mainUnit(origin: Origin): string {
  let main = "";
  let most = -1n;
  for (const s of origin) {
    if (s.fineMg > most) {
      most = s.fineMg;
      main = s.unit;
    }
  }
  return main;
}

export function addOrigin(into: Origin, add: Origin): Origin {
  const byUnit = new Map<string, Share>();
  for (const s of into) byUnit.set(s.unit, s);
  for (const s of add) {
    const had = byUnit.get(s.unit);
    if (had === undefined) byUnit.set(s.unit, copy(s));
    else had.fineMg += s.fineMg;
  }
  return [...byUnit.values()].sort((a, b) => compareBytes(a.unit, b.unit));
}

export function takeFrom(lot: Lot, quantity: bigint): Taken {
  const left = lot.remaining;
  if (quantity < 0n) quantity = 0n;
  if (quantity > left) quantity = left;
  const fine = lot.remainingFineMg;
  const takenFine = quantity === left ? fine : mulDiv(fine, quantity, left);
  lot.remaining = left - quantity;
  lot.remainingFineMg = fine - takenFine;
  if (lot.origin.length === 0) return { quantity, fineMg: takenFine, origin: implicit(lot, takenFine) };
  return { quantity, fineMg: takenFine, origin: takeShares(lot.remainingOrigin, takenFine) };
}

export function giveBack(lot: Lot, taken: Taken): void {
  lot.remaining += taken.quantity;
  lot.remainingFineMg += taken.fineMg;
  if (lot.origin.length === 0) return;
  for (const s of taken.origin) {
    const r = lot.remainingOrigin.find((x) => x.unit === s.unit);
    if (r) r.fineMg += s.fineMg;
  }
}

export function setFine(lot: Lot, fineMg: bigint, origin: Origin): void {
  lot.originalFineMg = fineMg;
  lot.remainingFineMg = fineMg;
  lot.origin = [];
  lot.remainingOrigin = [];
  if (origin.length >= 2) {
    lot.origin = origin.map(copy);
    lot.remainingOrigin = origin.map(copy);
    lot.unitCode = mainUnit(origin);
    lot.department = "";
  } else if (origin.length === 1) {
    lot.unitCode = origin[0].unit;
    lot.department = origin[0].department;
  }
}

export function newOreLot(lotId: string, holder: string, unitCode: string, oreG: bigint, gradePpb: bigint): Lot {
  const fine = fineOfOre(oreG, gradePpb);
  return {
    lotId, holder, gold: false, original: oreG, remaining: oreG, unitCode, department: "",
    originalFineMg: fine, remainingFineMg: fine, origin: [], remainingOrigin: [],
  };
}

export function splitOff(from: Lot, quantity: bigint): Lot {
  const t = takeFrom(from, quantity);
  const part: Lot = {
    lotId: "", holder: "", gold: from.gold, original: t.quantity, remaining: t.quantity,
    unitCode: from.unitCode, department: from.department,
    originalFineMg: 0n, remainingFineMg: 0n, origin: [], remainingOrigin: [],
  };
  setFine(part, t.fineMg, t.origin);
  return part;
}

export interface BlendOutput {
  lotId: string;
  goldMg: bigint;
  finenessPpb: bigint;
}

// A processing: takes quantities[i] of each inputs[i]; returns the output lots and what each
// input took (in the inputs' order).
export function blend(inputs: Lot[], quantities: bigint[], outputs: BlendOutput[]): { lots: Lot[]; taken: Taken[] } {
  const taken: Taken[] = [];
  let pool: Origin = [];
  inputs.forEach((lot, i) => {
    const t = takeFrom(lot, quantities[i]);
    taken.push(t);
    pool = addOrigin(pool, t.origin);
  });
  const fines = outputs.map((o) => fineOfGold(o.goldMg, o.finenessPpb));
  const fineOut = fines.reduce((a, b) => a + b, 0n);
  const scaled = apportion(fineOut, pool.map((s) => s.fineMg));
  pool.forEach((s, i) => (s.fineMg = scaled[i]));
  const main = mainUnit(pool);
  const lots = outputs.map((out, k) => {
    const lot: Lot = {
      lotId: out.lotId, holder: "", gold: true, original: out.goldMg, remaining: out.goldMg,
      unitCode: main, department: pool.length === 1 ? pool[0].department : "",
      originalFineMg: 0n, remainingFineMg: 0n, origin: [], remainingOrigin: [],
    };
    setFine(lot, fines[k], takeShares(pool, fines[k]));
    return lot;
  });
  return { lots, taken };
}
