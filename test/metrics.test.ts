import { env } from "cloudflare:workers";
// @ts-expect-error: the package ships no types; `parse` below says what it returns.
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config";
import { negotiate } from "../src/metrics/exposition";
import { DEFAULT_RULES, policies } from "../src/policy";
import {
  appWith,
  type CallOptions,
  type Client,
  call,
  createHost,
  createSegment,
  del,
  type Exchange,
  fakeCalls,
  fault,
  get,
  KEYSTONE_SETTINGS,
  mustAnswer,
  seedNotification,
  sql,
} from "./helpers";

// GET /metrics (docs/metrics.md): what it reports, read back with a
// parser of the exposition format (parse-prometheus-text-format) as a
// scraper would; both formats; who may read it (the policy rule
// os_masakari_api:metrics through the API's own authentication, or
// METRICS_TOKEN as a bearer token); and what its statements cost: each walks
// an index of the rows it counts, in order, on an app whose D1 binding
// records the statements (as test/query-plans.test.ts does).

interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  metrics: { labels?: Record<string, string>; value: string }[];
}

const parse = (text: string): ParsedFamily[] => parsePrometheusTextFormat(text);

/**
 * An OpenMetrics exposition as the parser reads the text format: it ends with
 * `# EOF`, and the parser, which knows the text format's naming only, sees a
 * counter's family (`x`, no samples) apart from its samples (`x_total`);
 * they are put back together, as the text format names them.
 */
function parseOpenMetrics(text: string): ParsedFamily[] {
  expect(text.endsWith("\n# EOF\n"), "OpenMetrics ends with # EOF").toBe(true);
  expect(text.indexOf("# EOF")).toBe(text.length - "# EOF\n".length);
  const families = parse(text);
  const out: ParsedFamily[] = [];
  for (let i = 0; i < families.length; i++) {
    const family = families[i] as ParsedFamily;
    const samples = families[i + 1];
    if (family.type === "COUNTER" && family.metrics.length === 0 && samples?.name === `${family.name}_total`) {
      expect(samples.type).toBe("UNTYPED");
      out.push({ ...family, name: samples.name, metrics: samples.metrics });
      i++;
    } else {
      out.push(family);
    }
  }
  return out;
}

/** A family's samples as `{"<labels as JSON>": value}`. */
function series(families: ParsedFamily[], name: string): Record<string, number> {
  const family = families.find((f) => f.name === name);
  if (!family) throw new Error(`no family ${name} in ${families.map((f) => f.name)}`);
  return Object.fromEntries(family.metrics.map((m) => [JSON.stringify(m.labels ?? {}), Number(m.value)]));
}

const key = (labels: Record<string, string> = {}) => JSON.stringify(labels);

const OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const TEXT = "text/plain; version=0.0.4; charset=utf-8";
/** What Prometheus 2 and 3 send by default. */
const PROMETHEUS_2_ACCEPT =
  "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
const PROMETHEUS_3_ACCEPT =
  "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";

/** A scrape in the text format 0.0.4, parsed. */
async function scrape(client: Client = (m, p, o) => call(m, p, o)) {
  const res = await client("GET", "/metrics", { headers: { Accept: "text/plain;version=0.0.4" } });
  expect(res.status, res.text).toBe(200);
  return parse(res.text);
}

const at = (stored: string) => Date.parse(`${stored.replace(" ", "T")}Z`) / 1000;

// The world the first tests read: every metric with values of its own, and
// rows of each kind that must not count (deleted, another type, another state).
const world = {
  segments: {} as Record<"a" | "b" | "c", { uuid: string; name: string }>,
  hosts: {} as Record<"a1" | "a2" | "a3" | "a4" | "b1", string>,
  notifications: {} as Record<"held" | "oldNew" | "running" | "error" | "finished" | "ignored", string>,
};

async function seedNotificationAt(host: string, status: string, createdAt: string, type = "COMPUTE_HOST") {
  const uuid = await seedNotification(host, status, { type });
  await sql("UPDATE notifications SET created_at = ? WHERE notification_uuid = ?", createdAt, uuid);
  return uuid;
}

async function vmove(notification: string, type: string, status: string, deleted = false) {
  await sql(
    `INSERT INTO vmoves (created_at, deleted, uuid, notification_uuid, instance_uuid, instance_name, type, status)
     VALUES ('2026-01-01 10:00:00.000000', ?, ?, ?, ?, 'vm', ?, ?)`,
    // Soft-deleted: `deleted` is no longer 0.
    deleted ? 999_999 : 0,
    crypto.randomUUID(),
    notification,
    crypto.randomUUID(),
    type,
    status,
  );
}

beforeAll(async () => {
  // A name that needs escaping in a label value.
  const a = await createSegment({ name: 'rack "a" \\ 1', recovery_method: "auto" });
  const b = await createSegment({ name: "rack-b", recovery_method: "reserved_host", enabled: false });
  const c = await createSegment({ name: "rack-c", recovery_method: "rh_priority" });
  const gone = await createSegment({ name: "rack-gone", recovery_method: "auto" });
  mustAnswer(await del(`/v1/segments/${gone.uuid}`), 204, "segment delete");
  world.segments = { a, b, c };

  const host = async (segment: string, fields: Record<string, unknown> = {}) =>
    (await createHost(segment, fields)).uuid as string;
  world.hosts = {
    a1: await host(a.uuid),
    a2: await host(a.uuid, { reserved: true }),
    a3: await host(a.uuid, { reserved: true, on_maintenance: true }),
    a4: await host(a.uuid, { on_maintenance: true }),
    b1: await host(b.uuid),
  };
  const goneHost = await host(a.uuid, { reserved: true });
  mustAnswer(await del(`/v1/segments/${a.uuid}/hosts/${goneHost}`), 204, "host delete");

  const { a1, a2, a3, a4, b1 } = world.hosts;
  world.notifications = {
    held: await seedNotificationAt(a1, "new", "2026-01-01 10:00:00.000000"),
    oldNew: await seedNotificationAt(a1, "new", "2026-01-01 09:00:00.000000"),
    running: await seedNotificationAt(a2, "running", "2026-01-02 08:00:00.000000", "VM"),
    error: await seedNotificationAt(a3, "error", "2026-01-03 07:30:00.000000", "PROCESS"),
    finished: await seedNotificationAt(a4, "finished", "2026-01-03 08:00:00.000000"),
    ignored: await seedNotificationAt(a4, "ignored", "2026-01-03 09:00:00.000000"),
  };
  const deleted = await seedNotificationAt(b1, "new", "2000-01-01 00:00:00.000000", "VM");
  await sql("UPDATE notifications SET deleted = id WHERE notification_uuid = ?", deleted);

  // The storm guard: held and still new (counts), held but since ignored, admitted.
  const storm = async (notification: string, host: string, state: string) =>
    sql(
      `INSERT INTO recovery_storm (notification_uuid, segment_uuid, host_uuid, state, at, down, hosts)
       VALUES (?, ?, ?, ?, '2026-01-01 10:00:00.000000', 2, 4)`,
      notification,
      a.uuid,
      host,
      state,
    );
  await storm(world.notifications.held, a1, "held");
  await storm(world.notifications.ignored, a4, "held");
  await storm(world.notifications.finished, a4, "admitted");

  const { finished } = world.notifications;
  for (const status of ["succeeded", "succeeded", "failed", "ignored", "pending", "ongoing"]) {
    await vmove(finished, "evacuation", status);
  }
  await vmove(finished, "migration", "succeeded");
  await vmove(finished, "evacuation", "succeeded", true);

  // Nova errors: 2 in a run, none in another, 3 in a phase.
  await sql(
    `INSERT INTO recovery_runs (notification_uuid, run, mode, created_at, nova_errors)
     VALUES (?, 1, 'rpc', '2026-01-01 10:00:00.000000', 2), (?, 1, 'rpc', '2026-01-01 10:00:00.000000', 0)`,
    finished,
    world.notifications.error,
  );
  await sql(
    `INSERT INTO recovery_phases (notification_uuid, run, scope, kind, params, created_at, nova_errors)
     VALUES (?, 1, 'a1', 'evacuate', '{}', '2026-01-01 10:00:00.000000', 3)`,
    finished,
  );
});

/** What the world above must read as, family by family. */
function expected() {
  const { a, b } = world.segments;
  const notifications: Record<string, number> = {};
  for (const type of ["COMPUTE_HOST", "PROCESS", "VM"]) {
    for (const status of ["new", "running", "error", "failed", "ignored", "finished"]) {
      notifications[key({ type, status })] = 0;
    }
  }
  Object.assign(notifications, {
    [key({ type: "COMPUTE_HOST", status: "new" })]: 2,
    [key({ type: "COMPUTE_HOST", status: "finished" })]: 1,
    [key({ type: "COMPUTE_HOST", status: "ignored" })]: 1,
    [key({ type: "VM", status: "running" })]: 1,
    [key({ type: "PROCESS", status: "error" })]: 1,
  });
  const hosts = (segment: { uuid: string; name: string }, counts: [number, number, number, number]) => {
    const out: Record<string, number> = {};
    let i = 0;
    for (const on_maintenance of ["false", "true"]) {
      for (const reserved of ["false", "true"]) {
        out[key({ segment: segment.uuid, segment_name: segment.name, on_maintenance, reserved })] = counts[i++] ?? 0;
      }
    }
    return out;
  };
  return {
    masakari_notifications: notifications,
    masakari_notifications_held: { [key()]: 1 },
    masakari_notifications_oldest_timestamp_seconds: {
      [key({ status: "new" })]: at("2026-01-01 09:00:00"),
      [key({ status: "running" })]: at("2026-01-02 08:00:00"),
      [key({ status: "error" })]: at("2026-01-03 07:30:00"),
    },
    masakari_evacuations_total: {
      [key({ outcome: "succeeded" })]: 2,
      [key({ outcome: "failed" })]: 1,
      [key({ outcome: "ignored" })]: 1,
    },
    masakari_evacuations_in_progress: { [key({ status: "pending" })]: 1, [key({ status: "ongoing" })]: 1 },
    masakari_nova_errors_total: { [key()]: 5 },
    masakari_segments: {
      [key({ recovery_method: "auto" })]: 1,
      [key({ recovery_method: "reserved_host" })]: 1,
      [key({ recovery_method: "auto_priority" })]: 0,
      [key({ recovery_method: "rh_priority" })]: 1,
    },
    masakari_segments_disabled: { [key()]: 1 },
    // rack "a" has one host of each kind; rack-b one plain host; rack-c none.
    masakari_hosts: { ...hosts(a, [1, 1, 1, 1]), ...hosts(b, [1, 0, 0, 0]) },
  };
}

const TYPES = {
  masakari_notifications: "GAUGE",
  masakari_notifications_held: "GAUGE",
  masakari_notifications_oldest_timestamp_seconds: "GAUGE",
  masakari_evacuations_total: "COUNTER",
  masakari_evacuations_in_progress: "GAUGE",
  masakari_nova_errors_total: "COUNTER",
  masakari_segments: "GAUGE",
  masakari_segments_disabled: "GAUGE",
  masakari_hosts: "GAUGE",
};

/** Every family, its type, a HELP, and exactly the values of `expected()`. */
function expectWorld(families: ParsedFamily[]) {
  expect(families.map((f) => [f.name, f.type])).toEqual(Object.entries(TYPES));
  for (const family of families) expect(family.help, family.name).toMatch(/^[A-Z].{20,}\.$/);
  const want = expected();
  const got = Object.fromEntries(Object.keys(want).map((name) => [name, series(families, name)]));
  expect(got).toEqual(want);
}

describe("what /metrics reports", () => {
  it("every metric, read with a parser of the text format: live rows only, evacuations that ended, held notifications still new", async () => {
    expectWorld(await scrape());
  });

  it("known label values are written at 0 (a missing series is not 0 to PromQL); a segment without hosts has no host series", async () => {
    const families = await scrape();
    const notifications = series(families, "masakari_notifications");
    expect(Object.keys(notifications)).toHaveLength(18);
    expect(notifications[key({ type: "VM", status: "failed" })]).toBe(0);
    expect(series(families, "masakari_segments")[key({ recovery_method: "auto_priority" })]).toBe(0);
    const segments = Object.keys(series(families, "masakari_hosts")).map((k) => JSON.parse(k).segment);
    expect(new Set(segments)).toEqual(new Set([world.segments.a.uuid, world.segments.b.uuid]));
  });

  it("an evacuation counts once it ends, and a counter only grows as the engine writes", async () => {
    const before = series(await scrape(), "masakari_evacuations_total");
    const [move] = await sql<{ uuid: string }>(
      "SELECT uuid FROM vmoves WHERE status = 'ongoing' AND type = 'evacuation' AND deleted = 0",
    );
    await sql("UPDATE vmoves SET status = 'succeeded' WHERE uuid = ?", move?.uuid);
    await sql(
      "UPDATE recovery_runs SET nova_errors = nova_errors + 4 WHERE notification_uuid = ?",
      world.notifications.error,
    );
    const after = await scrape();
    expect(series(after, "masakari_evacuations_total")).toEqual({
      ...before,
      [key({ outcome: "succeeded" })]: (before[key({ outcome: "succeeded" })] ?? 0) + 1,
    });
    expect(series(after, "masakari_evacuations_in_progress")).toEqual({
      [key({ status: "pending" })]: 1,
      [key({ status: "ongoing" })]: 0,
    });
    expect(series(after, "masakari_nova_errors_total")).toEqual({ [key()]: 9 });
    // Back as it was, for the tests after this one.
    await sql("UPDATE vmoves SET status = 'ongoing' WHERE uuid = ?", move?.uuid);
    await sql("UPDATE recovery_runs SET nova_errors = 0 WHERE notification_uuid = ?", world.notifications.error);
  });
});

describe("the two formats", () => {
  it("OpenMetrics 1.0.0 by default and for Prometheus' own Accept headers; the text format 0.0.4 when asked; the same values", async () => {
    const answers = async (accept?: string) => {
      const res = await get("/metrics", accept === undefined ? {} : { headers: { Accept: accept } });
      return { res, type: res.headers.get("content-type") };
    };
    const text = await answers("text/plain;version=0.0.4");
    expect(text.type).toBe(TEXT);
    expect(text.res.text).not.toContain("# EOF");
    for (const accept of [undefined, "*/*", PROMETHEUS_2_ACCEPT, PROMETHEUS_3_ACCEPT, "application/openmetrics-text"]) {
      const om = await answers(accept);
      expect({ accept, type: om.type, vary: om.res.headers.get("vary") }).toEqual({
        accept,
        type: OPENMETRICS,
        vary: "Accept",
      });
      expect(parseOpenMetrics(om.res.text)).toEqual(parse(text.res.text));
    }
    expectWorld(parseOpenMetrics((await answers()).res.text));
  });

  it("a counter's family is named without _total in OpenMetrics and with it in the text format", async () => {
    const om = (await get("/metrics")).text;
    expect(om).toContain("# TYPE masakari_evacuations counter\n");
    expect(om).toMatch(/\nmasakari_evacuations_total\{outcome="succeeded"\} \d+\n/);
    const text = (await get("/metrics", { headers: { Accept: "text/plain" } })).text;
    expect(text).toContain("# TYPE masakari_evacuations_total counter\n");
    expect(text).not.toContain("# TYPE masakari_evacuations counter");
  });

  it('label values are escaped: a segment named rack "a" \\ 1', async () => {
    const om = (await get("/metrics")).text;
    expect(om).toContain('segment_name="rack \\"a\\" \\\\ 1"');
  });

  it.each([
    [undefined, "openmetrics"],
    ["", "openmetrics"],
    ["*/*", "openmetrics"],
    ["application/json", "openmetrics"],
    [PROMETHEUS_2_ACCEPT, "openmetrics"],
    [PROMETHEUS_3_ACCEPT, "openmetrics"],
    ["text/plain", "text"],
    ["text/plain;version=0.0.4;q=0.9, application/openmetrics-text;version=1.0.0;q=0.5", "text"],
    ["text/*;q=0.5, */*;q=0.1", "text"],
    ["text/plain;q=0.5, application/openmetrics-text;q=0.5", "openmetrics"],
  ])("Accept %j → %s", (accept, format) => {
    expect(negotiate(accept)).toBe(format);
  });
});

describe("who may read it", () => {
  const TOKEN = "metrics-secret-0123456789";
  const keystone = appWith({ ...KEYSTONE_SETTINGS, METRICS_TOKEN: TOKEN });
  const as = (token: string, options: CallOptions = {}): CallOptions => ({
    ...options,
    headers: { ...options.headers, "X-Auth-Token": token },
  });
  const bearer = (token: string): CallOptions => ({ headers: { Authorization: `Bearer ${token}` } });
  const user = (persona: string) => `${persona}-${crypto.randomUUID()}`;
  const denied = fault("forbidden", 403, "Policy doesn't allow os_masakari_api:metrics to be performed.");

  /** A fault as the API writes it outside /v1's microversions: no version headers. */
  const faultOf = (res: Exchange) => ({
    status: res.status,
    body: res.json,
    type: res.headers.get("content-type"),
    version: res.headers.get("openstack-api-version"),
    requestId: /^req-[0-9a-f-]{36}$/.test(res.headers.get("x-openstack-request-id") ?? ""),
  });

  it("the rule os_masakari_api:metrics is admin only by default", () => {
    expect(policies.metrics.read).toBe("os_masakari_api:metrics");
    expect(DEFAULT_RULES["os_masakari_api:metrics"]).toBe("rule:admin_api");
  });

  it("a member's Keystone token is refused with the policy's 403", async () => {
    expect(faultOf(await keystone("GET", "/metrics", as(user("member"))))).toEqual({
      status: 403,
      body: denied,
      type: "application/json; charset=UTF-8",
      version: null,
      requestId: true,
    });
  });

  it("an admin's Keystone token reads the metrics", async () => {
    const res = await keystone("GET", "/metrics", as(user("admin")));
    expect([res.status, res.headers.get("content-type")]).toEqual([200, OPENMETRICS]);
    expectWorld(parseOpenMetrics(res.text));
  });

  it("METRICS_TOKEN as a bearer token reads them with no Keystone token, and Keystone is not asked", async () => {
    expectWorld(await scrape((m, p, o) => keystone(m, p, { headers: { ...bearer(TOKEN).headers, ...o?.headers } })));
    const lower = await keystone("GET", "/metrics", { headers: { Authorization: `bearer ${TOKEN}` } });
    expect(lower.status).toBe(200);
    // With a member's token too: the bearer token is enough, the member's is never validated.
    const member = user("member");
    const both = await keystone("GET", "/metrics", as(member, bearer(TOKEN)));
    expect(both.status).toBe(200);
    expect(await fakeCalls(`keystone:${member}`)).toBe(0);
  });

  it.each([
    ["a wrong token", `Bearer ${TOKEN}x`],
    ["a prefix of it", `Bearer ${TOKEN.slice(0, -1)}`],
    ["another scheme", `Basic ${TOKEN}`],
    ["the token alone", TOKEN],
    ["an empty bearer", "Bearer "],
  ])("%s is no credential: Keystone's 401", async (_what, authorization) => {
    const res = await keystone("GET", "/metrics", { headers: { Authorization: authorization } });
    expect({ status: res.status, body: res.json, www: res.headers.get("www-authenticate") }).toEqual({
      status: 401,
      body: {
        error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." },
      },
      www: 'Keystone uri="http://keystone.test"',
    });
  });

  it("a wrong token with an admin's Keystone token goes the API's way, and passes", async () => {
    const res = await keystone("GET", "/metrics", as(user("admin"), bearer("wrong")));
    expect(res.status).toBe(200);
  });

  it("without METRICS_TOKEN a bearer token is nothing", async () => {
    const plain = appWith(KEYSTONE_SETTINGS);
    expect((await plain("GET", "/metrics", bearer(TOKEN))).status).toBe(401);
    expect((await plain("GET", "/metrics", bearer(""))).status).toBe(401);
  });

  it("POLICY overrides the rule: a monitoring role in, the admin out; the bearer token still in", async () => {
    const custom = appWith({
      ...KEYSTONE_SETTINGS,
      METRICS_TOKEN: TOKEN,
      POLICY: JSON.stringify({ "os_masakari_api:metrics": "role:monitoring" }),
    });
    expect((await custom("GET", "/metrics", as(user("role-monitoring")))).status).toBe(200);
    const admin = await custom("GET", "/metrics", as(user("admin")));
    expect([admin.status, admin.json]).toEqual([403, denied]);
    expect((await custom("GET", "/metrics", bearer(TOKEN))).status).toBe(200);
  });

  it("noauth2: every caller is admin, as on /v1; POLICY can close it", async () => {
    expect((await get("/metrics")).status).toBe(200);
    const closed = appWith({ POLICY: JSON.stringify({ "os_masakari_api:metrics": "!" }), METRICS_TOKEN: TOKEN });
    const res = await closed("GET", "/metrics");
    expect([res.status, res.json]).toEqual([403, denied]);
    expect((await closed("GET", "/metrics", bearer(TOKEN))).status).toBe(200);
  });

  it("is not under /v1's microversion rules: any OpenStack-API-Version and Content-Type, no version headers; GET and HEAD only; no /v1/metrics", async () => {
    for (const version of ["1.0", "9.9", "latest", "nonsense"]) {
      const res = await get("/metrics", { version, headers: { "Content-Type": "text/xml" } });
      expect({
        version,
        status: res.status,
        header: res.headers.get("openstack-api-version"),
        vary: res.headers.get("vary"),
      }).toEqual({ version, status: 200, header: null, vary: "Accept" });
    }
    const head = await call("HEAD", "/metrics");
    expect([head.status, head.text, head.headers.get("content-type")]).toEqual([200, "", OPENMETRICS]);
    // Any other method is the versions app's, as for any path outside /v1.
    expect((await call("POST", "/metrics")).status).toBe(300);
    const v1 = await get("/v1/metrics");
    expect([v1.status, v1.json]).toEqual([404, fault("itemNotFound", 404, "The resource could not be found.")]);
  });
});

describe("what a scrape costs", () => {
  interface Recorded {
    readonly sql: string;
  }
  const log: Recorded[] = [];
  /** env.DB, recording what it, and its sessions, are asked to prepare. */
  const recording = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, property) {
        const value = Reflect.get(object, property, object);
        if (property === "prepare") {
          return (query: string) => {
            log.push({ sql: query });
            return (value as D1Database["prepare"]).call(object, query);
          };
        }
        if (property === "withSession") {
          return (...args: unknown[]) => recording((value as (...a: unknown[]) => object).apply(object, args));
        }
        return typeof value === "function" ? value.bind(object) : value;
      },
    });
  const recordedEnv = { ...env, DB: recording(env.DB) };
  const app = createApp(loadConfig(recordedEnv));
  const client: Client = (method, path, options) =>
    call(method, path, options, (request) => app.fetch(request, recordedEnv));

  /** One scrape: what it reported and the statements it ran. */
  async function recorded() {
    const start = log.length;
    const families = await scrape(client);
    return { families, statements: log.slice(start) };
  }

  const NOISE = 1_000;

  it("rows that do not count are not read: deleted ones, migrations, runs without Nova errors, admissions", async () => {
    const before = await recorded();
    const { a } = world.segments;
    const series = (table: string) =>
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${NOISE}) INSERT INTO ${table}`;
    await sql(
      `${series("failover_segments")} (created_at, deleted, uuid, name, service_type, recovery_method, enabled)
       SELECT '2026-01-01 00:00:00.000000', 1000000 + i, 'seg-noise-' || i, 'noise-' || i, 'COMPUTE', 'auto', 0 FROM n`,
    );
    await sql(
      `${series("hosts")} (created_at, deleted, uuid, name, reserved, type, control_attributes, failover_segment_id, on_maintenance)
       SELECT '2026-01-01 00:00:00.000000', 1000000 + i, 'host-noise-' || i, 'noise-' || i, 1, 'COMPUTE', 'SSH', ?, 1 FROM n`,
      a.uuid,
    );
    await sql(
      `${series("notifications")} (created_at, deleted, notification_uuid, generated_time, source_host_uuid, type, payload, status)
       SELECT '2000-01-01 00:00:00.000000', 1000000 + i, 'notification-noise-' || i, '2000-01-01 00:00:00.000000', ?, 'COMPUTE_HOST', '{}', 'new' FROM n`,
      world.hosts.a1,
    );
    await sql(
      `${series("vmoves")} (created_at, deleted, uuid, notification_uuid, instance_uuid, instance_name, type, status)
       SELECT '2026-01-01 00:00:00.000000', CASE WHEN i % 2 = 0 THEN 1000000 + i ELSE 0 END, 'vmove-noise-' || i, ?, 'instance-' || i, 'vm',
              CASE WHEN i % 2 = 0 THEN 'evacuation' ELSE 'migration' END, 'succeeded' FROM n`,
      world.notifications.finished,
    );
    await sql(
      `${series("recovery_runs")} (notification_uuid, run, mode, created_at, nova_errors)
       SELECT 'run-noise-' || i, 1, 'rpc', '2026-01-01 00:00:00.000000', 0 FROM n`,
    );
    await sql(
      `${series("recovery_storm")} (notification_uuid, segment_uuid, host_uuid, state, at, down, hosts)
       SELECT 'storm-noise-' || i, ?, ?, CASE WHEN i % 2 = 0 THEN 'admitted' ELSE 'released' END, '2026-01-01 00:00:00.000000', 0, 4 FROM n`,
      a.uuid,
      world.hosts.a1,
    );

    const after = await recorded();
    expect(after.families).toEqual(before.families);
    expectWorld(after.families);
    // One batch of statements, each run again alone for D1's rows_read.
    expect(after.statements.length).toBe(5);
    let read = 0;
    for (const { sql: query } of after.statements) {
      read += (await env.DB.prepare(query).all()).meta.rows_read;
    }
    // The rows that count, each read once, and a few more for the lookups
    // (a segment's name per group of hosts, a held notification's status):
    // at most twice as many, far below the 6,000 rows of noise.
    const counted = await sql<{ n: number }>(
      `SELECT (SELECT count(*) FROM notifications WHERE deleted = 0)
            + (SELECT count(*) FROM failover_segments WHERE deleted = 0)
            + (SELECT count(*) FROM hosts WHERE deleted = 0)
            + (SELECT count(*) FROM vmoves WHERE deleted = 0 AND type = 'evacuation')
            + (SELECT count(*) FROM recovery_runs WHERE nova_errors > 0)
            + (SELECT count(*) FROM recovery_phases WHERE nova_errors > 0)
            + (SELECT count(*) FROM recovery_storm WHERE state = 'held') AS n`,
    );
    const rows = counted[0]?.n ?? 0;
    expect(read).toBeGreaterThanOrEqual(rows);
    expect(read, `rows read ${read} for ${rows} counted`).toBeLessThanOrEqual(2 * rows + 20);
  });

  it("every statement walks an index: no table scan, no sort; table rows only by a unique key", async () => {
    const { statements } = await recorded();
    const problems: string[] = [];
    for (const { sql: query } of statements) {
      const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${query}`).all<{ detail: string }>();
      for (const { detail } of plan.results) {
        const where = `${query.replaceAll(/\s+/g, " ").slice(0, 80)}…: ${detail}`;
        if (detail.includes("TEMP B-TREE")) problems.push(`sorts: ${where}`);
        if (/^SCAN /.test(detail) && detail !== "SCAN CONSTANT ROW" && !detail.includes("USING COVERING INDEX")) {
          problems.push(`scans a table: ${where}`);
        }
        // A table row is read only to look one up by its unique key.
        const search = /^SEARCH \S+ USING (COVERING )?INDEX (\S+)/.exec(detail);
        if (/^SEARCH /.test(detail) && !search) problems.push(`not through an index: ${where}`);
        if (search && !search[1] && !["uniq_segments0uuid", "uniq_notification0uuid"].includes(search[2] ?? "")) {
          problems.push(`reads table rows: ${where}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
