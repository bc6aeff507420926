import type { D1Migration } from "cloudflare:test";
import type { Env as WorkerEnv } from "../src/config";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      /** The fake OpenStack (test/fakes/openstack.mjs). */
      FAKE_OPENSTACK: Fetcher;
    }
    // Types `exports.default` from "cloudflare:workers" in tests.
    interface GlobalProps {
      mainModule: typeof import("../src/index");
    }
  }
}
