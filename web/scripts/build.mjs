// Builds the web app into web/dist (and the node verifier into web/dist-node), from the repo's
// protos and geodata, with nothing fetched at build or run time:
//   1. TypeScript for every proto/veta/v1/*.proto with Debian's protoc + protoc-gen-es
//   2. the departments of Peru (data/peru_departments.geojson) as a module of the bundle, so
//      that the map draws offline; its licence goes to dist/licenses/
//   3. a type check (tsc), the bundle (vite), and dist-node/{verify,sign}.mjs (esbuild): the
//      browser's verifier and signer under node, for the cross-checks against the C++ tools
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const repo = join(web, "..");
const run = (cmd, args) => execFileSync(cmd, args, { cwd: web, stdio: "inherit" });

rmSync(join(web, "src/gen"), { recursive: true, force: true });
mkdirSync(join(web, "src/gen"), { recursive: true });
const protos = readdirSync(join(repo, "proto/veta/v1")).filter((f) => f.endsWith(".proto"));
run("protoc", [
  `--plugin=protoc-gen-es=${join(web, "node_modules/.bin/protoc-gen-es")}`,
  "--es_out=src/gen",
  "--es_opt=target=ts,import_extension=js",
  `-I${join(repo, "proto")}`,
  ...protos.map((f) => join(repo, "proto/veta/v1", f)),
]);

// Only what the map draws: code, name and geometry of each department.
const departments = JSON.parse(readFileSync(join(repo, "data/peru_departments.geojson"), "utf8"));
const slim = {
  type: "FeatureCollection",
  features: departments.features.map((f) => ({
    type: "Feature",
    properties: { code: f.properties.FIRST_IDDP, name: f.properties.NOMBDEP },
    geometry: f.geometry,
  })),
};
writeFileSync(join(web, "src/gen/departments.json"), JSON.stringify(slim));
// Mining scars detected by satellite (2025 Q4, Amazon Mining Watch, MIT): the regulator's map.
const scars = JSON.parse(readFileSync(join(repo, "data/peru_detected_mining_2025q4.geojson"), "utf8"));
writeFileSync(join(web, "src/gen/scars.json"), JSON.stringify({
  type: "FeatureCollection",
  features: scars.features.map((f) => ({
    type: "Feature",
    properties: { minedHa: Math.round(f.properties["Mined area (ha)"] * 100) / 100 },
    geometry: f.geometry,
  })),
}));

run(join(web, "node_modules/.bin/tsc"), ["--noEmit", "-p", "."]);
const { build } = await import("vite");
await build({ root: web, base: "./", logLevel: "warn", build: { outDir: "dist", emptyOutDir: true } });
mkdirSync(join(web, "dist/licenses"), { recursive: true });
copyFileSync(join(repo, "data/LICENSE.MPL-2.0"), join(web, "dist/licenses/peru_departments.MPL-2.0.txt"));
copyFileSync(join(repo, "data/LICENSE.MIT-earth-genome"), join(web, "dist/licenses/mining_scars.MIT.txt"));

const esbuild = await import("esbuild");
for (const tool of ["verify", "sign"]) {
  await esbuild.build({
    entryPoints: [join(web, `src/cli/${tool}.ts`)],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node18",
    outfile: join(web, `dist-node/${tool}.mjs`),
    logLevel: "warning",
  });
}
console.log(`web app built into ${join(web, "dist")}`);
