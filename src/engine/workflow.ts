import { WorkflowEntrypoint, type WorkflowEvent, type WorkflowStep } from "cloudflare:workers";
import { type Config, type Env, loadConfig, type RecoveryParams } from "../config";
import { database } from "../db/database";
import type { NotificationStatus, RecoveryMethod } from "../db/schema";
import { logFor } from "../log";
import { keystoneClient } from "../openstack/keystone";
import { Nova } from "../openstack/nova";
import { RecoveryError, statusOf } from "./errors";
import { recoverHost } from "./host-failure";
import { isRecoveredEvent, recoverInstance } from "./instance-failure";
import { recoverProcess } from "./process-failure";
import { type Recovery, runStep } from "./recovery";
import {
  claimNotification,
  endRun,
  finishNotification,
  ignoreIfSegmentDisabled,
  latestRun,
  putOnMaintenance,
  readSubject,
  recordFirstRun,
  reservedHostNames,
} from "./store";

// One run of the engine on one notification (masakari-engine.md §1.3-§3),
// as a Cloudflare Workflow (D13): every wait is a durable sleep and every
// Nova call sits in a step, so a run interrupted by a restart or a deploy
// resumes from its last finished step (D17).

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

/**
 * Nova for the engine (D14): NOVA_URL, else the compute endpoint of the
 * Worker's Keystone catalog, with the Worker's own token; without a Keystone
 * identity, NOVA_URL and no token (a Nova stand-in).
 */
export function engineNova(config: Config): Nova {
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
  });
}

/** What the first step learns of the notification, as plain data. */
interface Start {
  readonly mode: "rpc" | "periodic";
  readonly status: NotificationStatus;
  readonly type: string;
  readonly payload: Record<string, unknown>;
  readonly hostUuid: string;
  readonly hostName: string;
  readonly segmentUuid: string;
  readonly recoveryMethod: RecoveryMethod;
}

function payloadOf(text: string | null): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text ?? "{}");
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** How a run opens: it claimed the notification, must wait for its host, or has nothing to do. */
type Opening =
  | { readonly outcome: "claimed" | "host-busy"; readonly start: Start }
  | { readonly outcome: "gone" | "ignored" | "skipped" };

const OPENINGS = {
  gone: "nothing to run: the notification, its host or its segment is gone, or a later run exists",
  ignored: "ignored: the segment is disabled",
  // Upstream's bug 1773132 guard: never recover a notification twice.
  skipped: "Processing of notification is skipped to avoid recovering from failure twice",
};

/** How long a run waits before claiming again while its host has a recovery running. */
const hostBusyWait = (attempt: number) => Math.min(2 ** attempt, 30);

export class RecoveryWorkflow extends WorkflowEntrypoint<Env, RecoveryParams> {
  override async run(event: Readonly<WorkflowEvent<RecoveryParams>>, step: WorkflowStep): Promise<string> {
    const { notificationUuid: uuid, run } = event.payload;
    const config = configOf(this.env);
    const db = database(this.env.DB);
    const log = logFor(`notification ${uuid} run ${run}`);

    // One step opens the run: record it, read the notification, upstream's
    // RPC-path segment check, and a first claim (D16: new/error → running,
    // one run per source host at a time).
    const opening = await runStep(step, "start", async (): Promise<Opening> => {
      if (run === 1) await recordFirstRun(db, uuid);
      const latest = await latestRun(db, uuid);
      const subject = await readSubject(db, uuid);
      if (!subject || latest?.run !== run) {
        await endRun(db, uuid, run);
        return { outcome: "gone" };
      }
      const start: Start = {
        mode: latest.mode,
        status: subject.notification.status,
        type: subject.notification.type,
        payload: payloadOf(subject.notification.payload),
        hostUuid: subject.host.uuid,
        hostName: subject.host.name,
        segmentUuid: subject.segment.uuid,
        recoveryMethod: subject.segment.recovery_method,
      };
      // Upstream's RPC path checks the segment first; the periodic path does not.
      if (start.mode === "rpc" && start.status === "new" && (await ignoreIfSegmentDisabled(db, uuid, run))) {
        await endRun(db, uuid, run);
        return { outcome: "ignored" };
      }
      const claim = await claimNotification(db, uuid, run);
      if (claim === "not-claimable") await endRun(db, uuid, run);
      return claim === "not-claimable" ? { outcome: "skipped" } : { outcome: claim, start };
    });
    if (opening.outcome !== "claimed" && opening.outcome !== "host-busy") {
      log.info(OPENINGS[opening.outcome]);
      return opening.outcome === "ignored" ? "ignored" : "skipped";
    }
    const start = opening.start;
    for (let attempt = 2; opening.outcome === "host-busy"; attempt++) {
      await step.sleep(`host busy ${attempt - 1}`, hostBusyWait(attempt - 1) * 1000);
      const claim = await runStep(step, `claim ${attempt}`, () => claimNotification(db, uuid, run));
      if (claim === "claimed") break;
      if (claim === "not-claimable") {
        log.info("Processing of notification is skipped to avoid recovering from failure twice");
        await runStep(step, "end", () => endRun(db, uuid, run));
        return "skipped";
      }
    }
    log.info(`processing ${start.type} notification (${start.mode})`);

    const recovery: Recovery = {
      notificationUuid: uuid,
      run,
      options: config.recovery,
      db,
      nova: engineNova(config),
      step,
      log,
    };
    let status = await handle(recovery, start);
    // The periodic task re-reads the notification after its run: an error
    // there becomes failed (masakari-engine.md §1.4).
    if (start.mode === "periodic" && status === "error") status = "failed";
    const written = await runStep(step, "finish", () => finishNotification(db, uuid, run, status));
    log.info(
      written ? `exits with status: ${status}` : `ends as ${status}, but the notification was no longer this run's`,
    );
    return status;
  }
}

/** The handlers of masakari-engine.md §3, returning the notification's final status. */
async function handle(recovery: Recovery, start: Start): Promise<NotificationStatus> {
  const { step, db, log } = recovery;
  const upper = (v: unknown) => (typeof v === "string" ? v.toUpperCase() : v);
  const outcome = async (flow: () => Promise<void>): Promise<NotificationStatus> => {
    try {
      await flow();
      return "finished";
    } catch (error) {
      if (!(error instanceof RecoveryError)) throw error;
      log.warn(`${error.name}: ${error.message}`);
      return statusOf(error);
    }
  };
  const payload = start.payload;

  if (start.type === "COMPUTE_HOST") {
    const hostStatus = payload.host_status;
    if (hostStatus === undefined || hostStatus === null) {
      log.warn("Notification is ignored as host_status is not provided.");
      return "ignored";
    }
    // Evacuating from a host whose power is not known to be off is unsafe.
    if (upper(hostStatus) !== "NORMAL") return "ignored";
    if (upper(payload.event) === "STARTED") return "finished";
    if (upper(payload.event) !== "STOPPED") return "ignored";
    // The host goes on maintenance before the flow, whatever its outcome;
    // the reserved hosts are listed when the notification starts (upstream).
    const reserved = await runStep(step, "host on maintenance", async () => {
      await putOnMaintenance(db, start.hostUuid, true);
      return start.recoveryMethod === "auto" ? [] : reservedHostNames(db, start.segmentUuid);
    });
    return outcome(() => recoverHost(recovery, start.hostName, start.segmentUuid, start.recoveryMethod, reserved));
  }

  if (start.type === "PROCESS") {
    if (upper(payload.event) === "STARTED") return "finished";
    if (upper(payload.event) !== "STOPPED") return "ignored";
    await runStep(step, "host on maintenance", () => putOnMaintenance(db, start.hostUuid, false));
    return outcome(() => recoverProcess(recovery, start.hostName, String(payload.process_name)));
  }

  if (start.type === "VM") {
    if (!isRecoveredEvent(payload.event, payload.vir_domain_event)) return "ignored";
    return outcome(() => recoverInstance(recovery, String(payload.instance_uuid)));
  }
  return "ignored";
}
