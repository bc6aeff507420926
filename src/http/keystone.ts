import { Fault } from "./faults";

// Keystone v3 token validation for AUTH_STRATEGY=keystone (D8): what
// keystonemiddleware's auth_token does in front of upstream Masakari.
// The Worker authenticates itself (a service user or an application
// credential from secrets), then asks Keystone about each caller's token:
//   GET {KEYSTONE_URL}/v3/auth/tokens?nocatalog
//   X-Auth-Token: <service token>   X-Subject-Token: <caller's token>
// Validations are cached under a SHA-256 of the token (never the token),
// until the token expires or for TOKEN_CACHE_SECONDS, whichever is sooner:
// a revoked token keeps working for at most that long.

export type ServiceCredentials =
  | { readonly kind: "password"; user: string; password: string; project: string; domain: string }
  | { readonly kind: "application_credential"; id: string; secret: string };

export interface KeystoneSettings {
  /** The identity endpoint without /v3, as WWW-Authenticate names it. */
  readonly url: string;
  readonly credentials: ServiceCredentials;
  readonly timeoutMs: number;
  readonly cacheSeconds: number;
}

/** Who a validated token belongs to. */
export interface Identity {
  readonly userId: string;
  readonly projectId: string | null;
  readonly roles: readonly string[];
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

/** keystonemiddleware's answer to a missing or invalid token. */
export class Unauthenticated extends Error {}

const unavailable = (why: string) => new Fault(503, `The identity service is unavailable: ${why}.`);

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function authBody(credentials: ServiceCredentials) {
  if (credentials.kind === "application_credential") {
    return {
      auth: {
        identity: {
          methods: ["application_credential"],
          application_credential: { id: credentials.id, secret: credentials.secret },
        },
      },
    };
  }
  const domain = { name: credentials.domain };
  return {
    auth: {
      identity: {
        methods: ["password"],
        password: { user: { name: credentials.user, domain, password: credentials.password } },
      },
      scope: { project: { name: credentials.project, domain } },
    },
  };
}

interface TokenBody {
  token?: {
    user?: { id?: string };
    project?: { id?: string };
    roles?: { name?: string }[];
    expires_at?: string;
  };
}

export class Keystone {
  private serviceToken: { value: string; expiresAt: number } | undefined;
  // Validations this isolate made, in front of the Cache API (shared by the
  // isolates of a location).
  private readonly memory = new Map<string, { identity: Identity; until: number }>();

  constructor(private readonly settings: KeystoneSettings) {}

  get wwwAuthenticate(): string {
    return `Keystone uri="${this.settings.url}"`;
  }

  private async call(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.settings.url.replace(/\/+$/, "")}${path}`, {
        ...init,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
    } catch {
      throw unavailable(`no answer within ${this.settings.timeoutMs} ms`);
    }
  }

  private async token(): Promise<string> {
    // A service token is reused until a minute before it expires.
    if (this.serviceToken && this.serviceToken.expiresAt - 60_000 > Date.now()) return this.serviceToken.value;
    const response = await this.call("/v3/auth/tokens?nocatalog", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(authBody(this.settings.credentials)),
    });
    const value = response.headers.get("X-Subject-Token");
    if (response.status !== 201 || !value) {
      throw unavailable(`Keystone refused the service's own credentials (${response.status})`);
    }
    const body = (await response.json().catch(() => ({}))) as TokenBody;
    const expiresAt = Date.parse(body.token?.expires_at ?? "") || Date.now() + 300_000;
    this.serviceToken = { value, expiresAt };
    return value;
  }

  private async fetchIdentity(subject: string, retry = true): Promise<Identity> {
    const response = await this.call("/v3/auth/tokens?nocatalog", {
      method: "GET",
      headers: { Accept: "application/json", "X-Auth-Token": await this.token(), "X-Subject-Token": subject },
    });
    if (response.status === 401 && retry) {
      // Our own token expired or was revoked: authenticate again, once.
      this.serviceToken = undefined;
      return this.fetchIdentity(subject, false);
    }
    if (response.status === 404) throw new Unauthenticated();
    if (response.status !== 200) throw unavailable(`Keystone answered ${response.status}`);
    const token = ((await response.json().catch(() => ({}))) as TokenBody).token;
    const expiresAt = Date.parse(token?.expires_at ?? "");
    if (!token?.user?.id || Number.isNaN(expiresAt)) throw unavailable("Keystone's answer has no user or expiry");
    return {
      userId: token.user.id,
      projectId: token.project?.id ?? null,
      roles: (token.roles ?? []).map((r) => r.name ?? "").filter((r) => r !== ""),
      expiresAt,
    };
  }

  private cacheKey(hash: string): Request {
    return new Request(`https://token-cache.masakari-edge.invalid/v3/${hash}`);
  }

  private async cached(hash: string, now: number): Promise<Identity | undefined> {
    const inMemory = this.memory.get(hash);
    if (inMemory && inMemory.until > now) return inMemory.identity;
    this.memory.delete(hash);
    const hit = await caches.default.match(this.cacheKey(hash));
    return hit ? ((await hit.json()) as Identity) : undefined;
  }

  private async remember(hash: string, identity: Identity, until: number): Promise<void> {
    const seconds = Math.floor((until - Date.now()) / 1000);
    if (seconds <= 0) return;
    if (this.memory.size >= 1000) this.memory.clear();
    this.memory.set(hash, { identity, until });
    await caches.default.put(
      this.cacheKey(hash),
      new Response(JSON.stringify(identity), { headers: { "Cache-Control": `max-age=${seconds}` } }),
    );
  }

  /** The caller behind `token`; Unauthenticated when Keystone does not know it. */
  async validate(token: string): Promise<Identity> {
    const hash = await sha256(token);
    const now = Date.now();
    const known = await this.cached(hash, now);
    if (known && known.expiresAt > now) return known;
    const identity = await this.fetchIdentity(token);
    if (identity.expiresAt <= now) throw new Unauthenticated();
    await this.remember(hash, identity, Math.min(identity.expiresAt, now + this.settings.cacheSeconds * 1000));
    return identity;
  }
}
