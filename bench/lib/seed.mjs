// The data every target is loaded with, as plain SQL that both SQLite
// engines run: the API's tables carry upstream Masakari's table and column
// names, so the same statements fill the Worker's D1 database and the
// reference's SQLite file. Ids, uuids and names are derived from row
// numbers, so the workloads can address rows without reading them back.

export const segmentUuid = (i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
export const hostUuid = (i) => `00000000-0000-4000-9000-${String(i).padStart(12, "0")}`;

const rows = (count, start = 1) =>
  `WITH RECURSIVE n(i) AS (SELECT ${start} UNION ALL SELECT i + 1 FROM n WHERE i < ${start + count - 1})`;

// Strictly increasing created_at, in SQLAlchemy's SQLite text form.
const createdAt = (expr) => `strftime('%Y-%m-%d %H:%M:%S', '2026-01-01', '+' || (${expr}) || ' seconds') || '.000000'`;

/** `count` live segments with ids 1..count. */
export function segments(count, start = 1) {
  return `${rows(count, start)}
INSERT INTO failover_segments (created_at, deleted, id, uuid, name, service_type, description, recovery_method, enabled)
SELECT ${createdAt("i")}, 0, i, printf('00000000-0000-4000-8000-%012d', i), printf('seg-%07d', i), 'COMPUTE',
  'bench segment', CASE i % 4 WHEN 0 THEN 'auto' WHEN 1 THEN 'reserved_host' WHEN 2 THEN 'auto_priority' ELSE 'rh_priority' END, 1
FROM n`;
}

/** `count` compute hosts named host-0000001..., spread over the first `over` segments. */
export function hosts(count, over, start = 1) {
  return `${rows(count, start)}
INSERT INTO hosts (created_at, deleted, id, uuid, name, reserved, type, control_attributes, failover_segment_id, on_maintenance)
SELECT ${createdAt("i")}, 0, i, printf('00000000-0000-4000-9000-%012d', i), printf('host-%07d', i), 0, 'COMPUTE', 'SSH',
  printf('00000000-0000-4000-8000-%012d', (i - 1) % ${over} + 1), 0
FROM n`;
}

/**
 * `count` host-failure notifications from the first `over` hosts, every
 * other one still `new`. Only the columns of upstream's 14.0.2 schema.
 */
export function notifications(count, over, start = 1) {
  return `${rows(count, start)}
INSERT INTO notifications (created_at, deleted, id, notification_uuid, generated_time, source_host_uuid, type, payload, status)
SELECT ${createdAt("i")}, 0, i, printf('00000000-0000-4000-a000-%012d', i), ${createdAt("i")},
  printf('00000000-0000-4000-9000-%012d', (i - 1) % ${over} + 1), 'COMPUTE_HOST',
  '{"event": "STOPPED", "host_status": "NORMAL", "cluster_status": "OFFLINE"}',
  CASE i % 2 WHEN 0 THEN 'new' ELSE 'finished' END
FROM n`;
}

/** Inserts in chunks, so no single statement runs for long. */
export function chunked(make, count, chunk = 100_000) {
  const statements = [];
  for (let start = 1; start <= count; start += chunk) statements.push(make(Math.min(chunk, count - start + 1), start));
  return statements;
}
