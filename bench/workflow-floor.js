// A third ceiling, for the recovery engine: a Workflow whose steps do
// nothing, on the same runtime path (the local Workflows engine Miniflare
// runs for `wrangler dev` and the bench). Given as many steps in as many
// lanes at once as a recovery took, it takes what the Workflow machinery
// alone takes; the rest of the recovery's time is the engine's own work
// (D1, Nova, its code).
import { WorkflowEntrypoint } from "cloudflare:workers";

export class WorkflowFloor extends WorkflowEntrypoint {
  async run(event, step) {
    const { steps, lanes } = event.payload;
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < steps; i = next++) await step.do(`step ${i}`, async () => i);
    };
    await Promise.all(Array.from({ length: lanes }, lane));
    return steps;
  }
}

// POST /?id=&steps=&lanes= starts an instance; GET /?id= says its status.
export default {
  async fetch(request, env) {
    const query = new URL(request.url).searchParams;
    const id = query.get("id");
    if (request.method === "POST") {
      await env.FLOOR.create({ id, params: { steps: Number(query.get("steps")), lanes: Number(query.get("lanes")) } });
      return new Response(null, { status: 202 });
    }
    const { status } = await (await env.FLOOR.get(id)).status();
    return Response.json({ status });
  },
};
