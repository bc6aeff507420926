import { introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { createHost, createSegment, get, post, sql, unique } from "./helpers";

// The recovery engine's tests: a cluster in the Nova stand-in
// (test/fakes/nova.mjs) and in Masakari, notifications posted through the
// API, and what the engine did: Nova's call log, the rows it wrote.

/** A call of the stand-in's control API. */
export async function novaControl(method: string, path: string, body?: unknown) {
  const response = await env.NOVA_STAND_IN.fetch(`http://compute.test/_control/${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`stand-in ${method} ${path}: ${response.status} ${await response.text()}`);
  if (response.status === 204) return null;
  // biome-ignore lint/suspicious/noExplicitAny: the stand-in's JSON
  return (await response.json()) as any;
}

export interface NovaCall {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
  readonly status: number | null;
  readonly microversion: string | null;
  readonly auth: string | null;
}

/** The Nova calls that name `host` or one of `servers`, in order. */
export async function novaCalls(filter: { host?: string; server?: string }): Promise<NovaCall[]> {
  const query = new URLSearchParams(filter as Record<string, string>);
  return (await novaControl("GET", `calls?${query}`)).calls;
}

/** A call as the traces list it: method, path (with query) and body. */
export const brief = (c: NovaCall) => [c.method, c.path, c.body] as const;

export interface ClusterServer {
  readonly name: string;
  readonly vm_state?: string;
  readonly task_state?: string | null;
  readonly metadata?: Record<string, string>;
  readonly locked?: boolean;
  readonly evacuate_polls?: number;
  readonly power_polls?: number;
}

export interface Cluster {
  readonly zone: string;
  readonly segment: { uuid: string; name: string };
  /** Host names by role: failed (c1), healthy (c2), reserved (c3). */
  readonly failed: string;
  readonly healthy: string;
  readonly reserved: string;
  readonly hosts: Record<string, { uuid: string; name: string }>;
  /** Server ids by name. */
  readonly servers: Record<string, string>;
}

/**
 * The traces' cluster (test/fixtures/engine-traces/README.md): Nova
 * has c1 (down), c2 and c3 (nova-compute disabled: a reserved host); the
 * segment holds c1 and c2, and c3 reserved. `servers` run on c1.
 */
export async function traceCluster(
  recoveryMethod: string,
  servers: readonly ClusterServer[] = TRACE_SERVERS,
  options: { reserved?: boolean; healthyDisabled?: boolean } = {},
): Promise<Cluster> {
  const zone = unique("zone");
  const prefix = unique("c");
  const [failed, healthy, reserved] = [`${prefix}-1`, `${prefix}-2`, `${prefix}-3`];
  await novaControl("POST", "hosts", { name: failed, state: "down", zone });
  await novaControl("POST", "hosts", { name: healthy, zone, status: options.healthyDisabled ? "disabled" : "enabled" });
  await novaControl("POST", "hosts", { name: reserved, zone, status: "disabled", disabled_reason: "reserved host" });
  const ids: Record<string, string> = {};
  for (const server of servers)
    ids[server.name] = (await novaControl("POST", "servers", { ...server, host: failed })).id;
  const segment = await createSegment({ recovery_method: recoveryMethod });
  const hosts: Record<string, { uuid: string; name: string }> = {};
  hosts[failed] = await createHost(segment.uuid, { name: failed });
  hosts[healthy] = await createHost(segment.uuid, { name: healthy });
  if (options.reserved !== false) hosts[reserved] = await createHost(segment.uuid, { name: reserved, reserved: true });
  return { zone, segment, failed, healthy, reserved, hosts, servers: ids };
}

/** The traces' servers: HA-enabled active and stopped, and one without HA. */
export const TRACE_SERVERS: readonly ClusterServer[] = [
  { name: "ha-active", metadata: { HA_Enabled: "True" } },
  { name: "ha-stopped", vm_state: "stopped", metadata: { HA_Enabled: "True" } },
  { name: "non-ha" },
];

/** What masakari-monitors posts for a host that went down (docs/engine.md, "Per type"). */
export const hostDown = (hostname: string, payload: Record<string, string> = {}) => ({
  notification: {
    type: "COMPUTE_HOST",
    hostname,
    generated_time: new Date().toISOString().slice(0, 19),
    payload: { event: "STOPPED", host_status: "NORMAL", cluster_status: "OFFLINE", ...payload },
  },
});

/** Posts a notification through the API; its 202 body. */
export async function notify(body: unknown) {
  const res = await post("/v1/notifications", body);
  if (res.status !== 202) throw new Error(`notification create answered ${res.status}: ${res.text}`);
  return res.json.notification;
}

/** A notification's status as stored. */
export async function statusOf(uuid: string): Promise<string | undefined> {
  const [row] = await sql<{ status: string }>("SELECT status FROM notifications WHERE notification_uuid = ?", uuid);
  return row?.status;
}

/** The timestamps of progress details, replaced (they are checked for their form once). */
export function withoutTimestamps(details: unknown): unknown {
  expect(JSON.stringify(details)).not.toContain('"timestamp":null');
  return JSON.parse(JSON.stringify(details), (key, value) => (key === "timestamp" ? "<timestamp>" : value));
}

type Modifier = Parameters<Parameters<Awaited<ReturnType<typeof introspectWorkflow>>["modifyAll"]>[0]>[0];

/**
 * Posts `body` through the API and waits for the engine's runs it starts
 * (one, or `runs`) to complete, sleeps skipped; the notification's uuid.
 */
export async function recover(
  body: unknown,
  options: { modify?: (m: Modifier) => Promise<void>; status?: "complete" | "errored" } = {},
): Promise<string> {
  await using workflows = await introspectWorkflow(env.RECOVERY);
  // The links a large host's phases are handed to, sleeps skipped too.
  await using links = await introspectWorkflow(env.EVACUATION);
  await workflows.modifyAll(async (m) => {
    await m.disableSleeps();
    await options.modify?.(m);
  });
  await links.modifyAll(async (m) => {
    await m.disableSleeps();
  });
  const notification = await notify(body);
  for (const instance of await instancesOf(workflows, 1)) await instance.waitForStatus(options.status ?? "complete");
  return notification.notification_uuid;
}

/** The instances an introspector has seen, once there are `count` of them (they start after the 202). */
export async function instancesOf(workflows: Awaited<ReturnType<typeof introspectWorkflow>>, count: number) {
  // Under a loaded machine twenty starts can take seconds.
  for (let i = 0; i < 1000; i++) {
    const instances = await workflows.get();
    if (instances.length >= count) return instances;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`fewer than ${count} Workflow instances started`);
}

/** A notification as GET shows it at `version`. */
export async function shown(uuid: string, version = "1.3") {
  const res = await get(`/v1/notifications/${uuid}`, { version });
  if (res.status !== 200) throw new Error(`notification show answered ${res.status}: ${res.text}`);
  return res.json.notification;
}

/** A notification's VM moves (microversion 1.3), oldest first. */
export async function vmovesOf(uuid: string) {
  const res = await get(`/v1/notifications/${uuid}/vmoves?sort_key=id&sort_dir=asc`, { version: "1.3" });
  if (res.status !== 200) throw new Error(`vmoves answered ${res.status}: ${res.text}`);
  return res.json.vmoves;
}

/** Masakari's view of the segment's hosts: name → {on_maintenance, reserved}. */
export async function hostFlags(cluster: Cluster) {
  const rows = await sql<{ name: string; on_maintenance: number; reserved: number }>(
    "SELECT name, on_maintenance, reserved FROM hosts WHERE failover_segment_id = ? AND deleted = 0 ORDER BY name",
    cluster.segment.uuid,
  );
  return Object.fromEntries(rows.map((r) => [r.name, { on_maintenance: !!r.on_maintenance, reserved: !!r.reserved }]));
}

/** The stand-in's servers and services of the cluster, as the traces' `after` shows them. */
export async function novaState(cluster: Cluster) {
  const servers: Record<string, unknown> = {};
  for (const [name, id] of Object.entries(cluster.servers)) {
    const [server] = (await novaControl("GET", `state?server=${id}`)).servers;
    servers[name] = {
      host: server["OS-EXT-SRV-ATTR:host"],
      vm_state: server["OS-EXT-STS:vm_state"],
      task_state: server["OS-EXT-STS:task_state"],
      locked: server.locked,
    };
  }
  const services: Record<string, unknown> = {};
  for (const host of [cluster.failed, cluster.healthy, cluster.reserved]) {
    const [service] = (await novaControl("GET", `state?host=${host}`)).services;
    services[host] = { status: service.status, disabled_reason: service.disabled_reason };
  }
  return { servers, services };
}

/**
 * A trace's text with its host names and server ids replaced by the
 * cluster's (the traces ran on compute-1..3, or on hosts named <x>-c1..3).
 */
export function translate<T>(
  value: T,
  trace: { setup: { failed_host: string; servers: Record<string, string>; nova_hosts: string[] } },
  cluster: Cluster,
): T {
  let text = JSON.stringify(value);
  const [failed, healthy, reserved] = trace.setup.nova_hosts;
  const names: [string | undefined, string][] = [
    [failed, cluster.failed],
    [healthy, cluster.healthy],
    [reserved, cluster.reserved],
  ];
  const literal = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  for (const [from, to] of names) {
    if (from) text = text.replace(new RegExp(`(?<![\\w.-])${literal(from)}(?![\\w.-])`, "g"), to);
  }
  for (const [name, id] of Object.entries(trace.setup.servers)) {
    const ours = cluster.servers[name];
    if (ours) text = text.replaceAll(id, ours);
  }
  return JSON.parse(text);
}
