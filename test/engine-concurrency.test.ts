import { introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hostDown, instancesOf, notify, novaCalls, novaControl, shown } from "./engine-helpers";
import { createHost, createSegment, type Json, sql, unique } from "./helpers";

// D16: one recovery per source host at a time, across the deployment; a
// notification claimed new/error → running by one guarded UPDATE, so it
// never runs twice; a reserved host claimed by one guarded UPDATE, so two
// recoveries never take the same one.

describe("D16: twenty host failures in one segment with three reserved hosts, at once", () => {
  it("each reserved host is taken once, each notification runs once", async () => {
    const zone = unique("zone");
    const segment = await createSegment({ recovery_method: "reserved_host" });
    const failed: string[] = [];
    const servers: string[] = [];
    for (let i = 1; i <= 20; i++) {
      const name = unique("failed");
      await novaControl("POST", "hosts", { name, state: "down", zone });
      servers.push((await novaControl("POST", "servers", { name: `vm-${i}`, host: name })).id);
      await createHost(segment.uuid, { name });
      failed.push(name);
    }
    // Twenty healthy hosts besides: twenty of 43 down stays under the storm
    // guard's share (D22, test/steering-storm.test.ts), so none is held.
    for (let i = 1; i <= 20; i++) await createHost(segment.uuid, { name: unique("healthy") });
    const reserved: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const name = unique("spare");
      await novaControl("POST", "hosts", { name, status: "disabled", zone });
      await createHost(segment.uuid, { name, reserved: true });
      reserved.push(name);
    }

    await using workflows = await introspectWorkflow(env.RECOVERY);
    await workflows.modifyAll(async (m) => {
      await m.disableSleeps();
    });
    const notifications = await Promise.all(failed.map((name) => notify(hostDown(name))));
    for (const instance of await instancesOf(workflows, 20)) await instance.waitForStatus("complete");

    const uuids = notifications.map((n: Json) => n.notification_uuid);
    const statuses = await Promise.all(uuids.map(async (uuid: string) => (await shown(uuid)).status));
    // Three recoveries got a reserved host; the seventeen others found every
    // one taken (upstream's busy lock for each) and ended in error.
    expect(statuses.filter((s) => s === "finished")).toHaveLength(3);
    expect(statuses.filter((s) => s === "error")).toHaveLength(17);

    for (const name of reserved) {
      const enables = (await novaCalls({ host: name })).filter(
        (c) => c.method === "PUT" && JSON.stringify(c.body) === '{"status":"enabled"}',
      );
      expect(enables, name).toHaveLength(1);
    }
    expect(
      await sql(`SELECT reserved FROM hosts WHERE name IN (${reserved.map(() => "?").join(",")})`, ...reserved),
    ).toEqual([{ reserved: 0 }, { reserved: 0 }, { reserved: 0 }]);

    // The three instances that moved are on three different reserved hosts.
    const hosts = [];
    for (const id of servers)
      hosts.push((await novaControl("GET", `state?server=${id}`)).servers[0]["OS-EXT-SRV-ATTR:host"]);
    const moved = hosts.filter((h) => reserved.includes(h));
    expect(new Set(moved).size).toBe(3);

    // Every notification ran exactly once: one run, one disable of its host.
    for (const [i, uuid] of uuids.entries()) {
      expect(await sql("SELECT run, mode FROM recovery_runs WHERE notification_uuid = ?", uuid)).toEqual([
        { run: 1, mode: "rpc" },
      ]);
      const disables = (await novaCalls({ host: failed[i] ?? "" })).filter((c) => c.method === "PUT");
      expect(disables).toHaveLength(1);
    }
  });
});

describe("D16: two notifications from one host", () => {
  it("run one after the other; the second finds nothing left to move and finishes", async () => {
    const zone = unique("zone");
    const segment = await createSegment({ recovery_method: "auto" });
    const [down, up] = [unique("down"), unique("up")];
    await novaControl("POST", "hosts", { name: down, state: "down", zone });
    await novaControl("POST", "hosts", { name: up, zone });
    const server = (await novaControl("POST", "servers", { name: "vm", host: down, evacuate_polls: 2 })).id;
    await createHost(segment.uuid, { name: down });
    await createHost(segment.uuid, { name: up });

    await using workflows = await introspectWorkflow(env.RECOVERY);
    await workflows.modifyAll(async (m) => {
      await m.disableSleeps();
    });
    // Different payloads: not duplicates of each other.
    const [first, second] = await Promise.all([
      notify(hostDown(down)),
      notify(hostDown(down, { cluster_status: "ONLINE" })),
    ]);
    for (const instance of await instancesOf(workflows, 2)) await instance.waitForStatus("complete");

    expect([(await shown(first.notification_uuid)).status, (await shown(second.notification_uuid)).status]).toEqual([
      "finished",
      "finished",
    ]);
    // The host was disabled twice, and everything of one recovery happened
    // between them or after: never both at once.
    const calls = await novaCalls({ host: down });
    const serverCalls = await novaCalls({ server });
    const disables = calls.filter((c) => c.method === "PUT").map((c) => c.seq);
    expect(disables).toHaveLength(2);
    const lastOfFirst = Math.max(...serverCalls.map((c) => c.seq));
    expect(lastOfFirst).toBeLessThan(disables[1] ?? 0);
    // One of them evacuated the server; the other found the host empty.
    const details = await Promise.all(
      [first, second].map(async (n: Json) =>
        (await shown(n.notification_uuid, "1.1")).recovery_workflow_details.map((t: Json) => t.state),
      ),
    );
    expect(details.sort()).toEqual([
      ["REVERTED", "REVERTED"],
      ["SUCCESS", "SUCCESS", "SUCCESS"],
    ]);
  });
});
