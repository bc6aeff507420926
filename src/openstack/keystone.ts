// The Worker's Keystone v3 client. The Worker authenticates as itself (an
// application credential or a service user, from secrets) whatever
// AUTH_STRATEGY is: the API uses that token to ask Keystone about callers'
// tokens (D8), the recovery engine to call Nova (D14). The token is reused
// until a minute before it expires, and its catalog names Nova's endpoint
// when NOVA_URL does not.

export type ServiceCredentials =
  | { readonly kind: "password"; user: string; password: string; project: string; domain: string }
  | { readonly kind: "application_credential"; id: string; secret: string };

export interface KeystoneSettings {
  /** The identity endpoint without /v3, as WWW-Authenticate names it. */
  readonly url: string;
  readonly credentials: ServiceCredentials;
  readonly timeoutMs: number;
}

/** Who a validated token belongs to. */
export interface Identity {
  readonly userId: string;
  readonly projectId: string | null;
  readonly roles: readonly string[];
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

/** Keystone does not know the token (it answers 404 for it). */
export class Unauthenticated extends Error {}

/** Keystone did not answer in time, failed, or refused the Worker's own identity. */
export class KeystoneUnavailable extends Error {}

/** One entry of a token's service catalog. */
interface CatalogEntry {
  type?: string;
  endpoints?: { interface?: string; region_id?: string; region?: string; url?: string }[];
}

interface TokenBody {
  token?: {
    user?: { id?: string };
    project?: { id?: string };
    roles?: { name?: string }[];
    expires_at?: string;
    catalog?: CatalogEntry[];
  };
}

/** A service token is renewed this long before it expires. */
const RENEW_BEFORE_MS = 60_000;

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

interface ServiceToken {
  readonly value: string;
  readonly expiresAt: number;
  readonly catalog: readonly CatalogEntry[];
}

export class Keystone {
  #token: ServiceToken | undefined;
  #pending: Promise<ServiceToken> | undefined;

  constructor(readonly settings: KeystoneSettings) {}

  get wwwAuthenticate(): string {
    return `Keystone uri="${this.settings.url}"`;
  }

  private async call(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.settings.url}${path}`, {
        ...init,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
    } catch {
      throw new KeystoneUnavailable(`no answer within ${this.settings.timeoutMs} ms`);
    }
  }

  private async authenticate(): Promise<ServiceToken> {
    const response = await this.call("/v3/auth/tokens", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(authBody(this.settings.credentials)),
    });
    const value = response.headers.get("X-Subject-Token");
    if (response.status !== 201 || !value) {
      throw new KeystoneUnavailable(`Keystone refused the service's own credentials (${response.status})`);
    }
    const token = ((await response.json().catch(() => ({}))) as TokenBody).token;
    const expiresAt = Date.parse(token?.expires_at ?? "") || Date.now() + 300_000;
    return { value, expiresAt, catalog: Array.isArray(token?.catalog) ? token.catalog : [] };
  }

  /** The Worker's own token, renewed before it expires; one login at a time. */
  private async serviceToken(): Promise<ServiceToken> {
    const token = this.#token;
    if (token && token.expiresAt - RENEW_BEFORE_MS > Date.now()) return token;
    this.#pending ??= this.authenticate().finally(() => {
      this.#pending = undefined;
    });
    this.#token = await this.#pending;
    return this.#token;
  }

  /** The Worker's own token (X-Auth-Token for the services it calls). */
  async token(): Promise<string> {
    return (await this.serviceToken()).value;
  }

  /** Forgets the service token, after a service refused it as expired or revoked. */
  forgetToken(refused: string): void {
    if (this.#token?.value === refused) this.#token = undefined;
  }

  /**
   * The URL of service `type` at `iface` in the token's catalog (in
   * `region` when given), as keystoneauth finds it; undefined when absent.
   */
  async endpoint(type: string, iface = "public", region?: string): Promise<string | undefined> {
    const { catalog } = await this.serviceToken();
    for (const entry of catalog) {
      if (entry.type !== type) continue;
      const found = (entry.endpoints ?? []).find(
        (e) =>
          (e.interface === iface || e.interface === `${iface}URL`) &&
          (region === undefined || e.region_id === region || e.region === region),
      );
      if (found?.url) return found.url.replace(/\/+$/, "");
    }
    return undefined;
  }

  /** Who `subject` belongs to; Unauthenticated when Keystone does not know it. */
  async validate(subject: string, retry = true): Promise<Identity> {
    const service = await this.token();
    const response = await this.call("/v3/auth/tokens?nocatalog", {
      method: "GET",
      headers: { Accept: "application/json", "X-Auth-Token": service, "X-Subject-Token": subject },
    });
    if (response.status === 401 && retry) {
      // Our own token expired or was revoked: authenticate again, once.
      this.forgetToken(service);
      return this.validate(subject, false);
    }
    if (response.status === 404) throw new Unauthenticated();
    if (response.status !== 200) throw new KeystoneUnavailable(`Keystone answered ${response.status}`);
    const token = ((await response.json().catch(() => ({}))) as TokenBody).token;
    const expiresAt = Date.parse(token?.expires_at ?? "");
    if (!token?.user?.id || Number.isNaN(expiresAt)) {
      throw new KeystoneUnavailable("Keystone's answer has no user or expiry");
    }
    return {
      userId: token.user.id,
      projectId: token.project?.id ?? null,
      roles: (token.roles ?? []).map((r) => r.name ?? "").filter((r) => r !== ""),
      expiresAt,
    };
  }
}

const clients = new WeakMap<KeystoneSettings, Keystone>();

/**
 * The isolate's client for `settings`: the API and the recovery engine
 * share its service token.
 */
export function keystoneClient(settings: KeystoneSettings): Keystone {
  let client = clients.get(settings);
  if (!client) {
    client = new Keystone(settings);
    clients.set(settings, client);
  }
  return client;
}
