// The documentation against the code it describes (node --test; run by
// npm run check): docs/deploy.md against wrangler.toml, the settings README.md
// and docs/deploy.md name against those src/config.ts reads, every `npm run`
// against package.json, and every relative link against the tree. A rename
// in the code that the prose did not follow fails here rather than on a
// reader's deploy.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";

const ROOT = path.resolve(import.meta.dirname, "..");
const read = (file) => fs.readFileSync(path.join(ROOT, file), "utf8");

/**
 * The TOML wrangler.toml is written in: tables, arrays of tables, and
 * `key = value` with a JSON-compatible value on one line. Anything else is
 * refused, so a construct this reader does not know fails the test loudly.
 */
function parseToml(text) {
  const root = {};
  let table = root;
  text.split("\n").forEach((raw, index) => {
    const line = raw.replace(/\s+#[^"]*$/, "").trim();
    if (line === "" || line.startsWith("#")) return;
    let m = line.match(/^\[\[([\w.-]+)\]\]$/);
    if (m) {
      root[m[1]] ??= [];
      table = {};
      root[m[1]].push(table);
      return;
    }
    m = line.match(/^\[([\w.-]+)\]$/);
    if (m) {
      table = root[m[1]] ??= {};
      return;
    }
    m = line.match(/^([\w-]+)\s*=\s*(.+)$/);
    assert.ok(m, `wrangler.toml line ${index + 1}: not understood: ${raw}`);
    table[m[1]] = JSON.parse(m[2]);
  });
  return root;
}

/** The body of `opener ... }` in TypeScript source, braces balanced. */
function block(source, opener) {
  const start = source.indexOf(opener);
  assert.notEqual(start, -1, `src/config.ts has no ${opener}`);
  let depth = 0;
  for (let i = source.indexOf("{", start); i < source.length; i++) {
    if (source[i] === "{") depth++;
    if (source[i] === "}" && --depth === 0) return source.slice(start, i + 1);
  }
  assert.fail(`src/config.ts: ${opener} does not end`);
}

/**
 * The settings src/config.ts reads: the keys of its `settings` schema and of
 * the option groups spread into it (RECOVERY_OPTIONS, ...), at two spaces'
 * indent so that nested schemas are not counted.
 */
function configSettings() {
  const source = read("src/config.ts");
  const schema = block(source, "const settings = z.object({");
  const keysOf = (body) => [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]);
  const keys = keysOf(schema);
  for (const [, group] of schema.matchAll(/^ {2}\.\.\.([A-Z_]+),/gm)) {
    const groupKeys = keysOf(block(source, `const ${group} = {`));
    assert.ok(groupKeys.length > 0, `src/config.ts: no settings found in ${group}`);
    keys.push(...groupKeys);
  }
  assert.ok(keys.includes("AUTH_STRATEGY") && keys.length > 20, `src/config.ts: settings not found (${keys})`);
  return new Set(keys);
}

/** The text of the section under `## heading`, up to the next heading of that level. */
function section(markdown, heading) {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  assert.notEqual(start, -1, `no section "${heading}"`);
  const end = markdown.indexOf("\n## ", start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

const wrangler = parseToml(read("wrangler.toml"));
const settings = configSettings();
const deploy = read("docs/deploy.md");
const readme = read("README.md");

test("docs/deploy.md names what wrangler.toml deploys: Worker, D1, Workflows, cron", () => {
  const named = (value, what) =>
    assert.ok(deploy.includes(`\`${value}\``), `docs/deploy.md never names ${what} \`${value}\``);
  named(wrangler.name, "the Worker");
  const [d1] = wrangler.d1_databases;
  named(d1.binding, "the D1 binding");
  named(d1.database_name, "the D1 database");
  named(`${d1.migrations_dir}/`, "the migrations directory");
  assert.ok(deploy.includes(`wrangler d1 create ${d1.database_name}\n`), "docs/deploy.md: no `wrangler d1 create`");
  assert.ok(
    deploy.includes(`wrangler d1 migrations apply ${d1.binding} --remote\n`),
    "docs/deploy.md: no `wrangler d1 migrations apply ... --remote`",
  );
  assert.ok(wrangler.workflows.length > 0, "wrangler.toml declares no Workflow");
  for (const workflow of wrangler.workflows) {
    named(workflow.name, "the Workflow");
    named(workflow.binding, `the binding of ${workflow.name}`);
    named(workflow.class_name, `the class of ${workflow.name}`);
  }
  assert.ok(wrangler.triggers.crons.length > 0, "wrangler.toml declares no cron");
  for (const cron of wrangler.triggers.crons) named(cron, "the cron");
  assert.ok(deploy.includes(`crons = ${JSON.stringify(wrangler.triggers.crons)}`), "docs/deploy.md: `crons = [...]`");
});

test("wrangler.toml's bindings are the Worker's, and its Workflow classes are exported by its entry", () => {
  const env = block(read("src/config.ts"), "export interface Env");
  const bindings = [wrangler.d1_databases[0].binding, ...wrangler.workflows.map((w) => w.binding)];
  for (const binding of bindings) {
    assert.match(env, new RegExp(`^ {2}${binding}\\??:`, "m"), `src/config.ts's Env lacks the binding ${binding}`);
  }
  const exported = [...read(wrangler.main).matchAll(/^export \{([^}]*)\}/gm)].flatMap((m) =>
    m[1].split(",").map((name) => name.trim()),
  );
  for (const workflow of wrangler.workflows) {
    assert.ok(exported.includes(workflow.class_name), `${wrangler.main} does not export ${workflow.class_name}`);
  }
});

// UPPER_CASE names the two documents may use that are not the Worker's
// settings, each with why.
const NOT_SETTINGS = new Map([
  ["OS_AUTH_TYPE", "the openstack CLI's environment"],
  ["OS_ENDPOINT", "the openstack CLI's environment"],
  ["CLOUDFLARE_API_TOKEN", "wrangler's environment, for a deploy from CI"],
  ["COMPUTE_HOST", "a notification type"],
]);

test("every UPPER_CASE name README.md and docs/deploy.md mention is a setting src/config.ts reads", () => {
  for (const [file, text] of [
    ["README.md", readme],
    ["docs/deploy.md", deploy],
  ]) {
    const names = new Set(text.match(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g));
    const unknown = [...names].filter((name) => !settings.has(name) && !NOT_SETTINGS.has(name));
    assert.deepEqual(unknown, [], `${file} names settings src/config.ts does not read`);
  }
});

test("every setting src/config.ts reads is in README.md's configuration table or docs/engine.md's Options", () => {
  const tables = section(readme, "Configuration") + section(read("docs/engine.md"), "Options");
  const missing = [...settings].filter((name) => !tables.includes(`\`${name}\``));
  assert.deepEqual(missing, [], "settings nobody documents");
});

/** README.md, docs/, and the READMEs and notes of the suites. */
function markdownFiles() {
  const skip = new Set(["node_modules", ".git", ".tools", ".wrangler", ".conformance", "public", "fixtures"]);
  const out = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory() && !skip.has(entry.name) && !entry.name.startsWith(".")) walk(file);
      else if (entry.isFile() && entry.name.endsWith(".md")) out.push(file);
    }
  };
  walk(".");
  return out.map((file) => path.normalize(file));
}

/** Markdown without its fenced code, where links and headings are not links and headings. */
const prose = (markdown) => markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "");

test("every `npm run` the documentation shows is a script of package.json", () => {
  const scripts = JSON.parse(read("package.json")).scripts;
  const unknown = [];
  for (const file of markdownFiles()) {
    for (const [, name] of read(file).matchAll(/npm run ([\w:.-]*[\w])/g)) {
      if (!(name in scripts)) unknown.push(`${file}: npm run ${name}`);
    }
  }
  assert.deepEqual(unknown, []);
});

/** GitHub's anchors for a Markdown file's headings. */
function anchors(markdown) {
  const seen = new Map();
  const out = new Set();
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const slug = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

test("every relative link in the documentation reaches a file, and its #anchor a heading", () => {
  const broken = [];
  const files = markdownFiles();
  assert.ok(files.includes("README.md") && files.includes(path.normalize("docs/deploy.md")), `${files}`);
  for (const file of files) {
    const text = prose(read(file)).replace(/`[^`\n]*`/g, "code");
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z][a-z+.-]*:/i.test(target)) continue;
      const [where, anchor] = target.split("#");
      const resolved = where === "" ? file : path.normalize(path.join(path.dirname(file), where));
      if (!fs.existsSync(path.join(ROOT, resolved))) {
        broken.push(`${file}: ${target} (no ${resolved})`);
      } else if (anchor !== undefined && resolved.endsWith(".md") && !anchors(read(resolved)).has(anchor)) {
        broken.push(`${file}: ${target} (no heading #${anchor} in ${resolved})`);
      }
    }
  }
  assert.deepEqual(broken, []);
});
