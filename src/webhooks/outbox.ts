import type { Config, Env } from "../config";
import type { D1Client, Database } from "../db/database";
import type { Log } from "../log";
import { backoff } from "./deliver";

// Webhooks' outbox (docs/webhooks.md, "Delivery"). SQLite triggers write an
// event row in the statement that changes a notification's status or holds
// it (migrations/0009_webhooks.sql). Publishing reads the rows not yet
// queued, in order, sends one message per event and URL to the queue, then
// marks them queued with a delivery row per URL. A crash between the send
// and the mark only sends them again, with the same event id: the consumer
// skips a delivery already made.

/** A queue message: one event for one URL. The consumer reads the event from D1. */
export interface DeliveryMessage {
  readonly event: number;
  readonly url: string;
  /** How many times it was put back to wait for an earlier event of its notification. */
  readonly waits?: number;
}

/** Where events are published: the queue, and the URLs each event goes to. */
export interface Outbox {
  readonly queue: Queue<DeliveryMessage>;
  readonly urls: readonly string[];
}

/** The Worker's outbox; undefined without WEBHOOK_URLS (and its secret) or without the WEBHOOKS queue. */
export function outboxOf(config: Pick<Config, "webhooks">, env: Pick<Env, "WEBHOOKS">): Outbox | undefined {
  if (!config.webhooks || !env.WEBHOOKS) return undefined;
  return { queue: env.WEBHOOKS as Queue<DeliveryMessage>, urls: config.webhooks.urls };
}

/** Events read per round: with URLs, within sendBatch's 100 messages a call. */
const EVENTS_PER_ROUND = 100;
const MESSAGES_PER_SEND = 100;

export interface Published {
  /** Events marked queued. */
  readonly events: number;
  /** sendBatch calls made (subrequests). */
  readonly sends: number;
}

/**
 * Sends the events not yet queued, oldest first, up to `rounds` rounds of
 * EVENTS_PER_ROUND. Safe to run twice or at once: at worst an event is sent
 * twice, with the same id.
 */
export async function publish(db: Database, outbox: Outbox, rounds = 1): Promise<Published> {
  const client = db.$client;
  let events = 0;
  let sends = 0;
  for (let round = 0; round < rounds; round++) {
    const { results } = await client
      .prepare("SELECT id FROM notification_events WHERE queued_at IS NULL ORDER BY id LIMIT ?")
      .bind(EVENTS_PER_ROUND)
      .all<{ id: number }>();
    if (results.length === 0) break;
    const ids = results.map((r) => r.id);
    const messages = ids.flatMap((event) => outbox.urls.map((url) => ({ body: { event, url } })));
    for (let at = 0; at < messages.length; at += MESSAGES_PER_SEND) {
      await outbox.queue.sendBatch(messages.slice(at, at + MESSAGES_PER_SEND));
      sends++;
    }
    await markQueued(client, ids, outbox.urls, new Date().toISOString());
    events += ids.length;
    if (results.length < EVENTS_PER_ROUND) break;
  }
  return { events, sends };
}

/** Marks events queued and writes their delivery rows, once: rows a consumer already wrote are kept. */
async function markQueued(client: D1Client, ids: number[], urls: readonly string[], at: string): Promise<void> {
  await client.batch([
    client
      .prepare(
        `INSERT INTO notification_event_deliveries (event_id, url, notification_uuid, state, attempts, created_at, updated_at)
         SELECT e.id, u.value, e.notification_uuid, 'queued', 0, ?3, ?3
         FROM notification_events e, json_each(?2) u
         WHERE e.id IN (SELECT value FROM json_each(?1)) AND e.queued_at IS NULL
         ON CONFLICT DO NOTHING`,
      )
      .bind(JSON.stringify(ids), JSON.stringify(urls), at),
    client
      .prepare(
        "UPDATE notification_events SET queued_at = ?2 WHERE id IN (SELECT value FROM json_each(?1)) AND queued_at IS NULL",
      )
      .bind(JSON.stringify(ids), at),
  ]);
}

/**
 * Publishes without failing its caller: the API's answer and the engine's
 * steps never wait on webhooks. What is not sent now, the Cron Trigger
 * sends within a minute.
 */
export async function publishQuietly(db: Database, outbox: Outbox | undefined, log: Log): Promise<Published> {
  if (!outbox) return { events: 0, sends: 0 };
  try {
    return await publish(db, outbox);
  } catch (error) {
    log.warn("webhook events not published now (the next minute's cron sends them):", error);
    return { events: 0, sends: 0 };
  }
}

const DAY = 86_400_000;

/** How long finished rows are kept: delivered everywhere, a day; with a failed delivery, a week (an operator may look). */
export const KEEP = { delivered: DAY, failed: 7 * DAY, unsendable: DAY, undecided: 2 * DAY } as const;

/** Rows pruned per cron run, at most. */
const PRUNE_LIMIT = 500;

/** How late a delivery's next attempt may be before the cron sends its event again. */
const OVERDUE_SECONDS = 300;

/** Messages sent again per cron run, at most. */
const RESEND_LIMIT = 100;

/**
 * The seconds a delivery waits after its `attempts`-th attempt, in SQL: the
 * consumer's backoff (none before the first).
 */
const NEXT_ATTEMPT = `CASE d.attempts WHEN 0 THEN 0 ${Array.from({ length: 9 }, (_, i) => `WHEN ${i + 1} THEN ${backoff(i + 1)}`).join(" ")} ELSE ${backoff(99)} END`;

/**
 * Sends again the events whose message the queue lost (a local queue
 * restarted, a dead letter never consumed): a delivery first in line for
 * its notification and URL whose next attempt is overdue. One still on its
 * way is then sent twice, which delivers it once.
 */
async function resendOverdue(client: D1Client, outbox: Outbox, now: number): Promise<number> {
  const { results } = await client
    .prepare(
      `SELECT d.event_id, d.url FROM notification_event_deliveries d
       WHERE d.state = 'queued' AND unixepoch(d.updated_at) + ${NEXT_ATTEMPT} + ${OVERDUE_SECONDS} < ?1
         AND NOT EXISTS (SELECT 1 FROM notification_event_deliveries p WHERE p.notification_uuid = d.notification_uuid
           AND p.url = d.url AND p.state = 'queued' AND p.event_id < d.event_id)
       ORDER BY d.event_id LIMIT ${RESEND_LIMIT}`,
    )
    .bind(Math.floor(now / 1000))
    .all<{ event_id: number; url: string }>();
  if (results.length === 0) return 0;
  await outbox.queue.sendBatch(results.map((d) => ({ body: { event: d.event_id, url: d.url } })));
  await client
    .prepare(
      `UPDATE notification_event_deliveries SET updated_at = ?2
       WHERE (event_id, url) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?1)) AND state = 'queued'`,
    )
    .bind(JSON.stringify(results.map((d) => [d.event_id, d.url])), new Date(now).toISOString())
    .run();
  return results.length;
}

/**
 * The Cron Trigger's part (every minute): publishes whatever a publish
 * missed, gives up on deliveries with no outcome for two days (they would
 * hold back later events for ever), sends again what the queue lost, and
 * prunes old events, so that the outbox does not grow without bound, with
 * webhooks or without them.
 */
export async function webhooksCron(db: Database, outbox: Outbox | undefined, log: Log, now = Date.now()) {
  const published = outbox ? await publish(db, outbox, 10) : { events: 0, sends: 0 };
  const client = db.$client;
  const iso = (ms: number) => new Date(ms).toISOString();
  const undecided = await client
    .prepare(
      `UPDATE notification_event_deliveries SET state = 'failed', updated_at = ?2,
         last_error = coalesce(last_error || '; ', '') || 'no outcome within two days'
       WHERE state = 'queued' AND created_at < ?1 RETURNING event_id, url`,
    )
    .bind(iso(now - KEEP.undecided), iso(now))
    .all<{ event_id: number; url: string }>();
  for (const d of undecided.results)
    log.error(`webhook event ${d.event_id} to ${d.url}: no outcome within two days, failed`);
  const resent = outbox ? await resendOverdue(client, outbox, now) : 0;
  if (resent > 0) log.warn(`webhooks: ${resent} deliveries overdue, their events sent again`);
  const { results } = await client
    .prepare(
      `SELECT e.id FROM notification_events e
       WHERE e.at < ?1 AND CASE
         WHEN e.queued_at IS NULL THEN ?4 AND e.at < ?3
         ELSE NOT EXISTS (SELECT 1 FROM notification_event_deliveries d WHERE d.event_id = e.id
           AND (d.state = 'queued' OR (d.state = 'failed' AND d.updated_at >= ?2)))
       END
       ORDER BY e.id LIMIT ${PRUNE_LIMIT}`,
    )
    .bind(iso(now - KEEP.delivered), iso(now - KEEP.failed), iso(now - KEEP.unsendable), outbox ? 0 : 1)
    .all<{ id: number }>();
  if (results.length > 0) {
    const ids = JSON.stringify(results.map((r) => r.id));
    await client.batch([
      client
        .prepare("DELETE FROM notification_event_deliveries WHERE event_id IN (SELECT value FROM json_each(?))")
        .bind(ids),
      client.prepare("DELETE FROM notification_events WHERE id IN (SELECT value FROM json_each(?))").bind(ids),
    ]);
  }
  return { published: published.events, undecided: undecided.results.length, resent, pruned: results.length };
}
