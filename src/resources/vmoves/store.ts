import { and, eq, type SQL } from "drizzle-orm";
import type { Database } from "../../db/database";
import { type PageRefusal, type PageRequest, paginate } from "../../db/paging";
import { type VmoveRow, vmoves } from "../../db/schema";

export interface VmoveFilters {
  status?: string;
  type?: string;
}

export function listVmoves(
  db: Database,
  notificationUuid: string,
  filters: VmoveFilters,
  page: PageRequest,
): Promise<VmoveRow[] | PageRefusal> {
  const conditions: SQL[] = [eq(vmoves.notification_uuid, notificationUuid)];
  if (filters.status !== undefined) conditions.push(eq(vmoves.status, filters.status));
  if (filters.type !== undefined) conditions.push(eq(vmoves.type, filters.type));
  return paginate(db, vmoves, and(...conditions), page);
}

/**
 * A live VM move by uuid alone. Upstream does not check that it belongs to the
 * notification in the URL (docs/upstream.md, "VM moves"), and neither do we.
 */
export async function findVmove(db: Database, uuid: string): Promise<VmoveRow | undefined> {
  return db
    .select()
    .from(vmoves)
    .where(and(eq(vmoves.uuid, uuid), eq(vmoves.deleted, 0)))
    .get();
}
