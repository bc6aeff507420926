// The smoke test's steps, in order. Each one makes its requests and returns a
// one-line account of what held, `skip(note)` when it does not apply to this
// deployment, or throws a Mismatch saying what it expected and what came.
// Nothing here creates hosts or notifications; the one segment it creates is
// disabled, carries a smoke- name, and is deleted by its own step or by
// cleanup().

import { randomBytes } from "node:crypto";
import { faultOf, received } from "./http.mjs";

/** The newest microversion this smoke speaks (masakari master's maximum). */
export const MAX_MICROVERSION = "1.3";
const PAGE = 25;
const BOOKMARK = "x-d1-bookmark";

/** A check that did not hold. */
export class Mismatch extends Error {
  constructor(expected, got) {
    super(`expected ${expected}; received ${got}`);
    this.expected = expected;
    this.received = got;
  }
}

export const skip = (note) => ({ skipped: true, note });

/**
 * The run's state, shared by the steps and cleanup.
 * @param {import("./http.mjs").Client} client
 * @param {{ root: string, v1: string, api: string }} target
 */
export function newContext(client, target, { tokenGiven }) {
  return {
    client,
    target,
    tokenGiven,
    /** set when the service gave no answer at all: the later steps are not run */
    unreachable: null,
    firstSegment: null,
    /** the segment this run created: { uuid, name, enabled, deleted } */
    segment: null,
    /** the name sent on create, kept for cleanup when the create's answer was lost */
    pendingName: null,
    bookmarks: { create: null, latest: null },
  };
}

export const steps = [
  { name: "versions", run: versionList },
  { name: "v1 version", run: versionDocument },
  { name: "auth", run: tokenRequired },
  { name: "segments list", run: listSegments },
  { name: "hosts list", needs: ["segments list"], run: listHosts },
  { name: "notifications list", run: listNotifications },
  { name: "segment create", run: createSegment },
  { name: "segment show", needs: ["segment create"], run: showSegment },
  { name: "x-d1-bookmark", needs: ["segment create"], run: bookmarkRoundTrip },
  { name: "segment update", needs: ["segment create"], run: updateSegment },
  { name: "segment update visible", needs: ["segment update"], run: updateVisible },
  { name: "segment delete", needs: ["segment create"], run: deleteSegment },
  { name: "segment deleted", needs: ["segment delete"], run: segmentGone },
];

// ---- 1. versions -------------------------------------------------------------------

async function versionList(ctx) {
  const url = `${ctx.target.root}/`;
  const exchange = await ctx.client.request("GET", url, { token: false, microversion: false });
  if (exchange.status === null) ctx.unreachable = `${url} did not answer`;
  expectStatus(exchange, [200], `from GET ${url} with a versions document`);
  const versions = exchange.json?.versions;
  if (!Array.isArray(versions) || versions.length === 0) {
    throw new Mismatch(`{"versions": [...]} from GET ${url}`, received(exchange));
  }
  const v1 = versions.find((v) => v?.id === "v1.0" || v?.id === "v1") ?? versions[0];
  const max = parseVersion(v1?.version);
  if (max) ctx.client.microversion = formatVersion(lesser(max, parseVersion(MAX_MICROVERSION)));
  return `${v1?.id} ${v1?.status}, microversions ${v1?.min_version || "1.0"} to ${v1?.version || "1.0"}`;
}

async function versionDocument(ctx) {
  const url = ctx.target.v1;
  const exchange = await ctx.client.request("GET", url, { microversion: false });
  expectStatus(exchange, [200], `from GET ${url} with the v1 document`);
  const doc = exchange.json?.version;
  if (!doc || typeof doc !== "object" || !doc.id) {
    throw new Mismatch(`{"version": {"id": ...}} from GET ${url}`, received(exchange));
  }
  const max = parseVersion(doc.version) ?? [1, 0];
  const min = parseVersion(doc.min_version) ?? [1, 0];
  const use = lesser(max, parseVersion(MAX_MICROVERSION));
  if (compare(use, min) < 0) {
    throw new Mismatch(
      `a server that speaks a microversion up to ${MAX_MICROVERSION}`,
      `min_version ${doc.min_version}`,
    );
  }
  ctx.client.microversion = formatVersion(use);
  return `${doc.id} ${doc.status}, max microversion ${doc.version || "none (1.0)"}; using instance-ha ${ctx.client.microversion}`;
}

// ---- 2. auth -------------------------------------------------------------------------

async function tokenRequired(ctx) {
  if (!ctx.tokenGiven) return skip("no token given (--token or --os-cloud): requests go without one (noauth2)");
  const url = `${ctx.target.api}/segments?limit=1`;
  const exchange = await ctx.client.request("GET", url, { token: false });
  expectStatus(exchange, [401], `from GET ${url} without a token`);
  const challenge = exchange.headers.get("www-authenticate");
  return `401 without a token${challenge ? ` (WWW-Authenticate: ${challenge})` : ""}`;
}

// ---- 3. lists --------------------------------------------------------------------------

async function listSegments(ctx) {
  const segments = await list(ctx, "segments", `${ctx.target.api}/segments?limit=${PAGE}`);
  ctx.firstSegment = segments[0] ?? null;
  return `${counted(segments.length, "segment")} on the first page (limit ${PAGE})`;
}

async function listHosts(ctx) {
  if (!ctx.firstSegment) return skip("no segment to list the hosts of");
  const { uuid, name } = ctx.firstSegment;
  const hosts = await list(ctx, "hosts", `${ctx.target.api}/segments/${uuid}/hosts?limit=${PAGE}`);
  return `${counted(hosts.length, "host")} in segment ${name} (${uuid})`;
}

async function listNotifications(ctx) {
  const notifications = await list(ctx, "notifications", `${ctx.target.api}/notifications?limit=${PAGE}`);
  return `${counted(notifications.length, "notification")} on the first page (limit ${PAGE})`;
}

async function list(ctx, key, url) {
  const exchange = await ctx.client.request("GET", url);
  expectStatus(exchange, [200], `from GET ${url} with {"${key}": [...]}`);
  const items = exchange.json?.[key];
  if (!Array.isArray(items)) throw new Mismatch(`{"${key}": [...]} from GET ${url}`, received(exchange));
  return items;
}

// ---- 4. a segment's life ---------------------------------------------------------------

async function createSegment(ctx) {
  const name = `smoke-${randomBytes(4).toString("hex")}`;
  const body = {
    name,
    recovery_method: "auto",
    service_type: "COMPUTE",
    description: "masakari smoke test (deleted by the same run)",
  };
  // `enabled` is accepted in a body only from 1.2 (docs/upstream.md,
  // "Microversions")
  const disabled = compare(parseVersion(ctx.client.microversion) ?? [1, 0], [1, 2]) >= 0;
  if (disabled) body.enabled = false;
  ctx.pendingName = name;
  const url = `${ctx.target.api}/segments`;
  const exchange = await ctx.client.request("POST", url, { body: { segment: body } });
  const segment = exchange.json?.segment;
  if (exchange.status >= 200 && exchange.status < 300 && typeof segment?.uuid === "string") {
    ctx.segment = { uuid: segment.uuid, name, enabled: disabled ? false : undefined, deleted: false };
  } else if (exchange.status !== null && exchange.status < 500) {
    ctx.pendingName = null; // refused: nothing was created
  }
  // 201 upstream, 202 from masakari-edge (README's D2)
  expectStatus(exchange, [201, 202], `from POST ${url} with the new segment`);
  if (!ctx.segment) throw new Mismatch(`{"segment": {"uuid": ...}} from POST ${url}`, received(exchange));
  expectFields(segment, {
    name,
    recovery_method: "auto",
    service_type: "COMPUTE",
    ...(disabled && { enabled: false }),
  });
  ctx.bookmarks.create = noteBookmark(ctx, exchange);
  return `${exchange.status}, ${name} (${segment.uuid})${disabled ? ", disabled" : ", enabled (microversion < 1.2)"}`;
}

async function showSegment(ctx) {
  const { uuid, name } = ctx.segment;
  const { exchange, sent } = await readAfterWrite(ctx, `${ctx.target.api}/segments/${uuid}`);
  expectStatus(exchange, [200], `from GET ${exchange.url} with the new segment`);
  expectFields(exchange.json?.segment, { uuid, name, ...(ctx.segment.enabled === false && { enabled: false }) });
  return `200, ${name}${sent}`;
}

async function bookmarkRoundTrip(ctx) {
  const bookmark = ctx.bookmarks.create;
  if (!bookmark) {
    return skip(`the create's answer carries no ${BOOKMARK} (Masakari has none; masakari-edge's own header)`);
  }
  const url = `${ctx.target.api}/segments/${ctx.segment.uuid}`;
  const exchange = await ctx.client.request("GET", url, { headers: { [BOOKMARK]: bookmark } });
  expectStatus(exchange, [200], `from GET ${url} with the create's ${BOOKMARK}: the new segment`);
  expectFields(exchange.json?.segment, { uuid: ctx.segment.uuid });
  const back = exchange.headers.get(BOOKMARK);
  if (!back) throw new Mismatch(`an ${BOOKMARK} on the show's answer too`, `${exchange.status} without one`);
  return `the create's ${abbreviated(bookmark)} sent back on a show: read the new segment, answered ${abbreviated(back)}`;
}

async function updateSegment(ctx) {
  const description = `masakari smoke test, updated ${new Date().toISOString()}`;
  const url = `${ctx.target.api}/segments/${ctx.segment.uuid}`;
  const exchange = await ctx.client.request("PUT", url, { body: { segment: { description } } });
  noteBookmark(ctx, exchange);
  expectStatus(exchange, [200], `from PUT ${url} with the updated segment`);
  expectFields(exchange.json?.segment, { uuid: ctx.segment.uuid, description });
  ctx.segment.description = description;
  return `200, description "${description}"`;
}

async function updateVisible(ctx) {
  const { exchange, sent } = await readAfterWrite(ctx, `${ctx.target.api}/segments/${ctx.segment.uuid}`);
  expectStatus(exchange, [200], `from GET ${exchange.url} with the updated segment`);
  expectFields(exchange.json?.segment, { description: ctx.segment.description });
  return `a show has the new description${sent}`;
}

async function deleteSegment(ctx) {
  const url = `${ctx.target.api}/segments/${ctx.segment.uuid}`;
  const exchange = await ctx.client.request("DELETE", url);
  noteBookmark(ctx, exchange);
  if (exchange.status >= 200 && exchange.status < 300) ctx.segment.deleted = true;
  expectStatus(exchange, [204], `from DELETE ${url}`);
  return `204, ${ctx.segment.name} deleted`;
}

async function segmentGone(ctx) {
  const { exchange, sent } = await readAfterWrite(ctx, `${ctx.target.api}/segments/${ctx.segment.uuid}`);
  const fault = faultOf(exchange.json);
  if (exchange.status !== 404 || fault?.name !== "itemNotFound" || fault.code !== 404) {
    throw new Mismatch(
      `404 {"itemNotFound": {"code": 404, "message": ...}} from GET ${exchange.url}`,
      received(exchange),
    );
  }
  return `404 itemNotFound: ${fault.message}${sent}`;
}

/**
 * Removes what the run created and did not delete itself. Never throws a
 * Mismatch: returns { ok, detail } (or null when there was nothing to do).
 * @param {AbortSignal} signal  its own: cleanup runs after an interrupt too
 */
export async function cleanup(ctx, signal) {
  const { client, target } = ctx;
  let segment = ctx.segment;
  if (segment?.deleted) return null;
  if (!segment) {
    if (!ctx.pendingName) return null;
    // the create's answer was lost: it may have been created all the same
    const url = `${target.api}/segments?limit=100`;
    const exchange = await client.request("GET", url, { signal });
    const found = Array.isArray(exchange.json?.segments)
      ? exchange.json.segments.find((s) => s?.name === ctx.pendingName)
      : undefined;
    if (exchange.status !== 200) {
      return { ok: false, detail: `could not look for ${ctx.pendingName}: ${received(exchange)}` };
    }
    if (!found) return { ok: true, detail: `no segment named ${ctx.pendingName} was created` };
    segment = { uuid: found.uuid, name: found.name };
  }
  const url = `${target.api}/segments/${segment.uuid}`;
  const exchange = await client.request("DELETE", url, { signal });
  if (exchange.status === 204 || exchange.status === 404) {
    if (ctx.segment) ctx.segment.deleted = true;
    return {
      ok: true,
      detail: `segment ${segment.name} (${segment.uuid}) ${exchange.status === 204 ? "deleted" : "already gone"}`,
    };
  }
  return {
    ok: false,
    detail: `segment ${segment.name} (${segment.uuid}) remains: expected 204 from DELETE ${url}; received ${received(exchange)}`,
  };
}

// ---- helpers ---------------------------------------------------------------------------

/** A GET after a write: it carries the newest x-d1-bookmark seen, so a read replica cannot answer from before it. */
async function readAfterWrite(ctx, url) {
  const bookmark = ctx.bookmarks.latest;
  const headers = bookmark ? { [BOOKMARK]: bookmark } : {};
  const exchange = await ctx.client.request("GET", url, { headers });
  noteBookmark(ctx, exchange);
  return { exchange, sent: bookmark ? ` (sent ${BOOKMARK} ${abbreviated(bookmark)})` : "" };
}

function noteBookmark(ctx, exchange) {
  const bookmark = exchange.headers.get(BOOKMARK);
  if (bookmark) ctx.bookmarks.latest = bookmark;
  return bookmark;
}

function expectStatus(exchange, statuses, what) {
  if (!statuses.includes(exchange.status)) throw new Mismatch(`${statuses.join(" or ")} ${what}`, received(exchange));
}

function expectFields(object, expected) {
  if (!object || typeof object !== "object") throw new Mismatch("a segment object", JSON.stringify(object));
  for (const [key, value] of Object.entries(expected)) {
    if (object[key] !== value) {
      throw new Mismatch(`${key} ${JSON.stringify(value)}`, `${key} ${JSON.stringify(object[key])}`);
    }
  }
}

const counted = (n, noun) => `${n} ${noun}${n === 1 ? "" : "s"}`;
// a D1 bookmark's first three groups say where it is; the rest is a hash
const abbreviated = (bookmark) => (bookmark.length > 30 ? `${bookmark.slice(0, 26)}…` : bookmark);

/** "1.2" → [1, 2]; anything else → null. */
export function parseVersion(text) {
  const match = /^([1-9]\d*)\.(0|[1-9]\d*)$/.exec(String(text ?? ""));
  return match ? [Number(match[1]), Number(match[2])] : null;
}

const compare = (a, b) => a[0] - b[0] || a[1] - b[1];
const lesser = (a, b) => (compare(a, b) <= 0 ? a : b);
const formatVersion = (v) => `${v[0]}.${v[1]}`;
