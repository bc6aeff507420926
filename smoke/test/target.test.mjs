import assert from "node:assert/strict";
import { test } from "node:test";
import { apiTarget, UsageError } from "../target.mjs";

test("the service root is the root; resources are under /v1", () => {
  assert.deepEqual(apiTarget("https://ha.example.com"), {
    root: "https://ha.example.com",
    v1: "https://ha.example.com/v1",
    api: "https://ha.example.com/v1",
    projectId: null,
  });
  assert.equal(apiTarget("https://ha.example.com/").root, "https://ha.example.com");
});

test("the /v1 endpoint a catalog lists gives the same target, with or without a slash", () => {
  for (const url of ["http://127.0.0.1:15868/v1", "http://127.0.0.1:15868/v1/"]) {
    const target = apiTarget(url);
    assert.equal(target.root, "http://127.0.0.1:15868");
    assert.equal(target.api, "http://127.0.0.1:15868/v1");
  }
});

test("/v1/<project_id> keeps the project id for the resource routes", () => {
  const target = apiTarget("https://ha.example.com:15868/v1/0123abcd");
  assert.equal(target.root, "https://ha.example.com:15868");
  assert.equal(target.v1, "https://ha.example.com:15868/v1");
  assert.equal(target.api, "https://ha.example.com:15868/v1/0123abcd");
  assert.equal(target.projectId, "0123abcd");
});

test("--project-id adds the project; it must agree with the URL's", () => {
  assert.equal(apiTarget("https://ha.example.com", "abc").api, "https://ha.example.com/v1/abc");
  assert.equal(apiTarget("https://ha.example.com/v1/abc", "abc").api, "https://ha.example.com/v1/abc");
  assert.throws(() => apiTarget("https://ha.example.com/v1/abc", "def"), UsageError);
});

test("a path prefix before /v1 is kept", () => {
  const target = apiTarget("https://cloud.example.com/instance-ha/v1/abc");
  assert.equal(target.root, "https://cloud.example.com/instance-ha");
  assert.equal(target.api, "https://cloud.example.com/instance-ha/v1/abc");
  assert.equal(apiTarget("https://cloud.example.com/instance-ha").api, "https://cloud.example.com/instance-ha/v1");
});

test("a resource URL, a catalog template, a query or another scheme is refused", () => {
  for (const url of [
    "https://ha.example.com/v1/segments",
    "https://ha.example.com/v1/abc/segments",
    "https://ha.example.com/v1/$(project_id)s",
    "https://ha.example.com/v1?x=1",
    "ftp://ha.example.com/v1",
    "ha.example.com",
  ]) {
    assert.throws(() => apiTarget(url), UsageError, url);
  }
});
