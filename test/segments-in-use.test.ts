import { describe, expect, it } from "vitest";
import {
  BLOCKING,
  createSegment,
  del,
  type Exchange,
  expectFault,
  fault,
  faultHeaders,
  NOT_BLOCKING,
  put,
  row,
  seedNotification,
  segmentDeleteInUse,
  segmentUpdateInUse,
  sql,
  successHeaders,
  UNKNOWN_UUID,
  unique,
  v1Headers,
} from "./helpers";

// A segment is "in use" while a live notification in new, running or error
// comes from a live host of the segment (docs/upstream.md, "Segments in use";
// exchanges #200, #201, #206, #207, #209, #211, #213, #215). The link is the
// host's segment, not the notification's failover_segment_uuid.

async function insertHost(segmentUuid: string) {
  const uuid = crypto.randomUUID();
  await sql(
    `INSERT INTO hosts (created_at, deleted, uuid, name, reserved, type, control_attributes, failover_segment_id, on_maintenance)
     VALUES ('2026-01-01 10:00:00.000000', 0, ?, ?, 0, 'COMPUTE', 'SSH', ?, 0)`,
    uuid,
    unique("host"),
    segmentUuid,
  );
  return uuid;
}

/** A segment with two live hosts; notifications come from the first. */
async function segmentWithHosts() {
  const segment = await createSegment();
  const host = await insertHost(segment.uuid);
  const sibling = await insertHost(segment.uuid);
  return { segment, host, sibling };
}

/** Every stored row a refused write must leave exactly as it was. */
async function snapshot(segmentUuid: string, hostUuids: string[], notificationUuids: string[] = []) {
  return {
    segment: await row("failover_segments", "uuid", segmentUuid),
    hosts: await Promise.all(hostUuids.map((h) => row("hosts", "uuid", h))),
    notifications: await Promise.all(notificationUuids.map((n) => row("notifications", "notification_uuid", n))),
  };
}

function expectUpdated(res: Exchange, description: string) {
  expect({ status: res.status, headers: v1Headers(res), description: res.json?.segment?.description }).toEqual({
    status: 200,
    headers: successHeaders("1.0"),
    description,
  });
}

function expectDeleted(res: Exchange) {
  expect({ status: res.status, text: res.text, headers: v1Headers(res) }).toEqual({
    status: 204,
    text: "",
    headers: successHeaders("1.0"),
  });
}

const update = (uuid: string, segment: unknown, version?: string) =>
  put(`/v1/segments/${uuid}`, { segment }, { version });
const remove = (uuid: string) => del(`/v1/segments/${uuid}`);

describe("notifications that block (#200, #201, #207, #209)", () => {
  it.each(BLOCKING)("a %s notification of one of its hosts blocks an update: 409, nothing changes", async (status) => {
    const { segment, host, sibling } = await segmentWithHosts();
    const notification = await seedNotification(host, status);
    const before = await snapshot(segment.uuid, [host, sibling], [notification]);
    expectFault(
      await update(segment.uuid, { description: `status ${status}` }),
      409,
      "conflictingRequest",
      segmentUpdateInUse(segment.uuid),
    );
    expect(await snapshot(segment.uuid, [host, sibling], [notification])).toEqual(before);
  });

  it.each(BLOCKING)("a %s notification of one of its hosts blocks a delete: 409, nothing changes", async (status) => {
    const { segment, host, sibling } = await segmentWithHosts();
    const notification = await seedNotification(host, status);
    const before = await snapshot(segment.uuid, [host, sibling], [notification]);
    expectFault(await remove(segment.uuid), 409, "conflictingRequest", segmentDeleteInUse(segment.uuid));
    expect(await snapshot(segment.uuid, [host, sibling], [notification])).toEqual(before);
  });

  it("one blocking notification among finished ones is enough", async () => {
    const { segment, host, sibling } = await segmentWithHosts();
    await seedNotification(host, "finished");
    await seedNotification(sibling, "failed");
    await seedNotification(sibling, "running");
    const before = await snapshot(segment.uuid, [host, sibling]);
    expectFault(
      await update(segment.uuid, { description: "x" }),
      409,
      "conflictingRequest",
      segmentUpdateInUse(segment.uuid),
    );
    expectFault(await remove(segment.uuid), 409, "conflictingRequest", segmentDeleteInUse(segment.uuid));
    expect(await snapshot(segment.uuid, [host, sibling])).toEqual(before);
  });

  it("an update that would change nothing is still refused while in use", async () => {
    const { segment, host } = await segmentWithHosts();
    await seedNotification(host, "new");
    const before = await snapshot(segment.uuid, [host]);
    expectFault(
      await update(segment.uuid, { name: segment.name }),
      409,
      "conflictingRequest",
      segmentUpdateInUse(segment.uuid),
    );
    expect(await snapshot(segment.uuid, [host])).toEqual(before);
  });

  it("in use is checked before the name: a taken name still gets the in-use 409", async () => {
    const taken = await createSegment();
    const { segment, host } = await segmentWithHosts();
    await seedNotification(host, "new");
    const before = await snapshot(segment.uuid, [host]);
    expectFault(
      await update(segment.uuid, { name: taken.name }),
      409,
      "conflictingRequest",
      segmentUpdateInUse(segment.uuid),
    );
    expect(await snapshot(segment.uuid, [host])).toEqual(before);
  });

  it("the in-use 409 carries the requested microversion", async () => {
    const { segment, host } = await segmentWithHosts();
    await seedNotification(host, "error");
    expectFault(
      await update(segment.uuid, { enabled: false }, "1.2"),
      409,
      "conflictingRequest",
      segmentUpdateInUse(segment.uuid),
      "1.2",
    );
    expect((await row("failover_segments", "uuid", segment.uuid))?.enabled).toBe(1);
  });

  it("an invalid body is reported (400) before the in-use check", async () => {
    const { segment, host } = await segmentWithHosts();
    await seedNotification(host, "new");
    const before = await snapshot(segment.uuid, [host]);
    const res = await update(segment.uuid, { x: 1 });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 400,
      headers: faultHeaders("1.0"),
      body: fault(
        "badRequest",
        400,
        "Invalid input for field/attribute segment. Value: {'x': 1}. Additional properties are not allowed ('x' was unexpected)",
      ),
    });
    expect(await snapshot(segment.uuid, [host])).toEqual(before);
  });
});

describe("notifications that do not block (#211, #213, #215)", () => {
  it.each(NOT_BLOCKING)("a %s notification does not block an update", async (status) => {
    const { segment, host } = await segmentWithHosts();
    await seedNotification(host, status);
    expectUpdated(await update(segment.uuid, { description: `status ${status}` }), `status ${status}`);
    expect((await row("failover_segments", "uuid", segment.uuid))?.description).toBe(`status ${status}`);
  });

  it.each(NOT_BLOCKING)("a %s notification does not block a delete; the hosts go with the segment", async (status) => {
    const { segment, host, sibling } = await segmentWithHosts();
    await seedNotification(host, status);
    expectDeleted(await remove(segment.uuid));
    expect((await row("failover_segments", "uuid", segment.uuid))?.deleted).toBe(segment.id);
    for (const h of [host, sibling]) {
      const stored = await row("hosts", "uuid", h);
      expect(stored?.deleted).toBe(stored?.id);
    }
  });

  it("once its notification has finished, the segment can be updated again", async () => {
    const { segment, host } = await segmentWithHosts();
    const notification = await seedNotification(host, "running");
    expectFault(
      await update(segment.uuid, { description: "busy" }),
      409,
      "conflictingRequest",
      segmentUpdateInUse(segment.uuid),
    );
    await sql("UPDATE notifications SET status = 'finished' WHERE notification_uuid = ?", notification);
    expectUpdated(await update(segment.uuid, { description: "free" }), "free");
  });

  it("a notification of a deleted host does not block", async () => {
    const { segment, host } = await segmentWithHosts();
    await seedNotification(host, "new");
    await sql("UPDATE hosts SET deleted = id, deleted_at = '2026-01-02 00:00:00.000000' WHERE uuid = ?", host);
    expectUpdated(await update(segment.uuid, { description: "host gone" }), "host gone");
    expectDeleted(await remove(segment.uuid));
  });

  it("a deleted notification does not block", async () => {
    const { segment, host } = await segmentWithHosts();
    const notification = await seedNotification(host, "new");
    await sql(
      "UPDATE notifications SET deleted = id, deleted_at = '2026-01-02 00:00:00.000000' WHERE notification_uuid = ?",
      notification,
    );
    expectUpdated(await update(segment.uuid, { description: "notification gone" }), "notification gone");
    expectDeleted(await remove(segment.uuid));
  });

  it("the link is via hosts: failover_segment_uuid naming this segment does not block it", async () => {
    const { segment } = await segmentWithHosts();
    const elsewhere = await segmentWithHosts();
    const notification = await seedNotification(elsewhere.host, "new");
    await sql(
      "UPDATE notifications SET failover_segment_uuid = ? WHERE notification_uuid = ?",
      segment.uuid,
      notification,
    );
    expectUpdated(await update(segment.uuid, { description: "not mine" }), "not mine");
    expectDeleted(await remove(segment.uuid));
  });

  it("the link is via hosts: the source host's segment is blocked whatever failover_segment_uuid says", async () => {
    const { segment } = await segmentWithHosts();
    const elsewhere = await segmentWithHosts();
    const notification = await seedNotification(elsewhere.host, "new");
    await sql(
      "UPDATE notifications SET failover_segment_uuid = ? WHERE notification_uuid = ?",
      segment.uuid,
      notification,
    );
    const before = await snapshot(elsewhere.segment.uuid, [elsewhere.host, elsewhere.sibling]);
    expectFault(
      await update(elsewhere.segment.uuid, { description: "x" }),
      409,
      "conflictingRequest",
      segmentUpdateInUse(elsewhere.segment.uuid),
    );
    expectFault(
      await remove(elsewhere.segment.uuid),
      409,
      "conflictingRequest",
      segmentDeleteInUse(elsewhere.segment.uuid),
    );
    expect(await snapshot(elsewhere.segment.uuid, [elsewhere.host, elsewhere.sibling])).toEqual(before);
  });

  it("a notification from a host of another segment does not block", async () => {
    const { segment } = await segmentWithHosts();
    const elsewhere = await segmentWithHosts();
    await seedNotification(elsewhere.host, "running");
    expectUpdated(await update(segment.uuid, { description: "quiet" }), "quiet");
  });

  it("a notification from a host no segment has does not block", async () => {
    const { segment } = await segmentWithHosts();
    await seedNotification(crypto.randomUUID(), "new");
    expectUpdated(await update(segment.uuid, { description: "orphan" }), "orphan");
  });
});

describe("order of checks for an unknown segment", () => {
  it("#206 an unknown segment with an invalid body is 400: the schema runs before the lookup", async () => {
    const res = await update(UNKNOWN_UUID, { x: 1 });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 400,
      headers: faultHeaders("1.0"),
      body: fault(
        "badRequest",
        400,
        "Invalid input for field/attribute segment. Value: {'x': 1}. Additional properties are not allowed ('x' was unexpected)",
      ),
    });
  });

  it("an unknown segment with a valid body is 404: the lookup runs before the in-use check", async () => {
    const res = await update(UNKNOWN_UUID, { description: "x" });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 404,
      headers: faultHeaders("1.0"),
      body: fault("itemNotFound", 404, `No failover segment with id ${UNKNOWN_UUID}.`),
    });
  });

  it("a deleted segment whose hosts still have a new notification is 404, not 409", async () => {
    const { segment, host } = await segmentWithHosts();
    expectDeleted(await remove(segment.uuid));
    // A live host left under the deleted segment, with a new notification.
    await sql("UPDATE hosts SET deleted = 0, deleted_at = NULL WHERE uuid = ?", host);
    await seedNotification(host, "new");
    const res = await update(segment.uuid, { description: "x" });
    expect({ status: res.status, body: res.json }).toEqual({
      status: 404,
      body: fault("itemNotFound", 404, `No failover segment with id ${segment.uuid}.`),
    });
    const again = await remove(segment.uuid);
    expect({ status: again.status, body: again.json }).toEqual({
      status: 404,
      body: fault("itemNotFound", 404, `No failover segment with id ${segment.uuid}.`),
    });
  });
});
