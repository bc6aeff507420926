import type { Database } from "../../db/database";
import type { PhaseKind } from "../../db/schema";

// Phases of a host flow whose work grows with the failed host (listing its
// servers, evacuating them), and the chain of Evacuation Workflow
// instances that carries one on once the run's own budget is spent (D20).

export interface PhaseRow {
  readonly notification_uuid: string;
  readonly run: number;
  readonly scope: string;
  readonly kind: PhaseKind;
  readonly params: string;
  readonly link: number;
  readonly generation: number;
  readonly done_at: string | null;
}

const KEY = "notification_uuid = ? AND run = ? AND scope = ?";

/**
 * Records that the phase goes on in link 1 (created once: run again, this
 * changes nothing) with `params`, the link's start.
 */
export async function delegatePhase(
  db: Database,
  phase: { notificationUuid: string; run: number; scope: string; kind: PhaseKind },
  params: unknown,
  at: string,
): Promise<void> {
  await db.$client
    .prepare(
      `INSERT INTO recovery_phases (notification_uuid, run, scope, kind, params, link, generation, created_at)
       VALUES (?, ?, ?, ?, ?, 1, 1, ?) ON CONFLICT DO NOTHING`,
    )
    .bind(phase.notificationUuid, phase.run, phase.scope, phase.kind, JSON.stringify(params), at)
    .run();
}

export async function readPhase(db: Database, uuid: string, run: number, scope: string): Promise<PhaseRow | null> {
  return db.$client.prepare(`SELECT * FROM recovery_phases WHERE ${KEY}`).bind(uuid, run, scope).first<PhaseRow>();
}

/**
 * Hands the phase from link `link` to the next one, starting at `params`:
 * only from `link` (a replayed hand-over changes nothing). True when moved.
 */
export async function passPhase(
  db: Database,
  uuid: string,
  run: number,
  scope: string,
  link: number,
  params: unknown,
): Promise<boolean> {
  const row = await db.$client
    .prepare(
      `UPDATE recovery_phases SET link = link + 1, generation = 1, params = ? WHERE ${KEY} AND link = ? AND done_at IS NULL RETURNING link`,
    )
    .bind(JSON.stringify(params), uuid, run, scope, link)
    .first();
  return row !== null;
}

/** Marks the phase done (once), with the cursor it ended at. */
export async function finishPhase(
  db: Database,
  uuid: string,
  run: number,
  scope: string,
  end: unknown,
  at: string,
): Promise<void> {
  await db.$client
    .prepare(
      `UPDATE recovery_phases SET done_at = ?, params = json_set(params, '$.end', json(?)) WHERE ${KEY} AND done_at IS NULL`,
    )
    .bind(at, JSON.stringify(end ?? null), uuid, run, scope)
    .run();
}

/** The cursor a finished phase ended at. */
export const phaseEnd = (phase: PhaseRow): unknown => (JSON.parse(phase.params) as { end?: unknown }).end ?? null;

/** Moves a link whose instance died to its next generation, only from `generation`. */
export async function advanceLinkGeneration(db: Database, phase: PhaseRow): Promise<boolean> {
  const row = await db.$client
    .prepare(
      `UPDATE recovery_phases SET generation = generation + 1 WHERE ${KEY} AND link = ? AND generation = ? AND done_at IS NULL RETURNING generation`,
    )
    .bind(phase.notification_uuid, phase.run, phase.scope, phase.link, phase.generation)
    .first();
  return row !== null;
}

/** Keeps the most steps and subrequests one of the phase's instances used, and adds the Nova calls it saw fail. */
export async function recordPhaseUsage(
  db: Database,
  uuid: string,
  run: number,
  scope: string,
  usage: { steps: number; subrequests: number; novaErrors: number },
): Promise<void> {
  await db.$client
    .prepare(
      `UPDATE recovery_phases SET max_steps = max(coalesce(max_steps, 0), ?),
         max_subrequests = max(coalesce(max_subrequests, 0), ?), nova_errors = nova_errors + ? WHERE ${KEY}`,
    )
    .bind(usage.steps, usage.subrequests, usage.novaErrors, uuid, run, scope)
    .run();
}

/** The phases of live runs still being carried by links: the periodic work keeps their instances alive. */
export async function livePhases(db: Database): Promise<PhaseRow[]> {
  const { results } = await db.$client
    .prepare(
      `SELECT p.* FROM recovery_phases p JOIN recovery_runs r ON r.notification_uuid = p.notification_uuid AND r.run = p.run
       WHERE p.done_at IS NULL AND p.link > 0 AND r.ended_at IS NULL`,
    )
    .all<PhaseRow>();
  return results;
}
