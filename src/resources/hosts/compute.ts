import { Nova, NovaError } from "../../openstack/nova";

// Hosts must be nova-compute hosts. Upstream asks Nova on every host create
// and rename; we ask only when a compute endpoint is configured (D10), with
// the caller's token, and give Nova a bounded time to answer.

export interface ComputeCheck {
  readonly novaUrl: string | undefined;
  readonly authToken: string | null;
  readonly timeoutMs: number;
}

/** Why a name could not be checked: Nova failed or did not answer in time. */
export type ComputeUnavailable = { readonly unavailable: string };

/**
 * Whether Nova knows a nova-compute service on host `name` (exact case);
 * true without asking when no compute endpoint is configured.
 */
export async function isComputeHost(name: string, check: ComputeCheck): Promise<boolean | ComputeUnavailable> {
  const { novaUrl, authToken, timeoutMs } = check;
  if (!novaUrl) return true;
  const nova = new Nova({ endpoint: async () => novaUrl, token: async () => authToken, timeoutMs });
  try {
    const services = await nova.services(name, "nova-compute");
    return services.some((service) => service?.host === name);
  } catch (error) {
    if (!(error instanceof NovaError)) throw error;
    return { unavailable: error.status === undefined ? error.message : `Nova answered ${error.status}` };
  }
}
