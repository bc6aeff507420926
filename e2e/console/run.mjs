#!/usr/bin/env node
// The web console (GET /console) in a real browser (npm run test:console,
// one of npm run test:e2e), against a demo cloud on loopback:
//   1. builds the pages (scripts/build-docs.mjs, scripts/build-console.mjs),
//      installs Debian's chromium when missing, starts the Nova stand-in
//      (test/fakes/nova-server.mjs) with two racks of hosts and servers on
//      them, and this Worker under `wrangler dev` in demo mode with short
//      engine waits; in the second rack, one host's recovery fails (a Nova
//      fault), so a second failure there is held by the storm guard;
//   2. noauth2: the "development mode" banner; with the keyboard alone, a
//      segment and a host created, a host taken down and its notification
//      followed to `finished` on its page without a reload (the timeline and
//      the VM moves filling in); a failed recovery in error with its actions,
//      a second failure held by the storm guard, a segment delete refused
//      with the 409 explained, the hold released and followed to `finished`,
//      the error ignored with a reason; the VM moves view; the filters;
//   3. keystone (a Keystone stand-in, e2e/console/keystone.mjs): sign-in
//      with the keyboard, the cookie's attributes and that the page cannot
//      read it, a segment created (CSRF-protected), sign-out revoking the
//      token; a reader's session: what policy refuses is not offered, and a
//      403 is shown as such; a wrong password explained;
//   4. axe-core on every page: no serious or critical violation; no
//      console error; no request to another origin.
// Screenshots go to .artifacts/console-*.png on every run, passed or not.
// Stops everything it started, whatever happens; exits 1 when a check fails.
//
// environment: CONSOLE_PORT (18940; inspector +1, Nova +2, Keystone +3),
// CHROMIUM (/usr/bin/chromium). Logs and state: .conformance/console/ (git-ignored).
import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { AxeBuilder } from "@axe-core/playwright";
import { chromium } from "playwright-core";

const ROOT = path.resolve(import.meta.dirname, "../..");
const WORK = path.join(ROOT, ".conformance", "console");
const ARTIFACTS = path.join(ROOT, ".artifacts");
const PORT = Number(process.env.CONSOLE_PORT ?? 18940);
const NOVA_PORT = PORT + 2;
const KEYSTONE_PORT = PORT + 3;
const ORIGIN = `http://127.0.0.1:${PORT}`;
const NOVA = `http://127.0.0.1:${NOVA_PORT}`;
const KEYSTONE = `http://127.0.0.1:${KEYSTONE_PORT}`;
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const V13 = { "OpenStack-API-Version": "instance-ha 1.3", "Content-Type": "application/json" };

const log = (message) => console.error(`test:console: ${message}`);
const results = [];
function check(name, ok, detail = "") {
  results.push({ name, ok: Boolean(ok) });
  console.log(`${ok ? "PASS" : "FAIL"}  ${name}${detail ? `: ${String(detail).replace(/\s+/g, " ")}` : ""}`);
  return ok;
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// --- setup -----------------------------------------------------------------------------
function installChromium() {
  if (fs.existsSync(CHROMIUM)) return;
  log(`${CHROMIUM} is missing: installing Debian's chromium (scripts/apt-install.sh)`);
  execFileSync(path.join(ROOT, "scripts", "apt-install.sh"), ["chromium"], {
    stdio: ["ignore", process.stderr, process.stderr],
  });
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no ${CHROMIUM} after installing chromium`);
}

const listening = (port) =>
  new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

const children = [];
/** A Node.js server of ours, in its own process group, up once its port answers. */
async function startServer(name, args, port) {
  if (await listening(port)) throw new Error(`port ${port} is already in use (set CONSOLE_PORT)`);
  const out = fs.openSync(path.join(WORK, `${name}.log`), "w");
  const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: ["ignore", out, out] });
  children.push(child);
  for (let i = 0; i < 100; i++) {
    if (await listening(port)) return;
    await sleep(100);
  }
  throw new Error(`${name} did not listen on ${port}; see .conformance/console/${name}.log`);
}

const WORKER_DEV = path.join(ROOT, "scripts", "worker-dev.sh");
const D1 = path.join(WORK, "d1");
let workerStarted = false;
function startWorker(vars) {
  stopWorker();
  workerStarted = true;
  const args = [D1, String(PORT), String(PORT + 1), path.join(WORK, "wrangler.log")];
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  if (spawnSync(WORKER_DEV, ["start", ...args], { stdio: ["ignore", process.stderr, process.stderr] }).status !== 0)
    throw new Error(`wrangler dev did not answer on ${ORIGIN}; see .conformance/console/wrangler.log`);
}
function stopWorker() {
  if (workerStarted) spawnSync(WORKER_DEV, ["stop", D1], { stdio: ["ignore", process.stderr, process.stderr] });
  workerStarted = false;
}

async function nova(pathname, body) {
  const res = await fetch(`${NOVA}/_control/${pathname}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`Nova stand-in ${pathname}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** The API straight (noauth2), for what the suite sets up without the page. */
async function api(method, pathname, body) {
  const res = await fetch(`${ORIGIN}${pathname}`, {
    method,
    headers: V13,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${pathname}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

// --- the browser -----------------------------------------------------------------------------
const consoleErrors = [];
const requests = [];
let current;
function watch(page) {
  current = page;
  page.on("request", (r) => requests.push(r.url()));
  page.on("console", (m) => {
    // A refused request the page shows as a fault is not an error of the page.
    if (m.type() === "error" && !/the server responded with a status of (40[139]|409)/.test(m.text()))
      consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(`page error: ${e.message}`));
}

const axed = [];
async function axe(page, name) {
  const { violations } = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  axed.push({ name, violations: violations.length, bad: bad.length });
  check(
    `axe: ${name}: no serious or critical violation (${violations.length} in all)`,
    bad.length === 0,
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`).join("; "),
  );
}

const shot = (page, name, options = {}) => page.screenshot({ path: path.join(ARTIFACTS, `console-${name}.png`), ...options });

/**
 * Tab (at most `max` times) until `locator` has the focus: the keyboard's
 * way to it. Throws when it is never reached.
 */
async function tabTo(page, locator, max = 80) {
  const target = await locator.elementHandle({ timeout: 10_000 });
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((el) => document.activeElement === el, target)) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${locator}`);
}

const heading = (page) => page.locator("main h1");

async function waitForText(locator, pattern, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  let text = "";
  while (Date.now() < deadline) {
    text = (await locator.textContent().catch(() => "")) ?? "";
    if (pattern.test(text)) return text;
    await sleep(200);
  }
  throw new Error(`${pattern} not seen in time; last: ${text.slice(0, 200)}`);
}

// --- 2. noauth2 ------------------------------------------------------------------------------
async function noauthFlows(browser) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  watch(page);

  let res = await fetch(`${ORIGIN}/console`);
  const csp = res.headers.get("content-security-policy") ?? "";
  check(
    "GET /console is the page, text/html, with its Content-Security-Policy",
    res.status === 200 && res.headers.get("content-type")?.startsWith("text/html") && csp.includes("default-src 'self'"),
    `${res.status} ${csp}`,
  );
  res = await fetch(`${ORIGIN}/console/api/session`);
  check("GET /console/api/session is the Worker's (noauth2)", (await res.json()).auth_strategy === "noauth2");

  await page.goto(`${ORIGIN}/console`);
  await heading(page).filter({ hasText: "Segments" }).waitFor();
  check(
    "the development mode banner",
    await page.getByRole("note").filter({ hasText: "Development mode" }).isVisible(),
  );
  check("the demo mode banner", await page.getByRole("note").filter({ hasText: "Demo mode" }).isVisible());
  // A marker that a reload would lose: every update below must keep it.
  await page.evaluate(() => {
    window.__notReloaded = true;
  });
  await axe(page, "segments (empty)");

  // A segment with the keyboard alone.
  await tabTo(page, page.getByRole("button", { name: "New segment" }));
  await page.keyboard.press("Enter");
  await page.getByRole("dialog", { name: "New segment" }).waitFor();
  await page.waitForFunction(() => document.activeElement?.id === "f-name");
  await axe(page, "new segment dialog");
  await page.keyboard.type("rack-1");
  await tabTo(page, page.getByLabel("Description"));
  await page.keyboard.type("four hosts, recovered at once");
  await tabTo(page, page.getByRole("button", { name: "Create segment" }));
  await page.keyboard.press("Enter");
  await page.getByRole("link", { name: "rack-1" }).waitFor();
  check("keyboard: a segment created from the list (New segment, type, Enter)", true);

  await tabTo(page, page.getByRole("link", { name: "rack-1" }));
  await page.keyboard.press("Enter");
  await heading(page).filter({ hasText: "Segment rack-1" }).waitFor();
  await tabTo(page, page.getByRole("button", { name: "New host" }));
  await page.keyboard.press("Enter");
  await page.getByRole("dialog", { name: /New host/ }).waitFor();
  await page.waitForFunction(() => document.activeElement?.id === "f-name");
  await page.keyboard.type("r1-a");
  await page.keyboard.press("Enter");
  await page.getByRole("link", { name: "r1-a" }).waitFor();
  check("keyboard: a host added to it (New host, type, Enter)", true);

  // The rest of the racks through the API.
  const rack1 = (await api("GET", "/v1/segments")).segments.find((s) => s.name === "rack-1");
  for (const name of ["r1-b", "r1-c", "r1-d"])
    await api("POST", `/v1/segments/${rack1.uuid}/hosts`, { host: { name, type: "COMPUTE", control_attributes: "SSH" } });
  const rack2 = (
    await api("POST", "/v1/segments", { segment: { name: "rack-2", recovery_method: "auto", service_type: "COMPUTE" } })
  ).segment;
  for (const name of ["r2-a", "r2-b", "r2-c"])
    await api("POST", `/v1/segments/${rack2.uuid}/hosts`, { host: { name, type: "COMPUTE", control_attributes: "SSH" } });
  await page.reload();
  await page.evaluate(() => {
    window.__notReloaded = true;
  });
  await page.getByRole("link", { name: "r1-d" }).waitFor();

  // The on-maintenance switch, with the keyboard (Space), on and off again.
  const maintenance = page.getByRole("switch", { name: "On maintenance r1-d" });
  await tabTo(page, maintenance);
  await page.keyboard.press("Space");
  await page.waitForFunction(() => document.querySelector('[role="status"]')?.textContent?.includes("r1-d: on maintenance on"));
  const after = await api("GET", `/v1/segments/${rack1.uuid}/hosts`);
  check(
    "keyboard: the on-maintenance switch puts a host on maintenance (Space)",
    after.hosts.find((h) => h.name === "r1-d")?.on_maintenance === true,
  );
  await tabTo(page, page.getByRole("switch", { name: "On maintenance r1-d" }));
  await page.keyboard.press("Space");
  await page.waitForFunction(() => document.querySelector('[role="status"]')?.textContent?.includes("r1-d: on maintenance off"));
  await axe(page, "segment with hosts");
  await shot(page, "segment", { fullPage: true });

  // A host's recovery plan (D23).
  await page.getByRole("link", { name: "r1-a" }).click();
  await heading(page).filter({ hasText: "Host r1-a" }).waitFor();
  const verdict = await waitForText(page.locator(".verdict"), /fit/);
  check("the host's recovery plan: what would happen, and whether it fits", /Everything would fit: 2 instance/.test(verdict), verdict);
  await axe(page, "host with its recovery plan");
  await shot(page, "host-plan", { fullPage: true });

  // Take r1-a down, with the keyboard, and follow its recovery without reloading.
  await page.getByRole("link", { name: "rack-1" }).click();
  await heading(page).filter({ hasText: "Segment rack-1" }).waitFor();
  await tabTo(page, page.getByRole("button", { name: "Take this host down: r1-a" }));
  await page.keyboard.press("Enter");
  await page.getByRole("dialog", { name: "Take r1-a down?" }).waitFor();
  await tabTo(page, page.getByRole("button", { name: "Take it down" }));
  await page.keyboard.press("Enter");
  await heading(page).filter({ hasText: "Notification" }).waitFor();
  const opened = Date.now();
  const statusBadge = page.locator(".live .badge");
  const seen = new Set();
  const timelineSizes = new Set();
  let finishedAt;
  while (Date.now() - opened < 90_000) {
    const status = (await statusBadge.textContent().catch(() => "")) ?? "";
    seen.add(status);
    timelineSizes.add(await page.locator(".timeline .messages li").count());
    if (status === "finished") {
      finishedAt = Date.now();
      break;
    }
    await sleep(250);
  }
  if (finishedAt === undefined) {
    // What Nova was asked, for whoever reads the failure.
    const calls = await fetch(`${NOVA}/_control/calls`).then((r) => r.text());
    fs.writeFileSync(path.join(WORK, "nova-calls.json"), calls);
  }
  check(
    "the notification reaches finished on its page, live",
    finishedAt !== undefined,
    `statuses seen: ${[...seen].join(" → ")}; in ${((finishedAt ?? Date.now()) - opened) / 1000} s`,
  );
  check(
    "its timeline filled in as progress messages came (several sizes seen)",
    timelineSizes.size >= 3,
    [...timelineSizes].join(", "),
  );
  check("without a reload", await page.evaluate(() => window.__notReloaded === true));
  await page.getByRole("cell", { name: "succeeded" }).first().waitFor({ timeout: 10_000 }).catch(() => {});
  const moves = await page.locator("#moves-heading + table tbody tr").allTextContents();
  check(
    "its VM moves: each instance, from r1-a to another host, succeeded",
    moves.length === 2 && moves.every((m) => /r1-a/.test(m) && /r1-[bcd]/.test(m) && /succeeded/.test(m)),
    moves.join(" | "),
  );
  await axe(page, "notification (finished)");
  await shot(page, "notification", { fullPage: true });

  // The VM moves view.
  await page.getByRole("link", { name: "All VM moves of this notification, with filters" }).click();
  await heading(page).filter({ hasText: "VM moves" }).waitFor();
  await page.locator("#moves-of ~ table tbody tr, section[aria-labelledby=moves-of] table tbody tr").first().waitFor();
  const rows = await page.locator("section[aria-labelledby=moves-of] table tbody tr").count();
  check("the VM moves view lists the notification's moves", rows === 2, `${rows} rows`);
  await axe(page, "VM moves");
  await shot(page, "vmoves", { fullPage: true });

  // rack-2: r2-a's recovery fails (Nova cannot evacuate db-1), so it stays in error...
  const takeDown = async (host) => {
    await page.goto(`${ORIGIN}/console#/segments/${rack2.uuid}`);
    await page.getByRole("button", { name: `Take this host down: ${host}` }).click();
    await page.getByRole("button", { name: "Take it down" }).click();
    await heading(page).filter({ hasText: "Notification" }).waitFor();
    return page.url();
  };
  const errorUrl = await takeDown("r2-a");
  await waitForText(statusBadge, /^error$/, 60_000)
    .then(() => check("a recovery that fails is shown in error", true))
    .catch((e) => check("a recovery that fails is shown in error", false, e.message));
  const offered = await page.locator(".actions-panel button").allTextContents();
  check("in error: Retry, Abort and Ignore are offered (D21)", offered.join() === "Retry,Abort,Ignore", offered.join());
  await axe(page, "notification (error)");
  // ...and r2-b failing meanwhile would put two of its three hosts down: held by the storm guard (D22).
  const heldUrl = await takeDown("r2-b");
  const held = page.getByRole("note").filter({ hasText: "Held by the storm guard" });
  await held.waitFor({ timeout: 20_000 });
  check(
    "a held notification is shown as held, with a Release button",
    (await statusBadge.textContent()) === "held" && (await page.getByRole("button", { name: "Release" }).isVisible()),
  );
  await axe(page, "notification (held)");
  await shot(page, "held", { fullPage: true });

  // Deleting rack-2 meanwhile: the 409, explained, from the keyboard.
  await page.goto(`${ORIGIN}/console#/segments`);
  await page.evaluate(() => {
    window.__notReloaded = true;
  });
  await tabTo(page, page.getByRole("button", { name: "Delete rack-2" }));
  await page.keyboard.press("Enter");
  await tabTo(page, page.getByRole("button", { name: "Delete segment" }));
  await page.keyboard.press("Enter");
  const problem = page.getByRole("dialog").getByRole("alert");
  await problem.waitFor();
  const said = await problem.innerText();
  check(
    "a segment in use: the 409 explained in words, the API's message beside it",
    /in use by a recovery/.test(said) && /still new, running or in error/.test(said) && /can't be deleted as it is in-use/.test(said),
    said,
  );
  await axe(page, "delete refused (409)");
  await shot(page, "409", { fullPage: true });
  await page.keyboard.press("Escape");
  await page.getByRole("dialog").waitFor({ state: "detached" });
  check("Escape closes the dialog", (await page.getByRole("dialog").count()) === 0);

  // Release it with the keyboard, and follow it to finished.
  await page.goto(heldUrl);
  await held.waitFor();
  await tabTo(page, page.getByRole("button", { name: "Release" }));
  await page.keyboard.press("Enter");
  await waitForText(statusBadge, /^finished$/, 90_000)
    .then(() => check("keyboard: Release runs the held recovery, followed to finished", true))
    .catch((e) => check("keyboard: Release runs the held recovery, followed to finished", false, e.message));
  const timeline = await page.locator(".timeline").innerText();
  check(
    "its timeline shows the storm guard's hold and the operator's release",
    /Storm guard/.test(timeline) && /release by user/.test(timeline),
    timeline.slice(0, 300),
  );

  // r2-a's error ignored with a reason, from the keyboard.
  await page.goto(errorUrl);
  await tabTo(page, page.getByRole("button", { name: "Ignore" }));
  await page.keyboard.press("Enter");
  await page.getByRole("dialog", { name: "Ignore this notification?" }).waitFor();
  await tabTo(page, page.getByLabel("Reason"));
  await page.keyboard.type("db-1 moved by hand");
  await page.keyboard.press("Enter");
  await waitForText(statusBadge, /^ignored$/, 20_000)
    .then(() => check("keyboard: Ignore with a reason (D21)", true))
    .catch((e) => check("keyboard: Ignore with a reason (D21)", false, e.message));
  check(
    "the reason is in the timeline",
    /db-1 moved by hand/.test(await page.locator(".timeline").innerText()),
  );

  // The notifications list, filtered with the keyboard.
  await page.goto(`${ORIGIN}/console#/notifications`);
  await heading(page).filter({ hasText: "Notifications" }).waitFor();
  await tabTo(page, page.getByLabel("Status"));
  await page.keyboard.press("ArrowDown"); // any → new: a select changes with the arrows
  await page.keyboard.type("finished");
  await tabTo(page, page.getByRole("button", { name: "Filter" }));
  await page.keyboard.press("Enter");
  await sleep(500);
  const listed = await page.locator("main table tbody tr").allTextContents();
  check(
    "keyboard: the notifications list filtered by status",
    listed.length === 2 && listed.every((r) => /finished/.test(r)),
    listed.join(" | "),
  );
  await axe(page, "notifications");
  await shot(page, "notifications", { fullPage: true });
  await context.close();
}

// --- 3. keystone -----------------------------------------------------------------------------
async function signInWithKeyboard(page, user, project = "ops") {
  await heading(page).filter({ hasText: "Sign in" }).waitFor();
  await tabTo(page, page.getByLabel(/^User name/));
  await page.keyboard.type(user);
  await page.keyboard.press("Tab");
  await page.keyboard.type(`${user}-secret`);
  await page.keyboard.press("Tab");
  await page.keyboard.type(project);
  await page.keyboard.press("Enter");
}

async function keystoneFlows(browser) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  watch(page);
  await page.goto(`${ORIGIN}/console`);
  await heading(page).filter({ hasText: "Sign in" }).waitFor();
  check(
    "keystone: the sign-in form, and no development banner",
    (await page.getByRole("note").filter({ hasText: "Development mode" }).count()) === 0,
  );
  await axe(page, "sign-in");
  await shot(page, "signin");

  // A wrong password first.
  await tabTo(page, page.getByLabel(/^User name/));
  await page.keyboard.type("operator");
  await page.keyboard.press("Tab");
  await page.keyboard.type("not-the-password");
  await page.keyboard.press("Tab");
  await page.keyboard.type("ops");
  await page.keyboard.press("Enter");
  const refused = await page.getByRole("alert").innerText();
  check("a wrong password: Sign-in refused, explained", /Sign-in refused/.test(refused), refused);
  // A re-render must not wipe what was typed (the fields are not bound to state).
  const kept = [await page.getByLabel(/^User name/).inputValue(), await page.getByLabel(/^Project/).inputValue()];
  check("the refusal keeps what was typed", kept[0] === "operator" && kept[1] === "ops", kept.join(", "));
  await page.reload();

  await signInWithKeyboard(page, "operator");
  await heading(page).filter({ hasText: "Segments" }).waitFor();
  check("keyboard: signed in as operator", /operator · ops/.test(await page.locator(".who").innerText()));
  const cookie = (await context.cookies(`${ORIGIN}/console`)).find((c) => c.name === "__Secure-masakari-console");
  check(
    "the session cookie: HttpOnly, Secure, SameSite=Strict, Path=/console",
    cookie?.httpOnly && cookie.secure && cookie.sameSite === "Strict" && cookie.path === "/console",
    JSON.stringify({ ...cookie, value: "…" }),
  );
  check("the page cannot read it", !(await page.evaluate(() => document.cookie)).includes("masakari-console"));
  const calls = await (await fetch(`${KEYSTONE}/_calls`)).json();
  check("Keystone saw the Worker's password login, never the browser", calls.logins.operator === 2);

  await tabTo(page, page.getByRole("button", { name: "New segment" }));
  await page.keyboard.press("Enter");
  await page.getByRole("dialog", { name: "New segment" }).waitFor();
  await page.waitForFunction(() => document.activeElement?.id === "f-name");
  await page.keyboard.type("rack-k");
  await page.keyboard.press("Enter");
  await page.getByRole("link", { name: "rack-k" }).waitFor();
  check("keystone: a segment created from the page (cookie, CSRF token)", true);
  await axe(page, "segments (keystone)");
  await shot(page, "segments", { fullPage: true });

  await tabTo(page, page.getByRole("button", { name: "Sign out" }));
  await page.keyboard.press("Enter");
  await heading(page).filter({ hasText: "Sign in" }).waitFor();
  const revoked = (await (await fetch(`${KEYSTONE}/_calls`)).json()).revoked;
  check(
    "keyboard: sign-out clears the cookie and revokes the token",
    revoked === 1 && !(await context.cookies(`${ORIGIN}/console`)).some((c) => c.name === "__Secure-masakari-console"),
    `revoked ${revoked}`,
  );

  // A reader: what policy refuses is not offered; a 403 is shown as such.
  await signInWithKeyboard(page, "viewer");
  await heading(page).filter({ hasText: "Segments" }).waitFor();
  await page.getByRole("link", { name: "rack-k" }).waitFor();
  check(
    "a reader sees the segments but no New, Edit or Delete",
    (await page.getByRole("button", { name: /New segment|Edit|Delete/ }).count()) === 0,
  );
  check(
    "and no Notifications in the menu (its policy refuses them)",
    (await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Notifications" }).count()) === 0,
  );
  await page.goto(`${ORIGIN}/console#/notifications`);
  const forbidden = await page.getByRole("alert").innerText();
  check(
    "a 403 is shown clearly: Not allowed, the rule, the API's words",
    /Not allowed/.test(forbidden) && /os_masakari_api:notifications:index/.test(forbidden) && /403/.test(forbidden),
    forbidden,
  );
  await axe(page, "403 (reader)");
  await shot(page, "403", { fullPage: true });
  await context.close();
}

// --- run -------------------------------------------------------------------------------
let browser;
async function main() {
  fs.mkdirSync(WORK, { recursive: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  for (const script of ["build-docs.mjs", "build-console.mjs"])
    execFileSync(process.execPath, [path.join(ROOT, "scripts", script)], { stdio: ["ignore", process.stderr, "inherit"] });
  installChromium();

  log(`Nova stand-in on ${NOVA}`);
  await startServer("nova", ["test/fakes/nova-server.mjs", String(NOVA_PORT)], NOVA_PORT);
  for (const [name, zone] of [
    ["r1-a", "rack1"],
    ["r1-b", "rack1"],
    ["r1-c", "rack1"],
    ["r1-d", "rack1"],
    ["r2-a", "rack2"],
    ["r2-b", "rack2"],
    ["r2-c", "rack2"],
  ])
    await nova("hosts", { name, zone });
  // A few polls per evacuation, so the recovery takes seconds and its progress shows.
  for (const [name, host] of [
    ["web-1", "r1-a"],
    ["web-2", "r1-a"],
  ])
    await nova("servers", { name, host, evacuate_polls: 3, metadata: { HA_Enabled: "True" } });
  // db-1's evacuation ends in error: r2-a's recovery fails.
  const db = await nova("servers", { name: "db-1", host: "r2-a", metadata: { HA_Enabled: "True" } });
  await nova("faults", { action: "evacuate", server: (db.server ?? db).id, result: "error" });

  const engine = {
    DEMO_MODE: "true",
    NOVA_URL: `${NOVA}/v2.1`,
    WAIT_PERIOD_AFTER_SERVICE_UPDATE: "1",
    WAIT_PERIOD_AFTER_EVACUATION: "20",
    VERIFY_INTERVAL: "1",
  };
  log(`wrangler dev on ${ORIGIN} (noauth2, demo mode)`);
  startWorker({ AUTH_STRATEGY: "noauth2", ...engine });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  await noauthFlows(browser);

  log(`Keystone stand-in on ${KEYSTONE}; wrangler dev again, under keystone`);
  await startServer("keystone", ["e2e/console/keystone.mjs", String(KEYSTONE_PORT), `${NOVA}/v2.1`], KEYSTONE_PORT);
  // A reader may list segments and hosts, nothing else (the POLICY setting).
  const policy = {
    "os_masakari_api:segments:index": "rule:admin_api or role:reader",
    "os_masakari_api:segments:detail": "rule:admin_api or role:reader",
    "os_masakari_api:os-hosts:index": "rule:admin_api or role:reader",
  };
  startWorker({
    AUTH_STRATEGY: "keystone",
    KEYSTONE_URL: KEYSTONE,
    KEYSTONE_SERVICE_USER: "masakari",
    KEYSTONE_SERVICE_PASSWORD: "masakari-secret",
    KEYSTONE_SERVICE_PROJECT: "service",
    POLICY: JSON.stringify(policy),
    ...engine,
  });
  await keystoneFlows(browser);

  const others = [...new Set(requests.filter((u) => !u.startsWith(`${ORIGIN}/`) && !/^(data|blob):/.test(u)))];
  check(`no request to another origin (${requests.length} requests)`, others.length === 0, others.join(", "));
  check("no console error", consoleErrors.length === 0, consoleErrors.join(" | "));
  const total = axed.reduce((n, a) => n + a.violations, 0);
  log(`axe: ${axed.length} pages, ${total} violations in all, ${axed.reduce((n, a) => n + a.bad, 0)} serious or critical`);
}

async function cleanup() {
  await browser?.close().catch(() => {});
  stopWorker();
  for (const child of children) {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
  }
}
process.once("SIGINT", () => cleanup().finally(() => process.exit(130)));
process.once("SIGTERM", () => cleanup().finally(() => process.exit(143)));

const started = Date.now();
try {
  await main();
} catch (error) {
  check("the run", false, error.stack ?? String(error));
  await current?.screenshot({ path: path.join(ARTIFACTS, "console-failure.png"), fullPage: true }).catch(() => {});
} finally {
  await cleanup();
}
const failed = results.filter((r) => !r.ok).length;
console.log(`test:console: screenshots .artifacts/console-*.png; ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
