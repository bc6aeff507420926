#!/usr/bin/python3
"""Compares two replays of the catalogue (replay.py), exchange by exchange,
on their normalized form.

    conformance/compare.py REFERENCE CANDIDATE [--headers H1,H2] [--ignore-message]

Either side may also be the catalogue itself (conformance/catalogue.json),
to hold a live reference against the recording; its links then name the
port it was recorded on, so start that server on 15868.

Exchanges are paired by (section, title, occurrence), not by number, so an
exchange missing from one run does not shift the rest. Compared: the
request (method and normalized path), the status, a few answer headers
(Content-Type, OpenStack-API-Version, Vary unless --headers says otherwise;
the others are transport details) and the body, as JSON when it parses.
--ignore-message blanks the "message" of error bodies.

Prints each differing exchange as "#N METHOD PATH (title)" followed by its
difference lines, indented; the same lines conformance/run.py matches
against expected-differences.json. Exit status 1 when anything differs.
"""
import argparse
import json
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside replay.py in the source tree
import replay  # noqa: E402

DEFAULT_HEADERS = ("Content-Type", "OpenStack-API-Version", "Vary")
# Long bodies are cut in the report: enough to see the difference, short
# enough to keep expected-differences.json readable.
BODY_LIMIT = 600


def load_run(path):
    with open(path) as f:
        data = json.load(f)
    return replay.recorded_run(data) if "steps" in data else data


def _body(exchange, ignore_message):
    text = exchange["normalized"]["body"]
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if ignore_message and isinstance(value, dict):
        for fault in value.values():
            if isinstance(fault, dict) and "message" in fault:
                fault["message"] = "<ignored>"
    return value


def _header(exchange, name):
    """The first value of a header, whatever the case of its name (the
    reference says Openstack-Api-Version, others OpenStack-API-Version)."""
    for key, value in exchange["normalized"]["headers"]:
        if key.lower() == name:
            return value
    return None


def exchange_differences(ref, got, headers=DEFAULT_HEADERS, ignore_message=False):
    lines = []
    ref_request = (ref["request"]["method"], ref["normalized"]["path"])
    got_request = (got["request"]["method"], got["normalized"]["path"])
    if ref_request != got_request:
        lines.append("request differs: %s %s vs %s %s" % (ref_request + got_request))
    if ref["status"] != got["status"]:
        lines.append("status %s vs %s" % (ref["status"], got["status"]))
    for name in (h.lower() for h in headers):
        a, b = _header(ref, name), _header(got, name)
        if a != b:
            lines.append("header %s: %r vs %r" % (name, a, b))
    a, b = _body(ref, ignore_message), _body(got, ignore_message)
    if a != b:
        lines += ["body:", "  ref: " + json.dumps(a)[:BODY_LIMIT], "  got: " + json.dumps(b)[:BODY_LIMIT]]
    return lines


def differences(reference, candidate, headers=DEFAULT_HEADERS, ignore_message=False):
    """(reference exchanges, {"#N title": (reference exchange, [difference lines])})
    for every exchange of the reference run that the candidate run lacks or
    answers differently."""
    def keyed(run):
        return {(e["section"], e["title"], e["occurrence"]): e for e in run["exchanges"]}

    theirs = keyed(candidate)
    found = {}
    for key, ref in keyed(reference).items():
        got = theirs.get(key)
        lines = (["not in candidate run"] if got is None
                 else exchange_differences(ref, got, headers, ignore_message))
        if lines:
            found["#%d %s" % (ref["n"], ref["title"])] = (ref, lines)
    return len(reference["exchanges"]), found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reference")
    parser.add_argument("candidate")
    parser.add_argument("--headers", default=",".join(DEFAULT_HEADERS))
    parser.add_argument("--ignore-message", action="store_true")
    args = parser.parse_args(argv)
    headers = [h.strip() for h in args.headers.split(",") if h.strip()]
    total, found = differences(load_run(args.reference), load_run(args.candidate), headers, args.ignore_message)
    for ref, lines in found.values():
        print("#%d %s %s (%s)" % (ref["n"], ref["request"]["method"], ref["request"]["path"], ref["title"]))
        for line in lines:
            print("    " + line)
    print("%d of %d exchanges differ" % (len(found), total), file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
