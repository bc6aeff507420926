import type { D1Migration } from "cloudflare:test";
import type { EvacuationParams, RecoveryParams, Env as WorkerEnv } from "../src/config";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      /** The fake OpenStack (test/fakes/openstack.mjs). */
      FAKE_OPENSTACK: Fetcher;
      /** The recovery engine's Workflows (wrangler.toml): runs, and the links of large phases. */
      RECOVERY: Workflow<RecoveryParams>;
      EVACUATION: Workflow<EvacuationParams>;
      /** The stateful Nova stand-in's control API (test/fakes/nova.mjs). */
      NOVA_STAND_IN: Fetcher;
    }
    // Types `exports.default` from "cloudflare:workers" in tests.
    interface GlobalProps {
      mainModule: typeof import("../src/index");
    }
  }
}
