// A webhook receiver for test/webhooks.test.ts: an auxiliary Worker that the
// consumer's deliveries reach through the WEBHOOK_RECEIVER binding
// (vitest.config.ts). It keeps what each endpoint received, as it came, so
// that the test verifies signatures and fields itself; it checks nothing.
//
//   POST http://hooks.test/<endpoint>   an event: kept, answered 204, or the
//                                       status an outage sets
//   POST http://hooks.test/_control/outage  {"endpoint", "status", "times"}:
//                                       the next `times` events get `status`
//   GET  http://hooks.test/_control/received?endpoint=E
//        -> {"received": [{"headers": {...}, "body": "...", "status": N}, ...]}
// Endpoints are named by the tests, unique per test, since the receiver is
// shared by every test file.

const received = new Map();
const outages = new Map();
const json = (body) => new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/_control/outage") {
      const { endpoint, status, times } = await request.json();
      outages.set(endpoint, { status, times });
      return json({ ok: true });
    }
    if (url.pathname === "/_control/received") {
      return json({ received: received.get(url.searchParams.get("endpoint")) ?? [] });
    }
    const endpoint = url.pathname.slice(1);
    const outage = outages.get(endpoint);
    const status = outage && outage.times > 0 ? outage.status : 204;
    if (outage && outage.times > 0) outage.times--;
    const list = received.get(endpoint) ?? [];
    list.push({
      method: request.method,
      headers: Object.fromEntries(request.headers),
      body: await request.text(),
      status,
    });
    received.set(endpoint, list);
    return new Response(null, { status });
  },
};
