import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config";
import {
  call,
  createHost,
  createSegment,
  del,
  type Exchange,
  expectFault,
  get,
  holdRecoveries,
  post,
  put,
  seedNotification,
  segmentUpdateInUse,
  successHeaders,
  UNKNOWN_UUID,
  unique,
  v1Headers,
} from "./helpers";

holdRecoveries();

// Every /v1 request runs its queries in one D1 session (Sessions API); the
// x-d1-bookmark header (ours, not upstream's) carries the session's bookmark
// to the client and back, so a client reads its own writes even from a read
// replica (src/http/pipeline.ts, src/db/session.ts).

/** A bookmark as D1 (and Miniflare) issues it. */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

const bookmarkOf = (res: Exchange) => res.headers.get("x-d1-bookmark");
const withBookmark = (bookmark: string) => ({ headers: { "x-d1-bookmark": bookmark } });

/** A fresh bookmark, from a write. */
async function writeBookmark(): Promise<string> {
  const res = await post("/v1/segments", {
    segment: { name: unique("seg"), recovery_method: "auto", service_type: "COMPUTE" },
  });
  expect(res.status).toBe(202);
  return bookmarkOf(res) ?? "";
}

/**
 * The Worker's app on a D1 binding that records the argument of every
 * withSession and whose sessions started from a bookmark `refuses` accepts
 * fail every query, as D1 does with a bookmark it refuses.
 */
function appOnRecordingD1(refuses: (bookmark: string) => boolean = () => false) {
  const sessions: (string | undefined)[] = [];
  let refusedQueries = 0;
  const refusing = (bookmark: string) => {
    const fail = async () => {
      refusedQueries++;
      throw new Error(`D1_ERROR: refused bookmark ${bookmark}`);
    };
    const statement = { bind: () => statement, first: fail, run: fail, all: fail, raw: fail };
    // As D1's: null until a query succeeds on a session started from a constraint.
    const getBookmark = () => (bookmark.startsWith("first-") ? null : bookmark);
    return { prepare: () => statement, batch: fail, getBookmark };
  };
  const DB = {
    prepare: (query: string) => env.DB.prepare(query),
    batch: (statements: D1PreparedStatement[]) => env.DB.batch(statements),
    exec: (query: string) => env.DB.exec(query),
    withSession(constraintOrBookmark?: string) {
      sessions.push(constraintOrBookmark);
      if (constraintOrBookmark !== undefined && refuses(constraintOrBookmark)) return refusing(constraintOrBookmark);
      return env.DB.withSession(constraintOrBookmark);
    },
  } as unknown as D1Database;
  const app = createApp(loadConfig(env));
  return {
    sessions,
    refusedQueries: () => refusedQueries,
    call: (method: string, path: string, options: Parameters<typeof call>[2] = {}) =>
      call(method, path, options, (request) => app.fetch(request, { ...env, DB })),
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("x-d1-bookmark on responses", () => {
  it("a write's response carries the session's bookmark", async () => {
    const res = await post("/v1/segments", {
      segment: { name: unique("seg"), recovery_method: "auto", service_type: "COMPUTE" },
    });
    expect(res.status).toBe(202);
    expect(bookmarkOf(res)).toMatch(BOOKMARK);
  });

  it("a read's response carries one too, with or without a bookmark sent", async () => {
    const segment = await createSegment();
    expect(bookmarkOf(await get(`/v1/segments/${segment.uuid}`))).toMatch(BOOKMARK);
    expect(bookmarkOf(await get("/v1/segments"))).toMatch(BOOKMARK);
    expect(bookmarkOf(await get("/v1/notifications"))).toMatch(BOOKMARK);
  });

  it("update and delete responses carry one (204 included)", async () => {
    const segment = await createSegment();
    const updated = await put(`/v1/segments/${segment.uuid}`, { segment: { description: "moved" } });
    expect(updated.status).toBe(200);
    expect(bookmarkOf(updated)).toMatch(BOOKMARK);
    const deleted = await del(`/v1/segments/${segment.uuid}`);
    expect(deleted.status).toBe(204);
    expect(bookmarkOf(deleted)).toMatch(BOOKMARK);
  });

  it("the other headers are upstream's, unchanged", async () => {
    const segment = await createSegment();
    const res = await get(`/v1/segments/${segment.uuid}`);
    expect(v1Headers(res)).toEqual(successHeaders());
  });
});

describe("the round trip", () => {
  it("a write's bookmark sent back on a GET: 200, the written row, a bookmark at least as new", async () => {
    const name = unique("seg");
    const created = await post("/v1/segments", {
      segment: { name, recovery_method: "auto", service_type: "COMPUTE" },
    });
    const bookmark = bookmarkOf(created) ?? "";
    expect(bookmark).toMatch(BOOKMARK);

    const shown = await get(`/v1/segments/${created.json.segment.uuid}`, withBookmark(bookmark));
    expect(shown.status).toBe(200);
    expect(shown.json).toEqual({ segment: created.json.segment });
    const next = bookmarkOf(shown) ?? "";
    expect(next).toMatch(BOOKMARK);
    // D1 bookmarks sort oldest to newest: a session never goes back.
    expect(next >= bookmark).toBe(true);

    const listed = await get("/v1/segments?limit=1000", withBookmark(next));
    expect(listed.status).toBe(200);
    expect(listed.json.segments).toContainEqual(created.json.segment);
    expect(bookmarkOf(listed) ?? "").toMatch(BOOKMARK);
  });

  it("a bookmark is read in any case and with surrounding spaces", async () => {
    const bookmark = await writeBookmark();
    const recording = appOnRecordingD1();
    const res = await recording.call("GET", "/v1/segments", withBookmark(`  ${bookmark.toUpperCase()} `));
    expect(res.status).toBe(200);
    expect(recording.sessions).toEqual([bookmark]);
  });

  it("a GET starts from the client's bookmark, or anywhere without one", async () => {
    const bookmark = await writeBookmark();
    const recording = appOnRecordingD1();
    await recording.call("GET", "/v1/segments", withBookmark(bookmark));
    await recording.call("GET", "/v1/segments");
    expect(recording.sessions).toEqual([bookmark, "first-unconstrained"]);
  });

  it("a write starts at the primary, bookmark or not: the primary is newer than any bookmark", async () => {
    const bookmark = await writeBookmark();
    const recording = appOnRecordingD1();
    const segment = { name: unique("seg"), recovery_method: "auto", service_type: "COMPUTE" };
    const created = await recording.call("POST", "/v1/segments", { body: { segment }, ...withBookmark(bookmark) });
    expect(created.status).toBe(202);
    const uuid = created.json.segment.uuid;
    const updated = await recording.call("PUT", `/v1/segments/${uuid}`, { body: { segment: { description: "x" } } });
    expect(updated.status).toBe(200);
    const deleted = await recording.call("DELETE", `/v1/segments/${uuid}`, withBookmark(bookmark));
    expect(deleted.status).toBe(204);
    expect(recording.sessions).toEqual(["first-primary", "first-primary", "first-primary"]);
    for (const res of [created, updated, deleted]) expect(bookmarkOf(res)).toMatch(BOOKMARK);
  });
});

describe("a bookmark that is not one, or that D1 refuses: ignored, never a 400 or a 500", () => {
  const NOT_BOOKMARKS = [
    "garbage",
    "",
    "   ",
    "first-primary",
    "first-unconstrained",
    "00000000-00000001-00000000",
    "00000000-00000001-00000000-0000000000000000000000000000000g",
    `00000000-00000001-00000000-${"0".repeat(32)}-extra`,
    "x".repeat(10_000),
    "'; DROP TABLE failover_segments; --",
  ];

  it.each(
    NOT_BOOKMARKS.map((value) => [value.length > 40 ? `${value.slice(0, 20)}… (${value.length})` : value, value]),
  )("%j on a GET: served as without one, with a real bookmark back", async (_label, value) => {
    const segment = await createSegment();
    const recording = appOnRecordingD1();
    const res = await recording.call("GET", `/v1/segments/${segment.uuid}`, withBookmark(value));
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 200,
      headers: successHeaders(),
      body: { segment },
    });
    expect(bookmarkOf(res)).toMatch(BOOKMARK);
    expect(recording.sessions).toEqual(["first-unconstrained"]);
  });

  it("garbage on a write: the write is done, with a real bookmark back", async () => {
    const name = unique("seg");
    const res = await post(
      "/v1/segments",
      { segment: { name, recovery_method: "auto", service_type: "COMPUTE" } },
      withBookmark("garbage"),
    );
    expect(res.status).toBe(202);
    expect(res.json.segment.name).toBe(name);
    expect(bookmarkOf(res)).toMatch(BOOKMARK);
  });

  it("a bookmark D1 refuses: the query runs again without it, once; 200 and a bookmark of the new session", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const segment = await createSegment();
    const refused = `ffffffff-ffffffff-ffffffff-${"f".repeat(32)}`;
    const recording = appOnRecordingD1((bookmark) => bookmark === refused);
    const res = await recording.call("GET", `/v1/segments/${segment.uuid}`, withBookmark(refused));
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 200,
      headers: successHeaders(),
      body: { segment },
    });
    const bookmark = bookmarkOf(res) ?? "";
    expect(bookmark).toMatch(BOOKMARK);
    expect(bookmark).not.toBe(refused);
    expect(recording.sessions).toEqual([refused, "first-unconstrained"]);
    expect(recording.refusedQueries()).toBe(1);
    expect(warn).toHaveBeenCalledOnce();
  });

  it("a refused bookmark on a list (count and rows): one fallback for the whole request", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const segment = await createSegment();
    await createHost(segment.uuid);
    const refused = `eeeeeeee-eeeeeeee-eeeeeeee-${"e".repeat(32)}`;
    const recording = appOnRecordingD1((bookmark) => bookmark === refused);
    const res = await recording.call("GET", `/v1/segments/${segment.uuid}/hosts`, withBookmark(refused));
    expect(res.status).toBe(200);
    expect(res.json.hosts).toHaveLength(1);
    expect(recording.sessions).toEqual([refused, "first-unconstrained"]);
    expect(recording.refusedQueries()).toBe(1);
  });

  it("a database that fails without any bookmark is still the 500 it was: nothing is run twice", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const recording = appOnRecordingD1(() => true);
    const res = await recording.call("GET", "/v1/segments");
    expectFault(
      res,
      500,
      "masakariFault",
      "The server has either erred or is incapable of performing the requested operation.",
    );
    expect(recording.sessions).toEqual(["first-unconstrained"]);
    expect(recording.refusedQueries()).toBe(1);
    expect(bookmarkOf(res)).toBeNull();
  });
});

describe("faults", () => {
  it("a 404 after a query carries a bookmark", async () => {
    const res = await get(`/v1/segments/${UNKNOWN_UUID}`);
    expectFault(res, 404, "itemNotFound", `No failover segment with id ${UNKNOWN_UUID}.`);
    expect(bookmarkOf(res)).toMatch(BOOKMARK);
  });

  it("a 404 decided without a query (an id that is no uuid) carries none", async () => {
    const res = await get("/v1/segments/not-a-uuid");
    expectFault(res, 404, "itemNotFound", "No failover segment with id not-a-uuid.");
    expect(bookmarkOf(res)).toBeNull();
  });

  it("a 409 after reads carries a bookmark", async () => {
    const segment = await createSegment();
    const host = await createHost(segment.uuid);
    await seedNotification(host.uuid, "running");
    const res = await put(`/v1/segments/${segment.uuid}`, { segment: { description: "x" } });
    expectFault(res, 409, "conflictingRequest", segmentUpdateInUse(segment.uuid));
    expect(bookmarkOf(res)).toMatch(BOOKMARK);
  });

  it("a 409 for a taken name carries a bookmark", async () => {
    const segment = await createSegment();
    const res = await post("/v1/segments", {
      segment: { name: segment.name, recovery_method: "auto", service_type: "COMPUTE" },
    });
    expectFault(res, 409, "conflictingRequest", `Failover segment with name ${segment.name} already exists.`);
    expect(bookmarkOf(res)).toMatch(BOOKMARK);
  });

  it("a 400 refused before any query carries none", async () => {
    const res = await post("/v1/segments", { segment: { name: "x" } });
    expect(res.status).toBe(400);
    expect(bookmarkOf(res)).toBeNull();
  });

  it("an unrouted /v1 path (D7) carries none", async () => {
    const res = await get("/v1/nothing-here", withBookmark(await writeBookmark()));
    expect({ status: res.status, body: res.json }).toEqual({
      status: 404,
      body: { itemNotFound: { code: 404, message: "The resource could not be found." } },
    });
    expect(bookmarkOf(res)).toBeNull();
  });
});

describe("responses that never reach the database carry none", () => {
  it.each(["/", "/v1", "/v1/", "/healthcheck", "/v2"])("GET %s", async (path) => {
    const res = await get(path, withBookmark(await writeBookmark()));
    expect(res.status).toBeLessThan(400);
    expect(bookmarkOf(res)).toBeNull();
  });

  it("the extensions list", async () => {
    const res = await get("/v1/extensions");
    expect(res.status).toBe(200);
    expect(bookmarkOf(res)).toBeNull();
  });
});
