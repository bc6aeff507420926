#!/usr/bin/env bash
# scripts/apt-install.sh PACKAGE...: installs the Debian packages of the list
# that are missing, for the suites that need OpenStack software or a browser
# (conformance/reference/masakari.sh, e2e/openstack-clients/run.sh,
# e2e/engine/run.sh, e2e/keystone/start-keystone.sh,
# e2e/docs/run.mjs). Nothing to do when every package is installed.
#
# - as root, or through sudo otherwise;
# - no service starts from a package's maintainer scripts meanwhile: a
#   temporary /usr/sbin/policy-rc.d (exit 101), made only when none exists
#   and removed afterwards, also when the install fails or is interrupted;
# - waits up to 5 minutes for another apt-get's lock;
# - when the install fails (package lists missing or stale on a fresh
#   machine), runs `apt-get update` and tries once more.
# Progress goes to stderr; exits non-zero naming the packages it could not
# install.
set -uo pipefail

missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

log() { echo "apt-install: $*" >&2; }
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)
apt() { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "$@" >&2; }

if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\n# temporary, from masakari-edge scripts/apt-install.sh\nexit 101\n' |
    "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null && "${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d &&
    trap '"${sudo[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
fi

log "installing ${missing[*]}"
if ! apt install -y --no-install-recommends "${missing[@]}"; then
  log "apt-get install failed; running apt-get update and trying once more"
  apt update || true
  apt install -y --no-install-recommends "${missing[@]}" || {
    log "could not install ${missing[*]}"
    exit 1
  }
fi
