import * as z from "zod";
import type { KeystoneSettings, ServiceCredentials } from "./http/keystone";
import { DEFAULT_MAX_LIMIT } from "./http/paging";
import { Policy } from "./http/policy";

/** The Worker's bindings and variables (wrangler.toml, secrets). */
export interface Env {
  DB: D1Database;
  AUTH_STRATEGY?: string;
  /** [DEFAULT] osapi_max_limit: the most rows a list returns. */
  MAX_LIMIT?: string;
  /** [DEFAULT] duplicate_notification_detection_interval, in seconds. */
  DUPLICATE_NOTIFICATION_DETECTION_INTERVAL?: string;
  /** Nova's compute endpoint; host names are checked against it when set (D10). */
  NOVA_URL?: string;
  /** How long Nova may take to answer a compute service check, in ms. */
  NOVA_TIMEOUT_MS?: string;
  /** A JSON object of policy rules overriding upstream's defaults (D9). */
  POLICY?: string;
  /** Keystone's identity endpoint without /v3 (AUTH_STRATEGY=keystone). */
  KEYSTONE_URL?: string;
  /** The Worker's own Keystone identity: an application credential... */
  KEYSTONE_APPLICATION_CREDENTIAL_ID?: string;
  KEYSTONE_APPLICATION_CREDENTIAL_SECRET?: string;
  /** ...or a service user with a role on a project. */
  KEYSTONE_SERVICE_USER?: string;
  KEYSTONE_SERVICE_PASSWORD?: string;
  KEYSTONE_SERVICE_PROJECT?: string;
  KEYSTONE_SERVICE_DOMAIN?: string;
  /** How long Keystone may take to answer, in ms. */
  KEYSTONE_TIMEOUT_MS?: string;
  /** The longest a token validation is reused, in seconds (0: never). */
  TOKEN_CACHE_SECONDS?: string;
}

const integerSetting = (fallback: number, min: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) {
        ctx.addIssue({ code: "custom", message: `must be an integer >= ${min}, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return n;
    });

const settings = z.object({
  AUTH_STRATEGY: z.enum(["noauth2", "keystone"], { error: "must be noauth2 or keystone" }).default("noauth2"),
  MAX_LIMIT: integerSetting(DEFAULT_MAX_LIMIT, 1),
  DUPLICATE_NOTIFICATION_DETECTION_INTERVAL: integerSetting(180, 0),
  NOVA_URL: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
    .optional()
    .or(z.literal("").transform(() => undefined)),
  NOVA_TIMEOUT_MS: integerSetting(10000, 1),
  KEYSTONE_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  KEYSTONE_APPLICATION_CREDENTIAL_ID: z.string().optional(),
  KEYSTONE_APPLICATION_CREDENTIAL_SECRET: z.string().optional(),
  KEYSTONE_SERVICE_USER: z.string().optional(),
  KEYSTONE_SERVICE_PASSWORD: z.string().optional(),
  KEYSTONE_SERVICE_PROJECT: z.string().optional(),
  KEYSTONE_SERVICE_DOMAIN: z.string().optional(),
  KEYSTONE_TIMEOUT_MS: integerSetting(5000, 1),
  TOKEN_CACHE_SECONDS: integerSetting(300, 0),
  POLICY: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return {};
      try {
        const rules: unknown = JSON.parse(v);
        const parsed = z.record(z.string(), z.string()).safeParse(rules);
        if (parsed.success) return parsed.data;
      } catch {}
      ctx.addIssue({
        code: "custom",
        message: 'must be a JSON object of rule names to rule strings, e.g. {"admin_api": "role:admin"}',
      });
      return z.NEVER;
    }),
});

export interface Config {
  readonly authStrategy: "noauth2" | "keystone";
  readonly maxLimit: number;
  readonly duplicateNotificationInterval: number;
  readonly novaUrl: string | undefined;
  readonly novaTimeoutMs: number;
  readonly policy: Policy;
  /** Set when AUTH_STRATEGY=keystone. */
  readonly keystone: KeystoneSettings | undefined;
}

type Settings = z.output<typeof settings>;

function serviceCredentials(s: Settings): ServiceCredentials {
  if (s.KEYSTONE_APPLICATION_CREDENTIAL_ID && s.KEYSTONE_APPLICATION_CREDENTIAL_SECRET) {
    return {
      kind: "application_credential",
      id: s.KEYSTONE_APPLICATION_CREDENTIAL_ID,
      secret: s.KEYSTONE_APPLICATION_CREDENTIAL_SECRET,
    };
  }
  if (s.KEYSTONE_SERVICE_USER && s.KEYSTONE_SERVICE_PASSWORD && s.KEYSTONE_SERVICE_PROJECT) {
    return {
      kind: "password",
      user: s.KEYSTONE_SERVICE_USER,
      password: s.KEYSTONE_SERVICE_PASSWORD,
      project: s.KEYSTONE_SERVICE_PROJECT,
      domain: s.KEYSTONE_SERVICE_DOMAIN || "Default",
    };
  }
  throw new Error(
    "masakari-edge configuration: AUTH_STRATEGY=keystone needs KEYSTONE_APPLICATION_CREDENTIAL_ID and _SECRET, or KEYSTONE_SERVICE_USER, _PASSWORD and _PROJECT",
  );
}

function keystoneSettings(s: Settings): KeystoneSettings | undefined {
  if (s.AUTH_STRATEGY !== "keystone") return undefined;
  if (!s.KEYSTONE_URL) throw new Error("masakari-edge configuration: AUTH_STRATEGY=keystone needs KEYSTONE_URL");
  return {
    url: s.KEYSTONE_URL.replace(/\/+$/, ""),
    credentials: serviceCredentials(s),
    timeoutMs: s.KEYSTONE_TIMEOUT_MS,
    cacheSeconds: s.TOKEN_CACHE_SECONDS,
  };
}

/**
 * Reads the configuration once, when the Worker starts: a bad setting stops
 * the Worker with a message naming it, instead of failing requests.
 */
export function loadConfig(env: Partial<Env>): Config {
  const parsed = settings.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ");
    throw new Error(`masakari-edge configuration: ${problems}`);
  }
  const s = parsed.data;
  let policy: Policy;
  try {
    policy = new Policy(s.POLICY);
  } catch (error) {
    throw new Error(`masakari-edge configuration: POLICY ${(error as Error).message}`);
  }
  return {
    policy,
    authStrategy: s.AUTH_STRATEGY,
    maxLimit: s.MAX_LIMIT,
    duplicateNotificationInterval: s.DUPLICATE_NOTIFICATION_DETECTION_INTERVAL,
    novaUrl: s.NOVA_URL,
    novaTimeoutMs: s.NOVA_TIMEOUT_MS,
    keystone: keystoneSettings(s),
  };
}
