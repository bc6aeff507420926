// A stateful stand-in for Nova's compute API v2.1 as Masakari's recovery
// engine uses it at microversion 2.53 (docs/engine.md, "Nova"): services,
// servers and their actions, aggregates. One plain module, no dependencies:
// `createNova()` gives a world with `fetch(request)`, usable inside workerd
// (the default export is such a world, for an auxiliary Worker) and from
// Node (nova-server.mjs). Tests isolate themselves by unique host names and
// server ids, so every lookup here is by id or name.
//
// Nova routes (under any prefix ending in /v2.1; every request is recorded):
//   GET  /os-services?host=&binary=          PUT /os-services/{id}
//   GET  /servers/detail?all_tenants=&host=&limit=&marker=   GET /servers/{id}
//   POST /servers/{id}/action: lock, unlock, os-resetState, os-stop, os-start, evacuate
//   GET  /servers/{id}/os-instance-actions
//   GET  /os-aggregates                      POST /os-aggregates/{id}/action {"add_host"}
//   GET  /os-hypervisors[/detail]?limit=&marker=&hypervisor_hostname_pattern=&with_servers=
//   GET  /os-hypervisors/{id}?with_servers=  one hypervisor per nova-compute service
// Control routes (/_control/..., not recorded):
//   POST hosts {name, status?, state?, disabled_reason?, zone?, vcpus?, memory_mb?, local_gb?}
//              creates or updates a nova-compute service and its hypervisor (totals default to
//              8192 vCPUs, 16 TiB of RAM, 100,000 GB of disk: room for any test's servers)
//   POST servers {name, host, vm_state?, task_state?, power_state?, locked?, metadata?,
//                 availability_zone?, evacuate_polls?, power_polls?, id?,
//                 flavor?: {vcpus?, ram?, disk?, original_name?}}   creates (or, given a known id, updates);
//                 a flavor's missing fields come from the server's flavor, at first m1.small (1, 512, 1)
//   POST servers/bulk {host, count, prefix?, ...as servers}   creates `count` servers at once -> {ids}
//   POST aggregates {name, hosts}
//   POST settings {max_limit, host?}            Nova's [api] max_limit (default 1000): the largest page;
//                                               with host, only for listings of that host (tests share one world)
//   POST faults {method?, path?, action?, server?, status? | hang? | delay? | result?: "error"|"stuck", times?} -> {id}
//                                               (delay: ms to wait before answering as usual)
//   DELETE faults/{id}
//   GET  calls?since=&server=&host=          GET state?server=&host=         POST reset
//
// Asynchronous work (evacuate, and os-stop/os-start when power_polls is set)
// completes after N later GETs of that server: the first N GETs see the
// in-between state, the next one the result. N = 0 means at once.
//
// The scheduler only picks hosts in the server's availability zone (its
// host's zone unless given; "nova" by default), as Nova's AvailabilityZoneFilter
// does for a server booted into a zone. Tests sharing one world give each
// cluster its own zone so that evacuations without a target stay inside it.
// It also needs room for the server's flavor in the host's free vCPUs, RAM
// and disk, as Nova's placement claim does (allocation ratio 1.0, nothing
// reserved). Without a target it takes the first such host by name, where
// Nova would weigh them; that keeps tests deterministic. A forced evacuation
// skips the room check as it skips the filters (Nova since Pike still claims
// the forced target in placement; the stand-in does not model that claim).
//
// A hypervisor's usage is the sum of the flavors of the servers on its host,
// whatever their vm_state, plus those being evacuated to it (the scheduler
// claims the target before the rebuild), as its resource tracker counts them.

const MICROVERSION = "2.53";

// Large enough that no test fills a host unless it sets the totals itself.
const HOST_TOTALS = { vcpus: 8192, memory_mb: 16_777_216, local_gb: 100_000 };
const DEFAULT_FLAVOR = { vcpus: 1, ram: 512, disk: 1, original_name: "m1.small" };
const NOTHING_USED = { vcpus: 0, ram: 0, disk: 0, vms: 0 };
// The libvirt driver reports QEMU's version as major * 1e6 + minor * 1e3 + micro (8.2.2).
const QEMU_VERSION = 8_002_002;
// The strings Nova's schema takes as booleans in a query.
const TRUES = "True TRUE true 1 ON On on YES Yes yes".split(" ");
const FALSES = "False FALSE false 0 OFF Off off NO No no".split(" ");

// Nova's fault names by status (nova/api/openstack/wsgi.py Fault).
const FAULT_NAMES = {
  400: "badRequest",
  401: "unauthorized",
  403: "forbidden",
  404: "itemNotFound",
  405: "badMethod",
  409: "conflictingRequest",
  413: "overLimit",
  429: "overLimit",
  501: "notImplemented",
  503: "serviceUnavailable",
};

const json = (status, body) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const fault = (status, message) => json(status, { [FAULT_NAMES[status] ?? "computeFault"]: { code: status, message } });
const accepted = () => new Response(null, { status: 202 });
const notFound = (message = "The resource could not be found.") => fault(404, message);
const noServer = (id) => notFound(`Instance ${id} could not be found.`);
// 409 as Nova's raise_http_conflict_for_instance_invalid_state words it.
const invalidState = (action, server, attr = "vm_state") =>
  fault(409, `Cannot '${action}' instance ${server.id} while it is in ${attr} ${server[attr]}`);

// Nova's timestamps: servers "2026-11-30T02:19:05Z", services "2026-11-30T02:19:05.000000".
const serverTime = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");
const serviceTime = () => new Date().toISOString().replace(/Z$/, "000");

// The status Nova derives from vm_state and task_state (nova/api/openstack/common.py _STATE_MAP, abridged).
const STATUS = {
  active: "ACTIVE",
  building: "BUILD",
  stopped: "SHUTOFF",
  resized: "VERIFY_RESIZE",
  paused: "PAUSED",
  suspended: "SUSPENDED",
  rescued: "RESCUE",
  error: "ERROR",
  deleted: "DELETED",
  soft_deleted: "SOFT_DELETED",
  shelved: "SHELVED",
  shelved_offloaded: "SHELVED_OFFLOADED",
};
function novaStatus(vm, task) {
  if (task?.startsWith("rebuild") && ["active", "stopped", "error"].includes(vm)) return "REBUILD";
  if (task?.startsWith("resize") && (vm === "active" || vm === "stopped")) return "RESIZE";
  if (task === "resize_reverting" && vm === "resized") return "REVERT_RESIZE";
  if (task === "migrating" && (vm === "active" || vm === "paused")) return "MIGRATING";
  if (task === "rebooting" && vm === "active") return "REBOOT";
  return STATUS[vm] ?? "UNKNOWN";
}
// Nova's power states: 1 running, 3 paused, 4 shutdown, 7 suspended.
const POWER = { stopped: 4, shelved: 4, shelved_offloaded: 4, paused: 3, suspended: 7 };
const powerOf = (vm) => POWER[vm] ?? 1;

// Resolves after `ms`, or as soon as `signal` aborts (the client gave up).
function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer?.unref?.(); // Node: a hanging request alone keeps no process alive
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** True when `value` (parsed JSON) holds the string `text` somewhere. */
const mentions = (value, text) =>
  value === text ||
  (value !== null && typeof value === "object" && Object.values(value).some((v) => mentions(v, text)));

export function createNova() {
  let world = empty();
  let seq = 0; // keeps counting across resets, so `since` stays meaningful
  let serial = 0; // creation order of servers (and aggregate ids), across resets too

  function empty() {
    return {
      services: new Map(),
      servers: new Map(),
      aggregates: new Map(),
      faults: [],
      calls: [],
      settings: { maxLimit: 1000, hostLimits: new Map() },
      usage: new Map(), // host -> what its servers take, kept up to date by `moving`
    };
  }

  // --- views -----------------------------------------------------------------

  const serviceView = (s) => ({
    id: s.id,
    binary: "nova-compute",
    host: s.host,
    zone: s.zone,
    status: s.status,
    state: s.state,
    disabled_reason: s.disabled_reason,
    updated_at: s.updated_at,
    forced_down: false,
  });

  const serverView = (s) => ({
    id: s.id,
    name: s.name,
    status: novaStatus(s.vm_state, s.task_state),
    tenant_id: s.tenant_id,
    user_id: s.user_id,
    metadata: { ...s.metadata },
    locked: s.locked,
    created: s.created,
    updated: s.updated,
    "OS-EXT-AZ:availability_zone": s.zone,
    "OS-EXT-STS:vm_state": s.vm_state,
    "OS-EXT-STS:task_state": s.task_state,
    "OS-EXT-STS:power_state": s.power_state,
    "OS-EXT-SRV-ATTR:host": s.host,
    "OS-EXT-SRV-ATTR:hypervisor_hostname": s.host,
    // Embedded from 2.47 on, in place of a link to the flavor.
    flavor: {
      vcpus: s.flavor.vcpus,
      ram: s.flavor.ram,
      disk: s.flavor.disk,
      ephemeral: 0,
      swap: 0,
      original_name: s.flavor.original_name,
      extra_specs: {},
    },
  });

  // A hypervisor at 2.53 (nova/api/openstack/compute/hypervisors.py): ids are
  // the compute node's and the service's UUIDs; cpu_info is parsed JSON.
  const hypervisorView = (s, detail, withServers) => {
    const view = { id: s.hypervisor_id, hypervisor_hostname: s.host, state: s.state, status: s.status };
    if (detail) {
      const used = world.usage.get(s.host) ?? NOTHING_USED;
      Object.assign(view, {
        hypervisor_type: "QEMU",
        hypervisor_version: QEMU_VERSION,
        host_ip: s.host_ip,
        service: { host: s.host, id: s.id, disabled_reason: s.disabled_reason },
        vcpus: s.vcpus,
        memory_mb: s.memory_mb,
        local_gb: s.local_gb,
        vcpus_used: used.vcpus,
        memory_mb_used: used.ram,
        local_gb_used: used.disk,
        free_ram_mb: s.memory_mb - used.ram,
        free_disk_gb: s.local_gb - used.disk,
        current_workload: 0,
        running_vms: used.vms,
        // Images are not over-committed here, so the least available is what is free.
        disk_available_least: s.local_gb - used.disk,
        cpu_info: {
          arch: "x86_64",
          model: "Cascadelake-Server-noTSX",
          vendor: "Intel",
          topology: { cells: 1, sockets: 1, cores: s.vcpus, threads: 1 },
          features: ["vmx", "avx512f", "ssse3"],
        },
      });
    }
    if (withServers) {
      // Before 2.75 the key is left out when the host has no servers.
      const servers = [...world.servers.values()].filter((v) => v.host === s.host);
      if (servers.length) view.servers = servers.map((v) => ({ name: v.name, uuid: v.id }));
    }
    return view;
  };

  const aggregateView = (a) => ({
    id: a.id,
    uuid: a.uuid,
    name: a.name,
    availability_zone: null,
    hosts: [...a.hosts],
    metadata: {},
    created_at: a.created_at,
    updated_at: null,
    deleted_at: null,
    deleted: false,
  });

  // --- state helpers -----------------------------------------------------------

  const serviceOf = (host) => world.services.get(host);
  const isUp = (host) => serviceOf(host)?.state === "up";
  // What the scheduler's ComputeFilter and AvailabilityZoneFilter let through.
  const schedulable = (host, zone) =>
    serviceOf(host)?.status === "enabled" && isUp(host) && serviceOf(host).zone === zone;

  function change(server, patch) {
    Object.assign(server, patch);
    server.updated = serverTime();
  }

  // The hosts whose resources a server takes: its own and, while an
  // evacuation is queued, the target its last step moves it to.
  function holders(server) {
    const target = server.queue.at(-1)?.host;
    return target === undefined || target === server.host ? [server.host] : [server.host, target];
  }
  function account(server, sign) {
    for (const host of holders(server)) {
      const used = world.usage.get(host) ?? { ...NOTHING_USED };
      used.vcpus += sign * server.flavor.vcpus;
      used.ram += sign * server.flavor.ram;
      used.disk += sign * server.flavor.disk;
      used.vms += sign;
      world.usage.set(host, used);
    }
  }
  /** Runs `edit`, which may move `server`, queue a move or change its flavor, keeping the usage right. */
  function moving(server, edit) {
    account(server, -1);
    edit();
    account(server, 1);
  }
  // Placement with allocation ratio 1.0 and nothing reserved: the flavor must fit in what is free.
  function roomFor(host, flavor) {
    const service = serviceOf(host);
    const used = world.usage.get(host) ?? NOTHING_USED;
    return (
      used.vcpus + flavor.vcpus <= service.vcpus &&
      used.ram + flavor.ram <= service.memory_mb &&
      used.disk + flavor.disk <= service.local_gb
    );
  }

  /**
   * Starts asynchronous work, as Nova's API hands a task to a compute host:
   * `now` at once; the next `polls` GETs of the server see that (the last of
   * them `between` instead, when given and polls >= 2), the one after sees
   * `later`. Without `later` the work never finishes.
   */
  function begin(server, now, later, polls = 0, between = undefined) {
    moving(server, () => {
      change(server, now);
      server.queue = [];
      if (later === undefined) return;
      if (!polls) return change(server, later);
      server.queue = Array.from({ length: polls }, () => ({}));
      if (between && polls >= 2) server.queue[polls - 1] = between;
      server.queue.push(later);
    });
  }

  // Each GET /servers/{id} moves asynchronous work one step on.
  function advance(server) {
    if (!server.queue.length) return;
    moving(server, () => {
      const step = server.queue.shift();
      if (step) change(server, step);
    });
  }

  // --- faults and calls ------------------------------------------------------------

  function takeFault(call, action, wanted) {
    const index = world.faults.findIndex(
      (f) =>
        wanted(f) &&
        (f.method === undefined || f.method.toUpperCase() === call.method) &&
        (f.path === undefined || call.path.includes(f.path)) &&
        (f.server === undefined || call.path.includes(f.server)) &&
        (f.action === undefined || f.action === action),
    );
    if (index < 0) return undefined;
    const found = world.faults[index];
    if (found.times !== undefined && --found.times <= 0) world.faults.splice(index, 1);
    return found;
  }

  function callMentionsHost(call, host) {
    const url = new URL(call.path, "http://nova");
    if (url.searchParams.get("host") === host || mentions(call.body, host)) return true;
    const service = serviceOf(host);
    return service !== undefined && url.pathname.endsWith(`/os-services/${service.id}`);
  }

  // --- Nova -------------------------------------------------------------------------

  async function nova(request, url) {
    const text = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    let body = null;
    let malformed = false;
    try {
      body = text === "" ? null : JSON.parse(text);
    } catch {
      malformed = true;
    }
    const call = {
      seq: ++seq,
      time: new Date().toISOString(),
      method: request.method,
      path: url.pathname + url.search,
      body,
      status: null,
      microversion:
        request.headers.get("X-OpenStack-Nova-API-Version") ??
        request.headers.get("OpenStack-API-Version")?.match(/compute\s+(\S+)/)?.[1] ??
        null,
      auth: request.headers.get("X-Auth-Token"),
    };
    world.calls.push(call);
    const calls = world.calls;
    const action = body && typeof body === "object" && !Array.isArray(body) ? Object.keys(body)[0] : undefined;

    let response;
    const injected = takeFault(call, action, (f) => f.status !== undefined || f.hang || f.delay !== undefined);
    if (injected?.delay !== undefined) {
      await sleep(injected.delay, request.signal);
      response = request.signal?.aborted ? undefined : novaRoute(request.method, url, body, call, action);
    } else if (injected?.hang) {
      // Never answer: hold the request until the client gives up (or 120 s pass).
      await sleep(120_000, request.signal);
      response = request.signal?.aborted ? undefined : fault(504, "The stand-in hung on purpose.");
    } else if (injected) {
      response = fault(injected.status, `Injected fault ${injected.id}.`);
    } else if (malformed) {
      response = fault(400, "Malformed request body");
    } else {
      response = novaRoute(request.method, url, body, call, action);
    }
    // A reset meanwhile dropped this call; leave the new log alone.
    if (response && calls === world.calls) call.status = response.status;
    if (!response) return new Response(null, { status: 499 });
    response.headers.set("X-OpenStack-Nova-API-Version", MICROVERSION);
    response.headers.set("OpenStack-API-Version", `compute ${MICROVERSION}`);
    response.headers.set("Vary", "OpenStack-API-Version, X-OpenStack-Nova-API-Version");
    return response;
  }

  function novaRoute(method, url, body, call, action) {
    // The path after ".../v2.1", without a legacy /{project_id} segment.
    const path = url.pathname.replace(/^.*?\/v2\.1(?=\/|$)/, "").replace(/^\/[0-9a-f]{32}(?=\/)/, "");
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    const q = url.searchParams;
    const [collection, id, sub] = parts;

    if (collection === "os-services" && parts.length === 1 && method === "GET") {
      const services = [...world.services.values()].filter(
        (s) => (!q.has("host") || s.host === q.get("host")) && (!q.has("binary") || q.get("binary") === "nova-compute"),
      );
      return json(200, { services: services.map(serviceView) });
    }
    if (collection === "os-services" && parts.length === 2 && method === "PUT") return updateService(id, body);

    if (collection === "servers" && id === "detail" && parts.length === 2 && method === "GET") {
      return serverPage(url, q);
    }
    if (collection === "servers" && sub === "os-instance-actions" && parts.length === 3 && method === "GET") {
      const server = world.servers.get(id);
      if (!server) return noServer(id);
      // Newest first, as Nova lists them.
      return json(200, { instanceActions: [...server.actions].reverse() });
    }
    if (collection === "servers" && parts.length === 2 && method === "GET") {
      const server = world.servers.get(id);
      if (!server) return noServer(id);
      advance(server);
      return json(200, { server: serverView(server) });
    }
    if (collection === "servers" && sub === "action" && parts.length === 3 && method === "POST") {
      const server = world.servers.get(id);
      if (!server) return noServer(id);
      return serverAction(server, body, call, action);
    }

    if (collection === "os-hypervisors" && method === "GET") {
      if (parts.length === 1 || (parts.length === 2 && id === "detail")) return hypervisorPage(url, q, id === "detail");
      if (parts.length === 2) return showHypervisor(id, q);
    }

    if (collection === "os-aggregates" && parts.length === 1 && method === "GET") {
      return json(200, { aggregates: [...world.aggregates.values()].map(aggregateView) });
    }
    if (collection === "os-aggregates" && sub === "action" && parts.length === 3 && method === "POST") {
      const aggregate = world.aggregates.get(id);
      if (!aggregate) return notFound(`Aggregate ${id} could not be found.`);
      const host = body?.add_host?.host;
      if (typeof host !== "string") return fault(400, "Invalid input for field/attribute add_host.");
      if (!serviceOf(host)) return notFound(`Compute host ${host} could not be found.`);
      if (aggregate.hosts.includes(host)) {
        return fault(409, `Cannot add host ${host} in aggregate ${aggregate.id}: host exists`);
      }
      aggregate.hosts.push(host);
      return json(200, { aggregate: aggregateView(aggregate) });
    }
    return notFound();
  }

  /**
   * GET /servers/detail: Nova's default order (created_at desc, id desc),
   * at most `limit` servers capped by max_limit, after `marker` (a server
   * id; 400 when unknown); a full page carries a `servers_links` next link
   * with the limit and marker of the page after it, as Nova's view builder
   * writes it.
   */
  function serverPage(url, q) {
    const servers = [...world.servers.values()]
      .filter((s) => !q.has("host") || s.host === q.get("host"))
      .sort((a, b) => b.serial - a.serial);
    const max = world.settings.hostLimits.get(q.get("host")) ?? world.settings.maxLimit;
    const asked = q.has("limit") ? Number(q.get("limit")) : max;
    if (!Number.isInteger(asked) || asked < 0) return fault(400, "limit must be a non-negative integer");
    const limit = Math.min(asked, max);
    let start = 0;
    if (q.has("marker")) {
      const marker = world.servers.get(q.get("marker"));
      if (!marker) return fault(400, `marker [${q.get("marker")}] not found`);
      start = servers.findIndex((s) => s.serial < marker.serial);
      if (start < 0) start = servers.length;
    }
    const page = servers.slice(start, start + limit);
    const body = { servers: page.map(serverView) };
    if (page.length > 0 && page.length === limit) {
      const next = new URL(url);
      next.searchParams.set("limit", String(limit));
      next.searchParams.set("marker", page[page.length - 1].id);
      body.servers_links = [{ href: next.toString(), rel: "next" }];
    }
    return json(200, body);
  }

  // Query parameters as Nova's 2.53 schema checks them (unknown ones are dropped, as Nova strips them).
  const badQuery = (name, value, why) =>
    fault(400, `Invalid input for query parameters ${name}. Value: ${value}. ${why}`);
  function withServersOf(q) {
    const value = q.get("with_servers");
    if (value === null || FALSES.includes(value)) return false;
    if (TRUES.includes(value)) return true;
    return badQuery("with_servers", value, `'${value}' is not one of ${[...TRUES, ...FALSES].join(", ")}`);
  }

  /**
   * GET /os-hypervisors[/detail] at 2.53: in creation order (Nova orders by
   * the compute node's integer id), at most `limit` capped by max_limit,
   * after `marker` (a hypervisor id; 400 when unknown); a full page carries a
   * `hypervisors_links` next link with the request's query and the new
   * marker. A hostname pattern (substring, as SQL LIKE %pattern%) lists every
   * match, refuses paging and 404s when nothing matches.
   */
  function hypervisorPage(url, q, detail) {
    const limitText = q.get("limit");
    if (limitText !== null && !/^[0-9]+$/.test(limitText)) {
      return badQuery("limit", limitText, `'${limitText}' does not match '^[0-9]*$'`);
    }
    const pattern = q.get("hypervisor_hostname_pattern");
    if (pattern !== null && !/^[a-zA-Z0-9-._]{1,255}$/.test(pattern)) {
      return badQuery("hypervisor_hostname_pattern", pattern, `'${pattern}' does not match '^[a-zA-Z0-9-._]*$'`);
    }
    const withServers = withServersOf(q);
    if (withServers instanceof Response) return withServers;
    const all = [...world.services.values()]; // a Map keeps creation order
    const view = (s) => hypervisorView(s, detail, withServers);

    if (pattern !== null) {
      if (limitText !== null || q.get("marker")) {
        return fault(
          400,
          "Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.",
        );
      }
      const found = all.filter((s) => s.host.includes(pattern));
      if (!found.length) return notFound(`No hypervisor matching '${pattern}' could be found.`);
      return json(200, { hypervisors: found.map(view) });
    }

    const max = world.settings.maxLimit;
    const limit = Math.min(limitText === null ? max : Number(limitText), max);
    let start = 0;
    if (q.has("marker")) {
      const index = all.findIndex((s) => s.hypervisor_id === q.get("marker"));
      if (index < 0) return fault(400, `marker [${q.get("marker")}] not found`);
      start = index + 1;
    }
    const page = all.slice(start, start + limit);
    const body = { hypervisors: page.map(view) };
    if (page.length > 0 && page.length === limit) {
      // As Nova's view builder: the request's parameters, sorted, with the new marker.
      const next = new URL(url);
      next.searchParams.sort();
      next.searchParams.set("marker", page[page.length - 1].hypervisor_id);
      body.hypervisors_links = [{ href: next.toString(), rel: "next" }];
    }
    return json(200, body);
  }

  // GET /os-hypervisors/{id} at 2.53: the id must look like a UUID (400), then exist (404).
  function showHypervisor(id, q) {
    const bare = id.toLowerCase().replaceAll("-", "");
    if (!/^[0-9a-f]{32}$/.test(bare)) return fault(400, `Invalid uuid ${id}`);
    const service = [...world.services.values()].find((s) => s.hypervisor_id.replaceAll("-", "") === bare);
    if (!service) return notFound(`Hypervisor with ID '${id}' could not be found.`);
    const withServers = withServersOf(q);
    if (withServers instanceof Response) return withServers;
    return json(200, { hypervisor: hypervisorView(service, true, withServers) });
  }

  // PUT /os-services/{id} at 2.53 (nova/api/openstack/compute/services.py).
  function updateService(id, body) {
    const service = [...world.services.values()].find((s) => s.id === id);
    if (!service) return notFound(`Service ${id} could not be found.`);
    const status = body?.status;
    if (status !== "enabled" && status !== "disabled") return fault(400, "Invalid input for field/attribute status.");
    if (status === "enabled" && body.disabled_reason) {
      return fault(400, "Specifying a disabled reason is not supported when enabling a service.");
    }
    // Enabling clears the reason; disabling sets it (null when not given).
    Object.assign(service, {
      status,
      disabled_reason: status === "disabled" ? (body.disabled_reason ?? null) : null,
      updated_at: serviceTime(),
    });
    return json(200, { service: serviceView(service) });
  }

  // The actions Nova records in a server's instance-action log when it accepts them.
  const RECORDED = { lock: "lock", unlock: "unlock", "os-stop": "stop", "os-start": "start", evacuate: "evacuate" };

  function serverAction(server, body, call, action) {
    const response = acceptAction(server, body, call, action);
    if (response.status < 300 && RECORDED[action]) {
      server.actions.push({
        action: RECORDED[action],
        instance_uuid: server.id,
        request_id: `req-${crypto.randomUUID()}`,
        user_id: "6".repeat(32),
        project_id: "5".repeat(32),
        start_time: serviceTime(),
        message: null,
      });
    }
    return response;
  }

  function acceptAction(server, body, call, action) {
    if (Object.keys(body ?? {}).length !== 1) return fault(400, "Malformed request body");
    const args = body[action];
    switch (action) {
      // Masakari acts as admin: Nova lets admins act on locked servers.
      case "lock":
      case "unlock":
        change(server, { locked: action === "lock" });
        return accepted();
      case "os-resetState": {
        const state = args?.state;
        if (state !== "active" && state !== "error") {
          return fault(400, "Invalid input for field/attribute state.");
        }
        // Like Nova: vm_state set, task_state cleared; whatever was in flight is forgotten here.
        begin(server, { vm_state: state, task_state: null });
        return accepted();
      }
      // Like Nova's check_instance_state: the vm_state must fit and task_state be None.
      case "os-stop":
        if (server.vm_state !== "active" && server.vm_state !== "error") return invalidState("stop", server);
        if (server.task_state !== null) return invalidState("stop", server, "task_state");
        begin(
          server,
          { task_state: "powering-off" },
          { vm_state: "stopped", power_state: 4, task_state: null },
          server.power_polls,
        );
        return accepted();
      case "os-start":
        if (server.vm_state !== "stopped") return invalidState("start", server);
        if (server.task_state !== null) return invalidState("start", server, "task_state");
        begin(
          server,
          { task_state: "powering-on" },
          { vm_state: "active", power_state: 1, task_state: null },
          server.power_polls,
        );
        return accepted();
      case "evacuate":
        return evacuate(server, args, call);
      default:
        return fault(400, `There is no such action: ${action}`);
    }
  }

  // POST /servers/{id}/action {"evacuate": {...}} at 2.53 (nova/api/openstack/compute/evacuate.py, compute/api.py).
  function evacuate(server, args, call) {
    if (args === null || typeof args !== "object" || Array.isArray(args)) {
      return fault(400, "Invalid input for field/attribute evacuate.");
    }
    const extra = Object.keys(args).filter((k) => !["host", "adminPass", "force"].includes(k));
    if (extra.length) return fault(400, `Additional properties are not allowed ('${extra[0]}' was unexpected)`);
    const { host, force = false } = args;
    if (host !== undefined && typeof host !== "string") return fault(400, "Invalid input for field/attribute host.");
    if (force && !host) return fault(400, "Can't force to a non-provided destination");
    // The order of Nova's checks: target exists (404), not the same host (400),
    // vm_state/task_state (409), source compute service down (400).
    if (host !== undefined && !serviceOf(host)) return notFound(`Compute host ${host} not found.`);
    if (host === server.host) return fault(400, "The target host can't be the same one.");
    if (!["active", "stopped", "error"].includes(server.vm_state)) return invalidState("evacuate", server);
    if (server.task_state !== null) return invalidState("evacuate", server, "task_state");
    if (isUp(server.host)) return fault(400, `Compute service of ${server.host} is still in use.`);

    // Accepted: task_state "rebuilding" at once, then the conductor picks a host.
    // Without force, a requested host must still pass the scheduler's filters
    // (enabled, up, in the server's zone, room for the flavor); without one,
    // the stand-in's scheduler takes the first such host by name other than
    // the source.
    const injected = takeFault(call, "evacuate", (f) => f.result !== undefined);
    const fits = (h) => schedulable(h, server.zone) && roomFor(h, server.flavor);
    const target =
      host !== undefined
        ? force || fits(host)
          ? host
          : undefined
        : [...world.services.values()]
            .map((s) => s.host)
            .filter((h) => h !== server.host && fits(h))
            .sort()[0];
    const now = { task_state: "rebuilding" };
    if (injected?.result === "stuck") {
      begin(server, now);
    } else if (injected?.result === "error" || target === undefined) {
      // NoValidHost, or the rebuild failed: the conductor sets vm_state error and
      // the server stays where it was.
      begin(server, now, { vm_state: "error", task_state: null }, server.evacuate_polls);
    } else {
      // Rebuilt on the target: active stays active, error becomes active,
      // stopped is powered on and then off again (the traces show one GET of
      // active/"powering-off" on the new host before SHUTOFF).
      const vm = server.vm_state === "stopped" ? "stopped" : "active";
      const later = { host: target, vm_state: vm, power_state: powerOf(vm), task_state: null };
      const between =
        vm === "stopped" ? { host: target, vm_state: "active", power_state: 1, task_state: "powering-off" } : undefined;
      begin(server, now, later, server.evacuate_polls, between);
    }
    // At 2.14 and later Nova answers 200 with no body (no adminPass).
    return new Response(null, { status: 200 });
  }

  // Why a control body's flavor or hypervisor totals are unusable, if they are.
  const atLeast = (value, least) => Number.isInteger(value) && value >= least;
  function badFlavor(flavor) {
    if (flavor === undefined) return undefined;
    if (flavor === null || typeof flavor !== "object" || Array.isArray(flavor)) return "flavor must be an object";
    for (const [key, least] of [
      ["vcpus", 1],
      ["ram", 1],
      ["disk", 0],
    ]) {
      if (key in flavor && !atLeast(flavor[key], least)) return `flavor.${key} must be an integer >= ${least}`;
    }
    if ("original_name" in flavor && typeof flavor.original_name !== "string") {
      return "flavor.original_name must be a string";
    }
    return undefined;
  }

  // Creates a server from a control body, or updates `known` with it.
  function createServer(body, known = undefined) {
    if (known) account(known, -1);
    const server = fillServer(body, known);
    account(server, 1);
    return server;
  }

  function fillServer(body, known) {
    const server = known ?? {
      id: body.id ?? crypto.randomUUID(),
      serial: ++serial,
      tenant_id: "5".repeat(32),
      user_id: "6".repeat(32),
      created: serverTime(),
      locked: false,
      metadata: {},
      task_state: null,
      evacuate_polls: 0,
      power_polls: 0,
      queue: [],
      actions: [],
      flavor: DEFAULT_FLAVOR,
    };
    if (body.flavor) server.flavor = { ...server.flavor, ...body.flavor };
    for (const key of ["name", "host", "task_state", "locked", "metadata", "evacuate_polls", "power_polls"]) {
      if (key in body) server[key] = body[key];
    }
    if (!known || "availability_zone" in body) {
      server.zone = body.availability_zone ?? serviceOf(server.host)?.zone ?? "nova";
    }
    if (!known || "vm_state" in body) {
      server.vm_state = body.vm_state ?? "active";
      server.power_state = powerOf(server.vm_state);
    }
    if ("power_state" in body) server.power_state = body.power_state;
    server.updated = serverTime();
    world.servers.set(server.id, server);
    return server;
  }

  // --- control -----------------------------------------------------------------------

  async function control(request, url) {
    const parts = url.pathname.split("/").filter(Boolean).slice(1).map(decodeURIComponent);
    const q = url.searchParams;
    let body = {};
    const text = request.method === "POST" ? await request.text() : "";
    try {
      body = text === "" ? {} : (JSON.parse(text) ?? {});
    } catch {
      return json(400, { error: "body must be JSON" });
    }
    const route = `${request.method} ${parts[0] ?? ""}`;

    if (route === "POST hosts") {
      if (typeof body.name !== "string") return json(400, { error: "name is required" });
      for (const key of Object.keys(HOST_TOTALS)) {
        if (key in body && !atLeast(body[key], 0)) return json(400, { error: `${key} must be an integer >= 0` });
      }
      const n = world.services.size + 1;
      const service = serviceOf(body.name) ?? {
        id: crypto.randomUUID(),
        host: body.name,
        status: "enabled",
        state: "up",
        disabled_reason: null,
        zone: "nova",
        // The compute node's own UUID, as the hypervisor's id at 2.53.
        hypervisor_id: crypto.randomUUID(),
        host_ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
        ...HOST_TOTALS,
      };
      for (const key of ["status", "state", "disabled_reason", "zone", ...Object.keys(HOST_TOTALS)]) {
        if (key in body) service[key] = body[key];
      }
      if (service.status === "enabled") service.disabled_reason = null;
      service.updated_at = serviceTime();
      world.services.set(service.host, service);
      return json(200, serviceView(service));
    }

    if (route === "POST servers" && parts[1] === undefined) {
      const known = body.id !== undefined ? world.servers.get(body.id) : undefined;
      if (!known && (typeof body.name !== "string" || typeof body.host !== "string")) {
        return json(400, { error: "name and host are required" });
      }
      if (badFlavor(body.flavor)) return json(400, { error: badFlavor(body.flavor) });
      return json(200, serverView(createServer(body, known)));
    }

    if (route === "POST servers" && parts[1] === "bulk") {
      const count = Number(body.count);
      if (typeof body.host !== "string" || !Number.isInteger(count) || count < 1) {
        return json(400, { error: "host and a positive count are required" });
      }
      if (badFlavor(body.flavor)) return json(400, { error: badFlavor(body.flavor) });
      const ids = [];
      for (let i = 1; i <= count; i++) {
        const { count: _, prefix = "server", ...rest } = body;
        ids.push(createServer({ ...rest, name: `${prefix}-${i}` }).id);
      }
      return json(200, { ids });
    }

    if (route === "POST settings") {
      if ("max_limit" in body) {
        if (!Number.isInteger(body.max_limit) || body.max_limit < 1) return json(400, { error: "max_limit >= 1" });
        if (typeof body.host === "string") world.settings.hostLimits.set(body.host, body.max_limit);
        else world.settings.maxLimit = body.max_limit;
      }
      return json(200, { max_limit: world.settings.maxLimit });
    }

    if (route === "POST aggregates") {
      if (typeof body.name !== "string") return json(400, { error: "name is required" });
      const aggregate = {
        id: ++serial,
        uuid: crypto.randomUUID(),
        name: body.name,
        hosts: [...(body.hosts ?? [])],
        created_at: serviceTime(),
      };
      world.aggregates.set(String(aggregate.id), aggregate);
      return json(200, aggregateView(aggregate));
    }

    if (route === "POST faults") {
      if (body.status === undefined && !body.hang && body.delay === undefined && body.result === undefined) {
        return json(400, { error: "a fault needs status, hang, delay or result" });
      }
      const injected = { ...body, id: crypto.randomUUID() };
      world.faults.push(injected);
      return json(200, { id: injected.id });
    }
    if (route === "DELETE faults" && parts[1]) {
      world.faults = world.faults.filter((f) => f.id !== parts[1]);
      return new Response(null, { status: 204 });
    }

    if (route === "GET calls") {
      const since = Number(q.get("since") ?? 0);
      const calls = world.calls.filter(
        (c) =>
          c.seq > since &&
          (!q.has("server") || c.path.includes(q.get("server"))) &&
          (!q.has("host") || callMentionsHost(c, q.get("host"))),
      );
      return json(200, { calls: calls.map((c) => ({ ...c })) });
    }

    if (route === "GET state") {
      const servers = [...world.servers.values()]
        .filter((s) => (!q.has("server") || s.id === q.get("server")) && (!q.has("host") || s.host === q.get("host")))
        .sort((a, b) => b.serial - a.serial);
      const services = [...world.services.values()].filter((s) => q.has("host") && s.host === q.get("host"));
      return json(200, { servers: servers.map(serverView), services: services.map(serviceView) });
    }

    if (route === "POST reset") {
      world = empty();
      return json(200, {});
    }
    return json(404, { error: `no control route ${request.method} ${url.pathname}` });
  }

  return {
    async fetch(request) {
      const url = new URL(request.url);
      if (url.pathname === "/_control" || url.pathname.startsWith("/_control/")) return control(request, url);
      return nova(request, url);
    },
  };
}

// For workerd's auxiliary Workers: a module whose default export has fetch().
export default createNova();
