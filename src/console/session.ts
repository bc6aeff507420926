import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { Config } from "../config";
import type { AppEnv } from "../http/context";

// The console's session (docs/console.md, "Security model"): the caller's
// Keystone token in one cookie the page cannot read, sent only to
// /console, only over HTTPS (browsers treat localhost as such) and never
// with a request another site starts. A request that changes anything must
// also come from the console's own origin and carry the session's CSRF
// token in a header, which only a page of that origin can have read.

export const COOKIE = "__Secure-masakari-console";
export const CSRF_HEADER = "x-console-csrf";
const COOKIE_ATTRIBUTES = "Path=/console; HttpOnly; Secure; SameSite=Strict";

/** What the cookie holds: the token, and the names the page shows (never trusted for anything else). */
export interface Session {
  readonly token: string;
  readonly user: string;
  readonly project: string;
  readonly domain: string;
}

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

function fromBase64url(text: string): string {
  const bytes = Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

export function sessionCookie(session: Session, maxAgeSeconds: number): string {
  const value = base64url(
    new TextEncoder().encode(
      JSON.stringify({ t: session.token, u: session.user, p: session.project, d: session.domain }),
    ),
  );
  return `${COOKIE}=${value}; ${COOKIE_ATTRIBUTES}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`;
}

export const clearedCookie = () => `${COOKIE}=; ${COOKIE_ATTRIBUTES}; Max-Age=0`;

/** The request's session; undefined without a cookie, or with one that is not ours. */
export function readSession(c: Context<AppEnv>): Session | undefined {
  const value = getCookie(c, COOKIE);
  if (!value) return undefined;
  try {
    const { t, u, p, d } = JSON.parse(fromBase64url(value));
    if (typeof t !== "string" || t === "") return undefined;
    return { token: t, user: String(u ?? ""), project: String(p ?? ""), domain: String(d ?? "") };
  } catch {
    return undefined;
  }
}

/**
 * The session's CSRF token: a digest of its Keystone token, so the Worker
 * keeps no state and a page that cannot read the cookie cannot make it.
 * Under noauth2, where there is no session, a fixed value: the header must
 * still be sent, which no other site can do without CORS, which we never allow.
 */
export async function csrfToken(session: Session | undefined): Promise<string> {
  const input = `masakari-edge console csrf\n${session?.token ?? "noauth2"}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(input));
  return base64url(new Uint8Array(digest));
}

/** The origins the console is served from: the request's own, and PUBLIC_URL's when set. */
function origins(c: Context<AppEnv>, config: Config): Set<string> {
  const allowed = new Set([new URL(c.req.url).origin]);
  if (config.publicUrl) allowed.add(new URL(config.publicUrl).origin);
  return allowed;
}

/**
 * Why a request that changes state is refused, or undefined: it must name
 * our origin (browsers send Origin with every such request) and not say it
 * comes from another site, and, when `csrf` is given, carry it in the header.
 */
export async function refusal(
  c: Context<AppEnv>,
  config: Config,
  csrf: string | undefined,
): Promise<string | undefined> {
  const origin = c.req.header("origin");
  if (!origin || !origins(c, config).has(origin)) return "it does not come from the console's own origin";
  const site = c.req.header("sec-fetch-site");
  if (site !== undefined && site !== "same-origin") return "the browser says another site sent it";
  if (csrf !== undefined && !timingSafeEqual(c.req.header(CSRF_HEADER) ?? "", csrf))
    return `its ${CSRF_HEADER} header is missing or not this session's`;
  return undefined;
}

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
