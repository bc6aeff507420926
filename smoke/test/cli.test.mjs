// The smoke test run as an operator runs it, against the stand-ins: what it
// prints, its exit status, and that it leaves no segment behind whatever
// fails or interrupts it.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fakeKeystone, fakeMasakari } from "./fakes.mjs";

const CLI = new URL("../cli.mjs", import.meta.url).pathname;
const servers = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function start(make, knobs) {
  const server = await make(knobs);
  servers.push(server);
  return server;
}

/** Runs the smoke; `onLine` may act on its output as it comes (e.g. signal it). */
function smoke(args, { env = {}, onLine } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      onLine?.(stdout, child);
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const byName = (report) => Object.fromEntries(report.steps.map((s) => [s.name, s]));

test("against a Masakari-like server every step holds; 201 is accepted, the bookmark step skipped", async () => {
  const api = await start(fakeMasakari);
  const { code, stdout } = await smoke(["--url", `${api.url}/v1`, "--json"]);
  const report = JSON.parse(stdout);
  assert.equal(code, 0, stdout);
  assert.equal(report.summary.ok, true);
  assert.equal(report.microversion, "1.2");
  const steps = byName(report);
  assert.match(steps["segment create"].detail, /^201, smoke-[0-9a-f]{8} .*disabled$/);
  assert.equal(steps.auth.status, "skip");
  assert.equal(steps["x-d1-bookmark"].status, "skip");
  assert.equal(api.segments.size, 0);
  const create = api.requests.find((r) => r.method === "POST");
  assert.equal(create.headers["openstack-api-version"], "instance-ha 1.2");
  assert.equal(create.body.segment.enabled, false);
  assert.equal(create.headers["x-auth-token"], undefined);
});

test("the microversion is capped at 1.3; enabled is not sent below 1.2", async () => {
  const newer = await start(fakeMasakari, { maxVersion: "1.7" });
  assert.equal(JSON.parse((await smoke(["--url", newer.url, "--json"])).stdout).microversion, "1.3");
  const older = await start(fakeMasakari, { maxVersion: "1.1" });
  const { code } = await smoke(["--url", older.url, "--json"]);
  assert.equal(code, 0);
  assert.equal(older.requests.find((r) => r.method === "POST").body.segment.enabled, undefined);
});

test("where the server offers x-d1-bookmark, the create's is sent back and every read after a write sends the newest", async () => {
  const api = await start(fakeMasakari, { bookmarks: true, createStatus: 202 });
  const { code, stdout } = await smoke(["--url", api.url, "--json"]);
  assert.equal(code, 0, stdout);
  assert.equal(byName(JSON.parse(stdout))["x-d1-bookmark"].status, "ok");
  const gets = api.requests.filter((r) => r.method === "GET" && /\/segments\/[0-9a-f-]{36}$/.test(r.path));
  assert.deepEqual(
    gets.map((r) => r.headers["x-d1-bookmark"]?.split("-")[1]),
    ["00000001", "00000001", "00000002", "00000003"],
  );
});

test("--os-cloud: a Keystone token, the catalog's /v1/<project_id> endpoint, and a tokenless request refused", async () => {
  const api = await start(fakeMasakari, { token: "gAAAA-smoke-token" });
  const keystone = await start(fakeKeystone, { instanceHa: `${api.url}/v1/$(project_id)s` });
  const dir = mkdtempSync(join(tmpdir(), "smoke-clouds-"));
  writeFileSync(
    join(dir, "clouds.yaml"),
    `clouds:\n  prod:\n    auth:\n      auth_url: ${keystone.url}\n      username: admin\n      project_name: admin\n` +
      "      user_domain_name: Default\n      project_domain_id: default\n    region_name: RegionOne\n",
  );
  writeFileSync(join(dir, "secure.yaml"), "clouds:\n  prod:\n    auth:\n      password: secret\n");
  const env = { OS_CLIENT_CONFIG_FILE: join(dir, "clouds.yaml"), OS_CLIENT_SECURE_FILE: join(dir, "secure.yaml") };
  const { code, stdout } = await smoke(["--os-cloud", "prod", "--json"], { env });
  const report = JSON.parse(stdout);
  assert.equal(code, 0, stdout);
  assert.equal(report.target.api, `${api.url}/v1/0123abcd`);
  assert.match(byName(report).auth.detail, /^401 without a token \(WWW-Authenticate: Keystone/);
  assert.deepEqual(keystone.requests[0].body.auth, {
    identity: {
      methods: ["password"],
      password: { user: { name: "admin", domain: { name: "Default" }, password: "secret" } },
    },
    scope: { project: { name: "admin", domain: { id: "default" } } },
  });
  assert.ok(api.requests.some((r) => r.path === "/v1/0123abcd/segments" && r.method === "POST"));
});

test("--os-cloud with an application credential and --url; a refused credential fails the keystone step", async () => {
  const api = await start(fakeMasakari, { token: "gAAAA-smoke-token" });
  const keystone = await start(fakeKeystone, { instanceHa: "http://unused.invalid/v1" });
  const dir = mkdtempSync(join(tmpdir(), "smoke-clouds-"));
  const write = (secret) =>
    writeFileSync(
      join(dir, "clouds.yaml"),
      `clouds:\n  ac:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: ${keystone.url}/v3/\n` +
        `      application_credential_id: abc\n      application_credential_secret: ${secret}\n`,
    );
  const env = { OS_CLIENT_CONFIG_FILE: join(dir, "clouds.yaml"), OS_CLIENT_SECURE_FILE: join(dir, "none.yaml") };
  write("secret");
  const ok = await smoke(["--os-cloud", "ac", "--url", api.url], { env });
  assert.equal(ok.code, 0, ok.stdout);
  assert.deepEqual(keystone.requests[0].body.auth, {
    identity: { methods: ["application_credential"], application_credential: { id: "abc", secret: "secret" } },
  });
  write("wrong");
  const refused = await smoke(["--os-cloud", "ac", "--url", api.url], { env });
  assert.equal(refused.code, 1);
  assert.match(
    refused.stdout,
    /^FAIL .* keystone: POST .*\/v3\/auth\/tokens: expected 201 with a token; received 401/m,
  );
  assert.match(refused.stdout, /^---- .* versions: not run: needs keystone, which failed$/m);
});

test("a failed step is named with what was expected and what came; the rest goes on", async () => {
  const api = await start(fakeMasakari, { failUpdate: true });
  const { code, stdout } = await smoke(["--url", api.url]);
  assert.equal(code, 1);
  assert.match(
    stdout,
    /^FAIL .* segment update: expected 200 from PUT .* with the updated segment; received 409 conflictingRequest: /m,
  );
  assert.match(stdout, /^---- .* segment update visible: not run: needs segment update, which failed$/m);
  assert.match(stdout, /^OK .* segment delete: 204/m);
  assert.match(stdout, /^smoke FAILED: 1 of 13 steps failed \(segment update\)/m);
  assert.equal(api.segments.size, 0);
});

test("when the delete step fails, cleanup deletes the segment", async () => {
  const api = await start(fakeMasakari, { failDeletes: 1 });
  const { code, stdout } = await smoke(["--url", api.url]);
  assert.equal(code, 1);
  assert.match(stdout, /^FAIL .* segment delete: expected 204 from DELETE .*; received 500 masakariFault/m);
  assert.match(stdout, /^OK .* cleanup: segment smoke-[0-9a-f]{8} \(.*\) deleted$/m);
  assert.equal(api.segments.size, 0);
});

test("when the create's answer is lost, cleanup finds the segment by name and deletes it", async () => {
  const api = await start(fakeMasakari, { dropCreateAnswer: true });
  const { code, stdout } = await smoke(["--url", api.url]);
  assert.equal(code, 1);
  assert.match(stdout, /^FAIL .* segment create: expected 201 or 202 .*; received no answer/m);
  assert.match(stdout, /^OK .* cleanup: segment smoke-[0-9a-f]{8} \(.*\) deleted$/m);
  assert.equal(api.segments.size, 0);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  test(`${signal} after the create: cleanup, then exit 130`, async () => {
    const api = await start(fakeMasakari);
    let sent = false;
    const { code, stdout } = await smoke(["--url", api.url, "--pause", "300"], {
      onLine: (out, child) => {
        if (!sent && /segment create: 201/.test(out)) {
          sent = true;
          child.kill(signal);
        }
      },
    });
    assert.equal(code, 130, stdout);
    assert.match(stdout, /^---- .* segment show: not run: interrupted by SIG/m);
    assert.match(stdout, /^OK .* cleanup: segment smoke-[0-9a-f]{8} .* deleted$/m);
    assert.match(stdout, new RegExp(`^smoke FAILED: interrupted by ${signal}`, "m"));
    assert.equal(api.segments.size, 0);
  });
}

test("usage errors exit 2; --help exits 0", async () => {
  assert.equal((await smoke([])).code, 2);
  assert.equal((await smoke(["--url", "http://x", "--token", "t", "--os-cloud", "c"])).code, 2);
  assert.equal((await smoke(["--url", "http://x/v1/segments"])).code, 2);
  const help = await smoke(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: npm run smoke -- --url URL/);
});
