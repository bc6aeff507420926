import { and, eq, not, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { formatDb, now, nowSeconds } from "../../datetime";
import type { Database } from "../../db/database";
import { insertSelection, nameFree, type Refusal, refusal, updatedAtIfChanged } from "../../db/guards";
import { type PageRefusal, type PageRequest, paginate } from "../../db/paging";
import { type HostRow, hosts, type SegmentRow, failoverSegments as segments } from "../../db/schema";
import { param, Statement } from "../../db/statements";
import { segmentInUse } from "../segments/in-use";
import type { HostFields } from "./schemas";

const liveSegment = (uuid: string) => and(eq(segments.uuid, uuid), eq(segments.deleted, 0));
const liveHost = (segmentUuid: string, hostUuid: string) =>
  and(eq(hosts.uuid, hostUuid), eq(hosts.failover_segment_id, segmentUuid), eq(hosts.deleted, 0));

export interface HostFilters {
  type?: string;
  on_maintenance?: boolean;
  reserved?: boolean;
}

export function listHosts(
  db: Database,
  segmentUuid: string,
  filters: HostFilters,
  page: PageRequest,
): Promise<HostRow[] | PageRefusal> {
  const conditions: SQL[] = [eq(hosts.failover_segment_id, segmentUuid)];
  if (filters.type !== undefined) conditions.push(eq(hosts.type, filters.type));
  if (filters.on_maintenance !== undefined) conditions.push(eq(hosts.on_maintenance, filters.on_maintenance));
  if (filters.reserved !== undefined) conditions.push(eq(hosts.reserved, filters.reserved));
  return paginate(db, hosts, and(...conditions), page);
}

/** A live host of a live segment, with its segment. */
export async function findHost(
  db: Database,
  segmentUuid: string,
  hostUuid: string,
): Promise<{ host: HostRow; segment: SegmentRow } | undefined> {
  const [found] = await db
    .select({ host: hosts, segment: segments })
    .from(hosts)
    .innerJoin(segments, liveSegment(segmentUuid))
    .where(liveHost(segmentUuid, hostUuid));
  return found;
}

/** Whether a live segment is in use (docs/upstream.md, "Segments in use"), read outside a write. */
export async function isSegmentInUse(db: Database, segmentUuid: string): Promise<boolean> {
  const [row] = await db
    .select({ inUse: sql<number>`${segmentInUse(db, segmentUuid)}` })
    .from(segments)
    .where(liveSegment(segmentUuid));
  return Boolean(row?.inUse);
}

const liveSegmentParam = and(eq(segments.uuid, sql.placeholder("segment")), eq(segments.deleted, 0));

const insertHost = new Statement<HostRow>(
  (db) =>
    db
      .insert(hosts)
      .select(
        (qb) =>
          qb
            .select(
              insertSelection(hosts, {
                created_at: param("created_at"),
                deleted: 0,
                uuid: param("uuid"),
                name: param("name"),
                reserved: param("reserved"),
                type: param("type"),
                control_attributes: param("control_attributes"),
                failover_segment_id: segments.uuid,
                on_maintenance: param("on_maintenance"),
              }),
            )
            .from(segments)
            .where(liveSegmentParam) as never,
      )
      .onConflictDoNothing({ target: [hosts.name, hosts.deleted] })
      .returning(),
  hosts,
);

const selectLiveSegment = new Statement<SegmentRow>(
  (db) => db.select().from(segments).where(liveSegmentParam),
  segments,
);

/**
 * Inserts a host in a live segment unless a live host anywhere has its
 * name, in one statement: the row is selected from the segment only while
 * the segment is live, and the unique index on (name, deleted) turns a
 * taken name into "no row" (D12).
 */
export async function createHost(
  db: Database,
  segmentUuid: string,
  fields: Required<Pick<HostFields, "name" | "type" | "control_attributes">> & HostFields,
): Promise<{ host: HostRow; segment: SegmentRow } | Exclude<Refusal, "in-use">> {
  const [inserted, segment] = await db.$client.batch([
    insertHost.bind(db, {
      segment: segmentUuid,
      created_at: nowSeconds(),
      uuid: crypto.randomUUID(),
      name: fields.name,
      reserved: Number(fields.reserved ?? false),
      type: fields.type,
      control_attributes: fields.control_attributes,
      on_maintenance: Number(fields.on_maintenance ?? false),
    }),
    selectLiveSegment.bind(db, { segment: segmentUuid }),
  ]);
  // One batch: one round trip, one implicit transaction.
  const [host] = insertHost.rows(inserted);
  const [owner] = selectLiveSegment.rows(segment);
  if (!owner) return "not-found";
  return host ? { host, segment: owner } : "name-taken";
}

const other = alias(hosts, "other_host");

/** The host as the guarded write found it, read in the same batch. */
function classify(db: Database, segmentUuid: string, hostUuid: string) {
  return db
    .select({ inUse: sql<number>`${segmentInUse(db, segmentUuid)}` })
    .from(hosts)
    .where(liveHost(segmentUuid, hostUuid));
}

/**
 * Updates a live host of the segment while the segment is not in use and
 * the new name is free, in one guarded UPDATE (D12). updated_at moves only
 * when a value actually changes.
 */
export async function updateHost(
  db: Database,
  segmentUuid: string,
  hostUuid: string,
  changes: HostFields,
): Promise<{ host: HostRow; segment: SegmentRow } | Refusal> {
  const [updated, why, segment] = await db.batch([
    db
      .update(hosts)
      .set({ ...changes, updated_at: updatedAtIfChanged(hosts, changes) })
      .where(
        and(
          liveHost(segmentUuid, hostUuid),
          not(segmentInUse(db, segmentUuid)),
          nameFree(db, other, changes.name, hostUuid),
        ),
      )
      .returning(),
    classify(db, segmentUuid, hostUuid),
    db.select().from(segments).where(liveSegment(segmentUuid)),
  ]);
  const [host] = updated;
  const [owner] = segment;
  if (host && owner) return { host, segment: owner };
  return refusal(why);
}

/** Soft-deletes a live host of the segment while the segment is not in use (D12). */
export async function deleteHost(
  db: Database,
  segmentUuid: string,
  hostUuid: string,
): Promise<"deleted" | Exclude<Refusal, "name-taken">> {
  const [deleted, why] = await db.batch([
    db
      .update(hosts)
      .set({ deleted: sql`${hosts.id}`, deleted_at: formatDb(now()) })
      .where(and(liveHost(segmentUuid, hostUuid), not(segmentInUse(db, segmentUuid))))
      .returning({ id: hosts.id }),
    classify(db, segmentUuid, hostUuid),
  ]);
  if (deleted.length > 0) return "deleted";
  return refusal(why) === "in-use" ? "in-use" : "not-found";
}
