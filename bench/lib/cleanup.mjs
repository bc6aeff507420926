// What a run must undo even when it is interrupted: servers to stop, a
// temporary checkout to remove. Ctrl-C or SIGTERM runs every undo still
// pending before the process ends, so no workerd or git worktree outlives it.
const pending = new Set();

/** Runs `body`, then `undo`: when it returns, when it throws and on a signal. */
export async function undoing(undo, body) {
  // Once only: a signal may run it while `body` is still unwinding.
  let done = false;
  const once = async () => {
    if (done) return;
    done = true;
    await undo();
  };
  pending.add(once);
  try {
    return await body();
  } finally {
    pending.delete(once);
    await once();
  }
}

/** Starts a target, runs `body` against it and always stops it. */
export async function using(start, body) {
  const target = await start();
  return undoing(
    () => target.stop(),
    () => body(target),
  );
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    for (const undo of [...pending].reverse()) await undo().catch(() => {});
    process.exit(130);
  });
}
