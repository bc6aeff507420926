#!/usr/bin/python3
"""Replays the recorded catalogue of exchanges against a live Masakari API
and writes what it answered, raw and normalized, for compare.py.

    conformance/replay.py --base http://127.0.0.1:PORT --out RUN.json
                          [--db SQLITE_FILE] [--catalogue FILE] [--timeout S]

Start the server on an empty database: the catalogue's integer ids (paging
markers) are the ones an empty database gives. Its uuids are the recording
server's; each is replaced by the uuid the live server gave in the same
place (see UuidMap). With --db, the catalogue's out-of-band steps run as SQL
against that SQLite file (the server's database), since no engine moves
notifications out of "new"; without it they are skipped and reported.

The normalized copy of each exchange is what two runs are compared on:
uuids become <uuid-N> in order of first appearance over the whole run,
request ids <req-id>, and timestamps the server chose <ts>; Date is dropped.
Only the standard library is used, so any python3 runs it.
"""
import argparse
import http.client
import json
import os
import re
import sqlite3
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REQUEST_ID = re.compile(r"req-" + UUID.pattern)
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")


def ordered_uuids(*texts):
    """The distinct uuids of texts, in order of first appearance; request ids
    are not resource uuids and never carry over to a later request."""
    found = {}
    for text in texts:
        for uuid in UUID.findall(REQUEST_ID.sub("", text or "")):
            found.setdefault(uuid, None)
    return list(found)


class UuidMap:
    """Recorded uuid -> live uuid. A server hands out a new uuid only in an
    answer, so the uuids an answer shows for the first time are paired, in
    order, with those the live answer shows for the first time. A uuid first
    seen in a request (a made-up instance_uuid, the all-zero unknown id) was
    chosen by the client and is the same on both sides: it stays as it is."""

    def __init__(self):
        self.live = {}
        self.known_recorded, self.known_live = set(), set()

    def substitute(self, text):
        if text is None:
            return None
        return UUID.sub(lambda m: self.live.get(m.group(0), m.group(0)), text)

    def sent(self, recorded_texts, live_texts):
        self.known_recorded.update(ordered_uuids(*recorded_texts))
        self.known_live.update(ordered_uuids(*live_texts))

    def answered(self, recorded_texts, live_texts):
        recorded = [u for u in ordered_uuids(*recorded_texts) if u not in self.known_recorded]
        live = [u for u in ordered_uuids(*live_texts) if u not in self.known_live]
        self.live.update(zip(recorded, live))
        self.known_recorded.update(recorded)
        self.known_live.update(live)


class Normalizer:
    """Makes two servers' runs of the same catalogue comparable. Timestamps
    the catalogue's requests themselves contain (generated_time, the
    generated-since filter) are kept, down to the second, since a server
    must echo those; any other timestamp is the server's clock."""

    def __init__(self, catalogue):
        self.labels = {}
        self.client_instants = set()
        for step in catalogue["steps"]:
            if "request" in step:
                for text in (step["request"]["path"], step["request"]["body"] or ""):
                    self.client_instants.update(m.group(0)[:19] for m in TIMESTAMP.finditer(text))

    def __call__(self, text):
        if text is None:
            return None
        text = REQUEST_ID.sub("<req-id>", text)
        text = UUID.sub(lambda m: self.labels.setdefault(m.group(0), "<uuid-%d>" % (len(self.labels) + 1)), text)
        return TIMESTAMP.sub(lambda m: m.group(0) if m.group(0)[:19] in self.client_instants else "<ts>", text)

    def exchange(self, path, request_body, status, headers, body):
        # The order decides the <uuid-N> numbers, so it must be the same for
        # every run: path, request body, answer headers, answer body.
        return {
            "path": self(path),
            "request_body": self(request_body),
            "status": status,
            "headers": [[k, self(v)] for k, v in headers if k.lower() != "date"],
            "body": self(body),
        }


def load_catalogue(path):
    with open(path) as f:
        return json.load(f)


def recorded_run(catalogue):
    """The catalogue itself in the shape of a run, so that compare.py can
    hold a live server against the recording."""
    normalize = Normalizer(catalogue)
    exchanges, occurrences = [], {}
    for step in catalogue["steps"]:
        if "request" not in step:
            continue
        request, response = step["request"], step["response"]
        key = (step["section"], step["title"])
        occurrences[key] = occurrences.get(key, 0) + 1
        exchanges.append({
            "n": step["n"], "section": step["section"], "title": step["title"],
            "occurrence": occurrences[key], "request": request,
            "status": response["status"], "headers": response["headers"], "body": response["body"],
            "normalized": normalize.exchange(request["path"], request["body"], response["status"],
                                             response["headers"], response["body"]),
        })
    return {"base": "catalogue", "exchanges": exchanges}


def send(base, method, path, headers, body, timeout):
    """One request on its own connection, exactly as given: no
    Accept-Encoding, and Content-Length only with a body or on the methods
    that take one (an empty POST still says 0)."""
    url = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=timeout)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        data = body.encode() if body is not None else None
        if data is not None or method in ("POST", "PUT", "PATCH"):
            connection.putheader("Content-Length", str(len(data or b"")))
        connection.endheaders(data)
        response = connection.getresponse()
        return response.status, response.reason, response.getheaders(), response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def run_sql(db, sql, params):
    try:
        connection = sqlite3.connect(db)
        try:
            connection.execute(sql, params)
            connection.commit()
        finally:
            connection.close()
    except sqlite3.Error as error:
        return str(error)
    return None


def replay(catalogue, base, db=None, timeout=60.0, progress=sys.stderr):
    uuids, normalize = UuidMap(), Normalizer(catalogue)
    exchanges, out_of_band, occurrences = [], [], {}
    for step in catalogue["steps"]:
        if "oob" in step:
            params = [uuids.substitute(p) if isinstance(p, str) else p for p in step["params"]]
            error = run_sql(db, step["sql"], params) if db else "skipped: no --db"
            out_of_band.append({"oob": step["oob"], "sql": step["sql"], "params": params, "error": error})
            print("    out of band: %s%s" % (step["oob"], " (%s)" % error if error else ""), file=progress)
            continue

        recorded, answer = step["request"], step["response"]
        path, body = uuids.substitute(recorded["path"]), uuids.substitute(recorded["body"])
        headers = [[k, uuids.substitute(v)] for k, v in recorded["headers"]]
        uuids.sent([recorded["path"], recorded["body"]], [path, body])

        started = time.monotonic()
        try:
            status, reason, response_headers, response_body = send(base, recorded["method"], path, headers, body, timeout)
        except (OSError, http.client.HTTPException) as error:
            # A server that drops or hangs on one request still gets a full
            # report: the exchange differs, the ones after it are replayed.
            status, reason, response_headers, response_body = 0, "no answer", [], "%s: %s" % (type(error).__name__, error)
        elapsed = time.monotonic() - started
        uuids.answered([json.dumps(answer["headers"]), answer["body"]],
                       [json.dumps(response_headers), response_body])

        key = (step["section"], step["title"])
        occurrences[key] = occurrences.get(key, 0) + 1
        exchanges.append({
            "n": step["n"], "section": step["section"], "title": step["title"],
            "occurrence": occurrences[key],
            "request": {"method": recorded["method"], "path": path, "headers": headers, "body": body},
            "status": status, "reason": reason, "headers": [list(h) for h in response_headers],
            "body": response_body, "elapsed_s": round(elapsed, 3),
            "normalized": normalize.exchange(path, body, status, response_headers, response_body),
        })
        print("%3d %-6s %-70s -> %s (%.2fs)" % (step["n"], recorded["method"], path[:70], status, elapsed),
              file=progress)
    return {"base": base, "exchanges": exchanges, "out_of_band": out_of_band}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the server's root URL, e.g. http://127.0.0.1:15868")
    parser.add_argument("--out", required=True, help="where to write the run (JSON)")
    parser.add_argument("--db", help="the server's SQLite file, for the out-of-band steps")
    parser.add_argument("--catalogue", default=os.path.join(HERE, "catalogue.json"))
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait for one answer (the reference's engine RPC call takes its "
                             "rpc_response_timeout)")
    args = parser.parse_args(argv)
    run = replay(load_catalogue(args.catalogue), args.base.rstrip("/"), args.db, args.timeout)
    with open(args.out, "w") as f:
        json.dump(run, f, indent=1, ensure_ascii=False)
        f.write("\n")
    skipped = [o for o in run["out_of_band"] if o["error"]]
    print("replayed %d exchanges against %s%s; wrote %s" % (
        len(run["exchanges"]), args.base,
        ", %d out-of-band steps not applied" % len(skipped) if skipped else "", args.out), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
