import { env } from "cloudflare:workers";
import { createApp } from "./app";
import { loadConfig } from "./config";
import { database } from "./db/database";
import { sweep } from "./engine/periodic";
import { logFor } from "./log";

export { RecoveryWorkflow } from "./engine/workflow";

// The configuration is read when the Worker starts, so a bad setting stops
// it with a clear message rather than failing requests one by one.
const config = loadConfig(env);
const app = createApp(config);

export default {
  fetch: app.fetch,
  /** The Cron Trigger: the recovery engine's periodic work (src/engine/periodic.ts). */
  async scheduled(controller, workerEnv) {
    const log = logFor(`cron ${new Date(controller.scheduledTime).toISOString()}`);
    if (!workerEnv.RECOVERY) {
      log.error("no RECOVERY Workflow binding: nothing to sweep");
      return;
    }
    await sweep(
      { db: database(workerEnv.DB), recovery: workerEnv.RECOVERY, options: config.recovery, log },
      controller.scheduledTime,
    );
  },
} satisfies ExportedHandler<typeof env>;
