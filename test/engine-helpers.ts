import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { createHost, createSegment, post, sql, unique } from "./helpers";

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
 * The traces' cluster (../shared/reference/engine-traces/README.md): Nova
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

/** What masakari-monitors posts for a host that went down (masakari-engine.md §8). */
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
