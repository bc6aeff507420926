import type { EngineLimits, EvacuationParams, RecoveryOptions, RecoveryParams } from "../config";
import type { Database } from "../db/database";
import type { Log } from "../log";
import type { Nova } from "../openstack/nova";
import type { Outbox } from "../webhooks/outbox";
import type { Steps } from "./steps";

export type { EvacuationParams, RecoveryParams, UnitCursor } from "../config";

/** The engine's two Workflows: runs, and the links that carry a run's large phases. */
export interface EngineWorkflows {
  readonly recovery: Workflow<RecoveryParams>;
  readonly evacuation: Workflow<EvacuationParams>;
}

/** Everything a flow needs: the notification's run, options, database, Nova and its Workflow instance. */
export interface Recovery {
  readonly notificationUuid: string;
  readonly run: number;
  readonly options: RecoveryOptions;
  readonly limits: EngineLimits;
  readonly db: Database;
  readonly nova: Nova;
  readonly steps: Steps;
  readonly log: Log;
  readonly workflows: EngineWorkflows;
  /** Where the webhook events of its writes go (docs/webhooks.md); none without webhooks. */
  readonly outbox: Outbox | undefined;
}
