import { introspectWorkflow } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  hostDown,
  instancesOf,
  notify,
  novaCalls,
  novaControl,
  recover,
  shown,
  traceCluster,
  vmovesOf,
} from "./engine-helpers";
import { appWith, expectFault, get, type Json, post, put, seedNotification, sql } from "./helpers";

// D21: operator actions on a notification, POST .../notifications/{id}/action
// with exactly one of retry, abort, ignore, release. Upstream answers this
// route 405; here each action answers 202 with the notification, or 409
// when its status does not allow it, and is recorded as an OperatorAction
// task of the notification's recovery details.

const action = (uuid: string, body: unknown, options: { version?: string; headers?: Record<string, string> } = {}) =>
  post(`/v1/notifications/${uuid}/action`, body, options);

/** A notification in `status`, its host in a segment of its own. */
async function seeded(status: string) {
  const cluster = await traceCluster("auto", []);
  const uuid = await seedNotification(cluster.hosts[cluster.failed]?.uuid ?? "", status, {
    payload: '{"event": "STOPPED", "host_status": "NORMAL", "cluster_status": "OFFLINE"}',
  });
  return { cluster, uuid };
}

async function waitFor<T>(what: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = await what();
    if (ok(v)) return v;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("gave up waiting");
}

describe("a bad body is a 400 in Masakari's fault format", () => {
  it.each([
    [{}, "{} is not valid under any of the given schemas"],
    [
      { retry: null, ignore: { reason: "x" } },
      "{'retry': None, 'ignore': {'reason': 'x'}} is valid under each of {'required': ['retry']}, {'required': ['ignore']}",
    ],
    [{ reboot: null }, "{'reboot': None} is not valid under any of the given schemas"],
    [{ retry: null, reboot: null }, "Additional properties are not allowed ('reboot' was unexpected)"],
    [{ retry: {} }, "{} is not of type 'null'"],
    [{ abort: {} }, "Invalid input for field/attribute abort. Value: {}. 'reason' is a required property"],
    [{ abort: { reason: "" } }, "Invalid input for field/attribute reason. Value: . '' is too short"],
    [[], "[] is not of type 'object'"],
  ])("%j: %s", async (body, message) => {
    const { uuid } = await seeded("error");
    const res = await action(uuid, body);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      badRequest: { code: 400, message: expect.stringContaining(message.split(". ").at(-1) ?? "") },
    });
    expect((await shown(uuid)).status).toBe("error");
  });

  it("an unknown notification is a 404, after the body is checked", async () => {
    expectFault(
      await action("0b8f3a4e-0000-4000-8000-000000000000", { retry: null }),
      404,
      "itemNotFound",
      "No notification with id 0b8f3a4e-0000-4000-8000-000000000000.",
    );
    expect((await action("0b8f3a4e-0000-4000-8000-000000000000", { bogus: 1 })).status).toBe(400);
  });
});

describe("ignore", () => {
  it("an error notification is ignored without touching Nova, and its segment can be updated again", async () => {
    const { cluster, uuid } = await seeded("error");
    const path = `/v1/segments/${cluster.segment.uuid}`;
    expect((await put(path, { segment: { description: "in use" } })).status).toBe(409);
    const res = await action(uuid, { ignore: { reason: "the host came back by itself" } }, { version: "1.1" });
    expect(res.status).toBe(202);
    expect(res.json.notification).toMatchObject({ notification_uuid: uuid, status: "ignored" });
    const [operator] = res.json.notification.recovery_workflow_details;
    expect(operator).toMatchObject({ name: "OperatorAction", state: "SUCCESS" });
    expect(operator.progress_details[0].message).toMatch(
      /^ignore by user \S+ of project \S+, request req-[0-9a-f-]+: the host came back by itself$/,
    );
    expect(operator.progress_details[0].message).toContain(res.headers.get("x-openstack-request-id"));
    expect(await novaCalls({ host: cluster.failed })).toEqual([]);
    expect((await put(path, { segment: { description: "free again" } })).status).toBe(200);
  });

  it("is a 409 for a notification already finished, with what ignore applies to", async () => {
    const { uuid } = await seeded("finished");
    expectFault(
      await action(uuid, { ignore: { reason: "x" } }),
      409,
      "conflictingRequest",
      `Notification ${uuid} can't be ignored as its status is finished: ignore applies to a notification in new or error.`,
    );
  });

  it("two actions at once: exactly one wins", async () => {
    const { uuid } = await seeded("error");
    const answers = await Promise.all([
      action(uuid, { ignore: { reason: "one" } }),
      action(uuid, { abort: { reason: "two" } }),
      action(uuid, { ignore: { reason: "three" } }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409, 409]);
    const details = (await shown(uuid, "1.1")).recovery_workflow_details;
    expect(details.flatMap((t: Json) => t.progress_details)).toHaveLength(1);
  });
});

describe("retry", () => {
  it("a failed notification runs again now, as a periodic run: finished when Nova can do it", async () => {
    const cluster = await traceCluster("auto", [{ name: "vm" }]);
    const { id: fault } = await novaControl("POST", "faults", {
      server: cluster.servers.vm,
      action: "evacuate",
      status: 400,
    });
    const uuid = await recover(hostDown(cluster.failed));
    expect((await shown(uuid)).status).toBe("error");
    await sql("UPDATE notifications SET status = 'failed' WHERE notification_uuid = ?", uuid);
    await novaControl("DELETE", `faults/${fault}`);
    await using runs = await introspectWorkflow(env.RECOVERY);
    await runs.modifyAll(async (m) => {
      await m.disableSleeps();
    });
    const res = await action(uuid, { retry: null });
    expect(res.status).toBe(202);
    expect(res.json.notification.status).toBe("error");
    const [run] = await instancesOf(runs, 1);
    await run?.waitForStatus("complete");
    expect((await shown(uuid)).status).toBe("finished");
    expect(
      await sql("SELECT run, mode, outcome FROM recovery_runs WHERE notification_uuid = ? ORDER BY run", uuid),
    ).toEqual([
      { run: 1, mode: "rpc", outcome: "error" },
      { run: 2, mode: "periodic", outcome: "finished" },
    ]);
  });

  it("is a 409 for a running notification", async () => {
    const { uuid } = await seeded("running");
    expect((await action(uuid, { retry: null })).status).toBe(409);
  });
});

describe("abort", () => {
  it("a running recovery stops: failed, the servers it locked unlocked, its VM moves failed; Nova's calls not undone", async () => {
    const cluster = await traceCluster("auto", [{ name: "vm" }]);
    // No introspection: the run really waits after disabling the host (180 s), running.
    const { notification_uuid: uuid } = await notify(hostDown(cluster.failed));
    await waitFor(async () => (await novaCalls({ host: cluster.failed })).some((c) => c.method === "PUT"), Boolean);
    // As if the run had gone on to lock the server and start its move.
    const id = cluster.servers.vm ?? "";
    await novaControl("POST", "servers", { id, locked: true });
    await sql(
      "INSERT INTO recovery_server_locks (notification_uuid, instance_uuid, run, created_at) VALUES (?, ?, 1, '2026-01-01 00:00:00.000000')",
      uuid,
      id,
    );
    await sql(
      "INSERT INTO vmoves (created_at, deleted, uuid, notification_uuid, instance_uuid, instance_name, source_host, type, status) VALUES ('2026-01-01 00:00:00.000000', 0, ?, ?, ?, 'vm', ?, 'evacuation', 'ongoing')",
      crypto.randomUUID(),
      uuid,
      id,
      cluster.failed,
    );
    const res = await action(uuid, { abort: { reason: "the host is back; a human takes over" } });
    expect(res.status).toBe(202);
    expect(res.json.notification.status).toBe("failed");
    expect((await novaControl("GET", `state?server=${id}`)).servers[0].locked).toBe(false);
    expect((await vmovesOf(uuid)).map((m: Json) => [m.status, m.message])).toEqual([
      ["failed", "Aborted by an operator: the host is back; a human takes over"],
    ]);
    const { status } = await (await env.RECOVERY.get(`${uuid}-1`)).status();
    expect(status).toBe("terminated");
    // The host's disable stays: Nova's calls are not undone.
    const [service] = (await novaControl("GET", `state?host=${cluster.failed}`)).services;
    expect(service.status).toBe("disabled");
  });
});

describe("policy", () => {
  it("each action has its own rule, admin by default, overridable through POLICY", async () => {
    const { uuid } = await seeded("error");
    const member = { "X-Roles": "member", "X-User-Id": "u-operator", "X-Project-Id": "p-ops" };
    const strict = appWith({ POLICY: JSON.stringify({ admin_api: "role:admin" }) });
    const res = await strict("POST", `/v1/notifications/${uuid}/action`, {
      body: { ignore: { reason: "x" } },
      headers: member,
    });
    expect(res.status).toBe(403);
    const operators = appWith({
      POLICY: JSON.stringify({
        admin_api: "role:admin",
        "os_masakari_api:os-notification-actions:action": "role:member",
        "os_masakari_api:os-notification-actions:ignore": "role:member",
      }),
    });
    const retried = await operators("POST", `/v1/notifications/${uuid}/action`, {
      body: { retry: null },
      headers: member,
    });
    expect(retried.status).toBe(403);
    const ignored = await operators("POST", `/v1/notifications/${uuid}/action`, {
      body: { ignore: { reason: "x" } },
      headers: member,
    });
    expect(ignored.status).toBe(202);
  });

  it("the action is served under /v1/{project_id}/ too", async () => {
    const { uuid } = await seeded("new");
    const project = "0123456789abcdef0123456789abcdef";
    const res = await post(
      `/v1/${project}/notifications/${uuid}/action`,
      { ignore: { reason: "x" } },
      {
        headers: { "X-Project-Id": project },
      },
    );
    expect(res.status).toBe(202);
  });
});

describe("GET /v1/extensions", () => {
  it("lists the steering extensions with their aliases", async () => {
    const aliases = (await get("/v1/extensions")).json.extensions.map((e: Json) => e.alias);
    expect(aliases).toEqual([
      "extensions",
      "notifications",
      "os-evacuation-priorities",
      "os-hosts",
      "os-notification-actions",
      "os-notification-events",
      "os-recovery-plans",
      "os-storm-guard",
      "segments",
      "versions",
      "vmoves",
    ]);
  });
});
