import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config";
import { call, fault, ORIGIN, sql, unique } from "./helpers";

// The v1 pipeline's own middleware (src/http/pipeline.ts): the request id
// on every response and every log line, and the body size limit whether or
// not the client declares the body's length.

const REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("request ids", () => {
  it("a client's own x-openstack-request-id is not taken: oslo always makes a new one", async () => {
    const res = await call("GET", "/v1/segments", { headers: { "x-openstack-request-id": "req-mine" } });
    expect(res.headers.get("x-openstack-request-id")).toMatch(REQUEST_ID);
  });

  it("the 500 log line starts with the request id of the response", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const broken = {
      ...env,
      DB: {
        withSession: () => ({
          prepare: () => {
            throw new Error("D1 is down");
          },
          batch: () => Promise.reject(new Error("D1 is down")),
          getBookmark: () => null,
        }),
      },
    };
    const app = createApp(loadConfig(env));
    const res = await call("GET", `/v1/segments/${crypto.randomUUID()}`, {}, (request) => app.fetch(request, broken));
    const id = res.headers.get("x-openstack-request-id");
    expect([res.status, res.json, id]).toEqual([
      500,
      fault("masakariFault", 500, "The server has either erred or is incapable of performing the requested operation."),
      expect.stringMatching(REQUEST_ID),
    ]);
    expect(errors).toHaveBeenCalledWith(
      `[${id}]`,
      expect.stringMatching(/^GET \/v1\/segments\/.* failed:$/),
      expect.any(Error),
    );
  });
});

describe("body size limit", () => {
  const TOO_LARGE =
    "413 Request Entity Too Large\n\nRequest is too large. Larger than max_request_body_size (114688).\n\n   ";

  /** A segment create whose body is sent in chunks, with no Content-Length. */
  function streamedCreate(text: string): Request {
    return new Request(`${ORIGIN}/v1/segments`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: streamed(text),
    });
  }

  /** A body whose size shows only as it is read. */
  function streamed(text: string): ReadableStream<Uint8Array> {
    const bytes = new TextEncoder().encode(text);
    let offset = 0;
    return new ReadableStream({
      pull(controller) {
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(offset, offset + 16384));
        offset += 16384;
      },
    });
  }

  it("a streamed body over 114688 bytes is oslo's plain-text 413, and nothing is stored", async () => {
    const name = unique("streamed");
    const json = JSON.stringify({ segment: { name, recovery_method: "auto", service_type: "COMPUTE" } });
    const request = streamedCreate(json + " ".repeat(114689 - json.length));
    expect(request.headers.get("content-length")).toBeNull();
    const res = await call("POST", "/v1/segments", {}, () => exports.default.fetch(request));
    expect([res.status, res.text, res.headers.get("content-type")]).toEqual([
      413,
      TOO_LARGE,
      "text/plain; charset=UTF-8",
    ]);
    expect(res.headers.get("x-openstack-request-id")).toMatch(REQUEST_ID);
    expect(await sql("SELECT id FROM failover_segments WHERE name = ?", name)).toEqual([]);
  });

  it("a streamed body within the limit is read and the segment created", async () => {
    const name = unique("streamed");
    const request = streamedCreate(
      JSON.stringify({ segment: { name, recovery_method: "auto", service_type: "COMPUTE" } }),
    );
    const res = await call("POST", "/v1/segments", {}, () => exports.default.fetch(request));
    expect([res.status, res.json.segment.name]).toEqual([202, name]);
  });
});
