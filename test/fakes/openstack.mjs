// A fake OpenStack for the tests: an auxiliary Worker that the Worker under
// test reaches for every outbound fetch (vitest.config.ts: outboundService).
// Its answers follow from the request itself, so test files running at once
// cannot disturb each other; it counts the calls it gets per token so tests
// can ask how often it was called.
//
// Nova (any host but keystone.test), GET .../os-services?binary=nova-compute&host=NAME:
//   a nova-compute service exists for every NAME except those starting with
//   "unknown"; NAME starting with "broken" answers 500, "slow" never answers
//   in time (30 s).
// Control (http://control.test, through the FAKE_OPENSTACK binding):
//   GET /calls?key=K  -> {"calls": N}, the calls seen for key K (a host name
//   for Nova, a token for Keystone).

const calls = new Map();
const count = (key) => calls.set(key, (calls.get(key) ?? 0) + 1);
const json = (status, body) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function nova(request, url) {
  if (request.method !== "GET" || !url.pathname.endsWith("/os-services")) {
    return json(404, { itemNotFound: { code: 404, message: "not a fake Nova route" } });
  }
  const host = url.searchParams.get("host") ?? "";
  count(`nova:${host}`);
  count(`nova-token:${request.headers.get("X-Auth-Token") ?? ""}`);
  if (host.startsWith("broken")) return json(500, { computeFault: { code: 500, message: "broken" } });
  if (host.startsWith("slow")) await sleep(30000);
  if (url.searchParams.get("binary") !== "nova-compute" || host.startsWith("unknown"))
    return json(200, { services: [] });
  return json(200, {
    services: [{ id: 1, binary: "nova-compute", host, zone: "nova", status: "enabled", state: "up" }],
  });
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.hostname === "control.test") {
      if (url.pathname === "/calls") return json(200, { calls: calls.get(url.searchParams.get("key")) ?? 0 });
      return json(404, {});
    }
    return nova(request, url);
  },
};
