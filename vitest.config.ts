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
          // The setup file applies these migrations. The tests run noauth2,
          // as `npm run dev` does; wrangler.toml deploys keystone.
          bindings: { TEST_MIGRATIONS: migrations, AUTH_STRATEGY: "noauth2" },
          // Every fetch the Worker makes (Nova, Keystone) goes to a fake
          // OpenStack Worker; tests ask it what it saw through FAKE_OPENSTACK.
          workers: [
            {
              name: "fake-openstack",
              modules: true,
              scriptPath: "./test/fakes/openstack.mjs",
              compatibilityDate: "2026-11-01",
            },
          ],
          outboundService: "fake-openstack",
          serviceBindings: { FAKE_OPENSTACK: "fake-openstack" },
        },
      }),
    ],
    test: {
      setupFiles: ["./test/apply-migrations.ts"],
    },
  };
});
