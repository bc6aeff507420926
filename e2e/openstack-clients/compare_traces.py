#!/usr/bin/python3
"""Compares the openstacksdk HTTP traces of two runs of test_clients.py.

    e2e/openstack-clients/compare_traces.py REFERENCE_TRACE CANDIDATE_TRACE [--out FILE]

Each trace is the keystoneauth/openstacksdk debug log written when
MASAKARI_TRACE is set; test_clients.py marks every test in it ("TEST <id>").
Exchanges are matched per test, in order. Compared: method, path and query,
the request's OpenStack-API-Version header and body, the response status, its
OpenStack-API-Version header and its JSON body. Normalized first: the base
URL, uuids (numbered in order of appearance, per trace), the run tag in names,
created_at/updated_at values, request ids; request bodies compare with sorted
keys (the SDK's key order changes from process to process). Both servers must start on an
empty database so integer ids line up.

Informational: prints the differing exchanges (or "no differences") and
always exits 0 unless a trace cannot be read. The tests themselves decide
pass or fail.
"""
import argparse
import json
import re
import sys

LINE = re.compile(r"^\S+ \S+ DEBUG: (?:keystoneauth\.session|openstack(?:\.\S*)?) (.*)$")
REQ = re.compile(r'^REQ: curl -g -i -X (\S+) "?(\S+?)"?( -H .*)?$')
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TAG = re.compile(r"(?<=-)\d{6}[0-9a-f]{4}(?=-\d)")
BASE = re.compile(r"https?://[^/\s\"']+")
STAMPS = ("created_at", "updated_at", "deleted_at")


class Normalizer:
    def __init__(self):
        self.uuids = {}

    def text(self, value):
        value = BASE.sub("<base>", value)
        value = TAG.sub("<tag>", value)
        return UUID.sub(lambda m: self.uuids.setdefault(m.group(0), "<uuid-%d>" % (len(self.uuids) + 1)), value)

    def json(self, value):
        if isinstance(value, dict):
            return {k: ("<ts>" if k in STAMPS and v is not None else self.json(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def body(self, raw, sort_keys=False):
        try:
            return json.dumps(self.json(json.loads(raw)), sort_keys=sort_keys)
        except ValueError:
            return self.text(raw.strip())


def microversion(headers):
    m = re.search(r"OpenStack-API-Version: ([^\"]+?)(?:\"| [A-Z][\w-]*:|$)", headers or "", re.I)
    return m.group(1).strip() if m else "-"


def parse(path):
    """{test id: [exchange dict]} in the order of the trace."""
    norm = Normalizer()
    tests, current, exchange = {}, "(before the first test)", None
    for raw in open(path, encoding="utf-8", errors="replace"):
        m = LINE.match(raw.rstrip("\n"))
        if not m:
            continue
        message = m.group(1)
        if message.startswith("TEST "):
            current = message[5:].strip()
            tests.setdefault(current, [])
            continue
        r = REQ.match(message)
        if r:
            headers = r.group(3) or ""
            body = re.search(r" -d '(.*)'$", headers)
            exchange = {"request": "%s %s" % (r.group(1), norm.text(r.group(2))),
                        "request version": microversion(headers.split(" -d ")[0]),
                        "request body": norm.body(body.group(1), sort_keys=True) if body else ""}
            tests.setdefault(current, []).append(exchange)
        elif message.startswith("RESP: [") and exchange is not None:
            status = message[7:message.index("]")]
            exchange["status"] = status
            exchange["response version"] = microversion(message)
        elif message.startswith("RESP BODY: ") and exchange is not None:
            exchange["response body"] = norm.body(message[len("RESP BODY: "):])
    return tests


def _strip_keys(value, keys):
    if isinstance(value, dict):
        return {k: _strip_keys(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_strip_keys(v, keys) for v in value]
    return value


def _edit_body(exchange, edit):
    try:
        exchange["response body"] = json.dumps(edit(json.loads(exchange["response body"])))
    except (KeyError, ValueError):
        pass


# Differences masakari-edge makes on purpose: (name, rule). A rule gets the reference's and the
# candidate's exchange and rewrites the candidate's copy back to what the reference does, when
# the difference is that one.
def _d2(ref, cand):
    if re.fullmatch(r"POST <base>/v1/segments", ref["request"]) and (ref.get("status"), cand.get("status")) == ("201", "202"):
        cand["status"] = "201"


def _max_version(ref, cand):
    if re.fullmatch(r"GET <base>/v1/?", ref["request"]):
        _edit_body(cand, lambda body: {**body, "version": {**body["version"], "version": "1.2"}}
                   if isinstance(body.get("version"), dict) and body["version"].get("version") == "1.3" else body)


def _notification_fields(ref, cand):
    if "/v1/notifications" in ref["request"]:
        _edit_body(cand, lambda body: _strip_keys(body, ("failover_segment_uuid", "message")))


KNOWN = [
    ("D2: POST /v1/segments answers 202 (reference 201)", _d2),
    ("D1: API 1.0-1.3 as upstream master, the 14.0.2 reference stops at 1.2", _max_version),
    ("D1: notifications carry master's failover_segment_uuid and message (not in 14.0.2)",
     _notification_fields),
]
FIELDS = ("request", "request version", "request body", "status", "response version", "response body")


def compare(reference, candidate):
    """(exchanges compared, {known reason: count}, [lines about unexplained differences])"""
    out, known, count = [], {}, 0
    for test in list(reference) + [t for t in candidate if t not in reference]:
        ours, theirs = reference.get(test, []), candidate.get(test, [])
        if len(ours) != len(theirs):
            out.append("%s: %d exchanges on the reference, %d on the candidate" % (test, len(ours), len(theirs)))
        for i, (a, b) in enumerate(zip(ours, theirs), 1):
            count += 1
            if all(a.get(k) == b.get(k) for k in FIELDS):
                continue
            undone, reasons = dict(b), []
            for reason, rule in KNOWN:
                before = dict(undone)
                rule(a, undone)
                if undone != before:
                    reasons.append(reason)
            fields = [k for k in FIELDS if a.get(k) != undone.get(k)]
            decision = re.search(r"_(D\d+)$", test)
            if decision and fields and a["request"] == b["request"] and a.get("request body") == b.get("request body"):
                # a test named after a decision sends the same requests to both targets and
                # asserts each target's own answer
                reasons, fields = ["%s: answers asserted per target by %s" % (decision.group(1), test)], []
            if not fields:
                for reason in reasons:
                    known[reason] = known.get(reason, 0) + 1
                continue
            out.append("%s #%d %s" % (test, i, a["request"]))
            for k in fields:
                out.append("    %-16s reference: %s" % (k, a.get(k)))
                out.append("    %-16s candidate: %s" % ("", b.get(k)))
    return count, known, out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("reference")
    p.add_argument("candidate")
    p.add_argument("--out")
    a = p.parse_args()
    count, known, out = compare(parse(a.reference), parse(a.candidate))
    unexplained = sum(1 for line in out if not line.startswith("    "))
    lines = ["known (by decision): %d exchanges: %s" % (n, reason) for reason, n in known.items()]
    lines += out
    lines.append("%d SDK exchanges compared: %d identical, %d differ only by decision, %d unexplained"
                 % (count, count - sum(known.values()) - unexplained, sum(known.values()), unexplained))
    text = "\n".join(lines) + "\n"
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
