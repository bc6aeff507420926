import type { D1Client, Database } from "../db/database";
import type { Log } from "../log";
import { cloudEvent, type EventRow, webhookHeaders } from "./events";
import type { DeliveryMessage } from "./outbox";

// The queue's consumer (docs/webhooks.md, "Delivery"): each message is one
// event for one URL. Delivered once, in order per notification and URL: a
// message whose notification has an earlier event not yet delivered (nor
// given up) to that URL waits for it; the one that gets through sends the
// next at once. A receiver that fails or does not answer gets the event
// again with backoff, with the same webhook-id; after the queue's
// max_retries, the dead-letter queue's consumer records it failed, which
// lets the later events through.

export interface Delivery {
  readonly db: Database;
  /** WEBHOOK_URLS and the secret; undefined when the Worker has none (any longer). */
  readonly webhooks: { readonly urls: readonly string[]; readonly secret: Uint8Array } | undefined;
  readonly publicUrl: string | undefined;
  /** The queue, to put a waiting message back and to send the next event on; without it, waits are retries. */
  readonly queue: Queue<DeliveryMessage> | undefined;
  readonly fetch: (request: Request) => Promise<Response>;
  readonly log: Log;
}

/** How long an attempt may take before it counts as failed. */
export const ATTEMPT_TIMEOUT_MS = 10_000;

/** Seconds before attempt `attempts + 1`: 5 s, 20 s, 80 s … 6 h at most (the queue's limit is 12 h). */
export const backoff = (attempts: number) => Math.min(5 * 4 ** Math.max(0, attempts - 1), 21_600);

/**
 * Seconds a message waits for an earlier event, the `waits`-th time: 10 s,
 * doubling to 10 minutes. Only a fallback: the earlier event's delivery
 * sends this one on at once.
 */
export const waitDelay = (waits: number) => Math.min(10 * 2 ** waits, 600);

/** A message's body, if it is one of ours. */
function parse(body: unknown): DeliveryMessage | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const { event, url, waits } = body as Record<string, unknown>;
  if (typeof event !== "number" || typeof url !== "string") return undefined;
  return { event, url, waits: typeof waits === "number" ? waits : 0 };
}

interface Found extends EventRow {
  /** This URL's delivery of it: undefined until published (or first tried). */
  readonly state: "queued" | "delivered" | "failed" | null;
  /** An earlier event of the notification is not yet delivered or given up to this URL. */
  readonly blocked: number;
}

const FIND = `SELECT e.*,
    (SELECT state FROM notification_event_deliveries WHERE event_id = e.id AND url = ?2) AS state,
    EXISTS (SELECT 1 FROM notification_events p WHERE p.notification_uuid = e.notification_uuid AND p.id < e.id
      AND (p.queued_at IS NULL OR EXISTS (SELECT 1 FROM notification_event_deliveries d
        WHERE d.event_id = p.id AND d.url = ?2 AND d.state = 'queued'))) AS blocked
  FROM notification_events e WHERE e.id = ?1`;

/** An attempt's outcome, or a decision, for an event and URL; a delivery never goes back from delivered. */
const RECORD = `INSERT INTO notification_event_deliveries
    (event_id, url, notification_uuid, state, attempts, last_status, last_error, created_at, updated_at)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
  ON CONFLICT (event_id, url) DO UPDATE SET
    state = CASE WHEN state = 'delivered' THEN state WHEN excluded.state = 'queued' THEN state ELSE excluded.state END,
    attempts = attempts + excluded.attempts,
    last_status = coalesce(excluded.last_status, last_status),
    last_error = CASE WHEN excluded.state = 'delivered' THEN NULL ELSE coalesce(excluded.last_error, last_error) END,
    updated_at = excluded.updated_at`;

interface Outcome {
  readonly state: "queued" | "delivered" | "failed";
  readonly attempts: number;
  readonly status?: number | null;
  readonly error?: string | null;
}

function record(client: D1Client, event: EventRow, url: string, o: Outcome) {
  return client
    .prepare(RECORD)
    .bind(
      event.id,
      url,
      event.notification_uuid,
      o.state,
      o.attempts,
      o.status ?? null,
      o.error ?? null,
      new Date().toISOString(),
    )
    .run();
}

/** The consumer of the events queue: one batch. */
export async function deliverBatch(batch: MessageBatch<unknown>, d: Delivery): Promise<void> {
  // Per URL, oldest event first, so that a batch holding a notification's
  // events in a row delivers them in a row; URLs do not wait for each other.
  const byUrl = new Map<string, { message: Message<unknown>; body: DeliveryMessage }[]>();
  for (const message of batch.messages) {
    const body = parse(message.body);
    if (!body) {
      d.log.error("webhooks: a message that is not an event delivery, dropped:", message.body);
      message.ack();
      continue;
    }
    byUrl.set(body.url, [...(byUrl.get(body.url) ?? []), { message, body }]);
  }
  await Promise.all(
    [...byUrl.values()].map(async (group) => {
      group.sort((a, b) => a.body.event - b.body.event);
      const later = new Set(group.map((g) => g.body.event));
      for (const { message, body } of group) {
        later.delete(body.event);
        try {
          await deliverOne(message, body, later, d);
        } catch (error) {
          d.log.error(`webhook event ${body.event} to ${body.url}: not delivered, will retry:`, error);
          message.retry({ delaySeconds: backoff(message.attempts) });
        }
      }
    }),
  );
}

async function deliverOne(
  message: Message<unknown>,
  body: DeliveryMessage,
  later: ReadonlySet<number>,
  d: Delivery,
): Promise<void> {
  const client = d.db.$client;
  const event = await client.prepare(FIND).bind(body.event, body.url).first<Found>();
  if (!event) {
    d.log.warn(`webhook event ${body.event}: no longer in the outbox, dropped`);
    message.ack();
    return;
  }
  if (event.state === "delivered" || event.state === "failed") {
    message.ack();
    return;
  }
  if (!d.webhooks?.urls.includes(body.url)) {
    // The operator removed the URL (or every webhook): its events stop here.
    await record(client, event, body.url, { state: "failed", attempts: 0, error: "not in WEBHOOK_URLS any more" });
    d.log.warn(`webhook event ${event.event_uuid} to ${body.url}: the URL is not in WEBHOOK_URLS any more, dropped`);
    message.ack();
    await sendNext(event, body.url, later, d);
    return;
  }
  if (event.blocked) {
    const waits = body.waits ?? 0;
    if (d.queue) {
      await d.queue.send({ ...body, waits: waits + 1 }, { delaySeconds: waitDelay(waits) });
      message.ack();
    } else {
      message.retry({ delaySeconds: waitDelay(waits) });
    }
    return;
  }
  const outcome = await attempt(event, body.url, d.webhooks.secret, d);
  await record(client, event, body.url, outcome);
  if (outcome.state === "delivered") {
    message.ack();
    await sendNext(event, body.url, later, d);
    return;
  }
  d.log.warn(
    `webhook event ${event.event_uuid} to ${body.url}: attempt ${message.attempts} failed (${outcome.error}); again in ${backoff(message.attempts)} s`,
  );
  message.retry({ delaySeconds: backoff(message.attempts) });
}

/** One POST of the event; its outcome, never an exception. */
async function attempt(event: EventRow, url: string, secret: Uint8Array, d: Delivery): Promise<Outcome> {
  const payload = JSON.stringify(cloudEvent(event, d.publicUrl));
  const request = new Request(url, {
    method: "POST",
    headers: await webhookHeaders(secret, event.event_uuid, payload),
    body: payload,
    // A signed event goes to the URL the operator named, never where a redirect points.
    redirect: "manual",
    signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
  });
  try {
    const response = await d.fetch(request);
    await response.body?.cancel();
    if (response.status >= 200 && response.status < 300) {
      return { state: "delivered", attempts: 1, status: response.status };
    }
    return { state: "queued", attempts: 1, status: response.status, error: `HTTP ${response.status}` };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    return {
      state: "queued",
      attempts: 1,
      error: timedOut ? `no answer within ${ATTEMPT_TIMEOUT_MS} ms` : String(error),
    };
  }
}

/**
 * Once an event is delivered or given up, the next one of its notification
 * for that URL, waiting for it, is sent on at once rather than at the end of
 * its wait (unless it is further on in this batch).
 */
async function sendNext(event: EventRow, url: string, later: ReadonlySet<number>, d: Delivery): Promise<void> {
  if (!d.queue) return;
  const next = await d.db.$client
    .prepare(
      `SELECT event_id FROM notification_event_deliveries
       WHERE notification_uuid = ?1 AND url = ?2 AND state = 'queued' AND event_id > ?3 ORDER BY event_id LIMIT 1`,
    )
    .bind(event.notification_uuid, url, event.id)
    .first<{ event_id: number }>();
  if (next && !later.has(next.event_id)) await d.queue.send({ event: next.event_id, url });
}

/**
 * The dead-letter queue's consumer: an event the queue gave up on (after
 * max_retries) is recorded failed for its URL, so that it no longer holds
 * back its notification's later events, and logged for the operator.
 */
export async function recordDeadLetters(batch: MessageBatch<unknown>, d: Delivery): Promise<void> {
  for (const message of batch.messages) {
    const body = parse(message.body);
    if (!body) {
      message.ack();
      continue;
    }
    try {
      const client = d.db.$client;
      const event = await client.prepare(FIND).bind(body.event, body.url).first<Found>();
      if (event && event.state !== "delivered") {
        await record(client, event, body.url, { state: "failed", attempts: 0 });
        const last = await client
          .prepare("SELECT attempts, last_error FROM notification_event_deliveries WHERE event_id = ? AND url = ?")
          .bind(event.id, body.url)
          .first<{ attempts: number; last_error: string | null }>();
        d.log.error(
          `webhook event ${event.event_uuid} (${event.kind} ${event.old_status ?? "-"} → ${event.new_status ?? "-"} of notification ${event.notification_uuid}) to ${body.url}: failed after ${last?.attempts ?? 0} attempts, given up: ${last?.last_error ?? "no answer"}`,
        );
        await sendNext(event, body.url, new Set(), d);
      }
      message.ack();
    } catch (error) {
      d.log.error(`webhook event ${body.event} to ${body.url}: the dead letter is not recorded yet:`, error);
      message.retry();
    }
  }
}
