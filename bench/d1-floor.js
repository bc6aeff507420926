// A second ceiling: a Worker that does nothing but the one indexed D1 read a
// segment show needs, on the same runtime path. The gap between this and
// hello.js is the cost of a local D1 query; the gap between this and the
// API's show is the API's own cost.
export default {
  async fetch(request, env) {
    const uuid = new URL(request.url).pathname.split("/").at(-1);
    const row = await env.DB.prepare("SELECT * FROM failover_segments WHERE uuid = ? AND deleted = 0")
      .bind(uuid)
      .first();
    return Response.json({ segment: row });
  },
};
