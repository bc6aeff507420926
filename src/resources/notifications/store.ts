import { type AnyColumn, and, eq, exists, gte, not, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { addSeconds, formatDb, nowSeconds, type UtcDateTime } from "../../datetime";
import type { Database } from "../../db/database";
import { insertSelection } from "../../db/guards";
import { type PageRefusal, type PageRequest, paginate } from "../../db/paging";
import { type HostRow, hosts, type NotificationRow, notifications } from "../../db/schema";
import { param, Statement } from "../../db/statements";
import { pythonJson } from "../../python";

export interface NotificationFilters {
  status?: string;
  source_host_uuid?: string;
  type?: string;
  generatedSince?: UtcDateTime;
}

export function listNotifications(
  db: Database,
  filters: NotificationFilters,
  page: PageRequest,
): Promise<NotificationRow[] | PageRefusal> {
  const conditions: SQL[] = [];
  if (filters.status !== undefined) conditions.push(sql`${notifications.status} = ${filters.status}`);
  if (filters.source_host_uuid !== undefined)
    conditions.push(eq(notifications.source_host_uuid, filters.source_host_uuid));
  if (filters.type !== undefined) conditions.push(eq(notifications.type, filters.type));
  if (filters.generatedSince !== undefined) {
    conditions.push(gte(notifications.generated_time, formatDb(filters.generatedSince)));
  }
  return paginate(db, notifications, and(...conditions), page);
}

const selectNotification = new Statement<NotificationRow>(
  (db) =>
    db
      .select()
      .from(notifications)
      .where(and(eq(notifications.notification_uuid, sql.placeholder("uuid")), eq(notifications.deleted, 0))),
  notifications,
);

/** A live notification by uuid. */
export function findNotification(db: Database, uuid: string): Promise<NotificationRow | undefined> {
  return selectNotification.get(db, { uuid });
}

export interface NewNotification {
  type: string;
  hostname: string;
  generatedTime: UtcDateTime;
  payload: Record<string, string>;
}

export type Refusal = "host-not-found" | "host-on-maintenance" | "duplicate";

const earlier = alias(notifications, "earlier");

/**
 * Whether the stored payload `column` equals `payload` as a dict: the same
 * keys with the same values, in any order (upstream compares dicts).
 * Stored text that is not a JSON object equals nothing.
 */
function samePayload(column: AnyColumn, payload: SQL, keys: SQL): SQL {
  return sql`CASE WHEN json_valid(${column}) AND json_type(${column}) = 'object' THEN
      (SELECT count(*) FROM json_each(${column})) = ${keys}
      AND NOT EXISTS (
        SELECT 1 FROM json_each(${payload}) AS new_item
        WHERE json_type(${column}, '$."' || new_item.key || '"') IS NOT new_item.type
           OR json_extract(${column}, '$."' || new_item.key || '"') IS NOT new_item.value)
    ELSE 0 END`;
}

const liveHostNamed = and(eq(hosts.name, sql.placeholder("hostname")), eq(hosts.deleted, 0));

const insertNotification = new Statement<NotificationRow>((db) => {
  const values = insertSelection(notifications, {
    created_at: param("created_at"),
    deleted: 0,
    notification_uuid: param("notification_uuid"),
    generated_time: param("generated_time"),
    source_host_uuid: hosts.uuid,
    type: param("type"),
    payload: param("payload"),
    status: "new",
    // Master records the host's segment at creation.
    failover_segment_uuid: hosts.failover_segment_id,
  });
  const duplicate = exists(
    db
      .select({ one: sql`1` })
      .from(earlier)
      .where(
        and(
          eq(earlier.deleted, 0),
          eq(earlier.type, sql.placeholder("type")),
          eq(earlier.source_host_uuid, hosts.uuid),
          gte(earlier.generated_time, sql.placeholder("threshold")),
          samePayload(earlier.payload, param("payload_json"), param("payload_keys")),
        ),
      ),
  );
  return db
    .insert(notifications)
    .select(
      (qb) =>
        qb
          .select(values)
          .from(hosts)
          .where(and(liveHostNamed, sql`coalesce(${hosts.on_maintenance}, 0) = 0`, not(duplicate))) as never,
    )
    .returning();
}, notifications);

const maintenance = { onMaintenance: hosts.on_maintenance };
const selectHostMaintenance = new Statement<{ onMaintenance: HostRow["on_maintenance"] }>(
  (db) => db.select(maintenance).from(hosts).where(liveHostNamed),
  maintenance,
);

/**
 * Records a notification with status new, in one INSERT ... SELECT whose WHERE
 * clause holds upstream's rules (docs/upstream.md, "Creating a notification"
 * and "Duplicate notifications"): a live host of that name, not on
 * maintenance, with no equal notification generated within the interval. D1
 * runs one statement at a time, so two identical notifications sent at once
 * cannot both pass (D12; upstream needs a sleep or a lock). A read in the same
 * batch says which rule refused a row, in upstream's order.
 */
export async function createNotification(
  db: Database,
  notification: NewNotification,
  duplicateInterval: number,
): Promise<NotificationRow | Refusal> {
  const host = { hostname: notification.hostname };
  const [inserted, found] = await db.$client.batch([
    insertNotification.bind(db, {
      ...host,
      created_at: nowSeconds(),
      notification_uuid: crypto.randomUUID(),
      generated_time: formatDb(notification.generatedTime),
      type: notification.type,
      // Stored as upstream's json.dumps writes it, so rows move both ways (D11).
      payload: pythonJson(notification.payload),
      payload_json: JSON.stringify(notification.payload),
      payload_keys: Object.keys(notification.payload).length,
      threshold: formatDb(addSeconds(notification.generatedTime, -duplicateInterval)),
    }),
    selectHostMaintenance.bind(db, host),
  ]);
  const [row] = insertNotification.rows(inserted);
  if (row) return row;
  const [source] = selectHostMaintenance.rows(found);
  if (!source) return "host-not-found";
  return source.onMaintenance ? "host-on-maintenance" : "duplicate";
}
