import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parseYaml, YamlError } from "../yaml.mjs";

test("the reference's clouds.yaml", () => {
  const text = readFileSync(new URL("../../test/fixtures/clouds.yaml", import.meta.url), "utf8");
  assert.deepEqual(parseYaml(text), {
    clouds: { "masakari-ref": { auth_type: "none", auth: { endpoint: "http://127.0.0.1:15868/v1" } } },
  });
});

test("a clouds.yaml as Horizon writes it: quotes, comments, numbers, lists", () => {
  const text = `# This is a clouds.yaml file
---
clouds:
  openstack:
    auth:
      auth_url: "https://keystone.example.com:5000/v3"   # the identity endpoint
      username: 'o''brien'
      password: "p#ss: \\"x\\""
      project_id: 0123abcd
      user_domain_name: Default
    region_name: "RegionOne"
    interface: "public"
    identity_api_version: 3
    verify: no
    regions:
    - RegionOne
    - name: RegionTwo
      values: {a: 1, b: [x, "y z"]}
    empty:
    flow: []
`;
  assert.deepEqual(parseYaml(text), {
    clouds: {
      openstack: {
        auth: {
          auth_url: "https://keystone.example.com:5000/v3",
          username: "o'brien",
          password: 'p#ss: "x"',
          project_id: "0123abcd",
          user_domain_name: "Default",
        },
        region_name: "RegionOne",
        interface: "public",
        identity_api_version: 3,
        verify: false,
        regions: ["RegionOne", { name: "RegionTwo", values: { a: 1, b: ["x", "y z"] } }],
        empty: null,
        flow: [],
      },
    },
  });
});

test("scalars resolve as PyYAML's: yes/no/on/off are booleans, long digit strings stay strings", () => {
  assert.deepEqual(parseYaml("a: yes\nb: Off\nc: ~\nd: 12345678901234567890\ne: 1.5\nf: 007x"), {
    a: true,
    b: false,
    c: null,
    d: "12345678901234567890",
    e: 1.5,
    f: "007x",
  });
});

test("JSON is read as JSON", () => {
  assert.deepEqual(parseYaml('{"clouds": {"a": {"auth_type": "none"}}}'), { clouds: { a: { auth_type: "none" } } });
});

test("what the reader does not support is refused with the line", () => {
  for (const [text, message] of [
    ["a: &x 1", /line 1: anchors/],
    ["a: |\n  x", /line 1: block scalars/],
    ["a: 1\na: 2", /line 2: duplicate key/],
    ["a:\n  b: 1\n c: 2", /line 3/],
    ['a: "x', /line 1: unterminated/],
    ["a: b\n  c", /line 2: multi-line/],
    ["---\na: 1\n---\nb: 2", /line 3: several YAML documents/],
    ["a:\n\tb: 1", /line 2: tabs/],
  ]) {
    assert.throws(
      () => parseYaml(text),
      (error) => error instanceof YamlError && message.test(error.message),
      text,
    );
  }
});
