import { describe, expect, it } from "vitest";
import { type Env, loadConfig } from "../src/config";
import { DEFAULT_RULES } from "../src/policy";

// loadConfig reads the Worker's settings once, at start-up (src/index.ts): a
// bad setting must stop the Worker there with a message naming the setting,
// never fail requests one by one.

const KEYSTONE = {
  AUTH_STRATEGY: "keystone",
  KEYSTONE_URL: "http://keystone.test",
  KEYSTONE_SERVICE_USER: "masakari",
  KEYSTONE_SERVICE_PASSWORD: "masakari-secret",
  KEYSTONE_SERVICE_PROJECT: "service",
};

/** The message loadConfig throws for `env`; fails the test when it loads. */
function loadError(env: Partial<Env>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return (error as Error).message;
  }
  return expect.fail(`loadConfig accepted ${JSON.stringify(env)}`);
}

const admin = { user_id: "u", project_id: "p", roles: ["admin"], is_admin: true };
const member = { user_id: "u", project_id: "p", roles: ["member"], is_admin: false };
const target = { project_id: "p", user_id: "u" };

describe("defaults", () => {
  it("nothing set: keystone, refusing /v1 until configured; upstream's limits, no Nova, upstream's policy", () => {
    const config = loadConfig({});
    expect({
      authStrategy: config.authStrategy,
      unservable: config.unservable,
      maxLimit: config.maxLimit,
      duplicateNotificationInterval: config.duplicateNotificationInterval,
      novaUrl: config.novaUrl,
      novaTimeoutMs: config.novaTimeoutMs,
      keystone: config.keystone,
      tokenCacheSeconds: config.tokenCacheSeconds,
    }).toEqual({
      authStrategy: "keystone",
      unservable:
        "masakari-edge configuration: AUTH_STRATEGY=keystone needs KEYSTONE_URL and the Worker's own identity: KEYSTONE_APPLICATION_CREDENTIAL_ID and _SECRET, or KEYSTONE_SERVICE_USER, _PASSWORD and _PROJECT",
      maxLimit: 1000,
      duplicateNotificationInterval: 180,
      novaUrl: undefined,
      novaTimeoutMs: 10000,
      keystone: undefined,
      tokenCacheSeconds: 300,
    });
    for (const name of Object.keys(DEFAULT_RULES).filter((n) => n.startsWith("os_masakari_api:"))) {
      expect(config.policy.allows(name, admin, target), name).toBe(true);
      expect(config.policy.allows(name, member, target), name).toBe(name.startsWith("os_masakari_api:versions:"));
    }
  });

  it("empty strings count as not set", () => {
    const config = loadConfig({ MAX_LIMIT: "", NOVA_URL: "", POLICY: "", TOKEN_CACHE_SECONDS: "" });
    expect([config.maxLimit, config.novaUrl]).toEqual([1000, undefined]);
    expect(config.policy.allows("os_masakari_api:segments:index", member, target)).toBe(false);
  });

  it("settings are read as given", () => {
    const config = loadConfig({
      MAX_LIMIT: "50",
      DUPLICATE_NOTIFICATION_DETECTION_INTERVAL: "0",
      NOVA_URL: "https://nova.example/v2.1",
      NOVA_TIMEOUT_MS: "250",
      POLICY: '{"os_masakari_api:segments:index": "role:member"}',
    });
    expect([config.maxLimit, config.duplicateNotificationInterval, config.novaUrl, config.novaTimeoutMs]).toEqual([
      50,
      0,
      "https://nova.example/v2.1",
      250,
    ]);
    expect(config.policy.allows("os_masakari_api:segments:index", member, target)).toBe(true);
    expect(config.policy.allows("os_masakari_api:segments:create", member, target)).toBe(false);
  });

  it("noauth2 serves /v1 and keeps the Worker's Keystone identity for Nova (D14)", () => {
    const config = loadConfig({ ...KEYSTONE, AUTH_STRATEGY: "noauth2" });
    expect([config.authStrategy, config.unservable, config.keystone?.url]).toEqual([
      "noauth2",
      undefined,
      "http://keystone.test",
    ]);
  });

  it("noauth2 without any Keystone setting has no identity", () => {
    expect(loadConfig({ AUTH_STRATEGY: "noauth2" }).keystone).toBeUndefined();
  });
});

describe("bad settings fail at load, naming the setting", () => {
  it.each(["keystone2", "noauth", "NOAUTH2", "none"])("AUTH_STRATEGY=%j", (value) => {
    const message = loadError({ AUTH_STRATEGY: value });
    expect(message).toContain("AUTH_STRATEGY");
    expect(message).toContain("noauth2");
    expect(message).toContain("keystone");
  });

  it.each(["abc", "0", "-5", "1.5", "10x"])("MAX_LIMIT=%j", (value) => {
    expect(loadError({ MAX_LIMIT: value })).toContain("MAX_LIMIT");
  });

  it.each([
    ["DUPLICATE_NOTIFICATION_DETECTION_INTERVAL", "-1"],
    ["NOVA_TIMEOUT_MS", "0"],
    ["KEYSTONE_TIMEOUT_MS", "soon"],
    ["TOKEN_CACHE_SECONDS", "-1"],
  ])("%s=%j", (setting, value) => {
    expect(loadError({ ...KEYSTONE, [setting]: value })).toContain(setting);
  });

  it.each(["nova", "not a url", "//nova.example", "ftp://nova.example", "javascript:alert(1)"])(
    "NOVA_URL=%j",
    (value) => {
      expect(loadError({ NOVA_URL: value })).toContain("NOVA_URL");
    },
  );

  it.each(["keystone", "ftp://keystone.example"])("KEYSTONE_URL=%j", (value) => {
    expect(loadError({ ...KEYSTONE, KEYSTONE_URL: value })).toContain("KEYSTONE_URL");
  });

  it.each(["{", "admin_api: role:admin", "{'admin_api': 'role:admin'}"])("POLICY=%j (not JSON)", (value) => {
    expect(loadError({ POLICY: value })).toContain("POLICY");
  });

  it.each(['["role:admin"]', '"role:admin"', "null", "42", '{"admin_api": 1}', '{"admin_api": ["role:admin"]}'])(
    "POLICY=%j (not an object of rule strings)",
    (value) => {
      expect(loadError({ POLICY: value })).toContain("POLICY");
    },
  );

  it.each(["role:a and", "(role:a", "role:a)", "foo", "and role:a"])("POLICY with a broken rule %j", (rule) => {
    const message = loadError({ POLICY: JSON.stringify({ "os_masakari_api:segments:index": rule }) });
    expect(message).toContain("POLICY");
    expect(message).toContain("os_masakari_api:segments:index");
  });

  it("every bad setting is named at once", () => {
    const message = loadError({ AUTH_STRATEGY: "ldap", MAX_LIMIT: "many" });
    expect(message).toContain("AUTH_STRATEGY");
    expect(message).toContain("MAX_LIMIT");
  });
});

describe("keystone settings", () => {
  it("the service user, with the Default domain and default bounds", () => {
    const config = loadConfig({ ...KEYSTONE, KEYSTONE_URL: "http://keystone.test/" });
    expect([config.keystone, config.tokenCacheSeconds, config.unservable]).toEqual([
      {
        url: "http://keystone.test",
        credentials: {
          kind: "password",
          user: "masakari",
          password: "masakari-secret",
          project: "service",
          domain: "Default",
        },
        timeoutMs: 5000,
      },
      300,
      undefined,
    ]);
  });

  it("the domain, timeout and cache lifetime as given; 0 disables the cache", () => {
    const config = loadConfig({
      ...KEYSTONE,
      KEYSTONE_SERVICE_DOMAIN: "ops",
      KEYSTONE_TIMEOUT_MS: "300",
      TOKEN_CACHE_SECONDS: "0",
    });
    expect(config.keystone).toMatchObject({ credentials: { domain: "ops" }, timeoutMs: 300 });
    expect(config.tokenCacheSeconds).toBe(0);
  });

  it("an application credential", () => {
    const keystone = loadConfig({
      AUTH_STRATEGY: "keystone",
      KEYSTONE_URL: "http://keystone.test",
      KEYSTONE_APPLICATION_CREDENTIAL_ID: "appcred-id",
      KEYSTONE_APPLICATION_CREDENTIAL_SECRET: "appcred-secret",
    }).keystone;
    expect(keystone?.credentials).toEqual({
      kind: "application_credential",
      id: "appcred-id",
      secret: "appcred-secret",
    });
  });

  it("the application credential is preferred when both are given", () => {
    const keystone = loadConfig({
      ...KEYSTONE,
      KEYSTONE_APPLICATION_CREDENTIAL_ID: "appcred-id",
      KEYSTONE_APPLICATION_CREDENTIAL_SECRET: "appcred-secret",
    }).keystone;
    expect(keystone?.credentials).toEqual({
      kind: "application_credential",
      id: "appcred-id",
      secret: "appcred-secret",
    });
  });

  // A missing identity under keystone is the state of a first deploy whose
  // secrets are not set yet: the Worker starts and refuses /v1 with this
  // message (test/auth-keystone.test.ts), never serving the API open.
  it("keystone without KEYSTONE_URL refuses /v1, naming it", () => {
    const { KEYSTONE_URL: _, ...rest } = KEYSTONE;
    const config = loadConfig(rest);
    expect(config.keystone).toBeUndefined();
    expect(config.unservable).toContain("KEYSTONE_URL");
  });

  it("keystone without credentials refuses /v1, naming what is needed", () => {
    const config = loadConfig({ AUTH_STRATEGY: "keystone", KEYSTONE_URL: "http://keystone.test" });
    expect(config.keystone).toBeUndefined();
    expect(config.unservable).toContain("KEYSTONE_APPLICATION_CREDENTIAL_ID");
    expect(config.unservable).toContain("KEYSTONE_SERVICE_USER");
  });

  it.each([["KEYSTONE_SERVICE_USER"], ["KEYSTONE_SERVICE_PASSWORD"], ["KEYSTONE_SERVICE_PROJECT"]])(
    "keystone with a service user but no %s refuses /v1, naming it",
    (missing) => {
      const config = loadConfig({ ...KEYSTONE, [missing]: undefined });
      expect(config.keystone).toBeUndefined();
      // The message may abbreviate the common prefix ("KEYSTONE_SERVICE_USER, _PASSWORD and _PROJECT").
      expect(config.unservable).toContain(missing.replace("KEYSTONE_SERVICE", ""));
    },
  );

  it("keystone with half an application credential and no service user refuses /v1", () => {
    const config = loadConfig({
      AUTH_STRATEGY: "keystone",
      KEYSTONE_URL: "http://keystone.test",
      KEYSTONE_APPLICATION_CREDENTIAL_ID: "appcred-id",
    });
    expect(config.keystone).toBeUndefined();
    expect(config.unservable).toContain("KEYSTONE_APPLICATION_CREDENTIAL");
  });

  // Only local development and tests run noauth2; half an identity there
  // would leave the engine calling Nova without a token, so it stops the
  // Worker at start.
  it.each([
    [{ KEYSTONE_URL: "http://keystone.test" }, "KEYSTONE_APPLICATION_CREDENTIAL_ID"],
    [
      { KEYSTONE_SERVICE_USER: "masakari", KEYSTONE_SERVICE_PASSWORD: "x", KEYSTONE_SERVICE_PROJECT: "p" },
      "KEYSTONE_URL",
    ],
    [{ KEYSTONE_URL: "http://keystone.test", KEYSTONE_SERVICE_USER: "masakari" }, "_PASSWORD"],
  ])("noauth2 with half an identity %j fails at load, naming %s", (settings, named) => {
    expect(loadError({ AUTH_STRATEGY: "noauth2", ...settings })).toContain(named);
  });
});

describe("the recovery engine's options: upstream's names and defaults", () => {
  it("upstream's defaults, and ours (D22, D24)", () => {
    expect(loadConfig({}).recovery).toEqual({
      waitPeriodAfterServiceUpdate: 180,
      waitPeriodAfterEvacuation: 90,
      verifyInterval: 1,
      waitPeriodAfterPowerOff: 180,
      waitPeriodAfterPowerOn: 60,
      processUnfinishedNotificationsInterval: 120,
      retryNotificationNewStatusInterval: 60,
      checkExpiredNotificationsInterval: 600,
      notificationsExpiredInterval: 86400,
      hostFailure: {
        recoveryThreads: 3,
        evacuateAllInstances: true,
        haEnabledInstanceMetadataKey: "HA_Enabled",
        ignoreInstancesInErrorState: false,
        addReservedHostToAggregate: false,
        serviceDisableReason: "Masakari detected host failed.",
        // Ours, D24 (README.md, row D24): no priority key, no exclusion.
        priorityMetadataKey: undefined,
        excludeMetadata: undefined,
      },
      instanceFailure: { processAllInstances: false, haEnabledInstanceMetadataKey: "HA_Enabled" },
      processFailure: { serviceDisableReason: "Masakari detected process failed." },
      // Ours, D22 (README.md, row D22): more than 50% of a segment's hosts down within 600 s is held.
      stormGuard: { maxHostsDownPercent: 50, windowSeconds: 600 },
      novaCatalog: { type: "compute", interface: "public", region: undefined },
    });
  });

  it("every option under upstream's name, upper case, prefixed with its group; ours (D22, D24) under theirs", () => {
    const recovery = loadConfig({
      WAIT_PERIOD_AFTER_SERVICE_UPDATE: "0",
      WAIT_PERIOD_AFTER_EVACUATION: "30",
      VERIFY_INTERVAL: "2",
      WAIT_PERIOD_AFTER_POWER_OFF: "31",
      WAIT_PERIOD_AFTER_POWER_ON: "32",
      PROCESS_UNFINISHED_NOTIFICATIONS_INTERVAL: "300",
      RETRY_NOTIFICATION_NEW_STATUS_INTERVAL: "61",
      CHECK_EXPIRED_NOTIFICATIONS_INTERVAL: "900",
      NOTIFICATIONS_EXPIRED_INTERVAL: "3600",
      HOST_FAILURE_RECOVERY_THREADS: "8",
      HOST_FAILURE_EVACUATE_ALL_INSTANCES: "False",
      HOST_FAILURE_HA_ENABLED_INSTANCE_METADATA_KEY: "ha",
      HOST_FAILURE_IGNORE_INSTANCES_IN_ERROR_STATE: "yes",
      HOST_FAILURE_ADD_RESERVED_HOST_TO_AGGREGATE: "1",
      HOST_FAILURE_SERVICE_DISABLE_REASON: "host down",
      INSTANCE_FAILURE_PROCESS_ALL_INSTANCES: "on",
      INSTANCE_FAILURE_HA_ENABLED_INSTANCE_METADATA_KEY: "vm_ha",
      PROCESS_FAILURE_SERVICE_DISABLE_REASON: "process down",
      NOVA_CATALOG_ADMIN_INFO: "compute:nova:internalURL",
      OS_REGION_NAME: "RegionTwo",
      // Ours, D22 and D24 (README.md, rows D22 and D24), not upstream's.
      HOST_FAILURE_PRIORITY_METADATA_KEY: " ha-priority ",
      HOST_FAILURE_EXCLUDE_METADATA: "managed-by = octavia",
      STORM_GUARD_MAX_HOSTS_DOWN_PERCENT: "33",
      STORM_GUARD_WINDOW: "300",
    }).recovery;
    expect(recovery).toEqual({
      waitPeriodAfterServiceUpdate: 0,
      waitPeriodAfterEvacuation: 30,
      verifyInterval: 2,
      waitPeriodAfterPowerOff: 31,
      waitPeriodAfterPowerOn: 32,
      processUnfinishedNotificationsInterval: 300,
      retryNotificationNewStatusInterval: 61,
      checkExpiredNotificationsInterval: 900,
      notificationsExpiredInterval: 3600,
      hostFailure: {
        recoveryThreads: 8,
        evacuateAllInstances: false,
        haEnabledInstanceMetadataKey: "ha",
        ignoreInstancesInErrorState: true,
        addReservedHostToAggregate: true,
        serviceDisableReason: "host down",
        priorityMetadataKey: "ha-priority",
        excludeMetadata: { key: "managed-by", value: "octavia" },
      },
      instanceFailure: { processAllInstances: true, haEnabledInstanceMetadataKey: "vm_ha" },
      processFailure: { serviceDisableReason: "process down" },
      stormGuard: { maxHostsDownPercent: 33, windowSeconds: 300 },
      novaCatalog: { type: "compute", interface: "internal", region: "RegionTwo" },
    });
  });

  it.each([
    ["WAIT_PERIOD_AFTER_EVACUATION", "soon"],
    ["VERIFY_INTERVAL", "-1"],
    ["HOST_FAILURE_RECOVERY_THREADS", "0"],
    ["PROCESS_UNFINISHED_NOTIFICATIONS_INTERVAL", "0"],
    ["NOTIFICATIONS_EXPIRED_INTERVAL", "1.5"],
    ["HOST_FAILURE_EVACUATE_ALL_INSTANCES", "maybe"],
    ["INSTANCE_FAILURE_PROCESS_ALL_INSTANCES", "2"],
    ["NOVA_CATALOG_ADMIN_INFO", "compute"],
    // Ours, D22 and D24.
    ["STORM_GUARD_MAX_HOSTS_DOWN_PERCENT", "0"],
    ["STORM_GUARD_MAX_HOSTS_DOWN_PERCENT", "101"],
    ["STORM_GUARD_WINDOW", "-1"],
    ["HOST_FAILURE_EXCLUDE_METADATA", "managed-by"],
    ["HOST_FAILURE_EXCLUDE_METADATA", "=octavia"],
  ])("%s=%j stops the Worker at start, naming it", (setting, value) => {
    expect(loadError({ [setting]: value })).toContain(setting);
  });
});

describe("watching recoveries: /metrics, webhooks, the console's links, the demo", () => {
  const SECRET = `whsec_${btoa("k".repeat(32))}`;

  it("none set: no metrics token, no webhooks, no public URL, no demo", () => {
    const c = loadConfig({ AUTH_STRATEGY: "noauth2" });
    expect([c.metricsToken, c.webhooks, c.publicUrl, c.demo]).toEqual([undefined, undefined, undefined, false]);
  });

  it("as given: URLs split on spaces and commas, the secret decoded, the public URL without its trailing slash", () => {
    const c = loadConfig({
      AUTH_STRATEGY: "noauth2",
      METRICS_TOKEN: " scrape-me ",
      WEBHOOK_URLS: "https://a.example/hook, http://b.example:8080/in  https://c.example",
      WEBHOOK_SECRET: SECRET,
      PUBLIC_URL: "https://masakari.example/",
      DEMO_MODE: "true",
      NOVA_URL: "http://127.0.0.1:8774/v2.1",
    });
    expect(c.metricsToken).toBe("scrape-me");
    expect(c.webhooks?.urls).toEqual(["https://a.example/hook", "http://b.example:8080/in", "https://c.example"]);
    expect(new TextDecoder().decode(c.webhooks?.secret)).toBe("k".repeat(32));
    expect([c.publicUrl, c.demo]).toEqual(["https://masakari.example", true]);
  });

  it.each([
    [{ WEBHOOK_URLS: "ftp://a.example" }, "WEBHOOK_URLS"],
    [{ WEBHOOK_URLS: "https://a.example" }, "WEBHOOK_URLS needs WEBHOOK_SECRET"],
    [{ WEBHOOK_URLS: "https://a.example", WEBHOOK_SECRET: "whsec_short" }, "WEBHOOK_SECRET"],
    [{ WEBHOOK_URLS: "https://a.example", WEBHOOK_SECRET: "whsec_!!not base64!!" }, "WEBHOOK_SECRET"],
    [{ PUBLIC_URL: "masakari.example" }, "PUBLIC_URL"],
    [{ DEMO_MODE: "true" }, "DEMO_MODE needs NOVA_URL"],
    [{ DEMO_MODE: "perhaps", NOVA_URL: "http://127.0.0.1:8774/v2.1" }, "DEMO_MODE"],
  ])("%j stops the Worker at start: %s", (settings, named) => {
    expect(loadError({ AUTH_STRATEGY: "noauth2", ...settings })).toContain(named);
  });
});
