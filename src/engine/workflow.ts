import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { type Config, type Env, type EvacuationParams, loadConfig, type RecoveryParams } from "../config";
import { database } from "../db/database";
import { logFor } from "../log";
import { outboxOf } from "../webhooks/outbox";
import { engineNova, engineWorkflows } from "./bindings";
import type { EngineWorkflows, Recovery } from "./context";
import { runLink } from "./host-failure/phase";
import { runRecovery } from "./run";
import { Meter, metered, Steps } from "./steps";

// The engine's two Workflows (D13): a run of a notification, and a link
// carrying a large phase of a host flow on from it (D20). Both are thin:
// they build the run's context and hand over to ./run.ts or
// ./host-failure/phase.ts, which the tests also drive directly.

const configs = new WeakMap<object, Config>();

/** The configuration of `env`, read once per isolate. */
function configOf(env: Env): Config {
  let config = configs.get(env);
  if (!config) {
    config = loadConfig(env);
    configs.set(env, config);
  }
  return config;
}

/** A run's context for one Workflow instance of it. */
export function recoveryContext(
  env: Env,
  step: WorkflowStep,
  notificationUuid: string,
  run: number,
  subject: string,
  generation = 1,
  config: Config = configOf(env),
  workflows: EngineWorkflows = engineWorkflows(env),
): Recovery {
  const meter = new Meter();
  const client = metered(env.DB, meter);
  const steps = new Steps(step, { client, notificationUuid, run, replays: generation > 1 }, meter);
  return {
    notificationUuid,
    run,
    options: config.recovery,
    limits: config.engineLimits,
    db: database(client),
    nova: engineNova(
      config,
      () => meter.subrequests++,
      () => meter.novaErrors++,
    ),
    steps,
    log: logFor(subject),
    workflows,
    outbox: outboxOf(config, env),
  };
}

export class RecoveryWorkflow extends WorkflowEntrypoint<Env, RecoveryParams> {
  override async run(event: Readonly<WorkflowEvent<RecoveryParams>>, step: WorkflowStep): Promise<string> {
    const { notificationUuid, run, generation = 1 } = event.payload;
    const subject = `notification ${notificationUuid} run ${run}${generation > 1 ? ` g${generation}` : ""}`;
    return runRecovery(recoveryContext(this.env, step, notificationUuid, run, subject, generation));
  }
}

export class EvacuationWorkflow extends WorkflowEntrypoint<Env, EvacuationParams> {
  override async run(event: Readonly<WorkflowEvent<EvacuationParams>>, step: WorkflowStep): Promise<string> {
    const p = event.payload;
    const subject = `notification ${p.notificationUuid} run ${p.run} ${p.scope} link ${p.link}`;
    return runLink(recoveryContext(this.env, step, p.notificationUuid, p.run, subject, p.generation), p);
  }
}
