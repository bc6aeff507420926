// A segment's hosts: create, edit, delete, the reserved and on-maintenance
// switches, a host's recovery plan, and (demo mode) taking a host down.
import { useContext, useState } from "preact/hooks";
import { get, request } from "./api.js";
import {
  DeleteDialog,
  Dialog,
  Field,
  Heading,
  html,
  Loading,
  Problem,
  rules,
  Session,
  useCan,
  useLoad,
  when,
} from "./ui.js";

function hostBody(form, host) {
  const fields = {
    name: form.get("name").trim(),
    type: form.get("type").trim(),
    control_attributes: form.get("control_attributes").trim(),
    reserved: form.get("reserved") === "on",
    on_maintenance: form.get("on_maintenance") === "on",
  };
  if (!host) return { host: fields };
  return { host: Object.fromEntries(Object.entries(fields).filter(([key, value]) => host[key] !== value)) };
}

export function HostDialog({ segment, host, onClose }) {
  const { announce } = useContext(Session);
  const creating = !host;
  const submit = async (form) => {
    const body = hostBody(form, host);
    if (!creating && Object.keys(body.host).length === 0) return;
    const path = `/v1/segments/${segment.uuid}/hosts${creating ? "" : `/${host.uuid}`}`;
    const saved = await request(creating ? "POST" : "PUT", path, body);
    announce(`Host ${saved.host.name} ${creating ? "added" : "saved"}.`);
  };
  return html`<${Dialog}
    title=${creating ? `New host in ${segment.name}` : `Edit host ${host.name}`}
    submit=${creating ? "Add host" : "Save"}
    onSubmit=${submit}
    onClose=${onClose}
  >
    <${Field}
      label="Name"
      name="name"
      value=${host?.name ?? ""}
      required
      maxlength="255"
      autocomplete="off"
      hint="The hypervisor's name, as Nova knows its nova-compute service."
    />
    <${Field} label="Type" name="type" value=${host?.type ?? "COMPUTE"} required maxlength="255" />
    <${Field}
      label="Control attributes"
      name="control_attributes"
      value=${host?.control_attributes ?? "SSH"}
      required
    />
    <${Field}
      label="Reserved"
      name="reserved"
      type="checkbox"
      value=${host?.reserved ?? false}
      hint="Kept empty to receive the instances of a failed host (reserved_host methods)."
    />
    <${Field}
      label="On maintenance"
      name="on_maintenance"
      type="checkbox"
      value=${host?.on_maintenance ?? false}
      hint="Failures reported for it are ignored."
    />
  <//>`;
}

/** A switch for one boolean field of a host: one PUT, its refusal shown beside the table. */
function Toggle({ segment, host, field, label, disabled, onDone, onError }) {
  const [busy, setBusy] = useState(false);
  const { announce } = useContext(Session);
  const id = `${field}-${host.uuid}`;
  const flip = async () => {
    setBusy(true);
    try {
      await request("PUT", `/v1/segments/${segment.uuid}/hosts/${host.uuid}`, { host: { [field]: !host[field] } });
      announce(`${host.name}: ${label.toLowerCase()} ${host[field] ? "off" : "on"}.`);
      onDone();
    } catch (error) {
      onError(error);
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="switch">
    <input
      type="checkbox"
      role="switch"
      id=${id}
      checked=${host[field]}
      disabled=${disabled || busy}
      onChange=${flip}
    />
    <label for=${id}><span class="visually-hidden">${label} ${host.name}</span><span aria-hidden="true">${host[field] ? "on" : "off"}</span></label>
  </span>`;
}

function TakeDown({ host }) {
  const [confirm, setConfirm] = useState(false);
  const { announce } = useContext(Session);
  if (!confirm)
    return html`<button class="danger" onClick=${() => setConfirm(true)} aria-label=${`Take this host down: ${host.name}`}>
      Take this host down
    </button>`;
  return html`<${Dialog}
    title=${`Take ${host.name} down?`}
    submit="Take it down"
    danger
    onSubmit=${async () => {
      const { notification } = await request("POST", "/demo/fail", { host: host.name });
      announce(`${host.name} is down; its notification is ${notification.status}.`);
      location.hash = `#/notifications/${notification.notification_uuid}`;
    }}
    onClose=${() => setConfirm(false)}
  >
    <p>
      Demo mode: the Nova stand-in marks ${host.name}'s compute service down, then the console reports the failure as
      a host monitor would (a COMPUTE_HOST notification), and you follow its recovery.
    </p>
  <//>`;
}

export function HostsTable({ segment, hosts, onChange }) {
  const can = useCan();
  const { demo } = useContext(Session);
  const [dialog, setDialog] = useState(null);
  const [error, setError] = useState(null);
  const close = (changed) => {
    setDialog(null);
    if (changed) onChange();
  };
  const update = can(rules.hosts.update);
  const takeDown = demo && can(rules.notifications.create);
  return html`<div>
    <${Problem} error=${error} />
    <table>
      <caption class="visually-hidden">Hosts of ${segment.name}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Type</th>
          <th scope="col">Reserved</th>
          <th scope="col">On maintenance</th>
          <th scope="col">Control attributes</th>
          <th scope="col"><span class="visually-hidden">Actions</span></th>
        </tr>
      </thead>
      <tbody>
        ${hosts.length === 0 && html`<tr><td colspan="6" class="muted">No host yet.</td></tr>`}
        ${hosts.map(
          (h) => html`<tr key=${h.uuid}>
            <th scope="row"><a href=${`#/segments/${segment.uuid}/hosts/${h.uuid}`}>${h.name}</a></th>
            <td>${h.type}</td>
            <td>
              <${Toggle} segment=${segment} host=${h} field="reserved" label="Reserved" disabled=${!update}
                onDone=${() => {
                  setError(null);
                  onChange();
                }} onError=${setError} />
            </td>
            <td>
              <${Toggle} segment=${segment} host=${h} field="on_maintenance" label="On maintenance" disabled=${!update}
                onDone=${() => {
                  setError(null);
                  onChange();
                }} onError=${setError} />
            </td>
            <td>${h.control_attributes}</td>
            <td class="actions">
              ${update && html`<button onClick=${() => setDialog({ kind: "edit", host: h })} aria-label=${`Edit ${h.name}`}>Edit</button>`}
              ${can(rules.hosts.delete) && html`<button class="danger" onClick=${() => setDialog({ kind: "delete", host: h })} aria-label=${`Delete ${h.name}`}>Delete</button>`}
              ${takeDown && !h.on_maintenance && html`<${TakeDown} host=${h} />`}
            </td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${dialog?.kind === "edit" && html`<${HostDialog} segment=${segment} host=${dialog.host} onClose=${close} />`}
    ${
      dialog?.kind === "delete" &&
      html`<${DeleteDialog}
        what="host"
        name=${dialog.host.name}
        path=${`/v1/segments/${segment.uuid}/hosts/${dialog.host.uuid}`}
        onClose=${close}
      />`
    }
  </div>`;
}

/** D23: what the engine would do if this host failed now, and what would not fit. */
function HostPlan({ segment, host }) {
  const plan = useLoad(() => get(`/v1/segments/${segment}/hosts/${host}/recovery-plan`), [segment, host]);
  const p = plan.data?.recovery_plan;
  return html`<section aria-labelledby="plan-heading">
    <h2 id="plan-heading">If this host failed now</h2>
    <${Problem} error=${plan.error} />
    ${plan.loading && html`<${Loading} what="Asking Nova" />`}
    ${
      p &&
      html`<p class=${p.fits ? "verdict ok" : "verdict bad"}>
          ${
            p.fits
              ? `Everything would fit: ${p.instances.length} instance(s) would be evacuated (${p.recovery_method}).`
              : `${p.would_not_fit.length} instance(s) would not fit: ${p.would_not_fit.join(", ")}.`
          }
        </p>
        <p class="muted">Nova read ${p.generated_at}.</p>
        <h3>Flows, in the order they would run</h3>
        <ol>
          ${p.flows.map(
            (f, i) => html`<li key=${i}>
              <strong>${f.recovery_method}</strong>
              ${f.reserved_hosts && html`: reserved hosts ${f.reserved_hosts.join(", ") || "none"}`}
              ${f.unavailable ? html` — <span class="bad">cannot run: ${f.unavailable}</span>` : ` — ${f.placements.length} placement(s)`}
            </li>`,
          )}
        </ol>
        <h3>Instances, in evacuation order</h3>
        <table>
          <thead>
            <tr>
              <th scope="col">Instance</th>
              <th scope="col">State</th>
              <th scope="col">HA</th>
              <th scope="col">Priority</th>
              <th scope="col">Flavor (vCPU / MiB / GB)</th>
              <th scope="col">Destination</th>
            </tr>
          </thead>
          <tbody>
            ${p.instances.length === 0 && html`<tr><td colspan="6" class="muted">None in scope.</td></tr>`}
            ${p.instances.map((i) => {
              const placed = p.flows.flatMap((f) => f.placements).find((x) => x.instance_id === i.id);
              return html`<tr key=${i.id}>
                <th scope="row">${i.name}</th>
                <td>${i.vm_state ?? "—"}</td>
                <td>${i.ha_enabled ? "yes" : "no"}</td>
                <td>${i.priority ?? "—"}</td>
                <td>${i.flavor.vcpus} / ${i.flavor.ram} / ${i.flavor.disk}</td>
                <td>${placed ? placed.destination : html`<span class="bad">would not fit</span>`}</td>
              </tr>`;
            })}
          </tbody>
        </table>
        ${
          p.skipped.length > 0 &&
          html`<h3>Left alone</h3>
            <ul>
              ${p.skipped.map((s) => html`<li key=${s.id}>${s.name}: ${s.reason}</li>`)}
            </ul>`
        }
        <h3>Destinations</h3>
        <table>
          <thead>
            <tr>
              <th scope="col">Host</th>
              <th scope="col">Reserved</th>
              <th scope="col">Usable</th>
              <th scope="col">Free vCPU</th>
              <th scope="col">Free RAM (MiB)</th>
              <th scope="col">Free disk (GB)</th>
            </tr>
          </thead>
          <tbody>
            ${p.destinations.map(
              (d) => html`<tr key=${d.host}>
                <th scope="row">${d.host}</th>
                <td>${d.reserved ? "yes" : "no"}</td>
                <td>${d.usable ? "yes" : `no: ${d.reason}`}</td>
                <td>${d.vcpus_free}</td>
                <td>${d.memory_mb_free}</td>
                <td>${d.disk_gb_free}</td>
              </tr>`,
            )}
          </tbody>
        </table>
        <button onClick=${plan.reload}>Ask again</button>`
    }
  </section>`;
}

export function HostPage({ segment, id }) {
  const can = useCan();
  const [dialog, setDialog] = useState(null);
  const host = useLoad(() => get(`/v1/segments/${segment}/hosts/${id}`), [segment, id]);
  const seg = useLoad(() => get(`/v1/segments/${segment}`), [segment]);
  const h = host.data?.host;
  if (host.error) return html`<section><${Heading}>Host<//><${Problem} error=${host.error} /></section>`;
  if (!h || !seg.data) return html`<${Loading} what="Loading the host" />`;
  const s = seg.data.segment;
  const close = (changed) => {
    const deleted = dialog === "delete";
    setDialog(null);
    if (changed && deleted) location.hash = `#/segments/${segment}`;
    else if (changed) host.reload();
  };
  return html`<section>
    <p class="crumbs"><a href="#/segments">Segments</a> / <a href=${`#/segments/${segment}`}>${s.name}</a> /</p>
    <div class="title-row">
      <${Heading}>Host ${h.name}<//>
      <div class="buttons">
        ${can(rules.hosts.update) && html`<button onClick=${() => setDialog("edit")}>Edit host</button>`}
        ${can(rules.hosts.delete) && html`<button class="danger" onClick=${() => setDialog("delete")}>Delete host</button>`}
      </div>
    </div>
    <dl class="facts">
      <dt>Type</dt><dd>${h.type}</dd>
      <dt>Reserved</dt><dd>${h.reserved ? "yes" : "no"}</dd>
      <dt>On maintenance</dt><dd>${h.on_maintenance ? "yes" : "no"}</dd>
      <dt>Control attributes</dt><dd>${h.control_attributes}</dd>
      <dt>UUID</dt><dd><code>${h.uuid}</code></dd>
      <dt>Updated</dt><dd>${when(h.updated_at ?? h.created_at)}</dd>
    </dl>
    ${
      can(rules.notifications.index) &&
      html`<p><a href=${`#/notifications?source_host_uuid=${h.uuid}`}>This host's notifications</a></p>`
    }
    ${can(rules.plans.host) && html`<${HostPlan} segment=${segment} host=${id} />`}
    ${dialog === "edit" && html`<${HostDialog} segment=${s} host=${h} onClose=${close} />`}
    ${dialog === "delete" && html`<${DeleteDialog} what="host" name=${h.name} path=${`/v1/segments/${segment}/hosts/${id}`} onClose=${close} />`}
  </section>`;
}
