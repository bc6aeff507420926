import type { Database } from "../../db/database";
import type { MoveStage, RecoveryMoveRow } from "../../db/schema";

// The failed host's servers as one attempt of a host flow lists and
// evacuates them (recovery_moves), and the VM moves upstream's API shows
// (vmoves). Every statement here is bounded whatever the host's size: a
// page of the listing travels as one JSON parameter, and the selection,
// the evacuation order and the VM moves are each one statement over the
// attempt's rows (D20).

/** One attempt of a host flow: its run, flow and attempt (`a1`, `r1`, `r2`...). */
export interface AttemptKey {
  readonly notificationUuid: string;
  readonly run: number;
  readonly flow: number;
  readonly attempt: string;
}

const KEY = "notification_uuid = ?1 AND run = ?2 AND flow = ?3 AND attempt = ?4";
const bindKey = (k: AttemptKey) => [k.notificationUuid, k.run, k.flow, k.attempt] as const;

/** A listed server as the engine keeps it. */
export interface Listed {
  readonly id: string;
  readonly name: string;
  readonly ha: boolean;
  readonly vm: string | null;
  readonly priority: number | null;
  readonly excluded: boolean;
}

const LIST = `INSERT INTO recovery_moves
    (notification_uuid, run, flow, attempt, instance_uuid, name, seq, ha, vm_state, priority, excluded, stage, updated_at)
  SELECT ?1, ?2, ?3, ?4, s.value ->> 'id', s.value ->> 'name', ?5 + s.key, s.value ->> 'ha', s.value ->> 'vm',
    s.value ->> 'priority', s.value ->> 'excluded', 'listed', ?6
  FROM json_each(?7) s WHERE true
  ON CONFLICT DO NOTHING`;

/** Records one page of the listing, from place `seq` on. */
export async function recordListing(
  db: Database,
  key: AttemptKey,
  seq: number,
  servers: readonly Listed[],
  at: string,
): Promise<void> {
  if (servers.length === 0) return;
  const rows = servers.map((s) => ({ ...s, ha: s.ha ? 1 : 0, excluded: s.excluded ? 1 : 0 }));
  await db.$client
    .prepare(LIST)
    .bind(...bindKey(key), seq, at, JSON.stringify(rows))
    .run();
}

/** What PrepareHAEnabledInstancesTask reports of a listing, and what it selects. */
export interface Selection {
  readonly total: number;
  /**
   * HA-enabled servers in error, left alone (ignore_instances_in_error_state),
   * in listing order; one D24 excludes is named as excluded only.
   */
  readonly ignoredHa: string[];
  /** D24: servers left alone by HOST_FAILURE_EXCLUDE_METADATA, in listing order. */
  readonly excluded: string[];
  readonly ha: number;
  readonly others: number;
  /** Ids of the selected servers, HA-enabled first, each group in Nova's order, joined by ",". */
  readonly ids: string;
  readonly count: number;
}

export interface SelectionRules {
  readonly ignoreErrors: boolean;
  readonly evacuateAll: boolean;
}

/** Servers the rules let be evacuated: not excluded (D24), and not in error when those are ignored. */
const eligibleOf = (rules: SelectionRules) =>
  `excluded = 0${rules.ignoreErrors ? " AND coalesce(vm_state, '') != 'error'" : ""}`;

/** The listing's figures and what the rules select, without writing anything. */
export async function readSelection(db: Database, key: AttemptKey, rules: SelectionRules): Promise<Selection> {
  const eligible = eligibleOf(rules);
  const chosen = `${eligible} AND (ha = 1 OR ${rules.evacuateAll ? 1 : 0})`;
  const client = db.$client;
  const [counts, ignored, ids, excluded] = await client.batch<Record<string, unknown>>([
    client
      .prepare(
        `SELECT count(*) AS total, coalesce(sum(ha = 1 AND ${eligible}), 0) AS ha,
           coalesce(sum(ha = 0 AND ${eligible}), 0) AS others, coalesce(sum(${chosen}), 0) AS count
         FROM recovery_moves WHERE ${KEY}`,
      )
      .bind(...bindKey(key)),
    client
      .prepare(
        `SELECT instance_uuid FROM recovery_moves WHERE ${KEY} AND ha = 1 AND excluded = 0 AND ${rules.ignoreErrors ? 1 : 0}
           AND coalesce(vm_state, '') = 'error' ORDER BY seq`,
      )
      .bind(...bindKey(key)),
    client
      .prepare(
        `SELECT group_concat(instance_uuid, ',' ORDER BY ha DESC, seq) AS ids FROM recovery_moves WHERE ${KEY} AND ${chosen}`,
      )
      .bind(...bindKey(key)),
    client
      .prepare(`SELECT instance_uuid FROM recovery_moves WHERE ${KEY} AND excluded = 1 ORDER BY seq`)
      .bind(...bindKey(key)),
  ]);
  const c = (counts?.results[0] ?? { total: 0, ha: 0, others: 0, count: 0 }) as {
    total: number;
    ha: number;
    others: number;
    count: number;
  };
  return {
    total: c.total,
    ha: c.ha,
    others: c.others,
    count: c.count,
    ignoredHa: (ignored?.results ?? []).map((r) => String(r.instance_uuid)),
    excluded: (excluded?.results ?? []).map((r) => String(r.instance_uuid)),
    ids: String((ids?.results[0] as { ids: string | null } | undefined)?.ids ?? ""),
  };
}

// Master evacuates its pending VM moves read back newest first (created_at
// DESC, id DESC): the reverse of Prepare's order, HA-enabled ones last.
const UPSTREAM_ORDER = "ha ASC, seq DESC";
// D24: servers with a priority first, highest first; ties, and those
// without, in master's order.
const EVACUATION_ORDER = `priority IS NULL, priority DESC, ${UPSTREAM_ORDER}`;

/**
 * Writes the selection: the selected servers `pending` in evacuation order,
 * each with its VM move (`pending`, master), written once: run again, these
 * statements change nothing. VM moves are created HA-enabled first, each
 * group in Nova's order, as Prepare lists them.
 */
export async function writeSelection(
  db: Database,
  key: AttemptKey,
  rules: SelectionRules,
  sourceHost: string,
  at: string,
): Promise<void> {
  const chosen = `${eligibleOf(rules)} AND (ha = 1 OR ${rules.evacuateAll ? 1 : 0})`;
  const client = db.$client;
  await client.batch([
    client
      .prepare(
        `UPDATE recovery_moves SET selected = 1, stage = 'pending', updated_at = ?5,
           position = r.position,
           vmove_uuid = coalesce(recovery_moves.vmove_uuid, r.uuid)
         FROM (SELECT instance_uuid, row_number() OVER (ORDER BY ${EVACUATION_ORDER}) AS position,
                 lower(substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-' ||
                   substr('89ab', 1 + (abs(random()) % 4), 1) || substr(h, 18, 3) || '-' || substr(h, 21, 12)) AS uuid
               FROM (SELECT instance_uuid, ha, seq, priority, hex(randomblob(16)) AS h FROM recovery_moves
                     WHERE ${KEY} AND ${chosen})) r
         WHERE recovery_moves.notification_uuid = ?1 AND recovery_moves.run = ?2 AND recovery_moves.flow = ?3
           AND recovery_moves.attempt = ?4 AND recovery_moves.instance_uuid = r.instance_uuid
           AND recovery_moves.stage = 'listed'`,
      )
      .bind(...bindKey(key), at),
    client
      .prepare(
        `INSERT INTO vmoves (created_at, updated_at, deleted, uuid, notification_uuid, instance_uuid, instance_name,
           source_host, type, status)
         SELECT ?5, NULL, 0, vmove_uuid, notification_uuid, instance_uuid, name, ?6, 'evacuation', 'pending'
         FROM recovery_moves WHERE ${KEY} AND selected = 1
         ORDER BY ha DESC, seq
         ON CONFLICT DO NOTHING`,
      )
      .bind(...bindKey(key), at, sourceHost),
  ]);
}

/** The selected servers' ids in evacuation order, joined by ",". */
export async function evacuationOrder(db: Database, key: AttemptKey): Promise<string> {
  const row = await db.$client
    .prepare(
      `SELECT group_concat(instance_uuid, ',' ORDER BY position) AS ids FROM recovery_moves WHERE ${KEY} AND selected = 1`,
    )
    .bind(...bindKey(key))
    .first<{ ids: string | null }>();
  return row?.ids ?? "";
}

/** A selected server on its way through the per-instance procedure. */
export type Move = Omit<RecoveryMoveRow, "state"> & { readonly state: MoveState };

/** What the per-instance procedure has learned and decided so far. */
export interface MoveState {
  /** The server's states before anything was done. */
  readonly vm?: string | null;
  readonly task?: string | null;
  readonly power?: number | null;
  /** Masakari locked the server (and unlocks it at the end). */
  readonly locked?: boolean;
  /** The vm_state the confirmation compares with: error after a reset. */
  readonly old?: string | null;
  readonly stop?: boolean;
  /** Evacuations Nova had recorded for the server before ours was sent. */
  readonly evacuations?: number;
  /** When the evacuation's wait started (or, before it, a passing failure to read or lock): the phase's unit and the time (ms). */
  readonly unit?: number;
  readonly since?: number;
  /** When the stop's wait started, for a server stopped again after its evacuation. */
  readonly stopUnit?: number;
  readonly stopSince?: number;
  readonly failure?: string;
}

const decode = (row: RecoveryMoveRow): Move => ({ ...row, state: row.state ? JSON.parse(row.state) : {} });

const PENDING = `SELECT * FROM recovery_moves WHERE ${KEY} AND stage = 'pending' ORDER BY position LIMIT ?5`;

const IN_FLIGHT = `SELECT * FROM recovery_moves
  WHERE ${KEY} AND stage IN ('locking', 'prepared', 'evacuating', 'confirming', 'stopping', 'stop-confirming', 'resetting')
  ORDER BY position`;

/** The attempt's servers between their first write and done, in evacuation order. */
export async function inFlight(db: Database, key: AttemptKey): Promise<Move[]> {
  const { results } = await db.$client
    .prepare(IN_FLIGHT)
    .bind(...bindKey(key))
    .all<RecoveryMoveRow>();
  return results.map(decode);
}

/**
 * The next `count` pending servers, in evacuation order. Read, not taken:
 * the first stage written for one (guarded by `pending`) takes it.
 */
export async function pendingMoves(db: Database, key: AttemptKey, count: number): Promise<Move[]> {
  if (count <= 0) return [];
  const { results } = await db.$client
    .prepare(PENDING)
    .bind(...bindKey(key), count)
    .all<RecoveryMoveRow>();
  return results.map(decode);
}

/** Whether the attempt has servers not yet done. */
export async function remaining(db: Database, key: AttemptKey): Promise<number> {
  const row = await db.$client
    .prepare(`SELECT count(*) AS n FROM recovery_moves WHERE ${KEY} AND selected = 1 AND stage != 'done'`)
    .bind(...bindKey(key))
    .first<{ n: number }>();
  return row?.n ?? 0;
}

const ADVANCE = `UPDATE recovery_moves SET stage = ?7, state = ?8, result = ?9, updated_at = ?10
  WHERE ${KEY} AND instance_uuid = ?5 AND stage = ?6 RETURNING stage`;

/**
 * The statement moving `move` from its stage to `stage` with `state`:
 * guarded by the stage it leaves, so of two executions racing (a Workflow
 * instance thought dead and its successor) one moves it.
 */
export function advanceStatement(
  db: Database,
  key: AttemptKey,
  move: Move,
  stage: MoveStage,
  state: MoveState,
  at: string,
  result: Move["result"] = null,
): D1PreparedStatement {
  return db.$client
    .prepare(ADVANCE)
    .bind(...bindKey(key), move.instance_uuid, move.stage, stage, JSON.stringify(state), result, at);
}

/** A VM move's change: status and the fields master writes with it. */
export interface VmoveChange {
  readonly status: "ongoing" | "succeeded" | "failed" | "ignored";
  readonly start_time?: string;
  readonly end_time?: string;
  readonly dest_host?: string | null;
  readonly message?: string;
}

export function vmoveStatement(db: Database, uuid: string, change: VmoveChange, at: string): D1PreparedStatement {
  const columns = Object.keys(change) as (keyof VmoveChange)[];
  const set = columns.map((c, i) => `${c} = ?${i + 3}`).join(", ");
  return db.$client
    .prepare(`UPDATE vmoves SET ${set}, updated_at = ?2 WHERE uuid = ?1`)
    .bind(uuid, at, ...columns.map((c) => change[c] ?? null));
}

/** What an attempt's evacuations came to (D18: only this attempt's servers count). */
export interface AttemptResults {
  /** Ids of the servers evacuated, sorted, joined by ",". */
  readonly succeeded: string;
  /** Ids of the servers that failed, newest VM move first as master lists them, joined by ",". */
  readonly failed: string;
}

export async function attemptResults(db: Database, key: AttemptKey): Promise<AttemptResults> {
  const row = await db.$client
    .prepare(
      `SELECT group_concat(CASE WHEN result = 'succeeded' THEN instance_uuid END, ',' ORDER BY instance_uuid) AS succeeded,
         group_concat(CASE WHEN result = 'failed' THEN instance_uuid END, ',' ORDER BY ${UPSTREAM_ORDER}) AS failed
       FROM recovery_moves WHERE ${KEY} AND selected = 1`,
    )
    .bind(...bindKey(key))
    .first<{ succeeded: string | null; failed: string | null }>();
  return { succeeded: row?.succeeded ?? "", failed: row?.failed ?? "" };
}

/**
 * The attempt's VM moves still `pending` once it is over (its reserved host
 * was taken, or a server could not be prepared) become `ignored` with
 * `message`: master leaves them pending for ever.
 */
export async function ignoreLeftovers(db: Database, key: AttemptKey, message: string, at: string): Promise<void> {
  await db.$client
    .prepare(
      `UPDATE vmoves SET status = 'ignored', message = ?5, updated_at = ?6
       WHERE status = 'pending' AND uuid IN (SELECT vmove_uuid FROM recovery_moves WHERE ${KEY} AND selected = 1)`,
    )
    .bind(...bindKey(key), message, at)
    .run();
}
