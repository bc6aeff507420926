import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

// Tables and columns carry upstream Masakari's names (spec §11, D11) so rows
// can be moved from an existing Masakari database.
//
// Datetimes are naive UTC text in SQLAlchemy's SQLite form,
// `YYYY-MM-DD HH:MM:SS.ffffff`, always six fraction digits: ordering and
// comparing them as strings is ordering them in time.
//
// Soft delete (spec §3.4): `deleted` is 0 while a row is live and becomes the
// row's own id when it is deleted, so the unique (name, deleted) indexes only
// constrain live rows and a deleted name can be used again.
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

/** Statuses that make a segment "in use" (spec §4.3). */
export const IN_USE_STATUSES = ["new", "running", "error"] as const satisfies readonly NotificationStatus[];

const sqlList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(", "));

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
    index("segments_service_type_idx").on(t.service_type),
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
    index("hosts_type_idx").on(t.type),
    // Not upstream: serves the "in use" check and the hosts listing.
    index("hosts_failover_segment_id_idx").on(t.failover_segment_id, t.deleted),
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
    // Not upstream: serves the "in use" check and duplicate detection.
    index("notifications_source_host_uuid_idx").on(t.source_host_uuid, t.status),
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
  (t) => [uniqueIndex("uniq_vmove0uuid").on(t.uuid), index("vmoves_notification_uuid_idx").on(t.notification_uuid)],
);

export type SegmentRow = typeof failoverSegments.$inferSelect;
export type HostRow = typeof hosts.$inferSelect;
export type NotificationRow = typeof notifications.$inferSelect;
export type VmoveRow = typeof vmoves.$inferSelect;
