import type { Database } from "../../db/database";

// The progress upstream's tasks report (recovery_workflow_details, D19):
// each task's state and progress, and its messages, written by the step
// that makes them and keyed by that step, so a step run again rewrites its
// own messages rather than add to them.

/** Where a task's state and messages belong: a notification's run and flow. */
export interface FlowKey {
  readonly notificationUuid: string;
  readonly run: number;
  readonly flow: number;
}

export interface ProgressEntry {
  readonly task: string;
  readonly idx: number;
  readonly timestamp: string;
  readonly progress: string;
  readonly message: string;
}

export interface TaskState {
  readonly task: string;
  readonly state: string;
  readonly progress: number;
}

// One statement each, whatever the number of messages (a host of thousands
// of instances writes one message per ignored instance): the entries travel
// as one JSON parameter.
const MESSAGES = `INSERT INTO recovery_progress
    (notification_uuid, run, flow, task, step, idx, timestamp, progress, message)
  SELECT ?1, ?2, ?3, e.value ->> 'task', ?4, e.value ->> 'idx', e.value ->> 'timestamp',
    e.value ->> 'progress', e.value ->> 'message'
  FROM json_each(?5) e WHERE true
  ON CONFLICT (notification_uuid, run, flow, task, step, idx) DO UPDATE SET
    timestamp = excluded.timestamp, progress = excluded.progress, message = excluded.message`;

const STATES = `INSERT INTO recovery_tasks (notification_uuid, run, flow, name, state, progress)
  SELECT ?1, ?2, ?3, s.value ->> 'task', s.value ->> 'state', s.value ->> 'progress'
  FROM json_each(?4) s WHERE true
  ON CONFLICT (notification_uuid, run, flow, name) DO UPDATE SET
    state = excluded.state, progress = excluded.progress`;

/**
 * The statements that write what one step recorded: its progress messages,
 * keyed by the step, and the states of its tasks. To be run in one batch,
 * alone or with the step's other writes.
 */
export function progressStatements(
  db: Database,
  key: FlowKey,
  step: string,
  entries: readonly ProgressEntry[],
  states: readonly TaskState[],
): D1PreparedStatement[] {
  const client = db.$client;
  // A step run again that says less than before (it stopped earlier) leaves nothing of its first run behind.
  const statements: D1PreparedStatement[] = [
    client
      .prepare(
        "DELETE FROM recovery_progress WHERE notification_uuid = ? AND run = ? AND flow = ? AND step = ? AND idx >= ?",
      )
      .bind(key.notificationUuid, key.run, key.flow, step, entries.length),
  ];
  if (states.length > 0) {
    statements.push(client.prepare(STATES).bind(key.notificationUuid, key.run, key.flow, JSON.stringify(states)));
  }
  if (entries.length > 0) {
    statements.push(
      client.prepare(MESSAGES).bind(key.notificationUuid, key.run, key.flow, step, JSON.stringify(entries)),
    );
  }
  return statements;
}

/** The statement writing one message alone under `step` (a step that writes nothing else). */
export function startedStatement(db: Database, key: FlowKey, step: string, entry: ProgressEntry): D1PreparedStatement {
  return db.$client
    .prepare(
      `INSERT INTO recovery_progress (notification_uuid, run, flow, task, step, idx, timestamp, progress, message)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (notification_uuid, run, flow, task, step, idx) DO UPDATE SET
         timestamp = excluded.timestamp, progress = excluded.progress, message = excluded.message`,
    )
    .bind(
      key.notificationUuid,
      key.run,
      key.flow,
      entry.task,
      step,
      entry.idx,
      entry.timestamp,
      entry.progress,
      entry.message,
    );
}

/** Writes what one step recorded, in one batch. */
export async function recordProgress(
  db: Database,
  key: FlowKey,
  step: string,
  entries: readonly ProgressEntry[],
  states: readonly TaskState[],
): Promise<void> {
  await db.$client.batch(progressStatements(db, key, step, entries, states));
}
