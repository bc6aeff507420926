#!/usr/bin/env node
// Builds the web console (GET /console, docs/console.md) into public/, the
// Worker's static assets directory (wrangler.toml [assets]):
//   src/console/ui/index.html                 -> public/console.html (served at /console)
//   src/console/ui/main.js and what it imports -> public/console/app.js (one minified ES module)
//   src/console/ui/style.css                  -> public/console/app.css
//   the licences of Preact and htm            -> public/console/LICENSES.txt
// Everything it writes is git-ignored. Fails when the console's assets
// together pass their budget, 150 KiB gzip, and prints their sizes.
// Run by wrangler's [build] command (npm run dev, npm run deploy) and npm run test:console.
//   usage: node scripts/build-console.mjs
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import zlib from "node:zlib";
import { build } from "esbuild";

const root = path.resolve(import.meta.dirname, "..");
const source = path.join(root, "src", "console", "ui");
const out = path.join(root, "public", "console");
const BUDGET = 150 * 1024;

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });

await build({
  entryPoints: { app: path.join(source, "main.js"), "app-style": path.join(source, "style.css") },
  outdir: out,
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022", "chrome110", "firefox110", "safari16"],
  legalComments: "none",
  logLevel: "warning",
});
// esbuild names a CSS entry after its own name.
fs.renameSync(path.join(out, "app-style.css"), path.join(out, "app.css"));
fs.copyFileSync(path.join(source, "index.html"), path.join(root, "public", "console.html"));

const licences = ["preact", "htm"].map((name) => {
  // htm's exports do not list its package.json: found from its entry instead.
  let dir = path.dirname(createRequire(import.meta.url).resolve(name));
  while (!fs.existsSync(path.join(dir, "package.json"))) dir = path.dirname(dir);
  const { version, license } = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  return `${name} ${version} (${license})\n\n${fs.readFileSync(path.join(dir, "LICENSE"), "utf8").trim()}\n`;
});
fs.writeFileSync(path.join(out, "LICENSES.txt"), `${licences.join(`\n${"-".repeat(72)}\n\n`)}`);

const files = ["console.html", ...fs.readdirSync(out).map((f) => `console/${f}`)];
let raw = 0;
let gzip = 0;
const each = files.map((f) => {
  const bytes = fs.readFileSync(path.join(root, "public", f));
  const zipped = zlib.gzipSync(bytes, { level: 9 }).length;
  raw += bytes.length;
  gzip += zipped;
  return `${f} ${(bytes.length / 1024).toFixed(1)} KiB (${(zipped / 1024).toFixed(1)} KiB gzip)`;
});
const kib = (n) => (n / 1024).toFixed(1);
console.log(
  `build-console: public/console.html and public/console/: ${files.length} files, ${kib(raw)} KiB, ${kib(gzip)} KiB gzip (budget ${BUDGET / 1024} KiB gzip)\n  ${each.join("\n  ")}`,
);
if (gzip > BUDGET) {
  console.error(`build-console: ${kib(gzip)} KiB gzip is over the console's budget of ${BUDGET / 1024} KiB`);
  process.exit(1);
}
