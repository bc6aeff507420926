import { getTableColumns } from "drizzle-orm";
import type { Database } from "../../db/database";
import { type NotificationRow, notifications, type VmoveRow, vmoves } from "../../db/schema";
import { pythonJson } from "../../python";
import { vmoveView } from "../vmoves/view";
import { workflowDetailsOf } from "./details";
import { notificationView } from "./view";

// GET /v1/notifications/{id}/events (ours, os-notification-events): a
// notification's recovery as Server-Sent Events. Every tick is ONE D1
// statement, whatever changed: the notification row, its task and progress
// rows (a recovery writes a few dozen at most: messages are per step, not per
// instance), and only the VM moves updated since the newest one seen, less a
// margin for writes committed late. The stream sends what differs from what
// it last sent, in the show's own shapes, and nothing when nothing changed.
// D1 is asked only when the client has read what came before (a pulled
// stream), so a stalled or gone client costs no query.

/** How often the stream asks D1; the console's pages update within this and a render. */
export const EVENTS_INTERVAL_MS = 1000;
/**
 * Ticks before the stream ends with `end: limit` (the client reconnects):
 * a Worker invocation has a budget of subrequests, D1 queries among them.
 */
export const EVENTS_MAX_TICKS = 300;
/** A comment line this often without news, so that no proxy closes an idle stream. */
const KEEP_ALIVE_TICKS = 15;
/**
 * How far before the newest VM move seen the next tick reads again: a move is
 * stamped (in whole seconds) before its write commits, so one committed late
 * may carry an older stamp than one already read.
 */
const MOVES_MARGIN_SECONDS = 10;
/** After these the engine writes nothing more without an operator's action, which the page follows. */
const FINAL = new Set(["finished", "failed", "ignored"]);

const columns = (table: Parameters<typeof getTableColumns>[0]) =>
  Object.values(getTableColumns(table))
    .map((c) => `'${c.name}', ${c.name}`)
    .join(", ");

/**
 * The one statement of a tick: ?1 the notification, ?2 the VM moves' cursor
 * (NULL: none wanted), ?3 whether the tasks and messages are wanted. Each arm
 * seeks an index on notification_uuid (the moves' also on their stamps).
 */
const TICK = `SELECT 'n' AS k, json_object(${columns(notifications)}) AS v
    FROM notifications WHERE notification_uuid = ?1 AND deleted = 0
  UNION ALL SELECT 't', json_object('id', id, 'run', run, 'flow', flow, 'name', name, 'state', state, 'progress', progress)
    FROM recovery_tasks WHERE notification_uuid = ?1 AND ?3
  UNION ALL SELECT 'p', json_object('id', id, 'run', run, 'flow', flow, 'task', task, 'timestamp', timestamp,
      'progress', progress, 'message', message)
    FROM recovery_progress WHERE notification_uuid = ?1 AND ?3
  UNION ALL SELECT 'm', json_object(${columns(vmoves)}) AS v
    FROM vmoves WHERE notification_uuid = ?1 AND deleted = 0 AND ?2 IS NOT NULL
      AND (updated_at >= ?2 OR (updated_at IS NULL AND created_at >= ?2))`;

export interface WatchOptions {
  /** recovery_workflow_details, as a show at 1.1 or later. */
  readonly details: boolean;
  /** VM moves, as their list at 1.3 to a caller its policy allows. */
  readonly moves: boolean;
}

interface TaskRow {
  id: number;
  run: number;
  flow: number;
  name: string;
  state: string;
  progress: number;
}
interface MessageRow {
  id: number;
  run: number;
  flow: number;
  task: string;
  timestamp: string;
  progress: string;
  message: string;
}

/** `YYYY-MM-DD HH:MM:SS...` less `seconds`, in the same form (whole seconds). */
function earlier(stored: string, seconds: number): string {
  const at = Date.parse(`${stored.slice(0, 19).replace(" ", "T")}Z`) - seconds * 1000;
  return Number.isNaN(at) ? "" : new Date(at).toISOString().slice(0, 19).replace("T", " ");
}

/** What one notification's stream has sent, and the query that finds what changed since. */
export class NotificationWatch {
  private sentNotification = "";
  private readonly sentMoves = new Map<string, string>();
  private movesCursor: string | null;

  constructor(
    private readonly db: Database,
    private readonly uuid: string,
    private readonly options: WatchOptions,
  ) {
    this.movesCursor = options.moves ? "" : null;
  }

  /**
   * One tick: one statement. Undefined when the notification is gone;
   * otherwise the events to send (none when nothing changed) and its status.
   */
  async tick(): Promise<{ events: string[]; status: string } | undefined> {
    const { results } = await this.db.$client
      .prepare(TICK)
      .bind(this.uuid, this.movesCursor, this.options.details ? 1 : 0)
      .all<{ k: string; v: string }>();
    let row: NotificationRow | undefined;
    const tasks: TaskRow[] = [];
    const messages: MessageRow[] = [];
    const moves: VmoveRow[] = [];
    for (const { k, v } of results) {
      const value = JSON.parse(v);
      if (k === "n") row = value;
      else if (k === "t") tasks.push(value);
      else if (k === "p") messages.push(value);
      else moves.push(value);
    }
    if (!row) return undefined;
    const events: string[] = [];
    tasks.sort((a, b) => a.run - b.run || a.flow - b.flow || a.id - b.id);
    messages.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.id - b.id));
    const workflowDetails = this.options.details ? workflowDetailsOf(tasks, messages, row.type) : undefined;
    const notification = pythonJson({ notification: notificationView(row, { workflowDetails }) });
    if (notification !== this.sentNotification) {
      this.sentNotification = notification;
      events.push(event("notification", notification));
    }
    if (this.movesCursor !== null) {
      const changed = [];
      for (const move of moves.sort((a, b) => a.id - b.id)) {
        const view = vmoveView(move);
        const text = pythonJson(view);
        if (this.sentMoves.get(move.uuid) === text) continue;
        this.sentMoves.set(move.uuid, text);
        changed.push(view);
        // A move is written first without updated_at (pending), then with it.
        const stamp = move.updated_at ?? move.created_at;
        if (stamp && earlier(stamp, MOVES_MARGIN_SECONDS) > this.movesCursor) {
          this.movesCursor = earlier(stamp, MOVES_MARGIN_SECONDS);
        }
      }
      if (changed.length > 0) events.push(event("vmoves", pythonJson({ vmoves: changed })));
    }
    return { events, status: row.status };
  }
}

const event = (name: string, data: string) => `event: ${name}\ndata: ${data}\n\n`;

// The pause between two ticks of a response a client holds open. Not a
// recovery wait (those are Workflow steps' sleeps, src/engine/): it lives
// only as long as this request and costs no CPU time; a client whose stream
// is cut reconnects after the `retry:` delay, and its first tick sends the
// notification as it then stands.
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The stream of a watch whose first tick has been made: `first` is its
 * events. Ends with `event: end` once the notification is final (`final`),
 * gone (`gone`), or after EVENTS_MAX_TICKS (`limit`: reconnect).
 */
export function eventStream(
  watch: NotificationWatch,
  first: { events: string[]; status: string },
  log: { error(message: string, error: unknown): void },
  interval = EVENTS_INTERVAL_MS,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cancelled = false;
  let ticks = 0;
  let quiet = 0;
  const end = (controller: ReadableStreamDefaultController<Uint8Array>, reason: string, text = "") => {
    controller.enqueue(encoder.encode(`${text}${event("end", JSON.stringify({ reason }))}`));
    controller.close();
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        // A client that loses the stream tries again after this long.
        const text = `retry: ${2 * interval}\n\n${first.events.join("")}`;
        if (FINAL.has(first.status)) end(controller, "final", text);
        else controller.enqueue(encoder.encode(text));
      },
      async pull(controller) {
        for (;;) {
          await sleep(interval);
          if (cancelled) return;
          ticks++;
          let result: Awaited<ReturnType<NotificationWatch["tick"]>>;
          try {
            result = await watch.tick();
          } catch (error) {
            log.error("the events stream could not read D1:", error);
            end(controller, "error");
            return;
          }
          if (!result) return end(controller, "gone");
          const text = result.events.join("");
          if (FINAL.has(result.status)) return end(controller, "final", text);
          if (ticks >= EVENTS_MAX_TICKS) return end(controller, "limit", text);
          if (text !== "") {
            quiet = 0;
            controller.enqueue(encoder.encode(text));
            return;
          }
          if (++quiet >= KEEP_ALIVE_TICKS) {
            quiet = 0;
            controller.enqueue(encoder.encode(": keep-alive\n\n"));
            return;
          }
        }
      },
      cancel() {
        cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
}
