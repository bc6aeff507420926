import { NOTIFICATION_STATUSES, RECOVERY_METHODS } from "../db/schema";
import type { Family, Sample } from "./exposition";
import type { Counts } from "./store";

// The metrics GET /metrics reports (docs/metrics.md), from the counts of one
// scrape. Series whose labels are known in advance (types, statuses,
// outcomes, recovery methods) are all written, zero included: a series that
// is missing is not 0 to PromQL, so a rate or an alert on it would start
// only at its first non-zero scrape.

/** The notification types the API accepts; a stored row of another type is reported too. */
const NOTIFICATION_TYPES = ["COMPUTE_HOST", "PROCESS", "VM"] as const;

/** How an evacuation (a VM move of type evacuation) ends; its status never changes after. */
const OUTCOMES = ["succeeded", "failed", "ignored"] as const;

/** An evacuation under way: selected and waiting its turn, or sent to Nova. */
const UNDER_WAY = ["pending", "ongoing"] as const;

const UNFINISHED = ["new", "running", "error"] as const;

/** Counts by key, with every key of `known` present. */
function tally<K extends string>(known: readonly K[], rows: readonly { key: string | null; n: number }[]) {
  const counts = new Map<string, number>(known.map((k) => [k, 0]));
  for (const { key, n } of rows) {
    if (key !== null) counts.set(key, (counts.get(key) ?? 0) + n);
  }
  return counts;
}

/** Stored datetimes are naive UTC; a gauge of them is seconds since the epoch. */
const epochSeconds = (stored: string) => Date.parse(`${stored.replace(" ", "T")}Z`) / 1000;

const flag = (value: number | null) => (value ? "true" : "false");

function notificationSamples(counts: Counts): Sample[] {
  const byPair = new Map<string, number>();
  const key = (type: string, status: string) => JSON.stringify([type, status]);
  for (const type of NOTIFICATION_TYPES) for (const status of NOTIFICATION_STATUSES) byPair.set(key(type, status), 0);
  for (const row of counts.notifications) byPair.set(key(row.type, row.status), row.n);
  return [...byPair].map(([pair, value]) => {
    const [type, status] = JSON.parse(pair) as [string, string];
    return { labels: { type, status }, value };
  });
}

function hostSamples(counts: Counts): Sample[] {
  // Each segment with hosts gets all four combinations; NULL flags (rows
  // from before the column had a default) count as false, as the API shows them.
  const segments = new Map<string, { name: string; n: Map<string, number> }>();
  for (const row of counts.hosts) {
    const segment = segments.get(row.segment) ?? { name: row.segment_name ?? "", n: new Map() };
    segments.set(row.segment, segment);
    const combination = `${flag(row.on_maintenance)} ${flag(row.reserved)}`;
    segment.n.set(combination, (segment.n.get(combination) ?? 0) + row.n);
  }
  const ordered = [...segments].sort(([a, x], [b, y]) => x.name.localeCompare(y.name) || a.localeCompare(b));
  return ordered.flatMap(([uuid, { name, n }]) =>
    ["false", "true"].flatMap((on_maintenance) =>
      ["false", "true"].map((reserved) => ({
        labels: { segment: uuid, segment_name: name, on_maintenance, reserved },
        value: n.get(`${on_maintenance} ${reserved}`) ?? 0,
      })),
    ),
  );
}

export function families(counts: Counts): Family[] {
  const evacuations = tally(
    [...OUTCOMES, ...UNDER_WAY],
    counts.evacuations.map((r) => ({ key: r.status, n: r.n })),
  );
  const segments = tally(
    RECOVERY_METHODS,
    counts.segments.map((r) => ({ key: r.recovery_method, n: r.n })),
  );
  return [
    {
      name: "masakari_notifications",
      type: "gauge",
      help: "Live notifications by type and status.",
      samples: notificationSamples(counts),
    },
    {
      name: "masakari_notifications_held",
      type: "gauge",
      help: "Host failures the storm guard holds: new notifications that run only once an operator releases them.",
      samples: [{ value: counts.held }],
    },
    {
      name: "masakari_notifications_oldest_timestamp_seconds",
      type: "gauge",
      help: "When the oldest live notification in each unfinished status (new, running, error) was received, in seconds since the epoch; no sample while there is none.",
      samples: UNFINISHED.flatMap((status) => {
        const at = counts.oldest[status];
        return at === null ? [] : [{ labels: { status }, value: epochSeconds(at) }];
      }),
    },
    {
      name: "masakari_evacuations",
      type: "counter",
      help: "Evacuations that ended, by outcome: the VM moves of type evacuation that succeeded, failed or were ignored.",
      samples: OUTCOMES.map((outcome) => ({ labels: { outcome }, value: evacuations.get(outcome) ?? 0 })),
    },
    {
      name: "masakari_evacuations_in_progress",
      type: "gauge",
      help: "Evacuations under way: pending (selected, waiting their turn) or ongoing (sent to Nova).",
      samples: UNDER_WAY.map((status) => ({ labels: { status }, value: evacuations.get(status) ?? 0 })),
    },
    {
      name: "masakari_nova_errors",
      type: "counter",
      help: "Nova requests of the recovery engine that failed (an error status or no answer), added as each Workflow instance ends.",
      samples: [{ value: counts.novaErrors }],
    },
    {
      name: "masakari_segments",
      type: "gauge",
      help: "Live failover segments by recovery method.",
      samples: [...segments].map(([recovery_method, value]) => ({ labels: { recovery_method }, value })),
    },
    {
      name: "masakari_segments_disabled",
      type: "gauge",
      help: "Live failover segments that are disabled: a failure reported for one of their hosts is ignored, not recovered.",
      samples: [{ value: counts.segmentsDisabled }],
    },
    {
      name: "masakari_hosts",
      type: "gauge",
      help: "Live hosts of each segment by on_maintenance and reserved; a reserved host not on maintenance is one a reserved_host recovery may take.",
      samples: hostSamples(counts),
    },
  ];
}
