// The client against this Worker under `wrangler dev` (AUTH_STRATEGY=
// noauth2, a fresh local D1): MASAKARI_URL is its root. Started and stopped
// by test/run.sh (npm run test:client at the repository root).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { before, describe, it } from "node:test";
import {
  BadRequest,
  Conflict,
  createMasakariClient,
  type Host,
  MasakariError,
  NotFound,
  type Segment,
  ServiceUnavailable,
} from "../src/index.ts";

const BASE = process.env.MASAKARI_URL;
if (!BASE) throw new Error("MASAKARI_URL is not set: run npm run test:client at the repository root");

const REQUEST_ID = /^req-[0-9a-f-]{36}$/;
const masakari = createMasakariClient({ baseUrl: BASE, token: "ignored-under-noauth2" });
/** A name no other test uses. */
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** The typed error a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<MasakariError> {
  const error = await promise.then(
    () => assert.fail("expected a fault"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof MasakariError, `not a MasakariError: ${error}`);
  assert.match(error.requestId ?? "", REQUEST_ID);
  return error;
}

describe("versions", () => {
  it("the public root lists v1 up to microversion 1.3", async () => {
    const { data, error, response } = await masakari.GET("/");
    assert.equal(error, undefined);
    assert.equal(response.status, 200);
    const v1 = data?.versions.find((v) => v.id === "v1.0");
    assert.equal(v1?.version, "1.3");
    assert.equal(v1?.min_version, "1.0");
  });

  it("the /v1 endpoint is a base URL too, and the microversion is the one asked for", async () => {
    const at10 = createMasakariClient({ baseUrl: `${BASE}/v1/`, microversion: "1.0" });
    const { data, response } = await at10.GET("/v1/segments");
    assert.ok(Array.isArray(data?.segments));
    assert.equal(response.headers.get("openstack-api-version"), "masakari 1.0");
    const { response: latest } = await masakari.GET("/v1/segments");
    assert.equal(latest.headers.get("openstack-api-version"), "masakari 1.3");
  });
});

describe("segments", () => {
  it("create, list, show, update and delete", async () => {
    const name = unique("rack");
    const created = await masakari.segments.create({
      name,
      recovery_method: "auto",
      service_type: "COMPUTE",
      description: "rack one",
      enabled: true,
    });
    assert.equal(created.name, name);
    assert.equal(created.recovery_method, "auto");
    assert.equal(created.enabled, true);
    assert.match(created.uuid, /^[0-9a-f-]{36}$/);

    const listed = await masakari.segments.list({ recovery_method: "auto", sort_key: ["name"], sort_dir: ["asc"] });
    assert.ok(listed.some((s: Segment) => s.uuid === created.uuid));

    assert.deepEqual(await masakari.segments.get(created.uuid), created);

    const updated = await masakari.segments.update(created.uuid, {
      description: null,
      recovery_method: "reserved_host",
      enabled: false,
    });
    assert.equal(updated.description, null);
    assert.equal(updated.recovery_method, "reserved_host");
    assert.equal(updated.enabled, false);
    assert.equal(updated.name, name);

    await masakari.segments.delete(created.uuid);
    const gone = await rejection(masakari.segments.get(created.uuid));
    assert.ok(gone instanceof NotFound);
  });

  it("the typed calls, in the /v1/{project_id} form", async () => {
    const project = "0a1b2c3d4e5f";
    const scoped = createMasakariClient({ baseUrl: BASE, projectId: project, headers: { "X-Project-Id": project } });
    const posted = await scoped.POST("/v1/segments", {
      body: { segment: { name: unique("scoped"), recovery_method: "rh_priority", service_type: "COMPUTE" } },
    });
    assert.equal(posted.response.status, 202);
    assert.equal(new URL(posted.response.url).pathname, `/v1/${project}/segments`);
    const uuid = posted.data?.segment.uuid ?? assert.fail("no segment");
    const shown = await scoped.GET("/v1/segments/{id}", { params: { path: { id: uuid } } });
    assert.equal(shown.data?.segment.recovery_method, "rh_priority");
    const deleted = await scoped.DELETE("/v1/segments/{id}", { params: { path: { id: uuid } } });
    assert.equal(deleted.response.status, 204);
    assert.equal(deleted.error, undefined);

    // a project that is not the caller's is a 400, as upstream
    const other = createMasakariClient({ baseUrl: BASE, projectId: "ffff", headers: { "X-Project-Id": project } });
    const mismatch = await rejection(other.segments.list());
    assert.ok(mismatch instanceof BadRequest);
    assert.match(mismatch.message, /URL's project_id 'ffff' doesn't match Context's project_id '0a1b2c3d4e5f'/);
  });

  it("an unknown segment is a NotFound (404, itemNotFound)", async () => {
    const id = randomUUID();
    const error = await rejection(masakari.segments.get(id));
    assert.ok(error instanceof NotFound);
    assert.ok(!(error instanceof Conflict));
    assert.equal(error.status, 404);
    assert.equal(error.fault, "itemNotFound");
    assert.equal(error.message, `No failover segment with id ${id}.`);

    // the same fault, as the typed call answers it
    const { data, error: body, response } = await masakari.GET("/v1/segments/{id}", { params: { path: { id } } });
    assert.equal(data, undefined);
    assert.equal(response.status, 404);
    assert.ok(body && "itemNotFound" in body);
    assert.equal(body.itemNotFound.code, 404);
  });

  it("a duplicate name is a Conflict (409, conflictingRequest)", async () => {
    const segment = { name: unique("dup"), recovery_method: "auto", service_type: "COMPUTE" };
    const first = await masakari.segments.create(segment);
    const error = await rejection(masakari.segments.create(segment));
    assert.ok(error instanceof Conflict);
    assert.ok(!(error instanceof NotFound));
    assert.equal(error.status, 409);
    assert.equal(error.fault, "conflictingRequest");
    assert.equal(error.message, `Failover segment with name ${segment.name} already exists.`);
    await masakari.segments.delete(first.uuid);
  });

  it("a field newer than the client's microversion is a BadRequest", async () => {
    const at10 = createMasakariClient({ baseUrl: BASE, microversion: "1.0" });
    const error = await rejection(
      at10.segments.create({ name: unique("old"), recovery_method: "auto", service_type: "COMPUTE", enabled: true }),
    );
    assert.ok(error instanceof BadRequest);
    assert.equal(error.fault, "badRequest");
  });
});

describe("hosts", () => {
  let segmentId = "";
  before(async () => {
    segmentId = (
      await masakari.segments.create({ name: unique("hosts"), recovery_method: "auto", service_type: "COMPUTE" })
    ).uuid;
  });

  it("create, list, show, update and delete", async () => {
    const name = unique("compute");
    const created = await masakari.hosts.create(segmentId, { name, type: "COMPUTE", control_attributes: "SSH" });
    assert.equal(created.name, name);
    assert.equal(created.failover_segment_id, segmentId);
    assert.equal(created.failover_segment.uuid, segmentId);
    assert.equal(created.on_maintenance, false);
    assert.equal(created.reserved, false);

    const listed = await masakari.hosts.list(segmentId, { type: "COMPUTE" });
    assert.deepEqual(
      listed.map((h: Host) => h.uuid),
      [created.uuid],
    );
    assert.deepEqual(await masakari.hosts.get(segmentId, created.uuid), created);

    const updated = await masakari.hosts.update(segmentId, created.uuid, { reserved: "yes", on_maintenance: true });
    assert.equal(updated.reserved, true);
    assert.equal(updated.on_maintenance, true);

    await masakari.hosts.delete(segmentId, created.uuid);
    assert.deepEqual(await masakari.hosts.list(segmentId), []);
    assert.ok((await rejection(masakari.hosts.get(segmentId, created.uuid))) instanceof NotFound);
    // a segment without hosts can go
    await masakari.segments.delete(segmentId);
  });
});

describe("notifications", () => {
  it("a host failure: created, shown, listed; a repeat and its segment's delete refused (409)", async () => {
    const segment = await masakari.segments.create({
      name: unique("failing"),
      recovery_method: "auto",
      service_type: "COMPUTE",
    });
    const host = await masakari.hosts.create(segment.uuid, {
      name: unique("compute"),
      type: "COMPUTE",
      control_attributes: "SSH",
    });
    const notification = await masakari.notifications.create({
      type: "COMPUTE_HOST",
      hostname: host.name,
      generated_time: new Date().toISOString(),
      payload: { event: "STOPPED", host_status: "NORMAL", cluster_status: "OFFLINE" },
    });
    assert.equal(notification.type, "COMPUTE_HOST");
    assert.equal(notification.source_host_uuid, host.uuid);
    assert.equal(notification.failover_segment_uuid, segment.uuid);
    assert.equal(notification.status, "new");
    assert.deepEqual(notification.payload, { event: "STOPPED", host_status: "NORMAL", cluster_status: "OFFLINE" });

    // its engine has started; whatever it has done by now, the notification is there
    const shown = await masakari.notifications.get(notification.notification_uuid);
    assert.equal(shown.notification_uuid, notification.notification_uuid);
    assert.ok(Array.isArray(shown.recovery_workflow_details), "microversion 1.1+ shows the recovery details");
    const listed = await masakari.notifications.list({ source_host_uuid: host.uuid });
    assert.deepEqual(
      listed.map((n) => n.notification_uuid),
      [notification.notification_uuid],
    );

    // the same failure again is refused: a duplicate, or its host now on maintenance
    const again = await rejection(
      masakari.notifications.create({
        type: "COMPUTE_HOST",
        hostname: host.name,
        generated_time: new Date().toISOString(),
        payload: { event: "STOPPED", host_status: "NORMAL", cluster_status: "OFFLINE" },
      }),
    );
    assert.ok(again instanceof Conflict);

    // new, running, or error (no Nova here): unfinished either way, so its segment is in use
    const { status } = await masakari.notifications.get(notification.notification_uuid);
    assert.ok(["new", "running", "error"].includes(status), `unexpected status ${status}`);
    const inUse = await rejection(masakari.segments.delete(segment.uuid));
    assert.ok(inUse instanceof Conflict);
    assert.equal(
      inUse.message,
      `Failover segment (${segment.uuid}) can't be deleted as it is in-use to process notifications.`,
    );

    // D21: aborted, it is failed, and its segment is free again; a release of it is refused
    const aborted = await masakari.notifications.act(notification.notification_uuid, {
      abort: { reason: "the host came back" },
    });
    assert.equal(aborted.status, "failed");
    const release = await rejection(masakari.notifications.act(notification.notification_uuid, { release: null }));
    assert.ok(release instanceof Conflict);
    // D23: without a Nova to read, a recovery plan is a 503, not a guess
    const plan = await rejection(masakari.hosts.recoveryPlan(segment.uuid, host.uuid));
    assert.ok(plan instanceof ServiceUnavailable);
    assert.match(plan.message, /^Recovery plan unavailable: Nova could not say \(.+\)\.$/);
    await masakari.segments.delete(segment.uuid);
  });

  it("an unknown notification is a NotFound", async () => {
    const id = randomUUID();
    const error = await rejection(masakari.notifications.get(id));
    assert.ok(error instanceof NotFound);
    assert.equal(error.message, `No notification with id ${id}.`);
  });
});
