// Cloudflare's Workflows service, from the API's side: a create() call to
// somewhere else. Deployed, env.RECOVERY.create() is a call to the
// Workflows service, whose instances run in their own isolates; locally,
// the Workflows engine is emulated by Durable Objects on workerd's one
// thread, and each instance it creates costs that thread milliseconds of
// CPU. Bound as RECOVERY (`--engine-runs remote`), this entrypoint answers
// create() at once: the API is measured with the engine wired in (every
// create makes the call) and without the emulator's work.
import { WorkerEntrypoint } from "cloudflare:workers";

export class Workflows extends WorkerEntrypoint {
  async create(options) {
    return { id: options?.id ?? crypto.randomUUID() };
  }
}

export default {
  fetch: () => new Response(null, { status: 404 }),
};
