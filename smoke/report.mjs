// What a run prints: a line per step as it ends and a summary (text), or one
// JSON document at the end (--json).

const LABEL = { ok: "OK", fail: "FAIL", skip: "SKIP", "not-run": "----" };

/** One step's line: status, duration, name, what held or what did not. */
export function stepLine(step) {
  return `${LABEL[step.status].padEnd(4)} ${String(step.ms).padStart(6)} ms  ${step.name}: ${step.detail}`;
}

export function summarize(steps, { ms, interrupted }) {
  const count = (status) => steps.filter((s) => s.status === status).length;
  const failed = steps.filter((s) => s.status === "fail");
  return {
    ok: failed.length === 0 && !interrupted && count("not-run") === 0,
    held: count("ok") + count("skip"),
    skipped: count("skip"),
    failed: failed.length,
    not_run: count("not-run"),
    failed_steps: failed.map((s) => s.name),
    interrupted: interrupted ?? null,
    ms,
  };
}

export function summaryLines(summary, steps) {
  const total = steps.length;
  if (summary.ok) {
    const skipped = summary.skipped ? ` (${summary.skipped} skipped, see their notes)` : "";
    return [`smoke OK: ${summary.held} of ${total} steps held${skipped} in ${summary.ms} ms`];
  }
  const lines = [];
  const failed = summary.failed
    ? `${summary.failed} of ${total} steps failed (${summary.failed_steps.join(", ")})`
    : "";
  const why = [summary.interrupted && `interrupted by ${summary.interrupted}`, failed].filter(Boolean).join("; ");
  const notRun = summary.not_run ? `, ${summary.not_run} not run` : "";
  lines.push(`smoke FAILED: ${why}${notRun} in ${summary.ms} ms`);
  for (const step of steps.filter((s) => s.status === "fail")) lines.push(`  ${step.name}: ${step.detail}`);
  return lines;
}

export function jsonReport({ target, microversion, steps, summary }) {
  return JSON.stringify(
    {
      target,
      microversion,
      steps: steps.map(({ name, ok, status, ms, detail, expected, received }) => ({
        name,
        ok,
        status,
        ms,
        detail,
        ...(expected !== undefined && { expected, received }),
      })),
      summary,
    },
    null,
    2,
  );
}
