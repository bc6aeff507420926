// The client's own behaviour, against a stub fetch (no server): the base
// URL forms, the headers it adds, the /v1/{project_id} form, and how a
// fault becomes a typed error.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BadRequest,
  Conflict,
  createMasakariClient,
  MasakariError,
  NotFound,
  type SegmentCreate,
  type SegmentUpdate,
  serviceRoot,
  Unauthorized,
  unwrap,
} from "../src/index.ts";

const REQUEST_ID = "req-0f0e0d0c-0b0a-4909-8807-060504030201";

/** A fetch that records each request and answers `reply(request)`. */
function stub(reply: (request: Request) => Response = () => Response.json({ segments: [] })) {
  const requests: Request[] = [];
  const fetch = async (request: Request) => {
    requests.push(request);
    return reply(request);
  };
  return { requests, fetch };
}

const fault = (status: number, name: string, message: string) =>
  Response.json({ [name]: { code: status, message } }, { status, headers: { "x-openstack-request-id": REQUEST_ID } });

describe("the base URL", () => {
  const cases: [string, string, string | undefined][] = [
    ["http://h:8787", "http://h:8787", undefined],
    ["http://h:8787/", "http://h:8787", undefined],
    ["http://h:8787/v1", "http://h:8787", undefined],
    ["http://h:8787/v1/", "http://h:8787", undefined],
    ["https://h/instance-ha/v1", "https://h/instance-ha", undefined],
    ["http://h:15868/v1/8a1b3c0d5e6f47a8b9c0d1e2f3a4b5c6", "http://h:15868", "8a1b3c0d5e6f47a8b9c0d1e2f3a4b5c6"],
  ];
  for (const [given, root, projectId] of cases) {
    it(`${given} is the service root ${root}${projectId ? " and a project" : ""}`, () => {
      assert.deepEqual(serviceRoot(given), projectId ? { root, projectId } : { root });
    });
  }

  it("every form reaches the same URL", async () => {
    for (const baseUrl of ["http://h:8787", "http://h:8787/v1", "http://h:8787/v1/"]) {
      const { requests, fetch } = stub();
      await createMasakariClient({ baseUrl, fetch }).GET("/v1/segments");
      assert.equal(requests[0]?.url, "http://h:8787/v1/segments");
    }
  });
});

describe("the headers", () => {
  it("X-Auth-Token and OpenStack-API-Version: instance-ha 1.3 by default", async () => {
    const { requests, fetch } = stub();
    await createMasakariClient({ baseUrl: "http://h", token: "t0k3n", fetch }).GET("/v1/segments");
    assert.equal(requests[0]?.headers.get("x-auth-token"), "t0k3n");
    assert.equal(requests[0]?.headers.get("openstack-api-version"), "instance-ha 1.3");
  });

  it("no token, no X-Auth-Token; the microversion asked for", async () => {
    const { requests, fetch } = stub();
    await createMasakariClient({ baseUrl: "http://h", microversion: "1.0", fetch }).GET("/v1/segments");
    assert.equal(requests[0]?.headers.has("x-auth-token"), false);
    assert.equal(requests[0]?.headers.get("openstack-api-version"), "instance-ha 1.0");
  });

  it("a token function is asked on every request", async () => {
    const { requests, fetch } = stub();
    let n = 0;
    const masakari = createMasakariClient({ baseUrl: "http://h", token: async () => `token-${++n}`, fetch });
    await masakari.GET("/v1/segments");
    await masakari.GET("/v1/segments");
    assert.deepEqual(
      requests.map((r) => r.headers.get("x-auth-token")),
      ["token-1", "token-2"],
    );
  });

  it("a request's own microversion header wins", async () => {
    const { requests, fetch } = stub();
    await createMasakariClient({ baseUrl: "http://h", fetch }).GET("/v1/segments", {
      params: { header: { "OpenStack-API-Version": "instance-ha 1.1" } },
    });
    assert.equal(requests[0]?.headers.get("openstack-api-version"), "instance-ha 1.1");
  });
});

describe("the project form", () => {
  it("puts the project after /v1, keeping the path, the query and the body", async () => {
    const { requests, fetch } = stub(() => Response.json({ segment: {} }, { status: 202 }));
    const masakari = createMasakariClient({ baseUrl: "http://h/prefix/v1", projectId: "abc123", fetch });
    await masakari.GET("/v1/segments/{id}", { params: { path: { id: "s-1" } } });
    await masakari.GET("/v1/segments", { params: { query: { limit: 2 } } });
    await masakari.POST("/v1/segments", {
      body: { segment: { name: "a", recovery_method: "auto", service_type: "COMPUTE" } },
    });
    await masakari.GET("/v1");
    await masakari.GET("/");
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.url}`),
      [
        "GET http://h/prefix/v1/abc123/segments/s-1",
        "GET http://h/prefix/v1/abc123/segments?limit=2",
        "POST http://h/prefix/v1/abc123/segments",
        "GET http://h/prefix/v1",
        "GET http://h/prefix/",
      ],
    );
    assert.deepEqual(await requests[2]?.json(), {
      segment: { name: "a", recovery_method: "auto", service_type: "COMPUTE" },
    });
    assert.equal(requests[2]?.headers.get("content-type"), "application/json");
  });

  it("comes from a catalog's /v1/<project_id> endpoint, unless given", async () => {
    const { requests, fetch } = stub();
    await createMasakariClient({ baseUrl: "http://h/v1/0a1b", fetch }).GET("/v1/segments");
    await createMasakariClient({ baseUrl: "http://h/v1/0a1b", projectId: "ff", fetch }).GET("/v1/segments");
    assert.deepEqual(
      requests.map((r) => r.url),
      ["http://h/v1/0a1b/segments", "http://h/v1/ff/segments"],
    );
  });

  it("leaves a path already in the project form alone", async () => {
    const { requests, fetch } = stub();
    await createMasakariClient({ baseUrl: "http://h", projectId: "abc", fetch }).GET("/v1/{project_id}/segments", {
      params: { path: { project_id: "def" } },
    });
    assert.equal(requests[0]?.url, "http://h/v1/def/segments");
  });
});

describe("faults", () => {
  it("a 404 is a NotFound with the fault's name, message and request id", async () => {
    const { fetch } = stub(() => fault(404, "itemNotFound", "No failover segment with id x."));
    const masakari = createMasakariClient({ baseUrl: "http://h", fetch });
    const error = await masakari.segments.get("x").catch((e: unknown) => e);
    assert.ok(error instanceof NotFound && error instanceof MasakariError && error instanceof Error);
    assert.equal(error.status, 404);
    assert.equal(error.fault, "itemNotFound");
    assert.equal(error.message, "No failover segment with id x.");
    assert.equal(error.requestId, REQUEST_ID);
    assert.equal(error.name, "NotFound");
  });

  it("a 409 is a Conflict, not a NotFound", async () => {
    const { fetch } = stub(() => fault(409, "conflictingRequest", "in use"));
    const error = await createMasakariClient({ baseUrl: "http://h", fetch })
      .segments.delete("x")
      .catch((e: unknown) => e);
    assert.ok(error instanceof Conflict);
    assert.ok(!(error instanceof NotFound));
    assert.equal(error.fault, "conflictingRequest");
  });

  it("the typed call answers the fault body; unwrap throws it", async () => {
    const { fetch } = stub(() => fault(400, "badRequest", "Invalid input"));
    const masakari = createMasakariClient({ baseUrl: "http://h", fetch });
    const { data, error, response } = await masakari.GET("/v1/segments");
    assert.equal(data, undefined);
    assert.equal(response.status, 400);
    assert.deepEqual(error, { badRequest: { code: 400, message: "Invalid input" } });
    await assert.rejects(unwrap(masakari.GET("/v1/segments")), (e) => e instanceof BadRequest && e.status === 400);
  });

  it("keystonemiddleware's 401 body, a text body and an unknown status", () => {
    const unauthorized = MasakariError.from(new Response(null, { status: 401 }), {
      error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." },
    });
    assert.ok(unauthorized instanceof Unauthorized);
    assert.equal(unauthorized.fault, "error");
    assert.equal(unauthorized.message, "The request you have made requires authentication.");

    const tooLarge = MasakariError.from(new Response(null, { status: 413 }), "Request is too large.\n");
    assert.equal(tooLarge.constructor, MasakariError);
    assert.equal(tooLarge.status, 413);
    assert.equal(tooLarge.fault, undefined);
    assert.equal(tooLarge.message, "Request is too large.");

    const empty = MasakariError.from(new Response(null, { status: 502, statusText: "Bad Gateway" }), undefined);
    assert.equal(empty.message, "502 Bad Gateway");
  });
});

describe("the types", () => {
  it("refuse what the document does not allow (checked by npm --prefix client run typecheck)", () => {
    const create: SegmentCreate = { name: "n", recovery_method: "auto", service_type: "COMPUTE", enabled: false };
    const update: SegmentUpdate = { description: null };
    // @ts-expect-error: a segment needs its recovery method and service type
    const incomplete: SegmentCreate = { name: "n" };
    // @ts-expect-error: an update is an object of the segment's fields, not anything
    const wrong: SegmentUpdate = { name: 42 };
    // @ts-expect-error: no such path
    const unknownPath = () => createMasakariClient({ baseUrl: "http://h" }).GET("/v1/segment");
    assert.ok(create && update && incomplete && wrong && unknownPath);
  });
});
