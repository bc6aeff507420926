// One HTTP exchange with a deployment, as the checks see it: status, headers,
// parsed JSON, how long it took, or why no answer came. A Ctrl-C (or SIGTERM)
// aborts the request in flight; a request that takes longer than the timeout
// is an answer of its own ("no answer within N s").

export const USER_AGENT = "masakari-smoke/1";

/** Thrown when the run is interrupted by a signal: the steps stop, cleanup runs. */
export class Interrupted extends Error {
  constructor(signal) {
    super(`interrupted by ${signal}`);
    this.signal = signal;
  }
}

/**
 * @typedef {object} Exchange
 * @property {string} method
 * @property {string} url
 * @property {number | null} status  null when no answer came
 * @property {Headers} headers
 * @property {string} text
 * @property {any} json  the body parsed as JSON, undefined when it is not JSON
 * @property {string | null} error  why no answer came
 * @property {number} ms
 */

export class Client {
  /**
   * @param {object} options
   * @param {string | null} options.token  sent as X-Auth-Token
   * @param {number} options.timeoutMs  per request
   * @param {AbortSignal} options.signal  aborted on SIGINT/SIGTERM
   */
  constructor({ token, timeoutMs, signal }) {
    this.token = token;
    this.timeoutMs = timeoutMs;
    this.signal = signal;
    /** `instance-ha X.Y`, once the versions document has said what the server speaks */
    this.microversion = null;
  }

  /**
   * @param {string} method
   * @param {string} url
   * @param {object} [options]
   * @param {unknown} [options.body]  sent as JSON
   * @param {boolean} [options.token]  send the token (default: when there is one)
   * @param {boolean} [options.microversion]  send OpenStack-API-Version (default: yes, once known)
   * @param {Record<string, string>} [options.headers]
   * @param {AbortSignal} [options.signal]  instead of the run's (cleanup has its own)
   * @returns {Promise<Exchange>}
   */
  async request(method, url, options = {}) {
    const headers = new Headers({ Accept: "application/json", "User-Agent": USER_AGENT, ...options.headers });
    if (this.token && options.token !== false) headers.set("X-Auth-Token", this.token);
    if (this.microversion && options.microversion !== false) {
      headers.set("OpenStack-API-Version", `instance-ha ${this.microversion}`);
    }
    let body;
    if (options.body !== undefined) {
      headers.set("Content-Type", "application/json");
      body = JSON.stringify(options.body);
    }
    const run = options.signal ?? this.signal;
    const signal = AbortSignal.any([run, AbortSignal.timeout(this.timeoutMs)]);
    const started = performance.now();
    const exchange = { method, url, status: null, headers: new Headers(), text: "", json: undefined, error: null };
    try {
      const response = await fetch(url, { method, headers, body, signal, redirect: "manual" });
      exchange.status = response.status;
      exchange.headers = response.headers;
      exchange.text = await response.text();
      try {
        exchange.json = exchange.text === "" ? undefined : JSON.parse(exchange.text);
      } catch {
        exchange.json = undefined;
      }
    } catch (error) {
      if (run.aborted) throw run.reason instanceof Interrupted ? run.reason : new Interrupted("a signal");
      exchange.status = null;
      exchange.error = whyNoAnswer(error, this.timeoutMs);
    }
    exchange.ms = Math.round(performance.now() - started);
    return exchange;
  }
}

function whyNoAnswer(error, timeoutMs) {
  if (error?.name === "TimeoutError") return `no answer within ${timeoutMs / 1000} s`;
  const cause = error?.cause;
  return `no answer: ${cause?.message || cause?.code || error?.message || String(error)}`;
}

/** A short account of what came back, for "received ..." in a failure. */
export function received(exchange) {
  if (exchange.status === null) return exchange.error;
  const location = exchange.headers.get("location");
  if (exchange.status >= 300 && exchange.status < 400 && location) {
    return `${exchange.status} redirecting to ${location} (not followed: give that URL)`;
  }
  const fault = faultOf(exchange.json);
  if (fault) return `${exchange.status} ${fault.name}: ${fault.message}`;
  const text = exchange.text.replace(/\s+/g, " ").trim();
  if (text === "") return `${exchange.status} with an empty body`;
  return `${exchange.status} ${text.length > 160 ? `${text.slice(0, 160)}…` : text}`;
}

/**
 * `{"<name>": {"code": N, "message": "..."}}`, Masakari's fault shape
 * (docs/upstream.md, "Faults and messages"), else null.
 */
export function faultOf(json) {
  if (!json || typeof json !== "object" || Array.isArray(json)) return null;
  const names = Object.keys(json);
  if (names.length !== 1) return null;
  const inner = json[names[0]];
  if (!inner || typeof inner !== "object" || typeof inner.message !== "string") return null;
  return { name: names[0], code: inner.code, message: inner.message };
}
