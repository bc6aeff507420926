import { now, pythonStr } from "../datetime";
import { NovaError } from "../openstack/nova";
import { floatRepr } from "../python";
import type { Recovery } from "./context";
import { asFailure, type Failure, type FailureName, RecoveryError } from "./errors";
import { type FlowKey, type ProgressEntry, recordProgress, type TaskState } from "./store/progress";

// How a flow of upstream's taskflow engine runs as Workflow steps. A task
// (DisableComputeServiceTask, ...) is one or more steps; between them the
// flow may sleep (upstream's waits, D15). What a step writes, its progress
// messages and its task's state, is written when the step ends, keyed by
// the step, and the step's result is journaled (./steps.ts): a step run
// again rewrites its own messages and returns what it returned before (D19).

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

type Outcome<T> = { ok: true; value: T } | { ok: false; failure: Failure };

/**
 * Runs `body` and turns a flow failure into a value: a step that throws is
 * retried by Workflows, and upstream retries no Nova call.
 */
async function outcomeOf<T>(body: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await body() };
  } catch (error) {
    const failure = flowFailure(error);
    if (!failure) throw error;
    return { ok: false, failure };
  }
}

const unwrap = <T>(outcome: Outcome<T>): T => {
  if (!outcome.ok) throw RecoveryError.from(outcome.failure);
  return outcome.value;
};

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

  stepName(task: string, part: string): string {
    return `flow ${this.flow} ${task} ${part}`;
  }

  /**
   * Runs part `part` of task `task` as one journaled step: `body` records
   * progress and may call Nova and D1. `last` marks the task's final part:
   * its state becomes SUCCESS (progress 1.0). A failure (an upstream
   * exception or a Nova error) is thrown again outside the step as a
   * RecoveryError.
   */
  async task<T>(
    task: string,
    part: string,
    body: (progress: TaskProgress) => Promise<T>,
    options: { last?: boolean } = {},
  ): Promise<T> {
    if (!this.executed.includes(task)) this.executed.push(task);
    const name = this.stepName(task, part);
    const outcome = await this.recovery.steps.do(name, async (): Promise<Outcome<T>> => {
      const progress = new TaskProgress(task);
      const result = await outcomeOf(() => body(progress));
      const done = result.ok && options.last === true;
      const state: TaskState = { task, state: done ? "SUCCESS" : "RUNNING", progress: done ? 1 : progress.progress };
      await recordProgress(this.recovery.db, this.key, name, progress.entries, [state]);
      return result;
    });
    return unwrap(outcome);
  }

  /** A step that only reads (a poll): not journaled; its failures are thrown as flow failures. */
  async check<T>(name: string, body: () => Promise<T>): Promise<T> {
    const outcome = await this.recovery.steps.do(`flow ${this.flow} ${name}`, () => outcomeOf(body), {
      journal: false,
    });
    return unwrap(outcome);
  }

  /** A journaled step of the flow that writes no progress; its failures are thrown as flow failures. */
  async step<T>(name: string, body: () => Promise<T>): Promise<T> {
    return unwrap(await this.recovery.steps.do(`flow ${this.flow} ${name}`, () => outcomeOf(body)));
  }

  /** Upstream's wait of `seconds` (D15): a durable sleep, nothing held meanwhile. */
  async sleep(name: string, seconds: number): Promise<void> {
    await this.recovery.steps.sleep(`flow ${this.flow} ${name}`, seconds);
  }

  /**
   * taskflow's revert of `tasks` after a failure: each ends REVERTED with
   * progress 1.0, its messages kept (docs/engine.md, "Progress").
   */
  async revert(tasks: readonly string[], part = "revert"): Promise<void> {
    if (tasks.length === 0) return;
    const name = this.stepName(tasks.join("+"), part);
    await this.recovery.steps.do(name, async () => {
      const states = tasks.map((task) => ({ task, state: "REVERTED", progress: 1 }));
      await recordProgress(this.recovery.db, this.key, name, [], states);
      return null;
    });
  }
}

/**
 * How many probes fit in `timeout` seconds at `interval`: upstream checks
 * its deadline after each probe. 0 is no timeout, as oslo's
 * FixedIntervalWithTimeoutLoopingCall treats it.
 */
export function probesWithin(timeout: number, interval: number): number {
  return timeout <= 0 ? Number.POSITIVE_INFINITY : Math.floor(timeout / Math.max(interval, 1)) + 1;
}

/** Whether a poll that made `probes` probes since `since` (ms) is out of time. */
export function outOfTime(probes: number, since: number, timeout: number, interval: number): boolean {
  if (timeout <= 0) return false;
  return probes >= probesWithin(timeout, interval) || Date.now() - since >= timeout * 1000;
}

/**
 * Upstream's polling loops (FixedIntervalWithTimeoutLoopingCall): `probe`
 * at once, then every `interval` seconds, until it answers or `timeout`
 * seconds have passed (checked after each probe; 0: no timeout). Each probe
 * is a step and each wait a durable sleep; time is measured by the probes
 * themselves, and bounded by the number of probes that fit in `timeout`,
 * so a run whose sleeps are skipped (tests) still ends.
 */
export async function poll<T>(
  flow: Flow,
  name: string,
  options: { interval: number; timeout: number },
  probe: () => Promise<T | undefined>,
): Promise<T | "timeout"> {
  let started: number | undefined;
  for (let i = 1; ; i++) {
    if (i > 1) await flow.sleep(`${name} ${i - 1} wait`, options.interval);
    const { value, at } = await flow.check(`${name} ${i}`, async () => ({ value: await probe(), at: Date.now() }));
    if (value !== undefined) return value;
    started ??= at;
    if (outOfTime(i, started, options.timeout, options.interval)) return "timeout";
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
