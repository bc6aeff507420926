import type { NovaServer } from "../openstack/nova";

// What the flows read of a Nova server, under upstream's names.

export const vmState = (s: NovaServer) => s["OS-EXT-STS:vm_state"] ?? null;
export const taskState = (s: NovaServer) => s["OS-EXT-STS:task_state"] ?? null;
export const powerState = (s: NovaServer) => s["OS-EXT-STS:power_state"] ?? null;
export const hypervisor = (s: NovaServer) => s["OS-EXT-SRV-ATTR:hypervisor_hostname"] ?? null;

/**
 * Whether the server's metadata marks it HA-enabled under `key`: oslo's
 * bool_from_string, true for 1/t/true/on/y/yes in any case.
 */
export const haEnabled = (s: NovaServer, key: string) => {
  const value = s.metadata?.[key];
  return typeof value === "string" && ["1", "t", "true", "on", "y", "yes"].includes(value.trim().toLowerCase());
};

/** D24: the integer a server's metadata gives under `key`, or null (missing, or not an integer). */
export const priorityOf = (s: NovaServer, key: string | undefined): number | null => {
  const value = key === undefined ? undefined : s.metadata?.[key];
  return typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value) ? Number.parseInt(value, 10) : null;
};

/** D24: whether a server's metadata has `key` set to `value`. */
export const excludedBy = (s: NovaServer, pair: { key: string; value: string } | undefined): boolean =>
  pair !== undefined && s.metadata?.[pair.key] === pair.value;
