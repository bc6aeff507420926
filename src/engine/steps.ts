import type { WorkflowStep, WorkflowStepConfig } from "cloudflare:workers";
import type { D1Client } from "../db/database";

// Workflows runs every step at least once: a step whose result was not
// saved (an eviction, a restart, a lost connection) runs again. On top of
// the Workflow's own record, each step's result is journaled in D1 by the
// step's name, so that a new Workflow instance carrying on a run whose
// instance died replays the run's finished steps instead of running them
// again (D17). Every step also counts what it cost: the steps and
// subrequests (Nova calls and D1 statements) of one Workflow instance must
// not grow with the failed host (D20).

/**
 * Steps are retried only for what is not the flow's business (D1 briefly
 * unavailable): Nova's errors are values the flows handle, as upstream
 * retries no Nova call. A step's own time is bounded by the Nova timeouts
 * of the calls it makes.
 */
const STEP: WorkflowStepConfig = {
  retries: { limit: 3, delay: "2 seconds", backoff: "exponential" },
  timeout: "10 minutes",
};

/** What one Workflow instance has used: steps, and subrequests over its lifetime. */
export class Meter {
  steps = 0;
  subrequests = 0;
  /** Nova calls that failed (an error status, or no answer), for /metrics. */
  novaErrors = 0;
}

/** A D1 client that counts every statement it runs as a subrequest of `meter`. */
export function metered(client: D1Client, meter: Meter): D1Client {
  const originals = new WeakMap<object, D1PreparedStatement>();
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const wrapper = {
      bind: (...values: unknown[]) => wrap(statement.bind(...values)),
      first: (column?: string) => {
        meter.subrequests++;
        return column === undefined ? statement.first() : statement.first(column);
      },
      run: () => {
        meter.subrequests++;
        return statement.run();
      },
      all: () => {
        meter.subrequests++;
        return statement.all();
      },
      raw: (options?: { columnNames?: boolean }) => {
        meter.subrequests++;
        return statement.raw(options as { columnNames: true });
      },
    } as unknown as D1PreparedStatement;
    originals.set(wrapper, statement);
    return wrapper;
  };
  return {
    prepare: (query: string) => wrap(client.prepare(query)),
    batch: <T>(statements: D1PreparedStatement[]) => {
      meter.subrequests += statements.length;
      return client.batch<T>(statements.map((s) => originals.get(s) ?? s));
    },
  };
}

/** Where a run's journal is kept, and the client that reaches it. */
export interface JournalKey {
  readonly client: D1Client;
  readonly notificationUuid: string;
  readonly run: number;
  /**
   * Whether this instance carries on after another died: only then is the
   * journal read before a step. The first instance of a run or a link needs
   * none (the Workflow's own record replays its steps; a step whose result
   * was lost runs again, and is written so that it may), it only writes.
   */
  readonly replays: boolean;
}

const READ = "SELECT value FROM recovery_journal WHERE notification_uuid = ? AND run = ? AND name = ?";
const WRITE = `INSERT INTO recovery_journal (notification_uuid, run, name, value, created_at)
  VALUES (?, ?, ?, ?, strftime('%Y-%m-%d %H:%M:%f', 'now')) ON CONFLICT DO NOTHING`;

/** A journaled value: `v` the step's result, `u` the subrequests the step made. */
interface Entry<T> {
  readonly v?: T;
  readonly u: number;
}

export async function readJournal<T>(key: JournalKey, name: string): Promise<Entry<T> | undefined> {
  const row = await key.client.prepare(READ).bind(key.notificationUuid, key.run, name).first<{ value: string }>();
  return row ? (JSON.parse(row.value) as Entry<T>) : undefined;
}

export async function writeJournal(key: JournalKey, name: string, entry: Entry<unknown>): Promise<void> {
  await key.client.prepare(WRITE).bind(key.notificationUuid, key.run, name, JSON.stringify(entry)).run();
}

export interface StepOptions {
  /**
   * false for a step that only reads (a poll, a check): run again, it
   * reaches the same effect, so it is not journaled and a replay asks anew.
   */
  readonly journal?: boolean;
}

/** A Workflow instance's steps, journaled and metered. */
export class Steps {
  readonly #occurrences = new Map<string, number>();

  constructor(
    readonly step: WorkflowStep,
    readonly journal: JournalKey,
    readonly meter: Meter,
  ) {}

  /**
   * Runs `body` as the step `name` (step.do), unless the run's journal
   * already holds its result. A name used again within a run is told apart
   * by its occurrence, as Workflows does. Results must be plain data: they
   * are structured-cloned and stored as JSON.
   */
  async do<T>(name: string, body: () => Promise<T>, options: StepOptions = {}): Promise<T> {
    const occurrence = (this.#occurrences.get(name) ?? 0) + 1;
    this.#occurrences.set(name, occurrence);
    const key = occurrence === 1 ? name : `${name} #${occurrence}`;
    const journaled = options.journal !== false;
    this.meter.steps++;
    // A step's result is structured-cloned; every step here returns plain
    // data, which the Workflow types cannot see through generics.
    const typed = this.step as unknown as {
      do(name: string, config: WorkflowStepConfig, body: () => Promise<Entry<T>>): Promise<Entry<T>>;
    };
    let ran = false;
    const entry = await typed.do(name, STEP, async () => {
      ran = true;
      const before = this.meter.subrequests;
      const found = journaled && this.journal.replays ? await readJournal<T>(this.journal, key) : undefined;
      if (found) {
        // Counted as when the step ran, so that the same budget decisions follow.
        this.meter.subrequests = before + found.u;
        return { v: found.v, u: found.u };
      }
      const value = await body();
      // The journal's own write is counted in what it records.
      const made = { v: value, u: this.meter.subrequests - before + (journaled ? 1 : 0) };
      if (journaled) await writeJournal(this.journal, key, made);
      return made;
    });
    // A step the Workflow replays from its own record made its subrequests
    // in an earlier execution of this instance: they count all the same.
    if (!ran) this.meter.subrequests += entry.u;
    return entry.v as T;
  }

  /** A durable sleep of `seconds` (none for 0). */
  async sleep(name: string, seconds: number): Promise<void> {
    if (seconds <= 0) return;
    this.meter.steps++;
    await this.step.sleep(name, seconds * 1000);
  }

  /** Waits up to `seconds` for an event of `type`; false when none came. */
  async waitFor(name: string, type: string, seconds: number): Promise<boolean> {
    this.meter.steps++;
    try {
      await this.step.waitForEvent(name, { type, timeout: seconds * 1000 });
      return true;
    } catch {
      // The timeout, or the instance being stopped, which its next step sees.
      return false;
    }
  }
}
