import { nowSeconds, pythonStr, type UtcDateTime } from "../../datetime";
import type { MoveStage } from "../../db/schema";
import { NovaError, type NovaServer } from "../../openstack/nova";
import { floatRepr } from "../../python";
import type { Recovery } from "../context";
import { outOfTime } from "../flow";
import { hypervisor, powerState, taskState, vmState } from "../servers";
import { holdsLock, recordLockStatement, releaseLockStatement } from "../store/locks";
import { advanceStatement, type Move, type MoveState, type VmoveChange, vmoveStatement } from "../store/moves";
import { startedStatement } from "../store/progress";
import { EVACUATE } from "./flows";
import type { PhaseSpec } from "./phase";

// Master's per-instance procedure (`_evacuate_and_confirm`; docs/engine.md,
// "Evacuating an instance"): lock, reset a state Nova cannot evacuate,
// evacuate, confirm, stop again what was not running, record the VM move,
// unlock. Each instance moves through it as a small state machine kept in
// D1 (recovery_moves): a unit of the evacuation phase takes instances up to
// host_failure_recovery_threads in flight and moves each on until it must
// wait for Nova. A stage that precedes a Nova call which must not be sent
// twice (lock, evacuate, os-stop) is written before the call, with what is
// needed to tell afterwards whether Nova took it: whoever carries the
// evacuation on (a step run again, another Workflow instance) asks Nova
// before calling again.

/** A Nova shutdown power state. */
const SHUTDOWN = 4;

/** Where an instance stands after a unit: waiting for Nova, done, or moved on by another execution. */
export type Step = "waiting" | "done" | "gone";

/**
 * Whether an evacuation is over (`_wait_for_evacuation_confirmation`):
 * failed when the server went to error from a state that was not error;
 * done once it is on another hypervisor, active after error or in its
 * state before; undefined while neither.
 */
function confirmation(server: NovaServer, failedHost: string, old: string | null): "done" | "failed" | undefined {
  const current = vmState(server);
  if (current === "error" && old !== "error") return "failed";
  if (hypervisor(server) !== failedHost && ((old === "error" && current === "active") || old === current))
    return "done";
  return undefined;
}

/** One instance moved on through the procedure within one unit. */
export class Evacuation {
  #move: Move;
  /** The lock was sent in this unit: what fails after it counts as failed, not as never started. */
  #locked = false;

  constructor(
    readonly recovery: Recovery,
    readonly spec: PhaseSpec,
    move: Move,
    readonly unit: number,
    /** When the unit handed the instance to a lane, for its "started" message. */
    readonly handedAt: UtcDateTime,
  ) {
    this.#move = move;
  }

  get id(): string {
    return this.#move.instance_uuid;
  }

  get state(): MoveState {
    return this.#move.state;
  }

  /** Moves the instance on as far as it goes without waiting for Nova. */
  async advance(): Promise<Step> {
    try {
      return await this.#advance();
    } catch (error) {
      if (!(error instanceof NovaError)) throw error;
      const early = this.#move.stage === "pending" || (this.#move.stage === "locking" && !this.#locked);
      if (early) return this.#beforeStart(error);
      if (this.#passing(error)) return "waiting";
      return this.#finish("failed", error.masakariText);
    }
  }

  /**
   * Whether a Nova failure once the evacuation was recorded is one to ride
   * out (ours): no answer, or a 5xx, while the stage's own wait still runs.
   * Upstream fails the instance at the first; a Nova restart of seconds
   * would then leave it half moved, with nothing to come back to it. The
   * stage is looked at again next unit, and every call it makes is one
   * that may be made again, or is checked against Nova first.
   */
  #passing(error: NovaError): boolean {
    if (error.status !== undefined && error.status < 500) return false;
    const { options } = this.recovery;
    const stopping = ["stopping", "stop-confirming", "resetting"].includes(this.#move.stage);
    const unit = stopping ? this.state.stopUnit : this.state.unit;
    const since = stopping ? this.state.stopSince : this.state.since;
    if (unit === undefined || since === undefined) return false;
    const timeout = stopping ? options.waitPeriodAfterPowerOff : options.waitPeriodAfterEvacuation;
    return !outOfTime(this.unit - unit + 1, since, timeout, options.verifyInterval);
  }

  async #advance(): Promise<Step> {
    switch (this.#move.stage) {
      case "pending":
        return this.#prepare();
      case "locking":
        return this.#relock();
      case "prepared":
        return this.#evacuate();
      case "evacuating":
        return this.#resend();
      case "confirming":
        return this.#confirm(false);
      case "stopping":
        return this.#restop();
      case "stop-confirming":
        return this.#confirmStopped(false);
      case "resetting":
        return this.#finish("succeeded");
      default:
        return "done";
    }
  }

  /** Writes the next stage, guarded by the one it leaves; false when another execution moved it first. */
  async #go(stage: MoveStage, state: MoveState, extra: D1PreparedStatement[] = [], result: Move["result"] = null) {
    const { db } = this.recovery;
    const [moved] = await db.$client.batch([
      advanceStatement(db, this.spec.key, this.#move, stage, state, nowSeconds(), result),
      ...extra,
    ]);
    if (!moved?.results.length) return false;
    this.#move = { ...this.#move, stage, state, result };
    return true;
  }

  #vmove(change: VmoveChange): D1PreparedStatement[] {
    const uuid = this.#move.vmove_uuid;
    return uuid ? [vmoveStatement(this.recovery.db, uuid, change, nowSeconds())] : [];
  }

  /** Master writes this when it hands the instance to a worker. */
  #started(): D1PreparedStatement[] {
    const { recovery, spec } = this;
    const key = { notificationUuid: recovery.notificationUuid, run: recovery.run, flow: spec.key.flow };
    const entry = {
      task: EVACUATE,
      idx: 0,
      timestamp: pythonStr(this.handedAt),
      progress: floatRepr(0.5),
      message: `Evacuation of instance started: '${this.id}'`,
    };
    return [startedStatement(recovery.db, key, `${spec.scope} ${this.id}`, entry)];
  }

  /** Steps 1-2: read the server twice, lock it unless its owner did (the lock recorded first). */
  async #prepare(): Promise<Step> {
    const { nova, db, notificationUuid, run } = this.recovery;
    const server = await nova.server(this.id);
    const current = await nova.server(this.id);
    const before: MoveState = { vm: vmState(server), task: taskState(server), power: powerState(server) };
    if (!current.locked) {
      const lock = recordLockStatement(db, notificationUuid, this.id, run, nowSeconds());
      if (!(await this.#go("locking", { ...before, locked: true }, [...this.#started(), lock]))) return "gone";
      await nova.action(this.id, { lock: null });
      this.#locked = true;
      return this.#evacuate();
    }
    // A server the notification's recovery locked before (a run that died) is its own to unlock.
    const locked = await holdsLock(db, notificationUuid, this.id);
    if (!(await this.#go("prepared", { ...before, locked }, this.#started()))) return "gone";
    return this.#evacuate();
  }

  /** The lock was recorded, and perhaps sent: sent again only when Nova shows the server unlocked. */
  async #relock(): Promise<Step> {
    const { nova } = this.recovery;
    if (!(await nova.server(this.id)).locked) await nova.action(this.id, { lock: null });
    this.#locked = true;
    return this.#evacuate();
  }

  /** Steps 3-5: reset a state Nova cannot evacuate, the move ongoing, evacuate; then the first look. */
  async #evacuate(): Promise<Step> {
    const { nova } = this.recovery;
    const { vm, task, power } = this.state;
    let stop = true;
    let reset = false;
    if (vm !== "active" && vm !== "error" && vm !== "stopped") {
      reset = true;
      if (vm === "resized" && power !== SHUTDOWN) stop = false;
    } else if (vm === "stopped" && task === null) {
      stop = false;
    } else if (task !== null) {
      reset = true;
      if (vm === "active") stop = false;
    }
    if (reset) {
      await nova.action(this.id, { "os-resetState": { state: "error" } });
      await nova.server(this.id);
    }
    const old = reset ? "error" : vm;
    // Only a server in error before the evacuation looks after a fast
    // failed one (NoValidHost) as it did before it: Nova's action log tells.
    const evacuations = old === "error" ? await this.#evacuations() : undefined;
    // The evacuation's wait runs from here: polls and passing failures alike.
    const state: MoveState = { ...this.state, old, stop, evacuations, unit: this.unit, since: Date.now() };
    const ongoing = this.#vmove({ status: "ongoing", start_time: nowSeconds() });
    if (!(await this.#go("evacuating", state, ongoing))) return "waiting";
    await this.#sendEvacuate();
    return this.#confirm(true);
  }

  /** How many evacuations Nova has accepted for the server. */
  async #evacuations(): Promise<number> {
    return (await this.recovery.nova.instanceActions(this.id)).filter((a) => a.action === "evacuate").length;
  }

  async #sendEvacuate(): Promise<void> {
    const target = this.spec.reservedHost;
    await this.recovery.nova.action(this.id, { evacuate: target === null ? {} : { host: target } });
  }

  /**
   * The evacuation was recorded, and perhaps sent: sent again only when Nova
   * shows nothing of it. An accepted evacuation sets the server rebuilding
   * at once, then moves it, or sets it to error when no host takes it. A
   * server in error before cannot tell the last case from nothing sent:
   * for it, the count of evacuations in its action log does.
   */
  async #resend(): Promise<Step> {
    const { nova } = this.recovery;
    let sent: boolean;
    if (this.state.evacuations !== undefined) {
      sent = (await this.#evacuations()) > this.state.evacuations;
    } else {
      const server = await nova.server(this.id);
      sent =
        taskState(server) !== null || hypervisor(server) !== this.spec.hostName || vmState(server) !== this.state.old;
    }
    if (!sent) await this.#sendEvacuate();
    return this.#confirm(true);
  }

  /** Step 6: one look at the evacuation; polls on while neither done nor failed nor out of time. */
  async #confirm(first: boolean): Promise<Step> {
    const { nova, options } = this.recovery;
    const outcome = confirmation(await nova.server(this.id), this.spec.hostName, this.state.old ?? null);
    if (outcome === "failed") return this.#finish("failed", `Failed to evacuate instance ${this.id}`);
    if (outcome === "done") return this.#afterEvacuation();
    if (first && this.#move.stage !== "confirming") {
      await this.#go("confirming", this.state);
      return "waiting";
    }
    const probes = this.unit - (this.state.unit ?? this.unit) + 1;
    if (outOfTime(probes, this.state.since ?? Date.now(), options.waitPeriodAfterEvacuation, options.verifyInterval)) {
      return this.#finish("failed", "Failed reason: timeout.");
    }
    return "waiting";
  }

  /** Step 7: what was not running is stopped again, then confirmed stopped. */
  async #afterEvacuation(): Promise<Step> {
    if (this.state.vm === "active" || !this.state.stop) return this.#finish("succeeded");
    // The stop's wait runs from here.
    if (!(await this.#go("stopping", { ...this.state, stopUnit: this.unit, stopSince: Date.now() }))) return "waiting";
    await this.#sendStop();
    return this.#confirmStopped(true);
  }

  async #sendStop(): Promise<void> {
    const { nova } = this.recovery;
    try {
      await nova.action(this.id, { "os-stop": null });
    } catch (error) {
      // Nova refuses to stop a stopped server, which is what was asked.
      if (!(error instanceof NovaError) || error.status !== 409) throw error;
      if (vmState(await nova.server(this.id)) !== "stopped") throw error;
    }
  }

  /** The stop was recorded, and perhaps sent: sent again only when Nova shows the server neither stopped nor stopping. */
  async #restop(): Promise<Step> {
    const server = await this.recovery.nova.server(this.id);
    if (vmState(server) !== "stopped" && taskState(server) !== "powering-off") await this.#sendStop();
    return this.#confirmStopped(true);
  }

  async #confirmStopped(first: boolean): Promise<Step> {
    const { nova, options } = this.recovery;
    if (vmState(await nova.server(this.id)) === "stopped") return this.#finish("succeeded");
    if (first && this.#move.stage !== "stop-confirming") {
      await this.#go("stop-confirming", this.state);
      return "waiting";
    }
    const probes = this.unit - (this.state.stopUnit ?? this.unit) + 1;
    if (
      outOfTime(probes, this.state.stopSince ?? Date.now(), options.waitPeriodAfterPowerOff, options.verifyInterval)
    ) {
      return this.#finish("failed", "Failed reason: timeout.");
    }
    return "waiting";
  }

  /**
   * Steps 8-10: an instance in error before the failure is left in error;
   * the move recorded with where the server went, or why it failed; the
   * server unlocked when Masakari locked it.
   */
  async #finish(result: "succeeded" | "failed", failure?: string): Promise<Step> {
    const { nova } = this.recovery;
    let change: VmoveChange;
    if (result === "succeeded") {
      try {
        if (this.state.vm === "error" && this.state.stop) {
          // Recorded first: run again after the reset, this step must not
          // wait for a stop the reset has hidden (the reset it sends again).
          if (this.#move.stage !== "resetting" && !(await this.#go("resetting", this.state))) return "waiting";
          await nova.action(this.id, { "os-resetState": { state: "error" } });
        }
        const server = await nova.server(this.id);
        change = { status: "succeeded", dest_host: hypervisor(server), end_time: nowSeconds() };
      } catch (error) {
        if (!(error instanceof NovaError)) throw error;
        if (this.#passing(error)) return "waiting";
        return this.#finish("failed", error.masakariText);
      }
    } else {
      change = {
        status: "failed",
        message: failure ?? `Failed to evacuate instance ${this.id}`,
        end_time: nowSeconds(),
      };
    }
    return this.#close({ ...this.state, failure }, this.#vmove(change), result);
  }

  /**
   * Unlocks the server when Masakari locked it, then records the end in one
   * batch, the lock released with it. Run again after the unlock, this
   * unlocks again, which Nova takes as it is; an unlock Nova refused leaves
   * the lock held, for the run's end or the periodic work.
   */
  async #close(state: MoveState, extra: D1PreparedStatement[], result: Move["result"]): Promise<Step> {
    const { nova, db, notificationUuid } = this.recovery;
    let released: D1PreparedStatement[] = [];
    if (state.locked) {
      try {
        await nova.action(this.id, { unlock: null });
        released = [releaseLockStatement(db, notificationUuid, this.id, nowSeconds())];
      } catch (error) {
        if (!(error instanceof NovaError)) throw error;
      }
    }
    return (await this.#go("done", state, [...extra, ...released], result)) ? "done" : "gone";
  }

  /**
   * Steps 1-2 (read, lock) are outside master's error handling: an
   * instance Nova refuses there (a 4xx: the server is gone) is not counted,
   * its move ignored with why. A passing failure (no answer, a 5xx) is
   * ours to ride out within the evacuation's wait, counted from the first
   * failure, as at the later stages: master's way, a Nova restart of
   * seconds leaves the instance on the dead host and the notification
   * finished. One that outlasts the wait fails the instance, so the
   * notification ends in error and the periodic task tries it again.
   */
  async #beforeStart(error: NovaError): Promise<Step> {
    if (error.status !== undefined && error.status < 500) return this.#notStarted(error);
    const { options } = this.recovery;
    const { unit, since } = this.state;
    if (unit === undefined || since === undefined) {
      const state = { ...this.state, unit: this.unit, since: Date.now() };
      return (await this.#go(this.#move.stage, state)) ? "waiting" : "gone";
    }
    if (!outOfTime(this.unit - unit + 1, since, options.waitPeriodAfterEvacuation, options.verifyInterval)) {
      return "waiting";
    }
    this.recovery.log.warn(`instance ${this.id} could not be prepared for evacuation in time:`, error.message);
    const change = { status: "failed" as const, message: error.masakariText, end_time: nowSeconds() };
    return this.#close({ ...this.state, failure: error.masakariText }, this.#unstarted(change), "failed");
  }

  /** An instance Nova refused to read or lock: not counted (master), its move ignored with why. */
  async #notStarted(error: NovaError): Promise<Step> {
    this.recovery.log.warn(`instance ${this.id} could not be prepared for evacuation:`, error.message);
    const change = { status: "ignored" as const, message: error.masakariText };
    return this.#close({ ...this.state, failure: error.masakariText }, this.#unstarted(change), "not-started");
  }

  /** The move's end, with master's "started" message when the instance had not got that far. */
  #unstarted(change: VmoveChange): D1PreparedStatement[] {
    const ended = this.#vmove(change);
    return this.#move.stage === "pending" ? [...this.#started(), ...ended] : ended;
  }
}
