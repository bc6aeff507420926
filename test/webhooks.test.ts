import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { type D1Client, database } from "../src/db/database";
import worker from "../src/index";
import type { Log } from "../src/log";
import { backoff, type Delivery, deliverBatch, recordDeadLetters } from "../src/webhooks/deliver";
import {
  type DeliveryMessage,
  type Outbox,
  outboxOf,
  publish,
  publishQuietly,
  webhooksCron,
} from "../src/webhooks/outbox";
// @ts-expect-error: Vite's raw text import, which tsc knows nothing of
import wranglerToml from "../wrangler.toml?raw";
import { Runtime } from "./engine-runtime";
import {
  appWith,
  createHost,
  createSegment,
  holdRecoveries,
  type Json,
  seedNotification,
  sql,
  unique,
} from "./helpers";

// Webhooks (docs/webhooks.md): every notification status change and every
// storm-guard hold is a signed CloudEvent, delivered through a queue to each
// WEBHOOK_URLS endpoint, at least once, in order per notification and URL.
// The queue is played here by QueueHarness, on a virtual clock: it delivers
// in batches, in the order a test asks (reversed, one at a time), retries
// with the delays the consumer asks for, and hands a message to the
// dead-letter consumer after wrangler.toml's max_retries. The receiver is an
// auxiliary Worker (test/fakes/webhook-receiver.mjs) that keeps what it got;
// signatures are checked with the standardwebhooks library, not our code.

// Runs the API starts stay as the API stored them: the engine's own tests
// below run on the in-test runtime.
holdRecoveries();

const SECRET = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
const PUBLIC_URL = "https://masakari.example.com";
const receiver = (env as unknown as { WEBHOOK_RECEIVER: Fetcher }).WEBHOOK_RECEIVER;
const mutableEnv = env as unknown as Record<string, unknown>;

/** wrangler.toml's settings for the events queue's consumer. */
function consumerSettings() {
  const table = (wranglerToml as string).split("[[queues.consumers]]")[1] ?? "";
  const value = (key: string) => table.match(new RegExp(`^${key} = (.+)$`, "m"))?.[1];
  return {
    maxRetries: Number(value("max_retries")),
    deadLetterQueue: JSON.parse(value("dead_letter_queue") ?? "null"),
  };
}

interface Pending {
  readonly id: string;
  readonly body: DeliveryMessage;
  readonly attempts: number;
  readonly at: number;
}

/** Cloudflare Queues as the consumer sees them, on a virtual clock (seconds). */
class QueueHarness {
  clock = 0;
  pending: Pending[] = [];
  /** Every message sent, in order. */
  readonly sent: DeliveryMessage[] = [];
  /** The delays of the retries the consumer asked for, in order. */
  readonly retries: number[] = [];
  /** Messages handed to the dead-letter queue. */
  readonly dead: DeliveryMessage[] = [];
  #ids = 0;

  async send(body: DeliveryMessage, options?: QueueSendOptions) {
    this.#add(body, options?.delaySeconds ?? 0);
  }

  async sendBatch(messages: Iterable<MessageSendRequest<DeliveryMessage>>) {
    for (const m of messages) this.#add(m.body, m.delaySeconds ?? 0);
  }

  #add(body: DeliveryMessage, delay: number) {
    this.sent.push(structuredClone(body));
    this.pending.push({ id: `m${++this.#ids}`, body: structuredClone(body), attempts: 1, at: this.clock + delay });
  }

  get queue() {
    return this as unknown as Queue<DeliveryMessage>;
  }

  /**
   * Delivers until nothing is left: batches of `batchSize` among the
   * messages due, oldest first or newest first, the clock moved on to the
   * next one due when none is.
   */
  async run(d: Omit<Delivery, "queue">, options: { batchSize?: number; order?: "fifo" | "reverse" } = {}) {
    const { maxRetries } = consumerSettings();
    const delivery = { ...d, queue: this.queue };
    for (let round = 0; round < 5_000; round++) {
      const due = this.pending.filter((p) => p.at <= this.clock);
      if (due.length === 0) {
        if (this.pending.length === 0) return;
        this.clock = Math.min(...this.pending.map((p) => p.at));
        continue;
      }
      const take = (options.order === "reverse" ? due.reverse() : due).slice(0, options.batchSize ?? 25);
      this.pending = this.pending.filter((p) => !take.includes(p));
      const batch = messageBatch("masakari-webhooks", take);
      await deliverBatch(batch, delivery);
      const dead: Pending[] = [];
      for (const p of take) {
        const outcome = batch.outcomes.get(p.id);
        if (outcome === "ack") continue;
        // Neither acked nor retried: the handler returned, so the platform acks it.
        if (outcome === undefined) continue;
        this.retries.push(outcome.delaySeconds ?? 0);
        // max_retries retries after the first delivery, then the dead-letter queue.
        if (p.attempts > maxRetries) dead.push(p);
        else this.pending.push({ ...p, attempts: p.attempts + 1, at: this.clock + (outcome.delaySeconds ?? 0) });
      }
      if (dead.length > 0) {
        this.dead.push(...dead.map((p) => p.body));
        const letters = messageBatch("masakari-webhooks-dlq", dead);
        await recordDeadLetters(letters, delivery);
      }
    }
    throw new Error("the queue never drained");
  }
}

/**
 * A batch as the queue hands it to the consumer, keeping what the consumer
 * did with each message (cloudflare:test's batches do not keep a retry's
 * delay).
 */
function messageBatch(queue: string, pending: Pending[]) {
  const outcomes = new Map<string, "ack" | QueueRetryOptions>();
  const messages = pending.map((p) => ({
    id: p.id,
    timestamp: new Date(),
    attempts: p.attempts,
    body: structuredClone(p.body) as unknown,
    ack: () => {
      if (!outcomes.has(p.id)) outcomes.set(p.id, "ack");
    },
    retry: (options: QueueRetryOptions = {}) => {
      if (!outcomes.has(p.id)) outcomes.set(p.id, options);
    },
  }));
  const batch = {
    queue,
    messages,
    ackAll: () => {
      for (const m of messages) m.ack();
    },
    retryAll: (options?: QueueRetryOptions) => {
      for (const m of messages) m.retry(options);
    },
  };
  return Object.assign(batch as unknown as MessageBatch<unknown>, { outcomes });
}

/** A log that keeps its lines. */
function recordingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  const keep = (message: string, ...details: unknown[]) => {
    lines.push([message, ...details.map(String)].join(" "));
  };
  return { lines, info: keep, warn: keep, error: keep };
}

interface Received {
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly status: number;
}

async function received(endpoint: string): Promise<Received[]> {
  const response = await receiver.fetch(`http://hooks.test/_control/received?endpoint=${endpoint}`);
  return ((await response.json()) as { received: Received[] }).received;
}

async function outage(endpoint: string, status: number, times: number) {
  await receiver.fetch("http://hooks.test/_control/outage", {
    method: "POST",
    body: JSON.stringify({ endpoint, status, times }),
  });
}

/** What a receiver makes of a request, as the standardwebhooks library verifies it (it throws otherwise). */
function verified(r: Received): Json {
  return new Webhook(SECRET).verify(r.body, r.headers);
}

/** The events the receiver accepted, verified, for one notification. */
async function accepted(endpoint: string, notification?: string): Promise<Json[]> {
  return (await received(endpoint))
    .filter((r) => r.status === 204)
    .map(verified)
    .filter((e) => notification === undefined || e.subject === notification);
}

/**
 * A test's webhooks: two fresh endpoints, its settings in the Worker's env
 * (which the engine's steps read) and an app configured with them, a queue
 * harness as the WEBHOOKS binding.
 */
function setup(options: { publicUrl?: boolean } = {}) {
  const endpoints = [unique("a"), unique("b")];
  const urls = endpoints.map((e) => `http://hooks.test/${e}`);
  const settings: Record<string, string> = { WEBHOOK_URLS: urls.join(" "), WEBHOOK_SECRET: SECRET };
  if (options.publicUrl !== false) settings.PUBLIC_URL = PUBLIC_URL;
  const harness = new QueueHarness();
  Object.assign(mutableEnv, { WEBHOOK_URLS: undefined, PUBLIC_URL: undefined }, settings, { WEBHOOKS: harness });
  const config = loadConfig({ ...env, ...settings });
  const log = recordingLog();
  /** Each attempt: where, which event, and when on the harness's clock. */
  const sentAt: { url: string; id: string | null; clock: number }[] = [];
  const delivery: Omit<Delivery, "queue"> = {
    db: database(env.DB),
    webhooks: config.webhooks,
    publicUrl: config.publicUrl,
    fetch: (request) => {
      sentAt.push({ url: request.url, id: request.headers.get("webhook-id"), clock: harness.clock });
      return receiver.fetch(request);
    },
    log,
  };
  const outbox: Outbox = { queue: harness.queue, urls };
  return { endpoints, urls, harness, delivery, outbox, log, sentAt, api: appWith(settings) };
}

/** A segment with `size` hosts, through the API. */
async function segmentWith(size: number) {
  const segment = await createSegment();
  const hosts = [];
  for (let i = 0; i < size; i++) hosts.push(await createHost(segment.uuid));
  return { segment, hosts };
}

async function eventsOf(uuid: string) {
  return sql<{ id: number; event_uuid: string; kind: string; old_status: string | null; new_status: string }>(
    "SELECT id, event_uuid, kind, old_status, new_status FROM notification_events WHERE notification_uuid = ? ORDER BY id",
    uuid,
  );
}

const setStatus = (uuid: string, status: string) =>
  sql("UPDATE notifications SET status = ? WHERE notification_uuid = ?", status, uuid);

const dbNow = () => new Date().toISOString().replace("T", " ").replace("Z", "000");

beforeEach(async () => {
  // Each test starts from an empty outbox, and no webhook setting carries over.
  await sql("DELETE FROM notification_event_deliveries");
  await sql("DELETE FROM notification_events");
  Object.assign(mutableEnv, { WEBHOOK_URLS: undefined, WEBHOOK_SECRET: undefined, PUBLIC_URL: undefined });
});

describe("the outbox, filled by triggers", () => {
  it("a notification's creation, each change of its status and a storm-guard hold are one event each, in order; a write that changes no status is none", async () => {
    const triggers = await sql<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name");
    expect(triggers.map((t) => t.name)).toEqual([
      "notification_events_created",
      "notification_events_held",
      "notification_events_status",
    ]);
    const { segment, hosts } = await segmentWith(2);
    const [host] = hosts;
    const uuid = await seedNotification(host.uuid, "new");
    await setStatus(uuid, "running");
    await setStatus(uuid, "running");
    await sql(
      "UPDATE notifications SET message = 'x', updated_at = '2026-01-01 10:00:01.000000' WHERE notification_uuid = ?",
      uuid,
    );
    await setStatus(uuid, "error");
    const storm = `INSERT INTO recovery_storm (notification_uuid, segment_uuid, host_uuid, state, at, down, hosts)
      VALUES (?, ?, ?, ?, ?, 1, 2) ON CONFLICT (notification_uuid) DO NOTHING`;
    await sql(storm, uuid, segment.uuid, host.uuid, "held", dbNow());
    // A hold decided again (a step run twice) finds the first: no second event.
    await sql(storm, uuid, segment.uuid, host.uuid, "held", dbNow());
    const admitted = await seedNotification(hosts[1].uuid, "new");
    await sql(storm, admitted, segment.uuid, hosts[1].uuid, "admitted", dbNow());

    const events = await eventsOf(uuid);
    expect(events.map((e) => [e.kind, e.old_status, e.new_status])).toEqual([
      ["status", null, "new"],
      ["status", "new", "running"],
      ["status", "running", "error"],
      ["held", "error", "error"],
    ]);
    expect(new Set(events.map((e) => e.event_uuid)).size).toBe(4);
    for (const e of events)
      expect(e.event_uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const [row] = await sql<Json>("SELECT * FROM notification_events WHERE id = ?", events[0]?.id);
    expect(row).toMatchObject({
      notification_type: "COMPUTE_HOST",
      host_uuid: host.uuid,
      host_name: host.name,
      segment_uuid: segment.uuid,
      segment_name: segment.name,
      queued_at: null,
    });
    expect(row.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect((await eventsOf(admitted)).map((e) => e.kind)).toEqual(["status"]);
  });
});

describe("an event", () => {
  it("is a CloudEvent in structured mode, signed as Standard Webhooks says, with a link to the console", async () => {
    const { endpoints, harness, delivery, api } = setup();
    const { segment, hosts } = await segmentWith(1);
    const [host] = hosts;
    const res = await api("POST", "/v1/notifications", {
      body: {
        notification: {
          type: "COMPUTE_HOST",
          hostname: host.name,
          generated_time: new Date().toISOString().slice(0, 19),
          payload: { event: "STOPPED", host_status: "NORMAL", cluster_status: "OFFLINE" },
        },
      },
    });
    expect(res.status).toBe(202);
    const uuid = res.json.notification.notification_uuid;
    // The API published its event: one message per URL, before any cron.
    const [event] = await eventsOf(uuid);
    expect(harness.sent).toEqual(endpoints.map((e) => ({ event: event?.id, url: `http://hooks.test/${e}` })));
    await harness.run(delivery);

    for (const endpoint of endpoints) {
      const [request, ...more] = await received(endpoint);
      expect(more).toEqual([]);
      expect(request?.headers["content-type"]).toBe("application/cloudevents+json");
      expect(request?.headers["webhook-id"]).toBe(event?.event_uuid);
      expect(request?.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
      expect(Math.abs(Number(request?.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
      const body = verified(request as Received);
      expect(body).toEqual({
        specversion: "1.0",
        id: event?.event_uuid,
        source: `${PUBLIC_URL}/v1/notifications`,
        type: "masakari-edge.notification.status_changed",
        subject: uuid,
        time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        datacontenttype: "application/json",
        data: {
          notification: { uuid, type: "COMPUTE_HOST" },
          host: { uuid: host.uuid, name: host.name },
          segment: { uuid: segment.uuid, name: segment.name },
          old_status: null,
          new_status: "new",
          link: `${PUBLIC_URL}/console/#/notifications/${uuid}`,
        },
      });
      // The library rejects what was not signed with the secret, or was changed.
      expect(() =>
        new Webhook(SECRET).verify(request?.body.replace('"new"', '"old"') ?? "", request?.headers ?? {}),
      ).toThrow();
      const other = `whsec_${btoa("another secret of 24 bytes!!")}`;
      expect(() => new Webhook(other).verify(request?.body ?? "", request?.headers ?? {})).toThrow();
    }
    const deliveries = await sql(
      "SELECT url, state, attempts, last_status FROM notification_event_deliveries WHERE event_id = ? ORDER BY url",
      event?.id,
    );
    expect(deliveries).toEqual(
      endpoints.map((e) => ({ url: `http://hooks.test/${e}`, state: "delivered", attempts: 1, last_status: 204 })),
    );
  });

  it("has no link without PUBLIC_URL", async () => {
    const { endpoints, harness, delivery, outbox } = setup({ publicUrl: false });
    const { hosts } = await segmentWith(1);
    const uuid = await seedNotification(hosts[0].uuid, "new");
    await publish(database(env.DB), outbox);
    await harness.run(delivery);
    const [event] = await accepted(endpoints[0] as string, uuid);
    expect(event.source).toBe("/v1/notifications");
    expect(event.data).not.toHaveProperty("link");
    expect(event.data.new_status).toBe("new");
  });
});

describe("delivery", () => {
  it("each URL gets a notification's events once each and in order, whatever order and batches the queue delivers them in, sent twice or not", async () => {
    const { endpoints, harness, delivery, outbox } = setup();
    const { hosts } = await segmentWith(1);
    const uuid = await seedNotification(hosts[0].uuid, "new");
    for (const status of ["running", "error", "running", "finished"]) await setStatus(uuid, status);
    const events = await eventsOf(uuid);
    expect(events).toHaveLength(5);

    // A publish whose mark never happened (the Worker died between the send
    // and the mark): its events go out again, with the same ids.
    const client = database(env.DB).$client;
    const failingMark: D1Client = {
      prepare: (query) => client.prepare(query),
      batch: async () => {
        throw new Error("D1 went away");
      },
    };
    await expect(publish(database(failingMark), outbox)).rejects.toThrow("D1 went away");
    await publish(database(env.DB), outbox);
    expect(harness.sent).toHaveLength(20);
    // Newest first, one message a batch: each event arrives before those it must follow.
    await harness.run(delivery, { batchSize: 1, order: "reverse" });

    for (const endpoint of endpoints) {
      const got = await received(endpoint);
      expect(got.map((r) => r.status)).toEqual([204, 204, 204, 204, 204]);
      expect(got.map((r) => r.headers["webhook-id"])).toEqual(events.map((e) => e.event_uuid));
      expect(got.map((r) => verified(r).data.new_status)).toEqual(["new", "running", "error", "running", "finished"]);
    }
    const states = await sql(
      "SELECT DISTINCT state FROM notification_event_deliveries WHERE notification_uuid = ?",
      uuid,
    );
    expect(states).toEqual([{ state: "delivered" }]);
  });

  it("a receiver that is down gets the events again with backoff, the same webhook-id each time, in order; the other URL does not wait for it", async () => {
    const { endpoints, harness, delivery, outbox, log, sentAt } = setup();
    const [down, up] = endpoints as [string, string];
    await outage(down, 503, 3);
    const { hosts } = await segmentWith(1);
    const uuid = await seedNotification(hosts[0].uuid, "new");
    await setStatus(uuid, "running");
    await setStatus(uuid, "finished");
    const events = await eventsOf(uuid);
    await publish(database(env.DB), outbox);
    await harness.run(delivery);

    const got = await received(down);
    expect(got.map((r) => [r.status, r.headers["webhook-id"]])).toEqual([
      [503, events[0]?.event_uuid],
      [503, events[0]?.event_uuid],
      [503, events[0]?.event_uuid],
      ...events.map((e) => [204, e.event_uuid]),
    ]);
    // Every attempt is signed anew, and each verifies.
    for (const r of got) expect(verified(r).id).toBe(r.headers["webhook-id"]);
    expect(harness.retries).toEqual([5, 20, 80]);
    // The first got through after 5 + 20 + 80 s, and the two it held back at once after it.
    expect(sentAt.filter((a) => a.url.endsWith(down)).map((a) => a.clock)).toEqual([0, 5, 25, 105, 105, 105]);
    expect((await received(up)).map((r) => [r.status, r.headers["webhook-id"]])).toEqual(
      events.map((e) => [204, e.event_uuid]),
    );
    const [first] = await sql(
      "SELECT state, attempts, last_status, last_error FROM notification_event_deliveries WHERE event_id = ? AND url = ?",
      events[0]?.id,
      `http://hooks.test/${down}`,
    );
    expect(first).toEqual({ state: "delivered", attempts: 4, last_status: 204, last_error: null });
    expect(log.lines.filter((l) => l.includes("failed (HTTP 503)"))).toHaveLength(3);
  });

  it("after max_retries the dead-letter consumer records the delivery failed and logs it, and the notification's next event goes through", async () => {
    const { maxRetries, deadLetterQueue } = consumerSettings();
    expect(deadLetterQueue).toBe("masakari-webhooks-dlq");
    const { endpoints, harness, delivery, outbox, log } = setup();
    const [down] = endpoints as [string, string];
    await outage(down, 500, maxRetries + 1);
    const { hosts } = await segmentWith(1);
    const uuid = await seedNotification(hosts[0].uuid, "new");
    await setStatus(uuid, "running");
    const events = await eventsOf(uuid);
    await publish(database(env.DB), outbox);
    await harness.run(delivery);

    const url = `http://hooks.test/${down}`;
    const rows = await sql(
      "SELECT event_id, state, attempts, last_status, last_error FROM notification_event_deliveries WHERE url = ? ORDER BY event_id",
      url,
    );
    expect(rows).toEqual([
      { event_id: events[0]?.id, state: "failed", attempts: maxRetries + 1, last_status: 500, last_error: "HTTP 500" },
      { event_id: events[1]?.id, state: "delivered", attempts: 1, last_status: 204, last_error: null },
    ]);
    expect(harness.dead).toEqual([{ event: events[0]?.id, url }]);
    expect(harness.retries).toEqual(Array.from({ length: maxRetries + 1 }, (_, i) => backoff(i + 1)));
    expect(
      log.lines.some((l) =>
        l.includes(
          `webhook event ${events[0]?.event_uuid} (status - → new of notification ${uuid}) to ${url}: failed after ${maxRetries + 1} attempts`,
        ),
      ),
    ).toBe(true);
    expect((await accepted(down, uuid)).map((e) => e.id)).toEqual([events[1]?.event_uuid]);
    // How long a receiver may be down and still get everything: about 14 hours.
    const patience = Array.from({ length: maxRetries }, (_, i) => backoff(i + 1)).reduce((a, b) => a + b, 0);
    expect(patience).toBe(48_905);
  });
});

describe("publishing", () => {
  it("a status change through the engine is published by the step that made it", async () => {
    const { endpoints, harness, delivery } = setup();
    const { hosts } = await segmentWith(1);
    const uuid = await seedNotification(hosts[0].uuid, "new", {
      type: "PROCESS",
      payload: '{"event": "STARTED", "process_name": "nova-compute"}',
    });
    const runtime = new Runtime(loadConfig(env));
    await runtime.start(uuid);
    await runtime.settle();
    await runtime.close();
    // No publish, no cron: the run's steps sent them.
    const events = await eventsOf(uuid);
    expect(events.map((e) => e.new_status)).toEqual(["new", "running", "finished"]);
    expect(harness.sent.map((m) => m.event)).toEqual(events.flatMap((e) => [e.id, e.id]));
    await harness.run(delivery);
    for (const endpoint of endpoints) {
      expect((await accepted(endpoint, uuid)).map((e) => [e.data.old_status, e.data.new_status])).toEqual([
        [null, "new"],
        ["new", "running"],
        ["running", "finished"],
      ]);
    }
  });

  it("steps run twice, or whose results are lost, send each event once, in order", async () => {
    const { endpoints, harness, delivery } = setup();
    const { hosts } = await segmentWith(1);
    const uuid = await seedNotification(hosts[0].uuid, "new", {
      type: "PROCESS",
      payload: '{"event": "STARTED", "process_name": "nova-compute"}',
    });
    const runtime = new Runtime(loadConfig(env));
    runtime.faults = [
      { kind: "twice", step: "start" },
      { kind: "lost-journal", step: "finish" },
    ];
    await runtime.start(uuid);
    await runtime.settle();
    await runtime.close();
    expect(runtime.faults).toEqual([]);
    const events = await eventsOf(uuid);
    expect(events.map((e) => e.new_status)).toEqual(["new", "running", "finished"]);
    await harness.run(delivery);
    for (const endpoint of endpoints) {
      expect((await received(endpoint)).map((r) => r.headers["webhook-id"])).toEqual(events.map((e) => e.event_uuid));
    }
  });

  it("a storm-guard hold is an event with the guard's count, published by the run's first step", async () => {
    const { endpoints, harness, delivery } = setup();
    const { segment, hosts } = await segmentWith(2);
    const [a, b] = hosts;
    const earlier = await seedNotification(a.uuid, "running");
    await sql(
      "INSERT INTO recovery_storm (notification_uuid, segment_uuid, host_uuid, state, at, down, hosts) VALUES (?, ?, ?, 'admitted', ?, 0, 2)",
      earlier,
      segment.uuid,
      a.uuid,
      dbNow(),
    );
    const uuid = await seedNotification(b.uuid, "new", {
      payload: '{"event": "STOPPED", "host_status": "NORMAL", "cluster_status": "OFFLINE"}',
    });
    const runtime = new Runtime(loadConfig(env));
    await runtime.start(uuid);
    await runtime.settle();
    await runtime.close();
    expect((await sql("SELECT state FROM recovery_storm WHERE notification_uuid = ?", uuid))[0]).toEqual({
      state: "held",
    });
    await harness.run(delivery);
    const [, held] = await accepted(endpoints[0] as string, uuid);
    expect(held).toMatchObject({
      type: "masakari-edge.notification.held",
      subject: uuid,
      data: {
        notification: { uuid, type: "COMPUTE_HOST" },
        host: { uuid: b.uuid, name: b.name },
        segment: { uuid: segment.uuid, name: segment.name },
        old_status: "new",
        new_status: "new",
        storm_guard: { hosts_down: 1, hosts: 2 },
        link: `${PUBLIC_URL}/console/#/notifications/${uuid}`,
      },
    });
  });

  it("an operator action is an event, published by the API", async () => {
    const { endpoints, harness, delivery, api } = setup();
    const { hosts } = await segmentWith(1);
    const uuid = await seedNotification(hosts[0].uuid, "error");
    const res = await api("POST", `/v1/notifications/${uuid}/action`, { body: { ignore: { reason: "false alarm" } } });
    expect(res.status).toBe(202);
    await harness.run(delivery);
    for (const endpoint of endpoints) {
      expect((await accepted(endpoint, uuid)).map((e) => [e.data.old_status, e.data.new_status])).toEqual([
        [null, "error"],
        ["error", "ignored"],
      ]);
    }
  });

  it("the cron sends what no one published, gives up on deliveries undecided for two days, and prunes old events", async () => {
    const { endpoints, harness, delivery, outbox } = setup();
    const db = database(env.DB);
    const { hosts } = await segmentWith(1);
    const uuid = await seedNotification(hosts[0].uuid, "new");
    const log = recordingLog();
    expect(await webhooksCron(db, outbox, log)).toEqual({ published: 1, undecided: 0, resent: 0, pruned: 0 });
    await harness.run(delivery);
    expect((await accepted(endpoints[0] as string, uuid)).map((e) => e.data.new_status)).toEqual(["new"]);
    await setStatus(uuid, "running");
    await setStatus(uuid, "error");
    expect(await webhooksCron(db, outbox, log)).toEqual({ published: 2, undecided: 0, resent: 0, pruned: 0 });

    const day = 86_400_000;
    const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
    const [delivered, failedRecently, failedLongAgo] = await eventsOf(uuid);
    // A day old and delivered everywhere: pruned, with its deliveries.
    await sql("UPDATE notification_events SET at = ? WHERE id = ?", ago(day + 60_000), delivered?.id);
    // Three days old, delivered to one URL, failed to the other 3 days ago
    // (kept: an operator may look for a week) or 8 days ago (pruned).
    for (const [event, failed] of [
      [failedRecently, 3 * day],
      [failedLongAgo, 8 * day],
    ] as const) {
      await sql("UPDATE notification_events SET at = ? WHERE id = ?", ago(3 * day), event?.id);
      await sql("UPDATE notification_event_deliveries SET state = 'delivered' WHERE event_id = ?", event?.id);
      await sql(
        "UPDATE notification_event_deliveries SET state = 'failed', updated_at = ? WHERE event_id = ? AND url = ?",
        ago(failed),
        event?.id,
        outbox.urls[0],
      );
    }
    // Queued three days ago and never decided (its dead letter lost): failed.
    await setStatus(uuid, "failed");
    const undecided = (await eventsOf(uuid))[3];
    await sql("UPDATE notification_events SET queued_at = ? WHERE id = ?", ago(3 * day), undecided?.id);
    await sql(
      `INSERT INTO notification_event_deliveries (event_id, url, notification_uuid, state, attempts, created_at, updated_at)
       VALUES (?, ?, ?, 'queued', 0, ?, ?)`,
      undecided?.id,
      outbox.urls[0],
      uuid,
      ago(3 * day),
      ago(3 * day),
    );
    expect(await webhooksCron(db, outbox, log)).toEqual({ published: 0, undecided: 1, resent: 0, pruned: 2 });
    expect((await eventsOf(uuid)).map((e) => e.id)).toEqual([failedRecently?.id, undecided?.id]);
    const left = await sql<{ n: number }>(
      "SELECT count(*) AS n FROM notification_event_deliveries WHERE event_id IN (?, ?)",
      delivered?.id,
      failedLongAgo?.id,
    );
    expect(left).toEqual([{ n: 0 }]);
    expect(
      await sql("SELECT state, last_error FROM notification_event_deliveries WHERE event_id = ?", undecided?.id),
    ).toEqual([{ state: "failed", last_error: "no outcome within two days" }]);
    expect(log.lines.some((l) => l.includes("no outcome within two days"))).toBe(true);
  });
});

describe("a lost message", () => {
  it("is sent again by the cron once its next attempt is 5 minutes overdue, and its notification's events then go through in order", async () => {
    const { endpoints, harness, delivery, outbox } = setup();
    const db = database(env.DB);
    const { hosts } = await segmentWith(1);
    const uuid = await seedNotification(hosts[0].uuid, "new");
    await setStatus(uuid, "running");
    await setStatus(uuid, "finished");
    const events = await eventsOf(uuid);
    await publish(db, outbox);
    // The queue loses every message (wrangler dev restarted, say).
    harness.pending = [];
    const log = recordingLog();
    const minutes = (n: number) => Date.now() + n * 60_000;
    expect(await webhooksCron(db, outbox, log, minutes(4))).toMatchObject({ resent: 0 });
    // Only the first event of the notification, to each URL: the others wait for it.
    expect(await webhooksCron(db, outbox, log, minutes(6))).toMatchObject({ resent: 2 });
    expect(harness.pending.map((p) => p.body.event)).toEqual([events[0]?.id, events[0]?.id]);
    // Sent again, it is not overdue again for another 5 minutes.
    expect(await webhooksCron(db, outbox, log, minutes(7))).toMatchObject({ resent: 0 });
    await harness.run(delivery);
    for (const endpoint of endpoints) {
      expect((await received(endpoint)).map((r) => r.headers["webhook-id"])).toEqual(events.map((e) => e.event_uuid));
    }
    // A delivery that failed twice is overdue 20 s + 5 minutes after its last attempt.
    const [last] = await sql<{ id: number }>("SELECT max(id) AS id FROM notification_events");
    await setStatus(uuid, "error");
    await publish(db, outbox);
    harness.pending = [];
    const at = new Date().toISOString();
    await sql("UPDATE notification_event_deliveries SET attempts = 2, updated_at = ? WHERE event_id > ?", at, last?.id);
    expect(await webhooksCron(db, outbox, log, Date.parse(at) + 310_000)).toMatchObject({ resent: 0 });
    expect(await webhooksCron(db, outbox, log, Date.parse(at) + 330_000)).toMatchObject({ resent: 2 });
  });
});

describe("without webhooks", () => {
  it("nothing is published, and events nobody can send are pruned after a day", async () => {
    const harness = new QueueHarness();
    mutableEnv.WEBHOOKS = harness;
    const api = appWith({});
    const { hosts } = await segmentWith(1);
    const res = await api("POST", "/v1/notifications", {
      body: {
        notification: {
          type: "PROCESS",
          hostname: hosts[0].name,
          generated_time: new Date().toISOString().slice(0, 19),
          payload: { event: "STOPPED", process_name: "nova-compute" },
        },
      },
    });
    expect(res.status).toBe(202);
    const uuid = res.json.notification.notification_uuid;
    // What an engine step publishes with this Worker's settings: nothing.
    const engineOutbox = outboxOf(loadConfig(env), env);
    expect(engineOutbox).toBeUndefined();
    expect(await publishQuietly(database(env.DB), engineOutbox, recordingLog())).toEqual({ events: 0, sends: 0 });
    expect(harness.sent).toEqual([]);
    const [event] = await eventsOf(uuid);
    const db = database(env.DB);
    expect(await webhooksCron(db, undefined, recordingLog())).toMatchObject({ published: 0, pruned: 0 });
    await sql(
      "UPDATE notification_events SET at = ? WHERE id = ?",
      new Date(Date.now() - 86_460_000).toISOString(),
      event?.id,
    );
    expect(await webhooksCron(db, undefined, recordingLog())).toMatchObject({ published: 0, pruned: 1 });
    expect(await eventsOf(uuid)).toEqual([]);
  });

  it("the Worker's queue handler records a message for a URL it no longer has as failed, and takes dead letters by the queue's name", async () => {
    const { hosts } = await segmentWith(1);
    const uuid = await seedNotification(hosts[0].uuid, "new");
    await setStatus(uuid, "running");
    const [first, second] = await eventsOf(uuid);
    const url = "http://hooks.test/removed";
    const deliver = async (queue: string, event: number | undefined) => {
      const batch = createMessageBatch<unknown>(queue, [
        { id: `m${event}`, timestamp: Date.now(), attempts: 1, body: { event, url } },
      ]);
      const ctx = createExecutionContext();
      await worker.queue(batch, env);
      return getQueueResult(batch, ctx);
    };
    // This Worker's settings (vitest.config.ts) have no WEBHOOK_URLS.
    expect((await deliver("masakari-webhooks", first?.id)).explicitAcks).toEqual([`m${first?.id}`]);
    expect((await deliver("masakari-webhooks-dlq", second?.id)).explicitAcks).toEqual([`m${second?.id}`]);
    expect(
      await sql(
        "SELECT event_id, state, last_error FROM notification_event_deliveries WHERE url = ? ORDER BY event_id",
        url,
      ),
    ).toEqual([
      { event_id: first?.id, state: "failed", last_error: "not in WEBHOOK_URLS any more" },
      { event_id: second?.id, state: "failed", last_error: null },
    ]);
  });
});
