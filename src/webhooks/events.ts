import type { EventKind } from "../db/schema";

// What a webhook sends (docs/webhooks.md): an outbox row as a CloudEvents
// 1.0 event in structured JSON mode, signed as the Standard Webhooks
// specification says.

/** A row of `notification_events`, as the consumer reads it. */
export interface EventRow {
  readonly id: number;
  readonly event_uuid: string;
  readonly notification_uuid: string;
  readonly kind: EventKind;
  readonly notification_type: string | null;
  readonly host_uuid: string | null;
  readonly host_name: string | null;
  readonly segment_uuid: string | null;
  readonly segment_name: string | null;
  readonly old_status: string | null;
  readonly new_status: string | null;
  readonly down: number | null;
  readonly hosts: number | null;
  readonly at: string;
  readonly queued_at: string | null;
}

export const EVENT_TYPES: Readonly<Record<EventKind, string>> = {
  status: "masakari-edge.notification.status_changed",
  held: "masakari-edge.notification.held",
};

/** The media type of a CloudEvent in structured JSON mode. */
export const CLOUDEVENTS_JSON = "application/cloudevents+json";

export interface CloudEvent {
  readonly specversion: "1.0";
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject: string;
  readonly time: string;
  readonly datacontenttype: "application/json";
  readonly data: Record<string, unknown>;
}

/** The console's page of a notification, when the deployment's public root is known. */
export const consoleLink = (publicUrl: string | undefined, uuid: string) =>
  publicUrl === undefined ? undefined : `${publicUrl}/console/#/notifications/${uuid}`;

/** The event of an outbox row; the same row always gives the same event, so a retry sends the same body. */
export function cloudEvent(row: EventRow, publicUrl: string | undefined): CloudEvent {
  const link = consoleLink(publicUrl, row.notification_uuid);
  return {
    specversion: "1.0",
    id: row.event_uuid,
    source: `${publicUrl ?? ""}/v1/notifications`,
    type: EVENT_TYPES[row.kind],
    subject: row.notification_uuid,
    time: row.at,
    datacontenttype: "application/json",
    data: {
      notification: { uuid: row.notification_uuid, type: row.notification_type },
      host: { uuid: row.host_uuid, name: row.host_name },
      segment: { uuid: row.segment_uuid, name: row.segment_name },
      old_status: row.old_status,
      new_status: row.new_status,
      ...(row.kind === "held" ? { storm_guard: { hosts_down: row.down, hosts: row.hosts } } : {}),
      ...(link === undefined ? {} : { link }),
    },
  };
}

const keys = new WeakMap<Uint8Array, Promise<CryptoKey>>();

/** The HMAC-SHA256 key of a secret, imported once per isolate. */
function hmacKey(secret: Uint8Array): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
  }
  return key;
}

/** Standard Webhooks' `webhook-signature`: `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`. */
export async function signature(secret: Uint8Array, id: string, timestamp: number, body: string): Promise<string> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(secret),
    new TextEncoder().encode(`${id}.${timestamp}.${body}`),
  );
  return `v1,${btoa(String.fromCharCode(...new Uint8Array(mac)))}`;
}

/** The headers of one delivery attempt: the timestamp is the attempt's, the id the event's. */
export async function webhookHeaders(
  secret: Uint8Array,
  id: string,
  body: string,
  now: number = Date.now(),
): Promise<Record<string, string>> {
  const timestamp = Math.floor(now / 1000);
  return {
    "content-type": CLOUDEVENTS_JSON,
    "user-agent": "masakari-edge-webhooks",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signature(secret, id, timestamp, body),
  };
}
