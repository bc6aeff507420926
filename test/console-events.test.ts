import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config";
import { EVENTS_INTERVAL_MS } from "../src/resources/notifications/events";
import { createHost, createSegment, get, holdRecoveries, KEYSTONE_SETTINGS, seedNotification, sql } from "./helpers";

holdRecoveries();

// GET /v1/notifications/{id}/events (os-notification-events): what the
// console's notification page follows. The app runs on a D1 binding that
// records every statement (as test/query-plans.test.ts does), so the cost
// of following a recovery is counted: one statement per tick per client,
// whatever changed, and none while nothing is read.

interface Recorded {
  readonly sql: string;
}

function recording(target: D1Database, log: Recorded[]): D1Database {
  const wrap = <T extends object>(object: T): T =>
    new Proxy(object, {
      get(o, property) {
        const value = Reflect.get(o, property, o);
        if (property === "prepare") {
          return (query: string) => {
            log.push({ sql: query });
            return (value as D1Database["prepare"]).call(o, query);
          };
        }
        if (property === "withSession") {
          return (...args: unknown[]) => wrap((value as (...a: unknown[]) => object).apply(o, args));
        }
        return typeof value === "function" ? value.bind(o) : value;
      },
    });
  return wrap(target);
}

const log: Recorded[] = [];
const recordedEnv = { ...env, DB: recording(env.DB, log) };
const app = createApp(loadConfig(recordedEnv));

interface Event {
  readonly event: string;
  readonly data: string;
  readonly at: number;
}

/** An open stream, read event by event. */
async function open(uuid: string, version = "1.3", headers: Record<string, string> = {}, client = app) {
  const response = await client.fetch(
    new Request(`http://masakari.test/v1/notifications/${uuid}/events`, {
      headers: { "OpenStack-API-Version": `instance-ha ${version}`, ...headers },
    }),
    recordedEnv,
  );
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const queued: Event[] = [];
  let ended = false;
  return {
    response,
    /** The next event (comments and the retry line skipped); undefined once the stream ended. */
    async next(timeoutMs = 5000): Promise<Event | undefined> {
      const deadline = Date.now() + timeoutMs;
      while (queued.length === 0 && !ended) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error("no event in time");
        const chunk = await Promise.race([
          reader?.read(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no event in time")), left)),
        ]);
        if (!chunk || chunk.done) {
          ended = true;
          break;
        }
        buffer += decoder.decode(chunk.value, { stream: true });
        let cut = buffer.indexOf("\n\n");
        while (cut !== -1) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data !== undefined) queued.push({ event, data, at: Date.now() });
          cut = buffer.indexOf("\n\n");
        }
      }
      return queued.shift();
    },
    async close() {
      await reader?.cancel();
    },
  };
}

async function runningNotification() {
  const segment = await createSegment();
  const host = await createHost(segment.uuid);
  const uuid = await seedNotification(host.uuid, "running");
  return { segment, host, uuid };
}

let progressId = 0;
async function addProgress(uuid: string, task: string, message: string, progress = "0.5") {
  progressId++;
  await sql(
    `INSERT INTO recovery_tasks (notification_uuid, run, flow, name, state, progress) VALUES (?, 1, 1, ?, 'RUNNING', 0.5)
     ON CONFLICT (notification_uuid, run, flow, name) DO UPDATE SET state = excluded.state`,
    uuid,
    task,
  );
  await sql(
    `INSERT INTO recovery_progress (notification_uuid, run, flow, task, step, idx, timestamp, progress, message)
     VALUES (?, 1, 1, ?, ?, 0, ?, ?, ?)`,
    uuid,
    task,
    `step ${progressId}`,
    `2026-11-30 02:18:${String(10 + progressId).padStart(2, "0")}.123456`,
    progress,
    message,
  );
}

async function addMove(uuid: string, status: string, at: string) {
  const id = crypto.randomUUID();
  await sql(
    `INSERT INTO vmoves (created_at, updated_at, deleted, uuid, notification_uuid, instance_uuid, instance_name, source_host, dest_host, type, status)
     VALUES (?, ?, 0, ?, ?, ?, 'vm-1', 'compute-1', 'compute-2', 'evacuation', ?)`,
    at,
    at,
    id,
    uuid,
    crypto.randomUUID(),
    status,
  );
  return id;
}

const TICK = /^SELECT 'n' AS k, json_object\(/;

describe("GET /v1/notifications/{id}/events", () => {
  it("a text/event-stream whose first event is the show's answer at the request's microversion", async () => {
    const { uuid } = await runningNotification();
    await addProgress(uuid, "DisableComputeServiceTask", "Disabling compute service on host: 'compute-1'");
    for (const version of ["1.0", "1.1", "1.3"]) {
      const stream = await open(uuid, version);
      expect(stream.response.status).toBe(200);
      expect(stream.response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      expect(stream.response.headers.get("x-openstack-request-id")).toMatch(/^req-/);
      const first = await stream.next();
      const show = await get(`/v1/notifications/${uuid}`, { version });
      expect(first?.event).toBe("notification");
      expect(first?.data).toBe(show.text);
      await stream.close();
    }
  });

  it("a new progress message reaches the client within 2 s; each tick is one D1 statement, news or not", async () => {
    const { uuid } = await runningNotification();
    const opened = log.length;
    const started = Date.now();
    const stream = await open(uuid);
    await stream.next();
    // The request's own statements: the tick it answers with, nothing else.
    expect(log.slice(opened).map((s) => TICK.test(s.sql))).toEqual([true]);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const written = Date.now();
    await addProgress(uuid, "DisableComputeServiceTask", "Disabling compute service on host: 'compute-1'");
    const update = await stream.next();
    expect(update?.event).toBe("notification");
    expect(update && update.at - written).toBeLessThan(2000);
    const details = JSON.parse(update?.data ?? "{}").notification.recovery_workflow_details;
    expect(details.map((t: { name: string }) => t.name)).toEqual(["DisableComputeServiceTask"]);
    // A few quiet ticks while the client waits for more, then it goes.
    await expect(stream.next(3 * EVENTS_INTERVAL_MS + 300)).rejects.toThrow("no event in time");
    await stream.close();
    const elapsed = Date.now() - started;
    const statements = log.slice(opened);
    expect(statements.every((s) => TICK.test(s.sql))).toBe(true);
    // At most one per interval, plus the first; and it kept asking.
    expect(statements.length).toBeLessThanOrEqual(Math.floor(elapsed / EVENTS_INTERVAL_MS) + 1);
    expect(statements.length).toBeGreaterThanOrEqual(4);
    // Gone: no more statements.
    const after = log.length;
    await new Promise((resolve) => setTimeout(resolve, 2 * EVENTS_INTERVAL_MS));
    expect(log.length).toBe(after);
  });

  it("a client that does not read costs no statement", async () => {
    const { uuid } = await runningNotification();
    const stream = await open(uuid);
    await stream.next();
    const before = log.length;
    await new Promise((resolve) => setTimeout(resolve, 2.5 * EVENTS_INTERVAL_MS));
    expect(log.length).toBe(before);
    await stream.close();
  });

  it("VM moves at 1.3: each once, again only when it changed; none before 1.3", async () => {
    const { uuid } = await runningNotification();
    const move = await addMove(uuid, "ongoing", "2026-11-30 02:18:40.000000");
    const stream = await open(uuid);
    expect((await stream.next())?.event).toBe("notification");
    const moves = await stream.next();
    expect(moves?.event).toBe("vmoves");
    expect(JSON.parse(moves?.data ?? "{}").vmoves).toMatchObject([{ uuid: move, status: "ongoing" }]);
    await sql("UPDATE vmoves SET status = 'succeeded', updated_at = '2026-11-30 02:18:45.000000' WHERE uuid = ?", move);
    const changed = await stream.next();
    expect(JSON.parse(changed?.data ?? "{}").vmoves).toMatchObject([{ uuid: move, status: "succeeded" }]);
    // The list's own view of it.
    const listed = await get(`/v1/notifications/${uuid}/vmoves`, { version: "1.3" });
    expect(JSON.parse(changed?.data ?? "{}").vmoves).toEqual(listed.json.vmoves);
    await stream.close();
    const older = await open(uuid, "1.1");
    expect((await older.next())?.event).toBe("notification");
    await sql("UPDATE vmoves SET message = 'x', updated_at = '2026-11-30 02:18:50.000000' WHERE uuid = ?", move);
    await expect(older.next(2.5 * EVENTS_INTERVAL_MS)).rejects.toThrow("no event in time");
    await older.close();
  });

  it("ends once the notification is finished: its last state, then `end` with reason final", async () => {
    const { uuid } = await runningNotification();
    const stream = await open(uuid);
    await stream.next();
    await sql("UPDATE notifications SET status = 'finished' WHERE notification_uuid = ?", uuid);
    const last = await stream.next();
    expect(JSON.parse(last?.data ?? "{}").notification.status).toBe("finished");
    expect(await stream.next()).toMatchObject({ event: "end", data: '{"reason":"final"}' });
    expect(await stream.next()).toBeUndefined();
  });

  it("404 for an unknown notification, as the show answers", async () => {
    const missing = crypto.randomUUID();
    const res = await app.fetch(new Request(`http://masakari.test/v1/notifications/${missing}/events`), recordedEnv);
    const show = await get(`/v1/notifications/${missing}`);
    expect([res.status, await res.text()]).toEqual([404, show.text]);
  });

  it("policy: its own rule and the show's; a member is refused, an override lets them follow", async () => {
    const { uuid } = await runningNotification();
    const member = `member-${crypto.randomUUID()}`;
    const keystone = createApp(loadConfig({ ...recordedEnv, ...KEYSTONE_SETTINGS }));
    const refused = await keystone.fetch(
      new Request(`http://masakari.test/v1/notifications/${uuid}/events`, { headers: { "x-auth-token": member } }),
      recordedEnv,
    );
    expect([refused.status, await refused.json()]).toEqual([
      403,
      {
        forbidden: {
          code: 403,
          message: "Policy doesn't allow os_masakari_api:os-notification-events:index to be performed.",
        },
      },
    ]);
    const operators = createApp(
      loadConfig({
        ...recordedEnv,
        ...KEYSTONE_SETTINGS,
        POLICY: JSON.stringify({ "os_masakari_api:os-notification-events:index": "role:member" }),
      }),
    );
    const stillRefused = await operators.fetch(
      new Request(`http://masakari.test/v1/notifications/${uuid}/events`, { headers: { "x-auth-token": member } }),
      recordedEnv,
    );
    const body = (await stillRefused.json()) as { forbidden: { message: string } };
    expect(body.forbidden.message).toBe("Policy doesn't allow os_masakari_api:notifications:detail to be performed.");
  });

  it("is listed in /v1/extensions as os-notification-events, and its statement seeks indexes", async () => {
    const aliases = (await get("/v1/extensions")).json.extensions.map((e: { alias: string }) => e.alias);
    expect(aliases).toContain("os-notification-events");
    const { uuid } = await runningNotification();
    const opened = log.length;
    const stream = await open(uuid);
    await stream.next();
    await stream.close();
    const tick = log.slice(opened).find((s) => TICK.test(s.sql));
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${tick?.sql}`).bind(uuid, "", 1).all<{ detail: string }>();
    const details = plan.results.map((r) => r.detail);
    expect(details.filter((d) => /^SCAN /.test(d) && !/SCAN CONSTANT ROW/.test(d))).toEqual([]);
    expect(details.filter((d) => /^SEARCH /.test(d)).length).toBeGreaterThanOrEqual(4);
  });
});
