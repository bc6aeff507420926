import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            // The setup file applies these migrations.
            TEST_MIGRATIONS: migrations,
            // The tests run noauth2, as `npm run dev` does; wrangler.toml
            // deploys keystone.
            AUTH_STRATEGY: "noauth2",
            // The Worker's own identity, with which the recovery engine logs
            // in to the fake Keystone and finds the Nova stand-in in its
            // catalog (D14). No NOVA_URL: the API checks no host name (D10).
            KEYSTONE_URL: "http://keystone.test",
            KEYSTONE_SERVICE_USER: "masakari-engine",
            KEYSTONE_SERVICE_PASSWORD: "masakari-secret",
            KEYSTONE_SERVICE_PROJECT: "service",
          },
          // Every fetch the Worker makes (Nova, Keystone) goes to a fake
          // OpenStack Worker; tests ask it what it saw through FAKE_OPENSTACK.
          // Its Nova at compute.test is the stateful stand-in, which tests set
          // up and read through NOVA_STAND_IN.
          workers: [
            {
              name: "fake-openstack",
              modules: true,
              scriptPath: "./test/fakes/openstack.mjs",
              compatibilityDate: "2026-11-01",
              serviceBindings: { NOVA: "nova-stand-in" },
            },
            {
              name: "nova-stand-in",
              modules: true,
              scriptPath: "./test/fakes/nova.mjs",
              compatibilityDate: "2026-11-01",
            },
            // Where test/webhooks.test.ts delivers its events.
            {
              name: "webhook-receiver",
              modules: true,
              scriptPath: "./test/fakes/webhook-receiver.mjs",
              compatibilityDate: "2026-11-01",
            },
          ],
          outboundService: "fake-openstack",
          serviceBindings: {
            FAKE_OPENSTACK: "fake-openstack",
            NOVA_STAND_IN: "nova-stand-in",
            WEBHOOK_RECEIVER: "webhook-receiver",
          },
        },
      }),
    ],
    test: {
      // The Node-side suites (smoke/test) run under node --test.
      include: ["test/**/*.test.ts"],
      // The engine's suites run Workflows end to end (twenty at once in one
      // test): seconds each on a loaded 2-core machine, not milliseconds.
      testTimeout: 30_000,
      setupFiles: ["./test/apply-migrations.ts"],
      // The replay harness runs each recovery hundreds of times; its logs say nothing a failure would not.
      onConsoleLog: (log) => !log.includes("[harness"),
    },
  };
});
