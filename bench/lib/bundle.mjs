// The Worker bundle exactly as `wrangler deploy` would upload it, and what
// it is made of, read from its source map.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const B64 = Object.fromEntries(
  [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"].map((c, i) => [c, i]),
);

/** Source Map v3 "mappings": per generated line, [column, source index] pairs. */
function* segments(mappings) {
  let source = 0;
  for (const line of mappings.split(";")) {
    let column = 0;
    const out = [];
    for (const seg of line.split(",")) {
      if (!seg) continue;
      const values = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const digit = B64[ch];
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += values[0];
      if (values.length > 1) source += values[1];
      out.push([column, values.length > 1 ? source : -1]);
    }
    yield out;
  }
}

function owner(source) {
  // drizzle-orm's published source maps name its files src/..., relative
  // to the package, which lands them in node_modules/src/.
  if (source.includes("node_modules/src/")) return "drizzle-orm";
  const m = source.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (m) return m[1];
  if (/(^|\/)src\//.test(source)) return "src (this project)";
  return "other (bundler glue)";
}

/** Maps a (1-based line, 0-based column) of the bundle to the part it came from. */
export function sourceLocator(script) {
  const map = JSON.parse(fs.readFileSync(`${script}.map`, "utf8"));
  const lines = [...segments(map.mappings)];
  // With `file`, the source file itself rather than the part it belongs to.
  return (line, column, file = false) => {
    const segs = lines[line - 1] ?? [];
    let found = -1;
    for (const [col, src] of segs) {
      if (col > column) break;
      found = src;
    }
    if (found < 0) return "other (bundler glue)";
    return file ? map.sources[found].replace(/^(\.\.\/)+/, "") : owner(map.sources[found]);
  };
}

/**
 * Builds the Worker of the checkout at `cwd` (this one by default) with its
 * own wrangler.toml, as `wrangler deploy` would upload it, into `outdir`.
 */
export function buildBundle(outdir, { cwd } = {}) {
  fs.rmSync(outdir, { recursive: true, force: true });
  const out = execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", outdir], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false" },
  });
  const m = out.match(/Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/);
  if (!m) throw new Error(`wrangler printed no upload size:\n${out}`);
  const script = path.join(outdir, "index.js");
  const code = fs.readFileSync(script, "utf8");
  const map = JSON.parse(fs.readFileSync(`${script}.map`, "utf8"));
  const lines = code.split("\n");
  const parts = new Map();
  let lineNo = 0;
  for (const segs of segments(map.mappings)) {
    const text = lines[lineNo++] ?? "";
    segs.forEach(([col, src], i) => {
      const end = segs[i + 1]?.[0] ?? text.length;
      const name = src < 0 ? "other (bundler glue)" : owner(map.sources[src]);
      parts.set(name, (parts.get(name) ?? "") + text.slice(col, end));
    });
  }
  const composition = [...parts]
    .map(([name, text]) => ({
      name,
      bytes: Buffer.byteLength(text),
      gzip: zlib.gzipSync(text).length,
    }))
    .sort((a, b) => b.bytes - a.bytes);
  return { script, uploadKiB: Number(m[1]), gzipKiB: Number(m[2]), composition };
}
