import { describe, expect, it } from "vitest";
import {
  createHost,
  createSegment,
  del,
  type Exchange,
  expectFault,
  fault,
  get,
  holdRecoveries,
  hostDeleteInUse,
  hostNotUnder,
  hostUpdateInUse,
  mustAnswer,
  NOT_BLOCKING,
  post,
  put,
  row,
  segmentDeleteInUse,
  segmentUpdateInUse,
  sql,
  successHeaders,
  UNKNOWN_UUID,
  unique,
  v1Headers,
} from "./helpers";

holdRecoveries();

// "In use by notifications" end to end (docs/upstream.md, "Segments in use";
// exchanges #200-#223): a live notification with status new, running or error
// from any live host of a segment blocks updating and deleting that segment
// and every one of its hosts. The engine's status changes are made by SQL, as
// the reference catalogue does.

interface Host {
  uuid: string;
  name: string;
}

interface Setup {
  segment: { uuid: string; name: string };
  /** The host the notification came from. */
  source: Host;
  /** Another host of the same segment. */
  other: Host;
  notification: { notification_uuid: string; source_host_uuid: string } & Record<string, unknown>;
}

/** A segment with two hosts and a COMPUTE_HOST notification from the first, made through the API. */
async function setUp(): Promise<Setup> {
  const segment = await createSegment();
  const source = await createHost(segment.uuid);
  const other = await createHost(segment.uuid);
  const res = await post("/v1/notifications", {
    notification: {
      type: "COMPUTE_HOST",
      hostname: source.name,
      generated_time: "2026-01-01T10:00:00Z",
      payload: { event: "STOPPED", host_status: "NORMAL", cluster_status: "OFFLINE" },
    },
  });
  mustAnswer(res, 202, "notification create");
  return { segment, source, other, notification: res.json.notification };
}

const setStatus = (s: Setup, status: string) =>
  sql("UPDATE notifications SET status = ? WHERE notification_uuid = ?", status, s.notification.notification_uuid);

const segmentPath = (s: Setup) => `/v1/segments/${s.segment.uuid}`;
const hostPath = (s: Setup, host: Host) => `/v1/segments/${s.segment.uuid}/hosts/${host.uuid}`;

const updateSegment = (s: Setup) => put(segmentPath(s), { segment: { description: "x" } });
const deleteSegment = (s: Setup) => del(segmentPath(s));
const updateHost = (s: Setup, host: Host) => put(hostPath(s, host), { host: { reserved: true } });
const deleteHost = (s: Setup, host: Host) => del(hostPath(s, host));

/** The rows a refused request must leave alone. */
const snapshot = async (s: Setup) => ({
  segment: await row("failover_segments", "uuid", s.segment.uuid),
  source: await row("hosts", "uuid", s.source.uuid),
  other: await row("hosts", "uuid", s.other.uuid),
  notification: await row("notifications", "notification_uuid", s.notification.notification_uuid),
});

async function expectInUse(s: Setup, send: () => Promise<Exchange>, message: string) {
  const before = await snapshot(s);
  const res = await send();
  expectFault(res, 409, "conflictingRequest", message);
  expect(await snapshot(s)).toEqual(before);
}

describe("a new notification created through the API (#200-#205)", () => {
  it("#200 blocks updating its segment", async () => {
    const s = await setUp();
    await expectInUse(s, () => updateSegment(s), segmentUpdateInUse(s.segment.uuid));
  });

  it("#201 blocks deleting its segment", async () => {
    const s = await setUp();
    await expectInUse(s, () => deleteSegment(s), segmentDeleteInUse(s.segment.uuid));
  });

  it("#202 blocks updating the host it came from", async () => {
    const s = await setUp();
    await expectInUse(s, () => updateHost(s, s.source), hostUpdateInUse(s.source.uuid));
  });

  it("#203 blocks updating another host of the same segment", async () => {
    const s = await setUp();
    await expectInUse(s, () => updateHost(s, s.other), hostUpdateInUse(s.other.uuid));
  });

  it("#204 blocks deleting the host it came from", async () => {
    const s = await setUp();
    await expectInUse(s, () => deleteHost(s, s.source), hostDeleteInUse(s.source.uuid));
  });

  it("blocks deleting another host of the same segment", async () => {
    const s = await setUp();
    await expectInUse(s, () => deleteHost(s, s.other), hostDeleteInUse(s.other.uuid));
  });

  it("blocks renaming a host of the segment", async () => {
    const s = await setUp();
    await expectInUse(
      s,
      () => put(hostPath(s, s.other), { host: { name: unique("renamed") } }),
      hostUpdateInUse(s.other.uuid),
    );
  });

  it("blocks taking the host off maintenance", async () => {
    const s = await setUp();
    await expectInUse(
      s,
      () => put(hostPath(s, s.source), { host: { on_maintenance: false } }),
      hostUpdateInUse(s.source.uuid),
    );
  });

  it("#205 does not block creating another host in the segment", async () => {
    const s = await setUp();
    const name = unique("compute5");
    const res = await post(`/v1/segments/${s.segment.uuid}/hosts`, {
      host: { name, type: "COMPUTE", control_attributes: "SSH" },
    });
    expect({ status: res.status, headers: v1Headers(res) }).toEqual({ status: 201, headers: successHeaders() });
    expect(res.json.host).toMatchObject({ name, failover_segment_id: s.segment.uuid });
    // The new host is blocked too: the whole segment is in use.
    await expectInUse(s, () => updateHost(s, res.json.host), hostUpdateInUse(res.json.host.uuid));
  });

  it("does not block reading the segment and its hosts", async () => {
    const s = await setUp();
    expect((await get(segmentPath(s))).status).toBe(200);
    expect((await get(hostPath(s, s.source))).status).toBe(200);
    expect((await get(`${segmentPath(s)}/hosts`)).status).toBe(200);
  });

  it("does not block another segment or its hosts", async () => {
    const s = await setUp();
    const otherSegment = await createSegment();
    const host = await createHost(otherSegment.uuid);
    const update = await put(`/v1/segments/${otherSegment.uuid}`, { segment: { description: "free" } });
    expect(update.status).toBe(200);
    const hostUpdate = await put(`/v1/segments/${otherSegment.uuid}/hosts/${host.uuid}`, { host: { reserved: true } });
    expect(hostUpdate.status).toBe(200);
    // The first segment is still blocked.
    await expectInUse(s, () => updateSegment(s), segmentUpdateInUse(s.segment.uuid));
  });

  it("#206 an invalid body is a 400 before the in-use check", async () => {
    const s = await setUp();
    const res = await put(segmentPath(s), { segment: { x: 1 } });
    expect({ status: res.status, body: res.json }).toEqual({
      status: 400,
      body: fault(
        "badRequest",
        400,
        "Invalid input for field/attribute segment. Value: {'x': 1}. Additional properties are not allowed ('x' was unexpected)",
      ),
    });
  });

  it("an unknown host in the segment is a 404 before the in-use check", async () => {
    const s = await setUp();
    const res = await del(`/v1/segments/${s.segment.uuid}/hosts/${UNKNOWN_UUID}`);
    expect({ status: res.status, body: res.json }).toEqual({
      status: 404,
      body: fault("itemNotFound", 404, hostNotUnder(UNKNOWN_UUID, s.segment.uuid)),
    });
  });
});

describe("statuses set by the engine (#207-#216)", () => {
  it.each(["running", "error"])("%s keeps blocking the segment and all its hosts", async (status) => {
    const s = await setUp();
    await setStatus(s, status);
    await expectInUse(s, () => updateSegment(s), segmentUpdateInUse(s.segment.uuid));
    await expectInUse(s, () => deleteSegment(s), segmentDeleteInUse(s.segment.uuid));
    await expectInUse(s, () => updateHost(s, s.source), hostUpdateInUse(s.source.uuid));
    await expectInUse(s, () => updateHost(s, s.other), hostUpdateInUse(s.other.uuid));
    await expectInUse(s, () => deleteHost(s, s.source), hostDeleteInUse(s.source.uuid));
    await expectInUse(s, () => deleteHost(s, s.other), hostDeleteInUse(s.other.uuid));
  });

  it.each(NOT_BLOCKING)("%s unblocks updating the segment", async (status) => {
    const s = await setUp();
    await setStatus(s, status);
    const res = await put(segmentPath(s), { segment: { description: `status ${status}` } });
    expect({ status: res.status, headers: v1Headers(res) }).toEqual({ status: 200, headers: successHeaders() });
    expect(res.json.segment).toMatchObject({ uuid: s.segment.uuid, description: `status ${status}` });
    expect((await row("failover_segments", "uuid", s.segment.uuid))?.description).toBe(`status ${status}`);
  });

  it.each(NOT_BLOCKING)("%s unblocks updating every host of the segment", async (status) => {
    const s = await setUp();
    await setStatus(s, status);
    for (const host of [s.source, s.other]) {
      const res = await updateHost(s, host);
      expect({ status: res.status, headers: v1Headers(res) }).toEqual({ status: 200, headers: successHeaders() });
      expect(res.json.host).toMatchObject({ uuid: host.uuid, reserved: true });
      expect((await row("hosts", "uuid", host.uuid))?.reserved).toBe(1);
    }
  });

  it.each(NOT_BLOCKING)("%s unblocks deleting a host and then the segment", async (status) => {
    const s = await setUp();
    await setStatus(s, status);
    const hostRes = await deleteHost(s, s.other);
    expect({ status: hostRes.status, text: hostRes.text }).toEqual({ status: 204, text: "" });
    expect((await row("hosts", "uuid", s.other.uuid))?.deleted).not.toBe(0);
    const segmentRes = await deleteSegment(s);
    expect({ status: segmentRes.status, text: segmentRes.text }).toEqual({ status: 204, text: "" });
    expect((await row("failover_segments", "uuid", s.segment.uuid))?.deleted).not.toBe(0);
    // Deleting a segment leaves its notifications alone.
    expect(await row("notifications", "notification_uuid", s.notification.notification_uuid)).toMatchObject({
      status,
      deleted: 0,
    });
  });

  it("one blocking notification among finished ones still blocks", async () => {
    const s = await setUp();
    await setStatus(s, "finished");
    const again = await post("/v1/notifications", {
      notification: {
        type: "PROCESS",
        hostname: s.other.name,
        generated_time: "2026-01-01T10:00:00Z",
        payload: { process_name: "nova-compute", event: "STOPPED" },
      },
    });
    expect(again.status).toBe(202);
    await expectInUse(s, () => updateHost(s, s.source), hostUpdateInUse(s.source.uuid));
  });

  it("a deleted notification does not block", async () => {
    const s = await setUp();
    await sql(
      "UPDATE notifications SET deleted = id, deleted_at = '2026-01-02 00:00:00.000000' WHERE notification_uuid = ?",
      s.notification.notification_uuid,
    );
    expect((await updateSegment(s)).status).toBe(200);
  });

  it("the link is the source host's segment, not the notification's failover_segment_uuid", async () => {
    const s = await setUp();
    const elsewhere = await createSegment();
    await sql(
      "UPDATE notifications SET failover_segment_uuid = ? WHERE notification_uuid = ?",
      elsewhere.uuid,
      s.notification.notification_uuid,
    );
    await expectInUse(s, () => updateSegment(s), segmentUpdateInUse(s.segment.uuid));
    expect((await put(`/v1/segments/${elsewhere.uuid}`, { segment: { description: "free" } })).status).toBe(200);
  });
});

describe("after the host is gone (#217-#222)", () => {
  it("#217 the list shows the statuses set out of band", async () => {
    const s = await setUp();
    await setStatus(s, "finished");
    const res = await get(`/v1/notifications?source_host_uuid=${s.source.uuid}`);
    expect(res.json).toEqual({ notifications: [{ ...s.notification, status: "finished" }] });
  });

  it("#218 #219 deleting the host keeps its notification readable with the deleted host's uuid", async () => {
    const s = await setUp();
    await setStatus(s, "finished");
    const deleted = await deleteHost(s, s.source);
    expect(deleted.status).toBe(204);
    const res = await get(`/v1/notifications/${s.notification.notification_uuid}`);
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 200,
      headers: successHeaders(),
      body: {
        notification: {
          ...s.notification,
          source_host_uuid: s.source.uuid,
          failover_segment_uuid: s.segment.uuid,
          status: "finished",
        },
      },
    });
  });

  it("a notification from a deleted host no longer blocks its former segment", async () => {
    const s = await setUp();
    await setStatus(s, "finished");
    expect((await deleteHost(s, s.source)).status).toBe(204);
    // Back to new, as if the engine re-ran it: its host is gone, so nothing is in use.
    await setStatus(s, "new");
    expect((await updateSegment(s)).status).toBe(200);
    expect((await updateHost(s, s.other)).status).toBe(200);
  });

  it("#220 #221 deleting a segment deletes its hosts", async () => {
    const s = await setUp();
    await setStatus(s, "finished");
    expect((await deleteSegment(s)).status).toBe(204);
    const res = await get(hostPath(s, s.other));
    expect({ status: res.status, body: res.json }).toEqual({
      status: 404,
      body: fault("itemNotFound", 404, hostNotUnder(s.other.uuid, s.segment.uuid)),
    });
    const notification = await get(`/v1/notifications/${s.notification.notification_uuid}`);
    expect(notification.json).toEqual({ notification: { ...s.notification, status: "finished" } });
  });
});
