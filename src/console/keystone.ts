import type { KeystoneSettings } from "../openstack/keystone";

// A console user's own Keystone token: v3 password authentication scoped to
// a project, made by the Worker (the browser never talks to Keystone), and
// its revocation at sign-out.

export interface Credentials {
  readonly username: string;
  readonly password: string;
  readonly project: string;
  readonly domain: string;
}

export interface UserToken {
  readonly token: string;
  readonly userId: string;
  readonly userName: string;
  readonly projectId: string | null;
  readonly projectName: string;
  readonly roles: string[];
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

export type LoginResult = UserToken | "refused" | { readonly unavailable: string };

interface TokenBody {
  token?: {
    user?: { id?: string; name?: string };
    project?: { id?: string; name?: string };
    roles?: { name?: string }[];
    expires_at?: string;
  };
}

export async function login(keystone: KeystoneSettings, credentials: Credentials): Promise<LoginResult> {
  const domain = { name: credentials.domain };
  const body = {
    auth: {
      identity: {
        methods: ["password"],
        password: { user: { name: credentials.username, domain, password: credentials.password } },
      },
      scope: { project: { name: credentials.project, domain } },
    },
  };
  let response: Response;
  try {
    response = await fetch(`${keystone.url}/v3/auth/tokens?nocatalog`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(keystone.timeoutMs),
    });
  } catch {
    return { unavailable: `no answer within ${keystone.timeoutMs} ms` };
  }
  // Keystone says no more than 401 (or 404 for an unknown domain or project), on purpose.
  if ([400, 401, 403, 404].includes(response.status)) return "refused";
  const token = response.headers.get("X-Subject-Token");
  if (response.status !== 201 || !token) return { unavailable: `Keystone answered ${response.status}` };
  const parsed = ((await response.json().catch(() => ({}))) as TokenBody).token;
  const expiresAt = Date.parse(parsed?.expires_at ?? "");
  if (!parsed?.user?.id || Number.isNaN(expiresAt)) return { unavailable: "Keystone's answer has no user or expiry" };
  return {
    token,
    userId: parsed.user.id,
    userName: parsed.user.name ?? credentials.username,
    projectId: parsed.project?.id ?? null,
    projectName: parsed.project?.name ?? credentials.project,
    roles: (parsed.roles ?? []).map((r) => r.name ?? "").filter((r) => r !== ""),
    expiresAt,
  };
}

/** Revokes `token` with itself (a user may revoke their own); failures are the caller's to ignore. */
export async function revoke(keystone: KeystoneSettings, token: string): Promise<void> {
  await fetch(`${keystone.url}/v3/auth/tokens`, {
    method: "DELETE",
    headers: { "X-Auth-Token": token, "X-Subject-Token": token },
    signal: AbortSignal.timeout(keystone.timeoutMs),
  });
}
