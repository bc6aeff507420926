import { asc, eq } from "drizzle-orm";
import type { Database } from "../../db/database";
import { recoveryProgress, recoveryTasks, STEERING_FLOW } from "../../db/schema";
import { PyFloat } from "../../python";

// recovery_workflow_details (microversion 1.1; docs/upstream.md,
// "Recovery workflow details"): the tasks of every flow the engine ran on the
// notification, flow after flow, each task in its flow's order and only once
// it has progress, with taskflow's state and float progress and its messages,
// progress as text.

/** The task names of each type's flows, in the order upstream lists them. */
const TASKS: Readonly<Record<string, readonly string[]>> = {
  COMPUTE_HOST: ["DisableComputeServiceTask", "PrepareHAEnabledInstancesTask", "EvacuateInstancesTask"],
  PROCESS: ["DisableComputeNodeTask", "ConfirmComputeNodeDisabledTask"],
  VM: ["StopInstanceTask", "StartInstanceTask", "ConfirmInstanceActiveTask"],
};

export interface TaskDetails {
  readonly name: string;
  readonly progress: PyFloat;
  readonly progress_details: { timestamp: string; progress: string; message: string }[];
  readonly state: string;
}

export async function recoveryWorkflowDetails(db: Database, uuid: string, type: string): Promise<TaskDetails[]> {
  const [tasks, messages] = await db.batch([
    db
      .select()
      .from(recoveryTasks)
      .where(eq(recoveryTasks.notification_uuid, uuid))
      .orderBy(asc(recoveryTasks.run), asc(recoveryTasks.flow), asc(recoveryTasks.id)),
    db
      .select()
      .from(recoveryProgress)
      .where(eq(recoveryProgress.notification_uuid, uuid))
      .orderBy(asc(recoveryProgress.timestamp), asc(recoveryProgress.id)),
  ]);
  return workflowDetailsOf(tasks, messages, type);
}

type TaskRow = Pick<typeof recoveryTasks.$inferSelect, "id" | "run" | "flow" | "name" | "state" | "progress">;
type MessageRow = Pick<
  typeof recoveryProgress.$inferSelect,
  "id" | "run" | "flow" | "task" | "timestamp" | "progress" | "message"
>;

/**
 * The details from a notification's task and progress rows, tasks by run,
 * flow and id, messages by timestamp and id (as recoveryWorkflowDetails
 * reads them; the events stream reads them in one statement of its own).
 */
export function workflowDetailsOf(
  tasks: readonly TaskRow[],
  messages: readonly MessageRow[],
  type: string,
): TaskDetails[] {
  const flowOf = (row: { run: number; flow: number }) => `${row.run}/${row.flow}`;
  const flows = [...new Set(tasks.map(flowOf))];
  return flows.flatMap((flow) =>
    // A run's steering tasks (D21, D22) in the order they were written; a flow's in upstream's.
    (flow.endsWith(`/${STEERING_FLOW}`) ? [...new Set(tasks.map((t) => t.name))] : (TASKS[type] ?? [])).flatMap(
      (name) => {
        const task = tasks.find((t) => flowOf(t) === flow && t.name === name);
        const details = messages
          .filter((m) => flowOf(m) === flow && m.task === name)
          .map((m) => ({ timestamp: m.timestamp, progress: m.progress, message: m.message }));
        if (!task || details.length === 0) return [];
        return [{ name, progress: new PyFloat(task.progress), progress_details: details, state: task.state }];
      },
    ),
  );
}
