// The workloads, the data every Worker starts from and one measurement of a
// target: shared by the full run (run.mjs) and the before/after (compare.mjs),
// so both measure the same thing the same way.
import { runWrk } from "./load.mjs";
import * as seed from "./seed.mjs";

export const READS = ["show-segment", "list-segments", "list-segments-page", "list-notifications-new"];
export const WRITES = ["create-segment", "create-host", "create-notification"];
export const WORKLOADS = [...READS, ...WRITES, "mix"];
export const CONNECTIONS = [8, 64];

// The data every target starts from: 100 segments, a pool of hosts (each
// notification created in the run names a host no other one named) and 200
// notifications, 100 of them `new`.
export const BASE_SEGMENTS = 100;
export const BASE_NOTIFICATIONS = 200;
// Each notification a run creates takes a host of its own, so the pool grows
// with the run's duration.
export const poolHosts = (seconds) => Math.max(20_000, 6_000 * seconds);
export const baseData = (seconds) => [
  seed.segments(BASE_SEGMENTS),
  ...seed.chunked((count, start) => seed.hosts(count, BASE_SEGMENTS, start), poolHosts(seconds)),
  seed.notifications(BASE_NOTIFICATIONS, BASE_NOTIFICATIONS),
];
// Seeded notifications name at most the first 1,000 hosts (the scale run's);
// the ones a run creates name hosts above them.
export const FIRST_FREE_HOST = 1_001;

// The longest a workload waits for the engine's runs of the previous one.
const SETTLE_SECONDS = 120;

export const log = (...args) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args);

/**
 * Every workload at every concurrency for `seconds` each, after a warm-up,
 * reads first so they see the seeded data only. `now` is the generated_time
 * of the notifications the run creates.
 */
export async function measure(
  target,
  { seconds, now, workloads = WORKLOADS, connections = CONNECTIONS, segments = BASE_SEGMENTS },
) {
  const results = [];
  const pool = poolHosts(seconds);
  let offset = FIRST_FREE_HOST;
  // A Worker with the recovery engine starts a Workflow instance for every
  // notification it creates, and those runs may outlast wrk: each workload
  // starts once they have ended, so none is charged the previous one's.
  const settle = async (what) => {
    const started = Date.now();
    for (;;) {
      const pending = await target.enginePending(now);
      const waited = (Date.now() - started) / 1000;
      if (!pending) {
        if (waited >= 1)
          log(`${target.name.padEnd(10)} ${what}: the engine's runs ended ${waited.toFixed(1)} s after wrk`);
        return waited;
      }
      if (waited > SETTLE_SECONDS) {
        log(`${target.name.padEnd(10)} ${what}: notifications still new or running ${SETTLE_SECONDS} s after wrk`);
        return waited;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const run = async (workload, c, secs, tag) => {
    const r = await runWrk({
      url: target.url,
      workload,
      connections: c,
      seconds: secs,
      tag,
      offset,
      segments,
      marker: Math.ceil(segments / 2),
      now,
    });
    offset += r.notified;
    if (offset > pool) throw new Error(`the host pool (${pool}) is too small for this run`);
    if (!target.enginePending) return r;
    return { ...r, engineSettleSeconds: r.notified > 0 ? await settle(`${workload} c${c}`) : 0 };
  };
  await run("show-segment", 8, 2, "warm");
  for (const workload of workloads) {
    await run(workload, 8, 1, `w${workload}`);
    for (const c of connections) {
      const r = await run(workload, c, seconds, `${workload}-${c}`);
      log(
        `${target.name.padEnd(10)} ${workload.padEnd(24)} c${String(c).padEnd(3)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50_ms.toFixed(2)} ms  p99 ${r.p99_ms.toFixed(2)} ms  errors ${r.errors}`,
      );
      results.push({ target: target.name, workload, connections: c, ...r });
    }
  }
  return results;
}
