import { env } from "cloudflare:workers";
import { type Config, type Env, loadConfig } from "../config";
import type { Database } from "../db/database";
import type { Log } from "../log";
import { type Outbox, outboxOf, type Published, publishQuietly } from "./outbox";

// The Worker's outbox for the recovery engine, whose steps get no bindings
// in their context (src/engine/context.ts): read from the Worker's own
// environment, its settings parsed again only when they change.

let cached: { key: string; config: Config } | undefined;

function settingsOf(workerEnv: Env): Config {
  const key = JSON.stringify([workerEnv.WEBHOOK_URLS, workerEnv.WEBHOOK_SECRET, workerEnv.PUBLIC_URL]);
  if (cached?.key !== key) cached = { key, config: loadConfig(workerEnv) };
  return cached.config;
}

/** The Worker's outbox, or undefined without webhooks. */
export function workerOutbox(): Outbox | undefined {
  const workerEnv = env as Env;
  if (!workerEnv.WEBHOOK_URLS || !workerEnv.WEBHOOKS) return undefined;
  return outboxOf(settingsOf(workerEnv), workerEnv);
}

/** Publishes the outbox's new events from an engine step, never failing it. */
export async function publishFromEngine(db: Database, log: Log): Promise<Published> {
  let outbox: Outbox | undefined;
  try {
    outbox = workerOutbox();
  } catch (error) {
    log.warn("webhook events not published now (the next minute's cron sends them):", error);
    return { events: 0, sends: 0 };
  }
  return publishQuietly(db, outbox, log);
}
