// Notifications: the list with its filters; a notification's page, its
// recovery as a live timeline (GET .../events), the operator actions (D21),
// a storm guard hold (D22) and its VM moves; the VM moves view.
import { useContext, useEffect, useState } from "preact/hooks";
import { follow, get, query, request } from "./api.js";
import {
  Dialog,
  Field,
  Heading,
  html,
  Loading,
  Problem,
  rules,
  Select,
  Session,
  Status,
  useCan,
  useLoad,
  when,
} from "./ui.js";

const PAGE = 50;
const STATUSES = ["new", "running", "error", "failed", "ignored", "finished"];
const TYPES = ["COMPUTE_HOST", "PROCESS", "VM"];

/** D22: a notification the storm guard holds is `new`, with a pending StormGuard task. */
export const isHeld = (n) =>
  n.status === "new" &&
  (n.recovery_workflow_details ?? []).some((t) => t.name === "StormGuard" && t.state === "PENDING");

export function NotificationsPage({ params }) {
  const [filters, setFilters] = useState({
    status: params.get("status") ?? "",
    type: params.get("type") ?? "",
    source_host_uuid: params.get("source_host_uuid") ?? "",
    "generated-since": params.get("generated-since") ?? "",
  });
  const [pages, setPages] = useState([undefined]);
  const list = useLoad(async () => {
    const rows = [];
    let more = false;
    for (const marker of pages) {
      const page = await get(`/v1/notifications${query({ ...filters, limit: PAGE, marker })}`);
      rows.push(...page.notifications);
      more = page.notifications.length === PAGE;
    }
    return { rows, more };
  }, [JSON.stringify(filters), pages.length]);
  const apply = (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPages([undefined]);
    setFilters({
      status: form.get("status"),
      type: form.get("type"),
      source_host_uuid: form.get("source_host_uuid").trim(),
      "generated-since": form.get("generated-since").trim(),
    });
  };
  const rows = list.data?.rows ?? [];
  return html`<section>
    <${Heading}>Notifications<//>
    <form class="filters" onSubmit=${apply} aria-label="Filter notifications">
      <${Select} label="Status" name="status" value=${filters.status} options=${[["", "any"], ...STATUSES.map((s) => [s, s])]} />
      <${Select} label="Type" name="type" value=${filters.type} options=${[["", "any"], ...TYPES.map((t) => [t, t])]} />
      <${Field} label="Source host UUID" name="source_host_uuid" value=${filters.source_host_uuid} />
      <${Field}
        label="Generated since"
        name="generated-since"
        value=${filters["generated-since"]}
        placeholder="2026-11-30T00:00:00Z"
      />
      <button type="submit">Filter</button>
    </form>
    <${Problem} error=${list.error} />
    ${list.loading && !list.data && html`<${Loading} what="Loading notifications" />`}
    ${
      list.data &&
      html`<table>
        <caption class="visually-hidden">Notifications</caption>
        <thead>
          <tr>
            <th scope="col">Notification</th>
            <th scope="col">Type</th>
            <th scope="col">Status</th>
            <th scope="col">Host (payload)</th>
            <th scope="col">Generated</th>
          </tr>
        </thead>
        <tbody>
          ${rows.length === 0 && html`<tr><td colspan="5" class="muted">No notification matches.</td></tr>`}
          ${rows.map(
            (n) => html`<tr key=${n.notification_uuid}>
              <th scope="row"><a href=${`#/notifications/${n.notification_uuid}`}><code>${n.notification_uuid.slice(0, 8)}</code></a></th>
              <td>${n.type}</td>
              <td><${Status} value=${n.status} /></td>
              <td>${n.payload?.event ?? ""} ${n.payload?.instance_uuid ? `(${n.payload.instance_uuid.slice(0, 8)})` : ""}</td>
              <td>${when(n.generated_time)}</td>
            </tr>`,
          )}
        </tbody>
      </table>`
    }
    ${list.data?.more && html`<button onClick=${() => setPages([...pages, rows.at(-1)?.notification_uuid])}>Load more</button>`}
  </section>`;
}

const TASK_NAMES = {
  DisableComputeServiceTask: "Disable the compute service",
  PrepareHAEnabledInstancesTask: "Choose the instances to evacuate",
  EvacuateInstancesTask: "Evacuate the instances",
  DisableComputeNodeTask: "Disable the compute node",
  ConfirmComputeNodeDisabledTask: "Confirm the node is disabled",
  StopInstanceTask: "Stop the instance",
  StartInstanceTask: "Start the instance",
  ConfirmInstanceActiveTask: "Confirm the instance is active",
  OperatorAction: "Operator action",
  StormGuard: "Storm guard",
};

/** recovery_workflow_details as a timeline: each task, its state and progress, its messages. */
function Timeline({ details }) {
  if (!details) return null;
  if (details.length === 0) return html`<p class="muted">No recovery step yet.</p>`;
  return html`<ol class="timeline">
    ${details.map(
      (task, i) => html`<li key=${`${i}-${task.name}`} class=${`task task-${task.state.toLowerCase()}`}>
        <div class="task-head">
          <strong>${TASK_NAMES[task.name] ?? task.name}</strong>
          <span class="muted"> (${task.name})</span>
          <span class=${`badge state-${task.state.toLowerCase()}`}>${task.state}</span>
        </div>
        <label class="progress">
          <span class="visually-hidden">Progress of ${task.name}</span>
          <progress max="1" value=${task.progress}>${Math.round(task.progress * 100)} %</progress>
          <span aria-hidden="true">${Math.round(task.progress * 100)} %</span>
        </label>
        <ul class="messages">
          ${task.progress_details.map((m, j) => html`<li key=${j}><time>${m.timestamp}</time> ${m.message}</li>`)}
        </ul>
      </li>`,
    )}
  </ol>`;
}

function MovesTable({ moves, caption }) {
  return html`<table>
    <caption class=${caption ? "" : "visually-hidden"}>${caption ?? "VM moves"}</caption>
    <thead>
      <tr>
        <th scope="col">Instance</th>
        <th scope="col">Source</th>
        <th scope="col">Destination</th>
        <th scope="col">Outcome</th>
        <th scope="col">Started</th>
        <th scope="col">Ended</th>
        <th scope="col">Message</th>
      </tr>
    </thead>
    <tbody>
      ${moves.length === 0 && html`<tr><td colspan="7" class="muted">No VM move.</td></tr>`}
      ${moves.map(
        (m) => html`<tr key=${m.uuid}>
          <th scope="row">${m.instance_name} <code class="muted">${m.instance_uuid.slice(0, 8)}</code></th>
          <td>${m.source_host ?? "—"}</td>
          <td>${m.dest_host ?? "—"}</td>
          <td><span class=${`badge move-${m.status}`}>${m.status ?? "—"}</span></td>
          <td>${when(m.start_time)}</td>
          <td>${when(m.end_time)}</td>
          <td>${m.message ?? ""}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

/** D21's actions, as the API allows them by status; D22's release for a held one. */
const ACTIONS = [
  { action: "release", label: "Release", statuses: ["new"], needsHold: true, help: "Run the held recovery now." },
  { action: "retry", label: "Retry", statuses: ["error", "failed"], help: "Start a new run of the recovery." },
  {
    action: "abort",
    label: "Abort",
    statuses: ["new", "running", "error"],
    reason: true,
    help: "Stop the run; the notification fails and its servers are unlocked.",
  },
  {
    action: "ignore",
    label: "Ignore",
    statuses: ["new", "error"],
    reason: true,
    help: "Mark it ignored without calling Nova.",
  },
];

function Actions({ notification, onDone }) {
  const can = useCan();
  const { announce } = useContext(Session);
  const [asking, setAsking] = useState(null);
  const [error, setError] = useState(null);
  const held = isHeld(notification);
  const shown = ACTIONS.filter(
    (a) =>
      can(rules.actions.action, rules.actions[a.action]) &&
      a.statuses.includes(notification.status) &&
      (!a.needsHold || held),
  );
  if (shown.length === 0) return null;
  const act = async (a, reason) => {
    const body = { [a.action]: a.reason ? (reason ? { reason } : {}) : null };
    const { notification: after } = await request(
      "POST",
      `/v1/notifications/${notification.notification_uuid}/action`,
      body,
    );
    announce(`${a.label}: the notification is now ${after.status}.`);
    onDone(after);
  };
  return html`<section aria-labelledby="actions-heading" class="actions-panel">
    <h2 id="actions-heading">Operator actions</h2>
    <${Problem} error=${error} />
    <div class="buttons">
      ${shown.map(
        (a) => html`<button
          key=${a.action}
          class=${a.action === "release" ? "primary" : a.reason ? "danger" : ""}
          title=${a.help}
          onClick=${async () => {
            setError(null);
            if (a.reason) return setAsking(a);
            try {
              await act(a);
            } catch (e) {
              setError(e);
            }
          }}
        >${a.label}</button>`,
      )}
    </div>
    ${
      asking &&
      html`<${Dialog}
        title=${`${asking.label} this notification?`}
        submit=${asking.label}
        danger
        onSubmit=${(form) => act(asking, form.get("reason").trim())}
        onClose=${() => setAsking(null)}
      >
        <p>${asking.help}</p>
        <${Field} label="Reason" name="reason" maxlength="255" hint="Recorded with your user in the recovery's details." />
      <//>`
    }
  </section>`;
}

export function NotificationPage({ id }) {
  const can = useCan();
  const [notification, setNotification] = useState(null);
  const [moves, setMoves] = useState(new Map());
  const [live, setLive] = useState({ live: false });
  const [error, setError] = useState(null);
  const [generation, setGeneration] = useState(0);
  const following = can(rules.events.index);
  useEffect(() => {
    setError(null);
    if (following) {
      return follow(
        id,
        (name, data) => {
          if (name === "notification") setNotification(data.notification);
          if (name === "vmoves")
            setMoves((before) => {
              const next = new Map(before);
              for (const m of data.vmoves) next.set(m.uuid, m);
              return next;
            });
        },
        (state) => {
          setLive(state);
          if (state.error) setError(state.error);
        },
      );
    }
    // Without the events rule, the show and the VM moves every 2 s.
    let stop = false;
    const poll = async () => {
      try {
        const { notification: n } = await get(`/v1/notifications/${id}`);
        if (stop) return;
        setNotification(n);
        if (n.type === "COMPUTE_HOST" && can(rules.vmoves.index)) {
          const { vmoves } = await get(`/v1/notifications/${id}/vmoves?limit=1000`);
          if (!stop) setMoves(new Map(vmoves.map((m) => [m.uuid, m])));
        }
      } catch (e) {
        if (!stop) setError(e);
      }
    };
    poll();
    const timer = setInterval(poll, 2000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [id, generation, following]);
  if (!notification && error) return html`<section><${Heading}>Notification<//><${Problem} error=${error} /></section>`;
  if (!notification) return html`<${Loading} what="Loading the notification" />`;
  const n = notification;
  const held = isHeld(n);
  const list = [...moves.values()].sort((a, b) => a.id - b.id);
  return html`<section>
    <p class="crumbs"><a href="#/notifications">Notifications</a> /</p>
    <div class="title-row">
      <${Heading}>Notification <code>${n.notification_uuid.slice(0, 8)}</code><//>
      <p class="live" role="status">
        <${Status} value=${n.status} held=${held} />
        ${" "}
        ${
          live.live
            ? html`<span class="dot" aria-hidden="true"></span> following live`
            : live.ended === "final"
              ? "recovery over"
              : following
                ? "connecting…"
                : "refreshed every 2 s"
        }
      </p>
    </div>
    ${
      held &&
      html`<div class="held" role="note">
        <strong>Held by the storm guard.</strong> Too many hosts of this segment failed at once; Nova has not been called.
        Release it to recover this host now, or abort or ignore it.
      </div>`
    }
    <${Problem} error=${error} />
    <dl class="facts">
      <dt>Type</dt><dd>${n.type}</dd>
      <dt>Status</dt><dd>${n.status}</dd>
      <dt>Source host</dt><dd><code>${n.source_host_uuid}</code></dd>
      <dt>Segment</dt><dd>${n.failover_segment_uuid ? html`<a href=${`#/segments/${n.failover_segment_uuid}`}><code>${n.failover_segment_uuid}</code></a>` : "—"}</dd>
      <dt>Payload</dt><dd><code>${JSON.stringify(n.payload)}</code></dd>
      <dt>Generated</dt><dd>${when(n.generated_time)}</dd>
      <dt>Updated</dt><dd>${when(n.updated_at)}</dd>
      ${n.message && html`<dt>Message</dt><dd>${n.message}</dd>`}
    </dl>
    <${Actions}
      notification=${n}
      onDone=${(after) => {
        setNotification((before) => ({ ...before, ...after }));
        setGeneration((g) => g + 1);
      }}
    />
    <section aria-labelledby="recovery-heading">
      <h2 id="recovery-heading">Recovery</h2>
      <${Timeline} details=${n.recovery_workflow_details} />
    </section>
    ${
      n.type === "COMPUTE_HOST" &&
      can(rules.vmoves.index) &&
      html`<section aria-labelledby="moves-heading">
        <h2 id="moves-heading">VM moves</h2>
        <${MovesTable} moves=${list} />
        <p><a href=${`#/vmoves/${n.notification_uuid}`}>All VM moves of this notification, with filters</a></p>
      </section>`
    }
  </section>`;
}

/** VM moves: pick a host failure, then its moves with the list's filters. */
export function VmovesPage({ id, params }) {
  const [filters, setFilters] = useState({ status: params.get("status") ?? "", type: params.get("type") ?? "" });
  const failures = useLoad(() => get("/v1/notifications?type=COMPUTE_HOST&limit=50"), []);
  const moves = useLoad(
    () =>
      id ? get(`/v1/notifications/${id}/vmoves${query({ ...filters, limit: 1000 })}`) : Promise.resolve(undefined),
    [id, JSON.stringify(filters)],
  );
  const apply = (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setFilters({ status: form.get("status"), type: form.get("type").trim() });
  };
  return html`<section>
    <${Heading}>VM moves<//>
    <p>The instances each host failure moved: where from, where to, and how it ended.</p>
    <${Problem} error=${failures.error} />
    ${
      failures.data &&
      html`<nav aria-label="Host failures">
        <h2>Host failures</h2>
        ${failures.data.notifications.length === 0 && html`<p class="muted">No host failure yet.</p>`}
        <ul class="chips">
          ${failures.data.notifications.map(
            (n) => html`<li key=${n.notification_uuid}>
              <a href=${`#/vmoves/${n.notification_uuid}`} aria-current=${n.notification_uuid === id ? "page" : undefined}>
                <code>${n.notification_uuid.slice(0, 8)}</code> ${when(n.generated_time)} · ${n.status}
              </a>
            </li>`,
          )}
        </ul>
      </nav>`
    }
    ${
      id &&
      html`<section aria-labelledby="moves-of">
        <h2 id="moves-of">Moves of <a href=${`#/notifications/${id}`}><code>${id.slice(0, 8)}</code></a></h2>
        <form class="filters" onSubmit=${apply} aria-label="Filter VM moves">
          <${Select}
            label="Outcome"
            name="status"
            value=${filters.status}
            options=${[["", "any"], ...["pending", "ongoing", "succeeded", "failed", "ignored"].map((s) => [s, s])]}
          />
          <${Field} label="Type" name="type" value=${filters.type} placeholder="evacuation" />
          <button type="submit">Filter</button>
        </form>
        <${Problem} error=${moves.error} />
        ${moves.loading && html`<${Loading} what="Loading VM moves" />`}
        ${moves.data && html`<${MovesTable} moves=${moves.data.vmoves} />`}
      </section>`
    }
  </section>`;
}
