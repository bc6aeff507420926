import type { EngineLimits, EvacuationParams, UnitCursor } from "../../config";
import { nowSeconds } from "../../datetime";
import type { PhaseKind } from "../../db/schema";
import type { Recovery } from "../context";
import { PHASE_DONE, runInstanceId, signal, startLink } from "../instances";
import type { Meter } from "../steps";
import type { AttemptKey } from "../store/moves";
import { delegatePhase, finishPhase, passPhase, phaseEnd, readPhase, recordPhaseUsage } from "../store/phases";
import { latestRun } from "../store/runs";
import { listingUnit } from "./listing";
import { evacuationUnit } from "./unit";

// Work of a host flow that grows with the failed host, done in units: a
// page of the listing, or one round of the evacuations in flight. The run's
// own Workflow instance does units while half of its budget lasts (a host
// of tens of instances is recovered in it alone); the rest is carried by a
// chain of Evacuation Workflow instances, each within its own budget, the
// run waiting for the last to say the phase is done. So no instance's
// steps or subrequests grow with the host (D20).

/** A phase of one attempt of a host flow. */
export interface PhaseSpec {
  readonly scope: string;
  readonly kind: PhaseKind;
  readonly key: AttemptKey;
  /** The failed host. */
  readonly hostName: string;
  /** Where evacuations go: the attempt's reserved host, or Nova's choice. */
  readonly reservedHost: string | null;
}

export const phaseScope = (key: AttemptKey, kind: PhaseKind) => `f${key.flow}-${key.attempt}-${kind}`;

/** What one unit did: whether the phase is over, how long to wait before the next, and where it stands. */
export interface UnitResult {
  readonly done: boolean;
  readonly wait: number;
  readonly cursor: unknown;
}

/** How long the run waits for its links' signal before it looks again. */
const WAIT_SECONDS = 600;

/** Subrequests and steps kept back for an instance's closing steps. */
const CLOSING = { subrequests: 12, steps: 4 };

/** The most subrequests one evacuation costs within a unit (Nova calls and D1 statements). */
const PER_EVACUATION = 18;

/**
 * Subrequests a unit of evacuations spends before its lanes stop taking new
 * instances: a step's work stays small (Workflows' CPU time per step), and
 * instances Nova evacuates at once do not each cost a step. An eighth of
 * an instance's budget, at most 120.
 */
export function unitSubrequests(recovery: Recovery): number {
  return Math.max(PER_EVACUATION, Math.min(120, Math.floor(recovery.limits.subrequests / 8)));
}

/** What an instance may still spend, out of `limits`. */
export class Budget {
  constructor(
    readonly meter: Meter,
    readonly limits: EngineLimits,
    readonly alwaysOne = false,
  ) {}

  allows(next: { subrequests: number; steps: number }): boolean {
    return (
      this.meter.subrequests + next.subrequests + CLOSING.subrequests <= this.limits.subrequests &&
      this.meter.steps + next.steps + CLOSING.steps <= this.limits.steps
    );
  }
}

/**
 * Evacuations one unit runs at once: host_failure_recovery_threads, as far
 * as one instance's subrequest budget holds a unit of them.
 */
export function concurrency(recovery: Recovery): number {
  const fit = Math.floor((recovery.limits.subrequests / 4 - CLOSING.subrequests) / PER_EVACUATION);
  return Math.max(1, Math.min(recovery.options.hostFailure.recoveryThreads, fit));
}

function unitCost(recovery: Recovery, kind: PhaseKind) {
  if (kind === "list") return { subrequests: 6, steps: 2 };
  return { subrequests: unitSubrequests(recovery) + concurrency(recovery) * PER_EVACUATION + 6, steps: 2 };
}

function runUnit(recovery: Recovery, spec: PhaseSpec, unit: number, cursor: unknown): Promise<UnitResult> {
  return spec.kind === "list" ? listingUnit(recovery, spec, cursor) : evacuationUnit(recovery, spec, unit);
}

/** Runs units from `start` while `budget` allows one more; where it stopped. */
async function runUnits(
  recovery: Recovery,
  spec: PhaseSpec,
  start: UnitCursor,
  budget: Budget,
): Promise<UnitCursor & { done: boolean }> {
  let { unit, cursor } = start;
  const cost = unitCost(recovery, spec.kind);
  // A link does at least one unit, whatever its budget says: the chain moves on.
  for (let first = budget.alwaysOne; first || budget.allows(cost); first = false) {
    const at: number = unit;
    const result = await recovery.steps.do(`${spec.scope} ${at}`, () => runUnit(recovery, spec, at, cursor));
    unit += 1;
    cursor = result.cursor;
    if (result.done) return { done: true, unit, cursor };
    await recovery.steps.sleep(`${spec.scope} ${at} wait`, result.wait);
  }
  return { done: false, unit, cursor };
}

const half = (limits: EngineLimits): EngineLimits => ({
  subrequests: Math.floor(limits.subrequests / 2),
  steps: Math.floor(limits.steps / 2),
});

/**
 * Runs a phase to its end: units in the run's own instance while half of
 * its budget lasts, then a chain of links, waited for. The cursor it ended
 * at.
 */
export async function runPhase(recovery: Recovery, spec: PhaseSpec, cursor: unknown): Promise<unknown> {
  const { steps, db } = recovery;
  const end = await runUnits(recovery, spec, { unit: 1, cursor }, new Budget(steps.meter, half(recovery.limits)));
  if (end.done) return end.cursor;
  const base = { notificationUuid: recovery.notificationUuid, run: recovery.run, scope: spec.scope };
  await steps.do(`${spec.scope} delegate`, async () => {
    await delegatePhase(db, { ...base, kind: spec.kind }, { spec, start: end }, nowSeconds());
    await startLink(recovery.workflows, { ...base, link: 1, start: { unit: end.unit, cursor: end.cursor } });
    return null;
  });
  for (let i = 1; ; i++) {
    const over = await steps.do(
      `${spec.scope} wait ${i}`,
      async () => {
        const phase = await readPhase(db, recovery.notificationUuid, recovery.run, spec.scope);
        return phase?.done_at ? { end: phaseEnd(phase) } : null;
      },
      { journal: false },
    );
    if (over) return over.end;
    await steps.waitFor(`${spec.scope} wait ${i} signal`, PHASE_DONE, WAIT_SECONDS);
  }
}

/**
 * One link of a phase's chain (an Evacuation Workflow instance): units
 * from where the previous link stopped while its budget lasts, then the
 * next link, or, at the phase's end, the run told.
 */
export async function runLink(recovery: Recovery, params: EvacuationParams): Promise<string> {
  const { steps, db } = recovery;
  const { notificationUuid: uuid, run, scope, link } = params;
  const spec = await steps.do(
    `${scope} link ${link} open`,
    async (): Promise<PhaseSpec | null> => {
      const [phase, latest] = await Promise.all([readPhase(db, uuid, run, scope), latestRun(db, uuid)]);
      const current = phase && phase.done_at === null && phase.link === link;
      const live = latest?.run === run && latest.ended_at === null;
      return current && live ? (JSON.parse(phase.params) as { spec: PhaseSpec }).spec : null;
    },
    { journal: false },
  );
  if (!spec) return "over";
  const end = await runUnits(recovery, spec, params.start, new Budget(steps.meter, recovery.limits, true));
  if (end.done) {
    await steps.do(`${scope} done`, async () => {
      await finishPhase(db, uuid, run, scope, end.cursor, nowSeconds());
      const latest = await latestRun(db, uuid);
      if (latest?.run === run)
        await signal(recovery.workflows.recovery, runInstanceId(uuid, run, latest.generation), PHASE_DONE);
      return null;
    });
  } else {
    const start = { unit: end.unit, cursor: end.cursor };
    await steps.do(`${scope} link ${link} pass`, async () => {
      await passPhase(db, uuid, run, scope, link, { spec, start });
      await startLink(recovery.workflows, { notificationUuid: uuid, run, scope, link: link + 1, start });
      return null;
    });
  }
  await steps.do(`${scope} link ${link} usage`, async () => {
    await recordPhaseUsage(db, uuid, run, scope, {
      steps: steps.meter.steps + 1,
      subrequests: steps.meter.subrequests + 1,
      novaErrors: steps.meter.novaErrors,
    });
    return null;
  });
  return end.done ? "done" : "passed";
}
