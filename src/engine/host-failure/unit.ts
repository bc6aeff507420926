import { nowAfter, type UtcDateTime } from "../../datetime";
import type { Recovery } from "../context";
import { inFlight, type Move, pendingMoves, remaining } from "../store/moves";
import { Evacuation } from "./instance";
import { concurrency, type PhaseSpec, type UnitResult, unitSubrequests } from "./phase";

/**
 * One unit of the evacuation phase: host_failure_recovery_threads lanes,
 * each moving one instance on at a time, in evacuation order: the
 * instances in flight first, then new ones, until its instance must wait
 * for Nova (it is looked at again next unit) or the unit has spent its
 * share of subrequests. So at most that many instances are in flight, and
 * instances Nova moves at once share a step.
 */
export async function evacuationUnit(recovery: Recovery, spec: PhaseSpec, unit: number): Promise<UnitResult> {
  const { db, options, steps } = recovery;
  const start = steps.meter.subrequests;
  const lanes = concurrency(recovery);
  const queue = await inFlight(db, spec.key);
  let fresh: Move[] = [];
  let reading: Promise<void> | undefined;
  const handed = new Set<string>();
  // When each instance was handed to a lane: its "Evacuation of instance
  // started" message carries it, as upstream's master writes that message
  // as it hands the instance to a worker. The lanes' first writes land in
  // whatever order Nova answers them; these stamps keep the messages in
  // evacuation order (docs/engine.md, "Evacuating an instance").
  let stamped: UtcDateTime | undefined;
  let waiting = false;
  let exhausted = false;
  const next = async (): Promise<{ move: Move; handedAt: UtcDateTime } | undefined> => {
    for (;;) {
      const move = queue.shift() ?? fresh.shift();
      if (move) {
        handed.add(move.instance_uuid);
        stamped = nowAfter(stamped);
        return { move, handedAt: stamped };
      }
      if (exhausted || steps.meter.subrequests - start >= unitSubrequests(recovery)) return undefined;
      // Read ahead a few, one lane at a time (the others wait for it): each
      // is taken by its first write, guarded by `pending`.
      reading ??= pendingMoves(db, spec.key, lanes * 4 + handed.size).then((moves) => {
        // Those handed out in this unit may not be written yet: still pending.
        fresh = moves.filter((m) => !handed.has(m.instance_uuid));
        exhausted = fresh.length === 0;
        reading = undefined;
      });
      await reading;
    }
  };
  const lane = async (): Promise<void> => {
    for (let handed = await next(); handed; handed = await next()) {
      if ((await new Evacuation(recovery, spec, handed.move, unit, handed.handedAt).advance()) === "waiting") {
        waiting = true;
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  if (waiting) return { done: false, wait: options.verifyInterval, cursor: null };
  // Every lane ran dry: nothing pending, nothing in flight.
  if (exhausted && queue.length === 0 && fresh.length === 0) return { done: true, wait: 0, cursor: null };
  return { done: (await remaining(db, spec.key)) === 0, wait: 0, cursor: null };
}
