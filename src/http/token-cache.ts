import type { Identity } from "../openstack/keystone";

// Caller token validations, as keystonemiddleware caches them: under a
// SHA-256 of the token (never the token), in the isolate and in the Cache
// API (shared by the isolates of a location), until the token expires or
// for TOKEN_CACHE_SECONDS, whichever is sooner. A revoked token keeps
// working for at most that long.

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const cacheKey = (hash: string) => new Request(`https://token-cache.masakari-edge.invalid/v3/${hash}`);

export class TokenCache {
  // Validations this isolate made, in front of the Cache API.
  private readonly memory = new Map<string, { identity: Identity; until: number }>();

  constructor(private readonly seconds: number) {}

  private async cached(hash: string, now: number): Promise<Identity | undefined> {
    const inMemory = this.memory.get(hash);
    if (inMemory && inMemory.until > now) return inMemory.identity;
    this.memory.delete(hash);
    const hit = await caches.default.match(cacheKey(hash));
    return hit ? ((await hit.json()) as Identity) : undefined;
  }

  private async remember(hash: string, identity: Identity, until: number): Promise<void> {
    const seconds = Math.floor((until - Date.now()) / 1000);
    if (seconds <= 0) return;
    if (this.memory.size >= 1000) this.memory.clear();
    this.memory.set(hash, { identity, until });
    await caches.default.put(
      cacheKey(hash),
      new Response(JSON.stringify(identity), { headers: { "Cache-Control": `max-age=${seconds}` } }),
    );
  }

  /**
   * The caller behind `token`, from the cache or from `validate`; a token
   * that has expired is `expired()`.
   */
  async identity(token: string, validate: (token: string) => Promise<Identity>, expired: () => Error) {
    const hash = await sha256(token);
    const now = Date.now();
    const known = await this.cached(hash, now);
    if (known && known.expiresAt > now) return known;
    const identity = await validate(token);
    if (identity.expiresAt <= now) throw expired();
    await this.remember(hash, identity, Math.min(identity.expiresAt, now + this.seconds * 1000));
    return identity;
  }
}
