import type { Config } from "../config";
import type { RecoveryMethod } from "../db/schema";
import { type Nova, NovaError, type NovaHypervisor, type NovaServer, type NovaServerPage } from "../openstack/nova";
import { excludedBy, haEnabled, priorityOf, vmState } from "./servers";
import type { SegmentHost } from "./store/hosts";

export type { SegmentHost };

// D23, recovery plans: what the engine would do if a host failed now. Nova
// is read (hypervisors, the host's servers with their flavors) and nothing
// is changed. The selection and its order are the host flow's own
// (docs/engine.md, "Host failure"): HA_Enabled, evacuate_all_instances,
// ignore_instances_in_error_state, then D24's exclusions and priorities.
// Where the instances land is an estimate: a reserved host takes what
// fits, in evacuation order, then the next reserved host the rest, as the
// reserved_host flow's attempts do; for auto, Nova's scheduler decides,
// and the plan puts each instance where the most RAM is free (Nova's
// default weighing) among the segment's other hosts Nova has up and
// enabled. Sizes are the flavors' against Nova's hypervisor figures, with
// no overcommit: what the plan says fits does fit.

export type HostFailureOptions = Config["recovery"]["hostFailure"];

/** Nova could not say: no endpoint, no answer, an error, or an answer the plan cannot read. */
export class PlanUnavailable extends Error {}

export interface Size {
  readonly vcpus: number;
  readonly ram: number;
  readonly disk: number;
}

export interface PlannedInstance {
  readonly id: string;
  readonly name: string;
  readonly vm_state: string | null;
  readonly ha_enabled: boolean;
  readonly priority: number | null;
  readonly flavor: Size;
}

export interface SkippedInstance {
  readonly id: string;
  readonly name: string;
  readonly reason: string;
}

export interface Destination {
  readonly host: string;
  readonly reserved: boolean;
  /** Whether the plan counts on it, and why not. */
  readonly usable: boolean;
  readonly reason: string | null;
  readonly vcpus_free: number;
  readonly memory_mb_free: number;
  readonly disk_gb_free: number;
}

export interface FlowPlan {
  readonly recovery_method: "auto" | "reserved_host";
  /** reserved_host: the reserved hosts in the order its attempts take them. */
  readonly reserved_hosts: string[] | null;
  /** What this flow would move, and where; empty when an earlier flow moved everything. */
  readonly placements: { readonly instance_id: string; readonly destination: string }[];
  /** Why the flow cannot run at all, in the engine's words. */
  readonly unavailable: string | null;
}

export interface HostPlan {
  readonly recovery_method: RecoveryMethod;
  readonly flows: FlowPlan[];
  /** In the order they would be evacuated. */
  readonly instances: PlannedInstance[];
  readonly skipped: SkippedInstance[];
  /** Free capacity before the failure. */
  readonly destinations: Destination[];
  readonly would_not_fit: string[];
  readonly fits: boolean;
}

/** What Nova says about the segment's hosts: their hypervisors by host name. */
export type Capacity = ReadonlyMap<string, NovaHypervisor>;

const RESERVED_UNAVAILABLE = "No reserved_hosts available for evacuation.";

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** Every hypervisor Nova has, by its compute host's name. */
export async function readCapacity(nova: Nova): Promise<Capacity> {
  const found = new Map<string, NovaHypervisor>();
  for (const h of await ask(() => nova.hypervisors())) {
    const host = h.service?.host ?? h.hypervisor_hostname;
    if (host) found.set(host, h);
  }
  return found;
}

/** Every server on `host`, page by page. */
export async function readServers(nova: Nova, host: string, pages = 100): Promise<NovaServer[]> {
  const all: NovaServer[] = [];
  let page: string | null = null;
  for (let i = 0; i < pages; i++) {
    const at: string | null = page;
    const found: NovaServerPage = await ask(() => nova.serversOnHost(host, at));
    all.push(...found.servers);
    if (found.next === null) return all;
    page = found.next;
  }
  throw new PlanUnavailable(`more than ${pages} pages of servers on ${host}`);
}

async function ask<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof NovaError)) throw error;
    throw new PlanUnavailable(
      error.status === undefined ? error.message : `Nova answered ${error.status}: ${error.message}`,
    );
  }
}

/** The plan for `failed`, one of `hosts` (its segment's), from Nova's servers and capacity. */
export function planHost(
  method: RecoveryMethod,
  failed: SegmentHost,
  hosts: readonly SegmentHost[],
  servers: readonly NovaServer[],
  capacity: Capacity,
  options: HostFailureOptions,
): HostPlan {
  const { instances, skipped } = selectInstances(servers, options);
  const destinations = destinationsOf(failed, hosts, capacity);
  const free = new Map(destinations.filter((d) => d.usable).map((d) => [d.host, sizeOf(d)]));
  const reserved = reservedOrder(hosts).filter((h) => h.name !== failed.name);
  const order: ("auto" | "reserved_host")[] =
    method === "auto"
      ? ["auto"]
      : method === "reserved_host"
        ? ["reserved_host"]
        : method === "auto_priority"
          ? ["auto", "reserved_host"]
          : ["reserved_host", "auto"];
  let left = instances;
  const flows = order.map((flow): FlowPlan => {
    if (flow === "auto") {
      const placed = spread(left, destinations, free);
      left = left.filter((i) => !placed.some((p) => p.instance_id === i.id));
      return { recovery_method: "auto", reserved_hosts: null, placements: placed, unavailable: null };
    }
    const names = reserved.map((h) => h.name);
    if (names.length === 0)
      return { recovery_method: flow, reserved_hosts: [], placements: [], unavailable: RESERVED_UNAVAILABLE };
    const placed = fill(left, names, free);
    left = left.filter((i) => !placed.some((p) => p.instance_id === i.id));
    return { recovery_method: flow, reserved_hosts: names, placements: placed, unavailable: null };
  });
  const wouldNotFit = left.map((i) => i.id);
  return {
    recovery_method: method,
    flows,
    instances,
    skipped,
    destinations,
    would_not_fit: wouldNotFit,
    fits: wouldNotFit.length === 0,
  };
}

/**
 * PrepareHAEnabledInstancesTask's selection, in EvacuateInstancesTask's
 * order: D24's priority first (highest first), then upstream's order, the
 * reverse of Nova's listing with HA-enabled servers last. The SQL of
 * store/moves.ts does the same for a recovery; the tests hold the two
 * together.
 */
export function selectInstances(
  servers: readonly NovaServer[],
  options: HostFailureOptions,
): { instances: PlannedInstance[]; skipped: SkippedInstance[] } {
  const chosen: (PlannedInstance & { seq: number })[] = [];
  const skipped: SkippedInstance[] = [];
  for (const [seq, s] of servers.entries()) {
    const ha = haEnabled(s, options.haEnabledInstanceMetadataKey);
    const vm = vmState(s);
    const skip = (reason: string) => skipped.push({ id: s.id, name: s.name, reason });
    const exclude = options.excludeMetadata;
    if (excludedBy(s, exclude))
      skip(`its metadata has ${exclude?.key}=${exclude?.value} (HOST_FAILURE_EXCLUDE_METADATA)`);
    else if (options.ignoreInstancesInErrorState && vm === "error")
      skip("it is in error state (HOST_FAILURE_IGNORE_INSTANCES_IN_ERROR_STATE)");
    else if (!ha && !options.evacuateAllInstances)
      skip(
        `it is not HA-enabled (${options.haEnabledInstanceMetadataKey}) and HOST_FAILURE_EVACUATE_ALL_INSTANCES is off`,
      );
    else {
      const priority = priorityOf(s, options.priorityMetadataKey);
      chosen.push({ id: s.id, name: s.name, vm_state: vm, ha_enabled: ha, priority, flavor: flavorOf(s), seq });
    }
  }
  chosen.sort(
    (a, b) =>
      Number(a.priority === null) - Number(b.priority === null) ||
      (b.priority ?? 0) - (a.priority ?? 0) ||
      Number(a.ha_enabled) - Number(b.ha_enabled) ||
      b.seq - a.seq,
  );
  return { instances: chosen.map(({ seq: _, ...i }) => i), skipped };
}

function flavorOf(s: NovaServer): Size {
  const f = s.flavor;
  const vcpus = num(f?.vcpus);
  const ram = num(f?.ram);
  const disk = num(f?.disk);
  if (vcpus === undefined || ram === undefined || disk === undefined)
    throw new PlanUnavailable(`Nova did not give the flavor of server ${s.id}`);
  return { vcpus, ram, disk: disk + (num(f?.ephemeral) ?? 0) };
}

/** The segment's reserved hosts not on maintenance, newest first, as the engine takes them. */
export function reservedOrder(hosts: readonly SegmentHost[]): SegmentHost[] {
  return hosts
    .filter((h) => h.reserved && !h.on_maintenance)
    .sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id - a.id);
}

/** The segment's other hosts with what Nova says is free on each, and whether the plan may use it. */
function destinationsOf(failed: SegmentHost, hosts: readonly SegmentHost[], capacity: Capacity): Destination[] {
  return hosts
    .filter((h) => h.name !== failed.name)
    .map((h) => {
      const hv = capacity.get(h.name);
      const free = {
        vcpus_free: Math.max(0, (num(hv?.vcpus) ?? 0) - (num(hv?.vcpus_used) ?? 0)),
        memory_mb_free: Math.max(0, (num(hv?.memory_mb) ?? 0) - (num(hv?.memory_mb_used) ?? 0)),
        disk_gb_free: Math.max(0, (num(hv?.local_gb) ?? 0) - (num(hv?.local_gb_used) ?? 0)),
      };
      // A reserved host is disabled in Nova until the engine enables it.
      const reason = !hv
        ? "Nova has no hypervisor for it"
        : h.on_maintenance
          ? "on maintenance"
          : hv.state !== "up"
            ? `its compute service is ${hv.state ?? "of unknown state"}`
            : !h.reserved && hv.status !== "enabled"
              ? `its compute service is ${hv.status ?? "of unknown status"}`
              : null;
      return { host: h.name, reserved: h.reserved, usable: reason === null, reason, ...free };
    });
}

const sizeOf = (d: Destination): Size => ({ vcpus: d.vcpus_free, ram: d.memory_mb_free, disk: d.disk_gb_free });
const fitsIn = (need: Size, room: Size) => need.vcpus <= room.vcpus && need.ram <= room.ram && need.disk <= room.disk;
const take = (room: Size, need: Size): Size => ({
  vcpus: room.vcpus - need.vcpus,
  ram: room.ram - need.ram,
  disk: room.disk - need.disk,
});

/** auto: each instance where it fits with the most RAM free, ties by name; `free` is used up. */
function spread(instances: readonly PlannedInstance[], destinations: readonly Destination[], free: Map<string, Size>) {
  const candidates = destinations.filter((d) => d.usable && !d.reserved).map((d) => d.host);
  const placed: { instance_id: string; destination: string }[] = [];
  for (const i of instances) {
    let best: string | undefined;
    for (const host of candidates) {
      const room = free.get(host);
      if (!room || !fitsIn(i.flavor, room)) continue;
      const bestRoom = best === undefined ? undefined : free.get(best);
      if (!bestRoom || room.ram > bestRoom.ram || (room.ram === bestRoom.ram && host < (best ?? ""))) best = host;
    }
    if (best === undefined) continue;
    free.set(best, take(free.get(best) as Size, i.flavor));
    placed.push({ instance_id: i.id, destination: best });
  }
  return placed;
}

/** reserved_host: one attempt per reserved host, each taking what still fits, in evacuation order. */
function fill(instances: readonly PlannedInstance[], reservedHosts: readonly string[], free: Map<string, Size>) {
  const placed: { instance_id: string; destination: string }[] = [];
  let left = [...instances];
  for (const host of reservedHosts) {
    if (left.length === 0) break;
    const room = free.get(host);
    if (!room) continue;
    let now = room;
    const rest: PlannedInstance[] = [];
    for (const i of left) {
      if (fitsIn(i.flavor, now)) {
        now = take(now, i.flavor);
        placed.push({ instance_id: i.id, destination: host });
      } else rest.push(i);
    }
    free.set(host, now);
    left = rest;
  }
  return placed;
}

export interface HostSummary {
  readonly host_id: string;
  readonly host_name: string;
  readonly reserved: boolean;
  readonly on_maintenance: boolean;
  readonly instances: number;
  readonly would_not_fit: number;
  readonly fits: boolean;
}

export interface SegmentPlan {
  readonly recovery_method: RecoveryMethod;
  /** Every host's failure on its own, by name. */
  readonly hosts: HostSummary[];
  /** How many of those single-host failures the segment absorbs. */
  readonly absorbable: number;
  /** The first host, by name, whose failure it does not. */
  readonly first_not_absorbed: { readonly host_id: string; readonly host_name: string } | null;
}

/** Each host's failure planned on its own, from the same reading of Nova. */
export function planSegment(
  method: RecoveryMethod,
  hosts: readonly SegmentHost[],
  serversOf: ReadonlyMap<string, readonly NovaServer[]>,
  capacity: Capacity,
  options: HostFailureOptions,
): SegmentPlan {
  const summaries = hosts.map((h): HostSummary => {
    const plan = planHost(method, h, hosts, serversOf.get(h.name) ?? [], capacity, options);
    return {
      host_id: h.uuid,
      host_name: h.name,
      reserved: h.reserved,
      on_maintenance: h.on_maintenance,
      instances: plan.instances.length,
      would_not_fit: plan.would_not_fit.length,
      fits: plan.fits,
    };
  });
  const first = summaries.find((s) => !s.fits);
  return {
    recovery_method: method,
    hosts: summaries,
    absorbable: summaries.filter((s) => s.fits).length,
    first_not_absorbed: first ? { host_id: first.host_id, host_name: first.host_name } : null,
  };
}
