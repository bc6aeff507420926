import { beforeAll, describe, expect, it } from "vitest";
import {
  appWith,
  type Client,
  createSegment,
  type Exchange,
  expectedHost,
  expectFault,
  expectSuccess,
  fakeCalls,
  hostNotUnder,
  hostUpdateInUse,
  type Json,
  mustAnswer,
  NOVA_URL,
  post,
  put,
  row,
  seedNotification,
  sql,
  UNKNOWN_UUID,
  unique,
} from "./helpers";

// D10: host names are checked against Nova (os-services, binary=nova-compute,
// host=<name>, with the caller's token) only when a compute endpoint is
// configured; without NOVA_URL every name is accepted. Exchanges #120 and
// #154, and the order of checks of docs/upstream.md,
// "Host operations and order of checks":
// create: schema 400 → segment 404 → Nova 400 → duplicate 409;
// update: schema 400 → host 404 → in-use 409 → Nova 400 → duplicate 409.
// The fake Nova (test/fakes/openstack.mjs) knows every host name except
// those starting with "unknown"; "broken*" answers 500 and "slow*" hangs.

const hostsPath = (segment: Json) => `/v1/segments/${segment.uuid}/hosts`;
const hostPath = (segment: Json, host: Json | string) =>
  `${hostsPath(segment)}/${typeof host === "string" ? host : host.uuid}`;
const hostBody = (name: string) => ({ host: { name, type: "COMPUTE", control_attributes: "SSH" } });

const hostCount = async () => (await sql<{ n: number }>("SELECT count(*) AS n FROM hosts"))[0]?.n ?? Number.NaN;
const rowsNamed = (name: string) => sql("SELECT * FROM hosts WHERE name = ?", name);
const hostRow = (host: Json) => row("hosts", "uuid", host.uuid);
const novaCalls = (name: string) => fakeCalls(`nova:${name}`);

function expectHost(res: Exchange, status: number, segment: Json, fields: Record<string, unknown>) {
  expectSuccess(res, status, { host: expectedHost(segment, fields) });
}

describe("D10: without NOVA_URL (the default Worker)", () => {
  let segment: Json;
  beforeAll(async () => {
    segment = await createSegment({ name: unique("seg-plain") });
  });

  it("D10: a name Nova would not know is accepted (201) and Nova is not asked", async () => {
    const name = unique("unknown-compute");
    const res = await post(hostsPath(segment), hostBody(name));
    expectHost(res, 201, segment, { name });
    expect(await rowsNamed(name)).toHaveLength(1);
    expect(await novaCalls(name)).toBe(0);
  });

  it("D10: a rename to a name Nova would not know is accepted and Nova is not asked", async () => {
    const created = await post(hostsPath(segment), hostBody(unique("compute")));
    expect(created.status).toBe(201);
    const host = created.json.host;
    const name = unique("unknown-x");
    const res = await put(hostPath(segment, host), { host: { name } });
    expectHost(res, 200, segment, { ...host, name, updated_at: expect.any(String) });
    expect((await hostRow(host))?.name).toBe(name);
    expect(await novaCalls(name)).toBe(0);
  });

  it("D10: a name that would break Nova is accepted without asking it", async () => {
    const name = unique("broken");
    expect((await post(hostsPath(segment), hostBody(name))).status).toBe(201);
    expect(await novaCalls(name)).toBe(0);
  });
});

describe("D10: with NOVA_URL", () => {
  let nova: Client;
  let segment: Json;

  const createWith = (client: Client, seg: Json, name: string, headers: Record<string, string> = {}) =>
    client("POST", hostsPath(seg), { body: hostBody(name), headers });
  const renameWith = (
    client: Client,
    seg: Json,
    host: Json | string,
    name: string,
    headers: Record<string, string> = {},
  ) => client("PUT", hostPath(seg, host), { body: { host: { name } }, headers });

  /** A host created through the Nova-checking app (Nova is asked once for it). */
  async function knownHost(seg: Json = segment) {
    const res = await createWith(nova, seg, unique("compute"));
    return mustAnswer(res, 201, "host create").json.host;
  }

  beforeAll(async () => {
    nova = appWith({ NOVA_URL });
    segment = await createSegment({ name: unique("seg-nova") });
  });

  it("D10: a name Nova knows is created (201); Nova saw exactly one call, with the caller's token", async () => {
    const name = unique("compute1");
    const token = unique("token");
    const res = await createWith(nova, segment, name, { "X-Auth-Token": token });
    expectHost(res, 201, segment, { name });
    expect(await hostRow(res.json.host)).toMatchObject({ name, failover_segment_id: segment.uuid, deleted: 0 });
    expect(await novaCalls(name)).toBe(1);
    expect(await fakeCalls(`nova-token:${token}`)).toBe(1);
  });

  it("D10: #120 a name Nova does not know is 400 and no row is written", async () => {
    const before = await hostCount();
    const calls = await novaCalls("unknown-compute");
    expectFault(
      await createWith(nova, segment, "unknown-compute"),
      400,
      "badRequest",
      "Compute service with name unknown-compute could not be found.",
    );
    expect(await hostCount()).toBe(before);
    expect(await rowsNamed("unknown-compute")).toEqual([]);
    expect(await novaCalls("unknown-compute")).toBe(calls + 1);
  });

  it("D10: #154 a rename to a name Nova does not know is 400 and the row is unchanged", async () => {
    const host = await knownHost();
    const before = await hostRow(host);
    const calls = await novaCalls("unknown-x");
    expectFault(
      await renameWith(nova, segment, host, "unknown-x"),
      400,
      "badRequest",
      "Compute service with name unknown-x could not be found.",
    );
    expect(await hostRow(host)).toEqual(before);
    expect(await novaCalls("unknown-x")).toBe(calls + 1);
  });

  it("D10: a rename to a name Nova knows is accepted; Nova is asked once for the new name", async () => {
    const host = await knownHost();
    const name = unique("compute-renamed");
    const token = unique("token");
    const res = await renameWith(nova, segment, host, name, { "X-Auth-Token": token });
    expectHost(res, 200, segment, { ...host, name, updated_at: expect.any(String) });
    expect((await hostRow(host))?.name).toBe(name);
    expect(await novaCalls(name)).toBe(1);
    expect(await fakeCalls(`nova-token:${token}`)).toBe(1);
  });

  it("D10: an update without name makes no Nova call", async () => {
    const host = await knownHost();
    const token = unique("token");
    const res = await nova("PUT", hostPath(segment, host), {
      body: { host: { reserved: true, control_attributes: "TCP", type: "CONTROLLER", on_maintenance: "yes" } },
      headers: { "X-Auth-Token": token },
    });
    expectHost(res, 200, segment, {
      ...host,
      reserved: true,
      control_attributes: "TCP",
      type: "CONTROLLER",
      on_maintenance: true,
      updated_at: expect.any(String),
    });
    expect(await fakeCalls(`nova-token:${token}`)).toBe(0);
    expect(await novaCalls(host.name)).toBe(1);
  });

  it("D10: a create with an invalid body is 400 before any Nova call", async () => {
    const name = unique("compute");
    expectFault(
      await nova("POST", hostsPath(segment), { body: { host: { name, type: "A B", control_attributes: "SSH" } } }),
      400,
      "badRequest",
      "Invalid input for field/attribute type. Value: A B. 'A B' does not match '^[a-zA-Z0-9]*$'",
    );
    expect(await novaCalls(name)).toBe(0);
  });

  it("D10: an unknown segment is 404 before any Nova call", async () => {
    const name = unique("compute");
    expectFault(
      await nova("POST", `/v1/segments/${UNKNOWN_UUID}/hosts`, { body: hostBody(name) }),
      404,
      "itemNotFound",
      `No failover segment with id ${UNKNOWN_UUID}.`,
    );
    expect(await novaCalls(name)).toBe(0);
  });

  it("D10: a non-uuid segment is 404 before any Nova call", async () => {
    const name = unique("compute");
    expectFault(
      await nova("POST", "/v1/segments/abc/hosts", { body: hostBody(name) }),
      404,
      "itemNotFound",
      "No failover segment with id abc.",
    );
    expect(await novaCalls(name)).toBe(0);
  });

  it("D10: a duplicate name Nova knows is 409, after Nova was asked (as upstream)", async () => {
    const host = await knownHost();
    const before = await hostCount();
    expectFault(
      await createWith(nova, segment, host.name),
      409,
      "conflictingRequest",
      `Host with name ${host.name} already exists.`,
    );
    expect(await hostCount()).toBe(before);
    expect(await novaCalls(host.name)).toBe(2);
  });

  it("D10: a rename to a taken name Nova knows is 409 after Nova was asked; the row is unchanged", async () => {
    const taken = await knownHost();
    const host = await knownHost();
    const before = await hostRow(host);
    expectFault(
      await renameWith(nova, segment, host, taken.name),
      409,
      "conflictingRequest",
      `Host with name ${taken.name} already exists.`,
    );
    expect(await hostRow(host)).toEqual(before);
    expect(await novaCalls(taken.name)).toBe(2);
  });

  it("D10: a rename in an in-use segment is 409 in-use and Nova is not asked", async () => {
    const seg = await createSegment({ name: unique("seg-in-use") });
    const host = await knownHost(seg);
    await seedNotification(host.uuid, "new");
    const before = await hostRow(host);
    const name = unique("compute-new");
    expectFault(await renameWith(nova, seg, host, name), 409, "conflictingRequest", hostUpdateInUse(host.uuid));
    expect(await hostRow(host)).toEqual(before);
    expect(await novaCalls(name)).toBe(0);
  });

  it("D10: a rename to an unknown-to-Nova name in an in-use segment is 409 in-use, not 400", async () => {
    const seg = await createSegment({ name: unique("seg-in-use") });
    const host = await knownHost(seg);
    await seedNotification(host.uuid, "running");
    const name = unique("unknown-in-use");
    expectFault(await renameWith(nova, seg, host, name), 409, "conflictingRequest", hostUpdateInUse(host.uuid));
    expect(await novaCalls(name)).toBe(0);
  });

  it("D10: a rename of an unknown host is 404 and Nova is not asked", async () => {
    const name = unique("compute-new");
    expectFault(
      await renameWith(nova, segment, UNKNOWN_UUID, name),
      404,
      "itemNotFound",
      hostNotUnder(UNKNOWN_UUID, segment.uuid),
    );
    expect(await novaCalls(name)).toBe(0);
  });

  it("D10: a rename through the wrong segment is 404 and Nova is not asked", async () => {
    const host = await knownHost();
    const other = await createSegment({ name: unique("seg-other") });
    const name = unique("unknown-wrong");
    expectFault(await renameWith(nova, other, host, name), 404, "itemNotFound", hostNotUnder(host.uuid, other.uuid));
    expect(await novaCalls(name)).toBe(0);
  });

  it("D10: a rename with an invalid body is 400 and Nova is not asked", async () => {
    const host = await knownHost();
    const name = unique("compute-new");
    expectFault(
      await nova("PUT", hostPath(segment, host), { body: { host: { name, foo: 1 } } }),
      400,
      "badRequest",
      `Invalid input for field/attribute host. Value: {'name': '${name}', 'foo': 1}. Additional properties are not allowed ('foo' was unexpected)`,
    );
    expect(await novaCalls(name)).toBe(0);
  });

  it("D10: Nova answering 500 is 503 serviceUnavailable and no row is written", async () => {
    const name = unique("broken");
    const before = await hostCount();
    expectFault(
      await createWith(nova, segment, name),
      503,
      "serviceUnavailable",
      "Compute service could not be checked: Nova answered 500.",
    );
    expect(await hostCount()).toBe(before);
    expect(await rowsNamed(name)).toEqual([]);
    expect(await novaCalls(name)).toBe(1);
  });

  it("D10: a rename with Nova answering 500 is 503 and the row is unchanged", async () => {
    const host = await knownHost();
    const before = await hostRow(host);
    const name = unique("broken");
    expectFault(
      await renameWith(nova, segment, host, name),
      503,
      "serviceUnavailable",
      "Compute service could not be checked: Nova answered 500.",
    );
    expect(await hostRow(host)).toEqual(before);
  });

  it("D10: Nova not answering within NOVA_TIMEOUT_MS is 503 long before the fake's 30 s hang, no row written", async () => {
    const impatient = appWith({ NOVA_URL, NOVA_TIMEOUT_MS: "200" });
    const name = unique("slow");
    const before = await hostCount();
    const started = Date.now();
    const res = await createWith(impatient, segment, name);
    const elapsed = Date.now() - started;
    expectFault(res, 503, "serviceUnavailable", "Compute service could not be checked: no answer within 200 ms.");
    // The fake Nova hangs for 30 s: any answer well before that is the
    // timeout's. The bound is loose so a loaded machine cannot fail it.
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(10_000);
    expect(await hostCount()).toBe(before);
    expect(await rowsNamed(name)).toEqual([]);
  });
});
