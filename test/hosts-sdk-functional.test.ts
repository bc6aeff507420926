import { beforeAll, describe, expect, it } from "vitest";
import {
  appWith,
  type Client,
  expectedHost,
  expectSuccess,
  fakeCalls,
  fault,
  faultHeaders,
  hostNotUnder,
  type Json,
  NOVA_URL,
  row,
  successHeaders,
  unique,
  v1Headers,
} from "./helpers";

// The client suites (docs/upstream.md, "Client suites") for hosts, as the HTTP
// exchanges their clients make: Masakari's in-tree functional tests
// (masakari/tests/functional/test_hosts.py, through openstacksdk's conn.ha)
// and openstacksdk's own functional test
// (openstack/tests/functional/instance_ha/v1/test_host.py), plus the same flows
// as python-masakariclient (OSC) sends them.
//
// Clients reach the API through the catalog endpoint .../v1/<project_id>,
// with a token; keystonemiddleware would turn the token into identity
// headers, which noauth2 reads directly (D8). openstacksdk pins segments to
// microversion 1.2 and sends no microversion for hosts; the OSC plugin sends
// instance-ha 1.2. A compute endpoint is configured, as in devstack, so host
// names are checked against (fake) Nova (D10): its hypervisors are any name
// not starting with "unknown".

let app: Client;
const project = crypto.randomUUID().replaceAll("-", "");
const token = `gAAAAA${crypto.randomUUID().replaceAll("-", "")}`;
const base = `/v1/${project}`;

/** The headers keystoneauth sends for openstacksdk, plus the identity keystonemiddleware would add. */
function sdkHeaders(microversion?: string): Record<string, string> {
  return {
    "User-Agent": "openstacksdk/4.1.0 keystoneauth1/5.8.0 python-requests/2.32.3 CPython/3.12.3",
    Accept: "application/json",
    "X-Auth-Token": token,
    "X-User-Id": "admin-user",
    "X-Project-Id": project,
    "X-Roles": "admin,member,reader",
    ...(microversion ? { "OpenStack-API-Version": `instance-ha ${microversion}` } : {}),
  };
}

const cliHeaders = () => ({
  ...sdkHeaders("1.2"),
  "User-Agent": "python-masakariclient keystoneauth1/5.8.0 python-requests/2.32.3 CPython/3.12.3",
});

/** conn.ha.* as HTTP: hosts without a microversion header. */
const sdk = (method: string, path: string, body?: unknown) =>
  app(method, `${base}${path}`, { headers: sdkHeaders(), ...(body === undefined ? {} : { body }) });
/** The OSC plugin: everything at instance-ha 1.2. */
const cli = (method: string, path: string, body?: unknown) =>
  app(method, `${base}${path}`, { headers: cliHeaders(), ...(body === undefined ? {} : { body }) });

const hostsPath = (segment: Json) => `/segments/${segment.uuid}/hosts`;
const hostPath = (segmentUuid: string, hostUuid: string) => `/segments/${segmentUuid}/hosts/${hostUuid}`;

/** conn.ha.create_segment(...): openstacksdk sends segments at 1.2; D2 answers 202. */
async function createSegment(): Promise<Json> {
  const res = await app("POST", `${base}/segments`, {
    headers: sdkHeaders("1.2"),
    body: { segment: { name: unique("functional-seg"), recovery_method: "auto", service_type: "COMPUTE" } },
  });
  expect({ status: res.status, headers: v1Headers(res) }).toEqual({ status: 202, headers: successHeaders("1.2") });
  return res.json.segment;
}

beforeAll(() => {
  app = appWith({ NOVA_URL });
});

describe("masakari functional tests (test_hosts.py, through openstacksdk)", () => {
  let segment: Json;
  const hypervisors: string[] = [];

  beforeAll(async () => {
    segment = await createSegment();
    hypervisors.push(unique("hypervisor0"), unique("hypervisor1"));
  });

  it("test_create_get: the create echoes the booleans and a get shows them", async () => {
    const seg = await createSegment();
    const hostData = {
      name: unique("hypervisor"),
      type: "COMPUTE",
      on_maintenance: false,
      reserved: false,
      control_attributes: "SSH",
    };
    const created = await sdk("POST", hostsPath(seg), { host: hostData });
    expectSuccess(created, 201, { host: expectedHost(seg, hostData) });
    expect(await fakeCalls(`nova:${hostData.name}`)).toBe(1);
    const host = created.json.host;
    const got = await sdk("GET", hostPath(seg.uuid, host.uuid));
    expectSuccess(got, 200, { host });
    expect(got.json.host).toMatchObject({
      type: "COMPUTE",
      on_maintenance: false,
      reserved: false,
      control_attributes: "SSH",
    });
  });

  it("test_list: the list holds exactly the created hosts, each naming the segment's uuid", async () => {
    const seg = await createSegment();
    const expected: Json[] = [];
    for (const name of [unique("hypervisor0"), unique("hypervisor1")]) {
      const res = await sdk("POST", hostsPath(seg), {
        host: { name, type: "COMPUTE", on_maintenance: false, reserved: false, control_attributes: "SSH" },
      });
      expect(res.status).toBe(201);
      expected.push(res.json.host);
    }
    const listed = await sdk("GET", hostsPath(seg));
    expect({ status: listed.status, headers: v1Headers(listed) }).toEqual({ status: 200, headers: successHeaders() });
    expect(listed.json.hosts).toHaveLength(2);
    expect(listed.json.hosts).toEqual(expect.arrayContaining(expected));
    for (const host of listed.json.hosts) expect(host.failover_segment_id).toBe(seg.uuid);
  });

  describe("test_create_list_with_filter", () => {
    let seg: Json;
    let compute: Json;
    let controller: Json;

    beforeAll(async () => {
      seg = await createSegment();
      const first = await sdk("POST", hostsPath(seg), {
        host: {
          name: unique("hypervisor0"),
          type: "COMPUTE",
          on_maintenance: false,
          reserved: false,
          control_attributes: "SSH",
        },
      });
      const second = await sdk("POST", hostsPath(seg), {
        host: {
          name: unique("hypervisor1"),
          type: "CONTROLLER",
          on_maintenance: true,
          reserved: true,
          control_attributes: "TCP",
        },
      });
      expect([first.status, second.status]).toEqual([201, 201]);
      compute = first.json.host;
      controller = second.json.host;
    });

    it("on_maintenance=False&type=COMPUTE&reserved=False (as the SDK sends them) gives the COMPUTE host", async () => {
      const res = await sdk("GET", `${hostsPath(seg)}?on_maintenance=False&type=COMPUTE&reserved=False`);
      expectSuccess(res, 200, { hosts: [compute] });
      for (const host of res.json.hosts) {
        expect(host).toMatchObject({
          on_maintenance: false,
          type: "COMPUTE",
          reserved: false,
          control_attributes: "SSH",
        });
      }
    });

    it("on_maintenance=True&type=CONTROLLER&reserved=True gives the CONTROLLER host", async () => {
      const res = await sdk("GET", `${hostsPath(seg)}?on_maintenance=True&type=CONTROLLER&reserved=True`);
      expectSuccess(res, 200, { hosts: [controller] });
      for (const host of res.json.hosts) {
        expect(host).toMatchObject({
          on_maintenance: true,
          type: "CONTROLLER",
          reserved: true,
          control_attributes: "TCP",
        });
      }
    });

    it("mismatched filters give no host", async () => {
      expectSuccess(await sdk("GET", `${hostsPath(seg)}?on_maintenance=True&type=COMPUTE&reserved=False`), 200, {
        hosts: [],
      });
    });
  });

  it("test_update_get_delete: 'True'/'False' strings and a control_attributes update", async () => {
    const seg = await createSegment();
    const name = unique("hypervisor0");
    const created = await sdk("POST", hostsPath(seg), {
      host: { name, on_maintenance: "False", reserved: "False", type: "COMPUTE", control_attributes: "SSH" },
    });
    expectSuccess(created, 201, { host: expectedHost(seg, { name }) });
    const host = created.json.host;
    const updated = await sdk("PUT", hostPath(seg.uuid, host.uuid), {
      host: { on_maintenance: "True", control_attributes: "TCP", reserved: "True" },
    });
    const after = {
      ...host,
      on_maintenance: true,
      control_attributes: "TCP",
      reserved: true,
      updated_at: expect.any(String),
    };
    expectSuccess(updated, 200, { host: after });
    // get_host(host.uuid, host.failover_segment_id)
    const got = await sdk("GET", hostPath(host.failover_segment_id, host.uuid));
    expectSuccess(got, 200, { host: updated.json.host });
    expect(got.json.host).toMatchObject({ on_maintenance: true, reserved: true, control_attributes: "TCP" });
    expect(await row("hosts", "uuid", host.uuid)).toMatchObject({
      on_maintenance: 1,
      reserved: 1,
      control_attributes: "TCP",
    });
    // addCleanup(delete_segment): the segment goes, and its host with it.
    const deleted = await app("DELETE", `${base}/segments/${seg.uuid}`, { headers: sdkHeaders("1.2") });
    expect({ status: deleted.status, text: deleted.text }).toEqual({ status: 204, text: "" });
    const gone = await sdk("GET", hostPath(seg.uuid, host.uuid));
    expect({ status: gone.status, headers: v1Headers(gone), body: gone.json }).toEqual({
      status: 404,
      headers: faultHeaders(),
      body: fault("itemNotFound", 404, hostNotUnder(host.uuid, seg.uuid)),
    });
  });

  it("test_update_host_name: a rename to a second hypervisor is seen by a get", async () => {
    const [first, second] = hypervisors as [string, string];
    const created = await sdk("POST", hostsPath(segment), {
      host: { name: first, type: "COMPUTE", control_attributes: "SSH" },
    });
    expectSuccess(created, 201, { host: expectedHost(segment, { name: first }) });
    const host = created.json.host;
    const updated = await sdk("PUT", hostPath(segment.uuid, host.uuid), { host: { name: second } });
    expectSuccess(updated, 200, { host: { ...host, name: second, updated_at: expect.any(String) } });
    expect(await fakeCalls(`nova:${second}`)).toBe(1);
    const got = await sdk("GET", hostPath(host.failover_segment_id, host.uuid));
    expectSuccess(got, 200, { host: updated.json.host });
    expect(got.json.host.name).toBe(updated.json.host.name);
  });
});

describe("openstacksdk functional tests (instance_ha/v1/test_host.py)", () => {
  let segment: Json;
  let host: Json;
  let name: string;

  // setUp: a segment and a host on the first hypervisor.
  beforeAll(async () => {
    segment = await createSegment();
    name = unique("hypervisor0");
    const res = await sdk("POST", hostsPath(segment), {
      host: { name, type: "COMPUTE", control_attributes: "SSH" },
    });
    expectSuccess(res, 201, { host: expectedHost(segment, { name }) });
    host = res.json.host;
  });

  it("test_list: failover_segment_id=<segment uuid>&type=COMPUTE lists the host", async () => {
    const res = await sdk("GET", `${hostsPath(segment)}?failover_segment_id=${segment.uuid}&type=COMPUTE`);
    expectSuccess(res, 200, { hosts: [host] });
    expect(res.json.hosts.map((h: Json) => h.name)).toContain(name);
  });

  it("test_update: on_maintenance='True', then a get shows true", async () => {
    const updated = await sdk("PUT", hostPath(segment.uuid, host.uuid), { host: { on_maintenance: "True" } });
    expectSuccess(updated, 200, { host: { ...host, on_maintenance: true, updated_at: expect.any(String) } });
    // get_host(updated_host.uuid, updated_host.segment_id): segment_id is the URI attribute of the update.
    const got = await sdk("GET", hostPath(segment.uuid, updated.json.host.uuid));
    expectSuccess(got, 200, { host: updated.json.host });
    expect(got.json.host.on_maintenance).toBe(true);
  });

  it("cleanup: delete_host then delete_segment", async () => {
    const extra = await sdk("POST", hostsPath(segment), {
      host: { name: unique("hypervisor1"), type: "COMPUTE", control_attributes: "SSH" },
    });
    expect(extra.status).toBe(201);
    const deletedHost = await sdk("DELETE", hostPath(segment.uuid, extra.json.host.uuid));
    expect({ status: deletedHost.status, headers: v1Headers(deletedHost), text: deletedHost.text }).toEqual({
      status: 204,
      headers: successHeaders(),
      text: "",
    });
    const deletedSegment = await app("DELETE", `${base}/segments/${segment.uuid}`, { headers: sdkHeaders("1.2") });
    expect({ status: deletedSegment.status, headers: v1Headers(deletedSegment) }).toEqual({
      status: 204,
      headers: successHeaders("1.2"),
    });
    expect(await row("hosts", "uuid", host.uuid)).toMatchObject({ deleted: host.id });
  });
});

describe("python-masakariclient (OSC) at instance-ha 1.2", () => {
  let segment: Json;

  beforeAll(async () => {
    segment = await createSegment();
  });

  it("segment host create / show / list / update / delete at 1.2", async () => {
    const name = unique("hypervisor");
    const created = await cli("POST", hostsPath(segment), {
      host: { name, type: "COMPUTE", control_attributes: "SSH", reserved: "True" },
    });
    expectSuccess(created, 201, { host: expectedHost(segment, { name, reserved: true }) }, "1.2");
    const host = created.json.host;
    expectSuccess(await cli("GET", hostPath(segment.uuid, host.uuid)), 200, { host }, "1.2");
    expectSuccess(await cli("GET", `${hostsPath(segment)}?reserved=True`), 200, { hosts: [host] }, "1.2");
    const updated = await cli("PUT", hostPath(segment.uuid, host.uuid), { host: { on_maintenance: "True" } });
    expectSuccess(updated, 200, { host: { ...host, on_maintenance: true, updated_at: expect.any(String) } }, "1.2");
    const deleted = await cli("DELETE", hostPath(segment.uuid, host.uuid));
    expect({ status: deleted.status, headers: v1Headers(deleted), text: deleted.text }).toEqual({
      status: 204,
      headers: successHeaders("1.2"),
      text: "",
    });
  });

  it("a host Nova does not know is refused at 1.2 with the instance-ha fault header", async () => {
    const res = await cli("POST", hostsPath(segment), {
      host: { name: "unknown-compute", type: "COMPUTE", control_attributes: "SSH" },
    });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 400,
      headers: faultHeaders("1.2"),
      body: fault("badRequest", 400, "Compute service with name unknown-compute could not be found."),
    });
  });

  it("a URL project that is not the caller's is 400", async () => {
    const other = "0123456789abcdef0123456789abcdef";
    const res = await app("GET", `/v1/${other}${hostsPath(segment)}`, { headers: cliHeaders() });
    expect({ status: res.status, headers: v1Headers(res), body: res.json }).toEqual({
      status: 400,
      headers: faultHeaders("1.2"),
      body: fault(
        "badRequest",
        400,
        `Malformed request URL: URL's project_id '${other}' doesn't match Context's project_id '${project}'`,
      ),
    });
  });
});
