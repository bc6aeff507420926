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
    /** Nova's request id (x-openstack-request-id), when it answered. */
    readonly requestId?: string,
  ) {
    super(message);
  }

  /**
   * str() of the exception Masakari's engine ends up with for this failure,
   * as master records it in a VM move's message: novaclient's errors pass
   * through Masakari's translate_nova_exception, whose Conflict and NotFound
   * drop Nova's words, whose MasakariException (a timeout, no connection)
   * keeps only its own default text, and other statuses stay novaclient's
   * "<message> (HTTP <status>) (Request-ID: <id>)".
   */
  get masakariText(): string {
    if (this.status === undefined) return "An unknown exception occurred.";
    if (this.status === 404) return "Resource could not be found.";
    if (this.status === 409) return "Conflict";
    const request = this.requestId ? ` (Request-ID: ${this.requestId})` : "";
    const novaclient = `${this.message} (HTTP ${this.status})${request}`;
    return this.status === 400 ? `Invalid input received: ${novaclient}` : novaclient;
  }
}

export interface NovaSettings {
  /** The compute endpoint, e.g. https://nova.example.com/v2.1. */
  readonly endpoint: () => Promise<string>;
  /** The token to send as X-Auth-Token, or null for none; `refused` after a 401. */
  readonly token: () => Promise<string | null>;
  readonly refused?: (token: string) => void;
  readonly timeoutMs: number;
  /** Called once per request sent (the engine counts its subrequests). */
  readonly sent?: () => void;
  /** Called once per request that failed: an error status, or no answer (the engine counts them). */
  readonly failed?: () => void;
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
  /** The server's flavor, embedded from 2.47 on (D23 reads its size). */
  readonly flavor?: NovaFlavor;
}

export interface NovaFlavor {
  readonly vcpus?: number;
  readonly ram?: number;
  readonly disk?: number;
  readonly ephemeral?: number;
  readonly swap?: number | string;
  readonly original_name?: string;
}

/** A hypervisor as GET /os-hypervisors/detail shows it at 2.53 (the fields the recovery plan reads). */
export interface NovaHypervisor {
  readonly id: string | number;
  readonly hypervisor_hostname?: string;
  readonly state?: string;
  readonly status?: string;
  readonly service?: { readonly host?: string };
  readonly vcpus?: number;
  readonly vcpus_used?: number;
  readonly memory_mb?: number;
  readonly memory_mb_used?: number;
  readonly local_gb?: number;
  readonly local_gb_used?: number;
}

/** One entry of a server's instance-action log (GET /servers/{id}/os-instance-actions). */
export interface NovaInstanceAction {
  readonly action: string;
  readonly request_id?: string;
  readonly start_time?: string;
}

/** One page of a server listing and where the next one starts (Nova's `servers_links`). */
export interface NovaServerPage {
  readonly servers: NovaServer[];
  /** The next page's query (`limit` and `marker`), or null after the last page. */
  readonly next: string | null;
}

export interface NovaAggregate {
  readonly id: string | number;
  readonly name: string;
  readonly hosts: readonly string[];
}

interface Link {
  readonly rel?: string;
  readonly href?: string;
}

/** The next page's query (`limit` and `marker`) from a `*_links` list, or null after the last page. */
function nextPage(links: readonly Link[] | undefined, count: number, last: string | number | undefined): string | null {
  const href = links?.find((l) => l.rel === "next")?.href;
  if (!href || count === 0) return null;
  const link = new URL(href, "http://nova.invalid").searchParams;
  return new URLSearchParams({
    limit: link.get("limit") ?? String(count),
    marker: link.get("marker") ?? String(last ?? ""),
  }).toString();
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
    let base: string;
    let token: string | null;
    try {
      base = (await this.settings.endpoint()).replace(/\/+$/, "");
      token = await this.settings.token();
    } catch (error) {
      // Keystone unreachable or refusing the Worker's identity: upstream's
      // keystoneauth errors end as a MasakariException too.
      throw error instanceof NovaError ? error : new NovaError(undefined, (error as Error).message);
    }
    const headers: Record<string, string> = {
      Accept: "application/json",
      "X-OpenStack-Nova-API-Version": NOVA_MICROVERSION,
      "OpenStack-API-Version": `compute ${NOVA_MICROVERSION}`,
    };
    if (token) headers["X-Auth-Token"] = token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    this.settings.sent?.();
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
    } catch {
      this.settings.failed?.();
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
    if (!response.ok) {
      this.settings.failed?.();
      const requestId = response.headers.get("x-openstack-request-id") ?? undefined;
      throw new NovaError(response.status, faultMessage(parsed, response.status), requestId);
    }
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

  /**
   * One page of GET /servers/detail?all_tenants=True&host=: the first as
   * novaclient asks for it (no limit: Nova's max_limit caps it), the next
   * ones with the limit and marker of Nova's `servers_links` (D20).
   */
  async serversOnHost(host: string, page: string | null = null): Promise<NovaServerPage> {
    const query = new URLSearchParams({ all_tenants: "True", host });
    if (page)
      for (const [key, value] of new URLSearchParams(page))
        if (key === "limit" || key === "marker") query.set(key, value);
    const body = await this.request<{ servers?: NovaServer[]; servers_links?: Link[] }>(
      "GET",
      `/servers/detail?${query.toString().replace(/\+/g, "%20")}`,
    );
    const servers = Array.isArray(body?.servers) ? body.servers : [];
    return { servers, next: nextPage(body?.servers_links, servers.length, servers.at(-1)?.id) };
  }

  /**
   * Every hypervisor, page by page (GET /os-hypervisors/detail, `limit` and
   * `marker` from Nova's `hypervisors_links`), at most `pages` pages.
   */
  async hypervisors(pages = 50): Promise<NovaHypervisor[]> {
    const all: NovaHypervisor[] = [];
    let query = "";
    for (let page = 0; page < pages; page++) {
      const body = await this.request<{ hypervisors?: NovaHypervisor[]; hypervisors_links?: Link[] }>(
        "GET",
        `/os-hypervisors/detail${query}`,
      );
      const found = Array.isArray(body?.hypervisors) ? body.hypervisors : [];
      all.push(...found);
      const next = nextPage(body?.hypervisors_links, found.length, found.at(-1)?.id);
      if (next === null) return all;
      query = `?${next}`;
    }
    throw new NovaError(undefined, `more than ${pages} pages of hypervisors`);
  }

  /** GET /servers/{id}/os-instance-actions: what Nova accepted for the server, newest first. */
  async instanceActions(id: string): Promise<NovaInstanceAction[]> {
    const body = await this.request<{ instanceActions?: NovaInstanceAction[] }>(
      "GET",
      `/servers/${id}/os-instance-actions`,
    );
    return Array.isArray(body?.instanceActions) ? body.instanceActions : [];
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
