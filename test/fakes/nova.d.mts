// Types for the Nova stand-in (nova.mjs): the Nova API under /v2.1 and the
// control API under /_control, both through fetch().

export interface NovaStandIn {
  fetch(request: Request): Promise<Response>;
}

/** A new, empty Nova world. */
export function createNova(): NovaStandIn;

/** One world for an auxiliary Worker (a module whose default export has fetch). */
declare const world: NovaStandIn;
export default world;

/** POST /_control/hosts: creates or updates a nova-compute service and its hypervisor. */
export interface HostControl {
  name: string;
  status?: "enabled" | "disabled";
  state?: "up" | "down";
  disabled_reason?: string | null;
  zone?: string;
  /** The hypervisor's totals; 8192, 16777216 and 100000 unless given. */
  vcpus?: number;
  memory_mb?: number;
  local_gb?: number;
}

/** A flavor for the control API; missing fields come from the server's flavor (m1.small: 1, 512, 1 at first). */
export interface FlavorControl {
  vcpus?: number;
  ram?: number;
  disk?: number;
  original_name?: string;
}

/** POST /_control/servers (and, with count and prefix, servers/bulk). */
export interface ServerControl {
  name?: string;
  host?: string;
  id?: string;
  vm_state?: string;
  task_state?: string | null;
  power_state?: number;
  locked?: boolean;
  metadata?: Record<string, string>;
  availability_zone?: string;
  evacuate_polls?: number;
  power_polls?: number;
  flavor?: FlavorControl;
}

/** A server's flavor as Nova embeds it from microversion 2.47 on. */
export interface ServerFlavor {
  vcpus: number;
  ram: number;
  disk: number;
  ephemeral: number;
  swap: number;
  original_name: string;
  extra_specs: Record<string, string>;
}

/** A hypervisor in GET /os-hypervisors/detail and /os-hypervisors/{id} at 2.53. */
export interface Hypervisor {
  id: string;
  hypervisor_hostname: string;
  state: "up" | "down";
  status: "enabled" | "disabled";
  hypervisor_type: string;
  hypervisor_version: number;
  host_ip: string;
  service: { host: string; id: string; disabled_reason: string | null };
  vcpus: number;
  vcpus_used: number;
  memory_mb: number;
  memory_mb_used: number;
  free_ram_mb: number;
  local_gb: number;
  local_gb_used: number;
  free_disk_gb: number;
  disk_available_least: number;
  running_vms: number;
  current_workload: number;
  cpu_info: Record<string, unknown>;
  /** With ?with_servers=true, when the host has servers. */
  servers?: { name: string; uuid: string }[];
}
