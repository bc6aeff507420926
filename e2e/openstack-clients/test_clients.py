#!/usr/bin/python3
"""The real OpenStack clients against a Masakari API v1 endpoint.

Drives a server the way operators do: openstacksdk's ``conn.instance_ha``
proxy (openstacksdk 0.101.0) and the ``openstack segment|notification``
commands of openstackclient 6.0.0 + python3-masakariclient 8.0.0, all from
Debian, with no Keystone (the keystoneauth ``none`` plugin and a fixed
endpoint). The same file runs against this Worker and against the real
Masakari reference server; where masakari-edge deliberately differs
(the README's table of differences) a test branches on MASAKARI_TARGET, asserts
each target's own behaviour and names the decision.

    MASAKARI_ENDPOINT=http://127.0.0.1:PORT/v1 MASAKARI_TARGET=worker|reference \\
        /usr/bin/python3 e2e/openstack-clients/test_clients.py [-v] [unittest args]

Optional: MASAKARI_TRACE=FILE writes openstacksdk's HTTP trace there
(compare_traces.py beside this file compares two of them).

Use /usr/bin/python3: a pyenv python3 earlier on PATH lacks Debian's
openstacksdk. run.sh beside this file starts both servers and runs this file twice.

Test classes
  Sdk*                       openstacksdk instance_ha proxy, operator usage
  Cli*                       the openstack CLI, output parsed from -f json/value
  MasakariFunctional*        ports of masakari/tests/functional/test_{segments,hosts}.py
  OpenstackSdkFunctional*    ports of openstack/tests/functional/instance_ha/test_{segment,host}.py
Every name a test creates carries a per-run tag, so a run neither depends on
nor disturbs what other runs left in the database. Upstream tests that need
Nova hypervisors use made-up host names: the reference's stand-in Nova knows
every name but "unknown-compute", and the Worker asks Nova only when a compute
endpoint is configured (D10).
"""
import datetime
import itertools
import json
import logging
import os
import re
import subprocess
import sys
import unittest
import uuid

import openstack
from openstack import exceptions

ENDPOINT = os.environ.get("MASAKARI_ENDPOINT", "http://127.0.0.1:15868/v1")
TARGET = os.environ.get("MASAKARI_TARGET", "reference")
if TARGET not in ("worker", "reference"):
    sys.exit("MASAKARI_TARGET must be worker or reference, not %r" % TARGET)
WORKER = TARGET == "worker"
OPENSTACK = os.environ.get("MASAKARI_OPENSTACK_CLI", "/usr/bin/openstack")
MISSING = "00000000-0000-0000-0000-000000000000"

if os.environ.get("MASAKARI_TRACE"):
    openstack.enable_logging(debug=True, http_debug=True, path=os.environ["MASAKARI_TRACE"], stream=None)

# One tag per process: names are unique per run and per test.
RUN = datetime.datetime.utcnow().strftime("%H%M%S") + uuid.uuid4().hex[:4]
_counter = itertools.count(1)


def unique(prefix):
    return "%s-%s-%d" % (prefix, RUN, next(_counter))


_conn = None


def connect():
    """One connection for the whole run (discovery runs once), as an operator script would."""
    global _conn
    if _conn is None:
        _conn = openstack.connect(auth_type="none", auth={"endpoint": ENDPOINT},
                                  load_yaml_config=False, load_envvars=False)
    return _conn


class Base(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        # marks the test in the HTTP trace (MASAKARI_TRACE) for compare_traces.py
        logging.getLogger("openstack").debug("TEST %s", self.id())

    @property
    def ha(self):
        return connect().instance_ha

    # --- fixtures through the SDK, each removed again when the test ends ---

    def segment(self, **attrs):
        attrs.setdefault("name", unique("seg"))
        attrs.setdefault("recovery_method", "auto")
        attrs.setdefault("service_type", "COMPUTE")
        segment = self.ha.create_segment(**attrs)
        self.addCleanup(self.forget_segment, segment.uuid)
        return segment

    def forget_segment(self, segment_uuid):
        """Delete unless a notification keeps it in use (it then stays: no engine)."""
        try:
            self.ha.delete_segment(segment_uuid)
        except exceptions.ConflictException:
            pass

    def host(self, segment_uuid, **attrs):
        attrs.setdefault("name", unique("host"))
        attrs.setdefault("type", "COMPUTE")
        attrs.setdefault("control_attributes", "SSH")
        return self.ha.create_host(segment_uuid, **attrs)

    def notification(self, hostname, generated_time="2026-01-01T00:00:00", event="STOPPED", **payload):
        payload["event"] = event
        return self.ha.create_notification(type="COMPUTE_HOST", hostname=hostname,
                                           generated_time=generated_time, payload=payload)

    def assertContainsSubset(self, expected, actual):
        """assertDictContainsSubset (what upstream uses; gone from Python 3.12) for SDK resources."""
        self.assertEqual(expected, {key: actual[key] for key in expected})

    def assertOnceEach(self, wanted, got):
        """Every wanted uuid occurs exactly once in got (a list of uuids)."""
        for item in wanted:
            self.assertEqual(1, got.count(item), "%s occurs %d times in %s" % (item, got.count(item), got))


# ---------------------------------------------------------------------------
# openstacksdk: segments
# ---------------------------------------------------------------------------
class SdkSegmentsTest(Base):
    def test_create_get_update_delete(self):
        name = unique("seg")
        segment = self.ha.create_segment(name=name, recovery_method="auto", service_type="COMPUTE",
                                         description="via sdk")
        self.addCleanup(self.forget_segment, segment.uuid)
        self.assertEqual(name, segment.name)
        self.assertEqual("auto", segment.recovery_method)
        self.assertEqual("COMPUTE", segment.service_type)
        self.assertEqual("via sdk", segment.description)
        self.assertIs(True, segment.is_enabled)
        self.assertIsInstance(segment.id, int)
        self.assertRegex(segment.uuid, r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        self.assertRegex(segment.created_at, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
        self.assertIsNone(segment.updated_at)

        got = self.ha.get_segment(segment.uuid)
        self.assertEqual(segment, got)

        updated = self.ha.update_segment(segment.uuid, description="updated", recovery_method="reserved_host",
                                         is_enabled=False)
        self.assertEqual("updated", updated.description)
        self.assertEqual("reserved_host", updated.recovery_method)
        self.assertIs(False, updated.is_enabled)
        self.assertRegex(updated.updated_at, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
        got = self.ha.get_segment(segment.uuid)
        self.assertEqual(("updated", "reserved_host", False, name),
                         (got.description, got.recovery_method, got.is_enabled, got.name))

        self.assertIsNotNone(self.ha.delete_segment(segment.uuid))
        self.assertRaises(exceptions.ResourceNotFound, self.ha.get_segment, segment.uuid)

    def test_create_disabled(self):
        segment = self.segment(recovery_method="rh_priority", is_enabled=False)
        self.assertIs(False, segment.is_enabled)
        self.assertIs(False, self.ha.get_segment(segment.uuid).is_enabled)

    def test_list_pages_by_marker(self):
        kind = unique("PAGE")
        created = [self.segment(service_type=kind).uuid for _ in range(5)]
        # The SDK asks for limit=2, then follows with marker=<integer id of the last item>
        # until a page comes back empty.
        paged = [s.uuid for s in self.ha.segments(limit=2)]
        self.assertOnceEach(created, paged)
        self.assertEqual(len(paged), len(set(paged)), "a segment came back twice across pages")
        everything = [s.uuid for s in self.ha.segments()]
        self.assertCountEqual(everything, paged)
        # the server honours the page size the SDK asked for
        page = self.ha.get("/segments", params={"limit": 2}).json()["segments"]
        self.assertEqual(2, len(page))
        # filtered and paged together
        self.assertEqual(sorted(created), sorted(s.uuid for s in self.ha.segments(service_type=kind, limit=2)))

    def test_list_filters(self):
        kind = unique("FILTER")
        auto = self.segment(service_type=kind, recovery_method="auto")
        reserved = self.segment(service_type=kind, recovery_method="reserved_host")
        self.segment(service_type=kind + "-other", recovery_method="auto")
        self.assertEqual({auto.uuid, reserved.uuid}, {s.uuid for s in self.ha.segments(service_type=kind)})
        self.assertEqual([reserved.uuid],
                         [s.uuid for s in self.ha.segments(service_type=kind, recovery_method="reserved_host")])
        self.assertEqual([auto.uuid], [s.uuid for s in self.ha.segments(service_type=kind, recovery_method="auto")])
        for s in self.ha.segments(recovery_method="auto"):
            self.assertEqual("auto", s.recovery_method)

    def test_list_is_enabled_filter_D5(self):
        """D5: is_enabled=False is sent as ?enabled=False. The Worker parses it as a boolean and
        lists the disabled segments; the reference (SQLite) compares the string to an integer
        column and lists nothing, whatever the value. (Both targets get the same requests, so
        the two HTTP traces stay aligned for compare_traces.py.)"""
        kind = unique("ENABLED")
        enabled = self.segment(service_type=kind)
        disabled = self.segment(service_type=kind, is_enabled=False)
        off = list(self.ha.segments(is_enabled=False))
        on = list(self.ha.segments(is_enabled=True))
        mine_off = [s.uuid for s in self.ha.segments(service_type=kind, is_enabled=False)]
        if WORKER:
            self.assertIn(disabled.uuid, [s.uuid for s in off])
            self.assertNotIn(enabled.uuid, [s.uuid for s in off])
            self.assertTrue(all(s.is_enabled is False for s in off))
            self.assertIn(enabled.uuid, [s.uuid for s in on])
            self.assertNotIn(disabled.uuid, [s.uuid for s in on])
            self.assertTrue(all(s.is_enabled is True for s in on))
            self.assertEqual([disabled.uuid], mine_off)
        else:
            self.assertEqual([], off)
            self.assertEqual([], on)
            self.assertEqual([], mine_off)

    def test_recovery_method_case_D3(self):
        """D3: recovery_method is case-insensitive on the Worker, in bodies and in the list
        filter, and stored lower-case; the reference answers 400 to 'AUTO' in a body and lists
        nothing for ?recovery_method=AUTO. (Same requests on both targets.)"""
        kind = unique("CASE")
        segment = self.segment(service_type=kind, recovery_method="reserved_host")
        if WORKER:
            updated = self.ha.update_segment(segment.uuid, recovery_method="AUTO")
            self.assertEqual("auto", updated.recovery_method)
            self.assertEqual("auto", self.ha.get_segment(segment.uuid).recovery_method)
        else:
            self.assertRaises(exceptions.BadRequestException, self.ha.update_segment, segment.uuid,
                              recovery_method="AUTO")
            self.assertEqual("reserved_host", self.ha.get_segment(segment.uuid).recovery_method)
        listed = [s.uuid for s in self.ha.segments(service_type=kind, recovery_method="AUTO")]
        self.assertEqual([segment.uuid] if WORKER else [], listed)

    def test_create_status_D2(self):
        """D2: POST /v1/segments answers 202 on the Worker, 201 on the reference. The SDK's
        create_segment accepts both (the other tests); only the raw response shows it."""
        response = self.ha.post("/segments", json={"segment": {
            "name": unique("seg"), "recovery_method": "auto", "service_type": "COMPUTE"}})
        self.addCleanup(self.forget_segment, response.json()["segment"]["uuid"])
        self.assertEqual(202 if WORKER else 201, response.status_code)

    def test_sort(self):
        kind = unique("SORT")
        names = [unique("sort-%s" % letter) for letter in "bca"]
        for name in names:
            self.segment(service_type=kind, name=name)
        asc = [s.name for s in self.ha.segments(service_type=kind, sort_key="name", sort_dir="asc")]
        desc = [s.name for s in self.ha.segments(service_type=kind, sort_key="name", sort_dir="desc")]
        self.assertEqual(sorted(names), asc)
        self.assertEqual(sorted(names, reverse=True), desc)
        # default order: newest first (created_at desc, id desc)
        self.assertEqual(list(reversed(names)), [s.name for s in self.ha.segments(service_type=kind)])
        self.assertRaises(exceptions.BadRequestException, list, self.ha.segments(sort_key="bogus"))

    def test_missing(self):
        self.assertRaises(exceptions.ResourceNotFound, self.ha.get_segment, MISSING)
        self.assertRaises(exceptions.ResourceNotFound, self.ha.update_segment, MISSING, description="x")
        self.assertRaises(exceptions.ResourceNotFound, self.ha.delete_segment, MISSING, ignore_missing=False)
        self.assertIsNone(self.ha.delete_segment(MISSING))
        self.assertRaises(exceptions.ResourceNotFound, self.ha.get_segment, "not-a-uuid")

    def test_duplicate_name_conflict(self):
        segment = self.segment()
        with self.assertRaises(exceptions.ConflictException) as raised:
            self.ha.create_segment(name=segment.name, recovery_method="auto", service_type="COMPUTE")
        self.assertIn("Failover segment with name %s already exists." % segment.name, str(raised.exception))
        other = self.segment()
        self.assertRaises(exceptions.ConflictException, self.ha.update_segment, other.uuid, name=segment.name)

    def test_name_reusable_after_delete(self):
        segment = self.segment()
        self.ha.delete_segment(segment.uuid, ignore_missing=False)
        again = self.segment(name=segment.name)
        self.assertNotEqual(segment.uuid, again.uuid)

    def test_segment_object_uses_integer_id(self):
        """Client quirk of openstacksdk 0.101.0: a Segment object passed to get/update/delete_segment
        puts its integer id in the URL, which the server does not know -> 404."""
        segment = self.segment()
        self.assertRaises(exceptions.ResourceNotFound, self.ha.get_segment, segment)
        self.assertIsNone(self.ha.delete_segment(segment))  # ignore_missing: nothing happens
        self.assertEqual(segment.uuid, self.ha.get_segment(segment.uuid).uuid)

    def test_in_use_conflict(self):
        segment = self.segment()
        host = self.host(segment.uuid)
        self.notification(host.name)
        with self.assertRaises(exceptions.ConflictException) as raised:
            self.ha.update_segment(segment.uuid, description="x")
        self.assertIn("Failover segment %s can't be updated as it is in-use to process notifications."
                      % segment.uuid, str(raised.exception))
        with self.assertRaises(exceptions.ConflictException) as raised:
            self.ha.delete_segment(segment.uuid)
        self.assertIn("Failover segment (%s) can't be deleted as it is in-use to process notifications."
                      % segment.uuid, str(raised.exception))
        # creating another host in a segment in use is still allowed
        self.assertEqual(segment.uuid, self.host(segment.uuid).failover_segment_id)


# ---------------------------------------------------------------------------
# openstacksdk: hosts
# ---------------------------------------------------------------------------
class SdkHostsTest(Base):
    def setUp(self):
        super().setUp()
        self.seg = self.segment()

    def test_create_get_update_delete(self):
        name = unique("host")
        host = self.ha.create_host(self.seg.uuid, name=name, type="COMPUTE", control_attributes="SSH")
        self.assertEqual((name, "COMPUTE", "SSH", False, False, self.seg.uuid),
                         (host.name, host.type, host.control_attributes, host.on_maintenance, host.reserved,
                          host.failover_segment_id))
        self.assertIsInstance(host.id, int)
        got = self.ha.get_host(host.uuid, self.seg.uuid)
        self.assertEqual((host.uuid, name, self.seg.uuid, False, False),
                         (got.uuid, got.name, got.failover_segment_id, got.on_maintenance, got.reserved))

        updated = self.ha.update_host(host.uuid, self.seg.uuid, reserved=True, on_maintenance=True,
                                      control_attributes="TCP", type="CONTROLLER")
        self.assertEqual((True, True, "TCP", "CONTROLLER"),
                         (updated.reserved, updated.on_maintenance, updated.control_attributes, updated.type))
        got = self.ha.get_host(host.uuid, self.seg.uuid)
        self.assertEqual((True, True, "TCP", "CONTROLLER"),
                         (got.reserved, got.on_maintenance, got.control_attributes, got.type))

        self.ha.delete_host(host.uuid, self.seg.uuid, ignore_missing=False)
        self.assertRaises(exceptions.ResourceNotFound, self.ha.get_host, host.uuid, self.seg.uuid)
        self.assertRaises(exceptions.ResourceNotFound, self.ha.delete_host, host.uuid, self.seg.uuid,
                          ignore_missing=False)
        self.assertIsNone(self.ha.delete_host(host.uuid, self.seg.uuid))

    def test_list_filters(self):
        compute = self.host(self.seg.uuid, type="COMPUTE", reserved=False, on_maintenance=False)
        reserved = self.host(self.seg.uuid, type="COMPUTE", reserved=True, on_maintenance=False)
        maint = self.host(self.seg.uuid, type="CONTROLLER", reserved=False, on_maintenance=True)

        def names(**query):
            return sorted(h.name for h in self.ha.hosts(self.seg.uuid, **query))

        self.assertEqual(sorted([compute.name, reserved.name, maint.name]), names())
        self.assertEqual(sorted([compute.name, reserved.name]), names(type="COMPUTE"))
        self.assertEqual([maint.name], names(type="CONTROLLER"))
        # booleans as the SDK sends them: ?reserved=True / ?on_maintenance=False
        self.assertEqual([reserved.name], names(reserved=True))
        self.assertEqual(sorted([compute.name, maint.name]), names(reserved=False))
        self.assertEqual([maint.name], names(on_maintenance=True))
        self.assertEqual([compute.name], names(on_maintenance=False, reserved=False, type="COMPUTE"))
        self.assertEqual([reserved.name], names(on_maintenance="False", reserved="True"))
        self.assertEqual(sorted([compute.name, reserved.name, maint.name]),
                         names(failover_segment_id=self.seg.uuid))
        for h in self.ha.hosts(self.seg.uuid):
            self.assertEqual(self.seg.uuid, h.failover_segment_id)
        self.assertRaises(exceptions.BadRequestException, list, self.ha.hosts(self.seg.uuid, reserved="bogus"))

    def test_list_pages_by_marker(self):
        created = [self.host(self.seg.uuid).uuid for _ in range(5)]
        paged = [h.uuid for h in self.ha.hosts(self.seg.uuid, limit=2)]
        self.assertEqual(sorted(created), sorted(paged))
        self.assertOnceEach(created, paged)

    def test_sort(self):
        names = [unique("hsort-%s" % letter) for letter in "bca"]
        for name in names:
            self.host(self.seg.uuid, name=name)
        self.assertEqual(sorted(names), [h.name for h in self.ha.hosts(self.seg.uuid, sort_key="name",
                                                                        sort_dir="asc")])
        self.assertEqual(list(reversed(names)), [h.name for h in self.ha.hosts(self.seg.uuid)])

    def test_missing(self):
        self.assertRaises(exceptions.ResourceNotFound, self.ha.get_host, MISSING, self.seg.uuid)
        self.assertRaises(exceptions.ResourceNotFound, self.ha.update_host, MISSING, self.seg.uuid, reserved=True)
        self.assertRaises(exceptions.ResourceNotFound, list, self.ha.hosts(MISSING))
        self.assertRaises(exceptions.ResourceNotFound, self.ha.create_host, MISSING, name=unique("host"),
                          type="COMPUTE", control_attributes="SSH")
        # a host asked for through a segment it does not belong to
        host = self.host(self.seg.uuid)
        other = self.segment()
        self.assertRaises(exceptions.ResourceNotFound, self.ha.get_host, host.uuid, other.uuid)

    def test_duplicate_name_conflict(self):
        host = self.host(self.seg.uuid)
        with self.assertRaises(exceptions.ConflictException) as raised:
            self.host(self.seg.uuid, name=host.name)
        self.assertIn("Host with name %s already exists." % host.name, str(raised.exception))
        # host names are unique across segments
        other = self.segment()
        self.assertRaises(exceptions.ConflictException, self.host, other.uuid, name=host.name)
        second = self.host(self.seg.uuid)
        self.assertRaises(exceptions.ConflictException, self.ha.update_host, second.uuid, self.seg.uuid,
                          name=host.name)

    def test_in_use_conflict(self):
        busy = self.host(self.seg.uuid)
        idle = self.host(self.seg.uuid)
        self.notification(busy.name)
        for host in (busy, idle):  # any host of a segment in use
            with self.assertRaises(exceptions.ConflictException) as raised:
                self.ha.update_host(host.uuid, self.seg.uuid, reserved=True)
            self.assertIn("Host %s can't be updated as it is in-use to process notifications." % host.uuid,
                          str(raised.exception))
            with self.assertRaises(exceptions.ConflictException) as raised:
                self.ha.delete_host(host.uuid, self.seg.uuid)
            self.assertIn("Host %s can't be deleted as it is in-use to process notifications." % host.uuid,
                          str(raised.exception))

    def test_bad_request(self):
        self.assertRaises(exceptions.BadRequestException, self.ha.create_host, self.seg.uuid,
                          name=unique("host"), type="COMPUTE HOST", control_attributes="SSH")
        self.assertRaises(exceptions.BadRequestException, self.ha.create_host, self.seg.uuid,
                          name=unique("host"), type="COMPUTE", control_attributes="SSH", reserved="maybe")


# ---------------------------------------------------------------------------
# openstacksdk: notifications
# ---------------------------------------------------------------------------
class SdkNotificationsTest(Base):
    def setUp(self):
        super().setUp()
        self.seg = self.segment()
        self.hst = self.host(self.seg.uuid)

    def test_create_get(self):
        payload = {"event": "STOPPED", "host_status": "NORMAL", "cluster_status": "ONLINE"}
        created = self.ha.create_notification(type="COMPUTE_HOST", hostname=self.hst.name,
                                              generated_time="2026-01-01T10:00:00", payload=payload)
        self.assertEqual(("COMPUTE_HOST", "new", payload, self.hst.uuid, "2026-01-01T10:00:00.000000"),
                         (created.type, created.status, created.payload, created.source_host_uuid,
                          created.generated_time))
        self.assertIsInstance(created.id, int)
        got = self.ha.get_notification(created.notification_uuid)
        self.assertEqual((created.notification_uuid, created.id, "COMPUTE_HOST", "new", payload, self.hst.uuid,
                          "2026-01-01T10:00:00.000000"),
                         (got.notification_uuid, got.id, got.type, got.status, got.payload, got.source_host_uuid,
                          got.generated_time))
        # the SDK sends no microversion for notifications (1.0): no recovery_workflow_details
        self.assertIsNone(got.recovery_workflow_details)

    def test_create_other_types(self):
        process = self.ha.create_notification(type="PROCESS", hostname=self.hst.name,
                                              generated_time="2026-01-01T10:00:00.123456",
                                              payload={"process_name": "nova-compute", "event": "STOPPED"})
        self.assertEqual(("PROCESS", "2026-01-01T10:00:00.123456"), (process.type, process.generated_time))
        vm = self.ha.create_notification(type="VM", hostname=self.hst.name, generated_time="2026-01-01T10:00:00",
                                         payload={"instance_uuid": str(uuid.uuid4()),
                                                  "vir_domain_event": "STOPPED_FAILED", "event": "LIFECYCLE"})
        self.assertEqual("VM", self.ha.get_notification(vm.notification_uuid).type)

    def test_list_filters(self):
        first = self.notification(self.hst.name, "2020-01-01T00:00:00")
        second = self.notification(self.hst.name, "2020-01-01T01:00:00")
        third = self.ha.create_notification(type="PROCESS", hostname=self.hst.name,
                                            generated_time="2020-01-01T02:00:00",
                                            payload={"process_name": "nova-compute", "event": "STOPPED"})
        mine = dict(source_host_uuid=self.hst.uuid)

        def uuids(**query):
            return [n.notification_uuid for n in self.ha.notifications(**mine, **query)]

        self.assertEqual([third.notification_uuid, second.notification_uuid, first.notification_uuid], uuids())
        self.assertEqual([second.notification_uuid, first.notification_uuid], uuids(type="COMPUTE_HOST"))
        self.assertEqual([third.notification_uuid], uuids(type="PROCESS"))
        self.assertEqual(3, len(uuids(status="new")))
        self.assertEqual([], uuids(status="finished"))
        self.assertEqual([third.notification_uuid, second.notification_uuid],
                         uuids(generated_since="2020-01-01T01:00:00"))
        self.assertEqual([third.notification_uuid], uuids(generated_since="2020-01-01T01:30:00"))
        self.assertEqual([first.notification_uuid, second.notification_uuid, third.notification_uuid],
                         uuids(sort_key="generated_time", sort_dir="asc"))
        for n in self.ha.notifications(status="new", type="COMPUTE_HOST", limit=50):
            self.assertEqual(("new", "COMPUTE_HOST"), (n.status, n.type))
        self.assertRaises(exceptions.BadRequestException, list,
                          self.ha.notifications(generated_since="not-a-time"))

    def test_list_pages_by_marker(self):
        created = [self.notification(self.hst.name, "2020-01-0%dT00:00:00" % day).notification_uuid
                   for day in range(1, 6)]
        paged = [n.notification_uuid for n in self.ha.notifications(source_host_uuid=self.hst.uuid, limit=2)]
        self.assertEqual(list(reversed(created)), paged)
        everything = [n.notification_uuid for n in self.ha.notifications(limit=3)]
        self.assertOnceEach(created, everything)
        self.assertEqual(len(everything), len(set(everything)))

    def test_missing(self):
        self.assertRaises(exceptions.ResourceNotFound, self.ha.get_notification, MISSING)
        self.assertRaises(exceptions.BadRequestException, self.notification, unique("nobody"))

    def test_duplicate_conflict(self):
        self.notification(self.hst.name, "2026-02-01T00:00:00")
        with self.assertRaises(exceptions.ConflictException) as raised:
            self.notification(self.hst.name, "2026-02-01T00:02:00")  # same payload within 180 s
        self.assertIn("Notification received from host %s of type COMPUTE_HOST is duplicate." % self.hst.name,
                      str(raised.exception))
        self.notification(self.hst.name, "2026-02-01T00:02:00", event="STARTED")  # other payload: accepted

    def test_host_on_maintenance_conflict(self):
        host = self.host(self.seg.uuid, on_maintenance=True)
        with self.assertRaises(exceptions.ConflictException) as raised:
            self.notification(host.name)
        self.assertIn("Notification received from host %s of type 'COMPUTE_HOST' is ignored as the host is "
                      "already under maintenance." % host.name, str(raised.exception))

    def test_bad_payload(self):
        self.assertRaises(exceptions.BadRequestException, self.notification, self.hst.name, event="EXPLODED")
        self.assertRaises(exceptions.BadRequestException, self.ha.create_notification, type="COMPUTE_HOST",
                          hostname=self.hst.name, generated_time="yesterday", payload={"event": "STOPPED"})


# ---------------------------------------------------------------------------
# masakari/tests/functional/test_segments.py (TestSegments)
# ---------------------------------------------------------------------------
class MasakariFunctionalSegmentsTest(Base):
    def test_create_get_delete(self):
        segment_data = {"name": unique("seg"), "recovery_method": "auto", "service_type": "COMPUTE"}
        segment = self.ha.create_segment(**segment_data)
        self.addCleanup(self.forget_segment, segment.uuid)
        self.assertContainsSubset(segment_data, segment)
        result = self.ha.get_segment(segment.uuid)
        self.assertEqual(segment.name, result.name)
        self.assertEqual(segment.recovery_method, result.recovery_method)
        self.assertEqual(segment.service_type, result.service_type)
        self.ha.delete_segment(segment.uuid)
        self.assertRaises(exceptions.ResourceNotFound, self.ha.get_segment, segment.uuid)

    def test_create_delete_with_host(self):
        segment = self.ha.create_segment(name=unique("seg"), recovery_method="auto", service_type="COMPUTE")
        self.addCleanup(self.forget_segment, segment.uuid)
        host = self.ha.create_host(segment_id=segment.uuid, name=unique("hypervisor"), type="COMPUTE",
                                   control_attributes="SSH")
        result = self.ha.get_segment(segment.uuid)
        self.assertEqual(segment.name, result.name)
        # deleting the segment deletes its hosts as well
        self.ha.delete_segment(segment["uuid"])
        self.assertRaises(exceptions.ResourceNotFound, self.ha.get_segment, segment.uuid)
        self.assertRaises(exceptions.ResourceNotFound, self.ha.get_host, host.uuid, segment.uuid)

    def test_list(self):
        # Upstream needs a clean database: the list equals the two created segments. Here the
        # list must equal what was there before plus the two, each exactly once, and the two
        # listed objects must equal the created ones (assertItemsEqual on SDK objects upstream).
        before = [s.uuid for s in self.ha.segments()]
        segment_1 = self.segment(name=unique("seg"), recovery_method="auto", service_type="COMPUTE")
        segment_2 = self.segment(name=unique("seg"), recovery_method="reserved_host", service_type="COMPUTE")
        segments = list(self.ha.segments())
        self.assertCountEqual(before + [segment_1.uuid, segment_2.uuid], [s.uuid for s in segments])
        self.assertCountEqual([segment_1, segment_2],
                              [s for s in segments if s.uuid in (segment_1.uuid, segment_2.uuid)])
        if not before:
            self.assertCountEqual([segment_1, segment_2], segments)  # the upstream assertion, verbatim

    def test_list_with_filter(self):
        segment_data_1 = {"name": unique("seg"), "recovery_method": "auto", "service_type": "COMPUTE"}
        segment_data_2 = {"name": unique("seg"), "recovery_method": "reserved_host", "service_type": "COMPUTE"}
        segment_1 = self.segment(**segment_data_1)
        segment_2 = self.segment(**segment_data_2)
        seen = set()
        for seg_object in self.ha.segments(recovery_method="auto"):
            self.assertEqual("auto", seg_object.recovery_method)
            seen.add(seg_object.uuid)
            if seg_object.uuid == segment_1.uuid:
                self.assertContainsSubset(segment_data_1, seg_object)
        for seg_object in self.ha.segments(recovery_method="reserved_host"):
            self.assertEqual("reserved_host", seg_object.recovery_method)
            seen.add(seg_object.uuid)
            if seg_object.uuid == segment_2.uuid:
                self.assertContainsSubset(segment_data_2, seg_object)
        # upstream only checks what comes back; also check that both came back
        self.assertLessEqual({segment_1.uuid, segment_2.uuid}, seen)

    def test_update_with_host(self):
        segment = self.segment(name=unique("seg"), recovery_method="auto", service_type="COMPUTE")
        self.ha.create_host(segment_id=segment.uuid, name=unique("hypervisor"), type="COMPUTE",
                            control_attributes="SSH")
        segment_1 = self.ha.update_segment(segment.uuid, name=unique("seg"), recovery_method="reserved_host",
                                           service_type="CONTROLLER")
        result = self.ha.get_segment(segment.uuid)
        self.assertEqual(segment_1.name, result.name)
        self.assertEqual(segment_1.recovery_method, result.recovery_method)
        self.assertEqual(segment_1.service_type, result.service_type)
        self.assertEqual(("reserved_host", "CONTROLLER"), (result.recovery_method, result.service_type))


# ---------------------------------------------------------------------------
# masakari/tests/functional/test_hosts.py (TestHosts)
# ---------------------------------------------------------------------------
class MasakariFunctionalHostsTest(Base):
    def setUp(self):
        super().setUp()
        # upstream's "hypervisors": names the (stand-in) Nova knows
        self.hypervisors = [unique("hypervisor") for _ in range(2)]
        self.seg = self.segment(name=unique("seg"), recovery_method="auto", service_type="COMPUTE")

    def test_create_get(self):
        host_data = {"name": self.hypervisors[0], "type": "COMPUTE", "on_maintenance": False, "reserved": False,
                     "control_attributes": "SSH"}
        host = self.ha.create_host(self.seg.uuid, **host_data)
        self.assertContainsSubset(host_data, host)
        result = self.ha.get_host(host.uuid, self.seg.uuid)
        self.assertEqual("COMPUTE", result.type)
        self.assertEqual(False, result.on_maintenance)
        self.assertEqual(False, result.reserved)
        self.assertEqual("SSH", result.control_attributes)

    def test_list(self):
        expected_hosts = []
        for name in self.hypervisors:
            host_obj = self.ha.create_host(segment_id=self.seg.uuid, name=name, type="COMPUTE",
                                           on_maintenance=False, reserved=False, control_attributes="SSH")
            # Upstream deletes host_obj['segment_id'] here ("not in the GET list response"); with
            # openstacksdk 0.101 listed hosts keep segment_id too, so the objects compare as they are.
            expected_hosts.append(host_obj)
        hosts = list(self.ha.hosts(self.seg.uuid))
        self.assertCountEqual(expected_hosts, hosts)
        for host in hosts:
            self.assertEqual(self.seg.uuid, host.failover_segment_id)

    def _create_list_with_filter(self, on_maintenance, host_type, reserved, control_attributes):
        host_data_1 = {"name": self.hypervisors[0], "type": "COMPUTE", "on_maintenance": False, "reserved": False,
                       "control_attributes": "SSH"}
        host_data_2 = {"name": self.hypervisors[1], "type": "CONTROLLER", "on_maintenance": True,
                       "reserved": True, "control_attributes": "TCP"}
        self.ha.create_host(self.seg.uuid, **host_data_1)
        self.ha.create_host(self.seg.uuid, **host_data_2)
        expected_host_data = {"on_maintenance": on_maintenance, "type": host_type, "reserved": reserved,
                              "control_attributes": control_attributes}
        hosts = list(self.ha.hosts(self.seg.uuid, on_maintenance=on_maintenance, type=host_type,
                                   reserved=reserved))
        for host in hosts:
            self.assertContainsSubset(expected_host_data, host)
        self.assertEqual(1, len(hosts))  # upstream's loop would also pass on an empty list

    # ddt.data cases 1 and 2 of the upstream test
    def test_create_list_with_filter_1(self):
        self._create_list_with_filter(False, "COMPUTE", False, "SSH")

    def test_create_list_with_filter_2(self):
        self._create_list_with_filter(True, "CONTROLLER", True, "TCP")

    def test_update_get_delete(self):
        host = self.ha.create_host(segment_id=self.seg.uuid, name=self.hypervisors[0], on_maintenance="False",
                                   reserved="False", type="COMPUTE", control_attributes="SSH")
        self.ha.update_host(host["uuid"], segment_id=self.seg.uuid, on_maintenance="True",
                            control_attributes="TCP", reserved="True")
        result = self.ha.get_host(host.uuid, host.failover_segment_id)
        self.assertEqual(True, result.on_maintenance)
        self.assertEqual(True, result.reserved)
        self.assertEqual("TCP", result.control_attributes)
        # the "delete" of the upstream name (upstream leaves it to the segment cleanup)
        self.ha.delete_host(host.uuid, self.seg.uuid, ignore_missing=False)
        self.assertRaises(exceptions.ResourceNotFound, self.ha.get_host, host.uuid, self.seg.uuid)

    def test_update_host_name(self):
        host = self.ha.create_host(segment_id=self.seg.uuid, name=self.hypervisors[0], type="COMPUTE",
                                   control_attributes="SSH")
        updated_host = self.ha.update_host(host["uuid"], segment_id=self.seg.uuid, name=self.hypervisors[1])
        result = self.ha.get_host(host.uuid, host.failover_segment_id)
        self.assertEqual(result.name, updated_host.name)
        self.assertEqual(self.hypervisors[1], result.name)


# ---------------------------------------------------------------------------
# openstack/tests/functional/instance_ha/test_segment.py and test_host.py
# ---------------------------------------------------------------------------
class OpenstackSdkFunctionalSegmentTest(Base):
    def setUp(self):
        super().setUp()
        self.NAME = unique("seg")
        self.segment_ = self.segment(name=self.NAME, recovery_method="auto", service_type="COMPUTE")

    def test_list(self):
        names = [o.name for o in self.ha.segments(recovery_method="auto")]
        self.assertIn(self.NAME, names)

    def test_update(self):
        new_name = unique("UPDATED-NAME")  # upstream: the fixed 'UPDATED-NAME'
        updated_segment = self.ha.update_segment(self.segment_["uuid"], name=new_name)
        get_updated_segment = self.ha.get_segment(updated_segment.uuid)
        self.assertEqual(new_name, get_updated_segment.name)


class OpenstackSdkFunctionalHostTest(Base):
    def setUp(self):
        super().setUp()
        self.NAME = unique("seg")
        self.segment_ = self.segment(name=self.NAME, recovery_method="auto", service_type="COMPUTE")
        self.NAME = unique("hypervisor")
        self.host_ = self.ha.create_host(segment_id=self.segment_.uuid, name=self.NAME, type="COMPUTE",
                                         control_attributes="SSH")
        # upstream: addCleanup(delete_host, segment.uuid, host.uuid) -- arguments swapped, so a
        # no-op with ignore_missing; the segment cleanup removes the host anyway
        self.addCleanup(self.ha.delete_host, self.host_.uuid, self.segment_.uuid)

    def test_list(self):
        names = [o.name for o in self.ha.hosts(self.segment_.uuid, failover_segment_id=self.segment_.uuid,
                                               type="COMPUTE")]
        self.assertIn(self.NAME, names)

    def test_update(self):
        updated_host = self.ha.update_host(self.host_["uuid"], segment_id=self.segment_.uuid, on_maintenance="True")
        get_host = self.ha.get_host(updated_host.uuid, updated_host.segment_id)
        self.assertEqual(True, get_host.on_maintenance)


# ---------------------------------------------------------------------------
# the openstack CLI (openstackclient + python3-masakariclient)
# ---------------------------------------------------------------------------
def cli_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_AUTH_TYPE="none", OS_ENDPOINT=ENDPOINT)  # default --os-ha-api-version
    return env


class CliBase(Base):
    def cli(self, *args, rc=0):
        """Run `openstack ARGS`; assert the exit status (None: any); return the CompletedProcess."""
        process = subprocess.run([OPENSTACK, *args], env=cli_env(), capture_output=True, text=True, timeout=120)
        if rc is not None:
            self.assertEqual(rc, process.returncode, "openstack %s\nstdout: %s\nstderr: %s"
                             % (" ".join(args), process.stdout, process.stderr))
        return process

    def cli_json(self, *args):
        return json.loads(self.cli(*args, "-f", "json").stdout)

    def cli_value(self, *args):
        """-f value output as a list of rows, each a list of space-separated cells."""
        return [line.split(" ") for line in self.cli(*args, "-f", "value").stdout.splitlines() if line]


class CliSegmentsTest(CliBase):
    def test_create_show_update_delete(self):
        name = unique("cliseg")
        created = self.cli_json("segment", "create", name, "auto", "COMPUTE", "--description", "via cli")
        self.addCleanup(self.forget_segment, created["uuid"])
        self.assertEqual({"name": name, "recovery_method": "auto", "service_type": "COMPUTE",
                          "description": "via cli", "is_enabled": True, "updated_at": None},
                         {k: created[k] for k in ("name", "recovery_method", "service_type", "description",
                                                  "is_enabled", "updated_at")})
        self.assertIsInstance(created["id"], int)
        self.assertEqual(created, self.cli_json("segment", "show", created["uuid"]))
        self.assertEqual(created, self.cli_json("segment", "show", name))

        updated = self.cli_json("segment", "update", created["uuid"], "--description", "updated by cli")
        self.assertEqual(("updated by cli", True), (updated["description"], updated["is_enabled"]))
        self.assertIsNotNone(updated["updated_at"])
        updated = self.cli_json("segment", "update", name, "--is_enabled", "False", "--recovery_method",
                                "rh_priority")
        self.assertEqual((False, "rh_priority", "updated by cli"),
                         (updated["is_enabled"], updated["recovery_method"], updated["description"]))
        self.assertIs(False, self.ha.get_segment(created["uuid"]).is_enabled)

        deleted = self.cli("segment", "delete", name)
        self.assertEqual("Segment deleted: %s\n" % name, deleted.stdout)
        missing = self.cli("segment", "show", created["uuid"], rc=1)
        self.assertIn("Segment is not found: %s" % created["uuid"], missing.stderr)

    def test_create_disabled_and_list(self):
        kind = unique("CLIKIND")
        name = unique("cliseg")
        created = self.cli_json("segment", "create", name, "reserved_host", kind, "--is_enabled", "False")
        self.addCleanup(self.forget_segment, created["uuid"])
        self.assertEqual((False, "reserved_host", kind, None),
                         (created["is_enabled"], created["recovery_method"], created["service_type"],
                          created["description"]))
        listed = self.cli_json("segment", "list", "--filters", "service_type=%s" % kind)
        self.assertEqual([{"uuid": created["uuid"], "name": name, "description": None, "service_type": kind,
                           "recovery_method": "reserved_host", "is_enabled": False}], listed)

    def test_create_duplicate_exit_code(self):
        segment = self.segment()
        failed = self.cli("segment", "create", segment.name, "auto", "COMPUTE", rc=1)
        self.assertIn("ConflictException: 409", failed.stderr)
        self.assertIn("Failover segment with name %s already exists." % segment.name, failed.stderr)

    def test_list_limit_pages(self):
        kind = unique("CLIPAGE")
        names = [unique("clipage-%s" % letter) for letter in "bca"]
        created = {self.segment(name=name, service_type=kind).uuid: name for name in names}
        # --limit is a page size: the CLI still lists everything, one request per page
        process = self.cli("segment", "list", "--limit", "1", "-f", "json", "--debug")
        listed = [row["uuid"] for row in json.loads(process.stdout)]
        self.assertOnceEach(list(created), listed)
        self.assertEqual(len(listed), len(set(listed)))
        pages = re.findall(r"REQ: curl -g -i -X GET \"?\S+/v1/segments\?(\S*?)\"? ", process.stderr)
        self.assertEqual(len(listed) + 1, len(pages), pages)  # N pages of 1, then an empty one
        self.assertEqual("limit=1", pages[0])
        self.assertTrue(all(re.fullmatch(r"marker=\d+&limit=1", q) for q in pages[1:]), pages)
        self.assertIn('-H "OpenStack-API-Version: instance-ha 1.2"', process.stderr)
        # filters and sort, -f value
        rows = self.cli_value("segment", "list", "--filters", "service_type=%s" % kind, "--sort", "name:asc",
                              "-c", "name", "-c", "is_enabled")
        self.assertEqual([[name, "True"] for name in sorted(names)], rows)

    def test_show_delete_missing(self):
        missing = self.cli("segment", "show", MISSING, rc=1)
        self.assertIn("Segment is not found: %s" % MISSING, missing.stderr)
        # `segment delete` prints the 404 and exits 0, as with a 409
        missing = self.cli("segment", "delete", MISSING, rc=0)
        self.assertIn("ResourceNotFound: 404", missing.stdout)
        self.assertIn("No failover segment with id %s." % MISSING, missing.stdout)


class CliHostsTest(CliBase):
    def setUp(self):
        super().setUp()
        self.seg = self.segment()

    def test_create_list_show_update_delete(self):
        name = unique("clihost")
        created = self.cli_json("segment", "host", "create", name, "COMPUTE", "SSH", self.seg.uuid)
        self.assertEqual({"name": name, "type": "COMPUTE", "control_attributes": "SSH", "reserved": False,
                          "on_maintenance": False, "failover_segment_id": self.seg.uuid, "updated_at": None},
                         {k: created[k] for k in ("name", "type", "control_attributes", "reserved",
                                                  "on_maintenance", "failover_segment_id", "updated_at")})
        other = self.cli_json("segment", "host", "create", unique("clihost"), "CONTROLLER", "TCP", self.seg.name,
                              "--reserved", "True", "--on_maintenance", "True")
        self.assertEqual((True, True, self.seg.uuid),
                         (other["reserved"], other["on_maintenance"], other["failover_segment_id"]))

        listed = self.cli_json("segment", "host", "list", self.seg.uuid)
        self.assertEqual([other["uuid"], created["uuid"]], [row["uuid"] for row in listed])
        self.assertEqual({"uuid": created["uuid"], "name": name, "type": "COMPUTE", "control_attributes": "SSH",
                          "reserved": False, "on_maintenance": False, "failover_segment_id": self.seg.uuid},
                         listed[1])
        self.assertEqual([[other["uuid"], "True"]],
                         self.cli_value("segment", "host", "list", self.seg.uuid, "--filters", "reserved=True",
                                        "-c", "uuid", "-c", "reserved"))

        self.assertEqual(created, self.cli_json("segment", "host", "show", self.seg.uuid, created["uuid"]))
        self.assertEqual(created, self.cli_json("segment", "host", "show", self.seg.name, name))

        updated = self.cli_json("segment", "host", "update", self.seg.uuid, created["uuid"], "--reserved", "True")
        self.assertEqual((True, False), (updated["reserved"], updated["on_maintenance"]))
        self.assertIsNotNone(updated["updated_at"])
        updated = self.cli_json("segment", "host", "update", self.seg.uuid, name, "--on_maintenance", "True",
                                "--control_attributes", "TCP")
        self.assertEqual((True, True, "TCP"),
                         (updated["reserved"], updated["on_maintenance"], updated["control_attributes"]))

        deleted = self.cli("segment", "host", "delete", self.seg.uuid, created["uuid"])
        self.assertEqual("Host deleted: %s\n" % created["uuid"], deleted.stdout)
        missing = self.cli("segment", "host", "show", self.seg.uuid, created["uuid"], rc=1)
        self.assertIn("Segment host is not found: %s" % created["uuid"], missing.stderr)

    def test_create_duplicate_exit_code(self):
        host = self.host(self.seg.uuid)
        failed = self.cli("segment", "host", "create", host.name, "COMPUTE", "SSH", self.seg.uuid, rc=1)
        self.assertIn("Host with name %s already exists." % host.name, failed.stderr)


class CliNotificationsTest(CliBase):
    def test_create_list_show_and_in_use(self):
        """Create and show run at the CLI's default microversion 1.2: show then carries
        recovery_workflow_details, [] without an engine (D13; the reference needs --engine-stub)."""
        seg = self.segment()
        host = self.host(seg.uuid)
        payload = {"event": "STOPPED", "host_status": "NORMAL", "cluster_status": "ONLINE"}
        created = self.cli_json("notification", "create", "COMPUTE_HOST", host.name, "2026-03-01T10:00:00",
                                json.dumps(payload))
        self.assertEqual({"type": "COMPUTE_HOST", "status": "new", "source_host_uuid": host.uuid,
                          "generated_time": "2026-03-01T10:00:00.000000", "payload": payload,
                          "recovery_workflow_details": [], "updated_at": None},
                         {k: created[k] for k in ("type", "status", "source_host_uuid", "generated_time", "payload",
                                                  "recovery_workflow_details", "updated_at")})
        self.assertEqual(created, self.cli_json("notification", "show", created["notification_uuid"]))

        second = self.cli_json("notification", "create", "COMPUTE_HOST", host.name, "2026-03-01T11:00:00",
                               '{"event": "STARTED"}')
        listed = self.cli_json("notification", "list", "--filters", "source_host_uuid=%s" % host.uuid)
        self.assertEqual([{"notification_uuid": second["notification_uuid"],
                           "generated_time": "2026-03-01T11:00:00.000000", "status": "new", "type": "COMPUTE_HOST",
                           "source_host_uuid": host.uuid, "payload": {"event": "STARTED"}},
                          {"notification_uuid": created["notification_uuid"],
                           "generated_time": "2026-03-01T10:00:00.000000", "status": "new", "type": "COMPUTE_HOST",
                           "source_host_uuid": host.uuid, "payload": payload}], listed)
        paged = [row[0] for row in self.cli_value("notification", "list", "--limit", "1", "-c",
                                                  "notification_uuid")]
        self.assertOnceEach([created["notification_uuid"], second["notification_uuid"]], paged)

        duplicate = self.cli("notification", "create", "COMPUTE_HOST", host.name, "2026-03-01T10:01:00",
                             json.dumps(payload), rc=1)
        self.assertIn("Notification received from host %s of type COMPUTE_HOST is duplicate." % host.name,
                      duplicate.stderr)

        # the segment is now in use: 409 from update and deletes
        failed = self.cli("segment", "update", seg.uuid, "--description", "x", rc=1)
        self.assertIn("Failover segment %s can't be updated as it is in-use to process notifications." % seg.uuid,
                      failed.stderr)
        failed = self.cli("segment", "host", "delete", seg.uuid, host.uuid, rc=1)
        self.assertIn("Host %s can't be deleted as it is in-use to process notifications." % host.uuid,
                      failed.stderr)
        # `openstack segment delete` prints the 409 and still exits 0 (as against the reference)
        failed = self.cli("segment", "delete", seg.uuid, rc=0)
        self.assertIn("ConflictException: 409", failed.stdout)
        self.assertIn("Failover segment (%s) can't be deleted as it is in-use to process notifications."
                      % seg.uuid, failed.stdout)
        self.assertEqual(seg.uuid, self.ha.get_segment(seg.uuid).uuid)

    def test_show_missing(self):
        missing = self.cli("notification", "show", MISSING, rc=1)
        self.assertIn("Notification not found: %s" % MISSING, missing.stderr)

    def test_create_unknown_host(self):
        name = unique("nobody")
        failed = self.cli("notification", "create", "COMPUTE_HOST", name, "2026-03-01T10:00:00",
                          '{"event": "STOPPED"}', rc=1)
        self.assertIn("Host with name %s could not be found." % name, failed.stderr)


if __name__ == "__main__":
    print("target %s at %s (run tag %s)" % (TARGET, ENDPOINT, RUN), file=sys.stderr)
    unittest.main()
