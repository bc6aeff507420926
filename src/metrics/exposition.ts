// The two text formats a Prometheus scraper reads: OpenMetrics 1.0.0 (the
// default) and Prometheus' own text format 0.0.4, chosen by the scraper's
// Accept header. They differ in three places: a counter's family is named
// without `_total` in OpenMetrics and with it in 0.0.4, OpenMetrics also
// escapes `"` in HELP, and only OpenMetrics ends with `# EOF`.

export type Format = "openmetrics" | "text";

export const CONTENT_TYPES: Readonly<Record<Format, string>> = {
  openmetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8",
  text: "text/plain; version=0.0.4; charset=utf-8",
};

export interface Sample {
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  /** Without `_total`: a counter's samples get it. */
  readonly name: string;
  readonly type: "gauge" | "counter";
  readonly help: string;
  readonly samples: readonly Sample[];
}

/**
 * The format an Accept header prefers: the media range with the highest
 * q-value among OpenMetrics and text/plain, OpenMetrics on a tie, for `*`
 * wildcards, and when the header names neither (a scraper is better served
 * by metrics than by a 406).
 */
export function negotiate(accept: string | undefined): Format {
  let openmetrics = 0;
  let text = 0;
  let any = 0;
  for (const range of (accept ?? "").split(",")) {
    const [type = "", ...params] = range.split(";").map((part) => part.trim().toLowerCase());
    const q = params.find((p) => /^q\s*=/.test(p));
    const weight = q === undefined ? 1 : Number(q.replace(/^q\s*=\s*/, ""));
    if (!Number.isFinite(weight)) continue;
    if (type === "application/openmetrics-text") openmetrics = Math.max(openmetrics, weight);
    else if (type === "text/plain") text = Math.max(text, weight);
    else if (type === "*/*" || type === "application/*") any = Math.max(any, weight);
    else if (type === "text/*") text = Math.max(text, weight);
  }
  return text > Math.max(openmetrics, any) ? "text" : "openmetrics";
}

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

const escapeHelp = (help: string, format: Format) => {
  const escaped = help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
  return format === "openmetrics" ? escaped.replace(/"/g, '\\"') : escaped;
};

function sampleLine(name: string, sample: Sample): string {
  const labels = Object.entries(sample.labels ?? {});
  const set = labels.length === 0 ? "" : `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
  return `${name}${set} ${String(sample.value)}`;
}

/** The families as `format` writes them, one line each, ending with a newline. */
export function render(families: readonly Family[], format: Format): string {
  const lines: string[] = [];
  for (const family of families) {
    const sampleName = family.type === "counter" ? `${family.name}_total` : family.name;
    const familyName = format === "openmetrics" ? family.name : sampleName;
    lines.push(`# HELP ${familyName} ${escapeHelp(family.help, format)}`, `# TYPE ${familyName} ${family.type}`);
    for (const sample of family.samples) lines.push(sampleLine(sampleName, sample));
  }
  if (format === "openmetrics") lines.push("# EOF");
  return `${lines.join("\n")}\n`;
}
