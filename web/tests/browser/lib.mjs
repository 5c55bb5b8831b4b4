// What every browser test shares: its --flags, failing with a message, Debian's chromium
// launched headless through playwright-core (no browser download; VETA_CHROMIUM overrides the
// path), the built app served on a loopback port when no server is given, and screenshots.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import { chromium } from "playwright-core";

// --name value pairs, as { name: value }.
export const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);

export const fail = (msg) => {
  console.error(`FAIL: ${msg}`);
  process.exit(1);
};
export const check = (cond, msg) => cond || fail(msg);

// A fresh, empty profile (playwright makes one per launch) and no network of its own.
export const launch = () =>
  chromium.launch({
    executablePath: process.env.VETA_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });

// Forces a late answer: the first request to URL (a glob) whose body `matches` is held back
// 1.5 s, then let through. Returns `passed()`: true once it went through, false if no request
// matched within 15 s (the test then did not force its race, and must say so).
export async function holdBack(page, url, matches) {
  let released;
  const held = new Promise((ok) => (released = ok));
  let done = false;
  await page.route(url, async (route) => {
    if (done || !matches(route.request().postData() ?? "")) return route.continue();
    done = true;
    await new Promise((ok) => setTimeout(ok, 1500));
    await route.continue();
    released();
  });
  return () => Promise.race([held.then(() => true), new Promise((ok) => setTimeout(() => ok(false), 15000))]);
}

// True if LOCATOR becomes visible within 6 s: a late answer showing where it must not.
export const appears = (locator) => locator.waitFor({ timeout: 6000 }).then(() => true, () => false);

// Saves a full-page screenshot as NAME in --screenshots DIR, when given.
export const shot = async (page, name) => {
  if (args.screenshots) await page.screenshot({ path: join(args.screenshots, name), fullPage: true });
};

const kTypes = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".txt": "text/plain", ".json": "application/json" };

// The app's address: --url, or --dist served here on a loopback port; close() stops that.
export async function app() {
  if (args.url) return { base: args.url, close: () => {} };
  const local = await serve(args.dist);
  return { base: local.url, close: () => local.server.close() };
}

// Serves DIR (web/dist) on a loopback port, any unknown path answered with index.html.
export async function serve(dir) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    let file = join(dir, path.endsWith("/") ? "index.html" : path);
    let body;
    try {
      body = readFileSync(file);
    } catch {
      file = join(dir, "index.html");
      body = readFileSync(file);
    }
    res.writeHead(200, { "Content-Type": kTypes[extname(file)] ?? "application/octet-stream" });
    res.end(body);
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}
