import { describe, expect, it } from "vitest";
import standIn, { createNova, type Hypervisor } from "./fakes/nova.mjs";

// The Nova stand-in (test/fakes/nova.mjs) itself: its Nova answers at 2.53,
// the rules it shares with Nova, and its control API. One world for the whole
// file, as the auxiliary Worker and the Node server have; each test uses its
// own host names and server ids.

// biome-ignore lint/suspicious/noExplicitAny: answers are asserted with toEqual/toMatchObject
type Json = any;

const nova = createNova();
const NOVA = "http://nova.test/v2.1";
const CONTROL = "http://nova.test/_control";
const HEADERS = { "X-OpenStack-Nova-API-Version": "2.53", "X-Auth-Token": "tok-1" };

async function send(
  world: { fetch(request: Request): Promise<Response> },
  method: string,
  url: string,
  body?: unknown,
) {
  const response = await world.fetch(
    new Request(url, {
      method,
      headers: { ...HEADERS, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
  const text = await response.text();
  return { status: response.status, body: (text === "" ? null : JSON.parse(text)) as Json, headers: response.headers };
}
const api = (method: string, path: string, body?: unknown) => send(nova, method, `${NOVA}${path}`, body);
const control = (method: string, path: string, body?: unknown) => send(nova, method, `${CONTROL}${path}`, body);
const action = (id: string, body: unknown) => api("POST", `/servers/${id}/action`, body);
const show = async (id: string) => (await api("GET", `/servers/${id}`)).body.server;

let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}-${crypto.randomUUID().slice(0, 8)}`;

async function addHost(name: string, fields: Json = {}) {
  return (await control("POST", "/hosts", { name, ...fields })).body;
}
async function addServer(fields: Json) {
  return (await control("POST", "/servers", { name: unique("vm"), ...fields })).body;
}
/**
 * A failed host (down) and two healthy ones, "-a" and "-b" in name order, in
 * a zone of their own so that the scheduler stays among them.
 */
async function cluster() {
  const prefix = unique("cl");
  const zone = `${prefix}-zone`;
  const failed = `${prefix}-1`;
  const [a, b] = [`${prefix}-a`, `${prefix}-b`];
  await addHost(failed, { state: "down", zone });
  await addHost(b, { zone });
  await addHost(a, { zone });
  return { failed, a, b, zone };
}
/** The detail view of the one hypervisor named `host`, found by pattern as a recovery plan would. */
async function hypervisorOf(host: string): Promise<Hypervisor> {
  const found = await api("GET", `/os-hypervisors/detail?hypervisor_hostname_pattern=${host}`);
  return found.body.hypervisors.find((h: Hypervisor) => h.hypervisor_hostname === host);
}
const usage = (h: Hypervisor) => [h.vcpus_used, h.memory_mb_used, h.local_gb_used, h.running_vms];
const lastSeq = async () => {
  const calls = (await control("GET", "/calls")).body.calls;
  return calls.length ? calls[calls.length - 1].seq : 0;
};

describe("os-services", () => {
  it("lists by host and binary, with Nova's 2.53 fields", async () => {
    const host = unique("svc");
    const created = await addHost(host, { status: "disabled", disabled_reason: "reserved host" });
    const listed = await api("GET", `/os-services?host=${host}&binary=nova-compute`);
    expect(listed.status).toBe(200);
    expect(listed.body.services).toEqual([
      {
        id: created.id,
        binary: "nova-compute",
        host,
        zone: "nova",
        status: "disabled",
        state: "up",
        disabled_reason: "reserved host",
        updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/),
        forced_down: false,
      },
    ]);
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await api("GET", `/os-services?host=${host}&binary=nova-scheduler`)).body).toEqual({ services: [] });
    expect((await api("GET", `/os-services?host=${unique("nobody")}&binary=nova-compute`)).body).toEqual({
      services: [],
    });
  });

  it("disables with a reason, enables (clearing it), and 404s an unknown id", async () => {
    const host = unique("svc");
    const { id } = await addHost(host);
    const disabled = await api("PUT", `/os-services/${id}`, { status: "disabled", disabled_reason: "Masakari" });
    expect(disabled.status).toBe(200);
    expect(disabled.body.service).toMatchObject({ id, host, status: "disabled", disabled_reason: "Masakari" });
    const enabled = await api("PUT", `/os-services/${id}`, { status: "enabled" });
    expect(enabled.body.service).toMatchObject({ status: "enabled", disabled_reason: null });
    expect((await api("PUT", `/os-services/${id}`, { status: "enabled", disabled_reason: "x" })).status).toBe(400);
    expect((await api("PUT", `/os-services/${id}`, { status: "sleepy" })).status).toBe(400);
    const unknown = await api("PUT", `/os-services/${crypto.randomUUID()}`, { status: "enabled" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.itemNotFound.code).toBe(404);
  });

  it("updates a host through the control API, keeping its id", async () => {
    const host = unique("svc");
    const first = await addHost(host);
    const again = await addHost(host, { state: "down" });
    expect(again).toMatchObject({ id: first.id, state: "down", status: "enabled" });
  });
});

describe("servers", () => {
  it("lists the servers of one host, newest first", async () => {
    const { failed, a } = await cluster();
    const older = await addServer({ host: failed, metadata: { HA_Enabled: "True" } });
    const newer = await addServer({ host: failed, vm_state: "stopped" });
    await addServer({ host: a });
    const listed = await api("GET", `/servers/detail?all_tenants=True&host=${failed}`);
    expect(listed.status).toBe(200);
    expect(listed.body.servers.map((s: Json) => s.id)).toEqual([newer.id, older.id]);
    expect(listed.body.servers[1]).toMatchObject({
      id: older.id,
      name: older.name,
      status: "ACTIVE",
      metadata: { HA_Enabled: "True" },
      locked: false,
      "OS-EXT-STS:vm_state": "active",
      "OS-EXT-STS:task_state": null,
      "OS-EXT-STS:power_state": 1,
      "OS-EXT-SRV-ATTR:host": failed,
      "OS-EXT-SRV-ATTR:hypervisor_hostname": failed,
      tenant_id: expect.any(String),
      updated: expect.stringMatching(/Z$/),
    });
    expect(listed.body.servers[0]).toMatchObject({ status: "SHUTOFF", "OS-EXT-STS:power_state": 4 });
  });

  it("derives status like Nova and 404s an unknown server", async () => {
    const host = unique("h");
    const cases: [Json, string][] = [
      [{ vm_state: "error" }, "ERROR"],
      [{ vm_state: "paused" }, "PAUSED"],
      [{ vm_state: "rescued" }, "RESCUE"],
      [{ vm_state: "resized" }, "VERIFY_RESIZE"],
      [{ vm_state: "active", task_state: "rebuilding" }, "REBUILD"],
      [{ vm_state: "stopped", task_state: "resize_prep" }, "RESIZE"],
    ];
    for (const [fields, status] of cases) {
      const server = await addServer({ host, ...fields });
      expect(server.status).toBe(status);
      expect((await show(server.id)).status).toBe(status);
    }
    const id = crypto.randomUUID();
    const missing = await api("GET", `/servers/${id}`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ itemNotFound: { code: 404, message: `Instance ${id} could not be found.` } });
    expect((await action(id, { lock: null })).status).toBe(404);
  });

  it("shows the flavor as Nova embeds it from 2.47: m1.small unless given, merged on update", async () => {
    const host = unique("h");
    const plain = await addServer({ host });
    const m1small = { vcpus: 1, ram: 512, disk: 1, ephemeral: 0, swap: 0, original_name: "m1.small", extra_specs: {} };
    expect(plain.flavor).toEqual(m1small);
    const large = { vcpus: 4, ram: 8192, disk: 80, original_name: "m1.large" };
    const big = await addServer({ host, flavor: large });
    expect((await show(big.id)).flavor).toEqual({ ...large, ephemeral: 0, swap: 0, extra_specs: {} });
    const listed = (await api("GET", `/servers/detail?all_tenants=True&host=${host}`)).body.servers;
    expect(listed.map((s: Json) => s.flavor.original_name)).toEqual(["m1.large", "m1.small"]);
    const resized = (await control("POST", "/servers", { id: big.id, flavor: { ram: 4096 } })).body;
    expect(resized.flavor).toMatchObject({ vcpus: 4, ram: 4096, disk: 80, original_name: "m1.large" });
    const { ids } = (await control("POST", "/servers/bulk", { host, count: 2, flavor: { vcpus: 2 } })).body;
    for (const id of ids) expect((await show(id)).flavor).toMatchObject({ vcpus: 2, ram: 512, disk: 1 });
    expect((await control("POST", "/servers", { name: "x", host, flavor: { vcpus: 0 } })).status).toBe(400);
    expect((await control("POST", "/servers/bulk", { host, count: 1, flavor: { ram: "1G" } })).status).toBe(400);
  });

  it("takes a given id", async () => {
    const id = crypto.randomUUID();
    expect((await addServer({ id, host: unique("h") })).id).toBe(id);
    expect((await show(id)).id).toBe(id);
  });
});

describe("server actions", () => {
  it("locks and unlocks", async () => {
    const { id } = await addServer({ host: unique("h") });
    const locked = await action(id, { lock: null });
    expect(locked.status).toBe(202);
    expect(locked.body).toBeNull();
    expect((await show(id)).locked).toBe(true);
    expect((await action(id, { unlock: null })).status).toBe(202);
    expect((await show(id)).locked).toBe(false);
  });

  it("resets the state to error or active, clearing task_state", async () => {
    const { id } = await addServer({ host: unique("h"), task_state: "powering-off" });
    expect((await action(id, { "os-resetState": { state: "error" } })).status).toBe(202);
    expect(await show(id)).toMatchObject({
      status: "ERROR",
      "OS-EXT-STS:vm_state": "error",
      "OS-EXT-STS:task_state": null,
    });
    expect((await action(id, { "os-resetState": { state: "active" } })).status).toBe(202);
    expect((await show(id))["OS-EXT-STS:vm_state"]).toBe("active");
    expect((await action(id, { "os-resetState": { state: "stopped" } })).status).toBe(400);
  });

  it("stops active or error servers and 409s a stopped one", async () => {
    const host = unique("h");
    for (const vm_state of ["active", "error"]) {
      const { id } = await addServer({ host, vm_state });
      expect((await action(id, { "os-stop": null })).status).toBe(202);
      expect(await show(id)).toMatchObject({
        status: "SHUTOFF",
        "OS-EXT-STS:vm_state": "stopped",
        "OS-EXT-STS:power_state": 4,
        "OS-EXT-STS:task_state": null,
      });
    }
    const { id } = await addServer({ host, vm_state: "stopped" });
    const again = await action(id, { "os-stop": null });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({
      conflictingRequest: { code: 409, message: `Cannot 'stop' instance ${id} while it is in vm_state stopped` },
    });
  });

  it("starts stopped servers and 409s others", async () => {
    const host = unique("h");
    const { id } = await addServer({ host, vm_state: "stopped" });
    expect((await action(id, { "os-start": null })).status).toBe(202);
    expect(await show(id)).toMatchObject({ status: "ACTIVE", "OS-EXT-STS:power_state": 1 });
    const started = await action(id, { "os-start": null });
    expect(started.status).toBe(409);
    expect(started.body.conflictingRequest.message).toContain("vm_state active");
  });

  it("with power_polls, shows powering-off / powering-on for that many GETs", async () => {
    const { id } = await addServer({ host: unique("h"), power_polls: 1 });
    expect((await action(id, { "os-stop": null })).status).toBe(202);
    expect(await show(id)).toMatchObject({ status: "ACTIVE", "OS-EXT-STS:task_state": "powering-off" });
    // Like Nova's check_instance_state: no action while a task is in flight.
    const busy = await action(id, { "os-stop": null });
    expect(busy.status).toBe(409);
    expect(busy.body.conflictingRequest.message).toContain("task_state powering-off");
    expect(await show(id)).toMatchObject({ status: "SHUTOFF", "OS-EXT-STS:task_state": null });
    expect((await action(id, { "os-start": null })).status).toBe(202);
    expect(await show(id)).toMatchObject({ status: "SHUTOFF", "OS-EXT-STS:task_state": "powering-on" });
    expect(await show(id)).toMatchObject({ status: "ACTIVE", "OS-EXT-STS:task_state": null });
  });

  it("400s an unknown action or more than one", async () => {
    const { id } = await addServer({ host: unique("h") });
    expect((await action(id, { reboot: { type: "SOFT" } })).status).toBe(400);
    expect((await action(id, { lock: null, unlock: null })).status).toBe(400);
    expect((await action(id, {})).status).toBe(400);
  });
});

describe("evacuate", () => {
  it("without a target: the first enabled, up host by name; vm_state kept, error rebuilt as active", async () => {
    const { failed, a } = await cluster();
    const active = await addServer({ host: failed });
    const stopped = await addServer({ host: failed, vm_state: "stopped" });
    const errored = await addServer({ host: failed, vm_state: "error" });
    for (const server of [active, stopped, errored]) {
      const answer = await action(server.id, { evacuate: {} });
      expect(answer.status).toBe(200);
      expect(answer.body).toBeNull();
    }
    const moved = {
      "OS-EXT-SRV-ATTR:host": a,
      "OS-EXT-SRV-ATTR:hypervisor_hostname": a,
      "OS-EXT-STS:task_state": null,
    };
    expect(await show(active.id)).toMatchObject({ ...moved, status: "ACTIVE", "OS-EXT-STS:vm_state": "active" });
    expect(await show(stopped.id)).toMatchObject({
      ...moved,
      status: "SHUTOFF",
      "OS-EXT-STS:vm_state": "stopped",
      "OS-EXT-STS:power_state": 4,
    });
    expect(await show(errored.id)).toMatchObject({ ...moved, status: "ACTIVE", "OS-EXT-STS:vm_state": "active" });
  });

  it("skips disabled and down hosts", async () => {
    const { failed, a, b } = await cluster();
    await addHost(a, { status: "disabled" });
    const server = await addServer({ host: failed });
    await action(server.id, { evacuate: {} });
    expect((await show(server.id))["OS-EXT-SRV-ATTR:host"]).toBe(b);
    const other = await addServer({ host: failed });
    await addHost(b, { state: "down" });
    await action(other.id, { evacuate: {} });
    expect(await show(other.id)).toMatchObject({ status: "ERROR", "OS-EXT-SRV-ATTR:host": failed });
  });

  it("stays in the server's availability zone, like Nova's AvailabilityZoneFilter", async () => {
    const { failed, zone } = await cluster();
    const elsewhere = unique("other-zone");
    await addHost(`${elsewhere}-up`, { zone: elsewhere });
    const server = await addServer({ host: failed });
    expect(server["OS-EXT-AZ:availability_zone"]).toBe(zone);
    expect((await api("GET", `/os-services?host=${failed}`)).body.services[0].zone).toBe(zone);
    const stranger = await addServer({ host: failed, availability_zone: elsewhere });
    await action(stranger.id, { evacuate: {} });
    expect(await show(stranger.id)).toMatchObject({ status: "ACTIVE", "OS-EXT-SRV-ATTR:host": `${elsewhere}-up` });
    await action(server.id, { evacuate: { host: `${elsewhere}-up` } });
    expect(await show(server.id)).toMatchObject({ status: "ERROR", "OS-EXT-SRV-ATTR:host": failed });
    expect((await addServer({ host: unique("zoneless") }))["OS-EXT-AZ:availability_zone"]).toBe("nova");
  });

  it("with a target host moves there", async () => {
    const { failed, b } = await cluster();
    const server = await addServer({ host: failed });
    expect((await action(server.id, { evacuate: { host: b } })).status).toBe(200);
    expect(await show(server.id)).toMatchObject({
      "OS-EXT-SRV-ATTR:host": b,
      "OS-EXT-SRV-ATTR:hypervisor_hostname": b,
    });
  });

  it("to a disabled target: accepted, then error on the old host (the scheduler refuses it) unless forced", async () => {
    const { failed, b } = await cluster();
    await addHost(b, { status: "disabled" });
    const server = await addServer({ host: failed });
    expect((await action(server.id, { evacuate: { host: b } })).status).toBe(200);
    expect(await show(server.id)).toMatchObject({
      status: "ERROR",
      "OS-EXT-STS:vm_state": "error",
      "OS-EXT-STS:task_state": null,
      "OS-EXT-SRV-ATTR:host": failed,
    });
    expect((await action(server.id, { evacuate: { host: b, force: true } })).status).toBe(200);
    expect(await show(server.id)).toMatchObject({ status: "ACTIVE", "OS-EXT-SRV-ATTR:host": b });
  });

  it("with no valid host: the server goes to error and stays", async () => {
    const failed = unique("lonely");
    await addHost(failed, { state: "down", zone: failed });
    await addHost(`${failed}-reserved`, { status: "disabled", zone: failed });
    const server = await addServer({ host: failed, vm_state: "stopped" });
    expect((await action(server.id, { evacuate: {} })).status).toBe(200);
    expect(await show(server.id)).toMatchObject({
      status: "ERROR",
      "OS-EXT-STS:vm_state": "error",
      "OS-EXT-STS:task_state": null,
      "OS-EXT-SRV-ATTR:host": failed,
    });
  });

  it("needs room for the flavor: what fits nowhere ends in error on its host, a smaller one is placed", async () => {
    const { failed, a, b } = await cluster();
    await addHost(a, { vcpus: 4, memory_mb: 8192, local_gb: 80 });
    await addHost(b, { vcpus: 8, memory_mb: 16384, local_gb: 160 });
    const tooBig = await addServer({ host: failed, flavor: { vcpus: 16 } });
    expect((await action(tooBig.id, { evacuate: {} })).status).toBe(200);
    const refused = { status: "ERROR", "OS-EXT-STS:vm_state": "error", "OS-EXT-SRV-ATTR:host": failed };
    expect(await show(tooBig.id)).toMatchObject(refused);
    // The first host by name that fits: not a (4 vCPUs), but b.
    const wide = await addServer({ host: failed, flavor: { vcpus: 6, ram: 1024, disk: 10 } });
    await action(wide.id, { evacuate: {} });
    expect(await show(wide.id)).toMatchObject({ status: "ACTIVE", "OS-EXT-SRV-ATTR:host": b });
    const small = await addServer({ host: failed, flavor: { vcpus: 2, ram: 2048, disk: 20 } });
    await action(small.id, { evacuate: {} });
    expect(await show(small.id)).toMatchObject({ status: "ACTIVE", "OS-EXT-SRV-ATTR:host": a });
    // a has 2 vCPUs, 6144 MB and 60 GB free: each of these is one too many.
    for (const flavor of [{ vcpus: 3 }, { ram: 6145 }, { disk: 61 }]) {
      const over = await addServer({ host: failed, flavor: { vcpus: 1, ram: 512, disk: 1, ...flavor } });
      expect((await action(over.id, { evacuate: { host: a } })).status).toBe(200);
      expect(await show(over.id)).toMatchObject(refused);
    }
    const exact = await addServer({ host: failed, flavor: { vcpus: 2, ram: 6144, disk: 60 } });
    await action(exact.id, { evacuate: { host: a } });
    expect(await show(exact.id)).toMatchObject({ status: "ACTIVE", "OS-EXT-SRV-ATTR:host": a });
    // Forced: no scheduler, so no room check; the hypervisor shows the over-commitment.
    await action(tooBig.id, { evacuate: { host: a, force: true } });
    expect(await show(tooBig.id)).toMatchObject({ status: "ACTIVE", "OS-EXT-SRV-ATTR:host": a });
    expect(await hypervisorOf(a)).toMatchObject({ vcpus_used: 20, free_ram_mb: -512, free_disk_gb: -1 });
  });

  it("refuses like Nova: unknown target 404, same host 400, bad state 409, source up 400, bad body 400", async () => {
    const { failed, a } = await cluster();
    const server = await addServer({ host: failed });
    const unknown = await action(server.id, { evacuate: { host: unique("nowhere") } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.itemNotFound.message).toMatch(/^Compute host .* not found\.$/);
    expect((await action(server.id, { evacuate: { host: failed } })).body.badRequest.message).toBe(
      "The target host can't be the same one.",
    );
    const paused = await addServer({ host: failed, vm_state: "paused" });
    const conflict = await action(paused.id, { evacuate: {} });
    expect(conflict.status).toBe(409);
    expect(conflict.body.conflictingRequest.message).toBe(
      `Cannot 'evacuate' instance ${paused.id} while it is in vm_state paused`,
    );
    const busy = await addServer({ host: failed, task_state: "powering-off" });
    expect((await action(busy.id, { evacuate: {} })).status).toBe(409);
    const onUpHost = await addServer({ host: a });
    const inUse = await action(onUpHost.id, { evacuate: {} });
    expect(inUse.status).toBe(400);
    expect(inUse.body.badRequest.message).toBe(`Compute service of ${a} is still in use.`);
    expect((await action(server.id, { evacuate: { onSharedStorage: false } })).status).toBe(400);
    expect((await action(server.id, { evacuate: { force: true } })).status).toBe(400);
    expect((await show(server.id))["OS-EXT-SRV-ATTR:host"]).toBe(failed);
  });

  it("with evacuate_polls, rebuilds for that many GETs (listing does not count)", async () => {
    const { failed, a } = await cluster();
    const server = await addServer({ host: failed, evacuate_polls: 2, locked: true });
    await action(server.id, { evacuate: {} });
    const rebuilding = { status: "REBUILD", "OS-EXT-STS:task_state": "rebuilding", "OS-EXT-SRV-ATTR:host": failed };
    const listed = await api("GET", `/servers/detail?all_tenants=True&host=${failed}`);
    expect(listed.body.servers[0]).toMatchObject(rebuilding);
    expect(await show(server.id)).toMatchObject({ ...rebuilding, "OS-EXT-STS:vm_state": "active", locked: true });
    expect(await show(server.id)).toMatchObject(rebuilding);
    expect(await show(server.id)).toMatchObject({ status: "ACTIVE", "OS-EXT-SRV-ATTR:host": a });
    expect((await action(server.id, { evacuate: {} })).status).toBe(400); // now on an up host
  });

  it("a stopped server is powered on, then off on the new host, as the traces show", async () => {
    const { failed, a } = await cluster();
    const server = await addServer({ host: failed, vm_state: "stopped", evacuate_polls: 2 });
    await action(server.id, { evacuate: {} });
    const seen = [];
    for (let i = 0; i < 3; i++) {
      const s = await show(server.id);
      seen.push([s.status, s["OS-EXT-STS:vm_state"], s["OS-EXT-STS:task_state"], s["OS-EXT-SRV-ATTR:host"]]);
    }
    expect(seen).toEqual([
      ["REBUILD", "stopped", "rebuilding", failed],
      ["ACTIVE", "active", "powering-off", a],
      ["SHUTOFF", "stopped", null, a],
    ]);
  });
});

describe("os-hypervisors", () => {
  it("one per nova-compute service, with Nova's 2.53 fields; usage sums the flavors on the host", async () => {
    const host = unique("hyp");
    const service = await addHost(host, { vcpus: 16, memory_mb: 32768, local_gb: 200 });
    const empty = await hypervisorOf(host);
    expect(empty).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      hypervisor_hostname: host,
      state: "up",
      status: "enabled",
      hypervisor_type: "QEMU",
      hypervisor_version: expect.any(Number),
      host_ip: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/),
      service: { host, id: service.id, disabled_reason: null },
      vcpus: 16,
      memory_mb: 32768,
      local_gb: 200,
      vcpus_used: 0,
      memory_mb_used: 0,
      local_gb_used: 0,
      free_ram_mb: 32768,
      free_disk_gb: 200,
      disk_available_least: 200,
      running_vms: 0,
      current_workload: 0,
      cpu_info: expect.objectContaining({ arch: "x86_64", topology: expect.any(Object) }),
    });
    expect(empty.id).not.toBe(service.id);
    // Every instance on the host counts, whatever its vm_state.
    await addServer({ host, flavor: { vcpus: 2, ram: 4096, disk: 20 } });
    await addServer({ host, vm_state: "stopped", flavor: { vcpus: 4, ram: 8192, disk: 40 } });
    await addServer({ host, vm_state: "error" });
    const used = await hypervisorOf(host);
    expect(usage(used)).toEqual([7, 12800, 61, 3]);
    expect(used).toMatchObject({ id: empty.id, free_ram_mb: 19968, free_disk_gb: 139, disk_available_least: 139 });
    await addHost(host, { status: "disabled", disabled_reason: "maintenance", state: "down" });
    expect(await hypervisorOf(host)).toMatchObject({
      id: empty.id,
      state: "down",
      status: "disabled",
      service: { disabled_reason: "maintenance" },
    });
    const other = unique("hyp");
    await addHost(other);
    expect(await hypervisorOf(other)).toMatchObject({ vcpus: 8192, memory_mb: 16777216, local_gb: 100000 });
  });

  it("an evacuation moves the usage to the target, which holds it while the rebuild runs", async () => {
    const { failed, a } = await cluster();
    const flavor = { vcpus: 2, ram: 2048, disk: 20 };
    const server = await addServer({ host: failed, flavor, evacuate_polls: 1 });
    await addServer({ host: a });
    expect(usage(await hypervisorOf(failed))).toEqual([2, 2048, 20, 1]);
    expect(usage(await hypervisorOf(a))).toEqual([1, 512, 1, 1]);
    await action(server.id, { evacuate: {} });
    expect(usage(await hypervisorOf(a))).toEqual([3, 2560, 21, 2]);
    expect((await show(server.id))["OS-EXT-STS:task_state"]).toBe("rebuilding");
    expect((await show(server.id))["OS-EXT-SRV-ATTR:host"]).toBe(a);
    expect(usage(await hypervisorOf(failed))).toEqual([0, 0, 0, 0]);
    expect(usage(await hypervisorOf(a))).toEqual([3, 2560, 21, 2]);
    // A refused one stays where it was and takes nothing elsewhere.
    const refused = await addServer({ host: failed, flavor: { vcpus: 9000 }, evacuate_polls: 1 });
    await action(refused.id, { evacuate: {} });
    expect(usage(await hypervisorOf(a))).toEqual([3, 2560, 21, 2]);
  });

  it("pages by limit and marker in creation order, up to max_limit, with a next link; records the calls", async () => {
    const own = createNova();
    const get = async (path: string) => send(own, "GET", `${NOVA}${path}`);
    const names = ["zeta", "alpha", "mid"];
    for (const name of names) await send(own, "POST", `${CONTROL}/hosts`, { name });
    const first = await get("/os-hypervisors/detail?limit=2");
    expect(first.status).toBe(200);
    expect(first.body.hypervisors.map((h: Hypervisor) => h.hypervisor_hostname)).toEqual(["zeta", "alpha"]);
    const marker = first.body.hypervisors[1].id;
    expect(first.body.hypervisors_links).toEqual([
      { rel: "next", href: `${NOVA}/os-hypervisors/detail?limit=2&marker=${marker}` },
    ]);
    const next = await send(own, "GET", first.body.hypervisors_links[0].href);
    expect(next.body.hypervisors.map((h: Hypervisor) => h.hypervisor_hostname)).toEqual(["mid"]);
    expect(next.body.hypervisors_links).toBeUndefined();
    const unknown = crypto.randomUUID();
    expect((await get(`/os-hypervisors/detail?marker=${unknown}`)).body).toEqual({
      badRequest: { code: 400, message: `marker [${unknown}] not found` },
    });
    expect((await get("/os-hypervisors/detail?limit=-1")).status).toBe(400);
    expect((await get("/os-hypervisors/detail?limit=0")).body).toEqual({ hypervisors: [] });
    // Without a limit, max_limit bounds the page; the link carries only the marker, as Nova writes it.
    await send(own, "POST", `${CONTROL}/settings`, { max_limit: 2 });
    const capped = await get("/os-hypervisors/detail?limit=50");
    expect(capped.body.hypervisors).toHaveLength(2);
    const bounded = await get("/os-hypervisors/detail");
    expect(bounded.body.hypervisors_links[0].href).toBe(`${NOVA}/os-hypervisors/detail?marker=${marker}`);
    // The list without details: the four fields Nova shows there.
    const brief = await get("/os-hypervisors");
    expect(Object.keys(brief.body.hypervisors[0]).sort()).toEqual(["hypervisor_hostname", "id", "state", "status"]);
    expect(brief.body.hypervisors_links[0].href).toBe(`${NOVA}/os-hypervisors?marker=${marker}`);
    const calls = (await send(own, "GET", `${CONTROL}/calls`)).body.calls;
    expect(calls[0]).toMatchObject({ method: "GET", path: "/v2.1/os-hypervisors/detail?limit=2", status: 200 });
    expect(calls.every((c: Json) => c.path.startsWith("/v2.1/os-hypervisors"))).toBe(true);
  });

  it("filters by a hostname pattern (a substring), refuses paging with it, 404s when nothing matches", async () => {
    const { failed, a, b } = await cluster();
    const prefix = failed.slice(0, -2);
    const server = await addServer({ host: a });
    const matched = await api("GET", `/os-hypervisors/detail?hypervisor_hostname_pattern=${prefix}`);
    expect(matched.status).toBe(200);
    expect(matched.body.hypervisors.map((h: Hypervisor) => h.hypervisor_hostname)).toEqual([failed, b, a]);
    expect(matched.body.hypervisors_links).toBeUndefined();
    const middle = prefix.slice(3, 12);
    const some = await api("GET", `/os-hypervisors?hypervisor_hostname_pattern=${middle}&with_servers=true`);
    const onA = some.body.hypervisors.find((h: Hypervisor) => h.hypervisor_hostname === a);
    expect(onA).toMatchObject({ servers: [{ name: server.name, uuid: server.id }] });
    expect(some.body.hypervisors.find((h: Hypervisor) => h.hypervisor_hostname === b).servers).toBeUndefined();
    for (const paging of ["limit=10", `marker=${onA.id}`]) {
      const refused = await api("GET", `/os-hypervisors/detail?hypervisor_hostname_pattern=${prefix}&${paging}`);
      expect(refused.status).toBe(400);
      expect(refused.body.badRequest.message).toBe(
        "Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.",
      );
    }
    const nobody = unique("nobody");
    const none = await api("GET", `/os-hypervisors/detail?hypervisor_hostname_pattern=${nobody}`);
    expect(none.body).toEqual({
      itemNotFound: { code: 404, message: `No hypervisor matching '${nobody}' could be found.` },
    });
    expect((await api("GET", "/os-hypervisors/detail?hypervisor_hostname_pattern=a%20b")).status).toBe(400);
  });

  it("shows one by id: 400 when the id is no UUID, 404 when unknown", async () => {
    const host = unique("hyp");
    await addHost(host);
    const listed = await hypervisorOf(host);
    const shown = await api("GET", `/os-hypervisors/${listed.id}`);
    expect(shown.status).toBe(200);
    expect(shown.body.hypervisor).toEqual(listed);
    expect((await api("GET", `/os-hypervisors/${listed.id.toUpperCase()}`)).body.hypervisor.id).toBe(listed.id);
    expect((await api("GET", "/os-hypervisors/42")).body).toEqual({
      badRequest: { code: 400, message: "Invalid uuid 42" },
    });
    const unknown = crypto.randomUUID();
    expect((await api("GET", `/os-hypervisors/${unknown}`)).body.itemNotFound.message).toBe(
      `Hypervisor with ID '${unknown}' could not be found.`,
    );
  });
});

describe("os-aggregates", () => {
  it("lists and adds a host, 409 when it is already there", async () => {
    const { failed, b } = await cluster();
    const name = unique("agg");
    const created = (await control("POST", "/aggregates", { name, hosts: [failed] })).body;
    const listed = (await api("GET", "/os-aggregates")).body.aggregates;
    expect(listed.find((x: Json) => x.name === name)).toMatchObject({
      id: created.id,
      name,
      hosts: [failed],
      availability_zone: null,
      metadata: {},
    });
    const added = await api("POST", `/os-aggregates/${created.id}/action`, { add_host: { host: b } });
    expect(added.status).toBe(200);
    expect(added.body.aggregate.hosts).toEqual([failed, b]);
    const again = await api("POST", `/os-aggregates/${created.id}/action`, { add_host: { host: b } });
    expect(again.status).toBe(409);
    expect(again.body.conflictingRequest.code).toBe(409);
    expect((await api("POST", "/os-aggregates/999999/action", { add_host: { host: b } })).status).toBe(404);
    const nobody = await api("POST", `/os-aggregates/${created.id}/action`, { add_host: { host: unique("x") } });
    expect(nobody.status).toBe(404);
  });
});

describe("faults", () => {
  it("answer a status with a Nova fault body, `times` times", async () => {
    const host = unique("h");
    const server = await addServer({ host });
    await control("POST", "/faults", { method: "GET", server: server.id, status: 500, times: 2 });
    for (let i = 0; i < 2; i++) {
      const broken = await api("GET", `/servers/${server.id}`);
      expect(broken.status).toBe(500);
      expect(broken.body.computeFault.code).toBe(500);
    }
    expect((await api("GET", `/servers/${server.id}`)).status).toBe(200);
  });

  it("match on action and path, and can be removed", async () => {
    const server = await addServer({ host: unique("h") });
    const { id } = (await control("POST", "/faults", { action: "lock", server: server.id, status: 409 })).body;
    expect((await action(server.id, { unlock: null })).status).toBe(202);
    expect((await action(server.id, { lock: null })).status).toBe(409);
    expect((await action(server.id, { lock: null })).status).toBe(409); // unlimited
    expect((await show(server.id)).locked).toBe(false);
    expect((await control("DELETE", `/faults/${id}`)).status).toBe(204);
    expect((await action(server.id, { lock: null })).status).toBe(202);
    const host = unique("h");
    await addHost(host);
    await control("POST", "/faults", { path: `host=${host}`, status: 503, times: 1 });
    const unavailable = await api("GET", `/os-services?host=${host}&binary=nova-compute`);
    expect(unavailable.body).toEqual({ serviceUnavailable: { code: 503, message: expect.any(String) } });
  });

  it("result error: the evacuation is accepted and the server goes to error on its host", async () => {
    const { failed } = await cluster();
    const server = await addServer({ host: failed, evacuate_polls: 1 });
    await control("POST", "/faults", { action: "evacuate", server: server.id, result: "error", times: 1 });
    expect((await action(server.id, { evacuate: {} })).status).toBe(200);
    expect((await show(server.id)).status).toBe("REBUILD");
    expect(await show(server.id)).toMatchObject({ status: "ERROR", "OS-EXT-SRV-ATTR:host": failed });
  });

  it("result stuck: the evacuation never finishes", async () => {
    const { failed } = await cluster();
    const server = await addServer({ host: failed });
    await control("POST", "/faults", { action: "evacuate", server: server.id, result: "stuck" });
    expect((await action(server.id, { evacuate: {} })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await show(server.id)).status).toBe("REBUILD");
  });

  it("hang: no answer until the client gives up", async () => {
    const server = await addServer({ host: unique("h") });
    await control("POST", "/faults", { server: server.id, hang: true, times: 1 });
    const since = await lastSeq();
    const giveUp = new AbortController();
    let settled = false;
    const pending = nova
      .fetch(new Request(`${NOVA}/servers/${server.id}`, { headers: HEADERS, signal: giveUp.signal }))
      .finally(() => {
        settled = true;
      });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false);
    const calls = (await control("GET", `/calls?since=${since}&server=${server.id}`)).body.calls;
    expect(calls).toMatchObject([{ method: "GET", status: null }]);
    giveUp.abort();
    await pending;
    expect((await show(server.id)).id).toBe(server.id);
  });

  it("needs status, hang or result", async () => {
    expect((await control("POST", "/faults", { path: "/servers" })).status).toBe(400);
  });
});

describe("the call log", () => {
  it("records method, path with query, body, status, microversion and token; filters by since, server, host", async () => {
    const { failed, a } = await cluster();
    const server = await addServer({ host: failed });
    const since = await lastSeq();
    const services = (await api("GET", `/os-services?host=${failed}&binary=nova-compute`)).body.services;
    await api("PUT", `/os-services/${services[0].id}`, { status: "disabled", disabled_reason: "x" });
    await api("GET", `/servers/detail?all_tenants=True&host=${failed}`);
    await action(server.id, { evacuate: { host: a } });
    await send(nova, "GET", `${NOVA}/nowhere`);
    await nova.fetch(new Request(`${NOVA}/servers/${server.id}`)); // no headers

    const calls = (await control("GET", `/calls?since=${since}`)).body.calls;
    expect(calls.map((c: Json) => [c.method, c.path, c.status])).toEqual([
      ["GET", `/v2.1/os-services?host=${failed}&binary=nova-compute`, 200],
      ["PUT", `/v2.1/os-services/${services[0].id}`, 200],
      ["GET", `/v2.1/servers/detail?all_tenants=True&host=${failed}`, 200],
      ["POST", `/v2.1/servers/${server.id}/action`, 200],
      ["GET", "/v2.1/nowhere", 404],
      ["GET", `/v2.1/servers/${server.id}`, 200],
    ]);
    expect(calls[0]).toMatchObject({ body: null, microversion: "2.53", auth: "tok-1" });
    expect(calls[1].body).toEqual({ status: "disabled", disabled_reason: "x" });
    expect(calls[3].body).toEqual({ evacuate: { host: a } });
    expect(calls[5]).toMatchObject({ microversion: null, auth: null });
    expect(calls.every((c: Json, i: number) => i === 0 || c.seq > calls[i - 1].seq)).toBe(true);

    const byServer = (await control("GET", `/calls?since=${since}&server=${server.id}`)).body.calls;
    expect(byServer.map((c: Json) => c.seq)).toEqual([calls[3].seq, calls[5].seq]);
    // host: the query names it, the body names it, or the path is its service.
    const byHost = (await control("GET", `/calls?since=${since}&host=${failed}`)).body.calls;
    expect(byHost.map((c: Json) => c.seq)).toEqual([calls[0].seq, calls[1].seq, calls[2].seq]);
    const byTarget = (await control("GET", `/calls?since=${since}&host=${a}`)).body.calls;
    expect(byTarget.map((c: Json) => c.seq)).toEqual([calls[3].seq]);
    expect((await control("GET", `/calls?since=${calls[5].seq}`)).body.calls).toEqual([]);
  });

  it("reads the microversion from OpenStack-API-Version too, and 404s unknown routes like Nova", async () => {
    const since = await lastSeq();
    const answer = await nova.fetch(
      new Request(`${NOVA}/os-migrations`, { headers: { "OpenStack-API-Version": "compute 2.53" } }),
    );
    expect(answer.status).toBe(404);
    expect(answer.headers.get("X-OpenStack-Nova-API-Version")).toBe("2.53");
    expect(((await answer.json()) as Json).itemNotFound.code).toBe(404);
    const calls = (await control("GET", `/calls?since=${since}`)).body.calls;
    expect(calls).toMatchObject([{ path: "/v2.1/os-migrations", microversion: "2.53", status: 404 }]);
  });
});

describe("control", () => {
  it("shows the state of a server or a host", async () => {
    const { failed } = await cluster();
    const server = await addServer({ host: failed });
    const byServer = (await control("GET", `/state?server=${server.id}`)).body;
    expect(byServer.servers.map((s: Json) => s.id)).toEqual([server.id]);
    expect(byServer.services).toEqual([]);
    const byHost = (await control("GET", `/state?host=${failed}`)).body;
    expect(byHost.servers.map((s: Json) => s.id)).toEqual([server.id]);
    expect(byHost.services).toMatchObject([{ host: failed, state: "down" }]);
  });

  it("updates a server given its id", async () => {
    const server = await addServer({ host: unique("h") });
    const updated = (await control("POST", "/servers", { id: server.id, vm_state: "stopped", locked: true })).body;
    expect(updated).toMatchObject({ id: server.id, name: server.name, status: "SHUTOFF", locked: true });
  });

  it("reset empties a world, and worlds are separate", async () => {
    const own = createNova();
    const host = unique("h");
    await send(own, "POST", `${CONTROL}/hosts`, { name: host });
    await send(own, "GET", `${NOVA}/os-services?host=${host}`);
    expect((await api("GET", `/os-services?host=${host}`)).body.services).toEqual([]);
    expect((await send(standIn, "GET", `${NOVA}/os-services?host=${host}`)).body.services).toEqual([]);
    expect((await send(own, "POST", `${CONTROL}/reset`)).status).toBe(200);
    expect((await send(own, "GET", `${CONTROL}/state?host=${host}`)).body).toEqual({ servers: [], services: [] });
    expect((await send(own, "GET", `${CONTROL}/calls`)).body.calls).toEqual([]);
  });
});
