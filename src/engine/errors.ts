// The exceptions of upstream's engine that decide a notification's status
// (docs/engine.md, "Outcomes"). A Workflow step never throws them: a step that
// throws is retried by Workflows, and upstream retries no Nova call. Steps
// return them as values (`Failure`), and the flow code outside the steps
// throws them again as RecoveryError, so a flow reads as upstream's does.

/** Upstream's exception classes that reach the engine's outcome table. */
export type FailureName =
  | "SkipHostRecoveryException"
  | "SkipInstanceRecoveryException"
  | "SkipProcessRecoveryException"
  | "IgnoreInstanceRecoveryException"
  | "HostRecoveryFailureException"
  | "ReservedHostsUnavailable"
  | "LockAlreadyAcquired"
  | "InstanceRecoveryFailureException"
  | "InstanceEvacuateFailed"
  | "ProcessRecoveryFailureException"
  | "MasakariException";

/** A failure as it crosses a step boundary: plain data. */
export interface Failure {
  readonly name: FailureName;
  readonly message: string;
}

export class RecoveryError extends Error implements Failure {
  constructor(
    override readonly name: FailureName,
    message: string,
  ) {
    super(message);
  }

  static from(failure: Failure): RecoveryError {
    return new RecoveryError(failure.name, failure.message);
  }
}

/** What upstream makes of any other exception in a flow: a MasakariException. */
export function asFailure(error: unknown): Failure {
  if (error instanceof RecoveryError) return { name: error.name, message: error.message };
  return { name: "MasakariException", message: error instanceof Error ? error.message : String(error) };
}

export const isSkip = (failure: Failure) =>
  failure.name === "SkipHostRecoveryException" ||
  failure.name === "SkipInstanceRecoveryException" ||
  failure.name === "SkipProcessRecoveryException";

/** The notification's status for a flow that ended with `failure` (docs/engine.md, "Outcomes"). */
export function statusOf(failure: Failure): "finished" | "ignored" | "error" {
  if (isSkip(failure)) return "finished";
  if (failure.name === "IgnoreInstanceRecoveryException") return "ignored";
  return "error";
}
