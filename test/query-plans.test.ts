import { env } from "cloudflare:workers";
import { getTableColumns } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config";
import { failoverSegments, hosts, notifications, vmoves } from "../src/db/schema";
import { type CallOptions, call, type Exchange, holdRecoveries, NOVA_URL, sql } from "./helpers";

holdRecoveries();

// The query plans of the request paths (src/db/schema.ts explains the
// indexes, src/db/paging.ts the keyset pages). The app runs on a D1 binding
// that records every statement and its bound values; each statement is then
// run through EXPLAIN QUERY PLAN with those values, on the same database,
// without ANALYZE statistics (production has none; D1 allows ANALYZE, but
// the plans must not depend on it). The database holds enough rows that a
// scan would show: 20,000 segments, 2,000 hosts in one segment, 20,000
// notifications, 2,000 VM moves of one notification, with ties, NULLs and
// soft-deleted rows.
//
// Every list runs in its default order, with each of its filters, and with
// each column as its only sort key in both directions, each from the start
// and after two markers deep in the table; then with a filter and a sort
// key, and with two sort keys. Show, create (duplicate detection included),
// update, delete and the in-use checks run once each. The plans must show:
// - no statement reading a whole table: a table is SEARCHed through an
//   index or its rowid. Only a list's first page may SCAN, and only an index
//   in the list's order (it stops after `limit` rows), or the table itself
//   when the list is sorted by id (the rowid order); a page after a marker
//   seeks to it;
// - no sort (TEMP B-TREE) for a list in its default order, with any one
//   filter, or by any one sort key, with or without a marker. A filter with
//   a sort key, or several sort keys, may sort what their index selects;
// - no count(...) over a table (json_each over a payload is a value).
// And D1's rows_read for each of those pages: about `limit` rows, however
// deep the marker, not the rows before it.

interface Recorded {
  readonly sql: string;
  readonly params: unknown[];
}

/** A D1 database, or session, that records what it is asked to run. */
function recording<T extends object>(target: T, log: Recorded[]): T {
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object);
      if (property === "prepare") {
        return (query: string) => recordingStatement((value as D1Database["prepare"]).call(object, query), query, log);
      }
      if (property === "withSession") {
        return (...args: unknown[]) =>
          recording((value as (...a: unknown[]) => object).apply(object, args) as D1DatabaseSession, log);
      }
      return typeof value === "function" ? value.bind(object) : value;
    },
  });
}

function recordingStatement(statement: D1PreparedStatement, query: string, log: Recorded[]): D1PreparedStatement {
  return new Proxy(statement, {
    get(object, property) {
      const value = Reflect.get(object, property, object);
      if (property === "bind") {
        return (...params: unknown[]) => {
          log.push({ sql: query, params });
          return (value as D1PreparedStatement["bind"]).apply(object, params);
        };
      }
      if (["first", "all", "run", "raw"].includes(String(property))) {
        return (...args: unknown[]) => {
          log.push({ sql: query, params: [] });
          return (value as (...a: unknown[]) => unknown).apply(object, args);
        };
      }
      return typeof value === "function" ? value.bind(object) : value;
    },
  });
}

const log: Recorded[] = [];
const recordedEnv = { ...env, DB: recording(env.DB, log) };
const app = createApp(loadConfig(recordedEnv));

/** One request through the app on the recording database, and what it ran. */
async function recorded(method: string, path: string, options: CallOptions = {}) {
  const start = log.length;
  const res: Exchange = await call(method, path, options, (request) => app.fetch(request, recordedEnv));
  return { res, statements: log.slice(start) };
}

interface PlanRow {
  id: number;
  parent: number;
  detail: string;
}

async function explain(statement: Recorded): Promise<PlanRow[]> {
  const result = await env.DB.prepare(`EXPLAIN QUERY PLAN ${statement.sql}`)
    .bind(...statement.params)
    .all<PlanRow>();
  return result.results;
}

/** The plan as SQLite's shell prints it. */
function render(rows: PlanRow[]): string {
  const depth = new Map<number, number>([[0, 0]]);
  return rows
    .map((r) => {
      const d = (depth.get(r.parent) ?? 0) + 1;
      depth.set(r.id, d);
      return `${"  ".repeat(d)}${r.detail}`;
    })
    .join("\n");
}

const UUID = `lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`;

const SEGMENTS = 20_000;
const HOSTS = 2_000;
const NOTIFICATIONS = 20_000;
const VMOVES = 2_000;
let bigSegment = "";
let hostUuid = "";
let hostName = "";
let computeNotification = "";

beforeAll(async () => {
  // Many rows, ties on created_at, NULLs in every nullable column, and a few
  // deleted rows, inserted by one statement per table.
  await sql(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${SEGMENTS})
     INSERT INTO failover_segments (created_at, updated_at, deleted_at, deleted, uuid, name, service_type, description, recovery_method, enabled)
     SELECT printf('2026-03-01 %02d:%02d:00.000000', i / 1000 % 24, i / 20 % 60),
            CASE WHEN i % 3 = 0 THEN NULL ELSE printf('2026-03-02 00:00:%02d.000000', i % 60) END,
            CASE WHEN i % 97 = 0 THEN '2026-03-03 00:00:00.000000' END,
            CASE WHEN i % 97 = 0 THEN i ELSE 0 END,
            ${UUID}, printf('plans-%05d', i), CASE i % 3 WHEN 0 THEN 'COMPUTE' WHEN 1 THEN 'EDGE' ELSE 'OTHER' END,
            CASE WHEN i % 2 = 0 THEN NULL ELSE printf('rack %d', i % 50) END,
            CASE i % 4 WHEN 0 THEN 'auto' WHEN 1 THEN 'reserved_host' WHEN 2 THEN 'auto_priority' ELSE 'rh_priority' END,
            CASE WHEN i % 10 = 0 THEN NULL ELSE i % 2 END
     FROM n`,
  );
  const [segment] = await sql<{ uuid: string }>("SELECT uuid FROM failover_segments WHERE name = 'plans-00001'");
  bigSegment = segment?.uuid ?? "";
  await sql(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${HOSTS})
     INSERT INTO hosts (created_at, updated_at, deleted, uuid, name, reserved, type, control_attributes, failover_segment_id, on_maintenance)
     SELECT printf('2026-03-01 00:%02d:00.000000', i / 50 % 60),
            CASE WHEN i % 3 = 0 THEN NULL ELSE '2026-03-02 00:00:00.000000' END,
            CASE WHEN i % 89 = 0 THEN i ELSE 0 END,
            ${UUID}, printf('plans-compute-%04d', i), i % 5 = 0, CASE WHEN i % 2 = 0 THEN 'COMPUTE' ELSE 'SSH' END,
            printf('attrs %d', i % 7), ?, i % 11 = 0
     FROM n`,
    bigSegment,
  );
  const [host] = await sql<{ uuid: string; name: string }>(
    "SELECT uuid, name FROM hosts WHERE deleted = 0 AND on_maintenance = 0 ORDER BY id LIMIT 1",
  );
  hostUuid = host?.uuid ?? "";
  hostName = host?.name ?? "";
  await sql(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${NOTIFICATIONS})
     INSERT INTO notifications (created_at, deleted, notification_uuid, generated_time, source_host_uuid, type, payload, status, failover_segment_uuid, message)
     SELECT printf('2026-03-01 %02d:%02d:%02d.000000', i / 3600 % 24, i / 60 % 60, i % 60),
            0, ${UUID}, printf('2026-03-01 %02d:%02d:%02d.000000', i / 3600 % 24, i / 60 % 60, i % 60),
            (SELECT uuid FROM hosts WHERE id = (SELECT min(id) FROM hosts) + i % 50),
            CASE i % 3 WHEN 0 THEN 'COMPUTE_HOST' WHEN 1 THEN 'VM' ELSE 'PROCESS' END,
            '{"event": "STOPPED"}',
            CASE WHEN i % 10 = 0 THEN 'finished' ELSE 'new' END,
            ?, CASE WHEN i % 7 = 0 THEN 'done' END
     FROM n`,
    bigSegment,
  );
  const [notification] = await sql<{ notification_uuid: string }>(
    "SELECT notification_uuid FROM notifications WHERE type = 'COMPUTE_HOST' ORDER BY id LIMIT 1",
  );
  computeNotification = notification?.notification_uuid ?? "";
  await sql(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${VMOVES})
     INSERT INTO vmoves (created_at, deleted, uuid, notification_uuid, instance_uuid, instance_name, source_host, dest_host, start_time, end_time, type, status, message)
     SELECT printf('2026-03-01 00:%02d:00.000000', i / 100 % 60), 0, ${UUID}, ?, ${UUID}, printf('vm-%04d', i),
            'src', CASE WHEN i % 3 = 0 THEN NULL ELSE 'dest' END, '2026-03-01 00:00:00.000000',
            CASE WHEN i % 2 = 0 THEN NULL ELSE '2026-03-01 01:00:00.000000' END,
            CASE WHEN i % 2 = 0 THEN 'evacuation' ELSE 'migration' END,
            CASE WHEN i % 4 = 0 THEN 'failed' ELSE 'succeeded' END, NULL
     FROM n`,
    computeNotification,
  );
}, 60_000);

/** How a list request may be planned. */
interface ListRequest {
  /** The default order with at most one filter, or one sort key alone: no sort. */
  readonly served: boolean;
  /** Sorted by id first: the table itself is in that order. */
  readonly byId: boolean;
  /** generated-since (see the rows_read test). */
  readonly range: boolean;
  /** A page after a marker: every arm seeks, nothing may SCAN. */
  readonly marker?: boolean;
}

interface Checked {
  readonly request: string;
  readonly list?: ListRequest;
  readonly statement: Recorded;
  readonly plan: PlanRow[];
}

const TABLES = new Set(["failover_segments", "hosts", "notifications", "vmoves"]);
const checked: Checked[] = [];

/** Runs a request, expects its status, explains every statement it ran. */
async function drive(method: string, path: string, status: number, options: CallOptions = {}, list?: ListRequest) {
  const { res, statements } = await recorded(method, path, options);
  expect(res.status, `${method} ${path}: ${res.text.slice(0, 300)}`).toBe(status);
  for (const statement of statements) {
    checked.push({ request: `${method} ${path}`, list, statement, plan: await explain(statement) });
  }
  return res;
}

/** What is wrong with a statement's plan, if anything. */
function problems({ list, statement, plan }: Checked): string[] {
  const found: string[] = [];
  // A list page: the statement that reads the list's rows (LIMIT).
  const page = list !== undefined && /\blimit\b/i.test(statement.sql) ? list : undefined;
  for (const { detail } of plan) {
    const scan = /^SCAN (\S+)(?: (.*))?$/.exec(detail);
    if (scan && TABLES.has(scan[1] ?? "")) {
      if (!page) found.push(`reads a whole table or index: ${detail}`);
      else if (page.marker && page.served) found.push(`reads from the start, not from the marker: ${detail}`);
      else if (scan[2] === undefined && !page.byId) found.push(`reads the whole table: ${detail}`);
    }
    if (detail.includes("TEMP B-TREE") && (!page || page.served)) found.push(`sorts: ${detail}`);
  }
  // count() only over a JSON value (duplicate detection's payload check).
  const counts = statement.sql.replaceAll(/\(SELECT count\(\*\) FROM json_each\(/gi, "");
  if (/count\s*\(/i.test(counts)) found.push("counts rows");
  return found;
}

function report(items: Checked[]): string {
  return items
    .map(
      (c) =>
        `${c.request}\n  ${c.statement.sql.replaceAll(/\s+/g, " ")}\n  params ${JSON.stringify(c.statement.params)}\n${render(c.plan)}\n  -> ${problems(c).join("; ")}`,
    )
    .join("\n\n");
}

interface ListCase {
  /** The table, for markers. */
  readonly table: string;
  readonly path: string;
  readonly columns: string[];
  readonly filters: Record<string, string>;
}

const lists = (): ListCase[] => [
  {
    table: "failover_segments",
    path: "/v1/segments",
    columns: Object.keys(getTableColumns(failoverSegments)),
    filters: { recovery_method: "auto", service_type: "COMPUTE", enabled: "true" },
  },
  {
    table: "hosts",
    path: `/v1/segments/${bigSegment}/hosts`,
    columns: Object.keys(getTableColumns(hosts)),
    filters: { type: "COMPUTE", on_maintenance: "false", reserved: "true" },
  },
  {
    table: "notifications",
    path: "/v1/notifications",
    columns: Object.keys(getTableColumns(notifications)),
    filters: {
      source_host_uuid: hostUuid,
      type: "VM",
      status: "new",
      // The newest tenth of the notifications.
      "generated-since": "2026-03-01T05:00:00Z",
    },
  },
  {
    table: "vmoves",
    path: `/v1/notifications/${computeNotification}/vmoves`,
    columns: Object.keys(getTableColumns(vmoves)),
    filters: { type: "evacuation", status: "failed" },
  },
];

const LIMIT = 50;

describe("query plans of the request paths", () => {
  beforeAll(async () => {
    for (const list of lists()) {
      // Two markers deep in the table, so that a page that does not seek
      // reads thousands of rows before it; the data puts NULLs in one and
      // values in the other in most nullable columns.
      const markers = await sql<{ id: number }>(
        `SELECT (SELECT id FROM ${list.table} WHERE deleted = 0 AND id >= m * 4 / 10 AND id % 6 = 0 ORDER BY id LIMIT 1) AS id FROM (SELECT max(id) AS m FROM ${list.table})
         UNION ALL
         SELECT (SELECT id FROM ${list.table} WHERE deleted = 0 AND id >= m * 7 / 10 AND id % 6 = 1 ORDER BY id LIMIT 1) FROM (SELECT max(id) AS m FROM ${list.table})`,
      );
      const filters = Object.entries(list.filters).map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
      const cases: (ListRequest & { query: string })[] = [
        { query: "", served: true, byId: false, range: false },
        ...filters.map((f) => ({ query: f, served: true, byId: false, range: f.startsWith("generated-since") })),
      ];
      for (const column of list.columns) {
        for (const dir of ["asc", "desc"]) {
          cases.push({
            query: `sort_key=${column}&sort_dir=${dir}`,
            served: true,
            byId: column === "id",
            range: false,
          });
          // A filter with a sort key, and two sort keys, may sort what they select.
          if (filters[0] !== undefined) {
            cases.push({
              query: `${filters[0]}&sort_key=${column}&sort_dir=${dir}`,
              served: false,
              byId: column === "id",
              range: false,
            });
          }
          const second = column === "updated_at" ? "created_at" : "updated_at";
          cases.push({
            query: `sort_key=${column}&sort_key=${second}&sort_dir=${dir}`,
            served: false,
            byId: column === "id",
            range: false,
          });
        }
      }
      cases.push({
        query: "sort_key=created_at&sort_key=id&sort_dir=asc&sort_dir=desc",
        served: false,
        byId: false,
        range: false,
      });
      for (const { query, ...how } of cases) {
        const deep = how.served ? markers : markers.slice(0, 1);
        for (const marker of ["", ...deep.map((m) => `&marker=${m.id}`)]) {
          const path = `${list.path}?limit=${LIMIT}${query ? `&${query}` : ""}${marker}`;
          await drive("GET", path, 200, {}, { ...how, marker: marker !== "" });
        }
      }
    }
  }, 120_000);

  it("no list reads a whole table or sorts in its default order, by one filter or by one sort key", () => {
    const bad = checked.filter((c) => c.list !== undefined && problems(c).length > 0);
    expect(bad.length, report(bad)).toBe(0);
    expect(checked.filter((c) => c.list?.served).length).toBeGreaterThan(500);
  });

  it("a page in the default order, by one filter or one sort key reads about `limit` rows, however deep", async () => {
    // D1 reports the rows a statement read. generated-since is left out: its
    // range is on generated_time and its order on created_at, which no one
    // index serves together. SQLite reads created_at newest first until it
    // has `limit` matches, which is about `limit` rows when there are that
    // many (monitors report events as they happen, so the newest rows are
    // the ones generated since), but every older live row when fewer match.
    const pages = checked.filter((c) => c.list?.served && !c.list.range && /\blimit\b/i.test(c.statement.sql));
    const heavy: string[] = [];
    for (const c of pages) {
      const result = await env.DB.prepare(c.statement.sql)
        .bind(...c.statement.params)
        .all();
      // Each row costs an index entry and the row itself; each arm of a
      // marker page one more entry, each marker value one row.
      const bound = 2 * LIMIT + 60;
      if (result.meta.rows_read > bound) heavy.push(`${result.meta.rows_read} rows read: ${report([c])}`);
    }
    expect(heavy, heavy.join("\n")).toEqual([]);
    expect(pages.length).toBeGreaterThan(300);
  }, 60_000);
});

describe("query plans of show, create, update and delete", () => {
  const start = { value: 0 };
  const nova = createApp(loadConfig({ ...recordedEnv, NOVA_URL }));
  const viaNova = async (method: string, path: string, status: number, options: CallOptions = {}) => {
    const first = log.length;
    const res = await call(method, path, options, (request) => nova.fetch(request, recordedEnv));
    expect(res.status, `${method} ${path}: ${res.text.slice(0, 300)}`).toBe(status);
    for (const statement of log.slice(first)) {
      checked.push({ request: `${method} ${path} (NOVA_URL)`, statement, plan: await explain(statement) });
    }
  };

  beforeAll(async () => {
    start.value = checked.length;
    await drive("GET", `/v1/segments/${bigSegment}`, 200);
    const segment = { name: "plans-new", recovery_method: "auto", service_type: "COMPUTE" };
    const created = await drive("POST", "/v1/segments", 202, { body: { segment } });
    const uuid = created.json.segment.uuid as string;
    await drive("POST", "/v1/segments", 409, { body: { segment } });
    await drive("PUT", `/v1/segments/${uuid}`, 200, { body: { segment: { name: "plans-renamed", description: "d" } } });
    // The big segment is in use: its hosts have new notifications.
    await drive("PUT", `/v1/segments/${bigSegment}`, 409, { body: { segment: { description: "d" } } });
    await drive("DELETE", `/v1/segments/${bigSegment}`, 409);

    const host = { name: "plans-host", type: "COMPUTE", control_attributes: "SSH" };
    const made = await drive("POST", `/v1/segments/${uuid}/hosts`, 201, { body: { host } });
    const hostId = made.json.host.uuid as string;
    await drive("POST", `/v1/segments/${uuid}/hosts`, 409, { body: { host } });
    await viaNova("POST", `/v1/segments/${uuid}/hosts`, 201, { body: { host: { ...host, name: "plans-host-2" } } });
    await drive("GET", `/v1/segments/${uuid}/hosts/${hostId}`, 200);
    await drive("PUT", `/v1/segments/${uuid}/hosts/${hostId}`, 200, { body: { host: { name: "plans-host-3" } } });
    await viaNova("PUT", `/v1/segments/${uuid}/hosts/${hostId}`, 200, { body: { host: { name: "plans-host-4" } } });
    await drive("PUT", `/v1/segments/${bigSegment}/hosts/${hostUuid}`, 409, { body: { host: { reserved: true } } });
    await drive("DELETE", `/v1/segments/${bigSegment}/hosts/${hostUuid}`, 409);

    const notification = {
      type: "COMPUTE_HOST",
      hostname: hostName,
      generated_time: "2026-03-01T23:59:00Z",
      payload: { event: "STOPPED", host_status: "NORMAL", cluster_status: "OFFLINE" },
    };
    const posted = await drive("POST", "/v1/notifications", 202, { body: { notification } });
    // The same again is a duplicate (docs/upstream.md,
    // "Duplicate notifications"); an unknown host is refused.
    await drive("POST", "/v1/notifications", 409, { body: { notification } });
    await drive("POST", "/v1/notifications", 400, { body: { notification: { ...notification, hostname: "nowhere" } } });
    await drive("GET", `/v1/notifications/${posted.json.notification.notification_uuid}`, 200);
    const [vmove] = await sql<{ uuid: string }>("SELECT uuid FROM vmoves ORDER BY id LIMIT 1 OFFSET 1000");
    await drive("GET", `/v1/notifications/${computeNotification}/vmoves/${vmove?.uuid}`, 200);

    await drive("DELETE", `/v1/segments/${uuid}/hosts/${hostId}`, 204);
    await drive("DELETE", `/v1/segments/${uuid}`, 204);
  }, 60_000);

  it("every statement finds its rows through an index or the rowid: no scan, no sort, no count", () => {
    const ran = checked.slice(start.value);
    const bad = ran.filter((c) => problems(c).length > 0);
    expect(bad.length, report(bad)).toBe(0);
    expect(ran.length).toBeGreaterThan(30);
  });
});

describe("the checks", () => {
  it("catch a table scan, a full index scan and a sort", async () => {
    const statement = (query: string): Recorded => ({ sql: query, params: [] });
    const bad = [
      statement("SELECT * FROM failover_segments WHERE description = 'x'"),
      statement("SELECT * FROM hosts WHERE deleted = 0 AND reserved = 1"),
      statement("SELECT * FROM vmoves WHERE deleted = 0 ORDER BY instance_name"),
      statement("SELECT count(*) FROM notifications WHERE status = 'new'"),
    ];
    for (const s of bad) {
      const c: Checked = { request: "synthetic", statement: s, plan: await explain(s) };
      expect(problems(c), report([c])).not.toEqual([]);
    }
  });
});
