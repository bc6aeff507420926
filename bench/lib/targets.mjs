// The servers under load. The Worker and both ceilings run in workerd
// through Miniflare's API: the runtime Cloudflare deploys, with D1 emulated
// on a local SQLite file. The reference is the real Masakari API server.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

const ROOT = path.resolve(import.meta.dirname, "../..");
const REFERENCE = path.resolve(ROOT, "../shared/reference");

/**
 * What workerd needs from a checkout to run its Worker: wrangler.toml's
 * compatibility settings and every statement of every migration, in order.
 * Read once, so a checkout can be removed once its bundle is built (the
 * before/after run builds the base in a temporary one).
 */
export function workerConfig(root = ROOT) {
  const text = fs.readFileSync(path.join(root, "wrangler.toml"), "utf8");
  const value = (key) => text.match(new RegExp(`^${key}\\s*=\\s*(.+)$`, "m"))?.[1];
  const dir = path.join(root, JSON.parse(value("migrations_dir") ?? '"migrations"'));
  return {
    compatibilityDate: JSON.parse(value("compatibility_date")),
    compatibilityFlags: JSON.parse(value("compatibility_flags") ?? "[]"),
    migrations: fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".sql"))
      .sort()
      .flatMap((f) => fs.readFileSync(path.join(dir, f), "utf8").split("--> statement-breakpoint"))
      .map((s) => s.trim())
      .filter(Boolean),
  };
}

async function miniflare({ port, worker, persist, inspectorPort, config }) {
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port,
      ...(inspectorPort ? { inspectorPort } : {}),
      ...(persist ? { resourcePersistencePath: persist } : {}),
      workers: [
        {
          modules: true,
          compatibilityDate: config.compatibilityDate,
          compatibilityFlags: config.compatibilityFlags,
          ...worker,
        },
      ],
    }),
  );
  const url = await mf.ready;
  return { mf, url: url.href.replace(/\/$/, "") };
}

/**
 * The built Worker (the bundle `wrangler deploy` would upload) on a fresh
 * local D1 database with the migrations applied. `config` is that of the
 * checkout the bundle was built from (workerConfig), this one's by default.
 */
export async function startWorker({
  port,
  script,
  persist,
  vars = {},
  inspectorPort,
  config = workerConfig(),
  name = "worker",
}) {
  fs.rmSync(persist, { recursive: true, force: true });
  const { mf, url } = await miniflare({
    port,
    worker: {
      scriptPath: path.relative(process.cwd(), script),
      d1Databases: { DB: "bench" },
      bindings: { AUTH_STRATEGY: "noauth2", ...vars },
    },
    persist,
    inspectorPort,
    config,
  });
  const db = await mf.getD1Database("DB");
  await db.batch(config.migrations.map((s) => db.prepare(s)));
  return {
    name,
    url,
    exec: async (statements) => {
      for (const s of statements) await db.prepare(s).run();
    },
    stop: () => mf.dispose(),
  };
}

/** A ceiling Worker from bench/ (hello.js, d1-floor.js) on the same path. */
export async function startCeiling({ port, script, persist, name }) {
  const withDb = persist !== undefined;
  if (withDb) fs.rmSync(persist, { recursive: true, force: true });
  const config = workerConfig();
  const { mf, url } = await miniflare({
    port,
    worker: { scriptPath: path.relative(process.cwd(), script), ...(withDb ? { d1Databases: { DB: "bench" } } : {}) },
    persist,
    config,
  });
  let exec = async () => {};
  if (withDb) {
    const db = await mf.getD1Database("DB");
    await db.batch(config.migrations.map((s) => db.prepare(s)));
    exec = async (statements) => {
      for (const s of statements) await db.prepare(s).run();
    };
  }
  return { name, url, exec, stop: () => mf.dispose() };
}

/** Real Masakari 14.0.2 (../shared/reference) on an empty SQLite database. */
export async function startReference({ port, dir }) {
  execFileSync(path.join(REFERENCE, "start-masakari.sh"), ["--fresh", dir, String(port)], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  return {
    name: "reference",
    url: `http://127.0.0.1:${port}`,
    exec: async (statements) => {
      const db = new DatabaseSync(path.join(dir, "masakari.db"));
      try {
        for (const s of statements) db.exec(s);
      } finally {
        db.close();
      }
    },
    stop: async () => {
      execFileSync(path.join(REFERENCE, "stop-masakari.sh"), [dir], { stdio: "ignore" });
    },
  };
}
