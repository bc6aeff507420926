import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseIsoTime } from "../src/datetime";
import { database, runInSession } from "../src/db/database";
import { createHost, deleteHost, findHost, listHosts, updateHost } from "../src/resources/hosts/store";
import { createNotification, findNotification, listNotifications } from "../src/resources/notifications/store";
import {
  createSegment,
  deleteSegment,
  findSegment,
  listSegments,
  updateSegment,
} from "../src/resources/segments/store";
import { findVmove, listVmoves } from "../src/resources/vmoves/store";
import { row, seedNotification, sql, unique } from "./helpers";

// Every store function is a plain function of a Database and its arguments:
// it runs the same from a route, a Workflow step, a cron handler or here,
// on plain env.DB or one D1 session, and it returns refusals rather than
// throwing HTTP faults. The guarded writes (D12) refuse without writing.

const db = database(env.DB);
const page = { limit: 1000, marker: undefined, sortKeys: [], sortDirs: [] };
const generatedTime = parseIsoTime("2026-03-01T10:00:00");

async function newSegment(fields: { name?: string; enabled?: boolean } = {}) {
  const segment = await createSegment(db, {
    name: fields.name ?? unique("store-seg"),
    recovery_method: "auto",
    service_type: "COMPUTE",
    ...(fields.enabled === undefined ? {} : { enabled: fields.enabled }),
  });
  if (segment === "name-taken") throw new Error("segment name taken");
  return segment;
}

async function newHost(segmentUuid: string, fields: { on_maintenance?: boolean } = {}) {
  const result = await createHost(db, segmentUuid, {
    name: unique("store-host"),
    type: "COMPUTE",
    control_attributes: "SSH",
    ...fields,
  });
  if (typeof result === "string") throw new Error(`host create refused: ${result}`);
  return result.host;
}

describe("segments store on env.DB", () => {
  it("creates, finds, lists, updates and deletes", async () => {
    const created = await newSegment({ enabled: false });
    expect(created).toMatchObject({ recovery_method: "auto", enabled: false, deleted: 0 });
    expect(await findSegment(db, created.uuid)).toEqual(created);
    const listed = await listSegments(db, { enabled: false }, page);
    expect(Array.isArray(listed) && listed.some((s) => s.uuid === created.uuid)).toBe(true);
    const updated = await updateSegment(db, created.uuid, { description: "rack 4" });
    expect(updated).toMatchObject({ uuid: created.uuid, description: "rack 4" });
    expect(await deleteSegment(db, created.uuid)).toBe("deleted");
    expect(await findSegment(db, created.uuid)).toBeUndefined();
  });

  it("a taken name is refused with no row", async () => {
    const taken = await newSegment();
    const before = await sql("SELECT count(*) AS n FROM failover_segments");
    expect(await createSegment(db, { name: taken.name, recovery_method: "auto", service_type: "COMPUTE" })).toBe(
      "name-taken",
    );
    expect(await sql("SELECT count(*) AS n FROM failover_segments")).toEqual(before);
  });

  it("update refusals: not-found, name-taken, in-use; the row stays byte for byte", async () => {
    const other = await newSegment();
    const segment = await newSegment();
    expect(await updateSegment(db, crypto.randomUUID(), { description: "x" })).toBe("not-found");
    const stored = await row("failover_segments", "uuid", segment.uuid);
    expect(await updateSegment(db, segment.uuid, { name: other.name })).toBe("name-taken");
    const host = await newHost(segment.uuid);
    await seedNotification(host.uuid, "running");
    expect(await updateSegment(db, segment.uuid, { description: "x" })).toBe("in-use");
    expect(await deleteSegment(db, segment.uuid)).toBe("in-use");
    expect(await row("failover_segments", "uuid", segment.uuid)).toEqual(stored);
    expect(await deleteSegment(db, crypto.randomUUID())).toBe("not-found");
  });

  it("a list refuses what the client sent wrong, in upstream's order", async () => {
    expect(await listSegments(db, {}, { ...page, sortDirs: ["up"] })).toEqual({ refusal: "invalid-sort-dir" });
    expect(await listSegments(db, {}, { ...page, sortKeys: ["name"], sortDirs: ["asc", "desc"] })).toEqual({
      refusal: "sort-dirs-exceed-keys",
    });
    expect(await listSegments(db, {}, { ...page, marker: "987654321" })).toEqual({
      refusal: "marker-not-found",
      marker: "987654321",
    });
    expect(await listSegments(db, {}, { ...page, sortKeys: ["hosts"] })).toEqual({
      refusal: "invalid-sort-key",
      key: "hosts",
    });
  });
});

describe("hosts store on env.DB", () => {
  it("creates, finds, lists, updates and deletes", async () => {
    const segment = await newSegment();
    const host = await newHost(segment.uuid);
    expect(await findHost(db, segment.uuid, host.uuid)).toEqual({ host, segment });
    expect(await listHosts(db, segment.uuid, {}, page)).toEqual([host]);
    const updated = await updateHost(db, segment.uuid, host.uuid, { reserved: true });
    expect(updated).toMatchObject({ host: { uuid: host.uuid, reserved: true }, segment });
    expect(await deleteHost(db, segment.uuid, host.uuid)).toBe("deleted");
    expect(await findHost(db, segment.uuid, host.uuid)).toBeUndefined();
  });

  it("create refusals: a segment that is not live, a taken name; nothing is written", async () => {
    const segment = await newSegment();
    const host = await newHost(segment.uuid);
    const fields = { name: host.name, type: "COMPUTE", control_attributes: "SSH" };
    expect(await createHost(db, segment.uuid, fields)).toBe("name-taken");
    expect(await createHost(db, crypto.randomUUID(), { ...fields, name: unique("h") })).toBe("not-found");
    expect(await sql("SELECT count(*) AS n FROM hosts WHERE name = ?", host.name)).toEqual([{ n: 1 }]);
  });

  it("update and delete refusals while the segment is in use; the row stays byte for byte", async () => {
    const segment = await newSegment();
    const host = await newHost(segment.uuid);
    await seedNotification(host.uuid, "error");
    const stored = await row("hosts", "uuid", host.uuid);
    expect(await updateHost(db, segment.uuid, host.uuid, { reserved: true })).toBe("in-use");
    expect(await deleteHost(db, segment.uuid, host.uuid)).toBe("in-use");
    expect(await row("hosts", "uuid", host.uuid)).toEqual(stored);
    expect(await updateHost(db, segment.uuid, crypto.randomUUID(), { reserved: true })).toBe("not-found");
    expect(await deleteHost(db, segment.uuid, crypto.randomUUID())).toBe("not-found");
  });
});

describe("notifications and vmoves stores on env.DB", () => {
  const notification = (hostname: string, payload: Record<string, string> = { event: "STOPPED" }) => {
    if (!generatedTime) throw new Error("unparsed time");
    return { type: "COMPUTE_HOST", hostname, generatedTime, payload };
  };

  it("creates, finds and lists a notification", async () => {
    const segment = await newSegment();
    const host = await newHost(segment.uuid);
    const created = await createNotification(db, notification(host.name), 180);
    if (typeof created === "string") throw new Error(created);
    expect(created).toMatchObject({
      source_host_uuid: host.uuid,
      failover_segment_uuid: segment.uuid,
      status: "new",
      payload: '{"event": "STOPPED"}',
      generated_time: "2026-03-01 10:00:00.000000",
    });
    expect(await findNotification(db, created.notification_uuid)).toEqual(created);
    expect(await listNotifications(db, { source_host_uuid: host.uuid }, page)).toEqual([created]);
  });

  it("refusals: unknown host, host on maintenance, duplicate; nothing is written", async () => {
    const segment = await newSegment();
    const host = await newHost(segment.uuid);
    const resting = await newHost(segment.uuid, { on_maintenance: true });
    expect(await createNotification(db, notification(unique("nowhere")), 180)).toBe("host-not-found");
    expect(await createNotification(db, notification(resting.name), 180)).toBe("host-on-maintenance");
    const first = await createNotification(
      db,
      notification(host.name, { event: "STOPPED", host_status: "NORMAL" }),
      180,
    );
    expect(typeof first).toBe("object");
    expect(
      await createNotification(db, notification(host.name, { host_status: "NORMAL", event: "STOPPED" }), 180),
    ).toBe("duplicate");
    expect(
      await sql("SELECT count(*) AS n FROM notifications WHERE source_host_uuid IN (?, ?)", host.uuid, resting.uuid),
    ).toEqual([{ n: 1 }]);
  });

  it("vmoves of a notification are listed and found", async () => {
    const segment = await newSegment();
    const host = await newHost(segment.uuid);
    const notificationUuid = await seedNotification(host.uuid, "finished");
    const vmoveUuid = crypto.randomUUID();
    await sql(
      `INSERT INTO vmoves (created_at, deleted, uuid, notification_uuid, instance_uuid, instance_name, type, status)
       VALUES ('2026-03-01 10:00:00.000000', 0, ?, ?, ?, 'vm', 'evacuation', 'pending')`,
      vmoveUuid,
      notificationUuid,
      crypto.randomUUID(),
    );
    const found = await findVmove(db, vmoveUuid);
    expect(found).toMatchObject({ uuid: vmoveUuid, notification_uuid: notificationUuid, status: "pending" });
    expect(await listVmoves(db, notificationUuid, { status: "pending" }, page)).toEqual([found]);
  });
});

describe("runInSession", () => {
  it("runs store functions on one D1 session, writes at the primary included", async () => {
    const name = unique("session-seg");
    const found = await runInSession(env.DB, "first-primary", async (session) => {
      const created = await createSegment(session, { name, recovery_method: "rh_priority", service_type: "COMPUTE" });
      return created === "name-taken" ? undefined : findSegment(session, created.uuid);
    });
    expect(found).toMatchObject({ name, recovery_method: "rh_priority" });
    expect(await sql("SELECT name FROM failover_segments WHERE uuid = ?", found?.uuid)).toEqual([{ name }]);
  });
});
