// Types for the Nova stand-in (nova.mjs): the Nova API under /v2.1 and the
// control API under /_control, both through fetch().

export interface NovaStandIn {
  fetch(request: Request): Promise<Response>;
}

/** A new, empty Nova world. */
export function createNova(): NovaStandIn;

/** One world for an auxiliary Worker (a module whose default export has fetch). */
declare const world: NovaStandIn;
export default world;
