#!/usr/bin/env node
// GET /docs in a real browser (npm run test:docs, one of npm run test:e2e):
//   1. builds the page (scripts/build-docs.mjs), installs Debian's chromium
//      when it is missing (apt-get, as root), starts this Worker under
//      `wrangler dev` on a fresh local D1 (noauth2);
//   2. the API's own paths still reach the Worker (no asset shadows them,
//      not even a missing one), /docs is the page with its headers;
//   3. headless Chromium (playwright-core) opens /docs: the title, no
//      console error, no request to any other origin; every operation of
//      /openapi.json is on the page (each tag opened, every .opblock's method
//      and path against the document's); POST /v1/segments opened shows its
//      request body example and schema; Authorize with an X-Auth-Token, then
//      GET /v1/segments tried out with OpenStack-API-Version sends both
//      headers and shows the Worker's answer.
// A full-page screenshot goes to .artifacts/docs.png on every run, passed or
// not, the top of the page as it opens to .artifacts/docs-top.png (the
// README's picture, docs/screenshot.png, is one) and POST /v1/segments
// opened to .artifacts/docs-post-segments.png. Stops everything it
// started, whatever happens; exits 1 when any check fails.
//
// environment: DOCS_WORKER_PORT (18880; its inspector +1), CHROMIUM
// (/usr/bin/chromium). Logs and the D1: .conformance/docs/ (git-ignored).
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const ROOT = path.resolve(import.meta.dirname, "../..");
const WORK = path.join(ROOT, ".conformance", "docs");
const ARTIFACTS = path.join(ROOT, ".artifacts");
const PORT = Number(process.env.DOCS_WORKER_PORT ?? 18880);
const ORIGIN = `http://127.0.0.1:${PORT}`;
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const TOKEN = "docs-e2e-token";
const MICROVERSION = "instance-ha 1.3";
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

const log = (message) => console.error(`test:docs: ${message}`);
const results = [];
function check(name, ok, detail = "") {
  results.push({ name, ok });
  console.log(`${ok ? "PASS" : "FAIL"}  ${name}${detail ? `: ${String(detail).replace(/\s+/g, " ")}` : ""}`);
  return ok;
}

// --- setup -----------------------------------------------------------------------------
function installChromium() {
  if (fs.existsSync(CHROMIUM)) return;
  log(`${CHROMIUM} is missing: installing Debian's chromium (scripts/apt-install.sh)`);
  execFileSync(path.join(ROOT, "scripts", "apt-install.sh"), ["chromium"], {
    stdio: ["ignore", process.stderr, process.stderr],
  });
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no ${CHROMIUM} after installing chromium`);
}

// The Worker under wrangler dev, started and stopped by scripts/worker-dev.sh
// (its own process group; on a failed start, the end of its log on stderr).
const WORKER_DEV = path.join(ROOT, "scripts", "worker-dev.sh");
const D1 = path.join(WORK, "d1");
let workerStarted = false;
function startWorker() {
  workerStarted = true;
  const args = [D1, String(PORT), String(PORT + 1), path.join(WORK, "wrangler.log"), "--var", "AUTH_STRATEGY:noauth2"];
  if (spawnSync(WORKER_DEV, ["start", ...args], { stdio: ["ignore", process.stderr, process.stderr] }).status !== 0)
    throw new Error(`wrangler dev did not answer on ${ORIGIN}; see .conformance/docs/wrangler.log`);
}

function stopWorker() {
  if (workerStarted) spawnSync(WORKER_DEV, ["stop", D1], { stdio: ["ignore", process.stderr, process.stderr] });
}

// --- 2. the routing of assets and Worker ---------------------------------------------------
async function checkRouting() {
  const get = (p) => fetch(`${ORIGIN}${p}`, { redirect: "manual" });
  let res = await get("/");
  check("GET / is the Worker's versions document", res.status === 200 && "versions" in (await res.json()));
  res = await get("/healthcheck");
  check("GET /healthcheck is the Worker's OK", res.status === 200 && (await res.text()) === "OK");
  res = await get("/openapi.json");
  const document = res.status === 200 ? await res.json() : undefined;
  check("GET /openapi.json is the Worker's document", document?.openapi?.startsWith("3.1"));
  res = await get("/v1/segments");
  check(
    "GET /v1/segments is the Worker's (empty) list",
    res.status === 200 && Array.isArray((await res.json()).segments),
  );
  res = await get("/docs/no-such-file.js");
  check(
    "a missing asset under /docs falls through to the Worker (300 choices)",
    res.status === 300 && "choices" in (await res.json()),
  );
  res = await get("/docs");
  const csp = res.headers.get("content-security-policy") ?? "";
  check(
    "GET /docs is the page, text/html, with its Content-Security-Policy (public/_headers)",
    res.status === 200 &&
      res.headers.get("content-type")?.startsWith("text/html") &&
      csp.includes("default-src 'self'"),
    `${res.status} ${res.headers.get("content-type")}`,
  );
  return document;
}

// --- 3. the page in Chromium ---------------------------------------------------------------
function documentOperations(document) {
  const ops = [];
  for (const [p, item] of Object.entries(document.paths)) {
    for (const method of Object.keys(item)) if (METHODS.includes(method)) ops.push(`${method.toUpperCase()} ${p}`);
  }
  return ops.sort();
}

async function checkPage(page, document) {
  const requests = [];
  const consoleErrors = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  page.on("pageerror", (e) => consoleErrors.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => consoleErrors.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));

  const response = await page.goto(`${ORIGIN}/docs`, { waitUntil: "load" });
  check("the page loads (200)", response?.status() === 200);
  await page.waitForSelector(".swagger-ui .information-container .title", { timeout: 30_000 });
  await page.waitForSelector(".swagger-ui .opblock-tag-section", { timeout: 30_000 });
  await page.screenshot({ path: path.join(ARTIFACTS, "docs-top.png") });
  check("its title", (await page.title()) === "masakari-edge API reference", await page.title());
  const heading = (await page.locator(".information-container .title").first().innerText()).trim();
  check("the document's title is rendered", heading.startsWith(document.info.title), heading);
  check(
    "the Authorize button (the document's apiKey scheme, X-Auth-Token)",
    (await page.locator(".scheme-container .btn.authorize").count()) === 1,
  );

  // Every tag opened (the 405 stubs of "not-implemented" start closed),
  // then every operation on the page against the document's.
  const tags = page.locator(".opblock-tag-section");
  const closed = await tags.evaluateAll((sections) =>
    sections
      .filter((t) => !t.classList.contains("is-open"))
      .map((t) => t.querySelector(".opblock-tag")?.getAttribute("data-tag")),
  );
  check(
    `the tags open as the page opens, the 405 stubs' closed (${await tags.count()} tags)`,
    closed.join() === "not-implemented",
    `closed: ${closed.join(", ")}`,
  );
  for (let i = 0; i < (await tags.count()); i++) {
    const section = tags.nth(i);
    if (!((await section.getAttribute("class")) ?? "").includes("is-open"))
      await section.locator(".opblock-tag").click();
  }
  await page
    .waitForFunction(
      (n) => window.document.querySelectorAll(".swagger-ui .opblock").length >= n,
      documentOperations(document).length,
      { timeout: 15_000 },
    )
    .catch(() => {});
  const shown = (
    await page.$$eval(".swagger-ui .opblock", (blocks) =>
      blocks.map(
        (b) =>
          `${b.querySelector(".opblock-summary-method")?.textContent?.trim()} ${b.querySelector(".opblock-summary-path")?.getAttribute("data-path")}`,
      ),
    )
  ).sort();
  const expected = documentOperations(document);
  const missing = expected.filter((op) => !shown.includes(op));
  const extra = shown.filter((op) => !expected.includes(op));
  check(
    `every operation of /openapi.json is on the page (${expected.length} in the document, ${shown.length} shown)`,
    missing.length === 0 && extra.length === 0 && shown.length === expected.length,
    [
      missing.length ? `missing ${missing.join(", ")}` : "",
      extra.length ? `not in the document ${extra.join(", ")}` : "",
    ]
      .filter(Boolean)
      .join("; "),
  );

  // POST /v1/segments: its request body, example and schema.
  const post = page
    .locator(".opblock.opblock-post")
    .filter({ has: page.locator('.opblock-summary-path[data-path="/v1/segments"]') });
  await post.locator(".opblock-summary-control").click();
  const body = post.locator(".opblock-section-request-body");
  await body.waitFor({ timeout: 10_000 });
  const exampleText = await body.locator(".highlight-code, pre").first().innerText();
  let example;
  try {
    example = JSON.parse(exampleText);
  } catch {}
  check(
    "POST /v1/segments shows a request body example with segment.name, recovery_method and service_type",
    example?.segment && ["name", "recovery_method", "service_type"].every((k) => k in example.segment),
    exampleText.replace(/\s+/g, " ").slice(0, 160),
  );
  await body.locator('.tablinks[data-name="model"], button:has-text("Schema")').first().click();
  const schemaText = await body.locator(".model-box").first().innerText();
  check(
    "and its request body schema",
    /SegmentCreate/.test(schemaText) || /segment/.test(schemaText),
    schemaText.replace(/\s+/g, " ").slice(0, 120),
  );
  await post.screenshot({ path: path.join(ARTIFACTS, "docs-post-segments.png") });

  // Try it out: Authorize with a token, then GET /v1/segments at 1.3.
  await page.locator(".scheme-container .btn.authorize").click();
  const dialog = page.locator(".dialog-ux .modal-ux");
  await dialog.locator("input").first().fill(TOKEN);
  await dialog.locator("button.authorize").click();
  await dialog.locator("button.btn-done, button.close-modal").first().click();
  const list = page
    .locator(".opblock.opblock-get")
    .filter({ has: page.locator('.opblock-summary-path[data-path="/v1/segments"]') });
  await list.locator(".opblock-summary-control").click();
  await list.locator(".try-out__btn").click();
  await list.locator('tr[data-param-name="OpenStack-API-Version"] input').fill(MICROVERSION);
  const sent = page.waitForRequest((r) => new URL(r.url()).pathname === "/v1/segments", { timeout: 15_000 });
  await list.locator(".btn.execute").click();
  const request = await sent;
  const headers = await request.allHeaders();
  check(
    "Try it out sends X-Auth-Token (Authorize) and OpenStack-API-Version to the same origin",
    headers["x-auth-token"] === TOKEN &&
      headers["openstack-api-version"] === MICROVERSION &&
      request.url().startsWith(`${ORIGIN}/`),
    `${request.method()} ${request.url()} x-auth-token=${headers["x-auth-token"]} openstack-api-version=${headers["openstack-api-version"]}`,
  );
  const live = list.locator(".live-responses-table tbody tr.response").first();
  await live.waitFor({ timeout: 15_000 });
  const status = (await live.locator(".response-col_status").innerText()).trim();
  const answer = await live.locator(".response-col_description").innerText();
  check(
    "and shows the Worker's answer: 200, the segments list, masakari 1.3",
    status === "200" && answer.includes('"segments"') && /openstack-api-version: masakari 1\.3/i.test(answer),
    `${status} ${answer.replace(/\s+/g, " ").slice(0, 140)}`,
  );

  const others = [...new Set(requests.filter((u) => !u.startsWith(`${ORIGIN}/`) && !/^(data|blob):/.test(u)))];
  check(`no request to another origin (${requests.length} requests)`, others.length === 0, others.join(", "));
  check("no console error", consoleErrors.length === 0, consoleErrors.join(" | "));
}

// --- run -------------------------------------------------------------------------------
let context;
let profile;
async function main() {
  fs.mkdirSync(WORK, { recursive: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  execFileSync(process.execPath, [path.join(ROOT, "scripts", "build-docs.mjs")], {
    stdio: ["ignore", process.stderr, "inherit"],
  });
  installChromium();
  log(`wrangler dev on ${ORIGIN}`);
  startWorker();
  const document = await checkRouting();
  if (!document) throw new Error("no document at /openapi.json");

  profile = fs.mkdtempSync(path.join(os.tmpdir(), "masakari-docs-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  try {
    await checkPage(page, document);
  } finally {
    await page
      .screenshot({ path: path.join(ARTIFACTS, "docs.png"), fullPage: true })
      .catch((e) => log(`no screenshot: ${e.message}`));
  }
}

async function cleanup() {
  await context?.close().catch(() => {});
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
  stopWorker();
}
process.once("SIGINT", () => cleanup().finally(() => process.exit(130)));
process.once("SIGTERM", () => cleanup().finally(() => process.exit(143)));

const started = Date.now();
try {
  await main();
} catch (error) {
  check("the run", false, error.stack ?? String(error));
} finally {
  await cleanup();
}
const failed = results.filter((r) => !r.ok).length;
console.log(`test:docs: screenshot .artifacts/docs.png; ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
