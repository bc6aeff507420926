import { badRequest, Fault, messages } from "../../http/faults";

// Hosts must be nova-compute hosts. Upstream asks Nova on every host create
// and rename; we ask only when a compute endpoint is configured (D10), with
// the caller's token, and give Nova a bounded time to answer.

export interface ComputeCheck {
  readonly novaUrl: string | undefined;
  readonly authToken: string | null;
  readonly timeoutMs: number;
}

interface NovaServices {
  services?: { host?: unknown }[];
}

/** 400 unless Nova knows a nova-compute service on host `name` (exact case). */
export async function assertComputeService(name: string, check: ComputeCheck): Promise<void> {
  if (!check.novaUrl) return;
  const url = new URL(`${check.novaUrl.replace(/\/+$/, "")}/os-services`);
  url.searchParams.set("binary", "nova-compute");
  url.searchParams.set("host", name);
  const headers: Record<string, string> = { Accept: "application/json" };
  if (check.authToken) headers["X-Auth-Token"] = check.authToken;
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(check.timeoutMs) });
  } catch {
    throw new Fault(503, messages.computeUnavailable(`no answer within ${check.timeoutMs} ms`));
  }
  if (!response.ok) throw new Fault(503, messages.computeUnavailable(`Nova answered ${response.status}`));
  const body = (await response.json().catch(() => ({}))) as NovaServices;
  const known = Array.isArray(body.services) && body.services.some((service) => service?.host === name);
  if (!known) throw badRequest(messages.computeServiceNotFound(name));
}
