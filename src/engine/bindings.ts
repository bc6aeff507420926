import type { Config, Env } from "../config";
import { keystoneClient } from "../openstack/keystone";
import { Nova } from "../openstack/nova";
import type { EngineWorkflows } from "./context";
import { RecoveryError } from "./errors";

// What the engine reaches outside itself: Nova, and its two Workflows.
// Kept apart from ./workflow.ts, whose Workflow classes load the runtime's
// own module, so that the API (and tools run in Node) can use them too.

/**
 * Nova for the engine (D14): NOVA_URL, else the compute endpoint of the
 * Worker's Keystone catalog, with the Worker's own token; without a Keystone
 * identity, NOVA_URL and no token (a Nova stand-in).
 */
export function engineNova(config: Config, sent?: () => void, failed?: () => void): Nova {
  const keystone = config.keystone && keystoneClient(config.keystone);
  const catalog = config.recovery.novaCatalog;
  return new Nova({
    endpoint: async () => {
      if (config.novaUrl) return config.novaUrl;
      const found = keystone && (await keystone.endpoint(catalog.type, catalog.interface, catalog.region));
      if (!found)
        throw new RecoveryError("MasakariException", "No compute endpoint: set NOVA_URL or a Keystone identity");
      return found;
    },
    token: async () => (keystone ? keystone.token() : null),
    refused: (token) => keystone?.forgetToken(token),
    timeoutMs: config.novaTimeoutMs,
    sent,
    failed,
  });
}

/** The Workflow bindings of `env`: a Worker without them runs no engine. */
export function engineWorkflows(env: Env): EngineWorkflows {
  if (!env.RECOVERY || !env.EVACUATION) throw new Error("the RECOVERY and EVACUATION Workflow bindings are missing");
  return { recovery: env.RECOVERY, evacuation: env.EVACUATION };
}
