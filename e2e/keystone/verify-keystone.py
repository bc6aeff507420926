#!/usr/bin/python3
"""Smoke test of the Keystone started by start-keystone.sh (plain urllib).

Usage:  eval "$(e2e/keystone/start-keystone.sh)"
        /usr/bin/python3 e2e/keystone/verify-keystone.py [--show] [--expiry]

Reads the KEYSTONE_* variables that start-keystone.sh prints. Checks what the
Worker relies on: password and application-credential logins, validation of a
user token with the service token (GET/HEAD /v3/auth/tokens), the status
codes for garbage / revoked / foreign tokens and for a bad service token.
  --show    also print the (trimmed) validation answer and its headers
  --expiry  also wait for a token to expire and check it then fails; only
            sensible when the server runs with a short
            KEYSTONE_TOKEN_EXPIRATION (e.g. 5), as the wait is lifetime + 2 s
Ends with the line "N passed, N failed"; exit status 1 if any check failed.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

E = os.environ
URL = E["KEYSTONE_URL"] + "/v3"
SHOW = "--show" in sys.argv
PASSED = FAILED = 0


def call(method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(URL + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            return r.status, r.headers, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        return e.code, e.headers, payload


def check(name, cond, detail=""):
    global PASSED, FAILED
    if cond:
        PASSED += 1
        print("ok   %s" % name)
    else:
        FAILED += 1
        print("FAIL %s %s" % (name, detail))


def password_login(user, password, project):
    body = {"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"name": user, "domain": {"name": E["KEYSTONE_DOMAIN"]}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": E["KEYSTONE_DOMAIN"]}}}}}
    status, headers, payload = call("POST", "/auth/tokens", body)
    return status, headers.get("X-Subject-Token"), payload


def validate(service_token, subject, query=""):
    return call("GET", "/auth/tokens" + query,
                headers={"X-Auth-Token": service_token, "X-Subject-Token": subject})


def trimmed(payload):
    t = dict(payload["token"])
    if "catalog" in t:
        t["catalog"] = "[%d services]" % len(t["catalog"])
    return {"token": t}


status, headers, payload = call("GET", "")
check("GET /v3 -> 200 version v3.x", status == 200 and payload["version"]["id"].startswith("v3"), status)

status, admin, payload = password_login(E["KEYSTONE_ADMIN_USER"], E["KEYSTONE_ADMIN_PASSWORD"], E["KEYSTONE_ADMIN_PROJECT"])
check("admin password login -> 201 + X-Subject-Token", status == 201 and admin, status)
check("admin token has role admin on project admin",
      {"admin", "member", "reader"} <= {r["name"] for r in payload["token"]["roles"]}
      and payload["token"]["project"]["name"] == E["KEYSTONE_ADMIN_PROJECT"])

status, demo, payload = password_login(E["KEYSTONE_DEMO_USER"], E["KEYSTONE_DEMO_PASSWORD"], E["KEYSTONE_DEMO_PROJECT"])
check("demo password login -> 201", status == 201 and demo, status)
check("demo token: roles member+reader (implied), not admin",
      {r["name"] for r in payload["token"]["roles"]} == {"member", "reader"}, payload["token"]["roles"])

status, svc, payload = password_login(E["KEYSTONE_SERVICE_USER"], E["KEYSTONE_SERVICE_PASSWORD"], E["KEYSTONE_SERVICE_PROJECT"])
check("service user password login -> 201", status == 201 and svc, status)

status, headers, payload = call("POST", "/auth/tokens", {"auth": {"identity": {
    "methods": ["application_credential"], "application_credential": {
        "id": E["KEYSTONE_SERVICE_APPCRED_ID"], "secret": E["KEYSTONE_SERVICE_APPCRED_SECRET"]}}}})
svc_ac = headers.get("X-Subject-Token")
check("service application credential login -> 201 (project-scoped)",
      status == 201 and payload["token"]["project"]["id"] == E["KEYSTONE_SERVICE_PROJECT_ID"], status)

status, _, _ = password_login(E["KEYSTONE_DEMO_USER"], "wrong-password", E["KEYSTONE_DEMO_PROJECT"])
check("wrong password -> 401", status == 401, status)

# --- validation, as the Worker will do it
t0 = time.monotonic()
status, headers, payload = validate(svc, demo)
ms = (time.monotonic() - t0) * 1000
check("validate demo token with service token -> 200", status == 200, status)
tok = payload["token"]
check("answer names user/project/roles/expires_at",
      tok["user"]["id"] == E["KEYSTONE_DEMO_USER_ID"] and tok["project"]["id"] == E["KEYSTONE_DEMO_PROJECT_ID"]
      and tok["expires_at"].endswith("Z") and headers.get("X-Subject-Token") == demo)
if SHOW:
    print("---- GET /v3/auth/tokens (%.0f ms) status %s headers %s" % (ms, status, dict(headers)))
    print(json.dumps(trimmed(payload), indent=2))

status, headers, payload = validate(svc_ac, demo, "?nocatalog")
check("validate with app-credential service token, ?nocatalog -> 200 without catalog",
      status == 200 and "catalog" not in payload["token"], status)
if SHOW:
    print("---- ?nocatalog, app-credential token as X-Auth-Token:")
    print(json.dumps(trimmed(payload), indent=2))

status, headers, _ = call("HEAD", "/auth/tokens", headers={"X-Auth-Token": svc, "X-Subject-Token": demo})
check("HEAD /v3/auth/tokens -> 200", status == 200, status)

status, _, payload = validate(demo, demo)
check("a user validating its own token -> 200", status == 200, status)

status, _, payload = validate(svc, "garbage")
check("garbage subject token -> 404", status == 404, (status, payload))
if SHOW:
    print("---- garbage subject:", status, payload)
status, _, payload = validate(svc, demo[:-4] + ("AAAA" if not demo.endswith("AAAA") else "BBBB"))
check("tampered subject token -> 404", status == 404, (status, payload))
status, _, payload = call("GET", "/auth/tokens", headers={"X-Auth-Token": svc})
check("missing X-Subject-Token -> 404", status == 404, (status, payload))
if SHOW:
    print("---- no X-Subject-Token:", status, payload)
status, headers, payload = validate("garbage", demo)
check("garbage service token (X-Auth-Token) -> 401", status == 401, (status, payload))
if SHOW:
    print("---- bad X-Auth-Token:", status, dict(headers), payload)
status, _, payload = call("GET", "/auth/tokens", headers={"X-Subject-Token": demo})
check("no X-Auth-Token -> 401", status == 401, (status, payload))
status, _, payload = validate(demo, admin)
check("non-admin validating someone else's token -> 403", status == 403, (status, payload))
if SHOW:
    print("---- demo token validating admin token:", status, payload)

# --- revocation
status, _, _ = call("DELETE", "/auth/tokens", headers={"X-Auth-Token": svc, "X-Subject-Token": demo})
check("DELETE /v3/auth/tokens (revoke demo token) -> 204", status == 204, status)
status, _, payload = validate(svc, demo)
check("revoked token -> 404", status == 404, (status, payload))
if SHOW:
    print("---- revoked subject:", status, payload)
status, _, payload = validate(svc, demo, "?allow_expired=1")
check("revoked token with ?allow_expired=1 -> still 404", status == 404, (status, payload))
status, _, payload = validate(demo, admin)
check("revoked token as X-Auth-Token -> 401", status == 401, (status, payload))
status, _, _ = call("DELETE", "/auth/tokens", headers={"X-Auth-Token": svc, "X-Subject-Token": demo})
check("revoking it again -> 404", status == 404, status)

# --- latency of validation (sequential, 20 calls)
status, demo, _ = password_login(E["KEYSTONE_DEMO_USER"], E["KEYSTONE_DEMO_PASSWORD"], E["KEYSTONE_DEMO_PROJECT"])
t0 = time.monotonic()
codes = [validate(svc, demo, "?nocatalog")[0] for _ in range(20)]
ms = (time.monotonic() - t0) * 1000 / 20
check("20 validations all 200 (%.0f ms each)" % ms, codes == [200] * 20, codes)

if "--expiry" in sys.argv:
    status, short, payload = password_login(E["KEYSTONE_DEMO_USER"], E["KEYSTONE_DEMO_PASSWORD"], E["KEYSTONE_DEMO_PROJECT"])
    from datetime import datetime, timezone
    exp = datetime.strptime(payload["token"]["expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    wait = max(0.0, (exp - datetime.now(timezone.utc)).total_seconds()) + 2
    print("     waiting %.0f s for a token to expire (expires_at %s)" % (wait, payload["token"]["expires_at"]))
    # a fresh service token, so the service token is not the one that expired
    time.sleep(wait - 1.5 if wait > 1.5 else 0)
    status, svc2, _ = password_login(E["KEYSTONE_SERVICE_USER"], E["KEYSTONE_SERVICE_PASSWORD"], E["KEYSTONE_SERVICE_PROJECT"])
    time.sleep(1.5)
    status, _, payload = validate(svc2, short)
    check("expired subject token -> 404", status == 404, (status, payload))
    if SHOW:
        print("---- expired subject:", status, payload)
    status, _, payload = validate(svc2, short, "?allow_expired=1")
    check("expired subject token with ?allow_expired=1 -> 200 (service may)", status == 200, (status, payload))
    status, _, payload = validate(short, svc2)
    check("expired token as X-Auth-Token -> 401", status == 401, (status, payload))
    if SHOW:
        print("---- expired X-Auth-Token:", status, payload)

print("%d passed, %d failed" % (PASSED, FAILED))
sys.exit(1 if FAILED else 0)
