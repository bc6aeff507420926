#!/usr/bin/python3
"""The Worker with AUTH_STRATEGY=keystone against a real Keystone (run.sh).

Environment: MASAKARI_URL (the Worker, no /v1) and start-keystone.sh's
KEYSTONE_* exports.
"""
import json
import os
import time
import unittest
import urllib.error
import urllib.request
import uuid

MASAKARI = os.environ["MASAKARI_URL"]
KEYSTONE = os.environ["KEYSTONE_URL"]
UNAUTHORIZED = {"error": {"code": 401, "title": "Unauthorized",
                          "message": "The request you have made requires authentication."}}


def request(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, headers_out, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, headers_out, raw = e.code, e.headers, e.read()
    text = raw.decode()
    return status, headers_out, (json.loads(text) if text.startswith(("{", "[")) else text)


def login(user, password, project):
    domain = {"name": os.environ["KEYSTONE_DOMAIN"]}
    body = {"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"name": user, "domain": domain, "password": password}}},
        "scope": {"project": {"name": project, "domain": domain}}}}
    status, headers, _ = request("POST", f"{KEYSTONE}/v3/auth/tokens?nocatalog", body)
    assert status == 201, status
    return headers["X-Subject-Token"]


def admin_token():
    return login(os.environ["KEYSTONE_ADMIN_USER"], os.environ["KEYSTONE_ADMIN_PASSWORD"],
                 os.environ["KEYSTONE_ADMIN_PROJECT"])


def member_token():
    return login(os.environ["KEYSTONE_DEMO_USER"], os.environ["KEYSTONE_DEMO_PASSWORD"],
                 os.environ["KEYSTONE_DEMO_PROJECT"])


def api(method, path, token=None, body=None):
    headers = {"X-Auth-Token": token} if token else {}
    return request(method, f"{MASAKARI}{path}", body, headers)


class KeystoneEndToEnd(unittest.TestCase):
    def assertUnauthorized(self, status, headers, body):
        self.assertEqual(status, 401)
        self.assertEqual(body, UNAUTHORIZED)
        self.assertEqual(headers["WWW-Authenticate"], f'Keystone uri="{KEYSTONE}"')
        self.assertIsNone(headers.get("OpenStack-API-Version"))

    def test_versions_document_and_healthcheck_need_no_token(self):
        status, _, body = api("GET", "/")
        self.assertEqual(status, 200)
        self.assertEqual(body["versions"][0]["id"], "v1.0")
        status, _, body = api("GET", "/healthcheck")
        self.assertEqual((status, body), (200, "OK"))

    def test_no_token_is_401(self):
        self.assertUnauthorized(*api("GET", "/v1/segments"))
        self.assertUnauthorized(*api("GET", "/v1"))

    def test_garbage_token_is_401(self):
        self.assertUnauthorized(*api("GET", "/v1/segments", "not-a-token"))

    def test_admin_token_manages_segments_and_hosts(self):
        token = admin_token()
        name = f"e2e-{uuid.uuid4().hex[:8]}"
        status, headers, body = api("POST", "/v1/segments", token,
                                    {"segment": {"name": name, "recovery_method": "auto", "service_type": "COMPUTE"}})
        self.assertEqual(status, 202, body)
        self.assertEqual(headers["OpenStack-API-Version"], "masakari 1.0")
        segment = body["segment"]
        status, _, body = api("GET", "/v1/segments", token)
        self.assertEqual(status, 200)
        self.assertIn(segment["uuid"], [s["uuid"] for s in body["segments"]])
        status, _, body = api("POST", f"/v1/segments/{segment['uuid']}/hosts", token,
                              {"host": {"name": f"{name}-h", "type": "COMPUTE", "control_attributes": "SSH"}})
        self.assertEqual(status, 201, body)
        self.assertEqual(body["host"]["failover_segment_id"], segment["uuid"])
        status, _, _ = api("DELETE", f"/v1/segments/{segment['uuid']}", token)
        self.assertEqual(status, 204)

    def test_admin_token_works_in_its_own_project_url(self):
        token = admin_token()
        project = os.environ["KEYSTONE_ADMIN_PROJECT_ID"]
        status, _, body = api("GET", f"/v1/{project}/segments", token)
        self.assertEqual(status, 200, body)
        other = os.environ["KEYSTONE_DEMO_PROJECT_ID"]
        status, _, body = api("GET", f"/v1/{other}/segments", token)
        self.assertEqual(status, 400)
        self.assertEqual(body["badRequest"]["message"],
                         f"Malformed request URL: URL's project_id '{other}' doesn't match Context's project_id '{project}'")

    def test_member_token_is_refused_by_policy(self):
        token = member_token()
        for method, path, policy, payload in (
            ("GET", "/v1/segments", "os_masakari_api:segments:index", None),
            ("POST", "/v1/segments", "os_masakari_api:segments:create",
             {"segment": {"name": "m", "recovery_method": "auto", "service_type": "COMPUTE"}}),
            ("GET", "/v1/notifications", "os_masakari_api:notifications:index", None),
            ("GET", "/v1/extensions", "os_masakari_api:extensions:index", None),
        ):
            status, headers, body = api(method, path, token, payload)
            self.assertEqual(status, 403, (method, path, body))
            self.assertEqual(body, {"forbidden": {"code": 403,
                                                  "message": f"Policy doesn't allow {policy} to be performed."}})
            self.assertEqual(headers["OpenStack-API-Version"], "instance-ha 1.0")

    def test_member_token_reads_the_version_document(self):
        status, _, body = api("GET", "/v1", member_token())
        self.assertEqual(status, 200)
        self.assertEqual(body["version"]["id"], "v1.0")

    def test_member_with_invalid_body_gets_400_before_policy(self):
        status, _, body = api("POST", "/v1/segments", member_token(), {"segment": {}})
        self.assertEqual(status, 400)
        self.assertIn("'name' is a required property", body["badRequest"]["message"])

    def test_revoked_token_is_refused_once_its_cached_validation_ends(self):
        token = admin_token()
        self.assertEqual(api("GET", "/v1/segments", token)[0], 200)
        status, _, _ = request("DELETE", f"{KEYSTONE}/v3/auth/tokens",
                               headers={"X-Auth-Token": token, "X-Subject-Token": token})
        self.assertEqual(status, 204)
        time.sleep(2.5)  # run.sh caches validations for 2 s (TOKEN_CACHE_SECONDS)
        self.assertUnauthorized(*api("GET", "/v1/segments", token))


if __name__ == "__main__":
    unittest.main()
