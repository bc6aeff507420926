import { sql } from "drizzle-orm";
import {
  check,
  index,
  integer,
  primaryKey,
  real,
  type SQLiteColumn,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

// Tables and columns carry upstream Masakari's names (docs/upstream.md,
// "Tables"; D11) so rows can be moved from an existing Masakari database.
//
// Datetimes are naive UTC text in SQLAlchemy's SQLite form,
// `YYYY-MM-DD HH:MM:SS.ffffff`, always six fraction digits: ordering and
// comparing them as strings is ordering them in time.
//
// Soft delete (docs/upstream.md, "Soft delete"): `deleted` is 0 while a row is
// live and becomes the row's own id when it is deleted, so the unique (name,
// deleted) indexes only constrain live rows and a deleted name can be used
// again.
const common = {
  created_at: text("created_at"),
  updated_at: text("updated_at"),
  deleted_at: text("deleted_at"),
  deleted: integer("deleted").notNull().default(0),
  // A plain rowid key, as upstream's SQLite schema has (no AUTOINCREMENT):
  // a refused insert consumes no id, so ids stay gapless like upstream's.
  id: integer("id").primaryKey(),
};

export const RECOVERY_METHODS = ["auto", "reserved_host", "auto_priority", "rh_priority"] as const;
export type RecoveryMethod = (typeof RECOVERY_METHODS)[number];

export const NOTIFICATION_STATUSES = ["new", "running", "error", "failed", "ignored", "finished"] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** Statuses that make a segment "in use" (docs/upstream.md, "Segments in use"). */
export const IN_USE_STATUSES = ["new", "running", "error"] as const satisfies readonly NotificationStatus[];

const sqlList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(", "));

// Indexes for the lists (docs/upstream.md, "Paging and sorting"). A list reads
// live rows only, in the order (sort keys..., created_at, id), by default
// created_at desc, id desc, and any column may be a sort key. So each table
// has, for every column a list filters or sorts on, one index over its live
// rows
//
//   <table>_live_[<scope>_]<column>: ([scope,] <column>, created_at) WHERE deleted = 0
//
// where the scope is the parent a list is always filtered on (a host's
// segment, failover_segment_id; a VM move's notification, notification_uuid;
// none for segments and notifications), and SQLite ends every index with the
// rowid, `id`. One such index serves both `?<column>=x` in the default order
// (an equality, then created_at, id: no sort) and `sort_key=<column>`
// (ordered from the first entry, or from the marker with one seek). Only
// live rows are in them, so soft-deleted rows cost nothing to skip; a query
// uses them when it says `deleted = 0` (paging.ts writes the literal 0;
// SQLite also matches a bound 0, re-preparing the statement with it). Keys
// served otherwise have no index of their own: `deleted` is 0 in every live row;
// `id` is the rowid (the table itself, or the scope's index); a column
// unique among live rows (uuid, name, notification_uuid) ends the order
// (paging.ts), so its unique index, or (scope, column), serves it; and the
// scope column is constant within the list.
//
// Write cost: every index is one more B-tree insert per row. Most keys here
// are appends at the end of a group (created_at grows; updated_at,
// deleted_at and message are NULL and status is new when a row is created),
// which SQLite does cheaply; the random-position ones are the uuids and
// source_host_uuid. The free-text columns (description, control_attributes,
// payload, message) are indexed too: a sort on them must not sort the whole
// table per request, they are short in practice (a payload is a few short
// fields, a message is NULL until an engine writes one) and bounded by the
// request size limit.
const LIVE = sql`deleted = 0`;
const live = (name: string, ...columns: [SQLiteColumn, ...SQLiteColumn[]]) =>
  index(name)
    .on(...columns)
    .where(LIVE);

export const failoverSegments = sqliteTable(
  "failover_segments",
  {
    ...common,
    uuid: text("uuid", { length: 36 }).notNull(),
    name: text("name", { length: 255 }).notNull(),
    service_type: text("service_type", { length: 255 }).notNull(),
    description: text("description"),
    recovery_method: text("recovery_method", { enum: RECOVERY_METHODS }).notNull(),
    enabled: integer("enabled", { mode: "boolean" }).default(true),
  },
  (t) => [
    uniqueIndex("uniq_segment0name0deleted").on(t.name, t.deleted),
    uniqueIndex("uniq_segments0uuid").on(t.uuid),
    // Upstream's segments_service_type_idx (service_type) is replaced by
    // failover_segments_live_service_type, which leads with the same column.
    live("failover_segments_live_created_at", t.created_at),
    live("failover_segments_live_updated_at", t.updated_at, t.created_at),
    live("failover_segments_live_deleted_at", t.deleted_at, t.created_at),
    live("failover_segments_live_service_type", t.service_type, t.created_at),
    live("failover_segments_live_description", t.description, t.created_at),
    live("failover_segments_live_recovery_method", t.recovery_method, t.created_at),
    live("failover_segments_live_enabled", t.enabled, t.created_at),
    check("recovery_methods", sql`${t.recovery_method} IN (${sqlList(RECOVERY_METHODS)})`),
  ],
);

export const hosts = sqliteTable(
  "hosts",
  {
    ...common,
    uuid: text("uuid", { length: 36 }).notNull(),
    name: text("name", { length: 255 }).notNull(),
    reserved: integer("reserved", { mode: "boolean" }).default(false),
    type: text("type", { length: 255 }).notNull(),
    control_attributes: text("control_attributes").notNull(),
    // Upstream links a host to its segment by the segment's uuid, not its id.
    failover_segment_id: text("failover_segment_id", { length: 36 })
      .notNull()
      .references(() => failoverSegments.uuid),
    on_maintenance: integer("on_maintenance", { mode: "boolean" }).default(false),
  },
  (t) => [
    uniqueIndex("uniq_host0name0deleted").on(t.name, t.deleted),
    uniqueIndex("uniq_host0uuid").on(t.uuid),
    // Upstream's hosts_type_idx (type) is replaced by hosts_live_segment_type:
    // hosts are only ever listed within their segment.
    // Not upstream: serves the foreign key's checks (a partial index cannot),
    // the "in use" check, a segment's delete and a segment's hosts by id.
    // On the segment alone: with `deleted` as its second column it would
    // match `deleted = 0` as well as the live indexes match their key, and
    // SQLite would pick it where they seek.
    index("hosts_failover_segment_id_idx").on(t.failover_segment_id),
    live("hosts_live_segment_created_at", t.failover_segment_id, t.created_at),
    live("hosts_live_segment_updated_at", t.failover_segment_id, t.updated_at, t.created_at),
    live("hosts_live_segment_deleted_at", t.failover_segment_id, t.deleted_at, t.created_at),
    live("hosts_live_segment_uuid", t.failover_segment_id, t.uuid),
    live("hosts_live_segment_name", t.failover_segment_id, t.name),
    live("hosts_live_segment_reserved", t.failover_segment_id, t.reserved, t.created_at),
    live("hosts_live_segment_type", t.failover_segment_id, t.type, t.created_at),
    live("hosts_live_segment_control_attributes", t.failover_segment_id, t.control_attributes, t.created_at),
    live("hosts_live_segment_on_maintenance", t.failover_segment_id, t.on_maintenance, t.created_at),
    // /metrics: a segment's hosts by maintenance and reserved, counted from
    // the index alone and in its order (no table row read, no sort).
    live("hosts_live_segment_state", t.failover_segment_id, t.on_maintenance, t.reserved),
  ],
);

export const notifications = sqliteTable(
  "notifications",
  {
    ...common,
    notification_uuid: text("notification_uuid", { length: 36 }).notNull(),
    generated_time: text("generated_time").notNull(),
    source_host_uuid: text("source_host_uuid", { length: 36 }).notNull(),
    type: text("type", { length: 36 }).notNull(),
    payload: text("payload"),
    status: text("status", { enum: NOTIFICATION_STATUSES }).notNull(),
    failover_segment_uuid: text("failover_segment_uuid", { length: 36 }),
    message: text("message"),
  },
  (t) => [
    uniqueIndex("uniq_notification0uuid").on(t.notification_uuid),
    // Not upstream: serves the "in use" check (source host, status in new,
    // running, error).
    index("notifications_source_host_uuid_idx").on(t.source_host_uuid, t.status),
    // Duplicate detection (docs/upstream.md, "Duplicate notifications"): same
    // source host and type, generated at or after a time; one seek instead of
    // reading the host's history.
    live("notifications_live_duplicates", t.source_host_uuid, t.type, t.generated_time),
    live("notifications_live_created_at", t.created_at),
    live("notifications_live_updated_at", t.updated_at, t.created_at),
    live("notifications_live_deleted_at", t.deleted_at, t.created_at),
    // Also `generated-since`, a range on generated_time.
    live("notifications_live_generated_time", t.generated_time, t.created_at),
    live("notifications_live_source_host_uuid", t.source_host_uuid, t.created_at),
    live("notifications_live_type", t.type, t.created_at),
    live("notifications_live_payload", t.payload, t.created_at),
    live("notifications_live_status", t.status, t.created_at),
    live("notifications_live_failover_segment_uuid", t.failover_segment_uuid, t.created_at),
    live("notifications_live_message", t.message, t.created_at),
    // /metrics: live notifications by type and status, counted from the
    // index alone and in its order (no table row read, no sort).
    live("notifications_live_type_status", t.type, t.status),
    check("notification_status", sql`${t.status} IN (${sqlList(NOTIFICATION_STATUSES)})`),
  ],
);

export const vmoves = sqliteTable(
  "vmoves",
  {
    ...common,
    uuid: text("uuid", { length: 36 }).notNull(),
    notification_uuid: text("notification_uuid", { length: 36 }).notNull(),
    instance_uuid: text("instance_uuid", { length: 36 }).notNull(),
    instance_name: text("instance_name", { length: 255 }).notNull(),
    source_host: text("source_host", { length: 255 }),
    dest_host: text("dest_host", { length: 255 }),
    start_time: text("start_time"),
    end_time: text("end_time"),
    type: text("type", { length: 36 }),
    status: text("status", { length: 255 }),
    message: text("message"),
  },
  // VM moves are written by a recovery engine (D13: none yet), never by this
  // API, so these indexes cost no request anything to maintain.
  (t) => [
    uniqueIndex("uniq_vmove0uuid").on(t.uuid),
    // Also a notification's VM moves by id.
    index("vmoves_notification_uuid_idx").on(t.notification_uuid),
    live("vmoves_live_notification_created_at", t.notification_uuid, t.created_at),
    live("vmoves_live_notification_updated_at", t.notification_uuid, t.updated_at, t.created_at),
    live("vmoves_live_notification_deleted_at", t.notification_uuid, t.deleted_at, t.created_at),
    live("vmoves_live_notification_uuid", t.notification_uuid, t.uuid),
    live("vmoves_live_notification_instance_uuid", t.notification_uuid, t.instance_uuid, t.created_at),
    live("vmoves_live_notification_instance_name", t.notification_uuid, t.instance_name, t.created_at),
    live("vmoves_live_notification_source_host", t.notification_uuid, t.source_host, t.created_at),
    live("vmoves_live_notification_dest_host", t.notification_uuid, t.dest_host, t.created_at),
    live("vmoves_live_notification_start_time", t.notification_uuid, t.start_time, t.created_at),
    live("vmoves_live_notification_end_time", t.notification_uuid, t.end_time, t.created_at),
    live("vmoves_live_notification_type", t.notification_uuid, t.type, t.created_at),
    live("vmoves_live_notification_status", t.notification_uuid, t.status, t.created_at),
    live("vmoves_live_notification_message", t.notification_uuid, t.message, t.created_at),
    // /metrics: evacuations by status, across notifications; only they are
    // in it, so counting them reads no other VM move.
    index("vmoves_live_evacuation_status").on(t.status).where(sql`deleted = 0 AND type = 'evacuation'`),
  ],
);

// The recovery engine's own tables (D19): what taskflow keeps in its logbooks,
// flowdetails and atomdetails, reduced to what the API shows
// (recovery_workflow_details: docs/upstream.md, "Recovery workflow details")
// and what the engine needs to run each notification once (D16, D17).

export const RECOVERY_MODES = ["rpc", "periodic"] as const;
export type RecoveryMode = (typeof RECOVERY_MODES)[number];

/**
 * One run of the engine on a notification. Run 1 is started when the
 * notification is stored, as upstream's RPC cast (`rpc`); a later run is the
 * periodic task's (`periodic`: an `error` it ends with becomes `failed`).
 * Only the latest run of a notification may change it. A run is carried by
 * one Workflow instance, `<notification uuid>-<run>`; when that instance
 * dies, the periodic work starts the next `generation`
 * (`<notification uuid>-<run>-g<n>`), which replays the run's journal and
 * carries on where it stopped (D17).
 */
export const recoveryRuns = sqliteTable(
  "recovery_runs",
  {
    notification_uuid: text("notification_uuid", { length: 36 }).notNull(),
    run: integer("run").notNull(),
    mode: text("mode", { enum: RECOVERY_MODES }).notNull(),
    created_at: text("created_at").notNull(),
    ended_at: text("ended_at"),
    /** The status the run left the notification in. */
    outcome: text("outcome", { enum: NOTIFICATION_STATUSES }),
    /** The Workflow instance now carrying the run: 1, then one more each time one dies. */
    generation: integer("generation").notNull().default(1),
    /** When this run claimed its notification (new/error → running, D16). */
    claimed_at: text("claimed_at"),
    /** The most steps and subrequests one of the run's Workflow instances used (its own or a phase's). */
    max_steps: integer("max_steps"),
    max_subrequests: integer("max_subrequests"),
    /** Nova calls the run's instances saw fail, added as each records its usage (/metrics). */
    nova_errors: integer("nova_errors").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.notification_uuid, t.run] }),
    // /metrics sums Nova errors over the runs that saw any: only they are in it.
    index("recovery_runs_nova_errors").on(t.nova_errors).where(sql`nova_errors > 0`),
  ],
);

/**
 * A task of a flow, as taskflow's atomdetail: its state (taskflow's:
 * RUNNING, SUCCESS, REVERTED...) and progress. A run's first flow is
 * flow 1; a `*_priority` fallback adds flow 2, as upstream adds a flowdetail.
 */
export const recoveryTasks = sqliteTable(
  "recovery_tasks",
  {
    id: integer("id").primaryKey(),
    notification_uuid: text("notification_uuid", { length: 36 }).notNull(),
    run: integer("run").notNull(),
    flow: integer("flow").notNull(),
    name: text("name").notNull(),
    state: text("state").notNull(),
    progress: real("progress").notNull(),
  },
  (t) => [uniqueIndex("recovery_tasks_key").on(t.notification_uuid, t.run, t.flow, t.name)],
);

/**
 * A task's progress messages (upstream's update_details), in the order
 * written. Keyed by the Workflow step that wrote it and its place in that
 * step, so a step run again replaces its messages rather than add them.
 */
export const recoveryProgress = sqliteTable(
  "recovery_progress",
  {
    id: integer("id").primaryKey(),
    notification_uuid: text("notification_uuid", { length: 36 }).notNull(),
    run: integer("run").notNull(),
    flow: integer("flow").notNull(),
    task: text("task").notNull(),
    step: text("step").notNull(),
    idx: integer("idx").notNull(),
    /** Python's str(datetime): `2026-11-30 02:18:35.075734`. */
    timestamp: text("timestamp").notNull(),
    /** As upstream shows it: a string ("0.0", "0.3", "1.0"). */
    progress: text("progress").notNull(),
    message: text("message").notNull(),
  },
  (t) => [uniqueIndex("recovery_progress_key").on(t.notification_uuid, t.run, t.flow, t.task, t.step, t.idx)],
);

/**
 * What each step of a run returned, by the step's name: a Workflow instance
 * that carries on a run after its instance died replays the steps recorded
 * here rather than run them again. Intents of Nova calls that must not be
 * repeated (`intent …`) are recorded here before the call.
 */
export const recoveryJournal = sqliteTable(
  "recovery_journal",
  {
    notification_uuid: text("notification_uuid", { length: 36 }).notNull(),
    run: integer("run").notNull(),
    name: text("name").notNull(),
    value: text("value").notNull(),
    created_at: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.notification_uuid, t.run, t.name] })],
);

export const PHASE_KINDS = ["list", "evacuate"] as const;
export type PhaseKind = (typeof PHASE_KINDS)[number];

/**
 * Work of a host flow that grows with the failed host (listing its servers,
 * evacuating them), done in units: by the run's own instance while its
 * budget lasts, then by a chain of Evacuation Workflow instances (`link`
 * 1, 2, ... each within its own budget), so that no instance's steps or
 * subrequests grow with the host (D20). `generation` counts the instances
 * started for the current link, as for a run.
 */
export const recoveryPhases = sqliteTable(
  "recovery_phases",
  {
    notification_uuid: text("notification_uuid", { length: 36 }).notNull(),
    run: integer("run").notNull(),
    scope: text("scope").notNull(),
    kind: text("kind", { enum: PHASE_KINDS }).notNull(),
    /** The phase (JSON): what it is, where its current link started, and where it ended. */
    params: text("params").notNull(),
    link: integer("link").notNull().default(0),
    generation: integer("generation").notNull().default(1),
    created_at: text("created_at").notNull(),
    done_at: text("done_at"),
    max_steps: integer("max_steps"),
    max_subrequests: integer("max_subrequests"),
    /** Nova calls the phase's links saw fail (/metrics). */
    nova_errors: integer("nova_errors").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.notification_uuid, t.run, t.scope] }),
    // /metrics, as recovery_runs_nova_errors.
    index("recovery_phases_nova_errors").on(t.nova_errors).where(sql`nova_errors > 0`),
  ],
);

export const MOVE_STAGES = [
  "listed",
  "pending",
  "locking",
  "prepared",
  "evacuating",
  "confirming",
  "stopping",
  "stop-confirming",
  "resetting",
  "done",
] as const;
export type MoveStage = (typeof MOVE_STAGES)[number];

/**
 * The failed host's servers as one attempt of a host flow (run, flow,
 * attempt: `a1`, or `r<n>` per reserved host) lists and evacuates them:
 * the listing (Nova's order, HA flag, state), the selection and evacuation
 * order, and where each selected instance is in upstream's per-instance
 * procedure. Each stage that precedes a Nova call which must not be
 * repeated is written before the call (D20).
 */
export const recoveryMoves = sqliteTable(
  "recovery_moves",
  {
    notification_uuid: text("notification_uuid", { length: 36 }).notNull(),
    run: integer("run").notNull(),
    flow: integer("flow").notNull(),
    attempt: text("attempt").notNull(),
    instance_uuid: text("instance_uuid", { length: 36 }).notNull(),
    name: text("name").notNull(),
    /** Place in Nova's listing, from 0. */
    seq: integer("seq").notNull(),
    ha: integer("ha").notNull(),
    vm_state: text("vm_state"),
    /** D24: the integer of HOST_FAILURE_PRIORITY_METADATA_KEY, when the server has one. */
    priority: integer("priority"),
    /** D24: the server's metadata matches HOST_FAILURE_EXCLUDE_METADATA: left alone. */
    excluded: integer("excluded").notNull().default(0),
    selected: integer("selected").notNull().default(0),
    /** Evacuation order, from 1, once selected. */
    position: integer("position"),
    vmove_uuid: text("vmove_uuid", { length: 36 }),
    stage: text("stage", { enum: MOVE_STAGES }).notNull(),
    /** The procedure's state so far (JSON): states before, lock, reset, stop, confirmation. */
    state: text("state"),
    result: text("result", { enum: ["succeeded", "failed", "not-started"] }),
    updated_at: text("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.notification_uuid, t.run, t.flow, t.attempt, t.instance_uuid] }),
    index("recovery_moves_stage").on(t.notification_uuid, t.run, t.flow, t.attempt, t.stage, t.position),
  ],
);

/**
 * Servers a notification's recovery locked in Nova, recorded before the
 * lock call and released once unlocked: whatever ends the notification, a
 * run or the periodic work unlocks what is left (D17).
 */
export const recoveryServerLocks = sqliteTable(
  "recovery_server_locks",
  {
    notification_uuid: text("notification_uuid", { length: 36 }).notNull(),
    instance_uuid: text("instance_uuid", { length: 36 }).notNull(),
    run: integer("run").notNull(),
    created_at: text("created_at").notNull(),
    released_at: text("released_at"),
  },
  (t) => [
    primaryKey({ columns: [t.notification_uuid, t.instance_uuid] }),
    index("recovery_server_locks_open").on(t.released_at, t.notification_uuid),
  ],
);

/**
 * A reserved host taken by one attempt of a host flow (D16), until Nova
 * enabled it (`used`) or could not (`returned`: reserved again). At most
 * one open claim per host; a replayed claim finds its own row.
 */
export const recoveryReservedClaims = sqliteTable(
  "recovery_reserved_claims",
  {
    notification_uuid: text("notification_uuid", { length: 36 }).notNull(),
    run: integer("run").notNull(),
    flow: integer("flow").notNull(),
    attempt: text("attempt").notNull(),
    segment_uuid: text("segment_uuid", { length: 36 }).notNull(),
    host_name: text("host_name").notNull(),
    created_at: text("created_at").notNull(),
    released_at: text("released_at"),
    outcome: text("outcome", { enum: ["used", "returned"] }),
    /** Why it was returned (JSON: the upstream exception), for a step run again to raise the same. */
    reason: text("reason"),
  },
  (t) => [
    primaryKey({ columns: [t.notification_uuid, t.run, t.flow, t.attempt] }),
    uniqueIndex("recovery_reserved_claims_open").on(t.segment_uuid, t.host_name).where(sql`released_at IS NULL`),
  ],
);

/**
 * The flow number under which a run's steering tasks (StormGuard, D22;
 * OperatorAction, D21) are kept: shown after every flow the run ran.
 */
export const STEERING_FLOW = 100;

export const STORM_STATES = ["admitted", "held", "released"] as const;

/**
 * D22, the storm guard: each host failure (COMPUTE_HOST STOPPED) as the
 * engine admitted it, or held it because it would have put more than the
 * allowed share of its segment's hosts down within the window; a held one
 * runs once an operator releases it. Admission is one guarded statement.
 */
export const recoveryStorm = sqliteTable(
  "recovery_storm",
  {
    notification_uuid: text("notification_uuid", { length: 36 }).primaryKey(),
    segment_uuid: text("segment_uuid", { length: 36 }).notNull(),
    host_uuid: text("host_uuid", { length: 36 }).notNull(),
    state: text("state", { enum: STORM_STATES }).notNull(),
    /** When it was admitted or held: the window counts from here. */
    at: text("at").notNull(),
    /** How many other hosts of the segment were down then, and its hosts in all. */
    down: integer("down").notNull(),
    hosts: integer("hosts").notNull(),
  },
  (t) => [
    index("recovery_storm_segment_at").on(t.segment_uuid, t.at),
    // /metrics: the held ones, without reading the admitted and released.
    index("recovery_storm_state").on(t.state, t.notification_uuid),
  ],
);

export const EVENT_KINDS = ["status", "held"] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/**
 * Webhooks' outbox (docs/webhooks.md): a row per notification status change
 * (`status`; creation too, from no status) and per storm-guard hold (`held`),
 * written by SQLite triggers (migrations/0009_webhooks.sql) in the very
 * statement that makes the change, so that no writer can miss one. `id`
 * orders them (AUTOINCREMENT: never reused once old rows are pruned);
 * `event_uuid` is the CloudEvent id and `webhook-id`. Host and segment are
 * copied as they were, so every retry sends the same body. A migration that
 * rebuilds `notifications` or `recovery_storm` drops their triggers: it must
 * create them again.
 */
export const notificationEvents = sqliteTable(
  "notification_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    event_uuid: text("event_uuid", { length: 36 }).notNull(),
    notification_uuid: text("notification_uuid", { length: 36 }).notNull(),
    kind: text("kind", { enum: EVENT_KINDS }).notNull(),
    notification_type: text("notification_type"),
    host_uuid: text("host_uuid", { length: 36 }),
    host_name: text("host_name"),
    segment_uuid: text("segment_uuid", { length: 36 }),
    segment_name: text("segment_name"),
    old_status: text("old_status"),
    new_status: text("new_status"),
    /** A hold's count: other hosts of the segment down, and its hosts in all. */
    down: integer("down"),
    hosts: integer("hosts"),
    /** ISO 8601 with milliseconds, as the trigger wrote it: the CloudEvent's `time`. */
    at: text("at").notNull(),
    /** When it was sent to the queue, once per URL; NULL while it waits to be published. */
    queued_at: text("queued_at"),
  },
  (t) => [
    uniqueIndex("notification_events_uuid").on(t.event_uuid),
    index("notification_events_unqueued").on(t.id).where(sql`queued_at IS NULL`),
    index("notification_events_notification").on(t.notification_uuid, t.id),
  ],
);

export const DELIVERY_STATES = ["queued", "delivered", "failed"] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/**
 * Each event's delivery to each URL: `queued` once published, then
 * `delivered` (a 2xx), or `failed` once the dead-letter queue has it (or no
 * outcome came in two days). A `queued` one holds back the later events of
 * its notification to that URL, so each URL gets them in order.
 */
export const notificationEventDeliveries = sqliteTable(
  "notification_event_deliveries",
  {
    event_id: integer("event_id").notNull(),
    url: text("url").notNull(),
    notification_uuid: text("notification_uuid", { length: 36 }).notNull(),
    state: text("state", { enum: DELIVERY_STATES }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    /** The last attempt's HTTP status, or why it had none. */
    last_status: integer("last_status"),
    last_error: text("last_error"),
    created_at: text("created_at").notNull(),
    updated_at: text("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.event_id, t.url] }),
    index("notification_event_deliveries_queued")
      .on(t.notification_uuid, t.url, t.event_id)
      .where(sql`state = 'queued'`),
  ],
);

export type SegmentRow = typeof failoverSegments.$inferSelect;
export type HostRow = typeof hosts.$inferSelect;
export type NotificationRow = typeof notifications.$inferSelect;
export type VmoveRow = typeof vmoves.$inferSelect;
export type RecoveryRunRow = typeof recoveryRuns.$inferSelect;
export type RecoveryMoveRow = typeof recoveryMoves.$inferSelect;
