import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { loadCloud } from "../clouds.mjs";
import { UsageError } from "../target.mjs";

/** A directory holding `files`, as the current directory openstacksdk looks in first. */
function dirWith(files) {
  const dir = mkdtempSync(join(tmpdir(), "smoke-clouds-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** loadCloud as --os-cloud calls it, with only `dir` to look in. */
function load(name, dir, env = {}) {
  return loadCloud(name, env, dir, join(dir, "no-home"));
}

test("the reference's clouds.yaml, named by OS_CLIENT_CONFIG_FILE", () => {
  const file = fileURLToPath(new URL("../../test/fixtures/clouds.yaml", import.meta.url));
  const cloud = load("masakari-ref", dirWith({}), { OS_CLIENT_CONFIG_FILE: file });
  assert.deepEqual(cloud, {
    auth_type: "none",
    auth: { endpoint: "http://127.0.0.1:15868/v1" },
    name: "masakari-ref",
    source: file,
  });
});

test("a clouds.yaml as Horizon writes it, read as openstacksdk reads it (YAML 1.1), secure.yaml merged", () => {
  const dir = dirWith({
    "clouds.yaml": `# This is a clouds.yaml file
---
clouds:
  openstack:
    auth:
      auth_url: "https://keystone.example.com:5000/v3"   # the identity endpoint
      username: 'o''brien'
      project_id: 0123abcd
      user_domain_name: Default
    region_name: "RegionOne"
    interface: "public"
    identity_api_version: 3
    verify: no
`,
    "secure.yaml": "clouds:\n  openstack:\n    auth:\n      password: \"p#ss: x\"\n",
  });
  const cloud = load("openstack", dir);
  assert.deepEqual(cloud.auth, {
    auth_url: "https://keystone.example.com:5000/v3",
    username: "o'brien",
    project_id: "0123abcd",
    user_domain_name: "Default",
    password: "p#ss: x",
  });
  // applyTls turns TLS checks off only for the boolean false, which YAML 1.2 would not make of `no`.
  assert.equal(cloud.verify, false);
  assert.equal(cloud.identity_api_version, 3);
  assert.equal(cloud.source, join(dir, "clouds.yaml"));
});

test("a clouds.json is read when no clouds.yaml is found", () => {
  const dir = dirWith({ "clouds.json": '{"clouds": {"a": {"auth_type": "none", "verify": false}}}' });
  assert.deepEqual(load("a", dir), { auth_type: "none", verify: false, name: "a", source: join(dir, "clouds.json") });
});

test("a file that is not YAML is a usage error naming the file and the line", () => {
  const dir = dirWith({ "clouds.yaml": "clouds:\n  a:\n    auth_type: none\n    auth_type: password\n" });
  assert.throws(
    () => load("a", dir),
    (error) =>
      error instanceof UsageError && error.message.startsWith(join(dir, "clouds.yaml")) && /line 4/.test(error.message),
  );
});

test("a cloud the file does not have is named, with those it has", () => {
  const dir = dirWith({ "clouds.yaml": "clouds:\n  a: {auth_type: none}\n  b: {auth_type: none}\n" });
  assert.throws(() => load("c", dir), /--os-cloud c: .*clouds\.yaml has no such cloud \(it has: a, b\)/);
});
