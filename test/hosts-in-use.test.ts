import { describe, expect, it } from "vitest";
import {
  BLOCKING,
  createHost,
  createSegment,
  del,
  expectFault,
  get,
  hostDeleteInUse,
  hostNotUnder,
  hostUpdateInUse,
  type Json,
  NOT_BLOCKING,
  post,
  put,
  row,
  seedNotification,
  sql,
  successHeaders,
  UNKNOWN_UUID,
  unique,
  v1Headers,
} from "./helpers";

// Hosts of a segment that is in use by notifications (docs/upstream.md,
// "Segments in use" and "Host operations and order of checks"; exchanges
// #202-#205, #208, #210, #212, #214, #216, #218): a new, running or error
// notification from ANY live host of a segment blocks the update and the
// delete of EVERY host of that segment.

const hostsPath = (segment: Json) => `/v1/segments/${segment.uuid}/hosts`;
const hostPath = (segment: Json, host: Json | string) =>
  `${hostsPath(segment)}/${typeof host === "string" ? host : host.uuid}`;

/** Every host row of a segment (live or not), byte for byte. */
const segmentRows = (segment: Json) =>
  sql("SELECT * FROM hosts WHERE failover_segment_id = ? ORDER BY id", segment.uuid);

/**
 * seg-a with three hosts (the notification comes from the second), and
 * another segment with one host.
 */
async function scene() {
  const segA = await createSegment({ name: unique("seg-a") });
  const hosts = [
    await createHost(segA.uuid, { name: unique("compute1") }),
    await createHost(segA.uuid, { name: unique("compute2b"), reserved: true }),
    await createHost(segA.uuid, { name: unique("compute4"), on_maintenance: true }),
  ];
  const segB = await createSegment({ name: unique("seg-b2") });
  const other = await createHost(segB.uuid, { name: unique("compute3") });
  return { segA, hosts, segB, other };
}

describe("new, running and error notifications block every host of the segment", () => {
  it.each(BLOCKING)("a %s notification blocks PUT of every host of the segment; rows unchanged", async (status) => {
    const { segA, hosts } = await scene();
    await seedNotification(hosts[1].uuid, status);
    const before = await segmentRows(segA);
    for (const host of hosts) {
      expectFault(
        await put(hostPath(segA, host), { host: { reserved: !host.reserved } }),
        409,
        "conflictingRequest",
        hostUpdateInUse(host.uuid),
      );
    }
    expect(await segmentRows(segA)).toEqual(before);
  });

  it.each(BLOCKING)("a %s notification blocks DELETE of every host of the segment; rows unchanged", async (status) => {
    const { segA, hosts } = await scene();
    await seedNotification(hosts[1].uuid, status);
    const before = await segmentRows(segA);
    for (const host of hosts) {
      expectFault(await del(hostPath(segA, host)), 409, "conflictingRequest", hostDeleteInUse(host.uuid));
    }
    expect(await segmentRows(segA)).toEqual(before);
  });

  it("a rename of a host of an in-use segment is 409 in-use, not a rename", async () => {
    const { segA, hosts } = await scene();
    await seedNotification(hosts[0].uuid, "new");
    const before = await segmentRows(segA);
    expectFault(
      await put(hostPath(segA, hosts[2]), { host: { name: unique("renamed") } }),
      409,
      "conflictingRequest",
      hostUpdateInUse(hosts[2].uuid),
    );
    expect(await segmentRows(segA)).toEqual(before);
  });

  it("a rename to a taken name in an in-use segment is 409 in-use (in-use is checked first)", async () => {
    const { segA, hosts, other } = await scene();
    await seedNotification(hosts[0].uuid, "running");
    expectFault(
      await put(hostPath(segA, hosts[1]), { host: { name: other.name } }),
      409,
      "conflictingRequest",
      hostUpdateInUse(hosts[1].uuid),
    );
  });

  it("an update that would change nothing is still 409 in an in-use segment", async () => {
    const { segA, hosts } = await scene();
    await seedNotification(hosts[0].uuid, "error");
    expectFault(
      await put(hostPath(segA, hosts[0]), { host: { reserved: false } }),
      409,
      "conflictingRequest",
      hostUpdateInUse(hosts[0].uuid),
    );
  });

  it("#202-#204 the catalogue's sequence: a new notification for compute1", async () => {
    const { segA, hosts } = await scene();
    const [compute1, compute2b] = hosts;
    await seedNotification(compute1.uuid, "new");
    const before = await segmentRows(segA);
    expectFault(
      await put(hostPath(segA, compute1), { host: { reserved: true } }),
      409,
      "conflictingRequest",
      hostUpdateInUse(compute1.uuid),
    );
    expectFault(
      await put(hostPath(segA, compute2b), { host: { reserved: true } }),
      409,
      "conflictingRequest",
      hostUpdateInUse(compute2b.uuid),
    );
    expectFault(await del(hostPath(segA, compute1)), 409, "conflictingRequest", hostDeleteInUse(compute1.uuid));
    expect(await segmentRows(segA)).toEqual(before);
  });

  it("#205 a host can still be created in an in-use segment", async () => {
    const { segA, hosts } = await scene();
    await seedNotification(hosts[0].uuid, "new");
    const name = unique("compute5");
    const res = await post(hostsPath(segA), { host: { name, type: "COMPUTE", control_attributes: "SSH" } });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 201,
      headers: successHeaders(),
      body: {
        host: {
          id: expect.any(Number),
          uuid: expect.any(String),
          name,
          failover_segment_id: segA.uuid,
          failover_segment: segA,
          type: "COMPUTE",
          reserved: false,
          control_attributes: "SSH",
          on_maintenance: false,
          created_at: expect.any(String),
          updated_at: null,
          deleted_at: null,
          deleted: false,
        },
      },
    });
    expect(await row("hosts", "uuid", res.json.host.uuid)).toMatchObject({ name, deleted: 0 });
  });

  it("the host created in an in-use segment is itself blocked", async () => {
    const { segA, hosts } = await scene();
    await seedNotification(hosts[0].uuid, "new");
    const fresh = await createHost(segA.uuid);
    expectFault(
      await put(hostPath(segA, fresh), { host: { reserved: true } }),
      409,
      "conflictingRequest",
      hostUpdateInUse(fresh.uuid),
    );
  });
});

describe("what does not block", () => {
  it.each(NOT_BLOCKING)("a %s notification does not block PUT of the hosts", async (status) => {
    const { segA, hosts } = await scene();
    await seedNotification(hosts[1].uuid, status);
    for (const host of hosts) {
      const res = await put(hostPath(segA, host), { host: { control_attributes: `after ${status}` } });
      expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
        status: 200,
        headers: successHeaders(),
        body: { host: { ...host, control_attributes: `after ${status}`, updated_at: expect.any(String) } },
      });
      expect(await row("hosts", "uuid", host.uuid)).toMatchObject({ control_attributes: `after ${status}` });
    }
  });

  it.each(NOT_BLOCKING)("a %s notification does not block DELETE of the hosts", async (status) => {
    const { segA, hosts } = await scene();
    await seedNotification(hosts[1].uuid, status);
    for (const host of hosts) {
      const res = await del(hostPath(segA, host));
      expect({ status: res.status, headers: v1Headers(res), text: res.text }).toEqual({
        status: 204,
        headers: successHeaders(),
        text: "",
      });
      expect(await row("hosts", "uuid", host.uuid)).toMatchObject({ deleted: host.id });
    }
  });

  it("a new notification from a host of another segment does not block", async () => {
    const { segA, hosts, segB, other } = await scene();
    await seedNotification(other.uuid, "new");
    const res = await put(hostPath(segA, hosts[0]), { host: { reserved: true } });
    expect(res.status).toBe(200);
    expect(res.json.host.reserved).toBe(true);
    expectFault(
      await put(hostPath(segB, other), { host: { reserved: true } }),
      409,
      "conflictingRequest",
      hostUpdateInUse(other.uuid),
    );
  });

  it("the link is the source host's segment, not the notification's failover_segment_uuid", async () => {
    const { segA, hosts, segB, other } = await scene();
    const notification = await seedNotification(other.uuid, "new");
    await sql(
      "UPDATE notifications SET failover_segment_uuid = ? WHERE notification_uuid = ?",
      segA.uuid,
      notification,
    );
    expect((await put(hostPath(segA, hosts[0]), { host: { reserved: true } })).status).toBe(200);
    expect((await del(hostPath(segA, hosts[2]))).status).toBe(204);
    expectFault(await del(hostPath(segB, other)), 409, "conflictingRequest", hostDeleteInUse(other.uuid));
  });

  it("a deleted notification does not block", async () => {
    const { segA, hosts } = await scene();
    const notification = await seedNotification(hosts[0].uuid, "new");
    await sql(
      "UPDATE notifications SET deleted = id, deleted_at = ? WHERE notification_uuid = ?",
      "2026-01-01 00:00:00.000000",
      notification,
    );
    expect((await put(hostPath(segA, hosts[1]), { host: { reserved: false } })).status).toBe(200);
  });

  it("a new notification from a deleted host of the segment does not block", async () => {
    const { segA, hosts } = await scene();
    const notification = await seedNotification(hosts[0].uuid, "finished");
    expect((await del(hostPath(segA, hosts[0]))).status).toBe(204);
    await sql("UPDATE notifications SET status = 'new' WHERE notification_uuid = ?", notification);
    expect((await put(hostPath(segA, hosts[1]), { host: { reserved: false } })).status).toBe(200);
    expect((await del(hostPath(segA, hosts[2]))).status).toBe(204);
  });

  it("#216 once the notifications are finished, the hosts can be updated again", async () => {
    const { segA, hosts } = await scene();
    await seedNotification(hosts[0].uuid, "new");
    expect((await put(hostPath(segA, hosts[1]), { host: { reserved: true } })).status).toBe(409);
    await sql(
      "UPDATE notifications SET status = ? WHERE source_host_uuid IN (SELECT uuid FROM hosts WHERE failover_segment_id = ?)",
      "finished",
      segA.uuid,
    );
    const res = await put(hostPath(segA, hosts[1]), { host: { reserved: false } });
    expect(res.status).toBe(200);
    expect(res.json.host.reserved).toBe(false);
  });

  it("#218-#219 a host deleted after its notification finished leaves the notification as it was", async () => {
    const { segA, hosts } = await scene();
    const notification = await seedNotification(hosts[0].uuid, "finished");
    const before = await row("notifications", "notification_uuid", notification);
    expect((await del(hostPath(segA, hosts[0]))).status).toBe(204);
    expect(await row("notifications", "notification_uuid", notification)).toEqual(before);
    expect(before?.source_host_uuid).toBe(hosts[0].uuid);
  });
});

describe("order of checks", () => {
  it("404 comes before 409: an unknown host in an in-use segment is 404 on PUT", async () => {
    const { segA, hosts } = await scene();
    await seedNotification(hosts[0].uuid, "new");
    expectFault(
      await put(hostPath(segA, UNKNOWN_UUID), { host: { reserved: true } }),
      404,
      "itemNotFound",
      hostNotUnder(UNKNOWN_UUID, segA.uuid),
    );
  });

  it("404 comes before 409: an unknown host in an in-use segment is 404 on DELETE", async () => {
    const { segA, hosts } = await scene();
    await seedNotification(hosts[0].uuid, "running");
    expectFault(await del(hostPath(segA, UNKNOWN_UUID)), 404, "itemNotFound", hostNotUnder(UNKNOWN_UUID, segA.uuid));
  });

  it("404 comes before 409: a host of another segment reached through an in-use segment is 404", async () => {
    const { segA, hosts, other } = await scene();
    await seedNotification(hosts[0].uuid, "error");
    const before = await row("hosts", "uuid", other.uuid);
    expectFault(
      await put(hostPath(segA, other), { host: { reserved: true } }),
      404,
      "itemNotFound",
      hostNotUnder(other.uuid, segA.uuid),
    );
    expectFault(await del(hostPath(segA, other)), 404, "itemNotFound", hostNotUnder(other.uuid, segA.uuid));
    expect(await row("hosts", "uuid", other.uuid)).toEqual(before);
  });

  it("the body is validated before the in-use check", async () => {
    const { segA, hosts } = await scene();
    await seedNotification(hosts[0].uuid, "new");
    expectFault(
      await put(hostPath(segA, hosts[0]), { host: {} }),
      400,
      "badRequest",
      "Invalid input for field/attribute host. Value: {}. {} is not valid under any of the given schemas",
    );
  });

  it("reads are not blocked: an in-use host is still shown and listed", async () => {
    const { segA, hosts } = await scene();
    await seedNotification(hosts[0].uuid, "new");
    const shown = await get(hostPath(segA, hosts[0]));
    expect({ status: shown.status, body: shown.json }).toEqual({ status: 200, body: { host: hosts[0] } });
    const listed = await get(hostsPath(segA));
    expect({ status: listed.status, body: listed.json }).toEqual({
      status: 200,
      body: { hosts: [...hosts].reverse() },
    });
  });
});
