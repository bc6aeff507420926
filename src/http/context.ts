import type { RequestIdVariables } from "hono/request-id";
import type { Config, Env } from "../config";
import type { Database } from "../db/database";
import type { Log } from "../log";
import type { ApiVersion } from "./microversion";

/** Who is calling (upstream's RequestContext). */
export interface RequestContext {
  readonly userId: string | null;
  readonly projectId: string | null;
  readonly roles: readonly string[];
  readonly isAdmin: boolean;
  /** The caller's token, passed on to Nova (D10). */
  readonly authToken: string | null;
}

export interface AppEnv {
  Bindings: Env;
  Variables: RequestIdVariables & {
    config: Config;
    /** Log lines of this request, each with its request id. */
    log: Log;
    /** The request's database: its D1 session (./pipeline.ts). */
    db: Database;
    context: RequestContext;
    /** Set once the request's microversion is known. */
    apiVersion: ApiVersion;
    /** A POST or PUT body as JSON text, once it is known to parse (./request.ts). */
    jsonBody: string;
  };
}
