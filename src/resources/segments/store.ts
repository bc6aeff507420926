import { and, eq, not, notExists, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { formatDb, now, nowSeconds } from "../../datetime";
import type { Database } from "../../db/database";
import { nameFree, type Refusal, refusal, updatedAtIfChanged } from "../../db/guards";
import { type PageRefusal, type PageRequest, paginate } from "../../db/paging";
import { hosts, type SegmentRow, failoverSegments as segments } from "../../db/schema";
import { param, Statement } from "../../db/statements";
import { segmentInUse } from "./in-use";
import type { SegmentFields } from "./schemas";

const live = (uuid: string) => and(eq(segments.uuid, uuid), eq(segments.deleted, 0));

export interface SegmentFilters {
  recovery_method?: string;
  service_type?: string;
  enabled?: boolean;
}

export function listSegments(
  db: Database,
  filters: SegmentFilters,
  page: PageRequest,
): Promise<SegmentRow[] | PageRefusal> {
  const conditions: SQL[] = [];
  if (filters.recovery_method !== undefined)
    conditions.push(sql`${segments.recovery_method} = ${filters.recovery_method}`);
  if (filters.service_type !== undefined) conditions.push(eq(segments.service_type, filters.service_type));
  if (filters.enabled !== undefined) conditions.push(eq(segments.enabled, filters.enabled));
  return paginate(db, segments, and(...conditions), page);
}

const selectSegment = new Statement<SegmentRow>(
  (db) =>
    db
      .select()
      .from(segments)
      .where(and(eq(segments.uuid, sql.placeholder("uuid")), eq(segments.deleted, 0))),
  segments,
);

/** A live segment by uuid. */
export function findSegment(db: Database, uuid: string): Promise<SegmentRow | undefined> {
  return selectSegment.get(db, { uuid });
}

/**
 * Inserts a segment unless a live one has its name. The unique index on
 * (name, deleted) is the guard: ON CONFLICT DO NOTHING makes a taken name
 * "no row inserted" in the same statement (D12).
 */
export async function createSegment(
  db: Database,
  fields: Required<Pick<SegmentFields, "name" | "recovery_method" | "service_type">> & SegmentFields,
): Promise<SegmentRow | "name-taken"> {
  const row = await insertSegment.get(db, {
    created_at: nowSeconds(),
    uuid: crypto.randomUUID(),
    name: fields.name,
    service_type: fields.service_type,
    description: fields.description ?? null,
    recovery_method: fields.recovery_method,
    enabled: fields.enabled ?? true,
  });
  return row ?? "name-taken";
}

const insertSegment = new Statement<SegmentRow>(
  (db) =>
    db
      .insert(segments)
      .values({
        created_at: param("created_at"),
        uuid: param("uuid"),
        name: param("name"),
        service_type: param("service_type"),
        description: param("description"),
        recovery_method: param("recovery_method"),
        enabled: sql.placeholder("enabled"),
      })
      .onConflictDoNothing({ target: [segments.name, segments.deleted] })
      .returning(),
  segments,
);

/** The segment as the guarded write found it, read in the same batch. */
function classify(db: Database, uuid: string) {
  return db
    .select({ inUse: sql<number>`${segmentInUse(db, uuid)}` })
    .from(segments)
    .where(live(uuid));
}

const other = alias(segments, "other_segment");

/**
 * Updates a live segment that is not in use, in one guarded UPDATE: the
 * WHERE clause holds every precondition (live, not in use, name free), so
 * no change can slip in between a check and the write (D12). updated_at
 * moves only when a value actually changes, as SQLAlchemy does.
 */
export async function updateSegment(db: Database, uuid: string, changes: SegmentFields): Promise<SegmentRow | Refusal> {
  const [updated, why] = await db.batch([
    db
      .update(segments)
      .set({ ...changes, updated_at: updatedAtIfChanged(segments, changes) })
      .where(and(live(uuid), not(segmentInUse(db, uuid)), nameFree(db, other, changes.name, uuid)))
      .returning(),
    classify(db, uuid),
  ]);
  return updated[0] ?? refusal(why);
}

/**
 * Soft-deletes a live segment that is not in use, then its live hosts, in
 * one batch (D12): the segment UPDATE carries the in-use guard, and the
 * hosts go only once their segment is no longer live.
 */
export async function deleteSegment(db: Database, uuid: string): Promise<"deleted" | Exclude<Refusal, "name-taken">> {
  const deletedAt = formatDb(now());
  const [deleted, , why] = await db.batch([
    db
      .update(segments)
      .set({ deleted: sql`${segments.id}`, deleted_at: deletedAt })
      .where(and(live(uuid), not(segmentInUse(db, uuid))))
      .returning({ id: segments.id }),
    db
      .update(hosts)
      .set({ deleted: sql`${hosts.id}`, deleted_at: deletedAt })
      .where(
        and(
          eq(hosts.failover_segment_id, uuid),
          eq(hosts.deleted, 0),
          notExists(db.select({ one: sql`1` }).from(segments).where(live(uuid))),
        ),
      ),
    classify(db, uuid),
  ]);
  if (deleted.length > 0) return "deleted";
  return refusal(why) === "in-use" ? "in-use" : "not-found";
}
