import type { Context } from "hono";
import { engineNova } from "../../engine/bindings";
import { PlanUnavailable, planHost, planSegment, readCapacity, readServers } from "../../engine/plan";
import { segmentHosts } from "../../engine/store/hosts";
import type { AppEnv } from "../../http/context";
import { Fault, messages, notFound } from "../../http/faults";
import { reply } from "../../http/responses";
import { type Route, route } from "../../http/route";
import { policies } from "../../policy";
import { isUuidLike } from "../../validation/formats";
import { findHost } from "../hosts/store";
import { findSegment } from "../segments/store";
import { hostPlanSchema, hostPlanView, segmentPlanSchema, segmentPlanView } from "./view";

// D23, recovery plans: read-only dry runs of a host failure on the live
// cloud. Nova is asked with the Worker's own token, as the engine asks it;
// when it cannot say, the answer is a 503, never a guess.

const TAG = "recovery plans";
/** Nova reads at once for a segment's plan: a Worker keeps at most six connections open. */
const AT_ONCE = 6;

/** Runs `plan`, mapping "Nova cannot say" to a 503 in Masakari's fault format. */
async function fromNova<T>(plan: () => Promise<T>): Promise<T> {
  try {
    return await plan();
  } catch (error) {
    if (error instanceof PlanUnavailable) throw new Fault(503, messages.planUnavailable(error.message));
    throw error;
  }
}

const novaOf = (c: Context<AppEnv>) => engineNova(c.get("config"));

export const planRoutes: Route[] = [
  route({
    method: "GET",
    path: "/segments/:segment_id/hosts/:id/recovery-plan",
    policy: policies.plans.host,
    docs: {
      summary: "What the engine would do if this host failed now (os-recovery-plans)",
      tag: TAG,
      ok: { status: 200, schema: hostPlanSchema },
      faults: [404, 503],
      description:
        "Ours (D23). Read-only: the recovery method's flows with their fallbacks, the instances in scope in evacuation order (HA_Enabled, evacuate_all_instances, ignore_instances_in_error_state, D24's exclusions and priorities), the reserved hosts in the order they would be taken, each possible destination's free vCPU, RAM and disk from Nova, and which instances would not fit, going by their flavors. 503 when Nova cannot say.",
    },
    handler: async (c, { params: { segment_id, id } }) => {
      if (!isUuidLike(id)) throw notFound(messages.hostIdNotFound(id));
      const db = c.get("db");
      const found = await findHost(db, segment_id, id);
      if (!found) throw notFound(messages.hostNotFoundInSegment(id, segment_id));
      const { host, segment } = found;
      const hosts = await segmentHosts(db, segment.uuid);
      const failed = hosts.find((h) => h.uuid === host.uuid);
      if (!failed) throw notFound(messages.hostNotFoundInSegment(id, segment_id));
      const nova = novaOf(c);
      const plan = await fromNova(async () => {
        const [capacity, servers] = await Promise.all([readCapacity(nova), readServers(nova, host.name)]);
        const options = c.get("config").recovery.hostFailure;
        return planHost(segment.recovery_method, failed, hosts, servers, capacity, options);
      });
      const ids = { segment: segment.uuid, host: host.uuid, name: host.name };
      return reply(c, 200, hostPlanView(plan, ids, new Date().toISOString()));
    },
  }),

  route({
    method: "GET",
    path: "/segments/:id/recovery-plan",
    policy: policies.plans.segment,
    docs: {
      summary: "Every host's failure planned on its own (os-recovery-plans)",
      tag: TAG,
      ok: { status: 200, schema: segmentPlanSchema },
      faults: [404, 503],
      description:
        "Ours (D23). Read-only: for each host of the segment, by name, what its failure alone would need and whether it fits; how many such single-host failures the segment absorbs, and the first it does not. One reading of Nova's hypervisors, and one listing of each host's servers. 503 when Nova cannot say.",
    },
    handler: async (c, { params: { id } }) => {
      const db = c.get("db");
      const segment = isUuidLike(id) ? await findSegment(db, id) : undefined;
      if (!segment) throw notFound(messages.segmentNotFound(id));
      const hosts = await segmentHosts(db, segment.uuid);
      const nova = novaOf(c);
      const plan = await fromNova(async () => {
        const capacity = await readCapacity(nova);
        const servers = new Map<string, Awaited<ReturnType<typeof readServers>>>();
        for (let i = 0; i < hosts.length; i += AT_ONCE) {
          const batch = hosts.slice(i, i + AT_ONCE);
          const read = await Promise.all(batch.map((h) => readServers(nova, h.name)));
          for (const [j, h] of batch.entries()) servers.set(h.name, read[j] ?? []);
        }
        return planSegment(segment.recovery_method, hosts, servers, capacity, c.get("config").recovery.hostFailure);
      });
      return reply(c, 200, segmentPlanView(plan, segment.uuid, new Date().toISOString()));
    },
  }),
];
