// A Nova compute API v2.1 client at microversion 2.53, as novaclient is used
// by Masakari: the API asks it whether a host is a nova-compute host (D10),
// the recovery engine disables services, lists, evacuates, stops and starts
// servers (D14).

/** The compute microversion Masakari's novaclient speaks. */
export const NOVA_MICROVERSION = "2.53";

/**
 * A failed Nova call: `status` is Nova's HTTP status, or undefined when Nova
 * did not answer in time or could not be reached. Upstream maps 400, 403,
 * 404 and 409 to its own exceptions and everything else to a generic one;
 * `message` is what Nova said, or why there was no answer.
 */
export class NovaError extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface NovaSettings {
  /** The compute endpoint, e.g. https://nova.example.com/v2.1. */
  readonly endpoint: () => Promise<string>;
  /** The token to send as X-Auth-Token, or null for none; `refused` after a 401. */
  readonly token: () => Promise<string | null>;
  readonly refused?: (token: string) => void;
  readonly timeoutMs: number;
}

export interface NovaService {
  readonly id: string | number;
  readonly host: string;
  readonly binary: string;
  readonly status: string;
  readonly state?: string;
  readonly disabled_reason?: string | null;
}

/** A server as GET /servers/{id} shows it at 2.53 (the fields Masakari reads). */
export interface NovaServer {
  readonly id: string;
  readonly name: string;
  readonly status?: string;
  readonly metadata?: Record<string, string>;
  readonly locked?: boolean;
  readonly "OS-EXT-STS:vm_state"?: string | null;
  readonly "OS-EXT-STS:task_state"?: string | null;
  readonly "OS-EXT-STS:power_state"?: number | null;
  readonly "OS-EXT-SRV-ATTR:hypervisor_hostname"?: string | null;
  readonly "OS-EXT-SRV-ATTR:host"?: string | null;
}

export interface NovaAggregate {
  readonly id: string | number;
  readonly name: string;
  readonly hosts: readonly string[];
}

/** Nova's fault body: `{"<name>": {"code": N, "message": "..."}}`. */
function faultMessage(body: unknown, status: number): string {
  if (body && typeof body === "object") {
    for (const value of Object.values(body)) {
      if (value && typeof value === "object" && typeof (value as { message?: unknown }).message === "string") {
        return (value as { message: string }).message;
      }
    }
  }
  return `Nova answered ${status}`;
}

export class Nova {
  constructor(private readonly settings: NovaSettings) {}

  private async request<T>(method: string, path: string, body?: unknown, retry = true): Promise<T> {
    const base = (await this.settings.endpoint()).replace(/\/+$/, "");
    const token = await this.settings.token();
    const headers: Record<string, string> = {
      Accept: "application/json",
      "X-OpenStack-Nova-API-Version": NOVA_MICROVERSION,
      "OpenStack-API-Version": `compute ${NOVA_MICROVERSION}`,
    };
    if (token) headers["X-Auth-Token"] = token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
    } catch {
      throw new NovaError(undefined, `no answer within ${this.settings.timeoutMs} ms`);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (response.status === 401 && retry && token && this.settings.refused) {
      // Our token expired or was revoked: log in again, once.
      this.settings.refused(token);
      return this.request(method, path, body, false);
    }
    if (!response.ok) throw new NovaError(response.status, faultMessage(parsed, response.status));
    return parsed as T;
  }

  /** GET /os-services?host=&binary= (novaclient's services.list). */
  async services(host: string, binary: string): Promise<NovaService[]> {
    const query = new URLSearchParams({ host, binary });
    const body = await this.request<{ services?: NovaService[] }>("GET", `/os-services?${query}`);
    return Array.isArray(body?.services) ? body.services : [];
  }

  /** PUT /os-services/{id}: enable or disable a service (2.53). */
  async updateService(id: string | number, changes: { status: "enabled" | "disabled"; disabled_reason?: string }) {
    await this.request("PUT", `/os-services/${id}`, changes);
  }

  /** GET /servers/detail?all_tenants=True&host=: one page, as novaclient lists them. */
  async serversOnHost(host: string): Promise<NovaServer[]> {
    const body = await this.request<{ servers?: NovaServer[] }>(
      "GET",
      `/servers/detail?all_tenants=True&host=${encodeURIComponent(host)}`,
    );
    return Array.isArray(body?.servers) ? body.servers : [];
  }

  async server(id: string): Promise<NovaServer> {
    const body = await this.request<{ server?: NovaServer }>("GET", `/servers/${id}`);
    if (!body?.server) throw new NovaError(undefined, `Nova's answer for server ${id} has no server`);
    return body.server;
  }

  /** POST /servers/{id}/action with one action, e.g. {"os-stop": null}. */
  async action(id: string, action: Record<string, unknown>): Promise<void> {
    await this.request("POST", `/servers/${id}/action`, action);
  }

  async aggregates(): Promise<NovaAggregate[]> {
    const body = await this.request<{ aggregates?: NovaAggregate[] }>("GET", "/os-aggregates");
    return Array.isArray(body?.aggregates) ? body.aggregates : [];
  }

  async addHostToAggregate(id: string | number, host: string): Promise<void> {
    await this.request("POST", `/os-aggregates/${id}/action`, { add_host: { host } });
  }
}
