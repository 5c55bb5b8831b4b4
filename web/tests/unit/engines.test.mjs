// Every package the lockfile installs accepts Node 18 (Debian 12's nodejs 18.19/18.20) and
// npm 9 by its `engines` field: a fresh Debian 12 must build the web app with its own Node.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const parse = (v) => {
  const [a = "0", b = "0", c = "0"] = v.replace(/^v/, "").split(".");
  return [a, b, c].map((x) => (x === "x" || x === "*" ? NaN : Number(x)));
};
const cmp = (a, b) => {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
};

// One comparator of a semver range, enough for the forms npm packages use.
function satisfiesOne(version, comparator) {
  const v = parse(version);
  const m = /^(>=|<=|>|<|\^|~|=)?\s*v?([0-9x*]+(?:\.[0-9x*]+){0,2})$/.exec(comparator);
  assert.ok(m, `cannot read engines comparator '${comparator}'`);
  const op = m[1] ?? "=";
  const parts = m[2].split(".");
  const base = parse(m[2]).map((x) => (Number.isNaN(x) ? 0 : x));
  switch (op) {
    case ">=": return cmp(v, base) >= 0;
    case ">": return cmp(v, base) > 0;
    case "<=": return cmp(v, base) <= 0;
    case "<": return cmp(v, base) < 0;
    case "^": {
      const i = base[0] !== 0 || parts.length === 1 ? 0 : base[1] !== 0 || parts.length === 2 ? 1 : 2;
      const upper = base.slice(0, i + 1);
      upper[i] += 1;
      while (upper.length < 3) upper.push(0);
      return cmp(v, base) >= 0 && cmp(v, upper) < 0;
    }
    case "~": {
      const i = parts.length === 1 ? 0 : 1;
      const upper = base.slice(0, i + 1);
      upper[i] += 1;
      while (upper.length < 3) upper.push(0);
      return cmp(v, base) >= 0 && cmp(v, upper) < 0;
    }
    default:
      return parts.every((p, i) => p === "x" || p === "*" || Number(p) === v[i]);
  }
}

export function satisfies(version, range) {
  if (range.trim() === "" || range.trim() === "*") return true;
  return range.split("||").some((alt) =>
    alt.trim().replace(/(>=|<=|>|<|=|\^|~)\s+/g, "$1").split(/\s+/).every((c) => satisfiesOne(version, c)));
}

test("the range reader reads ranges as npm does", () => {
  assert.ok(satisfies("18.19.0", "^18.0.0 || >=20.0.0"));
  assert.ok(!satisfies("18.19.0", ">=20"));
  assert.ok(!satisfies("18.19.0", "^14.21.3 || ^16"));
  assert.ok(satisfies("18.19.0", "^10 || ^12 || ^13.7 || ^14 || >=15.0.1"));
  assert.ok(!satisfies("18.19.0", ">=18.20"));
  assert.ok(satisfies("9.2.0", ">=8.0.0"));
  assert.ok(satisfies("18.20.4", ">= 16 < 19"));
});

test("every locked package accepts Node 18.19 and 18.20 and npm 9", () => {
  const lock = JSON.parse(readFileSync(new URL("../../package-lock.json", import.meta.url), "utf8"));
  const refused = [];
  for (const [path, pkg] of Object.entries(lock.packages)) {
    const engines = pkg.engines ?? {};
    for (const node of ["18.19.0", "18.20.4"]) {
      if (engines.node && !satisfies(node, engines.node)) refused.push(`${path || "veta-web"}: node ${engines.node}`);
    }
    if (engines.npm && !satisfies("9.2.0", engines.npm)) refused.push(`${path}: npm ${engines.npm}`);
  }
  assert.deepEqual(refused, [], `packages that refuse Debian 12's Node 18 / npm 9:\n${refused.join("\n")}`);
});
