import { describe, expect, it } from "vitest";
import { type Env, loadConfig } from "../src/config";
import { DEFAULT_RULES } from "../src/http/policy";

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
  it("nothing set: noauth2, upstream's limits, no Nova, upstream's policy", () => {
    const config = loadConfig({});
    expect({
      authStrategy: config.authStrategy,
      maxLimit: config.maxLimit,
      duplicateNotificationInterval: config.duplicateNotificationInterval,
      novaUrl: config.novaUrl,
      novaTimeoutMs: config.novaTimeoutMs,
      keystone: config.keystone,
    }).toEqual({
      authStrategy: "noauth2",
      maxLimit: 1000,
      duplicateNotificationInterval: 180,
      novaUrl: undefined,
      novaTimeoutMs: 10000,
      keystone: undefined,
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

  it("noauth2 ignores Keystone settings", () => {
    expect(loadConfig({ ...KEYSTONE, AUTH_STRATEGY: "noauth2" }).keystone).toBeUndefined();
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
    expect(loadConfig({ ...KEYSTONE, KEYSTONE_URL: "http://keystone.test/" }).keystone).toEqual({
      url: "http://keystone.test",
      credentials: {
        kind: "password",
        user: "masakari",
        password: "masakari-secret",
        project: "service",
        domain: "Default",
      },
      timeoutMs: 5000,
      cacheSeconds: 300,
    });
  });

  it("the domain, timeout and cache lifetime as given; 0 disables the cache", () => {
    const keystone = loadConfig({
      ...KEYSTONE,
      KEYSTONE_SERVICE_DOMAIN: "ops",
      KEYSTONE_TIMEOUT_MS: "300",
      TOKEN_CACHE_SECONDS: "0",
    }).keystone;
    expect(keystone).toMatchObject({ credentials: { domain: "ops" }, timeoutMs: 300, cacheSeconds: 0 });
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

  it("keystone without KEYSTONE_URL fails, naming it", () => {
    const { KEYSTONE_URL: _, ...rest } = KEYSTONE;
    expect(loadError(rest)).toContain("KEYSTONE_URL");
  });

  it("keystone without credentials fails, naming what is needed", () => {
    const message = loadError({ AUTH_STRATEGY: "keystone", KEYSTONE_URL: "http://keystone.test" });
    expect(message).toContain("KEYSTONE_APPLICATION_CREDENTIAL_ID");
    expect(message).toContain("KEYSTONE_SERVICE_USER");
  });

  it.each([["KEYSTONE_SERVICE_USER"], ["KEYSTONE_SERVICE_PASSWORD"], ["KEYSTONE_SERVICE_PROJECT"]])(
    "keystone with a service user but no %s fails, naming it",
    (missing) => {
      const settings: Partial<Env> = { ...KEYSTONE, [missing]: undefined };
      // The message may abbreviate the common prefix ("KEYSTONE_SERVICE_USER, _PASSWORD and _PROJECT").
      expect(loadError(settings)).toContain(missing.replace("KEYSTONE_SERVICE", ""));
    },
  );

  it("keystone with half an application credential and no service user fails", () => {
    const message = loadError({
      AUTH_STRATEGY: "keystone",
      KEYSTONE_URL: "http://keystone.test",
      KEYSTONE_APPLICATION_CREDENTIAL_ID: "appcred-id",
    });
    expect(message).toContain("KEYSTONE_APPLICATION_CREDENTIAL");
  });
});
