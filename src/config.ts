import * as z from "zod";
import type { KeystoneSettings, ServiceCredentials } from "./openstack/keystone";
import { Policy } from "./policy";

/** The Worker's bindings and variables (wrangler.toml, secrets). */
export interface Env
  extends Partial<
    Record<keyof typeof RECOVERY_OPTIONS | keyof typeof ENGINE_LIMITS | keyof typeof STEERING_OPTIONS, string>
  > {
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
  /** The recovery engine's Workflows: runs (D13) and the links of large phases (D20). */
  RECOVERY?: Workflow<RecoveryParams>;
  EVACUATION?: Workflow<EvacuationParams>;
  /** `[nova] nova_catalog_admin_info` and `os_region_name`: Nova in the catalog without NOVA_URL (D14). */
  NOVA_CATALOG_ADMIN_INFO?: string;
  OS_REGION_NAME?: string;
  /** A bearer token that may read /metrics besides the policy rule (a secret). */
  METRICS_TOKEN?: string;
  /** Where notification events are posted: http(s) URLs, separated by spaces or commas. */
  WEBHOOK_URLS?: string;
  /** The Standard Webhooks signing secret, `whsec_` and base64 (a secret). */
  WEBHOOK_SECRET?: string;
  /** The queue the notification events are delivered through. */
  WEBHOOKS?: Queue<unknown>;
  /** The deployment's public root, e.g. https://masakari.example.com, for links to the console. */
  PUBLIC_URL?: string;
  /** A demo cloud: the console may take a host of the Nova stand-in at NOVA_URL down. */
  DEMO_MODE?: string;
}

/** What a run's Workflow instance is started with. */
export interface RecoveryParams {
  readonly notificationUuid: string;
  /** 1 for the first run; later runs are the periodic task's re-runs (D17). */
  readonly run: number;
  /** The instance carrying the run: absent for the first, then 2, 3... (D17). */
  readonly generation?: number;
}

/** What an Evacuation Workflow instance, one link of a phase's chain, is started with (D20). */
export interface EvacuationParams {
  readonly notificationUuid: string;
  readonly run: number;
  readonly scope: string;
  readonly link: number;
  /** Where the link starts: the phase's unit number and its cursor. */
  readonly start: UnitCursor;
  /** The instance carrying the link: absent for the first, then 2, 3... */
  readonly generation?: number;
}

/** Where a phase stands between two units of work. */
export interface UnitCursor {
  readonly unit: number;
  readonly cursor: unknown;
}

const integerSetting = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
        ctx.addIssue({ code: "custom", message: `must be an integer ${range}, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return n;
    });

const booleanSetting = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      // oslo.config's Boolean type.
      const lowered = v.trim().toLowerCase();
      if (["true", "1", "on", "yes"].includes(lowered)) return true;
      if (["false", "0", "off", "no"].includes(lowered)) return false;
      ctx.addIssue({ code: "custom", message: `must be true or false, got ${JSON.stringify(v)}` });
      return z.NEVER;
    });

const textSetting = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === "" ? fallback : v));

/**
 * The recovery engine's options: upstream's names (docs/engine.md,
 * "Options") in upper case, prefixed with their group where upstream has one,
 * with upstream's defaults. Durations are in seconds.
 */
const RECOVERY_OPTIONS = {
  WAIT_PERIOD_AFTER_SERVICE_UPDATE: integerSetting(180, 0),
  WAIT_PERIOD_AFTER_EVACUATION: integerSetting(90, 0),
  VERIFY_INTERVAL: integerSetting(1, 0),
  WAIT_PERIOD_AFTER_POWER_OFF: integerSetting(180, 0),
  WAIT_PERIOD_AFTER_POWER_ON: integerSetting(60, 0),
  PROCESS_UNFINISHED_NOTIFICATIONS_INTERVAL: integerSetting(120, 1),
  RETRY_NOTIFICATION_NEW_STATUS_INTERVAL: integerSetting(60, 0),
  CHECK_EXPIRED_NOTIFICATIONS_INTERVAL: integerSetting(600, 1),
  NOTIFICATIONS_EXPIRED_INTERVAL: integerSetting(86400, 0),
  HOST_FAILURE_RECOVERY_THREADS: integerSetting(3, 1),
  HOST_FAILURE_EVACUATE_ALL_INSTANCES: booleanSetting(true),
  HOST_FAILURE_HA_ENABLED_INSTANCE_METADATA_KEY: textSetting("HA_Enabled"),
  HOST_FAILURE_IGNORE_INSTANCES_IN_ERROR_STATE: booleanSetting(false),
  HOST_FAILURE_ADD_RESERVED_HOST_TO_AGGREGATE: booleanSetting(false),
  HOST_FAILURE_SERVICE_DISABLE_REASON: textSetting("Masakari detected host failed."),
  INSTANCE_FAILURE_PROCESS_ALL_INSTANCES: booleanSetting(false),
  INSTANCE_FAILURE_HA_ENABLED_INSTANCE_METADATA_KEY: textSetting("HA_Enabled"),
  PROCESS_FAILURE_SERVICE_DISABLE_REASON: textSetting("Masakari detected process failed."),
};

/**
 * What one Workflow instance of the engine may use (ours, D20): a run's
 * instance works inline up to half of it, then hands a large phase to a
 * chain of instances each within all of it. Below Workers' 1,000
 * subrequests (Nova calls and D1 statements, the stricter reading for a
 * Workflow instance) and Workflows' default 10,000 steps, with room to close.
 */
export interface EngineLimits {
  readonly subrequests: number;
  readonly steps: number;
}

/** `key=value`, for HOST_FAILURE_EXCLUDE_METADATA. */
const metadataPair = () =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return undefined;
      const at = v.indexOf("=");
      const key = v.slice(0, at).trim();
      if (at <= 0 || key === "") {
        ctx.addIssue({ code: "custom", message: `must be key=value, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return { key, value: v.slice(at + 1).trim() };
    });

/**
 * Ours (D24): an evacuation order by instance metadata, and instances left
 * to the service that manages them (e.g. Octavia's amphorae).
 */
const STEERING_OPTIONS = {
  HOST_FAILURE_PRIORITY_METADATA_KEY: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim())),
  HOST_FAILURE_EXCLUDE_METADATA: metadataPair(),
  // D22: a host failure that would put more than this share of its
  // segment's hosts down within the window is held; 100 is no guard.
  STORM_GUARD_MAX_HOSTS_DOWN_PERCENT: integerSetting(50, 1, 100),
  STORM_GUARD_WINDOW: integerSetting(600, 0),
};

/** Several http(s) URLs, separated by spaces or commas; empty is none. */
const urlList = () =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const urls = (v ?? "").split(/[\s,]+/).filter(Boolean);
      for (const url of urls) {
        if (!z.url({ protocol: /^https?$/ }).safeParse(url).success) {
          ctx.addIssue({ code: "custom", message: `must be http(s) URLs, got ${JSON.stringify(url)}` });
          return z.NEVER;
        }
      }
      return urls;
    });

/** A Standard Webhooks secret: `whsec_` then base64 of at least 24 bytes. */
const webhookSecret = () =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return undefined;
      const body = v.trim().replace(/^whsec_/, "");
      let bytes: Uint8Array | undefined;
      try {
        bytes = Uint8Array.from(atob(body), (ch) => ch.charCodeAt(0));
      } catch {}
      if (!bytes || bytes.length < 24) {
        ctx.addIssue({ code: "custom", message: "must be whsec_ followed by base64 of at least 24 random bytes" });
        return z.NEVER;
      }
      return bytes;
    });

/** Ours: what an operator watches recoveries with (the console, /metrics, webhooks). */
const WATCH_OPTIONS = {
  METRICS_TOKEN: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim())),
  WEBHOOK_URLS: urlList(),
  WEBHOOK_SECRET: webhookSecret(),
  DEMO_MODE: booleanSetting(false),
};

const ENGINE_LIMITS = {
  RECOVERY_SUBREQUESTS_PER_INSTANCE: integerSetting(800, 100),
  RECOVERY_STEPS_PER_INSTANCE: integerSetting(5000, 100),
};

/** The recovery engine's options, as the engine reads them. */
export interface RecoveryOptions {
  readonly waitPeriodAfterServiceUpdate: number;
  readonly waitPeriodAfterEvacuation: number;
  readonly verifyInterval: number;
  readonly waitPeriodAfterPowerOff: number;
  readonly waitPeriodAfterPowerOn: number;
  readonly processUnfinishedNotificationsInterval: number;
  readonly retryNotificationNewStatusInterval: number;
  readonly checkExpiredNotificationsInterval: number;
  readonly notificationsExpiredInterval: number;
  readonly hostFailure: {
    readonly recoveryThreads: number;
    readonly evacuateAllInstances: boolean;
    readonly haEnabledInstanceMetadataKey: string;
    readonly ignoreInstancesInErrorState: boolean;
    readonly addReservedHostToAggregate: boolean;
    readonly serviceDisableReason: string;
    /** D24: the metadata key whose integer value orders evacuations, highest first. */
    readonly priorityMetadataKey: string | undefined;
    /** D24: instances whose metadata has this key and value are left alone. */
    readonly excludeMetadata: { readonly key: string; readonly value: string } | undefined;
  };
  readonly instanceFailure: { readonly processAllInstances: boolean; readonly haEnabledInstanceMetadataKey: string };
  /** D22: the storm guard. */
  readonly stormGuard: { readonly maxHostsDownPercent: number; readonly windowSeconds: number };
  readonly processFailure: { readonly serviceDisableReason: string };
  /** Where Nova is in the token's catalog: service type and interface (`compute:nova:publicURL`). */
  readonly novaCatalog: { readonly type: string; readonly interface: string; readonly region: string | undefined };
}

/** An http(s) URL; empty counts as not set. */
const optionalUrl = () =>
  z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
    .optional()
    .or(z.literal("").transform(() => undefined));

/** [DEFAULT] osapi_max_limit's default. */
const DEFAULT_MAX_LIMIT = 1000;

const settings = z.object({
  // Secure by default: a Worker deployed without AUTH_STRATEGY checks tokens.
  AUTH_STRATEGY: z.enum(["noauth2", "keystone"], { error: "must be noauth2 or keystone" }).default("keystone"),
  MAX_LIMIT: integerSetting(DEFAULT_MAX_LIMIT, 1),
  DUPLICATE_NOTIFICATION_DETECTION_INTERVAL: integerSetting(180, 0),
  NOVA_URL: optionalUrl(),
  NOVA_TIMEOUT_MS: integerSetting(10000, 1),
  KEYSTONE_URL: optionalUrl(),
  KEYSTONE_APPLICATION_CREDENTIAL_ID: z.string().optional(),
  KEYSTONE_APPLICATION_CREDENTIAL_SECRET: z.string().optional(),
  KEYSTONE_SERVICE_USER: z.string().optional(),
  KEYSTONE_SERVICE_PASSWORD: z.string().optional(),
  KEYSTONE_SERVICE_PROJECT: z.string().optional(),
  KEYSTONE_SERVICE_DOMAIN: z.string().optional(),
  KEYSTONE_TIMEOUT_MS: integerSetting(5000, 1),
  TOKEN_CACHE_SECONDS: integerSetting(300, 0),
  NOVA_CATALOG_ADMIN_INFO: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const [type, , endpoint, ...rest] = (v?.trim() || "compute:nova:publicURL").split(":");
      if (!type || !endpoint || rest.length > 0) {
        ctx.addIssue({
          code: "custom",
          message: `must be <service_type>:<service_name>:<endpoint_type>, got ${JSON.stringify(v)}`,
        });
        return z.NEVER;
      }
      return { type, interface: endpoint.replace(/URL$/, "") };
    }),
  OS_REGION_NAME: z.string().optional(),
  ...RECOVERY_OPTIONS,
  ...ENGINE_LIMITS,
  ...STEERING_OPTIONS,
  ...WATCH_OPTIONS,
  PUBLIC_URL: optionalUrl(),
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
  /** The Worker's own Keystone identity, when configured (D8, D14). */
  readonly keystone: KeystoneSettings | undefined;
  /** The longest a token validation is reused, in seconds (AUTH_STRATEGY=keystone). */
  readonly tokenCacheSeconds: number;
  readonly recovery: RecoveryOptions;
  readonly engineLimits: EngineLimits;
  /** A bearer token that may read /metrics besides the policy rule. */
  readonly metricsToken: string | undefined;
  /** Where notification events go, and the key that signs them; undefined: no webhooks. */
  readonly webhooks: { readonly urls: readonly string[]; readonly secret: Uint8Array } | undefined;
  /** The deployment's public root, without a trailing slash, when set. */
  readonly publicUrl: string | undefined;
  /** The console may take a host of the Nova stand-in at NOVA_URL down (`npm run demo`). */
  readonly demo: boolean;
  /**
   * Why /v1 cannot be served: AUTH_STRATEGY=keystone without the Worker's
   * Keystone identity. The Worker starts (secrets are often set after the
   * first deploy) but answers every /v1 request with this configuration
   * error rather than serve the API open.
   */
  readonly unservable: string | undefined;
}

type Settings = z.output<typeof settings>;

const PREFIX = "masakari-edge configuration:";

/** The Worker's Keystone identity, or why it is incomplete; undefined when none is set. */
function keystoneIdentity(s: Settings): KeystoneSettings | { problem: string } | undefined {
  const credentials = serviceCredentials(s);
  if (!s.KEYSTONE_URL && credentials === undefined) return undefined;
  if (!s.KEYSTONE_URL) return { problem: "KEYSTONE_URL is needed with the Worker's Keystone identity" };
  if (credentials === undefined || "problem" in credentials) {
    return {
      problem:
        "KEYSTONE_URL needs the Worker's own identity: KEYSTONE_APPLICATION_CREDENTIAL_ID and _SECRET, or KEYSTONE_SERVICE_USER, _PASSWORD and _PROJECT",
    };
  }
  return { url: s.KEYSTONE_URL.replace(/\/+$/, ""), credentials, timeoutMs: s.KEYSTONE_TIMEOUT_MS };
}

/** The credentials set, none (undefined), or some but not all of one kind. */
function serviceCredentials(s: Settings): ServiceCredentials | { problem: true } | undefined {
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
  const some = [
    s.KEYSTONE_APPLICATION_CREDENTIAL_ID,
    s.KEYSTONE_APPLICATION_CREDENTIAL_SECRET,
    s.KEYSTONE_SERVICE_USER,
    s.KEYSTONE_SERVICE_PASSWORD,
    s.KEYSTONE_SERVICE_PROJECT,
  ].some(Boolean);
  return some ? { problem: true } : undefined;
}

/**
 * Reads the configuration once, when the Worker starts: a bad value stops
 * the Worker with a message naming it, instead of failing requests. The one
 * exception is a missing Keystone identity under AUTH_STRATEGY=keystone
 * (`unservable`).
 */
export function loadConfig(env: Partial<Env>): Config {
  const parsed = settings.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ");
    throw new Error(`${PREFIX} ${problems}`);
  }
  const s = parsed.data;
  let policy: Policy;
  try {
    policy = new Policy(s.POLICY);
  } catch (error) {
    throw new Error(`${PREFIX} POLICY ${(error as Error).message}`);
  }
  const identity = keystoneIdentity(s);
  const problem = identity && "problem" in identity ? identity.problem : undefined;
  // Only local development and tests run noauth2: half an identity there
  // is a mistake to fix before anything starts.
  if (problem !== undefined && s.AUTH_STRATEGY === "noauth2") throw new Error(`${PREFIX} ${problem}`);
  if (s.WEBHOOK_URLS.length > 0 && !s.WEBHOOK_SECRET)
    throw new Error(`${PREFIX} WEBHOOK_URLS needs WEBHOOK_SECRET to sign the events`);
  if (s.DEMO_MODE && !s.NOVA_URL) throw new Error(`${PREFIX} DEMO_MODE needs NOVA_URL: the Nova stand-in`);
  let unservable: string | undefined;
  if (s.AUTH_STRATEGY === "keystone" && identity === undefined) {
    unservable = `${PREFIX} AUTH_STRATEGY=keystone needs KEYSTONE_URL and the Worker's own identity: KEYSTONE_APPLICATION_CREDENTIAL_ID and _SECRET, or KEYSTONE_SERVICE_USER, _PASSWORD and _PROJECT`;
  } else if (problem !== undefined) {
    unservable = `${PREFIX} AUTH_STRATEGY=keystone: ${problem}`;
  }
  return {
    policy,
    authStrategy: s.AUTH_STRATEGY,
    maxLimit: s.MAX_LIMIT,
    duplicateNotificationInterval: s.DUPLICATE_NOTIFICATION_DETECTION_INTERVAL,
    novaUrl: s.NOVA_URL,
    novaTimeoutMs: s.NOVA_TIMEOUT_MS,
    keystone: identity && !("problem" in identity) ? identity : undefined,
    tokenCacheSeconds: s.TOKEN_CACHE_SECONDS,
    unservable,
    metricsToken: s.METRICS_TOKEN,
    webhooks:
      s.WEBHOOK_URLS.length > 0 && s.WEBHOOK_SECRET ? { urls: s.WEBHOOK_URLS, secret: s.WEBHOOK_SECRET } : undefined,
    publicUrl: s.PUBLIC_URL?.replace(/\/+$/, ""),
    demo: s.DEMO_MODE,
    engineLimits: { subrequests: s.RECOVERY_SUBREQUESTS_PER_INSTANCE, steps: s.RECOVERY_STEPS_PER_INSTANCE },
    recovery: {
      waitPeriodAfterServiceUpdate: s.WAIT_PERIOD_AFTER_SERVICE_UPDATE,
      waitPeriodAfterEvacuation: s.WAIT_PERIOD_AFTER_EVACUATION,
      verifyInterval: s.VERIFY_INTERVAL,
      waitPeriodAfterPowerOff: s.WAIT_PERIOD_AFTER_POWER_OFF,
      waitPeriodAfterPowerOn: s.WAIT_PERIOD_AFTER_POWER_ON,
      processUnfinishedNotificationsInterval: s.PROCESS_UNFINISHED_NOTIFICATIONS_INTERVAL,
      retryNotificationNewStatusInterval: s.RETRY_NOTIFICATION_NEW_STATUS_INTERVAL,
      checkExpiredNotificationsInterval: s.CHECK_EXPIRED_NOTIFICATIONS_INTERVAL,
      notificationsExpiredInterval: s.NOTIFICATIONS_EXPIRED_INTERVAL,
      hostFailure: {
        recoveryThreads: s.HOST_FAILURE_RECOVERY_THREADS,
        evacuateAllInstances: s.HOST_FAILURE_EVACUATE_ALL_INSTANCES,
        haEnabledInstanceMetadataKey: s.HOST_FAILURE_HA_ENABLED_INSTANCE_METADATA_KEY,
        ignoreInstancesInErrorState: s.HOST_FAILURE_IGNORE_INSTANCES_IN_ERROR_STATE,
        addReservedHostToAggregate: s.HOST_FAILURE_ADD_RESERVED_HOST_TO_AGGREGATE,
        serviceDisableReason: s.HOST_FAILURE_SERVICE_DISABLE_REASON,
        priorityMetadataKey: s.HOST_FAILURE_PRIORITY_METADATA_KEY,
        excludeMetadata: s.HOST_FAILURE_EXCLUDE_METADATA,
      },
      instanceFailure: {
        processAllInstances: s.INSTANCE_FAILURE_PROCESS_ALL_INSTANCES,
        haEnabledInstanceMetadataKey: s.INSTANCE_FAILURE_HA_ENABLED_INSTANCE_METADATA_KEY,
      },
      processFailure: { serviceDisableReason: s.PROCESS_FAILURE_SERVICE_DISABLE_REASON },
      stormGuard: { maxHostsDownPercent: s.STORM_GUARD_MAX_HOSTS_DOWN_PERCENT, windowSeconds: s.STORM_GUARD_WINDOW },
      novaCatalog: { ...s.NOVA_CATALOG_ADMIN_INFO, region: s.OS_REGION_NAME || undefined },
    },
  };
}
