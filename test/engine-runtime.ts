import type { WorkflowStep } from "cloudflare:workers";
import { env } from "cloudflare:workers";
import { type Config, type EvacuationParams, loadConfig, type RecoveryParams } from "../src/config";
import { database } from "../src/db/database";
import { engineNova } from "../src/engine/bindings";
import type { EngineWorkflows } from "../src/engine/context";
import { runLink } from "../src/engine/host-failure/phase";
import { sweep } from "../src/engine/periodic";
import { runRecovery } from "../src/engine/run";
import { recoveryContext } from "../src/engine/workflow";
import { logFor } from "../src/log";

// Cloudflare Workflows in the test's own isolate, as the engine sees them:
// the two bindings (create, get, status, sendEvent, terminate) and each
// instance's steps, with the platform's guarantees and no more. A step's
// result is recorded once it returns; an instance that dies is replayed
// from its recorded steps, so a step whose result was not recorded runs
// again; sleeps are skipped. Faults make the at-least-once cases happen on
// purpose, at a named step:
//   twice         the step's body runs to its end twice (its journal entry
//                 dropped in between, so the body itself runs again);
//   lost          the body ran, then the instance died before the result was
//                 recorded: it is replayed and the step runs again;
//   lost-journal  as lost, and the body's journal entry lost too: the step's
//                 body runs again for real;
//   die-after     the step's result recorded, then the instance dies for good
//                 (errored): only the periodic work can carry the run on;
//   fail          the step throws on every attempt (D1 unavailable, the CPU
//                 limit): Workflows gives up and the instance is errored;
//   terminate-after / complete-after
//                 the step's result recorded, then the instance is
//                 terminated, or ends `complete` without finishing its run.

export type FaultKind = "twice" | "lost" | "lost-journal" | "die-after" | "fail" | "terminate-after" | "complete-after";

export interface Fault {
  readonly kind: FaultKind;
  readonly step: string;
  readonly occurrence?: number;
  /** The instance id after the notification uuid: "-1" for run 1, "-1-f1-a1-evacuate-1" for a link. */
  readonly instance?: string;
  /** How many times it strikes (each time the step runs in any instance); 1 unless given. */
  readonly times?: number;
}

/** The instance died mid-step: Workflows replays it. */
class Crash extends Error {}
/** The instance died for good. */
class Death extends Error {}

type Status = "queued" | "running" | "complete" | "errored" | "terminated";

interface Instance {
  readonly id: string;
  readonly kind: keyof EngineWorkflows;
  readonly params: RecoveryParams | EvacuationParams;
  readonly cache: Map<string, unknown>;
  readonly events: { type: string }[];
  status: Status;
  terminated: boolean;
  /** Waiting for an event: idle, as far as settling is concerned. */
  waiting: boolean;
  /** How a stopped instance shows, when not errored. */
  ended?: "complete";
  /**
   * The current execution is over (the instance died): the engine's own
   * code may still be unwinding (a catch, a revert), but nothing it asks
   * of Workflows runs any more, as nothing runs in an isolate that is gone.
   */
  stopped?: Crash | Death | undefined;
  output?: unknown;
  error?: unknown;
  done: Promise<void>;
}

/** A step body's first run: which instance, which step, its occurrence. */
export interface Executed {
  readonly instance: string;
  readonly step: string;
  readonly occurrence: number;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Runtime {
  readonly instances = new Map<string, Instance>();
  readonly executed: Executed[] = [];
  /** How long a step's sleep takes, in ms: none unless set, so that recoveries started together overlap. */
  sleepMs = 0;
  readonly workflows: EngineWorkflows;
  faults: Fault[] = [];

  constructor(readonly config: Config = loadConfig(env)) {
    this.workflows = {
      // The parts of the binding the engine uses; the rest it never calls.
      recovery: this.#binding("recovery") as unknown as Workflow<RecoveryParams>,
      evacuation: this.#binding("evacuation") as unknown as Workflow<EvacuationParams>,
    };
  }

  /** Starts run `run` of a notification, as the API does. */
  start(notificationUuid: string, run = 1): Promise<unknown> {
    return this.workflows.recovery.create({ id: `${notificationUuid}-${run}`, params: { notificationUuid, run } });
  }

  /**
   * Waits until no instance is queued or running, but for those waiting for
   * an event that no running instance will send (a run waiting for a link
   * that died): those only the periodic work moves on.
   */
  async settle(): Promise<void> {
    let quiet = 0;
    for (let i = 0; i < 20_000; i++) {
      const busy = [...this.instances.values()].filter(
        (x) => (x.status === "queued" || x.status === "running") && !x.waiting,
      );
      quiet = busy.length === 0 ? quiet + 1 : 0;
      if (quiet >= 3) return;
      await delay(busy.length === 0 ? 20 : 2);
    }
    throw new Error("the instances did not settle");
  }

  /** Stops every instance still waiting, so that a test leaves nothing behind. */
  async close(): Promise<void> {
    for (const x of this.instances.values()) x.terminated = true;
    await Promise.all([...this.instances.values()].map((x) => x.done));
  }

  /** One tick of the periodic work at `time`, on this runtime's instances. */
  async sweep(time = 0): Promise<void> {
    await sweep(
      {
        db: database(env.DB),
        workflows: this.workflows,
        nova: engineNova(this.config),
        options: this.config.recovery,
        log: logFor("harness sweep"),
      },
      time,
    );
  }

  /** The instances of a notification, by id. */
  of(notificationUuid: string): Instance[] {
    return [...this.instances.values()].filter((x) => x.params.notificationUuid === notificationUuid);
  }

  #binding(kind: keyof EngineWorkflows) {
    const handle = (x: Instance) => ({
      id: x.id,
      status: async () => ({ status: x.status, output: x.output, error: x.error }),
      sendEvent: async (event: { type: string }) => {
        x.events.push({ type: event.type });
      },
      terminate: async () => {
        x.terminated = true;
        if (x.status === "queued" || x.status === "running") x.status = "terminated";
      },
      pause: async () => {},
      resume: async () => {},
      restart: async () => {},
    });
    return {
      create: async ({ id, params }: { id: string; params: RecoveryParams | EvacuationParams }) => {
        if (this.instances.has(id)) throw new Error("instance.already_exists");
        const x: Instance = {
          id,
          kind,
          params,
          cache: new Map(),
          events: [],
          status: "queued",
          terminated: false,
          waiting: false,
          done: Promise.resolve(),
        };
        this.instances.set(id, x);
        x.done = this.#run(x);
        return handle(x);
      },
      get: async (id: string) => {
        const x = this.instances.get(id);
        if (!x || x.kind !== kind) throw new Error("instance.not_found");
        return handle(x);
      },
      createBatch: async () => [],
    };
  }

  async #run(x: Instance): Promise<void> {
    await delay(0);
    for (let execution = 1; execution <= 50; execution++) {
      if (x.terminated) return;
      x.status = "running";
      x.stopped = undefined;
      try {
        const step = this.#steps(x);
        const subject = `harness ${x.id}`;
        const { notificationUuid, run, generation } = x.params;
        const context = recoveryContext(
          env,
          step,
          notificationUuid,
          run,
          subject,
          generation,
          this.config,
          this.workflows,
        );
        x.output =
          x.kind === "recovery" ? await runRecovery(context) : await runLink(context, x.params as EvacuationParams);
        x.status = x.terminated ? "terminated" : "complete";
        return;
      } catch (error) {
        if (x.terminated) {
          x.status = "terminated";
          return;
        }
        // Set by the steps while the engine ran: the narrowing above cannot see it.
        const stopped = x.stopped as Crash | Death | undefined;
        if (stopped instanceof Crash) continue;
        x.status = x.ended ?? "errored";
        x.error = stopped ?? error;
        return;
      }
    }
    x.status = "errored";
  }

  #take(x: Instance, step: string, occurrence: number): Fault | undefined {
    const i = this.faults.findIndex(
      (f) =>
        f.step === step &&
        (f.occurrence ?? 1) === occurrence &&
        (f.instance === undefined || x.id.slice(x.params.notificationUuid.length) === f.instance),
    );
    if (i < 0) return undefined;
    const fault = this.faults[i] as Fault;
    if ((fault.times ?? 1) <= 1) this.faults.splice(i, 1);
    else this.faults[i] = { ...fault, times: (fault.times ?? 1) - 1 };
    return fault;
  }

  /** Drops a step's journal entry, as if its write never happened. */
  async #forget(x: Instance, step: string, occurrence: number): Promise<void> {
    const name = occurrence === 1 ? step : `${step} #${occurrence}`;
    await env.DB.prepare("DELETE FROM recovery_journal WHERE notification_uuid = ? AND run = ? AND name = ?")
      .bind(x.params.notificationUuid, x.params.run, name)
      .run();
  }

  /** A step body run as Workflows does: retried up to its limit (3) when it throws. */
  async #attempt(body: () => Promise<unknown>): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await body();
      } catch (error) {
        if (attempt >= 3 || error instanceof Crash || error instanceof Death) throw error;
      }
    }
  }

  #steps(x: Instance): WorkflowStep {
    const counts = new Map<string, number>();
    const next = (name: string) => {
      const n = (counts.get(name) ?? 0) + 1;
      counts.set(name, n);
      return n;
    };
    const stop = (error: Crash | Death) => {
      x.stopped = error;
      return error;
    };
    const live = () => {
      if (x.stopped) throw x.stopped;
      if (x.terminated) throw stop(new Death("terminated"));
    };
    return {
      do: async (name: string, configOrBody: unknown, maybeBody?: () => Promise<unknown>) => {
        const body = (typeof configOrBody === "function" ? configOrBody : maybeBody) as () => Promise<unknown>;
        const occurrence = next(name);
        const key = `do ${name}#${occurrence}`;
        live();
        if (x.cache.has(key)) return structuredClone(x.cache.get(key));
        const fault = this.#take(x, name, occurrence);
        this.executed.push({ instance: x.id, step: name, occurrence });
        if (fault?.kind === "fail") throw new Error(`${name} failed on every attempt`);
        let result = await this.#attempt(body);
        if (fault?.kind === "twice") {
          await this.#forget(x, name, occurrence);
          result = await this.#attempt(body);
        }
        if (fault?.kind === "lost-journal") await this.#forget(x, name, occurrence);
        if (fault?.kind === "lost" || fault?.kind === "lost-journal")
          throw stop(new Crash(`lost the result of ${name}`));
        x.cache.set(key, structuredClone(result));
        if (fault?.kind === "die-after") throw stop(new Death(`died after ${name}`));
        if (fault?.kind === "terminate-after") {
          x.terminated = true;
          throw stop(new Death(`terminated after ${name}`));
        }
        if (fault?.kind === "complete-after") {
          x.ended = "complete";
          throw stop(new Death(`ended after ${name}`));
        }
        return structuredClone(result);
      },
      sleep: async (name: string) => {
        next(name);
        live();
        if (this.sleepMs > 0) await delay(this.sleepMs);
        live();
      },
      sleepUntil: async (name: string) => {
        next(name);
        live();
      },
      waitForEvent: async (name: string, options: { type: string }) => {
        const key = `event ${name}#${next(name)}`;
        if (x.cache.has(key)) return x.cache.get(key);
        x.waiting = true;
        try {
          for (let i = 0; i < 40; i++) {
            live();
            const found = x.events.findIndex((e) => e.type === options.type);
            if (found >= 0) {
              const [event] = x.events.splice(found, 1);
              x.cache.set(key, event);
              return event;
            }
            await delay(5);
          }
        } finally {
          x.waiting = false;
        }
        throw new Error(`no ${options.type} event within the wait`);
      },
    } as unknown as WorkflowStep;
  }
}
