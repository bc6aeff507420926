import { describe, expect, it } from "vitest";
import { call, createSegment, holdRecoveries, post, UNKNOWN_UUID } from "./helpers";

holdRecoveries();

// Nothing a client sends is a 500: odd paths, queries, headers and bodies
// get a 4xx (or their normal answer).

describe("no client input is a 500", () => {
  it.each([
    ["GET", "/v1/segments/%ZZ"],
    ["GET", "/v1/segments/%00"],
    ["GET", `/v1/segments/${"a".repeat(5000)}`],
    ["GET", "/v1/segments?limit=%ZZ"],
    ["GET", "/v1/segments?limit=99999999999999999999999"],
    ["GET", "/v1/segments?marker=99999999999999999999999"],
    ["GET", "/v1/segments?marker=1e3"],
    ["GET", "/v1/segments?marker=%00"],
    ["GET", "/v1/segments?sort_key=%00"],
    ["GET", "/v1/segments?sort_key=id;DROP TABLE hosts"],
    ["GET", "/v1/segments?sort_key=name%20desc"],
    ["GET", `/v1/segments?${Array.from({ length: 200 }, (_, i) => `sort_key=${i % 2 ? "name" : "id"}`).join("&")}`],
    ["GET", "/v1/segments?recovery_method=%C0%AF"],
    ["GET", `/v1/segments/${UNKNOWN_UUID}/hosts?reserved=%00`],
    ["GET", "/v1/notifications?generated-since=9999-12-31T23:59:59-23:59"],
    ["GET", "/v1/notifications?generated-since=0001-01-01T00:00:00%2B23:59"],
    ["GET", `/v1/notifications/${UNKNOWN_UUID}/vmoves?sort_key=instance_name&sort_dir=asc&marker=abc`],
    ["DELETE", `/v1/segments/${UNKNOWN_UUID}.json`],
    ["GET", "/v1/segments.xml.json"],
    ["OPTIONS", "/v1/segments"],
    ["PATCH", "/"],
  ])("%s %s", async (method, path) => {
    const res = await call(method, path);
    expect(res.status).toBeLessThan(500);
  });

  it.each([
    [`{"segment": ${"[".repeat(900)}${"]".repeat(900)}}`],
    // Python's decoder gives up on this with RecursionError (upstream: 500).
    [`{"segment": ${"[".repeat(5000)}${"]".repeat(5000)}}`],
    ['{"segment": {"name": "\\ud800", "recovery_method": "auto", "service_type": "C"}}'],
    ['{"segment": {"name": 1e400, "recovery_method": "auto", "service_type": "C"}}'],
    ['{"segment": {"name": "x", "recovery_method": {"a": [1, {"b": null}]}, "service_type": "C"}}'],
    ['{"segment": null}'],
    ["true"],
    ['"segment"'],
    ["\ufeff{}"],
  ])("POST /v1/segments with body %#", async (raw) => {
    const res = await call("POST", "/v1/segments", { raw, headers: { "Content-Type": "application/json" } });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(Object.keys(res.json ?? {})).toEqual(["badRequest"]);
  });

  it("a notification payload with many keys is checked without error", async () => {
    const segment = await createSegment();
    await post(`/v1/segments/${segment.uuid}/hosts`, {
      host: { name: "robust-host", type: "COMPUTE", control_attributes: "SSH" },
    });
    const payload = { event: "STOPPED", ...Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, "v"])) };
    const res = await post("/v1/notifications", {
      notification: { type: "COMPUTE_HOST", hostname: "robust-host", generated_time: "2026-01-01T00:00:00", payload },
    });
    expect(res.status).toBe(400);
    expect(res.json.badRequest.message).toBe(
      `Additional properties are not allowed (${Array.from({ length: 500 }, (_, i) => `'k${i}'`).join(", ")} were unexpected)`,
    );
  });
});
