import { env } from "cloudflare:workers";
import { createApp } from "./app";
import { loadConfig } from "./config";
import { database } from "./db/database";
import { engineNova, engineWorkflows } from "./engine/bindings";
import { sweep } from "./engine/periodic";
import { logFor } from "./log";
import { deliverBatch, recordDeadLetters } from "./webhooks/deliver";
import { type DeliveryMessage, outboxOf, webhooksCron } from "./webhooks/outbox";

export { EvacuationWorkflow, RecoveryWorkflow } from "./engine/workflow";

// The configuration is read when the Worker starts, so a bad setting stops
// it with a clear message rather than failing requests one by one.
const config = loadConfig(env);
const app = createApp(config);

export default {
  fetch: app.fetch,
  /** The Cron Trigger: the recovery engine's periodic work (src/engine/periodic.ts), then webhooks' (src/webhooks). */
  async scheduled(controller, workerEnv) {
    const log = logFor(`cron ${new Date(controller.scheduledTime).toISOString()}`);
    const db = database(workerEnv.DB);
    try {
      if (!workerEnv.RECOVERY || !workerEnv.EVACUATION) {
        log.error("no RECOVERY and EVACUATION Workflow bindings: nothing to sweep");
        return;
      }
      const workflows = engineWorkflows(workerEnv);
      const nova = engineNova(config);
      await sweep({ db, workflows, nova, options: config.recovery, log }, controller.scheduledTime);
    } finally {
      // After the sweep, whose expiries change statuses; whatever became of it.
      await webhooksCron(db, outboxOf(config, workerEnv), log).catch((error) =>
        log.error("webhooks: the minute's publish and prune failed:", error),
      );
    }
  },
  /** Webhooks (docs/webhooks.md): the events queue, and its dead-letter queue (named `…-dlq`). */
  async queue(batch, workerEnv) {
    const delivery = {
      db: database(workerEnv.DB),
      webhooks: config.webhooks,
      publicUrl: config.publicUrl,
      queue: workerEnv.WEBHOOKS as Queue<DeliveryMessage> | undefined,
      fetch: (request: Request) => fetch(request),
      log: logFor(`webhooks ${batch.queue}`),
    };
    if (batch.queue.endsWith("-dlq")) await recordDeadLetters(batch, delivery);
    else await deliverBatch(batch, delivery);
  },
} satisfies ExportedHandler<typeof env>;
