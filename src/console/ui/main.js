// The web console (GET /console): a page of the Worker's static assets that
// talks only to /console/api on its own origin (docs/console.md). Pages are
// addressed by the URL's fragment (#/segments, #/notifications/<id>...), so
// the Worker serves one file and a reload or a link opens the same page.
import { render } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { request, setCsrf, whenUnauthorized } from "./api.js";
import { HostPage } from "./hosts.js";
import { NotificationPage, NotificationsPage, VmovesPage } from "./notifications.js";
import { SegmentPage, SegmentsPage } from "./segments.js";
import { Field, Heading, html, Loading, Problem, rules, Session } from "./ui.js";

/** The page for a fragment, and its title. */
function route(hash) {
  const [path, search = ""] = hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(search);
  const parts = path.split("/").filter(Boolean);
  const [first, second, third, fourth] = parts;
  if (first === "segments" && second && third === "hosts" && fourth)
    return { title: "Host", view: html`<${HostPage} segment=${second} id=${fourth} />`, key: path };
  if (first === "segments" && second)
    return { title: "Segment", view: html`<${SegmentPage} id=${second} />`, key: path };
  if (first === "notifications" && second)
    return { title: "Notification", view: html`<${NotificationPage} id=${second} />`, key: path };
  if (first === "notifications")
    return { title: "Notifications", view: html`<${NotificationsPage} params=${params} />`, key: hash };
  if (first === "vmoves")
    return { title: "VM moves", view: html`<${VmovesPage} id=${second} params=${params} />`, key: hash };
  return { title: "Segments", view: html`<${SegmentsPage} params=${params} />`, key: hash || "segments" };
}

function useHash() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return hash;
}

function SignIn({ onSignedIn }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const session = await request("POST", "/session", {
        username: form.get("username"),
        password: form.get("password"),
        project: form.get("project"),
        domain: form.get("domain") || "Default",
      });
      onSignedIn(session);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return html`<section class="signin">
    <${Heading}>Sign in<//>
    <p>With your OpenStack account: the Worker asks Keystone for a token and keeps it in a cookie this page cannot read.</p>
    <form onSubmit=${submit}>
      <${Field} label="User name" name="username" required autocomplete="username" />
      <${Field} label="Password" name="password" type="password" required autocomplete="current-password" />
      <${Field} label="Project" name="project" required autocomplete="off" />
      <${Field} label="Domain" name="domain" value="Default" required autocomplete="off" />
      <${Problem} error=${error} />
      <button type="submit" class="primary" disabled=${busy}>Sign in</button>
    </form>
  </section>`;
}

function App() {
  const hash = useHash();
  const [session, setSession] = useState(null);
  const [problem, setProblem] = useState(null);
  const [message, setMessage] = useState("");
  const load = useCallback(async () => {
    try {
      const info = await request("GET", "/session");
      setCsrf(info.csrf_token);
      setSession(info);
    } catch (e) {
      setProblem(e);
    }
  }, []);
  useEffect(() => {
    load();
    whenUnauthorized(() => load());
  }, [load]);
  const page = route(hash);
  useEffect(() => {
    document.title = `${session && !session.signed_in ? "Sign in" : page.title} · masakari-edge console`;
  }, [page.title, session]);
  // In the browser: the live region is emptied, then filled a moment later, so a
  // screen reader announces a message even when it repeats the previous one.
  const announce = useCallback((text) => {
    setMessage("");
    setTimeout(() => setMessage(text), 50);
  }, []);
  const signOut = async () => {
    try {
      await request("DELETE", "/session");
    } finally {
      setCsrf("");
      await load();
    }
  };
  const permissions = session?.permissions ?? {};
  const can = (rule) => permissions[rule] === true;
  const who = session?.user
    ? `${session.user.name ?? session.user.id} · ${session.project?.name ?? session.project?.id ?? ""}`
    : "";
  return html`<${Session.Provider} value=${{ permissions, demo: session?.demo ?? false, announce }}>
    <a class="skip" href="#main" onClick=${(e) => {
      e.preventDefault();
      document.getElementById("main")?.focus();
    }}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/segments">masakari-edge <span>console</span></a>
      ${
        session?.signed_in &&
        html`<nav aria-label="Main">
          <ul>
            ${can(rules.segments.index) && html`<li><a href="#/segments" aria-current=${page.title.startsWith("Segment") || page.title === "Host" ? "page" : undefined}>Segments</a></li>`}
            ${can(rules.notifications.index) && html`<li><a href="#/notifications" aria-current=${page.title.startsWith("Notification") ? "page" : undefined}>Notifications</a></li>`}
            ${can(rules.notifications.index) && can(rules.vmoves.index) && html`<li><a href="#/vmoves" aria-current=${page.title === "VM moves" ? "page" : undefined}>VM moves</a></li>`}
          </ul>
        </nav>`
      }
      ${
        session?.auth_strategy === "keystone" &&
        session.signed_in &&
        html`<div class="who">
          <span>${who}</span>
          <span class="muted"> (${(session.roles ?? []).join(", ") || "no role"})</span>
          <button onClick=${signOut}>Sign out</button>
        </div>`
      }
    </header>
    ${
      session?.auth_strategy === "noauth2" &&
      html`<div class="banner dev" role="note">
        <strong>Development mode</strong>: AUTH_STRATEGY=noauth2, no sign-in, and everyone is an administrator. Never
        expose this Worker.
      </div>`
    }
    ${
      session?.demo &&
      html`<div class="banner demo" role="note">
        <strong>Demo mode</strong>: hosts are those of a Nova stand-in; “Take this host down” on a host fails it for real
        here.
      </div>`
    }
    <div class="announce" role="status" aria-live="polite">${message}</div>
    <main id="main" tabindex="-1">
      <${Problem} error=${problem} />
      ${!session && !problem && html`<${Loading} what="Opening the console" />`}
      ${
        session &&
        !session.signed_in &&
        html`<${SignIn} onSignedIn=${(info) => {
          setCsrf(info.csrf_token);
          setSession(info);
          announce(`Signed in as ${info.user?.name ?? info.user?.id}.`);
        }} />`
      }
      ${session?.signed_in && html`<div key=${page.key}>${page.view}</div>`}
    </main>
  <//>`;
}

render(html`<${App} />`, document.getElementById("app"));
