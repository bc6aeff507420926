import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { novaCalls, novaControl } from "./engine-helpers";
import { Runtime } from "./engine-runtime";
import {
  appWith,
  createHost,
  createSegment,
  expectFault,
  get,
  type Json,
  seedNotification,
  sql,
  unique,
} from "./helpers";

// D23, recovery plans: GET .../hosts/{id}/recovery-plan answers what the
// engine would do if that host failed now, and GET .../recovery-plan each
// host's failure on its own, from Nova's hypervisors and the servers'
// flavors, changing nothing. Each plan here is then held against what the
// engine actually does when that host fails, on the in-test Workflows
// runtime, with the same settings.

const SMALL = { vcpus: 2, ram: 4096, disk: 20, original_name: "m1.medium" };
const HOST_DOWN = '{"event": "STOPPED", "host_status": "NORMAL", "cluster_status": "OFFLINE"}';

interface Spec {
  readonly method: string;
  /** Nova's figures for the healthy and reserved hosts (the failed one's do not matter). */
  readonly healthy?: Json;
  readonly reserved?: Json | null;
  readonly servers: Json[];
}

/** A failed host with `servers`, a healthy one and (unless null) a reserved one, in a zone of their own. */
async function cluster(spec: Spec) {
  const zone = unique("zone");
  const [failed, healthy, reserved] = [`${zone}-f`, `${zone}-h`, `${zone}-r`];
  await novaControl("POST", "hosts", { name: failed, zone, state: "down" });
  await novaControl("POST", "hosts", { name: healthy, zone, ...spec.healthy });
  if (spec.reserved !== null)
    await novaControl("POST", "hosts", { name: reserved, zone, status: "disabled", ...spec.reserved });
  const ids: Record<string, string> = {};
  for (const s of spec.servers) ids[s.name] = (await novaControl("POST", "servers", { ...s, host: failed })).id;
  const segment = await createSegment({ recovery_method: spec.method });
  const hosts: Record<string, { uuid: string }> = {};
  hosts.failed = await createHost(segment.uuid, { name: failed });
  hosts.healthy = await createHost(segment.uuid, { name: healthy });
  if (spec.reserved !== null) hosts.reserved = await createHost(segment.uuid, { name: reserved, reserved: true });
  const names = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
  return { zone, failed, healthy, reserved, ids, names, segment, hosts };
}
type Cluster = Awaited<ReturnType<typeof cluster>>;

const settingsOf = (extra: Record<string, string> = {}) => ({
  RETRY_NOTIFICATION_NEW_STATUS_INTERVAL: "0",
  HOST_FAILURE_RECOVERY_THREADS: "1",
  ...extra,
});

async function planOf(c: Cluster, settings: Record<string, string> = {}) {
  const res = await appWith(settingsOf(settings))(
    "GET",
    `/v1/segments/${c.segment.uuid}/hosts/${c.hosts.failed?.uuid}/recovery-plan`,
  );
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json.recovery_plan;
}

/** The failed host's failure recovered by the engine; its status, and where each server ended up. */
async function recover(c: Cluster, settings: Record<string, string> = {}) {
  const runtime = new Runtime(loadConfig({ ...env, ...settingsOf(settings) }));
  const now = new Date().toISOString().replace("T", " ").replace("Z", "000");
  const uuid = await seedNotification(c.hosts.failed?.uuid ?? "", "new", { payload: HOST_DOWN, generated_time: now });
  await runtime.start(uuid);
  await runtime.settle();
  await runtime.close();
  const [row] = await sql<{ status: string }>("SELECT status FROM notifications WHERE notification_uuid = ?", uuid);
  const where: Record<string, string> = {};
  for (const [name, id] of Object.entries(c.ids)) {
    const [s] = (await novaControl("GET", `state?server=${id}`)).servers;
    where[name] = s["OS-EXT-SRV-ATTR:host"];
  }
  return { uuid, status: row?.status, where };
}

/** A plan's placements as server name → host, over all its flows. */
const placed = (c: Cluster, plan: Json) =>
  Object.fromEntries(
    plan.flows.flatMap((f: Json) => f.placements.map((p: Json) => [c.names[p.instance_id], p.destination])),
  );

/** The servers Nova was asked to evacuate, in the order it was first asked. */
async function evacuationOrder(c: Cluster): Promise<string[]> {
  const calls = (await Promise.all(Object.values(c.ids).map((id) => novaCalls({ server: id })))).flat();
  const first = new Map<string, number>();
  for (const call of calls.sort((a, b) => a.seq - b.seq)) {
    if (!JSON.stringify(call.body ?? null).includes('"evacuate"')) continue;
    const id = call.path.split("/").at(-2) ?? "";
    if (!first.has(id)) first.set(id, call.seq);
  }
  return [...first.keys()].map((id) => c.names[id] ?? "?");
}

describe("a host's plan, then its failure", () => {
  it("reserved_host: the reserved host taken, what it holds and what would not fit are what the engine does", async () => {
    const c = await cluster({
      method: "reserved_host",
      reserved: { vcpus: 4, memory_mb: 16384, local_gb: 100 },
      servers: ["a", "b", "c"].map((name) => ({ name, metadata: { HA_Enabled: "True" }, flavor: SMALL })),
    });
    const plan = await planOf(c);
    expect(plan).toMatchObject({
      segment_id: c.segment.uuid,
      host_id: c.hosts.failed?.uuid,
      host_name: c.failed,
      recovery_method: "reserved_host",
      fits: false,
    });
    expect(plan.flows.map((f: Json) => [f.recovery_method, f.reserved_hosts, f.unavailable])).toEqual([
      ["reserved_host", [c.reserved], null],
    ]);
    expect(plan.instances.map((i: Json) => [c.names[i.id], i.flavor])).toEqual(
      expect.arrayContaining([["a", { vcpus: 2, ram: 4096, disk: 20 }]]),
    );
    expect(plan.destinations).toContainEqual({
      host: c.reserved,
      reserved: true,
      usable: true,
      reason: null,
      vcpus_free: 4,
      memory_mb_free: 16384,
      disk_gb_free: 100,
    });
    // Two of the three fit on the reserved host's four vCPUs: the last in evacuation order does not.
    const order = plan.instances.map((i: Json) => c.names[i.id]);
    expect(placed(c, plan)).toEqual({ [order[0]]: c.reserved, [order[1]]: c.reserved });
    expect(plan.would_not_fit.map((id: string) => c.names[id])).toEqual([order[2]]);

    const done = await recover(c);
    expect(await evacuationOrder(c)).toEqual(order);
    expect(done.where).toEqual({ [order[0]]: c.reserved, [order[1]]: c.reserved, [order[2]]: c.failed });
    expect(done.status).toBe("error");
  });

  it("auto_priority: what auto cannot place, the reserved host takes, as the fallback flow does", async () => {
    const c = await cluster({
      method: "auto_priority",
      healthy: { vcpus: 2, memory_mb: 8192, local_gb: 100 },
      reserved: { vcpus: 8, memory_mb: 32768, local_gb: 200 },
      servers: ["a", "b", "c"].map((name) => ({ name, metadata: { HA_Enabled: "True" }, flavor: SMALL })),
    });
    const plan = await planOf(c);
    expect(plan.flows.map((f: Json) => [f.recovery_method, f.placements.length])).toEqual([
      ["auto", 1],
      ["reserved_host", 2],
    ]);
    expect([plan.fits, plan.would_not_fit]).toEqual([true, []]);
    const done = await recover(c);
    expect(done.status).toBe("finished");
    expect(done.where).toEqual(placed(c, plan));
  });

  it("D24 and upstream's rules: the order, and what is skipped and why, are the engine's", async () => {
    const servers = [
      { name: "plain", metadata: {} },
      { name: "low", metadata: { prio: "5" } },
      { name: "ha", metadata: { HA_Enabled: "True" } },
      { name: "high", metadata: { prio: "10" } },
      { name: "amphora", metadata: { "managed-by": "octavia", HA_Enabled: "True" } },
      { name: "broken", metadata: { HA_Enabled: "True" }, vm_state: "error" },
    ].map((s) => ({ ...s, flavor: SMALL }));
    const settings = {
      HOST_FAILURE_EVACUATE_ALL_INSTANCES: "true",
      HOST_FAILURE_IGNORE_INSTANCES_IN_ERROR_STATE: "true",
      HOST_FAILURE_PRIORITY_METADATA_KEY: "prio",
      HOST_FAILURE_EXCLUDE_METADATA: "managed-by=octavia",
    };
    const c = await cluster({ method: "auto", reserved: null, servers });
    const plan = await planOf(c, settings);
    const order = plan.instances.map((i: Json) => c.names[i.id]);
    expect(order.slice(0, 2)).toEqual(["high", "low"]);
    expect(plan.skipped.map((s: Json) => [c.names[s.id], s.reason])).toEqual(
      expect.arrayContaining([
        ["amphora", "its metadata has managed-by=octavia (HOST_FAILURE_EXCLUDE_METADATA)"],
        ["broken", "it is in error state (HOST_FAILURE_IGNORE_INSTANCES_IN_ERROR_STATE)"],
      ]),
    );
    expect(plan.skipped).toHaveLength(2);
    expect(placed(c, plan)).toEqual(Object.fromEntries(order.map((name: string) => [name, c.healthy])));

    const done = await recover(c, settings);
    expect(done.status).toBe("finished");
    expect(await evacuationOrder(c)).toEqual(order);
    expect([done.where.amphora, done.where.broken]).toEqual([c.failed, c.failed]);
  });

  it("without evacuate_all_instances, an instance without HA_Enabled is skipped, and says why", async () => {
    const c = await cluster({
      method: "auto",
      reserved: null,
      servers: [{ name: "ha", metadata: { HA_Enabled: "True" } }, { name: "plain" }],
    });
    const plan = await planOf(c, { HOST_FAILURE_EVACUATE_ALL_INSTANCES: "false" });
    expect(plan.skipped).toEqual([
      {
        id: c.ids.plain,
        name: "plain",
        reason: "it is not HA-enabled (HA_Enabled) and HOST_FAILURE_EVACUATE_ALL_INSTANCES is off",
      },
    ]);
    const done = await recover(c, { HOST_FAILURE_EVACUATE_ALL_INSTANCES: "false" });
    expect(done.where).toEqual({ ha: c.healthy, plain: c.failed });
  });

  it("a reserved_host segment without a reserved host says so in the engine's words", async () => {
    const c = await cluster({ method: "reserved_host", reserved: null, servers: [{ name: "vm", flavor: SMALL }] });
    const plan = await planOf(c);
    expect(plan.flows).toEqual([
      {
        recovery_method: "reserved_host",
        reserved_hosts: [],
        placements: [],
        unavailable: "No reserved_hosts available for evacuation.",
      },
    ]);
    expect([plan.fits, plan.would_not_fit]).toEqual([false, [c.ids.vm]]);
    expect((await recover(c)).status).toBe("error");
  });

  it("changes nothing: Nova is only read, and Masakari's rows stay as they were", async () => {
    const c = await cluster({ method: "rh_priority", servers: [{ name: "vm", metadata: { HA_Enabled: "True" } }] });
    const before = await sql("SELECT * FROM hosts WHERE failover_segment_id = ? ORDER BY id", c.segment.uuid);
    const seq = (await novaCalls({})).at(-1)?.seq ?? 0;
    await planOf(c);
    const calls = (await novaCalls({})).filter((call) => call.seq > seq);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((call) => call.method === "GET")).toBe(true);
    expect(await sql("SELECT * FROM hosts WHERE failover_segment_id = ? ORDER BY id", c.segment.uuid)).toEqual(before);
    expect(
      await sql("SELECT count(*) AS n FROM notifications WHERE failover_segment_uuid = ?", c.segment.uuid),
    ).toEqual([{ n: 0 }]);
  });
});

describe("a segment's plan", () => {
  it("each host's failure on its own: how many the segment absorbs, and the first it does not", async () => {
    const zone = unique("zone");
    const names = ["a", "b", "c"].map((n) => `${zone}-${n}`);
    for (const name of names) await novaControl("POST", "hosts", { name, zone, vcpus: 4, memory_mb: 16384 });
    // a and b each hold a small server; c a server too large for what a and b have free.
    await novaControl("POST", "servers", {
      name: "small-a",
      host: names[0],
      metadata: { HA_Enabled: "True" },
      flavor: SMALL,
    });
    await novaControl("POST", "servers", {
      name: "small-b",
      host: names[1],
      metadata: { HA_Enabled: "True" },
      flavor: SMALL,
    });
    await novaControl("POST", "servers", {
      name: "large-c",
      host: names[2],
      metadata: { HA_Enabled: "True" },
      flavor: { vcpus: 4, ram: 8192, disk: 40 },
    });
    const segment = await createSegment({ recovery_method: "auto" });
    const hosts = [];
    for (const name of names) hosts.push(await createHost(segment.uuid, { name }));
    const res = await get(`/v1/segments/${segment.uuid}/recovery-plan`);
    expect(res.status).toBe(200);
    expect(res.json.recovery_plan).toMatchObject({
      segment_id: segment.uuid,
      recovery_method: "auto",
      absorbable: 2,
      first_not_absorbed: { host_id: hosts[2]?.uuid, host_name: names[2] },
    });
    expect(res.json.recovery_plan.hosts.map((h: Json) => [h.host_name, h.instances, h.would_not_fit, h.fits])).toEqual([
      [names[0], 1, 0, true],
      [names[1], 1, 0, true],
      [names[2], 1, 1, false],
    ]);
  });
});

describe("faults", () => {
  it("404: an unknown segment, a host of another segment, an id that is not a uuid", async () => {
    const c = await cluster({ method: "auto", reserved: null, servers: [] });
    const other = await createSegment();
    // As GET of the host itself words it.
    const shown = await get(`/v1/segments/${other.uuid}/hosts/${c.hosts.failed?.uuid}`);
    expect(shown.status).toBe(404);
    expectFault(
      await get(`/v1/segments/${other.uuid}/hosts/${c.hosts.failed?.uuid}/recovery-plan`),
      404,
      "itemNotFound",
      shown.json.itemNotFound.message,
    );
    expectFault(await get("/v1/segments/nope/recovery-plan"), 404, "itemNotFound", "No failover segment with id nope.");
    expectFault(
      await get(`/v1/segments/${c.segment.uuid}/hosts/nope/recovery-plan`),
      404,
      "itemNotFound",
      "No host with id nope.",
    );
  });

  it("503 when Nova cannot say: a 5xx, or no compute endpoint; never a guess", async () => {
    const c = await cluster({ method: "auto", reserved: null, servers: [{ name: "vm" }] });
    const { id } = await novaControl("POST", "faults", { path: "/os-hypervisors", status: 500, times: 2 });
    const path = `/v1/segments/${c.segment.uuid}/hosts/${c.hosts.failed?.uuid}/recovery-plan`;
    const failing = await get(path);
    expect(failing.status).toBe(503);
    expect(failing.json.serviceUnavailable.message).toMatch(
      /^Recovery plan unavailable: Nova could not say \(Nova answered 500: Injected fault .+\)\.$/,
    );
    const segmentWide = await get(`/v1/segments/${c.segment.uuid}/recovery-plan`);
    expect(segmentWide.status).toBe(503);
    await novaControl("DELETE", `faults/${id}`);
    // No NOVA_URL and no Keystone identity whose catalog could name Nova.
    const nowhere = await appWith({
      NOVA_URL: "",
      KEYSTONE_URL: "",
      KEYSTONE_SERVICE_USER: "",
      KEYSTONE_SERVICE_PASSWORD: "",
      KEYSTONE_SERVICE_PROJECT: "",
    })("GET", path);
    expectFault(
      nowhere,
      503,
      "serviceUnavailable",
      "Recovery plan unavailable: Nova could not say (No compute endpoint: set NOVA_URL or a Keystone identity).",
    );
  });

  it("policy: admin by default, each plan its own rule, overridable through POLICY", async () => {
    const c = await cluster({ method: "auto", reserved: null, servers: [] });
    const member = { "X-Roles": "member", "X-User-Id": "u-operator", "X-Project-Id": "p-ops" };
    const path = `/v1/segments/${c.segment.uuid}/hosts/${c.hosts.failed?.uuid}/recovery-plan`;
    const strict = appWith({ POLICY: JSON.stringify({ admin_api: "role:admin" }) });
    expect((await strict("GET", path, { headers: member })).status).toBe(403);
    const operators = appWith({
      POLICY: JSON.stringify({ admin_api: "role:admin", "os_masakari_api:os-recovery-plans:host": "role:member" }),
    });
    expect((await operators("GET", path, { headers: member })).status).toBe(200);
    expect((await operators("GET", `/v1/segments/${c.segment.uuid}/recovery-plan`, { headers: member })).status).toBe(
      403,
    );
  });
});
