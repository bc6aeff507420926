import { env } from "cloudflare:workers";
import { createApp } from "./app";
import { loadConfig } from "./config";
import { database } from "./db/database";
import { engineNova, engineWorkflows } from "./engine/bindings";
import { sweep } from "./engine/periodic";
import { logFor } from "./log";

export { EvacuationWorkflow, RecoveryWorkflow } from "./engine/workflow";

// The configuration is read when the Worker starts, so a bad setting stops
// it with a clear message rather than failing requests one by one.
const config = loadConfig(env);
const app = createApp(config);

export default {
  fetch: app.fetch,
  /** The Cron Trigger: the recovery engine's periodic work (src/engine/periodic.ts). */
  async scheduled(controller, workerEnv) {
    const log = logFor(`cron ${new Date(controller.scheduledTime).toISOString()}`);
    if (!workerEnv.RECOVERY || !workerEnv.EVACUATION) {
      log.error("no RECOVERY and EVACUATION Workflow bindings: nothing to sweep");
      return;
    }
    const workflows = engineWorkflows(workerEnv);
    const nova = engineNova(config);
    await sweep(
      { db: database(workerEnv.DB), workflows, nova, options: config.recovery, log },
      controller.scheduledTime,
    );
  },
} satisfies ExportedHandler<typeof env>;
