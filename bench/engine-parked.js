// The recovery engine as Cloudflare runs it, from the API's side: elsewhere.
// A Workflow instance runs in its own isolate, not on the thread that
// answers the API, while locally every Worker and the Workflows engine share
// workerd's one thread. Bound in the engine's place (same class name), this
// Workflow is started by every notification create exactly as the engine
// is, and its run ends at once: the API is measured with the engine wired
// in, without the recovery's own work on its thread (`--engine-runs parked`;
// bench/README.md says what that work costs).
import { WorkflowEntrypoint } from "cloudflare:workers";

export class RecoveryWorkflow extends WorkflowEntrypoint {
  async run() {
    return "parked";
  }
}

export default {
  fetch: () => new Response(null, { status: 404 }),
};
