#!/usr/bin/env node
// Writes the API's OpenAPI document (what GET /openapi.json answers) to a
// file, for the linter and the typed client's generator: the document is
// built by the Worker's own code (src/openapi/document.ts), bundled for
// Node with esbuild.   usage: node scripts/openapi.mjs [OUT]  (default: stdout)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = path.resolve(import.meta.dirname, "..");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "masakari-openapi-"));
try {
  const outfile = path.join(dir, "document.mjs");
  await build({
    entryPoints: [path.join(root, "src/openapi/document.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile,
    logLevel: "error",
    external: ["cloudflare:*"],
  });
  const { openApiDocument } = await import(pathToFileURL(outfile).href);
  const text = `${JSON.stringify(openApiDocument(), null, 2)}\n`;
  if (process.argv[2]) fs.writeFileSync(process.argv[2], text);
  else process.stdout.write(text);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
