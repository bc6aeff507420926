import type { Recovery } from "./context";
import { readJournal, writeJournal } from "./steps";

// A Nova call that must not be sent twice (a service disabled or enabled,
// a host added to an aggregate, a server stopped or started) is preceded
// by its intent, journaled under a key of its step. A step run again after
// its writes committed but its result was lost finds the intent and asks
// Nova whether the first call took effect: only when it did not is the
// call sent again (D13, "exactly once").

/**
 * Runs `call` once for `key`: the first time, records the intent then
 * calls; a later time (the step run again) calls only when `tookEffect()`
 * says Nova shows nothing of the first call. "repeated" when the intent was
 * found (the step had run before), whatever was decided.
 */
export async function once(
  recovery: Recovery,
  key: string,
  tookEffect: () => Promise<boolean>,
  call: () => Promise<void>,
): Promise<"first" | "repeated"> {
  const journal = recovery.steps.journal;
  const name = `intent ${key}`;
  if (await readJournal(journal, name)) {
    if (!(await tookEffect())) await call();
    return "repeated";
  }
  await writeJournal(journal, name, { u: 0 });
  await call();
  return "first";
}

/** Whether an intent for `key` was recorded: the step that records it ran before. */
export async function intended(recovery: Recovery, key: string): Promise<boolean> {
  return (await readJournal(recovery.steps.journal, `intent ${key}`)) !== undefined;
}
