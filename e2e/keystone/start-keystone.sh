#!/bin/bash
# start-keystone.sh -- a REAL OpenStack Keystone (Debian bookworm python3-keystone
# 2:22.0.2, "Zed", Identity API v3.14) on 127.0.0.1 for masakari-edge's e2e tests.
#
# Usage: start-keystone.sh [--fresh] [DIR] [PORT]
#   DIR   working folder: config, SQLite DB, fernet/credential keys, logs, pid
#         default $KEYSTONE_DIR, else ${TMPDIR:-/tmp}/masakari-edge-keystone
#   PORT  TCP port on 127.0.0.1      default $KEYSTONE_PORT, else 15000
#   --fresh   stop a server running from DIR and wipe DIR first (new DB, new
#             keys, new ids; every token issued before is then invalid)
#
# What it does (each step is skipped or a no-op when already done):
#   1. installs python3-keystone uwsgi-core uwsgi-plugin-python3 when missing
#      (scripts/apt-install.sh: --no-install-recommends, `apt-get update` + retry
#      only if that fails, root or sudo). NOT the `keystone` package: python3-keystone already has
#      keystone-manage and keystone-wsgi-public, and `keystone` would add an init
#      script, /etc/keystone, a system user, dbconfig-common and apparmor bits.
#      A temporary /usr/sbin/policy-rc.d (exit 101) keeps postinst scripts from
#      starting services; it is removed afterwards only if that script made it.
#   2. writes DIR/keystone.conf (SQLite DIR/keystone.db, fernet tokens with keys
#      in DIR/fernet-keys, credential keys in DIR/credential-keys, log in
#      DIR/keystone.log, bcrypt rounds 4 to keep password checks cheap, an empty
#      policy override file so nothing from /etc/keystone applies), then runs
#      keystone-manage fernet_setup / credential_setup (as the current
#      user:group), db_sync and bootstrap (admin user, project admin, roles
#      admin > member > reader, region RegionOne, identity endpoints
#      public/internal/admin = http://127.0.0.1:PORT/v3).
#   3. serves Keystone with uWSGI ($KEYSTONE_PROCESSES worker processes, default
#      2, one thread each: see NOTES.md on SQLite) on 127.0.0.1:PORT only, in the background (setsid nohup; own process
#      group), pid in DIR/keystone.pid, request log DIR/uwsgi.log; waits up to
#      $KEYSTONE_START_TIMEOUT s (default 60) for GET /v3 to answer 200, else
#      prints the log tails and fails. KEYSTONE_SERVER=wsgiref serves it with
#      Debian's /usr/bin/keystone-wsgi-public instead (stdlib wsgiref,
#      single-threaded, no uWSGI needed).
#   4. over the Keystone v3 REST API (urllib in /usr/bin/python3, nothing else):
#      projects demo and service; user demo (role member on demo); service user
#      masakari (role admin on project service) that the Worker uses to validate
#      user tokens (GET /v3/auth/tokens, X-Auth-Token: service token,
#      X-Subject-Token: user token); an application credential of the masakari
#      user (fixed secret); and, if KEYSTONE_MASAKARI_URL is set, a catalog
#      service "masakari" (type instance-ha) with public/internal/admin endpoints
#      at that URL in RegionOne. Existing users whose password differs from the
#      one asked for get it reset.
#   5. prints `export NAME='value'` lines on stdout, and nothing else (all logs
#      go to stderr):  eval "$(e2e/keystone/start-keystone.sh)"
#      KEYSTONE_URL (http://127.0.0.1:PORT, no /v3), KEYSTONE_AUTH_URL (.../v3),
#      KEYSTONE_REGION, KEYSTONE_DOMAIN (Default) / KEYSTONE_DOMAIN_ID (default),
#      KEYSTONE_{ADMIN,DEMO,SERVICE}_{USER,PASSWORD,PROJECT,USER_ID,PROJECT_ID},
#      KEYSTONE_SERVICE_APPCRED_{ID,NAME,SECRET}, KEYSTONE_DIR, KEYSTONE_PID.
#
# Idempotent: a second run finds the server running from DIR (pid file + its
# command line names DIR/keystone.conf + GET /v3 answers), keeps it, re-checks
# the users/projects/roles and prints the same exports. A server started with
# other settings (port, server kind, processes, token lifetime, admin password) is
# restarted; DB and keys are kept. Runs on the same DIR are serialised (flock).
# Stop it: e2e/keystone/stop-keystone.sh [DIR]
#
# Knobs (environment; defaults in brackets):
#   KEYSTONE_ADMIN_USER [admin] KEYSTONE_ADMIN_PASSWORD [admin-secret]
#   KEYSTONE_ADMIN_PROJECT [admin]
#   KEYSTONE_DEMO_USER [demo] KEYSTONE_DEMO_PASSWORD [demo-secret]
#   KEYSTONE_DEMO_PROJECT [demo]
#   KEYSTONE_SERVICE_USER [masakari] KEYSTONE_SERVICE_PASSWORD [masakari-secret]
#   KEYSTONE_SERVICE_PROJECT [service] KEYSTONE_SERVICE_ROLE [admin]
#   KEYSTONE_REGION [RegionOne]   KEYSTONE_TOKEN_EXPIRATION [3600] (seconds)
#   KEYSTONE_MASAKARI_URL [unset] KEYSTONE_SERVER [uwsgi|wsgiref]
#   KEYSTONE_PROCESSES [2]        KEYSTONE_START_TIMEOUT [60]
#   KEYSTONE_DEBUG [0]  (1: debug logging in DIR/keystone.log)
#
# Measured on this project's machine (2 cores shared, Debian bookworm, 2026-11-27):
#   * install: this machine already had the OpenStack client libraries (oslo.*,
#     openstackclient, uwsgi) for the Masakari reference server, so
#     `apt-get install python3-keystone` was 29 packages and took 9 s (1.6 s to
#     reinstall python3-keystone alone). On a NEW machine of this project's
#     kind it is 172 packages / 27 MB (simulated against the image's package
#     list: download 1.6 s, unpack + byte-compile ~7 s of raw work); expect
#     roughly 40-60 s with dpkg's overhead (estimate, not measured end to end).
#   * first start, --fresh, packages present, nothing running: 9-11 s wall
#     (four keystone-manage runs ~1.5-2 s each, uWSGI up ~2-3 s, users ~1 s);
#     --fresh replacing a running server: 12.5-16 s (varies with the load of
#     other work on the 2 cores).
#   * run again while it is up: 1.0-1.2 s.  Restart keeping the DB: 6-7.5 s.
#   * stop-keystone.sh: ~2.2 s (uWSGI reaps its workers once a second).
#   * per request: GET /v3/auth/tokens ~70 ms (?nocatalog) to ~120 ms,
#     POST /v3/auth/tokens ~70 ms; 2 workers of ~140 MB RSS each.
set -euo pipefail

exec 3>&1 1>&2          # stdout is only for the export lines (fd 3)

log() { echo "start-keystone: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

FRESH=0
ARGS=()
for a in "$@"; do
  case "$a" in
    --fresh) FRESH=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 0 ;;
    -*) die "unknown option $a (see --help)" ;;
    *) ARGS+=("$a") ;;
  esac
done
DIR="${ARGS[0]:-${KEYSTONE_DIR:-${TMPDIR:-/tmp}/masakari-edge-keystone}}"
PORT="${ARGS[1]:-${KEYSTONE_PORT:-15000}}"
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then die "bad PORT '$PORT'"; fi
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd -P)"     # absolute: it goes into sqlite:////... and pid checks

PY=/usr/bin/python3               # Debian's python; the pyenv python3 on PATH lacks keystone
export PYTHONNOUSERSITE=1
unset PYTHONPATH PYTHONHOME
SERVER="${KEYSTONE_SERVER:-uwsgi}"
PROCESSES="${KEYSTONE_PROCESSES:-2}"
EXPIRATION="${KEYSTONE_TOKEN_EXPIRATION:-3600}"
TIMEOUT="${KEYSTONE_START_TIMEOUT:-60}"
DEBUG=false; [ "${KEYSTONE_DEBUG:-0}" = 1 ] && DEBUG=true
REGION="${KEYSTONE_REGION:-RegionOne}"
export KS_ADMIN_USER="${KEYSTONE_ADMIN_USER:-admin}"
export KS_ADMIN_PASSWORD="${KEYSTONE_ADMIN_PASSWORD:-admin-secret}"
export KS_ADMIN_PROJECT="${KEYSTONE_ADMIN_PROJECT:-admin}"
export KS_DEMO_USER="${KEYSTONE_DEMO_USER:-demo}"
export KS_DEMO_PASSWORD="${KEYSTONE_DEMO_PASSWORD:-demo-secret}"
export KS_DEMO_PROJECT="${KEYSTONE_DEMO_PROJECT:-demo}"
export KS_SERVICE_USER="${KEYSTONE_SERVICE_USER:-masakari}"
export KS_SERVICE_PASSWORD="${KEYSTONE_SERVICE_PASSWORD:-masakari-secret}"
export KS_SERVICE_PROJECT="${KEYSTONE_SERVICE_PROJECT:-service}"
export KS_SERVICE_ROLE="${KEYSTONE_SERVICE_ROLE:-admin}"
export KS_MASAKARI_URL="${KEYSTONE_MASAKARI_URL:-}"
export KS_REGION="$REGION"
export KS_URL="http://127.0.0.1:$PORT"
case "$SERVER" in uwsgi|wsgiref) ;; *) die "KEYSTONE_SERVER must be uwsgi or wsgiref" ;; esac

PIDFILE="$DIR/keystone.pid"
STATEFILE="$DIR/keystone.state"
CONF="$DIR/keystone.conf"
CONFD="$DIR/keystone.conf.d"
T0=$(date +%s.%N)
elapsed() { "$PY" -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$T0" "$(date +%s.%N)"; }

# Runs on the same DIR wait for each other (install included).
exec 9>"$DIR/.lock"
flock -w 600 9 || die "another start-keystone.sh holds $DIR/.lock"

# ---------------------------------------------------------------- 1. packages
PKGS=(python3-keystone)
[ "$SERVER" = uwsgi ] && PKGS+=(uwsgi-core uwsgi-plugin-python3)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]} (scripts/apt-install.sh)"
  "$(dirname "$(readlink -f "$0")")/../../scripts/apt-install.sh" "${missing[@]}" ||
    die "apt-get install ${missing[*]} failed"
  log "packages installed after $(elapsed) s"
fi
command -v keystone-manage >/dev/null || die "keystone-manage not found after install"

# ---------------------------------------------------------------- helpers

answers() {  # GET /v3 answers 200 with a version document
  "$PY" - "$KS_URL/v3" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=3) as r:
    sys.exit(0 if r.status == 200 and b'"version"' in r.read() else 1)
EOF
}

port_busy() {  # something accepts TCP connections on 127.0.0.1:PORT
  "$PY" - "$PORT" <<'EOF' >/dev/null 2>&1
import socket, sys
s = socket.socket()
s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
EOF
}

running_pid() {  # pid from the pid file if alive and serving this DIR's config
  [ -f "$PIDFILE" ] || return 1
  local pid; pid="$(cat "$PIDFILE" 2>/dev/null)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$CONF" || return 1
  echo "$pid"
}

stop_running() {
  local pid
  if pid="$(running_pid)"; then
    log "stopping keystone PID $pid"
    "$(dirname "${BASH_SOURCE[0]}")/stop-keystone.sh" "$DIR" >&2 || true
  fi
  rm -f "$PIDFILE"
}

tail_logs() {
  local f
  for f in "$DIR/server.log" "$DIR/uwsgi.log" "$DIR/keystone.log" "$DIR/keystone-manage.log"; do
    [ -s "$f" ] || continue
    log "---- last lines of $f"
    tail -n 25 "$f" >&2
  done
}

# ---------------------------------------------------------------- 2. running?
ADMIN_PW_SUM="$(printf '%s' "$KS_ADMIN_PASSWORD" | sha256sum | cut -c1-16)"
STATE="port=$PORT server=$SERVER processes=$PROCESSES expiration=$EXPIRATION debug=$DEBUG region=$REGION admin=$KS_ADMIN_USER/$KS_ADMIN_PROJECT/$ADMIN_PW_SUM"
START=1
if pid="$(running_pid)"; then
  if [ "$FRESH" = 1 ]; then
    stop_running
  elif [ "$(cat "$STATEFILE" 2>/dev/null)" != "$STATE" ]; then
    log "PID $pid from $DIR runs with other settings; restarting it"
    stop_running
  elif answers; then
    log "already running from $DIR on $KS_URL (PID $pid)"
    START=0
  else
    log "PID $pid from $DIR does not answer on $KS_URL; restarting it"
    stop_running
  fi
else
  rm -f "$PIDFILE"
fi

if [ "$START" = 1 ]; then
  if [ "$FRESH" = 1 ]; then
    log "--fresh: wiping $DIR"
    find "$DIR" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
  fi
  if port_busy; then
    die "something else listens on 127.0.0.1:$PORT; stop it or pick another PORT"
  fi

  # -------------------------------------------------------------- 3. config
  mkdir -p "$CONFD" "$DIR/policy.d"
  # no policy overrides: Keystone's in-code defaults (and nothing from /etc/keystone)
  echo '# no overrides' >"$DIR/policy.yaml"
  cat >"$CONF" <<EOF
# Written by e2e/keystone/start-keystone.sh; rewritten on every (re)start.
[DEFAULT]
debug = $DEBUG
use_stderr = false
log_file = $DIR/keystone.log

[database]
connection = sqlite:///$DIR/keystone.db

[token]
provider = fernet
expiration = $EXPIRATION

[fernet_tokens]
key_repository = $DIR/fernet-keys

[fernet_receipts]
key_repository = $DIR/fernet-keys

[credential]
key_repository = $DIR/credential-keys

[identity]
# test server: cheap bcrypt (minimum 4; Keystone's default is 12)
password_hash_rounds = 4

[oslo_policy]
policy_file = $DIR/policy.yaml
policy_dirs = $DIR/policy.d
EOF

  # -------------------------------------------------------------- 4. keystone-manage
  KUSER="$(id -un)"; KGROUP="$(id -gn)"
  km() {
    echo "+ keystone-manage $*" >>"$DIR/keystone-manage.log"
    # (Debian's eventlet prints an "Exception ignored ... getcurrent" traceback
    # at interpreter exit; harmless, it lands in the log.)
    keystone-manage --config-file "$CONF" --config-dir "$CONFD" "$@" \
      >>"$DIR/keystone-manage.log" 2>&1 || { tail_logs; die "keystone-manage $1 failed"; }
  }
  if [ ! -s "$DIR/fernet-keys/0" ]; then
    log "fernet_setup"
    km fernet_setup --keystone-user "$KUSER" --keystone-group "$KGROUP"
  fi
  if [ ! -s "$DIR/credential-keys/0" ]; then
    log "credential_setup"
    km credential_setup --keystone-user "$KUSER" --keystone-group "$KGROUP"
  fi
  log "db_sync"
  km db_sync
  # WAL: readers never block the writer (SQLite's default rollback journal
  # makes a commit wait for every open read). Persistent in the DB file.
  "$PY" -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(c.execute("PRAGMA journal_mode=WAL").fetchone()[0]); c.close()' \
    "$DIR/keystone.db" >>"$DIR/keystone-manage.log" 2>&1
  log "bootstrap"
  km bootstrap \
    --bootstrap-username "$KS_ADMIN_USER" --bootstrap-password "$KS_ADMIN_PASSWORD" \
    --bootstrap-project-name "$KS_ADMIN_PROJECT" --bootstrap-role-name admin \
    --bootstrap-service-name keystone --bootstrap-region-id "$REGION" \
    --bootstrap-admin-url "$KS_URL/v3" --bootstrap-internal-url "$KS_URL/v3" \
    --bootstrap-public-url "$KS_URL/v3"

  # -------------------------------------------------------------- 5. serve
  # The server must not inherit fd 3 (the caller's stdout: `eval "$(...)"`
  # would wait for it forever) nor fd 9 (the lock).
  cd "$DIR"
  if [ "$SERVER" = uwsgi ]; then
    # uWSGI's python3 plugin embeds Debian's python3.11; keystone reads
    # --config-file/--config-dir from sys.argv, which --pyargv sets.
    # One thread per process: with several threads Keystone's SQLAlchemy
    # connections get garbage-collected in the wrong thread, cannot roll back
    # and keep SQLite locked ("database is locked", 500s). --lazy-apps: each
    # worker loads Keystone itself (no SQLite handles shared across fork).
    # uWSGI's --http-socket closes the connection after every response
    # without saying so; "Connection: close" tells clients not to reuse it
    # (--http11-socket keep-alive would pin a worker per idle connection).
    # --skip-atexit-teardown: without it every worker segfaults in greenlet's
    # thread-state teardown inside Py_Finalize when stopped (harmless but loud).
    setsid nohup uwsgi --plugin python3 \
      --http-socket "127.0.0.1:$PORT" \
      --wsgi-file /usr/bin/keystone-wsgi-public \
      --pyargv "--config-file $CONF --config-dir $CONFD" \
      --master --processes "$PROCESSES" --threads 1 --enable-threads --lazy-apps \
      --die-on-term --need-app --buffer-size 65535 --listen 100 \
      --add-header "Connection: close" --skip-atexit-teardown \
      --logto "$DIR/uwsgi.log" \
      </dev/null >"$DIR/server.log" 2>&1 3>&- 9>&- &
  else
    # Debian's pbr wrapper: stdlib wsgiref, one request at a time.
    setsid nohup "$PY" /usr/bin/keystone-wsgi-public --host 127.0.0.1 --port "$PORT" \
      -- --config-file "$CONF" --config-dir "$CONFD" \
      </dev/null >"$DIR/server.log" 2>&1 3>&- 9>&- &
  fi
  pid=$!
  echo "$pid" >"$PIDFILE"
  echo "$STATE" >"$STATEFILE"
  cd - >/dev/null

  deadline=$(( $(date +%s) + TIMEOUT ))
  until answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail_logs; rm -f "$PIDFILE"; die "keystone ($SERVER, PID $pid) exited during start-up"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail_logs
      "$(dirname "${BASH_SOURCE[0]}")/stop-keystone.sh" "$DIR" >&2 || true
      die "keystone did not answer GET $KS_URL/v3 within ${TIMEOUT} s"
    fi
    sleep 0.2
  done
  log "keystone ($SERVER, PID $pid) answers on $KS_URL/v3 after $(elapsed) s"
fi
pid="$(cat "$PIDFILE")"

# ---------------------------------------------------------------- 6. users etc.
ENSURE_OUT="$("$PY" - <<'EOF'
import json, os, shlex, sys, urllib.error, urllib.request

E = os.environ
URL = E["KS_URL"] + "/v3"
DOMAIN = {"id": "default"}


def log(msg):
    print("start-keystone: " + msg, file=sys.stderr)


def call(method, path, body=None, token=None, ok=(200, 201, 204)):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(URL + path, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            return r.status, dict(r.headers), (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        if e.code in ok:
            return e.code, dict(e.headers), None
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = raw.decode(errors="replace")
        return e.code, dict(e.headers), payload


def must(method, path, body=None, token=None):
    status, headers, payload = call(method, path, body, token)
    if status not in (200, 201, 204):
        raise SystemExit("start-keystone: %s %s -> %s %s" % (method, path, status, payload))
    return headers, payload


def password_token(user, password, project):
    body = {"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"name": user, "domain": DOMAIN, "password": password}}}}}
    if project:
        body["auth"]["scope"] = {"project": {"name": project, "domain": DOMAIN}}
    status, headers, payload = call("POST", "/auth/tokens", body)
    return status, headers.get("X-Subject-Token"), payload


status, admin, payload = password_token(E["KS_ADMIN_USER"], E["KS_ADMIN_PASSWORD"], E["KS_ADMIN_PROJECT"])
if status != 201:
    raise SystemExit("start-keystone: admin login failed: %s %s" % (status, payload))
admin_user_id = payload["token"]["user"]["id"]
admin_project_id = payload["token"]["project"]["id"]


def find(collection, key, name, extra=""):
    _, payload = must("GET", "/%s?name=%s%s" % (collection, urllib.request.quote(name), extra), token=admin)
    items = payload[key]
    return items[0] if items else None


def ensure_role(name):
    role = find("roles", "roles", name)
    if role is None:
        _, payload = must("POST", "/roles", {"role": {"name": name}}, admin)
        role = payload["role"]
        log("created role %s" % name)
    return role["id"]


def ensure_project(name, description):
    project = find("projects", "projects", name, "&domain_id=default")
    if project is None:
        _, payload = must("POST", "/projects", {"project": {
            "name": name, "domain_id": "default", "description": description, "enabled": True}}, admin)
        project = payload["project"]
        log("created project %s" % name)
    return project["id"]


def ensure_user(name, password, project_id, description):
    user = find("users", "users", name, "&domain_id=default")
    if user is None:
        _, payload = must("POST", "/users", {"user": {
            "name": name, "domain_id": "default", "password": password, "enabled": True,
            "default_project_id": project_id, "description": description}}, admin)
        log("created user %s" % name)
        return payload["user"]["id"]
    if not user.get("enabled", True):
        must("PATCH", "/users/%s" % user["id"], {"user": {"enabled": True}}, admin)
        log("re-enabled user %s" % name)
    status, _, _ = password_token(name, password, None)
    if status != 201:
        must("PATCH", "/users/%s" % user["id"], {"user": {"password": password}}, admin)
        log("reset the password of user %s" % name)
    return user["id"]


def grant(project_id, user_id, role_id):
    must("PUT", "/projects/%s/users/%s/roles/%s" % (project_id, user_id, role_id), token=admin)


member = ensure_role("member")   # bootstrap made admin, member, reader (admin>member>reader)
demo_project = ensure_project(E["KS_DEMO_PROJECT"], "masakari-edge e2e: non-admin tenant")
service_project = ensure_project(E["KS_SERVICE_PROJECT"], "masakari-edge e2e: service users")
demo_user = ensure_user(E["KS_DEMO_USER"], E["KS_DEMO_PASSWORD"], demo_project, "masakari-edge e2e: non-admin user")
grant(demo_project, demo_user, member)
service_user = ensure_user(E["KS_SERVICE_USER"], E["KS_SERVICE_PASSWORD"], service_project,
                           "masakari-edge e2e: the Worker's service user (validates tokens)")
for role_name in [r for r in E["KS_SERVICE_ROLE"].split(",") if r]:
    grant(service_project, service_user, ensure_role(role_name))

# Application credential of the service user (its secret is fixed, so the
# same values come out on every run; it is re-made if the secret changed).
appcred_name = "masakari-edge-e2e"
appcred_secret = E["KS_SERVICE_PASSWORD"] + "-appcred"
status, svc_token, payload = password_token(E["KS_SERVICE_USER"], E["KS_SERVICE_PASSWORD"], E["KS_SERVICE_PROJECT"])
if status != 201:
    raise SystemExit("start-keystone: service user login failed: %s %s" % (status, payload))
_, payload = must("GET", "/users/%s/application_credentials?name=%s" % (service_user, appcred_name), token=svc_token)
appcred_id = payload["application_credentials"][0]["id"] if payload["application_credentials"] else None
if appcred_id:
    status, _, _ = call("POST", "/auth/tokens", {"auth": {"identity": {"methods": ["application_credential"],
        "application_credential": {"id": appcred_id, "secret": appcred_secret}}}})
    if status != 201:
        must("DELETE", "/users/%s/application_credentials/%s" % (service_user, appcred_id), token=svc_token)
        appcred_id = None
if not appcred_id:
    _, payload = must("POST", "/users/%s/application_credentials" % service_user, {"application_credential": {
        "name": appcred_name, "secret": appcred_secret,
        "description": "masakari-edge e2e: the Worker's service credential"}}, svc_token)
    appcred_id = payload["application_credential"]["id"]
    log("created application credential %s of user %s" % (appcred_name, E["KS_SERVICE_USER"]))

# Optional: put the Worker in the catalog as Masakari (service type instance-ha).
if E.get("KS_MASAKARI_URL"):
    url, region = E["KS_MASAKARI_URL"], E["KS_REGION"]
    _, payload = must("GET", "/services?type=instance-ha", token=admin)
    svc = next((s for s in payload["services"] if s.get("name") == "masakari"), None)
    if svc is None:
        _, payload = must("POST", "/services", {"service": {
            "name": "masakari", "type": "instance-ha", "description": "masakari-edge", "enabled": True}}, admin)
        svc = payload["service"]
        log("created catalog service masakari (instance-ha)")
    _, payload = must("GET", "/endpoints?service_id=%s" % svc["id"], token=admin)
    have = {e["interface"]: e for e in payload["endpoints"]}
    for interface in ("public", "internal", "admin"):
        e = have.get(interface)
        if e is None:
            must("POST", "/endpoints", {"endpoint": {"service_id": svc["id"], "interface": interface,
                                                     "url": url, "region_id": region, "enabled": True}}, admin)
        elif e["url"] != url or e.get("region_id") != region:
            must("PATCH", "/endpoints/%s" % e["id"], {"endpoint": {"url": url, "region_id": region}}, admin)

out = {
    "KEYSTONE_ADMIN_USER_ID": admin_user_id, "KEYSTONE_ADMIN_PROJECT_ID": admin_project_id,
    "KEYSTONE_DEMO_USER_ID": demo_user, "KEYSTONE_DEMO_PROJECT_ID": demo_project,
    "KEYSTONE_SERVICE_USER_ID": service_user, "KEYSTONE_SERVICE_PROJECT_ID": service_project,
    "KEYSTONE_SERVICE_APPCRED_ID": appcred_id, "KEYSTONE_SERVICE_APPCRED_NAME": appcred_name,
    "KEYSTONE_SERVICE_APPCRED_SECRET": appcred_secret,
}
for k, v in out.items():
    print("%s=%s" % (k, v))
EOF
)" || { tail_logs; die "creating users/projects/roles failed"; }

# ---------------------------------------------------------------- 7. exports
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
  echo "export KEYSTONE_URL=$(q "$KS_URL")"
  echo "export KEYSTONE_AUTH_URL=$(q "$KS_URL/v3")"
  echo "export KEYSTONE_REGION=$(q "$REGION")"
  echo "export KEYSTONE_DOMAIN='Default'"
  echo "export KEYSTONE_DOMAIN_ID='default'"
  echo "export KEYSTONE_ADMIN_USER=$(q "$KS_ADMIN_USER")"
  echo "export KEYSTONE_ADMIN_PASSWORD=$(q "$KS_ADMIN_PASSWORD")"
  echo "export KEYSTONE_ADMIN_PROJECT=$(q "$KS_ADMIN_PROJECT")"
  echo "export KEYSTONE_DEMO_USER=$(q "$KS_DEMO_USER")"
  echo "export KEYSTONE_DEMO_PASSWORD=$(q "$KS_DEMO_PASSWORD")"
  echo "export KEYSTONE_DEMO_PROJECT=$(q "$KS_DEMO_PROJECT")"
  echo "export KEYSTONE_SERVICE_USER=$(q "$KS_SERVICE_USER")"
  echo "export KEYSTONE_SERVICE_PASSWORD=$(q "$KS_SERVICE_PASSWORD")"
  echo "export KEYSTONE_SERVICE_PROJECT=$(q "$KS_SERVICE_PROJECT")"
  while IFS='=' read -r k v; do
    [[ "$k" =~ ^KEYSTONE_[A-Z_]+$ ]] && echo "export $k=$(q "$v")"
  done <<<"$ENSURE_OUT"
  echo "export KEYSTONE_DIR=$(q "$DIR")"
  echo "export KEYSTONE_PID=$(q "$pid")"
} >&3
log "ready in $(elapsed) s: $KS_URL (DIR=$DIR, PID $pid); stop: $(dirname "${BASH_SOURCE[0]}")/stop-keystone.sh $DIR"
