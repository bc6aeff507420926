#!/usr/bin/env node
// npm run smoke -- --url URL [--token TOKEN | --os-cloud NAME] [--project-id ID] [--json]
// A non-destructive check of a deployment of the Masakari API v1 (this
// Worker or OpenStack Masakari itself). See smoke/README.md.

import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { cleanup, MAX_MICROVERSION, Mismatch, newContext, steps } from "./checks.mjs";
import { applyTls, authenticate, KeystoneError, loadCloud } from "./clouds.mjs";
import { Client, Interrupted } from "./http.mjs";
import { jsonReport, stepLine, summarize, summaryLines } from "./report.mjs";
import { apiTarget, UsageError } from "./target.mjs";

const HELP = `usage: npm run smoke -- --url URL [--token TOKEN | --os-cloud NAME] [--project-id ID] [--json]

A non-destructive smoke test of a Masakari (instance-ha) API v1 deployment:
this Worker, or OpenStack Masakari itself. In order: the versions documents
(GET / and GET /v1; it then speaks min(advertised, ${MAX_MICROVERSION})), that a request
without a token is refused (401) when a token is given, the segment, host and
notification lists, then one disabled segment named smoke-<random> created,
shown, updated, deleted and shown again (404), and the x-d1-bookmark
read-your-write round trip where the server offers it. It never creates
hosts or notifications, and it deletes its segment whatever happens, on
Ctrl-C and SIGTERM too (then exits 130).

  --url URL         the service root (https://ha.example.com) or its /v1
                    endpoint as a catalog lists it (.../v1 or .../v1/<project_id>)
  --token TOKEN     sent as X-Auth-Token (a Keystone token)
  --os-cloud NAME   a cloud of clouds.yaml (OS_CLIENT_CONFIG_FILE, ./clouds.yaml,
                    ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml;
                    secure.yaml merged): a Keystone v3 token from its password,
                    application credential or token, and, without --url, the
                    instance-ha endpoint of its catalog
  --project-id ID   use the /v1/<project_id>/ routes
  --json            print one JSON document (steps with name, ok, status, ms,
                    detail; summary) instead of lines
  --timeout SECONDS per request (default 30)
  --pause MS        wait between steps (a rate-limited gateway)
  -h, --help        this text

With neither --token nor --os-cloud no credential is sent (noauth2).
Exit status: 0 when every step held (a skipped step holds, with a note),
1 when a step failed, 2 on a usage error, 130 when interrupted.`;

class Run {
  constructor(json) {
    this.json = json;
    this.results = [];
    this.interruptedBy = null;
    this.interrupt = new AbortController();
    this.ctx = null;
    this.how = null;
  }

  record(result) {
    this.results.push(result);
    if (!this.json) console.log(stepLine(result));
  }

  print(line) {
    if (!this.json) console.log(line);
  }

  /** Ctrl-C or SIGTERM: stop the steps, clean up, exit 130; a second one leaves at once. */
  onSignal(signal) {
    if (this.interruptedBy) {
      const left = this.ctx?.segment && !this.ctx.segment.deleted ? this.ctx.segment : null;
      process.stderr.write(
        `masakari smoke: ${signal} during cleanup; leaving now${left ? `: segment ${left.name} (${left.uuid}) may remain` : ""}\n`,
      );
      process.exit(130);
    }
    this.interruptedBy = signal;
    this.interrupt.abort(new Interrupted(signal));
  }
}

function parseOptions(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      url: { type: "string" },
      token: { type: "string" },
      "os-cloud": { type: "string" },
      "project-id": { type: "string" },
      json: { type: "boolean", default: false },
      timeout: { type: "string", default: "30" },
      pause: { type: "string", default: "0" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  if (values.help) return values;
  if (values.token !== undefined && values["os-cloud"] !== undefined) {
    throw new UsageError("give --token or --os-cloud, not both");
  }
  if (values.token === "") throw new UsageError("--token is empty");
  if (!values.url && !values["os-cloud"]) throw new UsageError("--url is required (or --os-cloud with a catalog)");
  const timeout = Number(values.timeout);
  const pause = Number(values.pause);
  if (!(timeout > 0)) throw new UsageError(`--timeout ${values.timeout}: expected seconds > 0`);
  if (!(pause >= 0)) throw new UsageError(`--pause ${values.pause}: expected milliseconds >= 0`);
  return { ...values, timeoutMs: timeout * 1000, pauseMs: pause };
}

async function main(argv) {
  let options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    return usage(error);
  }
  if (options.help) {
    console.log(HELP);
    return 0;
  }
  const run = new Run(options.json);
  // a reader that goes away (| head) must not keep the run from cleaning up
  process.stdout.on("error", (error) => {
    if (error.code !== "EPIPE" && error.code !== "ERR_STREAM_DESTROYED") throw error;
  });
  process.on("SIGINT", () => run.onSignal("SIGINT"));
  process.on("SIGTERM", () => run.onSignal("SIGTERM"));
  const started = performance.now();

  let token = options.token ?? null;
  let url = options.url ?? null;
  let how = token ? "token given" : "no token";
  let authenticated = true;
  if (options["os-cloud"]) {
    let cloud;
    try {
      cloud = loadCloud(options["os-cloud"]);
      applyTls(cloud, (message) => process.stderr.write(`masakari smoke: ${message}\n`));
    } catch (error) {
      return usage(error);
    }
    const t0 = performance.now();
    const result = { name: "keystone", ok: false, status: "fail", ms: 0, detail: "" };
    try {
      const auth = await authenticate(cloud, { timeoutMs: options.timeoutMs, signal: run.interrupt.signal });
      token = auth.token;
      how = `${auth.how} from ${cloud.source}`;
      const found = auth.endpoint ? `; instance-ha endpoint ${auth.endpoint}` : "";
      url ??= auth.endpoint;
      if (!url) {
        result.detail = `expected an instance-ha endpoint in cloud ${cloud.name}'s catalog (interface ${cloud.interface ?? "public"}); received none: give --url`;
      } else {
        Object.assign(result, { ok: true, status: "ok", detail: `${auth.how}${found}` });
      }
    } catch (error) {
      if (error instanceof Interrupted) return finish(run, options, null, started);
      if (error instanceof UsageError) return usage(error);
      if (!(error instanceof KeystoneError)) throw error;
      result.detail = error.message;
    }
    result.ms = Math.round(performance.now() - t0);
    run.record(result);
    authenticated = result.ok;
  }

  let target = null;
  if (url) {
    try {
      target = apiTarget(url, options["project-id"] ?? null);
    } catch (error) {
      return usage(error);
    }
  }
  const client = new Client({ token, timeoutMs: options.timeoutMs, signal: run.interrupt.signal });
  run.how = how;
  if (target) {
    run.ctx = newContext(client, target, { tokenGiven: Boolean(token) });
    run.print(`masakari smoke: ${target.api} (versions at ${target.root}/; ${how})`);
  }

  for (const step of steps) {
    if (run.interruptedBy) {
      run.record(notRun(step, `interrupted by ${run.interruptedBy}`));
      continue;
    }
    const blocked = !authenticated || !target ? "needs keystone, which failed" : blockedBy(run, step);
    if (blocked) {
      run.record(notRun(step, blocked));
      continue;
    }
    const t0 = performance.now();
    let result;
    try {
      const outcome = await step.run(run.ctx);
      result = outcome?.skipped
        ? { name: step.name, ok: true, status: "skip", detail: outcome.note }
        : { name: step.name, ok: true, status: "ok", detail: outcome };
    } catch (error) {
      if (error instanceof Interrupted) result = notRun(step, `interrupted by ${error.signal}`);
      else if (error instanceof Mismatch) {
        result = { name: step.name, ok: false, status: "fail", detail: error.message };
        result.expected = error.expected;
        result.received = error.received;
      } else {
        result = { name: step.name, ok: false, status: "fail", detail: `unexpected error: ${error?.stack ?? error}` };
      }
    }
    result.ms = Math.round(performance.now() - t0);
    run.record(result);
    if (options.pauseMs && !run.interruptedBy) {
      await sleep(options.pauseMs, undefined, { signal: run.interrupt.signal }).catch(() => {});
    }
  }
  return finish(run, options, target, started);
}

/** Why a step cannot run: the service did not answer, or a step it builds on did not hold. */
function blockedBy(run, step) {
  if (run.ctx.unreachable) return `not run: ${run.ctx.unreachable}`;
  for (const need of step.needs ?? []) {
    const before = run.results.find((r) => r.name === need);
    if (before?.status !== "ok") {
      return `not run: needs ${need}, which ${before?.status === "fail" ? "failed" : "did not run"}`;
    }
  }
  return null;
}

function notRun(step, why) {
  return {
    name: step.name,
    ok: false,
    status: "not-run",
    ms: 0,
    detail: why.startsWith("not run") ? why : `not run: ${why}`,
  };
}

async function finish(run, options, target, started) {
  if (run.ctx) {
    const t0 = performance.now();
    let outcome;
    try {
      outcome = await cleanup(run.ctx, new AbortController().signal);
    } catch (error) {
      outcome = { ok: false, detail: `unexpected error: ${error?.stack ?? error}` };
    }
    if (outcome) {
      const ms = Math.round(performance.now() - t0);
      run.record({ name: "cleanup", ok: outcome.ok, status: outcome.ok ? "ok" : "fail", ms, detail: outcome.detail });
    }
  }
  const summary = summarize(run.results, {
    ms: Math.round(performance.now() - started),
    interrupted: run.interruptedBy,
  });
  if (options.json) {
    const about = target && {
      url: options.url ?? null,
      root: target.root,
      api: target.api,
      project_id: target.projectId,
      auth: run.how,
    };
    console.log(
      jsonReport({ target: about, microversion: run.ctx?.client.microversion ?? null, steps: run.results, summary }),
    );
    if (!summary.ok) process.stderr.write(`${summaryLines(summary, run.results).join("\n")}\n`);
  } else {
    for (const line of summaryLines(summary, run.results)) console.log(line);
  }
  if (run.interruptedBy) return 130;
  return summary.ok ? 0 : 1;
}

function usage(error) {
  if (!(error instanceof UsageError) && !error?.code?.startsWith?.("ERR_PARSE_ARGS")) throw error;
  process.stderr.write(`masakari smoke: ${error.message}\n(npm run smoke -- --help)\n`);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
