import { beforeAll, describe, expect, it } from "vitest";
import {
  appWith,
  createSegment,
  duplicateNotification,
  type Exchange,
  expectFault,
  holdRecoveries,
  mustAnswer,
  post,
  sql,
  unique,
} from "./helpers";

holdRecoveries();

// Duplicate detection (docs/upstream.md, "Duplicate notifications"): a
// notification is refused with 409 when a live notification of the same type
// from the same host, with an equal payload (as a dict), was generated at or
// after new.generated_time - duplicate_notification_detection_interval (180 s
// by default). Any status counts; there is no upper bound.

interface Host {
  uuid: string;
  name: string;
}

let segment: { uuid: string };

beforeAll(async () => {
  segment = await createSegment();
});

/** A host of its own for each test, so no other test's notification counts. */
async function createHost(): Promise<Host> {
  const res = await post(`/v1/segments/${segment.uuid}/hosts`, {
    host: { name: unique("compute"), type: "COMPUTE", control_attributes: "SSH" },
  });
  return mustAnswer(res, 201, "host create").json.host;
}

const PAYLOAD = { event: "STOPPED", host_status: "NORMAL", cluster_status: "OFFLINE" };

const body = (host: Host, generated_time: string, fields: Record<string, unknown> = {}) => ({
  notification: { type: "COMPUTE_HOST", hostname: host.name, generated_time, payload: PAYLOAD, ...fields },
});

const notify = (host: Host, generated_time: string, fields: Record<string, unknown> = {}) =>
  post("/v1/notifications", body(host, generated_time, fields));

/** The host's live and deleted notification rows, oldest first. */
const rowsOf = (host: Host) =>
  sql<{ notification_uuid: string; generated_time: string; status: string; deleted: number }>(
    "SELECT notification_uuid, generated_time, status, deleted FROM notifications WHERE source_host_uuid = ? ORDER BY id",
    host.uuid,
  );

async function accepted(res: Exchange) {
  expect(res.status).toBe(202);
  return res.json.notification as { notification_uuid: string; generated_time: string };
}

/** Asserts upstream's duplicate 409 and that the host's rows did not change. */
async function expectDuplicate(host: Host, send: () => Promise<Exchange>, type = "COMPUTE_HOST") {
  const before = await rowsOf(host);
  const res = await send();
  expectFault(res, 409, "conflictingRequest", duplicateNotification(host.name, type));
  expect(await rowsOf(host)).toEqual(before);
}

describe("what counts as a duplicate", () => {
  it("#163 the same notification again is a 409 and stores no row", async () => {
    const host = await createHost();
    await accepted(await notify(host, "2026-01-01T10:00:00Z"));
    await expectDuplicate(host, () => notify(host, "2026-01-01T10:00:00Z"));
    expect(await rowsOf(host)).toHaveLength(1);
  });

  it("a payload with the same keys and values in another order is a duplicate", async () => {
    const host = await createHost();
    await accepted(await notify(host, "2026-01-01T10:00:00Z"));
    await expectDuplicate(host, () =>
      notify(host, "2026-01-01T10:00:00Z", {
        payload: { cluster_status: "OFFLINE", event: "STOPPED", host_status: "NORMAL" },
      }),
    );
  });

  it("the same instant written with another offset is a duplicate", async () => {
    const host = await createHost();
    await accepted(await notify(host, "2026-01-01T10:00:00Z"));
    await expectDuplicate(host, () => notify(host, "2026-01-01T19:00:00+09:00"));
  });

  it.each(["VM", "PROCESS"])("the duplicate message names the type %s unquoted", async (type) => {
    const host = await createHost();
    const payload =
      type === "VM"
        ? {
            instance_uuid: "11111111-2222-3333-4444-555555555555",
            vir_domain_event: "STOPPED_FAILED",
            event: "LIFECYCLE",
          }
        : { process_name: "/usr/sbin/libvirtd", event: "STOPPED" };
    await accepted(await notify(host, "2026-01-01T10:00:00Z", { type, payload }));
    await expectDuplicate(host, () => notify(host, "2026-01-01T10:00:00Z", { type, payload }), type);
  });

  it("#164 another payload from the same host at the same time is accepted", async () => {
    const host = await createHost();
    await accepted(await notify(host, "2026-01-01T10:00:00Z"));
    await accepted(
      await notify(host, "2026-01-01T10:00:00Z", {
        payload: { event: "STARTED", host_status: "NORMAL", cluster_status: "ONLINE" },
      }),
    );
    expect(await rowsOf(host)).toHaveLength(2);
  });

  it("a payload with one key more is not equal, so it is accepted", async () => {
    const host = await createHost();
    await accepted(await notify(host, "2026-01-01T10:00:00Z", { payload: { event: "STOPPED" } }));
    await accepted(
      await notify(host, "2026-01-01T10:00:00Z", { payload: { event: "STOPPED", host_status: "NORMAL" } }),
    );
  });

  it("a payload with one key less is not equal, so it is accepted", async () => {
    const host = await createHost();
    await accepted(
      await notify(host, "2026-01-01T10:00:00Z", { payload: { event: "STOPPED", host_status: "NORMAL" } }),
    );
    await accepted(await notify(host, "2026-01-01T10:00:00Z", { payload: { event: "STOPPED" } }));
  });

  it("a notification of another type from the same host at the same time is accepted", async () => {
    const host = await createHost();
    await accepted(await notify(host, "2026-01-01T10:00:00Z"));
    await accepted(
      await notify(host, "2026-01-01T10:00:00Z", {
        type: "PROCESS",
        payload: { process_name: "/usr/sbin/libvirtd", event: "STOPPED" },
      }),
    );
  });

  // No payload is valid for two types, so the type rule shows only with a
  // stored row whose type was changed.
  it("an equal payload stored under another type does not count", async () => {
    const host = await createHost();
    await accepted(await notify(host, "2026-01-01T10:00:00Z"));
    await sql("UPDATE notifications SET type = 'VM' WHERE source_host_uuid = ?", host.uuid);
    await accepted(await notify(host, "2026-01-01T10:00:00Z"));
  });

  it("the same payload from another host is accepted", async () => {
    const first = await createHost();
    const second = await createHost();
    await accepted(await notify(first, "2026-01-01T10:00:00Z"));
    await accepted(await notify(second, "2026-01-01T10:00:00Z"));
  });
});

describe("the window: generated_time >= new - 180 s, no upper bound", () => {
  it("180 s later is a duplicate (the bound is inclusive)", async () => {
    const host = await createHost();
    await accepted(await notify(host, "2026-01-01T10:00:00Z"));
    await expectDuplicate(host, () => notify(host, "2026-01-01T10:03:00Z"));
  });

  it("181 s later is accepted", async () => {
    const host = await createHost();
    await accepted(await notify(host, "2026-01-01T10:00:00Z"));
    const second = await accepted(await notify(host, "2026-01-01T10:03:01Z"));
    expect(second.generated_time).toBe("2026-01-01T10:03:01.000000");
    expect((await rowsOf(host)).map((r) => r.generated_time)).toEqual([
      "2026-01-01 10:00:00.000000",
      "2026-01-01 10:03:01.000000",
    ]);
  });

  it("180.000001 s later is accepted (microseconds count)", async () => {
    const host = await createHost();
    await accepted(await notify(host, "2026-01-01T10:00:00Z"));
    await accepted(await notify(host, "2026-01-01T10:03:00.000001Z"));
  });

  it("179.999999 s later is a duplicate", async () => {
    const host = await createHost();
    await accepted(await notify(host, "2026-01-01T10:00:00.000001Z"));
    await expectDuplicate(host, () => notify(host, "2026-01-01T10:03:00Z"));
  });

  it("a retro-dated notification (older than the stored one) is a duplicate", async () => {
    const host = await createHost();
    await accepted(await notify(host, "2026-01-01T10:00:00Z"));
    await expectDuplicate(host, () => notify(host, "2025-06-01T00:00:00Z"));
  });

  it("any stored notification inside the window counts, not only the latest", async () => {
    const host = await createHost();
    await accepted(await notify(host, "2026-01-01T10:00:00Z"));
    await accepted(await notify(host, "2026-01-01T10:10:00Z"));
    // 10:02:00 is within 180 s after the first and before the second.
    await expectDuplicate(host, () => notify(host, "2026-01-01T10:02:00Z"));
  });

  it("each accepted notification starts a new window", async () => {
    const host = await createHost();
    await accepted(await notify(host, "2026-01-01T10:00:00Z"));
    await accepted(await notify(host, "2026-01-01T10:03:01Z"));
    await expectDuplicate(host, () => notify(host, "2026-01-01T10:06:01Z"));
    await accepted(await notify(host, "2026-01-01T10:06:02Z"));
  });
});

describe("which stored notifications count", () => {
  it.each(["new", "running", "error", "failed", "ignored", "finished"])(
    "an earlier notification with status %s counts",
    async (status) => {
      const host = await createHost();
      await accepted(await notify(host, "2026-01-01T10:00:00Z"));
      await sql("UPDATE notifications SET status = ? WHERE source_host_uuid = ?", status, host.uuid);
      await expectDuplicate(host, () => notify(host, "2026-01-01T10:00:00Z"));
    },
  );

  it("a deleted earlier notification does not count", async () => {
    const host = await createHost();
    await accepted(await notify(host, "2026-01-01T10:00:00Z"));
    await sql(
      "UPDATE notifications SET deleted = id, deleted_at = '2026-01-02 00:00:00.000000' WHERE source_host_uuid = ?",
      host.uuid,
    );
    await accepted(await notify(host, "2026-01-01T10:00:00Z"));
    expect((await rowsOf(host)).map((r) => r.deleted === 0)).toEqual([false, true]);
  });

  it("a notification seeded as upstream stores it (json.dumps text) counts", async () => {
    const host = await createHost();
    await sql(
      `INSERT INTO notifications (created_at, deleted, notification_uuid, generated_time, source_host_uuid, type, payload, status)
       VALUES ('2026-01-01 10:00:00.000000', 0, ?, '2026-01-01 10:00:00.000000', ?, 'COMPUTE_HOST', ?, 'finished')`,
      crypto.randomUUID(),
      host.uuid,
      '{"host_status": "NORMAL", "cluster_status": "OFFLINE", "event": "STOPPED"}',
    );
    await expectDuplicate(host, () => notify(host, "2026-01-01T10:01:00Z"));
  });
});

describe("a configured interval (DUPLICATE_NOTIFICATION_DETECTION_INTERVAL)", () => {
  const send = (app: ReturnType<typeof appWith>, host: Host, generated_time: string) =>
    app("POST", "/v1/notifications", { body: body(host, generated_time) });

  it("0: an identical notification one second later is accepted", async () => {
    const app = appWith({ DUPLICATE_NOTIFICATION_DETECTION_INTERVAL: "0" });
    const host = await createHost();
    await accepted(await send(app, host, "2026-01-01T10:00:00Z"));
    await accepted(await send(app, host, "2026-01-01T10:00:01Z"));
  });

  it("0: an identical notification with the same generated_time is still a duplicate", async () => {
    const app = appWith({ DUPLICATE_NOTIFICATION_DETECTION_INTERVAL: "0" });
    const host = await createHost();
    await accepted(await send(app, host, "2026-01-01T10:00:00Z"));
    await expectDuplicate(host, () => send(app, host, "2026-01-01T10:00:00Z"));
  });

  it("0: a retro-dated identical notification is still a duplicate", async () => {
    const app = appWith({ DUPLICATE_NOTIFICATION_DETECTION_INTERVAL: "0" });
    const host = await createHost();
    await accepted(await send(app, host, "2026-01-01T10:00:00Z"));
    await expectDuplicate(host, () => send(app, host, "2026-01-01T09:00:00Z"));
  });

  it("3600: an identical notification an hour later is a duplicate, an hour and a second later is not", async () => {
    const app = appWith({ DUPLICATE_NOTIFICATION_DETECTION_INTERVAL: "3600" });
    const host = await createHost();
    await accepted(await send(app, host, "2026-01-01T10:00:00Z"));
    await expectDuplicate(host, () => send(app, host, "2026-01-01T11:00:00Z"));
    await accepted(await send(app, host, "2026-01-01T11:00:01Z"));
  });
});
