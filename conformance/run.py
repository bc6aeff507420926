#!/usr/bin/python3
"""Replays the catalogue (conformance/catalogue.json) against the real
Masakari and this Worker and compares the two runs.

    npm run conformance            (= scripts/with-node.sh conformance/run.py)
    conformance/run.py [--record] [--port PORT] [--work DIR]

1. Starts the real Masakari API 14.0.2 on an empty database
   (conformance/reference/masakari.sh start --fresh) on 127.0.0.1:PORT,
   replays the catalogue against it with conformance/replay.py, with --db so
   the out-of-band status changes run, and stops it.
2. Starts this Worker under `wrangler dev` on the same port, on a fresh local
   D1 with the migrations applied, with conformance/fake-nova.mjs as its
   compute endpoint (as the reference's stand-in for Nova, it knows every
   host name but "unknown-compute"), replays the catalogue with --db pointed
   at the local D1 SQLite file, and stops it. Both servers use one port so
   the links in their bodies compare equal.
3. Compares the runs (conformance/compare.py) and checks every difference
   against conformance/expected-differences.json, where each one is
   justified by a row of the README's table of differences (D1, D2, ...).

Prints "N identical, M expected differences, K unexpected" and exits 1 when
K > 0 (or an expected difference no longer happens). --record rewrites the
expected file from this run, keeping the justifications already written and
marking new entries "why": "UNJUSTIFIED" (which still fail the run).
"""
import argparse
import glob
import json
import os
import signal
import subprocess
import sys

# compare.py and replay.py are imported from the source tree: leave no
# __pycache__ beside them.
sys.dont_write_bytecode = True
import compare  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REFERENCE = os.path.join(HERE, "reference", "masakari.sh")
EXPECTED = os.path.join(HERE, "expected-differences.json")
WORKER_DEV = os.path.join(ROOT, "scripts", "worker-dev.sh")

P = argparse.ArgumentParser()
P.add_argument("--record", action="store_true")
P.add_argument("--port", type=int, default=18790)
P.add_argument("--work", default=os.path.join(ROOT, ".conformance"))
A = P.parse_args()


def log(message):
    print(f"conformance: {message}", file=sys.stderr, flush=True)


def replay(base, db, name):
    """Replays the catalogue against base; the run goes to WORK/NAME.json, its
    progress to WORK/NAME.log."""
    out = os.path.join(A.work, name)
    with open(out + ".log", "w") as progress:
        subprocess.run([sys.executable, os.path.join(HERE, "replay.py"), "--base", base, "--db", db, "--out", out + ".json"],
                       check=True, stdout=progress, stderr=progress)
    with open(out + ".json") as f:
        return json.load(f)


def run_reference():
    ref_dir = os.path.join(A.work, "reference")
    log(f"starting the reference Masakari on port {A.port}")
    subprocess.run([REFERENCE, "start", "--fresh", ref_dir, str(A.port)], check=True, stdout=subprocess.DEVNULL)
    try:
        return replay(f"http://127.0.0.1:{A.port}", os.path.join(ref_dir, "masakari.db"), "reference")
    finally:
        subprocess.run([REFERENCE, "stop", ref_dir], stderr=subprocess.DEVNULL)


def run_worker():
    state = os.path.join(A.work, "d1")
    nova_port = A.port + 1
    nova = subprocess.Popen(["node", os.path.join(HERE, "fake-nova.mjs"), str(nova_port)],
                            stderr=subprocess.DEVNULL, start_new_session=True)
    log(f"starting the Worker under wrangler dev on port {A.port}")
    try:
        # scripts/worker-dev.sh: a fresh local D1 in state, wrangler dev in its own process group;
        # the API alone (--api-only), as the reference runs without masakari-engine (the
        # catalogue's notifications stay new there; the engine is compared with the real
        # one's traces in npm test and npm run test:engine)
        started = subprocess.run(
            [WORKER_DEV, "start", "--api-only", state, str(A.port), str(A.port + 2),
             os.path.join(A.work, "wrangler.log"),
             "--var", "AUTH_STRATEGY:noauth2", "--var", f"NOVA_URL:http://127.0.0.1:{nova_port}",
             "--log-level", "error"])
        if started.returncode != 0:
            raise SystemExit(f"conformance: the Worker did not come up on port {A.port}")
        [db] = [path for path in glob.glob(os.path.join(state, "v3", "d1", "miniflare-D1DatabaseObject", "*.sqlite"))
                if not path.endswith("metadata.sqlite")]
        return replay(f"http://127.0.0.1:{A.port}", db, "worker")
    finally:
        subprocess.run([WORKER_DEV, "stop", state])
        try:
            os.killpg(nova.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def differences(reference, worker):
    """{"#N title": [difference lines]} for every exchange that differs."""
    total, found = compare.differences(reference, worker)
    return total, {key: lines for key, (_, lines) in found.items()}


def main():
    os.makedirs(A.work, exist_ok=True)
    total, found = differences(run_reference(), run_worker())
    expected = json.load(open(EXPECTED))["differences"] if os.path.exists(EXPECTED) and os.path.getsize(EXPECTED) else []
    by_key = {e["exchange"]: e for e in expected}

    expected_hits, unexpected = [], []
    for key, diff in found.items():
        entry = by_key.get(key)
        if entry and entry["diff"] == diff and entry["why"] != "UNJUSTIFIED":
            expected_hits.append(key)
        else:
            unexpected.append(key)
            print(f"UNEXPECTED {key}", *("    " + line for line in diff), sep="\n")
            if entry:
                print(f"    (expected instead, {entry['why']}):", *("      " + line for line in entry["diff"]), sep="\n")
    vanished = [key for key in by_key if key not in found]
    for key in vanished:
        print(f"NO LONGER DIFFERENT {key} ({by_key[key]['why']}): update {os.path.relpath(EXPECTED, ROOT)}")

    if A.record:
        recorded = [{"exchange": key, "why": by_key.get(key, {}).get("why", "UNJUSTIFIED"), "diff": diff}
                    for key, diff in found.items()]
        about = json.load(open(EXPECTED)).get("about", "") if os.path.exists(EXPECTED) else ""
        with open(EXPECTED, "w") as f:
            json.dump({"about": about, "differences": recorded}, f, indent=1, ensure_ascii=False)
            f.write("\n")
        log(f"recorded {len(recorded)} differences in {os.path.relpath(EXPECTED, ROOT)}")

    identical = total - len(found)
    print(f"{identical} identical, {len(expected_hits)} expected differences, {len(unexpected)} unexpected")
    if vanished:
        print(f"{len(vanished)} expected differences no longer happen")
    return 1 if unexpected or vanished else 0


if __name__ == "__main__":
    sys.exit(main())
