import { nowSeconds } from "../datetime";
import type { NotificationStatus, RecoveryMethod } from "../db/schema";
import { NovaError } from "../openstack/nova";
import { publishQuietly } from "../webhooks/outbox";
import type { Recovery } from "./context";
import { RecoveryError, statusOf } from "./errors";
import { recoverHost } from "./host-failure/flows";
import { isRecoveredEvent, recoverInstance } from "./instance-failure";
import { recoverProcess } from "./process-failure";
import { recordHold } from "./steering";
import { putOnMaintenance, reservedHostNames } from "./store/hosts";
import { heldLocks, releaseLock } from "./store/locks";
import {
  claimNotification,
  endRun,
  finishNotification,
  ignoreIfSegmentDisabled,
  latestRun,
  readSubject,
  recordFirstRun,
  recordRunUsage,
} from "./store/runs";
import { admit } from "./store/storm";

// One run of the engine on one notification (docs/engine.md, "A run"): it
// claims the notification, runs the handler of its type, and sets its final
// status. Every step is journaled (./steps.ts): an instance carrying on a
// run whose instance died replays what was done and goes on (D17).

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
  | { readonly outcome: "gone" | "ignored" | "skipped" | "held" };

const OPENINGS = {
  gone: "nothing to run: the notification, its host or its segment is gone, or a later run exists",
  ignored: "ignored: the segment is disabled",
  held: "held by the storm guard (D22): it runs once an operator releases it",
  // Upstream's bug 1773132 guard: never recover a notification twice.
  skipped: "Processing of notification is skipped to avoid recovering from failure twice",
};

/**
 * How long a run waits before claiming again while its host has a
 * recovery running: growing to 5 minutes, so that a long wait (a host
 * recovery of hours) stays within a few hundred steps.
 */
const hostBusyWait = (attempt: number) => Math.min(2 ** attempt, 300);

/** Runs run `recovery.run` of the notification to its end; its final status, or how it ended. */
export async function runRecovery(recovery: Recovery): Promise<string> {
  const { notificationUuid: uuid, run, db, steps, log } = recovery;

  // One step opens the run: record it, read the notification, upstream's
  // RPC-path segment check, and a first claim (D16: new/error → running,
  // one run per source host at a time).
  const open = withEvents(recovery, async (): Promise<Opening> => {
    if (run === 1) await recordFirstRun(db, uuid);
    const latest = await latestRun(db, uuid);
    const subject = await readSubject(db, uuid);
    if (!subject || latest?.run !== run || latest.ended_at !== null) {
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
    if (start.status === "new" && (await held(recovery, start))) {
      await endRun(db, uuid, run);
      return { outcome: "held" };
    }
    const claim = await claimNotification(db, uuid, run);
    if (claim === "not-claimable") await endRun(db, uuid, run);
    return claim === "not-claimable" ? { outcome: "skipped" } : { outcome: claim, start };
  });
  const opening = await steps.do("start", open);
  if (opening.outcome !== "claimed" && opening.outcome !== "host-busy") {
    log.info(OPENINGS[opening.outcome]);
    await recordUsage(recovery);
    return opening.outcome === "ignored" || opening.outcome === "held" ? opening.outcome : "skipped";
  }
  const start = opening.start;
  for (let attempt = 2; opening.outcome === "host-busy"; attempt++) {
    await steps.sleep(`host busy ${attempt - 1}`, hostBusyWait(attempt - 1));
    const claim = await steps.do(
      `claim ${attempt}`,
      withEvents(recovery, () => claimNotification(db, uuid, run)),
    );
    if (claim === "claimed") break;
    if (claim === "not-claimable") {
      log.info(OPENINGS.skipped);
      await steps.do("end", () => endRun(db, uuid, run));
      await recordUsage(recovery);
      return "skipped";
    }
  }
  log.info(`processing ${start.type} notification (${start.mode})`);

  let status = await handle(recovery, start);
  // The periodic task re-reads the notification after its run: an error
  // there becomes failed (docs/engine.md, "Periodic work").
  if (start.mode === "periodic" && status === "error") status = "failed";
  const written = await steps.do(
    "finish",
    withEvents(recovery, () => finishNotification(db, uuid, run, status)),
  );
  log.info(
    written ? `exits with status: ${status}` : `ends as ${status}, but the notification was no longer this run's`,
  );
  await releaseLocks(recovery);
  await recordUsage(recovery);
  return status;
}

/**
 * A step that may change the notification's status (or hold it), followed
 * by publishing the webhook events its writes made (docs/webhooks.md); a
 * step run twice publishes twice, which sends nothing twice.
 */
function withEvents<T>(recovery: Recovery, body: () => Promise<T>): () => Promise<T> {
  return async () => {
    const result = await body();
    const published = await publishQuietly(recovery.db, recovery.outbox, recovery.log);
    recovery.steps.meter.subrequests += published.sends;
    return result;
  };
}

/** A host failure: COMPUTE_HOST, STOPPED, its power known to be off. */
const isHostFailure = (start: Start) =>
  start.type === "COMPUTE_HOST" &&
  String(start.payload.event).toUpperCase() === "STOPPED" &&
  String(start.payload.host_status).toUpperCase() === "NORMAL";

/**
 * D22: whether the storm guard holds this host failure. A held one stays
 * `new`; its host goes on maintenance as upstream puts a failed host, and
 * its details say why. Nova is not called.
 */
async function held(recovery: Recovery, start: Start): Promise<boolean> {
  const { db, notificationUuid: uuid, run, options } = recovery;
  if (!isHostFailure(start)) return false;
  const failure = { notificationUuid: uuid, segmentUuid: start.segmentUuid, hostUuid: start.hostUuid };
  const admission = await admit(db, failure, options.stormGuard, nowSeconds());
  if (admission.state !== "held") return false;
  await putOnMaintenance(db, start.hostUuid, true);
  const guard = options.stormGuard;
  await recordHold(db, uuid, run, {
    down: admission.down,
    hosts: admission.hosts,
    percent: guard.maxHostsDownPercent,
    window: guard.windowSeconds,
  });
  return true;
}

/**
 * Unlocks what the notification's recovery still holds locked (an
 * instance whose own unlock failed, or one a run that died locked).
 */
async function releaseLocks(recovery: Recovery): Promise<void> {
  const { db, nova, notificationUuid } = recovery;
  await recovery.steps.do("release locks", async () => {
    for (const instance of await heldLocks(db, notificationUuid)) {
      try {
        await nova.action(instance, { unlock: null });
      } catch (error) {
        // A server gone from Nova holds no lock; anything else is left to the periodic work.
        if (!(error instanceof NovaError) || error.status !== 404) continue;
      }
      await releaseLock(db, notificationUuid, instance, nowSeconds());
    }
    return null;
  });
}

async function recordUsage(recovery: Recovery): Promise<void> {
  const { steps, db, notificationUuid, run } = recovery;
  // This step and its write count too.
  const usage = {
    steps: steps.meter.steps + 1,
    subrequests: steps.meter.subrequests + 2,
    novaErrors: steps.meter.novaErrors,
  };
  await steps.do("usage", () => recordRunUsage(db, notificationUuid, run, usage), { journal: false });
}

/** The handlers of docs/engine.md, "Per type", returning the notification's final status. */
async function handle(recovery: Recovery, start: Start): Promise<NotificationStatus> {
  const { steps, db, log } = recovery;
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
    const reserved = await steps.do("host on maintenance", async () => {
      await putOnMaintenance(db, start.hostUuid, true);
      return start.recoveryMethod === "auto" ? [] : reservedHostNames(db, start.segmentUuid);
    });
    return outcome(() => recoverHost(recovery, start.hostName, start.segmentUuid, start.recoveryMethod, reserved));
  }

  if (start.type === "PROCESS") {
    if (upper(payload.event) === "STARTED") return "finished";
    if (upper(payload.event) !== "STOPPED") return "ignored";
    await steps.do("host on maintenance", () => putOnMaintenance(db, start.hostUuid, false));
    return outcome(() => recoverProcess(recovery, start.hostName, String(payload.process_name)));
  }

  if (start.type === "VM") {
    if (!isRecoveredEvent(payload.event, payload.vir_domain_event)) return "ignored";
    return outcome(() => recoverInstance(recovery, String(payload.instance_uuid)));
  }
  return "ignored";
}
