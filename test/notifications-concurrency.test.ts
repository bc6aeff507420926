import { describe, expect, it } from "vitest";
import { createHost, createSegment, duplicateNotification, fault, holdRecoveries, post, sql } from "./helpers";

holdRecoveries();

// D12: duplicate detection and the insert are one D1 statement, so identical
// notifications sent at the same moment cannot both pass the check (upstream
// needs a random 0-5 s sleep or a distributed lock for this).

const COPIES = 20;

describe("D12: concurrent identical notifications", () => {
  it("20 identical notifications at once: exactly one 202, nineteen 409 duplicates, one row with status new", async () => {
    const segment = await createSegment();
    const host = await createHost(segment.uuid);
    const notification = {
      type: "COMPUTE_HOST",
      hostname: host.name,
      generated_time: "2026-01-01T10:00:00Z",
      payload: { event: "STOPPED", host_status: "NORMAL", cluster_status: "OFFLINE" },
    };
    const responses = await Promise.all(
      Array.from({ length: COPIES }, () => post("/v1/notifications", { notification })),
    );

    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([202, ...Array<number>(COPIES - 1).fill(409)]);
    const duplicate = fault("conflictingRequest", 409, duplicateNotification(host.name, "COMPUTE_HOST"));
    for (const r of responses.filter((r) => r.status === 409)) expect(r.json).toEqual(duplicate);

    const winner = responses.find((r) => r.status === 202)?.json.notification;
    const rows = await sql(
      "SELECT notification_uuid, status, deleted FROM notifications WHERE source_host_uuid = ?",
      host.uuid,
    );
    expect(rows).toEqual([{ notification_uuid: winner.notification_uuid, status: "new", deleted: 0 }]);
  });

  it("20 notifications at once with distinct payloads are all accepted, one row each", async () => {
    const segment = await createSegment();
    const host = await createHost(segment.uuid);
    const responses = await Promise.all(
      Array.from({ length: COPIES }, (_, i) =>
        post("/v1/notifications", {
          notification: {
            type: "PROCESS",
            hostname: host.name,
            generated_time: "2026-01-01T10:00:00Z",
            payload: { process_name: `process-${i}`, event: "STOPPED" },
          },
        }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array<number>(COPIES).fill(202));
    const rows = await sql<{ payload: string }>(
      "SELECT payload FROM notifications WHERE source_host_uuid = ? AND status = 'new' ORDER BY payload",
      host.uuid,
    );
    expect(rows.map((r) => r.payload).sort()).toEqual(
      Array.from({ length: COPIES }, (_, i) => `{"process_name": "process-${i}", "event": "STOPPED"}`).sort(),
    );
  });

  it("identical notifications from 20 hosts at once are all accepted", async () => {
    const segment = await createSegment();
    const hosts = [];
    for (let i = 0; i < COPIES; i++) hosts.push(await createHost(segment.uuid));
    const responses = await Promise.all(
      hosts.map((host) =>
        post("/v1/notifications", {
          notification: {
            type: "COMPUTE_HOST",
            hostname: host.name,
            generated_time: "2026-01-01T10:00:00Z",
            payload: { event: "STOPPED" },
          },
        }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array<number>(COPIES).fill(202));
    expect(responses.map((r) => r.json.notification.source_host_uuid)).toEqual(hosts.map((h) => h.uuid));
  });
});
