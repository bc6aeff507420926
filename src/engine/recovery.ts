import type { WorkflowStep, WorkflowStepConfig } from "cloudflare:workers";
import type { RecoveryOptions } from "../config";
import { now, pythonStr } from "../datetime";
import type { Database } from "../db/database";
import type { Log } from "../log";
import { type Nova, NovaError } from "../openstack/nova";
import { floatRepr } from "../python";
import { asFailure, type Failure, type FailureName, RecoveryError } from "./errors";
import { type FlowKey, type ProgressEntry, recordProgress, type TaskState } from "./store";

// How a flow of upstream's taskflow engine runs as Workflow steps. A task
// (DisableComputeServiceTask, ...) is one or more steps; between them the
// flow may sleep (step.sleep: upstream's waits, D15). What a step writes,
// its progress messages and its task's state, is written when the step
// ends, keyed by the step, so a step run again (Workflows runs a step at
// least once) replaces its own messages instead of adding to them (D19).

/** Everything a flow needs: the notification's run, options, database, Nova and the Workflow. */
export interface Recovery {
  readonly notificationUuid: string;
  readonly run: number;
  readonly options: RecoveryOptions;
  readonly db: Database;
  readonly nova: Nova;
  readonly step: WorkflowStep;
  readonly log: Log;
}

/**
 * Steps are retried only for what is not the flow's business (D1 briefly
 * unavailable): every Nova error and every upstream exception is a value
 * the flow handles, as upstream retries no Nova call. A step's own time is
 * bounded by the Nova timeouts of the calls it makes.
 */
const STEP: WorkflowStepConfig = {
  retries: { limit: 3, delay: "2 seconds", backoff: "exponential" },
  timeout: "10 minutes",
};

type Outcome<T> = { ok: true; value: T } | { ok: false; failure: Failure };

/**
 * step.do with our config. A step's result is structured-cloned; every step
 * here returns plain data (no functions, no class instances), which the
 * Workflow types cannot see through generics.
 */
export function runStep<R>(step: WorkflowStep, name: string, body: () => Promise<R>): Promise<R> {
  const typed = step as unknown as { do(name: string, config: WorkflowStepConfig, body: () => Promise<R>): Promise<R> };
  return typed.do(name, STEP, body);
}

/** upstream's update_details for one task within one step. */
export class TaskProgress {
  readonly entries: ProgressEntry[] = [];
  #progress = 0;

  constructor(readonly task: string) {}

  /** Appends a message at `progress` (0.0-1.0), timestamped now as upstream's utcnow(). */
  update(message: string, progress: number): void {
    this.entries.push({
      task: this.task,
      idx: this.entries.length,
      timestamp: pythonStr(now()),
      progress: floatRepr(progress),
      message,
    });
    this.#progress = progress;
  }

  get progress(): number {
    return this.#progress;
  }
}

/** What a Nova error is to the flow: upstream's novaclient exceptions all end as MasakariException. */
function flowFailure(error: unknown): Failure | undefined {
  if (error instanceof RecoveryError) return asFailure(error);
  if (error instanceof NovaError) return { name: "MasakariException", message: error.message };
  return undefined;
}

/**
 * One flow (upstream's flowdetail) of a run: its number, the tasks it has
 * executed (to revert them), and the steps it takes.
 */
export class Flow {
  readonly executed: string[] = [];

  constructor(
    readonly recovery: Recovery,
    readonly flow: number,
  ) {}

  get key(): FlowKey {
    return { notificationUuid: this.recovery.notificationUuid, run: this.recovery.run, flow: this.flow };
  }

  private stepName(task: string, part: string): string {
    return `flow ${this.flow} ${task} ${part}`;
  }

  /**
   * Runs part `part` of task `task` as one step: `body` records progress
   * and may call Nova and D1. `last` marks the task's final part: its state
   * becomes SUCCESS (progress 1.0). A failure (an upstream exception or a
   * Nova error) is thrown again outside the step as a RecoveryError.
   */
  async task<T>(
    task: string,
    part: string,
    body: (progress: TaskProgress) => Promise<T>,
    options: { last?: boolean } = {},
  ): Promise<T> {
    if (!this.executed.includes(task)) this.executed.push(task);
    const name = this.stepName(task, part);
    const outcome = await runStep(this.recovery.step, name, async (): Promise<Outcome<T>> => {
      const progress = new TaskProgress(task);
      let result: Outcome<T>;
      try {
        result = { ok: true, value: await body(progress) };
      } catch (error) {
        const failure = flowFailure(error);
        if (!failure) throw error;
        result = { ok: false, failure };
      }
      const done = result.ok && options.last === true;
      const state: TaskState = { task, state: done ? "SUCCESS" : "RUNNING", progress: done ? 1 : progress.progress };
      await recordProgress(this.recovery.db, this.key, name, progress.entries, [state]);
      return result;
    });
    if (!outcome.ok) throw RecoveryError.from(outcome.failure);
    return outcome.value;
  }

  /** A step that reads or calls without writing progress (polls); its failures are thrown as flow failures. */
  async check<T>(name: string, body: () => Promise<T>): Promise<T> {
    const outcome = await runStep(this.recovery.step, `flow ${this.flow} ${name}`, async (): Promise<Outcome<T>> => {
      try {
        return { ok: true, value: await body() };
      } catch (error) {
        const failure = flowFailure(error);
        if (!failure) throw error;
        return { ok: false, failure };
      }
    });
    if (!outcome.ok) throw RecoveryError.from(outcome.failure);
    return outcome.value;
  }

  /** Upstream's wait of `seconds` (D15): a durable sleep, nothing held meanwhile. */
  async sleep(name: string, seconds: number): Promise<void> {
    if (seconds > 0) await this.recovery.step.sleep(`flow ${this.flow} ${name}`, seconds * 1000);
  }

  /**
   * taskflow's revert of `tasks` after a failure: each ends REVERTED with
   * progress 1.0, its messages kept (masakari-engine.md §4.3).
   */
  async revert(tasks: readonly string[], part = "revert"): Promise<void> {
    if (tasks.length === 0) return;
    const name = this.stepName(tasks.join("+"), part);
    await runStep(this.recovery.step, name, async () => {
      const states = tasks.map((task) => ({ task, state: "REVERTED", progress: 1 }));
      await recordProgress(this.recovery.db, this.key, name, [], states);
      return null;
    });
  }
}

/**
 * Upstream's polling loops (FixedIntervalWithTimeoutLoopingCall): `probe`
 * at once, then every `interval` seconds, until it answers or `timeout`
 * seconds have passed (checked after each probe). Each probe is a step and
 * each wait a durable sleep; time is measured by the probes themselves, and
 * bounded by the number of probes that fit in `timeout`, so a run whose
 * sleeps are skipped (tests) still ends. `since`: the time (ms) of a first
 * probe made before, in the step that started what is polled.
 */
export async function poll<T>(
  flow: Flow,
  name: string,
  options: { interval: number; timeout: number; since?: number },
  probe: () => Promise<T | undefined>,
): Promise<T | "timeout"> {
  const maxProbes = Math.floor(options.timeout / Math.max(options.interval, 1)) + 1;
  let started = options.since;
  for (let i = started === undefined ? 1 : 2; ; i++) {
    if (i > 1) await flow.sleep(`${name} ${i - 1} wait`, options.interval);
    const { value, at } = await flow.check(`${name} ${i}`, async () => ({ value: await probe(), at: Date.now() }));
    if (value !== undefined) return value;
    started ??= at;
    if (i >= maxProbes || at - started >= options.timeout * 1000) return "timeout";
  }
}

/**
 * Upstream's confirming tasks: `start` written at 0.0 (when given), Nova
 * polled until `probe` answers, then `done` at 1.0 and the task SUCCESS,
 * or, when the poll timed out, `failed` at 1.0 and `failure` raised.
 */
export async function confirmTask(
  flow: Flow,
  task: string,
  messages: { readonly start?: string; readonly done: string; readonly failed: string; readonly failure: FailureName },
  wait: { interval: number; timeout: number },
  probe: () => Promise<true | undefined>,
): Promise<void> {
  const { start } = messages;
  if (start !== undefined) await flow.task(task, "start", async (progress) => progress.update(start, 0.0));
  const outcome = await poll(flow, `${task} poll`, wait, probe);
  await flow.task(
    task,
    "end",
    async (progress) => {
      if (outcome === "timeout") {
        progress.update(messages.failed, 1.0);
        throw new RecoveryError(messages.failure, messages.failed);
      }
      progress.update(messages.done, 1.0);
    },
    { last: true },
  );
}
