#!/usr/bin/env node
// Builds the API reference page (GET /docs) into public/, the Worker's
// static assets directory (wrangler.toml [assets]):
//   docs/index.html                 -> public/docs.html (served at /docs)
//   docs/init.js                    -> public/docs/init.js
//   node_modules/swagger-ui-dist/*  -> public/docs/ (Swagger UI, prebuilt)
// Everything it writes is git-ignored; public/_headers is committed and left
// alone. Source maps are not shipped, and the comments that point at them are
// dropped, so a browser never asks for a file that is not there.
// Run by npm run dev, npm run deploy and npm run test:docs.
//   usage: node scripts/build-docs.mjs
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const out = path.join(root, "public");
const dist = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

// Swagger UI's files the page loads, with its licence files beside them
// (Apache-2.0; the bundle's header names its .LICENSE.txt).
const SWAGGER_UI = [
  "swagger-ui-bundle.js",
  "swagger-ui-bundle.js.LICENSE.txt",
  "swagger-ui.css",
  "favicon-32x32.png",
  "LICENSE",
  "NOTICE",
];
const SOURCE_MAP_COMMENT = /\s*(\/\/# sourceMappingURL=\S+|\/\*# sourceMappingURL=[^*]+\*\/)\s*$/;

fs.rmSync(path.join(out, "docs"), { recursive: true, force: true });
fs.rmSync(path.join(out, "docs.html"), { force: true });
fs.mkdirSync(path.join(out, "docs"), { recursive: true });

fs.copyFileSync(path.join(root, "docs", "index.html"), path.join(out, "docs.html"));
fs.copyFileSync(path.join(root, "docs", "init.js"), path.join(out, "docs", "init.js"));
for (const name of SWAGGER_UI) {
  const from = path.join(dist, name);
  const to = path.join(out, "docs", name);
  if (/\.(js|css)$/.test(name)) {
    fs.writeFileSync(to, fs.readFileSync(from, "utf8").replace(SOURCE_MAP_COMMENT, "\n"));
  } else {
    fs.copyFileSync(from, to);
  }
}

const files = ["docs.html", ...fs.readdirSync(path.join(out, "docs")).map((f) => `docs/${f}`)];
const bytes = files.reduce((sum, f) => sum + fs.statSync(path.join(out, f)).size, 0);
const { version } = JSON.parse(fs.readFileSync(path.join(dist, "package.json"), "utf8"));
console.log(
  `build-docs: public/docs.html and public/docs/ (Swagger UI ${version}): ${files.length} files, ${(bytes / 1024).toFixed(0)} KiB`,
);
