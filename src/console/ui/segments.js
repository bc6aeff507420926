// Failover segments: the list with its filters, create, edit, delete; a
// segment's page with its hosts and recovery plan.
import { useContext, useState } from "preact/hooks";
import { get, query, request } from "./api.js";
import { HostDialog, HostsTable } from "./hosts.js";
import {
  DeleteDialog,
  Dialog,
  Field,
  Heading,
  html,
  Loading,
  Problem,
  RECOVERY_METHODS,
  rules,
  Select,
  Session,
  useCan,
  useLoad,
  when,
} from "./ui.js";

const PAGE = 50;

/** The segment's fields from the form; for an edit, only those that changed. */
function segmentBody(form, segment) {
  const fields = {
    name: form.get("name").trim(),
    description: form.get("description").trim() || null,
    recovery_method: form.get("recovery_method"),
    service_type: form.get("service_type").trim(),
    enabled: form.get("enabled") === "on",
  };
  if (!segment) return { segment: fields };
  return { segment: Object.fromEntries(Object.entries(fields).filter(([key, value]) => segment[key] !== value)) };
}

/** Create or edit a segment. */
export function SegmentDialog({ segment, onClose }) {
  const { announce } = useContext(Session);
  const creating = !segment;
  const submit = async (form) => {
    const body = segmentBody(form, segment);
    if (!creating && Object.keys(body.segment).length === 0) return;
    const saved = creating
      ? await request("POST", "/v1/segments", body)
      : await request("PUT", `/v1/segments/${segment.uuid}`, body);
    announce(`Segment ${saved.segment.name} ${creating ? "created" : "saved"}.`);
  };
  return html`<${Dialog}
    title=${creating ? "New segment" : `Edit segment ${segment.name}`}
    submit=${creating ? "Create segment" : "Save"}
    onSubmit=${submit}
    onClose=${onClose}
  >
    <${Field} label="Name" name="name" value=${segment?.name ?? ""} required maxlength="255" autocomplete="off" />
    <${Field} label="Description" name="description" value=${segment?.description ?? ""} maxlength="255" />
    <${Select}
      label="Recovery method"
      name="recovery_method"
      value=${segment?.recovery_method ?? "auto"}
      options=${RECOVERY_METHODS}
    />
    <${Field}
      label="Service type"
      name="service_type"
      value=${segment?.service_type ?? "COMPUTE"}
      required
      maxlength="255"
    />
    <${Field}
      label="Enabled"
      name="enabled"
      type="checkbox"
      value=${segment?.enabled ?? true}
      hint="A disabled segment's hosts are not recovered."
    />
  <//>`;
}

export function SegmentsPage({ params }) {
  const can = useCan();
  const [filters, setFilters] = useState({
    recovery_method: params.get("recovery_method") ?? "",
    service_type: params.get("service_type") ?? "",
    enabled: params.get("enabled") ?? "",
  });
  const [pages, setPages] = useState([undefined]);
  const [dialog, setDialog] = useState(null);
  const list = useLoad(async () => {
    const rows = [];
    let more = false;
    for (const marker of pages) {
      const page = await get(`/v1/segments${query({ ...filters, limit: PAGE, marker })}`);
      rows.push(...page.segments);
      more = page.segments.length === PAGE;
    }
    return { rows, more };
  }, [JSON.stringify(filters), pages.length]);
  const close = (changed) => {
    setDialog(null);
    if (changed) list.reload();
  };
  const applyFilters = (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPages([undefined]);
    setFilters({
      recovery_method: form.get("recovery_method"),
      service_type: form.get("service_type").trim(),
      enabled: form.get("enabled"),
    });
  };
  const rows = list.data?.rows ?? [];
  return html`<section>
    <div class="title-row">
      <${Heading}>Segments<//>
      ${can(rules.segments.create) && html`<button class="primary" onClick=${() => setDialog({ kind: "create" })}>New segment</button>`}
    </div>
    <form class="filters" onSubmit=${applyFilters} aria-label="Filter segments">
      <${Select}
        label="Recovery method"
        name="recovery_method"
        value=${filters.recovery_method}
        options=${[["", "any"], ...RECOVERY_METHODS.map(([v]) => [v, v])]}
      />
      <${Field} label="Service type" name="service_type" value=${filters.service_type} />
      <${Select}
        label="Enabled"
        name="enabled"
        value=${filters.enabled}
        options=${[["", "any"], ["true", "enabled"], ["false", "disabled"]]}
      />
      <button type="submit">Filter</button>
    </form>
    <${Problem} error=${list.error} />
    ${list.loading && !list.data && html`<${Loading} what="Loading segments" />`}
    ${
      list.data &&
      html`<table>
        <caption class="visually-hidden">Failover segments</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Recovery method</th>
            <th scope="col">Service type</th>
            <th scope="col">Enabled</th>
            <th scope="col">Created</th>
            <th scope="col"><span class="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          ${rows.length === 0 && html`<tr><td colspan="6" class="muted">No segment matches.</td></tr>`}
          ${rows.map(
            (s) => html`<tr key=${s.uuid}>
              <th scope="row"><a href=${`#/segments/${s.uuid}`}>${s.name}</a></th>
              <td>${s.recovery_method}</td>
              <td>${s.service_type}</td>
              <td>${s.enabled ? "yes" : "no"}</td>
              <td>${when(s.created_at)}</td>
              <td class="actions">
                ${can(rules.segments.update) && html`<button onClick=${() => setDialog({ kind: "edit", segment: s })} aria-label=${`Edit ${s.name}`}>Edit</button>`}
                ${can(rules.segments.delete) && html`<button class="danger" onClick=${() => setDialog({ kind: "delete", segment: s })} aria-label=${`Delete ${s.name}`}>Delete</button>`}
              </td>
            </tr>`,
          )}
        </tbody>
      </table>`
    }
    ${list.data?.more && html`<button onClick=${() => setPages([...pages, rows.at(-1)?.uuid])}>Load more</button>`}
    ${dialog?.kind === "create" && html`<${SegmentDialog} onClose=${close} />`}
    ${dialog?.kind === "edit" && html`<${SegmentDialog} segment=${dialog.segment} onClose=${close} />`}
    ${
      dialog?.kind === "delete" &&
      html`<${DeleteDialog}
        what="segment"
        name=${dialog.segment.name}
        path=${`/v1/segments/${dialog.segment.uuid}`}
        onClose=${close}
      />`
    }
  </section>`;
}

/** D23: each host's failure on its own, and how many the segment absorbs. */
function SegmentPlan({ segment }) {
  const [shown, setShown] = useState(false);
  const plan = useLoad(
    () => (shown ? get(`/v1/segments/${segment.uuid}/recovery-plan`) : Promise.resolve(undefined)),
    [shown, segment.uuid],
  );
  if (!shown) return html`<button onClick=${() => setShown(true)}>Plan: what if each host failed now?</button>`;
  const p = plan.data?.recovery_plan;
  return html`<section aria-labelledby="segment-plan">
    <h2 id="segment-plan">Recovery plan</h2>
    <${Problem} error=${plan.error} />
    ${plan.loading && html`<${Loading} what="Asking Nova" />`}
    ${
      p &&
      html`<p>
          The segment absorbs <strong>${p.absorbable}</strong> of its ${p.hosts.length} hosts failing one at a time
          (${p.recovery_method}).
          ${
            p.first_not_absorbed
              ? html` The first it does not: <strong>${p.first_not_absorbed.host_name}</strong>.`
              : " Every host's failure would fit."
          }
          <span class="muted"> Nova read ${p.generated_at}.</span>
        </p>
        <table>
          <caption class="visually-hidden">Each host's failure on its own</caption>
          <thead>
            <tr>
              <th scope="col">Host</th>
              <th scope="col">Instances</th>
              <th scope="col">Would not fit</th>
              <th scope="col">Verdict</th>
            </tr>
          </thead>
          <tbody>
            ${p.hosts.map(
              (h) => html`<tr key=${h.host_id}>
                <th scope="row"><a href=${`#/segments/${segment.uuid}/hosts/${h.host_id}`}>${h.host_name}</a></th>
                <td>${h.instances}</td>
                <td>${h.would_not_fit}</td>
                <td>${h.fits ? html`<span class="ok">fits</span>` : html`<span class="bad">does not fit</span>`}</td>
              </tr>`,
            )}
          </tbody>
        </table>
        <button onClick=${plan.reload}>Ask again</button>`
    }
  </section>`;
}

export function SegmentPage({ id }) {
  const can = useCan();
  const [dialog, setDialog] = useState(null);
  const segment = useLoad(() => get(`/v1/segments/${id}`), [id]);
  const hosts = useLoad(
    () => (can(rules.hosts.index) ? get(`/v1/segments/${id}/hosts?limit=1000`) : Promise.resolve({ hosts: [] })),
    [id],
  );
  const s = segment.data?.segment;
  const close = (changed) => {
    const deleted = dialog?.kind === "delete";
    setDialog(null);
    if (changed && deleted) location.hash = "#/segments";
    else if (changed) {
      segment.reload();
      hosts.reload();
    }
  };
  if (segment.error) return html`<section><${Heading}>Segment<//><${Problem} error=${segment.error} /></section>`;
  if (!s) return html`<${Loading} what="Loading the segment" />`;
  return html`<section>
    <p class="crumbs"><a href="#/segments">Segments</a> /</p>
    <div class="title-row">
      <${Heading}>Segment ${s.name}<//>
      <div class="buttons">
        ${can(rules.segments.update) && html`<button onClick=${() => setDialog({ kind: "edit" })}>Edit segment</button>`}
        ${can(rules.segments.delete) && html`<button class="danger" onClick=${() => setDialog({ kind: "delete" })}>Delete segment</button>`}
      </div>
    </div>
    <dl class="facts">
      <dt>Recovery method</dt><dd>${s.recovery_method}</dd>
      <dt>Service type</dt><dd>${s.service_type}</dd>
      <dt>Enabled</dt><dd>${s.enabled ? "yes" : "no"}</dd>
      <dt>Description</dt><dd>${s.description ?? "—"}</dd>
      <dt>UUID</dt><dd><code>${s.uuid}</code></dd>
      <dt>Created</dt><dd>${when(s.created_at)}</dd>
      <dt>Updated</dt><dd>${when(s.updated_at)}</dd>
    </dl>
    <section aria-labelledby="hosts-heading">
      <div class="title-row">
        <h2 id="hosts-heading">Hosts</h2>
        ${can(rules.hosts.create) && html`<button class="primary" onClick=${() => setDialog({ kind: "host" })}>New host</button>`}
      </div>
      <${Problem} error=${hosts.error} />
      ${hosts.data && html`<${HostsTable} segment=${s} hosts=${hosts.data.hosts} onChange=${hosts.reload} />`}
    </section>
    ${can(rules.plans.segment) && html`<${SegmentPlan} segment=${s} />`}
    ${dialog?.kind === "edit" && html`<${SegmentDialog} segment=${s} onClose=${close} />`}
    ${dialog?.kind === "host" && html`<${HostDialog} segment=${s} onClose=${close} />`}
    ${dialog?.kind === "delete" && html`<${DeleteDialog} what="segment" name=${s.name} path=${`/v1/segments/${s.uuid}`} onClose=${close} />`}
  </section>`;
}
