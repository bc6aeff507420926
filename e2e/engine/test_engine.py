#!/usr/bin/python3
"""The recovery engine end to end: real notifications, a running Worker, a Nova stand-in.

run.sh starts the Nova stand-in (test/fakes/nova-server.mjs) and this Worker
under `wrangler dev` (scripts/worker-dev.sh), then runs this file:

    ENGINE_ENDPOINT=http://127.0.0.1:18860 ENGINE_NOVA=http://127.0.0.1:18862 \\
        /usr/bin/python3 e2e/engine/test_engine.py [scenario ...]

Each scenario builds its own cluster (segment, hosts, zone and servers in
the stand-in and in Masakari, through openstacksdk's instance_ha proxy),
posts a notification with ``create_notification`` exactly as
masakari-monitors does (type, hostname, generated_time = utcnow(), payload;
docs/engine.md, "Per type"), waits for its final status (GET at microversion
1.1), and compares what the engine did with what the real masakari-engine
did in test/fixtures/engine-traces: the status, the
recovery_workflow_details, the Nova calls (host-level calls in order, and
each server's non-GET actions in order), the end state in Nova and in
Masakari, and that the segment is no longer in use. Where master differs
from the traced 14.0.2 (docs/engine.md, "Host failure": master evacuates its pending
VM moves newest first, so in the reverse of Prepare's order) master is
expected.

``restart`` kills `wrangler dev` (SIGKILL of its process group) while the
instances are being evacuated, starts it again on the same state, triggers
the Cron Trigger once, and checks that the recovery finished without
repeating a finished step (D17).

Use /usr/bin/python3: Debian's openstacksdk (python3-openstacksdk).
"""
import copy
import datetime
import difflib
import json
import os
import re
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
import uuid

import openstack
from keystoneauth1 import exceptions as ksa_exceptions
from openstack import exceptions

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ENDPOINT = os.environ.get("ENGINE_ENDPOINT", "http://127.0.0.1:18860")
NOVA = os.environ.get("ENGINE_NOVA", "http://127.0.0.1:18862")
TRACES = os.environ.get("ENGINE_TRACES", os.path.join(ROOT, "test", "fixtures", "engine-traces"))
WORKER_DEV = os.path.join(ROOT, "scripts", "worker-dev.sh")

RUN = uuid.uuid4().hex[:6]
FINAL = ("finished", "error", "failed", "ignored")
# How long a recovery may take here: the engine's waits are 1 s (service
# update) and 20 s (evacuation, power off/on) at most, polled every second.
RECOVERY_TIMEOUT = 90
PY_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{6})?$")

_start = time.monotonic()


def say(*args):
    print("[%6.1fs]" % (time.monotonic() - _start), *args, flush=True)


# --- checks -------------------------------------------------------------------------------------

class Mismatch(AssertionError):
    def __init__(self, message, short=None):
        super().__init__(message)
        self.short = short or message.splitlines()[0]


def _text(value):
    return json.dumps(value, indent=1, sort_keys=True, default=str).splitlines()


def check(label, actual, expected):
    """Raises Mismatch with a readable diff unless actual == expected."""
    if actual == expected:
        return
    diff = "\n".join(difflib.unified_diff(_text(expected), _text(actual), "expected", "actual", lineterm="", n=4))
    compact = lambda v: json.dumps(v, default=str)  # noqa: E731
    short = "%s: expected %s, got %s" % (label, compact(expected), compact(actual))
    raise Mismatch("%s differs:\n%s" % (label, diff), short if len(short) <= 200 else "%s differs" % label)


def require(label, condition, detail=""):
    if not condition:
        raise Mismatch("%s%s" % (label, (": %s" % detail) if detail else ""))


# --- the Worker, through openstacksdk --------------------------------------------------------

_conn = None


def conn():
    """One openstacksdk connection, as a monitor holds one (noauth2: no Keystone, a fixed endpoint)."""
    global _conn
    if _conn is None:
        _conn = openstack.connect(auth_type="none", auth={"endpoint": ENDPOINT + "/v1"},
                                  load_yaml_config=False, load_envvars=False)
    return _conn


def ha():
    return conn().instance_ha


def send_notification(type, hostname, payload):
    """masakari-monitors' SendNotification.send_notification (docs/engine.md, "Per type")."""
    generated_time = datetime.datetime.utcnow()  # oslo's timeutils.utcnow(): naive UTC, sent as isoformat()
    notification = ha().create_notification(type=type, hostname=hostname,
                                            generated_time=generated_time, payload=payload)
    require("the notification's status when created", notification.status == "new", notification.status)
    return notification


def show(uuid_, version="1.1", retry_for=0.0):
    """GET /v1/notifications/{uuid} at `version` (the SDK itself sends none for notifications)."""
    deadline = time.monotonic() + retry_for
    while True:
        try:
            response = ha().get("/notifications/%s" % uuid_, microversion=version)
            if response.status_code == 200:
                return response.json()["notification"]
            error = "HTTP %s: %s" % (response.status_code, response.text[:300])
        except (exceptions.SDKException, ksa_exceptions.ClientException) as exc:  # the Worker restarting
            error = str(exc)
        if time.monotonic() >= deadline:
            raise Mismatch("GET notification %s at %s: %s" % (uuid_, version, error))
        time.sleep(0.25)


def vmoves(uuid_):
    response = ha().get("/notifications/%s/vmoves?sort_key=id&sort_dir=asc" % uuid_, microversion="1.3")
    require("GET vmoves", response.status_code == 200, response.text[:300])
    return response.json()["vmoves"]


def wait_final(uuid_, timeout=RECOVERY_TIMEOUT):
    """Polls until the notification's status is final; the notification and its status timeline."""
    started = time.monotonic()
    timeline = []
    while True:
        notification = show(uuid_, retry_for=10)
        status = notification["status"]
        if not timeline or timeline[-1][0] != status:
            timeline.append((status, round(time.monotonic() - started, 1)))
        if status in FINAL:
            return notification, timeline
        if time.monotonic() - started > timeout:
            raise Mismatch("notification %s still %s after %d s (timeline %s)" % (uuid_, status, timeout, timeline))
        time.sleep(0.25)


# --- the Nova stand-in's control API ----------------------------------------------------------

def nova(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request("%s/_control/%s" % (NOVA, path), data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def calls(since=0, **filters):
    query = "&".join(["since=%d" % since] + ["%s=%s" % kv for kv in filters.items()])
    return nova("GET", "calls?" + query)["calls"]


def last_seq():
    everything = calls()
    return everything[-1]["seq"] if everything else 0


def server_state(server_id):
    [server] = nova("GET", "state?server=%s" % server_id)["servers"]
    return server


def service_state(host):
    [service] = nova("GET", "state?host=%s" % host)["services"]
    return service


# --- clusters --------------------------------------------------------------------------------

# The traces' servers, created in this order on the failed host (so Nova's
# list, newest first, and Prepare's order are the traces').
TRACE_SERVERS = [
    {"name": "ha-active", "metadata": {"HA_Enabled": "True"}},
    {"name": "ha-stopped", "vm_state": "stopped", "metadata": {"HA_Enabled": "True"}},
    {"name": "non-ha"},
]


class Cluster:
    """The traces' cluster for one scenario: c1 (failed), c2 (healthy), c3 (reserved), in one zone."""

    def __init__(self, scenario, recovery_method, servers=(), failed_state="down", reserved=True):
        self.zone = "zone-%s-%s" % (scenario, RUN)
        prefix = "%s-%s" % (scenario, RUN)
        self.failed, self.healthy, self.reserved = ("%s-c%d" % (prefix, i) for i in (1, 2, 3))
        # Nova first: host names are checked against it on create (D10).
        nova("POST", "hosts", {"name": self.failed, "state": failed_state, "zone": self.zone})
        nova("POST", "hosts", {"name": self.healthy, "zone": self.zone})
        nova("POST", "hosts", {"name": self.reserved, "zone": self.zone, "status": "disabled",
                               "disabled_reason": "reserved host"})
        self.servers = {}
        for server in servers:
            created = nova("POST", "servers", dict(server, host=self.failed))
            self.servers[server["name"]] = created["id"]
        self.segment = ha().create_segment(name="seg-%s" % prefix, recovery_method=recovery_method,
                                           service_type="COMPUTE")
        self.hosts = {}
        for name, is_reserved in ((self.failed, False), (self.healthy, False), (self.reserved, True)):
            if is_reserved and not reserved:
                continue
            self.hosts[name] = ha().create_host(self.segment.uuid, name=name, type="COMPUTE",
                                                control_attributes="SSH", reserved=is_reserved)

    def translator(self, trace_hosts, trace_servers):
        """A function giving a trace's value in this cluster's host names and server ids."""
        names = list(zip(trace_hosts, (self.failed, self.healthy, self.reserved)))

        def translate(value):
            text = json.dumps(value)
            for traced, ours in names:
                text = re.sub(r"(?<![\w.-])%s(?![\w.-])" % re.escape(traced), ours, text)
            for name, traced_id in trace_servers.items():
                if name in self.servers:
                    text = text.replace(traced_id, self.servers[name])
            return json.loads(text)

        return translate

    def masakari_hosts(self):
        out = {}
        for name, host in self.hosts.items():
            got = ha().get_host(host.uuid, self.segment.uuid)
            out[name] = {"on_maintenance": got.on_maintenance, "reserved": got.reserved}
        return out

    def assert_not_in_use(self):
        """No notification of the segment is new/running/error: it can be updated and deleted (409 otherwise)."""
        try:
            ha().update_segment(self.segment.uuid, description="recovered")
            ha().delete_segment(self.segment.uuid)
        except exceptions.ConflictException as exc:
            raise Mismatch("the segment is still in use after the recovery: %s" % exc)


def load_trace(name):
    with open(os.path.join(TRACES, name)) as f:
        return json.load(f)


# --- comparing with a trace ---------------------------------------------------------------------

def brief_details(details):
    """recovery_workflow_details without timestamps (whose form is checked here)."""
    out = []
    for task in details:
        for entry in task["progress_details"]:
            require("a progress timestamp in Python's str(datetime) form",
                    isinstance(entry["timestamp"], str) and PY_TIMESTAMP.match(entry["timestamp"]),
                    entry["timestamp"])
        out.append({"name": task["name"], "state": task["state"], "progress": task["progress"],
                    "progress_details": [[e["progress"], e["message"]] for e in task["progress_details"]]})
    return out


def master_details(details):
    """A trace's details as master writes them: the evacuation in the reverse of Prepare's order,
    and the lists of evacuated ids that upstream sorts sorted again (our ids differ)."""
    details = copy.deepcopy(details)
    for task in details:
        if task["name"] != "EvacuateInstancesTask":
            continue
        entries = task["progress_details"]
        started = [e for e in entries if e["message"].startswith("Evacuation of instance started")]
        reversed_started = list(reversed(started))
        out = []
        for e in entries:
            message = e["message"]
            if message.startswith("Evacuation of instance started"):
                out.append(reversed_started.pop(0))
                continue
            if message.startswith("Start evacuation"):
                message = re.sub(r"'([^']*)'$", lambda m: "'%s'" % ",".join(reversed(m.group(1).split(","))), message)
            else:
                message = re.sub(r"instances '([^']*)'",
                                 lambda m: "instances '%s'" % ",".join(sorted(m.group(1).split(","))), message)
            out.append(dict(e, message=message))
        task["progress_details"] = out
    return details


SERVICE_ID = re.compile(r"os-services/[0-9a-f-]+$")


def host_level(call_list):
    """Services and the server list, in order, service ids made comparable (they differ per run)."""
    return [[c["method"], SERVICE_ID.sub("os-services/<id>", c["path"]), c["body"]]
            for c in call_list if "/servers/" not in c["path"] or "/servers/detail" in c["path"]]


def actions(call_list, server_id):
    """A server's non-GET calls (lock, evacuate, os-stop, unlock...), their bodies in order."""
    return [c["body"] for c in call_list if server_id in c["path"] and c["method"] != "GET"]


def host_calls(since, *hosts):
    seen = {}
    for host in hosts:
        for c in calls(since, host=host):
            seen[c["seq"]] = c
    return [seen[s] for s in sorted(seen)]


def expect_engine_calls(call_list):
    """Every call the engine made: microversion 2.53, and no token (no Keystone identity configured, D14)."""
    for c in call_list:
        check("the microversion and token of %s %s" % (c["method"], c["path"]),
              [c["microversion"], c["auth"]], ["2.53", None])


# --- scenarios ---------------------------------------------------------------------------------

def host_down(cluster):
    # The pacemaker hostmonitor's event for a node gone offline whose power is off.
    return send_notification("COMPUTE_HOST", cluster.failed,
                             {"event": "STOPPED", "cluster_status": "OFFLINE", "host_status": "NORMAL"})


def expect_host_failure_like_trace(cluster, trace, notification, since):
    """Everything a host failure is compared on, against `trace` (names translated)."""
    tr = cluster.translator(trace["setup"]["nova_hosts"], trace["setup"]["servers"])
    uuid_ = notification["notification_uuid"]
    check("final status", notification["status"], trace["final_status"])

    # recovery_workflow_details: task names, states, progress and messages.
    expected = master_details(tr(trace["recovery_workflow_details"]))
    ours = brief_details(notification["recovery_workflow_details"])
    check("task names and states", [(t["name"], t["state"]) for t in ours],
          [(t["name"], t["state"]) for t in expected])
    check("recovery_workflow_details (timestamps left out)", ours, brief_details(expected))

    # Nova: the host-level calls in order, each server's actions in order.
    everything = calls(since)
    traced = tr(trace["engine_nova_calls"])
    check("host-level Nova calls", host_level(host_calls(since, cluster.failed, cluster.reserved)),
          host_level(traced))
    for name, server_id in cluster.servers.items():
        check("%s's Nova actions" % name, actions(everything, server_id), actions(traced, server_id))
    # The order master hands the instances to its workers (the reverse of
    # Prepare's: its pending VM moves, newest first) is in the details
    # above ("Start evacuation ...", "Evacuation of instance started").
    # The evacuate calls themselves are not compared across servers: with
    # host_failure_recovery_threads=3 the three run at once, in any order
    # (the traces interleave them too).
    expect_engine_calls(everything)

    # The end state, in Nova and in Masakari, as the trace's `after`.
    after = tr(trace["after"])
    servers = {}
    for name, server_id in cluster.servers.items():
        s = server_state(server_id)
        servers[name] = {"host": s["OS-EXT-SRV-ATTR:host"], "vm_state": s["OS-EXT-STS:vm_state"],
                         "task_state": s["OS-EXT-STS:task_state"], "locked": s["locked"]}
    check("the servers afterwards", servers,
          {s["name"]: {k: s[k] for k in ("host", "vm_state", "task_state", "locked")} for s in after["servers"]})
    services = {}
    for host in (cluster.failed, cluster.healthy, cluster.reserved):
        s = service_state(host)
        services[host] = {"status": s["status"], "disabled_reason": s["disabled_reason"]}
    check("the nova-compute services afterwards", services,
          {s["host"]: {"status": s["status"], "disabled_reason": s["disabled_reason"]}
           for s in after["nova_compute_services"]})
    check("the segment's hosts in Masakari afterwards", cluster.masakari_hosts(),
          {h["name"]: {"on_maintenance": h["on_maintenance"], "reserved": h["reserved"]}
           for h in after["masakari_hosts"]})

    # master's VM moves (1.3): one per server, succeeded, to where the server is now.
    moves = vmoves(uuid_)
    check("VM moves", sorted([m["instance_name"], m["status"], m["dest_host"], m["source_host"]] for m in moves),
          sorted([name, "succeeded", servers[name]["host"], cluster.failed] for name in cluster.servers))
    return everything


def host_failure(scenario, recovery_method, trace_file):
    def run():
        trace = load_trace(trace_file)
        cluster = Cluster(scenario, recovery_method, TRACE_SERVERS)
        since = last_seq()
        posted = host_down(cluster)
        notification, timeline = wait_final(posted.notification_uuid)
        say("  %s: %s" % (posted.notification_uuid, " -> ".join("%s@%ss" % t for t in timeline)))
        expect_host_failure_like_trace(cluster, trace, notification, since)
        cluster.assert_not_in_use()
        return "%s in %ss (trace: %ss)" % (notification["status"], timeline[-1][1], trace["seconds_to_final"])
    return run


def renamer(cluster, trace_server_id=None, server_id=None):
    def rename(value):
        text = re.sub(r"(?<![\w.-])compute-1(?![\w.-])", cluster.failed, json.dumps(value))
        if trace_server_id:
            text = text.replace(trace_server_id, server_id)
        return json.loads(text)
    return rename


def process_failure():
    trace = load_trace("process-stopped.json")
    cluster = Cluster("process", "auto", failed_state="up")
    since = last_seq()
    # processmonitor's event once nova-compute could not be restarted.
    posted = send_notification("PROCESS", cluster.failed, {"event": "STOPPED", "process_name": "nova-compute"})
    notification, timeline = wait_final(posted.notification_uuid)
    say("  %s: %s" % (posted.notification_uuid, " -> ".join("%s@%ss" % t for t in timeline)))
    rename = renamer(cluster)
    check("final status", notification["status"], trace["final_status"])
    ours = brief_details(notification["recovery_workflow_details"])
    check("task names and states", [(t["name"], t["state"]) for t in ours],
          [(t["name"], t["state"]) for t in trace["recovery_workflow_details"]])
    check("recovery_workflow_details (timestamps left out)", ours,
          brief_details(rename(trace["recovery_workflow_details"])))
    check("host-level Nova calls", host_level(host_calls(since, cluster.failed)),
          host_level(rename(trace["engine_nova_calls"])))
    expect_engine_calls(calls(since))
    service = service_state(cluster.failed)
    check("c1's nova-compute service afterwards", [service["status"], service["disabled_reason"]],
          ["disabled", "Masakari detected process failed."])
    check("the segment's hosts in Masakari afterwards", cluster.masakari_hosts(), {
        cluster.failed: {"on_maintenance": True, "reserved": False},
        cluster.healthy: {"on_maintenance": False, "reserved": False},
        cluster.reserved: {"on_maintenance": False, "reserved": True},
    })
    cluster.assert_not_in_use()
    return "%s in %ss (trace: %ss)" % (notification["status"], timeline[-1][1], trace["waited_seconds"])


def vm_failure():
    trace = load_trace("vm-lifecycle-stopped-failed.json")
    cluster = Cluster("vm", "auto", [{"name": "vm", "vm_state": "stopped", "metadata": {"HA_Enabled": "True"}}],
                      failed_state="up")
    server_id = cluster.servers["vm"]
    since = last_seq()
    # instancemonitor's event for a libvirt domain stopped by a failure.
    posted = send_notification("VM", cluster.failed, {"event": "LIFECYCLE", "instance_uuid": server_id,
                                                      "vir_domain_event": "STOPPED_FAILED"})
    notification, timeline = wait_final(posted.notification_uuid)
    say("  %s: %s" % (posted.notification_uuid, " -> ".join("%s@%ss" % t for t in timeline)))
    traced_id = trace["notification_request"]["payload"]["instance_uuid"]
    rename = renamer(cluster, traced_id, server_id)
    check("final status", notification["status"], trace["final_status"])
    ours = brief_details(notification["recovery_workflow_details"])
    check("task names and states", [(t["name"], t["state"]) for t in ours],
          [(t["name"], t["state"]) for t in trace["recovery_workflow_details"]])
    check("recovery_workflow_details (timestamps left out)", ours,
          brief_details(rename(trace["recovery_workflow_details"])))
    everything = calls(since)
    check("the server's Nova actions", actions(everything, server_id),
          actions(rename(trace["engine_nova_calls"]), server_id))
    check("Nova calls not about the server", [c for c in everything if server_id not in c["path"]], [])
    expect_engine_calls(everything)
    s = server_state(server_id)
    check("the server afterwards", [s["OS-EXT-SRV-ATTR:host"], s["OS-EXT-STS:vm_state"],
                                    s["OS-EXT-STS:task_state"], s["locked"]],
          [cluster.failed, "active", None, False])
    check("the segment's hosts in Masakari afterwards (a VM failure changes none)", cluster.masakari_hosts(), {
        cluster.failed: {"on_maintenance": False, "reserved": False},
        cluster.healthy: {"on_maintenance": False, "reserved": False},
        cluster.reserved: {"on_maintenance": False, "reserved": True},
    })
    cluster.assert_not_in_use()
    return "%s in %ss (trace: %ss)" % (notification["status"], timeline[-1][1], trace["waited_seconds"])


# Each evacuation completes after this many GETs of the server: about this
# many seconds at VERIFY_INTERVAL=1, well inside WAIT_PERIOD_AFTER_EVACUATION
# (20 s) even with a restart of wrangler dev in between.
EVACUATE_POLLS = 4


def gets_after_evacuate(call_list, server_id):
    """How many times the server was read since its evacuate call; None before that call."""
    evacuate = [c["seq"] for c in call_list
                if c["method"] == "POST" and server_id in c["path"] and "evacuate" in (c["body"] or {})]
    if not evacuate:
        return None
    return len([c for c in call_list if c["method"] == "GET" and c["path"].endswith("/servers/" + server_id)
                and c["seq"] > evacuate[0]])


def kill_worker():
    """SIGKILL to wrangler dev's process group (node, esbuild, workerd): a crash, nothing flushed.
    worker-dev.sh sends it at once, then waits for the group to be gone and its ports free."""
    killed = time.monotonic()
    subprocess.run([WORKER_DEV, "kill", os.environ["ENGINE_STATE"]], check=True)
    return killed


def restart_worker():
    """wrangler dev started again as run.sh started it, on the same state; returns once it answers."""
    subprocess.run([WORKER_DEV, "restart", os.environ["ENGINE_STATE"]], check=True)


def run_cron():
    """Runs the Cron Trigger once, retrying until the Worker answers. It nudges the live runs
    (src/engine/periodic.ts); under wrangler dev it fires only when asked."""
    url = ENDPOINT + "/cdn-cgi/local/scheduled?cron=*+*+*+*+*"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise Mismatch("the Cron Trigger could not be run: %s" % url)
        time.sleep(0.25)


def restart():
    trace = load_trace("host-failure-auto.json")
    servers = [dict(s, evacuate_polls=EVACUATE_POLLS) for s in TRACE_SERVERS]
    cluster = Cluster("restart", "auto", servers)
    ids = cluster.servers
    since = last_seq()
    t0 = time.monotonic()
    at = lambda: round(time.monotonic() - t0, 1)  # noqa: E731
    posted = host_down(cluster)
    uuid_ = posted.notification_uuid
    say("  posted %s" % uuid_)

    # Kill once every server's evacuation has been asked for and its first
    # confirmation poll made: the step that evacuated is then stored, and
    # the evacuations are still in progress (EVACUATE_POLLS GETs each).
    deadline = time.monotonic() + 60
    while True:
        everything = calls(since)
        ready = {name: (gets_after_evacuate(everything, server_id) or 0) >= 2 for name, server_id in ids.items()}
        if all(ready.values()):
            break
        if time.monotonic() > deadline:
            raise Mismatch("the evacuations did not start within 60 s: %s" % ready)
        time.sleep(0.05)
    t_evacuating = at()
    status = show(uuid_)["status"]
    require("the notification is running while its instances are evacuated", status == "running", status)
    t_killed = round(kill_worker() - t0, 1)
    seq_killed = last_seq()
    rebuilding = {name: server_state(server_id)["OS-EXT-STS:task_state"] for name, server_id in ids.items()}
    check("the servers' task_state at the kill (evacuations in progress)", rebuilding,
          {name: "rebuilding" for name in ids})
    polled = {name: gets_after_evacuate(calls(since), server_id) for name, server_id in ids.items()}
    say("  evacuating at %ss (status %s); wrangler dev killed (SIGKILL to its process group) at %ss; "
        "GETs since the evacuate call %s of the %d each needs" % (t_evacuating, status, t_killed, polled,
                                                                  EVACUATE_POLLS + 1))

    restart_worker()
    t_up = at()
    # At once: the evacuations' 20 s run on while the Worker is down.
    cron_wall = time.time()
    run_cron()
    t_cron = at()
    say("  wrangler dev answering again at %ss; cron triggered at %ss" % (t_up, t_cron))

    notification, timeline = wait_final(uuid_)
    t_final = at()
    # Nothing resumes by itself under wrangler dev: no Nova call from the kill until the cron.
    quiet = [c for c in calls(seq_killed)
             if datetime.datetime.strptime(c["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                 tzinfo=datetime.timezone.utc).timestamp() < cron_wall]
    say("  Nova calls between the kill and the cron: %d" % len(quiet))
    say("  %s at %ss (polled from the cron on: %s)" % (notification["status"], t_final,
                                                      " -> ".join("%s@+%ss" % t for t in timeline)))

    if notification["status"] != "finished":
        moves = [[m["instance_name"], m["status"], m["message"]] for m in vmoves(uuid_)]
        raise Mismatch("the recovery ended %s after the restart, not finished; VM moves %s. The evacuations "
                       "time out %d s after they start (WAIT_PERIOD_AFTER_EVACUATION), downtime included: "
                       "from the kill to the cron took %.1f s here" % (notification["status"], moves, 20,
                                                                      t_cron - t_killed))
    # Finished, as if nothing had happened: the same details, calls and end state as the trace...
    everything = expect_host_failure_like_trace(cluster, trace, notification, since)
    # ...and, explicitly, no finished step done twice.
    puts = [c for c in host_calls(since, cluster.failed) if c["method"] == "PUT"]
    check("PUTs of the failed host's service (disabled once)", len(puts), 1)
    for name, server_id in ids.items():
        done = [list(body)[0] for body in actions(everything, server_id)]
        check("%s: lock, evacuate and unlock, each once" % name,
              {a: done.count(a) for a in ("lock", "evacuate", "unlock")}, {"lock": 1, "evacuate": 1, "unlock": 1})
    cluster.assert_not_in_use()
    return ("finished: evacuating at %ss, killed at %ss, up at %ss, cron at %ss, finished at %ss; "
            "one disable, one lock/evacuate/unlock per server" % (t_evacuating, t_killed, t_up, t_cron, t_final))


def restart_mid_step():
    """wrangler dev killed while the step that locks and evacuates a server is in flight.

    Workflows runs a step at least once: the interrupted step runs again
    after the restart. The stand-in holds the evacuate call unanswered and
    unapplied (a `hang` fault) until the killed Worker hangs up, so the
    rerun's evacuation is the one that happens. Masakari locked the server,
    so it must unlock it at the end (docs/engine.md, "Evacuating an
    instance", step 8), whatever the restart (D17).
    """
    cluster = Cluster("midstep", "auto", [{"name": "ha-active", "metadata": {"HA_Enabled": "True"}}])
    server_id = cluster.servers["ha-active"]
    since = last_seq()
    nova("POST", "faults", {"method": "POST", "action": "evacuate", "server": server_id, "hang": True, "times": 1})
    t0 = time.monotonic()
    at = lambda: round(time.monotonic() - t0, 1)  # noqa: E731
    posted = host_down(cluster)
    uuid_ = posted.notification_uuid
    deadline = time.monotonic() + 60
    while gets_after_evacuate(calls(since, server=server_id), server_id) is None:
        if time.monotonic() > deadline:
            raise Mismatch("no evacuate call within 60 s")
        time.sleep(0.05)
    status = show(uuid_)["status"]
    require("the notification is running while the evacuate call is held", status == "running", status)
    t_killed = round(kill_worker() - t0, 1)
    before = {k: server_state(server_id)[k] for k in ("locked", "OS-EXT-STS:task_state", "OS-EXT-SRV-ATTR:host")}
    say("  evacuate call held; wrangler dev killed at %ss; the server then: %s" % (t_killed, before))
    restart_worker()
    run_cron()
    t_cron = at()
    notification, timeline = wait_final(uuid_)
    done = [list(body)[0] for body in actions(calls(since), server_id)]
    s = server_state(server_id)
    say("  cron at %ss; %s at %ss; the server's actions %s; locked afterwards: %s"
        % (t_cron, notification["status"], at(), done, s["locked"]))
    check("final status", notification["status"], "finished")
    check("the server afterwards", [s["OS-EXT-SRV-ATTR:host"], s["OS-EXT-STS:vm_state"], s["OS-EXT-STS:task_state"],
                                    s["locked"]], [cluster.healthy, "active", None, False])
    check("the server's actions end with one unlock (Masakari locked it)",
          [done[-1:], done.count("unlock"), done.count("lock") >= 1], [["unlock"], 1, True])
    check("task states", [(t["name"], t["state"]) for t in notification["recovery_workflow_details"]],
          [("DisableComputeServiceTask", "SUCCESS"), ("PrepareHAEnabledInstancesTask", "SUCCESS"),
           ("EvacuateInstancesTask", "SUCCESS")])
    cluster.assert_not_in_use()
    return "finished, the server on %s and unlocked" % cluster.healthy


# --- steering (D21, D22) -------------------------------------------------------------------------

HOST_DOWN = {"event": "STOPPED", "cluster_status": "OFFLINE", "host_status": "NORMAL"}


def act(uuid_, body):
    """POST /v1/notifications/{id}/action (D21): the status code and the notification (or fault)."""
    response = ha().post("/notifications/%s/action" % uuid_, json=body, microversion="1.1")
    return response.status_code, response.json()


def plain_cluster(scenario, size, failed, servers):
    """An `auto` segment of `size` hosts h1..h<size> in a zone of their own; the first `failed` hosts
    down in Nova, each with `servers` (a list of control bodies) on it. Returns (segment, names, ids)."""
    prefix = "%s-%s" % (scenario, RUN)
    zone = "zone-" + prefix
    names = ["%s-h%d" % (prefix, i) for i in range(1, size + 1)]
    ids = {}
    for i, name in enumerate(names):
        nova("POST", "hosts", {"name": name, "zone": zone, "state": "down" if i < failed else "up"})
        if i < failed:
            for server in servers:
                ids[name] = nova("POST", "servers", dict(server, host=name, name="%s-vm" % name))["id"]
    segment = ha().create_segment(name="seg-" + prefix, recovery_method="auto", service_type="COMPUTE")
    for name in names:
        ha().create_host(segment.uuid, name=name, type="COMPUTE", control_attributes="SSH")
    return segment, names, ids


def wait_for(what, ok, timeout=RECOVERY_TIMEOUT, label="a condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise Mismatch("%s did not hold within %d s: %s" % (label, timeout, value))
        time.sleep(0.25)


def storm():
    """D22 then D21 release: 3 of a 4-host segment's hosts fail at once; 2 recover, 1 is held until released."""
    segment, names, ids = plain_cluster("storm", 4, 3, [{"metadata": {"HA_Enabled": "True"}, "evacuate_polls": 3}])
    since = last_seq()
    posted = [send_notification("COMPUTE_HOST", name, HOST_DOWN).notification_uuid for name in names[:3]]
    statuses = lambda: [show(u) for u in posted]  # noqa: E731
    settled = wait_for(statuses, lambda ns: sorted(n["status"] for n in ns) == ["finished", "finished", "new"]
                       and any(t["name"] == "StormGuard" for n in ns for t in n["recovery_workflow_details"]),
                       label="two finished and one held")
    held = next(n for n in settled if n["status"] == "new")
    host = names[posted.index(held["notification_uuid"])]
    guard = next(t for t in held["recovery_workflow_details"] if t["name"] == "StormGuard")
    say("  held %s (%s): %s" % (held["notification_uuid"], host, guard["progress_details"][0]["message"]))
    check("Nova calls about the held host's server", [c for c in calls(since, server=ids[host])
                                                      if c["method"] != "GET"], [])
    check("the held host in Masakari", ha().get_host(next(h.uuid for h in ha().hosts(segment.uuid)
                                                           if h.name == host), segment.uuid).on_maintenance, True)
    code, body = act(held["notification_uuid"], {"release": None})
    check("release answers", code, 202)
    notification, timeline = wait_final(held["notification_uuid"])
    check("the released one's status", notification["status"], "finished")
    s = server_state(ids[host])
    check("its server afterwards", [s["OS-EXT-SRV-ATTR:host"], s["locked"]], [names[3], False])
    code, body = act(held["notification_uuid"], {"release": None})
    check("a second release", code, 409)
    return "2 finished, %s held then released: finished in %ss" % (host, timeline[-1][1])


def abort_then_retry():
    """D21 abort of a running recovery (its server unlocked), then retry of the failed notification."""
    segment, names, ids = plain_cluster("abort", 2, 1, [{"metadata": {"HA_Enabled": "True"}}])
    server = ids[names[0]]
    since = last_seq()
    nova("POST", "faults", {"method": "POST", "action": "evacuate", "server": server, "result": "stuck", "times": 1})
    uuid_ = send_notification("COMPUTE_HOST", names[0], HOST_DOWN).notification_uuid
    wait_for(lambda: [list(b)[0] for b in actions(calls(since), server)], lambda done: "evacuate" in done,
             timeout=60, label="the evacuate call")
    check("status while evacuating", show(uuid_)["status"], "running")
    code, body = act(uuid_, {"abort": {"reason": "evacuation stuck"}})
    check("abort answers", [code, body.get("notification", {}).get("status")], [202, "failed"])
    check("the server once aborted", server_state(server)["locked"], False)
    check("its VM move", [m["status"] for m in vmoves(uuid_)], ["failed"])
    time.sleep(3)  # the stopped run sends Nova nothing more
    check("the server still unlocked a moment later", server_state(server)["locked"], False)
    # The operator clears what Nova left stuck, then retries.
    nova("POST", "servers", {"id": server, "task_state": None})
    code, body = act(uuid_, {"retry": None})
    check("retry answers", code, 202)
    notification, timeline = wait_final(uuid_)
    check("the retried one's status", notification["status"], "finished")
    s = server_state(server)
    check("the server afterwards", [s["OS-EXT-SRV-ATTR:host"], s["locked"]], [names[1], False])
    ha().update_segment(segment.uuid, description="recovered after a retry")
    return "aborted while running (unlocked), retried: finished in %ss" % timeline[-1][1]


def ignore_error():
    """D21 ignore of a notification in error: ignored without Nova, and its segment can be updated."""
    segment, names, ids = plain_cluster("ignore", 2, 1, [{"metadata": {"HA_Enabled": "True"}}])
    nova("POST", "faults", {"method": "POST", "action": "evacuate", "server": ids[names[0]], "result": "error",
                            "times": 1})
    uuid_ = send_notification("COMPUTE_HOST", names[0], HOST_DOWN).notification_uuid
    notification, _ = wait_final(uuid_)
    check("status after a failed evacuation", notification["status"], "error")
    try:
        ha().update_segment(segment.uuid, description="while in error")
        raise Mismatch("the segment could be updated while its notification is in error")
    except exceptions.ConflictException:
        pass
    since = last_seq()
    code, body = act(uuid_, {"ignore": {"reason": "the host came back"}})
    check("ignore answers", [code, body["notification"]["status"]], [202, "ignored"])
    check("Nova calls made by ignore", [c for c in calls(since) if c["method"] != "GET"], [])
    tasks = body["notification"]["recovery_workflow_details"]
    action = next(t for t in tasks if t["name"] == "OperatorAction")
    require("the OperatorAction task names the reason", "the host came back" in json.dumps(action), action)
    ha().update_segment(segment.uuid, description="free again")
    return "error, ignored, segment updated"


SCENARIOS = [
    ("auto", host_failure("auto", "auto", "host-failure-auto.json")),
    ("reserved_host", host_failure("reserved_host", "reserved_host", "host-failure-reserved_host.json")),
    ("auto_priority", host_failure("auto_priority", "auto_priority", "host-failure-auto_priority.json")),
    ("rh_priority", host_failure("rh_priority", "rh_priority", "host-failure-rh_priority.json")),
    ("process", process_failure),
    ("vm", vm_failure),
    ("restart", restart),
    ("restart_mid_step", restart_mid_step),
    ("storm", storm),
    ("abort_then_retry", abort_then_retry),
    ("ignore_error", ignore_error),
]


def main(argv):
    wanted = argv[1:] or [name for name, _ in SCENARIOS]
    unknown = set(wanted) - {name for name, _ in SCENARIOS}
    if unknown:
        sys.exit("unknown scenario(s) %s; known: %s" % (", ".join(sorted(unknown)),
                                                        ", ".join(name for name, _ in SCENARIOS)))
    results = []
    for name, scenario in SCENARIOS:
        if name not in wanted:
            continue
        say("== %s" % name)
        started = time.monotonic()
        try:
            outcome = scenario()
            results.append((name, "PASS", time.monotonic() - started, outcome))
            say("   PASS %s" % outcome)
        except Exception as exc:  # noqa: BLE001 - every failure is reported, then the next scenario runs
            detail = str(exc) if isinstance(exc, Mismatch) else traceback.format_exc()
            short = exc.short if isinstance(exc, Mismatch) else "%s: %s" % (type(exc).__name__, exc)
            results.append((name, "FAIL", time.monotonic() - started, short))
            say("   FAIL %s" % detail)
    print("\ntest:engine summary")
    for name, verdict, seconds, outcome in results:
        print("  %-16s %s %5.1f s  %s" % (name, verdict, seconds, outcome))
    return 0 if results and all(r[1] == "PASS" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
