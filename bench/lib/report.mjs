// The benchmark's table, its target checks and the README section; the
// before/after's table.
import fs from "node:fs";
import os from "node:os";

const find = (runs, target, workload, c) =>
  runs.find((r) => r.target === target && r.workload === workload && r.connections === c);
const n0 = (x) => Math.round(x).toLocaleString("en-US");
const ms = (x) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
const pct = (x) => `${Math.round(x * 100)} %`;

/** What a run ran on, for its JSON and the table's first line. */
export function machine() {
  const cpu = os.cpus();
  return {
    cpu: cpu[0]?.model ?? "unknown",
    cores: cpu.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
}

export function checks({ runs, scale, bundle, engine }) {
  const out = [];
  const add = (target, pass, detail) => out.push({ target, pass, detail });
  for (const w of [...new Set(runs.filter((r) => r.target === "worker").map((r) => r.workload))]) {
    const mine = find(runs, "worker", w, 8);
    const ref = find(runs, "reference", w, 8);
    if (!mine || !ref) continue;
    add(`${w}: ≥ 10× Masakari's req/s at c8`, mine.rps >= 10 * ref.rps, `${(mine.rps / ref.rps).toFixed(1)}×`);
    add(`${w}: p99 below Masakari's p50 at c8`, mine.p99_ms < ref.p50_ms, `${ms(mine.p99_ms)} vs ${ms(ref.p50_ms)} ms`);
  }
  for (const c of [8, 64]) {
    const show = find(runs, "worker", "show-segment", c);
    const hello = find(runs, "hello-world", "show-segment", c);
    if (show && hello)
      add(`show-segment ≥ 60 % of hello-world at c${c}`, show.rps >= 0.6 * hello.rps, pct(show.rps / hello.rps));
  }
  const sizes = [...new Set(scale.filter((r) => r.segments).map((r) => r.segments))];
  const [small, large] = [Math.min(...sizes), Math.max(...sizes)];
  for (const w of ["show-segment", "list-segments-first-100", "list-segments-page"]) {
    const a = scale.find((r) => r.segments === small && r.workload === w);
    const b = scale.find((r) => r.segments === large && r.workload === w);
    if (a && b && large > small)
      add(
        `${w}: p50 at ${n0(large)} segments within 1.5× of ${n0(small)}`,
        b.p50_ms <= 1.5 * a.p50_ms,
        `${ms(b.p50_ms)} vs ${ms(a.p50_ms)} ms (${(b.p50_ms / a.p50_ms).toFixed(2)}×)`,
      );
  }
  const counts = [...new Set(scale.filter((r) => r.notifications).map((r) => r.notifications))];
  const [few, many] = [Math.min(...counts), Math.max(...counts)];
  const a = scale.find((r) => r.notifications === few && r.workload === "list-notifications-new-first-100");
  const b = scale.find((r) => r.notifications === many && r.workload === "list-notifications-new-first-100");
  if (a && b && many > few)
    add(
      `list-notifications-new-first-100: p50 at ${n0(many)} notifications within 1.5× of ${n0(few)}`,
      b.p50_ms <= 1.5 * a.p50_ms,
      `${ms(b.p50_ms)} vs ${ms(a.p50_ms)} ms (${(b.p50_ms / a.p50_ms).toFixed(2)}×)`,
    );
  add("bundle ≤ 150 KiB gzip", bundle.gzipKiB <= 150, `${bundle.gzipKiB} KiB`);
  for (const c of engine?.cases ?? []) {
    add(
      `engine: ${n0(c.instances)} instances (${c.threads} threads) finished, every instance on the other host`,
      c.ok,
      c.ok ? `${c.seconds.toFixed(1)} s` : c.problems.join("; "),
    );
  }
  const errors = [...runs, ...scale].reduce((a, r) => a + r.errors, 0);
  add("no errors in any run", errors === 0, `${errors}`);
  return out;
}

export function markdown(result) {
  const { runs, scale, bundle, machine } = result;
  const lines = [];
  lines.push(
    `Run on ${result.date.slice(0, 10)}: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node.js ${machine.node}. ` +
      `\`${result.command}\`: wrk, 1 thread, ${result.seconds} s per run after a 1 s warm-up.` +
      (result.v8Flags ? ` workerd's V8 flags: \`${result.v8Flags}\` (a diagnosis, not the deployed runtime).` : ""),
    "",
    "| workload | conns | Worker req/s | p50 ms | p99 ms | errors | Masakari req/s | p50 ms | p99 ms | errors | × Masakari | % of hello-world | % of d1-floor |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  );
  const workloads = [...new Set(runs.filter((r) => r.target === "worker").map((r) => r.workload))];
  for (const w of workloads) {
    for (const c of [8, 64]) {
      const mine = find(runs, "worker", w, c);
      if (!mine) continue;
      const ref = find(runs, "reference", w, c);
      const hello = find(runs, "hello-world", "show-segment", c);
      const floor = find(runs, "d1-floor", "show-segment", c);
      lines.push(
        `| ${w} | ${c} | ${n0(mine.rps)} | ${ms(mine.p50_ms)} | ${ms(mine.p99_ms)} | ${mine.errors} | ` +
          (ref
            ? `${n0(ref.rps)} | ${ms(ref.p50_ms)} | ${ms(ref.p99_ms)} | ${ref.errors} | ${(mine.rps / ref.rps).toFixed(1)}× | `
            : "– | – | – | – | – | ") +
          `${hello ? pct(mine.rps / hello.rps) : "–"} | ${floor ? pct(mine.rps / floor.rps) : "–"} |`,
      );
    }
  }
  for (const name of ["hello-world", "d1-floor"]) {
    for (const c of [8, 64]) {
      const r = find(runs, name, "show-segment", c);
      if (r)
        lines.push(
          `| *${name}* | ${c} | ${n0(r.rps)} | ${ms(r.p50_ms)} | ${ms(r.p99_ms)} | ${r.errors} | | | | | | | |`,
        );
    }
  }
  if (scale.length > 0) {
    const segs = [...new Set(scale.filter((r) => r.segments).map((r) => r.segments))];
    const notes = [...new Set(scale.filter((r) => r.notifications).map((r) => r.notifications))];
    lines.push("", "Scale (Worker, 8 connections): req/s, p50 / p99 ms.", "");
    lines.push(
      `| workload | ${segs.map((n) => `${n0(n)} segments`).join(" | ")} |`,
      `|---|${segs.map(() => "--:").join("|")}|`,
    );
    for (const w of [...new Set(scale.filter((r) => r.segments).map((r) => r.workload))]) {
      const cells = segs.map((n) => {
        const r = scale.find((x) => x.segments === n && x.workload === w);
        return r ? `${n0(r.rps)}, ${ms(r.p50_ms)} / ${ms(r.p99_ms)}${r.errors ? ` (${r.errors} errors)` : ""}` : "–";
      });
      lines.push(`| ${w} | ${cells.join(" | ")} |`);
    }
    if (notes.length > 0) {
      lines.push(
        "",
        `| workload | ${notes.map((n) => `${n0(n)} notifications`).join(" | ")} |`,
        `|---|${notes.map(() => "--:").join("|")}|`,
      );
      for (const w of [...new Set(scale.filter((r) => r.notifications).map((r) => r.workload))]) {
        const cells = notes.map((n) => {
          const r = scale.find((x) => x.notifications === n && x.workload === w);
          return r ? `${n0(r.rps)}, ${ms(r.p50_ms)} / ${ms(r.p99_ms)}${r.errors ? ` (${r.errors} errors)` : ""}` : "–";
        });
        lines.push(`| ${w} | ${cells.join(" | ")} |`);
      }
    }
  }
  lines.push(
    "",
    `Bundle (\`wrangler deploy --dry-run\`): ${bundle.uploadKiB} KiB, **${bundle.gzipKiB} KiB gzip**. What it is made of:`,
    "",
  );
  lines.push("| part | bytes | gzip alone |", "|---|--:|--:|");
  for (const p of bundle.composition.slice(0, 8)) lines.push(`| ${p.name} | ${n0(p.bytes)} | ${n0(p.gzip)} |`);
  if (result.profiles?.length) {
    const cats = [...new Set(result.profiles.flatMap((p) => p.categories.map((c) => c.name)))];
    lines.push(
      "",
      "Where the Worker's isolate spends its time (CPU profile through workerd's inspector, 8 connections; share of samples):",
      "",
    );
    lines.push(
      `| part | ${result.profiles.map((p) => p.workload).join(" | ")} |`,
      `|---|${result.profiles.map(() => "--:").join("|")}|`,
    );
    for (const cat of cats) {
      const cells = result.profiles.map((p) => {
        const c = p.categories.find((x) => x.name === cat);
        return c ? pct(c.share) : "–";
      });
      lines.push(`| ${cat} | ${cells.join(" | ")} |`);
    }
  }
  lines.push("", "Targets:", "");
  for (const c of result.checks) lines.push(`- ${c.pass ? "met" : "**missed**"}: ${c.target} (${c.detail})`);
  return lines.join("\n");
}

/**
 * The recovery engine's table: per host failure, the time from the POST to
 * `finished`, per instance, workerd's CPU time, Nova's calls and the
 * Workflow's steps.
 */
export function engineMarkdown(result) {
  const { engine, machine } = result;
  const s = (x) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
  const lines = [
    `Run on ${result.date.slice(0, 10)}: ${machine.cpu}, ${machine.cores} cores, Node.js ${machine.node}. ` +
      `\`${result.command}\`` +
      (result.source
        ? `, the Worker of ${result.source.commit.slice(0, 12)} "${result.source.subject}"` +
          (result.source.changed ? " with uncommitted changes" : "")
        : "") +
      `. Load average (1 min) before the host failures ${engine.loadAverage.before.toFixed(2)}, ` +
      `after them ${engine.loadAverage.after.toFixed(2)}.`,
    "",
    "| instances | threads | polls | POST → finished, s | ms per instance | workerd CPU ms per instance | Nova calls | per instance | Workflow instances | most steps, subrequests of one | floor: s, CPU ms per instance | result | load average |",
    "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|",
  ];
  const cpu = (seconds, instances) => (seconds === null ? "–" : ms((seconds * 1000) / instances));
  for (const c of engine.cases) {
    lines.push(
      `| ${n0(c.instances)} | ${c.threads} | ${c.evacuatePolls ?? 0} | ${s(c.seconds)} | ${ms(c.msPerInstance)} | ` +
        `${c.workerdCpuMsPerInstance === null ? "–" : ms(c.workerdCpuMsPerInstance)} | ${n0(c.novaCalls)} | ` +
        `${c.novaCallsPerInstance.toFixed(2)} | ${c.perInstance ? n0(c.perInstance.instances) : "–"} | ` +
        `${c.perInstance ? `${n0(c.perInstance.steps)}, ${n0(c.perInstance.subrequests)}` : "–"} | ` +
        `${c.floor ? `${s(c.floor.seconds)}, ${cpu(c.floor.workerdCpuSeconds, c.instances)}` : "–"} | ` +
        `${c.ok ? `${c.status}, ${n0(c.movedInstances)} moved` : `**${c.problems.join("; ")}**`} | ` +
        `${c.loadAverage.before.toFixed(2)} → ${c.loadAverage.after.toFixed(2)} |`,
    );
  }
  const kinds = engine.cases.at(-1)?.novaCallKinds;
  if (kinds) {
    lines.push(
      "",
      `Nova calls of the last host failure: ${Object.entries(kinds)
        .map(([k, n]) => `${k} ${n0(n)}`)
        .join(", ")}.`,
    );
  }
  return lines.join("\n");
}

export const RESULTS_SECTION = "results";
export const ENGINE_SECTION = "engine";

/** Replaces a section (`<!-- NAME:start -->` ... `<!-- NAME:end -->`) of bench/README.md with `table`. */
export function writeReadme(file, table, section = RESULTS_SECTION) {
  const start = `<!-- ${section}:start -->`;
  const end = `<!-- ${section}:end -->`;
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : `# Benchmark\n\n${start}\n${end}\n`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${file} has no ${start} ... ${end} section`);
  fs.writeFileSync(file, `${text.slice(0, i + start.length)}\n${table}\n${text.slice(j)}`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const signed = (x) => `${x >= 0 ? "+" : "−"}${Math.abs(x * 100).toFixed(1)} %`;

/**
 * Per workload, the base's and the head's req/s in every round, their
 * medians (a median, so one disturbed round does not move it) and the
 * change. `spread` is the larger of the two sides' (max − min) / median:
 * how far rounds of the same bundle differ, the noise a change must exceed.
 */
export function compareSummary(runs, workloads) {
  return workloads.map((workload) => {
    const side = (name) => {
      const rs = runs.filter((r) => r.target === name && r.workload === workload).sort((a, b) => a.round - b.round);
      const rps = rs.map((r) => r.rps);
      const mid = median(rps);
      return {
        rps,
        medianRps: mid,
        medianP50ms: median(rs.map((r) => r.p50_ms)),
        medianP99ms: median(rs.map((r) => r.p99_ms)),
        spread: (Math.max(...rps) - Math.min(...rps)) / mid,
        errors: rs.reduce((a, r) => a + r.errors, 0),
      };
    };
    const base = side("base");
    const head = side("head");
    return {
      workload,
      base,
      head,
      change: head.medianRps / base.medianRps - 1,
      spread: Math.max(base.spread, head.spread),
    };
  });
}

export function compareMarkdown(result) {
  const { base, head, machine, summary } = result;
  const name = (s) =>
    `${s.ref} at ${s.commit.slice(0, 12)} "${s.subject}"${s.changed ? ", with uncommitted changes" : ""}`;
  const lines = [
    `Before/after on ${result.date.slice(0, 10)}: ${machine.cpu}, ${machine.cores} cores, Node.js ${machine.node}. ` +
      `\`${result.command}\`: ${result.rounds} round${result.rounds === 1 ? "" : "s"}, base and head alternating (ABBA), each on a fresh local D1; ` +
      `wrk, 1 thread, ${result.connections} connections, ${result.seconds} s per workload after a 1 s warm-up. ` +
      `Load average (1 min) before the run ${result.loadAverage.before.toFixed(2)}, after it ${result.loadAverage.after.toFixed(2)}.`,
    "",
    `- base: ${name(base)}`,
    `- head: ${name(head)}`,
    "",
    "| workload | base req/s per round | head req/s per round | median base | median head | change | spread | p50 ms base | p50 ms head |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const s of summary) {
    lines.push(
      `| ${s.workload} | ${s.base.rps.map(n0).join(", ")} | ${s.head.rps.map(n0).join(", ")} | ` +
        `${n0(s.base.medianRps)} | ${n0(s.head.medianRps)} | ${signed(s.change)} | ${pct(s.spread)} | ` +
        `${ms(s.base.medianP50ms)} | ${ms(s.head.medianP50ms)} |`,
    );
  }
  const kib = (x) => `${x.toFixed(2)} KiB`;
  const dz = head.bundle.gzipKiB - base.bundle.gzipKiB;
  lines.push(
    "",
    `Bundle gzip: base ${kib(base.bundle.gzipKiB)}, head ${kib(head.bundle.gzipKiB)} ` +
      `(${dz >= 0 ? "+" : "−"}${kib(Math.abs(dz))}); uncompressed ${kib(base.bundle.uploadKiB)} → ${kib(head.bundle.uploadKiB)}.`,
  );
  const errors = summary.filter((s) => s.base.errors + s.head.errors > 0);
  lines.push(
    errors.length === 0
      ? "Errors: none in any run."
      : `**Errors**: ${errors.map((s) => `${s.workload} base ${s.base.errors}, head ${s.head.errors}`).join("; ")}.`,
  );
  return lines.join("\n");
}
