// Shared pieces of the console's pages: the template tag, the session's
// permissions, loading, faults explained in an operator's words, dialogs.
import htm from "htm";
import { createContext, h } from "preact";
import { useCallback, useContext, useEffect, useRef, useState } from "preact/hooks";
import { request } from "./api.js";

export const html = htm.bind(h);

/** The session: who, what the API's policy allows them (GET /console/api/session), and what to do on a change. */
export const Session = createContext({ permissions: {}, demo: false, announce: () => {} });

export const rules = {
  segments: {
    index: "os_masakari_api:segments:index",
    detail: "os_masakari_api:segments:detail",
    create: "os_masakari_api:segments:create",
    update: "os_masakari_api:segments:update",
    delete: "os_masakari_api:segments:delete",
  },
  hosts: {
    index: "os_masakari_api:os-hosts:index",
    detail: "os_masakari_api:os-hosts:detail",
    create: "os_masakari_api:os-hosts:create",
    update: "os_masakari_api:os-hosts:update",
    delete: "os_masakari_api:os-hosts:delete",
  },
  notifications: {
    index: "os_masakari_api:notifications:index",
    detail: "os_masakari_api:notifications:detail",
    create: "os_masakari_api:notifications:create",
  },
  vmoves: { index: "os_masakari_api:vmoves:index", detail: "os_masakari_api:vmoves:detail" },
  actions: {
    action: "os_masakari_api:os-notification-actions:action",
    retry: "os_masakari_api:os-notification-actions:retry",
    abort: "os_masakari_api:os-notification-actions:abort",
    ignore: "os_masakari_api:os-notification-actions:ignore",
    release: "os_masakari_api:os-notification-actions:release",
  },
  plans: { host: "os_masakari_api:os-recovery-plans:host", segment: "os_masakari_api:os-recovery-plans:segment" },
  events: { index: "os_masakari_api:os-notification-events:index" },
};

/** Whether the API's policy lets this user pass every rule given. */
export function useCan() {
  const { permissions } = useContext(Session);
  return (...names) => names.every((name) => permissions[name] === true);
}

/** Loads `load()` when `deps` change: {data, error, loading, reload}. */
export function useLoad(load, deps) {
  const [state, setState] = useState({ loading: true });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === generation.current && setState({ data, loading: false }),
      (error) => mine === generation.current && setState({ error, loading: false }),
    );
  }, deps);
  useEffect(run, [run]);
  return { ...state, reload: run };
}

/** The API's datetime (naive UTC) as people read it. */
export function when(value) {
  if (!value) return "—";
  return `${value.replace("T", " ").replace(/\.\d+$/, "")} UTC`;
}

const IN_USE = /in-use to process notifications/;

/** A refusal in words an operator understands; the API's own message stays beside it. */
export function explain(error) {
  const message = error?.message ?? String(error);
  const status = error?.status;
  if (status === 401 && /^Keystone refused these credentials/.test(message))
    return { title: "Sign-in refused", text: "Check the user name, password, project and domain." };
  if (status === 401)
    return { title: "Signed out", text: "Your session has ended or was never opened: sign in again." };
  if (status === 403 && /^The console refused/.test(message))
    return { title: "Refused by the console", text: "Reload the page, then try again from it." };
  if (status === 403) {
    const rule = /Policy doesn't allow (\S+) to be performed/.exec(message)?.[1];
    return {
      title: "Not allowed",
      text: `Your role may not do this: the API's policy${rule ? ` rule ${rule}` : ""} refuses it. An administrator can grant a role that rule allows.`,
    };
  }
  if (status === 409 && IN_USE.test(message)) {
    const what = /^Failover segment/.test(message) ? "segment" : "host";
    const verb = /deleted/.test(message) ? "deleted" : "changed";
    return {
      title: `This ${what} is in use by a recovery`,
      text:
        `A host ${what === "segment" ? "of this segment" : ""} has a failure notification that is still new, running or in error. ` +
        `Masakari will not let the ${what} be ${verb} until that recovery is over, so it is not pulled from under the engine. ` +
        "Wait for the notification to finish, or resolve it (ignore or abort it) on its page, then try again.",
      link: { href: "#/notifications", text: "See the notifications" },
    };
  }
  if (status === 409 && /already exists/.test(message))
    return { title: "Name taken", text: "Another one already has this name: names are unique." };
  if (status === 409 && /under maintenance/.test(message))
    return {
      title: "Host on maintenance",
      text: "Masakari ignores failures reported for a host on maintenance. Take it off maintenance first.",
    };
  if (status === 409 && /is duplicate/.test(message))
    return {
      title: "Already reported",
      text: "The same failure of this host was reported moments ago; the first report is being handled.",
    };
  if (status === 409 && /storm guard does not hold/.test(message))
    return { title: "Not held", text: "The storm guard no longer holds this notification." };
  if (status === 409)
    return { title: "Not in this state", text: "The API refused it for the state things are in now." };
  if (status === 404) return { title: "Not found", text: "It does not exist, or no longer does." };
  if (status === 400) return { title: "Input refused", text: "The API did not accept what was entered." };
  if (status === 503)
    return { title: "A service did not answer", text: "Keystone or Nova did not answer in time. Try again shortly." };
  return { title: "Something went wrong", text: "The request failed." };
}

/** A refusal, shown where it happened and announced at once. */
export function Problem({ error }) {
  if (!error) return null;
  const { title, text, link } = explain(error);
  return html`<div class="problem" role="alert">
    <strong>${title}.</strong> ${text}
    ${link && html` <a href=${link.href}>${link.text}</a>.`}
    <div class="api-says">
      The API said${error.status ? ` (${error.status}${error.name ? ` ${error.name}` : ""})` : ""}: <q>${error.message}</q>
    </div>
  </div>`;
}

export function Loading({ what = "Loading" }) {
  return html`<p class="muted" role="status">${what}…</p>`;
}

/** A status as a badge; the colour never carries the meaning alone. */
export function Status({ value, held = false }) {
  const label = held ? "held" : value;
  return html`<span class=${`badge badge-${label}`}>${label}</span>`;
}

/**
 * A modal dialog (the native <dialog>: focus kept inside, Escape closes)
 * with a form; `onSubmit(form)` returns a promise, whose refusal is shown
 * in it.
 */
export function Dialog({ title, submit, onSubmit, onClose, children, danger = false }) {
  const ref = useRef(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.open && dialog.close();
  }, []);
  const send = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit(new FormData(event.currentTarget));
      onClose(true);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  const id = `dialog-${title.replace(/\W+/g, "-").toLowerCase()}`;
  return html`<dialog ref=${ref} aria-labelledby=${id} onCancel=${() => onClose(false)} onClose=${() => onClose(false)}>
    <form onSubmit=${send} novalidate>
      <h2 id=${id}>${title}</h2>
      ${children}
      <${Problem} error=${error} />
      <div class="buttons">
        <button type="submit" class=${danger ? "danger" : "primary"} disabled=${busy}>${submit}</button>
        <button type="button" onClick=${() => onClose(false)}>Cancel</button>
      </div>
    </form>
  </dialog>`;
}

/** Confirms, then soft-deletes a segment or host. */
export function DeleteDialog({ what, name, path, onClose }) {
  const { announce } = useContext(Session);
  return html`<${Dialog}
    title=${`Delete ${what} ${name}?`}
    submit=${`Delete ${what}`}
    danger
    onSubmit=${async () => {
      await request("DELETE", path);
      announce(`${what[0].toUpperCase()}${what.slice(1)} ${name} deleted.`);
    }}
    onClose=${onClose}
  >
    <p>The ${what} is soft-deleted, as Masakari does. This cannot be undone from the console.</p>
  <//>`;
}

/**
 * A labelled input, not bound to state: its initial value only
 * (defaultValue), so that no re-render of the page (an announcement, a
 * refusal shown) puts back a value over what is being typed. Forms read
 * their fields with FormData.
 */
export function Field({ label, name, value = "", type = "text", required = false, hint, ...rest }) {
  const id = `f-${name}`;
  if (type === "checkbox") {
    return html`<div class="field check">
      <input id=${id} name=${name} type="checkbox" defaultChecked=${value} ...${rest} />
      <label for=${id}>${label}</label>
      ${hint && html`<small>${hint}</small>`}
    </div>`;
  }
  return html`<div class="field">
    <label for=${id}>${label}${required ? " (required)" : ""}</label>
    <input id=${id} name=${name} type=${type} defaultValue=${value} required=${required} ...${rest} />
    ${hint && html`<small>${hint}</small>`}
  </div>`;
}

export function Select({ label, name, value = "", options, ...rest }) {
  const id = `f-${name}`;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <select id=${id} name=${name} ...${rest}>
      ${options.map(([v, text]) => html`<option value=${v} selected=${v === value}>${text}</option>`)}
    </select>
  </div>`;
}

/** The page's heading, focused when the page opens so keyboard and screen reader users start there. */
export function Heading({ children }) {
  const ref = useRef(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: true });
  }, []);
  return html`<h1 tabindex="-1" ref=${ref}>${children}</h1>`;
}

export const RECOVERY_METHODS = [
  ["auto", "auto: evacuate to any host"],
  ["reserved_host", "reserved_host: to reserved hosts"],
  ["auto_priority", "auto_priority: auto, then reserved"],
  ["rh_priority", "rh_priority: reserved, then auto"],
];
