import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import { database } from "../src/db/database";
import { engineNova } from "../src/engine/bindings";
import { act } from "../src/engine/steering";
import { logFor } from "../src/log";
import { recoveryWorkflowDetails } from "../src/resources/notifications/details";
import { hostFlags, novaCalls, novaControl } from "./engine-helpers";
import { Runtime } from "./engine-runtime";
import { createHost, createSegment, type Json, post, seedNotification, sql, unique } from "./helpers";

// D22, the storm guard: a COMPUTE_HOST STOPPED notification that would put
// more than STORM_GUARD_MAX_HOSTS_DOWN_PERCENT (50) of its segment's hosts
// down within STORM_GUARD_WINDOW (600 s) is held: it stays new, its host
// goes on maintenance, a StormGuard task says why, and Nova is not called,
// until an operator releases it. The recoveries run on the in-test
// Workflows runtime, all at once.

const STOPPED = '{"event": "STOPPED", "host_status": "NORMAL", "cluster_status": "OFFLINE"}';

/**
 * A segment of `size` hosts, each down in Nova with a server whose
 * evacuation takes a while (so that failures reported at once are under
 * recovery together), and a spare host of Nova's to move them to.
 */
async function segmentOf(size: number) {
  const zone = unique("zone");
  const segment = await createSegment({ recovery_method: "auto" });
  await novaControl("POST", "hosts", { name: `${zone}-spare`, zone });
  const hosts: { uuid: string; name: string }[] = [];
  for (let i = 1; i <= size; i++) {
    const name = `${zone}-h${i}`;
    await novaControl("POST", "hosts", { name, zone, state: "down" });
    await novaControl("POST", "servers", { name: `${name}-vm`, host: name, evacuate_polls: 20 });
    hosts.push(await createHost(segment.uuid, { name }));
  }
  return { segment, hosts, zone };
}

/** Host failures of `hosts`, stored at once and recovered at once; their statuses by host. */
async function failAtOnce(runtime: Runtime, hosts: { uuid: string; name: string }[]) {
  // Each recovery's sleeps take a while, so that all of them are under way together.
  runtime.sleepMs = hosts.length > 1 ? 40 : 0;
  const now = new Date().toISOString().replace("T", " ").replace("Z", "000");
  const uuids = [];
  for (const host of hosts)
    uuids.push(await seedNotification(host.uuid, "new", { payload: STOPPED, generated_time: now }));
  await Promise.all(uuids.map((uuid) => runtime.start(uuid)));
  await runtime.settle();
  const statuses = [];
  for (const uuid of uuids) {
    const [row] = await sql<{ status: string }>("SELECT status FROM notifications WHERE notification_uuid = ?", uuid);
    statuses.push(row?.status);
  }
  return { uuids, statuses };
}

const config = (settings: Record<string, string> = {}) =>
  loadConfig({ ...env, RETRY_NOTIFICATION_NEW_STATUS_INTERVAL: "0", ...settings });

const heldOf = (statuses: (string | undefined)[]) => statuses.filter((s) => s === "new").length;

describe("the rule", () => {
  it("4 hosts, 3 failing at once: 2 recover, 1 is held (new, on maintenance, Nova untouched, a StormGuard task)", async () => {
    const runtime = new Runtime(config());
    const { segment, hosts } = await segmentOf(4);
    const { uuids, statuses } = await failAtOnce(runtime, hosts.slice(0, 3));
    expect([...statuses].sort()).toEqual(["finished", "finished", "new"]);
    const held = uuids[statuses.indexOf("new")] ?? "";
    const heldHost = hosts[statuses.indexOf("new")]?.name ?? "";
    expect(await novaCalls({ host: heldHost })).toEqual([]);
    const [untouched] = (await novaControl("GET", `state?host=${heldHost}`)).servers;
    expect([untouched["OS-EXT-SRV-ATTR:host"], untouched.locked]).toEqual([heldHost, false]);
    const flags = Object.fromEntries(
      (await sql<Json>("SELECT name, on_maintenance FROM hosts WHERE failover_segment_id = ?", segment.uuid)).map(
        (h: Json) => [h.name, h.on_maintenance],
      ),
    );
    expect(flags[heldHost]).toBe(1);
    const [guard] = await recoveryWorkflowDetails(database(env.DB), held, "COMPUTE_HOST");
    expect(guard).toMatchObject({ name: "StormGuard", state: "PENDING" });
    expect(guard?.progress_details[0]?.message).toBe(
      "Held by the storm guard: 2 of the segment's 4 hosts are already down within 600 s, and this one would make more than 50 %. Nova is not called until an operator releases it.",
    );
    await runtime.close();
  });

  it("20 hosts failing at once can never all slip under the share: exactly 10 recover, 10 are held", async () => {
    const runtime = new Runtime(config());
    const { hosts } = await segmentOf(20);
    const { statuses } = await failAtOnce(runtime, hosts);
    expect(heldOf(statuses)).toBe(10);
    expect(statuses.filter((s) => s === "finished")).toHaveLength(10);
    await runtime.close();
  });

  it.each([1, 2])("a segment of %i host(s) is never held for its first failure", async (size) => {
    const runtime = new Runtime(config());
    const { hosts } = await segmentOf(size);
    const { statuses } = await failAtOnce(runtime, hosts.slice(0, 1));
    expect(statuses).toEqual(["finished"]);
    await runtime.close();
  });

  it("a failure outside the window no longer counts", async () => {
    const runtime = new Runtime(config({ STORM_GUARD_WINDOW: "60" }));
    const { hosts } = await segmentOf(2);
    const first = await failAtOnce(runtime, hosts.slice(0, 1));
    expect(first.statuses).toEqual(["finished"]);
    // The first failure's notification is still unfinished, but its admission is two minutes old.
    await sql("UPDATE notifications SET status = 'error' WHERE notification_uuid = ?", first.uuids[0]);
    await sql(
      "UPDATE recovery_storm SET at = datetime('now', '-120 seconds') WHERE notification_uuid = ?",
      first.uuids[0],
    );
    const second = await failAtOnce(runtime, hosts.slice(1, 2));
    expect(second.statuses).toEqual(["finished"]);
    await runtime.close();
  });

  it("a host whose recovery finished or was ignored no longer counts; a failed or held one does", async () => {
    const runtime = new Runtime(config());
    const { hosts } = await segmentOf(4);
    const one = async (i: number) => (await failAtOnce(runtime, hosts.slice(i, i + 1))).statuses[0];
    const first = await failAtOnce(runtime, hosts.slice(0, 2));
    expect(first.statuses).toEqual(["finished", "finished"]);
    // Finished: nothing down, so the third is admitted...
    expect(await one(2)).toBe("finished");
    // ...but a failed one and one in error do: the fourth would make 3 of 4.
    const [third] = await sql<{ notification_uuid: string }>(
      "SELECT notification_uuid FROM notifications WHERE source_host_uuid = ?",
      hosts[2]?.uuid,
    );
    await sql("UPDATE notifications SET status = 'failed' WHERE notification_uuid = ?", first.uuids[1]);
    await sql("UPDATE notifications SET status = 'error' WHERE notification_uuid = ?", third?.notification_uuid);
    expect(await one(3)).toBe("new");
    // With the failed one ignored, the one in error and the held one still make 3 of 4 with the first host...
    await sql("UPDATE notifications SET status = 'ignored' WHERE notification_uuid = ?", first.uuids[1]);
    expect(await one(0)).toBe("new");
    // ...and with all but the fourth host's ignored, only that one (held) is down besides the second: 2 of 4.
    await sql(
      "UPDATE notifications SET status = 'ignored' WHERE source_host_uuid IN (?, ?)",
      hosts[0]?.uuid,
      hosts[2]?.uuid,
    );
    expect(await one(1)).toBe("finished");
    await runtime.close();
  });

  it("STORM_GUARD_MAX_HOSTS_DOWN_PERCENT=100 turns it off, as upstream: every failure recovers", async () => {
    const runtime = new Runtime(config({ STORM_GUARD_MAX_HOSTS_DOWN_PERCENT: "100" }));
    const { hosts } = await segmentOf(4);
    const { statuses } = await failAtOnce(runtime, hosts);
    expect(statuses).toEqual(["finished", "finished", "finished", "finished"]);
    await runtime.close();
  });
});

describe("a held notification", () => {
  it("is not run by the periodic work, and expires as any notification does", async () => {
    const runtime = new Runtime(config());
    const { hosts } = await segmentOf(2);
    const { uuids, statuses } = await failAtOnce(runtime, hosts);
    const held = uuids[statuses.indexOf("new")] ?? "";
    await runtime.sweep();
    await runtime.settle();
    expect((await sql("SELECT status FROM notifications WHERE notification_uuid = ?", held))[0]).toEqual({
      status: "new",
    });
    expect((await sql("SELECT count(*) AS runs FROM recovery_runs WHERE notification_uuid = ?", held))[0]).toEqual({
      runs: 1,
    });
    await sql(
      "UPDATE notifications SET generated_time = '2026-01-01 00:00:00.000000' WHERE notification_uuid = ?",
      held,
    );
    await runtime.sweep();
    await runtime.settle();
    await runtime.close();
    expect((await sql("SELECT status FROM notifications WHERE notification_uuid = ?", held))[0]).toEqual({
      status: "failed",
    });
  });

  it("runs once released (POST .../action {release: null}): recovered, its server moved", async () => {
    const runtime = new Runtime(config());
    const { segment, hosts, zone } = await segmentOf(2);
    const [, target] = hosts;
    const [server] = (await novaControl("GET", `state?host=${target?.name}`)).servers;
    const { uuids, statuses } = await failAtOnce(runtime, hosts);
    expect(statuses).toEqual(["finished", "new"]);
    const held = uuids[1] ?? "";
    // The API's action (test/steering-actions.test.ts), on this runtime's Workflows.
    const steering = {
      db: database(env.DB),
      workflows: runtime.workflows,
      nova: engineNova(runtime.config),
      log: logFor("test"),
    };
    const actor = { userId: "u-admin", projectId: null, requestId: "req-test", reason: null };
    expect(await act(steering, held, "release", actor)).toBe(true);
    await runtime.settle();
    await runtime.close();
    expect((await sql("SELECT status FROM notifications WHERE notification_uuid = ?", held))[0]).toEqual({
      status: "finished",
    });
    const [moved] = (await novaControl("GET", `state?server=${server.id}`)).servers;
    expect(moved["OS-EXT-SRV-ATTR:host"]).toBe(`${zone}-spare`);
    expect((await hostFlags({ segment } as never))[target?.name ?? ""]).toEqual({
      on_maintenance: true,
      reserved: false,
    });
    // Released once: a second release is a 409.
    const again = await post(`/v1/notifications/${held}/action`, { release: null });
    expect(again.status).toBe(409);
    expect(again.json.conflictingRequest.message).toBe(
      `Notification ${held} can't be released as its status is finished: release applies to a notification in new.`,
    );
  });
});
