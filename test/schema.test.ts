import { env } from "cloudflare:workers";
import { getTableName } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { UNIQUE_AMONG_LIVE } from "../src/db/paging";
import { call, holdRecoveries, NOTIFICATION_COLUMNS, sql } from "./helpers";

holdRecoveries();

// D11: upstream's table and column names (docs/upstream.md, "Tables"), so rows
// can be moved from an existing Masakari database.

const UPSTREAM_COLUMNS = {
  failover_segments: [
    "created_at",
    "updated_at",
    "deleted_at",
    "deleted",
    "id",
    "uuid",
    "name",
    "service_type",
    "description",
    "recovery_method",
    "enabled",
  ],
  hosts: [
    "created_at",
    "updated_at",
    "deleted_at",
    "deleted",
    "id",
    "uuid",
    "name",
    "reserved",
    "type",
    "control_attributes",
    "failover_segment_id",
    "on_maintenance",
  ],
  notifications: NOTIFICATION_COLUMNS,
  vmoves: [
    "created_at",
    "updated_at",
    "deleted_at",
    "deleted",
    "id",
    "uuid",
    "notification_uuid",
    "instance_uuid",
    "instance_name",
    "source_host",
    "dest_host",
    "start_time",
    "end_time",
    "type",
    "status",
    "message",
  ],
};

describe("D11: the D1 schema is upstream's", () => {
  it.each(Object.entries(UPSTREAM_COLUMNS))("%s has upstream's columns", async (table, columns) => {
    const info = await sql<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`);
    expect(info.map((c) => c.name).sort()).toEqual([...columns].sort());
  });

  it("has upstream's unique constraints on (name, deleted) and the uuids", async () => {
    const indexes = await sql<{ name: string; unique: number }>(
      `SELECT il.name, il."unique" FROM pragma_index_list('failover_segments') il
       UNION ALL SELECT il.name, il."unique" FROM pragma_index_list('hosts') il
       UNION ALL SELECT il.name, il."unique" FROM pragma_index_list('notifications') il
       UNION ALL SELECT il.name, il."unique" FROM pragma_index_list('vmoves') il`,
    );
    const unique = indexes.filter((i) => i.unique === 1).map((i) => i.name);
    expect(unique).toEqual(
      expect.arrayContaining([
        "uniq_segment0name0deleted",
        "uniq_segments0uuid",
        "uniq_host0name0deleted",
        "uniq_host0uuid",
        "uniq_notification0uuid",
        "uniq_vmove0uuid",
      ]),
    );
  });

  it("paging's unique keys are exactly the columns the migrations keep unique among live rows", async () => {
    // A sort stops at a unique key (src/db/paging.ts): listing one that is not
    // unique would drop rows from pages, missing one would sort for nothing.
    for (const [table, keys] of UNIQUE_AMONG_LIVE) {
      const name = getTableName(table);
      const liveUnique = await sql<{ name: string }>(
        `SELECT ii.name FROM pragma_index_list('${name}') il, pragma_index_info(il.name) ii, pragma_table_info('${name}') ti
         WHERE il."unique" = 1 AND il.partial = 0 AND ti.name = ii.name AND ti."notnull" = 1
           AND (SELECT count(*) FROM pragma_index_info(il.name) other WHERE other.name <> 'deleted') = 1
           AND ii.name <> 'deleted'`,
      );
      expect([...keys].sort(), name).toEqual(["id", ...liveUnique.map((c) => c.name)].sort());
    }
  });

  it("keeps a refused insert from using up an id, as upstream's rowid keys do", async () => {
    const body = { segment: { name: "ids", recovery_method: "auto", service_type: "COMPUTE" } };
    const first = await call("POST", "/v1/segments", { body });
    const refused = await call("POST", "/v1/segments", { body });
    const second = await call("POST", "/v1/segments", { body: { segment: { ...body.segment, name: "ids-2" } } });
    expect([first.status, refused.status, second.status]).toEqual([202, 409, 202]);
    expect(second.json.segment.id).toBe(first.json.segment.id + 1);
  });

  it("stores datetimes as SQLAlchemy's SQLite text", async () => {
    const created = await call("POST", "/v1/segments", {
      body: { segment: { name: "dt", recovery_method: "auto", service_type: "COMPUTE" } },
    });
    const [stored] = await env.DB.prepare("SELECT created_at FROM failover_segments WHERE uuid = ?")
      .bind(created.json.segment.uuid)
      .all<{ created_at: string }>()
      .then((r) => r.results);
    expect(stored?.created_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.000000$/);
    expect(created.json.segment.created_at).toBe(stored?.created_at.replace(" ", "T"));
  });
});

describe("D1: the scope", () => {
  it.each(["/v1", "/v1/versions/v1.0", "/v1/extensions", "/v1/segments", "/v1/notifications"])(
    "%s answers with and without a project in the URL",
    async (path) => {
      const project = "0123456789abcdef0123456789abcdef";
      const plain = await call("GET", path);
      const withProject = await call("GET", path.replace("/v1", `/v1/${project}`), {
        headers: { "X-Project-Id": project },
      });
      expect(plain.status).toBe(200);
      // /v1/{project_id} alone is not a route upstream (docs/upstream.md,
      // "Routes and project ids").
      expect(withProject.status).toBe(path === "/v1" ? 404 : 200);
      if (path !== "/v1") expect(withProject.json).toEqual(plain.json);
    },
  );
});
