// The console's requests: everything goes to /console/api on this origin,
// the API's own routes under /console/api/v1 (the Worker forwards them with
// the session's token), at microversion 1.3. A request that changes state
// carries the session's CSRF token.

export const MICROVERSION = "instance-ha 1.3";
const BASE = "/console/api";

let csrf = "";
export const setCsrf = (token) => {
  csrf = token ?? "";
};

/** A refused request: its status, the fault's name and message (the API's, word for word). */
export class ApiError extends Error {
  constructor(status, name, message) {
    super(message);
    this.status = status;
    this.name = name;
  }
}

/** `{"<fault>": {"code", "message"}}` (the API's and the console's faults), keystonemiddleware's `{"error": ...}`. */
function faultOf(status, body, text) {
  if (body && typeof body === "object") {
    const [name, value] = Object.entries(body)[0] ?? [];
    if (value && typeof value === "object" && "message" in value) return new ApiError(status, name, value.message);
  }
  return new ApiError(status, "error", text || `HTTP ${status}`);
}

let onUnauthorized = () => {};
export const whenUnauthorized = (callback) => {
  onUnauthorized = callback;
};

export async function request(method, path, body) {
  const headers = { Accept: "application/json", "OpenStack-API-Version": MICROVERSION };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-Console-CSRF"] = csrf;
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await response.text();
  let json;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = faultOf(response.status, json, text);
    if (response.status === 401 && !path.startsWith("/session")) onUnauthorized(error);
    throw error;
  }
  return json;
}

export const get = (path) => request("GET", path);

/** A query string of the non-empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// In the browser: the page's wait before it reconnects to a notification's events.
const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/**
 * Follows a notification (GET .../events, Server-Sent Events read through
 * fetch, which can send the microversion header EventSource cannot):
 * `onEvent(name, data)` for each event, `onState({live, ended?, error?})`
 * as the connection comes and goes. Reconnects after a dropped connection
 * or the stream's own limit; stops at a final status, a refusal, or stop().
 */
export function follow(id, onEvent, onState) {
  const controller = new AbortController();
  const { signal } = controller;
  (async () => {
    while (!signal.aborted) {
      let reason;
      try {
        const response = await fetch(`${BASE}/v1/notifications/${encodeURIComponent(id)}/events`, {
          headers: { Accept: "text/event-stream", "OpenStack-API-Version": MICROVERSION },
          credentials: "same-origin",
          signal,
        });
        if (!response.ok) {
          const text = await response.text();
          let json;
          try {
            json = JSON.parse(text);
          } catch {}
          onState({ live: false, error: faultOf(response.status, json, text) });
          return;
        }
        onState({ live: true });
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut = buffer.indexOf("\n\n");
          while (cut !== -1) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            cut = buffer.indexOf("\n\n");
            const name = /^event: (.+)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (!name || data === undefined) continue;
            const parsed = JSON.parse(data);
            if (name === "end") reason = parsed.reason;
            else onEvent(name, parsed);
          }
        }
      } catch {
        if (signal.aborted) return;
      }
      if (reason === "final" || reason === "gone") {
        onState({ live: false, ended: reason });
        return;
      }
      // The stream's own limit, or a dropped connection: again, shortly.
      onState({ live: false, reconnecting: true });
      await sleep(reason === "limit" ? 0 : 2000, signal);
    }
  })();
  return () => controller.abort();
}
