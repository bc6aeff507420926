import { beforeAll, describe, expect, it } from "vitest";
import {
  createHost,
  createSegment,
  expectFaultAt,
  expectListAt,
  get,
  holdRecoveries,
  mustAnswer,
  NOTIFICATION_COLUMNS,
  NOTIFICATION_KEYS,
  post,
  sql,
  UNKNOWN_UUID,
} from "./helpers";

holdRecoveries();

// GET /v1/notifications (docs/upstream.md, "Listing and showing notifications"
// and "Paging and sorting"; exchanges #179-#193) and its agreement with GET
// /v1/notifications/{id}. Every row of this file's database is made in
// beforeAll, so each expected list is known exactly.

type Notification = Record<string, unknown> & { id: number; notification_uuid: string };

async function notify(hostname: string, type: string, generated_time: string, payload: unknown): Promise<Notification> {
  const res = await post("/v1/notifications", { notification: { type, hostname, generated_time, payload } });
  return mustAnswer(res, 202, "notification create").json.notification;
}

const VM_PAYLOAD = {
  instance_uuid: "11111111-2222-3333-4444-555555555555",
  vir_domain_event: "STOPPED_FAILED",
  event: "LIFECYCLE",
};

let hostA1: { uuid: string; name: string };
let hostB1: { uuid: string; name: string };
/** n[1]..n[7]: the live notifications as the API shows them now, in creation order. */
const n: Notification[] = [];
let deleted: Notification;

beforeAll(async () => {
  const segmentA = await createSegment();
  const segmentB = await createSegment();
  hostA1 = await createHost(segmentA.uuid);
  const hostA2 = await createHost(segmentA.uuid);
  hostB1 = await createHost(segmentB.uuid);

  n[1] = await notify(hostA1.name, "COMPUTE_HOST", "2026-01-01T10:00:00Z", {
    event: "STOPPED",
    host_status: "NORMAL",
    cluster_status: "OFFLINE",
  });
  n[2] = await notify(hostA1.name, "COMPUTE_HOST", "2026-01-01T10:00:00Z", {
    event: "STARTED",
    host_status: "NORMAL",
    cluster_status: "ONLINE",
  });
  n[3] = await notify(hostA1.name, "COMPUTE_HOST", "2026-01-01T11:00:00", { event: "STARTED" });
  n[4] = await notify(hostA1.name, "VM", "2026-01-01T10:00:00Z", VM_PAYLOAD);
  n[5] = await notify(hostA1.name, "PROCESS", "2026-01-01T10:00:00Z", {
    process_name: "/usr/sbin/libvirtd",
    event: "STOPPED",
  });
  n[6] = await notify(hostB1.name, "COMPUTE_HOST", "2026-02-01T00:00:00Z", { event: "STOPPED" });
  n[7] = await notify(hostA2.name, "PROCESS", "2025-12-31T23:59:59.5Z", { process_name: "sshd", event: "STOPPED" });
  deleted = await notify(hostB1.name, "PROCESS", "2026-01-01T10:00:00Z", { process_name: "gone", event: "STOPPED" });

  // What the engine could have done since (it is held in this file).
  const change = async (i: number, set: { status?: string; message?: string; updated_at?: string }) => {
    for (const [column, value] of Object.entries(set)) {
      await sql(`UPDATE notifications SET ${column} = ? WHERE notification_uuid = ?`, value, n[i]?.notification_uuid);
    }
    const shown = set.updated_at === undefined ? {} : { updated_at: set.updated_at.replace(" ", "T") };
    n[i] = { ...(n[i] as Notification), ...set, ...shown };
  };
  await change(6, { status: "finished", message: "done", updated_at: "2026-02-01 00:10:00.000000" });
  await change(7, { status: "running", updated_at: "2026-01-01 00:00:00.000000" });
  await change(2, { message: "abc" });
  await sql(
    "UPDATE notifications SET deleted = id, deleted_at = '2026-03-01 00:00:00.000000' WHERE notification_uuid = ?",
    deleted.notification_uuid,
  );
});

const pick = (...indexes: number[]) => indexes.map((i) => n[i]);
/** Newest first: the default order (created_at desc, id desc). */
const ALL = [7, 6, 5, 4, 3, 2, 1];

describe("list (#179, #180)", () => {
  it("#179 lists live notifications newest first, with master's fields in master's order", async () => {
    const res = await expectListAt("/v1/notifications", pick(...ALL));
    for (const item of res.json.notifications) expect(Object.keys(item)).toEqual(NOTIFICATION_KEYS);
  });

  it("a deleted notification is not listed", async () => {
    const res = await get("/v1/notifications");
    const uuids = res.json.notifications.map((x: Notification) => x.notification_uuid);
    expect(uuids).not.toContain(deleted.notification_uuid);
  });

  it.each(["1.1", "1.2", "latest"])(
    "#180 the list at %s has no recovery_workflow_details (show only)",
    async (version) => {
      const res = await expectListAt("/v1/notifications", pick(...ALL), version);
      for (const item of res.json.notifications) expect(item).not.toHaveProperty("recovery_workflow_details");
    },
  );

  it("each list item is what show answers at 1.0", async () => {
    const list = await get("/v1/notifications");
    for (const item of list.json.notifications) {
      const shown = await get(`/v1/notifications/${item.notification_uuid}`);
      expect(shown.json).toEqual({ notification: item });
    }
  });

  it("show keeps the list item's values and adds recovery_workflow_details, [] before any flow ran, at 1.1 (D13)", async () => {
    const shown = await get(`/v1/notifications/${n[6]?.notification_uuid}`, { version: "1.1" });
    expect(shown.json).toEqual({ notification: { ...n[6], recovery_workflow_details: [] } });
  });
});

describe("limit and marker (#181-#184)", () => {
  it("#181 limit=1 answers the newest", async () => {
    await expectListAt("/v1/notifications?limit=1", pick(7));
  });

  it("#182 marker is the integer id of the last item seen", async () => {
    await expectListAt(`/v1/notifications?limit=1&marker=${n[7]?.id}`, pick(6));
    await expectListAt(`/v1/notifications?limit=2&marker=${n[6]?.id}`, pick(5, 4));
  });

  it("a marker without a limit answers the rest", async () => {
    await expectListAt(`/v1/notifications?marker=${n[4]?.id}`, pick(3, 2, 1));
  });

  it("the marker of the oldest notification answers an empty list", async () => {
    await expectListAt(`/v1/notifications?marker=${n[1]?.id}`, []);
  });

  it("limit=0 answers an empty list", async () => {
    await expectListAt("/v1/notifications?limit=0", []);
  });

  it("#183 the uuid of a notification is not a marker", async () => {
    await expectFaultAt(
      `/v1/notifications?marker=${n[7]?.notification_uuid}`,
      400,
      "badRequest",
      `Marker ${n[7]?.notification_uuid} could not be found.`,
    );
  });

  it("#184 an unknown marker is a 400", async () => {
    await expectFaultAt(
      `/v1/notifications?marker=${UNKNOWN_UUID}`,
      400,
      "badRequest",
      `Marker ${UNKNOWN_UUID} could not be found.`,
    );
    await expectFaultAt("/v1/notifications?marker=999999", 400, "badRequest", "Marker 999999 could not be found.");
  });

  it("the id of a deleted notification is not a marker", async () => {
    await expectFaultAt(
      `/v1/notifications?marker=${deleted.id}`,
      400,
      "badRequest",
      `Marker ${deleted.id} could not be found.`,
    );
  });

  it("the marker is looked up among all notifications, whatever the filters", async () => {
    // n7 is from another host than the filter's; the page continues after it.
    await expectListAt(`/v1/notifications?source_host_uuid=${hostB1.uuid}&marker=${n[7]?.id}`, pick(6));
  });

  it.each([
    ["abc", "Invalid input received: limit must be an integer"],
    ["1.5", "Invalid input received: limit must be an integer"],
    ["-1", "Invalid input received: limit must be >= 0"],
  ])("limit=%s is a 400", async (limit, message) => {
    await expectFaultAt(`/v1/notifications?limit=${limit}`, 400, "badRequest", message);
  });
});

describe("filters (#185-#188)", () => {
  it("#185 status=new", async () => {
    await expectListAt("/v1/notifications?status=new", pick(5, 4, 3, 2, 1));
  });

  it("#186 status=finished", async () => {
    await expectListAt("/v1/notifications?status=finished", pick(6));
  });

  it("status=running", async () => {
    await expectListAt("/v1/notifications?status=running", pick(7));
  });

  it.each(["bogus", "NEW", ""])("status=%j matches nothing and is not an error", async (status) => {
    await expectListAt(`/v1/notifications?status=${status}`, []);
  });

  it("#187 type=VM", async () => {
    await expectListAt("/v1/notifications?type=VM", pick(4));
  });

  it("type=PROCESS", async () => {
    await expectListAt("/v1/notifications?type=PROCESS", pick(7, 5));
  });

  it.each(["bogus", "vm"])("type=%s matches nothing and is not an error", async (type) => {
    await expectListAt(`/v1/notifications?type=${type}`, []);
  });

  it("#188 source_host_uuid", async () => {
    await expectListAt(`/v1/notifications?source_host_uuid=${hostA1.uuid}`, pick(5, 4, 3, 2, 1));
  });

  it("an unknown source_host_uuid matches nothing and is not an error", async () => {
    await expectListAt(`/v1/notifications?source_host_uuid=${UNKNOWN_UUID}`, []);
    await expectListAt("/v1/notifications?source_host_uuid=abc", []);
  });

  it("filters combine", async () => {
    await expectListAt(`/v1/notifications?source_host_uuid=${hostA1.uuid}&type=COMPUTE_HOST&status=new`, pick(3, 2, 1));
  });

  it("failover_segment_uuid is not a filter of the API", async () => {
    await expectListAt(`/v1/notifications?failover_segment_uuid=${n[6]?.failover_segment_uuid}`, pick(...ALL));
  });

  it("an unknown query parameter is ignored", async () => {
    await expectListAt("/v1/notifications?hostname=nobody", pick(...ALL));
  });
});

describe("generated-since (#189-#191)", () => {
  const since = (value: string) => `?generated-since=${encodeURIComponent(value)}`;

  it("#189 a future time matches nothing", async () => {
    await expectListAt(`/v1/notifications${since("2030-01-01T00:00:00Z")}`, []);
  });

  it("#190 a past time matches all", async () => {
    await expectListAt(`/v1/notifications${since("2020-01-01T00:00:00Z")}`, pick(...ALL));
  });

  it("the bound is inclusive", async () => {
    await expectListAt(`/v1/notifications${since("2026-01-01T11:00:00Z")}`, pick(6, 3));
  });

  it("microseconds count", async () => {
    await expectListAt(`/v1/notifications${since("2026-01-01T11:00:00.000001Z")}`, pick(6));
    await expectListAt(`/v1/notifications${since("2025-12-31T23:59:59.5Z")}`, pick(...ALL));
    await expectListAt(`/v1/notifications${since("2025-12-31T23:59:59.500001Z")}`, pick(6, 5, 4, 3, 2, 1));
  });

  it("an offset is converted to UTC", async () => {
    await expectListAt(`/v1/notifications${since("2026-01-01T20:00:00+09:00")}`, pick(6, 3));
    await expectListAt(`/v1/notifications${since("2026-01-01T20:00:01+09:00")}`, pick(6));
    await expectListAt(`/v1/notifications${since("2026-01-01T05:00:00-05:00")}`, pick(6, 5, 4, 3, 2, 1));
  });

  it("a time without a zone is UTC", async () => {
    await expectListAt(`/v1/notifications${since("2026-01-01T11:00:00")}`, pick(6, 3));
  });

  it("a date alone is midnight UTC", async () => {
    await expectListAt(`/v1/notifications${since("2026-01-02")}`, pick(6));
  });

  it("the filter combines with the others", async () => {
    await expectListAt(`/v1/notifications${since("2026-01-01T10:00:00Z")}&type=COMPUTE_HOST`, pick(6, 3, 2, 1));
  });

  it.each(["abc", "", "2026-13-01", "2026-01-01T24:00:00"])("#191 generated-since=%j is a 400", async (value) => {
    await expectFaultAt(`/v1/notifications${since(value)}`, 400, "badRequest", "Invalid generated-since value");
  });

  it("generated_since (underscore) is not the filter", async () => {
    await expectListAt("/v1/notifications?generated_since=2030-01-01T00:00:00Z", pick(...ALL));
  });

  it("a bad limit is reported before a bad generated-since", async () => {
    await expectFaultAt(
      "/v1/notifications?limit=abc&generated-since=abc",
      400,
      "badRequest",
      "Invalid input received: limit must be an integer",
    );
  });

  it("a bad generated-since is reported before a bad marker or sort key", async () => {
    await expectFaultAt(
      "/v1/notifications?generated-since=abc&marker=999999&sort_key=bogus",
      400,
      "badRequest",
      "Invalid generated-since value",
    );
  });
});

// Compares like SQLite: NULL first, integers by value, text by code unit.
function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a) < String(b) ? -1 : 1;
}

/** The live rows' ids ordered by `key` then created_at and id, all in `dir`. */
async function expectedOrder(key: string, dir: "asc" | "desc"): Promise<number[]> {
  const rows = await sql("SELECT * FROM notifications WHERE deleted = 0");
  const keys = [key, ...["created_at", "id"].filter((k) => k !== key)];
  const sign = dir === "asc" ? 1 : -1;
  return rows
    .sort((x, y) => {
      for (const k of keys) {
        const c = compare(x[k], y[k]);
        if (c !== 0) return sign * c;
      }
      return 0;
    })
    .map((r) => r.id as number);
}

describe("sorting (#192, #193)", () => {
  it("#192 sort_key=generated_time&sort_dir=asc: ties by created_at, then id, ascending", async () => {
    await expectListAt("/v1/notifications?sort_key=generated_time&sort_dir=asc", pick(7, 1, 2, 4, 5, 3, 6));
  });

  it("sort_key=generated_time (dir defaults to desc)", async () => {
    await expectListAt("/v1/notifications?sort_key=generated_time", pick(6, 3, 5, 4, 2, 1, 7));
  });

  it("sort_dir=asc alone sorts by created_at, id ascending", async () => {
    await expectListAt("/v1/notifications?sort_dir=asc", pick(1, 2, 3, 4, 5, 6, 7));
  });

  it.each(NOTIFICATION_COLUMNS.flatMap((key) => [[key, "asc"] as const, [key, "desc"] as const]))(
    "sort_key=%s&sort_dir=%s orders by that column, NULL first",
    async (key, dir) => {
      const res = await get(`/v1/notifications?sort_key=${key}&sort_dir=${dir}`);
      expect(res.status).toBe(200);
      expect(res.json.notifications.map((x: Notification) => x.id)).toEqual(await expectedOrder(key, dir));
    },
  );

  it("sort_key=message&sort_dir=asc puts notifications without a message first", async () => {
    await expectListAt("/v1/notifications?sort_key=message&sort_dir=asc", pick(1, 3, 4, 5, 7, 2, 6));
  });

  it("sort_key=failover_segment_uuid groups the notifications of each segment", async () => {
    const res = await get("/v1/notifications?sort_key=failover_segment_uuid&sort_dir=asc");
    const segments = res.json.notifications.map((x: Notification) => x.failover_segment_uuid);
    expect(segments).toEqual([...segments].sort());
    expect(new Set(segments).size).toBe(2);
  });

  it("two sort keys with two directions; the appended created_at and id take the first", async () => {
    await expectListAt(
      "/v1/notifications?sort_key=type&sort_dir=asc&sort_key=generated_time&sort_dir=desc",
      pick(6, 3, 1, 2, 5, 7, 4),
    );
  });

  it("a second key without a direction takes the first direction", async () => {
    await expectListAt(
      "/v1/notifications?sort_key=type&sort_key=generated_time&sort_dir=asc",
      pick(1, 2, 3, 6, 7, 5, 4),
    );
  });

  it("a marker pages through a sorted list", async () => {
    await expectListAt(`/v1/notifications?sort_key=generated_time&sort_dir=asc&limit=2&marker=${n[1]?.id}`, pick(2, 4));
    await expectListAt(`/v1/notifications?sort_key=generated_time&sort_dir=asc&limit=2&marker=${n[5]?.id}`, pick(3, 6));
  });

  it("#193 an unknown sort key is a 400 InvalidSortKey", async () => {
    await expectFaultAt(
      "/v1/notifications?sort_key=bogus",
      400,
      "badRequest",
      "InvalidSortKey('Sort key supplied is invalid: bogus')",
    );
  });

  it("uuid is not a sort key of notifications (it is not a column)", async () => {
    await expectFaultAt(
      "/v1/notifications?sort_key=uuid",
      400,
      "badRequest",
      "InvalidSortKey('Sort key supplied is invalid: uuid')",
    );
  });

  it("hostname is not a sort key either", async () => {
    await expectFaultAt(
      "/v1/notifications?sort_key=hostname",
      400,
      "badRequest",
      "InvalidSortKey('Sort key supplied is invalid: hostname')",
    );
  });

  it("an unknown sort direction is a 400", async () => {
    await expectFaultAt(
      "/v1/notifications?sort_key=type&sort_dir=sideways",
      400,
      "badRequest",
      "Invalid input received: Unknown sort direction, must be 'asc' or 'desc'",
    );
  });

  it("more directions than keys is a 400", async () => {
    await expectFaultAt(
      "/v1/notifications?sort_key=type&sort_dir=asc&sort_dir=desc",
      400,
      "badRequest",
      "Invalid input received: Sort direction size exceeds sort key size",
    );
  });

  it("a bad marker is reported before an unknown sort key", async () => {
    await expectFaultAt(
      "/v1/notifications?sort_key=bogus&marker=999999",
      400,
      "badRequest",
      "Marker 999999 could not be found.",
    );
  });
});
