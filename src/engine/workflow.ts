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

/** How long a run waits before claiming again while its host has a recovery running. */
const hostBusyWait = (attempt: number) => Math.min(2 ** attempt, 30);

export class RecoveryWorkflow extends WorkflowEntrypoint<Env, RecoveryParams> {
  override async run(event: Readonly<WorkflowEvent<RecoveryParams>>, step: WorkflowStep): Promise<string> {
    const { notificationUuid: uuid, run } = event.payload;
    const config = configOf(this.env);
    const db = database(this.env.DB);
    const log = logFor(`notification ${uuid} run ${run}`);

    const start = await runStep(step, "start", async (): Promise<Start | null> => {
      if (run === 1) await recordFirstRun(db, uuid);
      const latest = await latestRun(db, uuid);
      const subject = await readSubject(db, uuid);
      if (!subject || latest?.run !== run) return null;
      return {
        mode: latest.mode,
        status: subject.notification.status,
        type: subject.notification.type,
        payload: payloadOf(subject.notification.payload),
        hostUuid: subject.host.uuid,
        hostName: subject.host.name,
        segmentUuid: subject.segment.uuid,
        recoveryMethod: subject.segment.recovery_method,
      };
    });
    if (start === null) {
      log.warn("nothing to run: the notification, its host or its segment is gone, or a later run exists");
      await runStep(step, "end", () => endRun(db, uuid, run));
      return "skipped";
    }

    // Upstream's RPC path checks the segment first; the periodic path does not.
    if (start.mode === "rpc" && start.status === "new") {
      const ignored = await runStep(step, "segment enabled", () => ignoreIfSegmentDisabled(db, uuid, run));
      if (ignored) {
        log.info("ignored: the segment is disabled");
        await runStep(step, "end", () => endRun(db, uuid, run));
        return "ignored";
      }
    }

    // D16: new/error → running, one run per source host at a time.
    for (let attempt = 1; ; attempt++) {
      const claim = await runStep(step, `claim ${attempt}`, () => claimNotification(db, uuid, run));
      if (claim === "claimed") break;
      if (claim === "not-claimable") {
        // Upstream's bug 1773132 guard: never recover a notification twice.
        log.info("Processing of notification is skipped to avoid recovering from failure twice");
        await runStep(step, "end", () => endRun(db, uuid, run));
        return "skipped";
      }
      await step.sleep(`host busy ${attempt}`, hostBusyWait(attempt) * 1000);
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
    await runStep(step, "host on maintenance", () => putOnMaintenance(db, start.hostUuid, true));
    const reserved =
      start.recoveryMethod === "auto"
        ? []
        : await runStep(step, "reserved hosts", () => reservedHostNames(db, start.segmentUuid));
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
