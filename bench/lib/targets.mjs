// The servers under load. The Worker and both ceilings run in workerd
// through Miniflare's API: the runtime Cloudflare deploys, with D1 emulated
// on a local SQLite file. The reference is the real Masakari API server.
// A Worker whose bundle has the recovery engine runs it too, against the
// Nova stand-in of the tests (test/fakes/nova-server.mjs) on loopback.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

const ROOT = path.resolve(import.meta.dirname, "../..");
const PARKED = path.join(ROOT, "bench", "engine-parked.js");
const WORKFLOWS_SERVICE = path.join(ROOT, "bench", "workflows-service.js");
const REFERENCE = path.join(ROOT, "conformance", "reference", "masakari.sh");
const NOVA_SERVER = path.join(ROOT, "test", "fakes", "nova-server.mjs");

/**
 * wrangler.toml's [[workflows]]: binding, workflow name, class and step
 * limit (`limits = { steps = N }`), read with the same plain matching as the
 * rest of workerConfig (no TOML parser: wrangler.toml keeps to one key a
 * line).
 */
function workflowsOf(text) {
  return text
    .split(/^\[\[workflows\]\]\s*$/m)
    .slice(1)
    .map((block) => {
      const body = block.split(/^\[/m)[0];
      const value = (key) => body.match(new RegExp(`^${key}\\s*=\\s*(.+)$`, "m"))?.[1];
      const steps = value("limits")?.match(/steps\s*=\s*(\d+)/)?.[1];
      return {
        binding: JSON.parse(value("binding")),
        name: JSON.parse(value("name")),
        className: JSON.parse(value("class_name")),
        ...(steps ? { stepLimit: Number(steps) } : {}),
      };
    });
}

/** The names a built bundle exports (its last `export{a as B,...}`). */
export function bundleExports(script) {
  const code = fs.readFileSync(script, "utf8");
  const list = [...code.matchAll(/export\s*\{([^}]*)\}/g)].at(-1)?.[1] ?? "";
  return list
    .split(",")
    .map((e) =>
      e
        .trim()
        .split(/\s+as\s+/)
        .at(-1),
    )
    .filter(Boolean);
}

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
    workflows: workflowsOf(text),
    migrations: fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".sql"))
      .sort()
      .flatMap((f) => fs.readFileSync(path.join(dir, f), "utf8").split("--> statement-breakpoint"))
      .map((s) => s.trim())
      .filter(Boolean),
  };
}

// A recovery's info and warnings (src/log.ts: `[notification <uuid> run N]
// ...`): thousands in a create-notification run, whose recoveries all end in
// error by design (no Nova service for the pool's hosts). The bench checks
// the outcomes it depends on itself; errors are shown.
const RECOVERY_LINE = /^\[notification [^\]]+\] /;
function workerLogs({ level, message }) {
  if (RECOVERY_LINE.test(message) && level !== "error") return;
  if (level === "error" || level === "warn") console.error(message);
  else console.log(message);
}

async function miniflare({ port, worker, also = [], persist, inspectorPort, config }) {
  const common = {
    modules: true,
    compatibilityDate: config.compatibilityDate,
    compatibilityFlags: config.compatibilityFlags,
  };
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port,
      ...(inspectorPort ? { inspectorPort } : {}),
      ...(persist ? { resourcePersistencePath: persist } : {}),
      handleStructuredLogs: workerLogs,
      // The first Worker serves `port`; the others only what binds to them.
      workers: [worker, ...also].map((w) => ({ ...common, ...w })),
    }),
  );
  const url = await mf.ready;
  return { mf, url: url.href.replace(/\/$/, "") };
}

/**
 * The Nova stand-in of the tests (test/fakes/nova-server.mjs, a Node.js
 * process) on `port`, with its control API: servers and services are made
 * and read through /_control/..., every Nova call it answered is recorded.
 */
export async function startNova({ port }) {
  const child = spawn(process.execPath, [NOVA_SERVER, String(port)], { stdio: ["ignore", "pipe", "inherit"] });
  // However the run ends, the stand-in ends with it.
  const kill = () => child.kill("SIGTERM");
  process.on("exit", kill);
  await new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the Nova stand-in exited (${code}) before listening on ${port}`)));
    child.stdout.on("data", (chunk) => {
      if (String(chunk).includes("listening")) resolve();
    });
  });
  child.removeAllListeners("exit");
  const url = `http://127.0.0.1:${port}`;
  const control = async (method, route, body) => {
    const response = await fetch(`${url}/_control/${route}`, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`Nova stand-in ${method} ${route}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? null : response.json();
  };
  return {
    url,
    pid: child.pid,
    control,
    stop: () =>
      new Promise((resolve) => {
        process.off("exit", kill);
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        kill();
      }),
  };
}

/**
 * The built Worker (the bundle `wrangler deploy` would upload) on a fresh
 * local D1 database with the migrations applied. `config` is that of the
 * checkout the bundle was built from (workerConfig), this one's by default.
 *
 * When the bundle exports the Workflow classes its wrangler.toml declares
 * (the recovery engine; older commits have none), they are declared too,
 * so a notification create starts a Workflow instance as deployed. The
 * engine runs in a second Worker of the same bundle (`engineVars` on top of
 * `vars`), which the API's binding names as its script (wrangler.toml's
 * `script_name`): NOVA_URL, the engine's Nova, points it at a Nova stand-in
 * on `novaPort`, started here, while the API Worker keeps no NOVA_URL, since
 * there NOVA_URL would also make every host create ask Nova (D10), a cost and
 * answers (400 for the bench's made-up names) the API's figures never had.
 * `engineRuns: "parked"` binds bench/engine-parked.js in the engine's place:
 * every create starts a Workflow instance, whose run ends at once;
 * `"remote"` binds a service whose create() answers at once, as the
 * Workflows service does from the API's side (bench/workflows-service.js).
 */
export async function startWorker({
  port,
  script,
  persist,
  vars = {},
  engineVars = {},
  novaPort,
  inspectorPort,
  config = workerConfig(),
  name = "worker",
  engineRuns = "in-process",
}) {
  fs.rmSync(persist, { recursive: true, force: true });
  const exported = bundleExports(script);
  const workflows = config.workflows ?? [];
  const missing = workflows.filter((w) => !exported.includes(w.className));
  if (missing.length > 0) {
    throw new Error(
      `${script} does not export ${missing.map((w) => w.className).join(", ")}, which wrangler.toml declares`,
    );
  }
  const scriptPath = path.relative(process.cwd(), script);
  const bindings = { AUTH_STRATEGY: "noauth2", ...vars };
  const declare = (scriptName) =>
    Object.fromEntries(
      workflows.map((w) => [
        w.binding,
        {
          name: w.name,
          className: w.className,
          ...(scriptName ? { scriptName } : {}),
          ...(w.stepLimit ? { stepLimit: w.stepLimit } : {}),
        },
      ]),
    );
  let nova;
  const also = [];
  // `remote`: the binding is a service whose create() answers at once, in
  // place of the Workflow (bench/workflows-service.js).
  const remote = workflows.length > 0 && engineRuns === "remote";
  if (remote) {
    also.push({ name: "workflows-service", scriptPath: path.relative(process.cwd(), WORKFLOWS_SERVICE) });
  } else if (workflows.length > 0 && engineRuns === "parked") {
    also.push({ name: "engine", scriptPath: path.relative(process.cwd(), PARKED), workflows: declare(undefined) });
  } else if (workflows.length > 0) {
    if (novaPort === undefined)
      throw new Error("a Worker with the recovery engine needs novaPort for its Nova stand-in");
    nova = await startNova({ port: novaPort });
    also.push({
      name: "engine",
      scriptPath,
      d1Databases: { DB: "bench" },
      bindings: { ...bindings, NOVA_URL: `${nova.url}/v2.1`, ...engineVars },
      workflows: declare(undefined),
    });
  }
  let started;
  try {
    started = await miniflare({
      port,
      worker: {
        name: "api",
        scriptPath,
        d1Databases: { DB: "bench" },
        bindings,
        ...(remote
          ? {
              serviceBindings: Object.fromEntries(
                workflows.map((w) => [w.binding, { name: "workflows-service", entrypoint: "Workflows" }]),
              ),
            }
          : workflows.length > 0
            ? { workflows: declare("engine") }
            : {}),
      },
      also,
      persist,
      inspectorPort,
      config,
    });
  } catch (error) {
    await nova?.stop();
    throw error;
  }
  const { mf, url } = started;
  const db = await mf.getD1Database("DB");
  await db.batch(config.migrations.map((s) => db.prepare(s)));
  return {
    name,
    url,
    mf,
    db,
    nova,
    workflows,
    exec: async (statements) => {
      for (const s of statements) await db.prepare(s).run();
    },
    // Only with the engine: whether a notification generated at `since` or
    // later is still new, or any is running (the seeded ones are older and
    // never started). Asked through the API, not through Miniflare's D1
    // proxy: a D1 call from Node.js blocks this process until workerd
    // answers, and a workerd busy with the engine's logs may be waiting for
    // this process to read them.
    ...(nova
      ? {
          enginePending: async (since) => {
            const any = async (query) => {
              const response = await fetch(`${url}/v1/notifications?${query}&limit=1`);
              if (!response.ok) throw new Error(`GET /v1/notifications?${query}: ${response.status}`);
              return (await response.json()).notifications.length > 0;
            };
            return (await any("status=running")) || (await any(`status=new&generated-since=${since}`));
          },
        }
      : {}),
    stop: async () => {
      await mf.dispose();
      await nova?.stop();
    },
  };
}

/**
 * A ceiling Worker from bench/ (hello.js, d1-floor.js, workflow-floor.js)
 * on the same path; `workflows` as Miniflare takes them.
 */
export async function startCeiling({ port, script, persist, name, workflows }) {
  const withDb = persist !== undefined && workflows === undefined;
  if (persist !== undefined) fs.rmSync(persist, { recursive: true, force: true });
  const config = workerConfig();
  const { mf, url } = await miniflare({
    port,
    worker: {
      scriptPath: path.relative(process.cwd(), script),
      ...(withDb ? { d1Databases: { DB: "bench" } } : {}),
      ...(workflows ? { workflows } : {}),
    },
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

/** Real Masakari 14.0.2 (conformance/reference/masakari.sh) on an empty SQLite database. */
export async function startReference({ port, dir }) {
  execFileSync(REFERENCE, ["start", "--fresh", dir, String(port)], {
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
      execFileSync(REFERENCE, ["stop", dir], { stdio: "ignore" });
    },
  };
}
