import { nowSeconds } from "../../datetime";
import { NovaError } from "../../openstack/nova";
import type { Recovery } from "../context";
import { excludedBy, haEnabled, priorityOf, vmState } from "../servers";
import { recordListing } from "../store/moves";
import type { PhaseSpec, UnitResult } from "./phase";

/** Where the listing stands: the next page's query (null for the first), and how many servers came before. */
export interface ListingCursor {
  readonly page: string | null;
  readonly seq: number;
  /** Set once Nova failed: the phase ends, and Prepare raises it. */
  readonly failure?: string;
}

/**
 * One unit of the listing: a page of the failed host's servers, recorded
 * in Nova's order. Upstream reads one page, capped by Nova's max_limit;
 * every page is read here (D20). A Nova failure ends the listing; Prepare
 * raises it as upstream's MasakariException.
 */
export async function listingUnit(recovery: Recovery, spec: PhaseSpec, cursor: unknown): Promise<UnitResult> {
  const at = (cursor ?? { page: null, seq: 0 }) as ListingCursor;
  try {
    const page = await recovery.nova.serversOnHost(spec.hostName, at.page);
    const options = recovery.options.hostFailure;
    const listed = page.servers.map((s) => ({
      id: s.id,
      name: s.name,
      ha: haEnabled(s, options.haEnabledInstanceMetadataKey),
      vm: vmState(s),
      priority: priorityOf(s, options.priorityMetadataKey),
      excluded: excludedBy(s, options.excludeMetadata),
    }));
    await recordListing(recovery.db, spec.key, at.seq, listed, nowSeconds());
    const next: ListingCursor = { page: page.next, seq: at.seq + listed.length };
    return { done: page.next === null, wait: 0, cursor: next };
  } catch (error) {
    if (!(error instanceof NovaError)) throw error;
    return { done: true, wait: 0, cursor: { ...at, failure: error.message } satisfies ListingCursor };
  }
}
